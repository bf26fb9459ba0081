//! The Sigstore checks, on real bundles (model_signing 0.3.1 to 1.1.0, public-good
//! instance): each genuine bundle verifies, and each altered input, trust root or policy is
//! rejected with an error that names what failed.

mod common;
use common::*;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use msign::bundle::Bundle;
use msign::sigstore::verify::{dsse_content, verify_bundle, Policy};
use msign::sigstore::TrustedRoot;

const IBM: (&str, &str) = (
    "stefanb@us.ibm.com",
    "https://sigstore.verify.ibm.com/oauth2",
);

fn fixture(version: &str) -> serde_json::Value {
    let p = reference_fixtures().join(format!("{version}-sigstore/model.sig"));
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn policy(identity: &str, issuer: &str) -> Policy {
    Policy::Identity {
        identity: identity.into(),
        issuer: issuer.into(),
    }
}

fn verify_json(trust: &TrustedRoot, v: &serde_json::Value, p: &Policy) -> msign::Result<String> {
    let b: Bundle = serde_json::from_value(v.clone()).unwrap();
    verify_bundle(trust, &b, &dsse_content(&b)?, p).map(|v| v.signer)
}

#[test]
fn genuine_bundles_verify_offline_with_the_embedded_root() {
    let trust = TrustedRoot::public_good().unwrap();
    for v in ["v0.3.1", "v1.0.0", "v1.0.1", "v1.1.0"] {
        // All four were signed by one identity (fixtures/model-transparency/CASES.md).
        let signer = verify_json(&trust, &fixture(v), &policy(IBM.0, IBM.1))
            .unwrap_or_else(|e| panic!("{v}: {e}"));
        assert!(signer.contains(IBM.0), "{v}: {signer}");
    }
}

#[test]
fn identity_and_issuer_must_match_the_certificate() {
    let trust = TrustedRoot::public_good().unwrap();
    let b = fixture("v1.0.0");
    for (id, iss) in [
        ("stefanb@us.ibm.co", IBM.1),
        ("", IBM.1),
        (IBM.0, "https://sigstore.verify.ibm.com/oauth"),
    ] {
        let e = verify_json(&trust, &b, &policy(id, iss)).unwrap_err();
        assert!(e.is_verification_failure(), "{e}");
    }
}

#[test]
fn each_tampered_field_is_rejected() {
    let trust = TrustedRoot::public_good().unwrap();
    let p = policy(IBM.0, IBM.1);
    let original = fixture("v1.1.0");
    let entry = ["verificationMaterial", "tlogEntries", "0"];
    // Each tampering with the error sigstore-verify gives for it (the first check that
    // catches it: a flipped signature no longer matches its RFC 3161 timestamp's imprint,
    // a flipped body no longer matches its signed entry timestamp).
    // msign's sentence for the check comes first, then sigstore-verify's detail.
    let set = "the signed entry timestamp (SET) of the transparency-log entry does not verify";
    let proof = "the transparency-log inclusion proof does not lead to the checkpoint's root hash";
    let fields: Vec<(Vec<&str>, [&str; 2])> = vec![
        (
            vec!["dsseEnvelope", "signatures", "0", "sig"],
            [
                "an RFC 3161 timestamp in the bundle does not verify",
                "Timestamp message hash mismatch",
            ],
        ),
        (
            [&entry[..], &["inclusionPromise", "signedEntryTimestamp"]].concat(),
            [set, "SET verification failed"],
        ),
        (
            [&entry[..], &["inclusionProof", "rootHash"]].concat(),
            [
                "the transparency-log inclusion proof does not match its checkpoint",
                "inclusion proof root hash does not match checkpoint root hash",
            ],
        ),
        (
            [&entry[..], &["inclusionProof", "hashes", "0"]].concat(),
            [
                proof,
                "inclusion proof verification failed: root hash mismatch",
            ],
        ),
        (
            [&entry[..], &["canonicalizedBody"]].concat(),
            [set, "SET verification failed"],
        ),
        (
            vec!["verificationMaterial", "certificate", "rawBytes"],
            [
                "the signing certificate does not chain to a Fulcio CA of the trusted root",
                "certificate chain validation failed: InvalidSignatureForPublicKey",
            ],
        ),
    ];
    let mut wrong = Vec::new();
    let mut expect =
        |what: String, v: &serde_json::Value, [headline, detail]: [&str; 2]| match verify_json(
            &trust, v, &p,
        ) {
            Ok(_) => wrong.push(format!("{what}: accepted")),
            Err(e) if !e.to_string().contains(headline) || !e.to_string().contains(detail) => wrong
                .push(format!(
                    "{what}: expected '{headline}' and '{detail}' in: {e}"
                )),
            Err(_) => {}
        };
    for (f, needle) in &fields {
        let mut v = original.clone();
        let mut bytes = B64.decode(field_mut(&mut v, f).as_str().unwrap()).unwrap();
        let n = bytes.len() / 2;
        bytes[n] ^= 1;
        *field_mut(&mut v, f) = serde_json::Value::String(B64.encode(&bytes));
        expect(format!("{f:?} flipped"), &v, *needle);
    }
    let mut v = original.clone();
    let cp = field_mut(
        &mut v,
        &[&entry[..], &["inclusionProof", "checkpoint", "envelope"]].concat(),
    );
    let text = cp.as_str().unwrap().replacen('\n', "\n ", 1);
    *cp = serde_json::Value::String(text);
    expect(
        "checkpoint edited".into(),
        &v,
        [
            "the transparency-log checkpoint in the bundle is not signed by a log of the trusted root",
            "No valid Rekor signature found on checkpoint",
        ],
    );
    let mut v = original.clone();
    let i = field_mut(&mut v, &[&entry[..], &["integratedTime"]].concat());
    let t: i64 = i.as_str().unwrap().parse().unwrap();
    *i = serde_json::Value::String((t + 1).to_string());
    expect(
        "integrated time moved".into(),
        &v,
        [set, "SET verification failed"],
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_trusted_root_must_hold_the_ct_log_and_the_rekor_key() {
    let root: serde_json::Value =
        serde_json::from_str(include_str!("../src/sigstore/trusted_root.json")).unwrap();
    let p = policy(IBM.0, IBM.1);
    let b = fixture("v1.1.0");
    let mut no_ct = root.clone();
    no_ct["ctlogs"] = serde_json::json!([]);
    let trust = TrustedRoot::from_json(no_ct.to_string().as_bytes()).unwrap();
    assert!(verify_json(&trust, &b, &p).is_err(), "no CT log: accepted");
    let mut no_rekor = root.clone();
    no_rekor["tlogs"]
        .as_array_mut()
        .unwrap()
        .retain(|l| l["baseUrl"] != "https://rekor.sigstore.dev");
    let trust = TrustedRoot::from_json(no_rekor.to_string().as_bytes()).unwrap();
    assert!(
        verify_json(&trust, &b, &p).is_err(),
        "no Rekor key: accepted"
    );
}

/// Every truncation and many bit flips of each binary field of a real bundle are rejected
/// with an error, never a panic.
#[test]
fn hostile_mutations_are_errors_not_panics() {
    use msign::sigstore::verify::{verify_bundle, Policy};
    let trust = TrustedRoot::public_good().unwrap();
    let policy = Policy::Identity {
        identity: "stefanb@us.ibm.com".into(),
        issuer: "https://sigstore.verify.ibm.com/oauth2".into(),
    };
    let path = reference_fixtures().join("v1.1.0-sigstore/model.sig");
    let original: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let check = |v: &serde_json::Value| {
        let b: Bundle = match serde_json::from_value(v.clone()) {
            Ok(b) => b,
            Err(_) => return,
        };
        let signed = match dsse_content(&b) {
            Ok(s) => s,
            Err(_) => return,
        };
        assert!(
            verify_bundle(&trust, &b, &signed, &policy).is_err(),
            "accepted: {}",
            serde_json::to_string(
                &v["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]
            )
            .unwrap()
        );
    };
    let fields: Vec<Vec<&str>> = vec![
        vec!["verificationMaterial", "certificate", "rawBytes"],
        vec![
            "verificationMaterial",
            "tlogEntries",
            "0",
            "canonicalizedBody",
        ],
        vec![
            "verificationMaterial",
            "tlogEntries",
            "0",
            "inclusionPromise",
            "signedEntryTimestamp",
        ],
        vec![
            "verificationMaterial",
            "tlogEntries",
            "0",
            "inclusionProof",
            "rootHash",
        ],
        vec!["verificationMaterial", "tlogEntries", "0", "logId", "keyId"],
        vec!["dsseEnvelope", "signatures", "0", "sig"],
    ];
    for f in &fields {
        let mut probe = original.clone();
        let bytes = B64
            .decode(field_mut(&mut probe, f).as_str().unwrap())
            .unwrap();
        let step = (bytes.len() / 40).max(1);
        for cut in (0..bytes.len()).step_by(step) {
            let mut v = original.clone();
            *field_mut(&mut v, f) = serde_json::Value::String(B64.encode(&bytes[..cut]));
            check(&v);
            let mut flipped = bytes.clone();
            flipped[cut] ^= 0x80;
            let mut v = original.clone();
            *field_mut(&mut v, f) = serde_json::Value::String(B64.encode(&flipped));
            check(&v);
        }
    }
    // Checkpoint text: every truncation (except of the final newline alone, which the
    // signature does not cover).
    let cp = original["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]
        ["envelope"]
        .as_str()
        .unwrap()
        .to_string();
    for cut in 0..cp.len() - 1 {
        if !cp.is_char_boundary(cut) {
            continue;
        }
        let mut v = original.clone();
        v["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]["envelope"] =
            serde_json::Value::String(cp[..cut].to_string());
        check(&v);
    }
}

fn field_mut<'a>(mut cur: &'a mut serde_json::Value, path: &[&str]) -> &'a mut serde_json::Value {
    for p in path {
        cur = match p.parse::<usize>() {
            Ok(i) => &mut cur[i],
            Err(_) => &mut cur[*p],
        };
    }
    cur
}
