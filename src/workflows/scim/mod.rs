//! SCIM 2.0 provisioning (RFC 7643, RFC 7644): the identity provider
//! creates, updates, deactivates and deletes people and groups, through a
//! service token with the `scim` scope. A provisioned person is an ordinary
//! account (same id, same sign-in, same history) with the provider's view
//! of it kept beside it (`scim_users`); the account's name, email and
//! active flag are projected from that view, and its role from its groups
//! when `BAR_RAISER_SCIM_GROUP_ROLES` maps them. Deactivating (`active:
//! false`) or deleting ends the person's sessions and revokes their service
//! tokens at once; deleting also forgets the provider's view, and the
//! account, with its feedback and audit history, stays (inactive).
//!
//! Answers are SCIM's JSON, not problem+json: SCIM clients read SCIM
//! errors (`scimType`).

pub mod discovery;
mod groups;
mod users;

pub use groups::{create_group, delete_group, get_group, list_groups, patch_group, replace_group};
pub use users::{create_user, delete_user, get_user, list_users, patch_user, replace_user};

/// The two resource types, for callers that serve both alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    User,
    Group,
}

/// `POST /Users` or `/Groups`.
pub async fn create(state: &AppState, me: &Actor, kind: Kind, body: Value) -> ScimResult {
    match kind {
        Kind::User => create_user(state, me, body).await,
        Kind::Group => create_group(state, me, body).await,
    }
}

/// `GET /{type}/{id}`.
pub async fn get(state: &AppState, me: &Actor, kind: Kind, id: &str, q: &ListQuery) -> ScimResult {
    match kind {
        Kind::User => get_user(state, me, id, q).await,
        Kind::Group => get_group(state, me, id, q).await,
    }
}

/// `GET /{type}` and `POST /{type}/.search`.
pub async fn list(state: &AppState, me: &Actor, kind: Kind, q: ListQuery) -> ScimResult {
    match kind {
        Kind::User => list_users(state, me, q).await,
        Kind::Group => list_groups(state, me, q).await,
    }
}

/// `PUT /{type}/{id}`.
pub async fn replace(
    state: &AppState,
    me: &Actor,
    kind: Kind,
    id: &str,
    body: Value,
) -> ScimResult {
    match kind {
        Kind::User => replace_user(state, me, id, body).await,
        Kind::Group => replace_group(state, me, id, body).await,
    }
}

/// `PATCH /{type}/{id}`.
pub async fn patch(state: &AppState, me: &Actor, kind: Kind, id: &str, body: Value) -> ScimResult {
    match kind {
        Kind::User => patch_user(state, me, id, body).await,
        Kind::Group => patch_group(state, me, id, body).await,
    }
}

/// `DELETE /{type}/{id}`.
pub async fn delete(state: &AppState, me: &Actor, kind: Kind, id: &str) -> Result<(), ScimError> {
    match kind {
        Kind::User => delete_user(state, me, id).await,
        Kind::Group => delete_group(state, me, id).await,
    }
}

use serde_json::{Map, Value, json};

use super::{Actor, AppState};
use crate::domain::scim::{self, ERROR_SCHEMA, LIST_SCHEMA, ScimError};
use crate::error::AppError;

/// What a SCIM answer is: the status and the body (a resource, a list or
/// an error); `None` for `204 No Content`.
pub type ScimResult = Result<Value, ScimError>;

/// The query of a list or `.search`: filter, window and projection.
#[derive(Debug, Default, Clone)]
pub struct ListQuery {
    pub filter: Option<String>,
    pub start_index: Option<i64>,
    pub count: Option<i64>,
    pub attributes: Option<String>,
    pub excluded_attributes: Option<String>,
}

impl ListQuery {
    /// A `SearchRequest` body (RFC 7644 §3.4.3).
    pub fn from_search(body: &Value) -> Result<ListQuery, ScimError> {
        let obj = body
            .as_object()
            .ok_or_else(|| ScimError::bad("invalidSyntax", "the request must be a JSON object"))?;
        let get = |k: &str| {
            obj.iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(k))
                .map(|(_, v)| v)
        };
        let list = |k: &str| -> Result<Option<String>, ScimError> {
            match get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Array(items)) => Ok(Some(
                    items
                        .iter()
                        .map(|i| i.as_str().map(str::to_string))
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| {
                            ScimError::bad("invalidValue", format!("{k} lists strings"))
                        })?
                        .join(","),
                )),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(ScimError::bad("invalidValue", format!("{k} lists strings"))),
            }
        };
        let int = |k: &str| -> Result<Option<i64>, ScimError> {
            match get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => v
                    .as_i64()
                    .map(Some)
                    .ok_or_else(|| ScimError::bad("invalidValue", format!("{k} is an integer"))),
            }
        };
        Ok(ListQuery {
            filter: match get("filter") {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => return Err(ScimError::bad("invalidFilter", "filter is a string")),
            },
            start_index: int("startIndex")?,
            count: int("count")?,
            attributes: list("attributes")?,
            excluded_attributes: list("excludedAttributes")?,
        })
    }
}

/// Only a service token holding `scim` provisions: the scope is checked
/// with every token's; a person's session is refused here.
fn require(me: &Actor) -> Result<(), ScimError> {
    if me.is_service() {
        Ok(())
    } else {
        Err(ScimError {
            status: 403,
            scim_type: None,
            detail: "SCIM is for a service token with the `scim` scope".into(),
        })
    }
}

impl From<AppError> for ScimError {
    fn from(e: AppError) -> ScimError {
        let (status, scim_type, detail) = match e {
            AppError::BadRequest { detail, .. } => (400, Some("invalidValue"), detail),
            AppError::Validation { errors, detail, .. } => {
                let listed: Vec<String> = errors
                    .iter()
                    .map(|f| format!("{}: {}", f.field, f.message))
                    .collect();
                let detail = if listed.is_empty() {
                    detail
                } else {
                    listed.join("; ")
                };
                (400, Some("invalidValue"), detail)
            }
            AppError::Unauthorized(code) => (401, None, code.replace('_', " ")),
            AppError::Forbidden { detail, .. } => (403, None, detail),
            AppError::NotFound | AppError::NotConfigured(_) => {
                (404, None, "no such resource".into())
            }
            AppError::Conflict { detail, .. } => (409, Some("uniqueness"), detail),
            AppError::PreconditionFailed => (412, None, "the version changed".into()),
            AppError::PayloadTooLarge => (413, Some("tooMany"), "the body is too large".into()),
            AppError::TooManyRequests { .. } => (429, None, "too many requests".into()),
            AppError::Unavailable(_)
            | AppError::Overloaded { .. }
            | AppError::InsufficientStorage(_) => {
                (503, None, "the service cannot take this now; retry".into())
            }
            AppError::UnsupportedMediaType => (415, None, "send application/scim+json".into()),
            AppError::Internal(e) => {
                tracing::error!(error = %e, "SCIM request failed");
                (500, None, "the service failed".into())
            }
        };
        ScimError {
            status,
            scim_type,
            detail,
        }
    }
}

/// The body of a SCIM error response.
pub fn error_body(e: &ScimError) -> Value {
    let mut body = json!({
        "schemas": [ERROR_SCHEMA],
        "status": e.status.to_string(),
        "detail": e.detail,
    });
    if let Some(t) = e.scim_type {
        body["scimType"] = json!(t);
    }
    body
}

/// Where SCIM lives under the service's public URL.
pub fn base(state: &AppState) -> String {
    format!("{}/scim/v2", state.config.public_url.trim_end_matches('/'))
}

fn timestamp(t: chrono::NaiveDateTime) -> String {
    crate::db::from_db(t).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A list answer: of the items `query` selected, the window it asks for,
/// each built into its resource (only those) and projected.
fn list_response<T>(
    selected: Vec<T>,
    schema: &str,
    query: &ListQuery,
    build: impl Fn(T) -> Value,
) -> Value {
    let (offset, count) = scim::window(query.start_index, query.count);
    let total = selected.len();
    let page: Vec<Value> = selected
        .into_iter()
        .skip(offset)
        .take(count)
        .map(|item| projected(build(item), schema, query))
        .collect();
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "startIndex": offset + 1,
        "itemsPerPage": page.len(),
        "Resources": page,
    })
}

fn projected(resource: Value, schema: &str, query: &ListQuery) -> Value {
    match resource {
        Value::Object(mut map) => {
            scim::project(
                &mut map,
                schema,
                query.attributes.as_deref(),
                query.excluded_attributes.as_deref(),
            );
            Value::Object(map)
        }
        other => other,
    }
}

fn meta(
    resource_type: &str,
    location: String,
    created: chrono::NaiveDateTime,
    modified: chrono::NaiveDateTime,
) -> Value {
    json!({
        "resourceType": resource_type,
        "created": timestamp(created),
        "lastModified": timestamp(modified),
        "location": location,
    })
}

/// Inserts `key: value` unless the value is absent.
fn put(map: &mut Map<String, Value>, key: &str, value: Option<&String>) {
    if let Some(v) = value {
        map.insert(key.into(), json!(v));
    }
}

/// An id in a path: not one of ours is simply not found.
fn parse_id<T: From<uuid::Uuid>>(id: &str, what: &str) -> Result<T, ScimError> {
    uuid::Uuid::parse_str(id)
        .map(T::from)
        .map_err(|_| ScimError::not_found(format!("no {what} {id}")))
}
