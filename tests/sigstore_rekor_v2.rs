//! Signing through a Rekor v2 log as the spec defines it since May 2026 (the DSSE envelope
//! logged as a `hashedrekord/0.0.2` entry over the SHA-256 of its PAE, checkpoint-only
//! proofs, no SET, RFC 3161 timestamps as the only signing time) against the loopback test
//! instance, and verifying the result with msign, the reference (model_signing 1.1.1) and
//! sigstore-python 4.5.1; each tampering fails. Bundles of earlier msign builds, whose
//! entries are `dsse/0.0.2`, still verify through msign's shim, and their tamperings fail.
//! Bundles of P-384 signers (keyless or a managed key), whose entries record SHA2_384 as the
//! spec says, verify through the other shim; its refusals (tamperings, another key, message
//! signatures, hostile entries) each have their own message.

mod common;
mod sigstore_instance;
use common::*;
use sigstore_instance::{checkpoint_of_another_log, timestamp_tamperings, Edit, Instance, USER};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
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

    /// The same bundle with its entry re-logged as `dsse/0.0.2`, as earlier msign wrote it.
    fn as_legacy_dsse(&self, bundle: &Value) -> Value {
        post_json(&format!("{}/test/rekor-v2-dsse", self.url), bundle)
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

/// Rewrites the canonicalized body's spec (`spec.<key>`) through `f`.
fn edit_body(b: &mut Value, key: &str, f: impl Fn(&mut Value)) {
    let mut body: Value = serde_json::from_slice(
        &B64.decode(entry(b)["canonicalizedBody"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    f(&mut body["spec"][key]);
    entry(b)["canonicalizedBody"] = Value::String(B64.encode(body.to_string()));
}

/// `edit`, then the instance logs the entry body afresh and timestamps the signature anew,
/// so that the edit gets past the inclusion proof and the timestamp and reaches the check
/// of what the entry records (or of the signature).
fn relogged(url: &str, edit: impl Fn(&mut Value) + 'static) -> Edit {
    let url = format!("{url}/test/rekor-v2-relog");
    Box::new(move |b: &mut Value| {
        edit(b);
        *b = post_json(&url, b);
    })
}

/// sigstore-python 4.5.1 (MSIGN_SIGSTORE_PYTHON, installed by .ci/run) verifying `bundle`
/// for the model's statement: the artifact is the statement's subject digest.
fn sigstore_python_verify(inst: &Instance, bundle: &Path) -> Output {
    let python = std::env::var("MSIGN_SIGSTORE_PYTHON")
        .expect("MSIGN_SIGSTORE_PYTHON: the sigstore 4.5.1 venv's python (see .ci/run)");
    let program = r#"
import json, sys
from sigstore.models import Bundle, ClientTrustConfig
from sigstore.verify import Verifier, policy
cfg = ClientTrustConfig.from_json(open(sys.argv[1]).read())
bundle = Bundle.from_json(open(sys.argv[2]).read())
verifier = Verifier(trusted_root=cfg.trusted_root)
payload_type, payload = verifier.verify_dsse(bundle, policy.Identity(identity=sys.argv[3], issuer=sys.argv[4]))
print(payload_type)
"#;
    Command::new(python)
        .arg("-c")
        .arg(program)
        .arg(inst.trust_config_v2())
        .arg(bundle)
        .arg(USER)
        .arg(&inst.url)
        .output()
        .unwrap()
}

#[test]
fn signs_through_rekor_v2_with_hashedrekord_entries_and_verifies() {
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

    // The entry is the Rekor v2 shape of the spec: hashedrekord 0.0.2 over the PAE's
    // SHA-256 (the key is P-256), no SET, no integrated time, a checkpoint; the signing
    // time is the TSA's.
    let v2 = bundle_json(&sig);
    let mut b = v2.clone();
    let e = entry(&mut b).clone();
    assert_eq!(e["kindVersion"]["kind"], "hashedrekord");
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
    assert_eq!(body["kind"], "hashedrekord");
    let data = &body["spec"]["hashedRekordV002"]["data"];
    assert_eq!(data["algorithm"], "SHA2_256");
    let env = &v2["dsseEnvelope"];
    let payload = B64.decode(env["payload"].as_str().unwrap()).unwrap();
    let pae = msign::bundle::pae(env["payloadType"].as_str().unwrap(), &payload);
    assert_eq!(
        B64.decode(data["digest"].as_str().unwrap()).unwrap(),
        openssl::sha::sha256(&pae)
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
    let theirs = inst.reference_verify(&m, &sig);
    assert!(
        theirs.status.success(),
        "the reference rejected msign's Rekor v2 signature: {}{}",
        stdout(&theirs),
        stderr(&theirs)
    );
    let py = sigstore_python_verify(&inst, &sig);
    assert!(
        py.status.success(),
        "sigstore-python 4.5.1 rejected msign's Rekor v2 bundle: {}",
        stderr(&py)
    );

    // A timestamp over another signature, from a second signing.
    let sig2 = tmp.path().join("model2.sig");
    assert!(inst
        .sign(&m, &sig2, &inst.trust_config_v2())
        .status
        .success());
    let other_ts = bundle_json(&sig2)["verificationMaterial"]["timestampVerificationData"].clone();

    let hr = "hashedRekordV002";
    let mut cases: Vec<(&str, Edit, &str)> = vec![
        (
            "body digest",
            relogged(&inst.url, move |b: &mut Value| {
                edit_body(b, hr, |s| flip_b64(&mut s["data"]["digest"], 3))
            }),
            "the transparency-log entry records another signature, certificate or artifact than the bundle holds … artifact hash mismatch for hashedrekord entry",
        ),
        (
            "body signature",
            relogged(&inst.url, move |b: &mut Value| {
                edit_body(b, hr, |s| flip_b64(&mut s["signature"]["content"], 20))
            }),
            "the transparency-log entry records another signature, certificate or artifact than the bundle holds … DSSE signature in bundle does not match signature in Rekor entry",
        ),
        (
            "body verifier",
            relogged(&inst.url, move |b: &mut Value| {
                edit_body(b, hr, |s| {
                    flip_b64(
                        &mut s["signature"]["verifier"]["x509Certificate"]["rawBytes"],
                        60,
                    )
                })
            }),
            "the transparency-log entry records another signature, certificate or artifact than the bundle holds … certificate in bundle does not match certificate in Rekor entry",
        ),
        (
            "entry kind",
            Box::new(|b: &mut Value| entry(b)["kindVersion"]["kind"] = "dsse".into()),
            "the tlog entry body is not a dsse 0.0.2 entry",
        ),
        (
            "inclusion proof",
            Box::new(|b: &mut Value| flip_b64(&mut entry(b)["inclusionProof"]["hashes"][0], 5)),
            "the transparency-log inclusion proof does not lead to the checkpoint's root hash … inclusion proof verification failed: root hash mismatch",
        ),
        (
            "checkpoint",
            checkpoint_of_another_log(),
            "the transparency-log checkpoint in the bundle is not signed by a log of the trusted root … No valid Rekor signature found on checkpoint",
        ),
        (
            "DSSE signature",
            relogged(&inst.url, |b: &mut Value| {
                flip_b64(&mut b["dsseEnvelope"]["signatures"][0]["sig"], 20)
            }),
            "the signature in the bundle does not verify with its certificate or key … DSSE signature verification failed",
        ),
    ];
    cases.extend(timestamp_tamperings(other_ts.clone()));
    check_tamperings(&inst, &m, &v2, cases, tmp.path());

    // The bundles of earlier msign builds: dsse 0.0.2 entries, checked by msign's shim.
    let legacy = inst.as_legacy_dsse(&v2);
    assert_eq!(
        legacy["verificationMaterial"]["tlogEntries"][0]["kindVersion"]["kind"],
        "dsse"
    );
    let old = tmp.path().join("old.sig");
    std::fs::write(&old, legacy.to_string()).unwrap();
    let out = inst.msign_verify(&m, &old);
    assert!(
        out.status.success(),
        "msign rejected a dsse 0.0.2 bundle: {}",
        stderr(&out)
    );
    let ds = "dsseV002";
    let mut cases: Vec<(&str, Edit, &str)> = vec![
        (
            "dsse body payload hash",
            relogged(&inst.url, move |b: &mut Value| {
                edit_body(b, ds, |s| flip_b64(&mut s["payloadHash"]["digest"], 3))
            }),
            "records another payload than the envelope's",
        ),
        (
            "dsse body hash algorithm",
            relogged(&inst.url, move |b: &mut Value| {
                edit_body(b, ds, |s| s["payloadHash"]["algorithm"] = "SHA2_384".into())
            }),
            "records another payload than the envelope's",
        ),
        (
            "dsse body signature",
            relogged(&inst.url, move |b: &mut Value| {
                edit_body(b, ds, |s| flip_b64(&mut s["signatures"][0]["content"], 20))
            }),
            "records another signature or certificate",
        ),
        (
            "dsse body verifier",
            relogged(&inst.url, move |b: &mut Value| {
                edit_body(b, ds, |s| {
                    flip_b64(
                        &mut s["signatures"][0]["verifier"]["x509Certificate"]["rawBytes"],
                        60,
                    )
                })
            }),
            "records another signature or certificate",
        ),
        (
            "dsse body with a second signature",
            relogged(&inst.url, move |b: &mut Value| {
                edit_body(b, ds, |s| {
                    let first = s["signatures"][0].clone();
                    s["signatures"].as_array_mut().unwrap().push(first);
                })
            }),
            "does not record exactly one signature",
        ),
        (
            "dsse inclusion proof",
            Box::new(|b: &mut Value| flip_b64(&mut entry(b)["inclusionProof"]["hashes"][0], 5)),
            "the transparency-log inclusion proof does not lead from the entry to the root hash its checkpoint signs … root hash mismatch",
        ),
        (
            "dsse checkpoint",
            checkpoint_of_another_log(),
            "the transparency-log checkpoint's signature by the entry's log does not verify",
        ),
        (
            "dsse envelope signature",
            relogged(&inst.url, |b: &mut Value| {
                flip_b64(&mut b["dsseEnvelope"]["signatures"][0]["sig"], 20)
            }),
            "the signature in the bundle does not verify with its certificate or key … DSSE signature verification failed",
        ),
    ];
    cases.extend(
        timestamp_tamperings(other_ts)
            .into_iter()
            .map(|(name, f, needle)| match name {
                // The shim's own check: nothing else dates a dsse 0.0.2 entry.
                "timestamps removed" => (name, f, "no RFC 3161 timestamp to date it"),
                _ => (name, f, needle),
            }),
    );
    check_tamperings(&inst, &m, &legacy, cases, tmp.path());
}

/// Each edit of `genuine` must make msign's verification fail (exit 1) with `needle`.
fn check_tamperings(
    inst: &Instance,
    m: &Path,
    genuine: &Value,
    cases: Vec<(&str, Edit, &str)>,
    tmp: &Path,
) {
    check_tamperings_with(genuine, cases, tmp, |bad| inst.msign_verify(m, bad));
}

/// Each edit of `genuine`, written to a file, must make `verify` of that file fail (exit 1,
/// no panic) with `needle`.
fn check_tamperings_with(
    genuine: &Value,
    cases: Vec<(&str, Edit, &str)>,
    tmp: &Path,
    verify: impl Fn(&Path) -> Output,
) {
    let bad = tmp.join("bad.sig");
    let mut wrong = Vec::new();
    for (name, f, needle) in cases {
        let mut b = genuine.clone();
        f(&mut b);
        std::fs::write(&bad, b.to_string()).unwrap();
        let out = verify(&bad);
        let err = stderr(&out);
        if out.status.code() != Some(1) || !says(&err, needle) {
            wrong.push(format!(
                "{name}: exit {:?}, expected '{needle}' in: {err}",
                out.status.code()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A Rekor v2 entry has no integrated time: its log's key must have been valid at the RFC
/// 3161 time that dates it. A key valid only from tomorrow is refused by sigstore-verify; a
/// key valid from a moment after the timestamp but before now is accepted by
/// sigstore-verify (it asks only that the key's validity has begun by now) and refused by
/// msign's own check.
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
    std::thread::sleep(std::time::Duration::from_secs(2));
    let cases = [
        (
            "tomorrow",
            "the transparency-log checkpoint in the bundle is not signed by a log of the trusted root … No matching Rekor key found for checkpoint signature",
        ),
        (
            "now",
            "the Rekor v2 log's key was not valid at the time of the entry's timestamp",
        ),
    ];
    for (when, needle) in cases {
        let mut cfg: Value =
            serde_json::from_slice(&std::fs::read(inst.trust_config_v2()).unwrap()).unwrap();
        let start = utc(when);
        for log in cfg["trustedRoot"]["tlogs"].as_array_mut().unwrap() {
            log["publicKey"]["validFor"]["start"] = Value::String(start.clone());
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
        assert_eq!(out.status.code(), Some(1), "{when}: {}", stderr(&out));
        assert!(says(&stderr(&out), needle), "{when}: {}", stderr(&out));
    }
}

/// RFC 3339 for `when` (a `date -d` phrase), from `date` (no date crate in the tests).
fn utc(when: &str) -> String {
    let out = Command::new("date")
        .args(["-u", "-d", when, "+%Y-%m-%dT%H:%M:%SZ"])
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

/// A bundle that an earlier msign build (before the sigstore-rust crates) made through a
/// Rekor v2 log, whose entry is `dsse/0.0.2`, still verifies offline; the same bundle over a
/// changed model does not.
#[test]
fn a_dsse_v2_bundle_of_an_earlier_msign_build_verifies() {
    let dir = fixtures().join("msign-legacy-dsse-v2");
    let issuer = std::fs::read_to_string(dir.join("issuer")).unwrap();
    let verify = |model: &Path| {
        msign()
            .args(["verify", "sigstore"])
            .arg(model)
            .arg("--signature")
            .arg(dir.join("model.sig"))
            .arg("--trust-config")
            .arg(dir.join("trust_config_v2.json"))
            .args(["--identity", USER, "--identity-provider", issuer.trim()])
            .output()
            .unwrap()
    };
    let kind = &bundle_json(&dir.join("model.sig"))["verificationMaterial"]["tlogEntries"][0]
        ["kindVersion"];
    assert_eq!(kind["kind"], "dsse");
    assert_eq!(kind["version"], "0.0.2");
    let out = verify(&dir.join("model"));
    assert!(out.status.success(), "{}", stderr(&out));
    let tmp = tempfile::tempdir().unwrap();
    let changed = tmp.path().join("model");
    copy_dir(&dir.join("model"), &changed);
    std::fs::write(changed.join("a.txt"), "changed\n").unwrap();
    let out = verify(&changed);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("does not match"), "{}", stderr(&out));
}

/// The committed bundle of a P-384 signer (`fixtures/msign-p384-rekor-v2`, made once by its
/// `make.py`), whose Rekor v2 entry records SHA2_384 and so is checked by msign's shim alone,
/// verifies offline with `verify sigstore` and `sigstore verify-bundle`, its certificate
/// checked at its timestamp's time (it expired minutes after signing); one flipped byte of
/// its logged digest is refused by the shim, one of the model by the manifest check.
#[test]
fn the_committed_p384_rekor_v2_bundle_verifies_offline() {
    let dir = fixtures().join("msign-p384-rekor-v2");
    let issuer = std::fs::read_to_string(dir.join("issuer")).unwrap();
    let issuer = issuer.trim().to_string();
    let trust = dir.join("trust_config_v2.json");
    let genuine = bundle_json(&dir.join("model.sig"));
    let body = entry_body_json(&genuine);
    let spec = &body["spec"]["hashedRekordV002"];
    assert_eq!(spec["data"]["algorithm"], "SHA2_384");
    assert_eq!(
        spec["signature"]["verifier"]["keyDetails"],
        "PKIX_ECDSA_P384_SHA_384"
    );
    let verify = |model: &Path, sig: &Path| {
        msign()
            .args(["verify", "sigstore"])
            .arg(model)
            .arg("--signature")
            .arg(sig)
            .arg("--trust-config")
            .arg(&trust)
            .args(["--identity", USER, "--identity-provider", &issuer])
            .output()
            .unwrap()
    };
    let subject = statement_of(&dir.join("model.sig"))["subject"][0]["digest"]["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    let verify_bundle = |sig: &Path| {
        msign()
            .args(["sigstore", "verify-bundle", "--bundle"])
            .arg(sig)
            .args(["--certificate-identity", USER])
            .args(["--certificate-oidc-issuer", &issuer])
            .arg("--trusted-root")
            .arg(&trust)
            .arg(format!("sha256:{subject}"))
            .output()
            .unwrap()
    };
    let out = verify(&dir.join("model"), &dir.join("model.sig"));
    assert!(out.status.success(), "verify sigstore: {}", stderr(&out));
    let out = verify_bundle(&dir.join("model.sig"));
    assert!(out.status.success(), "verify-bundle: {}", stderr(&out));

    let tmp = tempfile::tempdir().unwrap();
    let flipped = || -> Vec<(&str, Edit, &str)> {
        vec![(
            "a byte of the logged digest",
            Box::new(|b: &mut Value| {
                edit_body(b, "hashedRekordV002", |s| {
                    flip_b64(&mut s["data"]["digest"], 3)
                })
            }),
            "the transparency-log entry records another artifact than the bundle's envelope (its digest is not the SHA2_384 of the envelope's PAE)",
        )]
    };
    check_tamperings_with(&genuine, flipped(), tmp.path(), |bad| {
        verify(&dir.join("model"), bad)
    });
    check_tamperings_with(&genuine, flipped(), tmp.path(), verify_bundle);

    let changed = tmp.path().join("model");
    copy_dir(&dir.join("model"), &changed);
    let weights = changed.join("weights.bin");
    let mut bytes = std::fs::read(&weights).unwrap();
    bytes[100] ^= 0x01;
    std::fs::write(&weights, bytes).unwrap();
    let out = verify(&changed, &dir.join("model.sig"));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("does not match"), "{}", stderr(&out));
}

/// A Rekor v2 entry whose inclusion proof names another log index than the entry (nothing
/// signs either; sigstore-python proves inclusion at the proof's, sigstore-verify at the
/// entry's) is refused, on the P-384 shim's path (the committed P-384 bundle) and on
/// sigstore-verify's (the P-256 sigstore-conformance Rekor v2 bundle), by both commands.
#[test]
fn a_rekor_v2_proof_for_another_log_index_is_refused() {
    let p384 = fixtures().join("msign-p384-rekor-v2");
    let p384_issuer = std::fs::read_to_string(p384.join("issuer")).unwrap();
    let conf = fixtures().join("sigstore-conformance");
    let beacon = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
    let cases = [
        (
            p384.join("model.sig"),
            p384.join("trust_config_v2.json"),
            USER,
            p384_issuer.trim().to_string(),
            format!(
                "sha256:{}",
                statement_of(&p384.join("model.sig"))["subject"][0]["digest"]["sha256"]
                    .as_str()
                    .unwrap()
            ),
        ),
        (
            conf.join("rekor2-dsse-happy-path/bundle.sigstore.json"),
            conf.join("rekor2-dsse-happy-path/trusted_root.json"),
            beacon,
            "https://token.actions.githubusercontent.com".to_string(),
            conf.join("a.txt").display().to_string(),
        ),
    ];
    let tmp = tempfile::tempdir().unwrap();
    for (bundle, root, identity, issuer, artifact) in cases {
        let verify = |sig: &Path| {
            msign()
                .args(["sigstore", "verify-bundle", "--bundle"])
                .arg(sig)
                .args(["--certificate-identity", identity])
                .args(["--certificate-oidc-issuer", &issuer])
                .arg("--trusted-root")
                .arg(&root)
                .arg(&artifact)
                .output()
                .unwrap()
        };
        let out = verify(&bundle);
        assert!(
            out.status.success(),
            "{}: {}",
            bundle.display(),
            stderr(&out)
        );
        let genuine = bundle_json(&bundle);
        let index = entry(&mut genuine.clone())["logIndex"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap();
        let cases: Vec<(&str, Edit, &str)> = vec![(
            "proof for another index",
            Box::new(move |b: &mut Value| {
                entry(b)["inclusionProof"]["logIndex"] = (index + 1).to_string().into()
            }),
            "the transparency-log entry's inclusion proof is for log index",
        )];
        check_tamperings_with(&genuine, cases, tmp.path(), verify);
    }
}

/// `sig` (ECDSA, DER) by `key` over `data`, hashed with `md`.
fn ecdsa(key: &PKey<Private>, md: MessageDigest, data: &[u8]) -> Vec<u8> {
    let mut s = openssl::sign::Signer::new(md, key).unwrap();
    s.update(data).unwrap();
    s.sign_to_vec().unwrap()
}

/// An RFC 3161 TimeStampResp of the instance's TSA over SHA-256(`message`), requested as
/// sigstore clients do (`openssl ts -query` builds the request).
fn tsa_timestamp(inst: &Instance, message: &[u8], tmp: &Path) -> Vec<u8> {
    let query = tmp.join("q.tsq");
    let out = Command::new("openssl")
        .args(["ts", "-query", "-sha256", "-cert", "-no_nonce", "-digest"])
        .arg(hex::encode(openssl::sha::sha256(message)))
        .arg("-out")
        .arg(&query)
        .output()
        .unwrap();
    assert!(out.status.success(), "openssl ts -query: {}", stderr(&out));
    let resp = reqwest::blocking::Client::new()
        .post(format!("{}/tsa", inst.url))
        .header("Content-Type", "application/timestamp-query")
        .body(std::fs::read(&query).unwrap())
        .send()
        .unwrap()
        .error_for_status()
        .unwrap();
    resp.bytes().unwrap().to_vec()
}

/// A fresh ECDSA P-384 key.
fn p384_key() -> PKey<Private> {
    use openssl::ec::{EcGroup, EcKey};
    use openssl::nid::Nid;
    PKey::from_ec_key(EcKey::generate(&EcGroup::from_curve_name(Nid::SECP384R1).unwrap()).unwrap())
        .unwrap()
}

/// `genuine` (a model bundle msign made through Rekor v2) signed again as a P-384 signer
/// would: a P-384 key certified by the instance's Fulcio for [`USER`], the envelope's PAE
/// signed with ECDSA SHA-384, logged through the instance's Rekor v2 API as
/// `hashedrekord/0.0.2` over SHA-384(PAE) (the digest follows the key), and timestamped by
/// its TSA.
fn p384_bundle(inst: &Instance, genuine: &Value, tmp: &Path) -> Value {
    let key = p384_key();
    let cert = p384_certificate(inst, &key);
    let mut b = resigned_p384(
        inst,
        genuine,
        &key,
        serde_json::json!({"x509Certificate": {"rawBytes": B64.encode(&cert)}}),
        tmp,
    );
    b["verificationMaterial"]["certificate"]["rawBytes"] = B64.encode(&cert).into();
    b
}

/// A certificate (DER) of the instance's Fulcio for `key` and [`USER`].
fn p384_certificate(inst: &Instance, key: &PKey<Private>) -> Vec<u8> {
    let pem = String::from_utf8(key.public_key_to_pem().unwrap()).unwrap();
    let proof = ecdsa(key, MessageDigest::sha256(), USER.as_bytes());
    inst.fulcio_certificate(&inst.token(USER), &pem, &proof)
}

/// `genuine` signed again by the managed P-384 `key` (no certificate: the bundle names
/// the key by its hint, and the Rekor v2 entry's verifier is the key itself), logged and
/// timestamped as in [`p384_bundle`].
fn p384_managed_key_bundle(
    inst: &Instance,
    genuine: &Value,
    key: &PKey<Private>,
    tmp: &Path,
) -> Value {
    let der = key.public_key_to_der().unwrap();
    let mut b = resigned_p384(
        inst,
        genuine,
        key,
        serde_json::json!({"publicKey": {"rawBytes": B64.encode(&der)}}),
        tmp,
    );
    let m = b["verificationMaterial"].as_object_mut().unwrap();
    m.remove("certificate");
    m.insert(
        "publicKey".into(),
        serde_json::json!({"hint": B64.encode(openssl::sha::sha256(&der))}),
    );
    b
}

/// `genuine` with its envelope signed by `key` (ECDSA SHA-384 over the PAE), logged through
/// the instance's Rekor v2 API as `hashedrekord/0.0.2` over SHA-384(PAE) with `verifier`
/// (its `keyDetails` added), and timestamped by its TSA; the signer's identity (certificate
/// or key hint) is the caller's to set.
fn resigned_p384(
    inst: &Instance,
    genuine: &Value,
    key: &PKey<Private>,
    mut verifier: Value,
    tmp: &Path,
) -> Value {
    let env = &genuine["dsseEnvelope"];
    let payload = B64.decode(env["payload"].as_str().unwrap()).unwrap();
    let pae = msign::bundle::pae(env["payloadType"].as_str().unwrap(), &payload);
    let sig = ecdsa(key, MessageDigest::sha384(), &pae);
    let digest = openssl::hash::hash(MessageDigest::sha384(), &pae).unwrap();
    verifier["keyDetails"] = "PKIX_ECDSA_P384_SHA_384".into();
    let entry = log_v2(inst, &digest, &sig, verifier);
    let mut b = genuine.clone();
    b["dsseEnvelope"]["signatures"][0]["sig"] = B64.encode(&sig).into();
    b["verificationMaterial"]["tlogEntries"] = serde_json::json!([entry]);
    b["verificationMaterial"]["timestampVerificationData"] = serde_json::json!({
        "rfc3161Timestamps": [{"signedTimestamp": B64.encode(tsa_timestamp(inst, &sig, tmp))}]});
    b
}

/// The bundle tlog entry of `sig` over the prehashed `digest`, logged through the
/// instance's Rekor v2 API with `verifier`.
fn log_v2(inst: &Instance, digest: &[u8], sig: &[u8], verifier: Value) -> Value {
    post_json(
        &format!("{}/api/v2/log/entries", inst.url),
        &serde_json::json!({"hashedRekordRequestV002": {
            "digest": B64.encode(digest),
            "signature": {"content": B64.encode(sig), "verifier": verifier}}}),
    )
}

/// The checkpoint of a Rekor v2 entry re-signed by another Ed25519 log key (its own hint).
fn checkpoint_signed_by_another_log() -> Edit {
    Box::new(|b: &mut Value| {
        let e = &mut entry(b)["inclusionProof"]["checkpoint"]["envelope"];
        let text = e.as_str().unwrap().to_string();
        let note = &text[..text.find("\n\n").unwrap() + 1];
        let key = openssl::pkey::PKey::generate_ed25519().unwrap();
        let sig = openssl::sign::Signer::new_without_digest(&key)
            .unwrap()
            .sign_oneshot_to_vec(note.as_bytes())
            .unwrap();
        let mut line = vec![0xde, 0xad, 0xbe, 0xef];
        line.extend(sig);
        *e = Value::String(format!(
            "{note}\n\u{2014} log2.msign.test {}\n",
            B64.encode(line)
        ));
    })
}

/// The root hash line of a Rekor v2 entry's checkpoint replaced, its signature kept.
fn checkpoint_root_changed() -> Edit {
    Box::new(|b: &mut Value| {
        let e = &mut entry(b)["inclusionProof"]["checkpoint"]["envelope"];
        let mut lines: Vec<String> = e.as_str().unwrap().split('\n').map(String::from).collect();
        lines[2] = B64.encode([7u8; 32]);
        *e = Value::String(lines.join("\n"));
    })
}

/// Edits of a P-384 signer's Rekor v2 entry body, each logged afresh so that it reaches the
/// shim's check of what the entry records, with the error each must cause.
fn p384_entry_tamperings(url: &str) -> Vec<(&'static str, Edit, &'static str)> {
    let hr = "hashedRekordV002";
    vec![
        (
            "body digest",
            relogged(url, move |b: &mut Value| {
                edit_body(b, hr, |s| flip_b64(&mut s["data"]["digest"], 3))
            }),
            "the transparency-log entry records another artifact than the bundle's envelope (its digest is not the SHA2_384 of the envelope's PAE)",
        ),
        (
            "SHA2_256 entry for a P-384 key",
            relogged(url, move |b: &mut Value| {
                edit_body(b, hr, |s| s["data"]["algorithm"] = "SHA2_256".into())
            }),
            "the transparency-log entry records a SHA2_256 digest, but the signing key (P-384) calls for SHA2_384",
        ),
        (
            "SHA2_512 entry for a P-384 key",
            relogged(url, move |b: &mut Value| {
                edit_body(b, hr, |s| s["data"]["algorithm"] = "SHA2_512".into())
            }),
            "the transparency-log entry records a SHA2_512 digest, but the signing key (P-384) calls for SHA2_384",
        ),
        (
            "key type",
            relogged(url, move |b: &mut Value| {
                edit_body(b, hr, |s| {
                    s["signature"]["verifier"]["keyDetails"] = "PKIX_ECDSA_P256_SHA_256".into()
                })
            }),
            "the transparency-log entry names the key type PKIX_ECDSA_P256_SHA_256, but the signing key is P-384",
        ),
        (
            "logged signature",
            relogged(url, move |b: &mut Value| {
                edit_body(b, hr, |s| flip_b64(&mut s["signature"]["content"], 20))
            }),
            "the transparency-log entry records another signature than the bundle's envelope",
        ),
    ]
}

/// A fresh instance, a temporary folder, a model in it and its signature (P-256, by msign
/// through the instance's Rekor v2 log): the genuine bundle the P-384 tests sign again.
fn signed_through_v2() -> (Instance, tempfile::TempDir, PathBuf, PathBuf) {
    let inst = Instance::start();
    let tmp = tempfile::tempdir().unwrap();
    let m = sample_model(tmp.path());
    let sig = tmp.path().join("p256.sig");
    let out = inst.sign(&m, &sig, &inst.trust_config_v2());
    assert!(out.status.success(), "{}", stderr(&out));
    (inst, tmp, m, sig)
}

/// A P-384 signer's bundle logged in Rekor v2 as the spec defines it (`hashedrekord/0.0.2`
/// over SHA-384 of the PAE) verifies with msign, `verify sigstore` and `sigstore
/// verify-bundle` (through its shim, sigstore-verify 0.15.1 refusing such entries); each
/// tampering, and each wrong policy or trusted root, is refused with its own message.
#[test]
fn a_p384_signers_rekor_v2_bundle_verifies_and_its_tamperings_fail() {
    let (inst, tmp, m, sig) = signed_through_v2();
    let p384 = p384_bundle(&inst, &bundle_json(&sig), tmp.path());
    let body: Value = serde_json::from_slice(
        &B64.decode(
            p384["verificationMaterial"]["tlogEntries"][0]["canonicalizedBody"]
                .as_str()
                .unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        body["spec"]["hashedRekordV002"]["data"]["algorithm"],
        "SHA2_384"
    );
    let sig384 = tmp.path().join("p384.sig");
    std::fs::write(&sig384, p384.to_string()).unwrap();

    let ours = inst.msign_verify(&m, &sig384);
    assert!(ours.status.success(), "msign: {}", stderr(&ours));
    let subject = statement_of(&sig384)["subject"][0]["digest"]["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    let verify_bundle = |artifact: &str, identity: &str, issuer: &str, root: &Path| {
        msign()
            .args(["sigstore", "verify-bundle", "--bundle"])
            .arg(&sig384)
            .args(["--certificate-identity", identity])
            .args(["--certificate-oidc-issuer", issuer])
            .arg("--trusted-root")
            .arg(root)
            .arg(artifact)
            .output()
            .unwrap()
    };
    let cfg = inst.trust_config_v2();
    let out = verify_bundle(&format!("sha256:{subject}"), USER, &inst.url, &cfg);
    assert!(out.status.success(), "verify-bundle: {}", stderr(&out));
    // sigstore-python 4.5.1 checks this entry as the spec defines it (digest and key type
    // following the key) but verifies every DSSE signature with ECDSA over SHA-256
    // (`sigstore/dsse/__init__.py`, `_verify`), so it refuses a P-384 signer's envelope,
    // which is signed over SHA-384 as the Rekor v2 log requires; the reference runs on it.
    let py = sigstore_python_verify(&inst, &sig384);
    assert!(
        !py.status.success() && stderr(&py).contains("DSSE: invalid signature"),
        "sigstore-python 4.5.1 changed: {}",
        stderr(&py)
    );
    let theirs = inst.reference_verify(&m, &sig384);
    assert!(
        !theirs.status.success()
            && (stdout(&theirs) + &stderr(&theirs)).contains("DSSE: invalid signature"),
        "the reference changed: {}{}",
        stdout(&theirs),
        stderr(&theirs)
    );

    let hr = "hashedRekordV002";
    let mut cases = p384_entry_tamperings(&inst.url);
    cases.extend::<Vec<(&str, Edit, &str)>>(vec![
        (
            // What sigstore-verify alone would check: a SHA2_256 entry of a P-256 key type.
            "SHA2_256 entry labelled P-256 for a P-384 key",
            relogged(&inst.url, move |b: &mut Value| {
                edit_body(b, hr, |s| {
                    s["data"]["algorithm"] = "SHA2_256".into();
                    s["signature"]["verifier"]["keyDetails"] = "PKIX_ECDSA_P256_SHA_256".into();
                })
            }),
            "the transparency-log entry records a SHA2_256 digest, but the signing key (P-384) calls for SHA2_384",
        ),
        (
            "logged certificate",
            relogged(&inst.url, move |b: &mut Value| {
                edit_body(b, hr, |s| {
                    flip_b64(
                        &mut s["signature"]["verifier"]["x509Certificate"]["rawBytes"],
                        60,
                    )
                })
            }),
            "the transparency-log entry records another signing certificate than the bundle's",
        ),
        (
            "inclusion proof",
            Box::new(|b: &mut Value| flip_b64(&mut entry(b)["inclusionProof"]["hashes"][0], 5)),
            "the transparency-log inclusion proof does not lead from the entry to the root hash its checkpoint signs … root hash mismatch",
        ),
        (
            "checkpoint signed by another log",
            checkpoint_signed_by_another_log(),
            "the transparency-log checkpoint in the bundle carries no signature of the entry's log",
        ),
        (
            "checkpoint root",
            checkpoint_root_changed(),
            "the transparency-log checkpoint's signature by the entry's log does not verify",
        ),
        (
            "timestamps removed",
            Box::new(|b: &mut Value| {
                b["verificationMaterial"]["timestampVerificationData"] = serde_json::json!({})
            }),
            "the Rekor v2 entry has no RFC 3161 timestamp to date it",
        ),
        (
            "DSSE signature",
            relogged(&inst.url, |b: &mut Value| {
                flip_b64(&mut b["dsseEnvelope"]["signatures"][0]["sig"], 20)
            }),
            "the signature in the bundle does not verify with its certificate or key … DSSE signature verification failed",
        ),
    ]);
    let sig2 = tmp.path().join("other.sig");
    assert!(inst
        .sign(&m, &sig2, &inst.trust_config_v2())
        .status
        .success());
    let other_ts = bundle_json(&sig2)["verificationMaterial"]["timestampVerificationData"].clone();
    cases.extend(
        timestamp_tamperings(other_ts)
            .into_iter()
            .filter(|(name, _, _)| *name != "timestamps removed"),
    );
    check_tamperings(&inst, &m, &p384, cases, tmp.path());

    // The policy and the trusted root: each refused by its own check (exit 1).
    let mut no_tsa: Value = serde_json::from_slice(&std::fs::read(&cfg).unwrap()).unwrap();
    no_tsa["trustedRoot"]["timestampAuthorities"] = serde_json::json!([]);
    let no_tsa_path = tmp.path().join("no_tsa.json");
    std::fs::write(&no_tsa_path, no_tsa.to_string()).unwrap();
    // The log's key trusted only from a moment after the timestamp (msign's own check).
    std::thread::sleep(std::time::Duration::from_secs(1));
    let mut late: Value = serde_json::from_slice(&std::fs::read(&cfg).unwrap()).unwrap();
    for log in late["trustedRoot"]["tlogs"].as_array_mut().unwrap() {
        log["publicKey"]["validFor"]["start"] = Value::String(utc("now"));
    }
    let late_path = tmp.path().join("late.json");
    std::fs::write(&late_path, late.to_string()).unwrap();
    let digest = format!("sha256:{subject}");
    let other = format!("sha256:{}", "ab".repeat(32));
    let runs = [
        (
            "TSA not in the trusted root",
            verify_bundle(&digest, USER, &inst.url, &no_tsa_path),
            "an RFC 3161 timestamp in the bundle does not verify against the timestamp authorities of the trusted root … no timestamp authorities configured",
        ),
        (
            "log key valid only after the timestamp",
            verify_bundle(&digest, USER, &inst.url, &late_path),
            "the Rekor v2 log's key was not valid at the time of the entry's timestamp",
        ),
        (
            "wrong identity",
            verify_bundle(&digest, "bob@example.com", &inst.url, &cfg),
            "the signing certificate was issued to another identity than the one expected",
        ),
        (
            "wrong issuer",
            verify_bundle(&digest, USER, "https://issuer.example", &cfg),
            "the signing certificate was vouched for by another OIDC issuer than the one expected",
        ),
        (
            "another artifact",
            verify_bundle(&other, USER, &inst.url, &cfg),
            "the artifact's digest is not a subject of the signed statement",
        ),
    ];
    let mut wrong = Vec::new();
    for (name, out, needle) in runs {
        if out.status.code() != Some(1) || !says(&stderr(&out), needle) {
            wrong.push(format!(
                "{name}: exit {:?}, expected '{needle}' in: {}",
                out.status.code(),
                stderr(&out)
            ));
        }
    }
    // The statement's subject names the model as it was: a changed model does not match.
    let changed = tmp.path().join("changed");
    copy_dir(&m, &changed);
    std::fs::write(changed.join("a.txt"), "changed\n").unwrap();
    let out = inst.msign_verify(&changed, &sig384);
    if out.status.code() != Some(1) || !stderr(&out).contains("does not match") {
        wrong.push(format!("changed model: {}", stderr(&out)));
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// `msign sigstore verify-bundle --key` of `bundle` for the artifact `sha256:<subject>`.
fn verify_bundle_with_key(inst: &Instance, bundle: &Path, key: &Path, subject: &str) -> Output {
    msign()
        .args(["sigstore", "verify-bundle", "--bundle"])
        .arg(bundle)
        .arg("--key")
        .arg(key)
        .arg("--trusted-root")
        .arg(inst.trust_config_v2())
        .arg(format!("sha256:{subject}"))
        .output()
        .unwrap()
}

/// A managed P-384 key's DSSE bundle with a Rekor v2 entry (the key itself as the entry's
/// verifier, its digest SHA2_384 of the PAE) and an RFC 3161 timestamp verifies through
/// `sigstore verify-bundle --key` (the shim, with the crate's public-key policy); another
/// logged key, another key given, and a digest or key type that does not follow the key
/// are each refused with their own message.
#[test]
fn a_managed_p384_keys_rekor_v2_bundle_verifies_and_another_key_fails() {
    let (inst, tmp, _, sig) = signed_through_v2();
    let subject = statement_of(&sig)["subject"][0]["digest"]["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    let key = p384_key();
    let other = p384_key();
    let key_pem = tmp.path().join("key.pub");
    std::fs::write(&key_pem, key.public_key_to_pem().unwrap()).unwrap();
    let other_pem = tmp.path().join("other.pub");
    std::fs::write(&other_pem, other.public_key_to_pem().unwrap()).unwrap();

    let b = p384_managed_key_bundle(&inst, &bundle_json(&sig), &key, tmp.path());
    assert!(b["verificationMaterial"].get("certificate").is_none());
    let verifier = &entry_body_json(&b)["spec"]["hashedRekordV002"]["signature"]["verifier"];
    assert_eq!(verifier["keyDetails"], "PKIX_ECDSA_P384_SHA_384");
    assert!(verifier.get("publicKey").is_some());
    let path = tmp.path().join("managed.sig");
    std::fs::write(&path, b.to_string()).unwrap();
    let out = verify_bundle_with_key(&inst, &path, &key_pem, &subject);
    assert!(
        out.status.success(),
        "verify-bundle --key: {}",
        stderr(&out)
    );

    let other_der = B64.encode(other.public_key_to_der().unwrap());
    let hr = "hashedRekordV002";
    let mut cases = p384_entry_tamperings(&inst.url);
    cases.extend::<Vec<(&str, Edit, &str)>>(vec![(
        "another key logged",
        relogged(&inst.url, move |b: &mut Value| {
            let der = other_der.clone();
            edit_body(b, hr, move |s| {
                s["signature"]["verifier"]["publicKey"]["rawBytes"] = der.clone().into()
            })
        }),
        "the transparency-log entry records another key than the managed key",
    )]);
    check_tamperings_with(&b, cases, tmp.path(), |bad| {
        verify_bundle_with_key(&inst, bad, &key_pem, &subject)
    });

    // Another P-384 key given: the envelope's signature does not verify with it.
    let out = verify_bundle_with_key(&inst, &path, &other_pem, &subject);
    let needle = "the signature in the bundle does not verify with its certificate or key … DSSE signature verification failed";
    assert!(
        out.status.code() == Some(1) && says(&stderr(&out), needle),
        "another key given: exit {:?}: {}",
        out.status.code(),
        stderr(&out)
    );
}

/// The JSON of the canonicalized body of `b`'s first tlog entry.
fn entry_body_json(b: &Value) -> Value {
    let body = b["verificationMaterial"]["tlogEntries"][0]["canonicalizedBody"]
        .as_str()
        .unwrap();
    serde_json::from_slice(&B64.decode(body).unwrap()).unwrap()
}

/// A message-signature bundle (no DSSE envelope) of a P-384 signer whose Rekor v2 entry is
/// `hashedrekord/0.0.2` over SHA2_384 of the artifact, as the spec's log holds it: msign holds
/// only the artifact's SHA-256, so the shim cannot check such an entry and says so (exit 1),
/// whichever digest the bundle's `messageDigest` names and whichever signature it carries.
#[test]
fn a_message_signature_with_a_sha384_rekor_v2_entry_is_refused_clearly() {
    let (inst, tmp, _, sig) = signed_through_v2();
    let artifact = tmp.path().join("artifact.txt");
    std::fs::write(&artifact, "an artifact signed as a message\n").unwrap();
    let data = std::fs::read(&artifact).unwrap();

    let key = p384_key();
    let cert = p384_certificate(&inst, &key);
    let sha384 = openssl::hash::hash(MessageDigest::sha384(), &data).unwrap();
    let sig384 = ecdsa(&key, MessageDigest::sha384(), &data);
    let sig256 = ecdsa(&key, MessageDigest::sha256(), &data);
    let entry = log_v2(
        &inst,
        &sha384,
        &sig384,
        serde_json::json!({"keyDetails": "PKIX_ECDSA_P384_SHA_384",
            "x509Certificate": {"rawBytes": B64.encode(&cert)}}),
    );
    assert_eq!(
        entry_body_json(&serde_json::json!({"verificationMaterial": {"tlogEntries": [entry]}}))
            ["spec"]["hashedRekordV002"]["data"]["algorithm"],
        "SHA2_384"
    );
    let genuine = bundle_json(&sig);
    let message_bundle = |algorithm: &str, digest: &[u8], sig: &[u8]| {
        let mut b = genuine.clone();
        b.as_object_mut().unwrap().remove("dsseEnvelope");
        b["messageSignature"] = serde_json::json!({
            "messageDigest": {"algorithm": algorithm, "digest": B64.encode(digest)},
            "signature": B64.encode(sig)});
        b["verificationMaterial"]["certificate"]["rawBytes"] = B64.encode(&cert).into();
        b["verificationMaterial"]["tlogEntries"] = serde_json::json!([entry.clone()]);
        b["verificationMaterial"]["timestampVerificationData"] = serde_json::json!({
            "rfc3161Timestamps": [{"signedTimestamp":
                B64.encode(tsa_timestamp(&inst, sig, tmp.path()))}]});
        b
    };
    let sha256 = openssl::sha::sha256(&data);
    let refusal = "the Rekor v2 entry of this message signature records a SHA2_384 digest of the artifact by a PKIX_ECDSA_P384_SHA_384 key, and msign checks such entries of message signatures only for SHA2_256 and P-256 (it holds only the artifact's SHA-256); verify it with sigstore-python or sigstore-go";
    let cases = [
        // As sigstore-python signs a message: ECDSA over its SHA-256, whatever the key.
        (
            "SHA2_256 message digest",
            message_bundle("SHA2_256", &sha256, &sig256),
            refusal,
        ),
        // The signature the log holds (over SHA-384), the message digest SHA-256.
        (
            "SHA-384 signature, SHA2_256 message digest",
            message_bundle("SHA2_256", &sha256, &sig384),
            refusal,
        ),
        // As the spec's P-384 signer would write it: everything SHA-384. msign reads the
        // message digest before the entry, and says the same limit.
        (
            "SHA2_384 message digest",
            message_bundle("SHA2_384", &sha384, &sig384),
            "the message signature signs the artifact's SHA2_384 digest, and msign verifies message signatures over SHA2_256 only (it holds only the artifact's SHA-256); verify it with sigstore-python or sigstore-go",
        ),
    ];
    let bad = tmp.path().join("message.sig");
    let mut wrong = Vec::new();
    for (name, b, needle) in cases {
        std::fs::write(&bad, b.to_string()).unwrap();
        for art in [
            artifact.display().to_string(),
            format!("sha256:{}", hex::encode(sha256)),
        ] {
            let out = msign()
                .args(["sigstore", "verify-bundle", "--bundle"])
                .arg(&bad)
                .args(["--certificate-identity", USER])
                .args(["--certificate-oidc-issuer", &inst.url])
                .arg("--trusted-root")
                .arg(inst.trust_config_v2())
                .arg(&art)
                .output()
                .unwrap();
            assert_no_panic(&out);
            if out.status.code() != Some(1) || !says(&stderr(&out), needle) {
                wrong.push(format!(
                    "{name} ({art}): exit {:?}, expected '{needle}' in: {}",
                    out.status.code(),
                    stderr(&out)
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Hostile Rekor v2 entries in a P-384 signer's bundle, on the shim's path: each is refused
/// with exit 1 and its own message, never a panic.
#[test]
fn hostile_entries_on_the_p384_shim_path_are_refused() {
    let (inst, tmp, m, sig) = signed_through_v2();
    let p384 = p384_bundle(&inst, &bundle_json(&sig), tmp.path());
    let sig384 = tmp.path().join("p384.sig");
    std::fs::write(&sig384, p384.to_string()).unwrap();
    let out = inst.msign_verify(&m, &sig384);
    assert!(out.status.success(), "msign: {}", stderr(&out));

    let hr = "hashedRekordV002";
    let not_b64 = |field: &'static [&'static str]| -> Edit {
        Box::new(move |b: &mut Value| {
            edit_body(b, hr, |s| {
                let mut v = s;
                for k in field {
                    v = &mut v[*k];
                }
                *v = "not base64!".into();
            })
        })
    };
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "body not JSON",
            Box::new(|b: &mut Value| {
                entry(b)["canonicalizedBody"] = B64.encode("not JSON").into()
            }),
            "tlog entry body is not JSON",
        ),
        (
            // Logged as it is, so that the inclusion proof holds.
            "body not JSON, logged",
            relogged(&inst.url, |b: &mut Value| {
                entry(b)["canonicalizedBody"] = B64.encode("not JSON").into()
            }),
            "tlog entry body is not JSON",
        ),
        (
            "body not base64",
            Box::new(|b: &mut Value| entry(b)["canonicalizedBody"] = "not base64!".into()),
            "tlog entry: canonicalizedBody is not base64",
        ),
        (
            "body without a spec",
            Box::new(|b: &mut Value| {
                entry(b)["canonicalizedBody"] =
                    B64.encode(r#"{"apiVersion":"0.0.2","kind":"hashedrekord"}"#).into()
            }),
            "the transparency-log entry records no digest algorithm, but the signing key (P-384) calls for SHA2_384",
        ),
        (
            "body of another kind",
            Box::new(|b: &mut Value| {
                let mut body = entry_body_json(b);
                body["kind"] = "dsse".into();
                entry(b)["canonicalizedBody"] = B64.encode(body.to_string()).into();
            }),
            "the transparency-log entry's body is not the hashedrekord 0.0.2 entry its kindVersion names",
        ),
        ("digest not base64", not_b64(&["data", "digest"]), "tlog entry: digest is not base64"),
        ("signature not base64", not_b64(&["signature", "content"]), "tlog entry: signature is not base64"),
        (
            "certificate not base64",
            not_b64(&["signature", "verifier", "x509Certificate", "rawBytes"]),
            "tlog entry: verifier certificate is not base64",
        ),
        (
            "no keyDetails",
            Box::new(move |b: &mut Value| {
                edit_body(b, hr, |s| {
                    s["signature"]["verifier"]
                        .as_object_mut()
                        .unwrap()
                        .remove("keyDetails");
                })
            }),
            "the transparency-log entry names no key type, but the signing key is P-384 (PKIX_ECDSA_P384_SHA_384)",
        ),
        (
            "no digest algorithm",
            Box::new(move |b: &mut Value| {
                edit_body(b, hr, |s| {
                    s["data"].as_object_mut().unwrap().remove("algorithm");
                })
            }),
            "the transparency-log entry records no digest algorithm, but the signing key (P-384) calls for SHA2_384",
        ),
        (
            "logIndex beyond the tree",
            Box::new(|b: &mut Value| {
                // The proof names the same index, or the two disagreeing is refused first.
                entry(b)["logIndex"] = "1000000".into();
                entry(b)["inclusionProof"]["logIndex"] = "1000000".into();
            }),
            "the transparency-log inclusion proof does not lead from the entry to the root hash its checkpoint signs … leaf index 1000000 is outside a tree of size",
        ),
        (
            "logIndex the largest u64",
            Box::new(|b: &mut Value| {
                // The proof names the same index, or the two disagreeing is refused first.
                entry(b)["logIndex"] = u64::MAX.to_string().into();
                entry(b)["inclusionProof"]["logIndex"] = u64::MAX.to_string().into();
            }),
            "the transparency-log inclusion proof does not lead from the entry to the root hash its checkpoint signs … leaf index 18446744073709551615 is outside a tree of size",
        ),
        (
            "logIndex negative",
            Box::new(|b: &mut Value| entry(b)["logIndex"] = "-1".into()),
            "tlog entry: logIndex is not a number",
        ),
        (
            "no proof hashes",
            Box::new(|b: &mut Value| entry(b)["inclusionProof"]["hashes"] = serde_json::json!([])),
            "the transparency-log inclusion proof does not lead from the entry to the root hash its checkpoint signs … expected 1 proof hashes, got 0",
        ),
        (
            "proof hash too short",
            Box::new(|b: &mut Value| {
                entry(b)["inclusionProof"]["hashes"][0] = B64.encode([1u8; 31]).into()
            }),
            "tlog entry: inclusion proof hash is not a SHA-256 hash",
        ),
        (
            "checkpoint without signatures",
            Box::new(|b: &mut Value| {
                let e = &mut entry(b)["inclusionProof"]["checkpoint"]["envelope"];
                let text = e.as_str().unwrap().to_string();
                *e = text[..text.find("\n\n").unwrap() + 2].into();
            }),
            "the Rekor v2 entry's checkpoint cannot be parsed … no signatures found",
        ),
        (
            "checkpoint signed by another log",
            checkpoint_signed_by_another_log(),
            "the transparency-log checkpoint in the bundle carries no signature of the entry's log",
        ),
        (
            "checkpoint not a note",
            Box::new(|b: &mut Value| {
                entry(b)["inclusionProof"]["checkpoint"]["envelope"] = "garbage".into()
            }),
            "the Rekor v2 entry's checkpoint cannot be parsed",
        ),
        (
            "no checkpoint",
            Box::new(|b: &mut Value| {
                entry(b)["inclusionProof"]
                    .as_object_mut()
                    .unwrap()
                    .remove("checkpoint");
            }),
            "the Rekor v2 entry's inclusion proof has no checkpoint",
        ),
        (
            "two tlog entries",
            Box::new(|b: &mut Value| {
                let e = entry(b).clone();
                b["verificationMaterial"]["tlogEntries"]
                    .as_array_mut()
                    .unwrap()
                    .push(e);
            }),
            "the bundle has more than one transparency-log entry",
        ),
    ];
    check_tamperings(&inst, &m, &p384, cases, tmp.path());
}
