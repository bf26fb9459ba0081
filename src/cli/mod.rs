//! The `msign` command line: a thin layer over the library.
//!
//! Exit codes: 0 success; 1 verification failed (the model or signature is not what was
//! signed, or the signature is malformed); 2 usage error (bad flags, unusable key or
//! certificate files); 3 any other failure (I/O, network).

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde_json::json;

use crate::error::Error;

pub mod args;
pub mod digest;
pub mod docs;
pub mod generate_key;
pub mod gitcmd;
pub mod hook;
pub mod hub;
pub mod hub_args;
pub mod manifest;
pub mod oci;
pub mod password;
pub mod pkcs11;
pub mod progress;
pub mod prompt;
pub mod reuse;
pub mod sign;
pub mod sigstore;
pub mod verify;
pub mod version;

/// Exit code: verification failed.
pub const EXIT_VERIFY_FAILED: u8 = 1;
/// Exit code: usage error.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: any other failure.
pub const EXIT_FAILURE: u8 = 3;

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
    Completions(docs::CompletionsArgs),
    /// Write man pages for msign and git-model-sign and their subcommands.
    Man(docs::ManArgs),
}

/// Methods a `sign`/`verify` may name; anything else means the reference's default,
/// Sigstore, as `model_signing sign MODEL` does.
const METHODS: [&str; 5] = [
    "sigstore",
    "key",
    "certificate",
    "pkcs11-key",
    "pkcs11-certificate",
];

/// Inserts the default method after `sign`/`verify` when none is named.
pub fn with_default_method(args: Vec<OsString>) -> Vec<OsString> {
    let mut out = args;
    // The first subcommand name decides: `msign hook install --mode sign -C x` has a
    // `sign` that is a value, not the subcommand.
    let pos = out
        .iter()
        .position(|a| {
            [
                "sign",
                "verify",
                "digest",
                "hook",
                "hub",
                "manifest",
                "sigstore",
                "help",
                "generate-key",
                "completions",
                "man",
            ]
            .contains(&a.to_str().unwrap_or(""))
        })
        .filter(|&i| out[i] == "sign" || out[i] == "verify");
    if let Some(i) = pos {
        let next = out.get(i + 1).and_then(|a| a.to_str()).unwrap_or("");
        let is_help = matches!(next, "-h" | "--help" | "help");
        if !METHODS.contains(&next) && !is_help && !next.is_empty() {
            let method = implied_method(out[i] == "sign", &out[i + 1..]);
            out.insert(i + 1, OsString::from(method));
        }
    }
    out
}

/// The method a `sign`/`verify` without one means, from its flags, as `git model-sign`
/// infers it: a PKCS #11 URI, a signing certificate, a private key; a public key, a
/// certificate chain; otherwise Sigstore, the reference's default.
fn implied_method(sign: bool, rest: &[OsString]) -> &'static str {
    let has = |names: &[&str]| {
        rest.iter().any(|a| {
            let a = a.to_str().unwrap_or("");
            let flag = a.split_once('=').map_or(a, |(f, _)| f);
            names.contains(&flag)
        })
    };
    let sigstore = has(&["--identity", "--identity-provider", "--identity_provider"]);
    if sign {
        let certificate = has(&["--signing-certificate", "--signing_certificate"]);
        if has(&["--pkcs11-uri", "--pkcs11_uri"]) {
            if certificate {
                "pkcs11-certificate"
            } else {
                "pkcs11-key"
            }
        } else if certificate {
            "certificate"
        } else if has(&["--private-key", "--private_key"]) {
            "key"
        } else {
            "sigstore"
        }
    } else if has(&["--public-key", "--public_key"]) {
        "key"
    } else if has(&["--certificate-chain", "--certificate_chain"]) && !sigstore {
        "certificate"
    } else {
        "sigstore"
    }
}

/// Context every subcommand gets.
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
}

/// The exit code for an error.
pub fn exit_code(e: &Error) -> u8 {
    match e {
        _ if e.is_verification_failure() => EXIT_VERIFY_FAILED,
        Error::Usage(_) | Error::KeyMaterial { .. } => EXIT_USAGE,
        _ => EXIT_FAILURE,
    }
}

/// A short machine-readable name for an error's kind.
pub fn error_kind(e: &Error) -> &'static str {
    match e {
        Error::Io { .. } => "io",
        Error::UnsupportedEntry { .. } => "unsupported_entry",
        Error::ContentUnavailable { .. } => "content_unavailable",
        Error::ChangedWhileHashing { .. } => "changed_while_hashing",
        Error::KeyMaterial { .. } => "key_material",
        Error::MalformedSignature(_) => "malformed_signature",
        Error::InvalidSignature(_) => "invalid_signature",
        Error::ModelMismatch(_) => "model_mismatch",
        Error::Usage(_) => "usage",
        Error::TrustUpdate(_) => "trust_update",
        Error::Other(_) => "other",
    }
}

/// Ends a command: its JSON result on stdout with `--json` (text was printed already), or
/// its error reported with `extra` context.
pub fn conclude(
    ctx: &Ctx,
    result: crate::Result<serde_json::Value>,
    extra: serde_json::Value,
) -> ExitCode {
    match result {
        Ok(v) => {
            if ctx.json {
                println!("{v}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => report_error(ctx, &e, extra),
    }
}

/// A library report as the command's JSON result.
pub fn report_json(report: &impl serde::Serialize) -> crate::Result<serde_json::Value> {
    serde_json::to_value(report).map_err(|e| Error::Other(format!("rendering the report: {e}")))
}

/// Reports an error the way the user asked (text on stderr or JSON on stdout).
pub fn report_error(ctx: &Ctx, e: &Error, extra: serde_json::Value) -> ExitCode {
    let code = exit_code(e);
    if ctx.json {
        let mut v = json!({
            "status": "error",
            "error": {"kind": error_kind(e), "message": e.to_string(), "exit_code": code},
        });
        // What the error carries beyond its message, for scripts to act on.
        match e {
            Error::Io { path, .. }
            | Error::UnsupportedEntry { path, .. }
            | Error::ChangedWhileHashing { path } => v["error"]["path"] = json!(path),
            Error::ContentUnavailable { names, hint } => {
                v["error"]["names"] = json!(names);
                v["error"]["hint"] = json!(hint);
            }
            Error::KeyMaterial { what, .. } => v["error"]["what"] = json!(what),
            _ => {}
        }
        if let Some(hint) = hint_for(e) {
            v["error"]["hint"] = json!(hint);
        }
        if let Error::ModelMismatch(diff) = e {
            v["status"] = json!("failed");
            v["differences"] = serde_json::to_value(diff).unwrap_or_default();
        } else if e.is_verification_failure() {
            v["status"] = json!("failed");
        }
        if let (Some(obj), Some(extra)) = (v.as_object_mut(), extra.as_object()) {
            for (k, val) in extra {
                obj.insert(k.clone(), val.clone());
            }
        }
        println!("{v}");
    } else {
        eprintln!("error: {e}");
        if let Some(hint) = hint_for(e) {
            eprintln!("hint: {hint}");
        }
    }
    ExitCode::from(code)
}

fn hint_for(e: &Error) -> Option<&'static str> {
    match e {
        Error::ModelMismatch(d) if !d.lfs_pointers.is_empty() => Some("Git LFS content is missing from this checkout (pointer files in its place): run `git lfs pull`, then verify again; or verify the git revision, which needs no LFS content, with `msign verify ... --git-rev HEAD` or `git model-sign verify`"),
        Error::ModelMismatch(_) => Some("the model changed after signing, or it was signed with other ignore rules (--ignore-paths)"),
        Error::InvalidSignature(m) if m.contains("another key") => Some("check --public-key: it must pair with the key that signed"),
        Error::InvalidSignature(m) if m.contains("not in the trusted root") => Some("signed on another Sigstore instance? give its --trust-config or --trusted-root, or --use-staging"),
        _ => None,
    }
}

/// True when `--json` is among the options (before a `--`), so that a command line clap
/// refuses is still answered in JSON.
pub fn json_asked(args: &[OsString]) -> bool {
    args.iter()
        .skip(1)
        .take_while(|a| *a != "--")
        .any(|a| a == "--json")
}

/// Ends a command line clap refused, or answers `--help`/`--version` (their text is the
/// payload, JSON or not). A refusal is a usage error: with `--json`, the error object on
/// stdout as every other error; otherwise clap's text on stderr.
pub fn usage_error(e: &clap::Error, json: bool) -> ExitCode {
    if !e.use_stderr() {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    if json {
        let text = e.render().to_string();
        let message = text.trim().strip_prefix("error: ").unwrap_or(text.trim());
        let v = json!({
            "status": "error",
            "error": {"kind": "usage", "message": message, "exit_code": EXIT_USAGE},
        });
        println!("{v}");
    } else {
        let _ = e.print();
    }
    ExitCode::from(EXIT_USAGE)
}

/// Parses arguments and runs `msign`.
pub fn main_with_args(args: Vec<OsString>) -> ExitCode {
    let json_asked = json_asked(&args);
    let parsed = docs::command()
        .try_get_matches_from(with_default_method(args))
        .and_then(|m| <Cli as clap::FromArgMatches>::from_arg_matches(&m));
    let cli = match parsed {
        Ok(c) => c,
        Err(e) => return usage_error(&e, json_asked),
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
        Command::Completions(a) => docs::completions(&ctx, a),
        Command::Man(a) => docs::man(&ctx, a),
    }
}
