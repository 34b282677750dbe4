#!/usr/bin/env bash
# Crash safety on both backends (tests/crash/crash.py): SIGKILL under write
# load three times, every acknowledged write read back and every audit chain
# verified after each restart; then SIGTERM with requests in flight, all
# answered 2xx and exit status 0. PostgreSQL gets a fresh database that the
# script creates and drops.
#
#   BAR_RAISER_BIN               server binary (default: cargo build, target/debug/bar-raiser)
#   BAR_RAISER_CRASH_POSTGRES_URL  server to create the database on
#                                (default postgres://postgres@127.0.0.1:5432/postgres)
#   CRASH_BACKENDS               default "sqlite postgres"
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ -z "${BAR_RAISER_BIN:-}" ]; then
  cargo build --locked --quiet
  BAR_RAISER_BIN="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/debug/bar-raiser"
fi
PG_URL="${BAR_RAISER_CRASH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

for backend in ${CRASH_BACKENDS:-sqlite postgres}; do
  timeout 600 python3 tests/crash/crash.py \
    --binary "$BAR_RAISER_BIN" --backend "$backend" --postgres-url "$PG_URL"
done
