#!/usr/bin/env bash
# Compares msign with the reference (model_signing 1.1.1) and with this machine's hardware
# limits on synthetic models. Output: one line per case, stable format:
#
#   case | msign s | ref s | speedup | msign GB/s | limit GB/s | of limit | msign peak RSS MB
#
# "limit" is the speed no hasher can beat here: one core of `openssl speed -evp sha256`
# (file serialization of one file), twice that (several files or shards on two cores),
# `b3sum` on the same file (blake3), `dd` (cold cache). Times are the best of $RUNS runs with
# a warm page cache; the reference runs on the same files in the same run.
#
# Usage: bench/compare.sh [WORKDIR]   (default: a folder under /tmp; needs ~16 GB free,
#        the synthetic files are deleted at the end unless KEEP=1)
# Env: MSIGN (default target/release/msign, built if missing), REF_CLI, REF_PYTHON
#      (default /work/venv or .venv-ref), RUNS (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
RUNS=${RUNS:-3}
work=${1:-$(mktemp -d /tmp/msign-bench.XXXXXX)}
mkdir -p "$work"
if [ -z "${MSIGN:-}" ]; then
  cargo build --release --quiet
  MSIGN=$repo/target/release/msign
fi
for v in /work/venv .venv-ref; do
  if [ -z "${REF_CLI:-}" ] && [ -x "$v/bin/model_signing" ]; then
    REF_CLI=$v/bin/model_signing
    REF_PYTHON=$v/bin/python
  fi
done
: "${REF_CLI:?set REF_CLI to model_signing 1.1.1 (run .ci/run to install it into .venv-ref)}"
: "${REF_PYTHON:?set REF_PYTHON}"
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (Debian package 'time')" >&2; exit 2; }
B3SUM=$(command -v b3sum || echo "$HOME/.cargo/bin/b3sum")
[ -x "$B3SUM" ] || B3SUM=""

cleanup() { [ "${KEEP:-0}" = 1 ] || rm -rf "$work"; }
trap cleanup EXIT

log() { echo "# $*" >&2; }

# ---------- synthetic models ----------
rand() { # FILE BYTES: incompressible content, fast
  { openssl enc -aes-128-ctr -pass pass:"$1" -nosalt -pbkdf2 -in /dev/zero 2>/dev/null || true; } | head -c "$2" > "$1"
  [ "$(stat -c %s "$1")" = "$2" ] || { echo "could not create $1" >&2; exit 1; }
}
log "creating models in $work"
openssl ecparam -name prime256v1 -genkey -noout -out "$work/key.pem"
mkdir -p "$work/big" "$work/m13" "$work/small3000" "$work/small8"
[ -s "$work/big/weights.bin" ] || rand "$work/big/weights.bin" $((3 << 30))
for i in 1 2 3; do [ -s "$work/m13/part-$i.bin" ] || rand "$work/m13/part-$i.bin" 430000000; done
for i in 1 2 3 4 5; do [ -s "$work/m13/small-$i.json" ] || rand "$work/m13/small-$i.json" $((i * 7000)); done
if [ ! -s "$work/small3000/d29/f2999.bin" ]; then
  "$REF_PYTHON" - "$work/small3000" <<'EOF'
import os, random, sys
root = sys.argv[1]; random.seed(1)
for i in range(3000):
    d = os.path.join(root, f"d{i % 30}"); os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i}.bin"), "wb") as f:
        f.write(random.randbytes(random.randint(4096, 65536)))
EOF
fi
for i in 1 2 3 4 5 6 7 8; do [ -s "$work/small8/f$i.bin" ] || rand "$work/small8/f$i.bin" $((i * 100000)); done

# ---------- hardware limits ----------
sha_core=$(openssl speed -evp sha256 -bytes 16384 -seconds 3 2>/dev/null | awk '/^sha256/ {sub(/k$/, "", $NF); print $NF * 1000}')
log "openssl one-core sha256: $(awk -v s="$sha_core" 'BEGIN{printf "%.2f", s/1e9}') GB/s"

# ---------- timing helpers ----------
now() { date +%s.%N; }
# best_of CMD...: runs CMD $RUNS times, prints "seconds rss_mb cpu_seconds" of the fastest.
best_of() {
  local best="" rss=0 cpu=0 t0 t1 dt m c
  for _ in $(seq "$RUNS"); do
    t0=$(now)
    /usr/bin/time -f "%M %U %S" -o "$work/.rss" "$@" >/dev/null 2>"$work/.err" || { cat "$work/.err" >&2; return 1; }
    t1=$(now)
    dt=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.4f", b-a}')
    m=$(tail -1 "$work/.rss" | cut -d' ' -f1)
    c=$(tail -1 "$work/.rss" | awk '{print $2 + $3}')
    if [ -z "$best" ] || awk -v a="$dt" -v b="$best" 'BEGIN{exit !(a<b)}'; then best=$dt; rss=$m; cpu=$c; fi
  done
  echo "$best $((rss / 1024)) $cpu"
}
bytes_of() { du -sb --apparent-size "$1" | cut -f1; }

printf '%-34s | %8s | %8s | %7s | %10s | %10s | %8s | %9s | %s\n' \
  case "msign s" "ref s" speedup "msign GB/s" "limit GB/s" "of limit" "msign cpu" "msign peak RSS MB"
# line NAME BYTES MSIGN_S REF_S LIMIT_BPS RSS CPU_S
# "msign cpu": CPU seconds msign used (user + system), all threads; compare with the bytes
# over one core's hash speed to see the work beyond hashing, whatever the machine's load.
line() {
  awk -v n="$1" -v b="$2" -v m="$3" -v r="$4" -v l="$5" -v rss="$6" -v cpu="${7:-0}" 'BEGIN{
    tp = b / m / 1e9;
    sp = (r == "-") ? "-" : sprintf("%.1fx", r / m);
    lim = (l == "-") ? "-" : sprintf("%.2f", l / 1e9);
    frac = (l == "-") ? "-" : sprintf("%.0f%%", 100 * b / m / l);
    printf "%-34s | %8.3f | %8s | %7s | %10.2f | %10s | %8s | %8.2fs | %s\n", n, m, r, sp, tp, lim, frac, cpu, rss }'
}

REF_SIGN=("$REF_CLI" sign key --private_key "$work/key.pem" --signature "$work/ref.sig")
MS=("$MSIGN" --quiet sign key --private-key "$work/key.pem" --signature "$work/msign.sig" --no-cache)
# The reference's CLI has no flag for shards or blake3: its Python API hashes those cases.
REF_API=("$REF_PYTHON" -c '
import sys, model_signing
p, method, alg = sys.argv[1:]
c = model_signing.hashing.Config()
c = c.use_shard_serialization(hashing_algorithm=alg) if method == "shards" else c.use_file_serialization(hashing_algorithm=alg)
c.hash(p)')

case_run() { # NAME MODEL LIMIT_BPS REF_CMD... -- MSIGN_ARGS...
  local name=$1 model=$2 limit=$3; shift 3
  local ref=() ; while [ "$1" != "--" ]; do ref+=("$1"); shift; done; shift
  cat "$model" >/dev/null 2>&1 || find "$model" -type f -exec cat {} + >/dev/null
  read -r ms rss cpu < <(best_of "${MS[@]}" "$model" "$@")
  local rs="-"
  if [ "${#ref[@]}" -gt 0 ]; then read -r rs _ < <(RUNS=1 best_of "${ref[@]}"); fi
  line "$name" "$(bytes_of "$model")" "$ms" "$rs" "$limit" "$rss" "$cpu"
}

two=$(awk -v s="$sha_core" 'BEGIN{print 2*s}')
big=$work/big/weights.bin

case_run "3GiB-file sha256 files (1 core)" "$big" "$sha_core" "${REF_SIGN[@]}" "$big" --
case_run "3GiB-file sha256 shards (2 cores)" "$big" "$two" "${REF_API[@]}" "$big" shards sha256 -- --shard-size 1000000000
b3_limit="-"
if [ -n "$B3SUM" ]; then
  read -r b3s _ b3cpu < <(best_of "$B3SUM" --no-names "$big")
  b3_limit=$(awk -v b="$(bytes_of "$big")" -v t="$b3s" 'BEGIN{print b/t}')
fi
case_run "3GiB-file blake3 (vs b3sum)" "$big" "$b3_limit" "${REF_API[@]}" "$big" files blake3 -- --hash-algorithm blake3
case_run "3GiB-file blake2b files (1 core)" "$big" "-" "${REF_API[@]}" "$big" files blake2 -- --hash-algorithm blake2
case_run "1.3GB 3 big+5 small sha256" "$work/m13" "$two" "${REF_SIGN[@]}" "$work/m13" --
case_run "3000 files 4-64KiB sign" "$work/small3000" "$two" "${REF_SIGN[@]}" "$work/small3000" --
case_run "8-file small model sign" "$work/small8" "$two" "${REF_SIGN[@]}" "$work/small8" --

# ---------- peak memory on an 8 GiB model ----------
# Sparse files: same code path, no disk space; but every page read from a hole is allocated
# and zeroed by the kernel, so the time of these lines is no throughput figure.
mkdir -p "$work/m8g"
for i in 1 2; do truncate -s 4G "$work/m8g/w$i.bin"; done
read -r ms rss cpu < <(RUNS=1 best_of "${MS[@]}" "$work/m8g")
line "8GiB sparse sha256 (RSS only)" "$(bytes_of "$work/m8g")" "$ms" "-" "$two" "$rss" "$cpu"
read -r ms rss cpu < <(RUNS=1 best_of "${MS[@]}" "$work/m8g" --hash-algorithm blake3)
line "8GiB sparse blake3 (RSS only)" "$(bytes_of "$work/m8g")" "$ms" "-" "-" "$rss" "$cpu"

# ---------- incremental re-signing: 10 GB model, one small file edited ----------
mkdir -p "$work/m10g"
for i in 1 2 3 4 5; do truncate -s 2000000000 "$work/m10g/shard-$i.bin"; done
echo '{"v": 1}' > "$work/m10g/README.md"
export XDG_CACHE_HOME=$work/cache
sleep 3 # the racy-timestamp margin: entries for files written within 2 s are not trusted
"$MSIGN" --quiet sign key "$work/m10g" --private-key "$work/key.pem" --signature "$work/m10g.sig"
echo '{"v": 2}' > "$work/m10g/README.md"
read -r ms rss cpu < <(RUNS=1 best_of "$MSIGN" --quiet sign key "$work/m10g" --private-key "$work/key.pem" --signature "$work/m10g.sig")
unset XDG_CACHE_HOME
line "10GB sparse, 1 file edited, re-sign" "$(bytes_of "$work/m10g")" "$ms" "-" "-" "$rss" "$cpu"

# ---------- cold cache: msign vs dd on the 1.3 GB model ----------
drop() { # evict the model's pages: drop_caches if permitted, else per-file fadvise(DONTNEED)
  sync
  if ! (echo 3 > /proc/sys/vm/drop_caches) 2>/dev/null; then
    for f in "$work"/m13/*; do dd if="$f" iflag=nocache count=0 status=none; done
  fi
}
if (echo 3 > /proc/sys/vm/drop_caches) 2>/dev/null; then how="drop_caches"; else how="fadvise DONTNEED per file (drop_caches not permitted)"; fi
drop; t0=$(now); cat "$work"/m13/* | dd of=/dev/null bs=16M status=none; t1=$(now)
dd_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')
dd_bps=$(awk -v b="$(bytes_of "$work/m13")" -v t="$dd_s" 'BEGIN{print b/t}')
drop; read -r ms rss cpu < <(RUNS=1 best_of "${MS[@]}" "$work/m13")
line "1.3GB cold cache (limit: dd)" "$(bytes_of "$work/m13")" "$ms" "-" "$dd_bps" "$rss" "$cpu"

echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); one-core sha256 (openssl speed) $(awk -v s="$sha_core" 'BEGIN{printf "%.2f", s/1e9}') GB/s; b3sum ${b3_limit:+$(awk -v s="$b3_limit" 'BEGIN{ if (s=="-") print "n/a"; else printf "%.2f GB/s", s/1e9}')}; cold cache via $how; load average $(cut -d' ' -f1-3 /proc/loadavg)"
