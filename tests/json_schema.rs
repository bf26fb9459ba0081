//! Every command's `--json` output, success and failure, against the published schema
//! (docs/msign-output.schema.json) with a real JSON Schema validator; and the schema against
//! the command tree, so a command without a schema entry fails here.
//!
//! The inputs are real: the demo model and key, git repositories made here, the fake Hub
//! (tests/fakehub), a TUF repository on loopback (tests/tuf_repo), sigstore-conformance
//! bundles, and an OCI manifest file.

mod common;
mod fakehub;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use clap::CommandFactory as _;
use common::*;
use fakehub::{files_from_dir, regular, FakeHub};
use serde_json::{json, Value};

/// The commands each test below runs, to success and to failure; together, every entry
/// of the schema's `x-commands`.
const LOCAL: &[&str] = &[
    "msign sign",
    "msign verify",
    "msign digest",
    "msign manifest merge",
    "msign generate-key",
    "msign completions",
    "msign man",
];
const GIT: &[&str] = &[
    "git model-sign sign",
    "git model-sign verify",
    "msign hook install",
    "git model-sign hook install",
    "msign hook pre-push",
    "git model-sign hook pre-push",
];
const HUB: &[&str] = &["msign hub verify", "msign hub download", "msign hub sign"];
const OCI: &[&str] = &["msign oci sign", "msign oci verify"];
const SIGSTORE: &[&str] = &[
    "msign sigstore verify-bundle",
    "msign sigstore update-trust-root",
];

fn schema() -> Value {
    let text = std::fs::read_to_string(repo().join("docs/msign-output.schema.json")).unwrap();
    serde_json::from_str(&text).expect("the schema is JSON")
}

/// Validates outputs and keeps count of which commands succeeded and failed.
struct Checker {
    schema: Value,
    seen: BTreeMap<String, BTreeSet<&'static str>>,
}

impl Checker {
    fn new() -> Checker {
        Checker {
            schema: schema(),
            seen: BTreeMap::new(),
        }
    }

    /// The schema of `command`'s output: its result or the error object.
    fn validator(&self, command: &str) -> jsonschema::Validator {
        let def = self.schema["x-commands"][command]
            .as_str()
            .unwrap_or_else(|| panic!("no x-commands entry for {command:?}"));
        let mut s = self.schema.clone();
        let o = s.as_object_mut().unwrap();
        o.remove("anyOf");
        o.insert(
            "anyOf".into(),
            json!([{"$ref": format!("#/$defs/{def}")}, {"$ref": "#/$defs/error"}]),
        );
        jsonschema::validator_for(&s).expect("the schema compiles")
    }

    /// Runs `cmd` (which has --json), checks its exit code is `code`, that stdout is one
    /// JSON document valid for `command`, and that success and failure are told apart as
    /// the schema says. Returns the document.
    fn run(&mut self, command: &str, cmd: &mut Command, code: i32) -> Value {
        let out = cmd.output().unwrap();
        self.check(command, &out, code)
    }

    fn check(&mut self, command: &str, out: &Output, code: i32) -> Value {
        assert_no_panic(out);
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{command}: stdout is not one JSON document ({e}):\n{}\nstderr: {}",
                stdout(out),
                stderr(out)
            )
        });
        assert_eq!(
            out.status.code(),
            Some(code),
            "{command}: exit code; stdout {v}\nstderr: {}",
            stderr(out)
        );
        let validator = self.validator(command);
        let errors: Vec<String> = validator
            .iter_errors(&v)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{command}: output does not match the schema:\n{}\n{v:#}",
            errors.join("\n")
        );
        let status = v["status"].as_str().unwrap_or("");
        if code == 0 {
            assert!(!matches!(status, "error" | "failed"), "{command}: {v}");
        } else {
            assert!(matches!(status, "error" | "failed"), "{command}: {v}");
            assert_eq!(v["error"]["exit_code"], code, "{command}: {v}");
            assert_eq!(status == "failed", code == 1, "{command}: {v}");
        }
        self.seen
            .entry(command.to_string())
            .or_default()
            .insert(if code == 0 { "success" } else { "failure" });
        v
    }

    /// Each of `commands` was run to success and to failure.
    fn assert_covered(&self, commands: &[&str]) {
        for cmd in commands {
            let seen = self.seen.get(*cmd).cloned().unwrap_or_default();
            assert_eq!(seen.len(), 2, "{cmd}: only {seen:?} was checked");
        }
    }
}

/// Every command path below the top, leaves only (`msign sign key`, `msign man`).
fn leaves(cmd: &clap::Command, prefix: &str, out: &mut Vec<String>) {
    let mut any = false;
    for sub in cmd.get_subcommands() {
        any = true;
        leaves(sub, &format!("{prefix} {}", sub.get_name()), out);
    }
    if !any {
        out.push(prefix.to_string());
    }
}

/// The schema's entry for a leaf: its own, or, for a method (`msign sign key`), its
/// parent's, as every method of a command has the same result.
fn entry_for(commands: &Value, leaf: &str) -> Option<String> {
    if commands.get(leaf).is_some() {
        return Some(leaf.to_string());
    }
    let parent = leaf.rsplit_once(' ')?.0;
    commands.get(parent).map(|_| parent.to_string())
}

fn all_leaves() -> Vec<String> {
    let mut all = Vec::new();
    leaves(&msign::cli::docs::command(), "msign", &mut all);
    leaves(
        &msign::cli::gitcmd::GitCli::command(),
        "git model-sign",
        &mut all,
    );
    all
}

#[test]
fn the_schema_is_valid_and_names_every_command() {
    let s = schema();
    jsonschema::meta::validate(&s).expect("a valid draft 2020-12 schema");
    assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema");
    let commands = &s["x-commands"];
    let mut used = BTreeSet::new();
    let mut missing = Vec::new();
    for leaf in all_leaves() {
        match entry_for(commands, &leaf) {
            Some(e) => {
                used.insert(e);
            }
            None => missing.push(leaf),
        }
    }
    assert!(
        missing.is_empty(),
        "commands without an entry in docs/msign-output.schema.json's x-commands: {missing:?}"
    );
    let stale: Vec<&String> = commands
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| !used.contains(*k))
        .collect();
    assert!(stale.is_empty(), "x-commands names no command: {stale:?}");
    let tested: BTreeSet<&str> = [LOCAL, GIT, HUB, OCI, SIGSTORE]
        .concat()
        .into_iter()
        .collect();
    let listed: BTreeSet<&str> = commands
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        tested, listed,
        "every command in the schema is run by a test here"
    );
    for (cmd, def) in commands.as_object().unwrap() {
        let def = def.as_str().unwrap();
        assert!(s["$defs"].get(def).is_some(), "{cmd}: no $defs/{def}");
    }
}

/// `msign --json WORDS key MODEL --signature SIG`, with `--private-key KEY` to sign and
/// `--public-key KEY` to verify.
fn with_key(words: &[&str], model: &Path, sig: &Path, key: &Path) -> Command {
    let flag = if words.contains(&"sign") {
        "--private-key"
    } else {
        "--public-key"
    };
    let mut c = msign();
    c.arg("--json")
        .args(words)
        .arg("key")
        .arg(model)
        .arg("--signature")
        .arg(sig)
        .arg(flag)
        .arg(key);
    c
}

fn key() -> (PathBuf, PathBuf) {
    let k = fixtures().join("keys");
    (k.join("demo-p256.pem"), k.join("demo-p256.pub"))
}

fn demo_model(dir: &Path) -> PathBuf {
    let m = dir.join("model");
    copy_dir(&fixtures().join("demo-model"), &m);
    m
}

#[test]
fn usage_errors_are_json_with_json_and_text_without() {
    let mut c = Checker::new();
    for args in [
        &["--json", "no-such-command"][..],
        &["sign", "key", "--bogus", "--json"],
        &["--json", "verify", "key", "model"],
        &["--json", "completions", "tcsh"],
        &["hub", "verify", "--json"],
    ] {
        let v = c.run("msign sign", msign().args(args), 2);
        assert_eq!(v["error"]["kind"], "usage", "{args:?}: {v}");
        assert!(v["error"]["message"].as_str().unwrap().len() > 10, "{v}");
    }
    let v = c.run(
        "git model-sign verify",
        git_model_sign().args(["verify", "--nope", "--json"]),
        2,
    );
    assert_eq!(v["error"]["kind"], "usage", "{v}");
    // Without --json (and with it only after `--`, where it is an argument): clap's text on
    // stderr, nothing on stdout.
    for args in [
        &["sign", "key", "--bogus"][..],
        &["digest", "--", "--json", "x"],
    ] {
        let out = msign().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}: {}", stdout(&out));
        assert!(stderr(&out).starts_with("error: "), "{}", stderr(&out));
    }
}

#[test]
fn sign_verify_digest_manifest_and_local_commands() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let m = demo_model(t);
    let (key, public) = key();
    let sig = t.join("model.sig");
    let mut c = Checker::new();

    let signed = c.run("msign sign", &mut with_key(&["sign"], &m, &sig, &key), 0);
    c.run(
        "msign sign",
        &mut with_key(&["sign"], &m, &t.join("other.sig"), &t.join("absent.pem")),
        2,
    );
    let verified = c.run(
        "msign verify",
        &mut with_key(&["verify"], &m, &sig, &public),
        0,
    );
    // The same words mean the same things on both sides.
    for f in ["model", "method", "signer", "files", "bytes", "digest"] {
        assert_eq!(signed[f], verified[f], "{f}: {signed} vs {verified}");
    }
    let digest = c.run(
        "msign digest",
        msign().args(["--json", "digest"]).arg(&m),
        0,
    );
    assert_eq!(
        format!("sha256:{}", digest["digest"]["sha256"].as_str().unwrap()),
        signed["digest"]
    );
    c.run(
        "msign digest",
        msign().args(["--json", "digest"]).arg(t.join("absent")),
        3,
    );
    std::fs::write(t.join("part.json"), digest.to_string()).unwrap();
    let merged = c.run(
        "msign manifest merge",
        msign()
            .args(["--json", "manifest", "merge"])
            .arg(t.join("part.json"))
            .arg("--output")
            .arg(t.join("merged.json")),
        0,
    );
    assert_eq!(merged["digest"], signed["digest"]);
    c.run(
        "msign manifest merge",
        msign()
            .args(["--json", "manifest", "merge"])
            .arg(t.join("part.json")),
        0,
    );
    c.run(
        "msign manifest merge",
        msign()
            .args(["--json", "manifest", "merge"])
            .arg(t.join("absent.json")),
        3,
    );

    flip_byte(&m.join("config.json"), 0);
    let failed = c.run(
        "msign verify",
        &mut with_key(&["verify"], &m, &sig, &public),
        1,
    );
    assert_eq!(failed["error"]["kind"], "model_mismatch");
    assert_eq!(
        failed["differences"]["mismatched"][0]["name"],
        "config.json"
    );

    let kp = t.join("k");
    let gen = c.run(
        "msign generate-key",
        msign()
            .args(["--json", "generate-key", "--output-prefix"])
            .arg(&kp),
        0,
    );
    c.run(
        "msign generate-key",
        msign()
            .args(["--json", "generate-key", "--output-prefix"])
            .arg(&kp),
        2,
    );
    // generate-key names the signer as signing and verification with that key do.
    let s2 = c.run(
        "msign sign",
        &mut with_key(&["sign"], &m, &t.join("k.sig"), &t.join("k.pem")),
        0,
    );
    assert_eq!(gen["signer"], s2["signer"]);

    let v = c.run(
        "msign completions",
        msign().args(["--json", "completions", "bash"]),
        0,
    );
    assert!(v["script"].as_str().unwrap().contains("_msign"));
    c.run(
        "msign completions",
        msign().args(["--json", "completions", "tcsh"]),
        2,
    );
    c.run(
        "msign man",
        msign()
            .args(["--json", "man", "--output-dir"])
            .arg(t.join("man")),
        0,
    );
    c.run(
        "msign man",
        msign()
            .args(["--json", "man", "--output-dir"])
            .arg(t.join("model/config.json")),
        3,
    );
    c.assert_covered(LOCAL);
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
    stdout(&out).trim().to_string()
}

/// `hook pre-push` as git runs it: in the repository, one line per pushed ref.
fn pre_push(cmd: &mut Command, dir: &Path, head: &str) -> Output {
    let mut child = cmd
        .args(["--json", "hook", "pre-push", "origin"])
        .current_dir(dir)
        .env_remove("GIT_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let line = format!(
        "refs/heads/main {head} refs/heads/main {}\n",
        "0".repeat(40)
    );
    child
        .stdin
        .take()
        .unwrap()
        .write_all(line.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn git_model_sign_and_the_hook() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let r = t.join("repo");
    std::fs::create_dir(&r).unwrap();
    git(&r, &["init", "-q", "-b", "main"]);
    copy_dir(&fixtures().join("demo-model"), &r.join("bert"));
    git(&r, &["add", "-A"]);
    git(&r, &["commit", "-qm", "model"]);
    let head = git(&r, &["rev-parse", "HEAD"]);
    let (key, public) = key();
    let mut c = Checker::new();

    let signed = c.run(
        "git model-sign sign",
        git_model_sign()
            .args(["--json", "sign", "key", "-C"])
            .arg(&r)
            .args(["--path", "bert", "--store", "notes", "--private-key"])
            .arg(&key),
        0,
    );
    assert_eq!(signed["commit"], head.as_str());
    c.run(
        "git model-sign sign",
        git_model_sign()
            .args(["--json", "sign", "key", "-C"])
            .arg(t)
            .arg("--private-key")
            .arg(&key),
        2,
    );
    let verified = c.run(
        "git model-sign verify",
        git_model_sign()
            .args(["--json", "verify", "key", "-C"])
            .arg(&r)
            .args(["--path", "bert", "--public-key"])
            .arg(&public),
        0,
    );
    for f in [
        "model", "commit", "method", "signer", "files", "bytes", "digest",
    ] {
        assert_eq!(signed[f], verified[f], "{f}: {signed} vs {verified}");
    }
    // A failure names the commit it was about, as success does: the signature file in
    // the work tree no longer matches the next commit.
    run_ok(
        git_model_sign()
            .args(["sign", "key", "-C"])
            .arg(&r)
            .args(["--path", "bert", "--store", "file", "--private-key"])
            .arg(&key),
    );
    std::fs::write(r.join("bert/config.json"), "{}").unwrap();
    git(&r, &["commit", "-qam", "edit"]);
    let edited = git(&r, &["rev-parse", "HEAD"]);
    let failed = c.run(
        "git model-sign verify",
        git_model_sign()
            .args(["--json", "verify", "key", "-C"])
            .arg(&r)
            .args(["--path", "bert", "--public-key"])
            .arg(&public),
        1,
    );
    assert_eq!(failed["commit"], edited.as_str(), "{failed}");
    assert_eq!(failed["revision"], "HEAD");

    // The hook: installed by both front ends, and run as git runs it.
    for (name, front) in [
        ("msign hook install", msign as fn() -> Command),
        ("git model-sign hook install", git_model_sign),
    ] {
        c.run(
            name,
            front()
                .args(["--json", "hook", "install", "--force", "-C"])
                .arg(&r),
            0,
        );
        c.run(
            name,
            front().args(["--json", "hook", "install", "-C"]).arg(t),
            2,
        );
    }
    git(&r, &["config", "msign.path", "bert"]);
    git(&r, &["config", "msign.publicKey", public.to_str().unwrap()]);
    for (name, front) in [
        ("msign hook pre-push", msign as fn() -> Command),
        ("git model-sign hook pre-push", git_model_sign),
    ] {
        let out = pre_push(&mut front(), &r, &head);
        let v = c.check(name, &out, 0);
        assert_eq!(v["verified"][0]["commit"], head.as_str(), "{v}");
        let out = pre_push(&mut front(), &r, &edited);
        let v = c.check(name, &out, 1);
        assert_eq!(v["refused"][0]["commit"], edited.as_str(), "{v}");
        assert_eq!(v["error"]["kind"], "unsigned_commits", "{v}");
    }
    c.assert_covered(GIT);
}

/// The demo model with a Hub-style `.gitattributes`, published with its signature.
fn hub_files(m: &Path) -> BTreeMap<String, fakehub::FileObj> {
    let mut files = files_from_dir(m, |p, _| p.ends_with(".safetensors"));
    files.insert(
        ".gitattributes".into(),
        regular(b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n"),
    );
    files
}

#[test]
fn hub_commands_online_and_offline() {
    const REPO: &str = "acme/demo";
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let m = demo_model(t);
    let (key, public) = key();
    let sig = t.join("model.sig");
    run_ok(
        msign()
            .args(["sign", "key"])
            .arg(&m)
            .arg("--private-key")
            .arg(&key)
            .arg("--signature")
            .arg(&sig),
    );
    let hub = FakeHub::start();
    let signature = std::fs::read(&sig).unwrap();
    let commit = hub.publish(
        REPO,
        "main",
        hub_files(&m),
        &[("model.sig", signature.as_slice())],
    );
    let env = |offline: bool| {
        let mut c = msign();
        for v in [
            "HF_TOKEN",
            "HF_HUB_CACHE",
            "HF_TOKEN_PATH",
            "HUGGING_FACE_HUB_TOKEN",
        ] {
            c.env_remove(v);
        }
        c.env("HF_ENDPOINT", &hub.endpoint)
            .env("HF_HOME", t.join("hf"))
            .env_remove("HF_HUB_OFFLINE");
        if offline {
            c.env("HF_HUB_OFFLINE", "1");
        }
        c
    };
    let mut c = Checker::new();
    let online = c.run(
        "msign hub verify",
        env(false)
            .args(["--json", "hub", "verify", REPO, "--public-key"])
            .arg(&public),
        0,
    );
    assert_eq!(online["commit"], commit.as_str());
    c.run(
        "msign hub verify",
        env(false)
            .args(["--json", "hub", "verify", "acme/absent", "--public-key"])
            .arg(&public),
        3,
    );
    let downloaded = c.run(
        "msign hub download",
        env(false)
            .args(["--json", "hub", "download", REPO, "--public-key"])
            .arg(&public),
        0,
    );
    let (_, other) = ec_keypair(t, "prime256v1");
    c.run(
        "msign hub download",
        env(false)
            .args(["--json", "hub", "download", REPO, "--public-key"])
            .arg(&other),
        1,
    );
    // Offline, from the cache: the same fields as online.
    let offline = c.run(
        "msign hub verify",
        env(true)
            .args(["--json", "hub", "verify", REPO, "--public-key"])
            .arg(&public),
        0,
    );
    for f in [
        "model",
        "repo",
        "revision",
        "commit",
        "signature",
        "method",
        "signer",
        "files",
        "bytes",
        "digest",
    ] {
        assert_eq!(online[f], offline[f], "{f}: {online} vs {offline}");
        assert_eq!(online[f], downloaded[f], "{f}: {online} vs {downloaded}");
    }
    assert!(offline["folder"].is_string(), "{offline}");
    let signed = c.run(
        "msign hub sign",
        env(false)
            .args(["--json", "hub", "sign", REPO, "--output"])
            .arg(t.join("hub.sig"))
            .arg("--private-key")
            .arg(&key),
        0,
    );
    for f in [
        "model", "commit", "method", "signer", "files", "bytes", "digest",
    ] {
        assert_eq!(signed[f], online[f], "{f}: {signed} vs {online}");
    }
    c.run(
        "msign hub sign",
        env(false)
            .args(["--json", "hub", "sign", "acme/absent", "--output"])
            .arg(t.join("absent.sig"))
            .arg("--private-key")
            .arg(&key),
        3,
    );
    c.assert_covered(HUB);
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(openssl::sha::sha256(bytes))
}

#[test]
fn oci_from_a_manifest_file() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let (key, public) = key();
    let manifest = t.join("manifest.json");
    std::fs::write(
        &manifest,
        serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.empty.v1+json",
                       "digest": format!("sha256:{}", sha256_hex(b"{}")), "size": 2},
            "layers": [{
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": format!("sha256:{}", sha256_hex(b"weights")),
                "size": 7,
                "annotations": {"org.opencontainers.image.title": "model.bin"},
            }],
        }))
        .unwrap(),
    )
    .unwrap();
    let sig = t.join("oci.sig");
    let mut c = Checker::new();
    let signed = c.run(
        "msign oci sign",
        &mut with_key(&["oci", "sign"], &manifest, &sig, &key),
        0,
    );
    c.run(
        "msign oci sign",
        &mut with_key(
            &["oci", "sign"],
            &t.join("absent.json"),
            &t.join("x.sig"),
            &key,
        ),
        2,
    );
    let verified = c.run(
        "msign oci verify",
        &mut with_key(&["oci", "verify"], &manifest, &sig, &public),
        0,
    );
    for f in [
        "model",
        "method",
        "signer",
        "files",
        "digest",
        "manifest_digest",
    ] {
        assert_eq!(signed[f], verified[f], "{f}: {signed} vs {verified}");
    }
    let (_, other) = ec_keypair(t, "prime256v1");
    c.run(
        "msign oci verify",
        &mut with_key(&["oci", "verify"], &manifest, &sig, &other),
        1,
    );
    c.assert_covered(OCI);
}

#[test]
fn sigstore_verify_bundle_and_update_trust_root() {
    let cases = fixtures().join("sigstore-conformance/bundle-verify");
    let a_txt = fixtures().join("sigstore-conformance/a.txt");
    let a_txt = a_txt.to_str().unwrap();
    let bundle = |case: &str, artifact: &str| {
        let d = cases.join(case);
        let mut cmd = msign();
        cmd.args(["--json", "sigstore", "verify-bundle", "--bundle"])
            .arg(d.join("bundle.sigstore.json"))
            .arg("--key")
            .arg(d.join("key.pub"))
            .arg(artifact);
        if d.join("trusted_root.json").exists() {
            cmd.arg("--trusted-root").arg(d.join("trusted_root.json"));
        }
        cmd
    };
    let mut c = Checker::new();
    c.run(
        "msign sigstore verify-bundle",
        &mut bundle("managed-key-happy-path", a_txt),
        0,
    );
    c.run(
        "msign sigstore verify-bundle",
        &mut bundle(
            "managed-key-happy-path",
            &format!("sha256:{}", "0".repeat(64)),
        ),
        1,
    );

    // A TUF repository on loopback (tests/tuf_repo/repo.py) serving a trusted root.
    let tmp = tempfile::tempdir().unwrap();
    let served = cases.join("intoto-with-custom-trust-root/trusted_root.json");
    /// Stops the repository however the test ends.
    struct Server(std::process::Child);
    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut server = Server(
        Command::new(reference_python())
            .arg(repo().join("tests/tuf_repo/repo.py"))
            .arg(tmp.path())
            .arg(&served)
            .arg("300")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the test TUF repository"),
    );
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = serde_json::from_str::<Value>(&line).unwrap()["url"]
        .as_str()
        .unwrap()
        .to_string();
    let update = |url: &str| {
        let mut cmd = msign();
        cmd.env("XDG_CACHE_HOME", tmp.path().join("cache"))
            .args(["--json", "sigstore", "update-trust-root", "--tuf-url", url])
            .arg("--tuf-root")
            .arg(tmp.path().join("root.json"))
            .arg("--output")
            .arg(tmp.path().join("out.json"));
        cmd
    };
    let v = c.run("msign sigstore update-trust-root", &mut update(&url), 0);
    assert_eq!(
        v["trusted_root_sha256"],
        sha256_hex(&std::fs::read(&served).unwrap())
    );
    let v = c.run(
        "msign sigstore update-trust-root",
        &mut update("http://127.0.0.1:1"),
        3,
    );
    assert_eq!(v["error"]["kind"], "trust_update");
    c.assert_covered(SIGSTORE);
}
