#!/usr/bin/env bash
# Introspection benchmark: `strata fingerprint` and `strata dump` against `pg_dump --schema-only`
# on one generated schema (strata-gen-schema), in a throwaway embedded cluster.
# Wall time and peak RSS come from /usr/bin/time; statements are counted in the server log
# (log_statement = all on the benchmark database).
#
#   scripts/bench/introspect.sh [TABLES]        # default 10000
#   STRATA=target/debug/strata GEN=target/debug/strata-gen-schema scripts/bench/introspect.sh 1000
set -euo pipefail
N=${1:-10000}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
STRATA=${STRATA:-$ROOT/target/release/strata}
GEN=${GEN:-$ROOT/target/release/strata-gen-schema}
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
WORK=$(mktemp -d /tmp/strata-bench-introspect.XXXXXX)
chmod 755 "$WORK"
cleanup() { "$STRATA" -C "$WORK" db stop >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT

"$STRATA" -C "$WORK" db start >/dev/null 2>&1
URL=$("$STRATA" -C "$WORK" db url 2>/dev/null)
DB=${URL/\/dev\?//bench?}
psql "$URL" -Xqc "CREATE DATABASE bench"
echo "loading $N tables..." >&2
"$GEN" --tables "$N" | psql "$DB" -Xq -1 -v ON_ERROR_STOP=1 >/dev/null
psql "$URL" -Xqc "ALTER DATABASE bench SET log_statement = 'all'"
LOG=$(ls "$WORK"/.strata/cluster/postgres.log 2>/dev/null || find /tmp -maxdepth 3 -name postgres.log -newer "$WORK" | head -1)

# run NAME CMD...: one row of the table.
run() {
    local name=$1
    shift
    local before
    before=$(wc -l < "$LOG")
    /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" > "$WORK/out" 2> "$WORK/err"
    sleep 0.5
    local statements
    statements=$(tail -n +"$((before + 1))" "$LOG" | grep -c " bench LOG:  \(statement\|execute\)" || true)
    read -r wall rss < "$WORK/time"
    printf "| %s | %s | %d | %s | %s |\n" "$name" "$wall" "$((rss / 1024))" "$statements" \
        "$(wc -c < "$WORK/out")"
}

echo "| $N tables | wall s | peak RSS MB | statements | output bytes |"
echo "|---|---|---|---|---|"
run "strata fingerprint" "$STRATA" -C "$WORK" fingerprint --database-url "$DB"
run "strata dump" "$STRATA" -C "$WORK" dump --database-url "$DB"
run "pg_dump --schema-only" pg_dump --schema-only --dbname "$DB"
