//! Rekor v1 transparency-log entries: the signed entry timestamp (inclusion promise), the
//! Merkle inclusion proof against a signed checkpoint, and the entry body's agreement with
//! the bundle it sits in.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use openssl::x509::X509;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::error::Result;
use crate::sigstore::checkpoint::{self, Checkpoint};
use crate::sigstore::keys::verify_signature;
use crate::sigstore::merkle::{leaf_hash, verify_inclusion};
use crate::sigstore::trust::{TransparencyLog, TrustedRoot};
use crate::sigstore::{invalid, malformed};

/// An inclusion proof as bundles carry it.
#[derive(Debug, Clone)]
pub struct InclusionProof {
    /// Index of the entry in the tree the proof is for (not the global log index).
    pub log_index: u64,
    /// Root hash the proof leads to.
    pub root_hash: Vec<u8>,
    /// Size of that tree.
    pub tree_size: u64,
    /// Sibling hashes, leaf to root.
    pub hashes: Vec<[u8; 32]>,
    /// The signed checkpoint (note text), when present.
    pub checkpoint: Option<String>,
}

/// A transparency-log entry of a bundle.
#[derive(Debug, Clone)]
pub struct TlogEntry {
    /// Global log index.
    pub log_index: u64,
    /// Id of the log that holds it.
    pub log_id: Vec<u8>,
    /// Entry kind (`dsse`, `hashedrekord`, ...).
    pub kind: String,
    /// Entry kind version (`0.0.1`, `0.0.2`).
    pub version: String,
    /// When the log integrated the entry (Unix seconds); 0 for Rekor v2.
    pub integrated_time: i64,
    /// The signed entry timestamp.
    pub set: Option<Vec<u8>>,
    /// The inclusion proof.
    pub proof: Option<InclusionProof>,
    /// The canonicalized body, decoded.
    pub body: Vec<u8>,
    /// The canonicalized body as the bundle carries it (base64).
    pub body_b64: String,
}

fn int(v: &Value, what: &str) -> Result<i64> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
    .filter(|n| *n >= 0)
    .ok_or_else(|| malformed(format!("tlog entry: {what} is not a non-negative integer")))
}

fn b64(v: &Value, what: &str) -> Result<Vec<u8>> {
    v.as_str()
        .and_then(|s| B64.decode(s).ok())
        .ok_or_else(|| malformed(format!("tlog entry: {what} is not base64")))
}

/// Reads an entry of `verificationMaterial.tlogEntries`.
pub fn parse_entry(v: &Value) -> Result<TlogEntry> {
    let get = |k: &str| {
        v.get(k)
            .ok_or_else(|| malformed(format!("tlog entry has no {k}")))
    };
    let kv = get("kindVersion")?;
    let s = |x: Option<&Value>, what: &str| {
        x.and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| malformed(format!("tlog entry: no {what}")))
    };
    let set = match v.get("inclusionPromise") {
        Some(p) => Some(b64(
            p.get("signedEntryTimestamp").unwrap_or(&Value::Null),
            "signedEntryTimestamp",
        )?),
        None => None,
    };
    let proof = match v.get("inclusionProof") {
        Some(p) => {
            let hashes = p
                .get("hashes")
                .and_then(Value::as_array)
                .ok_or_else(|| malformed("inclusion proof has no hashes"))?
                .iter()
                .map(|h| {
                    b64(h, "inclusion proof hash")?
                        .try_into()
                        .map_err(|_| malformed("inclusion proof hash is not 32 bytes"))
                })
                .collect::<Result<Vec<[u8; 32]>>>()?;
            Some(InclusionProof {
                log_index: int(
                    p.get("logIndex").unwrap_or(&Value::Null),
                    "inclusionProof.logIndex",
                )? as u64,
                root_hash: b64(p.get("rootHash").unwrap_or(&Value::Null), "rootHash")?,
                tree_size: int(p.get("treeSize").unwrap_or(&Value::Null), "treeSize")? as u64,
                hashes,
                checkpoint: p
                    .get("checkpoint")
                    .and_then(|c| c.get("envelope"))
                    .and_then(Value::as_str)
                    .map(str::to_string),
            })
        }
        None => None,
    };
    let body_b64 = s(v.get("canonicalizedBody"), "canonicalizedBody")?;
    Ok(TlogEntry {
        log_index: int(get("logIndex")?, "logIndex")? as u64,
        log_id: b64(
            get("logId")?.get("keyId").unwrap_or(&Value::Null),
            "logId.keyId",
        )?,
        kind: s(kv.get("kind"), "kind")?,
        version: s(kv.get("version"), "version")?,
        integrated_time: match v.get("integratedTime") {
            Some(t) => int(t, "integratedTime")?,
            None => 0,
        },
        set,
        proof,
        body: B64
            .decode(&body_b64)
            .map_err(|_| malformed("canonicalizedBody is not base64"))?,
        body_b64,
    })
}

/// The log of the entry, from the trusted root.
pub fn find_log<'a>(entry: &TlogEntry, trust: &'a TrustedRoot) -> Result<&'a TransparencyLog> {
    trust.tlog(&entry.log_id).ok_or_else(|| {
        invalid(format!(
            "the transparency log {} is not in the trusted root",
            B64.encode(&entry.log_id)
        ))
    })
}

/// Checks the signed entry timestamp: the log's signature over the canonical JSON of
/// `{body, integratedTime, logID, logIndex}`, its promise to include the entry.
pub fn verify_set(entry: &TlogEntry, log: &TransparencyLog) -> Result<()> {
    let set = entry
        .set
        .as_ref()
        .ok_or_else(|| invalid("the tlog entry has no signed entry timestamp"))?;
    // RFC 8785 canonical form: keys sorted, no whitespace; all values are plain ASCII.
    let msg = format!(
        "{{\"body\":{},\"integratedTime\":{},\"logID\":\"{}\",\"logIndex\":{}}}",
        serde_json::Value::String(entry.body_b64.clone()),
        entry.integrated_time,
        hex::encode(&entry.log_id),
        entry.log_index
    );
    if !verify_signature(&log.key, msg.as_bytes(), set)? {
        return Err(invalid(
            "the signed entry timestamp does not verify with the transparency log's key",
        ));
    }
    Ok(())
}

/// Checks the Merkle inclusion proof of the entry's body against the root hash of the
/// checkpoint, and that the checkpoint describes the tree the proof is for.
pub fn verify_inclusion_proof(entry: &TlogEntry) -> Result<Checkpoint> {
    let p = entry
        .proof
        .as_ref()
        .ok_or_else(|| invalid("the tlog entry has no inclusion proof"))?;
    let note = p
        .checkpoint
        .as_deref()
        .ok_or_else(|| invalid("the inclusion proof has no checkpoint"))?;
    let cp = checkpoint::parse(note)?;
    if cp.size != p.tree_size || cp.root_hash != p.root_hash {
        return Err(invalid(
            "the checkpoint does not describe the tree of the inclusion proof (size or root hash differ)",
        ));
    }
    let root: [u8; 32] = cp
        .root_hash
        .as_slice()
        .try_into()
        .map_err(|_| malformed("checkpoint root hash is not 32 bytes"))?;
    verify_inclusion(
        p.log_index,
        p.tree_size,
        leaf_hash(&entry.body),
        &p.hashes,
        &root,
    )?;
    Ok(cp)
}

/// Checks the checkpoint's signature with the key of the entry's log.
pub fn verify_entry_checkpoint(cp: &Checkpoint, log: &TransparencyLog) -> Result<()> {
    let hint: [u8; 4] = log.key_id[..4].try_into().expect("key ids are 32 bytes");
    checkpoint::verify_checkpoint_signature(cp, log, hint)
}

/// Checks that the log's key was trusted when the entry was integrated.
pub fn check_log_validity(entry: &TlogEntry, log: &TransparencyLog) -> Result<()> {
    if !log.valid_for.contains(entry.integrated_time) {
        return Err(invalid(
            "the entry's integrated time is outside the transparency log key's validity in the trusted root",
        ));
    }
    Ok(())
}

fn same_certificate(pem_b64: &str, leaf_der: &[u8]) -> bool {
    B64.decode(pem_b64)
        .ok()
        .and_then(|pem| X509::from_pem(&pem).ok())
        .and_then(|c| c.to_der().ok())
        .is_some_and(|d| d == leaf_der)
}

/// Checks that a `dsse` v0.0.1 entry body records this envelope: the SHA-256 of the payload,
/// the signature and the certificate (or key, PEM) that verifies it.
pub fn check_dsse_body(
    entry: &TlogEntry,
    payload: &[u8],
    sig: &[u8],
    verifier_der: &[u8],
) -> Result<()> {
    if entry.kind != "dsse" || entry.version != "0.0.1" {
        return Err(invalid(format!(
            "tlog entry kind {} {} cannot record a DSSE envelope (expected dsse 0.0.1)",
            entry.kind, entry.version
        )));
    }
    let body: Value = serde_json::from_slice(&entry.body)
        .map_err(|e| malformed(format!("tlog entry body is not JSON: {e}")))?;
    if body["kind"] != "dsse" || body["apiVersion"] != "0.0.1" {
        return Err(invalid(
            "tlog entry body kind differs from the entry's kindVersion",
        ));
    }
    let spec = &body["spec"];
    if spec["payloadHash"]["algorithm"] != "sha256"
        || spec["payloadHash"]["value"] != hex::encode(Sha256::digest(payload)).as_str()
    {
        return Err(invalid(
            "the tlog entry records another payload than this envelope's",
        ));
    }
    let sigs = spec["signatures"]
        .as_array()
        .ok_or_else(|| malformed("tlog entry body has no signatures"))?;
    let matches = sigs.len() == 1
        && sigs[0]["signature"]
            .as_str()
            .and_then(|s| B64.decode(s).ok())
            .is_some_and(|s| s == sig)
        && sigs[0]["verifier"]
            .as_str()
            .is_some_and(|v| same_certificate(v, verifier_der) || same_key(v, verifier_der));
    if !matches {
        return Err(invalid(
            "the tlog entry records another signature or signing certificate than this bundle's",
        ));
    }
    Ok(())
}

fn same_key(pem_b64: &str, spki_der: &[u8]) -> bool {
    B64.decode(pem_b64)
        .ok()
        .and_then(|pem| openssl::pkey::PKey::public_key_from_pem(&pem).ok())
        .and_then(|k| k.public_key_to_der().ok())
        .is_some_and(|d| d == spki_der)
}

/// Checks that a `hashedrekord` v0.0.1 entry body records this message signature: the
/// artifact's SHA-256, the signature and the certificate (or key).
pub fn check_hashedrekord_body(
    entry: &TlogEntry,
    digest: &[u8],
    sig: &[u8],
    verifier_der: &[u8],
) -> Result<()> {
    if entry.kind != "hashedrekord" || entry.version != "0.0.1" {
        return Err(invalid(format!(
            "tlog entry kind {} {} cannot record a message signature (expected hashedrekord 0.0.1)",
            entry.kind, entry.version
        )));
    }
    let body: Value = serde_json::from_slice(&entry.body)
        .map_err(|e| malformed(format!("tlog entry body is not JSON: {e}")))?;
    let spec = &body["spec"];
    let ok = body["kind"] == "hashedrekord"
        && spec["data"]["hash"]["algorithm"] == "sha256"
        && spec["data"]["hash"]["value"] == hex::encode(digest).as_str()
        && spec["signature"]["content"]
            .as_str()
            .and_then(|s| B64.decode(s).ok())
            .is_some_and(|s| s == sig)
        && spec["signature"]["publicKey"]["content"]
            .as_str()
            .is_some_and(|v| same_certificate(v, verifier_der) || same_key(v, verifier_der));
    if !ok {
        return Err(invalid(
            "the tlog entry records another artifact, signature or certificate than this bundle's",
        ));
    }
    Ok(())
}

/// Checks that a Rekor v2 `hashedrekord` 0.0.2 entry body records this digest (of the
/// artifact, or of the DSSE PAE), this signature and this certificate or key.
pub fn check_hashedrekord_v2_body(
    entry: &TlogEntry,
    digest: &[u8],
    sig: &[u8],
    verifier_der: &[u8],
) -> Result<()> {
    if entry.kind != "hashedrekord" || entry.version != "0.0.2" {
        return Err(invalid(format!(
            "tlog entry kind {} {} is not hashedrekord 0.0.2",
            entry.kind, entry.version
        )));
    }
    let body: Value = serde_json::from_slice(&entry.body)
        .map_err(|e| malformed(format!("tlog entry body is not JSON: {e}")))?;
    let spec = &body["spec"]["hashedRekordV002"];
    let b64_is = |v: &Value, want: &[u8]| {
        v.as_str()
            .and_then(|s| B64.decode(s).ok())
            .is_some_and(|d| d == want)
    };
    let verifier = &spec["signature"]["verifier"];
    let ok = body["kind"] == "hashedrekord"
        && body["apiVersion"] == "0.0.2"
        && spec["data"]["algorithm"] == "SHA2_256"
        && b64_is(&spec["data"]["digest"], digest)
        && b64_is(&spec["signature"]["content"], sig)
        && (b64_is(&verifier["x509Certificate"]["rawBytes"], verifier_der)
            || b64_is(&verifier["publicKey"]["rawBytes"], verifier_der));
    if !ok {
        return Err(invalid(
            "the tlog entry records another artifact, signature or certificate than this bundle's",
        ));
    }
    Ok(())
}
