//! `msign hub verify|download|sign ORG/NAME`: models on the Hugging Face Hub.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::json;

use crate::cli::hub_args::{RepoArgs, SignatureInRepo, SignerArgs, VerifierArgs};
use crate::cli::hub_download;
use crate::cli::render::{self, conclude_hinted, report_json, warnings};
use crate::cli::Ctx;
use crate::error::{Error, Result};
use crate::hub::{self, HubConfig, HubModel, HubSignRequest};
use crate::NoProgress;

/// Hub subcommands.
#[derive(Debug, Subcommand)]
pub enum HubCommand {
    /// Check a model on the Hub against its signature, from the Hub's metadata: LFS files
    /// by the SHA-256 the Hub lists, without downloading them.
    Verify(HubVerifyArgs),
    /// Verify the signature, then download the model, checking every byte as it arrives.
    Download(hub_download::HubDownloadArgs),
    /// Sign a model on the Hub from its metadata; optionally commit the signature to it.
    Sign(HubSignArgs),
}

/// `msign hub verify`.
#[derive(Debug, Args, Clone)]
pub struct HubVerifyArgs {
    #[command(flatten)]
    repo: RepoArgs,
    #[command(flatten)]
    signature: SignatureInRepo,
    #[command(flatten)]
    verifier: VerifierArgs,
}

/// `msign hub sign`.
#[derive(Debug, Args, Clone)]
pub struct HubSignArgs {
    #[command(flatten)]
    repo: RepoArgs,
    /// Path of the signature inside the repository (left out of the signed files).
    #[arg(long, default_value = "model.sig", value_name = "PATH_IN_REPO")]
    signature: String,
    /// Where to write the signature locally.
    #[arg(long, default_value = "model.sig", value_name = "FILE")]
    output: PathBuf,
    #[command(flatten)]
    signer: SignerArgs,
    /// Commit the signature to the repository (needs HF_TOKEN with write access).
    #[arg(long)]
    upload: bool,
}

/// Runs a `hub` subcommand.
pub fn run(ctx: &Ctx, cmd: HubCommand) -> ExitCode {
    let (result, repo) = match &cmd {
        HubCommand::Verify(a) => (verify(ctx, a), a.repo.repo.clone()),
        HubCommand::Download(a) => (hub_download::download(ctx, a), a.repo.repo.clone()),
        HubCommand::Sign(a) => (sign(ctx, a), a.repo.repo.clone()),
    };
    conclude_hinted(ctx, result, json!({"model": repo, "repo": repo}), hint)
}

/// The common hints, but naming only what the hub commands take: they have no
/// `--ignore-paths`, the signature says which files it leaves out.
fn hint(e: &Error) -> Option<&'static str> {
    match e {
        Error::ModelMismatch(_) => Some("the repository changed after it was signed, or the signature is of another revision: check --revision (a commit id pins one), or sign it again with `msign hub sign`"),
        _ => e.hint(),
    }
}

fn model(repo: &RepoArgs, signature: &str) -> Result<HubModel> {
    HubModel::new(
        HubConfig::from_env()?,
        &repo.repo,
        &repo.revision,
        signature,
    )
}

fn verify(ctx: &Ctx, a: &HubVerifyArgs) -> Result<serde_json::Value> {
    let model = model(&a.repo, &a.signature.signature)?;
    let report = hub::verify(&model, a.verifier.spec()?.build()?, &NoProgress)?;
    warnings(ctx, report.warnings());
    render::report(ctx, &report)
}

fn sign(ctx: &Ctx, a: &HubSignArgs) -> Result<serde_json::Value> {
    let req = HubSignRequest::new(model(&a.repo, &a.signature)?, a.output.clone(), a.upload)?;
    let r = hub::sign_and_upload(&req, a.signer.spec()?, ctx)?;
    if let (Some(up), true) = (&r.uploaded, ctx.text()) {
        println!("{}", up.summary(&r));
    }
    report_json(&r)
}
