//! Sigstore's trust model, implemented check by check.
//!
//! A Sigstore bundle is trusted when its short-lived Fulcio certificate chains to a
//! certificate authority of the trusted root ([`fulcio`]), carries a signed certificate
//! timestamp from a trusted CT log ([`sct`]), names the expected identity and OIDC issuer
//! ([`fulcio`]), and its signature was recorded in a trusted transparency log ([`tlog`],
//! [`merkle`], [`checkpoint`]) while the certificate was valid, as a signed entry timestamp
//! or an RFC 3161 timestamp ([`timestamp`]) attests. Every check is a named function
//! returning a [`crate::Error`] that says which one failed; [`verify::verify_bundle`] runs
//! them all.
//!
//! The public-good trusted root ships inside the binary ([`TrustedRoot::public_good`]);
//! private instances are described by a `trusted_root.json` or a ClientTrustConfig
//! ([`trust`], [`signing_config`]), or refreshed over TUF ([`tuf`]). Signing talks to the services with [`client`], after
//! getting an identity token from [`oidc`] or [`oauth`].

pub mod checkpoint;
pub mod client;
pub mod client_v2;
pub(crate) mod der;
pub mod fulcio;
pub mod keys;
pub mod merkle;
pub mod oauth;
pub mod oidc;
pub mod sct;
pub mod signing_config;
pub mod time;
pub mod timestamp;
pub mod tlog;
pub mod tlog_v2;
pub mod trust;
pub mod tuf;
pub mod verify;

pub use trust::{CertificateAuthority, TransparencyLog, TrustedRoot};

use crate::error::Error;

pub(crate) fn invalid(msg: impl Into<String>) -> Error {
    Error::InvalidSignature(msg.into())
}

pub(crate) fn malformed(msg: impl Into<String>) -> Error {
    Error::MalformedSignature(msg.into())
}
