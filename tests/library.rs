//! The git and hook workflows as library calls: the reports are what the CLI prints with
//! `--json`, and a signature made through the library is found and verified by the CLI.

mod common;
use common::*;

use std::path::Path;
use std::process::Command;

use msign::git::{find_signature, sign_revision, verify_revision, RevSpec, StoreKind};
use msign::{HashingConfig, NoProgress, VerifyingConfig};

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
}

/// A repository whose one commit holds the demo model under `models/demo`.
fn demo_repo(dir: &Path) {
    copy_dir(&fixtures().join("demo-model"), &dir.join("models/demo"));
    git(dir, &["init", "-q"]);
    git(dir, &["config", "user.name", "Model Signer"]);
    git(dir, &["config", "user.email", "signer@example.com"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", "demo model"]);
}

#[test]
fn revision_signed_into_a_note_verifies_and_reports_what_the_cli_prints() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().canonicalize().unwrap().join("repo");
    demo_repo(&repo);
    let keys = fixtures().join("keys");
    let rev = RevSpec::new(&repo, "HEAD").subdir("models/demo");

    let signer = msign::sign::signer_from_files(&keys.join("demo-p256.pem"), None, None).unwrap();
    let signed = sign_revision(
        &rev,
        HashingConfig::new(),
        signer,
        StoreKind::Notes,
        None,
        &NoProgress,
    )
    .unwrap();
    assert_eq!(signed.status, "signed");
    assert_eq!(signed.files, 4);
    assert_eq!(signed.model_name, "demo");
    assert_eq!(signed.path, "models/demo");
    assert!(signed.describe().ends_with(":models/demo"));

    let found = find_signature(&rev, None).unwrap();
    assert_eq!(found.kind, "note");

    let config = VerifyingConfig::use_elliptic_key_verifier(&keys.join("demo-p256.pub")).unwrap();
    let verified = verify_revision(&rev, config, None, false, &NoProgress).unwrap();
    assert_eq!(verified.digest, signed.digest);
    assert_eq!(verified.signature_kind, "note");

    // The CLI renders the same report: its --json is the report, field for field.
    let out = run_ok(
        git_model_sign()
            .current_dir(&repo)
            .args([
                "verify",
                "key",
                "--path",
                "models/demo",
                "--json",
                "--public-key",
            ])
            .arg(keys.join("demo-p256.pub")),
    );
    let cli: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cli, serde_json::to_value(&verified).unwrap());
}

#[test]
fn hook_install_writes_the_shipped_script() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    demo_repo(&repo);
    let path = msign::hook::install(&repo, Some(msign::hook::HookMode::Sign), false).unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        msign::hook::PRE_PUSH_SCRIPT
    );
    let out = Command::new("git")
        .current_dir(&repo)
        .args(["config", "msign.mode"])
        .output()
        .unwrap();
    assert_eq!(stdout(&out).trim(), "sign");
}
