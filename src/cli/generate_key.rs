//! `msign generate-key`: a new EC key pair for `sign key` / `verify key`, like cosign's
//! `generate-key-pair` (`msign.pem` private, `msign.pub` public).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use serde_json::json;

use crate::cli::render::{conclude, report};
use crate::cli::Ctx;
use crate::error::Result;
use crate::sign::keygen::{create, Curve, KeyPairRequest};

/// The curve on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CurveArg {
    /// NIST P-256 (SHA-256).
    P256,
    /// NIST P-384 (SHA-384).
    P384,
    /// NIST P-521 (SHA-512).
    P521,
}

impl From<CurveArg> for Curve {
    fn from(c: CurveArg) -> Self {
        match c {
            CurveArg::P256 => Curve::P256,
            CurveArg::P384 => Curve::P384,
            CurveArg::P521 => Curve::P521,
        }
    }
}

/// Options of `generate-key`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  msign generate-key                      # msign.pem + msign.pub, P-256
  msign generate-key --curve p384 --output-prefix keys/release --encrypt
  msign sign key bert --private-key msign.pem
  msign verify key bert --signature model.sig --public-key msign.pub")]
pub struct GenerateKeyArgs {
    /// The curve.
    #[arg(long, value_enum, default_value = "p256")]
    curve: CurveArg,

    /// Writes PREFIX.pem (private key, mode 0600) and PREFIX.pub (public key).
    #[arg(long = "output-prefix", value_name = "PREFIX", default_value = "msign")]
    output_prefix: PathBuf,

    /// Encrypt the private key (PKCS#8, AES-256) with a password, typed twice on the
    /// terminal or read from --password-file.
    #[arg(long)]
    encrypt: bool,

    /// File holding the password for --encrypt (one line); implies --encrypt.
    #[arg(long = "password-file", value_name = "FILE")]
    password_file: Option<PathBuf>,

    /// Replace existing key files (the old private key is lost).
    #[arg(long)]
    force: bool,
}

/// Runs `generate-key`.
pub fn run(ctx: &Ctx, a: GenerateKeyArgs) -> ExitCode {
    let req = KeyPairRequest {
        curve: a.curve.into(),
        prefix: a.output_prefix,
        encrypt: a.encrypt,
        password_file: a.password_file,
        force: a.force,
    };
    let extra = json!({"private_key": req.private_key(), "public_key": req.public_key()});
    conclude(ctx, generate_key(ctx, &req), extra)
}

fn generate_key(ctx: &Ctx, req: &KeyPairRequest) -> Result<serde_json::Value> {
    report(ctx, &create(req)?)
}
