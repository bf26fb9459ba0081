"""Sign a checkpoint hashed on the workers of a Dask cluster.

Each worker hashes its share of the checkpoint's files into a partial manifest
(`msign.digest(..., files_to_hash=...)`, a plain dict); the driver merges the parts
(`msign.manifest.merge`) and signs the merged manifest (`sign_manifest`) without reading
a byte of the weights itself. The signature is the one `msign sign` or model_signing would
write for the whole folder: `msign verify` and model_signing verify it.

Write the signature outside the checkpoint: every file in it is signed. The workers
must see the checkpoint at the same path (a shared or parallel file system,
as on the nodes that wrote it). Without `--scheduler`, a LocalCluster runs here.

    python dask_checkpoint.py CHECKPOINT PRIVATE_KEY SIGNATURE [--scheduler tcp://host:8786]
        [--workers 2] [--hash sha256|blake2|blake3] [--shard-size BYTES]
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
from typing import Any, Optional

import msign


def hashing_config(algorithm: str, shard_size: Optional[int]) -> msign.hashing.Config:
    """The hashing configuration every worker uses (it must be the same for all)."""
    cfg = msign.hashing.Config()
    if shard_size:
        return cfg.use_shard_serialization(hashing_algorithm=algorithm, shard_size=shard_size)
    return cfg.use_file_serialization(hashing_algorithm=algorithm)


def hash_part(
    checkpoint: str, files: list[str], algorithm: str, shard_size: Optional[int]
) -> dict[str, Any]:
    """Runs on a worker: the manifest of `files` (paths inside the checkpoint)."""
    cfg = hashing_config(algorithm, shard_size)
    return msign.digest(checkpoint, cfg, files_to_hash=files)


def split(checkpoint: pathlib.Path, parts: int) -> list[list[str]]:
    """The checkpoint's files in `parts` groups of about equal size (largest first, each
    to the lightest group)."""
    files = [p for p in checkpoint.rglob("*") if p.is_file() and not p.is_symlink()]
    files.sort(key=lambda p: p.stat().st_size, reverse=True)
    groups: list[list[str]] = [[] for _ in range(max(1, parts))]
    sizes = [0] * len(groups)
    for f in files:
        i = sizes.index(min(sizes))
        groups[i].append(f.relative_to(checkpoint).as_posix())
        sizes[i] += f.stat().st_size
    return [g for g in groups if g]


def sign_checkpoint(
    client: Any,
    checkpoint: pathlib.Path,
    private_key: pathlib.Path,
    signature: pathlib.Path,
    *,
    algorithm: str = "sha256",
    shard_size: Optional[int] = None,
) -> dict[str, Any]:
    """Hashes `checkpoint` on the workers of `client`, merges, signs; returns the merged
    manifest."""
    workers = max(1, len(client.scheduler_info()["workers"]))
    groups = split(checkpoint, 2 * workers)
    futures = client.map(
        hash_part,
        [str(checkpoint)] * len(groups),
        groups,
        [algorithm] * len(groups),
        [shard_size] * len(groups),
        pure=False,
    )
    parts = client.gather(futures)
    merged = msign.manifest.merge(parts, model_name=checkpoint.name)
    msign.signing.Config().use_elliptic_key_signer(private_key=private_key).sign_manifest(
        merged, signature
    )
    return merged


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint", type=pathlib.Path)
    ap.add_argument("private_key", type=pathlib.Path)
    ap.add_argument("signature", type=pathlib.Path)
    ap.add_argument("--scheduler", help="a running Dask scheduler (default: a LocalCluster)")
    ap.add_argument("--workers", type=int, default=2, help="LocalCluster workers (default 2)")
    ap.add_argument("--hash", default="sha256", choices=["sha256", "blake2", "blake3"])
    ap.add_argument("--shard-size", type=int, default=None)
    ap.add_argument(
        "--processes",
        action="store_true",
        help="LocalCluster workers in processes (default: threads of this process)",
    )
    args = ap.parse_args(argv)

    from dask.distributed import Client, LocalCluster

    if args.scheduler:
        client = Client(args.scheduler)
        cluster = None
    else:
        cluster = LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            processes=args.processes,
            dashboard_address=None,
        )
        client = Client(cluster)
    try:
        merged = sign_checkpoint(
            client,
            args.checkpoint.resolve(),
            args.private_key,
            args.signature,
            algorithm=args.hash,
            shard_size=args.shard_size,
        )
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    print(
        f"signed {len(merged['resources'])} resources of {args.checkpoint} "
        f"hashed on {args.workers if cluster else 'the cluster'}'s workers: {args.signature}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    os.environ.setdefault("DASK_DISTRIBUTED__LOGGING__DISTRIBUTED", "warning")
    sys.exit(main(sys.argv[1:]))
