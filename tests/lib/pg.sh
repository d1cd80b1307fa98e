# tests/lib/pg.sh - sourced by tests that need a real PostgreSQL server:
# starts a private one in a temporary folder and stops it when the test
# exits, whatever happens.
#
#   . tests/lib/pg.sh
#   pg_start               initdb + start; sets PG_DIR (socket folder), PG_PORT
#                          (socket name), PG_URL (postgresql://...postgres),
#                          or exits 77 (skipped) when no server is installed
#   pg_url DB              a postgresql:// URL for database DB
#   pg_createdb DB         creates DB; prints its URL
#   pg_psql DB SQL...      runs SQL in DB with the server's psql
#   pg_stop                stops it now (also run at exit)
#
# The server refuses to run as root, and CI runs as root: then it runs as
# an unprivileged user (NP_PG_USER, default 'nobody', created with useradd
# when it does not exist) that owns the folder; otherwise as yourself.  It
# listens on a Unix socket in its folder only (no TCP), with trust
# authentication, fsync off (a test server: crash safety of the server is
# not under test) unless PG_FSYNC=on (the benchmarks: durable commits).
# PG_SETTINGS adds server settings ("-c commit_delay=1000 -c ..."): what a
# deployer might set, tried in a benchmark without editing it.
# Binaries: PG_BIN, else the newest /usr/lib/postgresql/*/bin.

pg_bin() {
  if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN"; return; fi
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1
}

# Run a server binary as the server's user.
pg_as() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u "$PG_USER" -- "$@")  # from a folder the user may enter
  else
    "$@"
  fi
}

pg_stop() {
  if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ]; then
    pg_as "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  [ -n "${PG_DIR:-}" ] && rm -rf "$PG_DIR"
  PG_DIR=
}

pg_start() {
  PG_BINDIR=$(pg_bin)
  if [ -z "$PG_BINDIR" ] || [ ! -x "$PG_BINDIR/initdb" ]; then
    echo "no PostgreSQL server installed (postgresql-15): skipped"
    exit 77
  fi
  PG_USER=$(id -un)
  if [ "$(id -u)" -eq 0 ]; then
    PG_USER=${NP_PG_USER:-nobody}
    id "$PG_USER" >/dev/null 2>&1 || useradd -r -M -s /usr/sbin/nologin "$PG_USER" ||
      { echo "pg.sh: cannot create user $PG_USER" >&2; exit 99; }
  fi
  PG_DIR=$(mktemp -d /tmp/np-pg-XXXXXX)
  PG_PORT=5432
  # Stop the server whenever the test ends; keep the caller's own exit trap.
  local prev
  prev=$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT$//")
  trap "pg_stop; $prev" EXIT
  trap 'exit 130' INT TERM
  [ "$(id -u)" -eq 0 ] && chown "$PG_USER" "$PG_DIR"
  chmod 755 "$PG_DIR"
  if ! pg_as "$PG_BINDIR/initdb" -D "$PG_DIR/data" -U np --auth=trust -E UTF8 --no-sync \
       --no-instructions >"$PG_DIR/initdb.log" 2>&1; then
    echo "pg.sh: initdb failed:" >&2; cat "$PG_DIR/initdb.log" >&2; exit 99
  fi
  if ! pg_as "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
       -o "-k $PG_DIR -p $PG_PORT -c listen_addresses= -c fsync=${PG_FSYNC:-off} -c max_connections=100 ${PG_SETTINGS:-}" \
       start >/dev/null; then
    echo "pg.sh: the server did not start:" >&2; cat "$PG_DIR/server.log" >&2; exit 99
  fi
  PG_URL=$(pg_url postgres)
}

pg_url() {
  echo "postgresql://np@/$1?host=$PG_DIR&port=$PG_PORT"
}

pg_psql() {
  local db=$1; shift
  "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_DIR" -p "$PG_PORT" -U np -d "$db" -c "$*"
}

pg_createdb() {
  "$PG_BINDIR/createdb" -h "$PG_DIR" -p "$PG_PORT" -U np "$1" && pg_url "$1"
}
