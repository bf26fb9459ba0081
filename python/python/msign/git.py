"""Git: sign and verify the model at a git revision, read from the object database.

The files of the revision are hashed, not the work tree: uncommitted changes are not
signed, and Git LFS files are read from the LFS store when the revision's
`.gitattributes` say so. The signature goes to a file, a git note on the commit
(`refs/notes/model-signing`), or a new commit adding it to the model folder.

```python
msign.git.sign_revision(
    "repo", "HEAD", signer=msign.signing.Config().use_elliptic_key_signer(private_key="k.pem"),
    store="notes",
)
msign.git.verify_revision(
    "repo", "HEAD", verifier=msign.verifying.Config().use_elliptic_key_verifier(public_key="k.pub"),
)
```
"""

from __future__ import annotations

import json
from typing import Any, Literal, Optional

from msign import _msign
from msign import hashing
from msign import signing
from msign import verifying

Store = Literal["file", "commit", "notes"]
"""Where a revision's signature is kept: a file, a new commit, or a git note."""


def sign_revision(
    repo: hashing.PathLike,
    revision: str = "HEAD",
    *,
    signer: signing.Config,
    path: str = "",
    store: Store = "notes",
    signature: Optional[hashing.PathLike] = None,
) -> dict[str, Any]:
    """Signs the model at `revision` of the repository at (or containing) `repo`.

    Args:
        repo: The repository, or a folder inside it.
        revision: A commit, branch or tag (a tree works for `store="file"`).
        signer: The signing method and hashing configuration (its ignored paths are
          taken relative to the model folder).
        path: The model folder inside the repository (default: the whole tree).
        store: `notes` (default), `commit`, or `file`.
        signature: For `file`, the signature file (default `model.sig`); for `commit`,
          the signature's name in the model folder.

    Returns:
        The report `msign git sign --json` prints: `commit`, `tree`, `signature`,
        `files`, `digest`, ...

    Raises:
        ValueError: The revision cannot be signed (unknown, a tree for a note, content
          missing, an unusable key); the message says why.
    """
    if signer._signer is None:
        signer.use_sigstore_signer()
    hashing_config = signer._hashing_config
    return json.loads(
        _msign.git_sign_revision(
            hashing._fspath(repo),
            revision,
            path,
            hashing_config._options("."),
            json.dumps(signer._signer),
            store,
            None if signature is None else hashing._fspath(signature),
        )
    )


def verify_revision(
    repo: hashing.PathLike,
    revision: str = "HEAD",
    *,
    verifier: verifying.Config,
    path: str = "",
    signature: Optional[hashing.PathLike] = None,
    allow_symlinks: bool = False,
    ignore_git_paths: bool = True,
) -> dict[str, Any]:
    """Verifies the model at `revision` against its signature.

    The signature is `signature` when given, else the first found of: a git note on
    the commit, a `model.sig` in the revision's model folder.

    Args:
        repo: The repository, or a folder inside it.
        revision: A commit, branch or tag.
        verifier: The verification method (`set_ignore_unsigned_files` applies).
        path: The model folder inside the repository.
        signature: A signature file.
        allow_symlinks: Follow links that stay inside the model.
        ignore_git_paths: Leave out unsigned `.git*` paths (default).

    Returns:
        The report `msign git verify --json` prints: `commit`, `signer`, `files`, ...

    Raises:
        FileNotFoundError: No signature was found for the revision.
        ValueError: The signature does not verify, or the revision differs from what
          was signed (`msign.verifying.ModelMismatchError`).
    """
    if verifier._verifier is None:
        raise ValueError("Attempting to verify with no configured verifier")
    return json.loads(
        _msign.git_verify_revision(
            hashing._fspath(repo),
            revision,
            path,
            json.dumps(verifier._verifier),
            None if signature is None else hashing._fspath(signature),
            verifier._ignore_unsigned_files,
            allow_symlinks,
            ignore_git_paths,
        )
    )
