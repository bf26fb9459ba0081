//! Turns entries into resource digests on all cores.
//!
//! The model is cut into work units (a whole file, or one shard), largest first so the
//! long ones start early, and a rayon pool hashes them. Files are read with positioned
//! reads into one reusable buffer per thread: memory stays bounded whatever the model
//! size, and every byte is read once.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::Path;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::hash::algorithm::Hasher;
use crate::hash::Progress;
use crate::manifest::{Digest, HashAlgorithm, Method, ResourceKey, Serialization};
use crate::source::{Content, Entry};

/// Bytes per read call: large enough to amortise the syscall, small enough to stay in L2.
const READ_BUF: usize = 1 << 20;

thread_local! {
    static BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

struct Unit<'a> {
    entry: &'a Entry,
    start: u64,
    end: u64,
    key: ResourceKey,
}

fn units<'a>(entries: &'a [Entry], ser: &Serialization) -> Vec<Unit<'a>> {
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        match ser.method {
            Method::Files => out.push(Unit {
                entry: e,
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
    out.sort_by_key(|u| std::cmp::Reverse(u.end - u.start));
    out
}

/// Whether a unit can take its digest from the source instead of reading content.
fn uses_known_digest(unit: &Unit<'_>, ser: &Serialization) -> bool {
    ser.method == Method::Files
        && ser.hash == HashAlgorithm::Sha256
        && unit.entry.known_sha256.is_some()
}

/// Hashes every entry with the given serialization.
pub(crate) fn hash_entries(
    entries: &[Entry],
    ser: &Serialization,
    progress: &dyn Progress,
) -> Result<BTreeMap<ResourceKey, Digest>> {
    let units = units(entries, ser);
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
    progress.start(units.iter().map(|u| u.end - u.start).sum());
    let algorithm = ser.resource_algorithm();
    let digests: Vec<(ResourceKey, Digest)> = units
        .par_iter()
        .map(|u| {
            let value = if uses_known_digest(u, ser) {
                progress.advance(u.end - u.start);
                u.entry.known_sha256.expect("checked").to_vec()
            } else {
                hash_unit(u, ser.hash, progress)?
            };
            Ok((
                u.key.clone(),
                Digest {
                    algorithm: algorithm.clone(),
                    value,
                },
            ))
        })
        .collect::<Result<_>>()?;
    progress.finish();
    Ok(digests.into_iter().collect())
}

fn hash_unit(u: &Unit<'_>, alg: HashAlgorithm, progress: &dyn Progress) -> Result<Vec<u8>> {
    let mut hasher = Hasher::new(alg);
    match &u.entry.content {
        Content::File(path) => hash_file_range(path, u, &mut hasher, progress)?,
        Content::CheckedFile { path, check } => {
            check().map_err(|e| Error::io(path, e))?;
            hash_file_range(path, u, &mut hasher, progress)?
        }
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
            let mut r = r.take(u.end - u.start);
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
            if got != u.end - u.start {
                return Err(Error::Other(format!(
                    "{name}: content is {} bytes, expected {}",
                    u.start + got,
                    u.end
                )));
            }
        }
        Content::Unavailable { .. } => unreachable!("checked before hashing"),
    }
    Ok(hasher.finalize())
}

fn hash_file_range(
    path: &Path,
    u: &Unit<'_>,
    hasher: &mut Hasher,
    progress: &dyn Progress,
) -> Result<()> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let changed = || Error::ChangedWhileHashing {
        path: path.to_path_buf(),
    };
    BUF.with(|b| -> Result<()> {
        let mut buf = b.borrow_mut();
        let want = READ_BUF.min((u.end - u.start) as usize).max(1);
        if buf.len() < want {
            buf.resize(want, 0);
        }
        let mut pos = u.start;
        while pos < u.end {
            let n = ((u.end - pos) as usize).min(buf.len());
            let got = file
                .read_at(&mut buf[..n], pos)
                .map_err(|e| Error::io(path, e))?;
            if got == 0 {
                return Err(changed());
            }
            hasher.update(&buf[..got]);
            progress.advance(got as u64);
            pos += got as u64;
        }
        Ok(())
    })?;
    // The last unit of a file must end at its end: growth after listing is a change too.
    if u.end == u.entry.size {
        let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        if len != u.entry.size {
            return Err(changed());
        }
    }
    Ok(())
}
