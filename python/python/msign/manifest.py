"""Manifests: every resource of a model (a file, or a shard of one) with its digest.

`msign.hashing.Config.hash` returns a `Manifest`, the same shape as
`model_signing.manifest.Manifest`: `model_name`, `serialization_type` and
`resource_descriptors()` yielding `(identifier, digest)` pairs in canonical order.
msign adds `Manifest.to_json()` (the document `msign digest --json` prints, which
`msign manifest merge` and `msign sign --from-manifest` read) and `merge`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
import dataclasses
import json
import os
from typing import Any, Optional, Union

from msign import _msign


@dataclasses.dataclass(frozen=True, order=True)
class Digest:
    """A digest and the label of the algorithm that made it.

    Attributes:
        algorithm: `sha256`, `blake2b`, `blake3`, or `<alg>-sharded-<size>` for shards.
        digest_value: The raw digest bytes.
    """

    algorithm: str
    digest_value: bytes

    @property
    def digest_hex(self) -> str:
        """The digest in hexadecimal."""
        return self.digest_value.hex()

    @property
    def digest_size(self) -> int:
        """The digest's length in bytes."""
        return len(self.digest_value)


@dataclasses.dataclass(frozen=True, order=True)
class ResourceDescriptor:
    """One resource of a model.

    Attributes:
        identifier: The file's path in the model (POSIX separators), or
          `path:start:end` for a shard; `.` for a single-file model.
        digest: Its digest.
    """

    identifier: str
    digest: Digest


def _comparable(m: Any) -> dict[str, tuple[str, bytes]]:
    return {
        r.identifier: (r.digest.algorithm, r.digest.digest_value)
        for r in m.resource_descriptors()
    }


class Manifest:
    """The resources of a model and their digests, with how they were made."""

    def __init__(
        self,
        model_name: str,
        resources: Iterable[ResourceDescriptor],
        serialization_type: dict[str, Any],
    ) -> None:
        """Builds a manifest.

        Args:
            model_name: Informative name (the model folder's name); not compared.
            resources: The resources, in canonical order.
            serialization_type: The serialization parameters (`method`, `hash_type`,
              `allow_symlinks`, and `shard_size`, `ignore_paths` when they apply).
        """
        self._name = model_name
        self._resources = list(resources)
        self._serialization = dict(serialization_type)

    @classmethod
    def _from_json(cls, doc: dict[str, Any]) -> Manifest:
        return cls(
            doc["model_name"],
            (
                ResourceDescriptor(
                    r["name"], Digest(r["algorithm"], bytes.fromhex(r["digest"]))
                )
                for r in doc["resources"]
            ),
            doc["serialization"],
        )

    def __eq__(self, other: object) -> bool:
        """Manifests are equal when they name the same resources with the same digests
        (model names and serialization parameters are not compared, as in
        model_signing). A `model_signing.manifest.Manifest` compares too."""
        if not hasattr(other, "resource_descriptors"):
            return NotImplemented
        return _comparable(self) == _comparable(other)

    def __hash__(self) -> int:
        return hash(tuple(sorted(_comparable(self).items())))

    def __repr__(self) -> str:
        return (
            f"Manifest(model_name={self._name!r}, resources={len(self._resources)}, "
            f"serialization_type={self._serialization!r})"
        )

    def resource_descriptors(self) -> Iterator[ResourceDescriptor]:
        """Yields every resource (identifier and digest) in canonical order."""
        yield from self._resources

    @property
    def model_name(self) -> str:
        """The model's name (its folder's name)."""
        return self._name

    @property
    def serialization_type(self) -> dict[str, Any]:
        """The serialization parameters, as the signature's predicate records them."""
        return dict(self._serialization)

    def to_json(self) -> dict[str, Any]:
        """The manifest as msign's manifest JSON (`msign digest --json`): `model_name`,
        `digest` (the subject digest), `serialization` and `resources`."""
        doc = {
            "model_name": self._name,
            "serialization": self._serialization,
            "resources": [
                {
                    "name": r.identifier,
                    "algorithm": r.digest.algorithm,
                    "digest": r.digest.digest_hex,
                }
                for r in self._resources
            ],
        }
        # Parsed and written again by the core: checked, and given its subject digest.
        return json.loads(_msign.merge([json.dumps(doc)], None))


ManifestLike = Union[Manifest, dict, str, "os.PathLike[str]"]
"""A manifest: a `Manifest`, its JSON as a `dict`, or the path of a JSON file."""


def _as_text(part: ManifestLike) -> str:
    if isinstance(part, Manifest):
        return json.dumps(part.to_json())
    if isinstance(part, dict):
        return json.dumps(part)
    with open(os.fspath(part), encoding="utf-8") as f:
        return f.read()


def merge(parts: Iterable[ManifestLike], model_name: Optional[str] = None) -> dict[str, Any]:
    """Merges the manifests of disjoint parts of one model (hashed on different machines
    or workers) into one, as `msign manifest merge` does.

    Args:
        parts: The manifests: `Manifest` objects, manifest JSON dicts (`msign.digest`),
          or paths of manifest JSON files.
        model_name: The merged manifest's model name (default: the first part's).

    Returns:
        The merged manifest JSON, ready for `msign.signing.Config.sign_manifest`.

    Raises:
        ValueError: The parts use different serializations, list a resource with two
          digests, or are not valid manifests.
    """
    return json.loads(_msign.merge([_as_text(p) for p in parts], model_name))
