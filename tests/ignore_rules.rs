//! msign's ignore extensions: `--exclude GLOB` and `.msignignore` patterns (read with
//! `--use-ignore-file`) are recorded in the statement's `ignore_paths`, so msign applies
//! them again at verification without being told; the reference reads the same entries as
//! literal paths, so it still verifies the signature once the excluded files are gone.

mod common;
use common::*;

use std::path::PathBuf;
use std::process::Command;

struct Model {
    _tmp: tempfile::TempDir,
    model: PathBuf,
    key: PathBuf,
    public: PathBuf,
    sig: PathBuf,
}

fn model_with(files: &[(&str, &str)]) -> Model {
    let tmp = tempfile::tempdir().unwrap();
    let model = sample_model(tmp.path());
    for (p, c) in files {
        let p = model.join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, c).unwrap();
    }
    let (key, public) = ec_keypair(tmp.path(), "prime256v1");
    let sig = tmp.path().join("model.sig");
    Model {
        _tmp: tmp,
        model,
        key,
        public,
        sig,
    }
}

impl Model {
    fn sign(&self, extra: &[&str]) -> serde_json::Value {
        run_ok(
            msign()
                .args(["sign", "key"])
                .arg(&self.model)
                .arg("--private-key")
                .arg(&self.key)
                .arg("--signature")
                .arg(&self.sig)
                .args(extra),
        );
        statement_of(&self.sig)
    }

    fn msign_verify(&self) -> Command {
        let mut c = msign();
        c.args(["verify", "key"])
            .arg(&self.model)
            .arg("--public-key")
            .arg(&self.public)
            .arg("--signature")
            .arg(&self.sig);
        c
    }

    fn reference_verify(&self) -> Command {
        let mut c = reference_cli();
        c.args(["verify", "key"])
            .arg(&self.model)
            .arg("--public_key")
            .arg(&self.public)
            .arg("--signature")
            .arg(&self.sig);
        c
    }

    fn write(&self, p: &str, content: &str) {
        let p = self.model.join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    fn remove(&self, p: &str) {
        let p = self.model.join(p);
        if p.is_dir() {
            std::fs::remove_dir_all(p).unwrap();
        } else {
            std::fs::remove_file(p).unwrap();
        }
    }
}

fn recorded(st: &serde_json::Value) -> Vec<String> {
    st["predicate"]["serialization"]["ignore_paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn exclude_globs_are_recorded_and_applied_at_verification() {
    let m = model_with(&[
        ("notes.tmp", "scratch"),
        ("weights/cache.tmp", "scratch"),
        ("logs/run1.txt", "loss 1.0"),
        ("weights/logs/x.txt", "loss 2.0"),
        ("catalog.txt", "not a log folder"),
    ]);
    let st = m.sign(&["--exclude", "*.tmp", "--exclude", "logs/"]);
    let rec = recorded(&st);
    for want in ["*.tmp", "**/logs/", ".git"] {
        assert!(rec.contains(&want.to_string()), "{want} in {rec:?}");
    }
    let names = resource_names(&st);
    assert!(names.contains(&"catalog.txt".to_string()));
    for gone in [
        "notes.tmp",
        "weights/cache.tmp",
        "logs/run1.txt",
        "weights/logs/x.txt",
    ] {
        assert!(
            !names.contains(&gone.to_string()),
            "{gone} signed: {names:?}"
        );
    }

    // No flag at verification: the recorded patterns apply, to changed and new files too.
    run_ok(&mut m.msign_verify());
    m.write("notes.tmp", "changed");
    m.write("deep/new.tmp", "new");
    m.write("logs/run2.txt", "new");
    run_ok(&mut m.msign_verify());
    // ...and to nothing else.
    m.write("deep/new.txt", "new");
    let out = run_fails(&mut m.msign_verify(), 1);
    assert!(stderr(&out).contains("deep/new.txt"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("new.tmp"), "{}", stderr(&out));
    m.remove("deep");

    // The reference reads the entries as literal paths: the excluded files are extra to it...
    run_fails(&mut m.reference_verify(), 1);
    // ...and once they are gone, it verifies the same signature.
    for p in ["notes.tmp", "weights/cache.tmp", "logs", "weights/logs"] {
        m.remove(p);
    }
    run_ok(&mut m.reference_verify());
    run_ok(&mut m.msign_verify());
}

#[test]
fn anchored_exclude_is_a_literal_path_the_reference_honours() {
    let m = model_with(&[]);
    let st = m.sign(&["--exclude", "/weights/part-2.bin"]);
    assert!(recorded(&st).contains(&"weights/part-2.bin".to_string()));
    assert!(!resource_names(&st).contains(&"weights/part-2.bin".to_string()));
    // A literal path: the reference ignores it too, with the file present and changed.
    m.write("weights/part-2.bin", "changed");
    run_ok(&mut m.reference_verify());
    run_ok(&mut m.msign_verify());
}

#[test]
fn msignignore_patterns_are_recorded_and_the_file_itself_is_signed() {
    let m = model_with(&[
        (
            ".msignignore",
            "# scratch output\n*.log\n!keep.log\ncache/\n/data/tmp\n",
        ),
        ("train.log", "step 1"),
        ("keep.log", "kept"),
        ("cache/a", "x"),
        ("sub/cache/b", "x"),
        ("data/tmp/x", "x"),
        ("data/tmpfile", "signed: only data/tmp itself is ignored"),
    ]);
    let st = m.sign(&["--use-ignore-file"]);
    let rec = recorded(&st);
    for want in ["data/tmp", "*.log", "!keep.log", "**/cache/"] {
        assert!(rec.contains(&want.to_string()), "{want} in {rec:?}");
    }
    let names = resource_names(&st);
    for kept in [".msignignore", "keep.log", "data/tmpfile"] {
        assert!(names.contains(&kept.to_string()), "{kept} in {names:?}");
    }
    for gone in ["train.log", "cache/a", "sub/cache/b", "data/tmp/x"] {
        assert!(!names.contains(&gone.to_string()), "{gone} in {names:?}");
    }

    run_ok(&mut m.msign_verify());
    m.write("train.log", "step 2");
    m.write("sub/cache/c", "new");
    run_ok(&mut m.msign_verify());
    // The negated file is signed like any other.
    m.write("keep.log", "changed");
    let out = run_fails(&mut m.msign_verify(), 1);
    assert!(stderr(&out).contains("keep.log"), "{}", stderr(&out));
    m.write("keep.log", "kept");
    // Verification applies what was recorded, not the ignore file as it is now: the file
    // is signed, so editing it to hide more is itself a change.
    let original = std::fs::read_to_string(m.model.join(".msignignore")).unwrap();
    m.write(".msignignore", "*\n");
    let out = run_fails(&mut m.msign_verify(), 1);
    assert!(stderr(&out).contains(".msignignore"), "{}", stderr(&out));
    m.write(".msignignore", &original);
    run_ok(&mut m.msign_verify());

    // The reference verifies once the ignored files are gone.
    for p in ["train.log", "cache", "sub", "data/tmp"] {
        m.remove(p);
    }
    run_ok(&mut m.reference_verify());

    // --no-ignore-file signs everything the ignore file would have left out.
    m.write("train.log", "step 3");
    let st = m.sign(&["--no-ignore-file"]);
    assert!(resource_names(&st).contains(&"train.log".to_string()));
    assert!(!recorded(&st).iter().any(|p| p.contains("*.log")));
    run_ok(&mut m.reference_verify());
}
