#!/usr/bin/env bash
# Online schema changes under load (docs/benchmarks.md, "Online schema changes"): pgbench
# traffic on a table of BENCH_ROWS rows (default 1,000,000) while
#   strata: `strata apply` plans and runs "add an index, a foreign key, a NOT NULL and a
#           renamed column" (concurrent index, NOT VALID + VALIDATE, NOT NULL through a check,
#           expand/contract rename with a batched backfill), and
#   naive:  psql runs the plain statements (CREATE INDEX, ADD FOREIGN KEY, SET NOT NULL,
#           RENAME COLUMN), each in its own transaction.
# Both start from the same data in a throwaway embedded cluster. Reported: transactions,
# failed transactions (pgbench), transactions over 500 ms, worst and p99 latency (from the
# per-transaction log), and how long the change took.
#
#   scripts/bench/online.sh                    # or: make bench-online
#   BENCH_ROWS=200000 BENCH_SECONDS=20 scripts/bench/online.sh
#   BENCH_ONLY="strata" BENCH_KEEP=/tmp/online-logs scripts/bench/online.sh
# BENCH_ONLY: which rows to run (baseline, naive, strata; default all three).
# BENCH_KEEP: a directory to keep, per row, the pgbench per-transaction log, the server log
# (lock waits and statements over 50 ms, every statement of strata's sessions, timestamped)
# and the change's output, to find what made the worst transactions wait.
set -euo pipefail
ROWS=${BENCH_ROWS:-1000000}
CLIENTS=${BENCH_CLIENTS:-4}
DURATION=${BENCH_SECONDS:-40}
ONLY=${BENCH_ONLY:-baseline naive strata}
KEEP=${BENCH_KEEP:-}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
STRATA=${STRATA:-$ROOT/target/debug/strata}
command -v pgbench >/dev/null || { echo "needs pgbench (apt-get install postgresql-contrib)" >&2; exit 2; }
WORK=$(mktemp -d /tmp/strata-bench-online.XXXXXX)
chmod 755 "$WORK"
cleanup() { "$STRATA" -C "$WORK" db stop >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT

"$STRATA" -C "$WORK" db start >/dev/null 2>&1
URL=$("$STRATA" -C "$WORK" db url 2>/dev/null)
DB=${URL/\/dev\?//bench?}
if [ -n "$KEEP" ]; then
    mkdir -p "$KEEP"
    psql "$URL" -Xq -c "ALTER SYSTEM SET log_lock_waits = on" \
        -c "ALTER SYSTEM SET deadlock_timeout = '20ms'" \
        -c "ALTER SYSTEM SET log_min_duration_statement = '50ms'" \
        -c "ALTER SYSTEM SET log_line_prefix = '%m [%p] %a '" -c "SELECT pg_reload_conf()" >/dev/null
    SERVER_LOG=$(find "$WORK" "${TMPDIR:-/tmp}"/strata-* -name postgres.log 2>/dev/null | head -1)
fi

V1="CREATE TABLE owners (id bigint PRIMARY KEY);
CREATE TABLE accounts (
  id bigint PRIMARY KEY,
  owner_id bigint,
  email text,
  fullname text,
  balance bigint NOT NULL DEFAULT 0
);"
V2="CREATE TABLE owners (id bigint PRIMARY KEY);
CREATE TABLE accounts (
  id bigint PRIMARY KEY,
  owner_id bigint CONSTRAINT accounts_owner_id_fkey REFERENCES owners (id),
  email text NOT NULL,
  -- strata:renamed-from fullname
  full_name text,
  balance bigint NOT NULL DEFAULT 0
);
CREATE INDEX accounts_owner_idx ON accounts (owner_id);"
NAIVE="CREATE INDEX accounts_owner_idx ON accounts (owner_id);
ALTER TABLE accounts ADD CONSTRAINT accounts_owner_id_fkey FOREIGN KEY (owner_id) REFERENCES owners (id);
ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;
ALTER TABLE accounts RENAME COLUMN fullname TO full_name;"

# The application: a point update and a read of the same row. It does not touch the renamed
# column (code that does breaks at once under the naive rename; tests/online.rs shows the
# expand/contract rename keeps it working).
cat > "$WORK/app.sql" <<'EOF'
\set id random(1, :rows)
BEGIN;
UPDATE accounts SET balance = balance + 1 WHERE id = :id;
SELECT balance, email FROM accounts WHERE id = :id;
END;
EOF

# The project is the work directory itself (its .strata/ holds the cluster).
P=$WORK
mkdir -p "$P/schema"
cat > "$P/pipeline.toml" <<EOF
[shadow]
url = "$URL"

[deploy]
command = "true"

[targets.bench]
url = "$DB${KEEP:+&options=-c%20log_min_duration_statement%3D0}"
lock_timeout = "1s"
retries = 10
EOF

# fresh: the bench database at V1 (made by strata, so that strata knows it), loaded with rows.
fresh() {
    psql "$URL" -Xq -c "DROP DATABASE IF EXISTS bench" -c "CREATE DATABASE bench"
    echo "$V1" > "$P/schema/app.sql"
    "$STRATA" -C "$P" apply >/dev/null 2>&1
    psql "$DB" -Xq -v ON_ERROR_STOP=1 <<EOF
INSERT INTO owners SELECT g FROM generate_series(1, 1000) g;
INSERT INTO accounts (id, owner_id, email, fullname)
  SELECT g, 1 + g % 1000, 'user' || g || '@example.com', 'User ' || g FROM generate_series(1, $ROWS) g;
VACUUM ANALYZE;
EOF
}

# measure NAME CMD...: pgbench for DURATION seconds, CMD started 3 s in.
measure() {
    local name=$1
    shift
    rm -f "$WORK"/log.*
    [ -n "${SERVER_LOG:-}" ] && : > "$SERVER_LOG" # the server appends: truncating is safe
    pgbench -n -c "$CLIENTS" -j 2 -T "$DURATION" -L 500 -D rows="$ROWS" -f "$WORK/app.sql" \
        -l --log-prefix="$WORK/log" "$DB" > "$WORK/pgbench.out" 2>&1 &
    local bench=$!
    sleep 3
    local start end
    start=$(date +%s.%N)
    "$@" > "$WORK/change.out" 2>&1 || { echo "$name: the change failed:" >&2; cat "$WORK/change.out" >&2; }
    end=$(date +%s.%N)
    wait "$bench" || true
    local txs failed late
    txs=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$WORK/pgbench.out")
    failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$WORK/pgbench.out")
    late=$(sed -n 's/^number of transactions above the .* latency limit: \([0-9]*\).*/\1/p' "$WORK/pgbench.out")
    local aborted
    aborted=$(grep -c "aborted" "$WORK/pgbench.out" || true)
    # Field 3 of the per-transaction log: latency in microseconds.
    read -r worst p99 < <(cat "$WORK"/log.* | awk '{print $3}' | sort -n |
        awk '{a[NR]=$1} END {i=int(NR*0.99); if (i<1) i=1; printf "%.0f %.0f\n", a[NR]/1000, a[i]/1000}')
    if [ -n "$KEEP" ]; then
        local d="$KEEP/${name%% *}"
        mkdir -p "$d"
        cat "$WORK"/log.* | sort -k5,5n -k6,6n > "$d/pgbench.log"
        cp "$WORK/change.out" "$WORK/pgbench.out" "$d/"
        [ -n "${SERVER_LOG:-}" ] && cp "$SERVER_LOG" "$d/postgres.log"
        echo "$start $end" > "$d/change.times"
    fi
    printf "| %s | %.1f | %s | %s | %s | %s | %s | %s |\n" "$name" "$(echo "$end - $start" | bc)" \
        "${txs:-?}" "${failed:-0}" "$aborted" "${late:-0}" "$worst" "$p99"
}

strata_change() {
    echo "$V2" > "$P/schema/app.sql"
    "$STRATA" -C "$P" apply
}

naive_change() {
    # One statement per transaction (psql's autocommit).
    echo "$NAIVE" | psql "$DB" -Xq -v ON_ERROR_STOP=1
}

echo "rows=$ROWS clients=$CLIENTS seconds=$DURATION pgbench=$(pgbench --version | awk '{print $3}')" >&2
echo "| $ROWS rows, $CLIENTS clients, ${DURATION} s | change s | transactions | failed | clients aborted | over 500 ms | worst ms | p99 ms |"
echo "|---|---|---|---|---|---|---|---|"
for row in $ONLY; do
    fresh
    case $row in
    baseline) measure "no change (baseline)" true ;;
    naive) measure "naive statements (psql)" naive_change ;;
    strata) measure "strata apply (online forms)" strata_change ;;
    *) echo "unknown row $row (baseline, naive, strata)" >&2; exit 2 ;;
    esac
done
