//! What a signature covers: never nothing, never less than the signer was shown, never
//! content that changed while it was hashed, and never an entry that was not checked.

mod common;
mod fakehub;
use common::*;

use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Case {
    tmp: tempfile::TempDir,
    key: PathBuf,
    public: PathBuf,
}

impl Case {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let (key, public) = ec_keypair(tmp.path(), "prime256v1");
        Case { tmp, key, public }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    fn sign(&self, model: &Path, sig: &Path) -> Command {
        let mut c = msign();
        c.args(["sign", "key"])
            .arg(model)
            .arg("--private-key")
            .arg(&self.key)
            .arg("--signature")
            .arg(sig);
        c
    }

    fn verify(&self, model: &Path, sig: &Path) -> Command {
        let mut c = msign();
        c.args(["verify", "key"])
            .arg(model)
            .arg("--public-key")
            .arg(&self.public)
            .arg("--signature")
            .arg(sig);
        c
    }

    fn reference_sign(&self, model: &Path, sig: &Path) -> Command {
        let mut c = reference_cli();
        c.args(["sign", "key"])
            .arg(model)
            .arg("--private_key")
            .arg(&self.key)
            .arg("--signature")
            .arg(sig);
        c
    }

    fn reference_verify(&self, model: &Path, sig: &Path) -> Command {
        let mut c = reference_cli();
        c.args(["verify", "key"])
            .arg(model)
            .arg("--public_key")
            .arg(&self.public)
            .arg("--signature")
            .arg(sig);
        c
    }
}

fn write(path: &Path, content: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

// --- Signatures that cover nothing (OMS v1.0 §6.1, §5.2.1) ---

#[test]
fn signing_an_empty_or_all_ignored_model_is_refused() {
    let c = Case::new();
    let empty = c.path("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let sig = c.path("empty.sig");
    let out = run_fails(&mut c.sign(&empty, &sig), 2);
    assert!(stderr(&out).contains("nothing to sign"), "{}", stderr(&out));
    assert!(!sig.exists(), "no signature is written");

    // Every file ignored: by --exclude, and by the default git paths.
    let model = c.path("model");
    write(&model.join("a.bin"), b"a");
    write(&model.join("sub/b.bin"), b"b");
    let out = run_fails(c.sign(&model, &sig).args(["--exclude", "*.bin"]), 2);
    let err = stderr(&out);
    assert!(err.contains("nothing to sign"), "{err}");
    assert!(err.contains("a.bin") && err.contains("sub/b.bin"), "{err}");
    assert!(!sig.exists());
    let git_only = c.path("git-only");
    write(&git_only.join(".gitattributes"), b"*.bin filter=lfs");
    run_fails(&mut c.sign(&git_only, &sig), 2);
    assert!(!sig.exists());

    // Git revisions go the same way: a commit whose model folder holds only ignored files.
    let repo = c.path("repo");
    std::fs::create_dir_all(&repo).unwrap();
    let git = |args: &[&str]| {
        run_ok(
            Command::new("git")
                .current_dir(&repo)
                .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
                .args(args),
        )
    };
    git(&["init", "-q"]);
    write(&repo.join("m/notes.tmp"), b"scratch");
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "m"]);
    let out = run_fails(
        msign()
            .current_dir(&repo)
            .args([
                "sign",
                "key",
                "--git-rev",
                "HEAD",
                "m",
                "--exclude",
                "*.tmp",
            ])
            .arg("--private-key")
            .arg(&c.key)
            .arg("--signature")
            .arg(&sig),
        2,
    );
    assert!(stderr(&out).contains("nothing to sign"), "{}", stderr(&out));
    assert!(!sig.exists());
}

#[test]
fn a_signed_statement_that_lists_nothing_verifies_nothing() {
    let c = Case::new();
    // The reference signs an empty folder (resources: []) with a real key...
    let empty = c.path("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let sig = c.path("empty.sig");
    run_ok(&mut c.reference_sign(&empty, &sig));
    assert_eq!(
        statement_of(&sig)["predicate"]["resources"],
        serde_json::json!([])
    );
    // ...and that signature would vouch for any folder.
    let other = c.path("other");
    write(&other.join("loader.py"), b"import os; os.system('...')");
    run_ok(
        c.reference_verify(&other, &sig)
            .arg("--ignore_unsigned_files"),
    );
    for extra in [&[][..], &["--ignore-unsigned-files"][..]] {
        for model in [&empty, &other] {
            let out = run_fails(c.verify(model, &sig).args(extra), 1);
            assert!(
                stderr(&out).contains("lists no resource"),
                "{extra:?}: {}",
                stderr(&out)
            );
        }
    }
    let out = run_fails(c.verify(&other, &sig).arg("--json"), 1);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["error"]["kind"], "malformed_signature", "{v}");
}

#[test]
fn recorded_catch_all_ignore_patterns_are_refused() {
    let c = Case::new();
    let model = c.path("model");
    write(&model.join("weights.bin"), b"weights");
    for (i, pattern) in ["*", "**", "?*", "**/*"].into_iter().enumerate() {
        // The reference records `--ignore-paths` as given: a name with glob characters
        // reaches the statement untouched, and the signature covers weights.bin.
        let sig = c.path(&format!("catch-all-{i}.sig"));
        run_ok(
            c.reference_sign(&model, &sig)
                .arg("--ignore-paths")
                .arg(model.join(pattern)),
        );
        let st = statement_of(&sig);
        let recorded = st["predicate"]["serialization"]["ignore_paths"].to_string();
        assert!(recorded.contains(&format!("{pattern:?}")), "{recorded}");
        assert_eq!(resource_names(&st), ["weights.bin"]);
        for extra in [&[][..], &["--ignore-unsigned-files"][..]] {
            let out = run_fails(c.verify(&model, &sig).args(extra), 1);
            assert!(
                stderr(&out).contains("leave out every file name"),
                "{pattern}: {}",
                stderr(&out)
            );
        }
    }
}

#[test]
fn hub_repositories_that_cover_nothing_are_refused_too() {
    let c = Case::new();
    let hub = fakehub::FakeHub::start();
    const REPO: &str = "acme/nothing";
    let env = |cmd: &mut Command| {
        for v in [
            "HF_TOKEN",
            "HF_HUB_CACHE",
            "HF_HUB_OFFLINE",
            "HF_TOKEN_PATH",
        ] {
            cmd.env_remove(v);
        }
        cmd.env("HF_ENDPOINT", &hub.endpoint)
            .env("HF_HOME", c.path("hf"));
    };
    // Only a git path: nothing to sign.
    let files = std::collections::BTreeMap::new();
    hub.publish(
        REPO,
        "main",
        files,
        &[(".gitattributes", b"*.bin filter=lfs\n")],
    );
    let out_sig = c.path("hub.sig");
    let mut sign = msign();
    env(&mut sign);
    sign.args(["hub", "sign", REPO, "--private-key"])
        .arg(&c.key)
        .arg("--output")
        .arg(&out_sig);
    let out = run_fails(&mut sign, 2);
    assert!(stderr(&out).contains("nothing to sign"), "{}", stderr(&out));
    assert!(!out_sig.exists());
    // A signature that lists nothing, published with a file, verifies nothing.
    let empty = c.path("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let sig = c.path("empty.sig");
    run_ok(&mut c.reference_sign(&empty, &sig));
    let sig_bytes = std::fs::read(&sig).unwrap();
    hub.publish(
        REPO,
        "main",
        std::collections::BTreeMap::new(),
        &[("model.sig", &sig_bytes), ("loader.py", b"evil")],
    );
    let mut verify = msign();
    env(&mut verify);
    verify
        .args(["hub", "verify", REPO, "--public-key"])
        .arg(&c.public);
    let out = run_fails(&mut verify, 1);
    assert!(
        stderr(&out).contains("lists no resource"),
        "{}",
        stderr(&out)
    );
}

// --- In-model ignore file (.msignignore) ---

#[test]
fn a_msignignore_added_to_the_model_cannot_leave_code_unsigned_silently() {
    let c = Case::new();
    let model = c.path("model");
    write(&model.join("weights.bin"), b"weights");
    write(&model.join("loader.py"), b"def load(): pass\n");
    write(&model.join("sub/util.py"), b"def util(): pass\n");
    // A pull request adds an ignore file that hides the code.
    write(&model.join(".msignignore"), b"*.py\n");
    let sig = c.path("model.sig");

    // By default the file in the model decides nothing: the code is signed...
    let out = run_ok(&mut c.sign(&model, &sig));
    let names = resource_names(&statement_of(&sig));
    for signed in ["loader.py", "sub/util.py", ".msignignore", "weights.bin"] {
        assert!(names.contains(&signed.to_string()), "{signed}: {names:?}");
    }
    // ...every rule applied is shown with where it came from...
    let err = stderr(&out);
    assert!(err.contains("ignore rules applied"), "{err}");
    assert!(
        err.contains(".git") && err.contains("model_signing default"),
        "{err}"
    );
    // ...and a later edit to the code fails verification.
    write(&model.join("loader.py"), b"import os; os.system('evil')\n");
    let out = run_fails(&mut c.verify(&model, &sig), 1);
    assert!(stderr(&out).contains("loader.py"), "{}", stderr(&out));
    write(&model.join("loader.py"), b"def load(): pass\n");
    run_ok(&mut c.verify(&model, &sig));

    // Opting in applies it, loudly: the rule, its origin and every file it left out are
    // named, and the ignore file itself is signed.
    let out = run_ok(c.sign(&model, &sig).arg("--use-ignore-file"));
    let err = stderr(&out);
    let rule_line = err
        .lines()
        .find(|l| l.contains("*.py"))
        .unwrap_or_else(|| panic!("no *.py rule line: {err}"));
    assert!(rule_line.contains(".msignignore"), "{rule_line}");
    assert!(rule_line.contains("left out 2"), "{rule_line}");
    assert!(
        rule_line.contains("loader.py") && rule_line.contains("sub/util.py"),
        "{rule_line}"
    );
    assert!(
        err.contains("warning: the model's own .msignignore"),
        "{err}"
    );
    let names = resource_names(&statement_of(&sig));
    assert!(names.contains(&".msignignore".to_string()), "{names:?}");
    assert!(!names.contains(&"loader.py".to_string()), "{names:?}");

    // Even an ignore file that names itself or everything is signed.
    write(&model.join(".msignignore"), b"*.py\n.msignignore\n");
    run_ok(c.sign(&model, &sig).arg("--use-ignore-file"));
    let names = resource_names(&statement_of(&sig));
    assert!(names.contains(&".msignignore".to_string()), "{names:?}");
}

#[test]
fn verification_names_files_left_out_by_the_recorded_rules() {
    let c = Case::new();
    let model = c.path("model");
    write(&model.join("weights.bin"), b"weights");
    write(&model.join("run.log"), b"loss 1");
    let sig = model.join("model.sig");
    run_ok(c.sign(&model, &sig).args(["--exclude", "*.log"]));
    // Files the recorded rule leaves out, old and new, are named; the git paths and the
    // signature file are not.
    write(&model.join("deep/evil.log"), b"not checked");
    write(&model.join(".git/HEAD"), b"ref: refs/heads/main");
    let out = run_ok(&mut c.verify(&model, &sig));
    let err = stderr(&out);
    let line = err
        .lines()
        .find(|l| l.contains("not checked"))
        .unwrap_or_else(|| panic!("no warning: {err}"));
    assert!(line.starts_with("warning:"), "{line}");
    assert!(line.contains("*.log"), "{line}");
    assert!(
        line.contains("run.log") && line.contains("deep/evil.log"),
        "{line}"
    );
    assert!(
        !err.contains(".git/") && !err.contains("model.sig"),
        "{err}"
    );
    assert_eq!(
        err.matches("not checked").count(),
        1,
        "one warning per rule: {err}"
    );
    // The same in --json, as `warnings`.
    let out = run_ok(c.verify(&model, &sig).arg("--json"));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let warnings = v["warnings"].to_string();
    assert!(warnings.contains("deep/evil.log"), "{v}");
}

// --- A file changed in place while it is hashed ---

/// Whether `pid` has a mapping of `file` (the engine is inside its mapped windows).
fn maps_file(pid: u32, file: &Path) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/maps"))
        .map(|m| m.contains(file.to_str().unwrap()))
        .unwrap_or(false)
}

/// Runs `cmd` over `big` while rewriting bytes of it in place (same size) from the moment
/// msign maps it until msign ends; bounded to a minute.
fn run_while_rewritten(cmd: &mut Command, big: &Path) -> std::process::Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !maps_file(child.id(), big) && child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "msign never mapped the file");
        std::thread::sleep(Duration::from_millis(1));
    }
    let f = std::fs::OpenOptions::new().write(true).open(big).unwrap();
    let len = f.metadata().unwrap().len();
    let mut i = 0u64;
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "msign did not end");
        // Spread over the file: each write changes bytes and the modification time.
        let at = (i * 7_919 * 4096) % len;
        f.write_at(&[(i % 251) as u8 + 1], at).unwrap();
        i += 1;
        std::thread::sleep(Duration::from_millis(2));
    }
    child.wait_with_output().unwrap()
}

fn big_model(c: &Case) -> (PathBuf, PathBuf) {
    let model = c.path("model");
    write(&model.join("config.json"), b"{}");
    let big = model.join("weights.bin");
    // Sparse: cheap to create; hashing 1 GiB takes about half a second even on one core.
    std::fs::File::create(&big)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    (model, big)
}

#[test]
fn a_file_rewritten_in_place_while_signing_is_never_signed() {
    let c = Case::new();
    let (model, big) = big_model(&c);
    let sig = c.path("model.sig");
    let out = run_while_rewritten(&mut c.sign(&model, &sig), &big);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "stderr: {err}");
    assert!(err.contains("changed while it was being hashed"), "{err}");
    assert!(err.contains("weights.bin"), "{err}");
    assert!(!sig.exists(), "no signature over content that changed");
    // Shards of one file hashed in parallel: the same check.
    let out = run_while_rewritten(
        c.sign(&model, &sig).args(["--shard-size", "67108864"]),
        &big,
    );
    assert_eq!(out.status.code(), Some(3), "stderr: {}", stderr(&out));
    assert!(!sig.exists());
}

#[test]
fn a_file_rewritten_in_place_while_verifying_or_digesting_fails() {
    let c = Case::new();
    let (model, big) = big_model(&c);
    let sig = c.path("model.sig");
    run_ok(&mut c.sign(&model, &sig));
    let out = run_while_rewritten(&mut c.verify(&model, &sig), &big);
    assert_eq!(out.status.code(), Some(3), "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("weights.bin"), "{}", stderr(&out));
    let out = run_while_rewritten(msign().arg("digest").arg(&model), &big);
    assert_eq!(out.status.code(), Some(3), "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("changed while it was being hashed"));
}

// --- Unsigned entries are not checked, so not refused ---

#[test]
fn an_unsigned_symlink_passes_with_ignore_unsigned_files_as_in_the_reference() {
    // model_signing's scripts/tests/test-sign-verify.sh, "Pass signature verification by
    // ignoring any unsigned files or symlinks".
    let c = Case::new();
    let model = c.path("model");
    write(&model.join("weights.bin"), b"weights");
    write(&model.join("sub/config.json"), b"{}");
    let ref_sig = c.path("reference.sig");
    let sig = c.path("msign.sig");
    run_ok(&mut c.reference_sign(&model, &ref_sig));
    run_ok(&mut c.sign(&model, &sig));
    // Added after signing: a link to a signed file, one to a folder, one dangling, and an
    // unsigned file.
    std::os::unix::fs::symlink("weights.bin", model.join("link.bin")).unwrap();
    std::os::unix::fs::symlink("../weights.bin", model.join("sub/link.bin")).unwrap();
    std::os::unix::fs::symlink("sub", model.join("link-dir")).unwrap();
    std::os::unix::fs::symlink("/nonexistent", model.join("dangling")).unwrap();
    write(&model.join("unsigned.txt"), b"new");
    for s in [&ref_sig, &sig] {
        run_ok(c.reference_verify(&model, s).arg("--ignore_unsigned_files"));
        run_ok(c.verify(&model, s).arg("--ignore_unsigned_files"));
        run_ok(c.verify(&model, s).arg("--ignore-unsigned-files"));
        // Without the flag the link is an entry to check, and refused, in both tools.
        run_fails(&mut c.reference_verify(&model, s), 1);
        let out = run_fails(&mut c.verify(&model, s), 3);
        assert!(stderr(&out).contains("symbolic link"), "{}", stderr(&out));
    }
    // A signed file that became a link is still checked, and refused.
    std::fs::remove_file(model.join("weights.bin")).unwrap();
    write(&model.join("real.bin"), b"weights");
    std::os::unix::fs::symlink("real.bin", model.join("weights.bin")).unwrap();
    let out = run_fails(c.verify(&model, &sig).arg("--ignore-unsigned-files"), 3);
    assert!(stderr(&out).contains("symbolic link"), "{}", stderr(&out));
}

#[test]
fn git_and_hub_signing_name_what_each_rule_left_out() {
    let c = Case::new();
    // A git revision: the rule, its origin and the file it left out are named, as for a
    // folder, by both front ends.
    let repo = c.path("repo");
    std::fs::create_dir_all(&repo).unwrap();
    let git = |args: &[&str]| {
        run_ok(
            Command::new("git")
                .current_dir(&repo)
                .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
                .args(args),
        )
    };
    git(&["init", "-q"]);
    write(&repo.join("m/weights.bin"), b"weights");
    write(&repo.join("m/scratch/notes.tmp"), b"scratch");
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "m"]);
    let sig = c.path("git.sig");
    let out = run_ok(
        msign()
            .current_dir(&repo)
            .args([
                "sign",
                "key",
                "--git-rev",
                "HEAD",
                ":/m",
                "--exclude",
                "*.tmp",
            ])
            .arg("--private-key")
            .arg(&c.key)
            .arg("--signature")
            .arg(&sig),
    );
    let err = stderr(&out);
    let line = err
        .lines()
        .find(|l| l.contains("*.tmp"))
        .unwrap_or_else(|| panic!("no *.tmp rule line: {err}"));
    assert!(line.contains("--exclude"), "{line}");
    assert!(
        line.contains("left out 1") && line.contains("scratch/notes.tmp"),
        "{line}"
    );
    let out = run_ok(
        Command::new(env!("CARGO_BIN_EXE_git-model-sign"))
            .current_dir(&repo)
            .args(["sign", "key", "HEAD", "--path", "m", "--exclude", "*.tmp"])
            .args(["--store", "file", "--signature"])
            .arg(c.path("git2.sig"))
            .arg("--private-key")
            .arg(&c.key)
            .arg("--json"),
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules = report["ignore_rules"].as_array().expect("ignore_rules");
    let tmp = rules
        .iter()
        .find(|r| r["rule"] == "*.tmp")
        .unwrap_or_else(|| panic!("{report}"));
    assert_eq!(tmp["left_out"], serde_json::json!(["scratch/notes.tmp"]));

    // A Hub repository signed from its listing: the same report.
    let hub = fakehub::FakeHub::start();
    hub.publish(
        "acme/rules",
        "main",
        std::collections::BTreeMap::new(),
        &[
            ("weights.bin", b"weights"),
            ("config.json", b"{}"),
            (".gitattributes", b"*.bin filter=lfs\n"),
        ],
    );
    let mut sign = msign();
    for v in [
        "HF_TOKEN",
        "HF_HUB_CACHE",
        "HF_HUB_OFFLINE",
        "HF_TOKEN_PATH",
    ] {
        sign.env_remove(v);
    }
    sign.env("HF_ENDPOINT", &hub.endpoint)
        .env("HF_HOME", c.path("hf"))
        .args(["hub", "sign", "acme/rules", "--private-key"])
        .arg(&c.key)
        .arg("--output")
        .arg(c.path("hub.sig"));
    let out = run_ok(&mut sign);
    let err = stderr(&out);
    assert!(err.contains("ignore rules applied"), "{err}");
    assert!(
        err.lines()
            .any(|l| l.contains(".gitattributes") && l.contains("left out 1")),
        "{err}"
    );
}
