//! `msign verify METHOD MODEL --signature SIG`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::json;

use crate::cli::args::ModelArgs;
use crate::cli::key_args::{PublicKeyArgs, RootsArgs};
use crate::cli::progress::Bar;
use crate::cli::render::{conclude, report, warnings};
use crate::cli::sigstore_args::{SigstoreIdentityArgs, SigstoreTrustArgs};
use crate::cli::Ctx;
use crate::error::Result;
use crate::verify::VerifierSpec;
use crate::workflow::{verify_with_spec, VerifyRequest};

/// Options of every verification method.
#[derive(Debug, Args, Clone)]
pub struct VerifyCommon {
    #[command(flatten)]
    model: ModelArgs,

    /// The signature to verify (the default is where `sign` writes it; with `--hub-cache`,
    /// a relative path is taken inside the snapshot).
    #[arg(long, value_name = "SIGNATURE_PATH", default_value = "model.sig")]
    signature: PathBuf,

    /// Only check the files the signature names; other files in the model are fine.
    #[arg(
        long = "ignore-unsigned-files",
        alias = "ignore_unsigned_files",
        overrides_with = "no_ignore_unsigned_files"
    )]
    ignore_unsigned_files: bool,

    /// Every file in the model must be signed (default).
    #[arg(
        long = "no-ignore-unsigned-files",
        alias = "no-ignore_unsigned_files",
        alias = "no_ignore_unsigned_files"
    )]
    no_ignore_unsigned_files: bool,

    /// Skip re-hashing files whose entry in the local digest cache ($XDG_CACHE_HOME/msign)
    /// matches their device, inode, size and times; hashed files are recorded there.
    #[arg(long)]
    cache: bool,
}

/// Verification methods.
#[derive(Debug, Subcommand)]
pub enum VerifyMethod {
    /// Verify a signature made with an EC key.
    Key {
        #[command(flatten)]
        common: VerifyCommon,
        #[command(flatten)]
        key: PublicKeyArgs,
    },
    /// Verify a signature made with a certificate chain.
    Certificate {
        #[command(flatten)]
        common: VerifyCommon,
        #[command(flatten)]
        roots: RootsArgs,
        /// Print the SHA-256 fingerprints of the certificates involved.
        #[arg(long = "log-fingerprints", alias = "log_fingerprints")]
        log_fingerprints: bool,
        /// Refuse a signing certificate that has expired (by default it verifies, as in
        /// model_signing, with a warning naming the expiry date).
        #[arg(long = "reject-expired")]
        reject_expired: bool,
    },
    /// Verify a Sigstore signature against an identity and its OIDC issuer.
    Sigstore {
        #[command(flatten)]
        common: VerifyCommon,
        #[command(flatten)]
        signer: SigstoreIdentityArgs,
        #[command(flatten)]
        trust: SigstoreTrustArgs,
    },
}

impl VerifyMethod {
    fn common(&self) -> &VerifyCommon {
        match self {
            VerifyMethod::Key { common, .. }
            | VerifyMethod::Certificate { common, .. }
            | VerifyMethod::Sigstore { common, .. } => common,
        }
    }

    fn spec(&self) -> VerifierSpec {
        match self {
            VerifyMethod::Key { key, .. } => key.spec(),
            VerifyMethod::Certificate {
                roots,
                reject_expired,
                ..
            } => roots.spec(*reject_expired),
            VerifyMethod::Sigstore { signer, trust, .. } => signer.spec(trust),
        }
    }
}

/// Runs `verify`.
pub fn run(ctx: &Ctx, method: VerifyMethod) -> ExitCode {
    let common = method.common().clone();
    let extra = json!({"model": common.model.model_path, "signature": common.signature});
    conclude(ctx, verify(ctx, &method, &common), extra)
}

fn verify(ctx: &Ctx, method: &VerifyMethod, common: &VerifyCommon) -> Result<serde_json::Value> {
    let req = VerifyRequest {
        model: common.model.spec(),
        signature: common.signature.clone(),
        ignore_unsigned_files: common.ignore_unsigned_files && !common.no_ignore_unsigned_files,
        digest_cache: common.cache,
        hub_cache: common.model.hub_cache,
        log_fingerprints: matches!(
            method,
            VerifyMethod::Certificate {
                log_fingerprints: true,
                ..
            }
        ),
    };
    let r = verify_with_spec(&req, &method.spec(), &Bar::for_command("verifying", ctx))?;
    warnings(ctx, &r.warnings);
    report(ctx, &r)
}
