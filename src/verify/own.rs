//! Verifying a signature against the signer's own key, whatever method carried it.
//!
//! Used before a previous signature's digests are reused (`msign sign --reuse SIG`): the
//! signature must have been made by the key that is about to sign again. A key bundle and
//! a certificate bundle are both checked against the public half of that private key (for a
//! certificate signer, the leaf certificate holds that very key), so no trust anchor beyond
//! the key itself is needed.

use openssl::pkey::{PKey, Public};

use crate::bundle::Bundle;
use crate::error::{Error, Result};
use crate::sign::key::key_hint;
use crate::verify::key::verify_dsse;
use crate::verify::{check_envelope, BundleVerifier, VerifiedStatement};

/// Verifies bundles signed by one key pair.
pub struct OwnKeyVerifier {
    key: PKey<Public>,
    hint: String,
}

impl OwnKeyVerifier {
    /// The verifier for signatures made with `private`.
    pub fn from_private(private: &PKey<openssl::pkey::Private>) -> Result<Self> {
        let der = private
            .public_key_to_der()
            .map_err(|e| Error::Other(format!("cannot derive the public key: {e}")))?;
        let key = PKey::public_key_from_der(&der)
            .map_err(|e| Error::Other(format!("cannot derive the public key: {e}")))?;
        let hint = key_hint(&key)?;
        Ok(OwnKeyVerifier { key, hint })
    }
}

impl BundleVerifier for OwnKeyVerifier {
    fn verify(&self, bundle: &Bundle) -> Result<VerifiedStatement> {
        let (payload, sig) = check_envelope(bundle)?;
        if !verify_dsse(
            &self.key,
            &payload,
            &sig,
            Some(openssl::hash::MessageDigest::sha256()),
        )? {
            return Err(Error::InvalidSignature(format!(
                "the previous signature was not made with this signing key ({})",
                self.hint
            )));
        }
        Ok(VerifiedStatement {
            payload,
            signer: format!("key {}", self.hint),
            warnings: Vec::new(),
        })
    }

    fn method(&self) -> &'static str {
        "own-key"
    }
}
