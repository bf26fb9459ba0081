//! `git model-sign`: sign and verify what a git revision holds.
//!
//! ```text
//! git model-sign sign key [REV] --private-key KEY [--git-path SUBDIR] [--store file|commit|notes]
//! git model-sign verify key [REV] --public-key KEY [--git-path SUBDIR]
//! git model-sign hook install [--mode verify|sign]
//! ```
//!
//! The method word may be left out: the flags imply it (`sign --private-key K` is
//! `sign key`).

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde_json::json;

use crate::cli::git_args::{GitSignMethod, GitVerifyMethod};
use crate::cli::hook::HookCommand;
use crate::cli::progress::Bar;
use crate::cli::render::{conclude, ignore_rules, report, warnings};
use crate::cli::Ctx;
use crate::error::Result;
use crate::git::{sign_revision, verify_revision};
use crate::verify::VerifierSpec;

/// Sign and verify models in git revisions, Git LFS pointers included.
#[derive(Debug, Parser)]
#[command(
    name = "git-model-sign",
    bin_name = "git model-sign",
    version = crate::cli::version::SHORT,
    long_version = crate::cli::version::LONG,
    max_term_width = 100,
    after_help = "Exit status: 0 success, 1 verification failed (a signature was found and does not verify, or the model differs), 2 usage error, 3 other failure (no signature found included)."
)]
pub struct GitCli {
    /// Print results as JSON on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    /// No progress, no warnings; errors only.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: GitCommand,
}

/// Subcommands of `git model-sign`.
#[derive(Debug, Subcommand)]
pub enum GitCommand {
    /// Sign the model at a revision (default HEAD).
    #[command(subcommand)]
    Sign(GitSignMethod),
    /// Verify the model at a revision: every signature found (model.sig in its tree, its
    /// note, model.sig in the work tree) is tried; one that verifies is enough.
    #[command(subcommand)]
    Verify(GitVerifyMethod),
    /// The pre-push hook: install it, or run it.
    #[command(subcommand)]
    Hook(HookCommand),
}

fn run_sign(ctx: &Ctx, m: GitSignMethod) -> Result<serde_json::Value> {
    let (common, signer) = m.parts();
    let r = sign_revision(
        &common.target.spec(),
        common.hash.hashing()?,
        signer.spec().build()?,
        common.store,
        common.signature.as_deref(),
        &Bar::new("hashing", !ctx.text()),
    )?;
    ignore_rules(ctx, &r.ignore_rules);
    warnings(ctx, &r.warnings);
    report(ctx, &r)
}

fn run_verify(ctx: &Ctx, m: GitVerifyMethod) -> Result<serde_json::Value> {
    let (common, spec) = match &m {
        GitVerifyMethod::Key { common, public_key } => {
            (common, VerifierSpec::Key(public_key.clone()))
        }
        GitVerifyMethod::Certificate { common, roots } => (common, roots.spec(false)),
    };
    let r = verify_revision(
        &common.target.spec(),
        spec.build()?,
        common.signature.as_deref(),
        common.ignore_unsigned_files,
        &Bar::new("verifying", !ctx.text()),
    )?;
    warnings(ctx, &r.warnings);
    for x in &r.rejected {
        ctx.warn(&x.to_string());
    }
    report(ctx, &r)
}

/// Parses arguments and runs `git model-sign`.
pub fn main_with_args(args: Vec<OsString>) -> ExitCode {
    let json_asked = crate::cli::render::json_asked(&args);
    let cli = match GitCli::try_parse_from(crate::cli::implied::git(args)) {
        Ok(c) => c,
        Err(e) => return crate::cli::render::usage_error(&e, json_asked),
    };
    let ctx = Ctx {
        json: cli.json,
        quiet: cli.quiet,
    };
    let (result, target) = match cli.command {
        GitCommand::Sign(m) => {
            let t = m.target().clone();
            (run_sign(&ctx, m), t)
        }
        GitCommand::Verify(m) => {
            let t = m.target().clone();
            (run_verify(&ctx, m), t)
        }
        GitCommand::Hook(h) => return crate::cli::hook::run(&ctx, h),
    };
    // A failure names the revision and, when it resolves, its commit, as success does.
    let extra = if ctx.json && result.is_err() {
        let spec = target.spec();
        json!({
            "model": spec.model_path(),
            "revision": spec.rev,
            "commit": spec.commit_id(),
        })
    } else {
        json!({})
    };
    conclude(&ctx, result, extra)
}
