"""The native half of msign (Rust). Private: use `msign.hashing`, `msign.signing`,
`msign.verifying`, `msign.manifest` and `msign.git`. Configurations go in, and results
come back, as JSON text."""

from typing import Optional

class ModelMismatchError(ValueError):
    """The model differs from what its signature covers."""

    missing: list[str]
    extra: list[str]
    extra_not_named: int
    mismatched: list[tuple[str, str, str]]

def hash(model_path: str, hashing: str) -> str:
    """Hashes a model; the manifest JSON."""

def sign(model_path: str, signature_path: str, hashing: str, signer: str) -> str:
    """Hashes, signs, writes the signature; the manifest JSON."""

def sign_manifest(manifest: str, signature_path: str, signer: str) -> None:
    """Signs a manifest JSON and writes the signature."""

def verify(
    model_path: str,
    signature_path: str,
    verifier: str,
    hashing: Optional[str],
    ignore_unsigned_files: bool,
) -> str:
    """Verifies a model; a report JSON (`signer`, `warnings`, `files`, ...)."""

def merge(parts: list[str], model_name: Optional[str] = None) -> str:
    """Merges manifest JSON documents; the merged manifest JSON."""

def git_sign_revision(
    repo: str,
    revision: str,
    path: str,
    hashing: str,
    signer: str,
    store: str,
    signature: Optional[str],
) -> str:
    """Signs a git revision; the report JSON."""

def git_verify_revision(
    repo: str,
    revision: str,
    path: str,
    verifier: str,
    signature: Optional[str],
    ignore_unsigned_files: bool,
    allow_symlinks: bool,
    ignore_git_paths: bool,
) -> str:
    """Verifies a git revision; the report JSON."""

def check_signer(signer: str) -> None:
    """Opens the key, certificates or token a signer names (not Sigstore), or raises."""

def check_verifier(verifier: str) -> None:
    """Loads the key or certificates a verifier names, or raises."""

def hub_verify(
    repo_id: str,
    revision: str,
    signature: str,
    verifier: str,
    ignore_unsigned_files: bool,
    endpoint: Optional[str],
    token: Optional[str],
    cache_dir: Optional[str],
) -> str:
    """Verifies a Hub model; the report JSON."""

def hub_download(
    repo_id: str,
    revision: str,
    signature: str,
    verifier: str,
    ignore_unsigned_files: bool,
    local_dir: Optional[str],
    endpoint: Optional[str],
    token: Optional[str],
    cache_dir: Optional[str],
    allow_patterns: list[str],
    ignore_patterns: list[str],
) -> str:
    """Downloads a Hub model verified as it arrives; the report JSON."""
