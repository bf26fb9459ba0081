//! Turns entries into resource digests on all cores, at the speed of the hash function.
//!
//! The model is cut into work units (a whole file, or one shard). A unit is a chain of
//! windows hashed in order. One worker per core holds its fair share of the chains left (up
//! to four with SHA-256, whose messages interleave on one core, see [`super::sha256`]; one
//! otherwise) and advances each by one window per step. Between steps it gives chains back
//! when others wait idle, and swaps a chain for a waiting one with clearly more work left,
//! so a few big files keep every core busy until the end. Units are started largest first.
//!
//! Local files are read through bounded memory maps ([`super::window`]): no copy, and the
//! next windows of a worker's chains are mapped and their page tables filled by the worker's
//! helper thread ([`super::prefetch`]) while the current ones are hashed, so one big file is
//! hashed at one core's full speed. BLAKE3 takes one larger window at a time and spreads it,
//! page faults included, over the rayon pool. Small files, files that cannot be mapped and
//! other content are read with positioned reads into one reusable buffer per worker. Memory
//! stays bounded: a window's worth of bytes per worker, split among its chains, hashed, plus
//! as much mapped ahead.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, OnceLock};

use crate::error::{Error, Result};
use crate::hash::algorithm::Hasher;
use crate::hash::cache::{DigestCache, FileDigests, FileStamp, PreviousSignature};
use crate::hash::prefetch::{Ahead, Prefetcher};
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
    check_unique(entries)?;
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

/// Refuses a listing that names one file twice, before any byte is hashed: the digests are
/// keyed by name, so one entry would silently stand for the other.
fn check_unique(entries: &[Entry]) -> Result<()> {
    let mut seen = std::collections::HashSet::with_capacity(entries.len());
    match entries.iter().find(|e| !seen.insert(&e.path)) {
        Some(e) => Err(Error::UnsupportedEntry {
            path: e.path.to_string().into(),
            reason: "the model source lists this file twice; refusing to sign or verify a model whose files are ambiguous (corrupt or crafted listing)".into(),
        }),
        None => Ok(()),
    }
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
    file: Option<Arc<File>>,
    /// The file's stamp when it was opened; the same stamp must be found once it is hashed.
    opened: Option<FileStamp>,
    mappable: bool,
    next: Option<Window>,
}

struct Shared {
    /// Next unit never started (units are sorted largest first).
    next_unit: usize,
    /// Started chains that no worker holds.
    parked: Vec<Job>,
    /// Chains that workers hold.
    held: usize,
    results: Vec<Option<Vec<u8>>>,
    error: Option<Error>,
}

/// What the workers share about the files they read: the stamp each file had when its
/// first unit was opened, by entry index.
#[derive(Clone, Copy)]
struct Files<'a> {
    first: &'a [OnceLock<FileStamp>],
}

/// How the work is spread: `workers` threads, each hashing up to `lanes` chains at once.
#[derive(Clone, Copy)]
struct Plan {
    workers: usize,
    lanes: usize,
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
        held: 0,
        results: vec![None; units.len()],
        error: None,
    });
    let wake = Condvar::new();
    let entries = units.iter().map(|u| u.idx + 1).max().unwrap_or(0);
    let first: Vec<OnceLock<FileStamp>> = (0..entries).map(|_| OnceLock::new()).collect();
    let files = Files { first: &first };
    let plan = Plan {
        workers: rayon::current_num_threads().clamp(1, units.len().max(1)),
        lanes: Hasher::lanes(ser.hash),
    };
    if plan.workers == 1 {
        worker(units, ser, progress, &shared, &wake, plan, files);
    } else {
        std::thread::scope(|s| {
            for _ in 0..plan.workers {
                s.spawn(|| worker(units, ser, progress, &shared, &wake, plan, files));
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

/// A chain no worker holds: the next unstarted unit, or a parked chain.
#[derive(Clone, Copy)]
enum Waiting {
    Unstarted,
    Parked(usize),
}

/// The waiting chain with the most work left, and how much that is.
fn best_waiting(units: &[Unit<'_>], sh: &Shared) -> Option<(Waiting, u64)> {
    let parked = sh
        .parked
        .iter()
        .enumerate()
        .max_by_key(|(_, j)| remaining(units, j))
        .map(|(i, j)| (Waiting::Parked(i), remaining(units, j)));
    let unstarted = units
        .get(sh.next_unit)
        .map(|u| (Waiting::Unstarted, u.len()));
    match (unstarted, parked) {
        (Some(u), Some(p)) => Some(if u.1 >= p.1 { u } else { p }),
        (u, p) => u.or(p),
    }
}

fn take(units: &[Unit<'_>], sh: &mut Shared, which: Waiting) -> Job {
    sh.held += 1;
    match which {
        Waiting::Unstarted => {
            sh.next_unit += 1;
            new_job(sh.next_unit - 1, units)
        }
        Waiting::Parked(i) => sh.parked.swap_remove(i),
    }
}

fn park(sh: &mut Shared, mut job: Job) {
    // A parked chain keeps no mapped window: memory stays bounded per worker.
    job.next = None;
    sh.held -= 1;
    sh.parked.push(job);
}

/// Adjusts the chains a worker holds: its fair share of the chains left (at most
/// `plan.lanes`), and a held chain swapped for a waiting one with clearly more work left, so
/// a few big files keep every core busy until the end. Whether it parked a chain (another
/// worker may want it).
fn schedule(units: &[Unit<'_>], sh: &mut Shared, held: &mut Vec<Job>, plan: Plan) -> bool {
    let left = sh.held + sh.parked.len() + (units.len() - sh.next_unit);
    let share = left.div_ceil(plan.workers).clamp(1, plan.lanes);
    let mut parked = false;
    while held.len() > share {
        let job = held.pop().expect("more than one held");
        park(sh, job);
        parked = true;
    }
    while held.len() < share {
        let Some((which, _)) = best_waiting(units, sh) else {
            break;
        };
        let job = take(units, sh, which);
        held.push(job);
    }
    let least = held
        .iter()
        .enumerate()
        .map(|(i, j)| (i, remaining(units, j)))
        .min_by_key(|&(_, r)| r);
    if let (Some((which, more)), Some((i, less))) = (best_waiting(units, sh), least) {
        if more > less + SWITCH_MARGIN {
            let job = take(units, sh, which);
            let old = std::mem::replace(&mut held[i], job);
            park(sh, old);
            parked = true;
        }
    }
    parked
}

fn new_job(unit: usize, units: &[Unit<'_>]) -> Job {
    let u = &units[unit];
    Job {
        unit,
        hasher: Hasher::new(HashAlgorithm::Sha256),
        pos: u.start,
        file: None,
        opened: None,
        mappable: u.len() >= MMAP_MIN,
        next: None,
    }
}

fn worker(
    units: &[Unit<'_>],
    ser: &Serialization,
    progress: &dyn Progress,
    shared: &Mutex<Shared>,
    wake: &Condvar,
    plan: Plan,
    files: Files<'_>,
) {
    let lock = || shared.lock().unwrap_or_else(|p| p.into_inner());
    let mut held: Vec<Job> = Vec::with_capacity(plan.lanes);
    let mut windows = Windows::default();
    loop {
        {
            let mut sh = lock();
            loop {
                if sh.error.is_some() {
                    return;
                }
                if schedule(units, &mut sh, &mut held, plan) {
                    wake.notify_all();
                }
                if !held.is_empty() {
                    break;
                }
                if sh.next_unit == units.len() && sh.parked.is_empty() && sh.held == 0 {
                    return;
                }
                // Every chain left is held by another worker: wait until one is parked (this
                // core meanwhile serves the other chains' prefetching and BLAKE3's pool).
                sh = wake.wait(sh).unwrap_or_else(|p| p.into_inner());
            }
        }
        match step(units, ser, progress, &mut held, &mut windows, files) {
            Ok(digests) => {
                let mut sh = lock();
                let before = held.len();
                let mut digests = digests.into_iter();
                held.retain(|job| match digests.next().flatten() {
                    Some(d) => {
                        sh.results[job.unit] = Some(d);
                        false
                    }
                    None => true,
                });
                if held.len() < before {
                    sh.held -= before - held.len();
                    wake.notify_all();
                }
            }
            Err(e) => {
                lock().error.get_or_insert(e);
                wake.notify_all();
                return;
            }
        }
    }
}

/// Bytes per window of each of `lanes` chains hashed together: one step maps about the same
/// memory whatever the number of lanes.
fn lane_window(alg: HashAlgorithm, lanes: usize) -> u64 {
    const GRAIN: u64 = 64 << 10;
    (window_len(alg) / lanes.max(1) as u64 / GRAIN).max(1) * GRAIN
}

/// A worker's windows beyond the ones it hashes: its prefetch helper (started on first use)
/// and the windows already hashed, which the helper unmaps.
#[derive(Default)]
struct Windows {
    ahead: Option<Prefetcher>,
    retired: Vec<Window>,
}

/// What one step did with a chain.
enum Part {
    /// The chain is complete: its digest.
    Done(Vec<u8>),
    /// A mapped window to hash.
    Mapped(Window),
    /// `len` bytes already read and hashed.
    Read { len: u64 },
}

/// Advances every held chain by one window, the mapped windows hashed together; the digest
/// of each chain that is complete.
fn step(
    units: &[Unit<'_>],
    ser: &Serialization,
    progress: &dyn Progress,
    jobs: &mut [Job],
    windows: &mut Windows,
    files: Files<'_>,
) -> Result<Vec<Option<Vec<u8>>>> {
    let window = lane_window(ser.hash, jobs.len());
    let mut parts = Vec::with_capacity(jobs.len());
    for job in jobs.iter_mut() {
        parts.push(begin(units, ser, progress, job, window, files)?);
    }
    hash_windows(units, ser, jobs, &parts, window, windows);
    jobs.iter_mut()
        .zip(parts)
        .map(|(job, part)| finish(units, progress, job, part, &mut windows.retired))
        .collect()
}

/// Opens a chain when it starts, and gets its next window (or reads it when it cannot be
/// mapped).
fn begin(
    units: &[Unit<'_>],
    ser: &Serialization,
    progress: &dyn Progress,
    job: &mut Job,
    window: u64,
    files: Files<'_>,
) -> Result<Part> {
    let u = &units[job.unit];
    if job.pos == u.start && job.file.is_none() {
        job.hasher = Hasher::new(ser.hash);
        if uses_known_digest(u, ser) {
            progress.advance(u.len());
            return Ok(Part::Done(u.entry.known_sha256.expect("checked").to_vec()));
        }
        if let Content::CheckedFile { path, check } = &u.entry.content {
            check().map_err(|e| Error::io(path, e))?;
        }
        match u.entry.content.local_file() {
            Some(path) => {
                let file = File::open(path).map_err(|e| Error::io(path, e))?;
                let meta = file.metadata().map_err(|e| Error::io(path, e))?;
                job.mappable = job.mappable && meta.is_file();
                let stamp = FileStamp::from_metadata(&meta);
                // Every shard of a file must come from one version of it.
                if *files.first[u.idx].get_or_init(|| stamp) != stamp {
                    return Err(Error::ChangedWhileHashing {
                        path: path.to_path_buf(),
                    });
                }
                job.opened = Some(stamp);
                job.file = Some(Arc::new(file));
            }
            _ => return hash_other(u, ser.hash, progress).map(Part::Done),
        }
    }
    let Some(path) = u.entry.content.local_file() else {
        unreachable!("only files are hashed in windows")
    };
    let file = job.file.as_ref().expect("opened above");
    let len = (u.end - job.pos).min(window);
    let mapped = match job.next.take() {
        Some(w) => Some(w),
        None if job.mappable => Window::map(
            file,
            job.pos,
            len as usize,
            ser.hash != HashAlgorithm::Blake3,
        ),
        None => None,
    };
    if let Some(w) = mapped {
        return Ok(Part::Mapped(w));
    }
    let at_eof = job.pos + len == u.end && u.end == u.entry.size;
    read_range(file, path, job.pos, job.pos + len, at_eof, &mut job.hasher)?;
    Ok(Part::Read { len })
}

/// Hashes the mapped windows of a step together while the helper unmaps the last step's
/// windows and maps the chains' next ones.
fn hash_windows(
    units: &[Unit<'_>],
    ser: &Serialization,
    jobs: &mut [Job],
    parts: &[Part],
    window: u64,
    windows: &mut Windows,
) {
    let mut hashers: Vec<&mut Hasher> = Vec::with_capacity(jobs.len());
    let mut data: Vec<&[u8]> = Vec::with_capacity(jobs.len());
    // Per mapped chain: its index and the length of its next window (0: none); and the
    // windows to map ahead, in the same order.
    let mut next_of: Vec<(usize, u64)> = Vec::with_capacity(jobs.len());
    let mut map: Vec<Ahead> = Vec::with_capacity(jobs.len());
    for (i, (job, part)) in jobs.iter_mut().zip(parts).enumerate() {
        let Part::Mapped(w) = part else { continue };
        let after = job.pos + w.bytes().len() as u64;
        let next_len = (units[job.unit].end - after).min(window);
        if next_len > 0 {
            let file = job.file.as_ref().expect("a mapped chain has its file");
            map.push((Arc::clone(file), after, next_len as usize));
        }
        next_of.push((i, next_len));
        hashers.push(&mut job.hasher);
        data.push(w.bytes());
    }
    if hashers.is_empty() {
        return;
    }
    if ser.hash == HashAlgorithm::Blake3 || map.is_empty() {
        // BLAKE3 spreads each window over the rayon pool, and the page faults with it.
        windows.retired.clear();
        Hasher::update_together(&mut hashers, &data);
        return;
    }
    let wanted = map.len();
    let ahead = windows.ahead.get_or_insert_with(Prefetcher::new);
    ahead.start(std::mem::take(&mut windows.retired), map);
    Hasher::update_together(&mut hashers, &data);
    drop(hashers);
    let mut mapped = ahead.take(wanted).into_iter();
    for (i, next_len) in next_of {
        let job = &mut jobs[i];
        job.next = if next_len > 0 {
            mapped.next().flatten()
        } else {
            None
        };
        job.mappable = job.next.is_some() || next_len == 0;
    }
}

/// Accounts for a step of a chain; the digest once the chain is complete.
fn finish(
    units: &[Unit<'_>],
    progress: &dyn Progress,
    job: &mut Job,
    part: Part,
    retired: &mut Vec<Window>,
) -> Result<Option<Vec<u8>>> {
    let u = &units[job.unit];
    let Some(path) = u.entry.content.local_file() else {
        return match part {
            Part::Done(d) => Ok(Some(d)),
            _ => unreachable!("only files are hashed in windows"),
        };
    };
    let changed = || Error::ChangedWhileHashing {
        path: path.to_path_buf(),
    };
    let len = match part {
        Part::Done(d) => return Ok(Some(d)),
        Part::Mapped(w) => {
            if w.faulted() {
                return Err(changed());
            }
            let len = w.bytes().len() as u64;
            retired.push(w);
            len
        }
        Part::Read { len } => len,
    };
    progress.advance(len);
    job.pos += len;
    if job.pos < u.end {
        return Ok(None);
    }
    // Bytes rewritten in place leave the size alone but not the times; a file replaced
    // under its name has another inode. The path is asked, not the open file, so that a
    // file renamed over this one is seen too.
    let now = FileStamp::of(path).map_err(|_| changed())?;
    if Some(now) != job.opened {
        return Err(changed());
    }
    // A file must have the size it was listed with: growth after listing is a change too.
    if now.size != u.entry.size {
        return Err(changed());
    }
    job.file = None;
    job.opened = None;
    let hasher = std::mem::replace(&mut job.hasher, Hasher::new(HashAlgorithm::Sha256));
    Ok(Some(hasher.finalize()))
}

/// Positioned reads of `[start, end)` into the worker's buffer. With `at_eof`, `end` must be
/// the end of the file: the last read asks for one byte more, so growth is seen while it
/// happens, not only by the `stat` once the unit is hashed.
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
    use crate::manifest::ModelPath;

    fn entries(sizes: &[u64]) -> Vec<Entry> {
        sizes
            .iter()
            .enumerate()
            .map(|(i, &size)| Entry {
                path: ModelPath::parse(&format!("f{i}")).unwrap(),
                size,
                content: Content::Unavailable {
                    hint: String::new(),
                },
                known_sha256: None,
            })
            .collect()
    }

    fn shared(n: usize) -> Shared {
        Shared {
            next_unit: 0,
            parked: Vec::new(),
            held: 0,
            results: vec![None; n],
            error: None,
        }
    }

    /// Two workers of `lanes` lanes each, after their first scheduling.
    fn two_workers(units: &[Unit<'_>], lanes: usize) -> (Plan, Shared, Vec<Job>, Vec<Job>) {
        let plan = Plan { workers: 2, lanes };
        let mut sh = shared(units.len());
        let (mut a, mut b) = (Vec::new(), Vec::new());
        schedule(units, &mut sh, &mut a, plan);
        schedule(units, &mut sh, &mut b, plan);
        (plan, sh, a, b)
    }

    #[test]
    fn chains_are_shared_fairly_and_given_back_to_idle_workers() {
        let files = entries(&[300 << 20, 300 << 20, 300 << 20]);
        let ser = Serialization {
            method: Method::Files,
            hash: HashAlgorithm::Sha256,
            allow_symlinks: false,
            ignore_paths: Vec::new(),
        };
        let units = units(&files, &ser);
        let (plan, mut sh, mut a, mut b) = two_workers(&units, 4);
        assert_eq!(
            (a.len(), b.len(), sh.held),
            (2, 1, 3),
            "three chains on two cores: 2 + 1"
        );
        // b's chain completes; b has nothing, so a gives one of its two back.
        b.clear();
        sh.held -= 1;
        assert!(!schedule(&units, &mut sh, &mut b, plan));
        assert!(b.is_empty());
        assert!(schedule(&units, &mut sh, &mut a, plan), "a parks a chain");
        schedule(&units, &mut sh, &mut b, plan);
        assert_eq!((a.len(), b.len(), sh.parked.len()), (1, 1, 0));

        // One lane (BLAKE2b): a worker swaps its chain for one with clearly more work left.
        let (plan, mut sh, mut a, _b) = two_workers(&units, 1);
        a[0].pos += 100 << 20;
        assert!(
            schedule(&units, &mut sh, &mut a, plan),
            "the started chain is parked"
        );
        assert_eq!((a[0].pos, sh.parked.len(), sh.next_unit), (0, 1, 3));
    }

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
