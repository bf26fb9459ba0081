"""Both directions against model_signing 1.1.1's Python API in the same process: sign with
one, verify with the other, for each method, serialization and hash algorithm; the
decoded statements are equal."""

import pytest

import model_signing
import msign
from conftest import CERTS, DEMO_KEY, DEMO_PUB, statement

SERIALIZATIONS = [
    ("files", "sha256"),
    ("files", "blake2"),
    ("shards", "sha256"),
    ("shards", "blake2"),
]


def hashing_config(lib, method, alg):
    cfg = lib.hashing.Config()
    if method == "files":
        cfg.use_file_serialization(hashing_algorithm=alg)
    else:
        cfg.use_shard_serialization(hashing_algorithm=alg, shard_size=1024)
    return cfg.set_ignored_paths(paths=["README.md"])


def signer(lib, method, ser, alg):
    cfg = lib.signing.Config().set_hashing_config(hashing_config(lib, ser, alg))
    if method == "key":
        return cfg.use_elliptic_key_signer(private_key=DEMO_KEY)
    if method == "p384-key":
        return cfg.use_elliptic_key_signer(private_key=CERTS / "signing-key.pem")
    return cfg.use_certificate_signer(
        private_key=CERTS / "signing-key.pem",
        signing_certificate=CERTS / "signing-key-cert.pem",
        certificate_chain=[CERTS / "int-ca-cert.pem"],
    )


def verifier(lib, method, ser=None, alg=None):
    cfg = lib.verifying.Config()
    if ser is not None:
        cfg.set_hashing_config(hashing_config(lib, ser, alg))
    if method == "key":
        return cfg.use_elliptic_key_verifier(public_key=DEMO_PUB)
    if method == "p384-key":
        return cfg.use_elliptic_key_verifier(public_key=CERTS / "signing-key-pub.pem")
    return cfg.use_certificate_verifier(certificate_chain=[CERTS / "ca-cert.pem"])


@pytest.mark.parametrize("method", ["key", "p384-key", "certificate"])
@pytest.mark.parametrize("ser,alg", SERIALIZATIONS)
def test_both_directions_and_same_statement(model, tmp_path, method, ser, alg):
    ours, theirs = tmp_path / "msign.sig", tmp_path / "model_signing.sig"
    signer(msign, method, ser, alg).sign(model, ours)
    signer(model_signing, method, ser, alg).sign(model, theirs)

    # model_signing's API verifies msign's signature (given the same hashing config, as
    # its own signatures need for anything but sha256 files), and the reverse.
    verifier(model_signing, method, ser, alg).verify(model, ours)
    verifier(msign, method, ser, alg).verify(model, theirs)
    # msign needs no hashing config: the statement says how it was made.
    verifier(msign, method).verify(model, theirs)
    verifier(msign, method).verify(model, ours)

    assert statement(ours) == statement(theirs)


@pytest.mark.parametrize("ser,alg", SERIALIZATIONS + [("files", "blake3")])
def test_manifests_equal_model_signing(model, ser, alg):
    ours = hashing_config(msign, ser, alg).hash(model)
    theirs = hashing_config(model_signing, ser, alg).hash(model)
    assert [(d.identifier, d.digest.algorithm, d.digest.digest_value) for d in ours.resource_descriptors()] == [
        (d.identifier, d.digest.algorithm, d.digest.digest_value)
        for d in theirs.resource_descriptors()
    ]
    assert ours.model_name == theirs.model_name
    expected = dict(theirs.serialization_type)
    got = dict(ours.serialization_type)
    for s in (expected, got):
        s["ignore_paths"] = sorted(s.get("ignore_paths", []))
    assert got == expected


def test_single_file_model(tmp_path):
    f = tmp_path / "weights.bin"
    f.write_bytes(b"w" * 5000)
    sig = tmp_path / "w.sig"
    msign.signing.Config().use_elliptic_key_signer(private_key=DEMO_KEY).sign(f, sig)
    model_signing.verifying.Config().use_elliptic_key_verifier(public_key=DEMO_PUB).verify(f, sig)
    assert [d.identifier for d in msign.hashing.hash(f).resource_descriptors()] == ["."]


def test_reference_fixture_signatures_verify():
    """Signatures made by released model_signing versions, with their keys."""
    mt = CERTS.parents[1]
    ignore = msign.hashing.Config().set_ignored_paths(paths=["ignore-me"])
    msign.verifying.Config().use_certificate_verifier(
        certificate_chain=[CERTS / "ca-cert.pem"]
    ).set_hashing_config(ignore).verify(mt / "v1.1.0-certificate", mt / "v1.1.0-certificate" / "model.sig")
    msign.verifying.Config().use_elliptic_key_verifier(
        public_key=CERTS / "signing-key-pub.pem"
    ).verify(mt / "v1.0.0-elliptic-key" / "signme-1", mt / "v1.0.0-elliptic-key" / "model.sig")
    msign.verifying.Config().use_sigstore_verifier(
        identity="stefanb@us.ibm.com", oidc_issuer="https://sigstore.verify.ibm.com/oauth2"
    ).verify(mt / "v1.1.0-sigstore", mt / "v1.1.0-sigstore" / "model.sig")
