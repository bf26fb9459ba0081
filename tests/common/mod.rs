//! Helpers shared by the integration tests: the built binaries, the reference
//! implementation (installed by `.ci/run`), fixtures and key generation.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `fixtures/` in the repository.
pub fn fixtures() -> PathBuf {
    repo().join("fixtures")
}

/// The reference signatures (see fixtures/model-transparency/CASES.md).
pub fn reference_fixtures() -> PathBuf {
    fixtures().join("model-transparency")
}

/// A `msign` command.
pub fn msign() -> Command {
    Command::new(env!("CARGO_BIN_EXE_msign"))
}

/// A `git-model-sign` command.
pub fn git_model_sign() -> Command {
    Command::new(env!("CARGO_BIN_EXE_git-model-sign"))
}

fn required(var: &str, fallback: &str) -> PathBuf {
    let p = std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(fallback));
    assert!(
        p.exists(),
        "{} not found: run .ci/run (it installs model_signing 1.1.1 into .venv-ref) or set {var}",
        p.display()
    );
    p
}

/// The Python interpreter of the reference's virtualenv.
pub fn reference_python() -> PathBuf {
    required("MSIGN_REFERENCE_PYTHON", ".venv-ref/bin/python")
}

/// The reference CLI, `model_signing`.
pub fn reference_cli() -> Command {
    Command::new(required(
        "MSIGN_REFERENCE_CLI",
        ".venv-ref/bin/model_signing",
    ))
}

/// Runs a Python snippet with the reference installed; `args` become `sys.argv[1:]`.
pub fn reference_py(script: &str, args: &[&str]) -> Output {
    Command::new(reference_python())
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("run reference python")
}

/// Runs a command and fails the test with its output if it did not succeed.
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("spawn");
    assert!(
        out.status.success(),
        "command failed ({:?}): {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        cmd,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs a command that must fail with `code`; returns its output.
pub fn run_fails(cmd: &mut Command, code: i32) -> Output {
    let out = cmd.output().expect("spawn");
    assert_eq!(
        out.status.code(),
        Some(code),
        "expected exit {code} from {:?}\nstdout:\n{}\nstderr:\n{}",
        cmd,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Generates an EC key pair with the openssl CLI: `curve` is an OpenSSL curve name
/// (`prime256v1`, `secp384r1`, `secp521r1`). Returns (private PEM, public PEM).
pub fn ec_keypair(dir: &Path, curve: &str) -> (PathBuf, PathBuf) {
    let key = dir.join(format!("{curve}.pem"));
    let public = dir.join(format!("{curve}.pub"));
    run_ok(
        Command::new("openssl")
            .args(["ecparam", "-name", curve, "-genkey", "-noout", "-out"])
            .arg(&key),
    );
    run_ok(
        Command::new("openssl")
            .args(["ec", "-pubout", "-in"])
            .arg(&key)
            .arg("-out")
            .arg(&public),
    );
    (key, public)
}

/// Writes a small model with nested folders, an empty file and a non-ASCII name.
pub fn sample_model(dir: &Path) -> PathBuf {
    let m = dir.join("model");
    for (name, content) in [
        ("config.json", b"{\"hidden\": 8}".to_vec()),
        (
            "weights/part-1.bin",
            (0..200_000u32).map(|i| (i % 251) as u8).collect(),
        ),
        ("weights/part-2.bin", vec![7u8; 3000]),
        ("empty", Vec::new()),
        ("tokenizer/naïve ü.json", "ü".as_bytes().to_vec()),
        ("a.txt", b"hello".to_vec()),
        ("a/b", b"component order".to_vec()),
    ] {
        let p = m.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
    m
}
