"""msign's Python API against model_signing 1.1.1's, in the same process, on the models of
bench/compare.sh: `hashing.Config().hash(model)` and `signing.Config()...sign(model, sig)`
with a key, best of RUNS, plus `msign digest` (the CLI) for the hashing time the API should
match. Output: one line per case, stable format:

  case | op | msign s | model_signing s | speedup | msign GB/s | CLI digest s | API/CLI

Usage (in a virtualenv holding both packages, msign built in release mode, e.g. by
`pip install ./python pytest "model_signing==1.1.1" pyopenssl`):

  python bench/python_api.py [WORKDIR] [--models big,m13,small3000,small8] [--runs 3]

The models are created in WORKDIR (default a folder under /tmp, deleted at the end unless
KEEP=1) as compare.sh creates them: big (one 3 GiB file), m13 (3 x 430 MB + 5 small),
small3000 (3000 files of 4-64 KiB), small8 (8 files, 0.1-0.8 MB). MSIGN names the CLI
(default target/release/msign, skipped when missing). Both APIs hash on threads with the
GIL released; pages are warm (each model is read once before timing).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import random
import shutil
import subprocess
import sys
import tempfile
import time

import model_signing

import msign

REPO = pathlib.Path(__file__).resolve().parents[1]
MODELS = ("big", "m13", "small3000", "small8")


def incompressible(path: pathlib.Path, size: int, seed: int) -> None:
    if path.exists() and path.stat().st_size == size:
        return
    rng = random.Random(seed)
    block = rng.randbytes(1 << 20)
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, len(block))
            # A fresh prefix per block keeps it incompressible and cheap to make.
            f.write(rng.randbytes(64) + block[64:n] if n > 64 else block[:n])
            left -= n


def make(work: pathlib.Path, name: str) -> pathlib.Path:
    m = work / name
    m.mkdir(parents=True, exist_ok=True)
    if name == "big":
        incompressible(m / "weights.bin", 3 << 30, 1)
    elif name == "m13":
        for i in (1, 2, 3):
            incompressible(m / f"part-{i}.bin", 430_000_000, 10 + i)
        for i in range(1, 6):
            incompressible(m / f"small-{i}.json", i * 7000, 20 + i)
    elif name == "small3000":
        rng = random.Random(1)
        for i in range(3000):
            d = m / f"d{i % 30}"
            d.mkdir(exist_ok=True)
            f = d / f"f{i}.bin"
            if not f.exists():
                f.write_bytes(rng.randbytes(rng.randint(4096, 65536)))
    elif name == "small8":
        for i in range(1, 9):
            incompressible(m / f"f{i}.bin", i * 100_000, 30 + i)
    return m


def size_of(m: pathlib.Path) -> int:
    return sum(p.stat().st_size for p in m.rglob("*") if p.is_file())


def warm(m: pathlib.Path) -> None:
    for p in m.rglob("*"):
        if p.is_file():
            with open(p, "rb") as f:
                while f.read(1 << 24):
                    pass


def best(runs: int, fn) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def cli_digest(cli: pathlib.Path | None, m: pathlib.Path, runs: int) -> float | None:
    if cli is None:
        return None
    return best(
        runs,
        lambda: subprocess.run(
            [str(cli), "--quiet", "digest", "--no-cache", str(m)], check=True, stdout=subprocess.DEVNULL
        ),
    )


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("workdir", nargs="?", type=pathlib.Path)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--runs", type=int, default=int(os.environ.get("RUNS", "3")))
    args = ap.parse_args(argv)
    work = args.workdir or pathlib.Path(tempfile.mkdtemp(prefix="msign-pybench."))
    work.mkdir(parents=True, exist_ok=True)
    cli = pathlib.Path(os.environ.get("MSIGN", REPO / "target" / "release" / "msign"))
    cli = cli if cli.is_file() else None
    key = work / "key.pem"
    if not key.exists():
        subprocess.run(
            ["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(key)],
            check=True,
        )
    names = [n for n in args.models.split(",") if n]
    for n in names:
        if n not in MODELS:
            ap.error(f"unknown model {n!r} (one of {', '.join(MODELS)})")
    print(
        f"{'case':<12} | {'op':<5} | {'msign s':>8} | {'model_signing s':>15} | {'speedup':>7} | "
        f"{'msign GB/s':>10} | {'CLI digest s':>12} | {'API/CLI':>7}"
    )
    try:
        for n in names:
            m = make(work, n)
            warm(m)
            size = size_of(m)
            ms_hash = best(args.runs, lambda: msign.hashing.Config().hash(m))
            ref_hash = best(1 if n != "small8" else args.runs, lambda: model_signing.hashing.Config().hash(m))
            cli_s = cli_digest(cli, m, args.runs)
            ms_sign = best(
                args.runs,
                lambda: msign.signing.Config()
                .use_elliptic_key_signer(private_key=key)
                .sign(m, work / "msign.sig"),
            )
            ref_sign = best(
                1 if n != "small8" else args.runs,
                lambda: model_signing.signing.Config()
                .use_elliptic_key_signer(private_key=key)
                .sign(m, work / "ref.sig"),
            )
            for op, ours, theirs, c in (("hash", ms_hash, ref_hash, cli_s), ("sign", ms_sign, ref_sign, None)):
                ratio = "-" if c is None else f"{ours / c:.2f}"
                cs = "-" if c is None else f"{c:.3f}"
                print(
                    f"{n:<12} | {op:<5} | {ours:>8.3f} | {theirs:>15.3f} | {theirs / ours:>6.1f}x | "
                    f"{size / ours / 1e9:>10.2f} | {cs:>12} | {ratio:>7}",
                    flush=True,
                )
    finally:
        if args.workdir is None and os.environ.get("KEEP", "0") != "1":
            shutil.rmtree(work, ignore_errors=True)
    print(
        f"# machine: {os.cpu_count()} cores; load average {' '.join(open('/proc/loadavg').read().split()[:3])}; "
        f"msign {msign.__version__}, model_signing 1.1.1, Python {sys.version.split()[0]}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
