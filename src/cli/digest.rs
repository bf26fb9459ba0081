//! `msign digest MODEL`: the model's digest and manifest, without signing.

use std::process::ExitCode;

use clap::Args;
use serde_json::json;

use crate::bundle::statement::manifest_json;
use crate::cli::args::ModelArgs;
use crate::cli::hash_args::HashArgs;
use crate::cli::progress::Bar;
use crate::cli::render::{report_error, warnings};
use crate::cli::Ctx;
use crate::error::Result;
use crate::workflow::{digest_model, Reuse};

/// Options of `digest`.
#[derive(Debug, Args)]
pub struct DigestArgs {
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    hash: HashArgs,
    /// Do not read or write the local digest cache ($XDG_CACHE_HOME/msign). By default, as
    /// when signing, files unchanged since they were last hashed are not hashed again.
    #[arg(long = "no-cache")]
    no_cache: bool,
}

/// Runs `digest`.
pub fn run(ctx: &Ctx, args: DigestArgs) -> ExitCode {
    match digest(ctx, &args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => report_error(ctx, &e, json!({"model": args.model.model_path})),
    }
}

fn digest(ctx: &Ctx, args: &DigestArgs) -> Result<()> {
    let reuse = Reuse {
        from: None,
        no_cache: args.no_cache,
    };
    let hashing = reuse.apply(args.hash.hashing()?, None)?;
    let bar = Bar::new("hashing", !ctx.text());
    let hashed = digest_model(&args.model.checked_spec()?, hashing, &bar)?;
    warnings(ctx, &hashed.warnings);
    if hashed.reused_files > 0 && !ctx.quiet {
        eprintln!(
            "{} file(s) unchanged since cached: not re-hashed (--no-cache to hash all)",
            hashed.reused_files
        );
    }
    if ctx.json {
        // The size lets `sign --from-manifest` say how much it signs.
        let mut v = manifest_json(&hashed.manifest);
        v["bytes"] = hashed.bytes.into();
        println!("{}", serde_json::to_string_pretty(&v).expect("json"));
    } else {
        println!(
            "sha256:{}  {}",
            hex::encode(hashed.manifest.root_digest()),
            args.model.model_path.display()
        );
    }
    Ok(())
}
