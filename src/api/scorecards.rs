//! `GET /scorecards`: the HTTP side of [`crate::workflows::scorecards`],
//! sealed feedback of decided loops in the shape of the Greenhouse Harvest
//! scorecard object, for applicant-tracking systems.

use super::responses::Unauthenticated;
use actix_web::{HttpResponse, get, web};

use crate::app::AppState;
use crate::auth::AuthUser;
use crate::error::{AppResult, Problem};
use crate::workflows::pagination::Page;
use crate::workflows::scorecards::{self as flow, Scorecard, ScorecardQuery};

/// Scorecards for applicant-tracking systems: every sealed feedback of
/// every **decided** loop the caller may export, in the field shape of the
/// Greenhouse Harvest scorecard, oldest change first.
///
/// Admins (and service tokens with `feedback:read`) export every decided
/// loop; recruiters the loops they recruit for. Loops not yet decided are
/// never exported, whatever their state. Each scorecard served is logged
/// as a read of that feedback. Poll with `updated_after` set to the largest
/// `updated_at` you have seen; a scorecard changes when an addendum is
/// written.
#[utoipa::path(
    tag = "export",
    operation_id = "list_scorecards",
    params(ScorecardQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Page<Scorecard>),
        Unauthenticated,
        (status = 403, description = "`recruiter_or_admin_only`, `insufficient_scope`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid_query`: limit, cursor or updated_after", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`feedback_integrity_failed`: a sealed feedback on the page no longer matches its receipt", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/scorecards")]
pub async fn list(
    state: web::Data<AppState>,
    me: AuthUser,
    query: web::Query<ScorecardQuery>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(flow::list(&state, &me, query.into_inner()).await?))
}
