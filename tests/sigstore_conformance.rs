//! The sigstore-conformance bundle-verify cases (fixtures/sigstore-conformance, public test
//! data of sigstore/sigstore-conformance, Apache-2.0), each run through `msign sigstore
//! verify-bundle` in the conformance client's form, with the artifact as a path and as
//! `sha256:<hex>`: a case whose name ends in `_fail` must be rejected, every other verified.

mod common;
use common::*;

use std::path::{Path, PathBuf};

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn cases_dir() -> PathBuf {
    fixtures().join("sigstore-conformance/bundle-verify")
}

/// The `verify-bundle` arguments of a case (everything but the artifact).
fn case_args(dir: &Path) -> Vec<String> {
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name))
            .ok()
            .map(|s| s.trim().to_string())
    };
    let mut args: Vec<String> = vec![
        "sigstore".into(),
        "verify-bundle".into(),
        "--bundle".into(),
        dir.join("bundle.sigstore.json").display().to_string(),
    ];
    if dir.join("key.pub").exists() {
        args.extend(["--key".into(), dir.join("key.pub").display().to_string()]);
    } else {
        args.extend([
            "--certificate-identity".into(),
            read("identity").unwrap_or_else(|| IDENTITY.into()),
            "--certificate-oidc-issuer".into(),
            read("issuer").unwrap_or_else(|| ISSUER.into()),
        ]);
    }
    if dir.join("trusted_root.json").exists() {
        args.extend([
            "--trusted-root".into(),
            dir.join("trusted_root.json").display().to_string(),
        ]);
    }
    args
}

#[test]
fn every_bundle_verify_case_gives_the_expected_result() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("bundle.sigstore.json").exists())
        .collect();
    cases.sort();
    assert!(cases.len() >= 60, "only {} cases found", cases.len());
    let mut wrong = Vec::new();
    for dir in &cases {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let must_fail = name.ends_with("_fail");
        let artifact = if dir.join("artifact").exists() {
            dir.join("artifact")
        } else {
            cases_dir().parent().unwrap().join("a.txt")
        };
        let digest = format!(
            "sha256:{}",
            hex::encode(openssl::sha::sha256(&std::fs::read(&artifact).unwrap()))
        );
        for form in [artifact.display().to_string(), digest] {
            let out = msign().args(case_args(dir)).arg(&form).output().unwrap();
            let passed = out.status.success();
            let code = out.status.code();
            // A refusal is a verification failure (3) or a refused input (1, 2), never a crash.
            let clean = passed || matches!(code, Some(1..=3));
            if passed == must_fail || !clean {
                wrong.push(format!(
                    "{name} ({}): exit {code:?}: {}",
                    if form.starts_with("sha256:") {
                        "digest"
                    } else {
                        "path"
                    },
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} runs gave the wrong result:\n{}",
        wrong.len(),
        cases.len() * 2,
        wrong.join("\n")
    );
}
