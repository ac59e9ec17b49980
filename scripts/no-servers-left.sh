#!/usr/bin/env bash
# After `make test`: no embedded cluster that strata started for a test project is still
# running. The test run records its projects' clusters under its own XDG_STATE_HOME; each
# one started implicitly stops itself after STRATA_IDLE_STOP, so wait a little longer than
# that, then fail naming every one left.
set -euo pipefail
cd "$(dirname "$0")/.."
strata=${STRATA:-./target/debug/strata}
: "${XDG_STATE_HOME:?set it to the state directory the test run used}"
for _ in $(seq 1 60); do
  running=$("$strata" db status --all | grep '^running' || true)
  [ -z "$running" ] && { echo "no embedded cluster left running"; exit 0; }
  sleep 1
done
echo "embedded clusters still running after the tests:" >&2
echo "$running" >&2
exit 1
