//! `msign hub download ORG/NAME`: the signature verified first, then every byte of the
//! files it names checked as it arrives.

use std::path::PathBuf;

use clap::Args;

use crate::cli::hub_args::{RepoArgs, SignatureInRepo, VerifierArgs};
use crate::cli::progress::DownloadBars;
use crate::cli::render::{report, warnings};
use crate::cli::Ctx;
use crate::error::Result;
use crate::hub::select::Selection;
use crate::hub::{self, HubConfig, HubModel, HubOverrides};

/// `msign hub download`.
#[derive(Debug, Args, Clone)]
pub struct HubDownloadArgs {
    #[command(flatten)]
    pub repo: RepoArgs,
    #[command(flatten)]
    signature: SignatureInRepo,
    #[command(flatten)]
    verifier: VerifierArgs,
    /// Download into this folder instead of the Hugging Face cache.
    #[arg(long = "local-dir", value_name = "DIR")]
    local_dir: Option<PathBuf>,
    /// Download only the files matching this shell pattern (repeatable), as
    /// `huggingface-cli download --include`: `*` also matches `/`, a pattern ending in `/`
    /// takes the folder. The signature still covers every file; the others are reported
    /// as not downloaded.
    #[arg(long, value_name = "GLOB")]
    include: Vec<String>,
    /// Do not download the files matching this shell pattern (repeatable).
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
    /// Hub access token (instead of HF_TOKEN or the token file).
    #[arg(long, value_name = "TOKEN")]
    token: Option<String>,
    /// The Hugging Face cache to download into (instead of HF_HUB_CACHE or $HF_HOME/hub).
    #[arg(long = "cache-dir", value_name = "DIR", conflicts_with = "local_dir")]
    cache_dir: Option<PathBuf>,
}

/// Runs `hub download`.
pub fn download(ctx: &Ctx, a: &HubDownloadArgs) -> Result<serde_json::Value> {
    let config = HubConfig::from_env_with(HubOverrides {
        token: a.token.clone(),
        cache_dir: a.cache_dir.clone(),
        ..Default::default()
    })?;
    let model = HubModel::new(
        config,
        &a.repo.repo,
        &a.repo.revision,
        &a.signature.signature,
    )?;
    let bars = DownloadBars::new(!ctx.text());
    let selection = Selection::new(&a.include, &a.exclude);
    let r = hub::download(
        &model,
        a.verifier.spec()?.build()?,
        a.local_dir.as_deref(),
        &selection,
        &bars,
    )?;
    warnings(ctx, &r.warnings);
    report(ctx, &r)
}
