#!/usr/bin/env bash
# `make bench`: builds strata in release mode and runs the benchmark driver (bench.py), which
# starts its own throwaway cluster and removes it on exit. See docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/../.."

state="$(mktemp)"
cleanup() {
  # bench.py stops its cluster itself (atexit); this catches a driver that died harder.
  local dir data
  dir="$(sed -n 1p "$state" 2>/dev/null || true)"
  data="$(sed -n 2p "$state" 2>/dev/null || true)"
  if [ -n "$data" ] && [ -f "$data/postmaster.pid" ]; then
    pid="$(head -1 "$data/postmaster.pid")"
    kill -QUIT "$pid" 2>/dev/null || true
    sleep 1
  fi
  if [ -n "$dir" ]; then rm -rf "$dir"; fi
  if [ -n "$data" ]; then rm -rf "$data"; fi
  rm -f "$state"
}
trap cleanup EXIT

${CARGO:-cargo} build --release --locked --bin strata --bin strata-gen-schema --bin strata-bench-diff
BENCH_STATE="$state" python3 scripts/bench/bench.py
# The fleet section (scripts/bench/fleet.sh, alone: make bench-fleet); its figures are
# recorded by hand in scripts/bench/fleet.md.
STRATA="$PWD/target/release/strata" bash scripts/bench/fleet.sh
