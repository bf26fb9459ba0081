"""The Hugging Face Hub: verify a model where it is published, and download it verified.

`verify` checks a model repository against its signature from the Hub's metadata: the
SHA-256 the Hub lists for every LFS file is what a file-serialized SHA-256 signature
records, so the weights are not downloaded (small files are). `download` is a verified
`huggingface_hub.snapshot_download`: every byte is hashed as it arrives and only files
that match the signature are put where a loader looks (the Hub cache, or `local_dir`).

Both read the Hub's own settings from the environment, as `huggingface_hub` does:
`HF_ENDPOINT`, `HF_TOKEN` (else `HF_TOKEN_PATH` / `$HF_HOME/token`), `HF_HOME`,
`HF_HUB_CACHE` and `HF_HUB_OFFLINE` (then `verify` checks the cached snapshot, and
`download` refuses). The keyword arguments `endpoint`, `token` and `cache_dir` override
them.

```python
verifier = msign.verifying.Config().use_elliptic_key_verifier(public_key="key.pub")
msign.hub.verify("org/model", verifier=verifier)
path = msign.hub.download("org/model", verifier=verifier)
model = transformers.AutoModel.from_pretrained(path)
```

The work runs in msign's Rust core with the GIL released while it waits on the network.
"""

from __future__ import annotations

import json
from typing import Any, Optional, Sequence, Union

from msign import _msign
from msign import hashing
from msign import verifying

DEFAULT_SIGNATURE = "model.sig"
"""Where a Hub model's signature is, unless `signature` says otherwise."""


def _verifier(verifier: verifying.Config) -> str:
    if verifier._verifier is None:
        raise ValueError("Attempting to verify with no configured verifier")
    return json.dumps(verifier._verifier)


def _opt_path(p: Optional[hashing.PathLike]) -> Optional[str]:
    return None if p is None else hashing._fspath(p)


def verify(
    repo_id: str,
    revision: Optional[str] = None,
    *,
    verifier: verifying.Config,
    signature: str = DEFAULT_SIGNATURE,
    endpoint: Optional[str] = None,
    token: Optional[str] = None,
    cache_dir: Optional[hashing.PathLike] = None,
) -> dict[str, Any]:
    """Verifies the model `repo_id` at `revision` on the Hub against its signature.

    Args:
        repo_id: The model repository, `org/name`.
        revision: A branch, tag or commit id (default `main`).
        verifier: The verification method (`set_ignore_unsigned_files` applies).
        signature: The signature's path in the repository (left out of the model).
        endpoint: The Hub's URL (default: `HF_ENDPOINT`, else huggingface.co).
        token: An access token (default: `HF_TOKEN` or the token file); a blank one means
          none.
        cache_dir: The Hub cache (default: `HF_HUB_CACHE`, else `$HF_HOME/hub`); used
          only offline.

    Returns:
        The report `msign hub verify --json` prints: `repo`, `commit`, `signer`,
        `files`, `bytes`, `bytes_downloaded`, `digest`, `warnings` (offline: `folder`,
        `signer`, `files`, ...).

    Raises:
        FileNotFoundError: The revision has no signature at `signature` (or, offline,
          is not in the cache).
        ValueError: The signature does not verify, or the repository differs from what
          was signed (`msign.verifying.ModelMismatchError`), or the signature's
          serialization cannot be checked from metadata (download it instead).
        RuntimeError: The Hub cannot be reached or answered with an error.
    """
    return json.loads(
        _msign.hub_verify(
            repo_id,
            revision or "main",
            signature,
            _verifier(verifier),
            verifier._ignore_unsigned_files,
            endpoint,
            token,
            _opt_path(cache_dir),
        )
    )


def download(
    repo_id: str,
    revision: Optional[str] = None,
    *,
    verifier: verifying.Config,
    signature: str = DEFAULT_SIGNATURE,
    local_dir: Optional[hashing.PathLike] = None,
    endpoint: Optional[str] = None,
    token: Optional[str] = None,
    cache_dir: Optional[hashing.PathLike] = None,
    allow_patterns: Optional[Union[str, Sequence[str]]] = None,
    ignore_patterns: Optional[Union[str, Sequence[str]]] = None,
) -> str:
    """Downloads the model `repo_id` at `revision`, checking every byte against its
    signature as it arrives; files already there are re-hashed, not fetched again.

    Args:
        repo_id: The model repository, `org/name`.
        revision: A branch, tag or commit id (default `main`).
        verifier: The verification method (`set_ignore_unsigned_files` applies).
        signature: The signature's path in the repository.
        local_dir: Put the files in this folder instead of the Hub cache.
        endpoint: The Hub's URL (default: `HF_ENDPOINT`, else huggingface.co).
        token: An access token (default: `HF_TOKEN` or the token file); a blank one means
          none.
        cache_dir: The Hub cache (default: `HF_HUB_CACHE`, else `$HF_HOME/hub`).
        allow_patterns: Download only files matching one of these patterns (fnmatch, as
          `snapshot_download`'s); the signature is always fetched.
        ignore_patterns: Leave out files matching one of these patterns. Files left out
          are not verified, and not reported as missing.

    Returns:
        The folder holding the model, as `snapshot_download` returns it: the cache's
        `snapshots/<commit>` folder, or `local_dir`. It holds the signature too.

    Raises:
        FileNotFoundError: The revision has no signature at `signature`.
        ValueError: The signature does not verify, or a file differs from what was
          signed (`msign.verifying.ModelMismatchError`); nothing unverified is left in
          place. Also when `HF_HUB_OFFLINE` is set.
        RuntimeError: The Hub cannot be reached or answered with an error.
    """
    report = json.loads(
        _msign.hub_download(
            repo_id,
            revision or "main",
            signature,
            _verifier(verifier),
            verifier._ignore_unsigned_files,
            _opt_path(local_dir),
            endpoint,
            token,
            _opt_path(cache_dir),
            _patterns(allow_patterns),
            _patterns(ignore_patterns),
        )
    )
    return str(report["folder"])


def _patterns(patterns: Optional[Union[str, Sequence[str]]]) -> list:
    if patterns is None:
        return []
    if isinstance(patterns, str):
        return [patterns]
    return [str(p) for p in patterns]
