//! Signing through a Rekor v2 log (dsse 0.0.2 entries, checkpoint-only proofs, no SET,
//! RFC 3161 timestamps as the only signing time) against the loopback test instance, and
//! verifying the result; each tampering fails with its own message.
//!
//! The reference (model_signing 1.1.1 on the sigstore-python installed in the reference
//! venv) cannot verify dsse 0.0.2 entries: its verifier accepts DSSE envelopes in Rekor v2
//! only as hashedrekord 0.0.2 entries over the PAE and fails with "Unsupported DSSE log
//! entry type: dsse/0.0.2". The test asserts that fact, so a reference that learns the
//! real Rekor v2 dsse form makes it fail and get updated.

mod common;
mod sigstore_instance;
use common::*;
use sigstore_instance::{timestamp_tamperings, Edit, Instance, USER};

use std::path::Path;
use std::process::{Command, Output};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::Value;

impl Instance {
    fn sign(&self, model: &Path, sig: &Path, trust_config: &Path) -> Output {
        msign()
            .args(["sign", "sigstore"])
            .arg(model)
            .arg("--signature")
            .arg(sig)
            .arg("--trust-config")
            .arg(trust_config)
            .args(["--identity-token", &self.token(USER)])
            .output()
            .unwrap()
    }

    fn msign_verify(&self, model: &Path, sig: &Path) -> Output {
        self.msign_verify_with(model, sig, &self.trust_config_v2())
    }

    fn reference_verify(&self, model: &Path, sig: &Path) -> Output {
        self.reference_verify_with(model, sig, &self.trust_config_v2())
    }
}

fn entry(b: &mut Value) -> &mut Value {
    &mut b["verificationMaterial"]["tlogEntries"][0]
}

fn flip_b64(v: &mut Value, at: usize) {
    let mut bytes = B64.decode(v.as_str().unwrap()).unwrap();
    let i = at.min(bytes.len() - 1);
    bytes[i] ^= 0x01;
    *v = Value::String(B64.encode(bytes));
}

/// Rewrites the canonicalized body through `f` (on its JSON).
fn edit_body(b: &mut Value, f: impl Fn(&mut Value)) {
    let mut body: Value = serde_json::from_slice(
        &B64.decode(entry(b)["canonicalizedBody"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    f(&mut body["spec"]["dsseV002"]);
    entry(b)["canonicalizedBody"] = Value::String(B64.encode(body.to_string()));
}

#[test]
fn signs_through_rekor_v2_with_dsse_entries_and_verifies() {
    let inst = Instance::start();
    let tmp = tempfile::tempdir().unwrap();
    let m = sample_model(tmp.path());
    let sig = tmp.path().join("model.sig");
    let out = inst.sign(&m, &sig, &inst.trust_config_v2());
    assert!(
        out.status.success(),
        "signing via Rekor v2 failed: {}",
        stderr(&out)
    );

    // The entry is the real Rekor v2 shape: dsse 0.0.2, no SET, no integrated time, a
    // checkpoint; the signing time is the TSA's.
    let v2 = bundle_json(&sig);
    let mut b = v2.clone();
    let e = entry(&mut b).clone();
    assert_eq!(e["kindVersion"]["kind"], "dsse");
    assert_eq!(e["kindVersion"]["version"], "0.0.2");
    assert!(e.get("inclusionPromise").is_none());
    assert!(e.get("integratedTime").is_none());
    assert!(e["inclusionProof"]["checkpoint"]["envelope"]
        .as_str()
        .unwrap()
        .starts_with("log2.msign.test\n"));
    let body: Value = serde_json::from_slice(
        &B64.decode(e["canonicalizedBody"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(body["kind"], "dsse");
    assert_eq!(
        body["spec"]["dsseV002"]["payloadHash"]["algorithm"],
        "SHA2_256"
    );
    assert_eq!(
        v2["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let ours = inst.msign_verify(&m, &sig);
    assert!(
        ours.status.success(),
        "msign rejected its Rekor v2 signature: {}",
        stderr(&ours)
    );

    // The reference's sigstore-python knows Rekor v2 DSSE only as hashedrekord 0.0.2.
    let theirs = inst.reference_verify(&m, &sig);
    assert!(!theirs.status.success());
    let text = format!("{}{}", stdout(&theirs), stderr(&theirs));
    assert!(
        text.contains("Unsupported DSSE log entry type: dsse/0.0.2"),
        "the reference failed for another reason: {text}"
    );

    // A timestamp over another signature, from a second signing.
    let sig2 = tmp.path().join("model2.sig");
    assert!(inst
        .sign(&m, &sig2, &inst.trust_config_v2())
        .status
        .success());
    let other_ts = bundle_json(&sig2)["verificationMaterial"]["timestampVerificationData"].clone();

    let mut cases: Vec<(&str, Edit, &str)> = vec![
        (
            "body payload hash",
            Box::new(|b: &mut Value| {
                edit_body(b, |s| flip_b64(&mut s["payloadHash"]["digest"], 3))
            }),
            "records another payload than this envelope's",
        ),
        (
            "body hash algorithm",
            Box::new(|b: &mut Value| {
                edit_body(b, |s| s["payloadHash"]["algorithm"] = "SHA2_384".into())
            }),
            "records another payload than this envelope's",
        ),
        (
            "body signature",
            Box::new(|b: &mut Value| {
                edit_body(b, |s| flip_b64(&mut s["signatures"][0]["content"], 20))
            }),
            "records another signature or signing certificate",
        ),
        (
            "body verifier",
            Box::new(|b: &mut Value| {
                edit_body(b, |s| {
                    flip_b64(
                        &mut s["signatures"][0]["verifier"]["x509Certificate"]["rawBytes"],
                        60,
                    )
                })
            }),
            "records another signature or signing certificate",
        ),
        (
            "body with a second signature",
            Box::new(|b: &mut Value| {
                edit_body(b, |s| {
                    let first = s["signatures"][0].clone();
                    s["signatures"].as_array_mut().unwrap().push(first);
                })
            }),
            "records another signature or signing certificate",
        ),
        (
            "entry kind",
            Box::new(|b: &mut Value| entry(b)["kindVersion"]["kind"] = "hashedrekord".into()),
            "records another artifact, signature or certificate",
        ),
        (
            "inclusion proof",
            Box::new(|b: &mut Value| flip_b64(&mut entry(b)["inclusionProof"]["hashes"][0], 5)),
            "does not lead to the checkpoint's root hash",
        ),
        (
            "checkpoint",
            Box::new(|b: &mut Value| {
                let e = &mut entry(b)["inclusionProof"]["checkpoint"]["envelope"];
                let cp = e
                    .as_str()
                    .unwrap()
                    .replacen("log2.msign.test\n", "log3.msign.test\n", 1);
                *e = Value::String(cp);
            }),
            "checkpoint signature does not verify",
        ),
    ];
    cases.extend(timestamp_tamperings(other_ts));
    let bad = tmp.path().join("bad.sig");
    for (name, f, needle) in cases {
        let mut b = v2.clone();
        f(&mut b);
        std::fs::write(&bad, b.to_string()).unwrap();
        let out = inst.msign_verify(&m, &bad);
        let err = stderr(&out);
        assert_eq!(
            out.status.code(),
            Some(1),
            "msign accepted a Rekor v2 dsse bundle with a tampered {name}: {err}"
        );
        assert!(err.contains(needle), "{name}: expected '{needle}' in {err}");
    }
}

#[test]
fn rekor_v2_key_must_be_valid_at_the_timestamp() {
    let inst = Instance::start();
    let tmp = tempfile::tempdir().unwrap();
    let m = sample_model(tmp.path());
    let sig = tmp.path().join("model.sig");
    assert!(inst
        .sign(&m, &sig, &inst.trust_config_v2())
        .status
        .success());
    // The v2 log key is only trusted from tomorrow on.
    let mut cfg: Value =
        serde_json::from_slice(&std::fs::read(inst.trust_config_v2()).unwrap()).unwrap();
    let tomorrow = chrono_free_tomorrow();
    for log in cfg["trustedRoot"]["tlogs"].as_array_mut().unwrap() {
        log["publicKey"]["validFor"]["start"] = Value::String(tomorrow.clone());
    }
    let late = tmp.path().join("late.json");
    std::fs::write(&late, cfg.to_string()).unwrap();
    let out = msign()
        .args(["verify", "sigstore"])
        .arg(&m)
        .arg("--signature")
        .arg(&sig)
        .arg("--trust-config")
        .arg(&late)
        .args(["--identity", USER, "--identity-provider", &inst.url])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("outside the transparency log key's validity"),
        "{}",
        stderr(&out)
    );
}

/// RFC 3339 for this time tomorrow, from `date` (no date crate in the tests).
fn chrono_free_tomorrow() -> String {
    let out = Command::new("date")
        .args(["-u", "-d", "tomorrow", "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .expect("date");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn rekor_v2_signing_needs_a_timestamp_authority() {
    let inst = Instance::start();
    let tmp = tempfile::tempdir().unwrap();
    let m = sample_model(tmp.path());
    let mut cfg: Value =
        serde_json::from_slice(&std::fs::read(inst.trust_config_v2()).unwrap()).unwrap();
    cfg["signingConfig"]["tsaUrls"] = serde_json::json!([]);
    let no_tsa = tmp.path().join("no_tsa.json");
    std::fs::write(&no_tsa, cfg.to_string()).unwrap();
    let sig = tmp.path().join("model.sig");
    let out = inst.sign(&m, &sig, &no_tsa);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("names no timestamp authority"),
        "{}",
        stderr(&out)
    );
    assert!(
        !sig.exists(),
        "a signature was written without a signing time"
    );
}
