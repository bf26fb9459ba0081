"""Sign and verify machine-learning models, on msign's Rust core.

`msign.hashing`, `msign.signing`, `msign.verifying` and `msign.manifest` offer
model_signing 1.1.1's public API with the same names, parameters and defaults, so
`import msign as model_signing` runs existing code unchanged, and signatures made by
either verify with the other. msign adds `digest` (a model's manifest as JSON),
`manifest.merge`, `signing.Config.sign_manifest`, `git` (sign and verify a git
revision) and `hub` (verify a Hugging Face Hub model from its metadata, download it
verified).

```python
import msign

msign.signing.Config().use_elliptic_key_signer(private_key="key.pem").sign(
    "finbert", "finbert.sig"
)
msign.verifying.Config().use_elliptic_key_verifier(public_key="key.pub").verify(
    "finbert", "finbert.sig"
)
```
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Optional

from msign import git
from msign import hashing
from msign import hub
from msign import manifest
from msign import signing
from msign import verifying

__version__ = "0.1.0"

__all__ = ["digest", "git", "hashing", "hub", "manifest", "signing", "verifying"]


def digest(
    model_path: hashing.PathLike,
    config: Optional[hashing.Config] = None,
    *,
    files_to_hash: Optional[Iterable[hashing.PathLike]] = None,
) -> dict[str, Any]:
    """Hashes a model and returns its manifest as JSON, as `msign digest --json` prints
    it: `model_name`, `digest` (`{"sha256": ...}`, the subject digest a signature
    carries), `serialization` and `resources` (`name`, `algorithm`, `digest`).

    Args:
        model_path: The model folder or file.
        config: How to hash (default: model_signing's defaults).
        files_to_hash: Only these files of the model (paths inside it): one part of a
          model hashed on several machines, for `manifest.merge`.

    Returns:
        The manifest JSON (a plain dict, cheap to send between processes), which
        `manifest.merge` and `signing.Config.sign_manifest` take.
    """
    cfg = config or hashing.Config()
    return cfg.hash(model_path, files_to_hash=files_to_hash).to_json()
