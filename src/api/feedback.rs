//! Structured feedback: the HTTP side of [`crate::workflows::feedback`].

use super::responses::{Forbidden, NotFound, Unauthenticated, Unprocessable, located};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use uuid::Uuid;

use super::idempotency::ReplayPolicy;
use super::preconditions::tagged;
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::error::{AppResult, Problem};
use crate::workflows::feedback::{
    self as flow, Addendum, AddendumInput, BreakGlassInput, DraftFeedback, Feedback, LoopFeedback,
    QuickVote, QuickVoteInput, ReasonInput,
};
use crate::workflows::views;

/// Read one feedback.
///
/// Its author always may; others only as the independence rules allow, and
/// every such read is logged.
#[utoipa::path(
    tag = "feedback",
    operation_id = "get_feedback",
    params(("id" = Uuid, Path, description = "Interview id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Feedback, headers(("ETag" = String, description = "Version for If-Match"))),
        Unauthenticated,
        (status = 403, description = "`seal_own_feedback_first`, `joined_after_first_seal` (put on the loop after its first seal: content opens at the debrief), `not_a_participant`, `not_until_debrief`, `feedback_not_sealed`, `break_glass_required`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such interview, one of a loop the caller takes no part in, or no feedback written yet (to its author)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`feedback_integrity_failed`: the stored content no longer matches the receipt its seal recorded; withheld", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/interviews/{id}/feedback")]
pub async fn get(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    Ok(tagged(flow::get(&state, &me, id.into_inner()).await?))
}

/// Save a draft (the interviewer only).
///
/// Replaces the whole draft; saving the same content again changes nothing.
/// Send `If-Match` with the ETag you read to refuse overwriting a newer version
/// (412).
#[utoipa::path(
    tag = "feedback",
    operation_id = "save_feedback_draft",
    params(
        ("id" = Uuid, Path, description = "Interview id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version being replaced"),
    ),
    request_body = DraftFeedback,
    security(("bearer" = [])),
    responses(
        (status = 200, body = Feedback, headers(("ETag" = String))),
        Unauthenticated,
        Forbidden,
        NotFound,
        (status = 409, description = "Sealed, frozen by the debrief, or the loop is not scheduled", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match names an older version", body = Problem, content_type = "application/problem+json"),
        Unprocessable,
    )
)]
#[put("/interviews/{id}/feedback")]
pub async fn save_draft(
    state: web::Data<AppState>,
    me: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Json<DraftFeedback>,
) -> AppResult<HttpResponse> {
    // Only the first value counts; one that is not text matches nothing.
    let if_match = req
        .headers()
        .get(header::IF_MATCH)
        .map(|v| v.to_str().unwrap_or("").to_string());
    let saved = flow::save_draft(&state, &me, id.into_inner(), if_match, body.into_inner());
    Ok(tagged(saved.await?))
}

/// Seal the feedback (the interviewer only): it never changes again.
///
/// The answer carries `sealed_at` and `content_sha256`, a receipt to keep.
#[utoipa::path(
    tag = "feedback",
    operation_id = "seal_feedback",
    params(("id" = Uuid, Path, description = "Interview id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Feedback),
        Unauthenticated,
        Forbidden,
        NotFound,
        (status = 409, description = "`already_sealed`, `interview_not_started`, `feedback_frozen`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Incomplete: every problem listed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/interviews/{id}/feedback/seal")]
pub async fn seal(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let sealed = flow::seal(&state, &me, id).await?;
    let path = format!("/api/v1/interviews/{id}/feedback");
    Ok(super::idempotency::reread(path)(tagged(sealed)))
}

/// Add an addendum to sealed feedback (its author only).
///
/// Append-only and time-stamped; the sealed content is untouched.
#[utoipa::path(
    tag = "feedback",
    operation_id = "add_feedback_addendum",
    params(("id" = Uuid, Path, description = "Interview id")),
    request_body = AddendumInput,
    security(("bearer" = [])),
    responses(
        (status = 201, body = Addendum, headers(("Location" = String, description = "The feedback the addendum is part of: `/api/v1/interviews/{id}/feedback`"))),
        Unauthenticated,
        Forbidden,
        NotFound,
        (status = 409, description = "Not sealed yet", body = Problem, content_type = "application/problem+json"),
        Unprocessable,
    )
)]
#[post("/interviews/{id}/feedback/addenda")]
pub async fn add_addendum(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<AddendumInput>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let addendum = flow::add_addendum(&state, &me, id, body.into_inner()).await?;
    let at = format!("/interviews/{id}/feedback");
    Ok(ReplayPolicy::content(addendum.id).mark(located(at).json(addendum)))
}

/// Admin break-glass read of sealed feedback, with a reason (at least 20
/// characters).
///
/// Written to the audit chain and the read log; the loop's Bar Raiser is
/// notified.
#[utoipa::path(
    tag = "feedback",
    operation_id = "break_glass_read",
    params(("id" = Uuid, Path, description = "Interview id")),
    request_body = BreakGlassInput,
    security(("bearer" = [])),
    responses(
        (status = 200, body = Feedback),
        Unauthenticated,
        Forbidden,
        NotFound,
        (status = 409, description = "Nothing sealed to read", body = Problem, content_type = "application/problem+json"),
        Unprocessable,
    )
)]
#[post("/interviews/{id}/feedback/break-glass")]
pub async fn break_glass(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<BreakGlassInput>,
) -> AppResult<HttpResponse> {
    let read = flow::break_glass(&state, &me, id.into_inner(), body.into_inner()).await?;
    Ok(ReplayPolicy::Never.mark(tagged(read)))
}

/// Excuse an interview that will never be sealed (the loop's Bar Raiser, before
/// the debrief), with a reason.
///
/// It then no longer blocks the debrief.
#[utoipa::path(
    tag = "feedback",
    operation_id = "excuse_interview",
    params(("id" = Uuid, Path, description = "Interview id")),
    request_body = ReasonInput,
    security(("bearer" = [])),
    responses(
        (status = 200, body = views::Interview),
        Unauthenticated,
        Forbidden,
        NotFound,
        (status = 409, description = "Sealed already, excused already, or the loop is not scheduled", body = Problem, content_type = "application/problem+json"),
        Unprocessable,
    )
)]
#[post("/interviews/{id}/excuse")]
pub async fn excuse(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<ReasonInput>,
) -> AppResult<HttpResponse> {
    let interview = flow::excuse(&state, &me, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(interview))
}

/// Every feedback of a loop.
///
/// Status for all; content only where the same policy as the single read
/// (`get_feedback`) allows, and each content read is logged.
#[utoipa::path(
    tag = "feedback",
    operation_id = "list_loop_feedback",
    params(("id" = Uuid, Path, description = "Loop id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = LoopFeedback),
        Unauthenticated,
        (status = 404, description = "No such loop, or one the caller takes no part in", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`feedback_integrity_failed`: a sealed feedback no longer matches its receipt", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/loops/{id}/feedback")]
pub async fn list_for_loop(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let listing = flow::list_for_loop(&state, &me, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(listing))
}

/// Commit a quick vote (the interview's voting interviewer only): the
/// four-point vote alone, within the configured window after the interview
/// ends (default 60 minutes), before the feedback is sealed.
///
/// Committed once and never changed; the audit chain records a salted
/// receipt, never the vote. It is read exactly where the sealed vote is.
#[utoipa::path(
    tag = "feedback",
    operation_id = "commit_quick_vote",
    params(("id" = Uuid, Path, description = "Interview id")),
    request_body = QuickVoteInput,
    security(("bearer" = [])),
    responses(
        (status = 201, body = QuickVote, headers(("Location" = String, description = "`/api/v1/interviews/{id}/quick-vote`"))),
        Unauthenticated,
        (status = 403, description = "`not_the_interviewer`, `not_voting_participant` (a shadow's interview does not vote)", body = Problem, content_type = "application/problem+json"),
        NotFound,
        (status = 409, description = "`quick_vote_committed`, `already_sealed`, `feedback_frozen`, `loop_not_scheduled`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`quick_vote_off`, `quick_vote_too_early` (the interview has not ended), `quick_vote_closed` (the window passed), or an invalid body", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/interviews/{id}/quick-vote")]
pub async fn commit_quick_vote(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<QuickVoteInput>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let vote = flow::quick::commit(&state, &me, id, body.into_inner()).await?;
    let reread = super::idempotency::reread(format!("/api/v1/interviews/{id}/quick-vote"));
    Ok(reread(
        located(format!("/interviews/{id}/quick-vote")).json(vote),
    ))
}

/// Read an interview's quick vote.
///
/// Its author always may; others exactly when they may read the interview's
/// sealed feedback, and every such read is logged as a read of it.
#[utoipa::path(
    tag = "feedback",
    operation_id = "get_quick_vote",
    params(("id" = Uuid, Path, description = "Interview id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = QuickVote),
        Unauthenticated,
        (status = 403, description = "As for the sealed feedback: `seal_own_feedback_first`, `joined_after_first_seal`, `not_a_participant`, `not_until_debrief`, `feedback_not_sealed`, `break_glass_required`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such interview, one of a loop the caller takes no part in, or no quick vote", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/interviews/{id}/quick-vote")]
pub async fn get_quick_vote(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let vote = flow::quick::get(&state, &me, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(vote))
}
