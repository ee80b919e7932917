#!/usr/bin/env bash
# Usage: scripts/with-postgres.sh CMD [ARGS...]
# Runs CMD against a private, throw-away PostgreSQL cluster: fresh data dir,
# 127.0.0.1 only, first free port from 15432, database portal_test.
# Exports DATABASE_URL and TEST_DATABASE_URL; exits with CMD's status.
# Needs no systemd and never touches the Debian "main" cluster.
set -euo pipefail

die() { echo "with-postgres.sh: $*" >&2; exit 1; }
(( $# > 0 )) || die "usage: $0 CMD [ARGS...]"

# Newest installed server version (Debian: /usr/lib/postgresql/<major>/bin).
PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
[[ -n "$PGBIN" && -x "$PGBIN/initdb" && -x "$PGBIN/pg_ctl" ]] \
    || die "no PostgreSQL server under /usr/lib/postgresql/*/bin (run scripts/system-deps.sh)"

# Postgres refuses to run as root, so as root we run it as the `postgres` user
# (created by the Debian package); otherwise as ourselves.
if (( EUID == 0 )); then
    id postgres >/dev/null 2>&1 || die "user 'postgres' does not exist (is the postgresql package installed?)"
    as_pg() { runuser -u postgres -- "$@"; }
    # /tmp, not $TMPDIR: the postgres user must be able to reach the directory.
    PGDIR="$(mktemp -d /tmp/with-postgres.XXXXXX)"
    chown postgres:postgres "$PGDIR"
else
    as_pg() { "$@"; }
    PGDIR="$(mktemp -d "${TMPDIR:-/tmp}/with-postgres.XXXXXX")"
fi
PGDATA="$PGDIR/data"
PGLOG="$PGDIR/server.log"

cleanup() {
    local rc=$?
    # postmaster.pid exists while a server runs on PGDATA (also after a start
    # that pg_ctl reported as failed, e.g. on timeout).
    if [[ -f "$PGDATA/postmaster.pid" ]]; then
        as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w -t 30 stop >/dev/null 2>&1 \
            || as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate -w stop >/dev/null 2>&1 \
            || echo "with-postgres.sh: warning: could not stop the cluster in $PGDIR" >&2
    fi
    rm -rf "$PGDIR"
    exit "$rc"
}
trap cleanup EXIT
# Turn signals into a normal exit so the EXIT trap always stops the cluster.
trap 'exit 130' INT
trap 'exit 143' TERM HUP

as_pg "$PGBIN/initdb" -D "$PGDATA" -A trust -U postgres -E UTF8 --locale=C.UTF-8 \
    >"$PGDIR/initdb.log" 2>&1 || { cat "$PGDIR/initdb.log" >&2; die "initdb failed"; }

# Some other process may take a port between any check and our bind, so the
# real test is starting the server: on "Address already in use" try the next
# port. Stay below 32768, out of the kernel's ephemeral range (32768-60999).
# fsync/full_page_writes off: the data is thrown away, durability only costs time.
port=15432
while :; do
    (( port < 32768 )) || die "no free port found in 15432-32767"
    # Quick pre-check: skip ports something already listens on.
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        port=$((port + 1)); continue
    fi
    rm -f "$PGLOG"   # a fresh log per attempt, so the grep below sees only this one
    if as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGLOG" -w -t 60 \
        -o "-p $port -k $PGDIR -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c synchronous_commit=off" \
        start >"$PGDIR/pg_ctl.log" 2>&1; then
        break
    fi
    if grep -q 'Address already in use' "$PGLOG"; then
        port=$((port + 1)); continue
    fi
    cat "$PGDIR/pg_ctl.log" "$PGLOG" >&2 2>/dev/null || true
    die "PostgreSQL failed to start (log above)"
done

"$PGBIN/createdb" -h 127.0.0.1 -p "$port" -U postgres portal_test \
    || die "createdb portal_test failed"

export DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$port/portal_test"
export TEST_DATABASE_URL="$DATABASE_URL"
echo "with-postgres.sh: PostgreSQL $("$PGBIN/postgres" -V | awk '{print $3}') on 127.0.0.1:$port (data in $PGDIR)" >&2

# Not exec: the EXIT trap must run after CMD to stop the cluster.
set +e
"$@"
status=$?
set -e
exit "$status"
