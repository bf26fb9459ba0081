"""Failures raise what model_signing 1.1.1 raises, at the same call; `max_workers` and
`chunk_size` behave as model_signing's do."""

import os
import threading
import time

import pytest

import model_signing
import msign
from conftest import CERTS, DEMO_KEY, DEMO_PUB

LIBS = pytest.mark.parametrize("lib", [model_signing, msign], ids=["model_signing", "msign"])


@pytest.fixture
def not_pem(tmp_path):
    p = tmp_path / "not.pem"
    p.write_text("garbage\n")
    return p


@LIBS
def test_a_missing_model_is_a_value_error(lib, tmp_path):
    sig = tmp_path / "s.sig"
    msign.signing.Config().use_elliptic_key_signer(private_key=DEMO_KEY).sign(
        CERTS.parents[1] / "v1.0.0-elliptic-key" / "signme-1", sig
    )
    absent = tmp_path / "absent"
    with pytest.raises(ValueError):
        lib.hashing.hash(absent)
    with pytest.raises(ValueError):
        lib.signing.Config().use_elliptic_key_signer(private_key=DEMO_KEY).sign(absent, sig)
    with pytest.raises(ValueError):
        lib.verifying.Config().use_elliptic_key_verifier(public_key=DEMO_PUB).verify(absent, sig)


def test_a_missing_model_is_also_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        msign.hashing.hash(tmp_path / "absent")
    assert isinstance(e.value, msign.hashing.ModelNotFoundError)
    assert e.value.filename == str(tmp_path / "absent")


@LIBS
def test_unusable_keys_fail_when_configured(lib, not_pem):
    """model_signing reads keys and certificates in `use_*`, not in `sign`/`verify`."""
    with pytest.raises(ValueError):
        lib.signing.Config().use_elliptic_key_signer(private_key=not_pem)
    with pytest.raises(ValueError):
        lib.signing.Config().use_elliptic_key_signer(private_key=DEMO_PUB)
    with pytest.raises(ValueError):
        lib.signing.Config().use_certificate_signer(
            private_key=CERTS / "signing-key.pem",
            signing_certificate=not_pem,
            certificate_chain=[CERTS / "int-ca-cert.pem"],
        )
    with pytest.raises(ValueError):
        lib.verifying.Config().use_elliptic_key_verifier(public_key=not_pem)
    with pytest.raises(ValueError):
        lib.verifying.Config().use_elliptic_key_verifier(public_key=DEMO_KEY)
    with pytest.raises(ValueError):
        lib.verifying.Config().use_certificate_verifier(certificate_chain=[not_pem])
    with pytest.raises(FileNotFoundError):
        lib.verifying.Config().use_certificate_verifier(certificate_chain=[not_pem.parent / "no.pem"])


@LIBS
def test_a_signature_that_is_a_folder(lib, model):
    with pytest.raises(IsADirectoryError):
        lib.verifying.Config().use_elliptic_key_verifier(public_key=DEMO_PUB).verify(model, model)


@LIBS
def test_invalid_chunk_size_and_max_workers(lib, model):
    with pytest.raises(ValueError, match="Chunk size must be non-negative"):
        lib.hashing.Config().use_file_serialization(chunk_size=-1)
    with pytest.raises(ValueError, match="Chunk size must be non-negative"):
        lib.hashing.Config().use_shard_serialization(chunk_size=-1)
    with pytest.raises(ValueError, match="Shard size must be strictly positive"):
        lib.hashing.Config().use_shard_serialization(shard_size=0)
    # BLAKE3 ignores chunk_size, and checks max_workers at once.
    lib.hashing.Config().use_file_serialization(hashing_algorithm="blake3", chunk_size=-1)
    with pytest.raises(ValueError, match="not a valid number of threads"):
        lib.hashing.Config().use_file_serialization(hashing_algorithm="blake3", max_workers=0)
    # Other algorithms take any max_workers, and refuse it when hashing starts.
    for bad in (0, -2):
        cfg = lib.hashing.Config().use_file_serialization(max_workers=bad)
        with pytest.raises(ValueError, match="max_workers must be greater than 0"):
            cfg.hash(model)
        cfg = lib.hashing.Config().use_shard_serialization(max_workers=bad)
        with pytest.raises(ValueError, match="max_workers must be greater than 0"):
            cfg.hash(model)
    # chunk_size 0 means "read it all at once" there; the result is the same.
    assert lib.hashing.Config().use_file_serialization(chunk_size=0).hash(model) == lib.hashing.hash(model)


def digests(manifest):
    return [(d.identifier, d.digest.digest_value) for d in manifest.resource_descriptors()]


@pytest.mark.parametrize(
    "serialization,alg",
    [("file", "sha256"), ("file", "blake2"), ("file", "blake3"), ("shard", "sha256")],
)
def test_max_workers_and_chunk_size_keep_the_manifest(model, serialization, alg):
    def config(lib, **kw):
        cfg = lib.hashing.Config()
        if serialization == "file":
            return cfg.use_file_serialization(hashing_algorithm=alg, **kw)
        return cfg.use_shard_serialization(hashing_algorithm=alg, shard_size=1000, **kw)

    expected = digests(config(model_signing).hash(model))
    for kw in (dict(max_workers=1), dict(max_workers=3), dict(chunk_size=7), dict(chunk_size=0)):
        assert digests(config(msign, **kw).hash(model)) == expected, kw


def peak_threads(model_path, **kw):
    """Most threads the process had at once while hashing, beyond those before."""
    cfg = msign.hashing.Config().use_file_serialization(**kw)
    done = threading.Event()
    errors = []

    def work():
        try:
            cfg.hash(model_path)
        except BaseException as e:  # noqa: BLE001 - handed to the test
            errors.append(e)
        done.set()

    before = len(os.listdir("/proc/self/task"))
    t = threading.Thread(target=work)
    t.start()
    peak = 0
    while not done.is_set():
        peak = max(peak, len(os.listdir("/proc/self/task")))
        time.sleep(0.001)
    t.join()
    assert not errors, errors
    return peak - before


def test_max_workers_bounds_the_hashing_threads(tmp_path):
    m = tmp_path / "four"
    m.mkdir()
    for i in range(4):
        with open(m / f"w{i}.bin", "wb") as f:
            f.truncate(256 << 20)  # sparse: no disk used, every byte hashed
    one = peak_threads(m, max_workers=1, hashing_algorithm="blake2")
    four = peak_threads(m, max_workers=4, hashing_algorithm="blake2")
    # One worker (with its read-ahead helper) against four of them.
    assert four >= one + 3, f"max_workers=1: {one} threads, max_workers=4: {four}"
