//! `git model-sign`: sign and verify what a git revision holds.
//!
//! ```text
//! git model-sign sign key [REV] --private-key KEY [--path SUBDIR] [--store file|commit|notes]
//! git model-sign verify key [REV] --public-key KEY [--path SUBDIR]
//! git model-sign hook install [--mode verify|sign]
//! ```
//!
//! The method word may be left out: the flags imply it (`sign --private-key K` is
//! `sign key`).

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use serde_json::json;

use indicatif::HumanBytes;

use crate::cli::args::{CertificateArgs, HashArgs, PrivateKeyArgs};
use crate::cli::hook::HookCommand;
use crate::cli::progress::Bar;
use crate::cli::{conclude, report_json, Ctx};
use crate::error::Result;
use crate::git::{sign_revision, verify_revision, RevSpec, StoreKind};
use crate::verify::{CertificateVerifier, KeyVerifier, VerifyingConfig};

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

/// Which revision, which folder.
#[derive(Debug, Args, Clone)]
pub struct Target {
    /// The revision (commit, branch, tag).
    #[arg(value_name = "REV", default_value = "HEAD")]
    pub rev: String,
    /// The model folder inside the repository, from its top (default: the whole
    /// repository). The folder you run from does not matter, as for `msign --git-rev`
    /// without MODEL_PATH.
    #[arg(
        long,
        value_name = "SUBDIR",
        default_value = "",
        hide_default_value = true
    )]
    pub path: String,
    /// The repository, or a folder in it.
    #[arg(short = 'C', long = "git-dir", value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
    /// Follow symbolic links (tree entries) that stay inside the model.
    #[arg(long = "allow-symlinks")]
    pub allow_symlinks: bool,
    /// Include `.gitattributes`, `.gitignore`, `.github` in the signature.
    #[arg(long = "no-ignore-git-paths")]
    pub no_ignore_git_paths: bool,
}

impl Target {
    fn spec(&self) -> RevSpec {
        RevSpec {
            allow_symlinks: self.allow_symlinks,
            ignore_git_paths: !self.no_ignore_git_paths,
            ..RevSpec::new(&self.repo, &self.rev).subdir(&self.path)
        }
    }
}

/// Options of every signing method.
#[derive(Debug, Args, Clone)]
pub struct GitSignCommon {
    #[command(flatten)]
    target: Target,
    #[command(flatten)]
    hash: HashArgs,
    /// Where the signature goes: `file` (default) writes `model.sig` in the model folder
    /// of the work tree, not committed, where `verify` also looks; `notes` and `commit`
    /// keep it in git, so it travels with a push.
    #[arg(long, value_enum, default_value = "file")]
    store: StoreKind,
    /// The signature file: a path for `--store file` (default `model.sig` in the model
    /// folder of the work tree), a name in the model folder for `--store commit`
    /// (default `model.sig`).
    #[arg(long, value_name = "PATH")]
    signature: Option<PathBuf>,
}

/// Signing methods.
#[derive(Debug, Subcommand)]
pub enum GitSignMethod {
    /// Sign with an EC private key.
    Key {
        #[command(flatten)]
        common: GitSignCommon,
        #[command(flatten)]
        key: PrivateKeyArgs,
    },
    /// Sign with a private key and its certificate chain.
    Certificate {
        #[command(flatten)]
        common: GitSignCommon,
        #[command(flatten)]
        key: PrivateKeyArgs,
        #[command(flatten)]
        cert: CertificateArgs,
    },
}

/// Options of every verification method.
#[derive(Debug, Args, Clone)]
pub struct GitVerifyCommon {
    #[command(flatten)]
    target: Target,
    /// A signature file to use instead of looking in the revision's tree, its note and the
    /// work tree (by default every signature found there is tried, and one that verifies
    /// is enough).
    #[arg(long, value_name = "PATH")]
    signature: Option<PathBuf>,
    /// Only check the files the signature names.
    #[arg(long = "ignore-unsigned-files")]
    ignore_unsigned_files: bool,
}

/// Verification methods.
#[derive(Debug, Subcommand)]
pub enum GitVerifyMethod {
    /// Verify a signature made with an EC key.
    Key {
        #[command(flatten)]
        common: GitVerifyCommon,
        /// The public key (PEM).
        #[arg(long = "public-key", alias = "public_key", value_name = "PUBLIC_KEY")]
        public_key: PathBuf,
    },
    /// Verify a signature made with a certificate chain.
    Certificate {
        #[command(flatten)]
        common: GitVerifyCommon,
        /// Trusted root certificate(s) (PEM, repeatable); the system's roots when absent.
        #[arg(
            long = "certificate-chain",
            alias = "certificate_chain",
            value_name = "CERTIFICATE_PATH"
        )]
        certificate_chain: Vec<PathBuf>,
    },
}

impl GitSignMethod {
    fn target(&self) -> &Target {
        match self {
            GitSignMethod::Key { common, .. } | GitSignMethod::Certificate { common, .. } => {
                &common.target
            }
        }
    }
}

impl GitVerifyMethod {
    fn target(&self) -> &Target {
        match self {
            GitVerifyMethod::Key { common, .. } | GitVerifyMethod::Certificate { common, .. } => {
                &common.target
            }
        }
    }
}

fn run_sign(ctx: &Ctx, m: GitSignMethod) -> Result<serde_json::Value> {
    let (common, signer) = match &m {
        GitSignMethod::Key { common, key } => (common, key.signer(None)?),
        GitSignMethod::Certificate { common, key, cert } => (common, key.signer(Some(cert))?),
    };
    let r = sign_revision(
        &common.target.spec(),
        common.hash.hashing()?,
        signer,
        common.store,
        common.signature.as_deref(),
        &Bar::new("hashing", ctx.quiet || ctx.json),
    )?;
    crate::cli::sign::report_ignore_rules(ctx, &r.ignore_rules);
    for w in &r.warnings {
        ctx.warn(w);
    }
    if !ctx.json && !ctx.quiet {
        println!(
            "Signing succeeded: {} file(s) ({}) of '{}' at {} signed with {} -> {}",
            r.files,
            HumanBytes(r.bytes),
            r.model_name,
            r.describe(),
            r.method,
            r.signature,
        );
    }
    report_json(&r)
}

fn run_verify(ctx: &Ctx, m: GitVerifyMethod) -> Result<serde_json::Value> {
    let (common, config) = match &m {
        GitVerifyMethod::Key { common, public_key } => (
            common,
            VerifyingConfig::new(Box::new(KeyVerifier::from_pem_file(public_key)?)),
        ),
        GitVerifyMethod::Certificate {
            common,
            certificate_chain,
        } => (
            common,
            VerifyingConfig::new(Box::new(CertificateVerifier::from_root_files(
                certificate_chain,
            )?)),
        ),
    };
    let r = verify_revision(
        &common.target.spec(),
        config,
        common.signature.as_deref(),
        common.ignore_unsigned_files,
        &Bar::new("verifying", ctx.quiet || ctx.json),
    )?;
    for w in &r.warnings {
        ctx.warn(w);
    }
    for x in &r.rejected {
        ctx.warn(&format!(
            "also found {}, which does not verify: {}",
            x.signature,
            x.reason.trim_end().replace('\n', "\n  ")
        ));
    }
    if !ctx.json && !ctx.quiet {
        println!(
            "Verification succeeded: {} file(s) ({}) of {} match the signature by {} (signature: {})",
            r.files,
            HumanBytes(r.bytes),
            r.describe(),
            r.signer,
            r.signature
        );
    }
    report_json(&r)
}

/// Lets the method be implied by its flags: `git model-sign sign --private-key K` is
/// `sign key`, and with `--signing-certificate` it is `sign certificate`.
pub fn with_implied_method(mut args: Vec<OsString>) -> Vec<OsString> {
    let is = |a: &OsString, names: &[&str]| names.contains(&a.to_str().unwrap_or(""));
    let Some(i) = args
        .iter()
        .position(|a| is(a, &["sign", "verify", "hook", "help"]))
        .filter(|&i| is(&args[i], &["sign", "verify"]))
    else {
        return args;
    };
    let next_is_method = args
        .get(i + 1)
        .is_some_and(|a| is(a, &["key", "certificate", "help", "-h", "--help"]));
    if next_is_method || args.len() == i + 1 {
        return args;
    }
    let has = |names: &[&str]| args.iter().any(|a| is(a, names));
    let certificate = if args[i] == "sign" {
        has(&["--signing-certificate", "--signing_certificate"])
    } else {
        has(&["--certificate-chain", "--certificate_chain"])
            && !has(&["--public-key", "--public_key"])
    };
    args.insert(
        i + 1,
        OsString::from(if certificate { "certificate" } else { "key" }),
    );
    args
}

/// Parses arguments and runs `git model-sign`.
pub fn main_with_args(args: Vec<OsString>) -> ExitCode {
    let json_asked = crate::cli::json_asked(&args);
    let cli = match GitCli::try_parse_from(with_implied_method(args)) {
        Ok(c) => c,
        Err(e) => return crate::cli::usage_error(&e, json_asked),
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
