//! Incremental re-signing (digest cache, `--reuse` of a previous signature), `verify
//! --cache`, signing precomputed manifests and merging manifests hashed on several machines.
//! Real files, the real CLI, and the reference verifying what msign signed.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use base64::Engine as _;
use common::*;

/// Longer than the cache's racy-timestamp margin (2 s): entries recorded after this are
/// trusted for files written before it.
const SETTLE: Duration = Duration::from_millis(2300);

struct Env {
    _dir: tempfile::TempDir,
    root: PathBuf,
    model: PathBuf,
    key: PathBuf,
    public: PathBuf,
    cache_home: PathBuf,
}

fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let model = sample_model(&root);
    let (key, public) = ec_keypair(&root, "prime256v1");
    let cache_home = root.join("xdg-cache");
    Env {
        _dir: dir,
        root,
        model,
        key,
        public,
        cache_home,
    }
}

impl Env {
    fn msign(&self) -> Command {
        let mut c = msign();
        c.env("XDG_CACHE_HOME", &self.cache_home);
        c
    }

    /// `msign --json sign key MODEL ...`; returns the JSON result.
    fn sign(&self, sig: &str, extra: &[&str]) -> serde_json::Value {
        let out = run_ok(
            self.msign()
                .args(["--json", "sign", "key"])
                .arg(&self.model)
                .arg("--private-key")
                .arg(&self.key)
                .arg("--signature")
                .arg(self.root.join(sig))
                .args(extra),
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn verify(&self, sig: &str, extra: &[&str]) -> Command {
        let mut c = self.msign();
        c.args(["verify", "key"])
            .arg(&self.model)
            .arg("--public-key")
            .arg(&self.public)
            .arg("--signature")
            .arg(self.root.join(sig))
            .args(extra);
        c
    }

    fn payload(&self, sig: &str) -> String {
        payload_of(&self.root.join(sig))
    }
}

/// The signed statement of a signature file.
fn payload_of(sig: &Path) -> String {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(sig).unwrap()).unwrap();
    let b64 = v["dsseEnvelope"]["payload"].as_str().unwrap();
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
    )
    .unwrap()
}

const FILES: u64 = 7;

#[test]
fn cache_rehashes_only_changed_files_and_gives_the_full_manifest() {
    let e = env();
    std::thread::sleep(SETTLE);
    let first = e.sign("a.sig", &[]);
    assert_eq!(first["reused_files"], 0);
    assert!(
        e.cache_home.join("msign").is_dir(),
        "cache written by default"
    );

    let again = e.sign("b.sig", &[]);
    assert_eq!(again["reused_files"], FILES, "{again}");
    assert_eq!(e.payload("a.sig"), e.payload("b.sig"));

    // Same size, different content; the modification time put back as it was. Only the
    // status-change time tells, and it must.
    let f = e.model.join("weights/part-2.bin");
    let before = std::fs::metadata(&f).unwrap().modified().unwrap();
    std::fs::write(&f, vec![8u8; 3000]).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&f)
        .unwrap()
        .set_modified(before)
        .unwrap();
    let edited = e.sign("c.sig", &[]);
    assert_eq!(edited["reused_files"], FILES - 1, "{edited}");
    e.sign("full.sig", &["--no-cache"]);
    assert_eq!(e.payload("c.sig"), e.payload("full.sig"));
    assert_ne!(e.payload("c.sig"), e.payload("a.sig"));
    run_ok(
        reference_cli()
            .args(["verify", "key"])
            .arg(&e.model)
            .arg("--public_key")
            .arg(&e.public)
            .arg("--signature")
            .arg(e.root.join("c.sig")),
    );
}

#[test]
fn entries_written_in_the_same_tick_as_the_file_are_not_trusted() {
    let e = env();
    e.sign("a.sig", &[]);
    // The files were written right before the entries: a change in the same timestamp
    // tick would be invisible, so nothing may be reused.
    let again = e.sign("b.sig", &[]);
    assert_eq!(again["reused_files"], 0, "{again}");
}

#[test]
fn no_cache_neither_reads_nor_writes() {
    let e = env();
    let v = e.sign("a.sig", &["--no-cache"]);
    assert_eq!(v["reused_files"], 0);
    assert!(!e.cache_home.exists());
}

#[test]
fn shard_and_algorithm_entries_do_not_mix() {
    let e = env();
    std::thread::sleep(SETTLE);
    e.sign("a.sig", &[]);
    let shards = e.sign("s.sig", &["--shard-size", "1000"]);
    assert_eq!(
        shards["reused_files"], 0,
        "sha256 file digests are not shard digests"
    );
    let shards2 = e.sign("s2.sig", &["--shard-size", "1000"]);
    assert_eq!(
        shards2["reused_files"],
        FILES - 1,
        "the empty file has no shard"
    );
    assert_eq!(e.payload("s.sig"), e.payload("s2.sig"));
    let b2 = e.sign("b.sig", &["--hash-algorithm", "blake2"]);
    assert_eq!(b2["reused_files"], 0);
}

#[test]
fn reuse_previous_signature_after_verifying_it() {
    let e = env();
    std::thread::sleep(SETTLE);
    e.sign("prev.sig", &["--no-cache"]);
    std::fs::write(e.model.join("a.txt"), b"hello, again").unwrap();
    let v = e.sign(
        "next.sig",
        &[
            "--no-cache",
            "--reuse",
            e.root.join("prev.sig").to_str().unwrap(),
        ],
    );
    assert_eq!(v["reused_files"], FILES - 1, "{v}");
    e.sign("full.sig", &["--no-cache"]);
    assert_eq!(e.payload("next.sig"), e.payload("full.sig"));

    // A signature by another key is not reused: refused with a usage error.
    let (other, _) = ec_keypair(&e.root, "secp384r1");
    let out = run_fails(
        e.msign()
            .args(["sign", "key"])
            .arg(&e.model)
            .arg("--private-key")
            .arg(&other)
            .arg("--signature")
            .arg(e.root.join("x.sig"))
            .arg("--reuse")
            .arg(e.root.join("prev.sig")),
        2,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("not made with this signing key"));
}

#[test]
fn verify_with_cache_skips_unchanged_files_and_says_so() {
    let e = env();
    std::thread::sleep(SETTLE);
    e.sign("a.sig", &[]);
    let out = run_ok(&mut e.verify("a.sig", &["--cache", "--json"]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "verified");
    assert_eq!(v["cached_files"], FILES);
    let out = run_ok(&mut e.verify("a.sig", &["--cache"]));
    assert!(String::from_utf8_lossy(&out.stdout).contains("7 file(s) unchanged since cached"));
    // Without --cache everything is hashed.
    let out = run_ok(&mut e.verify("a.sig", &["--json"]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["cached_files"], 0);
    // A changed file is hashed again and the change is found.
    std::fs::write(e.model.join("a.txt"), b"HELLO").unwrap();
    let out = run_fails(&mut e.verify("a.sig", &["--cache"]), 1);
    assert!(String::from_utf8_lossy(&out.stderr).contains("a.txt"));
}

#[test]
fn digest_uses_the_cache_unless_told_not_to() {
    let e = env();
    std::thread::sleep(SETTLE);
    let digest = |extra: &[&str]| {
        let out = run_ok(
            e.msign()
                .args(["digest", "--json"])
                .arg(&e.model)
                .args(extra),
        );
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (first, err) = digest(&[]);
    assert!(!err.contains("unchanged since cached"), "{err}");
    let (again, err) = digest(&[]);
    assert!(err.contains("7 file(s) unchanged since cached"), "{err}");
    assert_eq!(first, again);
    let (_, err) = digest(&["--no-cache"]);
    assert!(!err.contains("unchanged since cached"), "{err}");
    // A file changed after it was cached is hashed again: the manifest follows the change.
    std::fs::write(e.model.join("a.txt"), b"HELLO").unwrap();
    let (changed, err) = digest(&[]);
    assert!(err.contains("6 file(s) unchanged since cached"), "{err}");
    assert_ne!(changed, first);
    assert_eq!(changed, digest(&["--no-cache"]).0);
    // What the cache gave is what signing it gives: the digest signs as is.
    let manifest = e.root.join("m.json");
    std::fs::write(&manifest, &changed).unwrap();
    run_ok(
        e.msign()
            .args(["sign", "key", "--from-manifest"])
            .arg(&manifest)
            .arg(&e.model)
            .arg("--private-key")
            .arg(&e.key)
            .arg("--signature")
            .arg(e.root.join("m.sig")),
    );
    run_ok(&mut e.verify("m.sig", &[]));
}

fn digest_json(model: &Path, out: &Path) {
    let o = run_ok(msign().args(["digest", "--json"]).arg(model));
    std::fs::write(out, o.stdout).unwrap();
}

#[test]
fn sign_from_manifest_verifies_with_msign_and_the_reference() {
    let e = env();
    let m = e.root.join("manifest.json");
    digest_json(&e.model, &m);
    let v = e.sign("pre.sig", &["--from-manifest", m.to_str().unwrap()]);
    assert_eq!(v["status"], "signed");
    run_ok(&mut e.verify("pre.sig", &[]));
    run_ok(
        reference_cli()
            .args(["verify", "key"])
            .arg(&e.model)
            .arg("--public_key")
            .arg(&e.public)
            .arg("--signature")
            .arg(e.root.join("pre.sig")),
    );
    e.sign("hashed.sig", &["--no-cache"]);
    assert_eq!(e.payload("pre.sig"), e.payload("hashed.sig"));
}

/// A change that makes a manifest invalid.
type Edit = Box<dyn Fn(&mut serde_json::Value)>;

#[test]
fn hostile_manifests_are_refused() {
    let e = env();
    let m = e.root.join("manifest.json");
    digest_json(&e.model, &m);
    let good: serde_json::Value = serde_json::from_slice(&std::fs::read(&m).unwrap()).unwrap();
    let cases: Vec<(&str, Edit)> = vec![
        (
            "escaping name",
            Box::new(|v| v["resources"][0]["name"] = "../etc/passwd".into()),
        ),
        (
            "absolute name",
            Box::new(|v| v["resources"][0]["name"] = "/etc/passwd".into()),
        ),
        (
            "short digest",
            Box::new(|v| v["resources"][0]["digest"] = "abcd".into()),
        ),
        (
            "not hex",
            Box::new(|v| v["resources"][0]["digest"] = "zz".repeat(32).into()),
        ),
        (
            "label",
            Box::new(|v| v["resources"][0]["algorithm"] = "md5".into()),
        ),
        (
            "hash type",
            Box::new(|v| v["serialization"]["hash_type"] = "md5".into()),
        ),
        (
            "duplicate",
            Box::new(|v| {
                let r = v["resources"][0].clone();
                v["resources"].as_array_mut().unwrap().push(r);
            }),
        ),
        (
            "edited digest",
            Box::new(|v| {
                v["resources"][1]["digest"] = "00".repeat(32).into();
            }),
        ),
        ("not json", Box::new(|v| *v = "nope".into())),
    ];
    for (what, edit) in cases {
        let mut bad = good.clone();
        edit(&mut bad);
        let p = e.root.join("bad.json");
        std::fs::write(&p, serde_json::to_vec(&bad).unwrap()).unwrap();
        let out = run_fails(
            e.msign()
                .args(["sign", "key"])
                .arg(&e.model)
                .arg("--private-key")
                .arg(&e.key)
                .arg("--signature")
                .arg(e.root.join("bad.sig"))
                .arg("--from-manifest")
                .arg(&p),
            2,
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("invalid manifest"),
            "{what}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !e.root.join("bad.sig").exists(),
            "{what}: no signature written"
        );
    }
}

#[test]
fn shards_hashed_on_two_nodes_merge_and_sign_once() {
    let e = env();
    // Each "node" holds the same layout with only its own files.
    let node = |name: &str, files: &[&str]| -> PathBuf {
        let root = e.root.join(name).join("model");
        for f in files {
            let dst = root.join(f);
            std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
            std::fs::copy(e.model.join(f), dst).unwrap();
        }
        root
    };
    let a = node(
        "node-a",
        &["weights/part-1.bin", "config.json", "empty", "a/b"],
    );
    let b = node(
        "node-b",
        &["weights/part-2.bin", "tokenizer/naïve ü.json", "a.txt"],
    );
    let shard = ["--shard-size", "65536"];
    for (n, root) in [("a", &a), ("b", &b)] {
        let o = run_ok(msign().args(["digest", "--json"]).arg(root).args(shard));
        std::fs::write(e.root.join(format!("{n}.json")), o.stdout).unwrap();
    }
    let merged = e.root.join("merged.json");
    run_ok(
        msign()
            .args(["manifest", "merge"])
            .arg(e.root.join("a.json"))
            .arg(e.root.join("b.json"))
            .arg("-o")
            .arg(&merged),
    );
    e.sign("merged.sig", &["--from-manifest", merged.to_str().unwrap()]);
    run_ok(&mut e.verify("merged.sig", &[]));
    e.sign("whole.sig", &["--no-cache", "--shard-size", "65536"]);
    assert_eq!(e.payload("merged.sig"), e.payload("whole.sig"));

    // Parts that disagree, or were hashed differently, do not merge.
    let o = run_ok(msign().args(["digest", "--json"]).arg(&b));
    std::fs::write(e.root.join("b-files.json"), o.stdout).unwrap();
    run_fails(
        msign()
            .args(["manifest", "merge"])
            .arg(e.root.join("a.json"))
            .arg(e.root.join("b-files.json")),
        2,
    );
    std::fs::write(a.join("a.txt"), b"HELLO").unwrap();
    let o = run_ok(msign().args(["digest", "--json"]).arg(&a).args(shard));
    std::fs::write(e.root.join("a2.json"), o.stdout).unwrap();
    let out = run_fails(
        msign()
            .args(["manifest", "merge"])
            .arg(e.root.join("a2.json"))
            .arg(e.root.join("b.json")),
        2,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("different digests"), "{err}");
}
