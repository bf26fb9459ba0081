//! The one error type of the library.
//!
//! Variants say *where* something went wrong (a path, a field of the signature) and the
//! CLI maps each family to an exit code, so scripts can tell a tampered model from a typo.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

/// Everything that can go wrong while hashing, signing or verifying a model.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O error on a named path.
    #[error("{path}: {source}")]
    Io {
        /// The path being read or written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// The model contains something msign refuses to hash (a symlink without
    /// `--allow-symlinks`, a link escaping the model, a socket, ...).
    #[error("{path}: {reason}")]
    UnsupportedEntry {
        /// The offending path.
        path: PathBuf,
        /// Why it was refused and what to do about it.
        reason: String,
    },

    /// Content the serialization needs is not available from the source
    /// (e.g. a Git LFS object that was never fetched).
    #[error("content not available for {}: {hint}", names.join(", "))]
    ContentUnavailable {
        /// Model-relative names of the missing entries.
        names: Vec<String>,
        /// The command or step that makes the content available.
        hint: String,
    },

    /// A file changed size or content while it was being hashed.
    #[error("{path}: file changed while it was being hashed; run again once it is stable")]
    ChangedWhileHashing {
        /// The file.
        path: PathBuf,
    },

    /// Key or certificate material given by the user cannot be used.
    #[error("{what}: {reason}")]
    KeyMaterial {
        /// Which input (file path or flag).
        what: String,
        /// Why it cannot be used.
        reason: String,
    },

    /// The signature file is not a signature msign understands: malformed JSON,
    /// missing fields, unsupported media type, inconsistent statement.
    #[error("malformed signature: {0}")]
    MalformedSignature(String),

    /// The signature does not verify cryptographically (wrong key, bad chain, tampered payload).
    #[error("signature verification failed: {0}")]
    InvalidSignature(String),

    /// The signature is valid but the model on disk differs from what was signed.
    #[error("model does not match its signature:\n{0}")]
    ModelMismatch(ManifestDiff),

    /// A configuration or argument that cannot work.
    #[error("{0}")]
    Usage(String),

    /// Refreshing the Sigstore trusted root over TUF failed: the repository could not be
    /// reached, or what it served does not verify (signatures, rollback, expiry, hashes).
    #[error("trusted root update over TUF failed: {0}")]
    TrustUpdate(String),

    /// Any other failure with a message that already says what to do.
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// Wraps an I/O error with the path it happened on.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// True when the error means "this signature or model must not be trusted",
    /// as opposed to a problem running the tool.
    pub fn is_verification_failure(&self) -> bool {
        matches!(
            self,
            Error::MalformedSignature(_) | Error::InvalidSignature(_) | Error::ModelMismatch(_)
        )
    }

    /// The process exit status that reports this error: 1 verification failed, 2 usage
    /// (bad flags, unusable key or certificate files), 3 anything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            _ if self.is_verification_failure() => 1,
            Error::Usage(_) | Error::KeyMaterial { .. } => 2,
            _ => 3,
        }
    }

    /// A short machine-readable name for the error's kind (`kind` in `--json` output).
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Io { .. } => "io",
            Error::UnsupportedEntry { .. } => "unsupported_entry",
            Error::ContentUnavailable { .. } => "content_unavailable",
            Error::ChangedWhileHashing { .. } => "changed_while_hashing",
            Error::KeyMaterial { .. } => "key_material",
            Error::MalformedSignature(_) => "malformed_signature",
            Error::InvalidSignature(_) => "invalid_signature",
            Error::ModelMismatch(_) => "model_mismatch",
            Error::Usage(_) => "usage",
            Error::TrustUpdate(_) => "trust_update",
            Error::Other(_) => "other",
        }
    }

    /// What the user can do about the error, when there is something to say.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Error::ModelMismatch(d) if !d.lfs_pointers.is_empty() => Some("Git LFS content is missing from this checkout (pointer files in its place): run `git lfs pull`, then verify again; or verify the git revision, which needs no LFS content, with `msign verify ... --git-rev HEAD` or `git model-sign verify`"),
            Error::ModelMismatch(_) => Some("the model changed after signing, or it was signed with other ignore rules (--ignore-paths)"),
            Error::InvalidSignature(m) if m.contains("another key") => Some("check --public-key: it must pair with the key that signed"),
            Error::InvalidSignature(m) if m.contains("not in the trusted root") => Some("signed on another Sigstore instance? give its --trust-config or --trusted-root, or --use-staging"),
            _ => None,
        }
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How the model differs from what was signed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ManifestDiff {
    /// Signed resources absent from the model.
    pub missing: Vec<String>,
    /// Resources in the model that were not signed.
    pub extra: Vec<String>,
    /// Unsigned resources beyond those named in `extra`, when there were too many to
    /// name (a Hub listing can name millions).
    #[serde(skip_serializing_if = "is_zero")]
    pub extra_not_named: usize,
    /// Resources whose digest differs.
    pub mismatched: Vec<Mismatch>,
    /// Of `mismatched`, the files that are the Git LFS pointer of exactly the signed
    /// content (a checkout made with `GIT_LFS_SKIP_SMUDGE=1`, or before `git lfs pull`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lfs_pointers: Vec<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// One resource whose digest differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    /// Resource name.
    pub name: String,
    /// Signed digest (`alg:hex`).
    pub expected: String,
    /// Digest of the model on disk.
    pub actual: String,
}

impl ManifestDiff {
    /// No difference at all.
    pub fn is_empty(&self) -> bool {
        self.missing.is_empty()
            && self.extra.is_empty()
            && self.extra_not_named == 0
            && self.mismatched.is_empty()
    }
}

impl fmt::Display for ManifestDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 20;
        let list = |f: &mut fmt::Formatter<'_>,
                    title: &str,
                    items: &[String],
                    unnamed: usize|
         -> fmt::Result {
            if items.is_empty() && unnamed == 0 {
                return Ok(());
            }
            writeln!(f, "  {title} ({}):", items.len() + unnamed)?;
            for i in items.iter().take(SHOWN) {
                writeln!(f, "    {i}")?;
            }
            if items.len() > SHOWN {
                writeln!(
                    f,
                    "    ... and {} more (--json lists {})",
                    items.len() + unnamed - SHOWN,
                    if unnamed == 0 { "all" } else { "more" }
                )?;
            }
            Ok(())
        };
        list(f, "signed but missing from the model", &self.missing, 0)?;
        list(
            f,
            "in the model but not signed",
            &self.extra,
            self.extra_not_named,
        )?;
        if !self.mismatched.is_empty() {
            writeln!(f, "  content differs ({}):", self.mismatched.len())?;
            for m in self.mismatched.iter().take(SHOWN) {
                writeln!(
                    f,
                    "    {}\n      expected {}\n      actual   {}",
                    m.name, m.expected, m.actual
                )?;
            }
            if self.mismatched.len() > SHOWN {
                writeln!(
                    f,
                    "    ... and {} more (--json lists all)",
                    self.mismatched.len() - SHOWN
                )?;
            }
        }
        if !self.lfs_pointers.is_empty() {
            writeln!(
                f,
                "  of these, {} are Git LFS pointer files standing for exactly the signed content, not the content: run `git lfs pull` in the checkout, or verify the git revision with --git-rev HEAD",
                self.lfs_pointers.len()
            )?;
        }
        Ok(())
    }
}
