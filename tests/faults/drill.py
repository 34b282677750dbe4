"""Fault drills against the real `bar-raiser` binary (tests/faults/run.sh).

PostgreSQL (a cluster of the drill's own, which it may restart and stop):
  1. restart PostgreSQL under a bounded write load,
  2. stop it for a few seconds under the same load, then start it,
  3. kill the SMTP server (SIGKILL) while loops that send mail are built,
     start it again a few seconds later,
  4. two instances (each with its notification worker) on one database,
     writes split between them and read back through the other.
SQLite on a small file system of the drill's own (run.sh mounts it):
  5. fill the disk under the write load (and with mail waiting), then
     free it.

Every acknowledged write (2xx) must read back afterwards; every queued
message must reach the SMTP server exactly once (by Message-ID); no
request may get a 500. Printed per drill: answers by status, the longest
request, and the time to recover (from the fault to the first write
acknowledged after it). Only 127.0.0.1 is contacted; every phase is
bounded in time.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.dont_write_bytecode = True
here = Path(__file__).resolve().parent
sys.path.insert(0, str(here.parent / "support"))
sys.path.insert(0, str(here.parent / "crash"))
from crash import API, build_loop, setup  # noqa: E402
from live import Server, unique  # noqa: E402


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Sink:
    """tests/smtp_sink.py on a fixed port, killable and restartable."""

    def __init__(self, python: str, port: int, out: Path):
        self.python, self.port, self.out = python, port, out
        out.mkdir(parents=True, exist_ok=True)
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [self.python, str(here.parent / "smtp_sink.py"), "--port", str(self.port), "--dir", str(self.out)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError(f"SMTP sink did not start: {line!r}")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def message_ids(self) -> Counter:
        seen = Counter()
        for f in self.out.glob("*.json"):
            seen[json.loads(f.read_text())["message_id"]] += 1
        return seen


class Load:
    """Writers creating candidates until stopped (or `max_seconds`), each on
    one server of `servers` in turn; every answer is kept with its time."""

    def __init__(self, servers, token: str, threads: int = 4, notes: int = 0, max_seconds: float = 60):
        self.servers, self.token, self.threads = servers, token, threads
        self.notes = "x" * notes if notes else None
        self.max_seconds = max_seconds
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.answers: list[tuple[float, float, int]] = []  # (start, seconds, status; 0 = no answer)
        self.acked: dict[str, tuple[int, str]] = {}  # candidate id -> (server index, email)
        self.workers = []

    def start(self):
        for n in range(self.threads):
            t = threading.Thread(target=self._run, args=(n,), daemon=True)
            t.start()
            self.workers.append(t)
        return self

    def _run(self, n: int):
        deadline = time.monotonic() + self.max_seconds
        k = 0
        while not self.stop.is_set() and time.monotonic() < deadline:
            which = (n + k) % len(self.servers)
            k += 1
            c = self.servers[which].client()
            c.timeout = 30
            email = f"{unique('drill')}@candidates.example"
            body = {"name": "Drill Candidate", "email": email}
            if self.notes:
                body["notes"] = self.notes
            t0 = time.monotonic()
            try:
                status, got, _ = c.request("POST", f"{API}/candidates", self.token, body)
            except OSError:
                status, got = 0, None
            took = time.monotonic() - t0
            with self.lock:
                self.answers.append((t0, took, status))
                if status == 201:
                    self.acked[got["id"]] = (which, email)
            if status != 201:
                time.sleep(0.05)

    def finish(self):
        self.stop.set()
        for t in self.workers:
            t.join(timeout=60)

    def figures(self, since: float, fault_at: float) -> dict:
        with self.lock:
            rows = [a for a in self.answers if a[0] >= since]
        by_status = Counter(s for _, _, s in rows)
        longest = max((took for _, took, _ in rows), default=0.0)
        failures = [t0 for t0, _, s in rows if s != 201 and t0 >= fault_at]
        recover = None
        if failures:
            last_failure = max(failures)
            after = [t0 + took for t0, took, s in rows if s == 201 and t0 > last_failure]
            recover = (min(after) - fault_at) if after else float("inf")
        return {"by_status": dict(sorted(by_status.items())), "longest": longest, "recover": recover}


def report(name: str, fig: dict, problems: list[str]):
    rec = fig["recover"]
    rec_s = "no failed request" if rec is None else ("never" if rec == float("inf") else f"{rec:.2f}s")
    log(f"{name}: answers by status {fig['by_status']}, longest request {fig['longest']:.2f}s, time to recover {rec_s}")
    for bad in (500, 0):
        if fig["by_status"].get(bad):
            what = "500 internal_error" if bad else "no answer"
            problems.append(f"{name}: {fig['by_status'][bad]} request(s) got {what}")
    if rec == float("inf"):
        problems.append(f"{name}: writes never succeeded again")


def verify_acked(server: Server, token: str, acked: dict, problems: list[str], name: str):
    c = server.client()
    missing = 0
    for cid, (_, email) in acked.items():
        status, got, _ = c.request("GET", f"{API}/candidates/{cid}", token)
        if status != 200 or got.get("email") != email:
            missing += 1
            if missing <= 5:
                problems.append(f"{name}: acknowledged candidate {cid} reads back {status}")
    log(f"{name}: {len(acked) - missing} of {len(acked)} acknowledged writes read back")
    if missing > 5:
        problems.append(f"{name}: {missing} acknowledged writes missing in all")


def outbox_ids(binary: str, url: str) -> dict[str, str]:
    out = subprocess.run(
        [binary, "outbox", "--database-url", url, "list", "--status", "pending,dead,delivered", "--limit", "100000"],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "BAR_RAISER_LOG": "error"},
    ).stdout
    rows = {}
    for line in out.splitlines()[2:]:
        parts = line.split()
        if len(parts) >= 2 and len(parts[0]) == 36 and parts[1] in ("pending", "dead", "delivered"):
            rows[parts[0]] = parts[1]
    return rows


def wait_mail(binary: str, url: str, sink: Sink, problems: list[str], name: str, within: float = 90):
    """Waits until every queued message is delivered, then checks that the
    SMTP server got each exactly once."""
    deadline = time.monotonic() + within
    while True:
        rows = outbox_ids(binary, url)
        if rows and all(s == "delivered" for s in rows.values()):
            break
        if time.monotonic() > deadline:
            problems.append(f"{name}: outbox not drained in {within}s: {Counter(rows.values())}")
            listing = subprocess.run(
                [binary, "outbox", "--database-url", url, "list", "--status", "pending", "--limit", "20"],
                capture_output=True,
                text=True,
                env={**os.environ, "BAR_RAISER_LOG": "error"},
            ).stdout
            log(f"{name}: still pending:\n{listing}")
            break
        time.sleep(0.5)
    time.sleep(0.5)
    got = sink.message_ids()
    want = {f"<{i}@bar-raiser>" for i in rows}
    lost = want - set(got)
    twice = {m: n for m, n in got.items() if n > 1}
    stray = set(got) - want
    log(f"{name}: {len(want)} messages queued, {sum(got.values())} received, {len(lost)} lost, {len(twice)} sent twice")
    if lost:
        problems.append(f"{name}: {len(lost)} message(s) never arrived, e.g. {sorted(lost)[:3]}")
    if twice:
        problems.append(f"{name}: message(s) sent more than once: {dict(list(twice.items())[:3])}")
    if stray:
        problems.append(f"{name}: {len(stray)} message(s) arrived that are not in the outbox")


def worker_log(server: Server, name: str, lines: int = 40):
    """Prints the notification worker's last log lines (what it was refused)."""
    try:
        events = [json.loads(l) for l in server.log_path.read_text(errors="replace").splitlines() if l.startswith("{")]
    except OSError:
        return
    mine = [e for e in events if str(e.get("target", "")).startswith("bar_raiser::notify")]
    log(f"{name}: the worker's last {min(lines, len(mine))} log lines:")
    for e in mine[-lines:]:
        extra = {k: v for k, v in e.items() if k not in ("timestamp", "level", "message", "target")}
        print(f"    {e.get('timestamp', '')} {e.get('level', '')} {e.get('message', '')} {extra}", flush=True)


def mail_env(smtp_port: int) -> dict:
    return {
        "BAR_RAISER_NO_WORKER": "false",
        "BAR_RAISER_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "BAR_RAISER_OUTBOX_LEASE": "4s",
        "BAR_RAISER_WORKER_POLL_INTERVAL": "1s",
        "BAR_RAISER_MAIL_RETRY_BASE": "1s",
        "BAR_RAISER_MAIL_MAX_ATTEMPTS": "30",
        # The worker's refusals and back-offs, for worker_log.
        "BAR_RAISER_LOG": "warn,bar_raiser=info,bar_raiser::notify=debug",
    }


def postgres_drills(args, problems: list[str]):
    pg_ctl = shlex.split(args.pg_ctl)
    work = Path(args.workdir) / "pg"
    work.mkdir(parents=True, exist_ok=True)
    sink = Sink(args.python, args.smtp_port, work / "mail")
    sink.start()
    a = Server(args.binary, args.pg_url, work / "a", env=mail_env(args.smtp_port))
    b = Server(args.binary, args.pg_url, work / "b", env=mail_env(args.smtp_port))
    for s in (a, b):
        s.workdir.mkdir(parents=True, exist_ok=True)
    try:
        a.start()
        cast, comps = setup(a)
        token = cast.tokens["recruiter-a"]
        interviewers = [k for k in cast.users if k.startswith("interviewer-")]
        build_loop(a.client(), cast, "recruiter-a", interviewers[:3], comps)

        for name, fault in (
            ("PostgreSQL restart", lambda: subprocess.run([*pg_ctl, "restart", "-m", "fast"], check=True, capture_output=True)),
            ("PostgreSQL stopped 3 s", lambda: (
                subprocess.run([*pg_ctl, "stop", "-m", "fast"], check=True, capture_output=True),
                time.sleep(3),
                subprocess.run([*pg_ctl, "start"], check=True, capture_output=True),
            )),
        ):
            load = Load([a], token, max_seconds=40).start()
            since = time.monotonic()
            time.sleep(2)
            fault_at = time.monotonic()
            fault()
            time.sleep(4)
            load.finish()
            report(name, load.figures(since, fault_at), problems)
            verify_acked(a, token, load.acked, problems, name)

        name = "SMTP server killed mid-loop"
        for n in range(2):
            build_loop(a.client(), cast, "recruiter-a", interviewers[n : n + 3], comps)
        time.sleep(0.3)
        sink.kill()
        log(f"{name}: SMTP server killed")
        for n in range(2, 4):
            build_loop(a.client(), cast, "recruiter-a", interviewers[n : n + 3], comps)
        time.sleep(3)
        sink.start()
        log(f"{name}: SMTP server started again")
        wait_mail(args.binary, args.pg_url, sink, problems, name)

        name = "two instances, one database"
        b.start()
        load = Load([a, b], token, max_seconds=30).start()
        since = time.monotonic()
        for n in range(4):
            build_loop((a if n % 2 else b).client(), cast, "recruiter-a", interviewers[n : n + 3], comps)
        time.sleep(3)
        load.finish()
        report(name, load.figures(since, since), problems)
        # Each write read back through the instance that did not make it.
        for which, server in enumerate((a, b)):
            other = {cid: v for cid, v in load.acked.items() if v[0] != which}
            verify_acked(server, token, other, problems, f"{name} (read on instance {'ab'[which]})")
        wait_mail(args.binary, args.pg_url, sink, problems, name)
        for s in (a, b):
            code = s.terminate()
            if code != 0:
                problems.append(f"{name}: an instance exited with {code} on SIGTERM")
    finally:
        a.kill()
        b.kill()
        sink.stop()


def sqlite_drills(args, problems: list[str]):
    name = "SQLite disk full"
    small = Path(args.small_dir)
    work = Path(args.workdir) / "sqlite"
    work.mkdir(parents=True, exist_ok=True)
    url = f"sqlite://{small / 'drill.db'}"
    sink = Sink(args.python, args.smtp_port, work / "mail")
    server = Server(args.binary, url, work, env=mail_env(args.smtp_port))
    ballast = small / "ballast"
    try:
        server.start()
        cast, comps = setup(server)
        token = cast.tokens["recruiter-a"]
        interviewers = [k for k in cast.users if k.startswith("interviewer-")]
        # Mail waits (no SMTP server yet) while the disk fills.
        for n in range(3):
            build_loop(server.client(), cast, "recruiter-a", interviewers[n : n + 3], comps)
        st = os.statvfs(small)
        free = st.f_bavail * st.f_frsize
        with open(ballast, "wb") as f:
            f.write(b"\0" * max(0, free - 600_000))
        log(f"{name}: {free // 1024} KiB were free; all but ~600 KiB taken by a ballast file")
        load = Load([server], token, threads=3, notes=8000, max_seconds=60).start()
        since = time.monotonic()
        deadline = since + 30
        while time.monotonic() < deadline:
            with load.lock:
                refused = sum(1 for _, _, s in load.answers if s == 507)
            if refused >= 20:
                break
            time.sleep(0.2)
        fault_at = since
        log(f"{name}: disk full")
        sink.start()  # the worker may now try to send while the disk is full
        time.sleep(3)
        c = server.client()
        if c.status("GET", "/readyz") != 200:
            problems.append(f"{name}: /readyz not 200 while the disk is full")
        ballast.unlink()
        freed_at = time.monotonic()
        log(f"{name}: ballast removed")
        # The load stops once writes are seen to succeed again (at most 3 s
        # later): left running, three writers of 8 kB notes fill the freed
        # space again within seconds on a fast machine, and the disk is
        # simply full once more when the outbox is checked below.
        deadline = freed_at + 3
        while time.monotonic() < deadline:
            with load.lock:
                ok = sum(1 for t0, _, s in load.answers if s == 201 and t0 > freed_at)
            if ok >= 20:
                break
            time.sleep(0.05)
        load.finish()
        free_after = os.statvfs(small).f_bavail * os.statvfs(small).f_frsize
        log(f"{name}: load stopped; {free_after // 1024} KiB free")
        if free_after < 4_000_000:
            problems.append(f"{name}: the drill's own load filled the freed disk again ({free_after // 1024} KiB free)")
        fig = load.figures(since, fault_at)
        if not fig["by_status"].get(507):
            problems.append(f"{name}: the disk never filled (no 507): {fig['by_status']}")
        # Time to recover: from the disk being freed to the first write
        # acknowledged after it.
        after = [t0 + took for t0, took, s in load.answers if s == 201 and t0 + took > freed_at]
        fig["recover"] = (min(after) - freed_at) if after else float("inf")
        if after:
            relapsed = sum(1 for t0, _, s in load.answers if s != 201 and t0 > min(after))
            if relapsed:
                problems.append(f"{name}: {relapsed} write(s) refused after writes had recovered")
        report(name, fig, problems)
        verify_acked(server, token, load.acked, problems, name)
        # Mail waiting since before the disk filled goes out soon after it
        # is freed: the worker backs off at most MAX_BACKOFF (10 s) between
        # tries while the database refuses its writes.
        mail_problems: list[str] = []
        wait_mail(args.binary, url, sink, mail_problems, name, within=90)
        log(f"{name}: outbox drained {time.monotonic() - freed_at:.1f}s after the disk was freed")
        if mail_problems:
            problems.extend(mail_problems)
            st = os.statvfs(small)
            sizes = {f.name: f.stat().st_size for f in small.iterdir()}
            log(f"{name}: {st.f_bavail * st.f_frsize // 1024} KiB free; files {sizes}")
            worker_log(server, name)
        code = server.terminate()
        if code != 0:
            problems.append(f"{name}: exit status {code} on SIGTERM")
    finally:
        server.kill()
        sink.stop()
        if ballast.exists():
            ballast.unlink()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--python", required=True, help="a Python with aiosmtpd, for tests/smtp_sink.py")
    ap.add_argument("--smtp-port", type=int, required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--pg-url", help="database on the drill's own cluster")
    ap.add_argument("--pg-ctl", help="pg_ctl command for that cluster, without the action")
    ap.add_argument("--small-dir", help="a small file system for the SQLite drill")
    args = ap.parse_args()
    problems: list[str] = []
    if args.pg_url:
        postgres_drills(args, problems)
    if args.small_dir:
        sqlite_drills(args, problems)
    if problems:
        print(f"\nfault drills: {len(problems)} problem(s):", file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        return 1
    log("fault drills passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
