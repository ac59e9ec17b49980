#!/usr/bin/env bash
# `make demo`: the root example pipeline end to end on the embedded PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
strata=./target/debug/strata
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "strata db start   (the embedded PostgreSQL under .strata/)"
$strata db start

step "strata config     (pipeline.toml with every default filled in)"
$strata config

step "strata db status"
$strata db status

echo
echo "The embedded cluster keeps running; stop it with: $strata db stop"
