#!/usr/bin/env bash
# A throwaway PostgreSQL cluster (Debian's package) on a loopback port, for the Postgres-backed run and worker
# tests (test/support/postgres.ts reads SYNTHGRAPH_TEST_DATABASE_URL). Two ways to use it:
#   . .ci/postgres.sh          from .ci/run: installs PostgreSQL when missing, starts a cluster in a temporary
#                              folder, exports SYNTHGRAPH_TEST_DATABASE_URL; the cluster is stopped and deleted
#                              when the calling shell exits
#   .ci/postgres.sh start DIR  starts a cluster in DIR (never installs) and prints its URL;
#   .ci/postgres.sh stop DIR   stops it (the tests do this when no URL is given and a PostgreSQL is installed)
set -euo pipefail

pg_bin() {
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return; fi
  d="$(command -v initdb 2>/dev/null || true)"
  if [ -n "$d" ]; then dirname "$(readlink -f "$d")"; fi
}

# initdb refuses to run as root: as root the cluster belongs to the postgres user Debian's package creates.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
    echo $((20000 + RANDOM % 20000))
}

# Starts a cluster in $1 (created if needed) and prints its URL.
pg_start() {
  local dir="$1" bin port
  bin="$(pg_bin)"
  [ -n "$bin" ] || { echo "no PostgreSQL installed (initdb not found)" >&2; return 1; }
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
  port="$(free_port)"
  as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
  # fsync off: the cluster is thrown away; max_connections: several synthgraph processes with their pools.
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" start >/dev/null
  echo "postgres://postgres@127.0.0.1:${port}/postgres"
}

pg_stop() {
  local dir="$1" bin
  bin="$(pg_bin)"
  if [ -n "$bin" ] && [ -d "$dir/data" ]; then
    as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  case "${1:-}" in
    start) pg_start "${2:?usage: .ci/postgres.sh start DIR}" ;;
    stop) pg_stop "${2:?usage: .ci/postgres.sh stop DIR}" ;;
    *)
      echo "usage: .ci/postgres.sh start DIR | stop DIR (or source it from .ci/run)" >&2
      exit 2
      ;;
  esac
else
  if [ -z "$(pg_bin)" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  fi
  SYNTHGRAPH_PG_DIR="$(mktemp -d /tmp/synthgraph-pg.XXXXXX)"
  SYNTHGRAPH_TEST_DATABASE_URL="$(pg_start "$SYNTHGRAPH_PG_DIR")"
  export SYNTHGRAPH_TEST_DATABASE_URL
  trap 'pg_stop "$SYNTHGRAPH_PG_DIR"' EXIT
  echo "PostgreSQL $("$(pg_bin)/postgres" --version | awk '{print $3}') on ${SYNTHGRAPH_TEST_DATABASE_URL} (${SYNTHGRAPH_PG_DIR})"
fi
