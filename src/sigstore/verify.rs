//! Verifying a whole Sigstore bundle against one trusted root and one policy (an identity
//! and its issuer, or a managed key). sigstore-verify does the Sigstore checks; msign keeps
//! two shims for Rekor v2 entries the crate refuses: the `dsse/0.0.2` entries that msign
//! wrote before the spec dropped them ([`legacy_dsse_v2`]), and `hashedrekord/0.0.2` entries
//! whose digest follows a key other than P-256 ([`super::rekor_v2_digest`]).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use openssl::pkey::{PKey, Public};
use sigstore_verify::types::{Bundle as SBundle, DerPublicKey, LogKeyId, Sha256Hash};
use sigstore_verify::{PublicKeyVerificationPolicy, VerificationPolicy};

use crate::bundle::Bundle;
use crate::error::{Error, Result};
use crate::sigstore::trust::TrustedRoot;
use crate::sigstore::{invalid, malformed, rekor_v2_digest};

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
    /// The verified signing time (Unix seconds): the log's integrated time, else the
    /// latest RFC 3161 timestamp.
    pub integrated_time: i64,
}

/// The artifact digest the bundle must bind: for DSSE, the first SHA-256 subject of the
/// statement (what the subjects mean is the caller's check); else the message digest.
fn artifact_digest(signed: &Signed) -> Result<Sha256Hash> {
    match signed {
        Signed::Message { digest, .. } => Ok(Sha256Hash::new(*digest)),
        Signed::Dsse { payload, .. } => {
            let st: serde_json::Value = serde_json::from_slice(payload)
                .map_err(|e| malformed(format!("statement is not JSON: {e}")))?;
            st["subject"]
                .as_array()
                .and_then(|s| s.iter().find_map(|s| s["digest"]["sha256"].as_str()))
                .and_then(|h| Sha256Hash::from_hex(h).ok())
                .ok_or_else(|| malformed("the statement names no subject with a SHA-256 digest"))
        }
    }
}

/// Verifies everything about `bundle` except what the signed content says: the signature,
/// the certificate (chain, SCT, identity, issuer) or managed key, the transparency-log
/// entry (body, inclusion proof, checkpoint, signed entry timestamp) and the RFC 3161
/// timestamps, all against `trust`.
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
    let log_id = m.tlog_entries[0]["logId"]["keyId"]
        .as_str()
        .unwrap_or_default();
    if !trust
        .root()
        .tlogs
        .iter()
        .any(|l| B64.encode(l.log_id.key_id.as_bytes()) == log_id)
    {
        // sigstore-verify reports this as a key not valid at the entry's time; say what it is.
        return Err(invalid(format!(
            "the bundle's transparency log (log id {log_id}) is not in the trusted root: the \
             bundle was logged by another Sigstore instance (pass its trusted root with \
             --trusted-root or --trust-config)"
        )));
    }
    let digest = artifact_digest(signed)?;
    let legacy = legacy_dsse_v2::is_one(&m.tlog_entries[0]);
    let signing_key = rekor_v2_digest::signing_key(bundle, policy);
    let digest_shim = !legacy
        && rekor_v2_digest::is_one(&m.tlog_entries[0], signing_key.as_ref().map(|(k, _)| k));
    if digest_shim && matches!(signed, Signed::Message { .. }) {
        // Refused before the crate's checks, whose errors (e.g. a signature over SHA-384
        // that does not verify as one over the SHA-256 digest) would blame the bundle for
        // what is msign's limit.
        return Err(rekor_v2_digest::message_signature_refused(
            &m.tlog_entries[0],
        ));
    }
    let shim = legacy || digest_shim;
    let timestamps = m
        .timestamp_verification_data
        .as_ref()
        .and_then(|t| t["rfc3161Timestamps"].as_array())
        .map_or(0, Vec::len);
    if shim && timestamps == 0 {
        return Err(invalid(
            "the Rekor v2 entry has no RFC 3161 timestamp to date it",
        ));
    }
    let mut json = serde_json::to_value(bundle).map_err(|e| malformed(e.to_string()))?;
    if shim {
        // The crate cannot check this entry: msign checks it, the crate the rest (each
        // shim's module doc lists which step of `Verifier::verify` it stands in for).
        json["verificationMaterial"]["tlogEntries"] = serde_json::json!([]);
    }
    let sbundle = SBundle::from_json(&json.to_string())
        .map_err(|e| malformed(format!("not a Sigstore bundle: {e}")))?;
    let verifier = trust.verifier();
    let (result, signer) = match policy {
        Policy::Identity { identity, issuer } => {
            let mut p = VerificationPolicy::new(identity.as_str(), issuer.as_str());
            if shim {
                p = p.skip_tlog_unsafe();
            }
            let r = verifier.verify(digest, &sbundle, &p);
            (r, format!("{identity} (issuer {issuer})"))
        }
        Policy::Key(key) => {
            let der = key
                .public_key_to_der()
                .map_err(|e| Error::Other(format!("public key: {e}")))?;
            let mut p = PublicKeyVerificationPolicy::new(DerPublicKey::new(der));
            if shim {
                p = p.skip_tlog_unsafe();
            }
            let r = verifier.verify(digest, &sbundle, &p);
            (r, "managed key".to_string())
        }
    };
    let result = result.map_err(|e| explain(&e))?;
    let times: Vec<i64> = result
        .verified_timestamps()
        .iter()
        .map(|t| t.as_second())
        .collect();
    if legacy {
        legacy_dsse_v2::verify(trust, bundle, signed, &times)?;
    } else if digest_shim {
        rekor_v2_digest::verify(trust, bundle, signed, signing_key.as_ref(), &times)?;
    } else if is_rekor_v2(&m.tlog_entries[0]) {
        rekor_v2_log_keys(trust, &m.tlog_entries[0], &times)?;
        // `intoto/0.0.2` is a Rekor v1 kind; `hashedrekord/0.0.2` exists only in Rekor v2.
        if m.tlog_entries[0]["kindVersion"]["kind"] == "hashedrekord" {
            rekor_v2_index(&m.tlog_entries[0])?;
        }
    }
    let integrated_time = result
        .integrated_time()
        .map(|t| t.as_second())
        .or_else(|| times.iter().copied().max())
        .ok_or_else(|| invalid("the bundle has no verified signing time"))?;
    Ok(Verified {
        signer,
        integrated_time,
    })
}

/// What to do when a bundle may come from another Sigstore instance.
const OTHER_INSTANCE: &str = "if it was signed on another Sigstore instance, pass \
                                         that instance's trusted root with --trusted-root or \
                                         --trust-config";
/// What to do with a bundle that fails a check no genuine bundle fails.
pub(super) const TAMPERED: &str = "the bundle was changed after signing or is damaged; do not \
                                   trust it, and ask the signer for the original";

/// sigstore-verify's error in msign's words: what is wrong, in which part of the bundle,
/// and what to do; the crate's own text follows, for the detail.
fn explain(e: &sigstore_verify::Error) -> Error {
    use sigstore_verify::{
        CertificateError as C, Error as E, TimestampError as T, TransparencyLogError as L,
    };
    let (what, todo) = match e {
        E::IdentityMismatch { .. } => (
            "the signing certificate was issued to another identity than the one expected",
            "check --identity (--certificate-identity) against the identity the certificate \
             names (after 'got')",
        ),
        E::IssuerMismatch { .. } => (
            "the signing certificate was vouched for by another OIDC issuer than the one \
             expected",
            "check --identity-provider (--certificate-oidc-issuer)",
        ),
        E::SignatureInvalid(_) => (
            "the signature in the bundle does not verify with its certificate or key",
            TAMPERED,
        ),
        E::ArtifactMismatch(d) if d.contains("entry") => (
            "the transparency-log entry records another signature, certificate or artifact \
             than the bundle holds",
            TAMPERED,
        ),
        E::ArtifactMismatch(_) => (
            "the bundle was not made for this artifact",
            "check that the bundle and the artifact belong together",
        ),
        E::Certificate(C::Malformed(_)) => ("the signing certificate cannot be parsed", TAMPERED),
        E::Certificate(C::ChainInvalid(_)) => (
            "the signing certificate does not chain to a Fulcio CA of the trusted root",
            OTHER_INSTANCE,
        ),
        E::Certificate(C::NoValidAuthority { .. }) => (
            "no Fulcio CA of the trusted root was valid at the signing time",
            OTHER_INSTANCE,
        ),
        E::Certificate(C::NotYetValid { .. } | C::Expired { .. }) => (
            "the signing certificate was not valid at the signing time the log or the \
             timestamps give",
            TAMPERED,
        ),
        E::Certificate(C::Sct(_)) => (
            "the certificate's signed certificate timestamp (SCT) does not verify against the \
             CT logs of the trusted root",
            OTHER_INSTANCE,
        ),
        E::TransparencyLog(L::UnknownLog { .. }) => (
            "the bundle's transparency log is not in the trusted root",
            OTHER_INSTANCE,
        ),
        E::TransparencyLog(L::InclusionProof(_)) => (
            "the transparency-log inclusion proof does not lead to the checkpoint's root hash",
            TAMPERED,
        ),
        E::TransparencyLog(L::Checkpoint(_)) => (
            "the transparency-log checkpoint in the bundle is not signed by a log of the \
             trusted root",
            OTHER_INSTANCE,
        ),
        E::TransparencyLog(L::InclusionPromise(d)) if d.starts_with("No log key valid") => (
            "no log key of the trusted root was valid at the entry's integrated time",
            OTHER_INSTANCE,
        ),
        E::TransparencyLog(L::InclusionPromise(_)) => (
            "the signed entry timestamp (SET) of the transparency-log entry does not verify \
             with the log's key",
            TAMPERED,
        ),
        E::TransparencyLog(L::EntryMismatch(_)) => (
            "the transparency-log entry records another signature, certificate or artifact \
             than the bundle holds",
            TAMPERED,
        ),
        E::TransparencyLog(L::IntegratedTime(_)) => (
            "the transparency-log entry's integrated time is not usable as the signing time",
            TAMPERED,
        ),
        E::TransparencyLog(L::MalformedEntry(_)) => (
            "the transparency-log entry in the bundle is malformed",
            TAMPERED,
        ),
        E::Timestamp(T::Invalid(_)) => (
            "an RFC 3161 timestamp in the bundle does not verify against the timestamp \
             authorities of the trusted root",
            OTHER_INSTANCE,
        ),
        E::Timestamp(T::OutsideAuthorityValidity { .. }) => (
            "an RFC 3161 timestamp is outside the validity of the timestamp authority that \
             signed it",
            OTHER_INSTANCE,
        ),
        E::Timestamp(T::NoVerifiedTimestamp(_)) => (
            "the bundle has no verified signing time (a log entry's integrated time or an \
             RFC 3161 timestamp of a trusted authority)",
            OTHER_INSTANCE,
        ),
        E::UnsupportedBundle(_) => (
            "the bundle uses a form that msign (sigstore-verify 0.15.1) does not support",
            "verify it with sigstore-python or sigstore-go",
        ),
        E::Bundle(
            sigstore_verify::bundle::Error::CheckpointRootMismatch
            | sigstore_verify::bundle::Error::LogIndexOutOfRange { .. },
        ) => (
            "the transparency-log inclusion proof does not match its checkpoint (root hash, or \
             log index beyond the tree)",
            TAMPERED,
        ),
        E::Bundle(_) => (
            "the bundle lacks a part its media type requires, or holds one that cannot be \
             decoded",
            TAMPERED,
        ),
        E::InvalidBundle(_) | E::Types(_) | E::Crypto(_) => {
            ("the bundle is not a valid Sigstore bundle", TAMPERED)
        }
        E::InvalidTrustRoot(_) | E::TrustRoot(_) | E::TrustedCertificate(_) => (
            "the trusted root cannot be used",
            "check the file given with --trusted-root or --trust-config",
        ),
        _ => ("Sigstore verification failed", TAMPERED),
    };
    invalid(format!("{what}; {todo} (sigstore-verify: {e})"))
}

fn is_rekor_v2(entry: &serde_json::Value) -> bool {
    entry["kindVersion"]["version"] == "0.0.2"
}

/// The trusted root's key of the Rekor v2 log of `entry` at each of `times` (the RFC 3161
/// times that date the entry, which has no integrated time of its own). sigstore-verify
/// asks only that the log key's validity has begun by now; msign also refuses an entry
/// dated outside its log key's validity, as it did before the crates.
fn rekor_v2_log_keys(
    trust: &TrustedRoot,
    entry: &serde_json::Value,
    times: &[i64],
) -> Result<Vec<DerPublicKey>> {
    let id = entry["logId"]["keyId"]
        .as_str()
        .and_then(|s| B64.decode(s).ok())
        .ok_or_else(|| malformed("tlog entry: logId is not base64"))?;
    let log_id = LogKeyId::new(id);
    times
        .iter()
        .map(|&t| {
            let at = jiff::Timestamp::from_second(t)
                .map_err(|e| malformed(format!("signing time: {e}")))?;
            trust.root().rekor_key_for_log_at(&log_id, at).map_err(|_| {
                invalid(format!(
                    "the Rekor v2 log's key was not valid at the time of the entry's timestamp ({at}), or the log is not in the trusted root"
                ))
            })
        })
        .collect()
}

/// A base64 field of a tlog entry or its body, decoded.
pub(super) fn b64(v: &serde_json::Value, what: &str) -> Result<Vec<u8>> {
    v.as_str()
        .and_then(|s| B64.decode(s).ok())
        .ok_or_else(|| malformed(format!("tlog entry: {what} is not base64")))
}

fn hash(v: &serde_json::Value, what: &str) -> Result<Sha256Hash> {
    Sha256Hash::try_from(b64(v, what)?.as_slice())
        .map_err(|_| malformed(format!("tlog entry: {what} is not a SHA-256 hash")))
}

fn number(v: &serde_json::Value, what: &str) -> Result<u64> {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .or_else(|| v.as_u64())
        .ok_or_else(|| malformed(format!("tlog entry: {what} is not a number")))
}

/// The log index of a Rekor v2 entry, which its inclusion proof must name too. Nothing signs
/// either, and sigstore-verify proves inclusion at the entry's index without reading the
/// proof's, but sigstore-python proves it at the proof's: an entry whose two indices differ
/// would verify with one client and not the other, so it verifies with neither. Only for
/// kinds that exist in Rekor v2 alone: a Rekor v1 entry's index is the global one and its
/// proof's the shard's, and they differ there.
fn rekor_v2_index(entry: &serde_json::Value) -> Result<u64> {
    let index = number(&entry["logIndex"], "logIndex")?;
    let proof = number(
        &entry["inclusionProof"]["logIndex"],
        "inclusion proof logIndex",
    )?;
    if proof != index {
        return Err(invalid(format!(
            "the transparency-log entry's inclusion proof is for log index {proof}, but the \
             entry is at log index {index}; {TAMPERED}"
        )));
    }
    Ok(index)
}

/// The canonicalized body of a tlog entry: its bytes (the Merkle leaf) and its JSON.
pub(super) fn entry_body(entry: &serde_json::Value) -> Result<(Vec<u8>, serde_json::Value)> {
    let bytes = b64(&entry["canonicalizedBody"], "canonicalizedBody")?;
    let body = serde_json::from_slice(&bytes)
        .map_err(|e| malformed(format!("tlog entry body is not JSON: {e}")))?;
    Ok((bytes, body))
}

/// What sigstore-verify's step 4 (inclusion proof and signed checkpoint) checks of a Rekor
/// v2 entry, for the entries the shims take from it: the checkpoint carries a signature by
/// the entry's log (its signed-note key hint is the first four bytes of the log id; every
/// signature with that hint is tried) that verifies with the log's key of the trusted root
/// valid at every one of `times`; and the canonicalized body is the leaf at the entry's log
/// index of the tree whose size and root the checkpoint signs. As in the crate and the
/// Rekor v2 spec, the proof's own `rootHash` and `treeSize`, which nothing signs, are not
/// used.
pub(super) fn rekor_v2_inclusion(
    trust: &TrustedRoot,
    entry: &serde_json::Value,
    body: &[u8],
    times: &[i64],
) -> Result<()> {
    use sigstore_verify::crypto::{Checkpoint, VerificationKey};
    use sigstore_verify::types::KeyHint;

    let proof = &entry["inclusionProof"];
    let note = proof["checkpoint"]["envelope"]
        .as_str()
        .ok_or_else(|| malformed("the Rekor v2 entry's inclusion proof has no checkpoint"))?;
    let cp = Checkpoint::from_text(note).map_err(|e| {
        malformed(format!(
            "the Rekor v2 entry's checkpoint cannot be parsed: {e}"
        ))
    })?;
    let id = b64(&entry["logId"]["keyId"], "logId")?;
    let hint = <[u8; 4]>::try_from(id.get(..4).unwrap_or_default())
        .map(KeyHint::new)
        .map_err(|_| malformed("tlog entry: logId is shorter than a key hint"))?;
    let sigs: Vec<_> = cp.signatures_by_key_hint(&hint).collect();
    if sigs.is_empty() {
        return Err(invalid(format!(
            "the transparency-log checkpoint in the bundle carries no signature of the entry's \
             log (key hint {}); {OTHER_INSTANCE}",
            hex::encode(&id[..4])
        )));
    }
    for key in rekor_v2_log_keys(trust, entry, times)? {
        let key = VerificationKey::from_spki(&key)
            .map_err(|e| malformed(format!("the trusted root's key of this log: {e}")))?;
        if !sigs
            .iter()
            .any(|s| key.verify(cp.signed_data(), &s.signature).is_ok())
        {
            return Err(invalid(format!(
                "the transparency-log checkpoint's signature by the entry's log does not \
                 verify with the log's key of the trusted root (the checkpoint was changed, or \
                 signed by another key with the same hint); {TAMPERED}"
            )));
        }
    }
    let hashes = proof["hashes"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .map(|h| hash(h, "inclusion proof hash"))
        .collect::<Result<Vec<_>>>()?;
    let index = rekor_v2_index(entry)?;
    let leaf = sigstore_merkle::hash_leaf(body);
    sigstore_merkle::verify_inclusion_proof(&leaf, index, cp.tree_size(), &hashes, cp.root_hash())
        .map_err(|e| {
            invalid(format!(
                "the transparency-log inclusion proof does not lead from the entry to the \
                 root hash its checkpoint signs; {TAMPERED} (msign: {e})"
            ))
        })
}

/// Rekor v2 `dsse/0.0.2` entries, written by msign before the Sigstore spec replaced them
/// with `hashedrekord/0.0.2` over the PAE (May 2026). sigstore-verify refuses them, so msign
/// checks the entry itself: its body records this envelope's payload, signature and signing
/// certificate; its inclusion proof leads to the checkpoint's root; the checkpoint is
/// signed by a log of the trusted root valid at every verified signing time
/// (`rekor_v2_inclusion`). Everything else (certificate, SCT, identity, signature, RFC
/// 3161 timestamps) is sigstore-verify's.
pub mod legacy_dsse_v2 {
    use super::*;

    /// Whether this tlog entry is a `dsse/0.0.2` one.
    pub fn is_one(entry: &serde_json::Value) -> bool {
        entry["kindVersion"]["kind"] == "dsse" && entry["kindVersion"]["version"] == "0.0.2"
    }

    /// Checks the `dsse/0.0.2` entry of `bundle` (see the module doc); `times` are the
    /// signing times sigstore-verify established from the RFC 3161 timestamps.
    pub fn verify(
        trust: &TrustedRoot,
        bundle: &Bundle,
        signed: &Signed,
        times: &[i64],
    ) -> Result<()> {
        let Signed::Dsse { payload, sig, .. } = signed else {
            return Err(malformed("a dsse tlog entry for a message signature"));
        };
        if times.is_empty() {
            return Err(invalid(
                "the Rekor v2 entry has no verified RFC 3161 timestamp",
            ));
        }
        let m = &bundle.verification_material;
        let entry = &m.tlog_entries[0];
        let (body_bytes, body) = entry_body(entry)?;
        let spec = &body["spec"]["dsseV002"];
        if body["kind"] != "dsse" || body["apiVersion"] != "0.0.2" {
            return Err(invalid("the tlog entry body is not a dsse 0.0.2 entry"));
        }
        let payload_hash = openssl::sha::sha256(payload);
        if spec["payloadHash"]["algorithm"] != "SHA2_256"
            || b64(&spec["payloadHash"]["digest"], "payloadHash")? != payload_hash
        {
            return Err(invalid(
                "the tlog entry records another payload than the envelope's",
            ));
        }
        let sigs = spec["signatures"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let leaf = match &m.certificate {
            Some(c) => c.decode()?,
            None => return Err(malformed("the bundle carries no signing certificate")),
        };
        let [recorded] = sigs else {
            return Err(invalid(
                "the tlog entry does not record exactly one signature",
            ));
        };
        if b64(&recorded["content"], "signature")? != *sig
            || b64(
                &recorded["verifier"]["x509Certificate"]["rawBytes"],
                "verifier certificate",
            )? != leaf
        {
            return Err(invalid(
                "the tlog entry records another signature or certificate than the bundle's",
            ));
        }
        rekor_v2_inclusion(trust, entry, &body_bytes, times)
    }
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
    // A digest other than SHA-256 is a form the spec allows (a P-384 signer's SHA2_384), not
    // damage: say that msign cannot check it, before its length says "no SHA-256 digest".
    if let Some(algorithm) = ms["messageDigest"]["algorithm"]
        .as_str()
        .filter(|a| *a != "SHA2_256")
    {
        return Err(invalid(format!(
            "the message signature signs the artifact's {algorithm} digest, and msign verifies \
             message signatures over SHA2_256 only (it holds only the artifact's SHA-256); \
             verify it with sigstore-python or sigstore-go"
        )));
    }
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
