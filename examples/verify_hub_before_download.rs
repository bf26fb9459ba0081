//! Verify a model on the Hugging Face Hub against its signature before downloading it, from
//! the Hub's metadata alone (LFS files by the SHA-256 the Hub lists), then download it into
//! a folder, checking every byte as it arrives.
//!
//! ```sh
//! cargo run --example verify_hub_before_download -- ORG/NAME PUBLIC_KEY.pem DEST_DIR [REVISION]
//! ```
//!
//! The Hub is `HF_ENDPOINT` (default https://huggingface.co), the token `HF_TOKEN`, as for
//! the Hub's own clients. The signature is `model.sig` in the repository.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use msign::hub::download::NoDownloadProgress;
use msign::hub::{HubConfig, HubModel, HubVerification};
use msign::{NoProgress, VerifyingConfig};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (repo, key, dest, revision) = match &args[..] {
        [r, k, d] => (r, k, d, "main"),
        [r, k, d, rev] => (r, k, d, rev.as_str()),
        _ => {
            eprintln!(
                "usage: verify_hub_before_download ORG/NAME PUBLIC_KEY.pem DEST_DIR [REVISION]"
            );
            return ExitCode::from(2);
        }
    };
    match run(repo, revision, Path::new(key), &PathBuf::from(dest)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(repo: &str, revision: &str, key: &Path, dest: &Path) -> msign::Result<()> {
    let model = HubModel::new(HubConfig::from_env()?, repo, revision, "model.sig")?;
    let verifier = || VerifyingConfig::use_elliptic_key_verifier(key);
    // Nothing is downloaded unless the Hub's listing matches the signature.
    match msign::hub::verify(&model, verifier()?, &NoProgress)? {
        HubVerification::Online(v) => println!(
            "verified {} file(s), {} bytes of {}@{} signed by {}, from {} bytes fetched",
            v.files, v.bytes, v.repo, v.commit, v.signer, v.bytes_downloaded
        ),
        HubVerification::Offline(v) => println!(
            "verified {} file(s) of the cached snapshot {} (offline)",
            v.files,
            v.folder.unwrap_or_default().display()
        ),
    }
    let every_file = msign::hub::select::Selection::all();
    let got = msign::hub::download(
        &model,
        verifier()?,
        Some(dest),
        &every_file,
        &NoDownloadProgress,
    )?;
    println!(
        "downloaded {} file(s), {} bytes into {}",
        got.files,
        got.bytes,
        got.folder.display()
    );
    Ok(())
}
