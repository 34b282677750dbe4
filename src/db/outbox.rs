//! The transactional outbox: rows written with the change that caused them.

use diesel::prelude::*;
use uuid::Uuid;

use super::models::OutboxRow;
use super::schema::outbox;
use super::{DbConn, now, to_db};

/// Queues one email. With a `dedupe_key` already present, does nothing.
#[allow(clippy::too_many_arguments)]
pub fn insert(
    conn: &mut DbConn,
    recipient: &str,
    subject: &str,
    text: &str,
    html: &str,
    loop_id: Option<&str>,
    dedupe_key: Option<&str>,
) -> QueryResult<bool> {
    if let Some(key) = dedupe_key {
        let exists: i64 = outbox::table
            .filter(outbox::dedupe_key.eq(key))
            .count()
            .get_result(conn)?;
        if exists > 0 {
            return Ok(false);
        }
    }
    let at = to_db(now());
    diesel::insert_into(outbox::table)
        .values(OutboxRow {
            id: Uuid::now_v7().to_string(),
            kind: "email".into(),
            dedupe_key: dedupe_key.map(str::to_string),
            recipient: recipient.to_string(),
            subject: subject.to_string(),
            body_text: text.to_string(),
            body_html: html.to_string(),
            loop_id: loop_id.map(str::to_string),
            status: "pending".into(),
            attempts: 0,
            next_attempt_at: at,
            lease_until: None,
            last_error: None,
            created_at: at,
            delivered_at: None,
        })
        .execute(conn)?;
    Ok(true)
}

/// Replaces an erased candidate's name in every message about their loops,
/// queued or sent, so erasure leaves no copy behind.
pub fn redact_candidate(
    conn: &mut DbConn,
    candidate_id: &str,
    name: &str,
    replacement: &str,
) -> QueryResult<()> {
    use super::schema::loops;
    if name.trim().is_empty() {
        return Ok(());
    }
    let loop_ids: Vec<String> = loops::table
        .filter(loops::candidate_id.eq(candidate_id))
        .select(loops::id)
        .load(conn)?;
    let rows: Vec<(String, String, String, String)> = outbox::table
        .filter(outbox::loop_id.eq_any(&loop_ids))
        .select((
            outbox::id,
            outbox::subject,
            outbox::body_text,
            outbox::body_html,
        ))
        .load(conn)?;
    let escaped = name
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;");
    for (id, subject, text, html) in rows {
        diesel::update(outbox::table.find(&id))
            .set((
                outbox::subject.eq(subject.replace(name, replacement)),
                outbox::body_text.eq(text.replace(name, replacement)),
                outbox::body_html.eq(html
                    .replace(&escaped, replacement)
                    .replace(name, replacement)),
            ))
            .execute(conn)?;
    }
    Ok(())
}
