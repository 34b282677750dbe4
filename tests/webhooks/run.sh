#!/usr/bin/env bash
# Real webhook deliveries verified by the reference Standard Webhooks
# library (`standardwebhooks` from PyPI): every event type, a retry, a
# tampered body, a secret rotation with its grace period.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=.venv/bin/python
[ -x "$PY" ] || python3 -m venv .venv
"$PY" -c 'import importlib.metadata as m; assert m.version("standardwebhooks") == "1.1.0"' 2>/dev/null \
  || "$PY" -m pip install --quiet --disable-pip-version-check "standardwebhooks==1.1.0"
cargo build --locked --quiet
binary="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/debug/bar-raiser"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$PY" tests/webhooks/verify_deliveries.py "$binary" "$work"
