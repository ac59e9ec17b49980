#!/usr/bin/env bash
# `make demo`: the root example pipeline end to end on the embedded PostgreSQL.
#
# The example (pipeline.toml, schema/, migrations/) is copied into a scratch git repository
# so the demo can commit, branch and edit schema/ without touching this checkout. The target
# is a `demo` database on this checkout's embedded cluster, made afresh each time.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
strata="$repo/target/debug/strata"
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "strata db start   (the embedded PostgreSQL under .strata/)"
"$strata" db start
admin_url=$("$strata" db url | sed 's|/dev?|/postgres?|')
psql -XAtq "$admin_url" -c "DROP DATABASE IF EXISTS demo WITH (FORCE)" -c "CREATE DATABASE demo"
export DATABASE_URL=$(printf %s "$admin_url" | sed 's|/postgres?|/demo?|')
export STRATA_SHADOW_URL=$admin_url

work=$(mktemp -d /tmp/strata-demo-XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -r pipeline.toml schema migrations "$work"/
cd "$work"
export GIT_AUTHOR_NAME=${GIT_AUTHOR_NAME:-strata demo} GIT_AUTHOR_EMAIL=${GIT_AUTHOR_EMAIL:-demo@example.com}
export GIT_COMMITTER_NAME=$GIT_AUTHOR_NAME GIT_COMMITTER_EMAIL=$GIT_AUTHOR_EMAIL
git init -q -b main . && git add -A && git commit -qm "the example app"

step "strata plan   (simulates the pipeline on a shadow database, commits pending.sql on a branch)"
"$strata" plan
branch=$(git branch --no-merged HEAD --list 'change-schema-*' --format='%(refname:short)')
echo "(branch $branch; merging it as a reviewer would)"
git merge -q --ff-only "$branch"

step "strata run   (expand DDL, data migrations, deploy hook, contract; removes pending.sql in a commit)"
"$strata" run --git-commit
git log --oneline | head -3

step "strata status"
"$strata" status

step "an edit to schema/: users get a nickname; the second plan holds only that"
sed -i 's/    full_name  text,/    full_name  text,\n    nickname   text,/' schema/tables.sql
git commit -qam "users.nickname"
"$strata" plan
branch=$(git branch --no-merged HEAD --list 'change-schema-*' --format='%(refname:short)')
git merge -q --ff-only "$branch"
"$strata" run --git-commit

step "strata drift   (nothing changed outside strata)"
"$strata" drift

echo
echo "The embedded cluster keeps running; stop it with: $strata -C $repo db stop"
