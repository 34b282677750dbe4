"""An HR tool written against the generated Python client only.

Drives one loop from the first sign-in to the scorecard export, the way an
integration would: an admin creates the people, a recruiter the candidate
and the loop, each interviewer seals feedback, the Bar Raiser opens the
debrief, the hiring manager decides to hire and the Bar Raiser vetoes; then
the recruiter reads the export, and an integration reads it again with an
OAuth 2.0 client-credentials token obtained for a service token. Any
unexpected answer stops it with the problem's code.

    python hr_tool.py --base-url http://127.0.0.1:8080 \
        --admin-email admin@example.com --admin-password '...'

tests/clients/run.sh generates the client, starts a server and runs this.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import uuid
from http import HTTPStatus
from typing import TypeVar

from bar_raiser_client import AuthenticatedClient, Client
from bar_raiser_client.api.auth import login, oauth_token
from bar_raiser_client.api.candidates import create_candidate
from bar_raiser_client.api.competencies import list_competencies
from bar_raiser_client.api.debrief import open_debrief, record_decision, veto_hire
from bar_raiser_client.api.export import list_scorecards
from bar_raiser_client.api.feedback import save_feedback_draft, seal_feedback
from bar_raiser_client.api.interviews import create_interview, list_my_interviews
from bar_raiser_client.api.loops import create_loop, schedule_loop
from bar_raiser_client.api.tokens import create_token
from bar_raiser_client.api.users import create_user, get_me
from bar_raiser_client.models import (
    AccountRole,
    CreateCandidate,
    CreateInterview,
    CreateLoop,
    CreateToken,
    CreateUser,
    DecisionInput,
    DraftFeedback,
    GrantType,
    InterviewRole,
    LoginRequest,
    Loop,
    LoopState,
    Outcome,
    Problem,
    RatingInput,
    ScorecardRating,
    Scope,
    TokenForm,
    Vote,
    VetoInput,
)
from bar_raiser_client.types import Response

T = TypeVar("T")
PASSWORD = "a long and unguessable passphrase"


class Failed(Exception):
    pass


def expect(resp: Response[T | Problem], status: HTTPStatus, what: str) -> T:
    """The parsed body of an answer with `status`, or a clear failure."""
    if resp.status_code != status or isinstance(resp.parsed, Problem) or resp.parsed is None:
        detail = resp.parsed.code if isinstance(resp.parsed, Problem) else resp.content[:300]
        raise Failed(f"{what}: expected {status.value}, got {resp.status_code.value} ({detail})")
    print(f"ok  {what}")
    return resp.parsed


def sign_in(base_url: str, email: str, password: str) -> AuthenticatedClient:
    anon = Client(base_url=base_url, raise_on_unexpected_status=True)
    pair = expect(
        login.sync_detailed(client=anon, body=LoginRequest(email=email, password=password)),
        HTTPStatus.OK,
        f"sign in as {email}",
    )
    return AuthenticatedClient(base_url=base_url, token=pair.access_token, raise_on_unexpected_status=True)


def run(base_url: str, admin_email: str, admin_password: str) -> None:
    tag = uuid.uuid4().hex[:8]
    admin = sign_in(base_url, admin_email, admin_password)

    def person(name: str, role: AccountRole, certified: bool = False) -> tuple[str, uuid.UUID]:
        email = f"{name.lower().replace(' ', '.')}.{tag}@example.com"
        user = expect(
            create_user.sync_detailed(
                client=admin,
                body=CreateUser(
                    email=email, name=name, password=PASSWORD, role=role, bar_raiser_certified=certified
                ),
                idempotency_key=f"user-{email}",
            ),
            HTTPStatus.CREATED,
            f"create {role.value} {name}",
        )
        return email, user.id

    recruiter_email, _ = person("Rae Recruiter", AccountRole.RECRUITER)
    manager_email, manager_id = person("Hana Manager", AccountRole.MEMBER)
    raiser_email, raiser_id = person("Bo Raiser", AccountRole.MEMBER, certified=True)
    interviewers = [person(n, AccountRole.MEMBER) for n in ("Ivy One", "Ian Two", "Ida Three")]

    recruiter = sign_in(base_url, recruiter_email, PASSWORD)
    new_candidate = CreateCandidate(
        name="Casey Candidate", email=f"casey.{tag}@candidates.example", links=["https://example.com/cv"]
    )
    key = f"candidate-{tag}"
    candidate = expect(
        create_candidate.sync_detailed(client=recruiter, body=new_candidate, idempotency_key=key),
        HTTPStatus.CREATED,
        "create the candidate",
    )
    # A retry with the same Idempotency-Key answers the first response.
    retried = create_candidate.sync_detailed(client=recruiter, body=new_candidate, idempotency_key=key)
    again = expect(retried, HTTPStatus.CREATED, "retry creating the candidate")
    if again.id != candidate.id or retried.headers.get("idempotent-replayed") != "true":
        raise Failed("the retry created a second candidate")

    catalogue = expect(list_competencies.sync_detailed(client=recruiter), HTTPStatus.OK, "read the catalogue")
    comps = [c.id for c in catalogue.items[:3]]
    loop = expect(
        create_loop.sync_detailed(
            client=recruiter,
            body=CreateLoop(
                candidate_id=candidate.id,
                position="Senior Engineer",
                level="L6",
                hiring_manager_id=manager_id,
                bar_raiser_id=raiser_id,
                required_competency_ids=comps,
            ),
        ),
        HTTPStatus.CREATED,
        "create the loop",
    )
    # Interviews that already happened, so feedback can be sealed now.
    now = dt.datetime.now(dt.timezone.utc)
    plan = [
        (raiser_id, [comps[0], comps[1]], 6),
        (interviewers[0][1], [comps[2]], 5),
        (interviewers[1][1], [comps[0]], 4),
        (interviewers[2][1], [comps[1], comps[2]], 3),
    ]
    for who, assigned, hours_ago in plan:
        expect(
            create_interview.sync_detailed(
                id=loop.id,
                client=recruiter,
                body=CreateInterview(
                    interviewer_id=who,
                    competency_ids=assigned,
                    starts_at=now - dt.timedelta(hours=hours_ago),
                    duration_minutes=60,
                    loop_role=InterviewRole.INTERVIEWER,
                ),
            ),
            HTTPStatus.CREATED,
            "add an interview",
        )
    scheduled = expect(
        schedule_loop.sync_detailed(id=loop.id, client=recruiter), HTTPStatus.OK, "schedule the loop"
    )
    assert scheduled.state == LoopState.SCHEDULED

    votes = [Vote.STRONG_HIRE, Vote.INCLINED_TO_HIRE, Vote.INCLINED_NOT_TO_HIRE, Vote.STRONG_HIRE]
    voters = [raiser_email] + [email for email, _ in interviewers]
    for email, vote in zip(voters, votes):
        me = sign_in(base_url, email, PASSWORD)
        mine = expect(list_my_interviews.sync_detailed(client=me), HTTPStatus.OK, f"{email}: my interviews")
        interview = next(i.interview for i in mine.items if i.loop_id == loop.id)
        draft = DraftFeedback(
            ratings=[
                RatingInput(
                    competency_id=c.id,
                    rating=3,
                    evidence=(
                        f"On {c.name}: described a concrete situation, the actions they took personally, "
                        "the trade-offs they weighed and the measurable result."
                    ),
                )
                for c in interview.competencies
            ],
            vote=vote,
            summary=f"Summary by {email}.",
        )
        expect(
            save_feedback_draft.sync_detailed(id=interview.id, client=me, body=draft),
            HTTPStatus.OK,
            f"{email}: save the draft",
        )
        sealed = expect(
            seal_feedback.sync_detailed(id=interview.id, client=me, idempotency_key=f"seal-{interview.id}"),
            HTTPStatus.OK,
            f"{email}: seal",
        )
        assert sealed.content_sha256, "a sealed feedback has its receipt"

    raiser = sign_in(base_url, raiser_email, PASSWORD)
    opened = expect(open_debrief.sync_detailed(id=loop.id, client=raiser), HTTPStatus.OK, "open the debrief")
    assert opened.state == LoopState.DEBRIEF
    manager = sign_in(base_url, manager_email, PASSWORD)
    pending = expect(
        record_decision.sync_detailed(
            id=loop.id,
            client=manager,
            body=DecisionInput(outcome=Outcome.HIRE, rationale="Strong delivery and ownership.", recycle=True),
        ),
        HTTPStatus.OK,
        "the hiring manager decides to hire",
    )
    assert pending.state == LoopState.PENDING_BAR_RAISER
    vetoed: Loop = expect(
        veto_hire.sync_detailed(
            id=loop.id,
            client=raiser,
            body=VetoInput(
                rationale="Below the bar on Dive Deep in two of four interviews; this hire would lower the bar."
            ),
        ),
        HTTPStatus.OK,
        "the Bar Raiser vetoes",
    )
    assert vetoed.state == LoopState.DECIDED
    assert vetoed.decision and vetoed.decision.vetoed and vetoed.decision.final_outcome == Outcome.NO_HIRE

    # The export, page by page, as an ATS sync would read it.
    cards = []
    cursor = None
    while True:
        kwargs = {"cursor": cursor} if cursor else {}
        page = expect(
            list_scorecards.sync_detailed(client=recruiter, limit=3, **kwargs),
            HTTPStatus.OK,
            "read a page of scorecards",
        )
        cards.extend(page.items)
        if not isinstance(page.next_cursor, str):
            break
        cursor = page.next_cursor
    mine = [c for c in cards if c.application_id == loop.id]
    if len(mine) != len(voters):
        raise Failed(f"expected {len(voters)} scorecards, got {len(mine)}")
    by_interviewer = {c.interviewer.id: c for c in mine}
    br = by_interviewer[raiser_id]
    assert br.overall_recommendation == ScorecardRating.STRONG_YES
    assert br.interviewer.first_name == "Bo" and br.interviewer.last_name == "Raiser"
    assert [a.rating for a in br.attributes] == [ScorecardRating.YES, ScorecardRating.YES]
    assert br.questions[0].question == "Summary" and br.questions[0].answer == f"Summary by {raiser_email}."
    assert by_interviewer[interviewers[1][1]].overall_recommendation == ScorecardRating.NO
    # Nothing changed since the newest updated_at: an incremental sync is empty.
    newest = max(c.updated_at for c in mine)
    later = expect(
        list_scorecards.sync_detailed(client=recruiter, updated_after=newest),
        HTTPStatus.OK,
        "sync again from the newest updated_at",
    )
    if any(c.application_id == loop.id for c in later.items):
        raise Failed("an unchanged scorecard came back in an incremental sync")
    # An integration platform: a service token as an OAuth 2.0 client, its
    # access token from the client-credentials grant, narrowed to one scope.
    minted = expect(
        create_token.sync_detailed(
            client=admin,
            body=CreateToken(name=f"iPaaS {tag}", scopes=[Scope("feedback:read"), Scope("loops:read")]),
            idempotency_key=f"token-{tag}",
        ),
        HTTPStatus.CREATED,
        "mint a service token",
    )
    anon = Client(base_url=base_url, raise_on_unexpected_status=True)
    granted = expect(
        oauth_token.sync_detailed(
            client=anon,
            body=TokenForm(
                grant_type=GrantType.CLIENT_CREDENTIALS,
                client_id=str(minted.token.id),
                client_secret=minted.secret,
                scope="feedback:read",
            ),
        ),
        HTTPStatus.OK,
        "exchange it for an access token (client credentials)",
    )
    if granted.token_type != "Bearer" or granted.scope != "feedback:read" or granted.expires_in <= 0:
        raise Failed(f"unexpected token answer: {granted}")
    platform = AuthenticatedClient(base_url=base_url, token=granted.access_token, raise_on_unexpected_status=True)
    synced = expect(
        list_scorecards.sync_detailed(client=platform, limit=200),
        HTTPStatus.OK,
        "read the export with the client's access token",
    )
    if sorted(str(c.id) for c in synced.items if c.application_id == loop.id) != sorted(str(c.id) for c in mine):
        raise Failed("the client's access token read another export than the recruiter")
    me = expect(get_me.sync_detailed(client=recruiter), HTTPStatus.OK, "read my account")
    print(f"hr_tool: {len(mine)} scorecards exported for loop {loop.id} by {me.email}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--admin-email", required=True)
    parser.add_argument("--admin-password", required=True)
    args = parser.parse_args()
    try:
        run(args.base_url.rstrip("/"), args.admin_email, args.admin_password)
    except (Failed, AssertionError) as e:
        print(f"hr_tool FAILED: {e!r}", file=sys.stderr)
        return 1
    print("hr_tool passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
