//! Finishing touches on the generated OpenAPI document, applied once the
//! routes are in it, so that client generators take it as it is:
//!
//! - an operation without a security requirement (sign-in, refresh, the
//!   health probes) says so with `security: []` rather than by omission;
//! - every response has a `description` (OpenAPI requires one; utoipa omits
//!   it when the handler gives none): the status's reason phrase;
//! - `Page_X.items` refers to the `X` schema instead of a copy of it
//!   (utoipa inlines generic arguments), so clients get one `X` type;
//! - every POST that honours `Idempotency-Key` documents the header and the
//!   400/409/422 answers it can cause;
//! - every operation that takes a JSON body documents the 400/413/415 that
//!   `api::json_config` answers before its handler runs (found by
//!   schemathesis: clients were told of none of them);
//! - every operation that writes (POST, PUT, PATCH, DELETE: SQLite's writer
//!   queue, and sign-in's password threads) documents 503 `overloaded`
//!   with `Retry-After`;
//! - `Problem.code` and `FieldError.code` are enums of the codes in
//!   [`crate::problems`], the catalogue the server is held to;
//! - the resources of `preconditions::CONDITIONAL` document the `ETag` of
//!   their GET and the `If-Match` header and 412 of their writes;
//! - the `webhooks` section (OpenAPI 3.1) describes every delivery: one
//!   entry per event type, its Standard Webhooks headers and its body;
//! - every request body and JSON answer shows an example: the schemas'
//!   `examples`, from [`EXAMPLES`] (taken from `bar-raiser demo`'s people,
//!   positions and competencies, so one example's ids are another's).

use utoipa::openapi::path::{
    Operation, OperationBuilder, Parameter, ParameterBuilder, ParameterIn, PathItem,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ArrayItems, KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{
    ContentBuilder, HttpMethod, OpenApi, Paths, Ref, RefOr, Required, ResponseBuilder,
};

use crate::notify::webhooks::EventType;

use super::idempotency;

pub fn finish(doc: &mut OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        for method in [
            HttpMethod::Get,
            HttpMethod::Post,
            HttpMethod::Put,
            HttpMethod::Patch,
            HttpMethod::Delete,
        ] {
            let op = match method {
                HttpMethod::Get => item.get.as_mut(),
                HttpMethod::Post => item.post.as_mut(),
                HttpMethod::Put => item.put.as_mut(),
                HttpMethod::Patch => item.patch.as_mut(),
                HttpMethod::Delete => item.delete.as_mut(),
                _ => None,
            };
            let Some(op) = op else { continue };
            if method == HttpMethod::Post
                && idempotency::applies(&actix_web::http::Method::POST, path)
            {
                document_idempotency(op);
            }
            if op.request_body.is_some() {
                document_body_errors(op);
            }
            if method != HttpMethod::Get {
                document_overload(op);
            }
            if super::preconditions::CONDITIONAL.contains(&path.as_str()) {
                document_preconditions(op, method == HttpMethod::Get);
            }
            describe_responses(op);
            op.security.get_or_insert_with(Vec::new);
            offer_oauth2(op, &method, path);
        }
    }
    refer_page_items(doc);
    add_examples(doc);
    enumerate_codes(doc);
    document_webhooks(doc);
}

/// Every operation a service token may call can also be called with an
/// access token from `POST /oauth/token`: its security lists the `oauth2`
/// scheme beside `bearer`, with the scope [`scopes::required`] asks
/// (none for the harmless reads any token may do).
fn offer_oauth2(op: &mut Operation, method: &HttpMethod, path: &str) {
    use crate::domain::scopes::{self, Requirement};
    let Some(security) = op.security.as_mut() else {
        return;
    };
    let names_bearer = |r: &SecurityRequirement| {
        serde_json::to_value(r)
            .ok()
            .is_some_and(|v| v.get("bearer").is_some())
    };
    if !security.iter().any(names_bearer) {
        return;
    }
    let method = match method {
        HttpMethod::Get => "GET",
        HttpMethod::Post => "POST",
        HttpMethod::Put => "PUT",
        HttpMethod::Patch => "PATCH",
        HttpMethod::Delete => "DELETE",
        _ => return,
    };
    let needs: Vec<&str> = match scopes::required(method, path) {
        Requirement::AnyToken => Vec::new(),
        Requirement::Scope(s) => vec![s.as_str()],
        Requirement::NotForTokens => return,
    };
    security.push(SecurityRequirement::new("oauth2", needs));
}

/// One example per schema, by schema name: `src/api/examples.json`.
pub const EXAMPLES: &str = include_str!("examples.json");

/// [`EXAMPLES`], parsed.
pub fn examples() -> serde_json::Map<String, serde_json::Value> {
    serde_json::from_str(EXAMPLES).expect("src/api/examples.json is a JSON object")
}

/// Each schema of [`EXAMPLES`] gets its example (JSON Schema `examples`,
/// which OpenAPI 3.1 prefers to `example`). A name that is no schema is
/// caught by `tests/api/openapi.rs`.
fn add_examples(doc: &mut OpenApi) {
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    for (name, example) in examples() {
        if let Some(RefOr::T(schema)) = components.schemas.get_mut(&name) {
            match schema {
                Schema::Object(o) => o.examples = vec![example],
                Schema::Array(a) => a.examples = vec![example],
                Schema::OneOf(o) => o.examples = vec![example],
                Schema::AllOf(o) => o.examples = vec![example],
                Schema::AnyOf(o) => o.examples = vec![example],
                _ => {}
            }
        }
    }
}

/// The codes a client can branch on, as enums, from the catalogue.
fn enumerate_codes(doc: &mut OpenApi) {
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    let lists: [(&str, Vec<&str>); 2] = [
        (
            "Problem",
            crate::problems::PROBLEMS.iter().map(|p| p.code).collect(),
        ),
        (
            "FieldError",
            crate::problems::ENTRIES.iter().map(|e| e.code).collect(),
        ),
    ];
    for (schema, codes) in lists {
        if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(schema)
            && let Some(RefOr::T(Schema::Object(code))) = object.properties.get_mut("code")
        {
            let mut values: Vec<serde_json::Value> = codes.into_iter().map(Into::into).collect();
            if matches!(&code.schema_type, utoipa::openapi::schema::SchemaType::Array(types) if types.contains(&Type::Null))
            {
                values.push(serde_json::Value::Null);
            }
            code.enum_values = Some(values);
        }
    }
}

fn reason(status: &str) -> &'static str {
    status
        .parse::<u16>()
        .ok()
        .and_then(|s| actix_web::http::StatusCode::from_u16(s).ok())
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Response")
}

fn describe_responses(op: &mut Operation) {
    for (status, resp) in op.responses.responses.iter_mut() {
        if let RefOr::T(r) = resp
            && r.description.is_empty()
        {
            r.description = reason(status).to_string();
        }
    }
}

fn idempotency_parameter() -> Parameter {
    ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Makes a retry safe: the same key with the same request within 24 hours \
             returns the first response (`Idempotent-Replayed: true`) without doing the \
             work again. Keys are per caller. Same key, other request: 422 \
             `idempotency_key_reused`; while the first is still running: 409 \
             `idempotency_in_progress`. A replay authenticates the caller again (401 when \
             they may no longer act) and runs the request afresh when their rights \
             changed; answers holding a secret or feedback content are never stored.",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(idempotency::KEY_MAX))
                .pattern(Some("^[\\x20-\\x7E]+$")),
        ))
        .build()
}

fn problem(description: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/problem+json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build(),
    )
}

fn document_idempotency(op: &mut Operation) {
    let params = op.parameters.get_or_insert_with(Vec::new);
    let present = params
        .iter()
        .any(|p| matches!(p, RefOr::T(p) if p.name.eq_ignore_ascii_case("Idempotency-Key")));
    if !present {
        params.push(RefOr::T(idempotency_parameter()));
    }
    for (status, text) in [
        (
            "400",
            "`invalid_idempotency_key`, or the request could not be read",
        ),
        (
            "409",
            "`idempotency_in_progress`: the same request is still running",
        ),
        ("422", "`idempotency_key_reused`, or the body is invalid"),
    ] {
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| problem(text));
    }
}

/// What any JSON body that cannot be read gets, whatever the operation.
fn document_body_errors(op: &mut Operation) {
    let too_large = format!(
        "`payload_too_large`: the body is over {} KiB",
        super::BODY_LIMIT / 1024
    );
    for (status, text) in [
        (
            "400",
            "`malformed_json` or `unreadable_body`: the body is not JSON",
        ),
        ("413", too_large.as_str()),
        (
            "415",
            "`unsupported_media_type`: the body is not `application/json`",
        ),
    ] {
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| problem(text));
    }
}

/// `ETag` on a read; `If-Match` and 412 on a write.
fn document_preconditions(op: &mut Operation, read: bool) {
    if read {
        if let Some(RefOr::T(ok)) = op.responses.responses.get_mut("200") {
            ok.headers.insert(
                "ETag".into(),
                RefOr::T(
                    utoipa::openapi::HeaderBuilder::new()
                        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                        .description(Some("Version of the resource, for `If-Match`"))
                        .build(),
                ),
            );
        }
        return;
    }
    let params = op.parameters.get_or_insert_with(Vec::new);
    params.push(RefOr::T(
        ParameterBuilder::new()
            .name("If-Match")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "Apply only if the resource is still at this version: the `ETag` of a \
                 GET (or `*`). Otherwise 412 `precondition_failed` and nothing changes \
                 (RFC 9110 §13.1.1).",
            ))
            .schema(Some(
                ObjectBuilder::new().schema_type(Type::String).pattern(Some(
                    r#"^(\*|(W/)?"[\x21\x23-\x7E]*"( *, *(W/)?"[\x21\x23-\x7E]*")*)$"#,
                )),
            ))
            .build(),
    ));
    op.responses
        .responses
        .entry("412".to_string())
        .or_insert_with(|| {
            problem("`precondition_failed`: the resource changed since that version was read")
        });
}

/// A full writer or password queue: refused at once, to be retried.
fn document_overload(op: &mut Operation) {
    op.responses
        .responses
        .entry("503".to_string())
        .or_insert_with(|| {
            let mut r = problem(
                "`overloaded`: more writes (or password checks) are waiting than the server \
                 queues; retry after `Retry-After` seconds",
            );
            if let RefOr::T(r) = &mut r {
                r.headers.insert(
                    "Retry-After".into(),
                    RefOr::T(
                        utoipa::openapi::HeaderBuilder::new()
                            .schema(Some(ObjectBuilder::new().schema_type(Type::Integer)))
                            .description(Some("Seconds to wait before retrying"))
                            .build(),
                    ),
                );
            }
            r
        });
}

/// `Page_X.items.items`: `$ref X` where a schema `X` exists.
fn refer_page_items(doc: &mut OpenApi) {
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    let names: Vec<String> = components.schemas.keys().cloned().collect();
    for (name, schema) in components.schemas.iter_mut() {
        let Some(inner) = name.strip_prefix("Page_") else {
            continue;
        };
        if !names.iter().any(|n| n == inner) {
            continue;
        }
        if let RefOr::T(Schema::Object(page)) = schema
            && let Some(RefOr::T(Schema::Array(items))) = page.properties.get_mut("items")
        {
            items.items = ArrayItems::RefOrSchema(Box::new(RefOr::Ref(Ref::from_schema_name(
                inner.to_string(),
            ))));
        }
    }
}

fn header(name: &str, description: &str, schema: ObjectBuilder) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(Required::True)
        .description(Some(description))
        .schema(Some(schema))
        .build()
}

/// One delivery of `event`: the Standard Webhooks headers, the body
/// `{type, timestamp, data}`, and what the receiver's answer means.
fn webhook_operation(event: EventType) -> Operation {
    let text = || ObjectBuilder::new().schema_type(Type::String);
    let body = ObjectBuilder::new()
        .schema_type(Type::Object)
        .property(
            "type",
            text()
                .enum_values(Some([event.as_str()]))
                .description(Some("The event type")),
        )
        .required("type")
        .property(
            "timestamp",
            text()
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
                .description(Some("When it happened (UTC, microseconds)")),
        )
        .required("timestamp")
        .property("data", Ref::from_schema_name(event.data_schema()))
        .required("data");
    let mut op = OperationBuilder::new()
        .operation_id(Some(format!(
            "webhook_{}",
            event.as_str().replace('.', "_")
        )))
        .tag("webhooks")
        .summary(Some(event.as_str()))
        .description(Some(format!(
            "{} Sent to every webhook subscribed to `{}`, by the Standard Webhooks \
             specification: verify it with `webhook-id`, `webhook-timestamp` and \
             `webhook-signature` (e.g. `standardwebhooks.Webhook(secret).verify(body, \
             headers)`). Webhooks whose secret predates Standard Webhooks \
             (`legacy_secret`) get `event` and `occurred_at` in place of `type` and \
             `timestamp`, and `X-BarRaiser-Delivery` and `X-BarRaiser-Signature`, until \
             their secret is rotated.",
            event.description(),
            event.as_str()
        )))
        .parameter(header(
            "webhook-id",
            "The delivery's id: the same on every retry of it, so receivers can \
             drop duplicates",
            text(),
        ))
        .parameter(header(
            "webhook-timestamp",
            "This attempt's time, in Unix seconds; part of what is signed. Refuse \
             deliveries too far from your clock (the libraries allow 5 minutes).",
            text().pattern(Some("^[0-9]+$")),
        ))
        .parameter(header(
            "webhook-signature",
            "Space-separated `v1,{base64}` signatures: HMAC-SHA256 of \
             `{webhook-id}.{webhook-timestamp}.{body}` under the key of the webhook's \
             secret (the base64 after `whsec_`), and, during the grace period after a \
             rotation, under the previous secret's key too. One matching signature \
             suffices.",
            text().pattern(Some("^v1,[A-Za-z0-9+/]+={0,2}( v1,[A-Za-z0-9+/]+={0,2})*$")),
        ))
        .parameter(header(
            "X-BarRaiser-Event",
            "The event type again, for routing without reading the body",
            text().enum_values(Some([event.as_str()])),
        ))
        .request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(Required::True))
                .content(
                    "application/json",
                    ContentBuilder::new().schema(Some(body)).build(),
                )
                .build(),
        ))
        .response(
            "2XX",
            ResponseBuilder::new().description("Delivered: nothing is sent again"),
        )
        .response(
            "default",
            ResponseBuilder::new().description(
                "Any other answer, or none within the timeout: retried with the same \
                 `webhook-id` and body, with backoff, until the outbox gives up",
            ),
        )
        .build();
    // No credential is sent to the receiver: the signature authenticates.
    op.security = Some(Vec::new());
    op
}

/// The `webhooks` section: every event type a webhook can subscribe to.
fn document_webhooks(doc: &mut OpenApi) {
    let mut hooks = Paths::new();
    for event in EventType::ALL {
        hooks.paths.insert(
            event.as_str().to_string(),
            PathItem::new(HttpMethod::Post, webhook_operation(event)),
        );
    }
    doc.webhooks = Some(hooks);
}
