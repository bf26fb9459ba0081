//! Command-line conventions: shell completions, man pages, `generate-key`, password
//! prompts and files, `--version`, environment variables in `--help`, key mix-ups named
//! for what they are, the method implied by the flags, and the wrong `verify` method.
//! Terminal behaviour runs under `script`, which gives the command a pseudo-terminal.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::*;

/// A `msign` command line run by `sh` under `umask`.
fn msign_with_umask(umask: &str, args: &[&Path]) -> Output {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("umask {umask}; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_msign"))
        .args(args)
        .stdin(Stdio::null());
    run_ok(&mut cmd)
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Runs `msign ARGS` on a pseudo-terminal, answering each prompt in turn.
fn msign_on_terminal(args: &[&str], answers: &[(&str, &str)]) -> (i32, String) {
    let line = std::iter::once(env!("CARGO_BIN_EXE_msign"))
        .chain(args.iter().copied())
        .map(shell_quote)
        .collect::<Vec<_>>()
        .join(" ");
    on_terminal(Command::new("script"), &line, answers)
}

fn generate(dir: &Path, prefix: &str, extra: &[&str]) -> (PathBuf, PathBuf) {
    let p = dir.join(prefix);
    run_ok(
        msign()
            .args(["generate-key", "--output-prefix"])
            .arg(&p)
            .args(extra)
            .stdin(Stdio::null()),
    );
    (
        dir.join(format!("{prefix}.pem")),
        dir.join(format!("{prefix}.pub")),
    )
}

fn sign_key(model: &Path, key: &Path, sig: &Path) -> Command {
    let mut c = msign();
    c.args(["sign", "key"])
        .arg(model)
        .arg("--private-key")
        .arg(key)
        .arg("--signature")
        .arg(sig)
        .stdin(Stdio::null());
    c
}

/// `msign verify [METHOD] MODEL --signature SIG` (the method implied when empty).
fn verify_cmd(method: &[&str], model: &Path, sig: &Path) -> Command {
    let mut c = msign();
    c.arg("verify")
        .args(method)
        .arg(model)
        .arg("--signature")
        .arg(sig)
        .stdin(Stdio::null());
    c
}

/// The flags of a Sigstore identity no test signature has.
const SOME_IDENTITY: [&str; 4] = [
    "--identity",
    "a@example.com",
    "--identity-provider",
    "https://example.com",
];

/// No OpenSSL error queue text ("error:1E08010C:DECODER routines::unsupported").
fn assert_no_openssl_text(out: &Output) {
    let err = stderr(out);
    assert!(
        !err.contains("routines") && !err.contains("error:0") && !err.contains("error:1"),
        "raw OpenSSL error in: {err}"
    );
}

// 1. Completions and man pages.

#[test]
fn bash_completions_name_every_subcommand_and_parse() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_ok(msign().args(["completions", "bash"]));
    let script = stdout(&out);
    for word in [
        "generate-key",
        "completions",
        "pkcs11-certificate",
        "verify",
        "--private-key",
    ] {
        assert!(
            script.contains(word),
            "{word} missing from the bash completions"
        );
    }
    let f = dir.path().join("msign.bash");
    std::fs::write(&f, &script).unwrap();
    run_ok(Command::new("bash").arg("-n").arg(&f));
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let out = run_ok(msign().args(["completions", shell]));
        assert!(stdout(&out).contains("generate-key"), "{shell}");
    }
}

#[test]
fn man_pages_are_valid_roff_and_git_finds_its_page() {
    let dir = tempfile::tempdir().unwrap();
    let man1 = dir.path().join("man1");
    run_ok(msign().arg("man").arg("--output-dir").arg(&man1));
    for page in [
        "msign.1",
        "msign-sign.1",
        "msign-sign-key.1",
        "msign-verify-sigstore.1",
        "msign-generate-key.1",
        "msign-hub-download.1",
        "git-model-sign.1",
        "git-model-sign-sign.1",
        "git-model-sign-verify-key.1",
    ] {
        let f = man1.join(page);
        assert!(f.is_file(), "{page} not written");
        // -ww: every warning; -z: no output, only the diagnostics.
        let out = run_ok(
            Command::new("groff")
                .args(["-man", "-Tutf8", "-ww", "-z"])
                .arg(&f),
        );
        assert!(stderr(&out).is_empty(), "{page}: {}", stderr(&out));
    }
    let page = stdout(&run_ok(
        Command::new("man")
            .arg("git-model-sign")
            .env("MANPATH", dir.path())
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "100"),
    ));
    assert!(page.contains("git model-sign"), "{page}");
    // `git model-sign --help` is `git help model-sign`, which runs `man git-model-sign`.
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_git-model-sign"))
        .parent()
        .unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = run_ok(
        Command::new("git")
            .args(["model-sign", "--help"])
            .env("PATH", path)
            .env("MANPATH", dir.path())
            .env("MANPAGER", "cat")
            .env("GIT_PAGER", "cat"),
    );
    assert!(stdout(&out).contains("git model-sign"), "{}", stdout(&out));
    let env_page = stdout(&run_ok(
        Command::new("man")
            .arg("msign-sign-key")
            .env("MANPATH", dir.path())
            .env("MANPAGER", "cat"),
    ));
    assert!(env_page.contains("MSIGN_KEY_PASSWORD"), "{env_page}");
}

// 2. generate-key.

#[test]
fn generated_keys_of_every_curve_sign_and_verify_with_the_reference() {
    let dir = tempfile::tempdir().unwrap();
    let model = sample_model(dir.path());
    for curve in ["p256", "p384", "p521"] {
        let prefix = dir.path().join(curve);
        msign_with_umask(
            "022",
            &[
                Path::new("generate-key"),
                Path::new("--curve"),
                Path::new(curve),
                Path::new("--output-prefix"),
                &prefix,
            ],
        );
        let (key, public) = (
            dir.path().join(format!("{curve}.pem")),
            dir.path().join(format!("{curve}.pub")),
        );
        assert_eq!(mode(&key), 0o600, "{curve} private key mode");
        assert_eq!(mode(&public), 0o644, "{curve} public key mode");
        let pem = std::fs::read_to_string(&key).unwrap();
        assert!(
            pem.starts_with("-----BEGIN PRIVATE KEY-----"),
            "PKCS#8: {pem}"
        );
        let pubpem = std::fs::read_to_string(&public).unwrap();
        assert!(
            pubpem.starts_with("-----BEGIN PUBLIC KEY-----"),
            "SPKI: {pubpem}"
        );
        let sig = dir.path().join(format!("{curve}.sig"));
        run_ok(&mut sign_key(&model, &key, &sig));
        run_ok(
            reference_cli()
                .args(["verify", "key"])
                .arg(&model)
                .arg("--signature")
                .arg(&sig)
                .arg("--public_key")
                .arg(&public),
        );
    }
    // The umask applies to the public key; the private key is never more open than 0600.
    let prefix = dir.path().join("tight");
    msign_with_umask(
        "077",
        &[
            Path::new("generate-key"),
            Path::new("--output-prefix"),
            &prefix,
        ],
    );
    assert_eq!(mode(&dir.path().join("tight.pub")), 0o600);
    assert_eq!(mode(&dir.path().join("tight.pem")), 0o600);
}

#[test]
fn generate_key_refuses_to_overwrite_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = generate(dir.path(), "k", &[]);
    let before = std::fs::read(&key).unwrap();
    let out = run_fails(
        msign()
            .args(["generate-key", "--output-prefix"])
            .arg(dir.path().join("k")),
        2,
    );
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    assert_eq!(std::fs::read(&key).unwrap(), before);
    // Only the public half existing is refused too, and nothing is written.
    std::fs::remove_file(&key).unwrap();
    run_fails(
        msign()
            .args(["generate-key", "--output-prefix"])
            .arg(dir.path().join("k")),
        2,
    );
    assert!(!key.exists());
    std::fs::write(&key, &before).unwrap();
    generate(dir.path(), "k", &["--force"]);
    assert_ne!(std::fs::read(&key).unwrap(), before);
    assert!(public.exists());
    // The default prefix is msign: msign.pem and msign.pub in the current folder.
    run_ok(msign().arg("generate-key").current_dir(dir.path()));
    assert!(dir.path().join("msign.pem").is_file() && dir.path().join("msign.pub").is_file());
}

// 2 and 3. Encrypted keys: password file, environment, prompt; never without one.

#[test]
fn encrypted_key_needs_its_password_from_a_file_the_environment_or_nothing_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let model = sample_model(dir.path());
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "correct horse\n").unwrap();
    let (key, public) = generate(
        dir.path(),
        "enc",
        &["--encrypt", "--password-file", pw.to_str().unwrap()],
    );
    assert!(std::fs::read_to_string(&key)
        .unwrap()
        .starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    let sig = dir.path().join("m.sig");
    // No terminal, no password: a clear error naming the flags.
    let out = run_fails(
        sign_key(&model, &key, &sig).env_remove("MSIGN_KEY_PASSWORD"),
        2,
    );
    assert!(
        stderr(&out).contains("--password-file") && stderr(&out).contains("encrypted"),
        "{}",
        stderr(&out)
    );
    assert!(!sig.exists());
    let wrong = dir.path().join("wrong");
    std::fs::write(&wrong, "wrong\n").unwrap();
    let out = run_fails(
        sign_key(&model, &key, &sig)
            .arg("--password-file")
            .arg(&wrong),
        2,
    );
    assert!(stderr(&out).contains("wrong password"), "{}", stderr(&out));
    run_ok(sign_key(&model, &key, &sig).arg("--password-file").arg(&pw));
    run_ok(sign_key(&model, &key, &sig).env("MSIGN_KEY_PASSWORD", "correct horse"));
    run_ok(
        verify_cmd(&["key"], &model, &sig)
            .arg("--public-key")
            .arg(&public),
    );
    // The reference's API signs with the same encrypted PKCS#8 (its CLI's --password
    // passes text where bytes are needed, so it cannot), and msign verifies the result.
    let ref_sig = dir.path().join("ref.sig");
    let out = reference_py(
        "import sys, model_signing as ms\n\
         ms.signing.Config().use_elliptic_key_signer(private_key=sys.argv[1], \
         password=b'correct horse').sign(sys.argv[2], sys.argv[3])",
        &[
            key.to_str().unwrap(),
            model.to_str().unwrap(),
            ref_sig.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    run_ok(
        verify_cmd(&["key"], &model, &ref_sig)
            .arg("--public-key")
            .arg(&public),
    );
}

#[test]
fn encrypted_key_password_is_asked_on_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let model = sample_model(dir.path());
    let prefix = dir.path().join("tty");
    let prefix_s = prefix.to_str().unwrap();
    let generate = ["generate-key", "--encrypt", "--output-prefix", prefix_s];
    // generate-key --encrypt asks twice; different answers are refused.
    let (code, text) = msign_on_terminal(
        &generate,
        &[("Password for the new key", "one"), ("again", "two")],
    );
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("differ"), "{text}");
    assert!(!dir.path().join("tty.pem").exists());
    let (code, text) = msign_on_terminal(
        &generate,
        &[("Password for the new key", "s3cret"), ("again", "s3cret")],
    );
    assert_eq!(code, 0, "{text}");
    assert!(!text.contains("s3cret"), "the password was echoed: {text}");
    let key = dir.path().join("tty.pem");
    let sig = dir.path().join("tty.sig");
    let args = [
        "sign",
        "key",
        model.to_str().unwrap(),
        "--private-key",
        key.to_str().unwrap(),
        "--signature",
        sig.to_str().unwrap(),
    ];
    let prompt = format!("Password for {}", key.display());
    let (code, text) = msign_on_terminal(&args, &[(&prompt, "s3cret")]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("Signing succeeded"), "{text}");
    assert!(!text.contains("s3cret"), "the password was echoed: {text}");
    run_ok(
        verify_cmd(&["key"], &model, &sig)
            .arg("--public-key")
            .arg(dir.path().join("tty.pub")),
    );
    let (code, text) = msign_on_terminal(&args, &[(&prompt, "nope")]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("wrong password"), "{text}");
}

#[test]
fn git_model_sign_takes_a_password_file_too() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    std::fs::write(repo.join("weights.bin"), b"weights").unwrap();
    for args in [
        &["init", "-q"][..],
        &["add", "."],
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@e",
            "commit",
            "-qm",
            "m",
        ],
    ] {
        run_ok(Command::new("git").args(args).current_dir(&repo));
    }
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "pw\n").unwrap();
    let (sec1, _) = ec_keypair(dir.path(), "prime256v1");
    let key = dir.path().join("g.pem");
    to_pkcs8(&sec1, &key, Some("pw"));
    let sign = |extra: &[&std::ffi::OsStr]| {
        let mut c = git_model_sign();
        c.args(["sign", "key", "--private-key"])
            .arg(&key)
            .arg("--signature")
            .arg(dir.path().join("g.sig"))
            .args(extra)
            .current_dir(&repo)
            .env_remove("MSIGN_KEY_PASSWORD")
            .stdin(Stdio::null());
        c
    };
    let out = run_fails(&mut sign(&[]), 2);
    assert!(stderr(&out).contains("--password-file"), "{}", stderr(&out));
    run_ok(&mut sign(&["--password-file".as_ref(), pw.as_os_str()]));
}

// 4. --version and the environment in --help.

#[test]
fn version_names_the_commit_and_the_signature_format() {
    let commit = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(repo())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| stdout(&o).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    for mut cmd in [msign(), git_model_sign()] {
        let text = stdout(&run_ok(cmd.arg("--version")));
        assert!(text.contains(env!("CARGO_PKG_VERSION")), "{text}");
        assert!(text.contains(&format!("commit: {commit}")), "{text}");
        assert!(
            text.contains("https://model_signing/signature/v1.0") && text.contains("1.1.1"),
            "{text}"
        );
    }
    let short = stdout(&run_ok(msign().arg("-V")));
    assert!(short.contains(&commit), "{short}");
}

#[test]
fn help_lists_the_environment_each_command_reads() {
    for (cmd, vars) in [
        (
            &["sign", "key"][..],
            &["MSIGN_KEY_PASSWORD", "XDG_CACHE_HOME"][..],
        ),
        (
            &["sign", "sigstore"],
            &["SIGSTORE_ID_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL"],
        ),
        (
            &["verify", "certificate"],
            &["SSL_CERT_FILE", "HF_HUB_CACHE"],
        ),
        (
            &["hub", "download"],
            &["HF_TOKEN", "HF_ENDPOINT", "HF_HUB_OFFLINE"],
        ),
        (&["digest"], &["XDG_CACHE_HOME"]),
    ] {
        let help = stdout(&run_ok(msign().args(cmd).arg("--help")));
        assert!(help.contains("Environment:"), "{cmd:?}: {help}");
        for v in vars {
            assert!(help.contains(v), "{cmd:?} --help lacks {v}: {help}");
        }
    }
}

// 5. Key mix-ups.

fn openssl(args: &[&str], dir: &Path) {
    run_ok(Command::new("openssl").args(args).current_dir(dir));
}

#[test]
fn keys_given_to_the_wrong_flag_are_named_for_what_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let model = sample_model(d);
    let (key, public) = ec_keypair(d, "prime256v1");
    openssl(
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "rsa.pem",
        ],
        d,
    );
    openssl(&["pkey", "-in", "rsa.pem", "-pubout", "-out", "rsa.pub"], d);
    openssl(
        &["rsa", "-in", "rsa.pem", "-traditional", "-out", "rsa1.pem"],
        d,
    );
    openssl(
        &[
            "req",
            "-x509",
            "-key",
            "prime256v1.pem",
            "-subj",
            "/CN=leaf",
            "-days",
            "1",
            "-out",
            "cert.pem",
        ],
        d,
    );
    std::fs::write(d.join("junk.bin"), [0u8, 1, 2, 3]).unwrap();
    let sig = d.join("m.sig");
    run_ok(&mut sign_key(&model, &key, &sig));
    let rsa = "msign signs with EC keys P-256/P-384/P-521; this is an RSA key";
    for (file, expected) in [
        (public.clone(), "this is a public key"),
        (d.join("cert.pem"), "this is an X.509 certificate"),
        (d.join("rsa.pem"), rsa),
        (d.join("rsa1.pem"), rsa),
        (d.join("junk.bin"), "not a PEM file"),
    ] {
        let out = run_fails(&mut sign_key(&model, &file, &d.join("x.sig")), 2);
        assert!(
            stderr(&out).contains(expected),
            "--private-key {file:?}: {}",
            stderr(&out)
        );
        assert_no_openssl_text(&out);
    }
    for (file, expected) in [
        (key.clone(), "this is a private key"),
        (d.join("cert.pem"), "this is an X.509 certificate"),
        (d.join("rsa.pub"), rsa),
        (d.join("rsa.pem"), "this is a private key"),
        (d.join("junk.bin"), "not a PEM file"),
    ] {
        let out = run_fails(
            verify_cmd(&["key"], &model, &sig)
                .arg("--public-key")
                .arg(&file),
            2,
        );
        assert!(
            stderr(&out).contains(expected),
            "--public-key {file:?}: {}",
            stderr(&out)
        );
        assert_no_openssl_text(&out);
    }
}

// 6. The method implied by the flags.

#[test]
fn sign_and_verify_without_a_method_word_take_it_from_the_flags() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let model = sample_model(d);
    let (key, public) = ec_keypair(d, "prime256v1");
    let sig = d.join("m.sig");
    let out = run_ok(
        msign()
            .arg("sign")
            .arg(&model)
            .arg("--private-key")
            .arg(&key)
            .arg("--signature")
            .arg(&sig),
    );
    assert!(stdout(&out).contains("signed with key"), "{}", stdout(&out));
    run_ok(verify_cmd(&[], &model, &sig).arg(format!("--public-key={}", public.display())));
    let certs = reference_fixtures().join("keys/certificate");
    let csig = d.join("c.sig");
    let out = run_ok(
        msign()
            .arg("--json")
            .arg("sign")
            .arg(&model)
            .arg("--signature")
            .arg(&csig)
            .arg("--private_key")
            .arg(certs.join("signing-key.pem"))
            .arg("--signing-certificate")
            .arg(certs.join("signing-key-cert.pem"))
            .arg("--certificate-chain")
            .arg(certs.join("int-ca-cert.pem")),
    );
    assert!(
        stdout(&out).contains("\"method\":\"certificate\""),
        "{}",
        stdout(&out)
    );
    run_ok(
        verify_cmd(&[], &model, &csig)
            .arg("--certificate-chain")
            .arg(certs.join("ca-cert.pem")),
    );
    // A PKCS #11 URI means the token method: the error is about the module, not the flags.
    let out = msign()
        .arg("sign")
        .arg(&model)
        .args([
            "--pkcs11-uri",
            "pkcs11:token=none;object=k?module-path=/nonexistent/module.so",
        ])
        .arg("--signature")
        .arg(d.join("p.sig"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        !stderr(&out).contains("unexpected argument") && stderr(&out).contains("module"),
        "{}",
        stderr(&out)
    );
    // Sigstore stays the default: --identity means Sigstore, and so does no method flag.
    let out = run_fails(verify_cmd(&[], &model, &sig).args(SOME_IDENTITY), 1);
    assert!(stderr(&out).contains("made with a key"), "{}", stderr(&out));
}

// 7. The wrong verification method says which one to use.

#[test]
fn verifying_with_the_wrong_method_names_the_right_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let model = sample_model(d);
    let (key, public) = ec_keypair(d, "prime256v1");
    let sig = d.join("m.sig");
    run_ok(&mut sign_key(&model, &key, &sig));
    let out = run_fails(
        verify_cmd(&["sigstore"], &model, &sig).args(SOME_IDENTITY),
        1,
    );
    let err = stderr(&out);
    assert!(
        err.contains("made with a key") && err.contains("verify key --public-key"),
        "{err}"
    );
    assert!(!err.contains("transparency-log"), "{err}");

    let fixture = reference_fixtures().join("v1.1.0-sigstore");
    let out = run_fails(
        verify_cmd(&["key"], &fixture, &fixture.join("model.sig"))
            .arg("--public-key")
            .arg(&public),
        1,
    );
    let err = stderr(&out);
    assert!(
        err.contains("made with Sigstore") && err.contains("verify sigstore --identity"),
        "{err}"
    );
}

// 8. Fail early, say what is wrong.

/// The sample model and a P-256 key pair in `d`: (model, private key, public key).
fn model_and_key(d: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let model = sample_model(d);
    let (key, public) = ec_keypair(d, "prime256v1");
    (model, key, public)
}

#[test]
fn blake3_shards_are_refused_not_silently_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (model, key, _) = model_and_key(d);
    let sig = d.join("m.sig");
    for flags in [
        &["--hash-algorithm", "blake3", "--serialization", "shards"][..],
        &["--hash-algorithm", "blake3", "--shard-size", "1000"][..],
    ] {
        let out = run_fails(sign_key(&model, &key, &sig).args(flags), 2);
        let err = stderr(&out);
        assert!(
            err.contains("blake3") && err.contains("shard"),
            "{flags:?}: {err}"
        );
        assert!(!sig.exists(), "{flags:?}: a signature was written");
    }
    // BLAKE3 by file still signs.
    run_ok(sign_key(&model, &key, &sig).args(["--hash-algorithm", "blake3"]));
}

#[test]
fn an_unwritable_signature_destination_fails_before_hashing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (model, key, _) = model_and_key(d);
    // Hashing would stop at the FIFO: an error about the destination proves it came first.
    run_ok(Command::new("mkfifo").arg(model.join("pipe")));
    let plain = d.join("plain-file");
    std::fs::write(&plain, b"x").unwrap();
    let folder = d.join("a-folder");
    std::fs::create_dir(&folder).unwrap();
    for (sig, says) in [
        (d.join("no/such/folder/m.sig"), "does not exist"),
        (plain.join("m.sig"), "is not a folder"),
        (folder.clone(), "that is a folder"),
    ] {
        let out = run_fails(&mut sign_key(&model, &key, &sig), 3);
        let err = stderr(&out);
        assert!(
            err.contains("cannot write the signature") && err.contains(says),
            "{}: {err}",
            sig.display()
        );
        assert!(!err.contains("FIFO") && !err.contains(".msign-"), "{err}");
    }
    let leftovers: Vec<_> = std::fs::read_dir(&folder).unwrap().collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn merging_manifests_of_differently_named_models_needs_a_name() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut parts = Vec::new();
    for (name, file) in [("bert", "a.bin"), ("gpt", "b.bin")] {
        let model = d.join(name);
        std::fs::create_dir(&model).unwrap();
        std::fs::write(model.join(file), name).unwrap();
        let out = run_ok(msign().args(["digest", "--json"]).arg(&model));
        let part = d.join(format!("{name}.json"));
        std::fs::write(&part, out.stdout).unwrap();
        parts.push(part);
    }
    let out = run_fails(msign().args(["manifest", "merge"]).args(&parts), 2);
    let err = stderr(&out);
    assert!(
        err.contains("'bert'") && err.contains("'gpt'") && err.contains("--model-name"),
        "{err}"
    );
    let out = run_ok(
        msign()
            .args(["manifest", "merge", "--model-name", "joint"])
            .args(&parts),
    );
    assert!(stdout(&out).contains("\"joint\""), "{}", stdout(&out));
}

#[test]
fn verify_finds_the_signature_where_sign_put_it_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (model, key, public) = model_and_key(d);
    run_ok(
        msign()
            .current_dir(d)
            .args(["sign", "key"])
            .arg(&model)
            .arg("--private-key")
            .arg(&key)
            .stdin(Stdio::null()),
    );
    assert!(d.join("model.sig").is_file());
    // No --signature: model.sig in the current folder, as `sign` wrote it.
    let verify = || {
        let mut c = msign();
        c.current_dir(d)
            .args(["verify", "key"])
            .arg(&model)
            .arg("--public-key")
            .arg(&public)
            .stdin(Stdio::null());
        c
    };
    let out = run_ok(&mut verify());
    assert!(
        stdout(&out).starts_with("Verification succeeded"),
        "{}",
        stdout(&out)
    );
    // No signature there: the message names the file looked for.
    std::fs::remove_file(d.join("model.sig")).unwrap();
    let out = run_fails(&mut verify(), 3);
    let err = stderr(&out);
    assert!(
        err.contains("no signature at model.sig") && err.contains("--signature"),
        "{err}"
    );
}

#[test]
fn ignore_paths_outside_the_model_are_named_not_dropped_silently() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (model, key, public) = model_and_key(d);
    std::fs::write(model.join("scratch"), b"notes").unwrap();
    let sig = d.join("m.sig");
    // `scratch` from the current folder (d) is not the model's: a slip for model/scratch.
    let out = run_ok(sign_key(&model, &key, &sig).current_dir(d).args([
        "--ignore-paths",
        "scratch",
        "--ignore-paths",
        "elsewhere",
    ]));
    let err = stderr(&out);
    let guess = model.join("scratch");
    assert!(
        err.contains("--ignore-paths scratch: outside the model")
            && err.contains(&format!("did you mean {}?", guess.display())),
        "{err}"
    );
    assert!(
        err.contains("--ignore-paths elsewhere: outside the model")
            && !err.contains(&format!("{}?", model.join("elsewhere").display())),
        "{err}"
    );
    // Nothing was left out: scratch is signed.
    assert!(resource_names(&statement_of(&sig)).contains(&"scratch".to_string()));
    let out = run_ok(
        verify_cmd(&["key"], &model, &sig)
            .current_dir(d)
            .args(["--public-key"])
            .arg(&public)
            .args(["--ignore-paths", "scratch"]),
    );
    assert!(
        stderr(&out).contains("outside the model"),
        "{}",
        stderr(&out)
    );
    // A path inside the model draws no warning.
    let out = run_ok(
        sign_key(&model, &key, &sig)
            .arg("--ignore-paths")
            .arg(&guess),
    );
    assert!(
        !stderr(&out).contains("outside the model"),
        "{}",
        stderr(&out)
    );
}
