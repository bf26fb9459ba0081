"""msign.hub against a loopback Hub (fakehub.py) on real sockets: HF_ENDPOINT points at
it, and msign's own Hub client does the rest."""

import os
import pathlib
import signal
import threading
import time

import pytest

import model_signing
import msign
from conftest import DEMO_KEY, DEMO_PUB
from fakehub import TOKEN, FakeHub, File

REPO = "org/demo"
GITATTRIBUTES = b"*.bin filter=lfs diff=lfs merge=lfs -text\n"


@pytest.fixture
def hub(tmp_path, monkeypatch):
    server = FakeHub()
    monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    for v in ("HF_TOKEN", "HF_TOKEN_PATH", "HF_HUB_CACHE", "HF_HUB_OFFLINE"):
        monkeypatch.delenv(v, raising=False)
    yield server
    server.stop()


def repo_files(model: pathlib.Path) -> dict:
    """A model folder as repository files: weights (*.bin) through LFS, as on the Hub."""
    files = {
        p.relative_to(model).as_posix(): File(p.read_bytes(), lfs=p.suffix == ".bin")
        for p in model.rglob("*")
        if p.is_file()
    }
    files[".gitattributes"] = File(GITATTRIBUTES)
    return files


def key_verifier():
    return msign.verifying.Config().use_elliptic_key_verifier(public_key=DEMO_PUB)


def publish_signed(hub, model, tmp_path, branch="main"):
    sig = tmp_path / f"{branch}.sig"
    msign.signing.Config().use_elliptic_key_signer(private_key=DEMO_KEY).sign(model, sig)
    files = repo_files(model)
    files["model.sig"] = File(sig.read_bytes())
    return hub.publish(REPO, files, branch)


def test_verify_from_metadata_without_downloading_weights(hub, model, tmp_path):
    commit = publish_signed(hub, model, tmp_path)
    report = msign.hub.verify(REPO, verifier=key_verifier())
    assert report["status"] == "verified"
    assert report["commit"] == commit
    assert report["files"] == len([p for p in model.rglob("*") if p.is_file()])
    assert hub.cdn_requests() == [], "no LFS byte may be fetched"
    # A signature made by model_signing's API verifies the same way, by commit id too.
    ref_sig = tmp_path / "reference.sig"
    model_signing.signing.Config().use_elliptic_key_signer(private_key=DEMO_KEY).sign(model, ref_sig)
    files = repo_files(model)
    files["model.sig"] = File(ref_sig.read_bytes())
    ref_commit = hub.publish(REPO, files, "reference-signed")
    assert msign.hub.verify(REPO, ref_commit, verifier=key_verifier())["commit"] == ref_commit


def test_tampered_file_fails(hub, model, tmp_path):
    publish_signed(hub, model, tmp_path)
    files = hub.repos[REPO].commits[hub.repos[REPO].refs["main"]]
    tampered = dict(files)
    tampered["weights/a.bin"] = File(b"not the signed weights", lfs=True)
    tampered["config.json"] = File(b"{}")
    hub.publish(REPO, tampered, "tampered")
    with pytest.raises(msign.verifying.ModelMismatchError) as e:
        msign.hub.verify(REPO, "tampered", verifier=key_verifier())
    assert isinstance(e.value, ValueError)
    assert "weights/a.bin" in [m[0] for m in e.value.mismatched]
    # The download refuses before a byte of it lands in the folder.
    dest = tmp_path / "dl"
    with pytest.raises(ValueError):
        msign.hub.download(REPO, "tampered", verifier=key_verifier(), local_dir=dest)
    assert not dest.exists() or not any(p.is_file() for p in dest.rglob("*"))


def test_wrong_key_and_missing_signature(hub, model, tmp_path):
    publish_signed(hub, model, tmp_path)
    files = repo_files(model)
    hub.publish(REPO, files, "unsigned")
    with pytest.raises(FileNotFoundError, match="no signature at model.sig"):
        msign.hub.verify(REPO, "unsigned", verifier=key_verifier())
    with pytest.raises(ValueError, match="no configured verifier"):
        msign.hub.verify(REPO, verifier=msign.verifying.Config())
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    other = tmp_path / "other.pub"
    other.write_bytes(
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(ValueError, match="signature verification failed"):
        msign.hub.verify(
            REPO, verifier=msign.verifying.Config().use_elliptic_key_verifier(public_key=other)
        )


def test_download_returns_a_path_whose_files_verify(hub, model, tmp_path):
    commit = publish_signed(hub, model, tmp_path)
    path = pathlib.Path(msign.hub.download(REPO, verifier=key_verifier()))
    # snapshot_download's layout under HF_HOME.
    cache = tmp_path / "hf-home" / "hub" / "models--org--demo"
    assert path == cache / "snapshots" / commit
    assert (cache / "refs" / "main").read_text().strip() == commit
    assert (path / "weights" / "a.bin").read_bytes() == (model / "weights" / "a.bin").read_bytes()
    assert hub.cdn_requests(), "the weights came from the CDN"
    # A plain folder with local_dir: msign and model_signing verify it with its signature.
    local = pathlib.Path(
        msign.hub.download(REPO, commit, verifier=key_verifier(), local_dir=tmp_path / "local")
    )
    assert local == tmp_path / "local"
    key_verifier().verify(local, local / "model.sig")
    model_signing.verifying.Config().use_elliptic_key_verifier(public_key=DEMO_PUB).set_hashing_config(
        model_signing.hashing.Config().set_ignored_paths(paths=["model.sig"])
    ).verify(local, local / "model.sig")


def test_download_allow_and_ignore_patterns(hub, model, tmp_path):
    """snapshot_download's allow_patterns / ignore_patterns: only the chosen files are
    fetched, and they are still checked against the signature."""
    publish_signed(hub, model, tmp_path)
    local = pathlib.Path(
        msign.hub.download(
            REPO,
            verifier=key_verifier(),
            local_dir=tmp_path / "only-weights",
            allow_patterns="weights/*",
            ignore_patterns=["*b.bin"],
        )
    )
    fetched = sorted(p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file())
    assert "weights/a.bin" in fetched
    assert "weights/b.bin" not in fetched
    assert "empty.txt" not in fetched
    # A chosen file that differs from what was signed is still refused.
    files = repo_files(model)
    files["weights/a.bin"] = File(b"tampered" * 100, lfs=True)
    sig = tmp_path / "main.sig"
    files["model.sig"] = File(sig.read_bytes())
    hub.publish(REPO, files, "main")
    with pytest.raises(ValueError):
        msign.hub.download(
            REPO,
            verifier=key_verifier(),
            local_dir=tmp_path / "tampered",
            allow_patterns=["weights/a.bin"],
        )


def test_offline_uses_the_cache(hub, model, tmp_path, monkeypatch):
    commit = publish_signed(hub, model, tmp_path)
    msign.hub.download(REPO, verifier=key_verifier())
    hub.stop()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    report = msign.hub.verify(REPO, verifier=key_verifier())
    assert report["folder"].endswith(f"snapshots/{commit}")
    assert report["bytes_downloaded"] == 0
    with pytest.raises(FileNotFoundError, match="not in the Hub cache"):
        msign.hub.verify(REPO, "other-branch", verifier=key_verifier())
    with pytest.raises(ValueError, match="HF_HUB_OFFLINE"):
        msign.hub.download(REPO, verifier=key_verifier())
    # A file changed in the cache no longer verifies.
    blob = (pathlib.Path(report["folder"]) / "config.json").resolve()
    blob.write_text("{}")
    with pytest.raises(msign.verifying.ModelMismatchError):
        msign.hub.verify(REPO, verifier=key_verifier())


def test_token_and_endpoint(hub, model, tmp_path, monkeypatch):
    publish_signed(hub, model, tmp_path)
    hub.repos[REPO].private = True
    with pytest.raises(RuntimeError, match="HTTP 401"):
        msign.hub.verify(REPO, verifier=key_verifier())
    assert msign.hub.verify(REPO, verifier=key_verifier(), token=TOKEN)["status"] == "verified"
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    assert msign.hub.verify(REPO, verifier=key_verifier())["status"] == "verified"
    # The endpoint argument wins over HF_ENDPOINT.
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    assert msign.hub.verify(REPO, verifier=key_verifier(), endpoint=hub.endpoint)["status"] == "verified"
    # And HF_HOME decides where downloads go.
    monkeypatch.setenv("HF_HOME", str(tmp_path / "elsewhere"))
    path = msign.hub.download(REPO, verifier=key_verifier(), endpoint=hub.endpoint)
    assert path.startswith(str(tmp_path / "elsewhere" / "hub"))


def test_the_gil_is_released_while_waiting_on_the_hub(hub, model, tmp_path):
    publish_signed(hub, model, tmp_path)
    hub.delay = 0.3
    done = threading.Event()
    ticks = 0

    errors = []

    def verify_it():
        try:
            msign.hub.verify(REPO, verifier=key_verifier())
        except BaseException as e:  # noqa: BLE001 - handed to the test
            errors.append(e)
        finally:
            done.set()

    t = threading.Thread(target=verify_it)
    t.start()
    while not done.is_set():
        ticks += 1
        time.sleep(0.001)
    t.join()
    assert not errors, errors
    assert ticks > 100, "the main thread could not run while msign waited on the Hub"


def test_ctrl_c_interrupts_a_download(hub, model, tmp_path):
    """Ctrl-C stops a download at the next file or chunk, not after the whole model."""
    publish_signed(hub, model, tmp_path)
    hub.delay = 0.7  # every answer, so the model's files take several seconds in all
    timer = threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT))
    start = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        msign.hub.download(REPO, verifier=key_verifier(), local_dir=tmp_path / "local")
    elapsed = time.monotonic() - start
    files = len([p for p in model.rglob("*") if p.is_file()])
    assert files >= 4
    # Without the interrupt it takes at least one delayed answer per file.
    assert elapsed < 0.7 * files, f"took {elapsed:.1f} s to stop"
