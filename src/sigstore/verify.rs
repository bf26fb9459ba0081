//! Verifying a whole Sigstore bundle: every check of this module, in order, against one
//! trusted root and one policy (an identity and its issuer, or a managed key).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use openssl::pkey::{PKey, Public};
use openssl::x509::X509;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::bundle::{pae, Bundle};
use crate::error::Result;
use crate::sigstore::keys::{spki_der, verify_signature};
use crate::sigstore::trust::TrustedRoot;
use crate::sigstore::{fulcio, invalid, malformed, sct, timestamp, tlog, tlog_v2};
use sha2::{Digest as _, Sha256};

/// Who must have signed.
#[derive(Debug, Clone)]
pub enum Policy {
    /// A Fulcio certificate for this identity (SAN) vouched for by this OIDC issuer.
    Identity {
        /// E-mail address or URI.
        identity: String,
        /// OIDC issuer URL.
        issuer: String,
    },
    /// A managed key (the bundle carries a key hint, no certificate).
    Key(PKey<Public>),
}

/// What was signed.
#[derive(Debug, Clone)]
pub enum Signed {
    /// A DSSE envelope (model signatures, attestations).
    Dsse {
        /// Payload type.
        payload_type: String,
        /// Payload bytes.
        payload: Vec<u8>,
        /// The envelope's only signature.
        sig: Vec<u8>,
    },
    /// A signature over an artifact's SHA-256 digest.
    Message {
        /// SHA-256 of the artifact.
        digest: [u8; 32],
        /// The signature.
        sig: Vec<u8>,
    },
}

/// A verified bundle.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The signer, in words.
    pub signer: String,
    /// When the transparency log integrated the signature.
    pub integrated_time: i64,
}

/// The leaf certificate of a bundle: `certificate` (v0.3) or the first certificate of
/// `x509CertificateChain` (v0.1, v0.2).
pub fn leaf_certificate(bundle: &Bundle) -> Result<Option<Vec<u8>>> {
    let m = &bundle.verification_material;
    if let Some(c) = &m.certificate {
        return c.decode().map(Some);
    }
    if let Some(chain) = &m.x509_certificate_chain {
        if let Some(first) = chain.certificates.first() {
            return first.decode().map(Some);
        }
    }
    Ok(None)
}

/// Checks the signature over what was signed with the signer's key (DSSE: over the PAE).
pub fn verify_content_signature(key: &PKey<Public>, signed: &Signed) -> Result<()> {
    let ok = match signed {
        Signed::Dsse {
            payload_type,
            payload,
            sig,
        } => verify_signature(key, &pae(payload_type, payload), sig)?,
        Signed::Message { digest, sig } => verify_prehashed(key, digest, sig)?,
    };
    if !ok {
        return Err(invalid(
            "the signature does not verify with the signing certificate's key: the signed content was changed",
        ));
    }
    Ok(())
}

fn verify_prehashed(key: &PKey<Public>, digest: &[u8; 32], sig: &[u8]) -> Result<bool> {
    let err = |e: openssl::error::ErrorStack| {
        crate::Error::Other(format!("verification could not run: {e}"))
    };
    if key.id() != openssl::pkey::Id::EC {
        return Err(malformed(
            "message signatures are only supported with ECDSA keys",
        ));
    }
    let mut ctx = openssl::pkey_ctx::PkeyCtx::new(key).map_err(err)?;
    ctx.verify_init().map_err(err)?;
    Ok(ctx.verify(digest, sig).unwrap_or(false))
}

/// Verifies everything about `bundle` except what the signed content says.
pub fn verify_bundle(
    trust: &TrustedRoot,
    bundle: &Bundle,
    signed: &Signed,
    policy: &Policy,
) -> Result<Verified> {
    let m = &bundle.verification_material;
    if m.tlog_entries.is_empty() {
        return Err(invalid(
            "the bundle has no transparency-log entry; its signing time cannot be established",
        ));
    }
    if m.tlog_entries.len() > 1 {
        return Err(malformed(
            "the bundle has more than one transparency-log entry",
        ));
    }
    let entry = tlog::parse_entry(&m.tlog_entries[0])?;
    let v01 = bundle.media_type == "application/vnd.dev.sigstore.bundle+json;version=0.1";

    // The signer's key and what it must be, per policy.
    let (key, verifier_der, signer, leaf_der) = match policy {
        Policy::Identity { identity, issuer } => {
            let der = leaf_certificate(bundle)?
                .ok_or_else(|| malformed("the bundle carries no signing certificate"))?;
            let (_, parsed) = X509Certificate::from_der(&der)
                .map_err(|e| malformed(format!("bad signing certificate: {e}")))?;
            fulcio::check_identity(&parsed, identity)?;
            fulcio::check_issuer(&parsed, issuer)?;
            let x = X509::from_der(&der)
                .map_err(|e| malformed(format!("bad signing certificate: {e}")))?;
            let key = x
                .public_key()
                .map_err(|e| malformed(format!("signing certificate key: {e}")))?;
            (
                key,
                der.clone(),
                format!("{identity} (issuer {issuer})"),
                Some(der),
            )
        }
        Policy::Key(key) => {
            let spki = spki_der(key)?;
            (key.clone(), spki, "managed key".to_string(), None)
        }
    };

    verify_content_signature(&key, signed)?;

    // The transparency log: the entry must be this signature and be in a trusted log.
    let v2 = entry.version == "0.0.2";
    match (signed, v2) {
        (Signed::Dsse { payload, sig, .. }, false) => {
            tlog::check_dsse_body(&entry, payload, sig, &verifier_der)?
        }
        (
            Signed::Dsse {
                payload_type,
                payload,
                sig,
            },
            true,
        ) => {
            if entry.kind == "dsse" {
                tlog_v2::check_dsse_v2_body(&entry, payload, sig, &verifier_der)?
            } else {
                let digest = Sha256::digest(pae(payload_type, payload));
                tlog::check_hashedrekord_v2_body(&entry, &digest, sig, &verifier_der)?
            }
        }
        (Signed::Message { digest, sig }, false) => {
            tlog::check_hashedrekord_body(&entry, digest, sig, &verifier_der)?
        }
        (Signed::Message { digest, sig }, true) => {
            tlog::check_hashedrekord_v2_body(&entry, digest, sig, &verifier_der)?
        }
    }
    let log = tlog::find_log(&entry, trust)?;

    // Signing time: RFC 3161 timestamps, and for Rekor v1 the integrated time the SET signs.
    let mut times = verified_timestamps(bundle, signed, trust)?;
    if !v2 {
        tlog::check_log_validity(&entry, log)?;
        tlog::verify_set(&entry, log)?;
        times.push(entry.integrated_time);
    } else {
        tlog_v2::check_log_validity_at(log, &times)?;
    }
    if times.is_empty() {
        return Err(invalid(
            "the bundle has no verified signing time (no signed entry timestamp and no RFC 3161 timestamp)",
        ));
    }
    if entry.proof.is_some() || !v01 || v2 {
        let cp = tlog::verify_inclusion_proof(&entry)?;
        tlog::verify_entry_checkpoint(&cp, log)?;
    }
    let at = times[times.len() - 1];

    // The certificate: issued by a trusted Fulcio, logged in CT, valid at every signing time.
    if let Some(der) = leaf_der {
        let (_, parsed) = X509Certificate::from_der(&der)
            .map_err(|e| malformed(format!("bad signing certificate: {e}")))?;
        let x =
            X509::from_der(&der).map_err(|e| malformed(format!("bad signing certificate: {e}")))?;
        fulcio::check_code_signing(&parsed)?;
        let mut issuer = None;
        for &t in &times {
            fulcio::check_time_in_certificate(&parsed, t)?;
            issuer = Some(fulcio::verify_chain(&x, trust, t)?.1);
        }
        let issuer = issuer.expect("times is not empty");
        sct::verify_embedded_sct(&der, &parsed, &issuer, trust)?;
    }
    Ok(Verified {
        signer,
        integrated_time: at,
    })
}

/// Verifies the bundle's RFC 3161 timestamps (each over the signature) and returns their times.
pub fn verified_timestamps(
    bundle: &Bundle,
    signed: &Signed,
    trust: &TrustedRoot,
) -> Result<Vec<i64>> {
    let Some(tvd) = &bundle.verification_material.timestamp_verification_data else {
        return Ok(Vec::new());
    };
    let list = match tvd.get("rfc3161Timestamps") {
        None | Some(serde_json::Value::Null) => return Ok(Vec::new()),
        Some(l) => l
            .as_array()
            .ok_or_else(|| malformed("rfc3161Timestamps is not a list"))?,
    };
    if list.len() > 32 {
        return Err(malformed("too many RFC 3161 timestamps"));
    }
    let sig = match signed {
        Signed::Dsse { sig, .. } | Signed::Message { sig, .. } => sig,
    };
    list.iter()
        .map(|t| {
            let der = t["signedTimestamp"]
                .as_str()
                .and_then(|s| B64.decode(s).ok())
                .ok_or_else(|| malformed("signedTimestamp is not base64"))?;
            timestamp::verify_timestamp(&der, sig, trust)
        })
        .collect()
}

/// The DSSE content of a bundle.
pub fn dsse_content(bundle: &Bundle) -> Result<Signed> {
    let (env, payload, sig) = bundle.dsse()?;
    Ok(Signed::Dsse {
        payload_type: env.payload_type.clone(),
        payload,
        sig,
    })
}

/// The message-signature content of a bundle.
pub fn message_content(bundle: &Bundle) -> Result<Signed> {
    let ms = bundle
        .message_signature
        .as_ref()
        .ok_or_else(|| malformed("bundle has neither a DSSE envelope nor a message signature"))?;
    let digest = ms["messageDigest"]["digest"]
        .as_str()
        .and_then(|d| B64.decode(d).ok())
        .and_then(|d| <[u8; 32]>::try_from(d).ok())
        .ok_or_else(|| malformed("message signature has no SHA-256 message digest"))?;
    if ms["messageDigest"]["algorithm"] != "SHA2_256" {
        return Err(malformed("message digest is not SHA2_256"));
    }
    let sig = ms["signature"]
        .as_str()
        .and_then(|d| B64.decode(d).ok())
        .ok_or_else(|| malformed("message signature has no signature"))?;
    Ok(Signed::Message { digest, sig })
}
