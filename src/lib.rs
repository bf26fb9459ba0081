//! # msign
//!
//! Signs and verifies machine-learning models. A model signature is a Sigstore bundle whose
//! DSSE envelope carries an in-toto statement listing every file (or file shard) of the
//! model with its digest, exactly as OpenSSF's `model_signing` writes it: signatures made
//! by either tool verify with the other.
//!
//! The pipeline, one module per stage: [`source`] (where content comes from) ->
//! [`ignore`] (what is left out) -> [`hash`] (digests on all cores) -> [`manifest`] ->
//! [`sign`] (key, certificate, ...) -> [`store`] (where the signature lives), and
//! [`verify`] as the mirror.
//!
//! ```no_run
//! use msign::{DirSource, HashingConfig, NoProgress, SigningConfig, VerifyingConfig};
//! # fn main() -> msign::Result<()> {
//! let model = DirSource::new("bert");
//! let signed = SigningConfig::new()
//!     .set_hashing_config(HashingConfig::new())
//!     .use_elliptic_key_signer("key.pem".as_ref(), None)?
//!     .sign(&model, &NoProgress)?;
//! let sig = signed.bundle.to_json();
//! VerifyingConfig::use_elliptic_key_verifier("key.pub".as_ref())?.verify(&model, &sig, &NoProgress)?;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

pub mod bundle;
pub mod error;
pub mod hash;
pub mod hub;
pub mod ignore;
pub mod manifest;
pub mod manifest_json;
pub mod sign;
pub mod sigstore;
pub mod source;
pub mod store;
pub mod verify;

#[doc(hidden)]
pub mod cli;
#[doc(hidden)]
pub mod fuzzing;

pub use error::{Error, Result};
pub use hash::{HashingConfig, NoProgress, Progress};
pub use manifest::{HashAlgorithm, Manifest, Method};
pub use sign::{Signer, SigningConfig};
pub use source::{DirSource, ModelSource};
pub use verify::{BundleVerifier, VerifyingConfig};
