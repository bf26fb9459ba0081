//! The signature file: a Sigstore bundle holding a DSSE envelope over an in-toto statement.
//!
//! Field names and order follow what `model_signing` writes (compact JSON, `mediaType`,
//! `verificationMaterial`, `dsseEnvelope`). Reading is liberal about optional fields the
//! older releases wrote (`publicKey.rawBytes`, `keyid: null`) and strict about the rest.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub(crate) mod pyjson;
pub mod statement;

/// Media type of the bundles written by the reference and by msign.
pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// DSSE payload type of an in-toto statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// Signature files larger than this are refused before parsing.
pub const MAX_BUNDLE_BYTES: u64 = 256 << 20;

/// A Sigstore bundle.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    /// `application/vnd.dev.sigstore.bundle[.v0.3]+json` and older variants.
    pub media_type: String,
    /// Keys, certificates and transparency-log material.
    pub verification_material: VerificationMaterial,
    /// The signed statement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsse_envelope: Option<Envelope>,
    /// A plain message signature (other Sigstore artifacts; not used for models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_signature: Option<serde_json::Value>,
}

/// What a verifier needs besides the envelope.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct VerificationMaterial {
    /// A key identified by hint (key method).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<PublicKeyIdentifier>,
    /// Leaf first, then intermediates (certificate method).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x509_certificate_chain: Option<CertificateChain>,
    /// A single leaf certificate (Sigstore bundles v0.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<RawBytes>,
    /// Transparency-log entries; empty for key and certificate signatures.
    #[serde(default)]
    pub tlog_entries: Vec<serde_json::Value>,
    /// RFC 3161 timestamps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp_verification_data: Option<serde_json::Value>,
}

/// `publicKey` in a bundle.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PublicKeyIdentifier {
    /// Hex SHA-256 of the public key's PEM (model_signing >= 1.0.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// The PEM itself, written by model_signing 0.3 and 1.0.0; never trusted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_bytes: Option<String>,
    /// Key algorithm label written alongside `rawBytes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_details: Option<String>,
}

/// `x509CertificateChain`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CertificateChain {
    /// DER certificates, leaf first.
    pub certificates: Vec<RawBytes>,
}

/// A base64 DER blob.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RawBytes {
    /// Base64 of the DER bytes.
    pub raw_bytes: String,
}

impl RawBytes {
    /// Wraps DER bytes.
    pub fn new(der: &[u8]) -> Self {
        RawBytes {
            raw_bytes: B64.encode(der),
        }
    }

    /// The decoded bytes.
    pub fn decode(&self) -> Result<Vec<u8>> {
        decode_b64(&self.raw_bytes, "rawBytes")
    }
}

/// A DSSE envelope.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// Base64 of the statement.
    pub payload: String,
    /// Always [`PAYLOAD_TYPE`] for models.
    pub payload_type: String,
    /// Exactly one signature for models.
    pub signatures: Vec<EnvelopeSignature>,
}

/// One DSSE signature.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EnvelopeSignature {
    /// Base64 of the signature (DER ECDSA).
    pub sig: String,
    /// Key id; the reference writes `""`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyid: Option<String>,
}

pub(crate) fn decode_b64(s: &str, what: &str) -> Result<Vec<u8>> {
    B64.decode(s.trim())
        .map_err(|e| Error::MalformedSignature(format!("{what} is not valid base64: {e}")))
}

/// DSSE pre-authentication encoding (DSSE v1.0 protocol).
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// The encoding model_signing 0.2 signed by mistake: `DSSEV1 ... ` followed by Python's
/// `repr()` of the payload bytes. Needed to verify its signatures.
pub fn pae_v0_2(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    format!(
        "DSSEV1 {} {} {} {}",
        payload_type.len(),
        payload_type,
        payload.len(),
        python_bytes_repr(payload)
    )
    .into_bytes()
}

fn python_bytes_repr(b: &[u8]) -> String {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(b.len() + 3);
    out.push('b');
    out.push(quote);
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            c if c as char == quote => {
                out.push('\\');
                out.push(quote);
            }
            0x20..=0x7e => out.push(c as char),
            c => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push(quote);
    out
}

impl Bundle {
    /// A bundle over `payload` signed with `signature`.
    pub fn new_dsse(payload: &[u8], signature: &[u8], material: VerificationMaterial) -> Self {
        Bundle {
            media_type: BUNDLE_MEDIA_TYPE.into(),
            verification_material: material,
            dsse_envelope: Some(Envelope {
                payload: B64.encode(payload),
                payload_type: PAYLOAD_TYPE.into(),
                signatures: vec![EnvelopeSignature {
                    sig: B64.encode(signature),
                    keyid: Some(String::new()),
                }],
            }),
            message_signature: None,
        }
    }

    /// Parses a signature file's bytes.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        if bytes.len() as u64 > MAX_BUNDLE_BYTES {
            return Err(Error::MalformedSignature(
                "signature file is larger than 256 MiB".into(),
            ));
        }
        serde_json::from_slice(bytes)
            .map_err(|e| Error::MalformedSignature(format!("not a Sigstore bundle: {e}")))
    }

    /// The bundle as written to disk (compact JSON, as the reference writes it).
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("bundle serialises")
    }

    /// The envelope, its decoded payload and its only signature. Model signatures carry
    /// exactly one; anything else is refused rather than guessed at.
    pub fn dsse(&self) -> Result<(&Envelope, Vec<u8>, Vec<u8>)> {
        let env = self
            .dsse_envelope
            .as_ref()
            .ok_or_else(|| Error::MalformedSignature("bundle has no DSSE envelope".into()))?;
        if env.signatures.len() != 1 {
            return Err(Error::MalformedSignature(format!(
                "envelope has {} signatures, expected exactly one",
                env.signatures.len()
            )));
        }
        let payload = decode_b64(&env.payload, "payload")?;
        let sig = decode_b64(&env.signatures[0].sig, "signature")?;
        Ok((env, payload, sig))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_repr_of_bytes() {
        assert_eq!(python_bytes_repr(b"{\n  \"a\": 1}"), "b'{\\n  \"a\": 1}'");
        assert_eq!(python_bytes_repr(b"it's"), "b\"it's\"");
        assert_eq!(python_bytes_repr(b"'\"\xff"), "b'\\'\"\\xff'");
    }

    #[test]
    fn pae_matches_dsse_spec_example() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }
}
