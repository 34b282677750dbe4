"""Schemathesis hooks for tests/fuzz/fuzz.py (loaded through SCHEMATHESIS_HOOKS).

Two request headers carry a rule about other requests, which no schema can
state, and schemathesis draws the same few values for them every time:

- a well-formed `Idempotency-Key` is made unique per request, as a client
  makes it: the server rightly answers a key reused for another request with
  422 `idempotency_key_reused` (replays and reuse: tests/api/idempotency.rs);
- a drawn `If-Match` becomes `*` ("any version"): the server rightly answers
  a version other than the current one with 412 `precondition_failed`
  (tests/api/preconditions.rs).

Malformed values (negative cases) are sent as drawn, so their 400s are still
fuzzed.

And the ids in the document's examples (src/api/examples.json, taken from
another demo run) are replaced by the same people's and candidate's ids in
this run's database (the maps fuzz.py writes to $BAR_RAISER_FUZZ_IDS), so the
examples and the cases built on them reach the handlers' logic instead of
422 "no such user"; random ids are sent as drawn. A candidate in a body
becomes one that no path names (so never one the admin run erased), in a
path the demo's candidate. Likewise the competencies that bodies name are
never retired: a retirement aimed at one of them (an example's id, or an
id a stateful sequence read from a list) goes to another competency.

The token endpoint (`POST /oauth/token`) is called with a real service
token's HTTP Basic credentials (fuzz.py sets them for that operation); a
`client_id` or `client_secret` drawn into the form beside them is dropped,
since two ways of authenticating at once is OAuth's `invalid_request`
(RFC 6749 §2.3), a rule about the header and the form together that no
schema of the form can state. Credentials in the form are tested in
tests/api/oauth.rs.
"""

import json
import os
import re
import uuid

import schemathesis

_PRINTABLE = re.compile(r"^[\x20-\x7E]+$")
_IDS: dict = {"body": {}, "path": {}, "kept_competencies": [], "spare_competency": None}
if os.environ.get("BAR_RAISER_FUZZ_IDS"):
    with open(os.environ["BAR_RAISER_FUZZ_IDS"]) as f:
        _IDS = json.load(f)


def _translate(value, ids: dict[str, str]):
    if isinstance(value, str):
        return ids.get(value, value)
    if isinstance(value, list):
        return [_translate(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _translate(v, ids) for k, v in value.items()}
    return value


@schemathesis.hook
def before_call(context, case, **kwargs):
    if case.operation.path == "/oauth/token" and isinstance(case.body, dict):
        case.body = {k: v for k, v in case.body.items() if k not in ("client_id", "client_secret")}
    if isinstance(case.body, (dict, list)):
        case.body = _translate(case.body, _IDS["body"])
    if case.path_parameters:
        case.path_parameters = _translate(case.path_parameters, _IDS["path"])
    if case.query:
        case.query = _translate(case.query, _IDS["path"])
    if (
        case.operation.path == "/api/v1/competencies/{id}"
        and case.operation.method.upper() == "PATCH"
        and isinstance(case.path_parameters, dict)
        and case.path_parameters.get("id") in _IDS["kept_competencies"]
        and _IDS["spare_competency"]
    ):
        case.path_parameters = {**case.path_parameters, "id": _IDS["spare_competency"]}
    headers = case.headers
    if not headers:
        return
    for name, value in list(headers.items()):
        if not isinstance(value, str) or not _PRINTABLE.match(value):
            continue
        if name.lower() == "idempotency-key" and len(value) <= 255:
            headers[name] = f"{value[:222]}-{uuid.uuid4().hex}"
        elif name.lower() == "if-match":
            headers[name] = "*"
