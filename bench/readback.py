#!/usr/bin/env python3
"""Reads every acknowledged seal back through another server instance.

bench/readback.py BASE TOKENS DRAFTS ACK_FILE...

BASE is the instance to read through, TOKENS the bench's token file (line
1 the reader's, lines 2.. writer 1..6), DRAFTS the "interview writer comps"
list the seals came from, each ACK_FILE the interview ids one instance
acknowledged. Each interview's feedback is read by its author, who may
always read it: it must answer 200 with state "sealed". Prints
"READBACK checked=N failed=M" and the first failures.
"""

import http.client
import json
import sys
import urllib.parse


def main() -> int:
    base, tokens_file, drafts_file, *acks = sys.argv[1:]
    tokens = [line.strip() for line in open(tokens_file) if line.strip()]
    writer = {}
    for line in open(drafts_file):
        fields = line.split()
        if fields:
            writer[fields[0]] = int(fields[1])
    url = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    checked, failures = 0, []
    for path in acks:
        for interview in (line.strip() for line in open(path)):
            if not interview:
                continue
            checked += 1
            token = tokens[writer[interview]]
            conn.request(
                "GET",
                f"/api/v1/interviews/{interview}/feedback",
                headers={"Authorization": f"Bearer {token}"},
            )
            resp = conn.getresponse()
            body = resp.read()
            state = json.loads(body).get("state") if resp.status == 200 else None
            if state != "sealed":
                failures.append(f"{interview}: {resp.status} {body[:200]!r}")
    print(f"READBACK checked={checked} failed={len(failures)}")
    for f in failures[:10]:
        print(f"  {f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
