"""msign's additions: digest, manifest merge, signing a manifest, and git revisions on a
real repository."""

import json
import os
import subprocess

import pytest

import model_signing
import msign
from conftest import DEMO_KEY, DEMO_PUB


def key_signer():
    return msign.signing.Config().use_elliptic_key_signer(private_key=DEMO_KEY)


def key_verifier():
    return msign.verifying.Config().use_elliptic_key_verifier(public_key=DEMO_PUB)


def test_digest_is_the_cli_manifest_json(model):
    doc = msign.digest(model)
    assert doc["model_name"] == "model"
    assert set(doc) == {"model_name", "digest", "serialization", "resources"}
    names = [r["name"] for r in doc["resources"]]
    ref = [d.identifier for d in model_signing.hashing.hash(model).resource_descriptors()]
    assert names == ref


def test_parts_hashed_apart_merge_sign_and_verify(model, tmp_path):
    files = sorted(
        p.relative_to(model).as_posix() for p in model.rglob("*") if p.is_file()
    )
    half = len(files) // 2
    cfg = msign.hashing.Config().use_shard_serialization(shard_size=1024)
    parts = [
        cfg.hash(model, files_to_hash=[model / f for f in files[:half]]),
        cfg.hash(model, files_to_hash=files[half:]),
    ]
    merged = msign.manifest.merge(parts)
    assert merged["resources"] == msign.digest(model, cfg)["resources"]
    sig = tmp_path / "s.sig"
    key_signer().sign_manifest(merged, sig)
    key_verifier().verify(model, sig)
    model_signing.verifying.Config().use_elliptic_key_verifier(public_key=DEMO_PUB).set_hashing_config(
        model_signing.hashing.Config().use_shard_serialization(shard_size=1024)
    ).verify(model, sig)


def test_merge_refuses_conflicts(model):
    a = msign.digest(model)
    b = json.loads(json.dumps(a))
    b["resources"][0]["digest"] = "00" * 32
    del b["digest"]
    with pytest.raises(ValueError, match="different digests"):
        msign.manifest.merge([a, b])
    with pytest.raises(ValueError, match="different serializations"):
        msign.manifest.merge([a, msign.digest(model, msign.hashing.Config().use_file_serialization(hashing_algorithm="blake2"))])


def git(repo, *args):
    env = dict(
        os.environ,
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@example.invalid",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@example.invalid",
    )
    return subprocess.run(["git", "-C", str(repo), *args], check=True, env=env, capture_output=True, text=True).stdout


@pytest.fixture
def repo(model):
    git(model, "init", "-q")
    git(model, "add", "-A")
    git(model, "commit", "-qm", "model")
    return model


def test_git_revision_signed_into_a_note_and_verified(repo):
    report = msign.git.sign_revision(repo, "HEAD", signer=key_signer(), store="notes")
    head = git(repo, "rev-parse", "HEAD").strip()
    assert report["commit"] == head
    assert "refs/notes/model-signing" in git(repo, "for-each-ref")
    verified = msign.git.verify_revision(repo, "HEAD", verifier=key_verifier())
    assert verified["commit"] == head
    # Uncommitted changes are not the revision: it still verifies.
    (repo / "config.json").write_text("{}")
    msign.git.verify_revision(repo, "HEAD", verifier=key_verifier())
    # A new commit changing a file is not what was signed: the note stays on the signed
    # commit, so the new one has no signature at all.
    git(repo, "commit", "-qam", "change")
    with pytest.raises(FileNotFoundError, match="no signature for"):
        msign.git.verify_revision(repo, "HEAD", verifier=key_verifier(), signature=None)
    msign.git.verify_revision(repo, "HEAD~1", verifier=key_verifier())


def test_git_revision_signed_into_a_file(repo, tmp_path):
    sig = tmp_path / "rev.sig"
    msign.git.sign_revision(repo, "HEAD", signer=key_signer(), store="file", signature=sig)
    # The file verifies the work tree too, with model_signing.
    model_signing.verifying.Config().use_elliptic_key_verifier(public_key=DEMO_PUB).verify(repo, sig)
    git(repo, "rm", "-q", "config.json")
    git(repo, "commit", "-qm", "drop")
    with pytest.raises(msign.verifying.ModelMismatchError) as e:
        msign.git.verify_revision(repo, "HEAD", verifier=key_verifier(), signature=sig)
    assert e.value.missing == ["config.json"]
    msign.git.verify_revision(repo, "HEAD~1", verifier=key_verifier(), signature=sig)
