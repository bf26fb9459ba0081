//! Signing with an elliptic-curve private key (`sign key`).

use std::fs;
use std::path::Path;

use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{HasPublic, PKey, PKeyRef, Private};
use sha2::{Digest as _, Sha256};

use crate::bundle::{pae, Bundle, PublicKeyIdentifier, VerificationMaterial, PAYLOAD_TYPE};
use crate::error::{Error, Result};
use crate::sign::Signer;

fn key_error(what: &Path, reason: impl Into<String>) -> Error {
    Error::KeyMaterial {
        what: what.display().to_string(),
        reason: reason.into(),
    }
}

/// The ECDSA digest Sigstore pairs with each supported curve; other keys are refused.
pub(crate) fn ec_digest<T: HasPublic>(
    key: &PKeyRef<T>,
) -> std::result::Result<MessageDigest, String> {
    let ec = key.ec_key().map_err(|_| {
        "not an elliptic-curve key; msign signs with EC keys on P-256, P-384 or P-521".to_string()
    })?;
    match ec.group().curve_name() {
        Some(Nid::X9_62_PRIME256V1) => Ok(MessageDigest::sha256()),
        Some(Nid::SECP384R1) => Ok(MessageDigest::sha384()),
        Some(Nid::SECP521R1) => Ok(MessageDigest::sha512()),
        other => Err(format!(
            "unsupported curve {}; use P-256, P-384 or P-521",
            other
                .and_then(|n| n.short_name().ok())
                .unwrap_or("(unnamed)")
        )),
    }
}

/// Hex SHA-256 of the public key's SubjectPublicKeyInfo PEM: the bundle's `publicKey.hint`.
pub(crate) fn key_hint<T: HasPublic>(key: &PKeyRef<T>) -> Result<String> {
    let pem = key
        .public_key_to_pem()
        .map_err(|e| Error::Other(format!("cannot encode public key: {e}")))?;
    Ok(hex::encode(Sha256::digest(&pem)))
}

/// Loads a PEM private key: SEC1 (`EC PRIVATE KEY`), PKCS#8, or encrypted PKCS#8 / legacy
/// encrypted PEM with `password`. Never prompts.
pub fn load_private_key(path: &Path, password: Option<&str>) -> Result<PKey<Private>> {
    let pem = fs::read(path).map_err(|e| key_error(path, format!("cannot read the key ({e})")))?;
    let encrypted = pem.windows(9).any(|w| w == b"ENCRYPTED");
    let key = PKey::private_key_from_pem_callback(&pem, |buf| match password {
        Some(p) if p.len() <= buf.len() => {
            buf[..p.len()].copy_from_slice(p.as_bytes());
            Ok(p.len())
        }
        _ => Ok(0),
    });
    let key = match (key, encrypted, password) {
        (Ok(k), _, _) => k,
        (Err(_), true, None) => {
            return Err(key_error(path, "the key is encrypted; pass --password"))
        }
        (Err(_), true, Some(_)) => {
            return Err(key_error(path, "wrong password for the encrypted key"))
        }
        (Err(e), false, _) => return Err(key_error(path, format!("not a PEM private key ({e})"))),
    };
    ec_digest(&key).map_err(|r| key_error(path, r))?;
    Ok(key)
}

/// Signs the DSSE PAE of a statement with an EC key and the curve's digest.
pub(crate) fn sign_pae(key: &PKeyRef<Private>, payload: &[u8]) -> Result<Vec<u8>> {
    let md = ec_digest(key).map_err(Error::Other)?;
    let mut signer = openssl::sign::Signer::new(md, key)
        .map_err(|e| Error::Other(format!("cannot start signing: {e}")))?;
    signer
        .update(&pae(PAYLOAD_TYPE, payload))
        .and_then(|_| signer.sign_to_vec())
        .map_err(|e| Error::Other(format!("signing failed: {e}")))
}

/// Signs with an EC private key; the bundle names the key by its hint.
pub struct KeySigner {
    key: PKey<Private>,
}

impl KeySigner {
    /// Loads the key at `path`.
    pub fn from_pem_file(path: &Path, password: Option<&str>) -> Result<Self> {
        Ok(KeySigner {
            key: load_private_key(path, password)?,
        })
    }
}

impl Signer for KeySigner {
    fn sign(&self, payload: &[u8]) -> Result<Bundle> {
        let sig = sign_pae(&self.key, payload)?;
        let material = VerificationMaterial {
            public_key: Some(PublicKeyIdentifier {
                hint: Some(key_hint(&self.key)?),
                ..Default::default()
            }),
            ..Default::default()
        };
        Ok(Bundle::new_dsse(payload, &sig, material))
    }

    fn method(&self) -> &'static str {
        "key"
    }
}
