//! Sign a model folder with an EC key, then verify it with the public key.
//!
//! ```sh
//! cargo run --example sign_and_verify_folder -- fixtures/demo-model \
//!     fixtures/keys/demo-p256.pem fixtures/keys/demo-p256.pub
//! ```
//!
//! The signature stays in memory here; `msign sign key` writes the same bytes to `model.sig`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use msign::{DirSource, HashingConfig, NoProgress, SigningConfig, VerifyingConfig};

fn main() -> ExitCode {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [model, private_key, public_key] = &args[..] else {
        eprintln!("usage: sign_and_verify_folder MODEL_DIR PRIVATE_KEY.pem PUBLIC_KEY.pem");
        return ExitCode::from(2);
    };
    match run(model, private_key, public_key) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(model: &Path, private_key: &Path, public_key: &Path) -> msign::Result<()> {
    let source = DirSource::new(model);
    let signed = SigningConfig::new()
        .set_hashing_config(HashingConfig::new())
        .use_elliptic_key_signer(private_key, None)?
        .sign(&source, &NoProgress)?;
    let bundle = signed.bundle.to_json();
    println!(
        "signed {} file(s), {} bytes of '{}'",
        signed.hashed.manifest.file_count(),
        signed.hashed.bytes,
        signed.hashed.manifest.model_name
    );
    let verified = VerifyingConfig::use_elliptic_key_verifier(public_key)?.verify(
        &source,
        &bundle,
        &NoProgress,
    )?;
    println!(
        "verified {} file(s) signed by {}",
        verified.manifest.file_count(),
        verified.signer
    );
    Ok(())
}
