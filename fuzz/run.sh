#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) for a bounded time, one after another, and prints
# per target the seconds run, the executions and the crashes found.
#
#   fuzz/run.sh SECONDS [TARGET...]
#
# Needs a nightly toolchain and cargo-fuzz:
#   rustup toolchain install nightly && cargo install cargo-fuzz
# Seeds are read from fuzz/corpus/TARGET/; inputs the fuzzer finds go to fuzz/target/work/TARGET/
# (not committed); crashes to fuzz/artifacts/TARGET/. Add a fixed crash's input to the corpus:
# tests/fuzz_corpus.rs then replays it in every `cargo test`.
set -uo pipefail
cd "$(dirname "$0")"
secs=${1:?usage: fuzz/run.sh SECONDS [TARGET...]}
shift
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "no nightly toolchain: rustup toolchain install nightly" >&2
  exit 2
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "cargo-fuzz is missing: cargo install cargo-fuzz" >&2
  exit 2
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=($(ls fuzz_targets | sed 's/\.rs$//'))
# -a: debug assertions, so arithmetic overflow panics as in a debug build.
cargo +nightly fuzz build -a 2>&1 | grep -E "^error" -A5; [ "${PIPESTATUS[0]}" -eq 0 ] || exit 2
printf '%-18s %8s %12s %8s\n' target seconds execs crashes
status=0
for t in "${targets[@]}"; do
  mkdir -p "target/work/$t" "artifacts/$t"
  before=$(ls "artifacts/$t" | wc -l)
  start=$(date +%s)
  log="target/work/$t.log"
  # One process (2 cores are shared); -timeout: an input taking 10 s is a hang;
  # -rss_limit_mb: using more than 2 GB is a finding.
  cargo +nightly fuzz run -a "$t" "target/work/$t" "corpus/$t" -- \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1
  rc=$?
  end=$(date +%s)
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  crashes=$(( $(ls "artifacts/$t" | wc -l) - before ))
  printf '%-18s %8s %12s %8s\n' "$t" "$((end - start))" "${execs:-?}" "$crashes"
  if [ "$rc" -ne 0 ]; then
    status=1
    grep -m3 -E 'panicked|ERROR: libFuzzer|SUMMARY' "$log" | sed 's/^/    /'
    echo "    log: fuzz/$log"
  fi
done
exit $status
