//! `msign manifest merge A.json B.json ...`: one manifest from the parts of a model hashed
//! on several machines, ready for `msign sign --from-manifest`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::json;

use crate::cli::render::{report_error, report_json};
use crate::cli::Ctx;
use crate::error::Result;
use crate::workflow::merge_manifest_files;

/// Manifest operations.
#[derive(Debug, Subcommand)]
pub enum ManifestCommand {
    /// Merge manifests of disjoint parts of one model (same serialization).
    Merge(MergeArgs),
}

/// Options of `manifest merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Manifests written by `msign digest --json`.
    #[arg(required = true, num_args = 1.., value_name = "MANIFEST_JSON")]
    inputs: Vec<PathBuf>,
    /// Write the merged manifest here (atomically) instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// The model name to record; needed when the manifests name different models.
    #[arg(long = "model-name", value_name = "NAME")]
    model_name: Option<String>,
}

/// Runs `manifest`.
pub fn run(ctx: &Ctx, cmd: ManifestCommand) -> ExitCode {
    match cmd {
        ManifestCommand::Merge(a) => match merge(ctx, &a) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => report_error(ctx, &e, json!({"inputs": a.inputs, "output": a.output})),
        },
    }
}

/// Without `--output` the merged manifest on stdout is the result, `--json` or not (it is
/// JSON, the shape `msign digest --json` prints); with it, `--json` reports what was written.
fn merge(ctx: &Ctx, a: &MergeArgs) -> Result<()> {
    let r = merge_manifest_files(&a.inputs, a.model_name.clone(), a.output.as_deref())?;
    match &a.output {
        None => print!("{}", r.manifest_json),
        Some(_) if ctx.json => println!("{}", report_json(&r)?),
        Some(_) => {}
    }
    Ok(())
}
