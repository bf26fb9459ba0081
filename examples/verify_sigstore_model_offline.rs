//! Verify a Sigstore-signed model offline: the signer's identity and its OIDC issuer are
//! checked against the Sigstore public-good trusted root embedded in msign, with no network.
//!
//! ```sh
//! cargo run --example verify_sigstore_model_offline -- \
//!     fixtures/model-transparency/v1.1.0-sigstore stefanb@us.ibm.com \
//!     https://sigstore.verify.ibm.com/oauth2 fixtures/model-transparency/v1.1.0-sigstore/ignore-me
//! ```
//!
//! Arguments: MODEL_DIR IDENTITY ISSUER [IGNORED_PATH...]; the signature is
//! `MODEL_DIR/model.sig`.

use std::path::PathBuf;
use std::process::ExitCode;

use msign::sigstore::TrustedRoot;
use msign::source::ModelSpec;
use msign::verify::sigstore::SigstoreVerifier;
use msign::workflow::{verify_model, VerifyRequest};
use msign::{NoProgress, VerifyingConfig};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [model, identity, issuer, ignored @ ..] = &args[..] else {
        eprintln!(
            "usage: verify_sigstore_model_offline MODEL_DIR IDENTITY ISSUER [IGNORED_PATH...]"
        );
        return ExitCode::from(2);
    };
    match run(model, identity, issuer, ignored) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(model: &str, identity: &str, issuer: &str, ignored: &[String]) -> msign::Result<()> {
    let trust = TrustedRoot::public_good()?;
    let verifier = VerifyingConfig::new(Box::new(SigstoreVerifier::new(trust, identity, issuer)));
    let mut spec = ModelSpec::new(model);
    spec.ignore_paths = ignored.iter().map(PathBuf::from).collect();
    let req = VerifyRequest::new(spec, PathBuf::from(model).join("model.sig"));
    let v = verify_model(&req, verifier, &NoProgress)?;
    println!(
        "verified {} file(s), {} bytes, signed by {} ({})",
        v.files, v.bytes, v.signer, v.digest
    );
    for w in &v.warnings {
        println!("warning: {w}");
    }
    Ok(())
}
