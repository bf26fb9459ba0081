//! A signature file on disk, written atomically.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::bundle::MAX_BUNDLE_BYTES;
use crate::error::{Error, Result};
use crate::store::SignatureStore;

/// A signature file (`model.sig` by default).
#[derive(Debug, Clone)]
pub struct FileStore {
    path: PathBuf,
}

impl FileStore {
    /// The file at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileStore { path: path.into() }
    }

    /// The path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Mode asked for files other people and tools read (signatures, manifests, the Hub
/// cache's refs): the umask then makes it `0666 & ~umask`, as `cp` or `git` would.
pub const SHARED_FILE_MODE: u32 = 0o666;

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so
/// a crash or a full disk never leaves a half-written file under the final name. The file
/// gets [`SHARED_FILE_MODE`] less the umask: a signature is public.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_as(path, bytes, SHARED_FILE_MODE, true)
}

/// [`write_atomic`] creating the file with `mode` (less the umask) instead; `0o600` for
/// files only their owner may read.
pub fn write_atomic_mode(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    write_atomic_as(path, bytes, mode, true)
}

/// As [`write_atomic_mode`], and unless `replace`, refusing an existing `path` (error kind
/// `AlreadyExists`) without a window in which it could be replaced.
pub fn write_atomic_as(path: &Path, bytes: &[u8], mode: u32, replace: bool) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = folder_of(path);
    // tempfile creates 0600 unless told otherwise; the mode given here goes to open(2),
    // so the umask applies as it does for any other tool.
    let mut tmp = tempfile::Builder::new()
        .prefix(".msign-")
        .suffix(".tmp")
        .permissions(fs::Permissions::from_mode(mode))
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, std::io::Error::new(e.kind(), folder_refuses(&e))))?;
    // The temporary file is gone once this fails: the file wanted is what to name.
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| Error::io(path, e))?;
    if replace {
        tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    } else {
        tmp.persist_noclobber(path)
            .map_err(|e| Error::io(path, e.error))?;
    }
    Ok(())
}

/// Why a folder took no new file, and what to do. tempfile's own error names the random
/// temporary file it tried, which tells the user nothing, so only the kind is kept.
fn folder_refuses(e: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::NotFound => {
            "the folder does not exist; create it first, or give a path in an existing folder"
                .into()
        }
        ErrorKind::NotADirectory => {
            "not a folder (or a file is on its path); give a path in an existing folder".into()
        }
        kind => format!(
            "the folder does not take new files ({}); give a path in a writable folder",
            std::io::Error::from(kind)
        ),
    }
}

/// The folder a file at `path` goes into (`.` for a bare name).
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Checks that a signature can be written at `path` before any work is done for it, so
/// that a large model is not hashed only for the write to fail: its folder exists and
/// takes a new file (tried for real, since mode bits do not tell about read-only mounts
/// or ACLs), and `path` is not itself a folder.
pub fn check_writable(path: &Path) -> Result<()> {
    let dir = folder_of(path);
    let cannot = |why: String| {
        Error::Other(format!(
            "cannot write the signature to {}: {why}",
            path.display()
        ))
    };
    match fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(cannot(format!(
                "{} is not a folder; give a path in an existing folder",
                dir.display()
            )))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(cannot(format!(
                "the folder {} does not exist; create it first, or give another path",
                dir.display()
            )))
        }
        Err(e) => return Err(Error::io(dir, e)),
    }
    if fs::metadata(path).is_ok_and(|m| m.is_dir()) {
        return Err(cannot("that is a folder; name a file in it".into()));
    }
    tempfile::Builder::new()
        .prefix(".msign-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| cannot(format!("{}: {}", dir.display(), folder_refuses(&e))))?;
    Ok(())
}

/// Creates the folder `root/rel` one component at a time and returns it, refusing to pass
/// through anything below `root` that is not a real folder. A symbolic link planted there
/// (`sub -> ../outside`) would otherwise carry writes out of `root`. `root` itself is the
/// caller's choice and may be a link.
pub fn create_dirs_below(root: &Path, rel: &Path) -> Result<PathBuf> {
    use std::path::Component;
    let mut cur = root.to_path_buf();
    fs::create_dir_all(root).map_err(|e| Error::io(root, e))?;
    for c in rel.components() {
        let Component::Normal(name) = c else {
            return Err(Error::UnsupportedEntry {
                path: root.join(rel),
                reason: "not a plain path below the destination folder; refused".into(),
            });
        };
        cur.push(name);
        match fs::create_dir(&cur) {
            Ok(()) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io(&cur, e)),
        }
        let meta = fs::symlink_metadata(&cur).map_err(|e| Error::io(&cur, e))?;
        if !meta.is_dir() {
            let what = if meta.file_type().is_symlink() {
                "is a symbolic link"
            } else {
                "is not a folder"
            };
            return Err(Error::UnsupportedEntry {
                path: cur,
                reason: format!(
                    "{what}; msign does not write through it, so nothing lands outside {} (remove it, or download into an empty folder)",
                    root.display()
                ),
            });
        }
    }
    Ok(cur)
}

/// Reads a file of at most [`MAX_BUNDLE_BYTES`].
pub fn read_limited(path: &Path) -> Result<Vec<u8>> {
    let f = fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut out = Vec::new();
    f.take(MAX_BUNDLE_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|e| Error::io(path, e))?;
    if out.len() as u64 > MAX_BUNDLE_BYTES {
        return Err(Error::MalformedSignature(format!(
            "{} is larger than 256 MiB",
            path.display()
        )));
    }
    Ok(out)
}

impl SignatureStore for FileStore {
    fn save(&self, bundle: &[u8]) -> Result<String> {
        write_atomic(&self.path, bundle)?;
        Ok(self.describe())
    }

    fn load(&self) -> Result<Vec<u8>> {
        read_limited(&self.path)
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
    }
}
