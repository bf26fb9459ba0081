//! Interoperability with the reference, `model_signing` 1.1.1, in both directions: msign
//! signs and the reference verifies, the reference signs and msign verifies (taking the
//! serialization from the signed statement, no flags), and both write the same statement
//! for the same folder and options. Covers every curve, the certificate method, every
//! serialization and hash algorithm both support, and the reference's ignore semantics.

mod common;
use common::*;

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A serialization both tools support.
#[derive(Debug, Clone, Copy)]
struct Ser {
    serialization: &'static str,
    /// The name on msign's command line and in the reference's API.
    hash: &'static str,
    shard_size: Option<u64>,
    /// `method` and `hash_type` expected in the statement.
    recorded: (&'static str, &'static str),
}

impl Ser {
    fn label(&self) -> String {
        match self.shard_size {
            Some(n) => format!("{}-{}-{n}", self.serialization, self.hash),
            None => format!("{}-{}", self.serialization, self.hash),
        }
    }

    /// The reference's default, the only one its CLI can verify.
    fn is_default(&self) -> bool {
        self.serialization == "files" && self.hash == "sha256"
    }

    fn msign_args(&self) -> Vec<String> {
        // msign refuses blake3 shards (the reference quietly hashes by file): the same
        // signature comes from asking msign for files.
        if self.hash == "blake3" {
            return vec![
                "--serialization".into(),
                "files".into(),
                "--hash-algorithm".into(),
                "blake3".into(),
            ];
        }
        let mut v = vec![
            "--serialization".into(),
            self.serialization.into(),
            "--hash-algorithm".into(),
            self.hash.into(),
        ];
        if let Some(n) = self.shard_size {
            v.extend(["--shard-size".into(), n.to_string()]);
        }
        v
    }

    fn ref_args(&self) -> Vec<String> {
        let mut v = vec![
            "--serialization".into(),
            self.serialization.into(),
            "--hash".into(),
            self.hash.into(),
        ];
        if let Some(n) = self.shard_size {
            v.extend(["--shard-size".into(), n.to_string()]);
        }
        v
    }
}

const SERIALIZATIONS: [Ser; 7] = [
    Ser {
        serialization: "files",
        hash: "sha256",
        shard_size: None,
        recorded: ("files", "sha256"),
    },
    Ser {
        serialization: "files",
        hash: "blake2",
        shard_size: None,
        recorded: ("files", "blake2b"),
    },
    Ser {
        serialization: "files",
        hash: "blake3",
        shard_size: None,
        recorded: ("files", "blake3"),
    },
    Ser {
        serialization: "shards",
        hash: "sha256",
        shard_size: Some(1000),
        recorded: ("shards", "sha256"),
    },
    Ser {
        serialization: "shards",
        hash: "blake2",
        shard_size: Some(65536),
        recorded: ("shards", "blake2b"),
    },
    // Both tools' default shard size (1 GB).
    Ser {
        serialization: "shards",
        hash: "sha256",
        shard_size: None,
        recorded: ("shards", "sha256"),
    },
    // The reference silently serializes by file for blake3 shards; msign refuses them,
    // and its files signature must be the same.
    Ser {
        serialization: "shards",
        hash: "blake3",
        shard_size: Some(1000),
        recorded: ("files", "blake3"),
    },
];

/// How a signature is made and checked.
enum Method {
    Key {
        private: PathBuf,
        public: PathBuf,
    },
    Certificate {
        private: PathBuf,
        cert: PathBuf,
        intermediate: PathBuf,
        root: PathBuf,
    },
}

impl Method {
    fn name(&self) -> &'static str {
        match self {
            Method::Key { .. } => "key",
            Method::Certificate { .. } => "certificate",
        }
    }

    /// Signing flags, spelled as the reference's CLI spells them (msign accepts both).
    fn sign_flags(&self) -> Vec<OsString> {
        match self {
            Method::Key { private, .. } => vec!["--private_key".into(), private.into()],
            Method::Certificate {
                private,
                cert,
                intermediate,
                ..
            } => vec![
                "--private_key".into(),
                private.into(),
                "--signing_certificate".into(),
                cert.into(),
                "--certificate_chain".into(),
                intermediate.into(),
            ],
        }
    }

    fn verify_flags(&self) -> Vec<OsString> {
        match self {
            Method::Key { public, .. } => vec!["--public_key".into(), public.into()],
            Method::Certificate { root, .. } => {
                vec!["--certificate_chain".into(), root.into()]
            }
        }
    }

    fn ref_api_sign_flags(&self) -> Vec<OsString> {
        match self {
            Method::Key { private, .. } => vec!["--private-key".into(), private.into()],
            Method::Certificate {
                private,
                cert,
                intermediate,
                ..
            } => vec![
                "--private-key".into(),
                private.into(),
                "--signing-certificate".into(),
                cert.into(),
                "--chain".into(),
                intermediate.into(),
            ],
        }
    }

    fn ref_api_verify_flags(&self) -> Vec<OsString> {
        match self {
            Method::Key { public, .. } => vec!["--public-key".into(), public.into()],
            Method::Certificate { root, .. } => vec!["--chain".into(), root.into()],
        }
    }
}

fn os(v: &[String]) -> Vec<OsString> {
    v.iter().map(OsString::from).collect()
}

fn refs(v: &[OsString]) -> Vec<&OsStr> {
    v.iter().map(OsString::as_os_str).collect()
}

fn msign_sign(m: &Method, model: &Path, sig: &Path, extra: &[OsString]) -> Command {
    let mut c = msign();
    c.args(["sign", m.name()])
        .arg(model)
        .arg("--signature")
        .arg(sig)
        .args(m.sign_flags())
        .args(extra);
    c
}

fn msign_verify(m: &Method, model: &Path, sig: &Path, extra: &[OsString]) -> Command {
    let mut c = msign();
    c.args(["verify", m.name()])
        .arg(model)
        .arg("--signature")
        .arg(sig)
        .args(m.verify_flags())
        .args(extra);
    c
}

fn ref_cli_sign(m: &Method, model: &Path, sig: &Path, extra: &[OsString]) -> Command {
    let mut c = reference_cli();
    c.args(["sign", m.name()])
        .arg(model)
        .arg("--signature")
        .arg(sig)
        .args(m.sign_flags())
        .args(extra);
    c
}

fn ref_cli_verify(m: &Method, model: &Path, sig: &Path, extra: &[OsString]) -> Command {
    let mut c = reference_cli();
    c.args(["verify", m.name()])
        .arg(model)
        .arg("--signature")
        .arg(sig)
        .args(m.verify_flags())
        .args(extra);
    c
}

fn ref_api_ok(action: &str, m: &Method, model: &Path, sig: &Path, ser: &Ser, what: &str) {
    let mut args: Vec<OsString> = vec![action.into(), m.name().into(), model.into(), sig.into()];
    args.extend(os(&ser.ref_args()));
    args.extend(if action == "sign" {
        m.ref_api_sign_flags()
    } else {
        m.ref_api_verify_flags()
    });
    let out = ref_api(&refs(&args));
    assert!(
        out.status.success(),
        "{what}: reference API {action} failed:\n{}{}",
        stdout(&out),
        stderr(&out)
    );
}

/// The sample model's resources, in the order both tools list them: component-wise path
/// order (`a/b` before `a.txt`), code points for the rest.
const SAMPLE_FILES: [&str; 7] = [
    "a/b",
    "a.txt",
    "config.json",
    "empty",
    "tokenizer/naïve ü.json",
    "weights/part-1.bin",
    "weights/part-2.bin",
];

/// Both directions and the payload comparison for every serialization.
fn round_trip(m: &Method, sers: &[Ser]) {
    let tmp = tempfile::tempdir().unwrap();
    let model = sample_model(tmp.path());
    for ser in sers {
        let what = format!("{} {}", m.name(), ser.label());
        let ms = tmp.path().join(format!("{}.msign.sig", ser.label()));
        let rs = tmp.path().join(format!("{}.ref.sig", ser.label()));

        // a) msign signs, the reference verifies.
        run_ok(&mut msign_sign(m, &model, &ms, &os(&ser.msign_args())));
        let st = statement_of(&ms);
        let s = &st["predicate"]["serialization"];
        assert_eq!(
            (
                s["method"].as_str().unwrap(),
                s["hash_type"].as_str().unwrap()
            ),
            ser.recorded,
            "{what}: serialization recorded by msign"
        );
        let names = resource_names(&st);
        if ser.recorded.0 == "files" {
            assert_eq!(names, SAMPLE_FILES, "{what}: resource order");
        } else {
            let size = ser.shard_size.unwrap_or(1_000_000_000);
            let part1: Vec<_> = names
                .iter()
                .filter(|n| n.starts_with("weights/part-1.bin:"))
                .collect();
            assert_eq!(part1.len() as u64, 200_000u64.div_ceil(size), "{what}");
            assert_eq!(
                *part1[0],
                format!("weights/part-1.bin:0:{}", size.min(200_000)),
                "{what}"
            );
        }
        ref_api_ok("verify", m, &model, &ms, ser, &what);
        if ser.is_default() {
            let out = run_ok(&mut ref_cli_verify(m, &model, &ms, &[]));
            assert!(stdout(&out).contains("Verification succeeded"), "{what}");
        }

        // b) the reference signs, msign verifies with no serialization flags.
        if ser.is_default() {
            run_ok(&mut ref_cli_sign(m, &model, &rs, &[]));
        } else {
            ref_api_ok("sign", m, &model, &rs, ser, &what);
        }
        let out = run_ok(&mut msign_verify(m, &model, &rs, &[]));
        assert!(
            stdout(&out).starts_with("Verification succeeded"),
            "{what}: {}",
            stdout(&out)
        );
        // And msign's own signature, for completeness of the matrix.
        run_ok(&mut msign_verify(m, &model, &ms, &[]));

        // c) same statement, byte for byte once the reference's arbitrary orders are fixed.
        assert_same_payload(&ms, &rs, &what);
    }
}

fn key_method(dir: &Path, curve: &str) -> Method {
    let (private, public) = ec_keypair(dir, curve);
    Method::Key { private, public }
}

fn cert_method(dir: &Path, curve: &str) -> Method {
    let pki = Pki::new(dir, curve);
    let (private, cert) = pki.leaf("leaf", curve);
    Method::Certificate {
        private,
        cert,
        intermediate: pki.intermediate.clone(),
        root: pki.root.clone(),
    }
}

#[test]
fn key_p256_every_serialization_both_directions() {
    let keys = tempfile::tempdir().unwrap();
    round_trip(&key_method(keys.path(), "prime256v1"), &SERIALIZATIONS);
}

#[test]
fn key_p384_every_serialization_both_directions() {
    let keys = tempfile::tempdir().unwrap();
    round_trip(&key_method(keys.path(), "secp384r1"), &SERIALIZATIONS);
}

#[test]
fn key_p521_every_serialization_both_directions() {
    let keys = tempfile::tempdir().unwrap();
    round_trip(&key_method(keys.path(), "secp521r1"), &SERIALIZATIONS);
}

#[test]
fn certificate_chain_every_serialization_both_directions() {
    let keys = tempfile::tempdir().unwrap();
    round_trip(&cert_method(keys.path(), "secp384r1"), &SERIALIZATIONS);
}

#[test]
fn certificate_chain_p256_and_p521_leaves() {
    let keys = tempfile::tempdir().unwrap();
    round_trip(
        &cert_method(keys.path(), "prime256v1"),
        &SERIALIZATIONS[..1],
    );
    round_trip(
        &cert_method(keys.path(), "secp521r1"),
        &SERIALIZATIONS[3..5],
    );
}

#[test]
fn payload_layout_is_message_to_json() {
    let tmp = tempfile::tempdir().unwrap();
    let model = sample_model(tmp.path());
    let m = key_method(tmp.path(), "prime256v1");
    let ms = tmp.path().join("m.sig");
    let rs = tmp.path().join("r.sig");
    run_ok(&mut msign_sign(&m, &model, &ms, &[]));
    run_ok(&mut ref_cli_sign(&m, &model, &rs, &[]));
    for sig in [&ms, &rs] {
        let p = payload_of(sig);
        assert!(p.is_ascii(), "{}: payload must be ASCII", sig.display());
        let text = String::from_utf8(p).unwrap();
        assert!(
            text.contains(r#""name": "tokenizer/na\u00efve \u00fc.json""#),
            "{}: non-ASCII names are \\u-escaped:\n{text}",
            sig.display()
        );
        assert!(text.starts_with(
            "{\n  \"_type\": \"https://in-toto.io/Statement/v1\",\n  \"subject\": [\n    {\n"
        ));
    }
    assert_same_payload(&ms, &rs, "default key signature");
}

/// Signs with msign and the reference CLI with the same arguments from `cwd`, checks the
/// statements are the same, and verifies each signature with the other tool. Returns
/// msign's statement.
fn sign_both(
    cwd: &Path,
    m: &Method,
    model: &str,
    sig: &str,
    sign_extra: &[&str],
    verify_extra: &[&str],
) -> serde_json::Value {
    let keep = tempfile::tempdir().unwrap();
    let (ms, rs) = (keep.path().join("m.sig"), keep.path().join("r.sig"));
    let sign_extra: Vec<OsString> = sign_extra.iter().map(OsString::from).collect();
    let verify_extra: Vec<OsString> = verify_extra.iter().map(OsString::from).collect();
    let (model, sig) = (Path::new(model), Path::new(sig));
    let at = cwd.join(sig);

    run_ok(msign_sign(m, model, sig, &sign_extra).current_dir(cwd));
    std::fs::copy(&at, &ms).unwrap();
    run_ok(ref_cli_sign(m, model, sig, &sign_extra).current_dir(cwd));
    std::fs::copy(&at, &rs).unwrap();
    assert_same_payload(&ms, &rs, &format!("sign {model:?} {sign_extra:?}"));

    // The reference's signature is in place: msign verifies it.
    run_ok(msign_verify(m, model, sig, &verify_extra).current_dir(cwd));
    // msign's signature in place: the reference verifies it.
    std::fs::copy(&ms, &at).unwrap();
    run_ok(ref_cli_verify(m, model, sig, &verify_extra).current_dir(cwd));
    statement_of(&ms)
}

fn ignore_paths(st: &serde_json::Value) -> Option<Vec<String>> {
    st["predicate"]["serialization"]
        .get("ignore_paths")
        .map(|v| {
            let mut v: Vec<String> = v
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_string())
                .collect();
            v.sort();
            v
        })
}

const GIT: [&str; 4] = [".git", ".gitattributes", ".github", ".gitignore"];

fn with_git(extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = GIT.iter().chain(extra).map(|s| s.to_string()).collect();
    v.sort();
    v
}

#[test]
fn ignore_paths_resolve_against_the_current_folder_like_the_reference() {
    let tmp = tempfile::tempdir().unwrap();
    let model = sample_model(tmp.path());
    std::fs::write(tmp.path().join("outside.txt"), "not in the model").unwrap();
    let m = key_method(tmp.path(), "prime256v1");
    let absolute = model.join("empty");
    let st = sign_both(
        tmp.path(),
        &m,
        "model",
        "s.sig",
        &[
            "--ignore-paths",
            "model/weights/part-2.bin",
            "--ignore-paths",
            "model/a",
            // Outside the model: dropped by both.
            "--ignore-paths",
            "outside.txt",
            "--ignore-paths",
            absolute.to_str().unwrap(),
            // Not normalised on the command line; resolved like Path.resolve().
            "--ignore-paths",
            "model/tokenizer/../config.json",
            // A trailing slash names the same folder.
            "--ignore-paths",
            "model/tokenizer/",
        ],
        &[],
    );
    assert_eq!(
        ignore_paths(&st).unwrap(),
        with_git(&[
            "a",
            "config.json",
            "empty",
            "tokenizer",
            "weights/part-2.bin"
        ])
    );
    assert_eq!(resource_names(&st), ["a.txt", "weights/part-1.bin"]);
}

#[test]
fn signature_inside_the_model_is_left_out() {
    let tmp = tempfile::tempdir().unwrap();
    sample_model(tmp.path());
    let m = key_method(tmp.path(), "prime256v1");
    let st = sign_both(tmp.path(), &m, "model", "model/model.sig", &[], &[]);
    assert_eq!(ignore_paths(&st).unwrap(), with_git(&["model.sig"]));
    assert!(!resource_names(&st).iter().any(|n| n == "model.sig"));
}

#[test]
fn git_paths_ignored_by_default_and_signed_with_no_ignore_git_paths() {
    let tmp = tempfile::tempdir().unwrap();
    let model = sample_model(tmp.path());
    for (p, c) in [
        (".gitignore", "*.tmp\n"),
        (".gitattributes", "*.bin filter=lfs\n"),
        (".github/workflows/ci.yml", "on: push\n"),
        (".git/HEAD", "ref: refs/heads/main\n"),
        (".gitfoo", "not a git path\n"),
    ] {
        std::fs::create_dir_all(model.join(p).parent().unwrap()).unwrap();
        std::fs::write(model.join(p), c).unwrap();
    }
    let m = key_method(tmp.path(), "prime256v1");

    let st = sign_both(tmp.path(), &m, "model", "s.sig", &[], &[]);
    assert_eq!(ignore_paths(&st).unwrap(), with_git(&[]));
    let names = resource_names(&st);
    assert!(names.contains(&".gitfoo".to_string()));
    assert!(!names
        .iter()
        .any(|n| n.starts_with(".git/") || n == ".gitignore"));

    let st = sign_both(
        tmp.path(),
        &m,
        "model",
        "s.sig",
        &["--no-ignore-git-paths"],
        &["--no-ignore-git-paths"],
    );
    assert_eq!(
        ignore_paths(&st),
        None,
        "the reference omits ignore_paths when nothing is ignored"
    );
    let names = resource_names(&st);
    for p in [
        ".git/HEAD",
        ".gitattributes",
        ".gitfoo",
        ".github/workflows/ci.yml",
        ".gitignore",
    ] {
        assert!(names.contains(&p.to_string()), "{p} signed: {names:?}");
    }
}

#[test]
fn model_path_dot_from_inside_the_model() {
    let tmp = tempfile::tempdir().unwrap();
    let model = sample_model(tmp.path());
    let m = key_method(tmp.path(), "prime256v1");
    let st = sign_both(
        &model,
        &m,
        ".",
        "../s.sig",
        &["--ignore-paths", "a.txt"],
        &[],
    );
    assert_eq!(st["subject"][0]["name"], "model");
    assert_eq!(ignore_paths(&st).unwrap(), with_git(&["a.txt"]));
    // The signature may also sit inside the model when signing from within.
    let st = sign_both(&model, &m, ".", "model.sig", &[], &[]);
    assert_eq!(ignore_paths(&st).unwrap(), with_git(&["model.sig"]));
}

#[test]
fn single_file_model_is_resource_dot() {
    let tmp = tempfile::tempdir().unwrap();
    sample_model(tmp.path());
    let m = key_method(tmp.path(), "secp384r1");
    let st = sign_both(
        tmp.path(),
        &m,
        "model/weights/part-1.bin",
        "s.sig",
        &[],
        &[],
    );
    assert_eq!(resource_names(&st), ["."]);
    assert_eq!(st["subject"][0]["name"], "part-1.bin");
}

#[test]
fn ignore_unsigned_files_both_spellings_like_the_reference() {
    let tmp = tempfile::tempdir().unwrap();
    let model = sample_model(tmp.path());
    let m = key_method(tmp.path(), "prime256v1");
    let sig = tmp.path().join("s.sig");
    run_ok(&mut msign_sign(&m, &model, &sig, &[]));
    std::fs::write(model.join("weights/unsigned.bin"), "added later").unwrap();

    let out = run_fails(&mut msign_verify(&m, &model, &sig, &[]), 1);
    assert!(stderr(&out).contains("weights/unsigned.bin"));
    run_fails(&mut ref_cli_verify(&m, &model, &sig, &[]), 1);
    for flag in ["--ignore_unsigned_files", "--ignore-unsigned-files"] {
        run_ok(&mut msign_verify(&m, &model, &sig, &[flag.into()]));
    }
    run_ok(&mut ref_cli_verify(
        &m,
        &model,
        &sig,
        &["--ignore_unsigned_files".into()],
    ));

    // Files that were signed are still checked.
    flip_byte(&model.join("a.txt"), 0);
    for flag in ["--ignore_unsigned_files", "--ignore-unsigned-files"] {
        let out = run_fails(&mut msign_verify(&m, &model, &sig, &[flag.into()]), 1);
        assert!(stderr(&out).contains("a.txt"));
    }
    run_fails(
        &mut ref_cli_verify(&m, &model, &sig, &["--ignore_unsigned_files".into()]),
        1,
    );
}

#[test]
fn sec1_pkcs8_and_encrypted_pkcs8_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let model = sample_model(tmp.path());
    let (sec1, public) = ec_keypair(tmp.path(), "secp384r1");
    let pkcs8 = tmp.path().join("pkcs8.pem");
    let encrypted = tmp.path().join("encrypted.pem");
    to_pkcs8(&sec1, &pkcs8, None);
    to_pkcs8(&sec1, &encrypted, Some("s3cret pass"));
    assert!(std::fs::read_to_string(&encrypted)
        .unwrap()
        .contains("ENCRYPTED PRIVATE KEY"));

    for (private, extra) in [
        (&sec1, vec![]),
        (&pkcs8, vec![]),
        (
            &encrypted,
            vec![OsString::from("--password"), OsString::from("s3cret pass")],
        ),
    ] {
        let m = Method::Key {
            private: private.clone(),
            public: public.clone(),
        };
        let sig = tmp.path().join("s.sig");
        run_ok(&mut msign_sign(&m, &model, &sig, &extra));
        run_ok(&mut ref_cli_verify(&m, &model, &sig, &[]));
        std::fs::remove_file(&sig).unwrap();
        if extra.is_empty() {
            // The reference signs with the same key file; msign verifies.
            run_ok(&mut ref_cli_sign(&m, &model, &sig, &[]));
            run_ok(&mut msign_verify(&m, &model, &sig, &[]));
        }
    }

    // The password can also come from the environment, kept off the command line.
    let m = Method::Key {
        private: encrypted.clone(),
        public: public.clone(),
    };
    let sig = tmp.path().join("env.sig");
    run_ok(msign_sign(&m, &model, &sig, &[]).env("MSIGN_KEY_PASSWORD", "s3cret pass"));
    run_ok(&mut ref_cli_verify(&m, &model, &sig, &[]));
}

#[test]
fn allowed_symlinks_sign_the_same_statement() {
    let tmp = tempfile::tempdir().unwrap();
    let model = sample_model(tmp.path());
    std::os::unix::fs::symlink("../a.txt", model.join("weights/link.txt")).unwrap();
    std::os::unix::fs::symlink("part-1.bin", model.join("weights/alias.bin")).unwrap();
    // Neither tool descends into a linked folder.
    std::os::unix::fs::symlink("weights", model.join("linked-folder")).unwrap();
    let m = key_method(tmp.path(), "prime256v1");
    let st = sign_both(
        tmp.path(),
        &m,
        "model",
        "s.sig",
        &["--allow_symlinks"],
        &["--allow_symlinks"],
    );
    assert_eq!(st["predicate"]["serialization"]["allow_symlinks"], true);
    let names = resource_names(&st);
    for n in ["weights/alias.bin", "weights/link.txt"] {
        assert!(names.contains(&n.to_string()), "{n} in {names:?}");
    }
    assert!(
        !names.iter().any(|n| n.starts_with("linked-folder")),
        "{names:?}"
    );
}

#[test]
fn tricky_names_sign_the_same_statement() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("model");
    for name in [
        "a/b",
        "a-b/c",
        "a b/c",
        "a.txt",
        "quote\"name",
        "back\\slash",
        "tab\tname",
        "new\nline",
        "emoji 😀.bin",
        "日本.txt",
        "Zed",
        "zed",
        "é",
        "e",
        "~tilde",
        "#hash",
    ] {
        let p = model.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, name).unwrap();
    }
    let m = key_method(tmp.path(), "prime256v1");
    let st = sign_both(tmp.path(), &m, "model", "s.sig", &[], &[]);
    let names = resource_names(&st);
    assert_eq!(names.len(), 16);
    assert_eq!(&names[..4], ["#hash", "Zed", "a/b", "a b/c"]);
    // Characters outside the BMP are written as surrogate pairs, as json.dumps does.
    let payload = String::from_utf8(payload_of(&tmp.path().join("s.sig"))).unwrap();
    assert!(payload.contains(r"emoji \ud83d\ude00.bin"), "{payload}");
}

#[test]
fn literal_ignore_paths_with_glob_characters() {
    // The reference records `--ignore-paths` as literal paths; msign reads recorded entries
    // with glob syntax as patterns too. Files the signature lists must still be checked.
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("model");
    for name in [
        "data[1].bin",
        "data1.bin",
        "ckpt[0]/w.bin",
        "ckpt0/w.bin",
        "!notes.txt",
        "notes.txt",
        "half[open.bin",
        "x",
    ] {
        let p = model.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, name).unwrap();
    }
    let m = key_method(tmp.path(), "prime256v1");
    let st = sign_both(
        tmp.path(),
        &m,
        "model",
        "s.sig",
        &[
            "--ignore-paths",
            "model/data[1].bin",
            "--ignore-paths",
            "model/ckpt[0]",
            // Negation syntax to msign's patterns, a plain name to the reference.
            "--ignore-paths",
            "model/!notes.txt",
            // Not even a valid pattern.
            "--ignore-paths",
            "model/half[open.bin",
        ],
        &[],
    );
    assert_eq!(
        resource_names(&st),
        ["ckpt0/w.bin", "data1.bin", "notes.txt", "x"]
    );
    // A signed file matching the recorded entry as a pattern is still verified.
    std::fs::write(model.join("data1.bin"), "changed").unwrap();
    let out = run_fails(
        msign_verify(&m, Path::new("model"), Path::new("s.sig"), &[]).current_dir(tmp.path()),
        1,
    );
    assert!(stderr(&out).contains("data1.bin"), "{}", stderr(&out));
}

#[test]
fn empty_model_folder_is_refused_where_the_reference_signs_it() {
    // A deliberate difference: the reference signs an empty folder, and that signature
    // verifies any folder with --ignore_unsigned_files. OMS v1.0 §6.1 and §5.2.1 refuse
    // both; msign does (tests/coverage.rs has the rest).
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("model")).unwrap();
    let m = key_method(tmp.path(), "prime256v1");
    let (model, sig) = (Path::new("model"), Path::new("s.sig"));
    run_ok(ref_cli_sign(&m, model, sig, &[]).current_dir(tmp.path()));
    let st = statement_of(&tmp.path().join(sig));
    assert_eq!(resource_names(&st), Vec::<String>::new());
    // SHA-256 of nothing: there are no resource digests to chain.
    assert_eq!(
        st["subject"][0]["digest"]["sha256"],
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    let out = run_fails(msign_verify(&m, model, sig, &[]).current_dir(tmp.path()), 1);
    assert!(
        stderr(&out).contains("lists no resource"),
        "{}",
        stderr(&out)
    );
    std::fs::remove_file(tmp.path().join(sig)).unwrap();
    let out = run_fails(msign_sign(&m, model, sig, &[]).current_dir(tmp.path()), 2);
    assert!(stderr(&out).contains("nothing to sign"), "{}", stderr(&out));
    assert!(!tmp.path().join(sig).exists());
}

#[test]
fn ignoring_a_signed_file_at_verification_fails_like_the_reference() {
    let tmp = tempfile::tempdir().unwrap();
    let model = sample_model(tmp.path());
    let m = key_method(tmp.path(), "prime256v1");
    let sig = tmp.path().join("s.sig");
    run_ok(&mut msign_sign(&m, &model, &sig, &[]));
    for ignored in ["model/a.txt", "model/weights"] {
        let extra = [OsString::from("--ignore-paths"), OsString::from(ignored)];
        let out = run_fails(
            msign_verify(&m, Path::new("model"), &sig, &extra).current_dir(tmp.path()),
            1,
        );
        assert!(
            stderr(&out).contains("signed but missing from the model"),
            "{ignored}: {}",
            stderr(&out)
        );
        run_fails(
            ref_cli_verify(&m, Path::new("model"), &sig, &extra).current_dir(tmp.path()),
            1,
        );
    }
    // Ignoring something that was not signed is fine for both.
    std::fs::write(model.join("notes.md"), "unsigned").unwrap();
    let extra = [
        OsString::from("--ignore-paths"),
        OsString::from("model/notes.md"),
    ];
    run_ok(msign_verify(&m, Path::new("model"), &sig, &extra).current_dir(tmp.path()));
    run_ok(ref_cli_verify(&m, Path::new("model"), &sig, &extra).current_dir(tmp.path()));
}
