//! `msign oci`: models stored as OCI artifacts, against a real registry (Debian's
//! `docker-registry`, CNCF distribution 2.8, started here on loopback) holding a model
//! pushed by a real ORAS client (PyPI `oras`, installed into `.venv-oci` by `.ci/run`).

mod common;
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
if len(sys.argv) > 4:
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
    let resp = ureq::get(&format!("http://{host}/v2/{repo}/manifests/{reference}"))
        .set("Accept", "application/vnd.oci.image.manifest.v1+json")
        .call()
        .unwrap();
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut resp.into_reader(), &mut out).unwrap();
    out
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
    ureq::put(&format!(
        "http://{}/v2/demo/idx/manifests/multi",
        reg.host()
    ))
    .set("Content-Type", "application/vnd.oci.image.index.v1+json")
    .send_bytes(&serde_json::to_vec(&index).unwrap())
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
    let body = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": format!("sha256:{}", sha256_hex(b"{}")), "size": 2},
        "layers": [{
            "mediaType": "application/vnd.oci.image.layer.v1.tar",
            "digest": format!("sha256:{}", sha256_hex(b"poison")),
            "size": 6,
            "annotations": {"org.opencontainers.image.title": "model.bin"},
        }],
    }))
    .unwrap();
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
    let out = sign("wrong");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
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
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": format!("sha256:{}", sha256_hex(b"{}")), "size": 2},
        "layers": [{
            "mediaType": "application/vnd.oci.image.layer.v1.tar",
            "digest": format!("sha256:{}", sha256_hex(b"weights")),
            "size": 7,
            "annotations": {"org.opencontainers.image.title": "model.bin"},
        }],
    }))
    .unwrap();
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
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = sign(Some("s3cret"));
    assert!(out.status.success(), "{}", stderr(&out));
    let payload = payload_of(&tmp.path().join("m.sig"));
    assert!(String::from_utf8_lossy(&payload).contains("model.bin"));
}
