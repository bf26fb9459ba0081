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

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename, so
/// a crash or a full disk never leaves a half-written file under the final name.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_as(path, bytes, None, true)
}

/// As [`write_atomic`], with the new file's permission bits (`mode`, less the umask; the
/// temporary file's 0600 when `None`), and unless `replace`, refusing an existing `path`
/// (error kind `AlreadyExists`) without a window in which it could be replaced.
pub fn write_atomic_as(path: &Path, bytes: &[u8], mode: Option<u32>, replace: bool) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".msign-").suffix(".tmp");
    if let Some(mode) = mode {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(fs::Permissions::from_mode(mode));
    }
    let mut tmp = builder.tempfile_in(dir).map_err(|e| Error::io(dir, e))?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| Error::io(tmp.path().to_path_buf(), e))?;
    if replace {
        tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    } else {
        tmp.persist_noclobber(path)
            .map_err(|e| Error::io(path, e.error))?;
    }
    Ok(())
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
