"""Verification: check a signature, then check the model against what it signed.

The same API as `model_signing.verifying` 1.1.1. Without `set_hashing_config`, the model
is hashed the way the signature's statement says (serialization, algorithm, ignored
paths, link policy).

```python
msign.verifying.Config().use_elliptic_key_verifier(public_key="key.pub").verify(
    "finbert", "finbert.sig"
)
```

A failure raises `ValueError` as model_signing does; a model that differs from what was
signed raises `ModelMismatchError`, a `ValueError` carrying the differences.
"""

from __future__ import annotations

from collections.abc import Iterable
import json
import logging
import pathlib
import sys
from typing import Any, Optional

from msign import _msign
from msign import hashing

if sys.version_info >= (3, 11):
    from typing import Self
else:  # pragma: no cover - older Pythons
    from typing import TypeVar

    Self = TypeVar("Self", bound="Config")  # type: ignore[misc]

ModelMismatchError = _msign.ModelMismatchError
"""Raised when the model differs from what its signature covers (a `ValueError`).

Attributes:
    missing (list[str]): Signed resources absent from the model.
    extra (list[str]): Resources in the model that were not signed.
    extra_not_named (int): Unsigned resources beyond those in `extra`, when too many.
    mismatched (list[tuple[str, str, str]]): `(identifier, expected, actual)` for each
      resource whose digest differs (digests as `algorithm:hex`).
"""

_log = logging.getLogger("msign")


def _path(p: hashing.PathLike) -> str:
    return hashing._fspath(p)


class Config:
    """How to verify: the verification method, and optionally the hashing configuration."""

    def __init__(self) -> None:
        """No verifier yet: one of the `use_*_verifier` calls is required."""
        self._hashing_config: Optional[hashing.Config] = None
        self._verifier: Optional[dict[str, Any]] = None
        self._ignore_unsigned_files = False
        self._log_fingerprints = False

    def verify(
        self, model_path: hashing.PathLike, signature_path: hashing.PathLike
    ) -> None:
        """Verifies the signature, then the model against it.

        Args:
            model_path: The model folder or file.
            signature_path: The signature file.

        Raises:
            ValueError: No verifier was configured, the signature does not verify
              (wrong key, tampered, malformed), or the model differs from what was
              signed (`ModelMismatchError`).
            FileNotFoundError: The model (`hashing.ModelNotFoundError`, also a
              `ValueError` as model_signing raises), signature or key file does not
              exist.
        """
        if self._verifier is None:
            raise ValueError("Attempting to verify with no configured verifier")
        hashing_opts = None
        if self._hashing_config is not None:
            hashing_opts = self._hashing_config._options(model_path)
        report = json.loads(
            _msign.verify(
                hashing._check_model(model_path),
                _path(signature_path),
                json.dumps(self._verifier),
                hashing_opts,
                self._ignore_unsigned_files,
            )
        )
        for w in report["warnings"]:
            _log.warning("%s", w)
        if self._log_fingerprints:
            _log.info("signed by %s", report["signer"])

    def set_hashing_config(self, hashing_config: hashing.Config) -> Self:
        """Hashes the model with this configuration instead of the signature's.

        Returns:
            This configuration.
        """
        self._hashing_config = hashing_config
        return self

    def set_ignore_unsigned_files(self, ignore_unsigned_files: bool) -> Self:
        """Only the files the signature names are hashed; other files are no error.

        Returns:
            This configuration.
        """
        self._ignore_unsigned_files = ignore_unsigned_files
        return self

    def use_sigstore_verifier(
        self,
        *,
        identity: str,
        oidc_issuer: str,
        use_staging: bool = False,
        trust_config: Optional[pathlib.Path] = None,
    ) -> Self:
        """Verifies a Sigstore signature made by `identity` through `oidc_issuer`.

        Uses the trusted root msign ships (public-good, or staging), or the one in
        `trust_config`; no network access.

        Args:
            identity: The expected identity (e-mail, workflow URI, ...).
            oidc_issuer: The expected OIDC issuer URL.
            use_staging: Trust Sigstore's staging instance.
            trust_config: A ClientTrustConfig or trusted_root.json of another instance
                (over `use_staging`).

        Returns:
            This configuration.
        """
        self._verifier = {
            "method": "sigstore",
            "identity": identity,
            "oidc_issuer": oidc_issuer,
            "use_staging": use_staging,
            "trust_config": None if trust_config is None else _path(trust_config),
        }
        return self

    def use_elliptic_key_verifier(self, *, public_key: hashing.PathLike) -> Self:
        """Verifies with an elliptic-curve public key (PEM).

        Returns:
            This configuration.

        Raises:
            FileNotFoundError: A key or certificate file does not exist.
            ValueError: The key or a certificate cannot be used (read now, as
              model_signing reads it here).
        """
        self._verifier = {"method": "key", "public_key": hashing._existing(public_key)}
        _msign.check_verifier(json.dumps(self._verifier))
        return self

    def use_certificate_verifier(
        self,
        *,
        certificate_chain: Iterable[hashing.PathLike] = frozenset(),
        log_fingerprints: bool = False,
    ) -> Self:
        """Verifies a certificate signature against these root certificates.

        Args:
            certificate_chain: Trusted root (and intermediate) certificates, PEM files;
              the system's roots when empty.
            log_fingerprints: Log who signed (the signing certificate) at INFO level
              on the `msign` logger.

        Returns:
            This configuration.

        Raises:
            FileNotFoundError: A key or certificate file does not exist.
            ValueError: The key or a certificate cannot be used (read now, as
              model_signing reads it here).
        """
        self._log_fingerprints = log_fingerprints
        self._verifier = {
            "method": "certificate",
            "certificate_chain": [hashing._existing(c) for c in certificate_chain],
        }
        _msign.check_verifier(json.dumps(self._verifier))
        return self
