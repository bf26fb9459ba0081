//! HTTP client for Rekor v2 (`POST /api/v2/log/entries`, the rekor-tiles API). The answer
//! is a TransparencyLogEntry in protobuf JSON, the bundle's `tlogEntries` element itself;
//! it is only checked for shape here and verified cryptographically with the bundle.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::sigstore::client::post_json;

/// Records a DSSE envelope (the bundle's `dsseEnvelope`, one signature) in a Rekor v2 log as
/// a `dsse` 0.0.2 entry, with the certificate (DER) as its verifier, and returns the
/// bundle's `tlogEntries` element.
pub fn rekor_v2_dsse_entry(
    base: &str,
    envelope: &Value,
    cert_der: &[u8],
    key_details: &str,
) -> Result<Value> {
    let request = json!({"dsseRequestV002": {
        "envelope": envelope,
        "verifiers": [{
            "x509Certificate": {"rawBytes": B64.encode(cert_der)},
            "keyDetails": key_details,
        }],
    }});
    let v = post_json(&format!("{base}/api/v2/log/entries"), &request, "Rekor v2")?;
    let bad = |what: &str| Error::Other(format!("Rekor v2 answer has no {what}"));
    let kv = &v["kindVersion"];
    if kv["kind"] != "dsse" || kv["version"] != "0.0.2" {
        return Err(Error::Other(format!(
            "Rekor v2 logged an entry of kind {} {} instead of dsse 0.0.2",
            kv["kind"], kv["version"]
        )));
    }
    for (field, what) in [
        ("logIndex", "logIndex"),
        ("logId", "logId"),
        ("inclusionProof", "inclusion proof"),
        ("canonicalizedBody", "canonicalizedBody"),
    ] {
        if v.get(field).is_none_or(Value::is_null) {
            return Err(bad(what));
        }
    }
    // Only the fields a bundle holds; anything else the server adds is dropped.
    let mut entry = json!({
        "logIndex": v["logIndex"],
        "logId": v["logId"],
        "kindVersion": kv,
        "inclusionProof": v["inclusionProof"],
        "canonicalizedBody": v["canonicalizedBody"],
    });
    if let Some(p) = v.get("inclusionPromise") {
        entry["inclusionPromise"] = p.clone();
    }
    Ok(entry)
}
