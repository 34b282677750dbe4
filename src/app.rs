//! Builds the actix `App` — the same one for `serve` and for the tests —
//! and the state it carries.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use tracing::Instrument;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::api;
use crate::auth::password::Passwords;
use crate::auth::tokens::Keys;
use crate::config::{Config, JWT_SECRET_MIN_BYTES, Secret};
use crate::db::{self, Db};
use crate::error::{AppError, problem_response};

/// Everything a request may need, shared by all workers.
pub struct AppState {
    pub db: Db,
    pub config: Config,
    pub keys: Keys,
    pub passwords: Passwords,
    /// The single sign-on issuer, when one is configured.
    pub oidc: Option<crate::auth::oidc::Oidc>,
    /// Loop status views, kept while the database says they are current.
    pub views: std::sync::Arc<crate::workflows::cache::ViewCache>,
}

impl AppState {
    /// Connects, migrates, and resolves the signing secret.
    pub async fn init(config: Config) -> anyhow::Result<web::Data<AppState>> {
        crate::problems::set_base(&config.public_url);
        let cfg = config.clone();
        let (db, secret) = web::block(move || -> anyhow::Result<(Db, Secret)> {
            let db = Db::connect_with(&cfg.db.database_url, cfg.db.pool_size(), cfg.write_queue)?;
            let applied = db.migrate()?;
            if applied > 0 {
                tracing::info!(applied, "database migrations applied");
            }
            let secret = match &cfg.jwt_secret {
                Some(s) => s.clone(),
                None => {
                    let mut conn = db.conn().map_err(|e| anyhow::anyhow!("{e}"))?;
                    let candidate = crate::auth::tokens::random_token();
                    Secret::new(db::users::setting_or_insert(
                        &mut conn,
                        "jwt_secret",
                        &candidate,
                    )?)
                }
            };
            Ok((db, secret))
        })
        .await??;
        if secret.expose().len() < JWT_SECRET_MIN_BYTES {
            anyhow::bail!("BAR_RAISER_JWT_SECRET must be at least {JWT_SECRET_MIN_BYTES} bytes");
        }
        let captured = crate::workflows::analytics::backfill(&db)
            .await
            .map_err(|e| anyhow::anyhow!("capturing decided loops for analytics: {e}"))?;
        if captured > 0 {
            tracing::info!(captured, "decided loops captured for analytics");
        }
        let oidc = crate::auth::oidc::Oidc::from_config(&config.sso)?;
        let password_queue = config.password_queue;
        let passwords = web::block(move || Passwords::new(password_queue)).await??;
        Ok(web::Data::new(AppState {
            keys: Keys::new(&secret, config.access_token_ttl),
            views: std::sync::Arc::new(crate::workflows::cache::ViewCache::new(config.view_cache)),
            db,
            config,
            passwords,
            oidc,
        }))
    }
}

/// The OpenAPI document the code serves (and `openapi/openapi.json` holds).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = App::new()
        .into_utoipa_app()
        .openapi(api::ApiDoc::openapi())
        .configure(api::routes)
        .split_for_parts();
    api::spec::finish(&mut doc);
    doc
}

/// The application: routes, documentation, middleware, error shapes.
pub fn build(
    state: web::Data<AppState>,
) -> App<
    impl actix_web::dev::ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let (app, mut doc) = App::new()
        .into_utoipa_app()
        .openapi(api::ApiDoc::openapi())
        .configure(api::routes)
        .split_for_parts();
    api::spec::finish(&mut doc);
    let routes = web::Data::new(RouteIndex::from_doc(&doc));
    let cors = cors(&state.config.cors_origins);
    app.app_data(state)
        .app_data(routes)
        .app_data(api::json_config())
        .app_data(api::query_config())
        .app_data(api::path_config())
        .service(SwaggerUi::new("/docs/{_:.*}").url("/api-docs/openapi.json", doc))
        .route("/docs", web::get().to(docs_redirect))
        .service(api::scim::scope())
        .default_service(web::to(not_found_or_method))
        .wrap(from_fn(api::idempotency::middleware))
        .wrap(from_fn(hygiene))
        .wrap(actix_web::middleware::Condition::new(
            cors.is_some(),
            cors.unwrap_or_default(),
        ))
}

fn cors(origins: &[String]) -> Option<actix_cors::Cors> {
    let origins: Vec<&String> = origins.iter().filter(|o| !o.trim().is_empty()).collect();
    if origins.is_empty() {
        return None;
    }
    let mut c = actix_cors::Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
        ])
        .allowed_header("idempotency-key")
        .allowed_header("traceparent")
        .expose_headers([
            header::ETAG,
            header::HeaderName::from_static("x-request-id"),
            header::HeaderName::from_static("traceparent"),
        ])
        .max_age(600);
    for o in origins {
        c = c.allowed_origin(o.trim());
    }
    Some(c)
}

async fn docs_redirect() -> HttpResponse {
    HttpResponse::MovedPermanently()
        .insert_header((header::LOCATION, "/docs/"))
        .finish()
}

/// Method and path template of every documented route, to tell an unknown
/// path (404) from a known path called with the wrong method (405).
pub struct RouteIndex(Vec<(Vec<String>, Vec<Method>)>);

impl RouteIndex {
    fn from_doc(doc: &utoipa::openapi::OpenApi) -> RouteIndex {
        use utoipa::openapi::HttpMethod;
        let mut v = Vec::new();
        for (path, item) in doc.paths.paths.iter() {
            let segments = path
                .trim_matches('/')
                .split('/')
                .map(str::to_string)
                .collect();
            let mut methods = Vec::new();
            let ops = [
                (&item.get, Method::GET, HttpMethod::Get),
                (&item.post, Method::POST, HttpMethod::Post),
                (&item.put, Method::PUT, HttpMethod::Put),
                (&item.patch, Method::PATCH, HttpMethod::Patch),
                (&item.delete, Method::DELETE, HttpMethod::Delete),
            ];
            for (op, m, _) in ops {
                if op.is_some() {
                    methods.push(m);
                }
            }
            v.push((segments, methods));
        }
        RouteIndex(v)
    }

    fn allowed(&self, path: &str) -> Option<Vec<Method>> {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let mut found: Option<Vec<Method>> = None;
        for (segments, methods) in &self.0 {
            let matches = segments.len() == parts.len()
                && segments
                    .iter()
                    .zip(&parts)
                    .all(|(s, p)| (s.starts_with('{') && !p.is_empty()) || s == p);
            if matches {
                found
                    .get_or_insert_with(Vec::new)
                    .extend(methods.iter().cloned());
            }
        }
        found
    }
}

async fn not_found_or_method(req: HttpRequest, routes: web::Data<RouteIndex>) -> HttpResponse {
    match routes.allowed(req.path()) {
        Some(methods) if !methods.contains(req.method()) => {
            let allow = methods
                .iter()
                .map(Method::as_str)
                .collect::<Vec<_>>()
                .join(", ");
            let problem = AppError::BadRequest {
                code: "method_not_allowed",
                detail: format!("{} is not allowed here; allowed: {allow}", req.method()),
            }
            .to_problem();
            let problem = crate::error::Problem {
                status: 405,
                title: "Method Not Allowed".into(),
                ..problem
            };
            let mut resp = problem_response(StatusCode::METHOD_NOT_ALLOWED, &problem);
            if let Ok(v) = header::HeaderValue::from_str(&allow) {
                resp.headers_mut().insert(header::ALLOW, v);
            }
            resp
        }
        _ => {
            let problem = AppError::NotFound.to_problem();
            problem_response(StatusCode::NOT_FOUND, &problem)
        }
    }
}

/// A client-supplied request id is kept when it is short and plain.
fn acceptable_request_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// A W3C Trace Context `traceparent` (version 00 layout): the caller's
/// trace id and flags. Later versions are read as 00, as the
/// recommendation asks; anything malformed is ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceParent {
    /// 32 lowercase hex digits, not all zero.
    pub trace_id: String,
    /// Only the `sampled` flag is passed on.
    pub sampled: bool,
}

impl TraceParent {
    pub fn parse(value: &str) -> Option<TraceParent> {
        let hex = |s: &str, n: usize| {
            s.len() == n && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        };
        let zero = |s: &str| s.bytes().all(|b| b == b'0');
        let value = value.trim();
        let mut parts = value.splitn(5, '-');
        let (version, trace_id, parent_id, flags) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let rest = parts.next();
        if !hex(version, 2) || version == "ff" || (version == "00" && rest.is_some()) {
            return None;
        }
        if !hex(trace_id, 32) || zero(trace_id) || !hex(parent_id, 16) || zero(parent_id) {
            return None;
        }
        if !hex(flags, 2) {
            return None;
        }
        let flags = u8::from_str_radix(flags, 16).ok()?;
        Some(TraceParent {
            trace_id: trace_id.to_string(),
            sampled: flags & 1 == 1,
        })
    }

    /// The header for our answer: the same trace, with this request as
    /// the parent (a fresh span id).
    pub fn child(&self) -> String {
        let span_id = loop {
            let id: u64 = rand::random();
            if id != 0 {
                break id;
            }
        };
        format!(
            "00-{}-{span_id:016x}-{:02x}",
            self.trace_id,
            u8::from(self.sampled)
        )
    }
}

/// Probes whose every call would drown the log at `info`: logged at
/// `debug`.
fn is_probe(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/metrics")
}

/// A method as a metrics label: the ones the API knows, or `other`, so a
/// client cannot make up labels.
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Request id, trace context, logging, metrics, security headers, and
/// problem+json for any error response produced outside our handlers.
async fn hygiene(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|s| acceptable_request_id(s))
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let trace = req
        .headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .and_then(TraceParent::parse);
    let authenticated = req.headers().contains_key(header::AUTHORIZATION);
    let probe = is_probe(req.path());
    let method = method_label(req.method());
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        trace_id = tracing::field::Empty,
        method = %req.method(),
        path = %req.path(),
    );
    if let Some(t) = &trace {
        span.record("trace_id", t.trace_id.as_str());
    }
    let started = Instant::now();
    let res = next.call(req).instrument(span.clone()).await?;
    let mut res = res.map_into_boxed_body();
    let status = res.status();
    crate::metrics::http_request(
        res.request().match_pattern().as_deref(),
        method,
        status.as_u16(),
        started.elapsed(),
    );
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    // The OAuth token endpoint answers its refusals in OAuth's own JSON
    // (RFC 6749 §5.2), which every OAuth client library reads.
    let is_oauth_error = res.request().path() == api::oauth::PATH
        && res
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    // SCIM answers in SCIM's own error JSON (RFC 7644 §3.12).
    let is_scim_error = res.request().path().starts_with(api::scim::PREFIX)
        && res
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/scim+json"));
    if (status.is_client_error() || status.is_server_error())
        && !is_problem
        && !is_oauth_error
        && !is_scim_error
    {
        let problem = crate::error::Problem {
            type_: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            detail: status.canonical_reason().unwrap_or("error").to_lowercase(),
            code: status
                .canonical_reason()
                .unwrap_or("error")
                .to_lowercase()
                .replace(' ', "_"),
            errors: Vec::new(),
        };
        let (req, old) = res.into_parts();
        let mut fresh = problem_response(status, &problem);
        for (name, value) in old.headers() {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                fresh.headers_mut().insert(name.clone(), value.clone());
            }
        }
        res = ServiceResponse::new(req, fresh);
    }
    let headers = res.headers_mut();
    if let Ok(v) = header::HeaderValue::from_str(&request_id) {
        headers.insert(header::HeaderName::from_static("x-request-id"), v);
    }
    if let Some(t) = &trace
        && let Ok(v) = header::HeaderValue::from_str(&t.child())
    {
        headers.insert(header::HeaderName::from_static("traceparent"), v);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    if authenticated || status.is_client_error() {
        headers.insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
    }
    let elapsed_ms = started.elapsed().as_millis() as u64;
    span.in_scope(|| {
        if probe && !status.is_server_error() {
            tracing::debug!(status = status.as_u16(), elapsed_ms, "request handled")
        } else {
            tracing::info!(status = status.as_u16(), elapsed_ms, "request handled")
        }
    });
    Ok(res)
}

/// Binds and starts the HTTP server (port 0 picks a free port).
pub fn serve(
    listener: std::net::TcpListener,
    state: web::Data<AppState>,
    workers: Option<usize>,
) -> std::io::Result<Server> {
    let factory_state = state.clone();
    // Blocking work is diesel's (argon2 has threads of its own): a blocking
    // thread beyond the pool's connections would only wait for one, and
    // each idle one keeps its stack and allocator arena.
    let blocking = state.config.db.pool_size().max(2) as usize;
    let mut server = HttpServer::new(move || build(factory_state.clone()))
        .worker_max_blocking_threads(blocking)
        .listen(listener)?
        .shutdown_timeout(20);
    if let Some(n) = workers {
        server = server.workers(n.max(1));
    }
    Ok(server.run())
}

#[cfg(test)]
mod tests {
    use super::TraceParent;

    #[test]
    fn traceparent_is_read_strictly() {
        let ok = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let t = TraceParent::parse(ok).unwrap();
        assert_eq!(t.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert!(t.sampled);
        let child = t.child();
        assert!(child.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
        assert!(child.ends_with("-01"));
        assert_eq!(child.len(), ok.len());
        assert_ne!(child, ok);
        assert_eq!(TraceParent::parse(&child).unwrap().trace_id, t.trace_id);
        // A later version may append fields; it is read as 00.
        assert!(
            TraceParent::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-extra")
                .is_some()
        );
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
        ] {
            assert_eq!(TraceParent::parse(bad), None, "{bad}");
        }
    }
}
