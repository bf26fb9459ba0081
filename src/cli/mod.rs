//! The `msign` command line: a thin layer over the library.
//!
//! Exit codes: 0 success; 1 verification failed (the model or signature is not what was
//! signed, or the signature is malformed); 2 usage error (bad flags, unusable key or
//! certificate files); 3 any other failure (I/O, network).

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod args;
pub mod completions;
pub mod digest;
pub mod docs;
pub mod generate_key;
pub mod git_args;
pub mod gitcmd;
pub mod hash_args;
pub mod hook;
pub mod hub;
pub mod hub_args;
pub mod hub_download;
pub mod implied;
pub mod key_args;
pub mod man;
pub mod manifest;
pub mod net_args;
pub mod oci;
pub mod oci_args;
pub mod oci_sign;
pub mod oci_verify;
pub mod progress;
pub mod render;
pub mod sign;
pub mod sigstore;
pub mod sigstore_args;
pub mod verify;
pub mod version;

/// Exit code: verification failed.
pub const EXIT_VERIFY_FAILED: u8 = 1;
/// Exit code: usage error.
pub const EXIT_USAGE: u8 = 2;

const AFTER_HELP: &str = "\
Exit status: 0 success, 1 verification failed, 2 usage error, 3 other failure (a
signature that cannot be found included).

Signatures are Sigstore bundles compatible with OpenSSF model_signing: every flag of its
CLI is accepted in both spellings (--private_key and --private-key).";

/// Sign and verify machine-learning models.
#[derive(Debug, Parser)]
#[command(
    name = "msign",
    version = version::SHORT,
    long_version = version::LONG,
    about,
    after_help = AFTER_HELP,
    max_term_width = 100
)]
pub struct Cli {
    /// Print results as JSON on stdout (stable schema for scripts).
    #[arg(long, global = true)]
    pub json: bool,

    /// No progress bars, no warnings; errors only.
    #[arg(long, short, global = true)]
    pub quiet: bool,

    /// Accepted for compatibility with model_signing; msign prints what matters.
    #[arg(long = "log-level", global = true, hide = true, value_name = "LEVEL")]
    pub log_level: Option<String>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign a model: hash every file and write a signature (default `model.sig`).
    #[command(subcommand)]
    Sign(sign::SignMethod),
    /// Verify a model against its signature.
    #[command(subcommand)]
    Verify(verify::VerifyMethod),
    /// Print a model's digest (and with --json its whole manifest) without signing.
    Digest(digest::DigestArgs),
    /// Models on the Hugging Face Hub: verify before download, download verified, sign.
    #[command(subcommand)]
    Hub(hub::HubCommand),
    /// The git pre-push hook: install it into a repository, or run it.
    #[command(subcommand)]
    Hook(hook::HookCommand),
    /// Sigstore tools: verify any bundle, refresh the trusted root over TUF.
    #[command(subcommand)]
    Sigstore(sigstore::SigstoreCommand),
    /// Work with manifest files (`msign digest --json` output): merge parts hashed elsewhere.
    #[command(subcommand)]
    Manifest(manifest::ManifestCommand),
    /// Models in OCI registries: sign and verify from the manifest, signatures as referrers.
    #[command(subcommand)]
    Oci(oci::OciCommand),
    /// Create an EC key pair for `sign key` / `verify key` (msign.pem, msign.pub).
    #[command(name = "generate-key")]
    GenerateKey(generate_key::GenerateKeyArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(completions::CompletionsArgs),
    /// Write man pages for msign and git-model-sign and their subcommands.
    Man(man::ManArgs),
}

/// Context every subcommand gets.
#[derive(Debug, Clone, Copy)]
pub struct Ctx {
    /// Emit JSON.
    pub json: bool,
    /// Be quiet.
    pub quiet: bool,
}

impl Ctx {
    /// Prints a warning on stderr unless quiet.
    pub fn warn(&self, msg: &str) {
        if !self.quiet {
            eprintln!("warning: {msg}");
        }
    }

    /// Shows a workflow's notice on stderr: a warning unless quiet; fingerprints, which
    /// were asked for, always (as model_signing logs them).
    pub fn notice(&self, notice: &crate::hash::Notice) {
        match notice {
            crate::hash::Notice::Warning(w) => self.warn(w),
            crate::hash::Notice::Fingerprint(fp) => {
                eprintln!("[  init  ] sha256 Fingerprint: {fp}")
            }
            crate::hash::Notice::Signed {
                summary,
                ignore_rules,
            } => {
                render::ignore_rules(self, ignore_rules);
                if self.text() {
                    println!("{summary}");
                }
            }
        }
    }

    /// Whether text results go to stdout (neither `--json` nor `--quiet`).
    pub fn text(&self) -> bool {
        !self.json && !self.quiet
    }
}

/// Shows a workflow's notices, and no progress: for work whose progress is not worth a bar.
impl crate::hash::Progress for Ctx {
    fn advance(&self, _bytes: u64) {}

    fn notice(&self, notice: &crate::hash::Notice) {
        Ctx::notice(self, notice);
    }
}

/// Parses arguments and runs `msign`.
pub fn main_with_args(args: Vec<OsString>) -> ExitCode {
    let json_asked = render::json_asked(&args);
    let parsed = docs::command()
        .try_get_matches_from(implied::msign(args))
        .and_then(|m| {
            net_args::apply(&m);
            <Cli as clap::FromArgMatches>::from_arg_matches(&m)
        });
    let cli = match parsed {
        Ok(c) => c,
        Err(e) => return render::usage_error(&e, json_asked),
    };
    let ctx = Ctx {
        json: cli.json,
        quiet: cli.quiet,
    };
    match cli.command {
        Command::Sign(m) => sign::run(&ctx, m),
        Command::Verify(m) => verify::run(&ctx, m),
        Command::Digest(a) => digest::run(&ctx, a),
        Command::Hub(c) => hub::run(&ctx, c),
        Command::Hook(h) => hook::run(&ctx, h),
        Command::Sigstore(c) => sigstore::run(&ctx, c),
        Command::Manifest(m) => manifest::run(&ctx, m),
        Command::Oci(c) => oci::run(&ctx, c),
        Command::GenerateKey(a) => generate_key::run(&ctx, a),
        Command::Completions(a) => completions::completions(&ctx, a),
        Command::Man(a) => man::man(&ctx, a),
    }
}
