//! `--update-trust-root` and `msign sigstore update-trust-root` against a real TUF
//! repository on loopback (tests/tuf_repo/repo.py: python-tuf metadata, ECDSA keys, a root
//! rotation, consistent snapshots), and the attacks the TUF client must refuse: tampered
//! target, expired timestamp, rollback, a root rotation without the old keys' threshold, a
//! snapshot signed by the wrong key, oversized and garbage metadata.

mod common;
mod sigstore_instance;
use common::*;
use sigstore_instance::{Instance, USER};

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

/// A running TUF repository serving a given trusted_root.json.
struct TufRepo {
    child: Child,
    url: String,
    dir: tempfile::TempDir,
}

impl TufRepo {
    fn start(trusted_root: &Path) -> TufRepo {
        Self::start_with(trusted_root, None)
    }

    /// A repository that also lists `signing_config` as `signing_config.v0.2.json`.
    fn start_with(trusted_root: &Path, signing_config: Option<&Path>) -> TufRepo {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(reference_python())
            .arg(repo().join("tests/tuf_repo/repo.py"))
            .arg(dir.path())
            .arg(trusted_root)
            .arg("300")
            .args(signing_config)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the test TUF repository");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let v: Value = serde_json::from_str(&line).expect("the repository announces its URL");
        TufRepo {
            child,
            url: v["url"].as_str().unwrap().to_string(),
            dir,
        }
    }

    /// The initial root (v1) a client bootstraps from.
    fn root(&self) -> PathBuf {
        self.dir.path().join("root.json")
    }

    /// A served file.
    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join("repo").join(name)
    }

    /// Replaces a served file with a prepared variant.
    fn swap(&self, variant: &str, served: &str) {
        std::fs::copy(
            self.dir.path().join("variants").join(variant),
            self.file(served),
        )
        .unwrap();
    }

    /// The served target file (`targets/<sha256>.trusted_root.json`).
    fn target(&self) -> PathBuf {
        let dir = self.file("targets");
        std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().ends_with(".trusted_root.json"))
            .expect("the target is served")
    }

    /// `msign sigstore update-trust-root` against this repository, caching in `cache`.
    fn update(&self, cache: &Path) -> Command {
        let mut cmd = msign();
        cmd.env("XDG_CACHE_HOME", cache)
            .args(["sigstore", "update-trust-root", "--tuf-url", &self.url])
            .arg("--tuf-root")
            .arg(self.root());
        cmd
    }

    /// The cache folder msign uses for this repository.
    fn cache_dir(&self, cache: &Path) -> PathBuf {
        let port = self.url.rsplit(':').next().unwrap();
        cache.join(format!("msign/tuf/127.0.0.1_{port}"))
    }
}

impl Drop for TufRepo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The TUF flags that point msign at `tuf`.
fn tuf_flags(tuf: &TufRepo) -> Vec<String> {
    vec![
        "--update-trust-root".into(),
        "--tuf-url".into(),
        tuf.url.clone(),
        "--tuf-root".into(),
        tuf.root().to_str().unwrap().into(),
    ]
}

/// `msign verify sigstore` of `model` for the test user signed in at `issuer`.
fn verify_sigstore(model: &Path, sig: &Path, issuer: &str, extra: &[&str]) -> Command {
    let mut cmd = msign();
    cmd.args(["verify", "sigstore"])
        .arg(model)
        .arg("--signature")
        .arg(sig)
        .args(["--identity", USER, "--identity-provider", issuer])
        .args(extra);
    cmd
}

fn embedded_trusted_root() -> PathBuf {
    repo().join("src/sigstore/trusted_root.json")
}

/// Runs `cmd`, which must fail with the "other failure" exit code and `needle` in its error.
fn refused(cmd: &mut Command, needle: &str) -> Output {
    let out = run_fails(cmd, 3);
    assert_no_panic(&out);
    let err = stderr(&out);
    assert!(
        err.contains("trusted root update over TUF failed") && err.contains(needle),
        "expected an error about '{needle}', got:\n{err}"
    );
    out
}

#[test]
fn update_writes_the_served_trusted_root_and_caches_the_rotated_root() {
    let cache = tempfile::tempdir().unwrap();
    let tuf = TufRepo::start(&embedded_trusted_root());
    let out_file = cache.path().join("out/trusted_root.json");
    std::fs::create_dir_all(out_file.parent().unwrap()).unwrap();
    let out = run_ok(tuf.update(cache.path()).arg("--output").arg(&out_file));
    let text = stdout(&out);
    assert!(
        text.contains("root      v2") && text.contains("targets   v1"),
        "{text}"
    );
    assert_eq!(
        std::fs::read(&out_file).unwrap(),
        std::fs::read(embedded_trusted_root()).unwrap()
    );

    // The cache holds the rotated root, so the next update starts from v2: it succeeds
    // even once the repository no longer serves the rotation history.
    let cached: Value = serde_json::from_slice(
        &std::fs::read(tuf.cache_dir(cache.path()).join("root.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(cached["signed"]["version"], 2);
    std::fs::remove_file(tuf.file("1.root.json")).unwrap();
    std::fs::remove_file(tuf.file("2.root.json")).unwrap();
    let out = run_ok(tuf.update(cache.path()).arg("--json"));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "updated");
    assert_eq!(v["root"]["version"], 2);
    assert_eq!(v["timestamp"]["version"], 2);
    assert_eq!(v["snapshot"]["version"], 1);
    assert_eq!(v["targets"]["version"], 1);
    assert!(v["targets"]["expires"].as_str().unwrap().ends_with('Z'));

    // A fresh cache starts from root v1 again, which cannot reach v2 any more, and v1's
    // timestamp key is not the one that signs now.
    let fresh = tempfile::tempdir().unwrap();
    refused(
        &mut tuf.update(fresh.path()),
        "timestamp metadata v2 has 0 valid signature(s)",
    );
}

#[test]
fn verify_sigstore_uses_the_refreshed_root() {
    let inst = Instance::start();
    let tmp = tempfile::tempdir().unwrap();
    let m = sample_model(tmp.path());
    let sig = tmp.path().join("model.sig");
    run_ok(
        msign()
            .args(["sign", "sigstore"])
            .arg(&m)
            .arg("--signature")
            .arg(&sig)
            .arg("--trust-config")
            .arg(inst.trust_config())
            .args(["--identity-token", &inst.token(USER)]),
    );
    // Serve the instance's trusted root over TUF.
    let config: Value =
        serde_json::from_slice(&std::fs::read(inst.trust_config()).unwrap()).unwrap();
    let served = tmp.path().join("instance_trusted_root.json");
    std::fs::write(&served, serde_json::to_vec(&config["trustedRoot"]).unwrap()).unwrap();
    let tuf = TufRepo::start(&served);
    let cache = tempfile::tempdir().unwrap();

    let verify = |extra: &[&str]| {
        let mut cmd = verify_sigstore(&m, &sig, &inst.url, extra);
        cmd.env("XDG_CACHE_HOME", cache.path());
        cmd
    };
    let root = tuf.root();
    let root = root.to_str().unwrap();
    let tuf_flags = [
        "--update_trust_root",
        "--tuf-url",
        &tuf.url,
        "--tuf-root",
        root,
    ];
    let out = run_ok(&mut verify(&tuf_flags));
    assert!(
        stdout(&out).contains("Verification succeeded"),
        "{}",
        stdout(&out)
    );
    // The embedded public-good root does not know this instance: the refreshed root is
    // what made the difference.
    run_fails(&mut verify(&[]), 1);
    // `sigstore verify-bundle` takes the same flags: the bundle verifies for the model's
    // digest with the refreshed root, and not with the embedded one.
    let digest = stdout(&run_ok(msign().arg("digest").arg(&m)));
    let digest = digest.split_whitespace().next().unwrap().to_string();
    let verify_bundle = |extra: &[&str]| {
        let mut cmd = msign();
        cmd.env("XDG_CACHE_HOME", cache.path())
            .args(["sigstore", "verify-bundle", "--bundle"])
            .arg(&sig)
            .args(["--certificate-identity", USER])
            .args(["--certificate-oidc-issuer", &inst.url])
            .args(extra)
            .arg(&digest);
        cmd
    };
    let out = run_ok(&mut verify_bundle(&tuf_flags));
    assert!(stdout(&out).contains("bundle verified"), "{}", stdout(&out));
    run_fails(&mut verify_bundle(&[]), 1);
    // A file-given trust root and a TUF refresh exclude each other.
    let tc = inst.trust_config();
    let mut both = tuf_flags.to_vec();
    both.extend(["--trust-config", tc.to_str().unwrap()]);
    let out = run_fails(&mut verify(&both), 2);
    assert!(
        stderr(&out).contains("cannot be used with"),
        "{}",
        stderr(&out)
    );
    // A refresh that fails stops the verification (no fallback to the embedded root).
    std::fs::write(tuf.target(), b"{}").unwrap();
    std::fs::remove_dir_all(cache.path().join("msign")).unwrap();
    refused(&mut verify(&tuf_flags), "the signed metadata says");
}

#[test]
fn tampered_target_is_refused() {
    let cache = tempfile::tempdir().unwrap();
    let tuf = TufRepo::start(&embedded_trusted_root());
    flip_byte(&tuf.target(), 100);
    let out_file = cache.path().join("trusted_root.json");
    refused(
        tuf.update(cache.path()).arg("--output").arg(&out_file),
        "sha256 mismatch",
    );
    assert!(
        !out_file.exists(),
        "nothing is written when verification fails"
    );
}

#[test]
fn truncated_target_is_refused() {
    let cache = tempfile::tempdir().unwrap();
    let tuf = TufRepo::start(&embedded_trusted_root());
    let t = tuf.target();
    let b = std::fs::read(&t).unwrap();
    std::fs::write(&t, &b[..b.len() - 1]).unwrap();
    refused(&mut tuf.update(cache.path()), "the signed metadata says");
}

#[test]
fn expired_timestamp_is_refused() {
    let cache = tempfile::tempdir().unwrap();
    let tuf = TufRepo::start(&embedded_trusted_root());
    tuf.swap("timestamp_expired.json", "timestamp.json");
    refused(
        &mut tuf.update(cache.path()),
        "timestamp metadata v3 expired",
    );
}

#[test]
fn timestamp_rollback_is_refused() {
    let cache = tempfile::tempdir().unwrap();
    let tuf = TufRepo::start(&embedded_trusted_root());
    run_ok(&mut tuf.update(cache.path()));
    tuf.swap("timestamp_v1.json", "timestamp.json");
    refused(
        &mut tuf.update(cache.path()),
        "timestamp rollback: the repository offers v1, v2 was trusted before",
    );
    // Without the cached v2 there is nothing to roll back from.
    let fresh = tempfile::tempdir().unwrap();
    run_ok(&mut tuf.update(fresh.path()));
}

#[test]
fn root_rotation_without_the_old_threshold_is_refused() {
    let cache = tempfile::tempdir().unwrap();
    let tuf = TufRepo::start(&embedded_trusted_root());
    tuf.swap("2.root.json.one_old_sig", "2.root.json");
    refused(
        &mut tuf.update(cache.path()),
        "root metadata v2 has 1 valid signature(s) of the trusted root v1 keys, 2 required",
    );
}

#[test]
fn snapshot_signed_by_the_wrong_key_is_refused() {
    let cache = tempfile::tempdir().unwrap();
    let tuf = TufRepo::start(&embedded_trusted_root());
    tuf.swap("1.snapshot.json.wrong_key", "1.snapshot.json");
    refused(
        &mut tuf.update(cache.path()),
        "snapshot metadata v1 has 0 valid signature(s) of the root's snapshot keys, 1 required",
    );
}

#[test]
fn oversized_and_garbage_metadata_are_refused() {
    let cache = tempfile::tempdir().unwrap();
    let tuf = TufRepo::start(&embedded_trusted_root());
    let ts = tuf.file("timestamp.json");
    std::fs::write(&ts, vec![b' '; 1 << 20]).unwrap();
    refused(
        &mut tuf.update(cache.path()),
        "larger than the 16384 bytes accepted",
    );
    std::fs::write(&ts, b"\x00\xffnot json").unwrap();
    refused(
        &mut tuf.update(cache.path()),
        "timestamp metadata is not JSON",
    );
    std::fs::write(
        &ts,
        br#"{"signed": {"_type": "timestamp", "version": 1.5}, "signatures": []}"#,
    )
    .unwrap();
    refused(
        &mut tuf.update(cache.path()),
        "canonical JSON has no floats",
    );
    std::fs::write(&ts, br#"[1, 2, 3]"#).unwrap();
    refused(&mut tuf.update(cache.path()), "not a JSON object");
    // An oversized root is refused before it is parsed (v2 is cached, v3 comes next).
    std::fs::write(tuf.file("3.root.json"), vec![b'x'; 600 << 10]).unwrap();
    refused(
        &mut tuf.update(cache.path()),
        "larger than the 524288 bytes accepted",
    );
}

#[test]
fn tuf_flags_need_update_trust_root_and_exclude_trust_files() {
    let tmp = tempfile::tempdir().unwrap();
    // The signature is read before the trust root is chosen: it has to exist.
    std::fs::create_dir(tmp.path().join("model")).unwrap();
    std::fs::write(tmp.path().join("model/a"), b"a").unwrap();
    std::fs::write(tmp.path().join("model.sig"), b"{}").unwrap();
    let base = |extra: &[&str]| {
        let mut cmd = msign();
        cmd.current_dir(tmp.path())
            .env("XDG_CACHE_HOME", tmp.path())
            .args(["verify", "sigstore", "model", "--signature", "model.sig"])
            .args(["--identity", USER, "--identity-provider", "https://issuer"])
            .args(extra);
        cmd
    };
    run_fails(&mut base(&["--tuf-url", "http://127.0.0.1:9"]), 2);
    run_fails(&mut base(&["--tuf-root", "root.json"]), 2);
    let out = run_fails(
        &mut base(&["--update-trust-root", "--trusted-root", "trusted_root.json"]),
        2,
    );
    assert!(
        stderr(&out).contains("cannot be used with"),
        "{}",
        stderr(&out)
    );
    let out = run_fails(
        &mut base(&["--update-trust-root", "--tuf-url", "ftp://example/"]),
        2,
    );
    assert!(stderr(&out).contains("http(s)"), "{}", stderr(&out));
    // An unreachable repository is a clear failure, not a fallback to the embedded root.
    let out = run_fails(
        &mut base(&["--update-trust-root", "--tuf-url", "http://127.0.0.1:9"]),
        3,
    );
    assert!(
        stderr(&out).contains("cannot be reached"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn sign_sigstore_takes_the_root_and_the_services_from_tuf() {
    let inst = Instance::start();
    let tmp = tempfile::tempdir().unwrap();
    let m = sample_model(tmp.path());
    let config: Value =
        serde_json::from_slice(&std::fs::read(inst.trust_config()).unwrap()).unwrap();
    let served_root = tmp.path().join("trusted_root.json");
    std::fs::write(
        &served_root,
        serde_json::to_vec(&config["trustedRoot"]).unwrap(),
    )
    .unwrap();
    let served_config = tmp.path().join("signing_config.json");
    std::fs::write(
        &served_config,
        serde_json::to_vec(&config["signingConfig"]).unwrap(),
    )
    .unwrap();
    let tuf = TufRepo::start_with(&served_root, Some(&served_config));
    let cache = tempfile::tempdir().unwrap();
    let sign_cached = |tuf: &TufRepo, sig: &Path, cache: &Path| {
        let mut cmd = msign();
        cmd.env("XDG_CACHE_HOME", cache)
            .args(["sign", "sigstore"])
            .arg(&m)
            .arg("--signature")
            .arg(sig)
            .args(tuf_flags(tuf))
            .args(["--identity-token", &inst.token(USER)]);
        cmd
    };
    let sign = |tuf: &TufRepo, sig: &Path| sign_cached(tuf, sig, cache.path());

    // No --trust-config: Fulcio, Rekor and the root all come from the TUF repository.
    let sig = tmp.path().join("model.sig");
    run_ok(&mut sign(&tuf, &sig));
    let verify = |extra: &[&str]| verify_sigstore(&m, &sig, &inst.url, extra);
    let tc = inst.trust_config();
    run_ok(&mut verify(&["--trust-config", tc.to_str().unwrap()]));
    run_fails(&mut verify(&[]), 1);

    // The update reports the signing config it verified.
    let out = run_ok(tuf.update(cache.path()).arg("--json"));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["signing_config_sha256"].as_str().unwrap(),
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
            std::fs::read(&served_config).unwrap()
        ))
    );

    // A tampered signing config is refused like any target.
    let name = format!(
        "targets/{}.signing_config.v0.2.json",
        v["signing_config_sha256"].as_str().unwrap()
    );
    let served = tuf.file(&name);
    let mut bytes = std::fs::read(&served).unwrap();
    bytes[0] ^= 1;
    std::fs::write(&served, bytes).unwrap();
    // A client that holds the verified copy in its cache uses that copy (it still matches
    // the signed hashes) and never reads the tampered one.
    let cached = tmp.path().join("cached.sig");
    run_ok(&mut sign(&tuf, &cached));
    run_ok(&mut verify_sigstore(
        &m,
        &cached,
        &inst.url,
        &["--trust-config", tc.to_str().unwrap()],
    ));
    // A client that downloads it refuses it.
    let fresh = tempfile::tempdir().unwrap();
    refused(
        &mut sign_cached(&tuf, &tmp.path().join("bad.sig"), fresh.path()),
        "sha256 mismatch",
    );
    assert!(!tmp.path().join("bad.sig").exists());

    // A private repository that names no services: signing cannot guess them.
    let bare = TufRepo::start(&served_root);
    let out = run_fails(&mut sign(&bare, &tmp.path().join("bare.sig")), 2);
    assert!(
        stderr(&out).contains("lists no signing_config.v0.2.json"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_tuf_repository_that_never_answers_ends_at_the_timeout() {
    let tmp = tempfile::tempdir().unwrap();
    let silent = SilentServer::start();
    let url = format!("http://{}", silent.addr);
    let start = std::time::Instant::now();
    let out = run_fails(
        msign().env("XDG_CACHE_HOME", tmp.path()).args([
            "sigstore",
            "update-trust-root",
            "--timeout",
            "1",
            "--tuf-url",
            &url,
        ]),
        3,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        start.elapsed() < std::time::Duration::from_secs(15),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(silent.accepted(), 4, "{err}");
    for want in [
        silent.addr.as_str(),
        "did not answer within 1 s",
        "--timeout",
    ] {
        assert!(err.contains(want), "{want:?} not in: {err}");
    }
}
