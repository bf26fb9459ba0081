//! A model repository on the Hugging Face Hub, at one commit, read from its metadata.
//!
//! Files stored with LFS (or Xet) are entries whose SHA-256 comes from the tree listing:
//! nothing is downloaded for them. Small regular files are fetched into memory and checked
//! against their git blob id before they are hashed. A signature that needs the content
//! of large files (shards, BLAKE2, BLAKE3) cannot be checked this way; the entries say
//! which command downloads and verifies instead.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::hub::api::{HubClient, RemoteFile, MAX_REGULAR_FILE};
use crate::hub::RepoId;
use crate::ignore::IgnoreRules;
use crate::source::{Content, Entry, Listing, ModelSource};

/// A Hub model repository at a resolved commit.
pub struct HubSource {
    client: Arc<HubClient>,
    repo: RepoId,
    commit: String,
    files: Vec<RemoteFile>,
    downloaded: AtomicU64,
}

impl HubSource {
    /// Resolves `revision` (branch, tag or commit) and lists the repository at that commit.
    pub fn open(client: Arc<HubClient>, repo: RepoId, revision: &str) -> Result<Self> {
        let commit = client.resolve_revision(&repo, revision)?;
        let files = client.list_files(&repo, &commit)?;
        Ok(HubSource {
            client,
            repo,
            commit,
            files,
            downloaded: AtomicU64::new(0),
        })
    }

    /// The commit every read refers to.
    pub fn commit(&self) -> &str {
        &self.commit
    }

    /// The repository.
    pub fn repo(&self) -> &RepoId {
        &self.repo
    }

    /// Every file of the listing, ignored or not.
    pub fn files(&self) -> &[RemoteFile] {
        &self.files
    }

    /// The files the rules do not ignore.
    pub fn kept_files(&self, rules: &IgnoreRules) -> Vec<RemoteFile> {
        self.files
            .iter()
            .filter(|f| !is_ignored(rules, f.path.as_str()))
            .cloned()
            .collect()
    }

    /// Bytes fetched from the Hub so far (signature and small files; never LFS content).
    pub fn bytes_downloaded(&self) -> u64 {
        self.downloaded.load(Ordering::Relaxed)
    }

    /// Fetches a file of at most `limit` bytes at the commit, counting what was downloaded.
    pub fn fetch(&self, path: &str, limit: u64) -> Result<Option<Vec<u8>>> {
        let got = self
            .client
            .fetch_small(&self.repo, &self.commit, path, limit)?;
        if let Some(b) = &got {
            self.downloaded.fetch_add(b.len() as u64, Ordering::Relaxed);
        }
        Ok(got)
    }

    fn download_hint(&self) -> String {
        format!(
            "the Hub's metadata gives only a SHA-256 per file, and this signature needs the file contents (shard serialization or a BLAKE hash); download and verify with `msign hub download {} --revision {}` and the same key flags",
            self.repo, self.commit
        )
    }

    fn fetch_checked(&self, f: &RemoteFile) -> Result<Vec<u8>> {
        if f.size > MAX_REGULAR_FILE {
            return Err(Error::Other(format!(
                "{}@{}: {} is listed as a regular (non-LFS) file of {} bytes, more than the Hub stores that way",
                self.repo, self.commit, f.path, f.size
            )));
        }
        let bytes = self.fetch(f.path.as_str(), f.size)?.ok_or_else(|| {
            Error::Other(format!(
                "{}@{}: {} is in the listing but the Hub has no such file",
                self.repo, self.commit, f.path
            ))
        })?;
        let mut git = openssl::sha::Sha1::new();
        git.update(format!("blob {}\0", bytes.len()).as_bytes());
        git.update(&bytes);
        if bytes.len() as u64 != f.size || hex::encode(git.finish()) != f.blob_id {
            return Err(Error::Other(format!(
                "{}@{}: {}: the bytes served differ from the Hub's own listing (size or git blob id)",
                self.repo, self.commit, f.path
            )));
        }
        Ok(bytes)
    }
}

/// Whether a listed file is ignored: itself, or any folder above it.
fn is_ignored(rules: &IgnoreRules, path: &str) -> bool {
    let mut end = 0;
    while let Some(i) = path[end..].find('/') {
        end += i;
        if rules.is_ignored(&path[..end], true) {
            return true;
        }
        end += 1;
    }
    rules.is_ignored(path, false)
}

impl ModelSource for HubSource {
    fn model_name(&self) -> String {
        self.repo.name().to_string()
    }

    fn list(&self, rules: &IgnoreRules) -> Result<Listing> {
        let mut listing = Listing::default();
        let mut seen = HashSet::new();
        for f in self.kept_files(rules) {
            if !seen.insert(f.path.as_str().to_ascii_lowercase()) {
                listing.warnings.push(format!(
                    "{}: another file differs only in case; a case-insensitive filesystem would merge them",
                    f.path
                ));
            }
            let entry = match (&f.sha256, &f.xet_hash) {
                (Some(d), _) => Entry {
                    path: f.path.clone(),
                    size: f.size,
                    content: Content::Unavailable {
                        hint: self.download_hint(),
                    },
                    known_sha256: Some(*d),
                },
                (None, Some(_)) => Entry {
                    path: f.path.clone(),
                    size: f.size,
                    content: Content::Unavailable {
                        hint: format!(
                            "the Hub lists a Xet file without its SHA-256; {}",
                            self.download_hint()
                        ),
                    },
                    known_sha256: None,
                },
                (None, None) => {
                    let bytes = self.fetch_checked(&f)?;
                    Entry {
                        path: f.path.clone(),
                        size: f.size,
                        content: Content::Bytes(Arc::from(bytes)),
                        known_sha256: None,
                    }
                }
            };
            listing.entries.push(entry);
        }
        Ok(listing)
    }

    fn read_small_file(&self, path: &str) -> Result<Option<Vec<u8>>> {
        match self.files.iter().find(|f| f.path.as_str() == path) {
            Some(f) if f.sha256.is_none() && f.size <= 1 << 20 => self.fetch_checked(f).map(Some),
            _ => Ok(None),
        }
    }

    fn describe(&self) -> String {
        format!("Hub model {}@{}", self.repo, self.commit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignored_folders_hide_their_files() {
        let mut rules = IgnoreRules::new().with_git_paths();
        rules.add_path("model.sig").unwrap();
        assert!(is_ignored(&rules, ".git/config"));
        assert!(is_ignored(&rules, "model.sig"));
        assert!(!is_ignored(&rules, "a/model.sig"));
        assert!(!is_ignored(&rules, "config.json"));
    }
}
