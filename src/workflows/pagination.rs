//! Cursor pagination: `?limit=&cursor=` in, `{items, next_cursor}` out.
//! Lists are ordered newest first by `(created_at, id)`; the cursor is the
//! opaque position of the last item served, so inserts never shift a page.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use uuid::Uuid;

use crate::error::{AppError, FieldError};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A validated page request.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub limit: i64,
    pub after: Option<(NaiveDateTime, Uuid)>,
}

impl PageRequest {
    pub fn parse(limit: Option<i64>, cursor: Option<&str>) -> Result<PageRequest, AppError> {
        let mut errors = Vec::new();
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            errors.push(FieldError::new(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let after = match cursor {
            None => None,
            Some(c) => match decode(c) {
                Some(pos) => Some(pos),
                None => {
                    errors.push(FieldError::new("cursor", "not a cursor this API issued"));
                    None
                }
            },
        };
        if errors.is_empty() {
            Ok(PageRequest { limit, after })
        } else {
            Err(AppError::Validation {
                code: "invalid_query",
                detail: "the query string is invalid".into(),
                errors,
            })
        }
    }

    /// The position to continue after, with the id typed as the list's.
    pub fn after<K: From<Uuid>>(&self) -> Option<(NaiveDateTime, K)> {
        self.after.map(|(at, id)| (at, K::from(id)))
    }

    /// One more than the page, to learn whether another page follows.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }
}

impl TryFrom<&PageQuery> for PageRequest {
    type Error = AppError;
    fn try_from(q: &PageQuery) -> Result<Self, AppError> {
        PageRequest::parse(q.limit, q.cursor.as_deref())
    }
}

pub fn encode(created_at: NaiveDateTime, id: impl std::fmt::Display) -> String {
    URL_SAFE_NO_PAD.encode(format!(
        "{}|{}",
        created_at.and_utc().timestamp_micros(),
        id
    ))
}

fn decode(cursor: &str) -> Option<(NaiveDateTime, Uuid)> {
    if cursor.len() > 200 {
        return None;
    }
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
    let (micros, id) = raw.split_once('|')?;
    let at = chrono::DateTime::from_timestamp_micros(micros.parse().ok()?)?.naive_utc();
    Some((at, Uuid::parse_str(id).ok()?))
}

/// A page of results.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from `rows` fetched with [`PageRequest::fetch`].
    pub fn from_rows<R, K: std::fmt::Display>(
        mut rows: Vec<R>,
        req: &PageRequest,
        key: impl Fn(&R) -> (NaiveDateTime, K),
        map: impl FnMut(R) -> T,
    ) -> Page<T> {
        let more = rows.len() as i64 > req.limit;
        rows.truncate(req.limit as usize);
        let next_cursor = if more {
            rows.last().map(|r| {
                let (at, id) = key(r);
                encode(at, id)
            })
        } else {
            None
        };
        Page {
            items: rows.into_iter().map(map).collect(),
            next_cursor,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_junk() {
        let at = chrono::DateTime::from_timestamp_micros(1_700_000_000_123_456)
            .unwrap()
            .naive_utc();
        let id = Uuid::new_v4();
        let c = encode(at, id);
        assert_eq!(decode(&c), Some((at, id)));
        for junk in ["", "!!!", "bm90IGEgY3Vyc29y", &"A".repeat(500)] {
            assert!(decode(junk).is_none(), "{junk}");
        }
    }

    #[test]
    fn limits() {
        assert!(PageRequest::parse(Some(0), None).is_err());
        assert!(PageRequest::parse(Some(-5), None).is_err());
        assert!(PageRequest::parse(Some(201), None).is_err());
        assert_eq!(PageRequest::parse(None, None).unwrap().limit, 50);
        assert_eq!(PageRequest::parse(Some(200), None).unwrap().limit, 200);
    }
}
