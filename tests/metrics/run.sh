#!/usr/bin/env bash
# /metrics scraped from the real server and parsed by the reference parser
# (`prometheus-client` from PyPI): the families and labels README lists,
# route templates rather than paths; traceparent and the JSON log's shape.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=.venv/bin/python
[ -x "$PY" ] || python3 -m venv .venv
"$PY" -c 'import importlib.metadata as m; assert m.version("prometheus-client") == "0.26.0"' 2>/dev/null \
  || "$PY" -m pip install --quiet --disable-pip-version-check "prometheus-client==0.26.0"
cargo build --locked --quiet
binary="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/debug/bar-raiser"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$PY" tests/metrics/scrape_check.py "$binary" "$work"
