#!/usr/bin/env bash
# Generates a Python client from openapi/openapi.json with openapi-python-client,
# installs it into .venv, starts the server (debug build, fresh SQLite database,
# free port on 127.0.0.1) and runs tests/clients/hr_tool.py against it.
# Fails when the generator warns about the document or the tool fails.
set -euo pipefail
cd "$(dirname "$0")/../.."

# 0.29 reads OpenAPI 3.1 (type arrays for nullable fields, `$ref` siblings).
GENERATOR_VERSION=0.29.1
PY=.venv/bin/python

if [ ! -x "$PY" ]; then
  python3 -m venv .venv
fi
if ! .venv/bin/openapi-python-client --version 2>/dev/null | grep -q " ${GENERATOR_VERSION}\$"; then
  "$PY" -m pip install --quiet --disable-pip-version-check "openapi-python-client==${GENERATOR_VERSION}"
fi

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "generating the client (openapi-python-client ${GENERATOR_VERSION})"
.venv/bin/openapi-python-client generate \
  --path openapi/openapi.json \
  --config tests/clients/openapi-python-client.yaml \
  --meta setup \
  --output-path "$work/client" \
  --fail-on-warning
"$PY" -m pip install --quiet --disable-pip-version-check --force-reinstall "$work/client"

cargo build --locked --quiet
binary="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/debug/bar-raiser"
port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
admin_email=hr-admin@example.com
admin_password="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(24))')"
# Passed as --admin-password=…: one password in 64 begins with '-', which
# argparse reads as an option when it stands alone (a CI run failed so).

BAR_RAISER_DATABASE_URL="sqlite://$work/hr.db" \
BAR_RAISER_BIND="127.0.0.1:$port" \
BAR_RAISER_ADMIN_EMAIL="$admin_email" \
BAR_RAISER_ADMIN_PASSWORD="$admin_password" \
BAR_RAISER_MAIL_DIR="$work/mail" \
BAR_RAISER_LOG=warn \
  "$binary" serve >"$work/server.log" 2>&1 &
server_pid=$!

base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
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

if ! "$PY" tests/clients/hr_tool.py --base-url "$base" --admin-email "$admin_email" --admin-password="$admin_password"; then
  echo "--- server log ---" >&2
  cat "$work/server.log" >&2
  exit 1
fi
