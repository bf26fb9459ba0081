//! What the command line says about itself: the environment variables each command reads
//! (in its `--help` and man page), shell completions, and man pages for `msign` and
//! `git-model-sign` and every subcommand.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, CommandFactory, ValueEnum};
use serde_json::json;

use crate::cli::{conclude, Ctx};
use crate::error::{Error, Result};
use crate::store::file::write_atomic_as;

const CACHE: (&str, &str) = (
    "XDG_CACHE_HOME",
    "digest cache, Sigstore trust root: $XDG_CACHE_HOME/msign (~/.cache)",
);
const PASSWORD: (&str, &str) = ("MSIGN_KEY_PASSWORD", "password of an encrypted private key");
const SIGSTORE: [(&str, &str); 3] = [
    (
        "SIGSTORE_ID_TOKEN",
        "OIDC identity token for keyless signing",
    ),
    (
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "GitHub Actions: where to ask for an identity token",
    ),
    (
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "GitHub Actions: the token for that request",
    ),
];
const HUB: [(&str, &str); 6] = [
    (
        "HF_ENDPOINT",
        "the Hub's address (default https://huggingface.co)",
    ),
    ("HF_TOKEN", "Hub access token"),
    (
        "HF_TOKEN_PATH",
        "file holding the token (default $HF_HOME/token)",
    ),
    (
        "HF_HOME",
        "Hugging Face home (default ~/.cache/huggingface)",
    ),
    ("HF_HUB_CACHE", "the Hub cache (default $HF_HOME/hub)"),
    ("HF_HUB_OFFLINE", "1: use the cache only, no network"),
];
const DOCKER: (&str, &str) = (
    "DOCKER_CONFIG",
    "registry credentials: $DOCKER_CONFIG/config.json (default ~/.docker/config.json)",
);
const SSL: (&str, &str) = (
    "SSL_CERT_FILE",
    "roots used without --certificate-chain (also SSL_CERT_DIR)",
);

/// The environment variables a command reads, by its path below `msign`.
fn env_vars(path: &[&str]) -> Vec<(&'static str, &'static str)> {
    let mut v = Vec::new();
    match path {
        ["sign", method] | ["hub", "sign", method] => {
            v.push(CACHE);
            match *method {
                "key" | "certificate" => v.push(PASSWORD),
                "sigstore" => v.extend(SIGSTORE),
                _ => {}
            }
        }
        ["hub", "sign"] => v.extend([CACHE, PASSWORD].into_iter().chain(SIGSTORE)),
        ["verify", method] => {
            v.push(CACHE);
            if *method == "certificate" {
                v.push(SSL);
            }
        }
        ["digest"] | ["sigstore", _] => v.push(CACHE),
        ["hook", _] => v.push(PASSWORD),
        ["oci", action, method] => {
            v.push(DOCKER);
            match (*action, *method) {
                ("sign", "key" | "certificate") => v.push(PASSWORD),
                ("sign", "sigstore") => v.extend([CACHE].into_iter().chain(SIGSTORE)),
                ("verify", "certificate") => v.push(SSL),
                ("verify", "sigstore") => v.push(CACHE),
                _ => {}
            }
        }
        _ => {}
    }
    match path {
        ["verify", ..] => v.extend(HUB.into_iter().filter(|(n, _)| n.starts_with("HF_H"))),
        ["hub", ..] => v.extend(HUB),
        _ => {}
    }
    v
}

/// Appends an "Environment:" section to each command that reads variables.
fn with_env_help(mut cmd: clap::Command, path: &mut Vec<String>) -> clap::Command {
    let names: Vec<&str> = path.iter().map(String::as_str).collect();
    let vars = env_vars(&names);
    if !vars.is_empty() {
        let width = vars.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
        let mut text = String::from("Environment:");
        for (name, what) in vars {
            text.push_str(&format!("\n  {name:width$}  {what}"));
        }
        let before = cmd.get_after_help().map(|h| h.to_string());
        cmd = cmd.after_help(match before {
            Some(b) => format!("{b}\n\n{text}"),
            None => text,
        });
    }
    let subs: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in subs {
        cmd = cmd.mut_subcommand(&name, |sub| {
            path.push(name.clone());
            let sub = with_env_help(sub, path);
            path.pop();
            sub
        });
    }
    cmd
}

/// The `msign` command as `--help`, completions and man pages show it.
pub fn command() -> clap::Command {
    with_env_help(crate::cli::Cli::command(), &mut Vec::new())
}

/// Shells `completions` writes for.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Shell {
    /// Bash (source it, or put it in ~/.local/share/bash-completion/completions/msign).
    Bash,
    /// Zsh (a `_msign` file in a folder of $fpath).
    Zsh,
    /// Fish (~/.config/fish/completions/msign.fish).
    Fish,
    /// PowerShell (dot-source it from $PROFILE).
    Powershell,
    /// Elvish.
    Elvish,
}

/// Options of `completions`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  msign completions bash > ~/.local/share/bash-completion/completions/msign
  msign completions zsh > ~/.zfunc/_msign      # with fpath+=(~/.zfunc) in ~/.zshrc
  msign completions fish > ~/.config/fish/completions/msign.fish")]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    shell: Shell,
}

/// Runs `completions`: the script on stdout; with `--json`, the script as the `script`
/// field of the usual result object.
pub fn completions(ctx: &Ctx, a: CompletionsArgs) -> ExitCode {
    use clap_complete::Shell as S;
    let shell = match a.shell {
        Shell::Bash => S::Bash,
        Shell::Zsh => S::Zsh,
        Shell::Fish => S::Fish,
        Shell::Powershell => S::PowerShell,
        Shell::Elvish => S::Elvish,
    };
    if !ctx.json {
        clap_complete::generate(shell, &mut command(), "msign", &mut std::io::stdout());
        return ExitCode::SUCCESS;
    }
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command(), "msign", &mut script);
    let v = json!({
        "status": "generated",
        "shell": shell.to_string(),
        "script": String::from_utf8_lossy(&script),
    });
    println!("{v}");
    ExitCode::SUCCESS
}

/// Options of `man`.
#[derive(Debug, Args)]
#[command(after_help = "\
Install them where man looks, then `man msign` and `git model-sign --help` find them:
  msign man --output-dir ~/.local/share/man/man1")]
pub struct ManArgs {
    /// The folder to write the pages to (created if missing), e.g. ~/.local/share/man/man1.
    #[arg(long = "output-dir", value_name = "DIR")]
    output_dir: PathBuf,
}

/// Writes the man page of `cmd` as `NAME.1` and those of its subcommands as
/// `NAME-SUB.1`, recursively; returns the file names written.
fn write_pages(
    cmd: clap::Command,
    name: &str,
    bin: &str,
    dir: &Path,
    out: &mut Vec<String>,
) -> Result<()> {
    let cmd = cmd.name(name.to_string()).bin_name(bin.to_string());
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut page)
        .map_err(|e| Error::Other(format!("cannot render the man page of {name}: {e}")))?;
    let file = format!("{name}.1");
    write_atomic_as(&dir.join(&file), &page, 0o644, true)?;
    out.push(file);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        if sub.get_name() == "help" {
            continue;
        }
        write_pages(
            sub.clone(),
            &format!("{name}-{}", sub.get_name()),
            &format!("{bin} {}", sub.get_name()),
            dir,
            out,
        )?;
    }
    Ok(())
}

/// Runs `man`.
pub fn man(ctx: &Ctx, a: ManArgs) -> ExitCode {
    let extra = json!({"output_dir": a.output_dir});
    conclude(ctx, write_man(ctx, &a), extra)
}

fn write_man(ctx: &Ctx, a: &ManArgs) -> Result<serde_json::Value> {
    std::fs::create_dir_all(&a.output_dir).map_err(|e| Error::io(&a.output_dir, e))?;
    let mut pages = Vec::new();
    write_pages(command(), "msign", "msign", &a.output_dir, &mut pages)?;
    write_pages(
        crate::cli::gitcmd::GitCli::command(),
        "git-model-sign",
        "git model-sign",
        &a.output_dir,
        &mut pages,
    )?;
    if !ctx.json && !ctx.quiet {
        println!(
            "Wrote {} man pages to {} (msign.1, git-model-sign.1, ...)",
            pages.len(),
            a.output_dir.display()
        );
    }
    Ok(json!({"status": "written", "output_dir": a.output_dir, "pages": pages}))
}
