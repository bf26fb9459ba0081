//! Sign what a git revision holds into a git note on its commit, then verify it from the
//! note: what `git model-sign sign key REV --store notes` and `git model-sign verify key REV`
//! do, as two library calls.
//!
//! ```sh
//! cargo run --example sign_git_revision_note -- REPO PRIVATE_KEY.pem PUBLIC_KEY.pem [REV [SUBDIR]]
//! ```
//!
//! The note goes under `refs/notes/model-signing`; publish it with
//! `git push origin refs/notes/model-signing`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use msign::git::{sign_revision, verify_revision, RevSpec, StoreKind};
use msign::{HashingConfig, NoProgress, VerifyingConfig};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !(3..=5).contains(&args.len()) {
        eprintln!(
            "usage: sign_git_revision_note REPO PRIVATE_KEY.pem PUBLIC_KEY.pem [REV [SUBDIR]]"
        );
        return ExitCode::from(2);
    }
    let rev = RevSpec::new(&args[0], args.get(3).map_or("HEAD", String::as_str))
        .subdir(args.get(4).map_or("", String::as_str));
    match run(&rev, &PathBuf::from(&args[1]), &PathBuf::from(&args[2])) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(rev: &RevSpec, private_key: &Path, public_key: &Path) -> msign::Result<()> {
    let signer = msign::sign::signer_from_files(private_key, None, None)?;
    let signed = sign_revision(
        rev,
        HashingConfig::new(),
        signer,
        StoreKind::Notes,
        None,
        &NoProgress,
    )?;
    println!(
        "signed {} file(s) of {} -> {}",
        signed.files,
        signed.describe(),
        signed.signature
    );
    let config = VerifyingConfig::use_elliptic_key_verifier(public_key)?;
    let verified = verify_revision(rev, config, None, false, &NoProgress)?;
    println!(
        "verified {} ({}) from the {}",
        verified.describe(),
        verified.signer,
        verified.signature_kind
    );
    // The report is what `git model-sign --json` prints.
    println!(
        "{}",
        serde_json::to_string(&verified).expect("a report serializes")
    );
    Ok(())
}
