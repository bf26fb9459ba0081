"""Hashing: from a model folder (or file) to a manifest of its files or shards.

The same API as `model_signing.hashing` 1.1.1: a `Config` with chained `use_*` / `set_*`
calls, shared between signing and verification, and `hash(model_path)` with the default
configuration. The hashing itself runs in msign's Rust core on all cores, with the GIL
released; Ctrl-C stops it.

```python
hashing_config = msign.hashing.Config().set_ignored_paths(
    paths=["README.md"], ignore_git_paths=True
)
manifest = hashing_config.hash("finbert")
```
"""

from __future__ import annotations

from collections.abc import Iterable
import errno
import json
import os
import pathlib
import sys
from typing import Any, Literal, Optional, Union

from msign import _msign
from msign import manifest

if sys.version_info >= (3, 11):
    from typing import Self
else:  # pragma: no cover - older Pythons
    from typing import TypeVar

    Self = TypeVar("Self", bound="Config")  # type: ignore[misc]

PathLike = Union[str, bytes, os.PathLike]
"""Anything naming a path: `str`, `bytes` or an `os.PathLike`."""

HashAlgorithm = Literal["sha256", "blake2", "blake3"]
"""The hash algorithms model_signing names: SHA-256, BLAKE2b (64-byte digest), BLAKE3."""

_GIT_PATHS = (".git", ".gitattributes", ".github", ".gitignore")


def _fspath(p: PathLike) -> str:
    return os.fsdecode(os.fspath(p))


def _existing(p: PathLike) -> str:
    """The path of a key or certificate file, which model_signing reads when it is
    configured: a missing one is a FileNotFoundError there, not at signing time."""
    path = _fspath(p)
    if not os.path.exists(path):
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)
    return path


class ModelNotFoundError(FileNotFoundError, ValueError):
    """The model path does not exist.

    model_signing raises `ValueError` for a model it cannot use, and a missing file is a
    `FileNotFoundError` in Python: this is both, so either `except` catches it.
    """


def _check_model(model_path: PathLike) -> str:
    """The model's path, or `ModelNotFoundError` when nothing is there."""
    path = _fspath(model_path)
    if not os.path.lexists(path):
        raise ModelNotFoundError(
            errno.ENOENT,
            "No such file or directory; the model path must name the model folder "
            "or its single file",
            path,
        )
    return path


def hash(model_path: PathLike) -> manifest.Manifest:  # noqa: A001 - model_signing's name
    """Hashes a model with the default configuration (files, SHA-256, git paths ignored).

    Args:
        model_path: The model folder, or a single-file model.

    Returns:
        The manifest of the model: every file paired with its digest.
    """
    return Config().hash(model_path)


class Config:
    """How to hash a model: serialization (files or shards), algorithm, ignored paths and
    the symbolic-link policy.

    The defaults are model_signing's: one resource per file, SHA-256, the git paths
    (`.git`, `.gitattributes`, `.github`, `.gitignore`) ignored, symbolic links refused.
    """

    def __init__(self) -> None:
        """Initializes the default configuration for hashing."""
        self._ignored_paths: frozenset[pathlib.Path] = frozenset()
        self._ignore_git_paths = True
        self._allow_symlinks = False
        self.use_file_serialization()

    def hash(
        self,
        model_path: PathLike,
        *,
        files_to_hash: Optional[Iterable[PathLike]] = None,
    ) -> manifest.Manifest:
        """Hashes a model with this configuration.

        Args:
            model_path: The model folder, or a single-file model.
            files_to_hash: Only these files (paths inside the model) are hashed; the
              others are left out. Default: every file not ignored.

        Returns:
            The manifest of the model.

        Raises:
            ModelNotFoundError: The model does not exist (a `FileNotFoundError` and a
              `ValueError`).
            ValueError: The model holds a symbolic link and links are not allowed, or
              something else msign refuses to hash (the message says what and where).
        """
        return manifest.Manifest._from_json(
            json.loads(
                _msign.hash(
                    _check_model(model_path),
                    self._options(model_path, files_to_hash=files_to_hash),
                )
            )
        )

    def _relative_ignores(self, model_path: PathLike) -> list[str]:
        """The ignored paths relative to the model, as model_signing records them; paths
        outside the model are dropped, as model_signing drops them."""
        root = pathlib.Path(_fspath(model_path))
        out = []
        for p in sorted(set(self._ignored_paths) | set(self._serializer_ignores)):
            rel = os.path.relpath(root / p, root)
            if rel == os.curdir or rel == os.pardir or rel.startswith(os.pardir + os.sep):
                continue
            out.append(pathlib.PurePath(rel).as_posix())
        return out

    def _options(
        self,
        model_path: PathLike,
        *,
        files_to_hash: Optional[Iterable[PathLike]] = None,
    ) -> str:
        """The configuration as the native module takes it.

        Raises:
            ValueError: `max_workers` is not positive (model_signing's thread pool
              refuses it when hashing starts).
        """
        if self._max_workers is not None and self._max_workers <= 0:
            raise ValueError("max_workers must be greater than 0")
        opts: dict[str, Any] = {
            "method": self._method,
            "hash_type": self._hashing_algorithm,
            "shard_size": self._shard_size,
            "allow_symlinks": self._allow_symlinks,
            "ignore_paths": self._relative_ignores(model_path),
            "ignore_git_paths": self._ignore_git_paths,
            "files_to_hash": None,
            "max_workers": self._max_workers,
        }
        if files_to_hash is not None:
            root = pathlib.Path(_fspath(model_path))
            names = []
            for f in files_to_hash:
                # model_signing passes `model_path / name`; a bare name is taken as
                # relative to the model.
                p = pathlib.Path(_fspath(f))
                try:
                    p = p.relative_to(root)
                except ValueError:
                    pass
                names.append(p.as_posix())
            opts["files_to_hash"] = names
        return json.dumps(opts)

    def _set_serialization(
        self,
        method: str,
        hashing_algorithm: str,
        shard_size: int,
        allow_symlinks: bool,
        ignore_paths: Iterable[PathLike],
        chunk_size: int,
        max_workers: Optional[int],
    ) -> None:
        if hashing_algorithm not in ("sha256", "blake2", "blake3"):
            raise ValueError(f"Unsupported hashing method {hashing_algorithm}")
        if method == "shards" and hashing_algorithm == "blake3":
            # As in model_signing: BLAKE3 is parallel on its own, so it is not sharded.
            method = "files"
        if hashing_algorithm == "blake3":
            # model_signing hands max_workers to blake3, which checks it at once, and
            # ignores chunk_size.
            if max_workers is not None and int(max_workers) <= 0:
                raise ValueError("not a valid number of threads")
        elif int(chunk_size) < 0:
            raise ValueError(f"Chunk size must be non-negative, got {chunk_size}.")
        if method == "shards" and int(shard_size) <= 0:
            raise ValueError(f"Shard size must be strictly positive, got {shard_size}.")
        # chunk_size only sets how much model_signing reads per call: the digests do not
        # depend on it. msign's engine maps files in windows sized for its parallel
        # lanes and reads the rest with positioned reads into one buffer per thread, so
        # there is no per-call read size to set; it is checked and otherwise unused.
        self._chunk_size = int(chunk_size)
        self._max_workers = None if max_workers is None else int(max_workers)
        self._method = method
        self._hashing_algorithm = hashing_algorithm
        self._shard_size = int(shard_size)
        self._allow_symlinks = allow_symlinks
        self._serializer_ignores = frozenset(
            pathlib.Path(_fspath(p)) for p in ignore_paths
        )

    def use_file_serialization(
        self,
        *,
        hashing_algorithm: HashAlgorithm = "sha256",
        chunk_size: int = 1048576,
        max_workers: Optional[int] = None,
        allow_symlinks: bool = False,
        ignore_paths: Iterable[pathlib.Path] = frozenset(),
    ) -> Self:
        """One resource per file: every file of the model paired with its digest.

        Args:
            hashing_algorithm: `sha256` (default), `blake2` or `blake3`.
            chunk_size: Checked (negative is a `ValueError`, except for BLAKE3) and
              otherwise unused: it cannot change a digest, and msign's engine maps
              files in windows rather than reading a chunk per call.
            max_workers: At most this many hashing threads (default: one per core).
              Not positive is a `ValueError` when hashing starts (at once for BLAKE3).
            allow_symlinks: Follow symbolic links that stay inside the model instead of
              refusing them.
            ignore_paths: Paths (relative to the model) to leave out and record.

        Returns:
            This configuration.

        Raises:
            ValueError: An unknown algorithm or an invalid `chunk_size`.
        """
        self._set_serialization(
            "files",
            hashing_algorithm,
            1_000_000_000,
            allow_symlinks,
            ignore_paths,
            chunk_size,
            max_workers,
        )
        return self

    def use_shard_serialization(
        self,
        *,
        hashing_algorithm: HashAlgorithm = "sha256",
        chunk_size: int = 1048576,
        shard_size: int = 1_000_000_000,
        max_workers: Optional[int] = None,
        allow_symlinks: bool = False,
        ignore_paths: Iterable[pathlib.Path] = frozenset(),
    ) -> Self:
        """Files cut into shards of `shard_size` bytes, each shard with its digest.

        For BLAKE3 this is file serialization, as in model_signing.

        Args:
            hashing_algorithm: `sha256` (default), `blake2` or `blake3`.
            chunk_size: Checked as for `use_file_serialization`, otherwise unused.
            shard_size: Bytes per shard (default 1 GB); the last shard may be shorter.
            max_workers: At most this many hashing threads (default: one per core).
            allow_symlinks: Follow symbolic links that stay inside the model.
            ignore_paths: Paths (relative to the model) to leave out and record.

        Returns:
            This configuration.

        Raises:
            ValueError: An unknown algorithm, or an invalid `chunk_size` or
              `shard_size`.
        """
        self._set_serialization(
            "shards",
            hashing_algorithm,
            shard_size,
            allow_symlinks,
            ignore_paths,
            chunk_size,
            max_workers,
        )
        return self

    def set_ignored_paths(
        self, *, paths: Iterable[PathLike], ignore_git_paths: bool = True
    ) -> Self:
        """Sets the paths left out of the model, relative to the model folder; a folder
        leaves out everything below it.

        Args:
            paths: The paths to ignore (replacing those set before).
            ignore_git_paths: Leave out `.git`, `.gitattributes`, `.github` and
              `.gitignore` (default), or sign them.

        Returns:
            This configuration.
        """
        self._ignored_paths = frozenset(pathlib.Path(_fspath(p)) for p in paths)
        self._ignore_git_paths = ignore_git_paths
        return self

    def add_ignored_paths(
        self, *, model_path: PathLike, paths: Iterable[PathLike]
    ) -> None:
        """Adds paths to ignore, relative to `model_path`; paths outside it are dropped.

        Args:
            model_path: The model folder.
            paths: More paths to ignore.
        """
        root = pathlib.Path(_fspath(model_path))
        newset = set(self._ignored_paths)
        for p in paths:
            candidate = pathlib.Path(_fspath(p))
            try:
                (root / candidate).relative_to(root)
            except ValueError:
                continue
            newset.add(candidate)
        self._ignored_paths = frozenset(newset)

    def set_allow_symlinks(self, allow_symlinks: bool) -> Self:
        """Sets whether symbolic links inside the model are followed (default: refused).

        Returns:
            This configuration.
        """
        self._allow_symlinks = allow_symlinks
        return self
