//! `msign digest MODEL`: the model's digest and manifest, without signing.

use std::process::ExitCode;

use clap::Args;
use serde_json::json;

use crate::bundle::statement::manifest_json;
use crate::cli::args::{HashArgs, ModelArgs};
use crate::cli::progress::Bar;
use crate::cli::{report_error, Ctx};
use crate::error::Result;

/// Options of `digest`.
#[derive(Debug, Args)]
pub struct DigestArgs {
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    hash: HashArgs,
}

/// Runs `digest`.
pub fn run(ctx: &Ctx, args: DigestArgs) -> ExitCode {
    match digest(ctx, &args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => report_error(ctx, &e, json!({"model": args.model.model_path})),
    }
}

fn digest(ctx: &Ctx, args: &DigestArgs) -> Result<()> {
    let ignores = args.model.relative_ignores(&[])?;
    let hashing = args.hash.config(&args.model, &ignores)?;
    let source = args.model.source(args.model.allow_symlinks)?;
    let hashed =
        hashing.hash_with_progress(source.as_ref(), &Bar::new("hashing", ctx.quiet || ctx.json))?;
    for w in &hashed.warnings {
        ctx.warn(w);
    }
    if ctx.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&manifest_json(&hashed.manifest)).expect("json")
        );
    } else {
        println!(
            "sha256:{}  {}",
            hex::encode(hashed.manifest.root_digest()),
            args.model.model_path.display()
        );
    }
    Ok(())
}
