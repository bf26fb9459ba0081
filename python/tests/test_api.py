"""The behaviour model_signing's own API tests check, written anew for msign: signing a
folder, ignored paths and git paths, a signature inside the model, symbolic links,
tampering, unsigned files, and the errors raised."""

import base64
import json
import os
import shutil
import signal
import threading
import time

import pytest

import model_signing
import msign
from conftest import DEMO_KEY, DEMO_PUB


def sign(model, sig, hashing=None):
    cfg = msign.signing.Config().use_elliptic_key_signer(private_key=DEMO_KEY)
    if hashing is not None:
        cfg.set_hashing_config(hashing)
    cfg.sign(model, sig)


def verifier():
    return msign.verifying.Config().use_elliptic_key_verifier(public_key=DEMO_PUB)


def names(manifest):
    return [d.identifier for d in manifest.resource_descriptors()]


def test_import_as_model_signing_runs_the_readme_example(model, tmp_path):
    import msign as model_signing  # noqa: F811 - the point of the test

    model_signing.signing.Config().use_elliptic_key_signer(
        private_key=DEMO_KEY
    ).set_hashing_config(
        model_signing.hashing.Config().set_ignored_paths(
            paths=["README.md"], ignore_git_paths=True
        )
    ).sign(model, tmp_path / "model.sig")
    model_signing.verifying.Config().use_elliptic_key_verifier(
        public_key=DEMO_PUB
    ).verify(model, tmp_path / "model.sig")


def test_ignored_paths_are_left_out_and_recorded(model, tmp_path):
    cfg = msign.hashing.Config().set_ignored_paths(paths=["README.md", "weights"])
    m = cfg.hash(model)
    assert "README.md" not in names(m)
    assert not any(n.startswith("weights/") for n in names(m))
    assert {"README.md", "weights"} <= set(m.serialization_type["ignore_paths"])
    sig = tmp_path / "s.sig"
    sign(model, sig, cfg)
    (model / "README.md").write_text("changed")
    (model / "weights" / "a.bin").write_bytes(b"changed")
    verifier().verify(model, sig)
    model_signing.verifying.Config().use_elliptic_key_verifier(public_key=DEMO_PUB).verify(model, sig)


def test_paths_outside_the_model_are_dropped(model, tmp_path):
    m = msign.hashing.Config().set_ignored_paths(paths=["../elsewhere", "README.md"]).hash(model)
    assert "../elsewhere" not in m.serialization_type["ignore_paths"]
    cfg = msign.hashing.Config()
    cfg.add_ignored_paths(model_path=model, paths=["config.json", "../x"])
    assert "config.json" not in names(cfg.hash(model))


def test_git_paths_ignored_unless_asked(model):
    (model / ".git").mkdir()
    (model / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (model / ".gitattributes").write_text("*.bin filter=lfs\n")
    assert not any(n.startswith(".git") for n in names(msign.hashing.hash(model)))
    with_git = msign.hashing.Config().set_ignored_paths(paths=[], ignore_git_paths=False).hash(model)
    assert {".git/HEAD", ".gitattributes"} <= set(names(with_git))
    reference = model_signing.hashing.Config().set_ignored_paths(paths=[], ignore_git_paths=False).hash(model)
    assert with_git == reference


def test_signature_inside_the_model(model):
    sig = model / "model.sig"
    sign(model, sig)
    verifier().verify(model, sig)
    model_signing.verifying.Config().use_elliptic_key_verifier(public_key=DEMO_PUB).verify(model, sig)
    # Signing again over the old signature gives the same statement.
    sign(model, sig)
    verifier().verify(model, sig)


def test_symlinks_refused_unless_allowed(model, tmp_path):
    os.symlink("config.json", model / "link.json")
    with pytest.raises(ValueError, match="link"):
        msign.hashing.hash(model)
    sig = tmp_path / "s.sig"
    with pytest.raises(ValueError):
        sign(model, sig)
    assert not sig.exists(), "no partial signature"
    allowed = msign.hashing.Config().set_allow_symlinks(True)
    assert "link.json" in names(allowed.hash(model))
    assert allowed.hash(model) == model_signing.hashing.Config().set_allow_symlinks(True).hash(model)
    sign(model, sig, allowed)
    verifier().verify(model, sig)  # the statement records allow_symlinks


def test_tampering_is_reported_with_the_differences(model, tmp_path):
    sig = tmp_path / "s.sig"
    sign(model, sig)
    (model / "config.json").write_text("{}")
    (model / "weights" / "b.bin").unlink()
    (model / "new.bin").write_bytes(b"new")
    with pytest.raises(msign.verifying.ModelMismatchError) as e:
        verifier().verify(model, sig)
    assert isinstance(e.value, ValueError)
    assert e.value.missing == ["weights/b.bin"]
    assert e.value.extra == ["new.bin"]
    assert [m[0] for m in e.value.mismatched] == ["config.json"]
    assert "config.json" in str(e.value)


def test_tampered_or_foreign_signature_is_refused(model, tmp_path):
    sig = tmp_path / "s.sig"
    sign(model, sig)
    bundle = json.loads(sig.read_text())
    st = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    st["subject"][0]["name"] = "other"
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(st).encode()).decode()
    bad = tmp_path / "bad.sig"
    bad.write_text(json.dumps(bundle))
    with pytest.raises(ValueError):
        verifier().verify(model, bad)
    other_key = tmp_path / "other.pub"
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    other_key.write_bytes(
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(ValueError):
        msign.verifying.Config().use_elliptic_key_verifier(public_key=other_key).verify(model, sig)


def test_unsigned_files_allowed_when_asked(model, tmp_path):
    sig = tmp_path / "s.sig"
    sign(model, sig)
    (model / "extra.txt").write_text("not signed")
    with pytest.raises(ValueError):
        verifier().verify(model, sig)
    verifier().set_ignore_unsigned_files(True).verify(model, sig)
    (model / "config.json").write_text("{}")
    with pytest.raises(ValueError):
        verifier().set_ignore_unsigned_files(True).verify(model, sig)


def test_errors_are_those_model_signing_raises(model, tmp_path):
    with pytest.raises(ValueError, match="no configured verifier"):
        msign.verifying.Config().verify(model, tmp_path / "s.sig")
    with pytest.raises(FileNotFoundError):
        msign.hashing.hash(tmp_path / "absent")
    with pytest.raises(FileNotFoundError):
        verifier().verify(model, tmp_path / "absent.sig")
    with pytest.raises(FileNotFoundError):
        msign.signing.Config().use_elliptic_key_signer(private_key=tmp_path / "no.pem").sign(
            model, tmp_path / "s.sig"
        )
    with pytest.raises(ValueError, match="Unsupported hashing method"):
        msign.hashing.Config().use_file_serialization(hashing_algorithm="md5")
    with pytest.raises(ValueError):
        msign.signing.Config().use_elliptic_key_signer(private_key=DEMO_PUB).sign(model, tmp_path / "s.sig")
    assert not (tmp_path / "s.sig").exists()


def big_model(tmp_path, size=6 << 30):
    """A sparse file: no disk used, but every byte is hashed."""
    m = tmp_path / "big"
    m.mkdir()
    with open(m / "weights.bin", "wb") as f:
        f.truncate(size)
    return m


def test_ctrl_c_interrupts_a_long_hash(tmp_path):
    m = big_model(tmp_path)
    cfg = msign.hashing.Config().use_file_serialization(hashing_algorithm="blake2")
    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    start = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        cfg.hash(m)
    elapsed = time.monotonic() - start
    # 6 GB of BLAKE2b on one core takes about 7 s here; the interrupt lands within a window.
    assert elapsed < 3, f"took {elapsed:.1f} s to stop"


def test_the_gil_is_released_while_hashing(tmp_path):
    m = big_model(tmp_path, 2 << 30)
    done = threading.Event()
    ticks = 0

    def hash_it():
        msign.hashing.hash(m)
        done.set()

    t = threading.Thread(target=hash_it)
    t.start()
    while not done.is_set():
        ticks += 1
        time.sleep(0.001)
    t.join()
    assert ticks > 50, "the main thread could not run while hashing"


def test_several_threads_at_once(model, tmp_path):
    results = []

    def work(i):
        sig = tmp_path / f"{i}.sig"
        sign(model, sig)
        verifier().verify(model, sig)
        results.append(i)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == list(range(6))
