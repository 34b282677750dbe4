//! The HTTP layer: one module per resource, thin handlers. The route table
//! is [`routes`]; it reads like the API table in ARCHITECTURE.md.

pub mod analytics;
pub mod audit;
pub mod auth;
pub mod candidates;
pub mod competencies;
pub mod debrief;
pub mod feedback;
pub mod health;
pub mod idempotency;
pub mod interviews;
pub mod loops;
pub mod oauth;
pub mod preconditions;
pub mod problems;
pub mod program;
pub mod report;
pub mod responses;
pub mod scim;
pub mod scorecards;
pub mod spec;
pub mod sso;
pub mod tokens;
pub mod users;
pub mod webhooks;

use actix_web::{HttpRequest, error::JsonPayloadError, web};
use utoipa::openapi::security::{
    ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes, SecurityScheme,
};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::{AppError, FieldError, Problem};

/// Where the API's operations live; every path in it starts so.
pub const API_PREFIX: &str = "/api/v1";

/// Largest accepted request body.
pub const BODY_LIMIT: usize = 64 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "bar-raiser",
        description = "Bar Raiser interview loops with independent, sealed, provable feedback.\n\n\
            Every error is `application/problem+json` (RFC 9457) with a stable `code`.",
        version = env!("CARGO_PKG_VERSION"),
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
        contact(name = "The operators of this bar-raiser deployment"),
    ),
    servers((url = "/", description = "This server: paths start at its root (`/api/v1/…`)")),
    modifiers(&BearerAuth),
    components(schemas(
        Problem,
        FieldError,
        crate::workflows::loops::ParticipantFilter,
        crate::notify::webhooks::LoopScheduledData,
        crate::notify::webhooks::FeedbackSealedData,
        crate::notify::webhooks::LoopEventData,
        crate::notify::webhooks::DecisionRecordedData,
        crate::notify::webhooks::DecisionFinalData,
        crate::notify::webhooks::CandidateErasedData,
        crate::notify::webhooks::BarRaiserProgramData,
    )),
    tags(
        (name = "auth", description = "Sign-in and sessions"),
        (name = "users", description = "Accounts"),
        (name = "competencies", description = "The competency catalogue"),
        (name = "candidates", description = "Candidates and erasure"),
        (name = "loops", description = "Interview loops and their states"),
        (name = "interviews", description = "Interviews within a loop"),
        (name = "feedback", description = "Independent feedback: drafts, seals, reads under the independence rules"),
        (name = "debrief", description = "The debrief, the decision and the Bar Raiser's veto"),
        (name = "export", description = "Scorecards of decided loops for applicant-tracking systems, in Greenhouse Harvest's shape"),
        (name = "audit", description = "Hash-chained audit trail"),
        (name = "analytics", description = "Process analytics over decided loops: herding, calibration, timeliness, agreement"),
        (name = "program", description = "The Bar Raiser program: training, sign-offs, certification, lapse"),
        (name = "tokens", description = "Service tokens for HR tooling"),
        (name = "webhooks", description = "Signed event deliveries to HR tooling"),
        (name = "health", description = "Liveness, readiness and metrics"),
        (name = "problems", description = "What each error `code` means: the pages problem `type` URIs point at"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "oauth2",
            SecurityScheme::OAuth2(OAuth2::with_description(
                [Flow::ClientCredentials(ClientCredentials::new(
                    "/oauth/token",
                    Scopes::from_iter(
                        crate::domain::scopes::Scope::ALL
                            .iter()
                            .map(|s| (s.as_str(), s.description())),
                    ),
                ))],
                "A service token's id and secret, exchanged at `POST /oauth/token` for a \
                 short-lived access token with the token's scopes or fewer",
            )),
        );
        components.add_security_scheme(
            "client_basic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "`POST /oauth/token` only: a service token's id as the user name and \
                         its secret as the password",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "metrics_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "`GET /metrics` only: the value of `BAR_RAISER_METRICS_TOKEN`",
                    ))
                    .build(),
            ),
        );
    }
}

/// Every route, in one place.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(health::metrics);
    cfg.service(oauth::token);
    cfg.service(problems::index).service(problems::show);
    cfg.service(
        utoipa_actix_web::scope(API_PREFIX)
            .service(auth::login)
            .service(auth::rotate)
            .service(auth::logout)
            .service(sso::start)
            .service(sso::callback)
            .service(sso::exchange)
            .service(users::current)
            .service(users::create)
            .service(users::list)
            .service(users::get)
            .service(users::update)
            .service(interviews::mine)
            .service(competencies::list)
            .service(competencies::get)
            .service(competencies::create)
            .service(competencies::update)
            .service(candidates::create)
            .service(candidates::list)
            .service(candidates::get)
            .service(candidates::update)
            .service(candidates::erase)
            .service(loops::create)
            .service(loops::list)
            .service(loops::get)
            .service(loops::update)
            .service(loops::schedule)
            .service(loops::cancel)
            .service(interviews::create)
            .service(interviews::get)
            .service(interviews::update)
            .service(interviews::remove)
            .service(feedback::get)
            .service(feedback::save_draft)
            .service(feedback::seal)
            .service(feedback::add_addendum)
            .service(feedback::break_glass)
            .service(feedback::excuse)
            .service(feedback::list_for_loop)
            .service(feedback::commit_quick_vote)
            .service(feedback::get_quick_vote)
            .service(debrief::open)
            .service(debrief::show)
            .service(debrief::cast_vote)
            .service(debrief::reveal)
            .service(debrief::decide)
            .service(debrief::concur)
            .service(debrief::veto_hire)
            .service(scorecards::list)
            .service(tokens::create)
            .service(tokens::list)
            .service(tokens::get)
            .service(tokens::revoke)
            .service(webhooks::create)
            .service(webhooks::list)
            .service(webhooks::get)
            .service(webhooks::remove)
            .service(webhooks::rotate_secret)
            .service(audit::log)
            .service(audit::verify)
            .service(analytics::for_loop)
            .service(analytics::interviewers)
            .service(analytics::interviewer)
            .service(analytics::mine)
            .service(analytics::summary)
            .service(analytics::reliability)
            .service(report::report)
            .service(program::trainees)
            .service(program::record)
            .service(program::enrol)
            .service(program::certify)
            .service(program::reactivate)
            .service(program::sign_off),
    );
}

/// The name serde gives in messages like "unknown field `x`".
fn field_in(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let end = start + message[start..].find('`')?;
    Some(message[start..end].to_string())
}

pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(BODY_LIMIT)
        .content_type_required(true)
        .content_type(|mime| {
            mime.type_() == "application"
                && (mime.subtype() == "json" || mime.suffix().is_some_and(|s| s == "json"))
        })
        .error_handler(|err, _req: &HttpRequest| json_error(err).into())
}

fn json_error(err: JsonPayloadError) -> AppError {
    match err {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            AppError::PayloadTooLarge
        }
        JsonPayloadError::ContentType => AppError::UnsupportedMediaType,
        JsonPayloadError::Deserialize(e) if e.is_data() => {
            let message = e.to_string();
            let field =
                if message.starts_with("unknown field") || message.starts_with("missing field") {
                    field_in(&message).unwrap_or_else(|| "body".into())
                } else {
                    "body".into()
                };
            let message = message
                .split(" at line ")
                .next()
                .unwrap_or(&message)
                .to_string();
            AppError::Validation {
                code: "invalid_body",
                detail: "the body does not match the expected shape".into(),
                errors: vec![FieldError::new(field, message)],
            }
        }
        JsonPayloadError::Deserialize(e) => AppError::BadRequest {
            code: "malformed_json",
            detail: format!(
                "the body is not valid JSON: {}",
                e.to_string().split(" at line ").next().unwrap_or("")
            ),
        },
        _ => AppError::BadRequest {
            code: "unreadable_body",
            detail: "the request body could not be read".into(),
        },
    }
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| {
        let message = err.to_string();
        let field = field_in(&message).unwrap_or_else(|| "query".into());
        AppError::Validation {
            code: "invalid_query",
            detail: "the query string is invalid".into(),
            errors: vec![FieldError::new(
                field,
                message.replace("Query deserialize error: ", ""),
            )],
        }
        .into()
    })
}

/// A malformed id in a path names nothing that exists: 404.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_err, _req| AppError::NotFound.into())
}
