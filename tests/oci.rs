//! `msign oci`: models stored as OCI artifacts, against a real registry (Debian's
//! `docker-registry`, CNCF distribution 2.8, started here on loopback) holding a model
//! pushed by a real ORAS client (PyPI `oras`, installed into `.venv-oci` by `.ci/run`).

mod common;
mod sigstore_instance;
use common::*;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// A `docker-registry serve` on a free loopback port, with its storage and log in a
/// temporary folder; stopped when dropped.
struct Registry {
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Registry {
    fn start(auth: &str) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let config = dir.path().join("config.yml");
            std::fs::write(
                &config,
                format!(
                    "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n{auth}",
                    dir.path().join("store").display()
                ),
            )
            .unwrap();
            let log = dir.path().join("registry.log");
            let out = std::fs::File::create(&log).unwrap();
            let child = Command::new("docker-registry")
                .arg("serve")
                .arg(&config)
                .stdout(out.try_clone().unwrap())
                .stderr(out)
                .spawn()
                .expect("docker-registry not found: run .ci/run (Debian package docker-registry)");
            let mut child = child;
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Registry {
                        child,
                        port,
                        log,
                        _dir: dir,
                    };
                }
                if child.try_wait().unwrap().is_some() {
                    break; // the port was taken meanwhile: try another
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("docker-registry did not start");
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn log_len(&self) -> usize {
        std::fs::read_to_string(&self.log).unwrap_or_default().len()
    }

    /// The access-log lines written since `from` (a [`Registry::log_len`]).
    fn requests_since(&self, from: usize) -> Vec<String> {
        // The access log line is written as the response ends: let it settle.
        let mut len = self.log_len();
        loop {
            std::thread::sleep(Duration::from_millis(300));
            let now = self.log_len();
            if now == len {
                break;
            }
            len = now;
        }
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        log[from..]
            .lines()
            .filter(|l| {
                l.contains("\"GET ")
                    || l.contains("\"HEAD ")
                    || l.contains("\"PUT ")
                    || l.contains("\"POST ")
            })
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn oras_python() -> PathBuf {
    let p = std::env::var_os("MSIGN_OCI_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".venv-oci/bin/python"));
    assert!(
        p.exists(),
        "{} not found: run .ci/run (it installs the ORAS client into .venv-oci) or set MSIGN_OCI_PYTHON",
        p.display()
    );
    p
}

const ORAS: &str = r#"
import sys, os, oras.client
action, target, folder = sys.argv[1:4]
if len(sys.argv) > 4 and sys.argv[4] == "--token":
    c = oras.client.OrasClient(insecure=True)
    c.auth.set_token_auth(sys.argv[5])
elif len(sys.argv) > 4:
    c = oras.client.OrasClient(insecure=True, auth_backend="basic")
    c.auth.set_basic_auth(sys.argv[4], sys.argv[5])
else:
    c = oras.client.OrasClient(insecure=True)
if action == "push":
    os.chdir(folder)
    files = sorted(f for f in os.listdir(".") if os.path.isfile(f))
    r = c.push(target=target, files=files)
    assert r.status_code == 201, r.status_code
else:
    c.pull(target=target, outdir=folder)
print("ok")
"#;

/// Pushes every file of `folder` as one layer, ORAS-style (title annotations).
fn oras_push(target: &str, folder: &Path) {
    run_ok(
        Command::new(oras_python())
            .args(["-c", ORAS, "push", target])
            .arg(folder),
    );
}

/// Pushes like [`oras_push`], logged in as `user`.
fn oras_push_as(target: &str, folder: &Path, user: &str, password: &str) {
    run_ok(
        Command::new(oras_python())
            .args(["-c", ORAS, "push", target])
            .arg(folder)
            .args([user, password]),
    );
}

/// Pulls `target` into `folder` with ORAS.
fn oras_pull(target: &str, folder: &Path) {
    run_ok(
        Command::new(oras_python())
            .args(["-c", ORAS, "pull", target])
            .arg(folder),
    );
}

/// A flat model (ORAS names layers by base name).
fn flat_model(dir: &Path, name: &str, weights: &[u8]) -> PathBuf {
    let m = dir.join(name);
    std::fs::create_dir_all(&m).unwrap();
    std::fs::write(m.join("model.safetensors"), weights).unwrap();
    std::fs::write(m.join("config.json"), b"{\"hidden\": 8}").unwrap();
    std::fs::write(m.join("tokenizer.json"), "{\"ü\": 1}").unwrap();
    m
}

fn demo_key() -> (PathBuf, PathBuf) {
    (
        fixtures().join("keys/demo-p256.pem"),
        fixtures().join("keys/demo-p256.pub"),
    )
}

fn blob_gets(lines: &[String]) -> Vec<&String> {
    lines
        .iter()
        .filter(|l| l.contains("\"GET ") && l.contains("/blobs/"))
        .collect()
}

#[test]
fn oci_sign_reads_no_layer_and_one_signature_verifies_registry_and_pulled_folder() {
    let reg = Registry::start("");
    let tmp = tempfile::tempdir().unwrap();
    let weights: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    let model = flat_model(tmp.path(), "src", &weights);
    let target = format!("{}/demo/tiny:v1", reg.host());
    oras_push(&target, &model);
    let (key, public) = demo_key();
    let sig = tmp.path().join("tiny.sig");

    let before = reg.log_len();
    let out = run_ok(
        msign()
            .args([
                "--json",
                "oci",
                "sign",
                "key",
                &target,
                "--attach",
                "--signature",
            ])
            .arg(&sig)
            .arg("--private-key")
            .arg(&key),
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["resources"], 3, "{report}");
    assert_eq!(report["attached"]["via"], "tag-scheme", "{report}");
    // Signing read manifests only: not one blob was downloaded.
    let requests = reg.requests_since(before);
    assert!(
        requests.iter().any(|l| l.contains("/manifests/v1")),
        "the log does not show the requests: {requests:#?}"
    );
    assert!(
        blob_gets(&requests).is_empty(),
        "signing read blobs: {requests:#?}"
    );

    // From the registry: the attached signature verifies.
    let out = run_ok(
        msign()
            .args(["oci", "verify", "key", &target, "--public-key"])
            .arg(&public),
    );
    assert!(
        stdout(&out).contains("referrer sha256:"),
        "{}",
        stdout(&out)
    );
    // And the signature file against the manifest.
    run_ok(
        msign()
            .args(["oci", "verify", "key", &target, "--signature"])
            .arg(&sig)
            .arg("--public-key")
            .arg(&public),
    );

    // The pulled files verify against the same signature, with msign and model_signing.
    let pulled = tmp.path().join("tiny");
    oras_pull(&target, &pulled);
    run_ok(
        msign()
            .args(["verify", "key"])
            .arg(&pulled)
            .arg("--signature")
            .arg(&sig)
            .arg("--public-key")
            .arg(&public),
    );
    run_ok(
        reference_cli()
            .args(["verify", "key"])
            .arg(&pulled)
            .arg("--signature")
            .arg(&sig)
            .arg("--public_key")
            .arg(&public),
    );
    // The statement is the files statement of the pulled folder, byte for byte.
    let folder_sig = tmp.path().join("folder.sig");
    run_ok(
        msign()
            .args(["sign", "key", "--no-ignore-git-paths"])
            .arg(&pulled)
            .arg("--signature")
            .arg(&folder_sig)
            .arg("--private-key")
            .arg(&key),
    );
    assert_eq!(payload_of(&sig), payload_of(&folder_sig));
}

#[test]
fn oci_verify_accepts_model_signing_signature_of_the_pulled_folder() {
    let reg = Registry::start("");
    let tmp = tempfile::tempdir().unwrap();
    let model = flat_model(tmp.path(), "src", b"weights");
    let target = format!("{}/demo/ref:v1", reg.host());
    oras_push(&target, &model);
    let pulled = tmp.path().join("ref");
    oras_pull(&target, &pulled);
    let (key, public) = demo_key();
    let sig = tmp.path().join("ref.sig");
    // model_signing records its git ignore paths: they leave the same names out here.
    run_ok(
        reference_cli()
            .args(["sign", "key"])
            .arg(&pulled)
            .arg("--signature")
            .arg(&sig)
            .arg("--private_key")
            .arg(&key),
    );
    run_ok(
        msign()
            .args(["oci", "verify", "key", &target, "--signature"])
            .arg(&sig)
            .arg("--public-key")
            .arg(&public),
    );
}

#[test]
fn oci_verify_fails_closed() {
    let reg = Registry::start("");
    let tmp = tempfile::tempdir().unwrap();
    let (key, public) = demo_key();
    let (other_key, _) = ec_keypair(tmp.path(), "prime256v1");

    // Unsigned: nothing attached.
    let model = flat_model(tmp.path(), "a", b"weights v1");
    let unsigned = format!("{}/demo/unsigned:v1", reg.host());
    oras_push(&unsigned, &model);
    let out = run_fails(
        msign()
            .args(["oci", "verify", "key", &unsigned, "--public-key"])
            .arg(&public),
        // A missing signature is exit 3, as for a file, the Hub and git.
        3,
    );
    assert!(
        stderr(&out).contains("no signature is attached"),
        "{}",
        stderr(&out)
    );

    // Signed by another key.
    let other = format!("{}/demo/other:v1", reg.host());
    oras_push(&other, &model);
    run_ok(
        msign()
            .args(["oci", "sign", "key", &other, "--attach", "--private-key"])
            .arg(&other_key),
    );
    let out = run_fails(
        msign()
            .args(["oci", "verify", "key", &other, "--public-key"])
            .arg(&public),
        1,
    );
    assert!(
        stderr(&out).contains("signature verification failed"),
        "{}",
        stderr(&out)
    );

    // A layer replaced after signing: a new manifest under the same tag.
    let target = format!("{}/demo/replaced:v1", reg.host());
    oras_push(&target, &model);
    let sig = tmp.path().join("replaced.sig");
    run_ok(
        msign()
            .args(["oci", "sign", "key", &target, "--attach", "--signature"])
            .arg(&sig)
            .arg("--private-key")
            .arg(&key),
    );
    run_ok(
        msign()
            .args(["oci", "verify", "key", &target, "--public-key"])
            .arg(&public),
    );
    std::fs::write(model.join("model.safetensors"), b"weights v2, poisoned").unwrap();
    oras_push(&target, &model);
    let out = run_fails(
        msign()
            .args(["oci", "verify", "key", &target, "--public-key"])
            .arg(&public),
        3,
    );
    assert!(
        stderr(&out).contains("no signature is attached"),
        "{}",
        stderr(&out)
    );
    let out = run_fails(
        msign()
            .args(["oci", "verify", "key", &target, "--signature"])
            .arg(&sig)
            .arg("--public-key")
            .arg(&public),
        1,
    );
    assert!(
        stderr(&out).contains("model.safetensors") && stderr(&out).contains("content differs"),
        "{}",
        stderr(&out)
    );
}

/// The manifest `target` (`host/repo:tag`) as stored: its bytes.
fn manifest_bytes(host: &str, repo: &str, reference: &str) -> Vec<u8> {
    let resp = reqwest::blocking::Client::new()
        .get(format!("http://{host}/v2/{repo}/manifests/{reference}"))
        .header("Accept", "application/vnd.oci.image.manifest.v1+json")
        .send()
        .unwrap();
    resp.bytes().unwrap().to_vec()
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[test]
fn oci_index_needs_a_platform_it_has() {
    let reg = Registry::start("");
    let tmp = tempfile::tempdir().unwrap();
    let model = flat_model(tmp.path(), "m", b"weights");
    oras_push(&format!("{}/demo/idx:amd64", reg.host()), &model);
    let child = manifest_bytes(&reg.host(), "demo/idx", "amd64");
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": format!("sha256:{}", sha256_hex(&child)),
            "size": child.len(),
            "platform": {"os": "linux", "architecture": "amd64"},
        }],
    });
    reqwest::blocking::Client::new()
        .put(format!("http://{}/v2/demo/idx/manifests/multi", reg.host()))
        .header("Content-Type", "application/vnd.oci.image.index.v1+json")
        .body(serde_json::to_vec(&index).unwrap())
        .send()
        .unwrap()
        .error_for_status()
        .unwrap();
    let target = format!("{}/demo/idx:multi", reg.host());
    let (key, public) = demo_key();
    for platform in [None, Some("linux/arm64")] {
        let mut cmd = msign();
        cmd.args(["oci", "sign", "key", &target, "--attach", "--private-key"])
            .arg(&key);
        if let Some(p) = platform {
            cmd.args(["--platform", p]);
        }
        let out = run_fails(&mut cmd, 2);
        assert!(stderr(&out).contains("linux/amd64"), "{}", stderr(&out));
    }
    run_ok(
        msign()
            .args([
                "oci",
                "sign",
                "key",
                &target,
                "--platform",
                "linux/amd64",
                "--attach",
            ])
            .arg("--private-key")
            .arg(&key),
    );
    // The signature is the platform manifest's: the child verifies by its own tag too.
    run_ok(
        msign()
            .args([
                "oci",
                "verify",
                "key",
                &format!("{}/demo/idx:amd64", reg.host()),
            ])
            .arg("--public-key")
            .arg(&public),
    );
}

/// Stores an index under `host/repo:tag` listing the manifests tagged `tags`, each with
/// the platform `linux/<tag>`.
fn put_index(host: &str, repo: &str, tag: &str, tags: &[&str]) {
    let manifests: Vec<serde_json::Value> = tags
        .iter()
        .map(|t| {
            let child = manifest_bytes(host, repo, t);
            serde_json::json!({
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": format!("sha256:{}", sha256_hex(&child)),
                "size": child.len(),
                "platform": {"os": "linux", "architecture": t},
            })
        })
        .collect();
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": manifests,
    });
    reqwest::blocking::Client::new()
        .put(format!("http://{host}/v2/{repo}/manifests/{tag}"))
        .header("Content-Type", "application/vnd.oci.image.index.v1+json")
        .body(serde_json::to_vec(&index).unwrap())
        .send()
        .unwrap()
        .error_for_status()
        .unwrap();
}

#[test]
fn oci_index_all_platforms_signs_each_and_verify_names_the_one_replaced() {
    let reg = Registry::start("");
    let tmp = tempfile::tempdir().unwrap();
    let host = reg.host();
    let amd = flat_model(tmp.path(), "amd64", b"weights for amd64");
    let arm = flat_model(tmp.path(), "arm64", b"weights for arm64");
    oras_push(&format!("{host}/demo/multi:amd64"), &amd);
    oras_push(&format!("{host}/demo/multi:arm64"), &arm);
    put_index(&host, "demo/multi", "v1", &["amd64", "arm64"]);
    let target = format!("{host}/demo/multi:v1");
    let (key, public) = demo_key();

    // One signature per platform manifest, each attached as a referrer of that manifest.
    let out = run_ok(
        msign()
            .args([
                "--json",
                "oci",
                "sign",
                "key",
                &target,
                "--all-platforms",
                "--attach",
                "--private-key",
            ])
            .arg(&key),
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let platforms = report["platforms"]
        .as_array()
        .expect("a report per platform");
    assert_eq!(platforms.len(), 2, "{report}");
    for (p, tag) in platforms.iter().zip(["amd64", "arm64"]) {
        assert_eq!(p["platform"], format!("linux/{tag}"), "{report}");
        let child = format!(
            "sha256:{}",
            sha256_hex(&manifest_bytes(&host, "demo/multi", tag))
        );
        assert_eq!(p["manifest_digest"], child.as_str(), "{report}");
        // Attached to the platform's manifest: it verifies by its own tag too.
        run_ok(
            msign()
                .args([
                    "oci",
                    "verify",
                    "key",
                    &format!("{host}/demo/multi:{tag}"),
                    "--public-key",
                ])
                .arg(&public),
        );
    }
    // A signature file holds one signature: refused for the index, fine for one platform.
    let out = run_fails(
        msign()
            .args(["oci", "sign", "key", &target, "--all-platforms", "--attach"])
            .arg("--signature")
            .arg(tmp.path().join("all.sig"))
            .arg("--private-key")
            .arg(&key),
        2,
    );
    assert!(stderr(&out).contains("--platform"), "{}", stderr(&out));
    assert!(!tmp.path().join("all.sig").exists());

    // Verifying the index verifies every platform and reports each.
    let out = run_ok(
        msign()
            .args(["oci", "verify", "key", &target, "--public-key"])
            .arg(&public),
    );
    for tag in ["amd64", "arm64"] {
        assert!(
            stdout(&out).contains(&format!("[linux/{tag}]")),
            "{}",
            stdout(&out)
        );
    }
    run_ok(
        msign()
            .args(["oci", "verify", "key", &target, "--platform", "linux/arm64"])
            .arg("--public-key")
            .arg(&public),
    );

    // arm64's layer replaced after signing: a new arm64 manifest in a new index under v1.
    std::fs::write(arm.join("model.safetensors"), b"poisoned arm64 weights").unwrap();
    oras_push(&format!("{host}/demo/multi:arm64"), &arm);
    put_index(&host, "demo/multi", "v1", &["amd64", "arm64"]);
    // The new arm64 manifest has no signature attached: a missing signature, exit 3.
    let out = run_fails(
        msign()
            .args(["oci", "verify", "key", &target, "--public-key"])
            .arg(&public),
        3,
    );
    let err = stderr(&out);
    assert!(
        err.contains("1 of the 2 platforms") && err.contains("linux/arm64 (sha256:"),
        "{err}"
    );
    assert!(!err.contains("linux/amd64 (sha256:"), "{err}");
    // The one platform still signed still verifies alone.
    run_ok(
        msign()
            .args(["oci", "verify", "key", &target, "--platform", "linux/amd64"])
            .arg("--public-key")
            .arg(&public),
    );
}

/// An image manifest of one raw layer holding `content`, named `model.bin`.
fn one_layer_manifest(content: &[u8]) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": format!("sha256:{}", sha256_hex(b"{}")), "size": 2},
        "layers": [{
            "mediaType": "application/vnd.oci.image.layer.v1.tar",
            "digest": format!("sha256:{}", sha256_hex(content)),
            "size": content.len(),
            "annotations": {"org.opencontainers.image.title": "model.bin"},
        }],
    }))
    .unwrap()
}

/// A registry that serves `body` for every manifest, claiming `claimed` as its digest.
fn lying_registry(body: Vec<u8>, claimed: String) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
            }
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nDocker-Content-Digest: {claimed}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    port
}

#[test]
fn oci_refuses_a_registry_that_lies_about_a_digest() {
    let tmp = tempfile::tempdir().unwrap();
    let (key, _) = demo_key();
    let body = one_layer_manifest(b"poison");
    let asked = format!("sha256:{}", sha256_hex(b"the manifest that was signed"));
    let honest_claim = format!("sha256:{}", sha256_hex(&body));
    // Asked by digest, served other bytes (with an honest header for them).
    let port = lying_registry(body.clone(), honest_claim);
    let out = run_fails(
        msign()
            .args([
                "oci",
                "sign",
                "key",
                &format!("127.0.0.1:{port}/m@{asked}"),
                "--signature",
            ])
            .arg(tmp.path().join("x.sig"))
            .arg("--private-key")
            .arg(&key),
        1,
    );
    assert!(stderr(&out).contains("lies"), "{}", stderr(&out));
    // Asked by tag, with a digest header the bytes do not have.
    let port = lying_registry(body, asked);
    let out = run_fails(
        msign()
            .args([
                "oci",
                "sign",
                "key",
                &format!("127.0.0.1:{port}/m:v1"),
                "--signature",
            ])
            .arg(tmp.path().join("y.sig"))
            .arg("--private-key")
            .arg(&key),
        1,
    );
    assert!(stderr(&out).contains("lies"), "{}", stderr(&out));
    assert!(!tmp.path().join("x.sig").exists() && !tmp.path().join("y.sig").exists());
}

#[test]
fn oci_basic_auth_from_flags_and_docker_config() {
    let tmp = tempfile::tempdir().unwrap();
    let htpasswd = tmp.path().join("htpasswd");
    let out = run_ok(Command::new("htpasswd").args(["-Bbn", "alice", "s3cret"]));
    std::fs::write(&htpasswd, &out.stdout).unwrap();
    let reg = Registry::start(&format!(
        "auth:\n  htpasswd:\n    realm: msign-test\n    path: {}\n",
        htpasswd.display()
    ));
    let model = flat_model(tmp.path(), "m", b"weights");
    let target = format!("{}/demo/private:v1", reg.host());
    oras_push_as(&target, &model, "alice", "s3cret");
    let (key, public) = demo_key();
    let empty_config = tmp.path().join("no-docker");
    std::fs::create_dir_all(&empty_config).unwrap();

    // Anonymous: refused, saying how to log in.
    let out = run_fails(
        msign()
            .env("DOCKER_CONFIG", &empty_config)
            .args(["oci", "verify", "key", &target, "--public-key"])
            .arg(&public),
        2,
    );
    assert!(
        stderr(&out).contains("--password-stdin"),
        "{}",
        stderr(&out)
    );

    // --username with the password on standard input.
    let sign = |password: &str| {
        let mut child = msign()
            .env("DOCKER_CONFIG", &empty_config)
            .args([
                "oci",
                "sign",
                "key",
                &target,
                "--attach",
                "--username",
                "alice",
                "--password-stdin",
            ])
            .arg("--private-key")
            .arg(&key)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{password}\n").as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    // A wrong password is refused: exit 3, not a usage mistake.
    let out = sign("wrong");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("refused the credentials of alice"),
        "{}",
        stderr(&out)
    );
    let out = sign("s3cret");
    assert!(out.status.success(), "{}", stderr(&out));

    // Credentials from the Docker config, as `docker login` writes them.
    let docker = tmp.path().join("docker");
    std::fs::create_dir_all(&docker).unwrap();
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode("alice:s3cret");
    std::fs::write(
        docker.join("config.json"),
        format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, reg.host()),
    )
    .unwrap();
    run_ok(
        msign()
            .env("DOCKER_CONFIG", &docker)
            .args(["oci", "verify", "key", &target, "--public-key"])
            .arg(&public),
    );
}

/// A registry on loopback speaking the token protocol: manifests need `Bearer tok-alice`,
/// which its realm `/token` gives for alice's basic credentials and the pull scope.
fn token_registry(manifest: Vec<u8>) -> u16 {
    use base64::Engine as _;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("alice:s3cret")
    );
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let mut auth = String::new();
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
                if let Some(v) = h
                    .strip_prefix("Authorization: ")
                    .or(h.strip_prefix("authorization: "))
                {
                    auth = v.trim().to_string();
                }
            }
            let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
            let (status, extra, body): (&str, String, Vec<u8>) = if path.starts_with("/token") {
                if auth == basic && path.contains("scope=repository%3Ademo%2Fm%3Apull") {
                    (
                        "200 OK",
                        String::new(),
                        br#"{"token":"tok-alice"}"#.to_vec(),
                    )
                } else {
                    ("401 Unauthorized", String::new(), b"{}".to_vec())
                }
            } else if auth == "Bearer tok-alice" {
                (
                    "200 OK",
                    "Content-Type: application/vnd.oci.image.manifest.v1+json\r\n".into(),
                    manifest.clone(),
                )
            } else {
                (
                    "401 Unauthorized",
                    format!("WWW-Authenticate: Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"test\",scope=\"repository:demo/m:pull\"\r\n"),
                    b"{}".to_vec(),
                )
            };
            let head = format!(
                "HTTP/1.1 {status}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    port
}

#[test]
fn oci_bearer_token_from_the_challenge_realm() {
    let tmp = tempfile::tempdir().unwrap();
    let (key, _) = demo_key();
    let manifest = one_layer_manifest(b"weights");
    let port = token_registry(manifest);
    let target = format!("127.0.0.1:{port}/demo/m:v1");
    let no_config = tmp.path().join("none");
    let sign = |password: Option<&str>| {
        let mut cmd = msign();
        cmd.env("DOCKER_CONFIG", &no_config)
            .args(["oci", "sign", "key", &target, "--signature"])
            .arg(tmp.path().join("m.sig"))
            .arg("--private-key")
            .arg(&key)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        if password.is_some() {
            cmd.args(["--username", "alice", "--password-stdin"]);
        }
        let mut child = cmd.spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let _ = stdin.write_all(password.unwrap_or("").as_bytes());
        drop(stdin);
        child.wait_with_output().unwrap()
    };
    let out = sign(None);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("refused anonymous access"),
        "{}",
        stderr(&out)
    );
    let out = sign(Some("wrong"));
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let out = sign(Some("s3cret"));
    assert!(out.status.success(), "{}", stderr(&out));
    let payload = payload_of(&tmp.path().join("m.sig"));
    assert!(String::from_utf8_lossy(&payload).contains("model.bin"));
}

#[test]
fn a_registry_that_never_answers_ends_at_the_timeout() {
    let silent = SilentServer::start();
    let (_, public) = demo_key();
    let target = format!("{}/demo/model:v1", silent.addr);
    let start = Instant::now();
    let out = run_fails(
        msign()
            .args([
                "oci",
                "verify",
                "key",
                &target,
                "--timeout",
                "1",
                "--public-key",
            ])
            .arg(&public),
        3,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        start.elapsed() < Duration::from_secs(15),
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

/// The Docker token service distribution's `auth: token` trusts, on loopback: `GET
/// /token?service=&scope=` with alice's basic credentials answers `{"token": JWT}`, an
/// ES256 JWT whose `x5c` is the certificate the registry's `rootcertbundle` holds, whose
/// `access` claim grants the repository actions asked for that the user has (alice may pull
/// and push, bob only pull).
struct TokenService {
    port: u16,
    cert_pem: Vec<u8>,
    key: openssl::ec::EcKey<openssl::pkey::Private>,
    cert_der: Vec<u8>,
}

const TOKEN_ISSUER: &str = "msign-test-token-issuer";
const TOKEN_SERVICE: &str = "msign-test-registry";

fn b64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl TokenService {
    fn start() -> std::sync::Arc<TokenService> {
        use openssl::{asn1, bn, ec, hash, nid, pkey, x509};
        let group = ec::EcGroup::from_curve_name(nid::Nid::X9_62_PRIME256V1).unwrap();
        let key = ec::EcKey::generate(&group).unwrap();
        let pkey = pkey::PKey::from_ec_key(key.clone()).unwrap();
        let mut name = x509::X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", TOKEN_ISSUER).unwrap();
        let name = name.build();
        let mut b = x509::X509Builder::new().unwrap();
        b.set_version(2).unwrap();
        let serial = bn::BigNum::from_u32(1).unwrap().to_asn1_integer().unwrap();
        b.set_serial_number(&serial).unwrap();
        b.set_subject_name(&name).unwrap();
        b.set_issuer_name(&name).unwrap();
        b.set_pubkey(&pkey).unwrap();
        b.set_not_before(&asn1::Asn1Time::days_from_now(0).unwrap())
            .unwrap();
        b.set_not_after(&asn1::Asn1Time::days_from_now(2).unwrap())
            .unwrap();
        b.sign(&pkey, hash::MessageDigest::sha256()).unwrap();
        let cert = b.build();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let service = std::sync::Arc::new(TokenService {
            port: listener.local_addr().unwrap().port(),
            cert_pem: cert.to_pem().unwrap(),
            cert_der: cert.to_der().unwrap(),
            key,
        });
        let me = service.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                me.answer(stream);
            }
        });
        service
    }

    fn realm(&self) -> String {
        format!("http://127.0.0.1:{}/token", self.port)
    }

    /// The registry's `auth:` section trusting this service.
    fn registry_auth(&self, dir: &Path) -> String {
        let bundle = dir.join("token-root.pem");
        std::fs::write(&bundle, &self.cert_pem).unwrap();
        format!(
            "auth:\n  token:\n    realm: {}\n    service: {TOKEN_SERVICE}\n    issuer: {TOKEN_ISSUER}\n    rootcertbundle: {}\n",
            self.realm(),
            bundle.display()
        )
    }

    /// A JWT granting `access` (`[(repository, actions)]`).
    fn mint(&self, access: &[(String, Vec<String>)]) -> String {
        use base64::Engine as _;
        use sha2::Digest as _;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let header = serde_json::json!({
            "typ": "JWT",
            "alg": "ES256",
            "x5c": [base64::engine::general_purpose::STANDARD.encode(&self.cert_der)],
        });
        let claims = serde_json::json!({
            "iss": TOKEN_ISSUER,
            "sub": "alice",
            "aud": TOKEN_SERVICE,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": format!("msign-test-{now}-{}", access.len()),
            "access": access.iter().map(|(name, actions)| serde_json::json!({
                "type": "repository", "name": name, "actions": actions,
            })).collect::<Vec<_>>(),
        });
        let input = format!(
            "{}.{}",
            b64url(&serde_json::to_vec(&header).unwrap()),
            b64url(&serde_json::to_vec(&claims).unwrap())
        );
        let sig =
            openssl::ecdsa::EcdsaSig::sign(&sha2::Sha256::digest(input.as_bytes()), &self.key)
                .unwrap();
        let mut raw = sig.r().to_vec_padded(32).unwrap();
        raw.extend(sig.s().to_vec_padded(32).unwrap());
        format!("{input}.{}", b64url(&raw))
    }

    fn answer(&self, mut stream: TcpStream) {
        use base64::Engine as _;
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let mut auth = String::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.eq_ignore_ascii_case("authorization") {
                    auth = v.trim().to_string();
                }
            }
        }
        let path = line.split_whitespace().nth(1).unwrap_or("/");
        let url = url::Url::parse(&format!("http://token{path}")).unwrap();
        let basic = |who: &str| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(who)
            )
        };
        // alice may pull and push, bob only pull.
        let rights: &[&str] = if auth == basic("alice:s3cret") {
            &["pull", "push"]
        } else if auth == basic("bob:b0b") {
            &["pull"]
        } else {
            &[]
        };
        let service_ok = url
            .query_pairs()
            .any(|(k, v)| k == "service" && v == TOKEN_SERVICE);
        let (status, body) = if url.path() != "/token" || !service_ok {
            ("404 Not Found", "{}".to_string())
        } else if rights.is_empty() {
            (
                "401 Unauthorized",
                r#"{"details":"incorrect username or password"}"#.to_string(),
            )
        } else {
            // Grant what is asked, of the actions the user has.
            let access: Vec<(String, Vec<String>)> = url
                .query_pairs()
                .filter(|(k, _)| k == "scope")
                .filter_map(|(_, scope)| {
                    let (kind, rest) = scope.split_once(':')?;
                    let (name, actions) = rest.rsplit_once(':')?;
                    (kind == "repository").then(|| {
                        (
                            name.to_string(),
                            actions
                                .split(',')
                                .filter(|a| rights.contains(a))
                                .map(str::to_string)
                                .collect(),
                        )
                    })
                })
                .collect();
            (
                "200 OK",
                serde_json::json!({"token": self.mint(&access)}).to_string(),
            )
        };
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(body.as_bytes());
    }
}

#[test]
fn oci_distribution_token_auth_with_flags_and_docker_config() {
    let tmp = tempfile::tempdir().unwrap();
    let tokens = TokenService::start();
    let reg = Registry::start(&tokens.registry_auth(tmp.path()));
    let model = flat_model(tmp.path(), "m", b"weights behind a token");
    let target = format!("{}/demo/private:v1", reg.host());
    // The model is pushed with a token for the repository (oras-py reuses its first
    // token for every later request, whatever its scope).
    let push_token = tokens.mint(&[("demo/private".into(), vec!["pull".into(), "push".into()])]);
    run_ok(
        Command::new(oras_python())
            .args(["-c", ORAS, "push", &target])
            .arg(&model)
            .args(["--token", &push_token]),
    );
    // The registry checks the tokens: one signed by another key is refused, ours is not.
    let manifest_url = format!("http://{}/v2/demo/private/manifests/v1", reg.host());
    let pull = [("demo/private".to_string(), vec!["pull".to_string()])];
    let get = |token: &str| {
        reqwest::blocking::Client::new()
            .get(&manifest_url)
            .header("Accept", "application/vnd.oci.image.manifest.v1+json")
            .header("Authorization", format!("Bearer {token}"))
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(get(&TokenService::start().mint(&pull)), 401);
    assert_eq!(get(&tokens.mint(&pull)), 200);

    let (key, public) = demo_key();
    let no_config = tmp.path().join("no-docker");
    std::fs::create_dir_all(&no_config).unwrap();

    // Anonymous: the token service refuses, msign says how to log in.
    let out = run_fails(
        msign()
            .env("DOCKER_CONFIG", &no_config)
            .args(["oci", "verify", "key", &target, "--public-key"])
            .arg(&public),
        2,
    );
    assert!(
        stderr(&out).contains("--password-stdin"),
        "{}",
        stderr(&out)
    );

    let with_password = |args: &[&str], password: &str| {
        let mut child = msign()
            .env("DOCKER_CONFIG", &no_config)
            .args(args)
            .args(["--username", "alice", "--password-stdin"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{password}\n").as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let key_s = key.to_str().unwrap();
    let sign_args = [
        "oci",
        "sign",
        "key",
        &target,
        "--attach",
        "--private-key",
        key_s,
    ];
    // A wrong password: the token service refuses it, exit 3, and nothing is attached.
    let out = with_password(&sign_args, "wrong");
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("refused the credentials of alice"),
        "{}",
        stderr(&out)
    );
    // bob may pull, not push: he verifies nothing yet, and cannot attach, and says so.
    let bob = |args: &[&str]| {
        let mut child = msign()
            .env("DOCKER_CONFIG", &no_config)
            .args(args)
            .args(["--username", "bob", "--password-stdin"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(b"b0b\n").unwrap();
        child.wait_with_output().unwrap()
    };
    let out = bob(&sign_args);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("does not grant bob") && stderr(&out).contains("push"),
        "{}",
        stderr(&out)
    );
    // The right one: a pull token, then a pull,push token to attach.
    let out = with_password(&sign_args, "s3cret");
    assert!(out.status.success(), "{}", stderr(&out));
    let public_s = public.to_str().unwrap();
    let out = with_password(
        &["oci", "verify", "key", &target, "--public-key", public_s],
        "s3cret",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("referrer sha256:"),
        "{}",
        stdout(&out)
    );

    // Credentials from the Docker config, as `docker login` writes them.
    let docker = tmp.path().join("docker");
    std::fs::create_dir_all(&docker).unwrap();
    use base64::Engine as _;
    let write_config = |password: &str| {
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("alice:{password}"));
        std::fs::write(
            docker.join("config.json"),
            format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, reg.host()),
        )
        .unwrap();
    };
    write_config("s3cret");
    run_ok(
        msign()
            .env("DOCKER_CONFIG", &docker)
            .args(["oci", "verify", "key", &target, "--public-key"])
            .arg(&public),
    );
    // Sign and attach again through the config: two referrers now, both verify.
    run_ok(
        msign()
            .env("DOCKER_CONFIG", &docker)
            .args(["oci", "sign", "key", &target, "--attach", "--private-key"])
            .arg(&key),
    );
    run_ok(
        msign()
            .env("DOCKER_CONFIG", &docker)
            .args(["oci", "verify", "key", &target, "--public-key"])
            .arg(&public),
    );
    write_config("stale");
    let out = run_fails(
        msign()
            .env("DOCKER_CONFIG", &docker)
            .args(["oci", "verify", "key", &target, "--public-key"])
            .arg(&public),
        3,
    );
    assert!(
        stderr(&out).contains("refused the credentials"),
        "{}",
        stderr(&out)
    );
}

/// The reference's certificate chain (fixtures/model-transparency/keys/certificate): a
/// P-384 signing key, its certificate, the intermediate and the root.
fn cert_keys() -> PathBuf {
    reference_fixtures().join("keys/certificate")
}

/// Pushes a model, signs it with `sign` (an `msign oci sign METHOD` command missing only
/// the reference and where the signature goes), and checks: the attached signature
/// verifies from the registry with `verify` (`msign oci verify METHOD ... ` missing the
/// reference), the signature file against the manifest, and the pulled folder with msign
/// (`folder_verify`) and with model_signing 1.1.1 (`reference_verify`).
/// How a method whose one flag names what is trusted (`--public-key`, `--certificate-chain`)
/// verifies: in the registry, the pulled folder, and the folder by the reference (whose
/// flag is spelled with an underscore).
struct TrustedBy {
    method: &'static str,
    flag: &'static str,
    value: PathBuf,
}

impl TrustedBy {
    fn oci(&self) -> Command {
        let mut c = msign();
        c.args(["oci", "verify", self.method, &format!("--{}", self.flag)])
            .arg(&self.value);
        c
    }

    fn folder(&self, folder: &Path, sig: &Path) -> Command {
        self.local(msign(), self.flag, folder, sig)
    }

    fn reference(&self, folder: &Path, sig: &Path) -> Command {
        self.local(reference_cli(), &self.flag.replace('-', "_"), folder, sig)
    }

    fn local(&self, mut c: Command, flag: &str, folder: &Path, sig: &Path) -> Command {
        c.args(["verify", self.method])
            .arg(folder)
            .arg("--signature")
            .arg(sig)
            .arg(format!("--{flag}"))
            .arg(&self.value);
        c
    }
}

fn sign_and_verify_everywhere(
    name: &str,
    sign: &mut dyn FnMut() -> Command,
    verify: &dyn Fn() -> Command,
    folder_verify: &dyn Fn(&Path, &Path) -> Command,
    reference_verify: &dyn Fn(&Path, &Path) -> Command,
) -> (Registry, String) {
    let reg = Registry::start("");
    let tmp = tempfile::tempdir().unwrap();
    let model = flat_model(tmp.path(), "src", name.as_bytes());
    let target = format!("{}/demo/{name}:v1", reg.host());
    oras_push(&target, &model);
    let sig = tmp.path().join(format!("{name}.sig"));
    let out = run_ok(
        sign()
            .arg(&target)
            .args(["--attach", "--signature"])
            .arg(&sig),
    );
    assert!(
        stdout(&out).contains("Signing succeeded"),
        "{}",
        stdout(&out)
    );
    let out = run_ok(verify().arg(&target));
    assert!(
        stdout(&out).contains("referrer sha256:"),
        "{}",
        stdout(&out)
    );
    run_ok(verify().arg(&target).arg("--signature").arg(&sig));
    let pulled = tmp.path().join("pulled");
    oras_pull(&target, &pulled);
    run_ok(&mut folder_verify(&pulled, &sig));
    run_ok(&mut reference_verify(&pulled, &sig));
    // Another model's signature does not verify this one.
    let other = format!("{}/demo/{name}-other:v1", reg.host());
    std::fs::write(model.join("model.safetensors"), b"other weights").unwrap();
    oras_push(&other, &model);
    run_fails(verify().arg(&other).arg("--signature").arg(&sig), 1);
    (reg, target)
}

#[test]
fn oci_certificate_method_verifies_in_the_registry_and_with_model_signing() {
    let keys = cert_keys();
    let by_cert = TrustedBy {
        method: "certificate",
        flag: "certificate-chain",
        value: keys.join("ca-cert.pem"),
    };
    let (_reg, target) = sign_and_verify_everywhere(
        "cert",
        &mut || {
            let mut c = msign();
            c.args(["oci", "sign", "certificate", "--private-key"])
                .arg(keys.join("signing-key.pem"))
                .arg("--signing-certificate")
                .arg(keys.join("signing-key-cert.pem"))
                .arg("--certificate-chain")
                .arg(keys.join("int-ca-cert.pem"));
            c
        },
        &|| by_cert.oci(),
        &|folder, sig| by_cert.folder(folder, sig),
        &|folder, sig| by_cert.reference(folder, sig),
    );
    // A root that did not issue the chain is refused.
    run_fails(
        msign()
            .args([
                "oci",
                "verify",
                "certificate",
                &target,
                "--certificate-chain",
            ])
            .arg(keys.join("signing-key-cert.pem")),
        1,
    );
}

const SOFTHSM: &str = "/usr/lib/softhsm/libsofthsm2.so";

/// A SoftHSM2 token in `dir` (its own SOFTHSM2_CONF) holding the reference's P-384
/// signing key, private and public objects labelled `oci-key`; returns the config path.
fn softhsm_token_with_cert_key(dir: &Path) -> PathBuf {
    assert!(
        Path::new(SOFTHSM).is_file(),
        "{SOFTHSM} missing: install softhsm2 (run .ci/run)"
    );
    let tokens = dir.join("tokens");
    std::fs::create_dir_all(&tokens).unwrap();
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .unwrap();
    run_ok(
        Command::new("softhsm2-util")
            .env("SOFTHSM2_CONF", &conf)
            .args([
                "--init-token",
                "--free",
                "--label",
                "oci",
                "--so-pin",
                "5678",
                "--pin",
                "1234",
            ]),
    );
    let key = cert_keys().join("signing-key.pem");
    let der = dir.join("key.p8.der");
    let pubder = dir.join("key.pub.der");
    run_ok(
        Command::new("openssl")
            .args(["pkcs8", "-topk8", "-nocrypt", "-outform", "DER", "-in"])
            .arg(&key)
            .arg("-out")
            .arg(&der),
    );
    run_ok(
        Command::new("openssl")
            .args(["pkey", "-pubout", "-outform", "DER", "-in"])
            .arg(&key)
            .arg("-out")
            .arg(&pubder),
    );
    for (file, kind) in [(&der, "privkey"), (&pubder, "pubkey")] {
        run_ok(
            Command::new("pkcs11-tool")
                .env("SOFTHSM2_CONF", &conf)
                .args(["--module", SOFTHSM, "--token-label", "oci", "--login"])
                .args(["--pin", "1234", "--write-object"])
                .arg(file)
                .args(["--type", kind, "--label", "oci-key", "--id", "01"]),
        );
    }
    conf
}

#[test]
fn oci_pkcs11_methods_sign_with_a_softhsm_token() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = softhsm_token_with_cert_key(tmp.path());
    let uri = format!("pkcs11:token=oci;object=oci-key?module-path={SOFTHSM}&pin-value=1234");
    let keys = cert_keys();
    let by_key = TrustedBy {
        method: "key",
        flag: "public-key",
        value: keys.join("signing-key-pub.pem"),
    };
    let by_cert = TrustedBy {
        method: "certificate",
        flag: "certificate-chain",
        value: keys.join("ca-cert.pem"),
    };
    // pkcs11-key: verified with the public key, by msign and model_signing.
    sign_and_verify_everywhere(
        "pkcs11-key",
        &mut || {
            let mut c = msign();
            c.env("SOFTHSM2_CONF", &conf)
                .args(["oci", "sign", "pkcs11-key", "--pkcs11-uri", &uri]);
            c
        },
        &|| by_key.oci(),
        &|folder, sig| by_key.folder(folder, sig),
        &|folder, sig| by_key.reference(folder, sig),
    );
    // pkcs11-certificate: the token key with the reference's certificate chain.
    sign_and_verify_everywhere(
        "pkcs11-cert",
        &mut || {
            let mut c = msign();
            c.env("SOFTHSM2_CONF", &conf)
                .args(["oci", "sign", "pkcs11-certificate", "--pkcs11-uri", &uri])
                .arg("--signing-certificate")
                .arg(keys.join("signing-key-cert.pem"))
                .arg("--certificate-chain")
                .arg(keys.join("int-ca-cert.pem"));
            c
        },
        &|| by_cert.oci(),
        &|folder, sig| by_cert.folder(folder, sig),
        &|folder, sig| by_cert.reference(folder, sig),
    );
}

#[test]
fn oci_sigstore_signs_against_the_loopback_instance() {
    let inst = sigstore_instance::Instance::start();
    let user = sigstore_instance::USER;
    let (_reg, target) = sign_and_verify_everywhere(
        "sigstore",
        &mut || {
            let mut c = msign();
            c.args(["oci", "sign", "sigstore", "--trust-config"])
                .arg(inst.trust_config())
                .args(["--identity-token", &inst.token(user)]);
            c
        },
        &|| {
            let mut c = msign();
            c.args(["oci", "verify", "sigstore", "--trust-config"])
                .arg(inst.trust_config())
                .args(["--identity", user, "--identity-provider", &inst.url]);
            c
        },
        &|folder, sig| {
            let mut c = msign();
            c.args(["verify", "sigstore"])
                .arg(folder)
                .arg("--signature")
                .arg(sig)
                .arg("--trust-config")
                .arg(inst.trust_config())
                .args(["--identity", user, "--identity-provider", &inst.url]);
            c
        },
        &|folder, sig| {
            let mut c = reference_cli();
            c.args(["verify", "sigstore"])
                .arg(folder)
                .arg("--signature")
                .arg(sig)
                .arg("--trust_config")
                .arg(inst.trust_config())
                .args(["--identity", user, "--identity_provider", &inst.url]);
            c
        },
    );
    // Another identity is refused from the registry.
    let out = run_fails(
        msign()
            .args(["oci", "verify", "sigstore", &target, "--trust-config"])
            .arg(inst.trust_config())
            .args([
                "--identity",
                "mallory@example.com",
                "--identity-provider",
                &inst.url,
            ]),
        1,
    );
    assert!(
        stderr(&out).contains("mallory@example.com"),
        "{}",
        stderr(&out)
    );

    // Every platform of an index, keyless: one Fulcio certificate and log entry each.
    let tmp = tempfile::tempdir().unwrap();
    let host = target.split('/').next().unwrap().to_string();
    for tag in ["amd64", "arm64"] {
        let m = flat_model(tmp.path(), tag, tag.as_bytes());
        oras_push(&format!("{host}/demo/keyless:{tag}"), &m);
    }
    put_index(&host, "demo/keyless", "v1", &["amd64", "arm64"]);
    let index = format!("{host}/demo/keyless:v1");
    run_ok(
        msign()
            .args([
                "oci",
                "sign",
                "sigstore",
                &index,
                "--all-platforms",
                "--attach",
            ])
            .arg("--trust-config")
            .arg(inst.trust_config())
            .args(["--identity-token", &inst.token(user)]),
    );
    let out = run_ok(
        msign()
            .args([
                "--json",
                "oci",
                "verify",
                "sigstore",
                &index,
                "--trust-config",
            ])
            .arg(inst.trust_config())
            .args(["--identity", user, "--identity-provider", &inst.url]),
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        report["platforms"].as_array().map(Vec::len),
        Some(2),
        "{report}"
    );
}
