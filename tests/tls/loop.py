"""A loop's worth of API calls against a server whose database is reached
over TLS (tests/tls/run.sh gives the verify-full URL).

Starts `bar-raiser serve` on 127.0.0.1 (readiness must pass), builds the
cast and one scheduled loop through the API, has every interviewer draft
and seal feedback, and reads the loop and each sealed feedback back.
Standard library only; nothing but 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.dont_write_bytecode = True
here = Path(__file__).resolve().parent
sys.path.insert(0, str(here.parent / "support"))
sys.path.insert(0, str(here.parent / "crash"))
from crash import API, build_loop, setup  # noqa: E402
from live import Server, complete_draft  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--workdir", required=True)
    args = ap.parse_args()

    work = Path(args.workdir) / "loop"
    work.mkdir(parents=True, exist_ok=True)
    server = Server(args.binary, args.database_url, work).start()
    calls = 0
    try:
        c = server.client()
        cast, comps = setup(server)
        interviewers = [k for k in cast.users if k.startswith("interviewer-")][:4]
        lp = build_loop(c, cast, "recruiter-a", interviewers, comps)
        by_id = {u["id"]: key for key, u in cast.users.items()}
        sealed = {}
        for i in lp["interviews"]:
            token = cast.tokens[by_id[i["interviewer"]["id"]]]
            c.call("PUT", f"{API}/interviews/{i['id']}/feedback", token, complete_draft(i, "inclined_to_hire", "tls"))
            fb = c.call("POST", f"{API}/interviews/{i['id']}/feedback/seal", token, {})
            sealed[i["id"]] = (token, fb["content_sha256"])
            calls += 2
        for iid, (token, sha) in sealed.items():
            fb = c.call("GET", f"{API}/interviews/{iid}/feedback", token)
            assert fb["content_sha256"] == sha, (iid, fb)
            calls += 1
        again = c.call("GET", f"{API}/loops/{lp['id']}", cast.tokens["recruiter-a"])
        assert len(again["interviews"]) == len(lp["interviews"])
        assert c.status("GET", "/readyz") == 200
        print(f"loop {lp['id']}: {len(sealed)} feedback sealed and read back, {calls}+ API calls over TLS")
    finally:
        code = server.terminate()
    if code != 0:
        print(f"server exited with {code}:\n{server.log_tail()}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
