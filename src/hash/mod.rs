//! Hashing: from a model source to a [`Manifest`].
//!
//! [`HashingConfig`] mirrors `model_signing.hashing.Config`: a serialization method (files
//! or shards), a hash algorithm, ignore rules and the symlink policy.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::hash::cache::{DigestCache, PreviousSignature};
use crate::ignore::{origin, IgnoreRules, RuleUse, IGNORE_FILE};
use crate::manifest::{HashAlgorithm, Manifest, Method, ModelPath, Serialization};
use crate::source::ModelSource;

pub(crate) mod algorithm;
pub mod cache;
mod engine;
pub mod options;
mod prefetch;
mod sha256;
mod window;

pub use options::HashOptions;

/// Receives progress while content is hashed. Implementations must be cheap: `advance`
/// is called from every worker thread for every buffer.
pub trait Progress: Sync {
    /// Hashing starts; `total` bytes will be reported through `advance`.
    fn start(&self, _total: u64) {}
    /// `bytes` more bytes were hashed (or taken from a known digest).
    fn advance(&self, bytes: u64);
    /// Hashing is done.
    fn finish(&self) {}
    /// True when the caller wants hashing stopped (Ctrl-C seen by a front end that cannot
    /// take the signal itself, like the Python binding). Checked by every worker before
    /// each window, so hashing ends with an error ("hashing interrupted") within one
    /// window.
    fn cancelled(&self) -> bool {
        false
    }
    /// Something the user should see before the result, as soon as it is known (the work
    /// may still fail after it). Dropped by default; `msign` prints it on stderr.
    fn notice(&self, _notice: &Notice) {}
}

/// What a workflow tells its user before its result, through [`Progress::notice`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Notice {
    /// A warning: a request that does not do what it seems to (an ignored path outside
    /// the model leaves nothing out).
    Warning(String),
    /// The SHA-256 fingerprint of a trusted root certificate, announced when asked for
    /// ([`crate::workflow::VerifyRequest::log_fingerprints`]) before the chain is checked.
    Fingerprint(String),
    /// A signature is written and the work goes on (`msign hub sign --upload` commits it
    /// next, which may fail): the ignore rules applied and the line the report's summary
    /// would give, said now so that a failure after it does not hide them.
    Signed {
        /// What the signature says was signed, in one line.
        summary: String,
        /// Every ignore rule applied, where it came from and what it left out.
        ignore_rules: Vec<RuleUse>,
    },
}

/// Progress that goes nowhere.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn advance(&self, _bytes: u64) {}
}

/// The result of hashing a model.
#[derive(Debug)]
pub struct Hashed {
    /// The manifest.
    pub manifest: Manifest,
    /// Things the user may want to know (folders behind links not followed, ...).
    pub warnings: Vec<String>,
    /// Bytes covered by the manifest.
    pub bytes: u64,
    /// Files whose digests came from the digest cache or a previous signature, not hashed.
    pub reused_files: usize,
    /// Every ignore rule applied, where it came from and what it left out (as far as the
    /// source can tell: a folder reports it, a git revision or a Hub listing may not).
    pub ignore_rules: Vec<RuleUse>,
}

/// How to hash a model. Defaults match `model_signing`: file serialization, SHA-256,
/// git paths ignored, symlinks refused.
#[derive(Debug, Clone)]
pub struct HashingConfig {
    method: Method,
    hash: HashAlgorithm,
    allow_symlinks: bool,
    rules: IgnoreRules,
    ignore_git_paths: bool,
    use_ignore_file: bool,
    only: Option<BTreeSet<ModelPath>>,
    cache: Option<Arc<DigestCache>>,
    previous: Option<Arc<PreviousSignature>>,
}

impl Default for HashingConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl HashingConfig {
    /// The reference's defaults.
    pub fn new() -> Self {
        HashingConfig {
            method: Method::Files,
            hash: HashAlgorithm::Sha256,
            allow_symlinks: false,
            rules: IgnoreRules::new(),
            ignore_git_paths: true,
            use_ignore_file: false,
            only: None,
            cache: None,
            previous: None,
        }
    }

    /// One resource per file.
    pub fn use_file_serialization(mut self, hash: HashAlgorithm) -> Self {
        self.method = Method::Files;
        self.hash = hash;
        self
    }

    /// Files cut into shards of `shard_size` bytes. As in the reference, BLAKE3 is
    /// hashed per file instead (it is parallel on its own); the manifest says so.
    pub fn use_shard_serialization(mut self, hash: HashAlgorithm, shard_size: u64) -> Result<Self> {
        if shard_size == 0 {
            return Err(Error::Usage("shard size must be positive".into()));
        }
        self.method = if hash == HashAlgorithm::Blake3 {
            Method::Files
        } else {
            Method::Shards { shard_size }
        };
        self.hash = hash;
        Ok(self)
    }

    /// Follow symbolic links that stay inside the model.
    pub fn set_allow_symlinks(mut self, allow: bool) -> Self {
        self.allow_symlinks = allow;
        self
    }

    /// Whether symbolic links are followed.
    pub fn allow_symlinks(&self) -> bool {
        self.allow_symlinks
    }

    /// Ignore (default) or include `.git`, `.gitattributes`, `.github`, `.gitignore`.
    pub fn set_ignore_git_paths(mut self, ignore: bool) -> Self {
        self.ignore_git_paths = ignore;
        self
    }

    /// Ignores a literal model-relative path and everything below it.
    pub fn add_ignored_path(mut self, path: &str) -> Result<Self> {
        self.rules.add_path(path)?;
        Ok(self)
    }

    /// Ignores paths matching a `.gitignore`-style pattern.
    pub fn add_exclude(mut self, pattern: &str) -> Result<Self> {
        self.rules.add_pattern(pattern)?;
        Ok(self)
    }

    /// Adds a whole set of rules (e.g. those recorded in a signature).
    pub fn add_rules(mut self, rules: &IgnoreRules) -> Result<Self> {
        self.rules.extend(rules)?;
        Ok(self)
    }

    /// Read `.msignignore` from the model root and apply (and record) its patterns. Off by
    /// default: a file inside the model must not decide on its own what is signed. When
    /// on, the ignore file itself is always signed and what it leaves out is reported.
    pub fn use_ignore_file(mut self, yes: bool) -> Self {
        self.use_ignore_file = yes;
        self
    }

    /// Hash only these files (`--ignore-unsigned-files`): others are left out.
    pub fn restrict_to(mut self, paths: BTreeSet<ModelPath>) -> Self {
        self.only = Some(paths);
        self
    }

    /// Take digests of unchanged files from this cache, and record new ones in it.
    pub fn set_digest_cache(mut self, cache: Option<Arc<DigestCache>>) -> Self {
        self.cache = cache;
        self
    }

    /// Take digests of files unchanged since this (verified) signature was written.
    pub fn set_previous_signature(mut self, previous: Option<Arc<PreviousSignature>>) -> Self {
        self.previous = previous;
        self
    }

    /// A configuration that reproduces a signed statement's serialization.
    pub fn from_serialization(ser: &Serialization) -> Result<Self> {
        let rules = IgnoreRules::from_recorded(ser.ignore_paths.iter().map(String::as_str))?;
        let mut cfg = HashingConfig::new().set_allow_symlinks(ser.allow_symlinks);
        cfg.method = ser.method;
        cfg.hash = ser.hash;
        cfg.rules = rules;
        Ok(cfg)
    }

    /// The rules applied to `source`, and the list recorded in the statement.
    pub fn effective_rules(&self, source: &dyn ModelSource) -> Result<IgnoreRules> {
        let mut rules = if self.ignore_git_paths {
            IgnoreRules::new().with_git_paths()
        } else {
            IgnoreRules::new()
        };
        rules.extend(&self.rules)?;
        if self.use_ignore_file {
            if let Some(content) = source.read_small_file(IGNORE_FILE)? {
                let text = String::from_utf8(content)
                    .map_err(|_| Error::Usage(format!("{IGNORE_FILE} is not UTF-8 text")))?;
                rules.add_pattern_file(&text, origin::IGNORE_FILE)?;
                rules.keep([IGNORE_FILE]);
            }
        }
        Ok(rules)
    }

    /// Hashes a model.
    pub fn hash(&self, source: &dyn ModelSource) -> Result<Manifest> {
        Ok(self.hash_with_progress(source, &NoProgress)?.manifest)
    }

    /// Hashes a model, reporting progress.
    pub fn hash_with_progress(
        &self,
        source: &dyn ModelSource,
        progress: &dyn Progress,
    ) -> Result<Hashed> {
        let mut rules = self.effective_rules(source)?;
        if let Some(only) = &self.only {
            rules.keep(only.iter().map(ModelPath::as_str));
            rules.keep_only();
        }
        let mut listing = source.list(&rules)?;
        if let Some(only) = &self.only {
            listing.entries.retain(|e| only.contains(&e.path));
        }
        let ignore_rules = rules.report(&listing.ignored);
        let serialization = Serialization {
            method: self.method,
            hash: self.hash,
            allow_symlinks: self.allow_symlinks,
            ignore_paths: rules.recorded(),
        };
        let reuse = engine::Reuse {
            cache: self.cache.as_deref(),
            previous: self.previous.as_deref(),
        };
        let digests = engine::hash_entries(&listing.entries, &serialization, progress, reuse)?;
        let mut warnings = listing.warnings;
        warnings.extend(digests.warnings);
        let from_model: Vec<&str> = ignore_rules
            .iter()
            .filter(|r| r.origin == origin::IGNORE_FILE)
            .flat_map(|r| r.left_out.iter().map(String::as_str))
            .collect();
        if ignore_rules.iter().any(|r| r.origin == origin::IGNORE_FILE) {
            warnings.push(format!(
                "the model's own {IGNORE_FILE} decided what is left out (--use-ignore-file): \
                 {} path(s) left out by it{}{}; {IGNORE_FILE} itself is signed",
                from_model.len(),
                if from_model.is_empty() { "" } else { ": " },
                crate::ignore::shorten(&from_model)
            ));
        }
        Ok(Hashed {
            bytes: listing.entries.iter().map(|e| e.size).sum(),
            manifest: Manifest {
                model_name: source.model_name(),
                serialization,
                resources: digests.resources,
            },
            warnings,
            reused_files: digests.reused_files,
            ignore_rules,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// Asks to stop once anything was hashed, as a binding does on Ctrl-C.
    struct StopAfterFirstBytes(AtomicU64);

    impl Progress for StopAfterFirstBytes {
        fn advance(&self, bytes: u64) {
            self.0.fetch_add(bytes, Ordering::Relaxed);
        }
        fn cancelled(&self) -> bool {
            self.0.load(Ordering::Relaxed) > 0
        }
    }

    #[test]
    fn a_cancelled_hash_stops_early_with_an_error() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..8 {
            std::fs::write(dir.path().join(format!("f{i}")), vec![i as u8; 16 << 20]).unwrap();
        }
        let progress = StopAfterFirstBytes(AtomicU64::new(0));
        let got = HashingConfig::new()
            .hash_with_progress(&crate::DirSource::new(dir.path()), &progress)
            .unwrap_err();
        assert_eq!(got.to_string(), "hashing interrupted");
        assert!(progress.0.load(Ordering::Relaxed) < 8 * (16 << 20));
    }
}
