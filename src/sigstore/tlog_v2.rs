//! Rekor v2 entries that Rekor v1 did not have: `dsse` 0.0.2 bodies (the Rekor v2 form of a
//! DSSE envelope, `DSSELogEntryV002` of sigstore/protobuf-specs), and the log-key validity
//! check at RFC 3161 signing times (v2 entries carry no integrated time).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::error::Result;
use crate::sigstore::tlog::TlogEntry;
use crate::sigstore::trust::TransparencyLog;
use crate::sigstore::{invalid, malformed};

fn b64_is(v: &Value, want: &[u8]) -> bool {
    v.as_str()
        .and_then(|s| B64.decode(s).ok())
        .is_some_and(|d| d == want)
}

/// Checks that a Rekor v2 `dsse` 0.0.2 entry body records this envelope: the SHA-256 of the
/// payload (`payloadHash`), exactly one signature equal to the envelope's, and as its
/// verifier this certificate (DER) or public key (SPKI DER), with its key details.
///
/// The body is `{"apiVersion":"0.0.2","kind":"dsse","spec":{"dsseV002":{"payloadHash":
/// {"algorithm":"SHA2_256","digest":B64},"signatures":[{"content":B64,"verifier":
/// {"x509Certificate":{"rawBytes":B64}|"publicKey":{"rawBytes":B64},"keyDetails":..}}]}}}`.
pub fn check_dsse_v2_body(
    entry: &TlogEntry,
    payload: &[u8],
    sig: &[u8],
    verifier_der: &[u8],
) -> Result<()> {
    if entry.kind != "dsse" || entry.version != "0.0.2" {
        return Err(invalid(format!(
            "tlog entry kind {} {} is not dsse 0.0.2",
            entry.kind, entry.version
        )));
    }
    let body: Value = serde_json::from_slice(&entry.body)
        .map_err(|e| malformed(format!("tlog entry body is not JSON: {e}")))?;
    if body["kind"] != "dsse" || body["apiVersion"] != "0.0.2" {
        return Err(invalid(
            "tlog entry body kind differs from the entry's kindVersion",
        ));
    }
    let spec = &body["spec"]["dsseV002"];
    let hash = &spec["payloadHash"];
    if hash["algorithm"] != "SHA2_256" || !b64_is(&hash["digest"], &Sha256::digest(payload)) {
        return Err(invalid(
            "the tlog entry records another payload than this envelope's",
        ));
    }
    let sigs = spec["signatures"]
        .as_array()
        .ok_or_else(|| malformed("tlog entry body has no signatures"))?;
    let verifier = sigs.first().map(|s| &s["verifier"]).unwrap_or(&Value::Null);
    let matches = sigs.len() == 1
        && b64_is(&sigs[0]["content"], sig)
        && verifier["keyDetails"]
            .as_str()
            .is_some_and(|k| !k.is_empty())
        && (b64_is(&verifier["x509Certificate"]["rawBytes"], verifier_der)
            || b64_is(&verifier["publicKey"]["rawBytes"], verifier_der));
    if !matches {
        return Err(invalid(
            "the tlog entry records another signature or signing certificate than this bundle's",
        ));
    }
    Ok(())
}

/// Checks that the log's key was trusted at every verified signing time. A Rekor v2 entry
/// has no integrated time, so the RFC 3161 times stand in for it.
pub fn check_log_validity_at(log: &TransparencyLog, times: &[i64]) -> Result<()> {
    if times.iter().any(|&t| !log.valid_for.contains(t)) {
        return Err(invalid(
            "the signing time is outside the transparency log key's validity in the trusted root",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(body: &Value) -> TlogEntry {
        let bytes = body.to_string().into_bytes();
        TlogEntry {
            log_index: 0,
            log_id: vec![0; 32],
            kind: "dsse".into(),
            version: "0.0.2".into(),
            integrated_time: 0,
            set: None,
            proof: None,
            body_b64: B64.encode(&bytes),
            body: bytes,
        }
    }

    fn body(payload: &[u8], sig: &[u8], cert: &[u8]) -> Value {
        serde_json::json!({"apiVersion": "0.0.2", "kind": "dsse", "spec": {"dsseV002": {
            "payloadHash": {"algorithm": "SHA2_256", "digest": B64.encode(Sha256::digest(payload))},
            "signatures": [{"content": B64.encode(sig), "verifier": {
                "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                "x509Certificate": {"rawBytes": B64.encode(cert)}}}]}}})
    }

    #[test]
    fn dsse_v2_body_must_record_this_envelope() {
        let good = body(b"payload", b"sig", b"cert");
        check_dsse_v2_body(&entry(&good), b"payload", b"sig", b"cert").unwrap();
        for (payload, sig, cert) in [
            (&b"other"[..], &b"sig"[..], &b"cert"[..]),
            (b"payload", b"sog", b"cert"),
            (b"payload", b"sig", b"cart"),
        ] {
            assert!(check_dsse_v2_body(&entry(&good), payload, sig, cert).is_err());
        }
        let mut no_details = good.clone();
        no_details["spec"]["dsseV002"]["signatures"][0]["verifier"]["keyDetails"] = Value::Null;
        assert!(check_dsse_v2_body(&entry(&no_details), b"payload", b"sig", b"cert").is_err());
        let mut v1 = entry(&good);
        v1.version = "0.0.1".into();
        assert!(check_dsse_v2_body(&v1, b"payload", b"sig", b"cert").is_err());
    }
}
