#!/usr/bin/env bash
# The printable analytics report in a real browser: a demo server's
# /api/v1/analytics/report, rendered by headless Chromium (Debian's
# package, installed when missing), must show its four charts with drawn
# marks and load nothing from anywhere. RENDER_SCREENSHOT=path also keeps
# the screenshot there (how docs/analytics-report.png is made).
set -euo pipefail
cd "$(dirname "$0")/../.."
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v chromium >/dev/null; then
  echo "installing chromium (Debian package)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
chromium --version
# --demo (the sample with its decided history) is a `tools` feature.
cargo build --locked --quiet --features tools
binary="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/debug/bar-raiser"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 tests/analytics/render.py "$binary" "$work" "$(command -v chromium)" "${RENDER_SCREENSHOT:-}"
