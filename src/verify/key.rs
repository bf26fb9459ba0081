//! Verifying signatures made with an EC key (`verify key`).

use std::fs;
use std::path::Path;

use openssl::pkey::{HasPublic, PKey, PKeyRef, Public};

use crate::bundle::{pae, pae_v0_2, Bundle, PAYLOAD_TYPE};
use crate::error::{Error, Result};
use crate::sign::key::{ec_digest, key_hint, not_a_public_key, PemContent};
use crate::verify::{check_envelope, check_method, BundleVerifier, VerifiedStatement};

/// Checks a DSSE signature over `payload` with `key`, as written since model_signing 0.3,
/// then, failing that, in model_signing 0.2's encoding with `compat_md`.
pub(crate) fn verify_dsse<T: HasPublic>(
    key: &PKeyRef<T>,
    payload: &[u8],
    sig: &[u8],
    compat_md: Option<openssl::hash::MessageDigest>,
) -> Result<bool> {
    let md = ec_digest(key).map_err(|r| Error::InvalidSignature(format!("signing key: {r}")))?;
    let check = |md, msg: &[u8]| -> Result<bool> {
        let mut v = openssl::sign::Verifier::new(md, key)
            .map_err(|e| Error::Other(format!("cannot start verification: {e}")))?;
        v.update(msg)
            .map_err(|e| Error::Other(format!("verification failed to run: {e}")))?;
        // A signature that is not even valid DER is simply not valid.
        Ok(v.verify(sig).unwrap_or(false))
    };
    if check(md, &pae(PAYLOAD_TYPE, payload))? {
        return Ok(true);
    }
    check(compat_md.unwrap_or(md), &pae_v0_2(PAYLOAD_TYPE, payload))
}

/// Verifies against one EC public key.
pub struct KeyVerifier {
    key: PKey<Public>,
    hint: String,
}

impl KeyVerifier {
    /// Loads a PEM public key (SubjectPublicKeyInfo).
    pub fn from_pem_file(path: &Path) -> Result<Self> {
        // A key that cannot be read is a usage error (exit 2), like one that cannot be parsed.
        let pem = fs::read(path).map_err(|e| Error::KeyMaterial {
            what: path.display().to_string(),
            reason: format!("cannot read the key ({e})"),
        })?;
        // Only a SubjectPublicKeyInfo is a public key here: anything else is named for
        // what it is (a private key, a certificate, ...), never with a parser's error.
        let kind = PemContent::of(&pem);
        let key = match kind {
            PemContent::PublicKey => PKey::public_key_from_pem(&pem).ok(),
            _ => None,
        }
        .ok_or_else(|| Error::KeyMaterial {
            what: path.display().to_string(),
            reason: not_a_public_key(kind),
        })?;
        ec_digest(&key).map_err(|reason| Error::KeyMaterial {
            what: path.display().to_string(),
            reason,
        })?;
        let hint = key_hint(&key)?;
        Ok(KeyVerifier { key, hint })
    }
}

impl BundleVerifier for KeyVerifier {
    fn verify(&self, bundle: &Bundle) -> Result<VerifiedStatement> {
        let (payload, sig) = check_envelope(bundle)?;
        check_method(bundle, "key")?;
        let mut warnings = Vec::new();
        match bundle.verification_material.public_key.as_ref().and_then(|k| k.hint.as_deref()) {
            Some(h) if h != self.hint => {
                return Err(Error::InvalidSignature(format!(
                    "signed with another key (bundle names key {h}, the given public key is {})",
                    self.hint
                )))
            }
            Some(_) => {}
            None => warnings.push(
                "the signature uses the older format without a key hint; re-sign with a current signer".into(),
            ),
        }
        if !verify_dsse(&self.key, &payload, &sig, None)? {
            return Err(Error::InvalidSignature(
                "the signature does not match the statement and the given public key".into(),
            ));
        }
        Ok(VerifiedStatement {
            payload,
            signer: format!("key {}", self.hint),
            warnings,
        })
    }

    fn method(&self) -> &'static str {
        "key"
    }
}
