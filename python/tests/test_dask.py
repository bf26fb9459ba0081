"""The Dask example: a checkpoint hashed on the workers of a distributed LocalCluster,
partial manifests merged on the driver and signed; msign's CLI and model_signing verify
the signature."""

import os
import pathlib
import subprocess
import sys

import pytest

import model_signing
import msign
from conftest import DEMO_KEY, DEMO_PUB, REPO, statement

EXAMPLE = REPO / "python" / "examples" / "dask_checkpoint.py"


def msign_cli() -> pathlib.Path:
    """The CLI binary `cargo build` (or `cargo test`) made, or MSIGN_BIN."""
    exe = pathlib.Path(os.environ.get("MSIGN_BIN", REPO / "target" / "debug" / "msign"))
    assert exe.is_file(), f"{exe} missing: run `cargo build` first (or set MSIGN_BIN)"
    return exe


@pytest.fixture
def checkpoint(tmp_path):
    """A checkpoint as several ranks write it: shards of different sizes, an index."""
    c = tmp_path / "step-1000"
    c.mkdir()
    for rank in range(6):
        (c / f"model-{rank:05d}-of-00006.safetensors").write_bytes(
            bytes((rank * 31 + i) % 251 for i in range(4096 * (rank + 1)))
        )
    (c / "optimizer").mkdir()
    (c / "optimizer" / "state.bin").write_bytes(b"adam" * 5000)
    (c / "model.safetensors.index.json").write_text('{"weight_map": {}}\n')
    return c


@pytest.mark.parametrize("extra", [[], ["--hash", "blake2", "--shard-size", "5000"]], ids=["files", "shards"])
def test_dask_example_signs_what_both_tools_verify(checkpoint, tmp_path, extra):
    sig = tmp_path / "checkpoint.sig"
    run = subprocess.run(
        [sys.executable, str(EXAMPLE), str(checkpoint), str(DEMO_KEY), str(sig), "--workers", "2", *extra],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "signed" in run.stderr
    cli = subprocess.run(
        [str(msign_cli()), "verify", "key", str(checkpoint), "--signature", str(sig), "--public-key", str(DEMO_PUB)],
        capture_output=True,
        text=True,
    )
    assert cli.returncode == 0, cli.stderr
    ref = model_signing.verifying.Config().use_elliptic_key_verifier(public_key=DEMO_PUB)
    if extra:
        ref.set_hashing_config(
            model_signing.hashing.Config().use_shard_serialization(hashing_algorithm="blake2", shard_size=5000)
        )
    ref.verify(checkpoint, sig)
    # The same statement as signing the folder in one go.
    whole = tmp_path / "whole.sig"
    cfg = msign.hashing.Config()
    if extra:
        cfg.use_shard_serialization(hashing_algorithm="blake2", shard_size=5000)
    msign.signing.Config().use_elliptic_key_signer(private_key=DEMO_KEY).set_hashing_config(cfg).sign(checkpoint, whole)
    assert statement(sig) == statement(whole)
    # A shard changed after signing is caught.
    (checkpoint / "model-00003-of-00006.safetensors").write_bytes(b"changed")
    cli = subprocess.run(
        [str(msign_cli()), "verify", "key", str(checkpoint), "--signature", str(sig), "--public-key", str(DEMO_PUB)],
        capture_output=True,
        text=True,
    )
    assert cli.returncode == 1, cli.stderr


def test_parts_hashed_in_dask_tasks_in_process(checkpoint, tmp_path):
    """The example's function with a client made here: the workers' partial manifests
    are plain dicts."""
    sys.path.insert(0, str(EXAMPLE.parent))
    try:
        import dask_checkpoint
    finally:
        sys.path.pop(0)
    from dask.distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            sig = tmp_path / "s.sig"
            merged = dask_checkpoint.sign_checkpoint(client, checkpoint, DEMO_KEY, sig)
    assert merged["resources"] == msign.digest(checkpoint)["resources"]
    msign.verifying.Config().use_elliptic_key_verifier(public_key=DEMO_PUB).verify(checkpoint, sig)
