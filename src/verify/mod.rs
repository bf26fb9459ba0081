//! Verification, the mirror of signing: check the bundle cryptographically, rebuild the
//! signed manifest from its statement, hash the model the way the statement says, compare.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::bundle::{statement, Bundle, PAYLOAD_TYPE};
use crate::error::{Error, Result};
use crate::hash::{Hashed, HashingConfig, Progress};
use crate::ignore::{IgnoreRules, GIT_PATHS};
use crate::manifest::Manifest;
use crate::source::ModelSource;

pub mod certificate;
pub mod key;
pub mod own;
pub mod sigstore;

pub use certificate::CertificateVerifier;
pub use key::KeyVerifier;

// The diff is the payload of `Error::ModelMismatch`, so it lives with the error type.
pub use crate::error::{ManifestDiff, Mismatch};

/// Bundle media types accepted for model signatures.
pub const ACCEPTED_MEDIA_TYPES: [&str; 4] = [
    "application/vnd.dev.sigstore.bundle.v0.3+json",
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
];

/// The statement a verifier vouches for.
#[derive(Debug, Clone)]
pub struct VerifiedStatement {
    /// The statement bytes, authenticated.
    pub payload: Vec<u8>,
    /// Who signed, in words ("key e845...", "certificate CN=...").
    pub signer: String,
    /// Things the user should know (old signature format, ...).
    pub warnings: Vec<String>,
}

/// Checks a bundle's signature and returns the statement it protects.
pub trait BundleVerifier: Send + Sync {
    /// Verifies everything cryptographic about the bundle.
    fn verify(&self, bundle: &Bundle) -> Result<VerifiedStatement>;

    /// The method name used on the command line.
    fn method(&self) -> &'static str;
}

/// Checks that apply to every bundle before any key is tried.
pub(crate) fn check_envelope(bundle: &Bundle) -> Result<(Vec<u8>, Vec<u8>)> {
    if !ACCEPTED_MEDIA_TYPES.contains(&bundle.media_type.as_str()) {
        return Err(Error::MalformedSignature(format!(
            "unsupported bundle media type '{}'",
            bundle.media_type
        )));
    }
    let (env, payload, sig) = bundle.dsse()?;
    if env.payload_type != PAYLOAD_TYPE {
        return Err(Error::MalformedSignature(format!(
            "payload type is '{}', expected '{PAYLOAD_TYPE}'",
            env.payload_type
        )));
    }
    Ok((payload, sig))
}

/// A manifest whose signature has been verified (the model not yet).
#[derive(Debug, Clone)]
pub struct SignedManifest {
    /// The signed manifest.
    pub manifest: Manifest,
    /// Who signed.
    pub signer: String,
    /// Warnings from the verifier.
    pub warnings: Vec<String>,
}

/// A successful verification.
#[derive(Debug)]
pub struct Verified {
    /// The signed manifest.
    pub manifest: Manifest,
    /// The model as hashed now.
    pub hashed: Hashed,
    /// Who signed.
    pub signer: String,
    /// Warnings from the verifier and the source.
    pub warnings: Vec<String>,
}

/// How to verify a model. Mirrors `model_signing.verifying.Config`.
pub struct VerifyingConfig {
    verifier: Box<dyn BundleVerifier>,
    hashing: Option<HashingConfig>,
    extra_rules: IgnoreRules,
    ignore_git_paths: bool,
    ignore_unsigned_files: bool,
    allow_symlinks: bool,
    cache: Option<std::sync::Arc<crate::hash::cache::DigestCache>>,
}

impl VerifyingConfig {
    /// Verify with the given verifier; hashing follows the signed statement.
    pub fn new(verifier: Box<dyn BundleVerifier>) -> Self {
        VerifyingConfig {
            verifier,
            hashing: None,
            extra_rules: IgnoreRules::new(),
            ignore_git_paths: true,
            ignore_unsigned_files: false,
            allow_symlinks: false,
            cache: None,
        }
    }

    /// Skip re-hashing files whose digest cache entry matches (and record new ones).
    pub fn set_digest_cache(
        mut self,
        cache: Option<std::sync::Arc<crate::hash::cache::DigestCache>>,
    ) -> Self {
        self.cache = cache;
        self
    }

    /// Verify against an EC public key (PEM).
    pub fn use_elliptic_key_verifier(public_key: &Path) -> Result<Self> {
        Ok(Self::new(Box::new(KeyVerifier::from_pem_file(public_key)?)))
    }

    /// Verify a certificate chain against these root certificates (PEM files);
    /// the system's roots when empty.
    pub fn use_certificate_verifier(roots: &[PathBuf]) -> Result<Self> {
        Ok(Self::new(Box::new(CertificateVerifier::from_root_files(
            roots,
        )?)))
    }

    /// Hash with this configuration instead of the one the statement records.
    pub fn set_hashing_config(mut self, hashing: HashingConfig) -> Self {
        self.hashing = Some(hashing);
        self
    }

    /// Ignore more paths than the statement records (`--ignore-paths`, the signature file).
    pub fn add_ignore_rules(mut self, rules: &IgnoreRules) -> Result<Self> {
        self.extra_rules.extend(rules)?;
        Ok(self)
    }

    /// Ignore the reference's git paths (default), except those the signature covers.
    pub fn set_ignore_git_paths(mut self, yes: bool) -> Self {
        self.ignore_git_paths = yes;
        self
    }

    /// Follow symbolic links even if the signature was made without them.
    pub fn set_allow_symlinks(mut self, yes: bool) -> Self {
        self.allow_symlinks = yes;
        self
    }

    /// Only hash the files the signature names; other files are not an error.
    pub fn set_ignore_unsigned_files(mut self, yes: bool) -> Self {
        self.ignore_unsigned_files = yes;
        self
    }

    /// Verifies the signature bytes and then the model.
    pub fn verify(
        &self,
        source: &dyn ModelSource,
        signature: &[u8],
        progress: &dyn Progress,
    ) -> Result<Verified> {
        let signed = self.verify_signature(signature)?;
        self.verify_model(signed, source, progress)
    }

    /// Step one: verifies only the signature and returns the signed manifest.
    pub fn verify_signature(&self, signature: &[u8]) -> Result<SignedManifest> {
        let bundle = Bundle::from_json(signature)?;
        let verified = self.verifier.verify(&bundle)?;
        let manifest = statement::from_payload(&verified.payload)?;
        Ok(SignedManifest {
            manifest,
            signer: verified.signer,
            warnings: verified.warnings,
        })
    }

    /// Step two: hashes the model as the signed statement says and compares.
    pub fn verify_model(
        &self,
        signed: SignedManifest,
        source: &dyn ModelSource,
        progress: &dyn Progress,
    ) -> Result<Verified> {
        let SignedManifest {
            manifest,
            signer,
            mut warnings,
        } = signed;
        let hashing = self.hashing_for(&manifest)?;
        let hashed = hashing.hash_with_progress(source, progress)?;
        warnings.extend(hashed.warnings.iter().cloned());
        // Signed files are always hashed (see `hashing_for`), but what the user leaves out
        // now (`--ignore-paths`) stays out, as in model_signing: a signed file ignored at
        // verification is reported missing.
        let diff = if self.extra_rules.is_empty() {
            ManifestDiff::between(&manifest.resources, &hashed.manifest.resources)
        } else {
            let actual = hashed
                .manifest
                .resources
                .iter()
                .filter(|(k, _)| !self.extra_rules.is_ignored(k.path().as_str(), false))
                .map(|(k, d)| (k.clone(), d.clone()))
                .collect();
            ManifestDiff::between(&manifest.resources, &actual)
        };
        if !diff.is_empty() {
            return Err(Error::ModelMismatch(diff));
        }
        Ok(Verified {
            manifest,
            hashed,
            signer,
            warnings,
        })
    }

    /// The hashing configuration that reproduces `manifest` on a model.
    pub fn hashing_for(&self, manifest: &Manifest) -> Result<HashingConfig> {
        let mut hashing = match &self.hashing {
            Some(h) => h.clone(),
            None => HashingConfig::from_serialization(&manifest.serialization)?,
        };
        let mut rules = self.extra_rules.clone();
        if self.ignore_git_paths {
            // A signature made with --no-ignore-git-paths names these files; hashing them
            // then is what the signer meant, so only the unsigned ones are ignored.
            for p in GIT_PATHS {
                let signed = manifest.resources.keys().any(|k| {
                    k.path().as_str() == p || k.path().as_str().starts_with(&format!("{p}/"))
                });
                if !signed {
                    rules.add_path(p)?;
                }
            }
        }
        rules.keep(manifest.resources.keys().map(|k| k.path().as_str()));
        let allow = hashing.allow_symlinks() || self.allow_symlinks;
        hashing = hashing
            .set_digest_cache(self.cache.clone())
            .set_ignore_git_paths(false)
            .set_allow_symlinks(allow)
            .add_rules(&rules)?;
        if self.ignore_unsigned_files {
            let names: BTreeSet<_> = manifest
                .resources
                .keys()
                .map(|k| k.path().clone())
                .collect();
            hashing = hashing.restrict_to(names);
        }
        Ok(hashing)
    }

    /// The method of the configured verifier.
    pub fn method(&self) -> &'static str {
        self.verifier.method()
    }
}
