//! Public keys of logs and authorities, and signature checks with them.

use openssl::hash::MessageDigest;
use openssl::pkey::{Id, PKey, PKeyRef, Public};
use openssl::sign::Verifier;

use crate::error::{Error, Result};

/// Parses a SubjectPublicKeyInfo (DER), as trusted roots carry log keys.
pub fn key_from_spki(der: &[u8], what: &str) -> Result<PKey<Public>> {
    PKey::public_key_from_der(der).map_err(|e| Error::KeyMaterial {
        what: what.into(),
        reason: format!("not a DER public key: {e}"),
    })
}

/// The key's SubjectPublicKeyInfo DER.
pub fn spki_der(key: &PKeyRef<Public>) -> Result<Vec<u8>> {
    key.public_key_to_der()
        .map_err(|e| Error::Other(format!("cannot encode public key: {e}")))
}

/// The digest an ECDSA or RSA signature by this key uses (by curve size, as Sigstore's
/// key details pair them); `None` for Ed25519, which signs the message itself.
fn digest_for(key: &PKeyRef<Public>) -> Option<MessageDigest> {
    match key.id() {
        Id::ED25519 => None,
        Id::EC => match key.bits() {
            0..=256 => Some(MessageDigest::sha256()),
            257..=384 => Some(MessageDigest::sha384()),
            _ => Some(MessageDigest::sha512()),
        },
        _ => Some(MessageDigest::sha256()),
    }
}

/// True when `sig` is `key`'s signature over `msg`. Malformed signatures are just invalid.
pub fn verify_signature(key: &PKeyRef<Public>, msg: &[u8], sig: &[u8]) -> Result<bool> {
    let err =
        |e: openssl::error::ErrorStack| Error::Other(format!("verification could not run: {e}"));
    match digest_for(key) {
        None => {
            let mut v = Verifier::new_without_digest(key).map_err(err)?;
            Ok(v.verify_oneshot(sig, msg).unwrap_or(false))
        }
        Some(md) => {
            let mut v = Verifier::new(md, key).map_err(err)?;
            v.update(msg).map_err(err)?;
            Ok(v.verify(sig).unwrap_or(false))
        }
    }
}
