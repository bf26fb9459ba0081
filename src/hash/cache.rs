//! Digests already computed, so that re-signing a model re-hashes only what changed.
//!
//! Two sources, both plugged into [`crate::HashingConfig`]:
//!
//! - [`DigestCache`]: a local cache outside the model (`$XDG_CACHE_HOME/msign`, else
//!   `~/.cache/msign`), keyed by what identifies a version of a file without reading it:
//!   device, inode, size, modification and status-change time (ns), and the serialization
//!   label (`sha256`, `sha256-sharded-1000000000`, ...). An entry is trusted only if the file's
//!   times are older than the moment the entry was written by more than [`RACY_MARGIN_NS`]:
//!   a file written in the same timestamp tick as its entry could change again without its
//!   times changing ("racy git"). Such an entry is recomputed (and rewritten, then trusted).
//!   The status-change time cannot be set by users, so a write followed by `touch -d` to
//!   restore the modification time still invalidates the entry.
//! - [`PreviousSignature`]: the manifest of a previous signature (verified by the caller) plus
//!   the time its file was written; a file whose modification and status-change times are
//!   both older than that (by the same margin) takes its digests from it.
//!
//! The cache is as trusted as the user's home: a poisoned cache makes msign sign digests of
//! other content. Cache files must belong to the user and not be writable by others;
//! anything else is ignored. Files are written atomically (temporary file + rename).

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::manifest::{Manifest, ResourceKey};

/// Times within this distance of the moment an entry was recorded are not trusted. Covers
/// coarse filesystem timestamps (2 s on FAT, 1 s on some network filesystems).
pub const RACY_MARGIN_NS: i128 = 2_000_000_000;

const FORMAT: u32 = 1;

/// What identifies one version of a file without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStamp {
    /// Device number.
    pub dev: u64,
    /// Inode number.
    pub ino: u64,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, ns since the epoch.
    pub mtime_ns: i128,
    /// Status-change time, ns since the epoch.
    pub ctime_ns: i128,
}

impl FileStamp {
    /// The stamp of the file at `path` (links followed).
    pub fn of(path: &Path) -> std::io::Result<Self> {
        Ok(Self::from_metadata(&fs::metadata(path)?))
    }

    /// The stamp in metadata already at hand (an open file's `fstat`).
    pub fn from_metadata(m: &fs::Metadata) -> Self {
        FileStamp {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime_ns: m.mtime() as i128 * 1_000_000_000 + m.mtime_nsec() as i128,
            ctime_ns: m.ctime() as i128 * 1_000_000_000 + m.ctime_nsec() as i128,
        }
    }

    /// Whether the file was last changed clearly before `t_ns`.
    fn settled_before(&self, t_ns: i128) -> bool {
        self.mtime_ns.max(self.ctime_ns) + RACY_MARGIN_NS < t_ns
    }
}

/// The digests of one file's resources: `(start, end, digest)`; one `(0, size)` triple in
/// file serialization.
pub type FileDigests = Vec<(u64, u64, Vec<u8>)>;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct CacheEntry {
    stamp: FileStamp,
    recorded_ns: i128,
    /// `[start, end, hex digest]` per resource.
    resources: Vec<(u64, u64, String)>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct CacheFile {
    format: u32,
    label: String,
    /// By inode.
    entries: HashMap<u64, CacheEntry>,
}

/// A local digest cache (see the module documentation).
#[derive(Debug)]
pub struct DigestCache {
    dir: PathBuf,
    /// Loaded cache files by file name, and whether they changed.
    files: Mutex<HashMap<String, (CacheFile, bool)>>,
    hits: AtomicUsize,
}

fn now_ns() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0)
}

impl DigestCache {
    /// The user's cache: `$XDG_CACHE_HOME/msign`, else `$HOME/.cache/msign`.
    pub fn user_default() -> Result<Self> {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .ok_or_else(|| {
                Error::Usage(
                    "no cache folder: set XDG_CACHE_HOME or HOME, or pass --no-cache".into(),
                )
            })?;
        Ok(Self::at(base.join("msign")))
    }

    /// A cache in `dir` (created on first save).
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        DigestCache {
            dir: dir.into(),
            files: Mutex::new(HashMap::new()),
            hits: AtomicUsize::new(0),
        }
    }

    /// The cache folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// How many files were served from the cache so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::Relaxed)
    }

    fn file_name(dev: u64, label: &str) -> String {
        let safe: String = label
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!("v{FORMAT}-dev{dev}-{safe}.json")
    }

    /// Reads a cache file if it is the user's own and well formed; empty otherwise.
    fn load(&self, name: &str, label: &str) -> CacheFile {
        let empty = CacheFile {
            format: FORMAT,
            label: label.to_string(),
            entries: HashMap::new(),
        };
        let path = self.dir.join(name);
        let Ok(meta) = fs::symlink_metadata(&path) else {
            return empty;
        };
        // SAFETY: getuid has no preconditions.
        let uid = unsafe { libc::getuid() };
        if !meta.is_file() || meta.uid() != uid || meta.permissions().mode() & 0o022 != 0 {
            return empty;
        }
        match fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice::<CacheFile>(&b).ok())
        {
            Some(f) if f.format == FORMAT && f.label == label => f,
            _ => empty,
        }
    }

    /// The digests recorded for this version of a file, if they can be trusted.
    pub fn lookup(&self, stamp: &FileStamp, label: &str) -> Option<FileDigests> {
        let name = Self::file_name(stamp.dev, label);
        let mut files = self.files.lock().unwrap_or_else(|p| p.into_inner());
        let (file, _) = files
            .entry(name.clone())
            .or_insert_with(|| (self.load(&name, label), false));
        let e = file.entries.get(&stamp.ino)?;
        if e.stamp != *stamp || !stamp.settled_before(e.recorded_ns) {
            return None;
        }
        let out = e
            .resources
            .iter()
            .map(|(s, end, h)| Some((*s, *end, hex::decode(h).ok()?)))
            .collect::<Option<FileDigests>>()?;
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(out)
    }

    /// Records the digests of a file whose stamp did not change while it was hashed.
    pub fn record(&self, stamp: &FileStamp, label: &str, digests: &FileDigests) {
        let name = Self::file_name(stamp.dev, label);
        let mut files = self.files.lock().unwrap_or_else(|p| p.into_inner());
        let (file, dirty) = files
            .entry(name.clone())
            .or_insert_with(|| (self.load(&name, label), false));
        file.entries.insert(
            stamp.ino,
            CacheEntry {
                stamp: *stamp,
                recorded_ns: now_ns(),
                resources: digests
                    .iter()
                    .map(|(s, e, d)| (*s, *e, hex::encode(d)))
                    .collect(),
            },
        );
        *dirty = true;
    }

    /// Writes the cache files that changed, atomically, readable by the user only.
    pub fn save(&self) -> Result<()> {
        let files = self.files.lock().unwrap_or_else(|p| p.into_inner());
        if !files.values().any(|(_, dirty)| *dirty) {
            return Ok(());
        }
        fs::create_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        let _ = fs::set_permissions(&self.dir, fs::Permissions::from_mode(0o700));
        for (name, (file, dirty)) in files.iter() {
            if *dirty {
                let bytes = serde_json::to_vec(file).map_err(|e| Error::Other(e.to_string()))?;
                write_unsynced(&self.dir, name, &bytes)?;
            }
        }
        Ok(())
    }
}

/// Temporary file + rename, without the `fsync` a signature gets: a cache file lost or
/// emptied by a crash is just an empty cache, and syncing would cost more than hashing a
/// small model. tempfile creates the file with mode 0600, which the rename keeps.
fn write_unsynced(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut tmp = tempfile::Builder::new()
        .prefix(".msign-cache-")
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))?;
    tmp.write_all(bytes)
        .map_err(|e| Error::io(tmp.path().to_path_buf(), e))?;
    tmp.persist(dir.join(name))
        .map_err(|e| Error::io(dir.join(name), e.error))?;
    Ok(())
}

/// The manifest of a previous, verified signature and when its file was written.
#[derive(Debug)]
pub struct PreviousSignature {
    manifest: Manifest,
    written_ns: i128,
    hits: AtomicUsize,
}

impl PreviousSignature {
    /// `manifest` must come from a signature the caller has verified; `signature_file` is
    /// where it was read (its modification time bounds which files it can describe).
    pub fn new(manifest: Manifest, signature_file: &Path) -> Result<Self> {
        let stamp = FileStamp::of(signature_file).map_err(|e| Error::io(signature_file, e))?;
        Ok(PreviousSignature {
            manifest,
            written_ns: stamp.mtime_ns,
            hits: AtomicUsize::new(0),
        })
    }

    /// How many files took their digests from the signature.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::Relaxed)
    }

    /// The signed digests of `keys` (one file's resources), if the file has not changed
    /// since the signature was written and the signature used the same serialization.
    pub fn lookup(
        &self,
        stamp: &FileStamp,
        label: &str,
        keys: &[&ResourceKey],
    ) -> Option<FileDigests> {
        if !stamp.settled_before(self.written_ns) {
            return None;
        }
        let out = keys
            .iter()
            .map(|k| {
                let d = self.manifest.resources.get(*k)?;
                if d.algorithm != label {
                    return None;
                }
                let (s, e) = match k {
                    ResourceKey::File(_) => (0, stamp.size),
                    ResourceKey::Shard { start, end, .. } => (*start, *end),
                };
                Some((s, e, d.value.clone()))
            })
            .collect::<Option<FileDigests>>()?;
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(mtime_ns: i128) -> FileStamp {
        FileStamp {
            dev: 1,
            ino: 42,
            size: 10,
            mtime_ns,
            ctime_ns: mtime_ns,
        }
    }

    #[test]
    fn racy_and_mismatched_entries_are_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DigestCache::at(dir.path().join("c"));
        let d: FileDigests = vec![(0, 10, vec![7; 32])];
        let now = now_ns();
        // Changed within the margin before the entry was written: not trusted.
        cache.record(&stamp(now - RACY_MARGIN_NS / 2), "sha256", &d);
        assert!(cache
            .lookup(&stamp(now - RACY_MARGIN_NS / 2), "sha256")
            .is_none());
        // Settled long before: trusted, for the same label and stamp only.
        let old = now - 10 * RACY_MARGIN_NS;
        cache.record(&stamp(old), "sha256", &d);
        assert_eq!(cache.lookup(&stamp(old), "sha256"), Some(d.clone()));
        assert!(cache.lookup(&stamp(old), "blake3").is_none());
        assert!(cache.lookup(&stamp(old + 1), "sha256").is_none());
        let mut other_ctime = stamp(old);
        other_ctime.ctime_ns += 1;
        assert!(cache.lookup(&other_ctime, "sha256").is_none());
        cache.save().unwrap();
        // Read back from disk by a fresh cache.
        let again = DigestCache::at(dir.path().join("c"));
        assert_eq!(again.lookup(&stamp(old), "sha256"), Some(d));
    }

    #[test]
    fn cache_files_writable_by_others_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DigestCache::at(dir.path());
        let old = now_ns() - 10 * RACY_MARGIN_NS;
        cache.record(&stamp(old), "sha256", &vec![(0, 10, vec![7; 32])]);
        cache.save().unwrap();
        let file = dir.path().join(DigestCache::file_name(1, "sha256"));
        assert_eq!(
            fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        fs::set_permissions(&file, fs::Permissions::from_mode(0o666)).unwrap();
        assert!(DigestCache::at(dir.path())
            .lookup(&stamp(old), "sha256")
            .is_none());
    }
}
