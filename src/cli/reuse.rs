//! `msign sign --reuse`, `--no-cache`, `--from-manifest`: signing without re-hashing
//! what has not changed, or without hashing at all.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;

use crate::error::{Error, Result};
use crate::hash::cache::{DigestCache, PreviousSignature};
use crate::hash::HashingConfig;
use crate::manifest::Manifest;
use crate::sign::key::load_private_key;
use crate::store::{FileStore, SignatureStore};
use crate::verify::own::OwnKeyVerifier;
use crate::verify::VerifyingConfig;

/// Options that let signing skip hashing.
#[derive(Debug, Args, Clone, Default)]
pub struct ReuseArgs {
    /// Reuse digests: from a previous signature of this model (it must verify with the
    /// signing key; files changed after it was written are re-hashed), or from a digest
    /// cache folder.
    #[arg(long, value_name = "SIG_OR_CACHE")]
    pub reuse: Option<PathBuf>,

    /// Do not read or write the local digest cache ($XDG_CACHE_HOME/msign).
    #[arg(long = "no-cache")]
    pub no_cache: bool,

    /// Sign this manifest (as `msign digest --json` writes it) instead of hashing the model.
    #[arg(long = "from-manifest", value_name = "MANIFEST_JSON", conflicts_with_all = ["reuse"])]
    pub from_manifest: Option<PathBuf>,
}

impl ReuseArgs {
    /// Plugs the digest cache and the previous signature into `hashing`. `key` is the
    /// signing key (path, password) when the method has one.
    pub fn apply(
        &self,
        mut hashing: HashingConfig,
        key: Option<(&Path, Option<&str>)>,
    ) -> Result<HashingConfig> {
        let mut cache = None;
        if let Some(path) = &self.reuse {
            if path.is_dir() {
                cache = Some(Arc::new(DigestCache::at(path)));
            } else {
                let (key_path, password) = key.ok_or_else(|| {
                    Error::Usage(
                        "--reuse SIGNATURE needs a signing method with a private key".into(),
                    )
                })?;
                let private = load_private_key(key_path, password)?;
                let verifier = OwnKeyVerifier::from_private(&private)?;
                let bytes = FileStore::new(path).load()?;
                let signed = VerifyingConfig::new(Box::new(verifier))
                    .verify_signature(&bytes)
                    .map_err(|e| Error::Usage(format!("--reuse {}: {e}", path.display())))?;
                hashing = hashing.set_previous_signature(Some(Arc::new(PreviousSignature::new(
                    signed.manifest,
                    path,
                )?)));
            }
        }
        if cache.is_none() && !self.no_cache {
            cache = Some(Arc::new(DigestCache::user_default()?));
        }
        Ok(hashing.set_digest_cache(cache))
    }
}

/// Reads and checks several manifest files.
pub fn read_manifests(paths: &[PathBuf]) -> Result<Vec<Manifest>> {
    paths
        .iter()
        .map(|p| crate::workflow::read_manifest_file(p))
        .collect()
}
