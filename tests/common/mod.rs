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

/// stdout of a finished command, lossy UTF-8.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// stderr of a finished command, lossy UTF-8.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Fails the test if a process panicked (Rust prints "panicked" on stderr).
pub fn assert_no_panic(out: &Output) {
    let err = stderr(out);
    assert!(!err.contains("panicked"), "the process panicked:\n{err}");
    assert!(
        out.status.code().is_some(),
        "the process was killed by a signal: {:?}",
        out.status
    );
}

/// Copies a folder tree (regular files and folders only).
pub fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), &to).unwrap();
            // Fixtures may be read-only in CI; copies must be writable to be tampered with.
            let mut perm = std::fs::metadata(&to).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perm.set_readonly(false);
            std::fs::set_permissions(&to, perm).unwrap();
        }
    }
}

/// Flips the lowest bit of the byte at `offset` of a file.
pub fn flip_byte(path: &Path, offset: usize) {
    let mut b = std::fs::read(path).unwrap();
    assert!(
        offset < b.len(),
        "{} is too short to tamper with",
        path.display()
    );
    b[offset] ^= 1;
    std::fs::write(path, b).unwrap();
}

/// The bundle of a signature file, as JSON.
pub fn bundle_json(sig: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(sig).unwrap()).expect("signature is JSON")
}

/// The decoded DSSE payload (the statement bytes) of a signature file.
pub fn payload_of(sig: &Path) -> Vec<u8> {
    use base64::Engine as _;
    let b = bundle_json(sig);
    let p = b["dsseEnvelope"]["payload"].as_str().expect("payload");
    base64::engine::general_purpose::STANDARD
        .decode(p)
        .expect("payload is base64")
}

/// The decoded statement of a signature file.
pub fn statement_of(sig: &Path) -> serde_json::Value {
    serde_json::from_slice(&payload_of(sig)).expect("statement is JSON")
}

/// Resource names of a statement, in the order listed.
pub fn resource_names(statement: &serde_json::Value) -> Vec<String> {
    statement["predicate"]["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect()
}

/// The resources of `msign digest --json` output, as name -> hex digest.
pub fn digests_by_name(json: &[u8]) -> std::collections::BTreeMap<String, String> {
    let v: serde_json::Value = serde_json::from_slice(json).expect("digest output is JSON");
    v["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["digest"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Drives the reference's Python API: `sign|verify key|certificate MODEL SIG` with a
/// hashing config built from `--serialization files|shards`, `--hash sha256|blake2|blake3`,
/// `--shard-size N`, `--ignore P` (model-relative), `--no-ignore-git-paths`; keys with
/// `--private-key/--password/--public-key`, certificates with `--signing-certificate` and
/// `--chain` (intermediates when signing, roots when verifying). Exit 0 and "ok" on success.
pub const REF_API: &str = r#"
import argparse, pathlib, sys
import model_signing
p = argparse.ArgumentParser()
p.add_argument("action", choices=["sign", "verify"])
p.add_argument("method", choices=["key", "certificate"])
p.add_argument("model")
p.add_argument("signature")
p.add_argument("--serialization", default="files")
p.add_argument("--hash", default="sha256")
p.add_argument("--shard-size", type=int)
p.add_argument("--private-key")
p.add_argument("--password")
p.add_argument("--public-key")
p.add_argument("--signing-certificate")
p.add_argument("--chain", action="append", default=[])
p.add_argument("--ignore", action="append", default=[])
p.add_argument("--no-ignore-git-paths", action="store_true")
p.add_argument("--ignore-unsigned-files", action="store_true")
a = p.parse_args()
hc = model_signing.hashing.Config()
if a.serialization == "files":
    hc.use_file_serialization(hashing_algorithm=a.hash)
else:
    size = {} if a.shard_size is None else {"shard_size": a.shard_size}
    hc.use_shard_serialization(hashing_algorithm=a.hash, **size)
hc.set_ignored_paths(paths=a.ignore, ignore_git_paths=not a.no_ignore_git_paths)
model = pathlib.Path(a.model)
try:
    if a.action == "sign":
        c = model_signing.signing.Config().set_hashing_config(hc)
        if a.method == "key":
            c.use_elliptic_key_signer(private_key=a.private_key, password=a.password)
        else:
            c.use_certificate_signer(private_key=a.private_key,
                                     signing_certificate=a.signing_certificate,
                                     certificate_chain=a.chain)
        c.sign(model, a.signature)
    else:
        c = model_signing.verifying.Config().set_hashing_config(hc)
        c.set_ignore_unsigned_files(a.ignore_unsigned_files)
        if a.method == "key":
            c.use_elliptic_key_verifier(public_key=a.public_key)
        else:
            c.use_certificate_verifier(certificate_chain=a.chain)
        c.verify(model, a.signature)
except Exception as e:
    print(f"reference {a.action} failed: {type(e).__name__}: {e}", file=sys.stderr)
    sys.exit(1)
print("ok")
"#;

/// Runs [`REF_API`] with these arguments.
pub fn ref_api(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(reference_python())
        .arg("-c")
        .arg(REF_API)
        .args(args)
        .output()
        .expect("run reference python")
}

/// Compares the statements of two signatures made over the same folder with the same
/// options, the first by msign, the second by the reference. Checks that msign's payload
/// bytes are exactly what `json.dumps(indent=2)` (which the reference's `MessageToJson`
/// calls, with `ensure_ascii`) writes for its content, and that the reference's payload,
/// once its arbitrary orders are fixed (protobuf `Struct` key order, `ignore_paths` set
/// order), is byte for byte msign's payload. Prints "identical" on success.
pub const COMPARE_PAYLOADS: &str = r#"
import base64, json, sys
def payload(p):
    with open(p, encoding="utf-8") as f:
        return base64.b64decode(json.load(f)["dsseEnvelope"]["payload"])
m, r = payload(sys.argv[1]), payload(sys.argv[2])
mo, ro = json.loads(m), json.loads(r)
if json.dumps(mo, indent=2).encode() != m:
    sys.exit("msign's payload is not laid out as MessageToJson lays it out")
if json.dumps(ro, indent=2).encode() != r:
    sys.exit("the reference's payload is not laid out as expected (test assumption broken)")
def like(ref, ms, where):
    if isinstance(ref, dict) and isinstance(ms, dict):
        if sorted(ref) != sorted(ms):
            sys.exit(f"{where}: keys differ: reference {sorted(ref)} msign {sorted(ms)}")
        return {k: like(ref[k], ms[k], where + "." + k) for k in ms}
    if isinstance(ref, list) and isinstance(ms, list):
        if len(ref) != len(ms):
            sys.exit(f"{where}: reference has {len(ref)} items, msign {len(ms)}")
        return [like(x, y, f"{where}[{i}]") for i, (x, y) in enumerate(zip(ref, ms))]
    return ref
ser = ro["predicate"]["serialization"]
if "ignore_paths" in ser:
    ser["ignore_paths"] = sorted(ser["ignore_paths"])
want = json.dumps(like(ro, mo, "statement"), indent=2).encode()
if want != m:
    sys.exit("payloads differ:\n--- reference (reordered)\n" + want.decode() + "\n--- msign\n" + m.decode())
print("identical")
"#;

/// Asserts that msign's and the reference's signatures carry the same statement (see
/// [`COMPARE_PAYLOADS`]).
pub fn assert_same_payload(msign_sig: &Path, reference_sig: &Path, what: &str) {
    let out = Command::new(reference_python())
        .arg("-c")
        .arg(COMPARE_PAYLOADS)
        .arg(msign_sig)
        .arg(reference_sig)
        .output()
        .expect("run reference python");
    assert!(
        out.status.success() && stdout(&out).trim() == "identical",
        "{what}: statements differ\n{}{}",
        stdout(&out),
        stderr(&out)
    );
}

/// Converts a SEC1 EC key to PKCS#8, encrypted with `password` when given.
pub fn to_pkcs8(sec1: &Path, out: &Path, password: Option<&str>) {
    let mut cmd = Command::new("openssl");
    cmd.args(["pkcs8", "-topk8", "-in"])
        .arg(sec1)
        .arg("-out")
        .arg(out);
    match password {
        Some(p) => cmd
            .args(["-v2", "aes-256-cbc", "-passout"])
            .arg(format!("pass:{p}")),
        None => cmd.arg("-nocrypt"),
    };
    run_ok(&mut cmd);
}

/// A small certificate authority made with the openssl CLI: a root and an intermediate CA
/// (P-384, valid 2019-2049), issuing leaves with chosen extensions and validity.
pub struct Pki {
    /// Folder holding every key, certificate and the CA database.
    pub dir: PathBuf,
    /// Root certificate (PEM): what verification trusts.
    pub root: PathBuf,
    /// Root private key.
    pub root_key: PathBuf,
    /// Intermediate certificate (PEM): what signing puts in the chain.
    pub intermediate: PathBuf,
    /// Intermediate private key.
    pub intermediate_key: PathBuf,
}

/// Extensions of a proper code-signing leaf.
pub const CODE_SIGNING_EXT: &str =
    "keyUsage = critical, digitalSignature\nextendedKeyUsage = codeSigning\n";
/// Extensions of a CA certificate.
const CA_EXT: &str = "basicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign, cRLSign\nsubjectKeyIdentifier = hash\n";

impl Pki {
    /// Creates the root and the intermediate in `dir` (which must exist).
    pub fn new(dir: &Path, name: &str) -> Self {
        let dir = dir.join(format!("pki-{name}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("index.txt"), "").unwrap();
        std::fs::write(dir.join("serial"), "1000\n").unwrap();
        let root_key = Self::key(&dir, "root", "secp384r1");
        let csr = Self::csr(&dir, &root_key, &format!("{name} root"));
        let root = dir.join("root.pem");
        run_ok(
            Self::ca_cmd(
                &dir,
                CA_EXT,
                "20190101000000Z",
                "20491231000000Z",
                &csr,
                &root,
            )
            .arg("-selfsign")
            .arg("-keyfile")
            .arg(&root_key),
        );
        let mut pki = Pki {
            dir: dir.clone(),
            root: root.clone(),
            root_key: root_key.clone(),
            intermediate: dir.join("intermediate.pem"),
            intermediate_key: Self::key(&dir, "intermediate", "secp384r1"),
        };
        let csr = Self::csr(&dir, &pki.intermediate_key, &format!("{name} intermediate"));
        pki.intermediate = pki.issue(
            &root,
            &root_key,
            CA_EXT,
            "20190101000000Z",
            "20491231000000Z",
            &csr,
            "intermediate.pem",
        );
        pki
    }

    fn key(dir: &Path, name: &str, curve: &str) -> PathBuf {
        let key = dir.join(format!("{name}.key"));
        run_ok(
            Command::new("openssl")
                .args(["ecparam", "-name", curve, "-genkey", "-noout", "-out"])
                .arg(&key),
        );
        key
    }

    fn csr(dir: &Path, key: &Path, cn: &str) -> PathBuf {
        let csr = dir.join(format!("{}.csr", cn.replace(' ', "-")));
        run_ok(
            Command::new("openssl")
                .args(["req", "-new", "-key"])
                .arg(key)
                .arg("-subj")
                .arg(format!("/CN={cn}"))
                .arg("-out")
                .arg(&csr),
        );
        csr
    }

    fn ca_cmd(dir: &Path, ext: &str, start: &str, end: &str, csr: &Path, out: &Path) -> Command {
        let cnf = dir.join(format!(
            "ca-{}.cnf",
            out.file_stem().unwrap().to_string_lossy()
        ));
        std::fs::write(
            &cnf,
            format!(
                "[ca]\ndefault_ca = d\n[d]\ndatabase = {db}\nnew_certs_dir = {dir}\nserial = {serial}\n\
                 default_md = sha256\npolicy = pol\nunique_subject = no\nemail_in_dn = no\n\
                 [pol]\ncommonName = supplied\n[ext]\n{ext}",
                db = dir.join("index.txt").display(),
                dir = dir.display(),
                serial = dir.join("serial").display(),
            ),
        )
        .unwrap();
        let mut cmd = Command::new("openssl");
        cmd.args(["ca", "-batch", "-notext", "-config"])
            .arg(&cnf)
            .args([
                "-extensions",
                "ext",
                "-startdate",
                start,
                "-enddate",
                end,
                "-in",
            ])
            .arg(csr)
            .arg("-out")
            .arg(out);
        cmd
    }

    #[allow(clippy::too_many_arguments)]
    fn issue(
        &self,
        ca: &Path,
        ca_key: &Path,
        ext: &str,
        start: &str,
        end: &str,
        csr: &Path,
        file: &str,
    ) -> PathBuf {
        let out = self.dir.join(file);
        run_ok(
            Self::ca_cmd(&self.dir, ext, start, end, csr, &out)
                .arg("-cert")
                .arg(ca)
                .arg("-keyfile")
                .arg(ca_key),
        );
        out
    }

    /// A leaf issued by the intermediate with these extension lines (openssl config
    /// syntax) and validity (`YYYYMMDDHHMMSSZ`). Returns (private key, certificate).
    pub fn leaf_with(
        &self,
        name: &str,
        curve: &str,
        ext: &str,
        start: &str,
        end: &str,
    ) -> (PathBuf, PathBuf) {
        let key = Self::key(&self.dir, name, curve);
        let csr = Self::csr(&self.dir, &key, name);
        let cert = self.issue(
            &self.intermediate,
            &self.intermediate_key,
            ext,
            start,
            end,
            &csr,
            &format!("{name}.pem"),
        );
        (key, cert)
    }

    /// A code-signing leaf (KU digitalSignature, EKU codeSigning), valid 2024-2049.
    pub fn leaf(&self, name: &str, curve: &str) -> (PathBuf, PathBuf) {
        self.leaf_with(
            name,
            curve,
            CODE_SIGNING_EXT,
            "20240101000000Z",
            "20491231000000Z",
        )
    }
}

/// Runs the shell command `line` on a pseudo-terminal (util-linux `script`, started from
/// `script`, a `Command` for "script" carrying any environment), typing each answer once
/// its prompt has appeared. Returns (exit code, everything the terminal showed).
pub fn on_terminal(mut script: Command, line: &str, answers: &[(&str, &str)]) -> (i32, String) {
    use std::io::{Read, Write};
    use std::process::Stdio;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    let mut child = script
        .args(["-qec", line, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script (util-linux) must be installed");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut stdout = child.stdout.take().unwrap();
    let sink = Arc::clone(&seen);
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    let shown = || String::from_utf8_lossy(&seen.lock().unwrap()).into_owned();
    let start = Instant::now();
    let mut stdin = child.stdin.take().unwrap();
    for (i, (prompt, answer)) in answers.iter().enumerate() {
        // The same prompt may come twice (a new password, then its confirmation).
        loop {
            let text = shown();
            let count = answers[..=i].iter().filter(|(p, _)| p == prompt).count();
            if text.matches(prompt).count() >= count {
                break;
            }
            if child.try_wait().unwrap().is_some() {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "no prompt {prompt:?}: {text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // Echo is off once the prompt is printed; give the terminal a moment anyway.
        std::thread::sleep(Duration::from_millis(200));
        let _ = stdin.write_all(format!("{answer}\n").as_bytes());
    }
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("the command did not finish after its answers: {}", shown());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(stdin);
    reader.join().unwrap();
    (status.code().unwrap_or(-1), shown())
}

/// POSTs `body` as JSON to a loopback test server and reads its JSON answer.
pub fn post_json(url: &str, body: &serde_json::Value) -> serde_json::Value {
    post_bytes(url, &serde_json::to_vec(body).unwrap(), &[])
}

/// POSTs `body` with `headers` to a loopback test server and reads its JSON answer.
pub fn post_bytes(url: &str, body: &[u8], headers: &[(&str, &str)]) -> serde_json::Value {
    let mut req = reqwest::blocking::Client::new()
        .post(url)
        .header("Content-Type", "application/json")
        .body(body.to_vec());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().unwrap().error_for_status().unwrap();
    serde_json::from_reader(resp).unwrap()
}

/// A loopback server that accepts connections and never answers (nor closes them), as a
/// hung server or a black-holing middlebox does.
pub struct SilentServer {
    /// `127.0.0.1:PORT`.
    pub addr: String,
    accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl SilentServer {
    /// Starts the server; it lives as long as the test process.
    pub fn start() -> SilentServer {
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = accepted.clone();
        std::thread::spawn(move || {
            let mut held = Vec::new();
            for s in listener.incoming().flatten() {
                count.fetch_add(1, Ordering::SeqCst);
                held.push(s);
            }
        });
        SilentServer { addr, accepted }
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Whether the error text `err` says `needle`: each part of it between " … " appears (msign's
/// sentence for a failed check, then the detail of the crate that found it).
pub fn says(err: &str, needle: &str) -> bool {
    needle.split(" … ").all(|part| err.contains(part))
}
