//! Sigstore signatures on the Hub: `msign hub verify|download|sign` with the Sigstore flags,
//! against the fake Hub (tests/fakehub) and the loopback Sigstore instance
//! (tests/sigstore_instance/instance.py: OIDC issuer, Fulcio, Rekor, TSA).

mod common;
mod fakehub;
mod sigstore_instance;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;
use fakehub::{files_from_dir, regular, FakeHub, FileObj, TOKEN};
use serde_json::Value;
use sigstore_instance::{Instance, USER};

const REPO: &str = "acme/tiny-bert";

/// The fake Hub, the Sigstore instance and a scratch folder.
struct Env {
    hub: FakeHub,
    sigstore: Instance,
    tmp: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("hf")).unwrap();
        Env {
            hub: FakeHub::start(),
            sigstore: Instance::start(),
            tmp,
        }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.tmp.path().join(p)
    }

    /// `msign` with the Hub's environment and nothing inherited from the caller's.
    fn msign(&self) -> Command {
        let mut c = msign();
        for v in [
            "HF_TOKEN",
            "HF_HUB_CACHE",
            "HF_HUB_OFFLINE",
            "HF_TOKEN_PATH",
            "HUGGING_FACE_HUB_TOKEN",
            "SIGSTORE_ID_TOKEN",
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        ] {
            c.env_remove(v);
        }
        c.env("HF_ENDPOINT", &self.hub.endpoint)
            .env("HF_HOME", self.path("hf"));
        c
    }

    /// `msign hub CMD REPO` with the Sigstore verification flags for `identity`.
    fn hub(&self, cmd: &str, identity: &str, extra: &[&str]) -> Command {
        let mut c = self.msign();
        c.args(["hub", cmd, REPO, "--identity", identity])
            .args(["--identity-provider", &self.sigstore.url])
            .arg("--trust-config")
            .arg(self.sigstore.trust_config())
            .args(extra);
        c
    }

    /// Signs a folder with `msign sign sigstore`; returns the signature bytes.
    fn sign_msign(&self, dir: &Path) -> Vec<u8> {
        let sig = self.path("msign.sig");
        run_ok(
            msign()
                .args(["sign", "sigstore"])
                .arg(dir)
                .arg("--signature")
                .arg(&sig)
                .arg("--trust-config")
                .arg(self.sigstore.trust_config())
                .args(["--identity-token", &self.sigstore.token(USER)]),
        );
        std::fs::read(sig).unwrap()
    }

    /// Signs a folder with `model_signing sign sigstore`; returns the signature bytes.
    fn sign_reference(&self, dir: &Path) -> Vec<u8> {
        let sig = self.path("reference.sig");
        run_ok(
            reference_cli()
                .args(["sign", "sigstore"])
                .arg(dir)
                .arg("--signature")
                .arg(&sig)
                .arg("--trust_config")
                .arg(self.sigstore.trust_config())
                .args(["--identity_token", &self.sigstore.token(USER)]),
        );
        std::fs::read(sig).unwrap()
    }

    /// Publishes a folder (plus `extra` files) as a commit on `branch`.
    fn publish(&self, dir: &Path, branch: &str, extra: &[(&str, &[u8])]) -> String {
        self.hub.publish(REPO, branch, repo_files(dir), extra)
    }
}

/// Repository files of a model folder; weights through LFS, as on the Hub.
fn repo_files(dir: &Path) -> BTreeMap<String, FileObj> {
    let mut files = files_from_dir(dir, |p, _| p.ends_with(".safetensors"));
    files
        .entry(".gitattributes".into())
        .or_insert_with(|| regular(b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n"));
    files
}

/// The sample model plus a 3 MB weights file.
fn model(env: &Env) -> PathBuf {
    let m = sample_model(env.tmp.path());
    let weights: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(m.join("model.safetensors"), weights).unwrap();
    m
}

/// Bytes of the regular (non-LFS) files a verification fetches.
fn small_bytes(files: &BTreeMap<String, FileObj>) -> u64 {
    files
        .iter()
        .filter(|(p, f)| !f.lfs && p.as_str() != ".gitattributes")
        .map(|(_, f)| f.content.len() as u64)
        .sum()
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn sigstore_signed_repo_verifies_from_metadata() {
    let env = Env::new();
    let m = model(&env);
    let sig = env.sign_msign(&m);
    let commit = env.publish(&m, "main", &[("model.sig", &sig)]);
    let reference_sig = env.sign_reference(&m);
    env.publish(&m, "reference-signed", &[("model.sig", &reference_sig)]);

    let out = run_ok(&mut env.hub("verify", USER, &["--json"]));
    let v = json_of(&out);
    assert_eq!(v["status"], "verified");
    assert_eq!(v["commit"], commit);
    assert_eq!(v["method"], "sigstore");
    assert_eq!(
        v["signer"].as_str().unwrap(),
        format!("{USER} (issuer {})", env.sigstore.url)
    );
    let files = env.hub.state().head(REPO, "main");
    assert!(files["model.safetensors"].lfs);
    assert_eq!(v["bytes_downloaded"].as_u64().unwrap(), small_bytes(&files));
    assert!(
        env.hub.cdn_requests().is_empty(),
        "no weight byte may be fetched"
    );

    // Another identity, or the right one from another issuer: the verification exit code.
    let out = run_fails(&mut env.hub("verify", "mallory@example.com", &[]), 1);
    assert!(
        stderr(&out).contains("mallory@example.com"),
        "{}",
        stderr(&out)
    );
    let mut c = env.msign();
    c.args(["hub", "verify", REPO, "--identity", USER])
        .args(["--identity-provider", "https://accounts.example.org"])
        .arg("--trust-config")
        .arg(env.sigstore.trust_config());
    run_fails(&mut c, 1);
    // Without the instance's trust root (the embedded public-good one), it is refused.
    let mut c = env.msign();
    c.args(["hub", "verify", REPO, "--identity", USER])
        .args(["--identity-provider", &env.sigstore.url]);
    run_fails(&mut c, 1);

    // The reference's Sigstore signature of the same files, with the reference's spellings.
    let mut c = env.msign();
    c.args(["hub", "verify", REPO, "--revision", "reference-signed"])
        .args(["--identity", USER, "--identity_provider", &env.sigstore.url])
        .arg("--trust_config")
        .arg(env.sigstore.trust_config())
        .arg("--json");
    let v = json_of(&run_ok(&mut c));
    assert_eq!(v["status"], "verified");
    let files = env.hub.state().head(REPO, "reference-signed");
    assert_eq!(v["bytes_downloaded"].as_u64().unwrap(), small_bytes(&files));
    assert!(env.hub.cdn_requests().is_empty());
}

#[test]
fn sigstore_method_flags_are_checked() {
    let env = Env::new();
    let tmp = env.path("keys");
    std::fs::create_dir_all(&tmp).unwrap();
    let (key, public) = ec_keypair(&tmp, "prime256v1");
    // Two methods at once.
    let out = run_fails(
        env.hub("verify", USER, &[])
            .arg("--public-key")
            .arg(&public),
        2,
    );
    assert!(
        stderr(&out).contains("one verification method"),
        "{}",
        stderr(&out)
    );
    // An explicit --method decides, and needs its own flags.
    let out = run_fails(&mut env.hub("download", USER, &["--method", "key"]), 2);
    assert!(
        stderr(&out).contains("needs --public-key"),
        "{}",
        stderr(&out)
    );
    // An identity without its issuer, and the reverse.
    let mut c = env.msign();
    c.args(["hub", "verify", REPO, "--identity", USER]);
    let out = run_fails(&mut c, 2);
    assert!(
        stderr(&out).contains("--identity-provider"),
        "{}",
        stderr(&out)
    );
    let mut c = env.msign();
    c.args([
        "hub",
        "download",
        REPO,
        "--identity-provider",
        &env.sigstore.url,
    ]);
    run_fails(&mut c, 2);
    // No method at all names Sigstore among the choices.
    let mut c = env.msign();
    c.args(["hub", "verify", REPO]);
    let out = run_fails(&mut c, 2);
    assert!(stderr(&out).contains("--identity"), "{}", stderr(&out));
    // Signing: a key and Sigstore at once, and neither.
    let mut c = env.msign();
    c.args(["hub", "sign", REPO, "--sigstore", "--private-key"])
        .arg(&key);
    let out = run_fails(&mut c, 2);
    assert!(
        stderr(&out).contains("one signing method"),
        "{}",
        stderr(&out)
    );
    let mut c = env.msign();
    c.args(["hub", "sign", REPO]);
    let out = run_fails(&mut c, 2);
    assert!(stderr(&out).contains("--sigstore"), "{}", stderr(&out));
    // Nothing of this reached the Hub.
    assert!(env.hub.state().log.is_empty());
}

#[test]
fn sigstore_download_verifies_every_byte() {
    let env = Env::new();
    let m = model(&env);
    let sig = env.sign_msign(&m);
    env.publish(&m, "main", &[("model.sig", &sig)]);

    // The wrong identity: refused before any weight is fetched, nothing written.
    let bad = env.path("bad");
    run_fails(
        env.hub("download", "mallory@example.com", &["--local-dir"])
            .arg(&bad),
        1,
    );
    assert!(env.hub.cdn_requests().is_empty());
    assert!(!bad.join("model.safetensors").exists());

    let dl = env.path("dl");
    let out = run_ok(
        env.hub("download", USER, &["--json", "--local-dir"])
            .arg(&dl),
    );
    let v = json_of(&out);
    assert_eq!(v["status"], "verified");
    assert!(v["signer"].as_str().unwrap().starts_with(USER), "{v}");
    for f in ["model.safetensors", "config.json"] {
        assert_eq!(
            std::fs::read(dl.join(f)).unwrap(),
            std::fs::read(m.join(f)).unwrap(),
            "{f}"
        );
    }
    assert!(
        !env.hub.cdn_requests().is_empty(),
        "weights come from the CDN"
    );
    // The reference accepts the downloaded folder with the same identity.
    run_ok(
        reference_cli()
            .args(["verify", "sigstore"])
            .arg(&dl)
            .arg("--signature")
            .arg(dl.join("model.sig"))
            .arg("--trust_config")
            .arg(env.sigstore.trust_config())
            .args(["--identity", USER, "--identity_provider", &env.sigstore.url]),
    );

    // A Hub that serves other bytes for the weights than it lists: caught, and deleted.
    let original = std::fs::read(m.join("model.safetensors")).unwrap();
    let mut bytes = original.clone();
    bytes[1_000_000] ^= 1;
    std::fs::write(m.join("model.safetensors"), bytes).unwrap();
    let mut tampered = repo_files(&m);
    tampered.insert("model.sig".into(), regular(&sig));
    tampered.get_mut("model.safetensors").unwrap().listed_sha256 = Some(hex::encode(
        <sha2::Sha256 as sha2::Digest>::digest(&original),
    ));
    env.hub.state().commit(REPO, "tampered", tampered);
    let out = run_fails(
        env.hub("download", USER, &["--revision", "tampered", "--local-dir"])
            .arg(env.path("t")),
        1,
    );
    assert!(
        stderr(&out).contains("model.safetensors"),
        "{}",
        stderr(&out)
    );
    assert!(!env.path("t/model.safetensors").exists());
}

#[test]
fn sigstore_hub_sign_upload_round_trip() {
    let env = Env::new();
    let m = model(&env);
    let before = env.publish(&m, "main", &[]);
    let local = env.path("uploaded.sig");

    let mut c = env.msign();
    c.args(["hub", "sign", REPO, "--upload", "--output"])
        .arg(&local)
        .arg("--trust-config")
        .arg(env.sigstore.trust_config())
        .args(["--identity-token", &env.sigstore.token(USER)]);
    let out = run_fails(&mut c, 2);
    assert!(stderr(&out).contains("HF_TOKEN"), "{}", stderr(&out));
    let v = json_of(&run_ok(c.env("HF_TOKEN", TOKEN).arg("--json")));
    assert_eq!(v["method"], "sigstore");
    let head = env.hub.state().repos[REPO].refs["main"].clone();
    assert_ne!(head, before);
    assert_eq!(v["uploaded_commit"], head);
    assert!(env.hub.cdn_requests().is_empty(), "signed from metadata");
    let files = env.hub.state().head(REPO, "main");
    let uploaded = files["model.sig"].content.as_ref().clone();
    assert_eq!(uploaded, std::fs::read(&local).unwrap());
    let b: Value = serde_json::from_slice(&uploaded).unwrap();
    assert_eq!(
        b["mediaType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );

    let v = json_of(&run_ok(&mut env.hub("verify", USER, &["--json"])));
    assert_eq!(v["commit"], head);
    assert_eq!(v["bytes_downloaded"].as_u64().unwrap(), small_bytes(&files));
    run_fails(&mut env.hub("verify", "mallory@example.com", &[]), 1);
    // The reference accepts the signature made from Hub metadata, on the real files.
    run_ok(
        reference_cli()
            .args(["verify", "sigstore"])
            .arg(&m)
            .arg("--signature")
            .arg(&local)
            .arg("--trust_config")
            .arg(env.sigstore.trust_config())
            .args(["--identity", USER, "--identity_provider", &env.sigstore.url]),
    );
}
