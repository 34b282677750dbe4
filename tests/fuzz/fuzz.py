"""Schemathesis over every operation of the served OpenAPI document.

Starts the real binary on SQLite (the demo sample plus a second loop driven
into its debrief), then runs schemathesis twice: as an interviewer of both
loops, and as an admin (in that order, so the admin's cancels and
deactivations cannot starve the interviewer's run). Path ids and id-shaped
body fields are drawn from the real ones most of the time, so cases reach
the handlers' logic instead of stopping at 404. Any failure fails the run.

Usage: fuzz.py --binary target/debug/bar-raiser --schemathesis .venv/bin/schemathesis
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the work tree
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "support"))
from live import ADMIN_EMAIL, ADMIN_PASSWORD, Server, complete_draft, unique  # noqa: E402

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
API = "/api/v1"


def demo_password(server: Server) -> str:
    m = re.search(r"signs in with the password: (\S+)", server.stdout_text())
    if not m:
        raise SystemExit(f"no demo password in the server's output:\n{server.stdout_text()}")
    return m.group(1)


def debrief_loop(c, tokens: dict[str, str], template: dict) -> dict:
    """A copy of the demo loop's cast, every voter sealed, the debrief open."""
    recruiter = tokens["recruiter@demo.example"]
    cand = c.call(
        "POST",
        f"{API}/candidates",
        recruiter,
        {"name": "Fuzz Candidate", "email": f"{unique('fuzz')}@candidates.example"},
    )
    lp = c.call(
        "POST",
        f"{API}/loops",
        recruiter,
        {
            "candidate_id": cand["id"],
            "position": "Staff Engineer",
            "level": "L7",
            "hiring_manager_id": template["hiring_manager"]["id"],
            "bar_raiser_id": template["bar_raiser"]["id"],
            "required_competency_ids": [x["id"] for x in template["required_competencies"]],
        },
    )
    start = datetime.now(timezone.utc) - timedelta(hours=10)
    for n, i in enumerate(template["interviews"]):
        c.call(
            "POST",
            f"{API}/loops/{lp['id']}/interviews",
            recruiter,
            {
                "interviewer_id": i["interviewer"]["id"],
                "competency_ids": [x["id"] for x in i["competencies"]],
                "starts_at": (start + timedelta(hours=n)).isoformat(),
                "duration_minutes": 45,
                "loop_role": i["loop_role"],
            },
        )
    c.call("POST", f"{API}/loops/{lp['id']}/schedule", recruiter, {})
    lp = c.call("GET", f"{API}/loops/{lp['id']}", recruiter)
    votes = ["strong_hire", "inclined_to_hire", "inclined_not_to_hire", "strong_no_hire"]
    for n, i in enumerate(lp["interviews"]):
        who = tokens[i["interviewer"]["email"]]
        draft = complete_draft(i, votes[n % 4], f"fuzz {n}")
        c.call("PUT", f"{API}/interviews/{i['id']}/feedback", who, draft)
        c.call("POST", f"{API}/interviews/{i['id']}/feedback/seal", who, {})
    c.call("POST", f"{API}/loops/{lp['id']}/debrief", tokens[lp["bar_raiser"]["email"]], {})
    return c.call("GET", f"{API}/loops/{lp['id']}", recruiter)


def config_toml(ids: dict[str, list[str]]) -> str:
    """Per-operation dictionaries: real ids most of the time, random ones else."""
    lines = []
    for name, values in ids.items():
        lines.append(f"[dictionaries.{name}]")
        lines.append("values = " + json.dumps(sorted(set(values))))
        lines.append("")
    path_bindings = [
        (r"^/api/v1/loops/\{id\}", "loop_ids"),
        (r"^/api/v1/interviews/\{id\}", "interview_ids"),
        (r"^/api/v1/users/\{id\}", "user_ids"),
        (r"^/api/v1/candidates/\{id\}", "candidate_ids"),
        (r"^/api/v1/competencies/\{id\}", "competency_ids"),
    ]
    body_bindings = {
        "body.ratings[*].competency_id": "competency_ids",
        "body.competency_ids[*]": "competency_ids",
        "body.required_competency_ids[*]": "competency_ids",
        "body.interviewer_id": "user_ids",
        "body.hiring_manager_id": "user_ids",
        "body.bar_raiser_id": "user_ids",
        "body.recruiter_id": "user_ids",
        "body.candidate_id": "candidate_ids",
        "query.candidate_id": "candidate_ids",
    }
    lines.append("[parameters]")
    for key, name in body_bindings.items():
        lines.append(f'"{key}" = {{ dictionary = "{name}", probability = 0.8 }}')
    lines.append("")
    for regex, name in path_bindings:
        lines.append("[[operations]]")
        lines.append(f"include-path-regex = {json.dumps(regex)}")
        lines.append(f'parameters = {{ "path.id" = {{ dictionary = "{name}", probability = 0.85 }} }}')
        lines.append("")
    return "\n".join(lines)


def run_schemathesis(args, server: Server, who: str, token: str, config: Path, workdir: Path) -> dict:
    report = workdir / f"report-{who}"
    cmd = [
        os.path.abspath(args.schemathesis),
        "--config-file",
        str(config),
        "run",
        f"{server.base_url}/api-docs/openapi.json",
        "--url",
        server.base_url,
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        CHECKS,
        "--max-examples",
        str(args.max_examples),
        "--seed",
        str(args.seed),
        # One worker: hypothesis parses lambda sources with `ast`, which is
        # not thread-safe on Python 3.11 ("AST constructor recursion depth
        # mismatch").
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--generation-database",
        "none",
        "--no-color",
        "--output-truncate",
        "true",
        "--report",
        "ndjson",
        "--report-dir",
        str(report),
    ]
    print(f"--- schemathesis as {who} (max {args.max_examples} examples per operation, seed {args.seed})", flush=True)
    started = time.monotonic()
    # Its cache directory (.schemathesis/) goes to the work directory, not the repository.
    proc = subprocess.run(cmd, timeout=args.time_limit, stdin=subprocess.DEVNULL, cwd=workdir)
    elapsed = time.monotonic() - started
    stats = summarize(report)
    print(
        f"schemathesis as {who}: {stats['operations']} operations, {stats['cases']} cases "
        f"({stats['stateful_cases']} in stateful sequences), {stats['failures']} failures, "
        f"{elapsed:.0f}s, exit {proc.returncode}",
        flush=True,
    )
    stats["exit"] = proc.returncode
    return stats


def summarize(report_dir: Path) -> dict:
    """Operations, cases and failures from schemathesis's ndjson event stream."""
    ops: set[str] = set()
    cases = stateful_cases = failures = 0
    for f in report_dir.glob("*.ndjson"):
        for line in f.read_text().splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            body = event.get("ScenarioFinished")
            if not isinstance(body, dict):
                continue
            recorder = body.get("recorder") or {}
            n = len(recorder.get("cases") or {})
            cases += n
            label = recorder.get("label") or ""
            if body.get("phase") == "stateful":
                stateful_cases += n
            elif label:
                ops.add(label)
            for checks in (recorder.get("checks") or {}).values():
                failures += sum(1 for ch in checks if ch.get("status") == "failure")
    return {"operations": len(ops), "cases": cases, "stateful_cases": stateful_cases, "failures": failures}


def spec_operations(server: Server) -> int:
    doc = server.client().call("GET", "/api-docs/openapi.json")
    methods = {"get", "put", "post", "patch", "delete"}
    return sum(1 for item in doc["paths"].values() for m in item if m in methods)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--schemathesis", required=True)
    p.add_argument("--max-examples", type=int, default=30)
    p.add_argument("--seed", type=int, default=20261126)
    p.add_argument("--time-limit", type=int, default=300, help="seconds per schemathesis run")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    args = p.parse_args()

    version = subprocess.run([args.schemathesis, "--version"], capture_output=True, text=True).stdout.strip()
    print(version, flush=True)

    workdir = Path(tempfile.mkdtemp(prefix="bar-raiser-fuzz-"))
    server = Server(
        str(Path(args.binary).resolve()),
        f"sqlite://{workdir / 'fuzz.db'}",
        workdir,
        extra_args=["--demo"],
    )
    ok = False
    try:
        server.start()
        c = server.client()
        password = demo_password(server)
        admin = c.login(ADMIN_EMAIL, ADMIN_PASSWORD)
        users = c.call("GET", f"{API}/users?limit=200", admin)["items"]
        tokens = {
            u["email"]: c.login(u["email"], password) for u in users if u["email"].endswith("@demo.example")
        }
        demo = c.call("GET", f"{API}/loops/{c.call('GET', f'{API}/loops', admin)['items'][0]['id']}", admin)
        debrief = debrief_loop(c, tokens, demo)
        loops = [demo, debrief]
        competencies = c.call("GET", f"{API}/competencies?include_retired=true", admin)["items"]
        ids = {
            "loop_ids": [lp["id"] for lp in loops],
            "interview_ids": [i["id"] for lp in loops for i in lp["interviews"]],
            "user_ids": [u["id"] for u in users if u["email"] != ADMIN_EMAIL],
            "candidate_ids": [lp["candidate"]["id"] for lp in loops],
            "competency_ids": [x["id"] for x in competencies],
        }
        config = workdir / "schemathesis.toml"
        config.write_text(config_toml(ids))
        print(
            f"fixtures: {len(loops)} loops (scheduled, debrief), {len(ids['interview_ids'])} interviews, "
            f"{len(ids['user_ids'])} users, {len(ids['competency_ids'])} competencies",
            flush=True,
        )
        runs = [
            run_schemathesis(args, server, "interviewer", tokens["ines@demo.example"], config, workdir),
            run_schemathesis(args, server, "admin", admin, config, workdir),
        ]
        if server.proc.poll() is not None:
            print(f"the server died during the run:\n{server.log_tail()}", file=sys.stderr)
            return 1
        total_cases = sum(r["cases"] for r in runs)
        documented = spec_operations(server)
        ok = (
            all(r["exit"] == 0 and r["failures"] == 0 for r in runs)
            and all(r["operations"] == documented for r in runs)
            and total_cases > 0
        )
        print(
            f"schemathesis total: {documented} documented operations, each tested in both runs: "
            f"{all(r['operations'] == documented for r in runs)}; {total_cases} cases, "
            f"{sum(r['failures'] for r in runs)} failures",
            flush=True,
        )
        if not ok:
            errors = [ln for ln in server.log_path.read_text(errors="replace").splitlines() if '"level":"ERROR"' in ln]
            print(f"server log: {len(errors)} ERROR lines; the first ones:", *errors[:20], sep="\n", flush=True)
        return 0 if ok else 1
    finally:
        server.kill()
        if ok and not args.keep:
            subprocess.run(["rm", "-rf", str(workdir)])
        else:
            print(f"work directory kept: {workdir}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
