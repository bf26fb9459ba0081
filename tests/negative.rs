//! Everything that must fail does, with a clear message and the right exit code, and never
//! a panic: changed models, damaged or hostile signatures (including validly signed
//! statements with hostile content), untrusted certificates, symlinks and special files,
//! bad keys and flags. Also the `--json` shapes and that a failed sign leaves nothing behind.

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

/// A signed sample model with its key pair.
struct Signed {
    tmp: tempfile::TempDir,
    model: PathBuf,
    private: PathBuf,
    public: PathBuf,
    sig: PathBuf,
}

fn signed(extra: &[&str]) -> Signed {
    let tmp = tempfile::tempdir().unwrap();
    let model = sample_model(tmp.path());
    let (private, public) = ec_keypair(tmp.path(), "prime256v1");
    let sig = tmp.path().join("model.sig");
    run_ok(
        msign()
            .args(["sign", "key"])
            .arg(&model)
            .arg("--private-key")
            .arg(&private)
            .arg("--signature")
            .arg(&sig)
            .args(extra),
    );
    Signed {
        tmp,
        model,
        private,
        public,
        sig,
    }
}

impl Signed {
    fn verify_with(&self, sig: &Path) -> Command {
        let mut c = msign();
        c.args(["verify", "key"])
            .arg(&self.model)
            .arg("--public-key")
            .arg(&self.public)
            .arg("--signature")
            .arg(sig);
        c
    }

    /// Verifies `sig`, expecting exit `code`; returns stderr.
    fn fails(&self, sig: &Path, code: i32) -> String {
        let out = run_fails(&mut self.verify_with(sig), code);
        assert_no_panic(&out);
        stderr(&out)
    }

    /// A variant of the signature's bundle written next to it.
    fn write_bundle(&self, name: &str, bundle: &Value) -> PathBuf {
        let p = self.tmp.path().join(name);
        std::fs::write(&p, serde_json::to_vec(bundle).unwrap()).unwrap();
        p
    }
}

fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Runs a command, killing it (and failing the test) if it takes longer than `secs`.
fn output_within(cmd: &mut Command, secs: u64) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {secs} s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

// ---------------------------------------------------------------------------------------
// The model changed.

#[test]
fn tampered_byte_names_the_file_with_both_digests() {
    let s = signed(&[]);
    let f = s.model.join("weights/part-1.bin");
    let before = sha256_hex(&std::fs::read(&f).unwrap());
    flip_byte(&f, 123_456);
    let after = sha256_hex(&std::fs::read(&f).unwrap());
    let err = s.fails(&s.sig, 1);
    assert!(err.contains("weights/part-1.bin"), "{err}");
    assert!(err.contains(&format!("expected sha256:{before}")), "{err}");
    assert!(err.contains(&format!("actual   sha256:{after}")), "{err}");
}

#[test]
fn tampered_shard_names_the_shard() {
    let s = signed(&["--shard-size", "1000"]);
    flip_byte(&s.model.join("weights/part-1.bin"), 5_500);
    let err = s.fails(&s.sig, 1);
    // The file is named as changed, with the range of the shard that differs.
    assert!(
        err.contains("weights/part-1.bin (") && err.contains("bytes 5000..6000 differ"),
        "{err}"
    );
    assert!(!err.contains("4000..5000"), "{err}");
}

#[test]
fn extra_file_is_named() {
    let s = signed(&[]);
    std::fs::write(s.model.join("tokenizer/extra.txt"), "new").unwrap();
    let err = s.fails(&s.sig, 1);
    assert!(err.contains("in the model but not signed"), "{err}");
    assert!(err.contains("tokenizer/extra.txt"), "{err}");
}

#[test]
fn removed_file_is_named() {
    let s = signed(&[]);
    std::fs::remove_file(s.model.join("empty")).unwrap();
    let err = s.fails(&s.sig, 1);
    assert!(err.contains("signed but missing from the model"), "{err}");
    assert!(err.lines().any(|l| l.trim() == "empty"), "{err}");
}

// ---------------------------------------------------------------------------------------
// The signature is wrong or damaged.

#[test]
fn wrong_key() {
    let s = signed(&[]);
    let (_, other) = ec_keypair(s.tmp.path(), "secp384r1");
    let out = run_fails(
        msign()
            .args(["verify", "key"])
            .arg(&s.model)
            .arg("--public-key")
            .arg(&other)
            .arg("--signature")
            .arg(&s.sig),
        1,
    );
    assert_no_panic(&out);
    assert!(
        stderr(&out).contains("signature verification failed"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn truncated_empty_and_non_json_signatures_are_malformed() {
    let s = signed(&[]);
    let full = std::fs::read(&s.sig).unwrap();
    for (name, bytes) in [
        ("half.sig", full[..full.len() / 2].to_vec()),
        ("one-short.sig", full[..full.len() - 1].to_vec()),
        ("empty.sig", Vec::new()),
        ("text.sig", b"this is not a signature".to_vec()),
        ("binary.sig", vec![0xff, 0x00, 0x80, 0x7b]),
        ("array.sig", b"[1, 2, 3]".to_vec()),
    ] {
        let p = s.tmp.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        let err = s.fails(&p, 1);
        assert!(err.contains("malformed signature"), "{name}: {err}");
    }
}

#[test]
fn edited_payload_with_the_old_signature_is_rejected() {
    let s = signed(&[]);
    let mut b = bundle_json(&s.sig);
    let payload = String::from_utf8(payload_of(&s.sig)).unwrap();
    let d = sha256_hex(b"hello");
    // A statement that is itself consistent (the digest of a.txt changed, and nothing
    // else), so only the signature can catch it.
    let edited = payload.replacen(&d, &sha256_hex(b"hellp"), 1);
    assert_ne!(edited, payload, "a.txt's digest is in the payload");
    b["dsseEnvelope"]["payload"] = json!(B64.encode(edited));
    let p = s.write_bundle("edited-payload.sig", &b);
    let err = s.fails(&p, 1);
    assert!(err.contains("signature verification failed"), "{err}");
}

#[test]
fn edited_signature_bytes_are_rejected() {
    let s = signed(&[]);
    let b = bundle_json(&s.sig);
    let sig = B64
        .decode(b["dsseEnvelope"]["signatures"][0]["sig"].as_str().unwrap())
        .unwrap();
    for (i, offset) in [sig.len() - 1, sig.len() / 2, 0].into_iter().enumerate() {
        let mut bad = sig.clone();
        bad[offset] ^= 0x01;
        let mut b = b.clone();
        b["dsseEnvelope"]["signatures"][0]["sig"] = json!(B64.encode(&bad));
        let p = s.write_bundle(&format!("edited-sig-{i}.sig"), &b);
        let err = s.fails(&p, 1);
        assert!(
            err.contains("signature verification failed") || err.contains("malformed"),
            "{err}"
        );
    }
    let mut b = b.clone();
    b["dsseEnvelope"]["signatures"][0]["sig"] = json!("not base64 at all!");
    let p = s.write_bundle("not-base64.sig", &b);
    assert!(s.fails(&p, 1).contains("malformed"));
}

#[test]
fn wrong_media_type_missing_envelope_and_two_signatures_are_malformed() {
    let s = signed(&[]);
    let b = bundle_json(&s.sig);

    let mut v = b.clone();
    v["mediaType"] = json!("application/json");
    let err = s.fails(&s.write_bundle("media.sig", &v), 1);
    assert!(
        err.contains("malformed") && err.contains("media type"),
        "{err}"
    );

    let mut v = b.clone();
    v.as_object_mut().unwrap().remove("dsseEnvelope");
    let err = s.fails(&s.write_bundle("no-envelope.sig", &v), 1);
    assert!(
        err.contains("malformed") && err.contains("DSSE envelope"),
        "{err}"
    );

    let mut v = b.clone();
    let one = v["dsseEnvelope"]["signatures"][0].clone();
    v["dsseEnvelope"]["signatures"] = json!([one.clone(), one]);
    let err = s.fails(&s.write_bundle("two.sig", &v), 1);
    assert!(
        err.contains("malformed") && err.contains("signatures"),
        "{err}"
    );

    let mut v = b.clone();
    v["dsseEnvelope"]["signatures"] = json!([]);
    assert!(s
        .fails(&s.write_bundle("zero.sig", &v), 1)
        .contains("malformed"));

    let mut v = b.clone();
    v["dsseEnvelope"]["payloadType"] = json!("text/plain");
    assert!(s
        .fails(&s.write_bundle("ptype.sig", &v), 1)
        .contains("malformed"));
}

/// Re-signs a bundle over new statement bytes with the key, outside msign: the DSSE PAE
/// signed with the reference's own `cryptography` package.
const RESIGN: &str = r#"
import base64, json, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
bundle_in, key_path, payload_path, out = sys.argv[1:5]
with open(bundle_in) as f:
    b = json.load(f)
payload = open(payload_path, "rb").read()
key = serialization.load_pem_private_key(open(key_path, "rb").read(), None)
t = b"application/vnd.in-toto+json"
pae = b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)
alg = {256: hashes.SHA256(), 384: hashes.SHA384(), 521: hashes.SHA512()}[key.curve.key_size]
b["dsseEnvelope"]["payload"] = base64.b64encode(payload).decode()
b["dsseEnvelope"]["signatures"][0]["sig"] = base64.b64encode(key.sign(pae, ec.ECDSA(alg))).decode()
with open(out, "w") as f:
    json.dump(b, f)
"#;

impl Signed {
    /// A validly signed bundle over `statement`.
    fn resign(&self, name: &str, statement: &Value) -> PathBuf {
        let payload = self.tmp.path().join(format!("{name}.payload"));
        std::fs::write(&payload, serde_json::to_vec_pretty(statement).unwrap()).unwrap();
        let out = self.tmp.path().join(name);
        run_ok(
            Command::new(reference_python())
                .arg("-c")
                .arg(RESIGN)
                .arg(&self.sig)
                .arg(&self.private)
                .arg(&payload)
                .arg(&out),
        );
        out
    }
}

/// Sets the subject digest to what the resources list implies, so a statement is
/// consistent apart from the one hostile detail under test.
fn fix_subject(st: &mut Value) {
    let mut h = Sha256::new();
    for r in st["predicate"]["resources"].as_array().unwrap() {
        h.update(hex::decode(r["digest"].as_str().unwrap()).unwrap());
    }
    st["subject"][0]["digest"]["sha256"] = json!(hex::encode(h.finalize()));
}

#[test]
fn validly_signed_hostile_statements_are_malformed() {
    let s = signed(&[]);
    let base = statement_of(&s.sig);
    // The re-signing helper itself produces bundles msign accepts.
    let same = s.resign("same.sig", &base);
    run_ok(&mut s.verify_with(&same));

    let digest = base["predicate"]["resources"][0]["digest"].clone();
    let resource = |name: &str| json!({"name": name, "algorithm": "sha256", "digest": digest});
    let mut cases: Vec<(&str, Value, &str)> = Vec::new();
    for (label, name) in [
        ("escape", "../escape"),
        ("inner-escape", "weights/../../escape"),
        ("absolute", "/abs"),
        ("empty-component", "weights//part-1.bin"),
        ("dot-component", "./a.txt"),
        ("empty-name", ""),
    ] {
        let mut st = base.clone();
        st["predicate"]["resources"]
            .as_array_mut()
            .unwrap()
            .push(resource(name));
        fix_subject(&mut st);
        cases.push((label, st, "resource path"));
    }
    let mut st = base.clone();
    let first = st["predicate"]["resources"][0].clone();
    st["predicate"]["resources"]
        .as_array_mut()
        .unwrap()
        .push(first);
    fix_subject(&mut st);
    cases.push(("duplicate", st, "twice"));

    let mut st = base.clone();
    st["subject"][0]["digest"]["sha256"] = json!(sha256_hex(b"another model"));
    cases.push(("subject", st, "subject digest"));

    let mut st = base.clone();
    st["predicate"]["resources"][0]["algorithm"] = json!("blake3");
    cases.push(("algorithm", st, "uses 'blake3'"));

    let mut st = base.clone();
    st["predicate"]["resources"][0]["digest"] = json!("abcd");
    fix_subject(&mut st);
    cases.push(("short-digest", st, "bytes"));

    let mut st = base.clone();
    st["predicate"]["serialization"]["hash_type"] = json!("md5");
    cases.push(("hash-type", st, "hash_type"));

    for (label, ignore) in [("ignore-escape", "../x"), ("ignore-absolute", "/etc")] {
        let mut st = base.clone();
        st["predicate"]["serialization"]["ignore_paths"] = json!([ignore]);
        cases.push((label, st, "ignore path"));
    }

    let mut st = base.clone();
    st["subject"] = json!([st["subject"][0].clone(), st["subject"][0].clone()]);
    cases.push(("two-subjects", st, "subject"));

    let mut st = base.clone();
    st["predicateType"] = json!("https://example.com/other");
    cases.push(("predicate-type", st, "predicate type"));

    for (label, st, needle) in cases {
        let p = s.resign(&format!("{label}.sig"), &st);
        let err = s.fails(&p, 1);
        assert!(
            err.contains("malformed signature") && err.contains(needle),
            "{label}: {err}"
        );
    }
}

#[test]
fn validly_signed_bad_shard_ranges_are_malformed() {
    let s = signed(&["--shard-size", "1000"]);
    let base = statement_of(&s.sig);
    assert_eq!(base["predicate"]["resources"][0]["name"], "a/b:0:15");
    for bad in [
        "a/b:5:2",    // end before start
        "a/b:3:3",    // empty
        "a/b:0:2000", // longer than the shard size
        "a/b:1:15",   // not at a multiple of the shard size
        "a/b:x:y",    // not numbers
        "a/b:-1:15",  // negative
        "a/b:15",     // two fields
        "a/b",        // no range at all
        "../x:0:15",  // escaping path
    ] {
        let mut st = base.clone();
        st["predicate"]["resources"][0]["name"] = json!(bad);
        let p = s.resign("shard.sig", &st);
        let err = s.fails(&p, 1);
        assert!(err.contains("malformed signature"), "{bad}: {err}");
    }
    for size in [
        json!(0),
        json!(1.5),
        json!(-1000.0),
        json!("1000"),
        json!(1e300),
    ] {
        let mut st = base.clone();
        st["predicate"]["serialization"]["shard_size"] = size.clone();
        let err = s.fails(&s.resign("size.sig", &st), 1);
        assert!(err.contains("shard_size"), "{size}: {err}");
    }
    // Written as the reference writes it (a float), the same size is fine.
    let mut st = base.clone();
    st["predicate"]["serialization"]["shard_size"] = json!(1000.0);
    run_ok(&mut s.verify_with(&s.resign("float.sig", &st)));
}

// ---------------------------------------------------------------------------------------
// Certificates.

struct CertCase {
    tmp: tempfile::TempDir,
    model: PathBuf,
    pki: Pki,
}

fn cert_case() -> CertCase {
    let tmp = tempfile::tempdir().unwrap();
    let model = sample_model(tmp.path());
    let pki = Pki::new(tmp.path(), "main");
    CertCase { tmp, model, pki }
}

impl CertCase {
    fn sign(&self, key: &Path, cert: &Path, chain: &[&Path], sig: &str) -> PathBuf {
        let sig = self.tmp.path().join(sig);
        let mut c = msign();
        c.args(["sign", "certificate"])
            .arg(&self.model)
            .arg("--private_key")
            .arg(key)
            .arg("--signing_certificate")
            .arg(cert)
            .arg("--signature")
            .arg(&sig);
        for i in chain {
            c.arg("--certificate_chain").arg(i);
        }
        run_ok(&mut c);
        sig
    }

    /// Signs with the reference's API: for leaves `msign sign` refuses, so that its
    /// verification can be tested on them.
    fn sign_reference(&self, key: &Path, cert: &Path, chain: &[&Path], sig: &str) -> PathBuf {
        let sig = self.tmp.path().join(sig);
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "sign".as_ref(),
            "certificate".as_ref(),
            self.model.as_os_str(),
            sig.as_os_str(),
            "--private-key".as_ref(),
            key.as_os_str(),
            "--signing-certificate".as_ref(),
            cert.as_os_str(),
        ];
        for i in chain {
            args.push("--chain".as_ref());
            args.push(i.as_os_str());
        }
        let out = ref_api(&args);
        assert!(out.status.success(), "reference sign: {}", stderr(&out));
        sig
    }

    /// `msign sign certificate` that must fail with a usage exit code and write nothing.
    fn sign_refused(&self, key: &Path, cert: &Path, sig: &str) -> String {
        let sig = self.tmp.path().join(sig);
        let out = msign()
            .args(["sign", "certificate"])
            .arg(&self.model)
            .arg("--private-key")
            .arg(key)
            .arg("--signing-certificate")
            .arg(cert)
            .arg("--certificate-chain")
            .arg(&self.pki.intermediate)
            .arg("--signature")
            .arg(&sig)
            .output()
            .unwrap();
        assert_no_panic(&out);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(!sig.exists(), "a refused signature was written");
        stderr(&out)
    }

    fn verify(&self, sig: &Path, root: &Path) -> Output {
        let out = msign()
            .args(["verify", "certificate"])
            .arg(&self.model)
            .arg("--certificate_chain")
            .arg(root)
            .arg("--signature")
            .arg(sig)
            .output()
            .unwrap();
        assert_no_panic(&out);
        out
    }

    /// Whether the reference's Python API accepts the signature.
    fn reference_accepts(&self, sig: &Path, root: &Path) -> bool {
        ref_api(&[
            "verify".as_ref(),
            "certificate".as_ref(),
            self.model.as_os_str(),
            sig.as_os_str(),
            "--chain".as_ref(),
            root.as_os_str(),
        ])
        .status
        .success()
    }
}

#[test]
fn chain_that_does_not_lead_to_the_root_is_rejected() {
    let c = cert_case();
    let (key, cert) = c.pki.leaf("leaf", "prime256v1");
    let sig = c.sign(&key, &cert, &[&c.pki.intermediate], "ok.sig");
    assert_eq!(c.verify(&sig, &c.pki.root).status.code(), Some(0));

    let other = Pki::new(c.tmp.path(), "other");
    let out = c.verify(&sig, &other.root);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("does not lead to a trusted root"),
        "{}",
        stderr(&out)
    );
    assert!(!c.reference_accepts(&sig, &other.root));

    // Without the intermediate in the bundle, the leaf does not reach the root either.
    let sig = c.sign(&key, &cert, &[], "no-intermediate.sig");
    let out = c.verify(&sig, &c.pki.root);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("does not lead to a trusted root"));

    // A key signature given to certificate verification carries no chain to check.
    let (kp, _) = ec_keypair(c.tmp.path(), "prime256v1");
    let key_sig = c.tmp.path().join("key.sig");
    run_ok(
        msign()
            .args(["sign", "key"])
            .arg(&c.model)
            .arg("--private-key")
            .arg(&kp)
            .arg("--signature")
            .arg(&key_sig),
    );
    let out = c.verify(&key_sig, &c.pki.root);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no certificate chain"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn leaf_without_code_signing_eku_is_rejected() {
    let c = cert_case();
    let (key, cert) = c.pki.leaf_with(
        "server",
        "prime256v1",
        "keyUsage = critical, digitalSignature\nextendedKeyUsage = serverAuth\n",
        "20240101000000Z",
        "20491231000000Z",
    );
    // msign refuses to make a signature its own verification would refuse...
    let err = c.sign_refused(&key, &cert, "server-by-msign.sig");
    assert!(err.contains("code signing"), "{err}");
    assert!(err.contains("server.pem"), "{err}");
    // ...and refuses one made by another tool.
    let sig = c.sign_reference(&key, &cert, &[&c.pki.intermediate], "server.sig");
    let out = c.verify(&sig, &c.pki.root);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("code signing"), "{}", stderr(&out));
    // msign is deliberately stricter here: the reference accepts this leaf, because for it
    // a key usage allowing digitalSignature is enough whatever the extended key usage says.
    assert!(c.reference_accepts(&sig, &c.pki.root));

    // Without any key usage, the reference rejects a serverAuth-only leaf too.
    let (key, cert) = c.pki.leaf_with(
        "server-only",
        "prime256v1",
        "extendedKeyUsage = serverAuth\n",
        "20240101000000Z",
        "20491231000000Z",
    );
    c.sign_refused(&key, &cert, "server-only-by-msign.sig");
    let sig = c.sign_reference(&key, &cert, &[&c.pki.intermediate], "server-only.sig");
    assert_eq!(c.verify(&sig, &c.pki.root).status.code(), Some(1));
    assert!(!c.reference_accepts(&sig, &c.pki.root));
}

#[test]
fn leaf_without_digital_signature_key_usage_is_rejected() {
    let c = cert_case();
    let (key, cert) = c.pki.leaf_with(
        "agreement",
        "prime256v1",
        "keyUsage = critical, keyAgreement\nextendedKeyUsage = codeSigning\n",
        "20240101000000Z",
        "20491231000000Z",
    );
    let err = c.sign_refused(&key, &cert, "agreement-by-msign.sig");
    assert!(err.contains("digital signatures"), "{err}");
    let sig = c.sign_reference(&key, &cert, &[&c.pki.intermediate], "agreement.sig");
    let out = c.verify(&sig, &c.pki.root);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("digital signatures"),
        "{}",
        stderr(&out)
    );
    // msign is deliberately stricter: the reference accepts this leaf, because for it an
    // extended key usage with codeSigning is enough whatever the key usage says.
    assert!(c.reference_accepts(&sig, &c.pki.root));
}

#[test]
fn expired_leaf_signed_while_valid_is_accepted_like_the_reference() {
    let c = cert_case();
    let (key, cert) = c.pki.leaf_with(
        "expired",
        "secp384r1",
        CODE_SIGNING_EXT,
        "20200101000000Z",
        "20210101000000Z",
    );
    let sig = c.sign(&key, &cert, &[&c.pki.intermediate], "expired.sig");
    // Both check the chain at the leaf's notBefore: a signature outlives its certificate.
    let out = c.verify(&sig, &c.pki.root);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(c.reference_accepts(&sig, &c.pki.root));
    // msign says so, naming the date, on stderr and in --json.
    let err = stderr(&out);
    assert!(
        err.contains("warning: the signing certificate expired on") && err.contains("2021"),
        "{err}"
    );
    let out = msign()
        .args(["--json", "verify", "certificate"])
        .arg(&c.model)
        .arg("--certificate-chain")
        .arg(&c.pki.root)
        .arg("--signature")
        .arg(&sig)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("expired on")),
        "{v}"
    );
    // --reject-expired makes it a verification failure.
    let out = msign()
        .args(["verify", "certificate"])
        .arg(&c.model)
        .arg("--certificate-chain")
        .arg(&c.pki.root)
        .arg("--signature")
        .arg(&sig)
        .arg("--reject-expired")
        .output()
        .unwrap();
    assert_no_panic(&out);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("expired on"), "{}", stderr(&out));
    // A valid leaf gets no warning, with or without the flag.
    let (key, cert) = c.pki.leaf("valid", "prime256v1");
    let ok = c.sign(&key, &cert, &[&c.pki.intermediate], "valid.sig");
    let out = msign()
        .args(["verify", "certificate"])
        .arg(&c.model)
        .arg("--certificate-chain")
        .arg(&c.pki.root)
        .arg("--signature")
        .arg(&ok)
        .arg("--reject-expired")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!stderr(&out).contains("expired"), "{}", stderr(&out));
    // The same leaf under an untrusted root still fails.
    let other = Pki::new(c.tmp.path(), "other");
    assert_eq!(c.verify(&sig, &other.root).status.code(), Some(1));
}

/// A signing certificate that is itself a CA certifies keys; it cannot sign models. msign
/// refuses to sign with one, and refuses a signature another tool made with one. A CA
/// certificate issued for code signing too (as model_signing's own test certificates in
/// fixtures/model-transparency are) signs and verifies, with a warning.
#[test]
fn ca_certificate_as_signing_leaf_is_refused() {
    let c = cert_case();
    let (key, cert) = c.pki.leaf_with(
        "ca-leaf",
        "prime256v1",
        "basicConstraints = critical, CA:TRUE\nkeyUsage = critical, digitalSignature, keyCertSign\n",
        "20240101000000Z",
        "20491231000000Z",
    );
    let err = c.sign_refused(&key, &cert, "ca-by-msign.sig");
    assert!(err.contains("CA"), "{err}");
    let sig = c.sign_reference(&key, &cert, &[&c.pki.intermediate], "ca.sig");
    let out = c.verify(&sig, &c.pki.root);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is a CA certificate"),
        "{}",
        stderr(&out)
    );

    let (key, cert) = c.pki.leaf_with(
        "ca-code-signing",
        "prime256v1",
        "basicConstraints = critical, CA:TRUE\nkeyUsage = critical, digitalSignature\nextendedKeyUsage = codeSigning\n",
        "20240101000000Z",
        "20491231000000Z",
    );
    for sig in [
        c.sign_reference(&key, &cert, &[&c.pki.intermediate], "ca-code-signing.sig"),
        c.sign(
            &key,
            &cert,
            &[&c.pki.intermediate],
            "ca-code-signing-by-msign.sig",
        ),
    ] {
        let out = c.verify(&sig, &c.pki.root);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("warning: the signing certificate is a CA certificate"),
            "{}",
            stderr(&out)
        );
    }
}

// ---------------------------------------------------------------------------------------
// What the model may contain.

fn sign_cmd(model: &Path, key: &Path, sig: &Path) -> Command {
    let mut c = msign();
    c.args(["sign", "key"])
        .arg(model)
        .arg("--private-key")
        .arg(key)
        .arg("--signature")
        .arg(sig);
    c
}

#[test]
fn symlink_needs_allow_symlinks_and_never_leaves_the_model() {
    let tmp = tempfile::tempdir().unwrap();
    let model = sample_model(tmp.path());
    let (key, public) = ec_keypair(tmp.path(), "prime256v1");
    let sig = tmp.path().join("s.sig");
    std::os::unix::fs::symlink("../a.txt", model.join("weights/link.txt")).unwrap();

    let out = sign_cmd(&model, &key, &sig).output().unwrap();
    assert_no_panic(&out);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("--allow-symlinks"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("link.txt"), "{}", stderr(&out));
    assert!(!sig.exists());

    // Allowed, a link inside the model is followed, and the reference agrees.
    run_ok(sign_cmd(&model, &key, &sig).arg("--allow-symlinks"));
    let st = statement_of(&sig);
    assert_eq!(st["predicate"]["serialization"]["allow_symlinks"], true);
    assert!(resource_names(&st).contains(&"weights/link.txt".to_string()));
    run_ok(
        msign()
            .args(["verify", "key"])
            .arg(&model)
            .arg("--public-key")
            .arg(&public)
            .arg("--signature")
            .arg(&sig),
    );
    run_ok(
        reference_cli()
            .args(["verify", "key"])
            .arg(&model)
            .arg("--public_key")
            .arg(&public)
            .arg("--signature")
            .arg(&sig)
            .arg("--allow_symlinks"),
    );

    // A link out of the model is refused even with --allow-symlinks, signing or verifying.
    std::fs::write(tmp.path().join("secret.txt"), "outside").unwrap();
    std::os::unix::fs::symlink("../../secret.txt", model.join("weights/escape.txt")).unwrap();
    let sig2 = tmp.path().join("s2.sig");
    let out = sign_cmd(&model, &key, &sig2)
        .arg("--allow-symlinks")
        .output()
        .unwrap();
    assert_no_panic(&out);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("outside the model"),
        "{}",
        stderr(&out)
    );
    assert!(!sig2.exists());
    let out = msign()
        .args(["verify", "key"])
        .arg(&model)
        .arg("--public-key")
        .arg(&public)
        .arg("--signature")
        .arg(&sig)
        .arg("--allow-symlinks")
        .output()
        .unwrap();
    assert_no_panic(&out);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("outside the model"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn fifo_in_the_model_is_refused_without_hanging() {
    let tmp = tempfile::tempdir().unwrap();
    let model = sample_model(tmp.path());
    let (key, _) = ec_keypair(tmp.path(), "prime256v1");
    run_ok(Command::new("mkfifo").arg(model.join("weights/pipe")));
    let sig = tmp.path().join("s.sig");
    let out = output_within(&mut sign_cmd(&model, &key, &sig), 60);
    assert_no_panic(&out);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("weights/pipe"), "{}", stderr(&out));
    assert!(stderr(&out).contains("FIFO"), "{}", stderr(&out));
    assert!(!sig.exists());
}

// ---------------------------------------------------------------------------------------
// --json.

fn json_out(out: &Output) -> Value {
    let text = stdout(out);
    assert_eq!(text.trim().lines().count(), 1, "one JSON line: {text}");
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[test]
fn json_shapes_for_success_and_failure() {
    let tmp = tempfile::tempdir().unwrap();
    let model = sample_model(tmp.path());
    let (key, public) = ec_keypair(tmp.path(), "prime256v1");
    let sig = tmp.path().join("s.sig");
    let out = run_ok(sign_cmd(&model, &key, &sig).arg("--json"));
    let v = json_out(&out);
    assert_eq!(v["status"], "signed");
    assert_eq!(v["files"], 7);
    assert_eq!(v["method"], "key");
    assert!(v["digest"].as_str().unwrap().starts_with("sha256:"));

    let verify = |extra: &[&str]| {
        let mut c = msign();
        c.arg("--json")
            .args(["verify", "key"])
            .arg(&model)
            .arg("--public-key")
            .arg(&public)
            .arg("--signature")
            .arg(&sig)
            .args(extra);
        c
    };
    let v = json_out(&run_ok(&mut verify(&[])));
    assert_eq!(v["status"], "verified");
    assert_eq!(v["files"], 7);
    assert!(v["signer"].as_str().unwrap().starts_with("key "));

    let a_before = format!("sha256:{}", sha256_hex(b"hello"));
    std::fs::write(model.join("a.txt"), "hellp").unwrap();
    std::fs::remove_file(model.join("config.json")).unwrap();
    std::fs::write(model.join("extra.bin"), "x").unwrap();
    let out = run_fails(&mut verify(&[]), 1);
    let v = json_out(&out);
    assert_eq!(v["status"], "failed");
    assert_eq!(v["error"]["kind"], "model_mismatch");
    assert_eq!(v["differences"]["missing"], json!(["config.json"]));
    assert_eq!(v["differences"]["extra"], json!(["extra.bin"]));
    assert_eq!(
        v["differences"]["mismatched"],
        json!([{"name": "a.txt", "expected": a_before, "actual": format!("sha256:{}", sha256_hex(b"hellp"))}])
    );

    std::fs::write(&sig, "{").unwrap();
    let v = json_out(&run_fails(&mut verify(&[]), 1));
    assert_eq!(v["status"], "failed");
    assert_eq!(v["error"]["kind"], "malformed_signature");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("malformed"));

    let out = run_fails(
        msign()
            .arg("--json")
            .args(["verify", "key"])
            .arg(&model)
            .arg("--public-key")
            .arg(tmp.path().join("missing.pub"))
            .arg("--signature")
            .arg(&sig),
        2,
    );
    let v = json_out(&out);
    assert_eq!(v["status"], "error");
    assert_eq!(v["error"]["kind"], "key_material");
}

// ---------------------------------------------------------------------------------------
// Usage errors and what a failed sign leaves behind.

#[test]
fn missing_or_garbage_key_files_and_unknown_flags_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let model = sample_model(tmp.path());
    let sig = tmp.path().join("s.sig");
    let garbage = tmp.path().join("garbage.pem");
    std::fs::write(
        &garbage,
        "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n",
    )
    .unwrap();
    let rsa = tmp.path().join("rsa.pem");
    run_ok(
        Command::new("openssl")
            .args([
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:1024",
                "-out",
            ])
            .arg(&rsa),
    );
    let k1 = tmp.path().join("k1.pem");
    run_ok(
        Command::new("openssl")
            .args(["ecparam", "-name", "secp256k1", "-genkey", "-noout", "-out"])
            .arg(&k1),
    );
    let ed = tmp.path().join("ed25519.pem");
    run_ok(
        Command::new("openssl")
            .args(["genpkey", "-algorithm", "ed25519", "-out"])
            .arg(&ed),
    );
    for key in [
        tmp.path().join("missing.pem"),
        garbage.clone(),
        rsa,
        k1,
        ed,
        model.clone(),
    ] {
        let out = run_fails(&mut sign_cmd(&model, &key, &sig), 2);
        assert_no_panic(&out);
        assert!(
            stderr(&out).contains(&*key.to_string_lossy()),
            "{}",
            stderr(&out)
        );
        assert!(!sig.exists());
    }
    let (key, public) = ec_keypair(tmp.path(), "prime256v1");
    run_ok(&mut sign_cmd(&model, &key, &sig));
    for public_key in [tmp.path().join("missing.pub"), garbage.clone(), key.clone()] {
        let out = run_fails(
            msign()
                .args(["verify", "key"])
                .arg(&model)
                .arg("--public-key")
                .arg(&public_key)
                .arg("--signature")
                .arg(&sig),
            2,
        );
        assert_no_panic(&out);
    }
    for roots in [tmp.path().join("missing.pem"), garbage, public] {
        let out = run_fails(
            msign()
                .args(["verify", "certificate"])
                .arg(&model)
                .arg("--certificate_chain")
                .arg(&roots)
                .arg("--signature")
                .arg(&sig),
            2,
        );
        assert_no_panic(&out);
    }
    let out = run_fails(sign_cmd(&model, &key, &sig).arg("--bogus-flag"), 2);
    assert!(stderr(&out).contains("--bogus-flag"));
    run_fails(msign().args(["sign", "key"]).arg(&model), 2);
    run_fails(msign().args(["frobnicate"]), 2);
    run_fails(
        sign_cmd(&model, &key, &sig).args(["--hash-algorithm", "md5"]),
        2,
    );
    run_fails(
        sign_cmd(&model, &key, &sig).args(["--serialization", "files", "--shard-size", "10"]),
        2,
    );
}

#[test]
fn failed_sign_leaves_no_signature_and_no_temp_file() {
    let tmp = tempfile::tempdir().unwrap();
    let model = sample_model(tmp.path());
    let (sec1, _) = ec_keypair(tmp.path(), "prime256v1");
    let encrypted = tmp.path().join("encrypted.pem");
    to_pkcs8(&sec1, &encrypted, Some("right"));
    let out_dir = tmp.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let sig = out_dir.join("model.sig");

    // Wrong or missing password: a usage error before anything is hashed.
    let out = run_fails(
        sign_cmd(&model, &encrypted, &sig).args(["--password", "wrong"]),
        2,
    );
    assert!(stderr(&out).contains("password"), "{}", stderr(&out));
    let out = run_fails(&mut sign_cmd(&model, &encrypted, &sig), 2);
    assert!(stderr(&out).contains("--password"), "{}", stderr(&out));
    assert_eq!(files_in(&out_dir), Vec::<String>::new());

    // A failure while hashing, with an earlier signature in place: it stays as it was.
    run_ok(sign_cmd(&model, &encrypted, &sig).args(["--password", "right"]));
    let before = std::fs::read(&sig).unwrap();
    run_ok(Command::new("mkfifo").arg(model.join("pipe")));
    let out = output_within(
        sign_cmd(&model, &encrypted, &sig).args(["--password", "right"]),
        60,
    );
    assert_no_panic(&out);
    assert_ne!(out.status.code(), Some(0));
    assert_eq!(files_in(&out_dir), ["model.sig"]);
    assert_eq!(std::fs::read(&sig).unwrap(), before);
    std::fs::remove_file(model.join("pipe")).unwrap();

    // A model that does not exist, and a signature folder that does not exist.
    let out = sign_cmd(&tmp.path().join("nope"), &sec1, &out_dir.join("x.sig"))
        .output()
        .unwrap();
    assert_no_panic(&out);
    assert_ne!(out.status.code(), Some(0));
    let out = sign_cmd(&model, &sec1, &out_dir.join("missing/x.sig"))
        .output()
        .unwrap();
    assert_no_panic(&out);
    assert_ne!(out.status.code(), Some(0));
    assert_eq!(files_in(&out_dir), ["model.sig"]);
}

#[test]
fn damaged_certificate_chains_in_the_bundle_are_malformed() {
    let c = cert_case();
    let (key, cert) = c.pki.leaf("leaf", "prime256v1");
    let sig = c.sign(&key, &cert, &[&c.pki.intermediate], "ok.sig");
    let b = bundle_json(&sig);
    let write = |name: &str, v: &Value| {
        let p = c.tmp.path().join(name);
        std::fs::write(&p, serde_json::to_vec(v).unwrap()).unwrap();
        p
    };
    let chain = "/verificationMaterial/x509CertificateChain/certificates";

    let mut v = b.clone();
    *v.pointer_mut(chain).unwrap() = json!([]);
    let out = c.verify(&write("empty-chain.sig", &v), &c.pki.root);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("malformed"), "{}", stderr(&out));

    for (name, raw) in [
        ("garbage-der.sig", B64.encode(b"not a certificate")),
        ("not-base64.sig", "%%%".to_string()),
    ] {
        let mut v = b.clone();
        *v.pointer_mut(&format!("{chain}/0/rawBytes")).unwrap() = json!(raw);
        let out = c.verify(&write(name, &v), &c.pki.root);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("malformed"),
            "{name}: {}",
            stderr(&out)
        );
    }

    // The root presented as the signing certificate: it chains to the root, but it is no
    // signing certificate and the signature was not made with its key.
    let pem = std::fs::read_to_string(&c.pki.root).unwrap();
    let root_der: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let mut v = b.clone();
    *v.pointer_mut(&format!("{chain}/0/rawBytes")).unwrap() = json!(root_der);
    let out = c.verify(&write("root-as-leaf.sig", &v), &c.pki.root);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

/// A trusted root is outside input: a time with a multi-byte character where the UTC
/// offset's digits go made msign panic (exit 101) slicing inside the character.
#[test]
fn trusted_root_with_a_non_ascii_time_is_refused_without_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let mut root: Value =
        serde_json::from_str(include_str!("../src/sigstore/trusted_root.json")).unwrap();
    root["tlogs"][0]["publicKey"]["validFor"]["start"] = json!("2021-01-12T11:53:27+0\u{e9}:0");
    let root_file = tmp.path().join("trusted_root.json");
    std::fs::write(&root_file, serde_json::to_vec(&root).unwrap()).unwrap();
    let model = reference_fixtures().join("v1.1.0-sigstore");
    let out = msign()
        .args(["verify", "sigstore"])
        .arg(&model)
        .arg("--signature")
        .arg(model.join("model.sig"))
        .arg("--ignore-paths")
        .arg(model.join("ignore-me"))
        .args(["--identity", "stefanb@us.ibm.com"])
        .args([
            "--identity-provider",
            "https://sigstore.verify.ibm.com/oauth2",
        ])
        .arg("--trusted-root")
        .arg(&root_file)
        .output()
        .unwrap();
    assert_no_panic(&out);
    assert_ne!(out.status.code(), Some(101), "{}", stderr(&out));
    assert_ne!(out.status.code(), Some(0), "{}", stderr(&out));
    // Refused while the trusted root is read, naming the file and what is wrong with it.
    let err = stderr(&out);
    assert!(
        err.contains("trusted_root.json") && err.contains("trusted root") && err.contains("offset"),
        "{err}"
    );
}
