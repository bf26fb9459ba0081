//! Sigstore: msign's glue around the sigstore-rust crates.
//!
//! sigstore-verify checks a bundle (the Fulcio chain, the SCT, the identity and issuer,
//! the signature, the transparency-log entry with its inclusion proof, checkpoint and
//! signed entry timestamp, the RFC 3161 timestamps) against a trusted root parsed by
//! sigstore-trust-root ([`verify`], [`trust`]); sigstore-sign signs keyless through
//! Fulcio, Rekor v1 or v2 and a timestamp authority ([`crate::sign::sigstore`]). Both run on
//! OpenSSL ([`provider`]). msign keeps what is its own: choosing the instance
//! ([`signing_config`], [`trust`]), the identity token ([`oidc`], [`oauth`]), the TUF
//! refresh of the trusted root ([`tuf`]), and two shims for Rekor v2 entries the crate
//! refuses: the `dsse/0.0.2` entries of earlier msign builds ([`verify::legacy_dsse_v2`]),
//! and `hashedrekord/0.0.2` entries whose digest follows a key other than P-256
//! ([`rekor_v2_digest`]).
//!
//! The public-good trusted root ships inside the binary ([`TrustedRoot::public_good`]).

pub mod artifact;
pub mod instance;
pub mod oauth;
pub mod oidc;
pub mod provider;
pub mod rekor_v2_digest;
pub mod signing_config;
pub mod time;
pub mod trust;
pub mod tuf;
pub mod verify;

pub use artifact::{verify_bundle, BundleReport, BundleRequest, Expected};
pub use instance::{update_trust_root, Instance, TrustRootUpdated, TufSource};
pub use trust::TrustedRoot;

use crate::error::{Error, Result};

pub(crate) fn invalid(msg: impl Into<String>) -> Error {
    Error::InvalidSignature(msg.into())
}

pub(crate) fn malformed(msg: impl Into<String>) -> Error {
    Error::MalformedSignature(msg.into())
}

/// Runs one future of the (async) sigstore-rust crates to completion on a current-thread
/// runtime, so the rest of msign stays synchronous.
pub(crate) fn block_on<F: std::future::Future>(f: F) -> Result<F::Output> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Other(format!("cannot start the Sigstore client runtime: {e}")))?;
    Ok(rt.block_on(f))
}
