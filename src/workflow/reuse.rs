//! Signing without re-hashing what has not changed: digests from the user's digest cache,
//! a cache folder, or a previous signature of the model that the signing key verifies.

use std::path::PathBuf;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::hash::cache::{DigestCache, PreviousSignature};
use crate::hash::HashingConfig;
use crate::sign::key::load_private_key;
use crate::sign::KeyFile;
use crate::store::{FileStore, SignatureStore};
use crate::verify::own::OwnKeyVerifier;
use crate::verify::VerifyingConfig;

/// Where digests may be reused from.
#[derive(Debug, Clone, Default)]
pub struct Reuse {
    /// A previous signature of this model (it must verify with the signing key; files
    /// changed after it was written are re-hashed), or a digest cache folder.
    pub from: Option<PathBuf>,
    /// Do not read or write the user's digest cache.
    pub no_cache: bool,
}

impl Reuse {
    /// Plugs the digest cache and the previous signature into `hashing`. `key` is the
    /// signing key, with its password resolved, when the method has one.
    pub fn apply(
        &self,
        mut hashing: HashingConfig,
        key: Option<&KeyFile>,
    ) -> Result<HashingConfig> {
        let mut cache = None;
        if let Some(path) = &self.from {
            if path.is_dir() {
                cache = Some(Arc::new(DigestCache::at(path)));
            } else {
                let key = key.ok_or_else(|| {
                    Error::Usage(
                        "--reuse SIGNATURE needs a signing method with a private key".into(),
                    )
                })?;
                let private = load_private_key(&key.path, key.password.as_deref())?;
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
