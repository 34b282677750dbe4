"""Cross-checks the server's Krippendorff's alpha against the `krippendorff`
package from PyPI (an independent implementation).

Builds decided loops through the real API on a fresh server: seven
interviewers and a Bar Raiser, each loop seated with a different subset
(so the reliability matrix has missing cells), sealed votes and ratings
drawn from a fixed seed, some debrief votes changed, hires concurred or
vetoed. Then reads `/analytics/summary` and `/analytics/reliability` and
requires the two implementations to agree to 1e-9 on the votes and on
every competency.

usage: alpha_check.py BINARY WORKDIR
"""

from __future__ import annotations

import math
import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import krippendorff
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from live import ADMIN_EMAIL, ADMIN_PASSWORD, Server, evidence, unique  # noqa: E402

VOTES = ["strong_no_hire", "inclined_not_to_hire", "inclined_to_hire", "strong_hire"]
PASSWORD = "a long test passphrase for alpha"
LOOPS = 14


def main() -> int:
    binary, workdir = sys.argv[1], Path(sys.argv[2])
    workdir.mkdir(parents=True, exist_ok=True)
    server = Server(binary, f"sqlite://{workdir}/alpha.db", workdir, env={"BAR_RAISER_ANALYTICS_MIN_LOOPS": "2"}).start()
    try:
        check(server.client())
    finally:
        server.terminate()
    return 0


def person(c, admin, name, role="member", certified=False):
    email = f"{unique(name.lower())}@example.com"
    user = c.call("POST", "/api/v1/users", admin, {"email": email, "name": name, "password": PASSWORD, "role": role, "bar_raiser_certified": certified})
    return {"id": user["id"], "token": c.login(email, PASSWORD)}


def check(c) -> None:
    rng = random.Random(20261130)
    admin = c.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    recruiter = person(c, admin, "Rec", "recruiter")
    manager = person(c, admin, "Man")
    raiser = person(c, admin, "Bar", certified=True)
    panel = [person(c, admin, f"Int{n}") for n in range(7)]
    comps = [x["id"] for x in c.call("GET", "/api/v1/competencies", recruiter["token"])["items"]][:3]
    for n in range(LOOPS):
        cand = c.call("POST", "/api/v1/candidates", recruiter["token"], {"name": f"Candidate {n}", "email": f"{unique('cand')}@example.com"})
        lp = c.call("POST", "/api/v1/loops", recruiter["token"], {
            "candidate_id": cand["id"], "position": "Engineer", "level": "L5",
            "hiring_manager_id": manager["id"], "bar_raiser_id": raiser["id"], "required_competency_ids": comps})
        seated = [raiser] + rng.sample(panel, rng.randint(3, 5))
        starts = datetime.now(timezone.utc) - timedelta(hours=8)
        interviews = []
        for k, who in enumerate(seated):
            i = c.call("POST", f"/api/v1/loops/{lp['id']}/interviews", recruiter["token"], {
                "interviewer_id": who["id"], "competency_ids": rng.sample(comps, rng.randint(1, 3)),
                "starts_at": (starts + timedelta(minutes=70 * k)).isoformat(), "duration_minutes": 60, "loop_role": "interviewer"})
            interviews.append((who, i))
        c.call("POST", f"/api/v1/loops/{lp['id']}/schedule", recruiter["token"], {})
        # Votes lean on a per-loop "true" quality, so alpha is not near 0.
        quality = rng.randint(0, 3)
        for who, i in interviews:
            vote = VOTES[max(0, min(3, quality + rng.choice([-1, 0, 0, 1])))]
            draft = {
                "ratings": [{"competency_id": comp["id"], "rating": 1 + max(0, min(3, quality + rng.choice([-1, 0, 1]))),
                             "evidence": evidence(f"loop {n}")} for comp in i["competencies"]],
                "vote": vote, "summary": "summary"}
            c.call("PUT", f"/api/v1/interviews/{i['id']}/feedback", who["token"], draft)
            c.call("POST", f"/api/v1/interviews/{i['id']}/feedback/seal", who["token"], {})
        c.call("POST", f"/api/v1/loops/{lp['id']}/debrief", raiser["token"], {})
        for who, _ in interviews[1:]:
            if rng.random() < 0.3:
                c.call("PUT", f"/api/v1/loops/{lp['id']}/debrief/votes/me", who["token"],
                       {"vote": VOTES[quality], "rationale": "The discussion surfaced evidence I had missed."})
        hire = quality >= 2
        c.call("POST", f"/api/v1/loops/{lp['id']}/decision", manager["token"],
               {"outcome": "hire" if hire else "no_hire", "rationale": "Weighed every vote."})
        if hire:
            if rng.random() < 0.3:
                c.call("POST", f"/api/v1/loops/{lp['id']}/decision/veto", raiser["token"], {"rationale": "x" * 60})
            else:
                c.call("POST", f"/api/v1/loops/{lp['id']}/decision/concur", raiser["token"], {})

    summary = c.call("GET", "/api/v1/analytics/summary", admin)
    data = c.call("GET", "/api/v1/analytics/reliability", admin)
    assert summary["loops"] == LOOPS, summary
    failures = []

    def compare(label, server_alpha, matrix):
        m = np.array([[math.nan if v is None else float(v) for v in row] for row in matrix])
        theirs = float(krippendorff.alpha(reliability_data=m, level_of_measurement="ordinal", value_domain=[1, 2, 3, 4]))
        ok = server_alpha is not None and abs(server_alpha - theirs) < 1e-9
        print(f"{label:40} server {server_alpha!s:22} krippendorff {theirs!r:22} {'ok' if ok else 'DIFFERS'}")
        if not ok:
            failures.append(label)

    # The same loops over a period whose whole days (today and tomorrow)
    # the server reads from its per-day roll-up instead of loop by loop.
    now = datetime.now(timezone.utc)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    iso = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    whole = c.call("GET", "/api/v1/analytics/summary?from=" + iso(now - timedelta(hours=30))
                   + "&to=" + iso(midnight + timedelta(days=2, hours=3)), admin)
    assert whole["loops"] == LOOPS, whole
    for label, s in (("", summary), (" (whole days)", whole)):
        compare("votes" + label, s["votes"]["alpha"], data["votes"])
        by_id = {x["competency"]["id"]: x for x in s["competencies"]}
        for comp, matrix in data["competencies"].items():
            compare(f"competency {by_id[comp]['competency']['name']}{label}", by_id[comp]["alpha"], matrix)
    if failures:
        print("alpha differs for: " + ", ".join(failures))
        raise SystemExit(1)
    print(f"alpha agrees with the krippendorff package on {1 + len(data['competencies'])} data sets ({LOOPS} loops)")


if __name__ == "__main__":
    sys.exit(main())
