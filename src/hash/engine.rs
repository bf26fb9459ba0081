//! Turns entries into resource digests on all cores, at the speed of the hash function.
//!
//! The model is cut into work units (a whole file, or one shard). A unit is a chain of
//! windows hashed in order; one worker per core takes a chain, hashes one window, and then
//! either goes on with it or switches to a chain with clearly more work left, so a few big
//! files keep every core busy until the end (three equal files on two cores finish in 1.5
//! file-times, not 2). Units are started largest first.
//!
//! Local files are read through bounded memory maps ([`super::window`]): no copy, and the
//! next window of a chain is mapped and its page tables filled on another core (by a
//! short-lived thread, which sleeps rather than spins when the disk is slow) while the
//! current one is hashed, so one big file is hashed at one core's full speed. BLAKE3 takes
//! one larger window at a time and spreads it, page faults included, over the rayon pool. Small files, files that cannot be mapped and other content are read with
//! positioned reads into one reusable buffer per worker. Memory stays bounded: at most two
//! windows per chain in flight.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Mutex;

use crate::error::{Error, Result};
use crate::hash::algorithm::Hasher;
use crate::hash::cache::{DigestCache, FileDigests, FileStamp, PreviousSignature};
use crate::hash::window::Window;
use crate::hash::Progress;
use crate::manifest::{Digest, HashAlgorithm, Method, ResourceKey, Serialization};
use crate::source::{Content, Entry};

/// Bytes per positioned read: large enough to amortise the syscall, small enough for L2.
const READ_BUF: usize = 1 << 20;
/// Bytes per mapped window. Two windows per chain and one chain per core stay well below
/// the 64 MB resident-memory budget.
const WINDOW: u64 = 8 << 20;
/// BLAKE3 windows: no second window is in flight (BLAKE3 spreads the page faults over its
/// threads instead), so one window can be larger, and BLAKE3's parallel split gains from it.
const BLAKE3_WINDOW: u64 = 16 << 20;

fn window_len(alg: HashAlgorithm) -> u64 {
    if alg == HashAlgorithm::Blake3 {
        BLAKE3_WINDOW
    } else {
        WINDOW
    }
}

/// Below this, a unit is read in one positioned read: mapping costs more than copying.
const MMAP_MIN: u64 = 256 << 10;
/// A worker leaves its chain for another only if that one has this much more work left;
/// switching drops nothing but costs a little cache locality.
const SWITCH_MARGIN: u64 = 4 * WINDOW;

thread_local! {
    static BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// One resource to hash: a file or a shard of one.
#[derive(Clone)]
pub(crate) struct Unit<'a> {
    pub(crate) entry: &'a Entry,
    /// Index of the entry in the listing.
    pub(crate) idx: usize,
    pub(crate) start: u64,
    pub(crate) end: u64,
    pub(crate) key: ResourceKey,
}

impl Unit<'_> {
    fn len(&self) -> u64 {
        self.end - self.start
    }
}

/// The units of `entries`, largest first.
pub(crate) fn units<'a>(entries: &'a [Entry], ser: &Serialization) -> Vec<Unit<'a>> {
    let mut out = Vec::with_capacity(entries.len());
    for (idx, e) in entries.iter().enumerate() {
        match ser.method {
            Method::Files => out.push(Unit {
                entry: e,
                idx,
                start: 0,
                end: e.size,
                key: ResourceKey::File(e.path.clone()),
            }),
            Method::Shards { shard_size } => {
                // Empty files have no shard, as in the reference.
                let mut start = 0;
                while start < e.size {
                    let end = (start + shard_size).min(e.size);
                    out.push(Unit {
                        entry: e,
                        idx,
                        start,
                        end,
                        key: ResourceKey::Shard {
                            path: e.path.clone(),
                            start,
                            end,
                        },
                    });
                    start = end;
                }
            }
        }
    }
    out.sort_by_key(|u| std::cmp::Reverse(u.len()));
    out
}

/// Whether a unit can take its digest from the source instead of reading content.
fn uses_known_digest(unit: &Unit<'_>, ser: &Serialization) -> bool {
    ser.method == Method::Files
        && ser.hash == HashAlgorithm::Sha256
        && unit.entry.known_sha256.is_some()
}

/// Digests known from earlier runs, consulted before hashing.
#[derive(Default, Clone, Copy)]
pub(crate) struct Reuse<'a> {
    pub(crate) cache: Option<&'a DigestCache>,
    pub(crate) previous: Option<&'a PreviousSignature>,
}

/// What [`hash_entries`] produced.
pub(crate) struct Digests {
    pub(crate) resources: BTreeMap<ResourceKey, Digest>,
    /// Files whose digests came from the cache or a previous signature.
    pub(crate) reused_files: usize,
    pub(crate) warnings: Vec<String>,
}

/// Hashes every entry with the given serialization, reusing what `reuse` can vouch for.
pub(crate) fn hash_entries(
    entries: &[Entry],
    ser: &Serialization,
    progress: &dyn Progress,
    reuse: Reuse<'_>,
) -> Result<Digests> {
    let units = units(entries, ser);
    check_available(&units, ser)?;
    progress.start(units.iter().map(Unit::len).sum());
    let label = ser.resource_algorithm();
    let mut values: Vec<Option<Vec<u8>>> = vec![None; units.len()];
    let mut groups: Vec<Vec<usize>> = vec![Vec::new(); entries.len()];
    for (i, u) in units.iter().enumerate() {
        groups[u.idx].push(i);
    }
    let mut stamps: Vec<Option<FileStamp>> = vec![None; entries.len()];
    let mut reused_files = 0;
    if reuse.cache.is_some() || reuse.previous.is_some() {
        for (ei, e) in entries.iter().enumerate() {
            let Content::File(path) = &e.content else {
                continue;
            };
            let Ok(stamp) = FileStamp::of(path) else {
                continue;
            };
            if stamp.size != e.size || groups[ei].is_empty() {
                continue;
            }
            stamps[ei] = Some(stamp);
            let keys: Vec<&ResourceKey> = groups[ei].iter().map(|&i| &units[i].key).collect();
            let found = reuse
                .cache
                .and_then(|c| c.lookup(&stamp, &label))
                .and_then(|d| assign(&units, &groups[ei], d, ser.hash.digest_len()))
                .or_else(|| {
                    reuse
                        .previous
                        .and_then(|p| p.lookup(&stamp, &label, &keys))
                        .and_then(|d| assign(&units, &groups[ei], d, ser.hash.digest_len()))
                });
            if let Some(found) = found {
                for (i, v) in found {
                    progress.advance(units[i].len());
                    values[i] = Some(v);
                }
                reused_files += 1;
            }
        }
    }
    let todo: Vec<Unit<'_>> = units
        .iter()
        .zip(&values)
        .filter(|(_, v)| v.is_none())
        .map(|(u, _)| u.clone())
        .collect();
    let todo_index: Vec<usize> = (0..units.len()).filter(|&i| values[i].is_none()).collect();
    let fresh = hash_units(&todo, ser, progress)?;
    for (i, v) in todo_index.into_iter().zip(fresh) {
        values[i] = Some(v);
    }
    progress.finish();
    let values: Vec<Vec<u8>> = values
        .into_iter()
        .map(|v| v.expect("every unit hashed"))
        .collect();
    let mut warnings = Vec::new();
    if let Some(cache) = reuse.cache {
        for (ei, e) in entries.iter().enumerate() {
            let (Some(before), Content::File(path)) = (stamps[ei], &e.content) else {
                continue;
            };
            // Only a file that stayed the same version while it was hashed is recorded.
            if FileStamp::of(path).ok() != Some(before) {
                continue;
            }
            let digests: FileDigests = groups[ei]
                .iter()
                .map(|&i| (units[i].start, units[i].end, values[i].clone()))
                .collect();
            cache.record(&before, &label, &digests);
        }
        if let Err(e) = cache.save() {
            warnings.push(format!("digest cache not saved: {e}"));
        }
    }
    let resources = units
        .iter()
        .zip(values)
        .map(|(u, value)| {
            (
                u.key.clone(),
                Digest {
                    algorithm: label.clone(),
                    value,
                },
            )
        })
        .collect();
    Ok(Digests {
        resources,
        reused_files,
        warnings,
    })
}

/// Matches reused `(start, end, digest)` triples to a file's units; all or nothing.
fn assign(
    units: &[Unit<'_>],
    group: &[usize],
    digests: FileDigests,
    digest_len: usize,
) -> Option<Vec<(usize, Vec<u8>)>> {
    if digests.len() != group.len() || digests.iter().any(|(_, _, d)| d.len() != digest_len) {
        return None;
    }
    group
        .iter()
        .map(|&i| {
            let u = &units[i];
            digests
                .iter()
                .find(|(s, e, _)| *s == u.start && *e == u.end)
                .map(|(_, _, d)| (i, d.clone()))
        })
        .collect()
}

/// Fails with the names of every entry whose content is needed but not available.
pub(crate) fn check_available(units: &[Unit<'_>], ser: &Serialization) -> Result<()> {
    let missing: Vec<&Unit<'_>> = units
        .iter()
        .filter(|u| {
            matches!(u.entry.content, Content::Unavailable { .. }) && !uses_known_digest(u, ser)
        })
        .collect();
    if let Some(first) = missing.first() {
        let Content::Unavailable { hint } = &first.entry.content else {
            unreachable!()
        };
        let mut names: Vec<String> = missing.iter().map(|u| u.entry.path.to_string()).collect();
        names.dedup();
        return Err(Error::ContentUnavailable {
            names,
            hint: hint.clone(),
        });
    }
    Ok(())
}

/// A started chain: its running hash, where it is, and the next window if already mapped.
struct Job {
    unit: usize,
    hasher: Hasher,
    pos: u64,
    file: Option<File>,
    mappable: bool,
    next: Option<Window>,
}

struct Shared {
    /// Next unit never started (units are sorted largest first).
    next_unit: usize,
    /// Started chains that no worker holds.
    parked: Vec<Job>,
    results: Vec<Option<Vec<u8>>>,
    error: Option<Error>,
}

/// Hashes the units; digests in the units' order.
pub(crate) fn hash_units(
    units: &[Unit<'_>],
    ser: &Serialization,
    progress: &dyn Progress,
) -> Result<Vec<Vec<u8>>> {
    let shared = Mutex::new(Shared {
        next_unit: 0,
        parked: Vec::new(),
        results: vec![None; units.len()],
        error: None,
    });
    let workers = rayon::current_num_threads().clamp(1, units.len().max(1));
    if workers == 1 {
        worker(units, ser, progress, &shared);
    } else {
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| worker(units, ser, progress, &shared));
            }
        });
    }
    let shared = shared.into_inner().unwrap_or_else(|p| p.into_inner());
    if let Some(e) = shared.error {
        return Err(e);
    }
    shared
        .results
        .into_iter()
        .map(|r| r.ok_or_else(|| Error::Other("internal error: a resource was not hashed".into())))
        .collect()
}

fn remaining(units: &[Unit<'_>], job: &Job) -> u64 {
    units[job.unit].end - job.pos
}

/// Picks what to work on next: keeps `current` unless another chain has clearly more left.
fn schedule(units: &[Unit<'_>], shared: &mut Shared, current: Option<Job>) -> Option<Job> {
    let best_parked = shared
        .parked
        .iter()
        .enumerate()
        .max_by_key(|(_, j)| remaining(units, j))
        .map(|(i, j)| (i, remaining(units, j)));
    let unstarted = units.get(shared.next_unit).map(Unit::len);
    let take_unstarted = match (unstarted, best_parked) {
        (Some(u), Some((_, p))) => u >= p,
        (Some(_), None) => true,
        _ => false,
    };
    let best = if take_unstarted {
        unstarted
    } else {
        best_parked.map(|(_, p)| p)
    };
    if let Some(cur) = &current {
        match best {
            Some(b) if b > remaining(units, cur) + SWITCH_MARGIN => {}
            _ => return current,
        }
    }
    let chosen = if take_unstarted {
        let i = shared.next_unit;
        shared.next_unit += 1;
        Some(new_job(i, units))
    } else {
        best_parked.map(|(i, _)| shared.parked.swap_remove(i))
    };
    if chosen.is_some() {
        if let Some(mut cur) = current {
            // A parked chain keeps no mapped window: memory stays two windows per worker.
            cur.next = None;
            shared.parked.push(cur);
        }
        chosen
    } else {
        current
    }
}

fn new_job(unit: usize, units: &[Unit<'_>]) -> Job {
    let u = &units[unit];
    Job {
        unit,
        hasher: Hasher::new(HashAlgorithm::Sha256),
        pos: u.start,
        file: None,
        mappable: u.len() >= MMAP_MIN,
        next: None,
    }
}

fn worker(
    units: &[Unit<'_>],
    ser: &Serialization,
    progress: &dyn Progress,
    shared: &Mutex<Shared>,
) {
    let mut current: Option<Job> = None;
    loop {
        {
            let mut sh = shared.lock().unwrap_or_else(|p| p.into_inner());
            if sh.error.is_some() {
                return;
            }
            current = schedule(units, &mut sh, current.take());
        }
        let Some(mut job) = current.take() else {
            // Nothing left to start: this thread's core now serves the other chains'
            // prefetching and BLAKE3's own parallelism through the rayon pool.
            return;
        };
        match step(units, ser, progress, &mut job) {
            Ok(Some(digest)) => {
                let mut sh = shared.lock().unwrap_or_else(|p| p.into_inner());
                sh.results[job.unit] = Some(digest);
            }
            Ok(None) => current = Some(job),
            Err(e) => {
                let mut sh = shared.lock().unwrap_or_else(|p| p.into_inner());
                sh.error.get_or_insert(e);
                return;
            }
        }
    }
}

/// Advances a chain by one window; the digest once the chain is complete.
fn step(
    units: &[Unit<'_>],
    ser: &Serialization,
    progress: &dyn Progress,
    job: &mut Job,
) -> Result<Option<Vec<u8>>> {
    let u = &units[job.unit];
    if job.pos == u.start && job.file.is_none() {
        job.hasher = Hasher::new(ser.hash);
        if uses_known_digest(u, ser) {
            progress.advance(u.len());
            return Ok(Some(u.entry.known_sha256.expect("checked").to_vec()));
        }
        if let Content::CheckedFile { path, check } = &u.entry.content {
            check().map_err(|e| Error::io(path, e))?;
        }
        match u.entry.content.local_file() {
            Some(path) => {
                let file = File::open(path).map_err(|e| Error::io(path, e))?;
                if job.mappable {
                    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
                    job.mappable = meta.is_file();
                }
                job.file = Some(file);
            }
            _ => return hash_other(u, ser.hash, progress).map(Some),
        }
    }
    let Some(path) = u.entry.content.local_file() else {
        unreachable!("only files are hashed in windows")
    };
    let file = job.file.as_ref().expect("opened above");
    let changed = || Error::ChangedWhileHashing {
        path: path.to_path_buf(),
    };
    let len = (u.end - job.pos).min(window_len(ser.hash));
    let last = job.pos + len == u.end && u.end == u.entry.size;
    let mut size_checked = false;
    let window = match job.next.take() {
        Some(w) => Some(w),
        None if job.mappable => Window::map(
            file,
            job.pos,
            len as usize,
            ser.hash != HashAlgorithm::Blake3,
        ),
        None => None,
    };
    match window {
        Some(w) => {
            let after = job.pos + len;
            let next_len = (u.end - after).min(window_len(ser.hash));
            let hasher = &mut job.hasher;
            let prefetch = || {
                (next_len > 0)
                    .then(|| Window::map(file, after, next_len as usize, true))
                    .flatten()
            };
            let next = if ser.hash == HashAlgorithm::Blake3 {
                // BLAKE3 spreads the window over the rayon pool, and the page faults with it.
                hasher.update(w.bytes());
                None
            } else {
                // A plain thread, not a rayon job: on a cold cache the populate blocks on the
                // disk, and a rayon worker waiting for it would spin instead of sleeping.
                std::thread::scope(|s| {
                    let pre = s.spawn(prefetch);
                    hasher.update(w.bytes());
                    pre.join().ok().flatten()
                })
            };
            if w.faulted() {
                return Err(changed());
            }
            job.mappable = next.is_some() || next_len == 0 || ser.hash == HashAlgorithm::Blake3;
            job.next = next;
        }
        None => {
            read_range(file, path, job.pos, job.pos + len, last, &mut job.hasher)?;
            size_checked = last;
        }
    }
    progress.advance(len);
    job.pos += len;
    if job.pos < u.end {
        return Ok(None);
    }
    // The last unit of a file must end at its end: growth after listing is a change too.
    if last && !size_checked {
        let now = file.metadata().map_err(|e| Error::io(path, e))?.len();
        if now != u.entry.size {
            return Err(changed());
        }
    }
    job.file = None;
    let hasher = std::mem::replace(&mut job.hasher, Hasher::new(HashAlgorithm::Sha256));
    Ok(Some(hasher.finalize()))
}

/// Positioned reads of `[start, end)` into the worker's buffer. With `at_eof`, `end` must be
/// the end of the file: the last read asks for one byte more, so growth is seen without a
/// separate `stat` (which costs as much as reading a small file).
fn read_range(
    file: &File,
    path: &Path,
    start: u64,
    end: u64,
    at_eof: bool,
    hasher: &mut Hasher,
) -> Result<()> {
    let changed = || Error::ChangedWhileHashing {
        path: path.to_path_buf(),
    };
    BUF.with(|b| -> Result<()> {
        let mut buf = b.borrow_mut();
        let want = READ_BUF.min((end - start) as usize) + 1;
        if buf.len() < want {
            buf.resize(want, 0);
        }
        let mut pos = start;
        loop {
            let left = (end - pos) as usize;
            let probe = at_eof && left < buf.len();
            if left == 0 && !probe {
                return Ok(());
            }
            let n = if probe {
                left + 1
            } else {
                left.min(buf.len() - 1)
            };
            let got = file
                .read_at(&mut buf[..n], pos)
                .map_err(|e| Error::io(path, e))?;
            if got > left {
                return Err(changed());
            }
            if got == 0 {
                return if left == 0 { Ok(()) } else { Err(changed()) };
            }
            hasher.update(&buf[..got]);
            pos += got as u64;
        }
    })
}

/// Content that is not a local file: bytes in memory or a stream.
fn hash_other(u: &Unit<'_>, alg: HashAlgorithm, progress: &dyn Progress) -> Result<Vec<u8>> {
    let mut hasher = Hasher::new(alg);
    match &u.entry.content {
        Content::Bytes(bytes) => {
            let range = bytes.get(u.start as usize..u.end as usize).ok_or_else(|| {
                Error::Other(format!("{}: content shorter than its size", u.entry.path))
            })?;
            hasher.update(range);
            progress.advance(range.len() as u64);
        }
        Content::Stream(open) => {
            let name = u.entry.path.to_string();
            let mut r = open().map_err(|e| Error::io(&name, e))?;
            std::io::copy(&mut (&mut r).take(u.start), &mut std::io::sink())
                .map_err(|e| Error::io(&name, e))?;
            let mut r = r.take(u.len());
            let mut got = 0u64;
            BUF.with(|b| -> Result<()> {
                let mut buf = b.borrow_mut();
                buf.resize(READ_BUF, 0);
                loop {
                    let n = r.read(&mut buf).map_err(|e| Error::io(&name, e))?;
                    if n == 0 {
                        break;
                    }
                    hasher.update(&buf[..n]);
                    got += n as u64;
                    progress.advance(n as u64);
                }
                Ok(())
            })?;
            if got != u.len() {
                return Err(Error::Other(format!(
                    "{name}: content is {} bytes, expected {}",
                    u.start + got,
                    u.end
                )));
            }
        }
        Content::File(_) | Content::CheckedFile { .. } | Content::Unavailable { .. } => {
            unreachable!("files are windowed; unavailable content was checked before hashing")
        }
    }
    Ok(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(data: &[u8], end: u64, at_eof: bool) -> Result<Vec<u8>> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, data).unwrap();
        let f = File::open(&p).unwrap();
        let mut h = Hasher::new(HashAlgorithm::Sha256);
        read_range(&f, &p, 0, end, at_eof, &mut h)?;
        Ok(h.finalize())
    }

    #[test]
    fn positioned_reads_see_growth_and_shrinkage() {
        let data = vec![5u8; 3 * READ_BUF + 7];
        let n = data.len() as u64;
        let whole = read(&data, n, true).unwrap();
        assert_eq!(
            whole,
            crate::hash::algorithm::hash_bytes(HashAlgorithm::Sha256, &data)
        );
        // The file is longer than listed: the probe byte finds it.
        assert!(matches!(
            read(&data, n - 1, true),
            Err(Error::ChangedWhileHashing { .. })
        ));
        assert!(matches!(
            read(&data, 0, true),
            Err(Error::ChangedWhileHashing { .. })
        ));
        // A range inside the file (a shard that is not the last) is no growth.
        assert!(read(&data, n - 1, false).is_ok());
        // Shorter than listed.
        assert!(matches!(
            read(&data, n + 1, true),
            Err(Error::ChangedWhileHashing { .. })
        ));
        assert!(read(&[], 0, true).is_ok());
    }
}
