//! `git model-sign`: sign and verify what a git revision holds.

fn main() -> std::process::ExitCode {
    eprintln!("error: git model-sign is not available in this msign build yet; sign a checkout with `msign sign`");
    std::process::ExitCode::from(msign::cli::EXIT_USAGE)
}
