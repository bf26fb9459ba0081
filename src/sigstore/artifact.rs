//! Verifying any Sigstore bundle against an artifact (a file or its SHA-256), as the
//! sigstore-conformance suite drives `msign sigstore verify-bundle`: the artifact must be
//! what the bundle signs (the message digest, or a subject of the DSSE statement), and the
//! bundle must verify under the trusted root for the expected signer.

use std::fs;
use std::path::{Path, PathBuf};

use openssl::pkey::PKey;
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::bundle::Bundle;
use crate::error::{Error, Result};
use crate::sigstore::instance::Instance;
use crate::sigstore::verify::{dsse_content, message_content, Policy, Signed};

/// Who must have signed.
#[derive(Debug, Clone)]
pub enum Expected {
    /// A managed key (PEM public key file) instead of a certificate identity.
    Key(PathBuf),
    /// A certificate identity (SAN) and the OIDC issuer that vouched for it.
    Identity {
        /// The identity.
        identity: String,
        /// The issuer.
        issuer: String,
    },
}

impl Expected {
    /// The signer `msign sigstore verify-bundle` means by its flags: a key, or an identity
    /// with its issuer (both needed).
    pub fn choose(
        key: Option<PathBuf>,
        identity: Option<String>,
        issuer: Option<String>,
    ) -> Result<Expected> {
        match (key, identity, issuer) {
            (Some(k), _, _) => Ok(Expected::Key(k)),
            (None, Some(identity), Some(issuer)) => Ok(Expected::Identity { identity, issuer }),
            _ => Err(Error::Usage(
                "give --key, or --certificate-identity with --certificate-oidc-issuer".into(),
            )),
        }
    }
}

/// A bundle and the artifact it should sign.
#[derive(Debug, Clone)]
pub struct BundleRequest {
    /// The bundle (JSON file).
    pub bundle: PathBuf,
    /// The artifact: a path, or `sha256:<hex>`.
    pub artifact: String,
    /// The expected signer.
    pub expected: Expected,
    /// The instance whose trusted root is used.
    pub instance: Instance,
}

/// A verified bundle.
#[derive(Debug, Clone, Serialize)]
pub struct BundleReport {
    /// Always `verified`.
    pub status: &'static str,
    /// Always `sigstore`: the method, as every verification report names it.
    pub method: &'static str,
    /// The bundle verified.
    pub signature: PathBuf,
    /// Who signed (the certificate identity, or the key).
    pub signer: String,
    /// The artifact, as given.
    pub artifact: String,
}

/// The SHA-256 of the artifact: `sha256:<hex>` as given, else the file's content.
pub fn artifact_digest(arg: &str) -> Result<[u8; 32]> {
    if let Some(h) = arg.strip_prefix("sha256:") {
        return hex::decode(h)
            .ok()
            .and_then(|d| d.try_into().ok())
            .ok_or_else(|| Error::Usage(format!("'{arg}' is not sha256:<64 hex digits>")));
    }
    let path = Path::new(arg);
    let mut f = fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).map_err(|e| Error::io(path, e))?;
    Ok(h.finalize().into())
}

/// For DSSE bundles, the artifact must be a subject of the in-toto statement.
fn check_statement_subject(payload_type: &str, payload: &[u8], digest: &[u8; 32]) -> Result<()> {
    if payload_type != crate::bundle::PAYLOAD_TYPE {
        return Err(Error::InvalidSignature(format!(
            "the envelope holds '{payload_type}', not an in-toto statement naming the artifact"
        )));
    }
    let st: serde_json::Value = serde_json::from_slice(payload)
        .map_err(|e| Error::MalformedSignature(format!("statement is not JSON: {e}")))?;
    let want = hex::encode(digest);
    let found = st["subject"].as_array().is_some_and(|subjects| {
        subjects.iter().any(|s| {
            s["digest"]["sha256"]
                .as_str()
                .is_some_and(|d| d.eq_ignore_ascii_case(&want))
        })
    });
    if !found {
        return Err(Error::InvalidSignature(
            "the artifact's digest is not a subject of the signed statement".into(),
        ));
    }
    Ok(())
}

fn policy(expected: &Expected) -> Result<Policy> {
    Ok(match expected {
        Expected::Key(k) => {
            let pem = fs::read(k).map_err(|e| Error::io(k, e))?;
            Policy::Key(
                PKey::public_key_from_pem(&pem).map_err(|e| Error::KeyMaterial {
                    what: k.display().to_string(),
                    reason: format!("not a PEM public key ({e})"),
                })?,
            )
        }
        Expected::Identity { identity, issuer } => Policy::Identity {
            identity: identity.clone(),
            issuer: issuer.clone(),
        },
    })
}

/// Verifies the bundle against the artifact, the expected signer and the instance's
/// trusted root.
pub fn verify_bundle(req: &BundleRequest) -> Result<BundleReport> {
    let trust = req.instance.trusted_root()?;
    let policy = policy(&req.expected)?;
    let bytes = fs::read(&req.bundle).map_err(|e| Error::io(&req.bundle, e))?;
    let bundle = Bundle::from_json(&bytes)?;
    let digest = artifact_digest(&req.artifact)?;
    let signed = if bundle.dsse_envelope.is_some() {
        dsse_content(&bundle)?
    } else {
        message_content(&bundle)?
    };
    match &signed {
        Signed::Dsse {
            payload_type,
            payload,
            ..
        } => check_statement_subject(payload_type, payload, &digest)?,
        Signed::Message {
            digest: signed_digest,
            ..
        } if signed_digest != &digest => {
            return Err(Error::InvalidSignature(
                "the bundle signs another artifact (message digest differs)".into(),
            ))
        }
        Signed::Message { .. } => {}
    }
    let verified = crate::sigstore::verify::verify_bundle(&trust, &bundle, &signed, &policy)?;
    Ok(BundleReport {
        status: "verified",
        method: "sigstore",
        signature: req.bundle.clone(),
        signer: verified.signer,
        artifact: req.artifact.clone(),
    })
}
