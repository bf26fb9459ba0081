//! The Hugging Face cache layout, shared with `huggingface_hub` and `transformers`:
//!
//! ```text
//! $HF_HUB_CACHE/models--org--name/
//!   blobs/<etag>                  file content, named by SHA-256 (LFS) or git blob id
//!   refs/<branch or tag>          the commit the name pointed at
//!   snapshots/<commit>/<path>     relative symbolic links into blobs/
//! ```

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::hub::{check_revision, is_commit_id, RepoId};
use crate::manifest::ModelPath;
pub use crate::source::spec::blobs_of_snapshot;
use crate::store::file::write_atomic;

/// One repository's folder in the cache.
#[derive(Debug, Clone)]
pub struct CachedRepo {
    root: PathBuf,
}

impl CachedRepo {
    /// The folder of `repo` under the cache root.
    pub fn new(cache_dir: &Path, repo: &RepoId) -> Self {
        CachedRepo {
            root: cache_dir.join(repo.cache_folder()),
        }
    }

    /// `models--org--name/`.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `blobs/`.
    pub fn blobs(&self) -> PathBuf {
        self.root.join("blobs")
    }

    /// `blobs/<etag>`; the etag must be a hex digest.
    pub fn blob(&self, etag: &str) -> Result<PathBuf> {
        if etag.is_empty() || etag.len() > 128 || !etag.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::Other(format!("{etag:?} cannot name a cache blob")));
        }
        Ok(self.blobs().join(etag))
    }

    /// `snapshots/<commit>/`.
    pub fn snapshot(&self, commit: &str) -> Result<PathBuf> {
        if !is_commit_id(commit) {
            return Err(Error::Other(format!("{commit:?} is not a commit id")));
        }
        Ok(self.root.join("snapshots").join(commit))
    }

    /// The commit a revision names in the cache: itself when it is a commit id, else what
    /// `refs/<revision>` holds.
    pub fn commit_of(&self, revision: &str) -> Result<String> {
        check_revision(revision)?;
        if is_commit_id(revision) {
            return Ok(revision.to_string());
        }
        let path = self.root.join("refs").join(revision);
        let text = fs::read_to_string(&path).map_err(|e| {
            Error::Other(format!(
                "{}: revision {revision:?} is not in the Hub cache ({e}); download it first with `msign hub download`",
                path.display()
            ))
        })?;
        let commit = text.trim();
        if !is_commit_id(commit) {
            return Err(Error::Other(format!(
                "{}: does not hold a commit id",
                path.display()
            )));
        }
        Ok(commit.to_string())
    }

    /// Records that `revision` pointed at `commit`.
    pub fn write_ref(&self, revision: &str, commit: &str) -> Result<()> {
        check_revision(revision)?;
        if is_commit_id(revision) {
            return Ok(());
        }
        let path = self.root.join("refs").join(revision);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        write_atomic(&path, commit.as_bytes())
    }

    /// Points `snapshots/<commit>/<path>` at `blobs/<etag>` with a relative link, replacing
    /// whatever was there in one rename.
    pub fn link(&self, commit: &str, path: &ModelPath, etag: &str) -> Result<PathBuf> {
        let snap = self.snapshot(commit)?;
        let dest = snap.join(path.as_str());
        let parent = dest.parent().unwrap_or(&snap).to_path_buf();
        fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
        let depth = path.as_str().split('/').count() - 1;
        let mut target = PathBuf::from("../..");
        for _ in 0..depth {
            target.push("..");
        }
        target.push("blobs");
        target.push(etag);
        let tmp = parent.join(format!(
            ".{}.msign-link",
            dest.file_name().and_then(|n| n.to_str()).unwrap_or("file")
        ));
        let _ = fs::remove_file(&tmp);
        std::os::unix::fs::symlink(&target, &tmp).map_err(|e| Error::io(&tmp, e))?;
        fs::rename(&tmp, &dest).map_err(|e| Error::io(&dest, e))?;
        Ok(dest)
    }
}

/// Splits `org/name@rev` into the repository and the revision (`main` when absent).
pub fn parse_repo_at(spec: &str) -> Result<(RepoId, String)> {
    let (repo, rev) = match spec.split_once('@') {
        Some((r, v)) => (r, v.to_string()),
        None => (spec, "main".to_string()),
    };
    check_revision(&rev)?;
    Ok((RepoId::parse(repo)?, rev))
}
