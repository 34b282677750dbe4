"""Scrapes /metrics of the real server and reads it with the reference
parser (`prometheus_client.parser.text_string_to_metric_families`).

Usage: scrape_check.py BINARY WORKDIR

Checks: /metrics refuses a caller without the token; with it, every family
README's "Metrics" lists is there with its labels and plausible values; a
request to /api/v1/users/{id} is counted under that template (no id in any
label); a wrong password is counted as a sign-in outcome. Then the JSON
log: one span object per line (no repeated span list), the request's
trace id from `traceparent`, probes at DEBUG, no terminal colours.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from live import ADMIN_EMAIL, ADMIN_PASSWORD, Server  # noqa: E402

TOKEN = "ci-metrics-token-ci-metrics-token"
TRACE = "0af7651916cd43dd8448eb211c80319c"
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def samples(text: str) -> list:
    return [s for fam in text_string_to_metric_families(text) for s in fam.samples]


def value(found: list, name: str, **labels) -> float | None:
    for s in found:
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return None


def main() -> int:
    binary, work = sys.argv[1], Path(sys.argv[2])
    server = Server(
        binary,
        f"sqlite://{work / 'metrics.db'}",
        work,
        env={
            "BAR_RAISER_METRICS_TOKEN": TOKEN,
            "BAR_RAISER_LOG": "warn,bar_raiser=debug",
        },
    ).start()
    try:
        c = server.client()
        status, body, _ = c.request("GET", "/metrics")
        assert status == 401 and body["code"] == "missing_token", (status, body)
        status, body, _ = c.request("GET", "/metrics", token="not-it")
        assert status == 401 and body["code"] == "invalid_token", (status, body)

        def scrape() -> list:
            status, text, headers = c.request("GET", "/metrics", token=TOKEN)
            assert status == 200, (status, text)
            ctype = headers.get("content-type", "")
            assert ctype.startswith("text/plain; version=0.0.4"), ctype
            return samples(text)

        before = scrape()
        admin = c.login(ADMIN_EMAIL, ADMIN_PASSWORD)
        me = c.call("GET", "/api/v1/me", token=admin)
        for _ in range(3):
            c.call("GET", f"/api/v1/users/{me['id']}", token=admin)
        status, _, _ = c.request(
            "POST", "/api/v1/auth/login", body={"email": ADMIN_EMAIL, "password": "not the password"}
        )
        assert status == 401, status
        status, _, headers = c.request(
            "GET", "/api/v1/me", token=admin, headers={"traceparent": f"00-{TRACE}-b7ad6b7169203331-01"}
        )
        assert status == 200, status
        echoed = headers.get("traceparent", "")
        assert echoed.startswith(f"00-{TRACE}-") and "b7ad6b7169203331" not in echoed, echoed
        c.request("GET", "/healthz")
        after = scrape()

        route = "/api/v1/users/{id}"
        got = value(after, "bar_raiser_http_requests_total", route=route, method="GET", status="200")
        assert got is not None and got >= 3, f"requests to {route}: {got}"
        assert (value(before, "bar_raiser_http_requests_total", route=route, method="GET", status="200") or 0) == 0
        count = value(after, "bar_raiser_http_request_duration_seconds_count", route=route, method="GET")
        assert count == got, (count, got)
        inf = value(after, "bar_raiser_http_request_duration_seconds_bucket", route=route, method="GET", le="+Inf")
        assert inf == got, (inf, got)
        assert value(after, "bar_raiser_http_requests_total", route="/metrics", method="GET", status="401") == 2
        for s in after:
            for k, v in s.labels.items():
                assert not UUID.search(v), f"an id in {s.name}{{{k}={v!r}}}"

        assert value(after, "bar_raiser_signins_total", outcome="signed_in") == 1
        assert value(after, "bar_raiser_signins_total", outcome="invalid_credentials") == 1
        assert value(after, "bar_raiser_signins_total", outcome="throttled") == 0
        for outcome in ("delivered", "retry", "dead"):
            assert value(after, "bar_raiser_webhook_deliveries_total", outcome=outcome) == 0, outcome

        in_use = value(after, "bar_raiser_db_connections", state="in_use")
        idle = value(after, "bar_raiser_db_connections", state="idle")
        most = value(after, "bar_raiser_db_connections_max")
        assert in_use is not None and idle is not None and most == 16, (in_use, idle, most)
        assert 1 <= in_use + idle <= most, (in_use, idle, most)
        assert value(after, "bar_raiser_db_checkout_waits_total") is not None
        assert value(after, "bar_raiser_db_checkout_wait_seconds_count") is not None
        assert value(after, "bar_raiser_sqlite_write_queue_depth") == 0
        assert value(after, "bar_raiser_sqlite_write_queue_capacity") == 512
        assert value(after, "bar_raiser_password_queue_depth") == 0
        assert value(after, "bar_raiser_password_queue_capacity") == 64
        for state in ("pending", "leased", "dead"):
            v = value(after, "bar_raiser_outbox_messages", state=state)
            assert v is not None and v >= 0, (state, v)
        age = value(after, "bar_raiser_outbox_oldest_pending_age_seconds")
        assert age is not None and age >= 0, age
        print(f"metrics: {len(after)} samples parsed; {route} counted {int(got)} times")
    finally:
        server.terminate()

    lines = server.log_path.read_text().splitlines()
    assert "\x1b[" not in "\n".join(lines), "terminal colours in a log file"
    handled = []
    for line in lines:
        event = json.loads(line)
        assert "spans" not in event, f"span list repeated: {line}"
        if event.get("message") == "request handled":
            handled.append(event)
    traced = [e for e in handled if e.get("span", {}).get("trace_id") == TRACE]
    assert len(traced) == 1, f"trace id not in the request's span: {handled[-3:]}"
    assert traced[0]["level"] == "INFO" and traced[0]["span"]["path"] == "/api/v1/me", traced[0]
    probes = [e for e in handled if e["span"]["path"] in ("/healthz", "/readyz", "/metrics")]
    assert probes, "no probe logged at debug"
    for e in probes:
        assert e["level"] == "DEBUG", e
    print(f"log: {len(lines)} JSON lines, {len(handled)} requests, {len(probes)} probes at DEBUG, trace id carried")
    print("1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
