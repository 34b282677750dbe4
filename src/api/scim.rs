//! `/scim/v2`: SCIM 2.0 provisioning over HTTP (RFC 7644), the HTTP side
//! of [`crate::workflows::scim`]. SCIM describes itself (`/Schemas`,
//! `/ResourceTypes`, `/ServiceProviderConfig`), so these routes are not in
//! the OpenAPI document; every answer, errors included, is
//! `application/scim+json`.

use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use crate::app::AppState;
use crate::auth::{Credentials, authenticate};
use crate::domain::scim::ScimError;
use crate::workflows::scim::{self as flow, Kind, ListQuery, discovery};

/// Where SCIM is served.
pub const PREFIX: &str = "/scim/v2";
const MEDIA: &str = "application/scim+json";

/// The SCIM routes, mounted by the app beside the documented API.
pub fn scope() -> actix_web::Scope {
    web::scope(PREFIX)
        .route(
            "/ServiceProviderConfig",
            web::get().to(service_provider_config),
        )
        .route("/ResourceTypes", web::get().to(resource_types))
        .route("/ResourceTypes/{id}", web::get().to(resource_type))
        .route("/Schemas", web::get().to(schemas))
        .route("/Schemas/{id}", web::get().to(schema))
        .service(resources("/Users", Kind::User))
        .service(resources("/Groups", Kind::Group))
        .route("/.search", web::post().to(search_everything))
        .default_service(web::to(unrouted))
}

/// The routes of one resource type at `path`, each handler told which.
fn resources(path: &str, kind: Kind) -> actix_web::Scope {
    web::scope(path)
        .route("", web::get().to(move |s, r| list(s, r, kind)))
        .route("", web::post().to(move |s, r, b| create(s, r, b, kind)))
        .route(
            "/.search",
            web::post().to(move |s, r, b| search(s, r, b, kind)),
        )
        .route("/{id}", web::get().to(move |s, r, i| get(s, r, i, kind)))
        .route(
            "/{id}",
            web::put().to(move |s, r, i, b| replace(s, r, i, b, kind)),
        )
        .route(
            "/{id}",
            web::patch().to(move |s, r, i, b| patch(s, r, i, b, kind)),
        )
        .route(
            "/{id}",
            web::delete().to(move |s, r, i| delete(s, r, i, kind)),
        )
        .default_service(web::to(unrouted))
}

fn answer(status: StatusCode, body: &Value) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(MEDIA)
        .body(body.to_string())
}

/// A SCIM error response (RFC 7644 §3.12).
pub fn refusal(e: &ScimError) -> HttpResponse {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    answer(status, &flow::error_body(e))
}

fn reply(result: Result<Value, ScimError>, status: StatusCode) -> HttpResponse {
    match result {
        Ok(body) if status == StatusCode::CREATED => {
            let location = body["meta"]["location"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let mut resp = answer(status, &body);
            if let Ok(v) = header::HeaderValue::from_str(&location) {
                resp.headers_mut().insert(header::LOCATION, v);
            }
            resp
        }
        Ok(body) => answer(status, &body),
        Err(e) => refusal(&e),
    }
}

/// The caller, or the SCIM error saying why there is none.
async fn caller(state: &AppState, req: &HttpRequest) -> Result<crate::auth::AuthUser, ScimError> {
    Ok(authenticate(state, Credentials::of(req)).await?)
}

/// `filter`, `startIndex`, `count`, `attributes`, `excludedAttributes`
/// from the query string (names as RFC 7644 §3.4.2 spells them).
fn query(req: &HttpRequest) -> Result<ListQuery, ScimError> {
    let mut q = ListQuery::default();
    for (k, v) in form_urlencoded::parse(req.query_string().as_bytes()) {
        let int = |v: &str| {
            v.trim()
                .parse::<i64>()
                .map(Some)
                .map_err(|_| ScimError::bad("invalidValue", format!("{k} must be an integer")))
        };
        match k.as_ref() {
            "filter" => q.filter = Some(v.into_owned()),
            "startIndex" => q.start_index = int(&v)?,
            "count" => q.count = int(&v)?,
            "attributes" => q.attributes = Some(v.into_owned()),
            "excludedAttributes" => q.excluded_attributes = Some(v.into_owned()),
            _ => {}
        }
    }
    Ok(q)
}

fn json(body: &[u8]) -> Result<Value, ScimError> {
    serde_json::from_slice(body)
        .map_err(|e| ScimError::bad("invalidSyntax", format!("the body is not JSON: {e}")))
}

async fn service_provider_config(state: web::Data<AppState>) -> HttpResponse {
    answer(
        StatusCode::OK,
        &discovery::service_provider_config(&flow::base(&state)),
    )
}

async fn resource_types(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let listed = query(&req).map(|q| discovery::list_resource_types(&flow::base(&state), &q));
    reply(listed, StatusCode::OK)
}

async fn resource_type(state: web::Data<AppState>, id: web::Path<String>) -> HttpResponse {
    reply(
        discovery::resource_type_by_id(&flow::base(&state), &id),
        StatusCode::OK,
    )
}

async fn schemas(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let listed = query(&req).map(|q| discovery::list_schemas(&flow::base(&state), &q));
    reply(listed, StatusCode::OK)
}

async fn schema(state: web::Data<AppState>, id: web::Path<String>) -> HttpResponse {
    reply(
        discovery::schema_by_id(&flow::base(&state), &id),
        StatusCode::OK,
    )
}

async fn list(state: web::Data<AppState>, req: HttpRequest, kind: Kind) -> HttpResponse {
    let run = async {
        let me = caller(&state, &req).await?;
        flow::list(&state, &me, kind, query(&req)?).await
    };
    reply(run.await, StatusCode::OK)
}

async fn search(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
    kind: Kind,
) -> HttpResponse {
    let run = async {
        let me = caller(&state, &req).await?;
        flow::list(&state, &me, kind, ListQuery::from_search(&json(&body)?)?).await
    };
    reply(run.await, StatusCode::OK)
}

async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Bytes,
    kind: Kind,
) -> HttpResponse {
    let run = async {
        let me = caller(&state, &req).await?;
        flow::create(&state, &me, kind, json(&body)?).await
    };
    reply(run.await, StatusCode::CREATED)
}

async fn get(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    kind: Kind,
) -> HttpResponse {
    let run = async {
        let me = caller(&state, &req).await?;
        flow::get(&state, &me, kind, &id, &query(&req)?).await
    };
    reply(run.await, StatusCode::OK)
}

async fn replace(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
    kind: Kind,
) -> HttpResponse {
    let run = async {
        let me = caller(&state, &req).await?;
        flow::replace(&state, &me, kind, &id, json(&body)?).await
    };
    reply(run.await, StatusCode::OK)
}

async fn patch(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
    kind: Kind,
) -> HttpResponse {
    let run = async {
        let me = caller(&state, &req).await?;
        flow::patch(&state, &me, kind, &id, json(&body)?).await
    };
    reply(run.await, StatusCode::OK)
}

async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    kind: Kind,
) -> HttpResponse {
    let run = async {
        let me = caller(&state, &req).await?;
        flow::delete(&state, &me, kind, &id).await
    };
    match run.await {
        Ok(()) => HttpResponse::NoContent().finish(),
        Err(e) => refusal(&e),
    }
}

/// A search across resource types is not offered (RFC 7644 §3.4.3: 501).
async fn search_everything() -> HttpResponse {
    refusal(&ScimError {
        status: 501,
        scim_type: None,
        detail: "search /Users/.search or /Groups/.search".into(),
    })
}

/// What no route took: a known path with another method (405, with
/// `Allow`), or nothing here (404) — both as SCIM errors.
async fn unrouted(req: HttpRequest) -> HttpResponse {
    let rest = req.path().strip_prefix(PREFIX).unwrap_or_default();
    let parts: Vec<&str> = rest.trim_matches('/').split('/').collect();
    let allow: &[Method] = match parts.as_slice() {
        ["ServiceProviderConfig"]
        | ["ResourceTypes" | "Schemas"]
        | ["ResourceTypes" | "Schemas", _] => &[Method::GET],
        ["Users" | "Groups"] => &[Method::GET, Method::POST],
        ["Users" | "Groups" | "", ".search"] | [".search"] => &[Method::POST],
        ["Users" | "Groups", _] => &[Method::GET, Method::PUT, Method::PATCH, Method::DELETE],
        _ => &[],
    };
    if allow.is_empty() {
        return refusal(&ScimError::not_found(format!("nothing at {}", req.path())));
    }
    let names: Vec<&str> = allow.iter().map(Method::as_str).collect();
    let mut resp = refusal(&ScimError {
        status: 405,
        scim_type: None,
        detail: format!(
            "{} is not allowed here; allowed: {}",
            req.method(),
            names.join(", ")
        ),
    });
    if let Ok(v) = header::HeaderValue::from_str(&names.join(", ")) {
        resp.headers_mut().insert(header::ALLOW, v);
    }
    resp
}
