//! The `msign` command.

fn main() -> std::process::ExitCode {
    msign::cli::main_with_args(std::env::args_os().collect())
}
