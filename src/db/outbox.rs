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
