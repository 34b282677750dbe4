//! Conditional writes against lost updates (RFC 9110 §13.1.1): the
//! resource's entity tag is its `updated_at` to the microsecond, and a
//! write's `If-Match` is compared inside the write transaction, so two
//! clients cannot both pass the check and overwrite each other.

use chrono::NaiveDateTime;

use crate::error::{AppError, AppResult};

/// The strong entity tag of a resource last changed at `updated_at`.
pub fn etag(updated_at: NaiveDateTime) -> String {
    format!("\"{}\"", updated_at.and_utc().timestamp_micros())
}

/// The request's `If-Match`, if any: `*` or a list of entity tags.
#[derive(Debug, Clone, Default)]
pub struct IfMatch(Option<Vec<String>>);

impl IfMatch {
    /// From the header's values, each `None` when it was not text (such a
    /// value matches nothing, and so fails).
    pub fn from_values<'a>(values: impl IntoIterator<Item = Option<&'a str>>) -> IfMatch {
        let mut present = false;
        let mut tags = Vec::new();
        for value in values {
            present = true;
            let Some(text) = value else { continue };
            tags.extend(
                text.split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_string),
            );
        }
        IfMatch(present.then_some(tags))
    }

    /// Whether the condition holds for a resource whose current tag is
    /// `current`: no header; `*` (the resource exists, or we would not be
    /// here); or one listed tag equal to it by strong comparison (a weak
    /// `W/` tag never matches).
    pub fn matches(&self, current: &str) -> bool {
        match &self.0 {
            None => true,
            Some(tags) => tags.iter().any(|t| t == "*" || t == current),
        }
    }

    /// 412 `precondition_failed` unless [`IfMatch::matches`] the resource
    /// last changed at `updated_at`.
    pub fn check(&self, updated_at: NaiveDateTime) -> AppResult<()> {
        if self.matches(&etag(updated_at)) {
            Ok(())
        } else {
            Err(AppError::PreconditionFailed)
        }
    }
}

/// An outcome with the entity tag of the resource it shows.
#[derive(Debug)]
pub struct Tagged<T> {
    pub etag: String,
    pub body: T,
}

impl<T> Tagged<T> {
    /// `body`, of a resource last changed at `updated_at`.
    pub fn at(updated_at: NaiveDateTime, body: T) -> Tagged<T> {
        Tagged {
            etag: etag(updated_at),
            body,
        }
    }
}
