//! `msign verify sigstore` and `msign sigstore verify-bundle` on the reference's real
//! Sigstore signatures (public-good instance, verified offline with the embedded root).
//! Each tampering test changes one thing that exactly one check catches, and asserts that
//! check's message, so removing the check makes the test fail.

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

const VERSIONS: [&str; 4] = ["v0.3.1", "v1.0.0", "v1.0.1", "v1.1.0"];
const IDENTITY: &str = "stefanb@us.ibm.com";
const ISSUER: &str = "https://sigstore.verify.ibm.com/oauth2";

/// Copies a fixture folder into a temporary directory; returns (tempdir, model folder).
fn copy_fixture(version: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dst = tmp.path().join("model");
    std::fs::create_dir(&dst).unwrap();
    for e in std::fs::read_dir(reference_fixtures().join(format!("{version}-sigstore"))).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
    }
    (tmp, dst)
}

fn verify(model: &Path, extra: &[&str]) -> Output {
    let mut cmd = msign();
    cmd.args(["verify", "sigstore"])
        .arg(model)
        .arg("--signature")
        .arg(model.join("model.sig"))
        .args(["--ignore-paths"])
        .arg(model.join("ignore-me"));
    let has_identity = extra.contains(&"--identity");
    if !has_identity {
        cmd.args(["--identity", IDENTITY]);
    }
    if !extra
        .iter()
        .any(|a| a.starts_with("--identity-provider") || a.starts_with("--identity_provider"))
    {
        cmd.args(["--identity-provider", ISSUER]);
    }
    cmd.args(extra);
    cmd.output().unwrap()
}

fn edit_bundle(model: &Path, f: impl FnOnce(&mut Value)) {
    let p = model.join("model.sig");
    let mut v: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    f(&mut v);
    std::fs::write(&p, serde_json::to_vec(&v).unwrap()).unwrap();
}

fn assert_fails_with(out: &Output, code: i32, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    assert!(err.contains(needle), "expected '{needle}' in: {err}");
}

/// Like [`assert_fails_with`], for a failure sigstore-verify finds: msign's sentence for
/// the check (`what`) and the crate's detail after it (`detail`) both appear.
fn assert_fails_because(out: &Output, code: i32, what: &str, detail: &str) {
    assert_fails_with(out, code, what);
    assert_fails_with(out, code, "(sigstore-verify: ");
    assert_fails_with(out, code, detail);
}

fn trusted_root_json() -> Value {
    serde_json::from_str(include_str!("../src/sigstore/trusted_root.json")).unwrap()
}

fn write_root(dir: &Path, v: &Value) -> PathBuf {
    let p = dir.join("trusted_root.json");
    std::fs::write(&p, serde_json::to_vec(v).unwrap()).unwrap();
    p
}

#[test]
fn real_signatures_verify_offline() {
    for v in VERSIONS {
        let (_t, m) = copy_fixture(v);
        let out = verify(&m, &[]);
        assert!(
            out.status.success(),
            "{v}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains(IDENTITY));
    }
}

#[test]
fn underscore_spellings_and_trusted_root_flag() {
    let (t, m) = copy_fixture("v1.1.0");
    let root = write_root(t.path(), &trusted_root_json());
    let out = msign()
        .args(["verify", "sigstore"])
        .arg(&m)
        .arg("--signature")
        .arg(m.join("model.sig"))
        .arg("--ignore-paths")
        .arg(m.join("ignore-me"))
        .args([
            "--identity",
            IDENTITY,
            "--identity_provider",
            ISSUER,
            "--trust_config",
        ])
        .arg(&root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = verify(&m, &["--trusted-root", root.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn wrong_identity_fails() {
    for v in VERSIONS {
        let (_t, m) = copy_fixture(v);
        assert_fails_because(
            &verify(&m, &["--identity", "someone@example.com"]),
            1,
            "the signing certificate was issued to another identity than the one expected",
            "identity mismatch: expected someone@example.com, got stefanb@us.ibm.com",
        );
    }
}

#[test]
fn wrong_issuer_fails() {
    for v in VERSIONS {
        let (_t, m) = copy_fixture(v);
        assert_fails_because(
            &verify(
                &m,
                &["--identity-provider", "https://github.com/login/oauth"],
            ),
            1,
            "the signing certificate was vouched for by another OIDC issuer than the one expected",
            "issuer mismatch: expected https://github.com/login/oauth, got",
        );
    }
}

#[test]
fn edited_payload_fails() {
    for v in VERSIONS {
        let (_t, m) = copy_fixture(v);
        edit_bundle(&m, |b| {
            use base64::Engine as _;
            let e = base64::engine::general_purpose::STANDARD;
            let p = e
                .decode(b["dsseEnvelope"]["payload"].as_str().unwrap())
                .unwrap();
            let p = String::from_utf8(p)
                .unwrap()
                .replacen("signme-1", "signme-X", 1);
            b["dsseEnvelope"]["payload"] = Value::String(e.encode(p));
        });
        assert_fails_because(
            &verify(&m, &[]),
            1,
            "the signature in the bundle does not verify with its certificate or key",
            "DSSE signature verification failed",
        );
    }
}

#[test]
fn removed_tlog_entry_fails() {
    for v in VERSIONS {
        let (_t, m) = copy_fixture(v);
        edit_bundle(&m, |b| {
            b["verificationMaterial"]["tlogEntries"] = Value::Array(vec![])
        });
        assert_fails_with(&verify(&m, &[]), 1, "no transparency-log entry");
    }
}

#[test]
fn changed_model_file_fails() {
    for v in VERSIONS {
        let (_t, m) = copy_fixture(v);
        std::fs::write(m.join("signme-2"), b"changed!").unwrap();
        assert_fails_with(&verify(&m, &[]), 1, "model does not match its signature");
    }
}

fn tlog(b: &mut Value) -> &mut Value {
    &mut b["verificationMaterial"]["tlogEntries"][0]
}

#[test]
fn changed_integrated_time_fails_the_signed_entry_timestamp() {
    let (_t, m) = copy_fixture("v1.0.1");
    edit_bundle(&m, |b| {
        let t: i64 = tlog(b)["integratedTime"].as_str().unwrap().parse().unwrap();
        tlog(b)["integratedTime"] = Value::String((t + 1).to_string());
    });
    assert_fails_because(
        &verify(&m, &[]),
        1,
        "the signed entry timestamp (SET) of the transparency-log entry does not verify",
        "SET verification failed",
    );
}

#[test]
fn changed_proof_hash_fails_the_inclusion_proof() {
    let (_t, m) = copy_fixture("v1.0.0");
    edit_bundle(&m, |b| {
        tlog(b)["inclusionProof"]["hashes"][3] =
            Value::String("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into());
    });
    assert_fails_because(
        &verify(&m, &[]),
        1,
        "the transparency-log inclusion proof does not lead to the checkpoint's root hash",
        "inclusion proof verification failed: root hash mismatch",
    );
}

#[test]
fn changed_checkpoint_text_fails_the_checkpoint_signature() {
    let (_t, m) = copy_fixture("v1.1.0");
    edit_bundle(&m, |b| {
        let cp = tlog(b)["inclusionProof"]["checkpoint"]["envelope"]
            .as_str()
            .unwrap()
            .to_string();
        tlog(b)["inclusionProof"]["checkpoint"]["envelope"] =
            Value::String(cp.replacen("rekor.sigstore.dev - ", "rekor.example.dev - ", 1));
    });
    assert_fails_because(
        &verify(&m, &[]),
        1,
        "the transparency-log checkpoint in the bundle is not signed by a log of the trusted root",
        "No valid Rekor signature found on checkpoint",
    );
}

#[test]
fn checkpoint_of_another_tree_fails() {
    let (_t, m) = copy_fixture("v1.1.0");
    edit_bundle(&m, |b| {
        let n: u64 = tlog(b)["inclusionProof"]["treeSize"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        tlog(b)["inclusionProof"]["treeSize"] = Value::String((n + 1).to_string());
    });
    assert_fails_because(
        &verify(&m, &[]),
        1,
        "the transparency-log inclusion proof does not lead to the checkpoint's root hash",
        "inclusion proof verification failed: expected 15 proof hashes, got 14",
    );
}

#[test]
fn missing_inclusion_proof_fails_for_v03_bundles() {
    let (_t, m) = copy_fixture("v1.1.0");
    edit_bundle(&m, |b| {
        tlog(b).as_object_mut().unwrap().remove("inclusionProof");
    });
    assert_fails_because(
        &verify(&m, &[]),
        1,
        "the bundle lacks a part its media type requires",
        "bundle must have an inclusion proof",
    );
}

#[test]
fn untrusted_ct_log_key_fails_the_sct() {
    // The CT log entries keep their ids but carry another key (Rekor's): only the SCT
    // signature check can notice.
    let (t, m) = copy_fixture("v1.1.0");
    let mut root = trusted_root_json();
    let rekor_key = root["tlogs"][0]["publicKey"]["rawBytes"].clone();
    for ct in root["ctlogs"].as_array_mut().unwrap() {
        ct["publicKey"]["rawBytes"] = rekor_key.clone();
    }
    let root = write_root(t.path(), &root);
    assert_fails_because(
        &verify(&m, &["--trusted-root", root.to_str().unwrap()]),
        1,
        "the certificate's signed certificate timestamp (SCT) does not verify against the CT logs",
        "SCT signature verification failed",
    );
}

#[test]
fn untrusted_fulcio_fails_the_chain() {
    let (t, m) = copy_fixture("v1.0.0");
    let mut root = trusted_root_json();
    let staging: Value =
        serde_json::from_str(include_str!("../src/sigstore/trusted_root_staging.json")).unwrap();
    root["certificateAuthorities"] = staging["certificateAuthorities"].clone();
    let root = write_root(t.path(), &root);
    assert_fails_because(
        &verify(&m, &["--trusted-root", root.to_str().unwrap()]),
        1,
        "the signing certificate does not chain to a Fulcio CA of the trusted root",
        "certificate chain validation failed: InvalidSignatureForPublicKey",
    );
}

#[test]
fn fulcio_ca_outside_its_validity_window_fails() {
    let (t, m) = copy_fixture("v1.0.0");
    let mut root = trusted_root_json();
    for ca in root["certificateAuthorities"].as_array_mut().unwrap() {
        ca["validFor"]["end"] = Value::String("2024-01-01T00:00:00Z".into());
    }
    let root = write_root(t.path(), &root);
    assert_fails_because(
        &verify(&m, &["--trusted-root", root.to_str().unwrap()]),
        1,
        "no Fulcio CA of the trusted root was valid at the signing time",
        "no trusted certificate authority is valid at",
    );
}

#[test]
fn tlog_key_outside_its_validity_window_fails() {
    let (t, m) = copy_fixture("v0.3.1");
    let mut root = trusted_root_json();
    root["tlogs"][0]["publicKey"]["validFor"]["end"] = Value::String("2024-01-01T00:00:00Z".into());
    let root = write_root(t.path(), &root);
    assert_fails_because(
        &verify(&m, &["--trusted-root", root.to_str().unwrap()]),
        1,
        "no log key of the trusted root was valid at the entry's integrated time",
        "No log key valid at integrated time",
    );
}

#[test]
fn unknown_tlog_fails() {
    let (t, m) = copy_fixture("v0.3.1");
    let mut root = trusted_root_json();
    root["tlogs"].as_array_mut().unwrap().remove(0);
    let root = write_root(t.path(), &root);
    assert_fails_with(
        &verify(&m, &["--trusted-root", root.to_str().unwrap()]),
        1,
        "is not in the trusted root",
    );
}

#[test]
fn hostile_bundles_fail_cleanly() {
    let (_t, m) = copy_fixture("v1.0.1");
    edit_bundle(&m, |b| {
        tlog(b)["canonicalizedBody"] = Value::String("not base64!".into());
    });
    assert_fails_with(
        &verify(&m, &[]),
        1,
        "not a Sigstore bundle: JSON error: Invalid encoding: invalid base64",
    );
    let (_t, m) = copy_fixture("v1.0.1");
    edit_bundle(&m, |b| {
        b["verificationMaterial"]["certificate"]["rawBytes"] = Value::String("AAAA".into());
    });
    assert_fails_because(
        &verify(&m, &[]),
        1,
        "the signing certificate cannot be parsed",
        "malformed certificate: failed to parse certificate",
    );
    let (_t, m) = copy_fixture("v1.0.1");
    edit_bundle(&m, |b| {
        tlog(b)["inclusionProof"]["checkpoint"]["envelope"] = Value::String("garbage".into());
    });
    assert_fails_with(
        &verify(&m, &[]),
        1,
        "Invalid checkpoint format: missing blank line separator",
    );
}

// ---- sigstore verify-bundle ----

fn verify_bundle(bundle: &Path, artifact: &str, extra: &[&str]) -> Output {
    msign()
        .args(["sigstore", "verify-bundle", "--bundle"])
        .arg(bundle)
        .args(extra)
        .arg(artifact)
        .output()
        .unwrap()
}

/// The statement of the fixture names no single file; its subjects are the model's
/// manifest digest as model_signing writes it.
fn subject_digest(bundle: &Path) -> String {
    use base64::Engine as _;
    let b: Value = serde_json::from_slice(&std::fs::read(bundle).unwrap()).unwrap();
    let p = base64::engine::general_purpose::STANDARD
        .decode(b["dsseEnvelope"]["payload"].as_str().unwrap())
        .unwrap();
    let st: Value = serde_json::from_slice(&p).unwrap();
    st["subject"][0]["digest"]["sha256"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn verify_bundle_accepts_the_subject_digest_and_rejects_others() {
    for v in VERSIONS {
        let (_t, m) = copy_fixture(v);
        let sig = m.join("model.sig");
        let d = subject_digest(&sig);
        let id = [
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            ISSUER,
        ];
        let out = verify_bundle(&sig, &format!("sha256:{d}"), &id);
        assert!(
            out.status.success(),
            "{v}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_fails_with(
            &verify_bundle(&sig, &format!("sha256:{}", "0".repeat(64)), &id),
            1,
            "not a subject",
        );
        assert_fails_with(
            &verify_bundle(
                &sig,
                &format!("sha256:{d}"),
                &[
                    "--certificate-identity",
                    "x@y",
                    "--certificate-oidc-issuer",
                    ISSUER,
                ],
            ),
            1,
            "identity mismatch: expected x@y",
        );
        // A file whose content is not the subject.
        assert_fails_with(
            &verify_bundle(&sig, m.join("signme-1").to_str().unwrap(), &id),
            1,
            "not a subject",
        );
    }
}

#[test]
fn verify_bundle_usage_errors() {
    let (_t, m) = copy_fixture("v1.1.0");
    let sig = m.join("model.sig");
    let out = verify_bundle(
        &sig,
        "sha256:zz",
        &[
            "--certificate-identity",
            IDENTITY,
            "--certificate-oidc-issuer",
            ISSUER,
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let out = verify_bundle(&sig, "sha256:00", &[]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn older_bundle_media_types_verify() {
    // v0.2: the certificate travels as a one-element x509CertificateChain.
    let (_t, m) = copy_fixture("v1.0.1");
    edit_bundle(&m, |b| {
        b["mediaType"] =
            Value::String("application/vnd.dev.sigstore.bundle+json;version=0.2".into());
        let cert = b["verificationMaterial"]["certificate"].take();
        let vm = b["verificationMaterial"].as_object_mut().unwrap();
        vm.remove("certificate");
        vm.insert(
            "x509CertificateChain".into(),
            serde_json::json!({"certificates": [cert]}),
        );
    });
    let out = verify(&m, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // v0.1 bundles may lack the inclusion proof: the signed entry timestamp carries them.
    edit_bundle(&m, |b| {
        b["mediaType"] =
            Value::String("application/vnd.dev.sigstore.bundle+json;version=0.1".into());
        tlog(b).as_object_mut().unwrap().remove("inclusionProof");
    });
    let out = verify(&m, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // ... but not the signed entry timestamp.
    edit_bundle(&m, |b| {
        tlog(b).as_object_mut().unwrap().remove("inclusionPromise");
    });
    assert_fails_because(
        &verify(&m, &[]),
        1,
        "the bundle lacks a part its media type requires",
        "bundles must have an inclusion promise",
    );
}

#[test]
fn verifies_from_inside_the_folder() {
    for (v, extra) in [
        ("v1.0.0", vec![]),
        ("v1.1.0", vec!["--ignore-paths", "ignore-me"]),
    ] {
        let (_t, m) = copy_fixture(v);
        let out = msign()
            .current_dir(&m)
            .args(["verify", "sigstore", ".", "--signature", "model.sig"])
            .args(["--identity", IDENTITY, "--identity_provider", ISSUER])
            .args(&extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{v}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn staging_root_does_not_trust_public_good_signatures() {
    let (_t, m) = copy_fixture("v1.0.1");
    assert_fails_with(
        &verify(&m, &["--use_staging"]),
        1,
        "is not in the trusted root",
    );
    // A trust file and --use-staging together is a usage error.
    let root = write_root(_t.path(), &trusted_root_json());
    let out = verify(
        &m,
        &["--use-staging", "--trusted-root", root.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
}
