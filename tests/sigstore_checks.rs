//! The Sigstore checks one by one, on a real bundle (model_signing 1.1.0, public-good
//! instance): each check accepts the genuine material and rejects one altered input.

mod common;
use common::*;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use msign::bundle::Bundle;
use msign::sigstore::verify::{dsse_content, leaf_certificate, verify_content_signature, Signed};
use msign::sigstore::{fulcio, sct, tlog, TrustedRoot};
use openssl::x509::X509;
use x509_parser::prelude::{FromDer, X509Certificate};

fn bundle(version: &str) -> Bundle {
    let p = reference_fixtures().join(format!("{version}-sigstore/model.sig"));
    Bundle::from_json(&std::fs::read(p).unwrap()).unwrap()
}

fn parts(b: &Bundle) -> (Vec<u8>, Vec<u8>, Vec<u8>, tlog::TlogEntry) {
    let leaf = leaf_certificate(b).unwrap().unwrap();
    let (_, payload, sig) = b.dsse().unwrap();
    let entry = tlog::parse_entry(&b.verification_material.tlog_entries[0]).unwrap();
    (leaf, payload, sig, entry)
}

#[test]
fn dsse_signature_is_checked_with_the_certificate_key() {
    let b = bundle("v1.1.0");
    let (leaf, payload, sig, _) = parts(&b);
    let key = X509::from_der(&leaf).unwrap().public_key().unwrap();
    let signed = dsse_content(&b).unwrap();
    verify_content_signature(&key, &signed).unwrap();
    let mut edited = payload.clone();
    edited[10] ^= 1;
    let bad = Signed::Dsse {
        payload_type: msign::bundle::PAYLOAD_TYPE.into(),
        payload: edited,
        sig: sig.clone(),
    };
    assert!(verify_content_signature(&key, &bad).is_err());
    // Another payload type changes the PAE, so the signature no longer covers it.
    let retyped = Signed::Dsse {
        payload_type: "text/plain".into(),
        payload,
        sig,
    };
    assert!(verify_content_signature(&key, &retyped).is_err());
}

#[test]
fn tlog_body_must_record_this_envelope_and_certificate() {
    let b = bundle("v1.0.1");
    let (leaf, payload, sig, entry) = parts(&b);
    tlog::check_dsse_body(&entry, &payload, &sig, &leaf).unwrap();
    let mut other_payload = payload.clone();
    other_payload.push(b' ');
    assert!(tlog::check_dsse_body(&entry, &other_payload, &sig, &leaf).is_err());
    let mut other_sig = sig.clone();
    let n = other_sig.len() - 1;
    other_sig[n] ^= 1;
    assert!(tlog::check_dsse_body(&entry, &payload, &other_sig, &leaf).is_err());
    let other_leaf = leaf_certificate(&bundle("v1.0.0")).unwrap().unwrap();
    assert!(tlog::check_dsse_body(&entry, &payload, &sig, &other_leaf).is_err());
    let mut wrong_kind = entry.clone();
    wrong_kind.kind = "hashedrekord".into();
    assert!(tlog::check_dsse_body(&wrong_kind, &payload, &sig, &leaf).is_err());
}

#[test]
fn integrated_time_must_be_within_the_certificate_validity() {
    let b = bundle("v1.0.0");
    let (leaf, _, _, entry) = parts(&b);
    let (_, cert) = X509Certificate::from_der(&leaf).unwrap();
    fulcio::check_time_in_certificate(&cert, entry.integrated_time).unwrap();
    let v = cert.validity();
    assert!(fulcio::check_time_in_certificate(&cert, v.not_after.timestamp() + 1).is_err());
    assert!(fulcio::check_time_in_certificate(&cert, v.not_before.timestamp() - 1).is_err());
}

#[test]
fn chain_is_checked_at_signing_time() {
    let trust = TrustedRoot::public_good().unwrap();
    let b = bundle("v0.3.1");
    let (leaf, _, _, entry) = parts(&b);
    let x = X509::from_der(&leaf).unwrap();
    fulcio::verify_chain(&x, &trust, entry.integrated_time).unwrap();
    // A day later the ten-minute certificate has expired: the chain is not valid then.
    assert!(fulcio::verify_chain(&x, &trust, entry.integrated_time + 86400).is_err());
}

#[test]
fn sct_is_checked_against_the_issuer_and_ct_log() {
    let trust = TrustedRoot::public_good().unwrap();
    let b = bundle("v1.1.0");
    let (leaf, _, _, entry) = parts(&b);
    let x = X509::from_der(&leaf).unwrap();
    let (_, cert) = X509Certificate::from_der(&leaf).unwrap();
    let (ca, issuer) = fulcio::verify_chain(&x, &trust, entry.integrated_time).unwrap();
    sct::verify_embedded_sct(&leaf, &cert, &issuer, &trust).unwrap();
    // The issuer key is part of what the CT log signed: the root instead of the intermediate fails.
    let root = ca.chain.last().unwrap();
    assert!(sct::verify_embedded_sct(&leaf, &cert, root, &trust).is_err());
    // No CT log in the trust root: fails.
    let mut no_ct = trust.clone();
    no_ct.ctlogs.clear();
    assert!(sct::verify_embedded_sct(&leaf, &cert, &issuer, &no_ct).is_err());
    let scts = sct::embedded_scts(&cert).unwrap();
    assert_eq!(scts.len(), 1);
    assert_eq!(
        B64.encode(&scts[0].log_id),
        "3T0wasbHETJjGR4cmWc3AqJKXrjePK3/h4pygC8p7o4="
    );
}

#[test]
fn identity_and_issuer_come_from_the_certificate() {
    let b = bundle("v1.0.0");
    let (leaf, _, _, _) = parts(&b);
    let (_, cert) = X509Certificate::from_der(&leaf).unwrap();
    assert_eq!(
        fulcio::identities(&cert).unwrap(),
        vec!["stefanb@us.ibm.com".to_string()]
    );
    fulcio::check_identity(&cert, "stefanb@us.ibm.com").unwrap();
    assert!(fulcio::check_identity(&cert, "stefanb@us.ibm.co").is_err());
    assert!(fulcio::check_identity(&cert, "").is_err());
    fulcio::check_issuer(&cert, "https://sigstore.verify.ibm.com/oauth2").unwrap();
    assert!(fulcio::check_issuer(&cert, "https://sigstore.verify.ibm.com/oauth").is_err());
    fulcio::check_code_signing(&cert).unwrap();
}

#[test]
fn signed_entry_timestamp_and_checkpoint_use_the_log_key() {
    let trust = TrustedRoot::public_good().unwrap();
    let b = bundle("v1.0.1");
    let (_, _, _, entry) = parts(&b);
    let log = tlog::find_log(&entry, &trust).unwrap();
    tlog::verify_set(&entry, log).unwrap();
    let cp = tlog::verify_inclusion_proof(&entry).unwrap();
    tlog::verify_entry_checkpoint(&cp, log).unwrap();
    // The other log's key (Rekor v2, Ed25519) must not verify either.
    let mut other = log.clone();
    other.key = trust.tlogs[1].key.clone();
    assert!(tlog::verify_set(&entry, &other).is_err());
    assert!(tlog::verify_entry_checkpoint(&cp, &other).is_err());
    let mut moved = entry.clone();
    moved.log_index += 1;
    assert!(tlog::verify_set(&moved, log).is_err());
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
