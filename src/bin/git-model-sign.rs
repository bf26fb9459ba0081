//! `git model-sign`: sign and verify what a git revision holds.

fn main() -> std::process::ExitCode {
    msign::cli::gitcmd::main_with_args(std::env::args_os().collect())
}
