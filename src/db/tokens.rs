//! Service tokens.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::api_tokens;
use super::types::{TokenId, UserId};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_tokens)]
pub struct ApiTokenRow {
    pub id: TokenId,
    pub name: String,
    pub token_hash: String,
    /// Space-separated scope names.
    pub scopes: String,
    pub created_by: UserId,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub last_used_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConn, row: &ApiTokenRow) -> QueryResult<()> {
    diesel::insert_into(api_tokens::table)
        .values(row)
        .execute(conn)
        .map(|_| ())
}

pub fn by_hash(conn: &mut DbConn, hash: &str) -> QueryResult<Option<ApiTokenRow>> {
    api_tokens::table
        .filter(api_tokens::token_hash.eq(hash))
        .select(ApiTokenRow::as_select())
        .first(conn)
        .optional()
}

pub fn by_id(conn: &mut DbConn, id: TokenId) -> QueryResult<Option<ApiTokenRow>> {
    api_tokens::table
        .find(id)
        .select(ApiTokenRow::as_select())
        .first(conn)
        .optional()
}

/// One page of tokens, newest first, after the `(created_at, id)` cursor.
pub fn page(
    conn: &mut DbConn,
    after: Option<(NaiveDateTime, TokenId)>,
    limit: i64,
) -> QueryResult<Vec<ApiTokenRow>> {
    let mut q = api_tokens::table
        .select(ApiTokenRow::as_select())
        .order((api_tokens::created_at.desc(), api_tokens::id.desc()))
        .limit(limit)
        .into_boxed();
    if let Some((at, id)) = after {
        q = q.filter(
            api_tokens::created_at
                .lt(at)
                .or(api_tokens::created_at.eq(at).and(api_tokens::id.lt(id))),
        );
    }
    q.load(conn)
}

pub fn revoke(conn: &mut DbConn, id: TokenId, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(
        api_tokens::table
            .find(id)
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(at))
    .execute(conn)
    .map(|_| ())
}

/// Records use, at most once a minute per token, so busy integrations do
/// not turn every read into a write.
pub fn touch(conn: &mut DbConn, id: TokenId, at: NaiveDateTime) -> QueryResult<()> {
    let stale = at - chrono::Duration::seconds(60);
    diesel::update(
        api_tokens::table.find(id).filter(
            api_tokens::last_used_at
                .is_null()
                .or(api_tokens::last_used_at.lt(stale)),
        ),
    )
    .set(api_tokens::last_used_at.eq(at))
    .execute(conn)
    .map(|_| ())
}
