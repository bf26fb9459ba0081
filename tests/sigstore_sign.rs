//! Keyless signing end to end against a private Sigstore instance on loopback
//! (tests/sigstore_instance/instance.py: OIDC issuer, Fulcio with SCTs, Rekor v1), then
//! verification by msign and by the reference; tampering with any part of the bundle
//! makes both reject it.

mod common;
mod sigstore_instance;
use common::*;
use sigstore_instance::{checkpoint_of_another_log, timestamp_tamperings, Edit, Instance, USER};

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::Value;

impl Instance {
    fn sign(&self, model: &Path, sig: &Path) {
        run_ok(
            msign()
                .args(["sign", "sigstore"])
                .arg(model)
                .arg("--signature")
                .arg(sig)
                .arg("--trust-config")
                .arg(self.trust_config())
                .args(["--identity-token", &self.token(USER)]),
        );
    }

    fn msign_verify(&self, model: &Path, sig: &Path) -> Output {
        self.msign_verify_with(model, sig, &self.trust_config())
    }

    fn reference_verify(&self, model: &Path, sig: &Path) -> Output {
        self.reference_verify_with(model, sig, &self.trust_config())
    }
}

fn ok(out: &Output, who: &str) {
    assert!(
        out.status.success(),
        "{who} rejected the signature:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn model(tmp: &Path) -> PathBuf {
    sample_model(tmp)
}

#[test]
fn signs_over_http_and_both_verify() {
    let inst = Instance::start();
    let tmp = tempfile::tempdir().unwrap();
    let m = model(tmp.path());
    let sig = tmp.path().join("model.sig");
    inst.sign(&m, &sig);
    ok(&inst.msign_verify(&m, &sig), "msign");
    ok(&inst.reference_verify(&m, &sig), "model_signing");
    let b: Value = serde_json::from_slice(&std::fs::read(&sig).unwrap()).unwrap();
    assert_eq!(
        b["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    let e = &b["verificationMaterial"]["tlogEntries"][0];
    assert_eq!(e["kindVersion"]["kind"], "dsse");
    assert!(e["inclusionProof"]["checkpoint"]["envelope"].is_string());
    assert!(e["inclusionPromise"]["signedEntryTimestamp"].is_string());
    // The signing config names a TSA: the signature is timestamped, as sigstore-python does.
    let stamps = b["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"]
        .as_array()
        .expect("RFC 3161 timestamps");
    assert_eq!(stamps.len(), 1);
    // Without its signed entry timestamp, a Rekor v1 entry is dated by the RFC 3161
    // timestamp alone (as sigstore-python allows: "an inclusion promise or signed
    // timestamps"); without both, nothing dates the signature.
    let mut no_set = b.clone();
    no_set["verificationMaterial"]["tlogEntries"][0]
        .as_object_mut()
        .unwrap()
        .remove("inclusionPromise");
    let no_set_path = tmp.path().join("no_set.sig");
    std::fs::write(&no_set_path, no_set.to_string()).unwrap();
    ok(&inst.msign_verify(&m, &no_set_path), "msign (no SET)");
    ok(
        &inst.reference_verify(&m, &no_set_path),
        "model_signing (no SET)",
    );
    no_set["verificationMaterial"]
        .as_object_mut()
        .unwrap()
        .remove("timestampVerificationData");
    std::fs::write(&no_set_path, no_set.to_string()).unwrap();
    let out = inst.msign_verify(&m, &no_set_path);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        says(
            &err,
            "the bundle has no verified signing time … No verified timestamp found"
        ),
        "{err}"
    );
    // The wrong identity is refused by both.
    let out = msign()
        .args(["verify", "sigstore"])
        .arg(&m)
        .arg("--signature")
        .arg(&sig)
        .arg("--trust_config")
        .arg(inst.trust_config())
        .args([
            "--identity",
            "mallory@example.com",
            "--identity_provider",
            &inst.url,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

type Tamper = fn(&mut Value);

fn tlog(b: &mut Value) -> &mut Value {
    &mut b["verificationMaterial"]["tlogEntries"][0]
}

fn flip_b64(v: &mut Value, at: usize) {
    let mut bytes = B64.decode(v.as_str().unwrap()).unwrap();
    let i = at.min(bytes.len() - 1);
    bytes[i] ^= 0x01;
    *v = Value::String(B64.encode(bytes));
}

const TAMPERINGS: &[(&str, Tamper)] = &[
    ("payload", |b| {
        let p = B64
            .decode(b["dsseEnvelope"]["payload"].as_str().unwrap())
            .unwrap();
        let p = String::from_utf8(p)
            .unwrap()
            .replacen("config.json", "config.jsoN", 1);
        b["dsseEnvelope"]["payload"] = Value::String(B64.encode(p));
    }),
    ("envelope signature", |b| {
        flip_b64(&mut b["dsseEnvelope"]["signatures"][0]["sig"], 40)
    }),
    ("certificate", |b| {
        flip_b64(
            &mut b["verificationMaterial"]["certificate"]["rawBytes"],
            200,
        )
    }),
    ("tlog entry removed", |b| {
        b["verificationMaterial"]["tlogEntries"] = Value::Array(vec![])
    }),
    ("signed entry timestamp", |b| {
        flip_b64(&mut tlog(b)["inclusionPromise"]["signedEntryTimestamp"], 30)
    }),
    ("integrated time", |b| {
        let t: i64 = tlog(b)["integratedTime"].as_str().unwrap().parse().unwrap();
        tlog(b)["integratedTime"] = Value::String((t - 1).to_string());
    }),
    ("log index", |b| {
        let t: i64 = tlog(b)["logIndex"].as_str().unwrap().parse().unwrap();
        tlog(b)["logIndex"] = Value::String((t + 1).to_string());
    }),
    ("canonicalized body", |b| {
        let body = String::from_utf8(
            B64.decode(tlog(b)["canonicalizedBody"].as_str().unwrap())
                .unwrap(),
        )
        .unwrap();
        let body = body.replacen("\"sha256\"", "\"sha512\"", 1);
        tlog(b)["canonicalizedBody"] = Value::String(B64.encode(body));
    }),
    ("inclusion proof hash", |b| {
        flip_b64(&mut tlog(b)["inclusionProof"]["hashes"][0], 3)
    }),
    ("checkpoint signature", |b| {
        let cp = tlog(b)["inclusionProof"]["checkpoint"]["envelope"]
            .as_str()
            .unwrap()
            .to_string();
        let cp = cp.replacen("rekor.msign.test - 4242\n", "rekor.msign.test - 4243\n", 1);
        tlog(b)["inclusionProof"]["checkpoint"]["envelope"] = Value::String(cp);
    }),
    ("log id", |b| flip_b64(&mut tlog(b)["logId"]["keyId"], 0)),
];

#[test]
fn any_tampering_is_rejected_by_both() {
    let inst = Instance::start();
    let tmp = tempfile::tempdir().unwrap();
    let m = model(tmp.path());
    let sig = tmp.path().join("model.sig");
    inst.sign(&m, &sig);
    let original: Value = serde_json::from_slice(&std::fs::read(&sig).unwrap()).unwrap();
    let bad = tmp.path().join("bad.sig");
    for (name, f) in TAMPERINGS {
        let mut b = original.clone();
        f(&mut b);
        std::fs::write(&bad, serde_json::to_vec(&b).unwrap()).unwrap();
        let ours = inst.msign_verify(&m, &bad);
        assert_eq!(
            ours.status.code(),
            Some(1),
            "msign accepted a bundle with a tampered {name}: {}",
            String::from_utf8_lossy(&ours.stderr)
        );
        let theirs = inst.reference_verify(&m, &bad);
        assert!(
            !theirs.status.success(),
            "the reference accepted a bundle with a tampered {name}"
        );
    }
    // And a changed model file.
    std::fs::write(m.join("a.txt"), b"changed").unwrap();
    assert_eq!(inst.msign_verify(&m, &sig).status.code(), Some(1));
    assert!(!inst.reference_verify(&m, &sig).status.success());
}

#[test]
fn token_from_environment_and_default_method() {
    let inst = Instance::start();
    let tmp = tempfile::tempdir().unwrap();
    let m = model(tmp.path());
    let sig = tmp.path().join("model.sig");
    // `sign MODEL` with no method is Sigstore; the token comes from SIGSTORE_ID_TOKEN.
    run_ok(
        msign()
            .arg("sign")
            .arg(&m)
            .arg("--signature")
            .arg(&sig)
            .arg("--trust_config")
            .arg(inst.trust_config())
            .env("SIGSTORE_ID_TOKEN", inst.token(USER))
            .env_remove("ACTIONS_ID_TOKEN_REQUEST_URL"),
    );
    ok(&inst.msign_verify(&m, &sig), "msign");
}

#[test]
fn github_actions_ambient_credentials() {
    // A stand-in for GitHub's token endpoint: the instance's /mint, asked with a bearer.
    // The request carries audience=sigstore; the answer's `value` is the token.
    let inst = Instance::start();
    let tmp = tempfile::tempdir().unwrap();
    let m = model(tmp.path());
    let sig = tmp.path().join("model.sig");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let token = inst.token(USER);
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 4096];
        let n = s.read(&mut buf).unwrap();
        let req = String::from_utf8_lossy(&buf[..n]).to_string();
        let body = format!("{{\"value\":\"{token}\"}}");
        write!(s, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
        req
    });
    run_ok(
        msign()
            .args(["sign", "sigstore"])
            .arg(&m)
            .arg("--signature")
            .arg(&sig)
            .arg("--trust-config")
            .arg(inst.trust_config())
            .arg("--use_ambient_credentials")
            .env_remove("SIGSTORE_ID_TOKEN")
            .env(
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                format!("http://127.0.0.1:{port}/token?x=1"),
            )
            .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "gh-secret"),
    );
    let req = server.join().unwrap();
    assert!(
        req.starts_with("GET /token?x=1&audience=sigstore "),
        "{req}"
    );
    assert!(
        req.to_lowercase()
            .contains("authorization: bearer gh-secret"),
        "{req}"
    );
    ok(&inst.msign_verify(&m, &sig), "msign");
}

#[test]
fn no_token_with_ambient_only_is_a_usage_error() {
    let inst = Instance::start();
    let tmp = tempfile::tempdir().unwrap();
    let m = model(tmp.path());
    run_fails(
        msign()
            .args(["sign", "sigstore"])
            .arg(&m)
            .arg("--trust-config")
            .arg(inst.trust_config())
            .arg("--use-ambient-credentials")
            .env_remove("SIGSTORE_ID_TOKEN")
            .env_remove("ACTIONS_ID_TOKEN_REQUEST_URL"),
        2,
    );
}

fn spawn_interactive(inst: &Instance, m: &Path, sig: &Path, oob: bool) -> Child {
    let mut cmd = msign();
    cmd.args(["sign", "sigstore"])
        .arg(m)
        .arg("--signature")
        .arg(sig)
        .arg("--trust-config")
        .arg(inst.trust_config())
        .env_remove("SIGSTORE_ID_TOKEN")
        .env_remove("ACTIONS_ID_TOKEN_REQUEST_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if oob {
        cmd.arg("--oauth_force_oob");
    }
    cmd.spawn().unwrap()
}

/// Reads msign's stderr up to the authorization URL it prints.
fn auth_url(child: &mut Child) -> (String, BufReader<std::process::ChildStderr>) {
    let mut r = BufReader::new(child.stderr.take().unwrap());
    for _ in 0..20 {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if let Some(u) = line.trim().strip_prefix("http") {
            return (format!("http{u}"), r);
        }
    }
    panic!("msign printed no authorization URL");
}

#[test]
fn interactive_oauth_with_loopback_redirect() {
    let inst = Instance::start();
    let tmp = tempfile::tempdir().unwrap();
    let m = model(tmp.path());
    let sig = tmp.path().join("model.sig");
    let mut child = spawn_interactive(&inst, &m, &sig, false);
    let (url, _stderr) = auth_url(&mut child);
    assert!(url.contains("code_challenge_method=S256"));
    // The "browser": follows the issuer's redirect to msign's loopback listener.
    let page = reqwest::blocking::get(&url).unwrap().text().unwrap();
    assert!(page.contains("Authenticated"), "{page}");
    assert!(child.wait().unwrap().success());
    ok(&inst.msign_verify(&m, &sig), "msign");
}

#[test]
fn interactive_oauth_out_of_band() {
    let inst = Instance::start();
    let tmp = tempfile::tempdir().unwrap();
    let m = model(tmp.path());
    let sig = tmp.path().join("model.sig");
    let mut child = spawn_interactive(&inst, &m, &sig, true);
    let (url, _stderr) = auth_url(&mut child);
    assert!(url.contains("redirect_uri=urn%3Aietf%3Awg%3Aoauth%3A2.0%3Aoob"));
    let agent = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = agent.get(&url).send().unwrap();
    assert_eq!(resp.status(), 302);
    let loc = resp.headers()["Location"].to_str().unwrap().to_string();
    let code = loc
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{code}").unwrap();
    drop(stdin);
    assert!(child.wait().unwrap().success());
    ok(&inst.msign_verify(&m, &sig), "msign");
}

#[test]
fn instance_answers_that_do_not_verify_are_refused() {
    // msign verifies what the instance returned before writing: against the public-good
    // root (which does not trust this instance) signing must fail and write nothing.
    let inst = Instance::start();
    let tmp = tempfile::tempdir().unwrap();
    let m = model(tmp.path());
    let sig = tmp.path().join("model.sig");
    let mut cfg: Value =
        serde_json::from_slice(&std::fs::read(inst.trust_config()).unwrap()).unwrap();
    cfg["trustedRoot"] =
        serde_json::from_str(include_str!("../src/sigstore/trusted_root.json")).unwrap();
    let other = tmp.path().join("other.json");
    std::fs::write(&other, serde_json::to_vec(&cfg).unwrap()).unwrap();
    let out = run_fails(
        msign()
            .args(["sign", "sigstore"])
            .arg(&m)
            .arg("--signature")
            .arg(&sig)
            .arg("--trust-config")
            .arg(&other)
            .args(["--identity-token", &inst.token(USER)]),
        3,
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("does not verify against the trusted root")
    );
    assert!(!sig.exists());
}

/// A service that fails makes signing fail (exit 3, nothing written) with a message that
/// names the service and its URL: Fulcio refusing the token, Fulcio, Rekor or the TSA not
/// answering.
#[test]
fn a_failing_service_is_named_with_its_url() {
    let inst = Instance::start();
    let tmp = tempfile::tempdir().unwrap();
    let m = model(tmp.path());
    let sig = tmp.path().join("model.sig");
    let dead = "http://127.0.0.1:9";
    let config = |name: &str, edit: &dyn Fn(&mut Value)| {
        let mut cfg: Value =
            serde_json::from_slice(&std::fs::read(inst.trust_config()).unwrap()).unwrap();
        edit(&mut cfg["signingConfig"]);
        let p = tmp.path().join(name);
        std::fs::write(&p, serde_json::to_vec(&cfg).unwrap()).unwrap();
        p
    };
    let token = inst.token(USER);
    let forged = format!("{}AAAA", &token[..token.len() - 4]);
    let cases: Vec<(&str, PathBuf, &str, String)> = vec![
        (
            "forged token",
            inst.trust_config(),
            &forged,
            format!("Fulcio at {} refused the certificate request", inst.url),
        ),
        (
            "Fulcio down",
            config("fulcio.json", &|c| c["caUrls"][0]["url"] = dead.into()),
            &token,
            format!("Fulcio at {dead} cannot be reached"),
        ),
        (
            "Rekor down",
            config("rekor.json", &|c| {
                c["rekorTlogUrls"][0]["url"] = dead.into()
            }),
            &token,
            format!("the Rekor log at {dead} cannot be reached"),
        ),
        (
            "TSA down",
            config("tsa.json", &|c| {
                c["tsaUrls"][0]["url"] = format!("{dead}/tsa").into()
            }),
            &token,
            format!("the timestamp authority at {dead}/tsa cannot be reached"),
        ),
    ];
    for (name, cfg, token, needle) in cases {
        let out = run_fails(
            msign()
                .args(["sign", "sigstore"])
                .arg(&m)
                .arg("--signature")
                .arg(&sig)
                .arg("--trust-config")
                .arg(&cfg)
                .args(["--identity-token", token]),
            3,
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&needle),
            "{name}: expected '{needle}' in {err}"
        );
        assert!(err.contains("(sigstore-sign: "), "{name}: {err}");
        assert!(!sig.exists(), "{name}");
    }
}

#[test]
fn managed_key_bundle_verifies_against_the_tlog() {
    use openssl::hash::MessageDigest;
    use openssl::pkey::PKey;
    let inst = Instance::start();
    let tmp = tempfile::tempdir().unwrap();
    let (key_path, pub_path) = ec_keypair(tmp.path(), "prime256v1");
    let other_dir = tmp.path().join("other");
    std::fs::create_dir(&other_dir).unwrap();
    let (_, other_pub) = ec_keypair(&other_dir, "secp384r1");
    let artifact = tmp.path().join("artifact.bin");
    std::fs::write(&artifact, b"some artifact").unwrap();
    let digest = hex::encode(openssl::sha::sha256(b"some artifact"));
    let statement = serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "artifact.bin", "digest": {"sha256": digest}}],
        "predicateType": "https://example.com/test/v1",
        "predicate": {},
    })
    .to_string();
    let pt = "application/vnd.in-toto+json";
    let key = PKey::private_key_from_pem(&std::fs::read(&key_path).unwrap()).unwrap();
    let mut signer = openssl::sign::Signer::new(MessageDigest::sha256(), &key).unwrap();
    signer
        .update(&msign::bundle::pae(pt, statement.as_bytes()))
        .unwrap();
    let sig = signer.sign_to_vec().unwrap();
    let envelope = serde_json::json!({
        "payload": B64.encode(&statement),
        "payloadType": pt,
        "signatures": [{"sig": B64.encode(&sig)}],
    });
    let pub_pem = std::fs::read(&pub_path).unwrap();
    let entry = inst.rekor_v1_entry(&serde_json::json!({
        "apiVersion": "0.0.1", "kind": "dsse",
        "spec": {"proposedContent": {
            "envelope": envelope.to_string(),
            "verifiers": [B64.encode(&pub_pem)],
        }},
    }));
    let bundle = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"publicKey": {"hint": "managed"}, "tlogEntries": [entry]},
        "dsseEnvelope": envelope,
    });
    let bundle_path = tmp.path().join("artifact.sigstore.json");
    std::fs::write(&bundle_path, bundle.to_string()).unwrap();
    let root = inst.dir.path().join("trusted_root.json");
    let run = |key: &Path, artifact: &str| {
        msign()
            .args(["sigstore", "verify-bundle", "--bundle"])
            .arg(&bundle_path)
            .arg("--key")
            .arg(key)
            .arg("--trusted-root")
            .arg(&root)
            .arg(artifact)
            .output()
            .unwrap()
    };
    ok(
        &run(&pub_path, artifact.to_str().unwrap()),
        "msign verify-bundle --key",
    );
    ok(
        &run(&pub_path, &format!("sha256:{digest}")),
        "msign verify-bundle --key (digest)",
    );
    assert_eq!(
        run(&other_pub, artifact.to_str().unwrap()).status.code(),
        Some(1)
    );
    std::fs::write(&artifact, b"other artifact").unwrap();
    assert_eq!(
        run(&pub_path, artifact.to_str().unwrap()).status.code(),
        Some(1)
    );
    // Against the public-good root this log is unknown.
    let out = msign()
        .args(["sigstore", "verify-bundle", "--bundle"])
        .arg(&bundle_path)
        .arg("--key")
        .arg(&pub_path)
        .arg(format!("sha256:{digest}"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not in the trusted root"), "{err}");
}

impl Instance {
    /// The bundle re-logged in the instance's Rekor v2 log, with an RFC 3161 timestamp.
    fn to_rekor_v2(&self, sig: &Path) -> Value {
        post_bytes(
            &format!("{}/test/rekor-v2", self.url),
            &std::fs::read(sig).unwrap(),
            &[],
        )
    }
}

#[test]
fn rekor_v2_bundles_with_tsa_timestamps() {
    let inst = Instance::start();
    let tmp = tempfile::tempdir().unwrap();
    let m = model(tmp.path());
    let sig = tmp.path().join("model.sig");
    inst.sign(&m, &sig);
    let v2 = inst.to_rekor_v2(&sig);
    let e = &v2["verificationMaterial"]["tlogEntries"][0];
    assert_eq!(e["kindVersion"]["version"], "0.0.2");
    assert!(e.get("inclusionPromise").is_none());
    let v2_sig = tmp.path().join("v2.sig");
    std::fs::write(&v2_sig, v2.to_string()).unwrap();
    ok(&inst.msign_verify(&m, &v2_sig), "msign");
    ok(&inst.reference_verify(&m, &v2_sig), "model_signing");

    // A timestamp over another signature, from a second signing.
    let sig2 = tmp.path().join("model2.sig");
    inst.sign(&m, &sig2);
    let other_ts =
        inst.to_rekor_v2(&sig2)["verificationMaterial"]["timestampVerificationData"].clone();

    let bad = tmp.path().join("bad.sig");
    let relog = format!("{}/test/rekor-v2-relog", inst.url);
    let mut cases: Vec<(&str, Edit, &str)> = vec![
        (
            "checkpoint",
            checkpoint_of_another_log(),
            "the transparency-log checkpoint in the bundle is not signed by a log of the trusted root … No valid Rekor signature found on checkpoint",
        ),
        (
            "inclusion proof",
            Box::new(|b: &mut Value| flip_b64(&mut tlog(b)["inclusionProof"]["hashes"][0], 5)),
            "the transparency-log inclusion proof does not lead to the checkpoint's root hash … inclusion proof verification failed: root hash mismatch",
        ),
        (
            // Logged afresh as edited, so that it gets past the inclusion proof.
            "entry body",
            Box::new(move |b: &mut Value| {
                let body = String::from_utf8(
                    B64.decode(tlog(b)["canonicalizedBody"].as_str().unwrap())
                        .unwrap(),
                )
                .unwrap();
                let body = body.replacen("SHA2_256", "SHA2_384", 1);
                tlog(b)["canonicalizedBody"] = Value::String(B64.encode(body));
                *b = post_json(&relog, b);
            }),
            "the transparency-log entry records a SHA2_384 digest, but the signing key (P-256) calls for SHA2_256",
        ),
    ];
    cases.extend(timestamp_tamperings(other_ts));
    for (name, f, needle) in cases {
        let mut b = v2.clone();
        f(&mut b);
        std::fs::write(&bad, b.to_string()).unwrap();
        let ours = inst.msign_verify(&m, &bad);
        let err = String::from_utf8_lossy(&ours.stderr);
        assert_eq!(
            ours.status.code(),
            Some(1),
            "msign accepted a v2 bundle with a tampered {name}: {err}"
        );
        assert!(says(&err, needle), "{name}: expected '{needle}' in {err}");
        assert!(
            !inst.reference_verify(&m, &bad).status.success(),
            "the reference accepted a tampered {name}"
        );
    }

    // Without the TSA in the trusted root, the timestamp is not trusted.
    let mut cfg: Value =
        serde_json::from_slice(&std::fs::read(inst.trust_config()).unwrap()).unwrap();
    cfg["trustedRoot"]["timestampAuthorities"] = serde_json::json!([]);
    let no_tsa = tmp.path().join("no_tsa.json");
    std::fs::write(&no_tsa, cfg.to_string()).unwrap();
    let out = msign()
        .args(["verify", "sigstore"])
        .arg(&m)
        .arg("--signature")
        .arg(&v2_sig)
        .arg("--trust-config")
        .arg(&no_tsa)
        .args(["--identity", USER, "--identity-provider", &inst.url])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        says(&err, "an RFC 3161 timestamp in the bundle does not verify against the timestamp authorities of the trusted root … no timestamp authorities configured in trusted root"),
        "{err}"
    );
}

#[test]
fn message_signature_bundle_with_fulcio_certificate() {
    use openssl::ec::{EcGroup, EcKey};
    use openssl::hash::MessageDigest;
    use openssl::nid::Nid;
    use openssl::pkey::PKey;
    let inst = Instance::start();
    let tmp = tempfile::tempdir().unwrap();
    let artifact = tmp.path().join("artifact.txt");
    std::fs::write(&artifact, b"hello sigstore").unwrap();
    let digest = openssl::sha::sha256(b"hello sigstore");

    let key = PKey::from_ec_key(
        EcKey::generate(&EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap()).unwrap(),
    )
    .unwrap();
    let sign = |msg: &[u8]| {
        let mut s = openssl::sign::Signer::new(MessageDigest::sha256(), &key).unwrap();
        s.update(msg).unwrap();
        s.sign_to_vec().unwrap()
    };
    let pem = String::from_utf8(key.public_key_to_pem().unwrap()).unwrap();
    let leaf = inst.fulcio_certificate(&inst.token(USER), &pem, &sign(USER.as_bytes()));
    let cert_pem = openssl::x509::X509::from_der(&leaf)
        .unwrap()
        .to_pem()
        .unwrap();
    let sig = sign(b"hello sigstore");
    let entry = inst.rekor_v1_entry(&serde_json::json!({
        "apiVersion": "0.0.1", "kind": "hashedrekord",
        "spec": {
            "data": {"hash": {"algorithm": "sha256", "value": hex::encode(digest)}},
            "signature": {"content": B64.encode(&sig), "publicKey": {"content": B64.encode(&cert_pem)}},
        },
    }));
    let bundle = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"certificate": {"rawBytes": B64.encode(&leaf)}, "tlogEntries": [entry]},
        "messageSignature": {
            "messageDigest": {"algorithm": "SHA2_256", "digest": B64.encode(digest)},
            "signature": B64.encode(&sig),
        },
    });
    let bundle_path = tmp.path().join("artifact.sigstore.json");
    std::fs::write(&bundle_path, bundle.to_string()).unwrap();
    let root = inst.dir.path().join("trusted_root.json");
    let run = |artifact: &str, identity: &str| {
        msign()
            .args(["sigstore", "verify-bundle", "--bundle"])
            .arg(&bundle_path)
            .args([
                "--certificate-identity",
                identity,
                "--certificate-oidc-issuer",
                &inst.url,
            ])
            .arg("--trusted-root")
            .arg(&root)
            .arg(artifact)
            .output()
            .unwrap()
    };
    ok(
        &run(artifact.to_str().unwrap(), USER),
        "verify-bundle (file)",
    );
    ok(
        &run(&format!("sha256:{}", hex::encode(digest)), USER),
        "verify-bundle (digest)",
    );
    assert_eq!(
        run(artifact.to_str().unwrap(), "bob@example.com")
            .status
            .code(),
        Some(1)
    );
    // Another artifact: the message digest differs.
    let out = run(&format!("sha256:{}", "ab".repeat(32)), USER);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        says(
            &err,
            "the bundle signs another artifact (message digest differs)"
        ),
        "{err}"
    );
    // The bundle's digest and the artifact changed together: the signature no longer verifies.
    let mut b = bundle.clone();
    let other = openssl::sha::sha256(b"other");
    b["messageSignature"]["messageDigest"]["digest"] = Value::String(B64.encode(other));
    std::fs::write(&bundle_path, b.to_string()).unwrap();
    let out = run(&format!("sha256:{}", hex::encode(other)), USER);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        says(&err, "the signature in the bundle does not verify with its certificate or key … invalid signature: signature verification failed"),
        "{err}"
    );
}

#[test]
fn timestamp_authority_window_and_chain_are_checked() {
    let inst = Instance::start();
    let tmp = tempfile::tempdir().unwrap();
    let m = model(tmp.path());
    let sig = tmp.path().join("model.sig");
    inst.sign(&m, &sig);
    let v2_sig = tmp.path().join("v2.sig");
    std::fs::write(&v2_sig, inst.to_rekor_v2(&sig).to_string()).unwrap();
    let cfg: Value = serde_json::from_slice(&std::fs::read(inst.trust_config()).unwrap()).unwrap();
    let verify_with = |edit: &dyn Fn(&mut Value)| {
        let mut c = cfg.clone();
        edit(&mut c["trustedRoot"]);
        let p = tmp.path().join("cfg.json");
        std::fs::write(&p, c.to_string()).unwrap();
        msign()
            .args(["verify", "sigstore"])
            .arg(&m)
            .arg("--signature")
            .arg(&v2_sig)
            .arg("--trust-config")
            .arg(&p)
            .args(["--identity", USER, "--identity-provider", &inst.url])
            .output()
            .unwrap()
    };
    ok(&verify_with(&|_| {}), "msign (unchanged root)");
    // The TSA was trusted only long ago.
    let out = verify_with(&|r| {
        r["timestampAuthorities"][0]["validFor"] =
            serde_json::json!({"start": "2020-01-01T00:00:00Z", "end": "2021-01-01T00:00:00Z"})
    });
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        says(&err, "an RFC 3161 timestamp is outside the validity of the timestamp authority that signed it … is outside the validity period of the authority that signed it"),
        "{err}"
    );
    // The TSA's signing certificate under another root: the chain does not hold.
    let out = verify_with(&|r| {
        let fulcio_root = r["certificateAuthorities"][0]["certChain"]["certificates"][1].clone();
        r["timestampAuthorities"][0]["certChain"]["certificates"][1] = fulcio_root;
    });
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        says(&err, "an RFC 3161 timestamp in the bundle does not verify against the timestamp authorities of the trusted root … TSA certificate chain validation failed: UnknownIssuer"),
        "{err}"
    );
    // The Rekor v2 log key was not yet trusted at the timestamp's time.
    let out = verify_with(&|r| {
        r["tlogs"][1]["publicKey"]["validFor"]["start"] =
            Value::String("2099-01-01T00:00:00Z".into())
    });
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        says(&err, "the transparency-log checkpoint in the bundle is not signed by a log of the trusted root … No matching Rekor key found for checkpoint signature"),
        "{err}"
    );
}

#[test]
fn reference_signs_against_the_instance_and_msign_verifies() {
    let inst = Instance::start();
    let tmp = tempfile::tempdir().unwrap();
    let m = model(tmp.path());
    let sig = tmp.path().join("model.sig");
    let out = reference_cli()
        .args(["sign", "sigstore"])
        .arg(&m)
        .arg("--signature")
        .arg(&sig)
        .arg("--trust_config")
        .arg(inst.trust_config())
        .args(["--identity_token", &inst.token(USER)])
        .output()
        .unwrap();
    ok(&out, "model_signing sign");
    let b: Value = serde_json::from_slice(&std::fs::read(&sig).unwrap()).unwrap();
    assert!(
        b["verificationMaterial"]["timestampVerificationData"]["rfc3161Timestamps"][0]
            ["signedTimestamp"]
            .is_string()
    );
    ok(&inst.msign_verify(&m, &sig), "msign");
    // Its timestamp is checked too: one over another signature is refused.
    let sig2 = tmp.path().join("msign.sig");
    inst.sign(&m, &sig2);
    let theirs: Value = serde_json::from_slice(&std::fs::read(&sig2).unwrap()).unwrap();
    let mut mixed = b.clone();
    mixed["verificationMaterial"]["timestampVerificationData"] =
        theirs["verificationMaterial"]["timestampVerificationData"].clone();
    std::fs::write(&sig, mixed.to_string()).unwrap();
    let out = inst.msign_verify(&m, &sig);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(says(&err, "an RFC 3161 timestamp in the bundle does not verify against the timestamp authorities of the trusted root … Timestamp message hash mismatch"), "{err}");
}

#[test]
fn a_fulcio_that_never_answers_ends_at_the_timeout() {
    let inst = Instance::start();
    let tmp = tempfile::tempdir().unwrap();
    let m = sample_model(tmp.path());
    let silent = SilentServer::start();
    let mut config: Value =
        serde_json::from_slice(&std::fs::read(inst.trust_config()).unwrap()).unwrap();
    config["signingConfig"]["caUrls"][0]["url"] = Value::String(format!("http://{}", silent.addr));
    let trust = tmp.path().join("trust_config.json");
    std::fs::write(&trust, serde_json::to_vec(&config).unwrap()).unwrap();
    let start = std::time::Instant::now();
    let out = run_fails(
        msign()
            .args(["sign", "sigstore", "--timeout", "1"])
            .arg(&m)
            .arg("--signature")
            .arg(tmp.path().join("model.sig"))
            .arg("--trust-config")
            .arg(&trust)
            .args(["--identity-token", &inst.token(USER)]),
        3,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        start.elapsed() < std::time::Duration::from_secs(20),
        "{:?}: {err}",
        start.elapsed()
    );
    assert!(silent.accepted() >= 1, "{err}");
    for want in ["answer within 1 s", "--timeout", "signingCert"] {
        assert!(err.contains(want), "{want:?} not in: {err}");
    }
    assert!(!tmp.path().join("model.sig").exists());
}
