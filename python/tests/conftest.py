"""Shared fixtures: the repository's keys and a small model written fresh per test."""

import base64
import json
import pathlib
import shutil

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures"
DEMO_KEY = FIXTURES / "keys" / "demo-p256.pem"
DEMO_PUB = FIXTURES / "keys" / "demo-p256.pub"
CERTS = FIXTURES / "model-transparency" / "keys" / "certificate"


@pytest.fixture
def model(tmp_path: pathlib.Path) -> pathlib.Path:
    """The demo model plus a few files of several shard sizes, in a fresh folder."""
    m = tmp_path / "model"
    shutil.copytree(FIXTURES / "demo-model", m)
    (m / "weights").mkdir()
    (m / "weights" / "a.bin").write_bytes(bytes(range(256)) * 40)
    (m / "weights" / "b.bin").write_bytes(b"b" * 3000)
    (m / "empty.txt").write_bytes(b"")
    return m


def statement(signature: pathlib.Path) -> dict:
    """The in-toto statement of a signature, normalized for comparison: predicate keys
    in order, `ignore_paths` sorted (model_signing records a set), `shard_size` an
    integer (model_signing may write a float)."""
    bundle = json.loads(signature.read_text())
    st = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    ser = st["predicate"]["serialization"]
    if "ignore_paths" in ser:
        ser["ignore_paths"] = sorted(ser["ignore_paths"])
    if "shard_size" in ser:
        ser["shard_size"] = int(ser["shard_size"])
    return json.loads(json.dumps(st, sort_keys=True))
