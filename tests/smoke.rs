//! The README's first command, as a test: sign the shipped demo model and verify it.

mod common;
use common::*;

#[test]
fn demo_model_signs_and_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let sig = tmp.path().join("demo.sig");
    let model = fixtures().join("demo-model");
    let keys = fixtures().join("keys");
    run_ok(
        msign()
            .args(["sign", "key"])
            .arg(&model)
            .arg("--private-key")
            .arg(keys.join("demo-p256.pem"))
            .arg("--signature")
            .arg(&sig),
    );
    let out = run_ok(
        msign()
            .args(["verify", "key"])
            .arg(&model)
            .arg("--public-key")
            .arg(keys.join("demo-p256.pub"))
            .arg("--signature")
            .arg(&sig),
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Verification succeeded"));
    // The same signature must fail against another key, with the verification-failure code.
    let (_, other_pub) = ec_keypair(tmp.path(), "prime256v1");
    run_fails(
        msign()
            .args(["verify", "key"])
            .arg(&model)
            .arg("--public-key")
            .arg(other_pub)
            .arg("--signature")
            .arg(&sig),
        1,
    );
}
