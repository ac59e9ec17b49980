#!/usr/bin/env bash
# `make examples`: runs the ```sh blocks of every examples/*/README.md in order, as a newcomer
# would type them (from the checkout, strata from target/debug), and fails at the first command
# that fails. The READMEs work in /tmp/adopt, /tmp/split, /tmp/stages and /tmp/multi and end by
# stopping their embedded cluster and removing that directory.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
export PATH="$repo/target/debug:$PATH"
export GIT_AUTHOR_NAME=${GIT_AUTHOR_NAME:-strata example} GIT_AUTHOR_EMAIL=${GIT_AUTHOR_EMAIL:-example@example.com}
export GIT_COMMITTER_NAME=$GIT_AUTHOR_NAME GIT_COMMITTER_EMAIL=$GIT_AUTHOR_EMAIL
for dir in /tmp/adopt /tmp/split /tmp/stages /tmp/multi; do
  if [ -e "$dir" ]; then echo "$dir exists; remove it first (an earlier run?)" >&2; exit 1; fi
done
for readme in examples/*/README.md; do
  printf '\n\033[1m==> %s\033[0m\n' "$readme"
  script=$(mktemp)
  {
    echo 'set -eo pipefail'
    echo "cd '$repo'"
    # Whatever happens, stop the clusters the README started.
    echo "trap 'for d in /tmp/adopt /tmp/split /tmp/stages /tmp/multi; do [ -d \$d ] && strata -C \$d db stop >/dev/null 2>&1; done; true' EXIT"
    awk '/^```sh$/ {on=1; next} /^```$/ {on=0} on && $0 != "cargo build"' "$readme"
  } > "$script"
  bash "$script"
  rm -f "$script"
done
echo
echo "every example README ran to the end"
