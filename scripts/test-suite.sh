#!/usr/bin/env bash
# Usage: scripts/test-suite.sh [PYTEST_ARGS...] — the whole suite, as `make test` runs it:
#   1. the tests that start no process and time nothing (domain, web, security, structure) on SQLite and on a
#      private PostgreSQL server AT THE SAME TIME — they share nothing (each run has its own database and
#      temporary files), and the two runs fill the machine's two cores;
#   2. then, alone on the machine, the browser journeys (SQLite) and the fault suite (SQLite, then PostgreSQL):
#      they start gunicorn, nginx, PostgreSQL and Chromium and wait on them, so they get the cores to themselves.
# Exits non-zero if any run failed; each run's whole output is printed.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTEST=.venv/bin/pytest
LOGS="$(mktemp -d "${TMPDIR:-/tmp}/test-suite.XXXXXX")"
QUICK="not browser and not faults"

"$PYTEST" -m "$QUICK" "$@" >"$LOGS/sqlite.log" 2>&1 &
sqlite=$!
scripts/with-postgres.sh "$PYTEST" -m "$QUICK" "$@" >"$LOGS/postgres.log" 2>&1 &
postgres=$!
wait "$sqlite"; sqlite_rc=$?
wait "$postgres"; postgres_rc=$?
echo "== SQLite: domain, web, security, structure (exit $sqlite_rc)"; cat "$LOGS/sqlite.log"
echo "== PostgreSQL: domain, web, security, structure (exit $postgres_rc)"; cat "$LOGS/postgres.log"

echo "== SQLite: browser journeys and fault suite"
"$PYTEST" -m "browser or faults" "$@"; slow_rc=$?
echo "== PostgreSQL: fault suite"
scripts/with-postgres.sh "$PYTEST" -m "faults and not browser" "$@"; faults_rc=$?

rm -rf "$LOGS"
for rc in "$sqlite_rc" "$postgres_rc" "$slow_rc" "$faults_rc"; do
    (( rc == 0 )) || exit 1
done
