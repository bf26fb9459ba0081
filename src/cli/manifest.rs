//! `msign manifest merge A.json B.json ...`: one manifest from the parts of a model hashed
//! on several machines, ready for `msign sign --from-manifest`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::json;

use crate::bundle::statement::manifest_json;
use crate::cli::render::report_error;
use crate::cli::Ctx;
use crate::error::Result;
use crate::store::file::write_atomic;

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
    let merged = crate::manifest_json::merge(
        a.inputs
            .iter()
            .map(|p| crate::workflow::read_manifest_file(p))
            .collect::<Result<_>>()?,
        a.model_name.clone(),
    )?;
    let text = serde_json::to_string_pretty(&manifest_json(&merged)).expect("json") + "\n";
    match &a.output {
        Some(p) => {
            write_atomic(p, text.as_bytes())?;
            if ctx.json {
                let v = json!({
                    "status": "merged",
                    "output": p,
                    "model_name": merged.model_name,
                    "files": merged.file_count(),
                    "resources": merged.resources.len(),
                    "digest": format!("sha256:{}", hex::encode(merged.root_digest())),
                    "inputs": a.inputs,
                });
                println!("{v}");
            }
            Ok(())
        }
        None => {
            print!("{text}");
            Ok(())
        }
    }
}
