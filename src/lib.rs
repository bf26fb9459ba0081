//! # msign
//!
//! Signs and verifies machine-learning models. A model signature is a Sigstore bundle whose
//! DSSE envelope carries an in-toto statement listing every file (or file shard) of the
//! model with its digest, exactly as OpenSSF's `model_signing` writes it: signatures made
//! by either tool verify with the other.
//!
//! The pipeline, one module per stage: [`source`] (where content comes from: a folder, a
//! git revision, the Hub; [`source::open`] picks one) -> [`ignore`] (what is left out) ->
//! [`hash`] (digests on all cores) -> [`manifest`] -> [`sign`] (key, certificate, PKCS #11,
//! Sigstore) -> [`store`] (a file, a git note or commit, the Hub), and [`verify`] as the
//! mirror. [`bundle`] holds the formats, [`sigstore`] the transparency-log and trust-root
//! checks. Whole workflows are library calls with typed, serializable reports: [`git`]
//! (sign and verify a revision), [`hook`] (the pre-push hook), [`hub`] (verify, download and
//! sign a Hub repository), [`workflow`] (sign, verify and digest a model on disk),
//! [`sigstore::verify_bundle`] (any Sigstore bundle against an artifact); [`summary`] holds
//! each report's text as the commands print it. Every front end
//! picks its method the same way: [`sign::SignerSpec`] and [`verify::VerifierSpec`] name a
//! method and its inputs as data and build the signer or verifier.
//!
//! Sign the demo model shipped in `fixtures/` with a key, and verify it:
//!
//! ```
//! use msign::{DirSource, HashingConfig, NoProgress, SigningConfig, VerifyingConfig};
//! # fn main() -> msign::Result<()> {
//! let model = DirSource::new("fixtures/demo-model");
//! let signed = SigningConfig::new()
//!     .set_hashing_config(HashingConfig::new())
//!     .use_elliptic_key_signer("fixtures/keys/demo-p256.pem".as_ref(), None)?
//!     .sign(&model, &NoProgress)?;
//! let sig = signed.bundle.to_json(); // the bytes `msign sign key` writes to model.sig
//! let verified = VerifyingConfig::use_elliptic_key_verifier("fixtures/keys/demo-p256.pub".as_ref())?
//!     .verify(&model, &sig, &NoProgress)?;
//! assert_eq!(verified.manifest.file_count(), signed.hashed.manifest.file_count());
//! # Ok(()) }
//! ```
//!
//! More in `examples/`: a folder with a key, a git revision into a note, a Hub repository
//! verified before download, a Sigstore-signed model verified offline.
#![deny(missing_docs)]

pub mod bundle;
pub mod error;
pub mod git;
pub mod hash;
pub mod hook;
pub mod hub;
pub mod ignore;
pub mod manifest;
pub mod manifest_json;
pub mod net;
pub mod oci;
pub mod sign;
pub mod sigstore;
pub mod source;
pub mod store;
pub mod summary;
pub mod verify;
pub mod workflow;

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
