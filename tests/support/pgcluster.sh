# A throw-away PostgreSQL 15 cluster of a test's own, on its own port and
# directory (never the shared server on 5432), for tests that restart,
# stop or reconfigure the server. Source it, then:
#
#   pgc_init DIR PORT        initdb into DIR/data (DIR's parents must be
#                            searchable by postgres) (as the postgres user when
#                            run as root), listening on 127.0.0.1:PORT only
#   pgc_start / pgc_stop [mode] / pgc_restart [mode]
#   pgc_psql SQL...          psql as postgres over the cluster's socket
#
# Extra postgresql.conf lines go to "$PGC_DIR/data/postgresql.conf" after
# pgc_init; pg_hba.conf likewise.

PGC_BIN="${PGC_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}"

pgc_as_postgres() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pgc_init() {
  PGC_DIR="$1"
  PGC_PORT="$2"
  mkdir -p "$PGC_DIR"
  [ "$(id -u)" = 0 ] && chown postgres: "$PGC_DIR"
  if ! pgc_as_postgres "$PGC_BIN/initdb" -D "$PGC_DIR/data" -U postgres --auth=trust \
    --no-sync >"$PGC_DIR/initdb.log" 2>&1; then
    cat "$PGC_DIR/initdb.log" >&2
    return 1
  fi
  cat >>"$PGC_DIR/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PGC_PORT
unix_socket_directories = '$PGC_DIR'
fsync = off
max_connections = 60
CONF
}

pgc_start() {
  pgc_as_postgres "$PGC_BIN/pg_ctl" -D "$PGC_DIR/data" -l "$PGC_DIR/server.log" -w -t 60 start >/dev/null
}

pgc_stop() {
  pgc_as_postgres "$PGC_BIN/pg_ctl" -D "$PGC_DIR/data" -m "${1:-fast}" -w -t 60 stop >/dev/null
}

pgc_restart() {
  pgc_as_postgres "$PGC_BIN/pg_ctl" -D "$PGC_DIR/data" -l "$PGC_DIR/server.log" -m "${1:-fast}" -w -t 60 restart >/dev/null
}

pgc_running() {
  [ -n "${PGC_DIR:-}" ] && [ -f "$PGC_DIR/data/postmaster.pid" ]
}

pgc_psql() {
  pgc_as_postgres "$PGC_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGC_DIR" -p "$PGC_PORT" -U postgres -d postgres "$@"
}

# A free TCP port on 127.0.0.1.
pgc_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
