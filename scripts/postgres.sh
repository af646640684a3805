#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests: `start` creates a cluster in a new temporary folder
# (initdb, UTF8, C locale), listening on 127.0.0.1 only on a free port with its unix socket in that
# folder, creates a role and a database for the tests and prints, as shell assignments for `eval`:
#   KOFU_POSTGRES_DIR=/tmp/kofu-pg.XXXX
#   KOFU_TEST_POSTGRES_URL=postgres://kofu_test:PASSWORD@127.0.0.1:PORT/kofu_test
# `stop [DIR]` (DIR defaults to $KOFU_POSTGRES_DIR) stops that cluster and removes the folder.
# PostgreSQL refuses to run as root: as root the cluster belongs to the `postgres` user (created by
# Debian's postgresql package) and its commands run through runuser.
set -euo pipefail

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bindir" ]; then
  bindir=$(dirname "$(command -v pg_ctl 2>/dev/null || echo /nonexistent/pg_ctl)")
fi
[ -x "$bindir/initdb" ] || { echo "postgres.sh: no initdb (install Debian's postgresql: scripts/setup.sh)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
start)
  dir=$(mktemp -d /tmp/kofu-pg.XXXXXX)
  chmod 700 "$dir"
  [ "$(id -u)" -ne 0 ] || chown postgres: "$dir"
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  as_owner "$bindir/initdb" -D "$dir/data" -E UTF8 --locale=C --auth-local=peer --auth-host=scram-sha-256 \
    -U postgres >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  # Loopback only; the socket in the folder, not in /var/run. synchronous_commit stays on (the
  # default): the tests kill servers and expect every acknowledged commit to be there.
  as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200 -c synchronous_commit=on" start >/dev/null \
    || { cat "$dir/server.log" >&2; exit 1; }
  as_owner "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d postgres >/dev/null <<SQL
CREATE ROLE kofu_test LOGIN CREATEDB PASSWORD '$password';
CREATE DATABASE kofu_test OWNER kofu_test ENCODING 'UTF8' TEMPLATE template0;
SQL
  echo "KOFU_POSTGRES_DIR=$dir"
  echo "KOFU_TEST_POSTGRES_URL=postgres://kofu_test:$password@127.0.0.1:$port/kofu_test"
  ;;
stop)
  dir=${2:-${KOFU_POSTGRES_DIR:-}}
  case "$dir" in /tmp/kofu-pg.*) ;; *) echo "postgres.sh stop: not a folder made by start: '$dir'" >&2; exit 2 ;; esac
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null || true
  fi
  rm -rf "$dir"
  ;;
*)
  echo "usage: scripts/postgres.sh start | stop [DIR]" >&2
  exit 2
  ;;
esac
