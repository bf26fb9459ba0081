//! Failing early and saying what is wrong: differences reported as the user sees them
//! (a changed file, not shards; a name in another Unicode form), byte counts that are
//! true, help that matches behaviour, one exit code for a missing signature.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;

/// `msign sign key MODEL --private-key KEY --signature SIG`.
fn sign_key(model: &Path, key: &Path, sig: &Path) -> Command {
    let mut c = msign();
    c.args(["sign", "key"])
        .arg(model)
        .arg("--private-key")
        .arg(key)
        .arg("--signature")
        .arg(sig)
        .stdin(Stdio::null());
    c
}

/// `msign [--json] verify key MODEL --signature SIG --public-key PUB`.
fn verify_key(json: bool, model: &Path, sig: &Path, public: &Path) -> Command {
    let mut c = msign();
    if json {
        c.arg("--json");
    }
    c.args(["verify", "key"])
        .arg(model)
        .arg("--signature")
        .arg(sig)
        .arg("--public-key")
        .arg(public)
        .stdin(Stdio::null());
    c
}

/// A folder `model` in `d` holding `files`, and a P-256 key pair: (model, key, public).
fn model_with(d: &Path, files: &[(&str, &[u8])]) -> (PathBuf, PathBuf, PathBuf) {
    let model = d.join("model");
    std::fs::create_dir(&model).unwrap();
    for (name, content) in files {
        std::fs::write(model.join(name), content).unwrap();
    }
    let (key, public) = ec_keypair(d, "prime256v1");
    (model, key, public)
}

fn json_of(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

// 1. A file signed by shards that changed is one changed file.

#[test]
fn an_edited_file_signed_by_shards_is_reported_as_changed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (model, key, public) = model_with(d, &[("big.bin", &[7u8; 2500]), ("small", b"s")]);
    let sig = d.join("m.sig");
    run_ok(sign_key(&model, &key, &sig).args(["--shard-size", "1000"]));

    // Grown by 4 bytes: the last shard 2000..2500 is gone and 2000..2504 appeared.
    let mut grown = vec![7u8; 2500];
    grown.extend_from_slice(b"more");
    std::fs::write(model.join("big.bin"), &grown).unwrap();
    let out = run_fails(&mut verify_key(false, &model, &sig, &public), 1);
    let err = stderr(&out);
    assert!(
        err.contains("changed (1):")
            && err.contains("big.bin (2500 B signed, 2504 B now): bytes 2000..2504 differ"),
        "{err}"
    );
    assert!(
        !err.contains("missing") && !err.contains("not signed") && !err.contains(":2000:"),
        "{err}"
    );
    let v = json_of(&run_fails(&mut verify_key(true, &model, &sig, &public), 1));
    let diff = &v["differences"];
    assert_eq!(
        diff["changed_files"],
        serde_json::json!([{"name": "big.bin", "signed_bytes": 2500, "bytes": 2504,
                            "ranges": [[2000, 2504]]}]),
        "{v}"
    );
    assert_eq!(diff["missing"], serde_json::json!([]), "{v}");
    assert_eq!(diff["extra"], serde_json::json!([]), "{v}");

    // Same size, two bytes changed in two shards: both ranges, merged where they touch.
    let mut edited = vec![7u8; 2500];
    edited[5] = 0;
    edited[1500] = 0;
    std::fs::write(model.join("big.bin"), &edited).unwrap();
    let out = run_fails(&mut verify_key(false, &model, &sig, &public), 1);
    let err = stderr(&out);
    assert!(
        err.contains("big.bin (2500 B, same size): bytes 0..2000 differ"),
        "{err}"
    );
    assert!(!err.contains("content differs"), "{err}");

    // A file gone altogether is still missing, by shard.
    std::fs::remove_file(model.join("big.bin")).unwrap();
    let out = run_fails(&mut verify_key(false, &model, &sig, &public), 1);
    let err = stderr(&out);
    assert!(
        err.contains("signed but missing from the model (3)") && !err.contains("changed ("),
        "{err}"
    );
}

// 2. A name signed in one Unicode normalisation form and found in another.

#[test]
fn a_name_in_another_unicode_form_is_named_as_such_and_still_fails() {
    let nfc = "caf\u{e9}.bin";
    let nfd = "cafe\u{301}.bin";
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (model, key, public) = model_with(d, &[(nfc, b"weights"), ("other", b"o")]);
    let sig = d.join("m.sig");
    run_ok(&mut sign_key(&model, &key, &sig));
    std::fs::rename(model.join(nfc), model.join(nfd)).unwrap();

    let out = run_fails(&mut verify_key(false, &model, &sig, &public), 1);
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "{nfc} is signed in NFC form but the name in the model is NFD"
        )),
        "{err}"
    );
    assert!(
        !err.contains("missing") && !err.contains("not signed"),
        "{err}"
    );
    let v = json_of(&run_fails(&mut verify_key(true, &model, &sig, &public), 1));
    assert_eq!(
        v["differences"]["unicode_forms"],
        serde_json::json!([{"signed": nfc, "signed_form": "NFC", "found": nfd,
                            "found_form": "NFD"}]),
        "{v}"
    );

    // With shards too, each shard's name pairs the same way.
    std::fs::rename(model.join(nfd), model.join(nfc)).unwrap();
    run_ok(sign_key(&model, &key, &sig).args(["--shard-size", "4"]));
    std::fs::rename(model.join(nfc), model.join(nfd)).unwrap();
    let out = run_fails(&mut verify_key(false, &model, &sig, &public), 1);
    let err = stderr(&out);
    assert!(
        err.contains("is signed in NFC form but the name in the model is NFD")
            && !err.contains("missing"),
        "{err}"
    );
}

// 3. `--from-manifest` says how much it signs, or nothing when the manifest cannot say.

/// `msign [--json] sign key --from-manifest MANIFEST MODEL ...`.
fn sign_from_manifest(
    json: bool,
    manifest: &Path,
    model: &Path,
    key: &Path,
    sig: &Path,
) -> Command {
    let mut c = msign();
    if json {
        c.arg("--json");
    }
    c.args(["sign", "key", "--from-manifest"])
        .arg(manifest)
        .arg(model)
        .arg("--private-key")
        .arg(key)
        .arg("--signature")
        .arg(sig)
        .stdin(Stdio::null());
    c
}

#[test]
fn signing_a_manifest_reports_its_real_size_or_none() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (model, key, public) = model_with(d, &[("big.bin", &[7u8; 2500]), ("small", b"s")]);
    let sig = d.join("m.sig");
    for (name, flags) in [
        ("files", &[][..]),
        ("shards", &["--shard-size", "1000"][..]),
    ] {
        let manifest = d.join(format!("{name}.json"));
        let out = run_ok(msign().args(["digest", "--json"]).args(flags).arg(&model));
        std::fs::write(&manifest, &out.stdout).unwrap();
        let out = run_ok(&mut sign_from_manifest(
            false, &manifest, &model, &key, &sig,
        ));
        let text = stdout(&out);
        assert!(
            text.contains("2 file(s) (2.44 KiB)") && !text.contains("0 B"),
            "{name}: {text}"
        );
        let v = json_of(&run_ok(&mut sign_from_manifest(
            true, &manifest, &model, &key, &sig,
        )));
        assert_eq!(v["bytes"], 2501, "{name}: {v}");
        run_ok(&mut verify_key(false, &model, &sig, &public));

        // Merged: shards still tell the size; a file manifest no longer does, and the
        // report says nothing rather than 0 B.
        let merged = d.join(format!("{name}-merged.json"));
        let out = run_ok(msign().args(["manifest", "merge"]).arg(&manifest));
        std::fs::write(&merged, &out.stdout).unwrap();
        let out = run_ok(&mut sign_from_manifest(false, &merged, &model, &key, &sig));
        let text = stdout(&out);
        let v = json_of(&run_ok(&mut sign_from_manifest(
            true, &merged, &model, &key, &sig,
        )));
        if name == "shards" {
            assert!(text.contains("2 file(s) (2.44 KiB)"), "{name}: {text}");
            assert_eq!(v["bytes"], 2501, "{name}: {v}");
        } else {
            assert!(text.contains("2 file(s) of 'model'"), "{name}: {text}");
            assert!(v.get("bytes").is_none(), "{name}: {v}");
        }
    }
}
