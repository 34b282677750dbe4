#!/usr/bin/env bash
# Fault drills (tests/faults/drill.py): PostgreSQL restarted and stopped
# under write load, the SMTP server killed mid-loop, two instances on one
# PostgreSQL database, and SQLite on a full disk. Needs root for the small
# file system (a 24 MiB tmpfs this script mounts and removes) and
# PostgreSQL binaries for a cluster of its own on a free port (the shared
# server on 5432 is not touched). A few minutes in all; loopback only.
#
#   BAR_RAISER_BIN          server binary (default: cargo build, target/debug/bar-raiser)
#   BAR_RAISER_TEST_PYTHON  a Python with aiosmtpd (default .venv/bin/python)
#   FAULT_DRILLS            default "postgres sqlite"
set -euo pipefail
cd "$(dirname "$0")/../.."
source tests/support/pgcluster.sh

if [ -z "${BAR_RAISER_BIN:-}" ]; then
  cargo build --locked --quiet
  BAR_RAISER_BIN="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/debug/bar-raiser"
fi
PY="${BAR_RAISER_TEST_PYTHON:-$PWD/.venv/bin/python}"
"$PY" -c 'import aiosmtpd' || { echo "the fault drills need aiosmtpd in $PY" >&2; exit 1; }

work=$(mktemp -d)
chmod 755 "$work"
small="$work/small"
cleanup() {
  pgc_running && pgc_stop immediate 2>/dev/null || true
  mountpoint -q "$small" && umount "$small"
  rm -rf "$work"
}
trap cleanup EXIT

args=(--binary "$BAR_RAISER_BIN" --python "$PY" --smtp-port "$(pgc_free_port)" --workdir "$work/drill")
drills="${FAULT_DRILLS:-postgres sqlite}"

if [[ " $drills " == *" postgres "* ]]; then
  port=$(pgc_free_port)
  pgc_init "$work/pg" "$port"
  pgc_start
  pgc_psql -c "CREATE DATABASE drill"
  echo "PostgreSQL cluster of the drill's own on 127.0.0.1:$port"
  pg_ctl="$PGC_BIN/pg_ctl -D $work/pg/data -l $work/pg/server.log -w -t 60"
  [ "$(id -u)" = 0 ] && pg_ctl="runuser -u postgres -- $pg_ctl"
  args+=(--pg-url "postgres://postgres@127.0.0.1:$port/drill" --pg-ctl "$pg_ctl")
fi

if [[ " $drills " == *" sqlite "* ]]; then
  mkdir -p "$small"
  mount -t tmpfs -o size=24m tmpfs "$small"
  args+=(--small-dir "$small")
fi

timeout 600 python3 tests/faults/drill.py "${args[@]}"
