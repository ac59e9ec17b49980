#!/usr/bin/env bash
# Installs what strata's build and tests need on Debian/Ubuntu, or says clearly what is missing:
# a Rust toolchain, libclang (pg_query's bindgen), and the PostgreSQL server and client programs.
set -euo pipefail

say() { printf 'setup: %s\n' "$*" >&2; }

if ! command -v cargo >/dev/null 2>&1; then
  say "cargo was not found. Install Rust first (https://rustup.rs), then run this again."
  exit 1
fi

have_libclang() {
  # libclang-cpp.so is a different library (the C++ API); bindgen needs libclang.so or libclang-NN.so.
  local pattern='libclang(-[0-9.]+)?\.so'
  ldconfig -p 2>/dev/null | grep -Eq "$pattern" && return 0
  ls /usr/lib/llvm-*/lib/ /usr/lib/x86_64-linux-gnu/ 2>/dev/null | grep -Eq "^$pattern"
}

have_pg_server() {
  command -v initdb >/dev/null 2>&1 && return 0
  command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ] && return 0
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}

missing=()
have_libclang || missing+=(libclang-dev)
have_pg_server || missing+=(postgresql)
command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
command -v pg_dump >/dev/null 2>&1 || missing+=(postgresql-client)
command -v git >/dev/null 2>&1 || missing+=(git)
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
  # The server refuses to run as root; the postgresql package creates this user.
  missing+=(postgresql)
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
say "installing: ${missing[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
  say "apt-get is not available; install these yourself: ${missing[*]}"
  exit 1
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    say "not root and no sudo: install these yourself: ${missing[*]}"; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq "${missing[@]}" >/dev/null
# Debian's postgresql package starts a system cluster; strata never uses it.
have_libclang || { say "libclang is still missing after installing libclang-dev"; exit 1; }
have_pg_server || { say "initdb is still missing after installing postgresql"; exit 1; }
