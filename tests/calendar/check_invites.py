"""Calendar invitations end to end, read by the `icalendar` package from
PyPI, not by code of ours.

The real server and its notification worker deliver to the SMTP sink
(tests/smtp_sink.py) on loopback. The script runs

1. a loop scheduled (a REQUEST to each of four interviewers),
2. one interview rescheduled (REQUEST, same UID, next SEQUENCE),
3. its interviewer replaced (CANCEL to the old one, REQUEST to the new),
4. the loop cancelled (CANCEL to every interviewer),
5. the candidate erased (nothing sent again),

and, on a second loop scheduled while no worker runs, erases the candidate
before anything is delivered: the queued invitations go out without the
name. Every calendar part of every message must:

- parse with `icalendar.Calendar.from_ical`, one VEVENT, VERSION 2.0, a
  PRODID, METHOD equal to the MIME `method` parameter of its part, the
  `text/calendar` alternative and the `invite.ics` attachment the same;
- have CRLF line ends and no line over 75 octets;
- carry the interview's UID (`interview-<id>@hiring.example.com`), DTSTAMP,
  DTSTART and DTEND in UTC (`...Z`), ORGANIZER (the recruiter) and
  ATTENDEE (the recipient, ROLE=REQ-PARTICIPANT, PARTSTAT=NEEDS-ACTION,
  RSVP=TRUE) as mailto: addresses, STATUS:CANCELLED exactly on CANCEL;
- never carry feedback text.

Per UID, SEQUENCE never falls in delivery order and strictly rises per
UID and attendee.

usage: check_invites.py BINARY WORKDIR
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import socket
import subprocess
import sys
import time
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

import icalendar

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from live import ADMIN_EMAIL, ADMIN_PASSWORD, Server, complete_draft, unique  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "a long test passphrase for calendars"
HOST = "hiring.example.com"
CANDIDATE = "Casey Calendar"
QUEUED_CANDIDATE = "Quinn Queued"
POSITION = "Staff Engineer"
# Written into feedback (a draft and a sealed one): must never reach mail.
FEEDBACK_MARKERS = ["zebra-evidence-7731", "Summary: calendar-feedback"]
UTC_LINE = re.compile(r"^(DTSTAMP|DTSTART|DTEND):\d{8}T\d{6}Z$")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sink:
    """tests/smtp_sink.py in a child process."""

    def __init__(self, workdir: Path):
        self.dir = workdir / "smtp"
        self.dir.mkdir()
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "smtp_sink.py"), "--port", str(self.port), "--dir", str(self.dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout.readline().strip() == "ready"

    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def mails(self) -> list[dict]:
        return [json.loads(p.read_text()) for p in sorted(self.dir.glob("*.json"))]

    def until(self, what: str, done, timeout: float = 120.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.mails()
            if done(got):
                return got
            time.sleep(0.2)
        raise AssertionError(f"never got {what}: {[m['subject'] for m in self.mails()]}")

    def stop(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def calendar_parts(mail: dict) -> list[tuple[str, str, bytes]]:
    """(content type, method parameter, bytes) of each calendar part."""
    msg = email.message_from_string(mail["raw"], policy=email.policy.default)
    out = []
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype in ("text/calendar", "application/ics"):
            out.append((ctype, part.get_param("method") or "", part.get_payload(decode=True)))
            if ctype == "application/ics":
                assert part.get_filename() == "invite.ics", part.get_filename()
                assert part.get_content_disposition() == "attachment", part
    if out:
        top = msg.get_content_type()
        assert top == "multipart/mixed", top
        alternative = [p for p in msg.walk() if p.get_content_type() == "multipart/alternative"]
        assert len(alternative) == 1, mail["raw"]
        inner = [p.get_content_type() for p in alternative[0].iter_parts()]
        assert inner == ["text/plain", "text/html", "text/calendar"], inner
    return out


def address(prop) -> str:
    value = str(prop)
    assert value.lower().startswith("mailto:"), value
    return value[len("mailto:"):]


def check_invite(mail: dict) -> dict:
    """The one invitation of `mail`, checked; its facts."""
    parts = calendar_parts(mail)
    assert [p[0] for p in parts] == ["text/calendar", "application/ics"], parts
    (_, method, data), (_, attached_method, attached) = parts
    assert data == attached, "the attachment differs from the alternative"
    assert method in ("REQUEST", "CANCEL") and attached_method == method, parts
    text = data.decode("utf-8")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", ""), repr(text)
    for line in text.split("\r\n"):
        assert len(line.encode()) <= 75, f"{len(line.encode())} octets: {line}"
    unfolded = text.replace("\r\n ", "").split("\r\n")
    for line in unfolded:
        if line.split(":", 1)[0] in ("DTSTAMP", "DTSTART", "DTEND"):
            assert UTC_LINE.match(line), line

    cal = icalendar.Calendar.from_ical(data)
    assert str(cal["VERSION"]) == "2.0" and str(cal["PRODID"]), cal
    assert str(cal["METHOD"]) == method, (cal["METHOD"], method)
    events = cal.walk("VEVENT")
    assert len(events) == 1, events
    ev = events[0]
    uid = str(ev["UID"])
    assert re.fullmatch(rf"interview-[0-9a-f-]{{36}}@{re.escape(HOST)}", uid), uid
    seq = int(ev["SEQUENCE"])
    stamp, start, end = (ev.decoded(k) for k in ("DTSTAMP", "DTSTART", "DTEND"))
    for t in (stamp, start, end):
        assert t.tzinfo is not None and t.utcoffset() == timedelta(0), t
    assert end > start, (start, end)
    attendee = ev["ATTENDEE"]
    assert not isinstance(attendee, list), attendee
    assert address(attendee) == mail["rcpt_tos"][0], (attendee, mail["rcpt_tos"])
    params = attendee.params
    assert params.get("ROLE") == "REQ-PARTICIPANT", params
    assert params.get("PARTSTAT") == "NEEDS-ACTION", params
    assert params.get("RSVP") == "TRUE", params
    status = str(ev.get("STATUS", ""))
    assert (status == "CANCELLED") == (method == "CANCEL"), (method, status)
    return {
        "method": method,
        "uid": uid,
        "sequence": seq,
        "start": start,
        "end": end,
        "stamp": stamp,
        "summary": str(ev["SUMMARY"]),
        "description": str(ev.get("DESCRIPTION", "")),
        "to": mail["rcpt_tos"][0],
        "organizer": address(ev["ORGANIZER"]),
        "raw": mail["raw"] + text,
    }


def person(c, admin, name, role="member", certified=False):
    email_ = f"{unique(name.lower())}@example.com"
    user = c.call("POST", "/api/v1/users", admin, {"email": email_, "name": name, "password": PASSWORD, "role": role, "bar_raiser_certified": certified})
    return {"id": user["id"], "email": email_, "token": c.login(email_, PASSWORD)}


def at(hours: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def a_loop(c, admin, candidate_name: str):
    recruiter = person(c, admin, "Rec", "recruiter")
    manager = person(c, admin, "Man")
    raiser = person(c, admin, "Bar", certified=True)
    panel = [person(c, admin, f"Int{n}") for n in range(3)]
    comps = [x["id"] for x in c.call("GET", "/api/v1/competencies", recruiter["token"])["items"]][:2]
    cand = c.call("POST", "/api/v1/candidates", recruiter["token"], {"name": candidate_name, "email": f"{unique('cand')}@example.com"})
    lp = c.call("POST", "/api/v1/loops", recruiter["token"], {
        "candidate_id": cand["id"], "position": POSITION, "level": "L6",
        "hiring_manager_id": manager["id"], "bar_raiser_id": raiser["id"], "required_competency_ids": comps})
    interviews = {}
    # The last interview started an hour ago, so its feedback can be sealed.
    for k, (who, hours) in enumerate([(raiser, 24), (panel[0], 25), (panel[1], 26), (panel[2], -1)]):
        i = c.call("POST", f"/api/v1/loops/{lp['id']}/interviews", recruiter["token"], {
            "interviewer_id": who["id"], "competency_ids": comps,
            "starts_at": at(hours), "duration_minutes": 60, "loop_role": "interviewer"})
        interviews[who["email"]] = i
    c.call("POST", f"/api/v1/loops/{lp['id']}/schedule", recruiter["token"], {})
    return {"recruiter": recruiter, "manager": manager, "raiser": raiser, "panel": panel,
            "candidate": cand, "loop": lp, "interviews": interviews, "comps": comps}


def invites_in(mails: list[dict], uids: set[str], recruiter_email: str) -> list[dict]:
    out = []
    for m in mails:
        if calendar_parts(m):
            inv = check_invite(m)
            if inv["uid"] in uids:
                assert inv["organizer"] == recruiter_email, inv
                out.append(inv)
    return out


def uid_of(interview: dict) -> str:
    return f"interview-{interview['id']}@{HOST}"


def check_sequences(invites: list[dict]) -> None:
    per_uid: dict[str, int] = {}
    per_attendee: dict[tuple[str, str], int] = {}
    for inv in invites:
        key = (inv["uid"], inv["to"])
        assert inv["sequence"] >= per_uid.get(inv["uid"], -1), inv
        assert inv["sequence"] > per_attendee.get(key, -1), inv
        per_uid[inv["uid"]] = inv["sequence"]
        per_attendee[key] = inv["sequence"]


def scenario(c, sink: Sink) -> None:
    admin = c.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    w = a_loop(c, admin, CANDIDATE)
    rec, lp = w["recruiter"], w["loop"]
    uids = {uid_of(i) for i in w["interviews"].values()}

    def invites(n: int) -> list[dict]:
        sink.until(f"{n} invitations", lambda ms: len(invites_in(ms, uids, rec["email"])) >= n)
        got = invites_in(sink.mails(), uids, rec["email"])
        assert len(got) == n, [(i["method"], i["to"], i["sequence"]) for i in got]
        return got

    # 1. Scheduled: a REQUEST to each of the four, SEQUENCE 0.
    got = invites(4)
    assert {(i["method"], i["sequence"]) for i in got} == {("REQUEST", 0)}, got
    assert {i["to"] for i in got} == set(w["interviews"]), got
    for i in got:
        assert i["uid"] == uid_of(w["interviews"][i["to"]]), i
        assert CANDIDATE in i["summary"] and POSITION in i["summary"], i["summary"]

    # Feedback written meanwhile: a draft, and a sealed one.
    drafted, sealed = w["panel"][1], w["panel"][2]
    for who in (drafted, sealed):
        i = w["interviews"][who["email"]]
        body = complete_draft(i, "inclined_to_hire", "calendar-feedback")
        body["ratings"][0]["evidence"] += " " + FEEDBACK_MARKERS[0]
        c.call("PUT", f"/api/v1/interviews/{i['id']}/feedback", who["token"], body)
    c.call("POST", f"/api/v1/interviews/{w['interviews'][sealed['email']]['id']}/feedback/seal", sealed["token"], {})

    # 2. Rescheduled: same UID, SEQUENCE 1, the new time in UTC.
    moved = w["panel"][0]
    mi = w["interviews"][moved["email"]]
    new_start = (datetime.now(timezone.utc) + timedelta(days=3)).replace(microsecond=0)
    c.call("PATCH", f"/api/v1/interviews/{mi['id']}", rec["token"], {
        "starts_at": new_start.astimezone(timezone(timedelta(hours=-5))).isoformat(), "duration_minutes": 45})
    got = invites(5)
    last = got[-1]
    assert (last["method"], last["uid"], last["sequence"], last["to"]) == ("REQUEST", uid_of(mi), 1, moved["email"]), last
    assert last["start"] == new_start and last["end"] - last["start"] == timedelta(minutes=45), last

    # 3. Another interviewer: CANCEL to the old one, REQUEST to the new one.
    spare = person(c, admin, "Spare")
    c.call("PATCH", f"/api/v1/interviews/{mi['id']}", rec["token"], {"interviewer_id": spare["id"]})
    got = invites(7)
    pair = {i["to"]: i for i in got[5:]}
    assert set(pair) == {moved["email"], spare["email"]}, pair
    gone, came = pair[moved["email"]], pair[spare["email"]]
    assert (gone["method"], gone["uid"], gone["sequence"]) == ("CANCEL", uid_of(mi), 2), gone
    assert (came["method"], came["uid"], came["sequence"]) == ("REQUEST", uid_of(mi), 2), came
    assert came["start"] == new_start, came

    # 4. The loop cancelled: a CANCEL to each of the four interviewers now.
    c.call("POST", f"/api/v1/loops/{lp['id']}/cancel", rec["token"], {"reason": "Position closed"})
    got = invites(11)
    cancels = {i["to"]: i for i in got[7:]}
    assert set(cancels) == {w["raiser"]["email"], drafted["email"], sealed["email"], spare["email"]}, cancels
    for who, inv in cancels.items():
        assert inv["method"] == "CANCEL", inv
        assert inv["sequence"] == (3 if who == spare["email"] else 1), inv
    check_sequences(got)
    manager_mail = sink.until("the hiring manager's notice", lambda ms: any(
        m["rcpt_tos"] == [w["manager"]["email"]] and m["subject"].startswith("Loop cancelled") for m in ms))
    for m in manager_mail:
        if m["rcpt_tos"] == [w["manager"]["email"]]:
            assert not calendar_parts(m), "the hiring manager is no attendee"

    # 5. Erased: nothing about the candidate is sent again. A notice queued
    # after the erasure (an operator's password change) marks the point by
    # which anything the erasure queued would have arrived.
    before = len(sink.mails())
    c.call("DELETE", f"/api/v1/candidates/{w['candidate']['id']}", rec["token"])
    c.call("PATCH", f"/api/v1/users/{w['manager']['id']}", admin, {"password": PASSWORD + " renewed"})
    after = sink.until("the mark after the erasure", lambda ms: any(
        m["rcpt_tos"] == [w["manager"]["email"]] and "administrator" in m["subject"] for m in ms[before:]))
    assert all(not calendar_parts(m) for m in after[before:]), [m["subject"] for m in after[before:]]
    assert all(CANDIDATE not in m["raw"] for m in after[before:]), "the name was sent after erasure"

    for m in sink.mails():
        for marker in FEEDBACK_MARKERS:
            for part in calendar_parts(m):
                assert marker.encode() not in part[2], (marker, m["subject"])
            assert marker not in m["raw"], (marker, m["subject"])
    print(f"{len(got)} invitations (4 scheduled, 1 rescheduled, 1 cancelled + 1 new on a new interviewer, "
          f"4 cancelled with the loop): parsed by icalendar {icalendar.__version__}, UIDs stable, "
          "SEQUENCE rising, METHOD as the MIME method, no feedback, nothing sent after erasure")


def queued_then_erased(server: Server, sink: Sink) -> None:
    """Invitations queued while no worker runs, then the candidate erased:
    they go out naming the tombstone."""
    server.terminate()
    server.env["BAR_RAISER_NO_WORKER"] = "true"
    server.start()
    c = server.client()
    admin = c.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    w = a_loop(c, admin, QUEUED_CANDIDATE)
    c.call("DELETE", f"/api/v1/candidates/{w['candidate']['id']}", w["recruiter"]["token"])
    server.terminate()
    server.env["BAR_RAISER_NO_WORKER"] = "false"
    server.start()
    uids = {uid_of(i) for i in w["interviews"].values()}
    rec = w["recruiter"]["email"]
    sink.until("the queued invitations", lambda ms: len(invites_in(ms, uids, rec)) >= 4)
    got = invites_in(sink.mails(), uids, rec)
    assert len(got) == 4, got
    for inv in got:
        assert QUEUED_CANDIDATE.split()[0] not in inv["raw"], inv["raw"]
        assert "Erased candidate" in inv["summary"], inv["summary"]
    print("4 invitations queued before the candidate was erased went out naming the tombstone only")


def main() -> int:
    binary, workdir = sys.argv[1], Path(sys.argv[2])
    workdir.mkdir(parents=True, exist_ok=True)
    sink = Sink(workdir)
    server = Server(binary, f"sqlite://{workdir}/calendar.db", workdir, env={
        "BAR_RAISER_NO_WORKER": "false",
        "BAR_RAISER_SMTP_URL": sink.url(),
        "BAR_RAISER_PUBLIC_URL": f"https://{HOST}",
        "BAR_RAISER_MAIL_FROM": f"Bar Raiser <noreply@{HOST}>",
        "BAR_RAISER_WORKER_POLL_INTERVAL": "1s",
        "BAR_RAISER_MAIL_RETRY_BASE": "1s",
    }).start()
    try:
        scenario(server.client(), sink)
        queued_then_erased(server, sink)
    finally:
        if server.proc and server.proc.poll() is None:
            server.terminate()
        sink.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
