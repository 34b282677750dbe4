"""Schemathesis over every operation of the served OpenAPI document.

Starts the real binary on SQLite (the demo sample plus a second loop driven
into its debrief), then runs schemathesis twice: as an interviewer of both
loops, and as an admin (in that order, so the admin's cancels and
deactivations cannot starve the interviewer's run). Path ids and id-shaped
body fields are drawn from the real ones most of the time, so cases reach
the handlers' logic instead of stopping at 404. Any failure fails the run,
and so does schemathesis's "Schema validation mismatch" warning naming any
operation: every rule the server enforces on input is stated in the document,
so data the document allows is never refused wholesale with 400/422.

Usage: fuzz.py --binary target/debug/bar-raiser --schemathesis .venv/bin/schemathesis
"""

from __future__ import annotations

import argparse
import base64
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


def draft_loop(c, tokens: dict[str, str], template: dict) -> dict:
    """A copy of the demo loop's cast, its interviews in the past, ready to
    be scheduled (a draft, as a recruiter leaves it before scheduling)."""
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
    return c.call("GET", f"{API}/loops/{lp['id']}", recruiter)


def debrief_loop(c, tokens: dict[str, str], template: dict) -> dict:
    """A copy of the demo loop's cast, every voter sealed, the debrief open."""
    recruiter = tokens["recruiter@demo.example"]
    lp = draft_loop(c, tokens, template)
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


def example_ids(users: list[dict], body_candidate: str, path_candidate: str) -> dict[str, dict[str, str]]:
    """The ids in the document's examples (another demo run's) -> the same
    people's ids here, and every candidate's -> `body_candidate` in bodies,
    `path_candidate` in paths and queries, for hooks.py."""
    examples = json.loads((Path(__file__).resolve().parents[2] / "src/api/examples.json").read_text())
    people: dict[str, str] = {}
    candidates: set[str] = {examples["Candidate"]["id"]}

    def walk(v):
        if isinstance(v, dict):
            if isinstance(v.get("id"), str) and isinstance(v.get("email"), str):
                people[v["id"]] = v["email"]
            if isinstance(v.get("candidate_id"), str):
                candidates.add(v["candidate_id"])
            if isinstance(v.get("candidate"), dict) and isinstance(v["candidate"].get("id"), str):
                candidates.add(v["candidate"]["id"])
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(examples)
    here = {u["email"]: u["id"] for u in users}
    mapping = {old: here[email] for old, email in people.items() if email in here}
    return {
        "body": {**mapping, **{old: body_candidate for old in candidates}},
        "path": {**mapping, **{old: path_candidate for old in candidates}},
    }


def example_competencies() -> set[str]:
    """The competency ids the document's examples name (the demo's fixed ones)."""
    text = (Path(__file__).resolve().parents[2] / "src/api/examples.json").read_text()
    return set(re.findall(r"00000000-0000-4000-8000-[0-9a-f]{12}", text))


def config_toml(ids: dict[str, list[str]], client_basic: str) -> str:
    """Per-operation dictionaries: real ids most of the time, random ones
    else; and the token endpoint's client credentials (HTTP Basic of a
    real service token) in place of the signed-in person's bearer token,
    which that endpoint rightly refuses as "another scheme"."""
    lines = []
    for name, values in ids.items():
        lines.append(f"[dictionaries.{name}]")
        lines.append("values = " + json.dumps(sorted(set(values))))
        lines.append("")
    path_bindings = [
        (r"^/api/v1/loops/\{id\}(?!/schedule$)", "loop_ids"),
        # The draft loop only here: any edit elsewhere could leave it
        # unschedulable before its turn.
        (r"^/api/v1/loops/\{id\}/schedule$", "schedulable_loop_ids"),
        (r"^/api/v1/interviews/\{id\}(?!/feedback$|/quick-vote$)", "interview_ids"),
        (r"^/api/v1/users/\{id\}", "user_ids"),
        (r"^/api/v1/candidates/\{id\}", "candidate_ids"),
        # Not the ones bodies name: the admin run retires what it edits.
        (r"^/api/v1/competencies/\{id\}", "path_competency_ids"),
    ]
    body_bindings = {
        "body.ratings[*].competency_id": "competency_ids",
        "body.competency_ids[*]": "body_competency_ids",
        "body.required_competency_ids[*]": "body_competency_ids",
        "body.interviewer_id": "user_ids",
        "body.hiring_manager_id": "user_ids",
        "body.bar_raiser_id": "user_ids",
        # A loop's recruiter must be a recruiter or an admin (a rule about
        # the person named, which no schema can state).
        "body.recruiter_id": "recruiter_ids",
        # Candidates no path names: the admin run erases what it deletes.
        "body.candidate_id": "body_candidate_ids",
        "query.candidate_id": "candidate_ids",
        # A cursor is opaque: only one the API issued is valid, which no
        # schema can state; real ones most of the time.
        "query.cursor": "cursors",
    }
    lines.append("[parameters]")
    # A body names several ids at once (a loop: candidate, two people, up
    # to 16 competencies), each real 95% of the time, so that some drawn
    # bodies are wholly valid; random ids are still sent.
    for key, name in body_bindings.items():
        lines.append(f'"{key}" = {{ dictionary = "{name}", probability = 0.95 }}')
    lines.append("")
    for regex, name in path_bindings:
        lines.append("[[operations]]")
        lines.append(f"include-path-regex = {json.dumps(regex)}")
        lines.append(f'parameters = {{ "path.id" = {{ dictionary = "{name}", probability = 0.85 }} }}')
        if name in ("schedulable_loop_ids", "candidate_ids"):
            # No ids read from the run's own responses (schemathesis's
            # default): scheduling would take the incomplete drafts the run
            # creates, refused by rules about the stored loop that no schema
            # of the (empty) request can state; erasing would take the
            # candidates kept for bodies.
            for phase in ("examples", "coverage", "fuzzing"):
                lines.append(f"phases.{phase}.extra-data-sources.responses = false")
        lines.append("")
    # Writing feedback and the quick vote: the signed-in interviewer's own
    # open interview, inside the quick-vote window (the server's is set to
    # its longest, a day), no
    # other operation's (seal, excuse) to close it, and its competencies
    # (only those may be rated, each once: rules about the interview, which
    # no schema can state).
    lines.append("[[operations]]")
    lines.append("include-path-regex = " + json.dumps(r"^/api/v1/interviews/\{id\}/(feedback|quick-vote)$"))
    lines.append(
        'parameters = { "path.id" = { dictionary = "feedback_interview_ids", probability = 0.85 }, '
        '"body.ratings[*].competency_id" = { dictionary = "feedback_competency_ids", probability = 0.8 } }'
    )
    lines.append("")
    lines.append("[[operations]]")
    lines.append('include-path = "/oauth/token"')
    lines.append(f"headers = {{ Authorization = {json.dumps(client_basic)} }}")
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
    hooks = Path(__file__).resolve().parent / "hooks.py"
    proc = subprocess.run(
        cmd,
        timeout=args.time_limit,
        stdin=subprocess.DEVNULL,
        cwd=workdir,
        env={**os.environ, "SCHEMATHESIS_HOOKS": str(hooks), "BAR_RAISER_FUZZ_IDS": str(workdir / "ids.json")},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    )
    print(proc.stdout, flush=True)
    elapsed = time.monotonic() - started
    stats = summarize(report)
    stats["mismatch"] = warned_operations(proc.stdout, "Schema validation mismatch")
    print(
        f"schemathesis as {who}: {stats['operations']} operations, {stats['cases']} cases "
        f"({stats['stateful_cases']} in stateful sequences), {stats['failures']} failures, "
        f"{len(stats['mismatch'])} operations with a schema validation mismatch, "
        f"{elapsed:.0f}s, exit {proc.returncode}",
        flush=True,
    )
    stats["exit"] = proc.returncode
    return stats


def warned_operations(output: str, title: str) -> list[str]:
    """The operations a warning block of schemathesis's output lists:
    `{title}: …` then `  - METHOD /path` lines up to the next blank line."""
    listed: list[str] = []
    inside = False
    for line in output.splitlines():
        if line.startswith(f"{title}:"):
            inside = True
        elif inside and line.startswith("  - "):
            listed.append(line[4:].strip())
        elif inside and listed and not line.strip():
            inside = False
    return listed


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
        # The longest quick-vote window, so the fixtures' interviews (ended
        # hours ago) may still take one.
        env={"BAR_RAISER_QUICK_VOTE_WINDOW_MINUTES": "1440"},
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
        # The interviewer's feedback on the demo loop is written but not
        # sealed, as it would be by now, so that sealing can succeed.
        mine = next(i for i in demo["interviews"] if i["interviewer"]["email"] == "ines@demo.example")
        c.call("PUT", f"{API}/interviews/{mine['id']}/feedback", tokens["ines@demo.example"],
               complete_draft(mine, "inclined_to_hire", "fuzz draft"))
        debrief = debrief_loop(c, tokens, demo)
        # Scheduling needs a complete draft, which random loops never are.
        draft = draft_loop(c, tokens, demo)
        # A loop of its own for writing feedback: scheduled, the
        # interviewer's feedback on it open all run long.
        open_loop = draft_loop(c, tokens, demo)
        c.call("POST", f"{API}/loops/{open_loop['id']}/schedule", tokens["recruiter@demo.example"], {})
        own = [i for i in open_loop["interviews"] if i["interviewer"]["email"] == "ines@demo.example"]
        loops = [demo, debrief]
        competencies = c.call("GET", f"{API}/competencies?include_retired=true", admin)["items"]
        # Active competencies for bodies (those the examples name first);
        # the rest, retired ones included, for the competency paths.
        named = example_competencies()
        active = sorted((x for x in competencies if not x["retired"]), key=lambda x: x["id"] not in named)
        body_competencies = [x["id"] for x in active[: max(8, len(named))]]
        body_candidates = [
            c.call(
                "POST",
                f"{API}/candidates",
                tokens["recruiter@demo.example"],
                {"name": f"Fuzz Body Candidate {n}", "email": f"{unique('fuzz-body')}@candidates.example"},
            )["id"]
            for n in range(2)
        ]
        ids = {
            "loop_ids": [lp["id"] for lp in loops],
            "schedulable_loop_ids": [lp["id"] for lp in [*loops, draft]],
            "interview_ids": [i["id"] for lp in loops for i in lp["interviews"]],
            "user_ids": [u["id"] for u in users if u["email"] != ADMIN_EMAIL],
            "candidate_ids": [lp["candidate"]["id"] for lp in loops],
            "competency_ids": [x["id"] for x in competencies],
            "body_competency_ids": body_competencies,
            "path_competency_ids": [x["id"] for x in competencies if x["id"] not in body_competencies],
            "recruiter_ids": [u["id"] for u in users if u["role"] in ("recruiter", "admin") and u["email"] != ADMIN_EMAIL],
            "body_candidate_ids": body_candidates,
            "feedback_interview_ids": [i["id"] for i in own],
            "feedback_competency_ids": [x["id"] for i in own for x in i["competencies"]],
            "cursors": [
                c.call("GET", f"{API}/{path}?limit={n}", admin)["next_cursor"]
                for path in ("users", "loops", "candidates")
                for n in (1, 2)
            ],
        }
        (workdir / "ids.json").write_text(
            json.dumps(
                {
                    **example_ids(users, body_candidates[0], demo["candidate"]["id"]),
                    "kept_competencies": body_competencies,
                    "spare_competency": ids["path_competency_ids"][0],
                }
            )
        )
        config = workdir / "schemathesis.toml"
        # A service token holding every scope: the token endpoint's client.
        scopes = c.call("GET", "/api-docs/openapi.json")["components"]["schemas"]["Scope"]["enum"]
        client = c.call("POST", f"{API}/tokens", admin, {"name": "fuzz client", "scopes": scopes})
        client_basic = "Basic " + base64.b64encode(f"{client['token']['id']}:{client['secret']}".encode()).decode()
        config.write_text(config_toml(ids, client_basic))
        print(
            f"fixtures: {len(loops) + 2} loops (scheduled, debrief, draft, open for feedback), {len(ids['interview_ids'])} interviews, "
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
        mismatched = sorted({op for r in runs for op in r["mismatch"]})
        ok = (
            all(r["exit"] == 0 and r["failures"] == 0 for r in runs)
            and not mismatched
            and all(r["operations"] == documented for r in runs)
            and total_cases > 0
        )
        print(
            f"schemathesis total: {documented} documented operations, each tested in both runs: "
            f"{all(r['operations'] == documented for r in runs)}; {total_cases} cases, "
            f"{sum(r['failures'] for r in runs)} failures; schema validation mismatch on "
            f"{len(mismatched)} operations{': ' + ', '.join(mismatched) if mismatched else ''}",
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
