"""PKCS #11 from Python on a real SoftHSM2 token (softhsm2-util, pkcs11-tool): msign signs
with a token key, alone and with its certificate chain; msign and model_signing verify, and
the reverse."""

import os
import pathlib
import subprocess

import pytest

import model_signing
import msign
from conftest import CERTS, DEMO_KEY, DEMO_PUB, statement

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
PIN = "1234"
LABEL = "pytoken"


def run(*args, env=None):
    subprocess.run(args, check=True, capture_output=True, env=env)


@pytest.fixture(scope="module")
def token(tmp_path_factory):
    """A SoftHSM2 token of its own holding the demo P-256 key (`demo`) and the
    certificate fixtures' P-384 signing key (`leaf`)."""
    assert os.path.isfile(MODULE), f"{MODULE} missing: install softhsm2 (run .ci/run)"
    d = tmp_path_factory.mktemp("softhsm")
    (d / "tokens").mkdir()
    conf = d / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {d / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    env = dict(os.environ, SOFTHSM2_CONF=str(conf))
    run("softhsm2-util", "--init-token", "--free", "--label", LABEL, "--so-pin", "5678", "--pin", PIN, env=env)
    tool = ["pkcs11-tool", "--module", MODULE, "--token-label", LABEL, "--login", "--pin", PIN]
    for key, label, key_id in ((DEMO_KEY, "demo", "01"), (CERTS / "signing-key.pem", "leaf", "02")):
        der, pub = d / f"{label}.p8.der", d / f"{label}.pub.der"
        run("openssl", "pkcs8", "-topk8", "-nocrypt", "-outform", "DER", "-in", str(key), "-out", str(der))
        run("openssl", "pkey", "-pubout", "-outform", "DER", "-in", str(key), "-out", str(pub))
        for f, kind in ((der, "privkey"), (pub, "pubkey")):
            run(*tool, "--write-object", str(f), "--type", kind, "--label", label, "--id", key_id, env=env)
    old = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    yield d
    if old is None:
        del os.environ["SOFTHSM2_CONF"]
    else:
        os.environ["SOFTHSM2_CONF"] = old


def uri(obj):
    return f"pkcs11:token={LABEL};object={obj}?module-path={MODULE}&pin-value={PIN}"


def key_verifiers():
    return [
        lib.verifying.Config().use_elliptic_key_verifier(public_key=DEMO_PUB)
        for lib in (msign, model_signing)
    ]


def cert_verifiers():
    return [
        lib.verifying.Config().use_certificate_verifier(certificate_chain=[CERTS / "ca-cert.pem"])
        for lib in (msign, model_signing)
    ]


def test_pkcs11_key_both_directions(token, model, tmp_path):
    ours, theirs = tmp_path / "msign.sig", tmp_path / "model_signing.sig"
    msign.signing.Config().use_pkcs11_signer(pkcs11_uri=uri("demo")).sign(model, ours)
    model_signing.signing.Config().use_pkcs11_signer(pkcs11_uri=uri("demo")).sign(model, theirs)
    for v in key_verifiers():
        v.verify(model, ours)
    msign.verifying.Config().use_elliptic_key_verifier(public_key=DEMO_PUB).verify(model, theirs)
    assert statement(ours) == statement(theirs)


def test_pkcs11_module_found_by_name_in_module_paths(token, model, tmp_path):
    sig = tmp_path / "s.sig"
    by_name = f"pkcs11:token={LABEL};id=%01?module-name=libsofthsm2&pin-value={PIN}"
    msign.signing.Config().use_pkcs11_signer(
        pkcs11_uri=by_name, module_paths=[str(pathlib.Path(MODULE).parent)]
    ).sign(model, sig)
    for v in key_verifiers():
        v.verify(model, sig)


def test_pkcs11_certificate_both_directions(token, model, tmp_path):
    ours, theirs = tmp_path / "msign.sig", tmp_path / "model_signing.sig"
    msign.signing.Config().use_pkcs11_certificate_signer(
        pkcs11_uri=uri("leaf"),
        signing_certificate=CERTS / "signing-key-cert.pem",
        certificate_chain=[CERTS / "int-ca-cert.pem"],
    ).sign(model, ours)
    # model_signing 1.1.1's own pkcs11 certificate signer fails on this venv's
    # sigstore-models (VerificationMaterial wants tlogEntries): the same key from its file
    # gives the signature to compare with.
    model_signing.signing.Config().use_certificate_signer(
        private_key=CERTS / "signing-key.pem",
        signing_certificate=CERTS / "signing-key-cert.pem",
        certificate_chain=[CERTS / "int-ca-cert.pem"],
    ).sign(model, theirs)
    for v in cert_verifiers():
        v.verify(model, ours)
    msign.verifying.Config().use_certificate_verifier(
        certificate_chain=[CERTS / "ca-cert.pem"]
    ).verify(model, theirs)
    assert statement(ours) == statement(theirs)


def test_pkcs11_problems_raise_when_configured(token):
    """model_signing opens the token in `use_pkcs11_signer`: so does msign."""
    for lib in (msign, model_signing):
        with pytest.raises(ValueError):
            lib.signing.Config().use_pkcs11_signer(pkcs11_uri="notauri")
    with pytest.raises(ValueError, match="object"):
        msign.signing.Config().use_pkcs11_signer(pkcs11_uri=uri("no-such-key"))
    with pytest.raises(ValueError, match="certif"):
        # The leaf certificate does not certify the demo key.
        msign.signing.Config().use_pkcs11_certificate_signer(
            pkcs11_uri=uri("demo"),
            signing_certificate=CERTS / "signing-key-cert.pem",
            certificate_chain=[CERTS / "int-ca-cert.pem"],
        )
