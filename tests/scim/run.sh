#!/usr/bin/env bash
# SCIM 2.0 conformance: starts the server (debug build, fresh database —
# SQLite, or with BAR_RAISER_SCIM_POSTGRES_URL (a server's admin URL) a
# fresh PostgreSQL database made and dropped here), gives a service
# token the `scim` scope, and runs scim2-tester (PyPI) against /scim/v2.
# Fails on any check that errors; a check it skips is printed with its
# reason (README, "Provisioning (SCIM)", says why each is skipped).
set -euo pipefail
cd "$(dirname "$0")/../.."

TESTER_VERSION=0.5.2
VENV=.venv-scim
PY=$VENV/bin/python
if [ ! -x "$PY" ]; then
  python3 -m venv "$VENV"
fi
if ! "$PY" -c "import importlib.metadata as m, sys; sys.exit(m.version('scim2-tester') != '$TESTER_VERSION')" 2>/dev/null; then
  "$PY" -m pip install --quiet --disable-pip-version-check "scim2-tester==${TESTER_VERSION}" "scim2-client[httpx2]"
fi

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
  if [ -n "${pg_db:-}" ]; then
    psql "$BAR_RAISER_SCIM_POSTGRES_URL" -qc "DROP DATABASE IF EXISTS $pg_db" || true
  fi
}
trap cleanup EXIT

database_url="sqlite://$work/scim.db"
if [ -n "${BAR_RAISER_SCIM_POSTGRES_URL:-}" ]; then
  pg_db="scim_conformance_$$"
  psql "$BAR_RAISER_SCIM_POSTGRES_URL" -qc "CREATE DATABASE $pg_db"
  database_url="${BAR_RAISER_SCIM_POSTGRES_URL%/*}/$pg_db"
fi
echo "SCIM conformance on ${database_url%%://*}"

cargo build --locked --quiet
binary="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/debug/bar-raiser"
port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
admin_email=scim-admin@example.com
admin_password="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(24))')"
# Passed as --admin-password=…: one password in 64 begins with '-', which
# argparse reads as an option when it stands alone (a CI run failed so).
base="http://127.0.0.1:$port"

BAR_RAISER_DATABASE_URL="$database_url" \
BAR_RAISER_BIND="127.0.0.1:$port" \
BAR_RAISER_PUBLIC_URL="$base" \
BAR_RAISER_ADMIN_EMAIL="$admin_email" \
BAR_RAISER_ADMIN_PASSWORD="$admin_password" \
BAR_RAISER_SCIM_GROUP_ROLES="Recruiters=recruiter,Admins=admin" \
BAR_RAISER_MAIL_DIR="$work/mail" \
BAR_RAISER_LOG=warn \
  "$binary" serve >"$work/server.log" 2>&1 &
server_pid=$!

for _ in $(seq 1 150); do
  if "$PY" -c "import urllib.request, sys; urllib.request.urlopen(sys.argv[1], timeout=1)" "$base/readyz" 2>/dev/null; then
    break
  fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "the server stopped:" >&2
    cat "$work/server.log" >&2
    exit 1
  fi
  sleep 0.2
done

if ! "$PY" tests/scim/conformance.py --base-url "$base" --admin-email "$admin_email" --admin-password="$admin_password"; then
  echo "--- server log ---" >&2
  tail -50 "$work/server.log" >&2
  exit 1
fi
