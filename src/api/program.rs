//! The Bar Raiser program: the HTTP side of [`crate::workflows::program`].

use actix_web::{HttpResponse, get, post, web};
use uuid::Uuid;

use super::responses::{NotFound, Unauthenticated, Unprocessable, located};
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::error::{AppResult, Problem};
use crate::workflows::pagination::Page;
use crate::workflows::program::{
    self as flow, Enrol, ProgramRecord, Reactivate, SignOff, SignOffInput, TraineeQuery,
};

/// Everyone in Bar Raiser training, with their progress.
///
/// Admins, recruiters and certified Bar Raisers. Paged with `limit` and
/// `cursor`, longest in training first.
#[utoipa::path(
    tag = "program",
    operation_id = "list_trainees",
    params(TraineeQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Page<ProgramRecord>),
        Unprocessable,
        Unauthenticated,
        (status = 403, description = "`not_program_reader`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/bar-raiser-program/trainees")]
pub async fn trainees(
    state: web::Data<AppState>,
    me: AuthUser,
    query: web::Query<TraineeQuery>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(flow::trainees(&state, &me, query.into_inner()).await?))
}

/// A person's program record: state, mentor, progress, sign-offs.
///
/// Admins, recruiters, certified Bar Raisers, and the person.
#[utoipa::path(
    tag = "program",
    operation_id = "get_program_record",
    params(("id" = Uuid, Path, description = "User id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = ProgramRecord),
        Unauthenticated,
        (status = 403, description = "`not_program_reader`", body = Problem, content_type = "application/problem+json"),
        NotFound,
    )
)]
#[get("/bar-raiser-program/people/{id}")]
pub async fn record(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(flow::get(&state, &me, id.into_inner()).await?))
}

/// Enrol an interviewer in Bar Raiser training.
///
/// An admin (naming a certified mentor or not), or a certified Bar Raiser,
/// who becomes the mentor. Webhook `bar_raiser.enrolled`; mail to trainee
/// and mentor.
#[utoipa::path(
    tag = "program",
    operation_id = "enrol_trainee",
    params(("id" = Uuid, Path, description = "User id")),
    request_body = Enrol,
    security(("bearer" = [])),
    responses(
        (status = 200, body = ProgramRecord),
        Unauthenticated,
        (status = 403, description = "`not_program_mentor`: neither an admin nor a certified Bar Raiser", body = Problem, content_type = "application/problem+json"),
        NotFound,
        (status = 409, description = "`program_state`: the person is not an interviewer (in training, certified or lapsed already)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`rules_broken` (`mentor_not_certified`) or an invalid body", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/bar-raiser-program/people/{id}/enrol")]
pub async fn enrol(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<Enrol>,
) -> AppResult<HttpResponse> {
    let r = flow::enrol(&state, &me, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(r))
}

/// Certify a trainee (admins).
///
/// Every configured threshold must hold: shadowed loops, reverse-shadowed
/// loops signed off as pass, agreement of sealed votes with outcomes.
/// Webhook `bar_raiser.certified`; mail to trainee and mentor.
#[utoipa::path(
    tag = "program",
    operation_id = "certify_trainee",
    params(("id" = Uuid, Path, description = "User id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = ProgramRecord),
        Unauthenticated,
        (status = 403, description = "`admin_only`", body = Problem, content_type = "application/problem+json"),
        NotFound,
        (status = 409, description = "`program_state`: the person is not in training", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`rules_broken`: what is missing, each listed (`shadowed_loops_missing`, `reverse_shadowed_loops_missing`, `agreement_below_floor`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/bar-raiser-program/people/{id}/certify")]
pub async fn certify(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(flow::certify(&state, &me, id.into_inner()).await?))
}

/// Re-activate a lapsed Bar Raiser (admins, with a reason).
///
/// Webhook `bar_raiser.certified`; mail to the person and their mentor.
#[utoipa::path(
    tag = "program",
    operation_id = "reactivate_bar_raiser",
    params(("id" = Uuid, Path, description = "User id")),
    request_body = Reactivate,
    security(("bearer" = [])),
    responses(
        (status = 200, body = ProgramRecord),
        Unauthenticated,
        (status = 403, description = "`admin_only`", body = Problem, content_type = "application/problem+json"),
        NotFound,
        (status = 409, description = "`program_state`: the person has not lapsed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`rules_broken`: the reason is missing or shorter than 20 characters", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/bar-raiser-program/people/{id}/reactivate")]
pub async fn reactivate(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<Reactivate>,
) -> AppResult<HttpResponse> {
    let r = flow::reactivate(&state, &me, id.into_inner(), body.into_inner()).await?;
    Ok(HttpResponse::Ok().json(r))
}

/// Sign off a reverse shadow.
///
/// The certified mentor who held the loop's veto, once the loop is
/// decided, with a written assessment (100 characters or more) and `pass`
/// or `needs_work`.
#[utoipa::path(
    tag = "program",
    operation_id = "sign_off_reverse_shadow",
    params(("id" = Uuid, Path, description = "Loop id")),
    request_body = SignOffInput,
    security(("bearer" = [])),
    responses(
        (status = 201, body = SignOff),
        Unauthenticated,
        (status = 403, description = "`not_program_mentor`: not the loop's certified mentor", body = Problem, content_type = "application/problem+json"),
        NotFound,
        (status = 409, description = "`loop_not_decided`, `already_signed_off`, `program_state` (the trainee is not in training)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`rules_broken`: the assessment is shorter than 100 characters; or an invalid body", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/loops/{id}/sign-off")]
pub async fn sign_off(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<SignOffInput>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    let s = flow::sign_off(&state, &me, id, body.into_inner()).await?;
    Ok(located(format!("/bar-raiser-program/people/{}", s.trainee_id)).json(s))
}
