//! Signing with an elliptic-curve private key (`sign key`).

use std::fs;
use std::path::Path;

use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{HasPublic, Id, PKey, PKeyRef, Private};
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

/// What a key is, in words, for messages that name a key msign cannot use.
fn key_kind<T>(key: &PKeyRef<T>) -> String {
    match key.id() {
        Id::RSA | Id::RSA_PSS => "an RSA key".into(),
        Id::DSA => "a DSA key".into(),
        Id::ED25519 => "an Ed25519 key".into(),
        Id::ED448 => "an Ed448 key".into(),
        Id::DH | Id::DHX => "a Diffie-Hellman key".into(),
        Id::X25519 | Id::X448 => "a key-agreement (X25519/X448) key".into(),
        other => format!("a key of type {}", other.as_raw()),
    }
}

/// The message for a key that is not an EC key on a supported curve.
const EC_ONLY: &str = "msign signs with EC keys P-256/P-384/P-521";

/// The ECDSA digest Sigstore pairs with each supported curve; other keys are refused.
pub(crate) fn ec_digest<T: HasPublic>(
    key: &PKeyRef<T>,
) -> std::result::Result<MessageDigest, String> {
    let ec = key
        .ec_key()
        .map_err(|_| format!("{EC_ONLY}; this is {}", key_kind(key)))?;
    match ec.group().curve_name() {
        Some(Nid::X9_62_PRIME256V1) => Ok(MessageDigest::sha256()),
        Some(Nid::SECP384R1) => Ok(MessageDigest::sha384()),
        Some(Nid::SECP521R1) => Ok(MessageDigest::sha512()),
        other => Err(format!(
            "{EC_ONLY}; this is an EC key on the curve {}",
            other
                .and_then(|n| n.short_name().ok())
                .unwrap_or("(unnamed)")
        )),
    }
}

/// What a PEM file holds, judged by its `-----BEGIN ...-----` labels, so a key given to
/// the wrong flag is named for what it is instead of failing with a parser error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PemContent {
    /// A private key: PKCS#8, SEC1 (`EC PRIVATE KEY`) or another algorithm's.
    PrivateKey,
    /// A password-protected private key (encrypted PKCS#8 or legacy encrypted PEM).
    EncryptedPrivateKey,
    /// An RSA key in PKCS#1 form (`RSA PRIVATE KEY` / `RSA PUBLIC KEY`).
    RsaKey,
    /// A public key (SubjectPublicKeyInfo).
    PublicKey,
    /// An X.509 certificate.
    Certificate,
    /// An OpenSSH private key (`ssh-keygen`'s own format).
    OpenSshKey,
    /// PEM of another kind (parameters, a request, ...).
    Other,
    /// Not PEM at all (DER, empty, anything else).
    NotPem,
}

impl PemContent {
    /// Classifies PEM text; the first label that says what the file is wins, so
    /// `EC PARAMETERS` before `EC PRIVATE KEY` (what `openssl ecparam -genkey` writes)
    /// is a private key.
    pub fn of(pem: &[u8]) -> Self {
        let text = String::from_utf8_lossy(pem);
        let mut found = PemContent::NotPem;
        for line in text.lines() {
            let Some(label) = line
                .trim()
                .strip_prefix("-----BEGIN ")
                .and_then(|l| l.strip_suffix("-----"))
            else {
                continue;
            };
            let kind = match label {
                "ENCRYPTED PRIVATE KEY" => PemContent::EncryptedPrivateKey,
                "RSA PRIVATE KEY" | "RSA PUBLIC KEY" => PemContent::RsaKey,
                "PUBLIC KEY" => PemContent::PublicKey,
                "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => {
                    PemContent::Certificate
                }
                "OPENSSH PRIVATE KEY" => PemContent::OpenSshKey,
                l if l.ends_with("PRIVATE KEY") => PemContent::PrivateKey,
                _ => PemContent::Other,
            };
            if kind == PemContent::PrivateKey && text.contains("Proc-Type: 4,ENCRYPTED") {
                return PemContent::EncryptedPrivateKey;
            }
            if kind != PemContent::Other {
                return kind;
            }
            found = kind;
        }
        found
    }

    /// What the file is, for a message that starts "this is ...".
    fn described(self) -> &'static str {
        match self {
            PemContent::PrivateKey => "a private key",
            PemContent::EncryptedPrivateKey => "an encrypted private key",
            PemContent::RsaKey => "an RSA key",
            PemContent::PublicKey => "a public key",
            PemContent::Certificate => "an X.509 certificate",
            PemContent::OpenSshKey => "an OpenSSH private key",
            PemContent::Other => "a PEM file holding neither a key nor a certificate",
            PemContent::NotPem => "not a PEM file",
        }
    }
}

/// Why a file given as a private key is not one, in the user's terms.
fn not_a_private_key(kind: PemContent) -> String {
    match kind {
        PemContent::PublicKey => "this is a public key; --private-key takes the private key \
            (msign.pem from `msign generate-key`); the public key is for verifying (--public-key)"
            .into(),
        PemContent::Certificate => "this is an X.509 certificate; --private-key takes the EC \
            private key (PEM) the certificate was issued for, the certificate goes to \
            --signing-certificate"
            .into(),
        PemContent::RsaKey => format!("{EC_ONLY}; this is an RSA key"),
        PemContent::OpenSshKey => format!(
            "this is an OpenSSH private key; {EC_ONLY} in PEM (PKCS#8 or SEC1): \
             create one with `msign generate-key`"
        ),
        PemContent::NotPem => "not a PEM file; --private-key takes a PEM EC private key \
            (-----BEGIN PRIVATE KEY----- or -----BEGIN EC PRIVATE KEY-----), e.g. from \
            `msign generate-key`"
            .into(),
        PemContent::Other => format!(
            "this is {}; --private-key takes a PEM EC private key",
            kind.described()
        ),
        PemContent::PrivateKey | PemContent::EncryptedPrivateKey => {
            "the PEM private key is damaged or in an unsupported encoding; \
             msign reads PKCS#8 and SEC1 EC keys"
                .into()
        }
    }
}

/// Why a file given as a public key is not one, in the user's terms.
pub(crate) fn not_a_public_key(kind: PemContent) -> String {
    match kind {
        PemContent::PrivateKey | PemContent::EncryptedPrivateKey => format!(
            "this is {}; --public-key takes the public key (msign.pub from `msign \
             generate-key`, or `openssl pkey -pubout -in KEY`); keep the private key secret",
            kind.described()
        ),
        PemContent::Certificate => "this is an X.509 certificate; verify certificate \
            signatures with `verify certificate --certificate-chain ROOT`, or give the public \
            key itself"
            .into(),
        PemContent::RsaKey => format!("{EC_ONLY}; this is an RSA key"),
        PemContent::NotPem => "not a PEM file; --public-key takes a PEM public key \
            (-----BEGIN PUBLIC KEY-----)"
            .into(),
        PemContent::PublicKey => {
            "the PEM public key is damaged or in an unsupported encoding".into()
        }
        PemContent::OpenSshKey | PemContent::Other => format!(
            "this is {}; --public-key takes a PEM public key (-----BEGIN PUBLIC KEY-----)",
            kind.described()
        ),
    }
}

/// True when the PEM private key needs a password to be read.
pub fn is_encrypted(pem: &[u8]) -> bool {
    PemContent::of(pem) == PemContent::EncryptedPrivateKey
}

/// Hex SHA-256 of the public key's SubjectPublicKeyInfo PEM: the bundle's `publicKey.hint`.
pub(crate) fn key_hint<T: HasPublic>(key: &PKeyRef<T>) -> Result<String> {
    let pem = key
        .public_key_to_pem()
        .map_err(|e| Error::Other(format!("cannot encode public key: {e}")))?;
    Ok(hex::encode(Sha256::digest(&pem)))
}

/// Loads a PEM private key: SEC1 (`EC PRIVATE KEY`), PKCS#8, or encrypted PKCS#8 / legacy
/// encrypted PEM with `password`. Never prompts: a front end asks for the password first
/// (see [`is_encrypted`]).
pub fn load_private_key(path: &Path, password: Option<&str>) -> Result<PKey<Private>> {
    let pem = fs::read(path).map_err(|e| key_error(path, format!("cannot read the key ({e})")))?;
    let kind = PemContent::of(&pem);
    if !matches!(
        kind,
        PemContent::PrivateKey | PemContent::EncryptedPrivateKey | PemContent::RsaKey
    ) {
        return Err(key_error(path, not_a_private_key(kind)));
    }
    let key = PKey::private_key_from_pem_callback(&pem, |buf| match password {
        Some(p) if p.len() <= buf.len() => {
            buf[..p.len()].copy_from_slice(p.as_bytes());
            Ok(p.len())
        }
        _ => Ok(0),
    });
    let key = match (key, kind, password) {
        (Ok(k), _, _) => k,
        (Err(_), PemContent::EncryptedPrivateKey, None) => {
            return Err(key_error(
                path,
                "the key is encrypted and no password was given; pass --password-file FILE \
                 (or set MSIGN_KEY_PASSWORD), or run on a terminal to be asked",
            ))
        }
        (Err(_), PemContent::EncryptedPrivateKey, Some(_)) => {
            return Err(key_error(path, "wrong password for the encrypted key"))
        }
        (Err(_), kind, _) => return Err(key_error(path, not_a_private_key(kind))),
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
