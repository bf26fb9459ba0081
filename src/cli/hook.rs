//! `msign hook install` and `msign hook pre-push` (what the installed script runs); the
//! engine is [`crate::hook`].

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use crate::cli::render::{report_error, warnings};
use crate::cli::{Ctx, EXIT_VERIFY_FAILED};
use crate::hook::{HookMode, InstallOptions, Installed, PrePush};

/// `hook` subcommands.
#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Install the pre-push hook into a repository (and set `msign.mode`).
    Install {
        /// Verify (default) or sign pushed model commits; stored as `git config msign.mode`.
        #[arg(long, value_enum)]
        mode: Option<HookMode>,
        /// Replace a different existing pre-push hook.
        #[arg(long)]
        force: bool,
        /// Also make `git fetch` and `git pull` bring the signatures kept in notes: adds
        /// `refs/notes/model-signing:refs/notes/model-signing` to every remote's fetch
        /// refspecs (git fetches no notes by default).
        #[arg(long = "fetch-notes")]
        fetch_notes: bool,
        /// The repository, or a folder in it.
        #[arg(short = 'C', long = "git-dir", value_name = "DIR", default_value = ".")]
        repo: PathBuf,
    },
    /// Run as git's pre-push hook (reads git's ref lines on stdin). Settings from git
    /// config: msign.mode (verify|sign), msign.path (model folder), msign.method
    /// (key|certificate), msign.publicKey, msign.rootCertificate (verify),
    /// msign.key, msign.signingCertificate, msign.certificateChain (sign).
    #[command(name = "pre-push")]
    PrePush {
        /// The remote's name (or URL).
        remote: String,
        /// The remote's URL.
        url: Option<String>,
    },
}

/// Runs a `hook` subcommand.
pub fn run(ctx: &Ctx, cmd: HookCommand) -> ExitCode {
    let result = match cmd {
        HookCommand::Install {
            mode,
            force,
            fetch_notes,
            repo,
        } => {
            let options = InstallOptions {
                mode,
                force,
                fetch_notes,
            };
            crate::hook::install_with(&repo, &options).map(|r| render_installed(ctx, &r))
        }
        HookCommand::PrePush { remote, .. } => {
            let stdin = std::io::stdin();
            crate::hook::pre_push(&remote, &mut stdin.lock()).map(|r| render(ctx, &r))
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => report_error(ctx, &e, serde_json::json!({})),
    }
}

fn render_installed(ctx: &Ctx, r: &Installed) -> ExitCode {
    if ctx.json {
        println!("{}", serde_json::to_value(r).unwrap_or_default());
        return ExitCode::SUCCESS;
    }
    warnings(ctx, &r.warnings);
    if ctx.quiet {
        return ExitCode::SUCCESS;
    }
    println!("{r}");
    for n in &r.notes {
        eprintln!("note: {n}");
    }
    ExitCode::SUCCESS
}

fn render(ctx: &Ctx, r: &PrePush) -> ExitCode {
    if ctx.json {
        return render_json(r);
    }
    // A refusal is an error: said even when quiet.
    let text = if ctx.quiet {
        r.refusal()
    } else {
        Some(r.to_string())
    };
    if let Some(text) = text.filter(|t| !t.is_empty()) {
        eprintln!("{text}");
    }
    if r.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_VERIFY_FAILED)
    }
}

/// The hook's report in the envelope every command uses: `passed`, or `failed` with the
/// error object a refused verification carries elsewhere.
fn render_json(r: &PrePush) -> ExitCode {
    let mut v = serde_json::to_value(r).unwrap_or_default();
    if r.passed() {
        v["status"] = serde_json::json!("passed");
        println!("{v}");
        return ExitCode::SUCCESS;
    }
    v["status"] = serde_json::json!("failed");
    v["error"] = serde_json::json!({
        "kind": "unsigned_commits",
        "message": format!(
            "refusing to push {} commit(s) that change the model without a valid signature",
            r.refused.len()
        ),
        "exit_code": EXIT_VERIFY_FAILED,
    });
    println!("{v}");
    ExitCode::from(EXIT_VERIFY_FAILED)
}
