#!/usr/bin/env bash
# Calendar invitations through the real server, worker and SMTP: a loop
# scheduled, an interview rescheduled, its interviewer replaced, the loop
# cancelled, the candidate erased; every calendar part that arrives at the
# SMTP sink (tests/smtp_sink.py, aiosmtpd) is parsed by the `icalendar`
# package from PyPI and checked against RFC 5545/5546/6047.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=.venv/bin/python
[ -x "$PY" ] || python3 -m venv .venv
"$PY" -c 'import aiosmtpd' 2>/dev/null \
  || "$PY" -m pip install --quiet --disable-pip-version-check aiosmtpd
"$PY" -c 'import importlib.metadata as m; assert m.version("icalendar") == "7.3.0"' 2>/dev/null \
  || "$PY" -m pip install --quiet --disable-pip-version-check "icalendar==7.3.0"
cargo build --locked --quiet
binary="$(cd "${CARGO_TARGET_DIR:-target}" && pwd)/debug/bar-raiser"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$PY" tests/calendar/check_invites.py "$binary" "$work"
