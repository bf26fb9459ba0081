//! `msign sigstore verify-bundle|update-trust-root`: Sigstore tools that are not about
//! models; the work is [`crate::sigstore::verify_bundle`] and
//! [`crate::sigstore::update_trust_root`].

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::json;

use crate::cli::render::{conclude, report};
use crate::cli::sigstore_args::TufArgs;
use crate::cli::Ctx;
use crate::error::Result;
use crate::sigstore::{BundleRequest, Expected, Instance, TufSource};

/// Sigstore tools.
#[derive(Debug, Subcommand)]
pub enum SigstoreCommand {
    /// Verify any Sigstore bundle for a file or a digest (the conformance-test command form).
    VerifyBundle(VerifyBundleArgs),
    /// Refresh Sigstore's trusted root over TUF and report what was verified.
    UpdateTrustRoot(UpdateTrustRootArgs),
}

/// `msign sigstore update-trust-root`.
#[derive(Debug, Args)]
pub struct UpdateTrustRootArgs {
    /// Use Sigstore's staging TUF repository.
    #[arg(long = "use-staging", alias = "use_staging")]
    use_staging: bool,
    /// The TUF repository (default: Sigstore's public-good or staging one).
    #[arg(long = "tuf-url", alias = "tuf_url", value_name = "URL")]
    tuf_url: Option<String>,
    /// The initial root.json of a repository that is not public-good or staging.
    #[arg(long = "tuf-root", alias = "tuf_root", value_name = "FILE")]
    tuf_root: Option<PathBuf>,
    /// Write the verified trusted_root.json here.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    net: crate::cli::net_args::NetArgs,
}

/// `msign sigstore verify-bundle`.
#[derive(Debug, Args)]
pub struct VerifyBundleArgs {
    /// The bundle (JSON).
    #[arg(long)]
    bundle: PathBuf,
    /// A managed public key (PEM) instead of a certificate identity.
    #[arg(long, conflicts_with_all = ["certificate_identity", "certificate_oidc_issuer"])]
    key: Option<PathBuf>,
    /// Expected identity (SAN) of the signing certificate.
    #[arg(long = "certificate-identity", requires = "certificate_oidc_issuer")]
    certificate_identity: Option<String>,
    /// Expected OIDC issuer of the signing certificate.
    #[arg(long = "certificate-oidc-issuer", requires = "certificate_identity")]
    certificate_oidc_issuer: Option<String>,
    /// A trusted_root.json (or ClientTrustConfig); the embedded public-good root otherwise.
    #[arg(long = "trusted-root", conflicts_with = "update_trust_root")]
    trusted_root: Option<PathBuf>,
    /// Use the embedded staging root (or, with --update-trust-root, staging's TUF repository).
    #[arg(long = "staging", visible_alias = "use-staging", alias = "use_staging")]
    staging: bool,
    #[command(flatten)]
    tuf: TufArgs,
    /// The artifact: a path, or `sha256:<hex>`.
    file_or_digest: String,
}

/// Runs `msign sigstore ...`.
pub fn run(ctx: &Ctx, cmd: SigstoreCommand) -> ExitCode {
    match cmd {
        SigstoreCommand::VerifyBundle(a) => {
            let extra = json!({
                "signature": a.bundle,
                "bundle": a.bundle,
                "artifact": a.file_or_digest
            });
            conclude(ctx, verify_bundle(ctx, &a), extra)
        }
        SigstoreCommand::UpdateTrustRoot(a) => {
            let extra = json!({"output": a.output});
            conclude(ctx, update_trust_root(ctx, &a), extra)
        }
    }
}

fn verify_bundle(ctx: &Ctx, a: &VerifyBundleArgs) -> Result<serde_json::Value> {
    let r = crate::sigstore::verify_bundle(&BundleRequest {
        bundle: a.bundle.clone(),
        artifact: a.file_or_digest.clone(),
        expected: Expected::choose(
            a.key.clone(),
            a.certificate_identity.clone(),
            a.certificate_oidc_issuer.clone(),
        )?,
        instance: Instance {
            use_staging: a.staging,
            trusted_root: a.trusted_root.clone(),
            tuf: a.tuf.source(),
            ..Default::default()
        },
    })?;
    report(ctx, &r)
}

fn update_trust_root(ctx: &Ctx, a: &UpdateTrustRootArgs) -> Result<serde_json::Value> {
    let source = TufSource {
        url: a.tuf_url.clone(),
        root: a.tuf_root.clone(),
    };
    let u = crate::sigstore::update_trust_root(&source, a.use_staging, a.output.as_deref())?;
    report(ctx, &u)
}
