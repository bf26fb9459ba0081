//! Verification, the mirror of signing: check the bundle cryptographically, rebuild the
//! signed manifest from its statement, hash the model the way the statement says, compare.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::bundle::{statement, Bundle, PAYLOAD_TYPE};
use crate::error::{Error, Result};
use crate::hash::{Hashed, HashingConfig, Progress};
use crate::ignore::{origin, IgnoreRules, GIT_PATHS};
use crate::manifest::Manifest;
use crate::source::ModelSource;

pub mod certificate;
pub mod key;
pub mod own;
pub mod sigstore;
pub mod spec;

pub use certificate::CertificateVerifier;
pub use key::KeyVerifier;
pub use spec::{MethodKind, VerifierChoice, VerifierSpec};

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

/// The method a bundle was signed with, judged by its verification material: a
/// transparency-log entry means Sigstore, a key hint the key method, a chain without a log
/// entry the certificate method.
fn signed_with(bundle: &Bundle) -> Option<&'static str> {
    let m = &bundle.verification_material;
    if !m.tlog_entries.is_empty() || m.certificate.is_some() {
        Some("sigstore")
    } else if m.public_key.is_some() {
        Some("key")
    } else if m.x509_certificate_chain.is_some() {
        Some("certificate")
    } else {
        None
    }
}

/// Refuses a bundle made with another method than `expected`, naming the method that
/// made it and the command that verifies it, instead of failing on a missing field.
pub(crate) fn check_method(bundle: &Bundle, expected: &str) -> Result<()> {
    let (made, how) = match signed_with(bundle) {
        Some(m) if m == expected => return Ok(()),
        None => return Ok(()),
        Some("key") => (
            match bundle
                .verification_material
                .public_key
                .as_ref()
                .and_then(|k| k.hint.as_deref())
            {
                Some(h) => format!("a key (hint {h})"),
                None => "a key".to_string(),
            },
            "`verify key --public-key KEY`",
        ),
        Some("certificate") => (
            "a certificate chain".to_string(),
            "`verify certificate --certificate-chain ROOT`",
        ),
        Some(_) => (
            "Sigstore".to_string(),
            "`verify sigstore --identity ID --identity-provider URL`",
        ),
    };
    if made == "a certificate chain" && expected == "sigstore" {
        // A Sigstore bundle stripped of its log entry looks the same: say both.
        return Err(Error::InvalidSignature(format!(
            "the bundle has a certificate chain but no transparency-log entry: it was made \
             with the certificate method, not with Sigstore (or its log entry was removed); \
             verify a certificate signature with {how}"
        )));
    }
    let expected = match expected {
        "key" => "a key",
        "certificate" => "a certificate chain",
        _ => "Sigstore",
    };
    Err(Error::InvalidSignature(format!(
        "this signature was made with {made}, not with {expected}; verify it with {how}"
    )))
}

/// Refuses a statement that covers nothing (OMS v1.0, §5.2.1: at least one resource), or
/// whose recorded ignore rules leave out any name (`*`, `**`, `?*`, ...) or every file it
/// signed: such a signature verifies models it never saw.
pub fn check_coverage(manifest: &Manifest) -> Result<()> {
    if manifest.resources.is_empty() {
        return Err(Error::MalformedSignature(
            "the statement lists no resource: a signature that covers no file would verify \
             any model"
                .into(),
        ));
    }
    let recorded = &manifest.serialization.ignore_paths;
    let rules = IgnoreRules::from_recorded(recorded.iter().map(String::as_str))?;
    if rules.is_catch_all() {
        return Err(Error::MalformedSignature(format!(
            "the recorded ignore rules {recorded:?} leave out every file name: such a \
             signature would verify any extra content"
        )));
    }
    if manifest
        .resources
        .keys()
        .all(|k| rules.is_ignored(k.path().as_str(), false))
    {
        return Err(Error::MalformedSignature(format!(
            "the recorded ignore rules {recorded:?} leave out every file the statement \
             lists: the signature contradicts itself"
        )));
    }
    Ok(())
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

/// The differing files that are the Git LFS pointer of exactly the signed content: the
/// pointer's oid is the SHA-256 that was signed. Such a file is not tampered with, its
/// content was never fetched, and the user needs `git lfs pull`, not `--ignore-paths`.
/// Only SHA-256 file digests can be matched to a pointer this way; a few hundred files are
/// looked at, at most 1 KiB each.
fn lfs_pointers_of_signed_content(diff: &ManifestDiff, source: &dyn ModelSource) -> Vec<String> {
    diff.mismatched
        .iter()
        .filter(|m| m.expected.starts_with("sha256:"))
        .take(500)
        .filter(|m| {
            let Ok(Some(bytes)) = source.read_small_file(&m.name) else {
                return false;
            };
            crate::source::lfs::Pointer::parse(&bytes)
                .is_ok_and(|p| m.expected == format!("sha256:{}", p.oid_hex()))
        })
        .map(|m| m.name.clone())
        .collect()
}

/// How to verify a model. Mirrors `model_signing.verifying.Config`. Cloning shares the
/// verifier: one config can check several candidate signatures, each with its own
/// ignore rules (a git revision's tree file and its notes).
#[derive(Clone)]
pub struct VerifyingConfig {
    verifier: std::sync::Arc<dyn BundleVerifier>,
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
            verifier: verifier.into(),
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
        check_coverage(&manifest)?;
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
        check_coverage(&manifest)?;
        let hashing = self.hashing_for(&manifest)?;
        let hashed = hashing.hash_with_progress(source, progress)?;
        warnings.extend(hashed.warnings.iter().cloned());
        warnings.extend(self.unchecked_warnings(&hashed));
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
            let mut diff = diff;
            diff.lfs_pointers = lfs_pointers_of_signed_content(&diff, source);
            return Err(Error::ModelMismatch(diff));
        }
        Ok(Verified {
            manifest,
            hashed,
            signer,
            warnings,
        })
    }

    /// Names what is in the model but left out, unchecked, by the signature's own ignore
    /// rules: those rules were the signer's choice, and a file they hide may be one an
    /// attacker added or edited. The git paths and what the verifier itself leaves out
    /// (`--ignore-paths`, the signature file) are expected and not named.
    fn unchecked_warnings(&self, hashed: &Hashed) -> Vec<String> {
        let expected = |path: &str| {
            let is_dir = path.ends_with('/');
            let path = path.trim_end_matches('/');
            self.extra_rules.is_ignored(path, is_dir)
                || GIT_PATHS
                    .iter()
                    .any(|g| path == *g || path.starts_with(&format!("{g}/")))
        };
        hashed
            .ignore_rules
            .iter()
            .filter(|r| r.origin == origin::RECORDED)
            .filter_map(|r| {
                let names: Vec<&str> = r
                    .left_out
                    .iter()
                    .map(String::as_str)
                    .filter(|p| !expected(p))
                    .collect();
                (!names.is_empty()).then(|| {
                    format!(
                        "not checked, left out by the signature's ignore rule {:?}: {}",
                        r.rule,
                        crate::ignore::shorten(&names)
                    )
                })
            })
            .collect()
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
