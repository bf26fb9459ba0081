//! Signing: from a manifest to a signature bundle.
//!
//! A [`Signer`] turns statement bytes into a bundle; [`SigningConfig`] mirrors
//! `model_signing.signing.Config` and chains hashing, statement and signer.

use std::path::{Path, PathBuf};

use crate::bundle::{statement, Bundle};
use crate::error::{Error, Result};
use crate::hash::{Hashed, HashingConfig, Progress};
use crate::manifest::Manifest;
use crate::source::ModelSource;

pub mod certificate;
pub mod key;
pub mod keygen;
pub mod password;
pub mod pkcs11;
pub mod sigstore;
pub mod spec;

pub use certificate::CertificateSigner;
pub use key::KeySigner;
pub use pkcs11::Pkcs11Signer;
pub use spec::{CertificateFiles, KeyFile, Pkcs11Key, SignerSpec, SigstoreSigning};

/// Something that can sign an in-toto statement (a key, a certificate, Sigstore, a token).
pub trait Signer: Send + Sync {
    /// Signs the statement bytes and returns the bundle that carries them.
    fn sign(&self, payload: &[u8]) -> Result<Bundle>;

    /// The method name used on the command line (`key`, `certificate`, ...).
    fn method(&self) -> &'static str;
}

/// A signer from PEM files: the private key alone (`key` method), or with its signing
/// certificate and intermediates (`certificate` method) when `certificate` is given.
pub fn signer_from_files(
    private_key: &Path,
    password: Option<&str>,
    certificate: Option<(&Path, &[PathBuf])>,
) -> Result<Box<dyn Signer>> {
    Ok(match certificate {
        None => Box::new(KeySigner::from_pem_file(private_key, password)?),
        Some((leaf, chain)) => Box::new(CertificateSigner::from_files(
            private_key,
            password,
            leaf,
            chain,
        )?),
    })
}

/// What signing produced.
#[derive(Debug)]
pub struct Signed {
    /// The bundle to store.
    pub bundle: Bundle,
    /// The hashed model.
    pub hashed: Hashed,
}

/// How to sign a model. Mirrors `model_signing.signing.Config`.
pub struct SigningConfig {
    hashing: HashingConfig,
    signer: Option<Box<dyn Signer>>,
}

impl Default for SigningConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl SigningConfig {
    /// Default hashing, no signer yet.
    pub fn new() -> Self {
        SigningConfig {
            hashing: HashingConfig::new(),
            signer: None,
        }
    }

    /// Replaces the hashing configuration.
    pub fn set_hashing_config(mut self, hashing: HashingConfig) -> Self {
        self.hashing = hashing;
        self
    }

    /// The hashing configuration in use.
    pub fn hashing_config(&self) -> &HashingConfig {
        &self.hashing
    }

    /// Sign with an EC private key (PEM).
    pub fn use_elliptic_key_signer(
        self,
        private_key: &Path,
        password: Option<&str>,
    ) -> Result<Self> {
        Ok(self.use_signer(Box::new(KeySigner::from_pem_file(private_key, password)?)))
    }

    /// Sign with a key, its certificate and the chain up to (not necessarily including) a root.
    pub fn use_certificate_signer(
        self,
        private_key: &Path,
        password: Option<&str>,
        signing_certificate: &Path,
        certificate_chain: &[PathBuf],
    ) -> Result<Self> {
        let signer = CertificateSigner::from_files(
            private_key,
            password,
            signing_certificate,
            certificate_chain,
        )?;
        Ok(self.use_signer(Box::new(signer)))
    }

    /// Sign with any signer.
    pub fn use_signer(mut self, signer: Box<dyn Signer>) -> Self {
        self.signer = Some(signer);
        self
    }

    fn signer(&self) -> Result<&dyn Signer> {
        self.signer
            .as_deref()
            .ok_or_else(|| Error::Usage("no signing method configured".into()))
    }

    /// Signs an already computed manifest. A manifest without any resource is refused: its
    /// signature would vouch for nothing, and verify any model (OMS v1.0, §6.1).
    pub fn sign_manifest(&self, manifest: &Manifest) -> Result<Bundle> {
        if manifest.resources.is_empty() {
            return Err(nothing_to_sign(&manifest.model_name, ""));
        }
        self.signer()?.sign(&statement::to_payload(manifest))
    }

    /// Hashes and signs a model.
    pub fn sign(&self, source: &dyn ModelSource, progress: &dyn Progress) -> Result<Signed> {
        self.signer()?;
        let hashed = self.hashing.hash_with_progress(source, progress)?;
        if hashed.manifest.resources.is_empty() {
            let left_out: Vec<&str> = hashed
                .ignore_rules
                .iter()
                .flat_map(|r| r.left_out.iter().map(String::as_str))
                .collect();
            let why = if left_out.is_empty() {
                String::new()
            } else {
                format!(
                    "; the ignore rules left out {}",
                    crate::ignore::shorten(&left_out)
                )
            };
            return Err(nothing_to_sign(&source.describe(), &why));
        }
        let bundle = self.sign_manifest(&hashed.manifest)?;
        Ok(Signed { bundle, hashed })
    }
}

fn nothing_to_sign(what: &str, why: &str) -> Error {
    Error::Usage(format!(
        "nothing to sign in {what}: no file to cover (an empty folder, every file ignored, \
         or only empty files cut into shards){why}; a signature must cover at least one file"
    ))
}
