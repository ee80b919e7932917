#!/usr/bin/env bash
# Install the pinned front-end packages (frontend/package-lock.json) and copy
# htmx into portal/static/vendor/. Idempotent and quick when already done.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FRONTEND="$ROOT/frontend"
HTMX_REL="portal/static/vendor/htmx.min.js"   # path as written in frontend/htmx.sha256
HTMX_DEST="$ROOT/$HTMX_REL"
HTMX_SRC="$FRONTEND/node_modules/htmx.org/dist/htmx.min.js"
HASH_FILE="$FRONTEND/htmx.sha256"
# The stamp lives inside node_modules so deleting node_modules also invalidates it.
STAMP="$FRONTEND/node_modules/.vendor-lock.sha256"

die() { echo "vendor.sh: $*" >&2; exit 1; }

command -v npm >/dev/null 2>&1 || die "npm not found (node/npm are expected on the machine; see scripts/system-deps.sh)"

# Second, independent pin next to the lockfile: the sha256 of the exact file we
# serve (sha256sum format). Catches a lock bumped without re-reviewing the asset.
[[ -f "$HASH_FILE" ]] || die "missing frontend/htmx.sha256"
expected="$(awk -v p="$HTMX_REL" '$2 == p || $2 == "*" p { print $1 }' "$HASH_FILE")"
[[ "$expected" =~ ^[0-9a-f]{64}$ ]] || die "no sha256 entry for $HTMX_REL in frontend/htmx.sha256"

lock_hash="$(cat "$FRONTEND/package.json" "$FRONTEND/package-lock.json" | sha256sum | cut -d' ' -f1)"
file_hash() { if [[ -f "$1" ]]; then sha256sum "$1" | cut -d' ' -f1; fi; }

# npm ci wipes node_modules and checks every tarball against the lockfile's
# sha512 integrity. Skip it only when node_modules was installed from this exact
# lock (stamp) and the htmx file in it is still the pinned one (not edited since).
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$lock_hash" && "$(file_hash "$HTMX_SRC")" == "$expected" ]]; then
    echo "vendor.sh: frontend/node_modules already matches package-lock.json, skipping npm ci"
else
    echo "vendor.sh: npm ci in frontend/"
    # --ignore-scripts: none of our packages needs install scripts; run none.
    (cd "$FRONTEND" && npm ci --no-audit --no-fund --ignore-scripts)
    printf '%s\n' "$lock_hash" > "$STAMP"
fi

# Copy to a temp file and verify it before moving it into place, so an
# unverified file is never where the app serves it.
mkdir -p "$(dirname "$HTMX_DEST")"
tmp="$(mktemp "$(dirname "$HTMX_DEST")/.htmx.min.js.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
cp "$HTMX_SRC" "$tmp"
chmod 0644 "$tmp"
actual="$(file_hash "$tmp")"
if [[ "$actual" != "$expected" ]]; then
    rm -f "$HTMX_DEST"   # don't leave a stale copy that would hide the failure
    {
        echo "vendor.sh: SHA256 MISMATCH for $HTMX_REL"
        echo "  expected (frontend/htmx.sha256): $expected"
        echo "  actual (from node_modules):      $actual"
        echo "If htmx was upgraded on purpose, review the new file and update frontend/htmx.sha256."
    } >&2
    exit 1
fi
mv -f "$tmp" "$HTMX_DEST"
trap - EXIT
(cd "$ROOT" && sha256sum --check --strict "$HASH_FILE")
