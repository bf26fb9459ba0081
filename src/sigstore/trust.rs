//! The trusted root: which CAs, transparency logs, CT logs and timestamp authorities to
//! trust, and when (Sigstore's `trusted_root.json`, media type
//! `application/vnd.dev.sigstore.trustedroot+json;version=0.1`).

use std::fs;
use std::path::Path;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use openssl::pkey::{PKey, Public};
use openssl::x509::X509;
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};
use crate::sigstore::keys::{key_from_spki, spki_der};
use crate::sigstore::time::parse_rfc3339;

const PUBLIC_GOOD: &str = include_str!("trusted_root.json");
const STAGING: &str = include_str!("trusted_root_staging.json");

/// A validity window in Unix seconds; `end` open when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First second of validity.
    pub start: i64,
    /// Last second of validity, if any.
    pub end: Option<i64>,
}

impl Window {
    /// True when `t` lies inside the window.
    pub fn contains(&self, t: i64) -> bool {
        t >= self.start && self.end.is_none_or(|e| t <= e)
    }
}

/// A transparency log or a CT log: its key and when that key may be trusted.
#[derive(Debug, Clone)]
pub struct TransparencyLog {
    /// Where the log lives (informative).
    pub base_url: String,
    /// The log's key.
    pub key: PKey<Public>,
    /// The log id: SHA-256 of the key's SubjectPublicKeyInfo, as logs name themselves.
    pub key_id: Vec<u8>,
    /// When the key may be trusted.
    pub valid_for: Window,
}

/// A certificate authority (Fulcio) or a timestamp authority.
#[derive(Debug, Clone)]
pub struct CertificateAuthority {
    /// Where it lives (informative).
    pub uri: String,
    /// Its chain, issuing certificate first, root last.
    pub chain: Vec<X509>,
    /// When certificates it issued may be trusted.
    pub valid_for: Window,
}

/// What a verifier trusts.
#[derive(Debug, Clone)]
pub struct TrustedRoot {
    /// Transparency logs (Rekor).
    pub tlogs: Vec<TransparencyLog>,
    /// Certificate transparency logs (SCTs in Fulcio certificates).
    pub ctlogs: Vec<TransparencyLog>,
    /// Fulcio instances.
    pub certificate_authorities: Vec<CertificateAuthority>,
    /// RFC 3161 timestamp authorities.
    pub timestamp_authorities: Vec<CertificateAuthority>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRoot {
    media_type: Option<String>,
    #[serde(default)]
    tlogs: Vec<RawLog>,
    #[serde(default)]
    ctlogs: Vec<RawLog>,
    #[serde(default)]
    certificate_authorities: Vec<RawCa>,
    #[serde(default)]
    timestamp_authorities: Vec<RawCa>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLog {
    #[serde(default)]
    base_url: String,
    public_key: RawKey,
    log_id: Option<RawLogId>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawKey {
    raw_bytes: String,
    key_details: Option<String>,
    valid_for: Option<RawWindow>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLogId {
    key_id: String,
}

#[derive(Deserialize)]
struct RawWindow {
    start: Option<String>,
    end: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCa {
    #[serde(default)]
    uri: String,
    cert_chain: RawChain,
    valid_for: Option<RawWindow>,
}

#[derive(Deserialize)]
struct RawChain {
    certificates: Vec<crate::bundle::RawBytes>,
}

fn bad(what: &str, why: impl std::fmt::Display) -> Error {
    Error::KeyMaterial {
        what: format!("trusted root: {what}"),
        reason: why.to_string(),
    }
}

fn window(w: Option<RawWindow>, what: &str) -> Result<Window> {
    let w = w.ok_or_else(|| bad(what, "no validFor"))?;
    let t = |s: &str| parse_rfc3339(s).ok_or_else(|| bad(what, format!("bad timestamp '{s}'")));
    Ok(Window {
        start: t(w
            .start
            .as_deref()
            .ok_or_else(|| bad(what, "no validFor.start"))?)?,
        end: w.end.as_deref().map(t).transpose()?,
    })
}

fn log(raw: RawLog, what: &str) -> Result<TransparencyLog> {
    let der = B64
        .decode(raw.public_key.raw_bytes.trim())
        .map_err(|e| bad(what, e))?;
    let key = if raw
        .public_key
        .key_details
        .as_deref()
        .is_some_and(|d| d.starts_with("PKCS1_RSA"))
    {
        openssl::rsa::Rsa::public_key_from_der_pkcs1(&der)
            .and_then(PKey::from_rsa)
            .map_err(|e| bad(what, e))?
    } else {
        key_from_spki(&der, &format!("trusted root: {what} key"))?
    };
    let key_id = Sha256::digest(spki_der(&key)?).to_vec();
    if let Some(id) = raw.log_id {
        let named = B64.decode(id.key_id.trim()).map_err(|e| bad(what, e))?;
        // Rekor v2 logs name themselves differently (C2SP signed-note key ids); the id
        // a bundle uses must then match what the trusted root says, so keep that one.
        if named != key_id && named.len() != 32 {
            return Err(bad(what, "logId.keyId is not 32 bytes"));
        }
        return Ok(TransparencyLog {
            base_url: raw.base_url,
            key,
            key_id: named,
            valid_for: window(raw.public_key.valid_for, what)?,
        });
    }
    Ok(TransparencyLog {
        base_url: raw.base_url,
        key,
        key_id,
        valid_for: window(raw.public_key.valid_for, what)?,
    })
}

fn ca(raw: RawCa, what: &str) -> Result<CertificateAuthority> {
    let chain = raw
        .cert_chain
        .certificates
        .iter()
        .map(|c| {
            let der = c.decode().map_err(|e| bad(what, e))?;
            X509::from_der(&der).map_err(|e| bad(what, e))
        })
        .collect::<Result<Vec<_>>>()?;
    if chain.is_empty() {
        return Err(bad(what, "empty certificate chain"));
    }
    Ok(CertificateAuthority {
        uri: raw.uri,
        chain,
        valid_for: window(raw.valid_for, what)?,
    })
}

impl TrustedRoot {
    /// Sigstore's public-good instance, as shipped in this binary.
    pub fn public_good() -> Result<Self> {
        Self::from_json(PUBLIC_GOOD.as_bytes())
    }

    /// Sigstore's staging instance, as shipped in this binary.
    pub fn staging() -> Result<Self> {
        Self::from_json(STAGING.as_bytes())
    }

    /// Parses a `trusted_root.json`, or a ClientTrustConfig holding one (`trustedRoot`).
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| bad("JSON", e))?;
        let root = match v.get("trustedRoot") {
            Some(inner) => inner.clone(),
            None => v,
        };
        let raw: RawRoot = serde_json::from_value(root).map_err(|e| bad("format", e))?;
        if let Some(mt) = &raw.media_type {
            if !mt.starts_with("application/vnd.dev.sigstore.trustedroot") {
                return Err(bad("mediaType", format!("unexpected '{mt}'")));
            }
        }
        let mut out = TrustedRoot {
            tlogs: Vec::new(),
            ctlogs: Vec::new(),
            certificate_authorities: Vec::new(),
            timestamp_authorities: Vec::new(),
        };
        for (i, l) in raw.tlogs.into_iter().enumerate() {
            out.tlogs.push(log(l, &format!("tlogs[{i}]"))?);
        }
        for (i, l) in raw.ctlogs.into_iter().enumerate() {
            out.ctlogs.push(log(l, &format!("ctlogs[{i}]"))?);
        }
        for (i, c) in raw.certificate_authorities.into_iter().enumerate() {
            out.certificate_authorities
                .push(ca(c, &format!("certificateAuthorities[{i}]"))?);
        }
        for (i, c) in raw.timestamp_authorities.into_iter().enumerate() {
            out.timestamp_authorities
                .push(ca(c, &format!("timestampAuthorities[{i}]"))?);
        }
        Ok(out)
    }

    /// Reads a `trusted_root.json` or ClientTrustConfig file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let bytes = fs::read(path).map_err(|e| Error::io(path, e))?;
        Self::from_json(&bytes).map_err(|e| match e {
            Error::KeyMaterial { what, reason } => Error::KeyMaterial {
                what: format!("{}: {what}", path.display()),
                reason,
            },
            e => e,
        })
    }

    /// The transparency log with this id.
    pub fn tlog(&self, key_id: &[u8]) -> Option<&TransparencyLog> {
        self.tlogs.iter().find(|l| l.key_id == key_id)
    }

    /// The CT log with this id.
    pub fn ctlog(&self, key_id: &[u8]) -> Option<&TransparencyLog> {
        self.ctlogs.iter().find(|l| l.key_id == key_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_roots_parse() {
        let r = TrustedRoot::public_good().unwrap();
        assert!(r.tlogs.len() >= 2 && r.ctlogs.len() >= 2);
        assert!(r.certificate_authorities.len() >= 2);
        let rekor = r
            .tlogs
            .iter()
            .find(|l| l.base_url == "https://rekor.sigstore.dev")
            .unwrap();
        assert_eq!(
            B64.encode(&rekor.key_id),
            "wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0="
        );
        TrustedRoot::staging().unwrap();
    }
}
