#!/usr/bin/env bash
# Fleet rollout (docs/benchmarks.md, "Fleets"; docs/fleet.md): BENCH_FLEET_MEMBERS (default
# 200) tenant databases of one 20-table schema, made from a template database in a throwaway
# embedded cluster; the change touches one table of twenty (5%): a new column and an index.
# Measured, each from the same starting state (the databases made again from the template):
#   one single-target `plan` (one read + one simulation), `targets --group` (the reads alone),
#   `plan --group` (every member read, one simulation for the one state),
#   a shell loop of single-target `plan` + `run` per member (BENCH_FLEET_LOOP members, default
#   all; its time per member is reported too),
#   `run --group` at parallel = 1, 2, 4, 8 (canary = 1; the canary rehearses).
#
#   scripts/bench/fleet.sh                   # or: make bench-fleet (also part of make bench)
#   BENCH_FLEET_MEMBERS=50 BENCH_FLEET_LOOP=10 scripts/bench/fleet.sh
# STRATA: the binary (default target/release/strata when built, else target/debug/strata).
set -euo pipefail
MEMBERS=${BENCH_FLEET_MEMBERS:-200}
LOOP=${BENCH_FLEET_LOOP:-$MEMBERS}
PARALLELS=${BENCH_FLEET_PARALLEL:-1 2 4 8}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${STRATA:-}" ]; then
    STRATA=$ROOT/target/release/strata
    [ -x "$STRATA" ] || STRATA=$ROOT/target/debug/strata
fi
WORK=$(mktemp -d /tmp/strata-bench-fleet.XXXXXX)
chmod 755 "$WORK"
PROJECT=$WORK/project
cleanup() { "$STRATA" -C "$WORK" db stop >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT

"$STRATA" -C "$WORK" db start >/dev/null 2>&1
DEV=$("$STRATA" -C "$WORK" db url 2>/dev/null)
url() { printf '%s' "${DEV/\/dev\?//$1?}"; }
ADMIN=$(url postgres)
export STRATA_SHADOW_URL=$ADMIN CI=true STRATA_IDLE_STOP=off

schema() { # $1: 1 = before, 2 = after the change
    for t in $(seq -w 1 20); do
        echo "CREATE TABLE t$t (id bigint PRIMARY KEY, name text NOT NULL, note text, amount numeric(12,2), created_at timestamptz NOT NULL DEFAULT now()$( [ "$t" != 01 ] && echo ", parent_id bigint REFERENCES t$(printf %02d $((10#$t - 1))) (id)")$( [ "$1" = 2 ] && [ "$t" = 07 ] && echo ", extra text"));"
        echo "CREATE INDEX t${t}_name ON t$t (name);"
        if [ "$1" = 2 ] && [ "$t" = 07 ]; then echo "CREATE INDEX t07_extra ON t07 (extra);"; fi
    done
}

mkdir -p "$PROJECT/schema" "$PROJECT/migrations"
cat > "$PROJECT/pipeline.toml" <<TOML
[shadow]
url = "env:STRATA_SHADOW_URL"

[groups.fleet]
urls_file = "members.txt"
canary = 1
TOML
schema 1 > "$PROJECT/schema/app.sql"
: > "$PROJECT/members.txt"
psql "$ADMIN" -XAtqc "CREATE DATABASE tmpl" >/dev/null
"$STRATA" -C "$PROJECT" apply --database-url "$(url tmpl)" >/dev/null 2>&1
for i in $(seq -w 1 "$MEMBERS"); do url "m$i" >> "$PROJECT/members.txt"; echo >> "$PROJECT/members.txt"; done
schema 2 > "$PROJECT/schema/app.sql"

fresh() { # the members, made again from the template
    {
        for i in $(seq -w 1 "$MEMBERS"); do
            echo "DROP DATABASE IF EXISTS m$i;"
            echo "CREATE DATABASE m$i TEMPLATE tmpl STRATEGY FILE_COPY;"
        done
    } | psql "$ADMIN" -XAtq -v ON_ERROR_STOP=1 >/dev/null
    rm -rf "$PROJECT/pending" "$PROJECT/pending.sql"
}

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
row() { printf '| %s | %.1f s |\n' "$1" "$2"; }

fresh
echo "| what ($MEMBERS members, 20 tables, 1 changed; $(basename "$(dirname "$STRATA")") build) | wall time |"
echo "|---|---|"
t=$(now); "$STRATA" -C "$PROJECT" plan --no-git --database-url "$(url "m$(seq -w 1 "$MEMBERS" | head -1)")" >/dev/null 2>&1; single=$(since "$t")
rm -f "$PROJECT/pending.sql"
row "one single-target plan" "$single"
t=$(now); "$STRATA" -C "$PROJECT" targets --group fleet >/dev/null 2>&1; reads=$(since "$t")
row "targets --group (the $MEMBERS reads, parallel 4)" "$reads"
t=$(now); "$STRATA" -C "$PROJECT" plan --group fleet --no-git >/dev/null 2>&1; group_plan=$(since "$t")
row "plan --group" "$group_plan"
row "  target: 2 × (single plan + reads)" "$(echo "2 * ($single + $reads)" | bc)"

fresh
t=$(now)
for i in $(seq -w 1 "$MEMBERS" | head -n "$LOOP"); do
    u=$(url "m$i")
    "$STRATA" -C "$PROJECT" plan --no-git --database-url "$u" >/dev/null 2>&1
    "$STRATA" -C "$PROJECT" run --database-url "$u" >/dev/null 2>&1
    rm -f "$PROJECT/pending.sql"
done
loop=$(since "$t")
row "shell loop: plan + run per member, $LOOP members" "$loop"
row "  per member" "$(echo "$loop / $LOOP" | bc -l)"

for p in $PARALLELS; do
    fresh
    "$STRATA" -C "$PROJECT" plan --group fleet --no-git >/dev/null 2>&1
    sed -i "s/^parallel = .*//; /^canary = 1/a parallel = $p" "$PROJECT/pipeline.toml"
    t=$(now)
    "$STRATA" -C "$PROJECT" run --group fleet >/dev/null 2>"$WORK/run.err" || { tail -5 "$WORK/run.err" >&2; exit 1; }
    row "run --group, parallel = $p" "$(since "$t")"
done
