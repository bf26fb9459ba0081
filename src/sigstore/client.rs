//! HTTP clients for Fulcio (v2 `signingCert`) and Rekor (v1 `log/entries`). Answers are
//! untrusted: they are parsed defensively here and verified cryptographically afterwards.

use std::io::Read as _;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use openssl::x509::X509;
use serde_json::{json, Value};

use crate::error::{Error, Result};

/// Answers larger than this are refused.
const MAX_ANSWER: u64 = 8 << 20;

/// The HTTP agent: bounded timeouts, TLS with the platform's web PKI roots.
pub fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(20))
        .timeout(Duration::from_secs(120))
        .user_agent(concat!("msign/", env!("CARGO_PKG_VERSION")))
        .build()
}

pub(crate) fn post_json(url: &str, body: &Value, what: &str) -> Result<Value> {
    let resp = match agent().post(url).send_json(body) {
        Ok(r) => r,
        Err(ureq::Error::Status(code, r)) => {
            let mut text = String::new();
            let _ = r.into_reader().take(2000).read_to_string(&mut text);
            return Err(Error::Other(format!(
                "{what} at {url} refused the request (HTTP {code}): {}",
                text.trim()
            )));
        }
        Err(e) => {
            return Err(Error::Other(format!(
                "{what} at {url} cannot be reached: {e}"
            )))
        }
    };
    let mut buf = Vec::new();
    resp.into_reader()
        .take(MAX_ANSWER)
        .read_to_end(&mut buf)
        .map_err(|e| Error::Other(format!("{what}: reading the answer failed: {e}")))?;
    serde_json::from_slice(&buf)
        .map_err(|e| Error::Other(format!("{what}: the answer is not JSON: {e}")))
}

/// Asks Fulcio for a certificate for `public_key_pem`, proving possession with `proof`
/// (the signature over the token's identity claim). Returns the leaf certificate (DER).
pub fn fulcio_signing_cert(
    base: &str,
    token: &str,
    public_key_pem: &str,
    proof: &[u8],
) -> Result<Vec<u8>> {
    let body = json!({
        "credentials": {"oidcIdentityToken": token},
        "publicKeyRequest": {
            "publicKey": {"algorithm": "ECDSA", "content": public_key_pem},
            "proofOfPossession": B64.encode(proof),
        },
    });
    let v = post_json(&format!("{base}/api/v2/signingCert"), &body, "Fulcio")?;
    let chain = v.get("signedCertificateEmbeddedSct").ok_or_else(|| {
        Error::Other(
            "Fulcio returned no certificate with an embedded SCT (detached SCTs are not supported)"
                .into(),
        )
    })?["chain"]["certificates"]
        .as_array()
        .and_then(|c| c.first())
        .and_then(Value::as_str)
        .ok_or_else(|| Error::Other("Fulcio answer holds no certificate".into()))?;
    X509::from_pem(chain.as_bytes())
        .and_then(|c| c.to_der())
        .map_err(|e| Error::Other(format!("Fulcio returned an unreadable certificate: {e}")))
}

fn hex_to_b64(v: &Value, what: &str) -> Result<String> {
    v.as_str()
        .and_then(|h| hex::decode(h).ok())
        .map(|b| B64.encode(b))
        .ok_or_else(|| Error::Other(format!("Rekor answer: {what} is not hex")))
}

fn num(v: &Value, what: &str) -> Result<String> {
    v.as_u64()
        .map(|n| n.to_string())
        .ok_or_else(|| Error::Other(format!("Rekor answer: {what} is not a number")))
}

/// Records a DSSE envelope in Rekor (kind `dsse` 0.0.1) and returns the bundle's
/// `tlogEntries` element for it.
pub fn rekor_dsse_entry(base: &str, envelope_json: &str, cert_pem: &[u8]) -> Result<Value> {
    rekor_create_entry(
        base,
        &json!({
            "apiVersion": "0.0.1",
            "kind": "dsse",
            "spec": {"proposedContent": {
                "envelope": envelope_json,
                "verifiers": [B64.encode(cert_pem)],
            }},
        }),
    )
}

/// Records a signature over an artifact's SHA-256 in Rekor (kind `hashedrekord` 0.0.1)
/// and returns the bundle's `tlogEntries` element for it.
pub fn rekor_hashedrekord_entry(
    base: &str,
    digest: &[u8],
    sig: &[u8],
    cert_pem: &[u8],
) -> Result<Value> {
    rekor_create_entry(
        base,
        &json!({
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {"algorithm": "sha256", "value": hex::encode(digest)}},
                "signature": {"content": B64.encode(sig), "publicKey": {"content": B64.encode(cert_pem)}},
            },
        }),
    )
}

/// Posts a proposed entry (Rekor v1 API) and converts the answer into a bundle's
/// `tlogEntries` element.
pub fn rekor_create_entry(base: &str, request: &Value) -> Result<Value> {
    let v = post_json(&format!("{base}/api/v1/log/entries"), request, "Rekor")?;
    let (_, e) = v
        .as_object()
        .and_then(|o| o.iter().next())
        .ok_or_else(|| Error::Other("Rekor answer holds no entry".into()))?;
    let ver = &e["verification"];
    let proof = &ver["inclusionProof"];
    let hashes = proof["hashes"]
        .as_array()
        .ok_or_else(|| Error::Other("Rekor answer has no inclusion proof".into()))?
        .iter()
        .map(|h| hex_to_b64(h, "proof hash"))
        .collect::<Result<Vec<_>>>()?;
    let text = |v: &Value, what: &str| {
        v.as_str()
            .map(str::to_string)
            .ok_or_else(|| Error::Other(format!("Rekor answer has no {what}")))
    };
    Ok(json!({
        "logIndex": num(&e["logIndex"], "logIndex")?,
        "logId": {"keyId": hex_to_b64(&e["logID"], "logID")?},
        "kindVersion": {"kind": request["kind"], "version": request["apiVersion"]},
        "integratedTime": num(&e["integratedTime"], "integratedTime")?,
        "inclusionPromise": {"signedEntryTimestamp": text(&ver["signedEntryTimestamp"], "signedEntryTimestamp")?},
        "inclusionProof": {
            "logIndex": num(&proof["logIndex"], "inclusion proof logIndex")?,
            "rootHash": hex_to_b64(&proof["rootHash"], "rootHash")?,
            "treeSize": num(&proof["treeSize"], "treeSize")?,
            "hashes": hashes,
            "checkpoint": {"envelope": text(&proof["checkpoint"], "checkpoint")?},
        },
        "canonicalizedBody": text(&e["body"], "body")?,
    }))
}

/// Asks a timestamp authority for an RFC 3161 timestamp over SHA-256(`signature`) and
/// returns the TimeStampResp (DER). The answer is checked for a granted status and the
/// right message imprint here, and cryptographically with the bundle.
pub fn tsa_timestamp(url: &str, signature: &[u8]) -> Result<Vec<u8>> {
    use crate::sigstore::der::encode;
    const SHA256_OID: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];
    let digest = openssl::sha::sha256(signature);
    let mut nonce = [0u8; 8];
    openssl::rand::rand_bytes(&mut nonce).map_err(|e| Error::Other(format!("randomness: {e}")))?;
    nonce[0] &= 0x7f;
    let alg = encode(
        0x30,
        &[encode(0x06, SHA256_OID), encode(0x05, &[])].concat(),
    );
    let imprint = encode(0x30, &[alg, encode(0x04, &digest)].concat());
    let req = encode(
        0x30,
        &[
            encode(0x02, &[1]),
            imprint,
            encode(0x02, &nonce),
            encode(0x01, &[0xff]),
        ]
        .concat(),
    );
    let resp = match agent()
        .post(url)
        .set("Content-Type", "application/timestamp-query")
        .send_bytes(&req)
    {
        Ok(r) => r,
        Err(ureq::Error::Status(code, _)) => {
            return Err(Error::Other(format!(
                "timestamp authority at {url} refused the request (HTTP {code})"
            )))
        }
        Err(e) => {
            return Err(Error::Other(format!(
                "timestamp authority at {url} cannot be reached: {e}"
            )))
        }
    };
    let mut der = Vec::new();
    resp.into_reader()
        .take(MAX_ANSWER)
        .read_to_end(&mut der)
        .map_err(|e| {
            Error::Other(format!(
                "timestamp authority: reading the answer failed: {e}"
            ))
        })?;
    let token = crate::sigstore::timestamp::token_of(&der)
        .map_err(|e| Error::Other(format!("timestamp authority at {url}: {e}")))?;
    let (info, _) = crate::sigstore::timestamp::tst_info(token)
        .map_err(|e| Error::Other(format!("timestamp authority at {url}: {e}")))?;
    if info.imprint != digest {
        return Err(Error::Other(format!(
            "timestamp authority at {url} timestamped something else"
        )));
    }
    Ok(der)
}
