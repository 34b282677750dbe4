"""Runs scim2-tester against a live bar-raiser and fails on any error.

Signs in as the admin, creates a service token with the `scim` scope, and
points scim2-tester's client at /scim/v2 with it. Every check is printed;
the exit status is 1 when any check errored.
"""

import argparse
import json
import sys
import urllib.request

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server


def call(method, url, body=None, token=None):
    req = urllib.request.Request(url, method=method)
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(req, data=data, timeout=30) as resp:
        return json.loads(resp.read() or b"null")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base-url", required=True)
    p.add_argument("--admin-email", required=True)
    p.add_argument("--admin-password", required=True)
    a = p.parse_args()
    session = call(
        "POST",
        f"{a.base_url}/api/v1/auth/login",
        {"email": a.admin_email, "password": a.admin_password},
    )
    token = call(
        "POST",
        f"{a.base_url}/api/v1/tokens",
        {"name": "scim2-tester", "scopes": ["scim"]},
        session["access_token"],
    )
    http = Client(
        base_url=f"{a.base_url}/scim/v2",
        headers={"Authorization": f"Bearer {token['secret']}"},
        timeout=30,
    )
    scim = SyncSCIMClient(http)
    results = check_server(scim)
    counts = {}
    for r in results:
        counts[r.status.name] = counts.get(r.status.name, 0) + 1
        where = f"[{r.resource_type}] " if getattr(r, "resource_type", None) else ""
        print(f"{r.status.name:8} {where}{r.title}: {r.reason or ''}".rstrip())
    print("summary:", ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    errors = [r for r in results if r.status == Status.ERROR]
    if not results or errors:
        print(f"{len(errors)} SCIM conformance check(s) failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
