//! `msign completions` and `msign man`: shell completions, and man pages for `msign` and
//! `git-model-sign` and every subcommand.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, CommandFactory, ValueEnum};
use serde_json::json;

use crate::cli::docs::command;
use crate::cli::render::conclude;
use crate::cli::Ctx;
use crate::error::{Error, Result};
use crate::store::file::write_atomic_as;

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
    if ctx.text() {
        println!(
            "Wrote {} man pages to {} (msign.1, git-model-sign.1, ...)",
            pages.len(),
            a.output_dir.display()
        );
    }
    Ok(json!({"status": "written", "output_dir": a.output_dir, "pages": pages}))
}
