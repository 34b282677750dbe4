//! Process analytics: the HTTP side of [`crate::workflows::analytics`].
//! The interviewer table also comes as CSV (`Accept: text/csv`).

use super::responses::{Forbidden, NotFound, Unauthenticated, Unprocessable};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::AuthUser;
use crate::error::{AppResult, Problem};
use crate::workflows::analytics::{
    self as flow, InterviewerAnalytics, InterviewerTable, LoopAnalytics, Period, ReliabilityData,
    Summary,
};

/// Whether the client asked for CSV rather than JSON.
fn wants(req: &HttpRequest, media: &str) -> bool {
    req.headers()
        .get_all(header::ACCEPT)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|m| {
            m.split(';')
                .next()
                .is_some_and(|t| t.trim().eq_ignore_ascii_case(media))
        })
}

/// A CSV field: quoted when needed, and never read as a formula by a
/// spreadsheet (a leading `=`, `+`, `-`, `@`, tab or CR is escaped).
fn field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn number(n: Option<f64>) -> String {
    n.map(|v| v.to_string()).unwrap_or_default()
}

/// The interviewer table as CSV, one row per interviewer.
pub fn csv(items: &[InterviewerAnalytics]) -> String {
    let mut out = String::from(
        "interviewer_id,name,email,loops,insufficient_data,leniency,agreement,kappa,change_rate,seal_hours_p50,seal_hours_p90,late_rate,quick_vote_rate,amend_rate\r\n",
    );
    for i in items {
        let cells = [
            i.interviewer.id.to_string(),
            field(&i.interviewer.name),
            field(&i.interviewer.email),
            i.loops.to_string(),
            i.insufficient_data.to_string(),
            number(i.leniency),
            number(i.agreement),
            number(i.kappa),
            number(i.change_rate),
            number(i.seal_hours_p50),
            number(i.seal_hours_p90),
            number(i.late_rate),
            number(i.quick_vote_rate),
            number(i.amend_rate),
        ];
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

/// A decided loop's figures.
///
/// How much its debrief moved people: votes changed from the sealed to the
/// debrief vote, toward the hiring manager or the Bar Raiser, the spread of
/// sealed and debrief votes and their convergence, the outcome and any veto;
/// and the quick votes: how many voters committed one, how many sealed
/// another vote (amended) and how many ended on another.
/// 409 `loop_not_decided` before the decision, so no figure reflects a loop in
/// flight.
#[utoipa::path(
    tag = "analytics",
    operation_id = "get_loop_analytics",
    params(("id" = Uuid, Path, description = "Loop id")),
    security(("bearer" = [])),
    responses(
        (status = 200, body = LoopAnalytics),
        Unauthenticated,
        Forbidden,
        (status = 404, description = "No such loop, or one the caller took no part in", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`loop_not_decided`: analytics cover decided loops only", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/analytics/loops/{id}")]
pub async fn for_loop(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(flow::for_loop(&state, &me, id.into_inner()).await?))
}

/// Every interviewer's calibration over a period (admins, recruiters, certified
/// Bar Raisers).
///
/// `Accept: text/csv` gives the same table as CSV.
#[utoipa::path(
    tag = "analytics",
    operation_id = "list_interviewer_analytics",
    params(Period),
    security(("bearer" = [])),
    responses(
        (status = 200, content((InterviewerTable = "application/json"), (String = "text/csv"))),
        Unauthenticated,
        (status = 403, description = "`analytics_not_permitted`", body = Problem, content_type = "application/problem+json"),
        Unprocessable,
    )
)]
#[get("/analytics/interviewers")]
pub async fn interviewers(
    state: web::Data<AppState>,
    me: AuthUser,
    req: HttpRequest,
    q: web::Query<Period>,
) -> AppResult<HttpResponse> {
    let table = flow::interviewers(&state, &me, q.into_inner()).await?;
    if wants(&req, "text/csv") {
        return Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .body(csv(&table.items)));
    }
    Ok(HttpResponse::Ok().json(table))
}

/// One interviewer's calibration over a period.
///
/// Leniency, agreement with outcomes (share and Cohen's κ), change rate in the
/// debrief, time to seal, late rate, quick-vote rate and how often their sealed
/// vote amended their quick vote, over the interviewer's decided loops in the
/// period. Every figure is `null` with `insufficient_data: true` below the
/// configured minimum of loops. Admins, recruiters and certified Bar Raisers;
/// anyone for themselves.
#[utoipa::path(
    tag = "analytics",
    operation_id = "get_interviewer_analytics",
    params(("id" = Uuid, Path, description = "User id"), Period),
    security(("bearer" = [])),
    responses(
        (status = 200, body = InterviewerAnalytics),
        Unauthenticated,
        (status = 403, description = "`analytics_not_permitted`", body = Problem, content_type = "application/problem+json"),
        NotFound,
        Unprocessable,
    )
)]
#[get("/analytics/interviewers/{id}")]
pub async fn interviewer(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    q: web::Query<Period>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok()
        .json(flow::interviewer(&state, &me, id.into_inner(), q.into_inner()).await?))
}

/// The caller's own calibration over a period.
///
/// The same figures as `get_interviewer_analytics`, for the signed-in person.
/// Every interviewer may read their own.
#[utoipa::path(
    tag = "analytics",
    operation_id = "get_my_analytics",
    params(Period),
    security(("bearer" = [])),
    responses(
        (status = 200, body = InterviewerAnalytics),
        Unauthenticated,
        Unprocessable,
    )
)]
#[get("/analytics/me")]
pub async fn mine(
    state: web::Data<AppState>,
    me: AuthUser,
    q: web::Query<Period>,
) -> AppResult<HttpResponse> {
    let id = me.id.into();
    Ok(HttpResponse::Ok().json(flow::interviewer(&state, &me, id, q.into_inner()).await?))
}

/// The organisation's figures over a period.
///
/// Agreement of the sealed votes (Krippendorff's α, ordinal, overall and per
/// competency), herding in the debrief (convergence, share of loops with a
/// changed vote, share of changes toward the hiring manager), quick votes
/// (share of voters who committed one, share amended at the seal, share whose
/// final vote differs), timeliness (interview end → seal, last interview →
/// debrief, debrief → decision) and each Bar Raiser's loops, vetoes and
/// concurrences. Decided loops only.
/// Admins, recruiters and certified Bar Raisers.
#[utoipa::path(
    tag = "analytics",
    operation_id = "get_analytics_summary",
    params(Period),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Summary),
        Unauthenticated,
        (status = 403, description = "`analytics_not_permitted`", body = Problem, content_type = "application/problem+json"),
        Unprocessable,
    )
)]
#[get("/analytics/summary")]
pub async fn summary(
    state: web::Data<AppState>,
    me: AuthUser,
    q: web::Query<Period>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(flow::summary(&state, &me, q.into_inner()).await?))
}

/// The anonymous reliability data behind the summary's α (admins), for checking
/// it with another implementation.
///
/// The matrix the summary's Krippendorff's α is computed from: one row per
/// interviewer, one column per decided loop in the period, each cell the sealed
/// vote scored 1–4 or `null`, and the same per competency. No ids, so any other
/// implementation can check the figure.
#[utoipa::path(
    tag = "analytics",
    operation_id = "get_analytics_reliability_data",
    params(Period),
    security(("bearer" = [])),
    responses(
        (status = 200, body = ReliabilityData),
        Unauthenticated,
        (status = 403, description = "`admin_only`", body = Problem, content_type = "application/problem+json"),
        Unprocessable,
    )
)]
#[get("/analytics/reliability")]
pub async fn reliability(
    state: web::Data<AppState>,
    me: AuthUser,
    q: web::Query<Period>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(flow::reliability(&state, &me, q.into_inner()).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        let cases = [
            ("Ada", "Ada"),
            ("Lovelace, Ada", "\"Lovelace, Ada\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
            ("=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\""),
            ("+1", "'+1"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("two\nlines", "\"two\nlines\""),
        ];
        for (raw, cell) in cases {
            assert_eq!(field(raw), cell, "{raw}");
        }
    }
}
