"""Crash safety: SIGKILL under write load, then SIGTERM with requests in flight.

For one backend (a temporary SQLite file, or a fresh PostgreSQL database
that this script creates and drops):

1. Builds a cast and several scheduled loops through the API.
2. Many clients write at once: interviewers draft, seal and add addenda to
   their feedback; recruiters create candidates and build new loops. Every
   2xx answer is remembered.
3. Once enough writes are acknowledged, the server gets SIGKILL while
   requests are still in flight, and is started again on the same data.
4. Every acknowledged write must be there (read back through the API), and
   every loop's audit chain must verify.
5. Graceful stop: a batch of slow requests (sign-ins, which hash with
   argon2, and writes) is sent, SIGTERM follows while they are being
   served; every one must get a complete 2xx answer, the process must exit
   0, and the acknowledged writes must be there after another start.

Only 127.0.0.1 is contacted; every loop is bounded in count and time.

Usage: crash.py --binary target/debug/bar-raiser --backend sqlite|postgres
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the work tree
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
from live import ADMIN_EMAIL, ADMIN_PASSWORD, Server, complete_draft, unique  # noqa: E402

API = "/api/v1"
PASSWORD = "crash test passphrase 1"
VOTES = ["strong_hire", "inclined_to_hire", "inclined_not_to_hire", "strong_no_hire"]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Ledger:
    """What the server acknowledged (2xx) before it was killed."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acks = 0
        self.refused = 0
        self.unanswered = 0
        self.feedback: dict[str, dict] = {}  # interview id -> last acknowledged state
        self.addenda: dict[str, set[str]] = {}  # interview id -> addendum ids
        self.candidates: dict[str, str] = {}  # candidate id -> email
        self.loops: dict[str, int] = {}  # loop id -> interviews acknowledged

    def ack(self, fn=None):
        with self.lock:
            self.acks += 1
            if fn:
                fn()


class Cast:
    def __init__(self, c, admin: str):
        self.c = c
        self.admin = admin
        self.users: dict[str, dict] = {}
        self.tokens: dict[str, str] = {}

    def add(self, key: str, role: str, certified: bool = False) -> None:
        email = f"{unique(key)}@crash.example"
        u = self.c.call(
            "POST",
            f"{API}/users",
            self.admin,
            {
                "email": email,
                "name": key.replace("-", " ").title(),
                "password": PASSWORD,
                "role": role,
                "bar_raiser_certified": certified,
            },
        )
        self.users[key] = u
        self.tokens[key] = self.c.login(email, PASSWORD)


def build_loop(c, cast: Cast, recruiter: str, interviewers: list[str], comps: list[str]) -> dict:
    """A scheduled loop whose interviews ended hours ago (sealable now)."""
    token = cast.tokens[recruiter]
    cand = c.call(
        "POST",
        f"{API}/candidates",
        token,
        {"name": "Crash Candidate", "email": f"{unique('cand')}@candidates.example"},
    )
    lp = c.call(
        "POST",
        f"{API}/loops",
        token,
        {
            "candidate_id": cand["id"],
            "position": "Engineer",
            "level": "L5",
            "hiring_manager_id": cast.users["manager"]["id"],
            "bar_raiser_id": cast.users["raiser"]["id"],
            "required_competency_ids": comps,
        },
    )
    start = datetime.now(timezone.utc) - timedelta(hours=8)
    plan = [("raiser", comps[:2])] + [(who, [comps[n % 3]]) for n, who in enumerate(interviewers)]
    for n, (who, cs) in enumerate(plan):
        c.call(
            "POST",
            f"{API}/loops/{lp['id']}/interviews",
            token,
            {
                "interviewer_id": cast.users[who]["id"],
                "competency_ids": cs,
                "starts_at": (start + timedelta(minutes=50 * n)).isoformat(),
                "duration_minutes": 45,
                "loop_role": "interviewer",
            },
        )
    c.call("POST", f"{API}/loops/{lp['id']}/schedule", token, {})
    return c.call("GET", f"{API}/loops/{lp['id']}", token)


def setup(server: Server) -> tuple[Cast, list[str]]:
    c = server.client()
    cast = Cast(c, c.login(ADMIN_EMAIL, ADMIN_PASSWORD))
    cast.add("recruiter-a", "recruiter")
    cast.add("recruiter-b", "recruiter")
    cast.add("manager", "member")
    cast.add("raiser", "member", certified=True)
    for n in range(8):
        cast.add(f"interviewer-{n}", "member")
    comps = [x["id"] for x in c.call("GET", f"{API}/competencies", cast.admin)["items"][:3]]
    return cast, comps


def scheduled_loops(server: Server, cast: Cast, comps: list[str], count: int) -> list[dict]:
    c = server.client()
    interviewers = [k for k in cast.users if k.startswith("interviewer-")]
    built = []
    for n in range(count):
        chosen = [interviewers[(n * 3 + k) % len(interviewers)] for k in range(4)]
        built.append(build_loop(c, cast, "recruiter-a", chosen, comps))
    return built


def writer(server, ledger: Ledger, stop: threading.Event, token: str, interviews: list[dict], seed: int):
    """One interviewer: for each interview, three draft revisions, the seal, two addenda."""
    c = server.client()
    rng = random.Random(seed)
    rng.shuffle(interviews)
    try:
        for i in interviews:
            iid = i["id"]
            for rev in range(3):
                if stop.is_set():
                    return
                body = complete_draft(i, VOTES[rng.randrange(4)], f"rev {rev} {uuid.uuid4().hex[:8]}")
                status, fb, _ = c.request("PUT", f"{API}/interviews/{iid}/feedback", token, body)
                if status != 200:
                    ledger.refused += 1
                    continue
                ledger.ack(
                    lambda fb=fb: ledger.feedback.__setitem__(
                        iid, {"state": "draft", "revision": fb["revision"], "summary": fb["summary"]}
                    )
                )
            if stop.is_set():
                return
            status, fb, _ = c.request("POST", f"{API}/interviews/{iid}/feedback/seal", token, {})
            if status == 200:
                ledger.ack(
                    lambda fb=fb: ledger.feedback.__setitem__(
                        iid, {"state": "sealed", "sha": fb["content_sha256"], "revision": fb["revision"]}
                    )
                )
            else:
                ledger.refused += 1
                continue
            for k in range(2):
                if stop.is_set():
                    return
                status, ad, _ = c.request(
                    "POST", f"{API}/interviews/{iid}/feedback/addenda", token, {"text": f"Addendum {k}: a clarification."}
                )
                if status == 201:
                    ledger.ack(lambda ad=ad: ledger.addenda.setdefault(iid, set()).add(addendum_id(ad)))
                else:
                    ledger.refused += 1
    except OSError:
        with ledger.lock:
            ledger.unanswered += 1


def addendum_id(body: dict) -> str:
    """The addendum's id: the answer is the addendum, or the feedback with it last."""
    if "addenda" in body:
        return body["addenda"][-1]["id"]
    return body["id"]


def candidate_maker(server, ledger: Ledger, stop: threading.Event, token: str, count: int):
    c = server.client()
    try:
        for _ in range(count):
            if stop.is_set():
                return
            email = f"{unique('crash')}@candidates.example"
            status, body, _ = c.request("POST", f"{API}/candidates", token, {"name": "Load Candidate", "email": email})
            if status == 201:
                ledger.ack(lambda body=body, email=email: ledger.candidates.__setitem__(body["id"], email))
            else:
                ledger.refused += 1
    except OSError:
        with ledger.lock:
            ledger.unanswered += 1


def loop_maker(server, ledger: Ledger, stop: threading.Event, cast: Cast, recruiter: str, comps, count: int, seed: int):
    """Creates loops and adds interviews one by one (each one audit event)."""
    c = server.client()
    rng = random.Random(seed)
    token = cast.tokens[recruiter]
    try:
        for _ in range(count):
            if stop.is_set():
                return
            status, cand, _ = c.request(
                "POST", f"{API}/candidates", token, {"name": "Loop Candidate", "email": f"{unique('lc')}@candidates.example"}
            )
            if status != 201:
                ledger.refused += 1
                continue
            ledger.ack(lambda cand=cand: ledger.candidates.__setitem__(cand["id"], cand["email"]))
            status, lp, _ = c.request(
                "POST",
                f"{API}/loops",
                token,
                {
                    "candidate_id": cand["id"],
                    "position": "Load Engineer",
                    "level": "L4",
                    "hiring_manager_id": cast.users["manager"]["id"],
                    "bar_raiser_id": cast.users["raiser"]["id"],
                    "required_competency_ids": comps,
                },
            )
            if status != 201:
                ledger.refused += 1
                continue
            ledger.ack(lambda lp=lp: ledger.loops.__setitem__(lp["id"], 0))
            people = ["raiser"] + rng.sample([f"interviewer-{n}" for n in range(8)], 3)
            for n, who in enumerate(people):
                if stop.is_set():
                    return
                status, _, _ = c.request(
                    "POST",
                    f"{API}/loops/{lp['id']}/interviews",
                    token,
                    {
                        "interviewer_id": cast.users[who]["id"],
                        "competency_ids": [comps[n % 3]],
                        "starts_at": (datetime.now(timezone.utc) + timedelta(days=1, hours=n)).isoformat(),
                        "duration_minutes": 60,
                    },
                )
                if status == 201:
                    ledger.ack(lambda lid=lp["id"]: ledger.loops.__setitem__(lid, ledger.loops[lid] + 1))
                else:
                    ledger.refused += 1
    except OSError:
        with ledger.lock:
            ledger.unanswered += 1


def kill_under_load(
    server: Server, cast: Cast, loops: list[dict], comps, ledger: Ledger, kill_after: int, max_seconds: float
) -> None:
    """Writes from many clients at once; SIGKILL once `kill_after` more are acknowledged."""
    kill_after += ledger.acks
    stop = threading.Event()
    by_person: dict[str, list[dict]] = {}
    for lp in loops:
        for i in lp["interviews"]:
            by_person.setdefault(i["interviewer"]["id"], []).append(i)
    key_of = {u["id"]: k for k, u in cast.users.items()}
    threads = []
    for n, (uid, interviews) in enumerate(by_person.items()):
        threads.append(
            threading.Thread(target=writer, args=(server, ledger, stop, cast.tokens[key_of[uid]], interviews, n))
        )
    for n in range(4):
        token = cast.tokens["recruiter-a" if n % 2 else "recruiter-b"]
        threads.append(threading.Thread(target=candidate_maker, args=(server, ledger, stop, token, 400)))
    for n in range(3):
        threads.append(
            threading.Thread(target=loop_maker, args=(server, ledger, stop, cast, "recruiter-b", comps, 40, 100 + n))
        )
    log(f"{len(threads)} clients writing")
    started = time.monotonic()
    for t in threads:
        t.start()
    while ledger.acks < kill_after and time.monotonic() - started < max_seconds:
        if not any(t.is_alive() for t in threads):
            break
        time.sleep(0.01)
    alive = sum(t.is_alive() for t in threads)
    acks_at_kill = ledger.acks
    server.kill()
    log(f"SIGKILL after {time.monotonic() - started:.1f}s: {acks_at_kill} writes acknowledged so far, {alive} clients still writing")
    if alive == 0:
        raise AssertionError("every client had finished before the kill: nothing was in flight")
    stop.set()
    for t in threads:
        t.join(timeout=60)
    log(
        f"ledger: {len(ledger.feedback)} feedback, {sum(len(v) for v in ledger.addenda.values())} addenda, "
        f"{len(ledger.candidates)} candidates, {len(ledger.loops)} new loops; "
        f"{ledger.refused} refusals, {ledger.unanswered} requests cut off by the kill (all rounds)"
    )


def verify(server: Server, cast: Cast, ledger: Ledger, fixture_loops: list[dict]) -> list[str]:
    """Every acknowledged write is there; every loop's chain verifies."""
    c = server.client()
    problems = []
    authors = {i["id"]: i["interviewer"]["id"] for lp in fixture_loops for i in lp["interviews"]}
    key_of = {u["id"]: k for k, u in cast.users.items()}
    for iid, want in ledger.feedback.items():
        token = cast.tokens[key_of[authors[iid]]]
        status, got, _ = c.request("GET", f"{API}/interviews/{iid}/feedback", token)
        if status != 200:
            problems.append(f"feedback of {iid}: {status} {got}")
            continue
        if want["state"] == "sealed":
            if got["state"] != "sealed" or got["content_sha256"] != want["sha"]:
                problems.append(f"feedback of {iid}: sealed {want['sha']} acknowledged, found {got['state']} {got.get('content_sha256')}")
        elif got["revision"] < want["revision"]:
            problems.append(f"feedback of {iid}: revision {want['revision']} acknowledged, found {got['revision']}")
        elif got["revision"] == want["revision"] and got["state"] == "draft" and got["summary"] != want["summary"]:
            problems.append(f"feedback of {iid}: summary of revision {want['revision']} differs")
        missing = ledger.addenda.get(iid, set()) - {a["id"] for a in got.get("addenda", [])}
        if missing:
            problems.append(f"feedback of {iid}: acknowledged addenda missing: {sorted(missing)}")
    recruiter = cast.tokens["recruiter-a"]
    for cid, email in ledger.candidates.items():
        status, got, _ = c.request("GET", f"{API}/candidates/{cid}", recruiter)
        if status != 200 or got.get("email") != email:
            problems.append(f"candidate {cid}: {status} {got}")
    for lid, n in ledger.loops.items():
        status, got, _ = c.request("GET", f"{API}/loops/{lid}", cast.admin)
        if status != 200 or len(got["interviews"]) < n:
            problems.append(f"loop {lid}: {n} interviews acknowledged; {status} {got if status != 200 else len(got['interviews'])}")
    all_loops = []
    cursor = None
    for _ in range(100):
        q = f"{API}/loops?limit=200" + (f"&cursor={cursor}" if cursor else "")
        page = c.call("GET", q, cast.admin)
        all_loops += [lp["id"] for lp in page["items"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    events = 0
    for lid in all_loops:
        v = c.call("GET", f"{API}/loops/{lid}/audit/verify", cast.admin)
        events += v["events_checked"]
        if not v["valid"]:
            problems.append(f"audit chain of loop {lid} does not verify: {v}")
    log(
        f"read back {len(ledger.feedback)} feedback, {len(ledger.candidates)} candidates, {len(ledger.loops)} loops; "
        f"{len(all_loops)} audit chains verified ({events} events)"
    )
    return problems


def graceful_stop(server: Server, cast: Cast, comps, clients: int) -> tuple[list[str], Ledger]:
    """Requests in flight when SIGTERM arrives all finish with 2xx; exit 0."""
    problems = []
    ledger = Ledger()
    sent = threading.Barrier(clients + 1)
    # Set when half the requests are answered: the server has long read
    # them all and the sign-ins still wait their turn for argon2.
    half_answered = threading.Event()
    results: list[tuple[str, int | None, float]] = []
    rlock = threading.Lock()
    recruiter = cast.tokens["recruiter-a"]
    emails = [u["email"] for k, u in cast.users.items() if k.startswith("interviewer-")]

    # Loops need a candidate each: made before, so only the loop is in flight.
    loop_candidates = [
        server.client().call(
            "POST", f"{API}/candidates", recruiter, {"name": "Drain Candidate", "email": f"{unique('drain')}@candidates.example"}
        )["id"]
        for _ in range(clients // 4 + 1)
    ]

    def one(n: int):
        kind = ["login", "candidate", "login", "loop"][n % 4]
        if kind == "login":
            path, body, token = f"{API}/auth/login", {"email": emails[n % len(emails)], "password": PASSWORD}, None
        elif kind == "candidate":
            path, token = f"{API}/candidates", recruiter
            body = {"name": "Late Candidate", "email": f"{unique('term')}@candidates.example"}
        else:
            path, token = f"{API}/loops", recruiter
            body = {
                "candidate_id": loop_candidates[n // 4],
                "position": "Drain Engineer",
                "level": "L5",
                "hiring_manager_id": cast.users["manager"]["id"],
                "bar_raiser_id": cast.users["raiser"]["id"],
                "required_competency_ids": comps,
            }
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        status = None
        try:
            conn.request("POST", path, body=json.dumps(body), headers=headers)
            sent.wait(timeout=30)
            resp = conn.getresponse()
            status = resp.status
            value = json.loads(resp.read())
            at = time.monotonic()
            if kind == "candidate" and status == 201:
                ledger.ack(lambda: ledger.candidates.__setitem__(value["id"], body["email"]))
            elif kind == "loop" and status == 201:
                ledger.ack(lambda: ledger.loops.__setitem__(value["id"], 0))
            elif kind == "login" and status == 200 and "access_token" not in value:
                status = None
        except (OSError, ValueError, threading.BrokenBarrierError) as e:
            at = time.monotonic()
            problems.append(f"{kind} #{n}: no complete answer ({e!r})")
        finally:
            conn.close()
        with rlock:
            results.append((kind, status, at))
            if len(results) * 2 >= clients:
                half_answered.set()

    threads = [threading.Thread(target=one, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    sent.wait(timeout=30)
    # Let the server accept and start on them (argon2 keeps the sign-ins
    # busy): 0.15 s, or less once half are answered. A fixed pause alone
    # left nothing in flight on a machine fast enough to answer all 24
    # within it, and the test proved nothing; signalling at the first
    # answer was too soon: some connections were not read yet.
    half_answered.wait(timeout=0.15)
    term_at = time.monotonic()
    code = server.terminate(timeout=60)
    stopped_at = time.monotonic()
    for t in threads:
        t.join(timeout=60)
    late = sum(1 for _, s, at in results if at > term_at)
    ok = sum(1 for _, s, _ in results if s in (200, 201))
    log(
        f"SIGTERM with {clients} requests sent: {ok} answered 2xx ({late} of them after the signal), "
        f"exit status {code} after {stopped_at - term_at:.2f}s"
    )
    if ok != clients:
        problems.append(f"{clients - ok} of {clients} requests in flight at SIGTERM got no 2xx: {sorted((k, s) for k, s, _ in results if s not in (200, 201))}")
    if code != 0:
        problems.append(f"the server exited with {code} on SIGTERM, not 0:\n{server.log_tail()}")
    if late == 0:
        problems.append("every answer came before SIGTERM: nothing was in flight; the test proved nothing")
    return problems, ledger


def pg_create(admin_url: str, name: str) -> None:
    subprocess.run(["psql", admin_url, "-q", "-v", "ON_ERROR_STOP=1", "-c", f'CREATE DATABASE "{name}"'], check=True)


def pg_drop(admin_url: str, name: str) -> None:
    subprocess.run(
        ["psql", admin_url, "-q", "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'],
        check=False,
    )


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--backend", choices=["sqlite", "postgres"], required=True)
    p.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--rounds", type=int, default=3, help="load, SIGKILL, restart, verify")
    p.add_argument("--loops", type=int, default=6, help="new scheduled loops per round")
    p.add_argument("--kill-after", type=int, default=400, help="at most this many acknowledged writes per round before SIGKILL")
    p.add_argument("--seed", type=int, default=int(time.time()))
    p.add_argument("--max-seconds", type=float, default=60)
    p.add_argument("--term-clients", type=int, default=24)
    args = p.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix=f"bar-raiser-crash-{args.backend}-"))
    pg_name = None
    if args.backend == "sqlite":
        db_file = workdir / "crash.db"
        url = f"sqlite://{db_file}"
    else:
        pg_name = f"br_crash_{uuid.uuid4().hex[:12]}"
        pg_create(args.postgres_url, pg_name)
        url = args.postgres_url.rsplit("/", 1)[0] + f"/{pg_name}"
    server = Server(str(Path(args.binary).resolve()), url, workdir)
    problems: list[str] = []
    try:
        log(f"{args.backend}: starting {args.binary} (seed {args.seed})")
        server.start()
        cast, comps = setup(server)
        rng = random.Random(args.seed)
        ledger = Ledger()
        loops: list[dict] = []
        for round_ in range(1, args.rounds + 1):
            fresh = scheduled_loops(server, cast, comps, args.loops)
            loops += fresh
            log(f"round {round_}: {len(fresh)} more scheduled loops")
            kill_under_load(server, cast, fresh, comps, ledger, rng.randint(args.kill_after // 2, args.kill_after), args.max_seconds)
            if args.backend == "sqlite":
                # On a copy (with its WAL), so the server's own start recovers the original.
                copy = workdir / f"after-kill-{round_}"
                copy.mkdir()
                for f in workdir.glob("crash.db*"):
                    shutil.copy2(f, copy / f.name)
                with closing(sqlite3.connect(copy / "crash.db")) as db:
                    check = db.execute("PRAGMA integrity_check").fetchone()[0]
                log(f"SQLite integrity_check after the kill: {check}")
                if check != "ok":
                    problems.append(f"round {round_}: SQLite integrity_check: {check}")
            if round_ < args.rounds:
                server.start()
                log("restarted after SIGKILL")
                problems += verify(server, cast, ledger, loops)
        # The restarted server runs the notification worker too: SIGTERM
        # must stop it cleanly as well.
        server.env["BAR_RAISER_NO_WORKER"] = "false"
        server.start()
        log("restarted after SIGKILL")
        problems += verify(server, cast, ledger, loops)
        # Still writable after recovery.
        server.client().call(
            "POST", f"{API}/candidates", cast.tokens["recruiter-a"], {"name": "After", "email": f"{unique('after')}@candidates.example"}
        )

        term_problems, drained = graceful_stop(server, cast, comps, args.term_clients)
        problems += term_problems
        server.env["BAR_RAISER_NO_WORKER"] = "true"
        server.start()
        c = server.client()
        for cid, email in drained.candidates.items():
            status, got, _ = c.request("GET", f"{API}/candidates/{cid}", cast.tokens["recruiter-a"])
            if status != 200 or got.get("email") != email:
                problems.append(f"candidate {cid} created during the SIGTERM drain is missing: {status} {got}")
        for lid in drained.loops:
            if c.request("GET", f"{API}/loops/{lid}", cast.admin)[0] != 200:
                problems.append(f"loop {lid} created during the SIGTERM drain is missing")
        log(f"after SIGTERM and restart: the {len(drained.candidates) + len(drained.loops)} writes answered during the drain are there")
        code = server.terminate()
        if code != 0:
            problems.append(f"final SIGTERM: exit status {code}")
    finally:
        server.kill()
        if pg_name:
            pg_drop(args.postgres_url, pg_name)
    if problems:
        print(f"\n{args.backend}: {len(problems)} problem(s):", file=sys.stderr)
        for pr in problems[:50]:
            print(f"  - {pr}", file=sys.stderr)
        print(f"work directory kept: {workdir}", file=sys.stderr)
        return 1
    subprocess.run(["rm", "-rf", str(workdir)])
    log(f"{args.backend}: crash safety passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
