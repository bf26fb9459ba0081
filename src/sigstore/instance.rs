//! Choosing a Sigstore instance: which trusted root to check against and, for signing,
//! which Fulcio, Rekor and timestamp authority to use. The embedded public-good root is
//! the default; staging, a client trust configuration, a bare trusted root or a fresh TUF
//! update replace it.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::sigstore::signing_config::Endpoints;
use crate::sigstore::{tuf, TrustedRoot};

/// Where a TUF update of the trusted root comes from.
#[derive(Debug, Clone, Default)]
pub struct TufSource {
    /// The repository (default: public-good's, or staging's on the staging instance).
    pub url: Option<String>,
    /// The initial `root.json` of a repository that is neither public-good nor staging.
    pub root: Option<PathBuf>,
}

impl TufSource {
    /// Runs a TUF update against this repository, caching metadata in msign's cache.
    pub fn update(&self, use_staging: bool) -> Result<tuf::Update> {
        let repo = tuf::Repository::choose(use_staging, self.url.as_deref(), self.root.as_deref())?;
        tuf::update(&repo, &repo.default_cache_dir()?)
    }
}

/// A Sigstore instance, as `--use-staging`, `--trust-config`, `--trusted-root` and
/// `--update-trust-root` choose it; the default is the embedded public-good instance.
#[derive(Debug, Clone, Default)]
pub struct Instance {
    /// Sigstore's staging instance instead of public-good.
    pub use_staging: bool,
    /// A client trust configuration (or bare trusted root) naming the instance.
    pub trust_config: Option<PathBuf>,
    /// A `trusted_root.json` to trust (verification only).
    pub trusted_root: Option<PathBuf>,
    /// Refresh the trusted root over TUF before use.
    pub tuf: Option<TufSource>,
}

impl Instance {
    /// The trusted root to verify against: refreshed over TUF when asked, else the trusted
    /// root or trust configuration given, else the embedded staging or public-good root.
    pub fn trusted_root(&self) -> Result<TrustedRoot> {
        if let Some(tuf) = &self.tuf {
            if self.trusted_root.is_some() || self.trust_config.is_some() {
                return Err(Error::Usage(
                    "--update-trust-root fetches the trusted root over TUF; it cannot be combined with --trusted-root or --trust-config".into(),
                ));
            }
            return Ok(tuf.update(self.use_staging)?.trusted_root);
        }
        match (&self.trusted_root, &self.trust_config) {
            (Some(_), Some(_)) => Err(Error::Usage(
                "give either --trusted-root or --trust-config, not both".into(),
            )),
            (Some(p), None) | (None, Some(p)) => {
                if self.use_staging {
                    return Err(Error::Usage(
                        "--use-staging selects a built-in trust root; it cannot be combined with a trust file".into(),
                    ));
                }
                TrustedRoot::from_file(p)
            }
            (None, None) if self.use_staging => TrustedRoot::staging(),
            (None, None) => TrustedRoot::public_good(),
        }
    }

    /// What signing needs: the trusted root to check the new bundle against and the
    /// services to sign with. One TUF update, when asked, gives both.
    pub fn signing(&self) -> Result<(TrustedRoot, Endpoints)> {
        if let Some(tuf) = &self.tuf {
            let update = tuf.update(self.use_staging)?;
            let endpoints = match &update.signing_config_json {
                Some(bytes) => Endpoints::from_json(bytes)?,
                None if tuf.url.is_some() => {
                    return Err(Error::Usage(format!(
                        "the TUF repository {} lists no {}: msign cannot tell which Fulcio and Rekor to sign with",
                        update.repository,
                        tuf::SIGNING_CONFIG
                    )))
                }
                None if self.use_staging => Endpoints::staging()?,
                None => Endpoints::public_good()?,
            };
            return Ok((update.trusted_root, endpoints));
        }
        let trust = Instance {
            trusted_root: None,
            ..self.clone()
        }
        .trusted_root()?;
        let endpoints = match self.trust_config.as_deref() {
            Some(p) => Endpoints::from_file(p)?,
            None if self.use_staging => Endpoints::staging()?,
            None => Endpoints::public_good()?,
        };
        Ok((trust, endpoints))
    }
}

/// A TUF metadata file's version and expiry.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MetadataVersion {
    /// Its version.
    pub version: u64,
    /// Its expiry as written (RFC 3339).
    pub expires: String,
}

/// What a refresh of the trusted root verified (`msign sigstore update-trust-root`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct TrustRootUpdated {
    /// Always `updated`.
    pub status: &'static str,
    /// The TUF repository.
    pub repository: String,
    /// The newest trusted root metadata.
    pub root: MetadataVersion,
    /// The timestamp metadata.
    pub timestamp: MetadataVersion,
    /// The snapshot metadata.
    pub snapshot: MetadataVersion,
    /// The targets metadata.
    pub targets: MetadataVersion,
    /// SHA-256 (hex) of the verified `trusted_root.json`.
    pub trusted_root_sha256: String,
    /// SHA-256 (hex) of the verified signing config, when the repository lists one.
    pub signing_config_sha256: Option<String>,
    /// Where the trusted root was written.
    pub output: Option<PathBuf>,
}

/// Refreshes the trusted root over TUF and writes it to `output` (atomically) when given.
pub fn update_trust_root(
    source: &TufSource,
    use_staging: bool,
    output: Option<&std::path::Path>,
) -> Result<TrustRootUpdated> {
    use sha2::{Digest as _, Sha256};
    let u = source.update(use_staging)?;
    if let Some(out) = output {
        tuf::write_atomic(out, &u.trusted_root_json)?;
    }
    let meta = |version: u64, expires: &str| MetadataVersion {
        version,
        expires: expires.to_string(),
    };
    Ok(TrustRootUpdated {
        status: "updated",
        root: meta(u.root_version, &u.root_expires),
        timestamp: meta(u.timestamp_version, &u.timestamp_expires),
        snapshot: meta(u.snapshot_version, &u.snapshot_expires),
        targets: meta(u.targets_version, &u.targets_expires),
        trusted_root_sha256: hex::encode(Sha256::digest(&u.trusted_root_json)),
        signing_config_sha256: u
            .signing_config_json
            .as_ref()
            .map(|b| hex::encode(Sha256::digest(b))),
        output: output.map(|p| p.to_path_buf()),
        repository: u.repository,
    })
}
