//! The private Sigstore instance the tests run on loopback (`instance.py` beside this file:
//! OIDC issuer, Fulcio with SCTs, Rekor v1 and v2, a TSA), one per test, stopped when
//! dropped. Test files add their own helper methods in `impl Instance` blocks.
#![allow(dead_code)]

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use serde_json::Value;

use crate::common::{msign, reference_cli, reference_python, repo};

/// One tampering of a bundle.
pub type Edit = Box<dyn Fn(&mut Value)>;

/// Tamperings of a bundle's RFC 3161 timestamps, with the error each must cause: removed, a
/// flipped signature byte, and `other` (the timestamps of another signature) swapped in.
pub fn timestamp_tamperings(other: Value) -> Vec<(&'static str, Edit, &'static str)> {
    vec![
        (
            "timestamps removed",
            Box::new(|b: &mut Value| {
                b["verificationMaterial"]["timestampVerificationData"] = serde_json::json!({})
            }),
            "the bundle has no verified signing time … V2 bundle requires RFC3161 timestamp but none could be verified",
        ),
        (
            "timestamp signature",
            Box::new(|b: &mut Value| {
                let ts = &mut b["verificationMaterial"]["timestampVerificationData"]
                    ["rfc3161Timestamps"][0]["signedTimestamp"];
                let mut der = B64.decode(ts.as_str().unwrap()).unwrap();
                let n = der.len();
                der[n - 10] ^= 1;
                *ts = Value::String(B64.encode(der));
            }),
            "an RFC 3161 timestamp in the bundle does not verify against the timestamp authorities of the trusted root … Failed to verify timestamp signature",
        ),
        (
            "timestamp of another signature",
            Box::new(move |b: &mut Value| {
                b["verificationMaterial"]["timestampVerificationData"] = other.clone()
            }),
            "an RFC 3161 timestamp in the bundle does not verify against the timestamp authorities of the trusted root … Timestamp message hash mismatch",
        ),
    ]
}

/// Renames the log in the checkpoint of a Rekor v2 entry: its signature no longer verifies.
pub fn checkpoint_of_another_log() -> Edit {
    Box::new(|b: &mut Value| {
        let e = &mut b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["checkpoint"]
            ["envelope"];
        let cp = e
            .as_str()
            .unwrap()
            .replacen("log2.msign.test\n", "log3.msign.test\n", 1);
        *e = Value::String(cp);
    })
}

/// The identity the tests sign as.
pub const USER: &str = "alice@example.com";

/// A running instance.
pub struct Instance {
    child: Child,
    /// Base URL of every service (they share one port).
    pub url: String,
    /// Where the instance wrote its trust configurations and keys.
    pub dir: tempfile::TempDir,
}

impl Instance {
    /// Starts an instance (it stops by itself after 300 s at the latest).
    pub fn start() -> Instance {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(reference_python())
            .arg(repo().join("tests/sigstore_instance/instance.py"))
            .arg(dir.path())
            .arg("300")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the test Sigstore instance");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let v: Value = serde_json::from_str(&line).expect("instance announces its URL");
        Instance {
            child,
            url: v["url"].as_str().unwrap().to_string(),
            dir,
        }
    }

    /// ClientTrustConfig describing the instance (Rekor v1 in its signing config).
    pub fn trust_config(&self) -> PathBuf {
        self.dir.path().join("trust_config.json")
    }

    /// ClientTrustConfig whose signing config names only the Rekor v2 log.
    pub fn trust_config_v2(&self) -> PathBuf {
        self.dir.path().join("trust_config_v2.json")
    }

    /// A fresh OIDC identity token for `sub`.
    pub fn token(&self, sub: &str) -> String {
        let resp = reqwest::blocking::get(format!("{}/mint?sub={sub}", self.url)).unwrap();
        let v: Value = serde_json::from_reader(resp).unwrap();
        v["token"].as_str().unwrap().to_string()
    }

    /// Logs a proposed Rekor v1 entry (`dsse` or `hashedrekord` 0.0.1) and returns it as a
    /// bundle's tlog entry, for tests that assemble bundles by hand.
    pub fn rekor_v1_entry(&self, proposed: &Value) -> Value {
        crate::common::post_json(&format!("{}/test/rekor-v1", self.url), proposed)
    }

    /// A Fulcio certificate (DER) for the public key `pem`, `proof` being its signature over
    /// the token's subject.
    pub fn fulcio_certificate(&self, token: &str, pem: &str, proof: &[u8]) -> Vec<u8> {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        let auth = format!("Bearer {token}");
        let body = serde_json::to_vec(&serde_json::json!({
                "credentials": {"oidcIdentityToken": token},
                "publicKeyRequest": {
                    "publicKey": {"algorithm": "ECDSA", "content": pem},
                    "proofOfPossession": b64.encode(proof),
                },
        }))
        .unwrap();
        let v: Value = crate::common::post_bytes(
            &format!("{}/api/v2/signingCert", self.url),
            &body,
            &[("Authorization", &auth)],
        );
        let chain = &v["signedCertificateEmbeddedSct"]["chain"]["certificates"][0];
        openssl::x509::X509::from_pem(chain.as_str().unwrap().as_bytes())
            .unwrap()
            .to_der()
            .unwrap()
    }

    /// `msign verify sigstore` of a model signed as [`USER`] on this instance.
    pub fn msign_verify_with(&self, model: &Path, sig: &Path, trust_config: &Path) -> Output {
        msign()
            .args(["verify", "sigstore"])
            .arg(model)
            .arg("--signature")
            .arg(sig)
            .arg("--trust-config")
            .arg(trust_config)
            .args(["--identity", USER, "--identity-provider", &self.url])
            .output()
            .unwrap()
    }

    /// The reference's `verify sigstore` of the same, in its flag spellings.
    pub fn reference_verify_with(&self, model: &Path, sig: &Path, trust_config: &Path) -> Output {
        reference_cli()
            .args(["verify", "sigstore"])
            .arg(model)
            .arg("--signature")
            .arg(sig)
            .arg("--trust_config")
            .arg(trust_config)
            .args(["--identity", USER, "--identity_provider", &self.url])
            .output()
            .unwrap()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
