//! The pages problem types point at: `GET /problems` lists every code,
//! `GET /problems/{code}` describes one. Public, static, no script.

use actix_web::{HttpResponse, get, web};

use crate::error::{AppError, AppResult};
use crate::problems::{ENTRIES, PROBLEMS};

/// Every problem type and entry code.
///
/// One HTML page listing each `code` an error can carry with its status and
/// meaning, then each code of an entry in a problem's `errors`. No
/// authentication.
#[utoipa::path(
    tag = "problems",
    operation_id = "list_problem_types",
    responses((status = 200, description = "The catalogue", content_type = "text/html", body = String))
)]
#[get("/problems")]
pub async fn index() -> HttpResponse {
    page("Problem types", &index_body())
}

/// The catalogue as one HTML table per kind of code.
fn index_body() -> String {
    let mut body = String::from(
        "<h1>Problem types</h1>\n<p>Every error answer is <code>application/problem+json</code> (RFC 9457); its <code>type</code> links here and its <code>code</code> is one of these.</p>\n<table>\n<tr><th>code</th><th>status</th><th>meaning</th></tr>\n",
    );
    for p in PROBLEMS {
        body.push_str(&format!(
            "<tr><td><a href=\"problems/{0}\"><code>{0}</code></a></td><td>{1}</td><td>{2}</td></tr>\n",
            p.code,
            statuses(p.statuses),
            inline(p.about)
        ));
    }
    body.push_str("</table>\n<h2>Codes of entries in <code>errors</code></h2>\n<table>\n<tr><th>code</th><th>meaning</th></tr>\n");
    for e in ENTRIES {
        body.push_str(&format!(
            "<tr><td><a href=\"problems/{0}\"><code>{0}</code></a></td><td>{1}</td></tr>\n",
            e.code,
            inline(e.about)
        ));
    }
    body.push_str("</table>\n");
    body
}

/// One problem type or entry code, described.
///
/// What the code means and what a client can do about it. 404 for a code the
/// service never gives. No authentication.
#[utoipa::path(
    tag = "problems",
    operation_id = "get_problem_type",
    params(("code" = String, Path, description = "A problem or entry code", pattern = "^[a-z_]{1,64}$")),
    responses(
        (status = 200, description = "The page", content_type = "text/html", body = String),
        super::responses::NotFound,
    )
)]
#[get("/problems/{code}")]
pub async fn show(code: web::Path<String>) -> AppResult<HttpResponse> {
    let code = code.into_inner();
    let body = code_body(&code).ok_or(AppError::NotFound)?;
    Ok(page(&code, &body))
}

/// One code's page: as a problem, as an entry of `errors`, or both; `None`
/// for a code the service never gives.
fn code_body(code: &str) -> Option<String> {
    let mut body = String::new();
    if let Some(p) = crate::problems::problem(code) {
        body.push_str(&format!(
            "<h1><code>{}</code></h1>\n<p>HTTP status {}</p>\n<p>{}</p>\n",
            p.code,
            statuses(p.statuses),
            inline(p.about)
        ));
    }
    if let Some(e) = crate::problems::entry(code) {
        body.push_str(&format!(
            "<h2>As an entry of <code>errors</code></h2>\n<p>{}</p>\n",
            inline(e.about)
        ));
    }
    if body.is_empty() {
        return None;
    }
    body.push_str("<p><a href=\"../problems\">Every problem type</a></p>\n");
    Some(body)
}

fn statuses(list: &[u16]) -> String {
    list.iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(" or ")
}

/// The catalogue's text with `code spans` as `<code>`; it is static, but
/// escaped all the same.
fn inline(text: &str) -> String {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let mut out = String::new();
    for (i, part) in escaped.split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str(&format!("<code>{part}</code>"));
        } else {
            out.push_str(part);
        }
    }
    out
}

fn page(title: &str, body: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"))
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} · bar-raiser</title>\n<style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}td,th{{text-align:left;padding:.2rem .6rem;vertical-align:top}}</style></head>\n<body>\n{body}</body></html>\n"
        ))
}
