"""Signing: hash a model and write a signature for it.

The same API as `model_signing.signing` 1.1.1. The signature is a Sigstore bundle holding
a DSSE envelope over an in-toto statement, byte-compatible with model_signing's: either
tool verifies the other's signatures.

```python
msign.signing.Config().use_elliptic_key_signer(private_key="key.pem").set_hashing_config(
    msign.hashing.Config().set_ignored_paths(paths=["README.md"])
).sign("finbert", "finbert.sig")
```

A signature written inside the model folder is left out of what is signed (and recorded
as ignored), as `msign sign` does.
"""

from __future__ import annotations

from collections.abc import Iterable
import json
import pathlib
import sys
from typing import Any, Optional

from msign import _msign
from msign import hashing
from msign import manifest as _manifest

if sys.version_info >= (3, 11):
    from typing import Self
else:  # pragma: no cover - older Pythons
    from typing import TypeVar

    Self = TypeVar("Self", bound="Config")  # type: ignore[misc]


def sign(model_path: hashing.PathLike, signature_path: hashing.PathLike) -> None:
    """Signs a model with the default configuration (Sigstore, default hashing).

    Args:
        model_path: The model folder or file.
        signature_path: Where to write the signature.
    """
    Config().sign(model_path, signature_path)


def _path(p: hashing.PathLike) -> str:
    return hashing._fspath(p)


class Config:
    """How to sign: the hashing configuration and the signing method."""

    def __init__(self) -> None:
        """Default hashing; the signer defaults to Sigstore when `sign` is called."""
        self._hashing_config = hashing.Config()
        self._signer: Optional[dict[str, Any]] = None

    def _checked_signer(self, signer: dict[str, Any]) -> Self:
        # Keys, certificates and tokens are read now, as model_signing reads them here.
        _msign.check_signer(json.dumps(signer))
        self._signer = signer
        return self

    def sign(
        self, model_path: hashing.PathLike, signature_path: hashing.PathLike
    ) -> None:
        """Hashes the model and writes its signature.

        Args:
            model_path: The model folder or file.
            signature_path: Where to write the signature (written whole or not at all).

        Raises:
            FileNotFoundError: The model (`hashing.ModelNotFoundError`) or a key file
              does not exist.
            ValueError: A key, certificate or model msign cannot use (the message says
              which and why).
        """
        if self._signer is None:
            self.use_sigstore_signer()
        _msign.sign(
            hashing._check_model(model_path),
            _path(signature_path),
            self._hashing_config._options(model_path),
            json.dumps(self._signer),
        )

    def sign_manifest(
        self, manifest: _manifest.ManifestLike, signature_path: hashing.PathLike
    ) -> None:
        """Signs a manifest computed earlier (by `msign.digest`, `Config.hash`, or merged
        from the parts of a model hashed on several machines) without hashing again.

        Args:
            manifest: A `Manifest`, manifest JSON dict, or a manifest JSON file.
            signature_path: Where to write the signature.

        Raises:
            ValueError: The manifest is malformed, covers nothing, or the key is unusable.
        """
        if self._signer is None:
            self.use_sigstore_signer()
        _msign.sign_manifest(
            _manifest._as_text(manifest), _path(signature_path), json.dumps(self._signer)
        )

    def set_hashing_config(self, hashing_config: hashing.Config) -> Self:
        """Sets the hashing configuration.

        Returns:
            This configuration.
        """
        self._hashing_config = hashing_config
        return self

    def use_sigstore_signer(
        self,
        *,
        oidc_issuer: Optional[str] = None,
        use_ambient_credentials: bool = False,
        use_staging: bool = False,
        force_oob: bool = False,
        identity_token: Optional[str] = None,
        client_id: Optional[str] = None,
        client_secret: Optional[str] = None,
        trust_config: Optional[pathlib.Path] = None,
    ) -> Self:
        """Signs with Sigstore: a short-lived certificate from Fulcio for an OIDC
        identity, the signature logged in Rekor.

        Args:
            oidc_issuer: The OIDC issuer (default: the one of the signing config).
            use_ambient_credentials: Take the identity token from the environment (CI)
                when there is one; otherwise (and when not asked) log in interactively.
            use_staging: Use Sigstore's staging instance (over `trust_config`).
            force_oob: Print the login link and read the code instead of a local server.
            identity_token: A ready identity token (JWT).
            client_id: OAuth client id (default `sigstore`).
            client_secret: OAuth client secret.
            trust_config: A ClientTrustConfig JSON naming a private instance.

        Returns:
            This configuration.
        """
        self._signer = {
            "method": "sigstore",
            "oidc_issuer": oidc_issuer,
            "use_ambient_credentials": use_ambient_credentials,
            "use_staging": use_staging,
            "force_oob": force_oob,
            "identity_token": identity_token,
            "client_id": client_id,
            "client_secret": client_secret,
            "trust_config": None if trust_config is None else _path(trust_config),
        }
        return self

    def use_elliptic_key_signer(
        self, *, private_key: hashing.PathLike, password: Optional[str] = None
    ) -> Self:
        """Signs with an elliptic-curve private key (PEM).

        Args:
            private_key: The key file.
            password: Its password, if encrypted.

        Returns:
            This configuration.

        Raises:
            FileNotFoundError: A key or certificate file does not exist.
            ValueError: The key, certificate or token cannot be used (read now, as
              model_signing reads it here).
        """
        return self._checked_signer(
            {
                "method": "key",
                "private_key": hashing._existing(private_key),
                "password": password,
            }
        )

    def use_certificate_signer(
        self,
        *,
        private_key: hashing.PathLike,
        signing_certificate: hashing.PathLike,
        certificate_chain: Iterable[hashing.PathLike],
    ) -> Self:
        """Signs with a private key and its certificate; the chain goes in the bundle.

        Args:
            private_key: The key file (PEM).
            signing_certificate: The key's certificate (PEM).
            certificate_chain: The intermediate (and root) certificates (PEM files).

        Returns:
            This configuration.

        Raises:
            FileNotFoundError: A key or certificate file does not exist.
            ValueError: The key, certificate or token cannot be used (read now, as
              model_signing reads it here).
        """
        return self._checked_signer(
            {
                "method": "certificate",
                "private_key": hashing._existing(private_key),
                "signing_certificate": hashing._existing(signing_certificate),
                "certificate_chain": [hashing._existing(c) for c in certificate_chain],
            }
        )

    def use_pkcs11_signer(
        self, *, pkcs11_uri: str, module_paths: Iterable[str] = frozenset()
    ) -> Self:
        """Signs with an EC key held in a PKCS #11 token (RFC 7512 URI).

        Args:
            pkcs11_uri: The key's URI, e.g.
              `pkcs11:token=t;object=k?module-name=softhsm2&pin-value=1234`.
            module_paths: Folders searched for the URI's `module-name`.

        Returns:
            This configuration.

        Raises:
            FileNotFoundError: A key or certificate file does not exist.
            ValueError: The key, certificate or token cannot be used (read now, as
              model_signing reads it here).
        """
        return self._checked_signer(
            {
                "method": "pkcs11",
                "pkcs11_uri": pkcs11_uri,
                "module_paths": [_path(p) for p in module_paths],
            }
        )

    def use_pkcs11_certificate_signer(
        self,
        *,
        pkcs11_uri: str,
        signing_certificate: pathlib.Path,
        certificate_chain: Iterable[pathlib.Path],
        module_paths: Iterable[str] = frozenset(),
    ) -> Self:
        """Signs with a PKCS #11 key and its certificate chain.

        Args:
            pkcs11_uri: The key's URI.
            signing_certificate: The key's certificate (PEM).
            certificate_chain: The intermediate (and root) certificates (PEM files).
            module_paths: Folders searched for the URI's `module-name`.

        Returns:
            This configuration.

        Raises:
            FileNotFoundError: A key or certificate file does not exist.
            ValueError: The key, certificate or token cannot be used (read now, as
              model_signing reads it here).
        """
        return self._checked_signer(
            {
                "method": "pkcs11_certificate",
                "pkcs11_uri": pkcs11_uri,
                "signing_certificate": hashing._existing(signing_certificate),
                "certificate_chain": [hashing._existing(c) for c in certificate_chain],
                "module_paths": [_path(p) for p in module_paths],
            }
        )
