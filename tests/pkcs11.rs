//! PKCS #11 signing against a real SoftHSM2 token: each test initialises its own token in a
//! temporary directory (SOFTHSM2_CONF), creates keys with pkcs11-tool (OpenSC), signs with
//! msign and verifies with msign and with the reference, and the other way round.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{msign, on_terminal, reference_cli, run_fails, run_ok, sample_model};
use sha2::{Digest, Sha256};

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const PIN: &str = "1234";
const CURVES: [&str; 3] = ["prime256v1", "secp384r1", "secp521r1"];

/// A SoftHSM2 token living in its own temporary directory.
struct Token {
    dir: tempfile::TempDir,
    conf: PathBuf,
    label: String,
}

impl Token {
    fn new(label: &str) -> Token {
        assert!(
            Path::new(MODULE).is_file(),
            "{MODULE} missing: install softhsm2 (run .ci/run)"
        );
        let dir = tempfile::tempdir().unwrap();
        let tokens = dir.path().join("tokens");
        std::fs::create_dir(&tokens).unwrap();
        let conf = dir.path().join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .unwrap();
        let t = Token {
            dir,
            conf,
            label: label.to_string(),
        };
        run_ok(t.cmd("softhsm2-util").args([
            "--init-token",
            "--free",
            "--label",
            label,
            "--so-pin",
            "5678",
            "--pin",
            PIN,
        ]));
        t
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Any command, pointed at this token's configuration.
    fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("SOFTHSM2_CONF", &self.conf);
        c
    }

    fn msign(&self) -> Command {
        let mut c = msign();
        c.env("SOFTHSM2_CONF", &self.conf);
        c
    }

    fn reference(&self) -> Command {
        let mut c = reference_cli();
        c.env("SOFTHSM2_CONF", &self.conf);
        c
    }

    fn tool(&self) -> Command {
        let mut c = self.cmd("pkcs11-tool");
        c.args([
            "--module",
            MODULE,
            "--token-label",
            &self.label,
            "--login",
            "--pin",
            PIN,
        ]);
        c
    }

    /// Generates a key pair inside the token.
    fn generate(&self, key_type: &str, label: &str, id: &str) {
        run_ok(self.tool().args([
            "--keypairgen",
            "--key-type",
            key_type,
            "--label",
            label,
            "--id",
            id,
        ]));
    }

    /// Imports an EC key made outside (PEM), private and public objects with one label and id.
    fn import(&self, key_pem: &Path, label: &str, id: &str) {
        let der = self.path().join(format!("{label}.p8.der"));
        let pubder = self.path().join(format!("{label}.pub.der"));
        run_ok(
            Command::new("openssl")
                .args(["pkcs8", "-topk8", "-nocrypt", "-outform", "DER", "-in"])
                .arg(key_pem)
                .arg("-out")
                .arg(&der),
        );
        run_ok(
            Command::new("openssl")
                .args(["pkey", "-pubout", "-outform", "DER", "-in"])
                .arg(key_pem)
                .arg("-out")
                .arg(&pubder),
        );
        for (file, kind) in [(&der, "privkey"), (&pubder, "pubkey")] {
            run_ok(
                self.tool()
                    .arg("--write-object")
                    .arg(file)
                    .args(["--type", kind, "--label", label, "--id", id]),
            );
        }
    }

    /// The token's public key object (by label, and id when given), as a PEM file. Read
    /// with PyKCS11 and `cryptography` from the reference's environment: OpenSC's
    /// `pkcs11-tool --read-object` cannot export P-384 keys ("cannot create EVP_PKEY").
    fn export_public(&self, label: &str) -> PathBuf {
        self.export_public_with_id(label, "")
    }

    fn export_public_with_id(&self, label: &str, id_hex: &str) -> PathBuf {
        let pem = self.path().join(format!("{label}{id_hex}.export.pem"));
        run_ok(
            self.cmd(common::reference_python().to_str().unwrap())
                .args(["-c", EXPORT_PUBLIC, MODULE, &self.label, label, id_hex])
                .arg(&pem),
        );
        pem
    }

    fn uri(&self, object: &str) -> String {
        format!(
            "pkcs11:token={};object={object}?module-path={MODULE}&pin-value={PIN}",
            self.label
        )
    }
}

const EXPORT_PUBLIC: &str = r#"
import sys, PyKCS11
from asn1crypto.core import OctetString
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
module, token, label, id_hex, out = sys.argv[1:]
lib = PyKCS11.PyKCS11Lib()
lib.load(module)
slots = [s for s in lib.getSlotList(tokenPresent=True) if lib.getTokenInfo(s).label.strip() == token]
assert len(slots) == 1, slots
session = lib.openSession(slots[0])
template = [(PyKCS11.CKA_CLASS, PyKCS11.CKO_PUBLIC_KEY), (PyKCS11.CKA_LABEL, label)]
if id_hex:
    template.append((PyKCS11.CKA_ID, tuple(bytes.fromhex(id_hex))))
objects = session.findObjects(template)
assert len(objects) == 1, objects
params, point = session.getAttributeValue(objects[0], [PyKCS11.CKA_EC_PARAMS, PyKCS11.CKA_EC_POINT])
curve = {
    "06082a8648ce3d030107": ec.SECP256R1(),
    "06052b81040022": ec.SECP384R1(),
    "06052b81040023": ec.SECP521R1(),
}[bytes(params).hex()]
key = ec.EllipticCurvePublicKey.from_encoded_point(curve, OctetString.load(bytes(point)).native)
with open(out, "wb") as f:
    f.write(key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
"#;

fn bundle(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Signs `model` with `sign pkcs11-key`; returns the signature path.
fn msign_pkcs11_key(token: &Token, model: &Path, uri: &str, name: &str) -> PathBuf {
    let sig = token.path().join(name);
    run_ok(
        token
            .msign()
            .args(["sign", "pkcs11-key"])
            .arg(model)
            .args(["--pkcs11-uri", uri, "--signature"])
            .arg(&sig),
    );
    sig
}

fn verify_key_both(token: &Token, model: &Path, sig: &Path, public: &Path) {
    run_ok(
        msign()
            .args(["verify", "key"])
            .arg(model)
            .arg("--signature")
            .arg(sig)
            .arg("--public-key")
            .arg(public),
    );
    run_ok(
        token
            .reference()
            .args(["verify", "key"])
            .arg(model)
            .arg("--signature")
            .arg(sig)
            .arg("--public_key")
            .arg(public),
    );
}

#[test]
fn pkcs11_key_signs_on_every_curve_and_both_tools_verify() {
    let token = Token::new("ml");
    let model = sample_model(token.path());
    for (i, curve) in CURVES.iter().enumerate() {
        let label = format!("key-{curve}");
        token.generate(&format!("EC:{curve}"), &label, &format!("0{}", i + 1));
        let sig = msign_pkcs11_key(&token, &model, &token.uri(&label), &format!("{curve}.sig"));
        let public = token.export_public(&label);
        verify_key_both(&token, &model, &sig, &public);

        // Same form as `sign key`: the hint is the sha256 of the public key PEM, no chain.
        let b = bundle(&sig);
        let pem = std::fs::read(&public).unwrap();
        assert_eq!(
            b["verificationMaterial"]["publicKey"]["hint"],
            hex::encode(Sha256::digest(&pem)),
            "{curve}"
        );
        assert!(b["verificationMaterial"]
            .get("x509CertificateChain")
            .is_none());

        // Another curve's key must not verify it.
        if i > 0 {
            let other = token.export_public(&format!("key-{}", CURVES[0]));
            run_fails(
                msign()
                    .args(["verify", "key"])
                    .arg(&model)
                    .arg("--signature")
                    .arg(&sig)
                    .arg("--public-key")
                    .arg(&other),
                1,
            );
        }
    }
}

#[test]
fn reference_pkcs11_key_signature_verifies_in_msign() {
    let token = Token::new("ref");
    let model = sample_model(token.path());
    for (i, curve) in CURVES.iter().enumerate() {
        let label = format!("k{i}");
        token.generate(&format!("EC:{curve}"), &label, &format!("1{i}"));
        let sig = token.path().join(format!("ref-{curve}.sig"));
        run_ok(
            token
                .reference()
                .args(["sign", "pkcs11-key"])
                .arg(&model)
                .args(["--pkcs11_uri", &token.uri(&label), "--signature"])
                .arg(&sig),
        );
        let public = token.export_public(&label);
        run_ok(
            msign()
                .args(["verify", "key"])
                .arg(&model)
                .arg("--signature")
                .arg(&sig)
                .arg("--public_key")
                .arg(&public),
        );
        // msign's bundle for the same key names it identically.
        let ours = msign_pkcs11_key(
            &token,
            &model,
            &token.uri(&label),
            &format!("ours-{curve}.sig"),
        );
        assert_eq!(
            bundle(&ours)["verificationMaterial"],
            bundle(&sig)["verificationMaterial"]
        );
    }
}

/// A root CA, an intermediate and a code-signing leaf for `leaf_key`.
/// Returns (root, intermediate, leaf) PEM paths.
fn certificate_chain(dir: &Path, leaf_key: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let openssl = |args: &[&str]| {
        run_ok(Command::new("openssl").current_dir(dir).args(args));
    };
    std::fs::write(
        dir.join("ca.ext"),
        "basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("leaf.ext"),
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n",
    )
    .unwrap();
    openssl(&[
        "ecparam",
        "-name",
        "prime256v1",
        "-genkey",
        "-noout",
        "-out",
        "root.key",
    ]);
    openssl(&[
        "req",
        "-x509",
        "-new",
        "-key",
        "root.key",
        "-subj",
        "/CN=msign test root",
        "-days",
        "3",
        "-addext",
        "basicConstraints=critical,CA:true",
        "-addext",
        "keyUsage=critical,keyCertSign",
        "-out",
        "root.pem",
    ]);
    openssl(&[
        "ecparam",
        "-name",
        "secp384r1",
        "-genkey",
        "-noout",
        "-out",
        "int.key",
    ]);
    openssl(&[
        "req",
        "-new",
        "-key",
        "int.key",
        "-subj",
        "/CN=msign test intermediate",
        "-out",
        "int.csr",
    ]);
    openssl(&[
        "x509", "-req", "-in", "int.csr", "-CA", "root.pem", "-CAkey", "root.key", "-days", "2",
        "-extfile", "ca.ext", "-out", "int.pem",
    ]);
    let key = leaf_key.to_str().unwrap();
    openssl(&[
        "req",
        "-new",
        "-key",
        key,
        "-subj",
        "/CN=msign token signer",
        "-out",
        "leaf.csr",
    ]);
    openssl(&[
        "x509", "-req", "-in", "leaf.csr", "-CA", "int.pem", "-CAkey", "int.key", "-days", "1",
        "-extfile", "leaf.ext", "-out", "leaf.pem",
    ]);
    (
        dir.join("root.pem"),
        dir.join("int.pem"),
        dir.join("leaf.pem"),
    )
}

#[test]
fn pkcs11_certificate_signs_on_every_curve_and_both_tools_verify() {
    let token = Token::new("certs");
    let model = sample_model(token.path());
    for (i, curve) in CURVES.iter().enumerate() {
        let dir = token.path().join(curve);
        std::fs::create_dir(&dir).unwrap();
        let (key, _) = common::ec_keypair(&dir, curve);
        let label = format!("signer-{curve}");
        let id = format!("2{i}");
        token.import(&key, &label, &id);
        let (root, int, leaf) = certificate_chain(&dir, &key);
        let sig = dir.join("model.sig");
        // Address the key by id only (percent-encoded bytes).
        let uri = format!("pkcs11:token=certs;id=%2{i}?module-path={MODULE}&pin-value={PIN}");
        run_ok(
            token
                .msign()
                .args(["sign", "pkcs11-certificate"])
                .arg(&model)
                .args(["--pkcs11_uri", &uri, "--signing_certificate"])
                .arg(&leaf)
                .arg("--certificate_chain")
                .arg(&int)
                .arg("--signature")
                .arg(&sig),
        );
        let certs = bundle(&sig)["verificationMaterial"]["x509CertificateChain"]["certificates"]
            .as_array()
            .unwrap()
            .len();
        assert_eq!(certs, 2, "leaf then intermediate");
        run_ok(
            msign()
                .args(["verify", "certificate"])
                .arg(&model)
                .arg("--signature")
                .arg(&sig)
                .arg("--certificate-chain")
                .arg(&root),
        );
        run_ok(
            token
                .reference()
                .args(["verify", "certificate"])
                .arg(&model)
                .arg("--signature")
                .arg(&sig)
                .arg("--certificate_chain")
                .arg(&root),
        );
        // The same bytes signed by the file key with `sign certificate` carry the same chain.
        let file_sig = dir.join("file.sig");
        run_ok(
            msign()
                .args(["sign", "certificate"])
                .arg(&model)
                .arg("--private-key")
                .arg(&key)
                .arg("--signing-certificate")
                .arg(&leaf)
                .arg("--certificate-chain")
                .arg(&int)
                .arg("--signature")
                .arg(&file_sig),
        );
        assert_eq!(
            bundle(&file_sig)["verificationMaterial"],
            bundle(&sig)["verificationMaterial"]
        );
    }
}

#[test]
fn pkcs11_certificate_must_certify_the_token_key() {
    let token = Token::new("mismatch");
    let model = sample_model(token.path());
    token.generate("EC:prime256v1", "token-key", "01");
    let (other_key, _) = common::ec_keypair(token.path(), "prime256v1");
    let (_, int, leaf) = certificate_chain(token.path(), &other_key);
    let sig = token.path().join("model.sig");
    let out = run_fails(
        token
            .msign()
            .args(["sign", "pkcs11-certificate"])
            .arg(&model)
            .args([
                "--pkcs11-uri",
                &token.uri("token-key"),
                "--signing-certificate",
            ])
            .arg(&leaf)
            .arg("--certificate-chain")
            .arg(&int)
            .arg("--signature")
            .arg(&sig),
        2,
    );
    assert!(stderr(&out).contains("does not match"), "{}", stderr(&out));
    assert!(!sig.exists());
}

#[test]
fn pin_source_file_module_name_search_and_id_selection() {
    let token = Token::new("pins");
    let model = sample_model(token.path());
    token.generate("EC:secp384r1", "dup", "aa01");
    token.generate("EC:prime256v1", "dup", "aa02");
    let pin_file = token.path().join("pin.txt");
    std::fs::write(&pin_file, format!("{PIN}\n")).unwrap();

    // Two keys share the label: the label alone is ambiguous.
    let ambiguous = format!(
        "pkcs11:token=pins;object=dup?module-path={MODULE}&pin-source=file:{}",
        pin_file.display()
    );
    let out = run_fails(
        token
            .msign()
            .args(["sign", "pkcs11-key"])
            .arg(&model)
            .args(["--pkcs11-uri", &ambiguous, "--signature"])
            .arg(token.path().join("x.sig")),
        2,
    );
    assert!(
        stderr(&out).contains("2 private keys match"),
        "{}",
        stderr(&out)
    );

    // id= picks one; the module is found by name in the --module-path folder.
    let uri = format!(
        "pkcs11:token=pins;object=dup;id=%AA%02?module-name=softhsm2&pin-source={}",
        pin_file.display()
    );
    let sig = token.path().join("model.sig");
    run_ok(
        token
            .msign()
            .args(["sign", "pkcs11-key"])
            .arg(&model)
            .args([
                "--pkcs11-uri",
                &uri,
                "--module-path",
                "/usr/lib/softhsm",
                "--signature",
            ])
            .arg(&sig),
    );
    let public = token.export_public_with_id("dup", "aa02");
    verify_key_both(&token, &model, &sig, &public);
}

/// Runs a failing `sign pkcs11-key`; checks the exit code, that no signature was written,
/// that nothing panicked, and returns stderr.
fn sign_fails(token: &Token, uri: &str, code: i32) -> String {
    let model = token.path().join("model");
    let sig = token.path().join("failed.sig");
    let out = run_fails(
        token
            .msign()
            .args(["sign", "pkcs11-key"])
            .arg(&model)
            .args(["--pkcs11-uri", uri, "--signature"])
            .arg(&sig),
        code,
    );
    let err = stderr(&out);
    assert!(!err.contains("panicked"), "{err}");
    assert!(!sig.exists(), "a failed signing left {}", sig.display());
    err
}

#[test]
fn token_problems_are_clear_errors() {
    let token = Token::new("neg");
    sample_model(token.path());
    token.generate("EC:prime256v1", "good", "01");
    token.generate("rsa:2048", "rsa", "02");

    let err = sign_fails(
        &token,
        &format!(
            "pkcs11:token=neg;object=good?module-path=/nonexistent/libpkcs11.so&pin-value={PIN}"
        ),
        2,
    );
    assert!(
        err.contains("/nonexistent/libpkcs11.so") && err.contains("module"),
        "{err}"
    );

    let not_a_library = token.path().join("softhsm2.conf");
    let err = sign_fails(
        &token,
        &format!(
            "pkcs11:token=neg;object=good?module-path={}&pin-value={PIN}",
            not_a_library.display()
        ),
        2,
    );
    assert!(err.contains("cannot load the PKCS #11 module"), "{err}");

    let err = sign_fails(
        &token,
        "pkcs11:token=neg;object=good?module-name=no-such-module",
        2,
    );
    assert!(err.contains("no PKCS #11 module of that name"), "{err}");

    let err = sign_fails(
        &token,
        &format!("pkcs11:token=neg;object=good?module-path={MODULE}&pin-value=9999"),
        2,
    );
    assert!(err.contains("wrong PIN"), "{err}");
    assert!(!err.contains("9999"), "the PIN leaked into: {err}");

    let err = sign_fails(&token, &token.uri("absent"), 2);
    assert!(
        err.contains("no private key matches") && err.contains("absent"),
        "{err}"
    );

    let err = sign_fails(
        &token,
        &format!("pkcs11:token=elsewhere;object=good?module-path={MODULE}&pin-value={PIN}"),
        2,
    );
    assert!(
        err.contains("no token matches") && err.contains("'neg'"),
        "{err}"
    );
    assert!(!err.contains(PIN), "the PIN leaked into: {err}");

    let err = sign_fails(&token, &token.uri("rsa"), 2);
    assert!(err.contains("RSA key") && err.contains("EC keys"), "{err}");

    token.generate("EC:secp256k1", "k1", "03");
    let err = sign_fails(&token, &token.uri("k1"), 2);
    assert!(err.contains("unsupported curve"), "{err}");

    // No PIN and no terminal to ask on.
    let err = sign_fails(
        &token,
        &format!("pkcs11:token=neg;object=good?module-path={MODULE}"),
        2,
    );
    assert!(err.contains("needs a PIN"), "{err}");

    let err = sign_fails(
        &token,
        "pkcs11:token=neg;object=good?module-path=relative.so",
        2,
    );
    assert!(err.contains("absolute"), "{err}");
}

#[test]
fn malformed_uris_are_usage_errors() {
    let token = Token::new("uri");
    sample_model(token.path());
    for (uri, needle) in [
        ("token=uri;object=good", "pkcs11:"),
        ("pkcs11:token=uri;object=%G1", "hex digits"),
        ("pkcs11:token=uri;token=other;object=k", "more than once"),
        ("pkcs11:token=uri;object", "no '='"),
        ("pkcs11:token=uri;type=private", "object=LABEL or id=ID"),
        (
            "pkcs11:object=k;type=secret-key?module-path=/x.so",
            "type=secret-key",
        ),
        ("pkcs11:object=k;slot-id=x", "slot-id"),
        ("pkcs11:object=k?pin-value=1&pin-source=/p", "both"),
        (
            "pkcs11:object=k;x-vendor=1?module-path=/x.so",
            "identifies nothing",
        ),
    ] {
        let err = sign_fails(&token, uri, 2);
        assert!(err.contains(needle), "{uri}: {err}");
    }
    // --json reports the same as a structured error.
    let out = run_fails(
        token
            .msign()
            .args(["--json", "sign", "pkcs11-key"])
            .arg(token.path().join("model"))
            .args(["--pkcs11-uri", "pkcs11:object=%"]),
        2,
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "error");
    assert_eq!(v["error"]["kind"], "usage");
}

/// Runs `msign` under a pseudo-terminal (util-linux `script`), answers the PIN prompt, and
/// returns (exit code, terminal output).
fn sign_on_terminal(token: &Token, uri: &str, sig: &Path, pin: &str) -> (i32, String) {
    let model = token.path().join("model");
    let inner = format!(
        "'{}' sign pkcs11-key '{}' --pkcs11-uri '{uri}' --signature '{}'",
        env!("CARGO_BIN_EXE_msign"),
        model.display(),
        sig.display()
    );
    on_terminal(token.cmd("script"), &inner, &[("PIN for token 'tty'", pin)])
}

#[test]
fn pin_is_asked_on_a_terminal_without_echo() {
    let token = Token::new("tty");
    let model = sample_model(token.path());
    token.generate("EC:prime256v1", "k", "01");
    let uri = format!("pkcs11:token=tty;object=k?module-path={MODULE}");

    let sig = token.path().join("model.sig");
    let (code, text) = sign_on_terminal(&token, &uri, &sig, PIN);
    assert_eq!(code, 0, "{text}");
    assert!(!text.contains(PIN), "the PIN was echoed: {text}");
    verify_key_both(&token, &model, &sig, &token.export_public("k"));

    let bad = token.path().join("bad.sig");
    let (code, text) = sign_on_terminal(&token, &uri, &bad, "999999");
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("wrong PIN") && !text.contains("999999"),
        "{text}"
    );
    assert!(!bad.exists());
}

#[test]
fn token_holding_only_the_private_key() {
    let token = Token::new("lonely");
    let model = sample_model(token.path());
    let (key, _) = common::ec_keypair(token.path(), "secp384r1");
    let der = token.path().join("key.p8.der");
    run_ok(
        Command::new("openssl")
            .args(["pkcs8", "-topk8", "-nocrypt", "-outform", "DER", "-in"])
            .arg(&key)
            .arg("-out")
            .arg(&der),
    );
    run_ok(
        token
            .tool()
            .arg("--write-object")
            .arg(&der)
            .args(["--type", "privkey", "--label", "solo", "--id", "05"]),
    );

    // pkcs11-key needs the public key object to name the key.
    let err = sign_fails(&token, &token.uri("solo"), 2);
    assert!(err.contains("no public key object"), "{err}");

    // pkcs11-certificate takes the public key from the certificate.
    let (root, int, leaf) = certificate_chain(token.path(), &key);
    let sig = token.path().join("model.sig");
    run_ok(
        token
            .msign()
            .args(["sign", "pkcs11-certificate"])
            .arg(&model)
            .args(["--pkcs11-uri", &token.uri("solo"), "--signing-certificate"])
            .arg(&leaf)
            .arg("--certificate-chain")
            .arg(&int)
            .arg("--signature")
            .arg(&sig),
    );
    run_ok(
        token
            .reference()
            .args(["verify", "certificate"])
            .arg(&model)
            .arg("--signature")
            .arg(&sig)
            .arg("--certificate_chain")
            .arg(&root),
    );
    // A certificate for another key is refused even without a public key object: the
    // signature is checked against the certificate's key before anything is written.
    let other_dir = token.path().join("other");
    std::fs::create_dir(&other_dir).unwrap();
    let (other, _) = common::ec_keypair(&other_dir, "secp384r1");
    let (_, int2, leaf2) = certificate_chain(&other_dir, &other);
    let bad = token.path().join("bad.sig");
    let out = run_fails(
        token
            .msign()
            .args(["sign", "pkcs11-certificate"])
            .arg(&model)
            .args(["--pkcs11-uri", &token.uri("solo"), "--signing-certificate"])
            .arg(&leaf2)
            .arg("--certificate-chain")
            .arg(&int2)
            .arg("--signature")
            .arg(&bad),
        2,
    );
    assert!(stderr(&out).contains("not a pair"), "{}", stderr(&out));
    assert!(!bad.exists());
}
