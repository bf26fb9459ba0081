//! A model repository on the Hugging Face Hub, at one commit, read from its metadata.
//!
//! Files stored with LFS (or Xet) are entries whose SHA-256 comes from the tree listing:
//! nothing is downloaded for them. Small regular files are fetched when they are hashed,
//! one at a time per worker, and held to their git blob id as they stream. To verify, the
//! listing is compared with the signature as it arrives ([`HubSource::list_signed`]): files
//! the signature does not name are counted, never fetched. A signature that needs the content
//! of large files (shards, BLAKE2, BLAKE3) cannot be checked this way; the entries say
//! which command downloads and verifies instead.

use std::collections::HashSet;
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::hub::api::{HubClient, RemoteFile, MAX_REGULAR_FILE};
use crate::hub::RepoId;
use crate::ignore::{IgnoreRules, Ignored};
use crate::manifest::{Manifest, Method};
use crate::source::{Content, Entry, Listing, ModelSource};

/// Names of unsigned files kept for the report; the rest are only counted.
const UNSIGNED_NAMES_KEPT: usize = 1000;

/// Files of a listing that the signature does not name and no rule leaves out.
#[derive(Debug, Default, Clone)]
pub struct Unsigned {
    /// The first ones, by name (at most 1000: a hostile listing can name millions).
    pub names: Vec<String>,
    /// How many there are in all.
    pub count: usize,
}

/// A Hub model repository at a resolved commit.
pub struct HubSource {
    client: Arc<HubClient>,
    repo: RepoId,
    commit: String,
    files: Vec<RemoteFile>,
    unsigned: Unsigned,
    downloaded: Arc<AtomicU64>,
}

impl HubSource {
    /// Resolves `revision` (branch, tag or commit) and lists the whole repository at that
    /// commit (to sign it).
    pub fn open(client: Arc<HubClient>, repo: RepoId, revision: &str) -> Result<Self> {
        let mut source = Self::resolve(client, repo, revision)?;
        source.files = source.client.list_files(&source.repo, &source.commit)?;
        Ok(source)
    }

    /// Resolves `revision` and lists nothing yet: to verify, fetch the signature first,
    /// then [`HubSource::list_signed`].
    pub fn resolve(client: Arc<HubClient>, repo: RepoId, revision: &str) -> Result<Self> {
        let commit = client.resolve_revision(&repo, revision)?;
        Ok(HubSource {
            client,
            repo,
            commit,
            files: Vec::new(),
            unsigned: Unsigned::default(),
            downloaded: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Lists the repository keeping only the files `manifest` signs; the others are
    /// counted in [`HubSource::unsigned`] unless `rules` leave them out. The listing is
    /// compared with the signature as it streams in, so what a server lists beyond the
    /// signed files costs neither memory nor requests for their content.
    pub fn list_signed(&mut self, manifest: &Manifest, rules: &IgnoreRules) -> Result<()> {
        let signed: HashSet<&str> = manifest
            .resources
            .keys()
            .map(|k| k.path().as_str())
            .collect();
        // Shard serialization gives an empty file no resource: it has nothing to check.
        let shards = matches!(manifest.serialization.method, Method::Shards { .. });
        let what = format!("listing {}@{}", self.repo, self.commit);
        let mut files = Vec::new();
        let mut seen = HashSet::new();
        let mut unsigned = Unsigned::default();
        self.client.for_each_file(&self.repo, &self.commit, |f| {
            if signed.contains(f.path.as_str()) || (shards && f.size == 0) {
                if !seen.insert(f.path.as_str().to_string()) {
                    return Err(Error::Other(format!(
                        "{what}: the listing names {} twice",
                        f.path
                    )));
                }
                files.push(f);
            } else if !is_ignored(rules, f.path.as_str()) {
                unsigned.count += 1;
                if unsigned.names.len() < UNSIGNED_NAMES_KEPT {
                    unsigned.names.push(f.path.to_string());
                }
            }
            Ok(())
        })?;
        self.files = files;
        self.unsigned = unsigned;
        Ok(())
    }

    /// Listed files the signature does not name (after [`HubSource::list_signed`]).
    pub fn unsigned(&self) -> &Unsigned {
        &self.unsigned
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

    fn check_regular_size(&self, f: &RemoteFile) -> Result<()> {
        if f.size > MAX_REGULAR_FILE {
            return Err(Error::Other(format!(
                "{}@{}: {} is listed as a regular (non-LFS) file of {} bytes, more than the Hub stores that way",
                self.repo, self.commit, f.path, f.size
            )));
        }
        Ok(())
    }

    /// Opens a regular file's content on demand, when the hashing engine reads it: files
    /// are fetched one at a time per worker rather than all held in memory at once, and
    /// the bytes are held to the listing's size and git blob id as they stream.
    fn opener(&self, f: &RemoteFile) -> crate::source::OpenFn {
        let client = self.client.clone();
        let repo = self.repo.clone();
        let commit = self.commit.clone();
        let downloaded = self.downloaded.clone();
        let f = f.clone();
        Arc::new(move || {
            let d = client
                .open_file(&repo, &commit, f.path.as_str(), 0)
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            Ok(Box::new(BlobCheck::new(d.body, &f, downloaded.clone())) as Box<dyn Read + Send>)
        })
    }

    fn fetch_checked(&self, f: &RemoteFile) -> Result<Vec<u8>> {
        self.check_regular_size(f)?;
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

/// A regular file's bytes as they arrive, checked against the listing: no more than its
/// size, and on the last byte, its git blob id.
struct BlobCheck {
    inner: Box<dyn Read + Send + Sync>,
    path: String,
    size: u64,
    blob_id: String,
    got: u64,
    git: Option<openssl::sha::Sha1>,
    downloaded: Arc<AtomicU64>,
}

impl BlobCheck {
    fn new(inner: Box<dyn Read + Send + Sync>, f: &RemoteFile, downloaded: Arc<AtomicU64>) -> Self {
        let mut git = openssl::sha::Sha1::new();
        git.update(format!("blob {}\0", f.size).as_bytes());
        BlobCheck {
            inner,
            path: f.path.to_string(),
            size: f.size,
            blob_id: f.blob_id.clone(),
            got: 0,
            git: Some(git),
            downloaded,
        }
    }
}

impl Read for BlobCheck {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let differs = || {
            std::io::Error::other(format!(
                "{}: the bytes served differ from the Hub's own listing (size or git blob id)",
                self.path
            ))
        };
        let room = usize::try_from(self.size - self.got).unwrap_or(usize::MAX);
        // One byte more than the listed size is asked for, to notice a longer answer.
        let want = buf.len().min(room.saturating_add(1));
        let n = self.inner.read(&mut buf[..want])?;
        if n > room {
            return Err(differs());
        }
        self.got += n as u64;
        self.downloaded.fetch_add(n as u64, Ordering::Relaxed);
        if let Some(g) = self.git.as_mut() {
            g.update(&buf[..n]);
        }
        if self.got == self.size {
            if let Some(g) = self.git.take() {
                if hex::encode(g.finish()) != self.blob_id {
                    return Err(differs());
                }
            }
        }
        Ok(n)
    }
}

/// Whether a listed file is ignored: itself, or any folder above it.
fn is_ignored(rules: &IgnoreRules, path: &str) -> bool {
    ignoring_rule(rules, path).is_some()
}

/// The rule that leaves a listed file out, through itself or a folder above it.
fn ignoring_rule<'r>(rules: &'r IgnoreRules, path: &str) -> Option<&'r str> {
    let mut end = 0;
    while let Some(i) = path[end..].find('/') {
        end += i;
        if let Some(rule) = rules.ignored_by(&path[..end], true) {
            return Some(rule);
        }
        end += 1;
    }
    rules.ignored_by(path, false)
}

impl ModelSource for HubSource {
    fn model_name(&self) -> String {
        self.repo.name().to_string()
    }

    fn list(&self, rules: &IgnoreRules) -> Result<Listing> {
        let mut listing = Listing {
            ignored: self
                .files
                .iter()
                .filter_map(|f| {
                    ignoring_rule(rules, f.path.as_str()).map(|rule| Ignored {
                        path: f.path.to_string(),
                        rule: rule.to_string(),
                    })
                })
                .collect(),
            ..Listing::default()
        };
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
                    self.check_regular_size(&f)?;
                    Entry {
                        path: f.path.clone(),
                        size: f.size,
                        content: Content::Stream(self.opener(&f)),
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
