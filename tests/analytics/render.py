"""Renders the analytics report of a fresh demo in headless Chromium and
checks what the browser drew.

Starts `bar-raiser serve --demo` on SQLite, mints a service token with
`analytics:read` through the API (as the CI admin), fetches
`/api/v1/analytics/report` with it (a bare browser cannot send the bearer
header; the page is self-contained, so the file renders the same), then:

- `--dump-dom`: the DOM after rendering holds the four charts
  (`data-chart` vote-changes, leniency, time-to-seal, alpha-over-time),
  each with drawn marks, none showing the empty state;
- no external resource: the browser runs behind a recording proxy that
  refuses everything (loopback included), and the page must not have
  asked it for anything (Chromium's own service calls, to a fixed list of
  hosts, aside); the DOM has no script, link, image, frame, object,
  `url(` or `@import`;
- `--screenshot`: a PNG of the page, kept when a path is given.

Prints the summary's figures (the README quotes them).

usage: render.py BINARY WORKDIR CHROMIUM [SCREENSHOT]
"""

from __future__ import annotations

import http.server
import shutil
import subprocess
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from live import ADMIN_EMAIL, ADMIN_PASSWORD, Server  # noqa: E402

CHARTS = {
    # chart → (element, class) of the marks it must draw
    "vote-changes": ("rect", "changed"),
    "leniency": ("circle", "dot"),
    "time-to-seal": ("rect", "bin"),
    "alpha-over-time": ("circle", "dot"),
}
# Chromium's own services, which it calls whatever the page (clock, component
# updates, sign-in, hints); exact hosts, so a font or script CDN still fails.
BROWSER_HOSTS = {
    "clients2.google.com",
    "update.googleapis.com",
    "accounts.google.com",
    "optimizationguide-pa.googleapis.com",
    "content-autofill.googleapis.com",
    "safebrowsingohttpgateway.googleapis.com",
    "redirector.gvt1.com",
    "edgedl.me.gvt1.com",
}
FORBIDDEN = {"script", "link", "img", "iframe", "object", "embed", "video", "audio", "source", "image", "use"}


class Dom(HTMLParser):
    """Counts each chart's marks and anything that could load a resource."""

    def __init__(self):
        super().__init__()
        self.chart: str | None = None
        self.depth = 0
        self.marks = {c: 0 for c in CHARTS}
        self.empty: set[str] = set()
        self.seen: set[str] = set()
        self.loaders: list[str] = []
        self.in_style = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.in_style = tag == "style"
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "refresh" or tag == "base":
            self.loaders.append(tag)
        if tag in FORBIDDEN:
            self.loaders.append(tag)
        for k, v in attrs:
            if k in ("src", "href", "xlink:href", "srcset", "poster", "data") or (v and "url(" in v):
                self.loaders.append(f"{tag} {k}={v}")
        if tag == "svg" and "data-chart" in a:
            self.chart, self.depth = a["data-chart"], 0
            self.seen.add(self.chart)
        if self.chart and tag == "svg":
            self.depth += 1
        if self.chart in CHARTS:
            element, cls = CHARTS[self.chart]
            if tag == element and cls in (a.get("class") or "").split():
                height = a.get("height")
                if height is None or float(height) > 0:
                    self.marks[self.chart] += 1

    def handle_endtag(self, tag):
        self.in_style = False
        if self.chart and tag == "svg":
            self.depth -= 1
            if self.depth == 0:
                self.chart = None

    def handle_data(self, data):
        if self.in_style and ("url(" in data or "@import" in data):
            self.loaders.append("style with url( or @import")
        if self.chart and "Nothing decided" in data:
            self.empty.add(self.chart)


class Recorder(http.server.BaseHTTPRequestHandler):
    """A proxy that serves nothing and remembers every request."""

    seen: list[str] = []

    def _refuse(self):
        target = self.path.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
        if target not in BROWSER_HOSTS:
            Recorder.seen.append(f"{self.command} {self.path}")
        self.send_error(502)

    do_GET = do_POST = do_HEAD = do_CONNECT = do_PUT = do_OPTIONS = _refuse

    def log_message(self, *args):
        pass


def chromium(browser: str, workdir: Path, proxy: int, *args: str) -> subprocess.CompletedProcess:
    cmd = [
        browser, "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars",
        f"--user-data-dir={workdir / 'profile'}", f"--proxy-server=http://127.0.0.1:{proxy}",
        "--proxy-bypass-list=<-loopback>", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-default-apps",
        "--disable-domain-reliability", "--no-default-browser-check", "--no-pings",
        "--disable-client-side-phishing-detection", "--safebrowsing-disable-auto-update",
        "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,Translate,MediaRouter", *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)


def main() -> int:
    binary, workdir, browser = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    screenshot_to = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] else None
    workdir.mkdir(parents=True, exist_ok=True)
    server = Server(binary, f"sqlite://{workdir}/render.db", workdir, extra_args=["--demo"]).start(timeout=300)
    try:
        c = server.client()
        admin = c.login(ADMIN_EMAIL, ADMIN_PASSWORD)
        token = c.call("POST", "/api/v1/tokens", admin, {"name": "report render", "scopes": ["analytics:read"]})["secret"]
        summary = c.call("GET", "/api/v1/analytics/summary", token)
        status, html, headers = c.request("GET", "/api/v1/analytics/report", token, headers={"Accept": "text/html"})
        assert status == 200 and isinstance(html, str), (status, str(html)[:300])
        assert {k.lower(): v for k, v in headers.items()}.get("content-type", "").startswith("text/html"), headers
    finally:
        server.terminate()
    page = workdir / "report.html"
    page.write_text(html, encoding="utf-8")

    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    port = proxy.server_address[1]
    url = page.as_uri()
    dump = chromium(browser, workdir, port, "--dump-dom", url)
    if dump.returncode != 0 or "<svg" not in dump.stdout:
        raise SystemExit(f"chromium --dump-dom failed ({dump.returncode}):\n{dump.stderr[-2000:]}")
    png = workdir / "report.png"
    shot = chromium(browser, workdir, port, f"--screenshot={png}", "--window-size=860,1880", url)
    if shot.returncode != 0 or not png.exists() or png.stat().st_size < 10_000:
        raise SystemExit(f"chromium --screenshot failed ({shot.returncode}):\n{shot.stderr[-2000:]}")
    proxy.shutdown()

    dom = Dom()
    dom.feed(dump.stdout)
    failures = []
    for chart in CHARTS:
        if chart not in dom.seen:
            failures.append(f"chart {chart} missing")
        elif chart in dom.empty or dom.marks[chart] == 0:
            failures.append(f"chart {chart} has no marks (empty state)")
        print(f"chart {chart:16} marks {dom.marks[chart]}")
    if dom.loaders:
        failures.append(f"elements that load resources: {dom.loaders[:5]}")
    if Recorder.seen:
        failures.append(f"the page asked the network for: {Recorder.seen[:5]}")
    print(
        f"requests through the refusing proxy, Chromium's own services aside: {len(Recorder.seen)}; "
        f"screenshot {png.stat().st_size} bytes"
    )
    print(
        "demo summary: loops {loops}, alpha {a}, mean convergence {conv}, changed share {ch}, "
        "toward hiring manager {hm}, seal hours p50/p90 {s50}/{s90}, bar raisers {brs}".format(
            loops=summary["loops"], a=summary["votes"]["alpha"], conv=summary["mean_convergence"],
            ch=summary["changed_share"], hm=summary["toward_hiring_manager_share"],
            s50=summary["timeliness"]["seal_hours"]["p50"], s90=summary["timeliness"]["seal_hours"]["p90"],
            brs=[(b["bar_raiser"]["name"], b["loops"], b["vetoes"], b["veto_rate"]) for b in summary["bar_raisers"]],
        )
    )
    (workdir / "summary.json").write_text(__import__("json").dumps(summary, indent=2))
    if screenshot_to:
        shutil.copyfile(png, screenshot_to)
        print(f"screenshot kept at {screenshot_to}")
    if failures:
        print("report render FAILED: " + "; ".join(failures))
        return 1
    print("report renders in chromium: four charts with marks, nothing loaded from outside")
    return 0


if __name__ == "__main__":
    sys.exit(main())
