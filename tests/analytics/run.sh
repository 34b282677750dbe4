#!/usr/bin/env bash
# Krippendorff's alpha, cross-checked: the server's figure against the
# `krippendorff` package from PyPI on the same decided loops.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=.venv/bin/python
[ -x "$PY" ] || python3 -m venv .venv
"$PY" -c 'import krippendorff' 2>/dev/null || "$PY" -m pip install --quiet --disable-pip-version-check "krippendorff==0.9.0"
cargo build --locked --quiet
binary="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/debug/bar-raiser"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$PY" tests/analytics/alpha_check.py "$binary" "$work"
