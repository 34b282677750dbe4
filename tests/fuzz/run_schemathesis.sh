#!/usr/bin/env bash
# Fuzzes every operation of the served OpenAPI document with schemathesis
# (pinned below) against the real server on a temporary SQLite database,
# signed in as an interviewer and then as an admin (tests/fuzz/fuzz.py).
# Fails on any failure of the checks below; bounded in time.
#
#   BAR_RAISER_BIN         server binary (default: cargo build, target/debug/bar-raiser)
#   BAR_RAISER_VENV        Python venv to install into (default: .venv, shared
#                          with the SMTP tests' aiosmtpd)
#   FUZZ_MAX_EXAMPLES      cases per operation and phase (default 30)
#   FUZZ_SEED              schemathesis seed (default: fixed, for reproducible CI)
set -euo pipefail
cd "$(dirname "$0")/../.."

SCHEMATHESIS_VERSION=4.32.5
VENV="${BAR_RAISER_VENV:-.venv}"

if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -qx "schemathesis, version $SCHEMATHESIS_VERSION"; then
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

if [ -z "${BAR_RAISER_BIN:-}" ]; then
  # --demo (the sample the run starts from) is a `tools` feature.
  cargo build --locked --quiet --features tools
  BAR_RAISER_BIN="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/debug/bar-raiser"
fi

exec "$VENV/bin/python" tests/fuzz/fuzz.py \
  --binary "$BAR_RAISER_BIN" \
  --schemathesis "$VENV/bin/schemathesis" \
  --max-examples "${FUZZ_MAX_EXAMPLES:-30}" \
  ${FUZZ_SEED:+--seed "$FUZZ_SEED"}
