#!/usr/bin/env bash
# Until the first release the schema ships as ONE initial migration: regenerate it from the models.
# (After release: `flask --app wsgi db migrate -m "..."` adds a new revision instead.)
set -euo pipefail
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
rm -f migrations/versions/*.py
DATABASE_URL="sqlite:///$tmp/empty.db" .venv/bin/flask --app wsgi db migrate -m "initial schema" >/dev/null 2>&1
.venv/bin/ruff format -q migrations/versions/ || true
ls migrations/versions/
