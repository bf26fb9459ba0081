//! `msign completions`: shell completion scripts for `msign` and `git-model-sign`.

use std::process::ExitCode;

use clap::{Args, CommandFactory, ValueEnum};

use crate::cli::docs::command;
use crate::error::Error;

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
  msign completions fish > ~/.config/fish/completions/msign.fish
  msign completions bash --for git-model-sign \\
    > ~/.local/share/bash-completion/completions/git-model-sign
    # completes `git model-sign <TAB>` too: git's completion loads it from there
  msign completions zsh --for git-model-sign > ~/.zfunc/_git-model-sign")]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    shell: Shell,
    /// The program to complete.
    #[arg(long = "for", value_enum, default_value_t = Program::Msign)]
    program: Program,
}

/// Which program a completion script is for.
#[derive(Debug, Clone, Copy, Default, ValueEnum)]
pub enum Program {
    /// `msign`.
    #[default]
    Msign,
    /// `git-model-sign`, completed as `git model-sign` too (bash: `_git_model_sign`, the
    /// function git's completion calls; zsh: `_git-model-sign`, which zsh's git
    /// completion calls).
    GitModelSign,
}

/// The name the bash script for `git-model-sign` is generated for (see [`completions`]).
const GIT_BASH_NAME: &str = "gitmodelsign";

/// Lets git's bash completion (git-completion.bash) complete `git model-sign <TAB>`: it
/// calls `_git_<command>`; this one hands the words after `model-sign` to the generated
/// function as if `git-model-sign` had been typed.
const GIT_BASH_GLUE: &str = r#"
_git_model_sign() {
    local j=1
    while [[ $j -lt $COMP_CWORD && "${COMP_WORDS[j]}" != model-sign ]]; do
        j=$((j + 1))
    done
    local words_=("git-model-sign" "${COMP_WORDS[@]:j+1}") cword_=$((COMP_CWORD - j))
    local COMP_WORDS=("${words_[@]}") COMP_CWORD=$cword_
    _gitmodelsign git-model-sign "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
}
"#;

/// Runs `completions`: the script on stdout; with `--json`, the script as the `script`
/// field of the usual result object.
pub fn completions(ctx: &crate::cli::Ctx, a: CompletionsArgs) -> ExitCode {
    use clap_complete::Shell as S;
    use std::io::Write;
    let shell = match a.shell {
        Shell::Bash => S::Bash,
        Shell::Zsh => S::Zsh,
        Shell::Fish => S::Fish,
        Shell::Powershell => S::PowerShell,
        Shell::Elvish => S::Elvish,
    };
    let (cmd, name) = match a.program {
        Program::Msign => (command(), "msign"),
        Program::GitModelSign => (crate::cli::gitcmd::GitCli::command(), "git-model-sign"),
    };
    // Generated in memory: clap_complete panics when its output fails (a closed pipe).
    let mut script = Vec::new();
    if let (Shell::Bash, Program::GitModelSign) = (a.shell, a.program) {
        // clap_complete's bash script names its cases inconsistently for a program name
        // with a hyphen; it is generated for a name without one, then bound to the real
        // name.
        let mut cmd = cmd.name(GIT_BASH_NAME).bin_name(GIT_BASH_NAME);
        clap_complete::generate(shell, &mut cmd, GIT_BASH_NAME, &mut script);
        let text = String::from_utf8_lossy(&script)
            .lines()
            .map(|l| match l.trim_start().starts_with("complete -F") {
                true => l.replace(&format!(" {GIT_BASH_NAME}"), " git-model-sign"),
                false => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n");
        script = format!("{text}\n{GIT_BASH_GLUE}").into_bytes();
    } else {
        let mut cmd = cmd.name(name).bin_name(name);
        clap_complete::generate(shell, &mut cmd, name, &mut script);
    }
    if ctx.json {
        let v = serde_json::json!({
            "status": "generated",
            "shell": shell.to_string(),
            "script": String::from_utf8_lossy(&script),
        });
        script = format!("{v}\n").into_bytes();
    }
    let mut out = std::io::stdout().lock();
    match out.write_all(&script).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // A closed pipe (`| head`) needs no message; the status still says it failed.
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                eprintln!("error: writing the completion script: {e}");
            }
            ExitCode::from(Error::io("standard output", e).exit_code())
        }
    }
}
