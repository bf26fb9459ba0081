//! Signatures made by released versions of the reference (v0.2.0 to v1.1.0), from
//! sigstore/model-transparency's cross-version tests: every key and certificate case of
//! fixtures/model-transparency/CASES.md verifies with msign as CASES.md describes, and
//! fails once one byte of a signed file changes.

mod common;
use common::*;

use std::path::Path;
use std::process::Command;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Method {
    Key,
    Certificate,
}

#[derive(Debug, Clone, Copy)]
struct Case {
    dir: &'static str,
    method: Method,
    /// The model is this single file of the folder, not the folder.
    single_file: Option<&'static str>,
    /// The folder holds `ignore-me`, left out when signing.
    ignore_me: bool,
}

const fn case(dir: &'static str, method: Method) -> Case {
    Case {
        dir,
        method,
        single_file: None,
        ignore_me: false,
    }
}

const CASES: [Case; 9] = [
    case("v0.2.0-certificate", Method::Certificate),
    case("v0.3.1-certificate", Method::Certificate),
    Case {
        single_file: Some("signme-1"),
        ..case("v0.3.1-elliptic-key", Method::Key)
    },
    case("v1.0.0-certificate", Method::Certificate),
    Case {
        single_file: Some("signme-1"),
        ..case("v1.0.0-elliptic-key", Method::Key)
    },
    Case {
        ignore_me: true,
        ..case("v1.0.1-certificate", Method::Certificate)
    },
    Case {
        ignore_me: true,
        ..case("v1.0.1-elliptic-key", Method::Key)
    },
    Case {
        ignore_me: true,
        ..case("v1.1.0-certificate", Method::Certificate)
    },
    Case {
        ignore_me: true,
        ..case("v1.1.0-elliptic-key", Method::Key)
    },
];

const KEYS: &str = "keys/certificate";

/// `msign verify ...` for a case as CASES.md describes it, run from `root` (a folder laid
/// out like fixtures/model-transparency). `inside` runs from within the case's folder with
/// model path `.`.
fn verify(root: &Path, c: &Case, inside: bool) -> Command {
    let mut cmd = msign();
    let up = if inside { "../" } else { "" };
    cmd.arg("verify");
    match c.method {
        Method::Key => cmd
            .arg("key")
            .arg("--public_key")
            .arg(format!("{up}{KEYS}/signing-key-pub.pem")),
        Method::Certificate => cmd
            .arg("certificate")
            .arg("--certificate_chain")
            .arg(format!("{up}{KEYS}/ca-cert.pem")),
    };
    if inside {
        cmd.current_dir(root.join(c.dir));
        cmd.arg(c.single_file.unwrap_or("."))
            .args(["--signature", "model.sig"]);
        if c.ignore_me {
            cmd.args(["--ignore-paths", "ignore-me"]);
        }
    } else {
        cmd.current_dir(root);
        match c.single_file {
            Some(f) => cmd.arg(format!("{}/{f}", c.dir)),
            None => cmd.arg(c.dir),
        };
        cmd.arg("--signature").arg(format!("{}/model.sig", c.dir));
        if c.ignore_me {
            cmd.arg("--ignore-paths")
                .arg(format!("{}/ignore-me", c.dir));
        }
    }
    cmd
}

/// The files a case signed.
fn signed_files(root: &Path, c: &Case) -> Vec<String> {
    if let Some(f) = c.single_file {
        return vec![f.to_string()];
    }
    let mut v: Vec<String> = std::fs::read_dir(root.join(c.dir))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("signme-"))
        .collect();
    v.sort();
    v
}

#[test]
fn cases_cover_every_key_and_certificate_fixture() {
    let mut dirs: Vec<String> = std::fs::read_dir(reference_fixtures())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with('v') && !n.ends_with("-sigstore"))
        .collect();
    dirs.sort();
    let listed: Vec<&str> = CASES.iter().map(|c| c.dir).collect();
    assert_eq!(dirs, listed);
}

#[test]
fn every_case_verifies_as_cases_md_describes() {
    let root = reference_fixtures();
    for c in &CASES {
        let out = run_ok(&mut verify(&root, c, false));
        assert!(
            stdout(&out).starts_with("Verification succeeded"),
            "{}: {}",
            c.dir,
            stdout(&out)
        );
    }
}

#[test]
fn folder_cases_verify_from_inside_with_model_path_dot() {
    let root = reference_fixtures();
    for c in CASES.iter() {
        run_ok(&mut verify(&root, c, true));
    }
}

#[test]
fn v0_2_0_uses_the_older_predicate_and_verifies() {
    let c = &CASES[0];
    let st = statement_of(&reference_fixtures().join(c.dir).join("model.sig"));
    assert_eq!(st["predicateType"], "https://model_signing/Digests/v0.1");
    run_ok(&mut verify(&reference_fixtures(), c, false));
}

#[test]
fn ignore_me_needs_ignore_paths_before_v1_1_0_and_is_recorded_since() {
    let root = reference_fixtures();
    for c in CASES.iter().filter(|c| c.ignore_me) {
        let mut cmd = verify(
            &root,
            &Case {
                ignore_me: false,
                ..*c
            },
            false,
        );
        let recorded = statement_of(&root.join(c.dir).join("model.sig"))["predicate"]
            ["serialization"]["ignore_paths"]
            .as_array()
            .is_some_and(|a| a.iter().any(|p| p == "ignore-me"));
        if recorded {
            // v1.1.0 records the ignored path; verification applies it without the flag.
            assert!(c.dir.starts_with("v1.1.0"), "{}", c.dir);
            run_ok(&mut cmd);
        } else {
            let out = run_fails(&mut cmd, 1);
            assert!(
                stderr(&out).contains("ignore-me"),
                "{}: {}",
                c.dir,
                stderr(&out)
            );
        }
    }
}

#[test]
fn every_case_fails_after_one_byte_of_a_signed_file_changes() {
    for c in &CASES {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        copy_dir(&reference_fixtures().join(KEYS), &root.join(KEYS));
        copy_dir(&reference_fixtures().join(c.dir), &root.join(c.dir));
        // The copy verifies: a failure below is the changed byte, nothing else.
        run_ok(&mut verify(root, c, false));

        for f in signed_files(root, c) {
            let path = root.join(c.dir).join(&f);
            let original = std::fs::read(&path).unwrap();
            for offset in [0, original.len() - 1] {
                flip_byte(&path, offset);
                let out = run_fails(&mut verify(root, c, false), 1);
                assert_no_panic(&out);
                let err = stderr(&out);
                assert!(err.contains("content differs"), "{} {f}: {err}", c.dir);
                let name = if c.single_file.is_some() {
                    "."
                } else {
                    f.as_str()
                };
                assert!(
                    err.lines().any(|l| l.trim() == name),
                    "{} {f}: the error names the file:\n{err}",
                    c.dir
                );
                run_fails(&mut verify(root, c, true), 1);
                std::fs::write(&path, &original).unwrap();
            }
        }
        if c.ignore_me {
            // The ignored file is not signed: changing it changes nothing.
            std::fs::write(root.join(c.dir).join("ignore-me"), "changed").unwrap();
        }
        run_ok(&mut verify(root, c, false));
    }
}
