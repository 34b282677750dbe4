//! Typed columns: one id newtype per entity and the domain's closed enums,
//! read and written as the `Text` the schema declares.
//!
//! A stored value that does not parse (a malformed id, an enum spelling the
//! code does not know) fails the read with diesel's deserialization error,
//! which `AppError` answers as any internal error: logged with its cause, a
//! 500 whose body says nothing about it. There is no fallback value: a
//! corrupt row is a bug to find, not something to paper over with the nil
//! UUID or a default.
//!
//! The connection is a `MultiConnection`, so the backend is the generated
//! [`MultiBackend`]. Enums write their `&'static str` spelling through
//! `str`'s own binding; ids, which have no stored text to lend, implement
//! `ToSql<Text, _>` for each real backend and hand themselves to
//! `MultiBackend`, which dispatches to the backend of the connection. Both
//! read through `String`. The domain's types stay free of diesel: the
//! impls for its enums live here.

use std::io::Write;

use diesel::deserialize::{self, FromSql, Queryable};
use diesel::expression::AsExpression;
use diesel::pg::Pg;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::{Nullable, Text};
use diesel::sqlite::Sqlite;
use serde::Serialize;
use uuid::Uuid;

use super::MultiBackend;
use crate::domain::types::{
    AccountRole, InterviewRole, LoopState, Outcome, ProgramState, QuickVoteMode, ReadVia,
    SignOffOutcome, StoredFeedbackState, Verdict, Vote,
};

/// Reads a column's text; the one way typed columns leave the driver.
fn text(
    bytes: <MultiBackend as diesel::backend::Backend>::RawValue<'_>,
) -> deserialize::Result<String> {
    <String as FromSql<Text, MultiBackend>>::from_sql(bytes)
}

/// A stored id: exactly the lower-case hyphenated text that is written,
/// so what is read is what a receipt or a join saw.
fn stored_uuid(s: &str) -> Option<Uuid> {
    if s.len() != 36 || s.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    Uuid::parse_str(s).ok()
}

/// Declares id newtypes: a `Uuid` that is stored as its hyphenated text.
macro_rules! ids {
    ($($(#[$meta:meta])* $name:ident;)+) => {$(
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            Serialize, diesel::AsExpression, diesel::FromSqlRow,
        )]
        #[serde(transparent)]
        #[diesel(sql_type = Text)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh random id, for a row about to be inserted.
            pub fn random() -> $name {
                $name(Uuid::new_v4())
            }

            pub fn uuid(self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> $name {
                $name(id)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<$name, uuid::Error> {
                Uuid::parse_str(s).map($name)
            }
        }

        /// As the database writes it (PostgreSQL's JSON of a row): the
        /// stored text exactly, as [`FromSql`] reads it.
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                let s = String::deserialize(d)?;
                stored_uuid(&s).map($name).ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        concat!("malformed ", stringify!($name), " {:?} in the database"),
                        s
                    ))
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl PartialEq<Uuid> for $name {
            fn eq(&self, other: &Uuid) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<$name> for Uuid {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl ToSql<Text, Pg> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                out.write_all(self.0.hyphenated().encode_lower(&mut Uuid::encode_buffer()).as_bytes())?;
                Ok(serialize::IsNull::No)
            }
        }

        impl ToSql<Text, Sqlite> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                out.set_value(self.0.hyphenated().to_string());
                Ok(serialize::IsNull::No)
            }
        }

        impl ToSql<Text, MultiBackend> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                out.set_value((Text, self));
                Ok(serialize::IsNull::No)
            }
        }

        impl FromSql<Text, MultiBackend> for $name {
            fn from_sql(
                bytes: <MultiBackend as diesel::backend::Backend>::RawValue<'_>,
            ) -> deserialize::Result<$name> {
                let s = text(bytes)?;
                stored_uuid(&s).map($name).ok_or_else(|| {
                    format!(concat!("malformed ", stringify!($name), " {:?} in the database"), s).into()
                })
            }
        }
    )+};
}

ids! {
    /// A person's account (`users.id` and every column naming a person).
    UserId;
    /// A refresh token (`refresh_tokens.id`).
    RefreshTokenId;
    /// The family a refresh token was rotated from (`refresh_tokens.family_id`).
    TokenFamilyId;
    /// A competency of the catalog.
    CompetencyId;
    /// A candidate.
    CandidateId;
    /// An interview loop.
    LoopId;
    /// An interview of a loop.
    InterviewId;
    /// The feedback of an interview.
    FeedbackId;
    /// An addendum to sealed feedback.
    AddendumId;
    /// A logged read of someone else's feedback.
    ReadId;
    /// A quick vote (issue 17).
    QuickVoteId;
    /// A mentor's sign-off of a reverse-shadowed loop (issue 17).
    SignOffId;
    /// A service token (`api_tokens.id`).
    TokenId;
    /// A SCIM group (`scim_groups.id`).
    ScimGroupId;
    /// A webhook subscription.
    WebhookId;
    /// An event of an audit chain.
    AuditEventId;
}

/// Maps the domain's string enums (`domain::types`, declared with
/// `string_enum!`) to `Text` columns, in the spelling of their `as_str`.
macro_rules! text_enums {
    ($($name:ty),+ $(,)?) => {$(
        impl AsExpression<Text> for $name {
            type Expression = <&'static str as AsExpression<Text>>::Expression;
            fn as_expression(self) -> Self::Expression {
                AsExpression::<Text>::as_expression(self.as_str())
            }
        }

        impl AsExpression<Nullable<Text>> for $name {
            type Expression = <&'static str as AsExpression<Nullable<Text>>>::Expression;
            fn as_expression(self) -> Self::Expression {
                AsExpression::<Nullable<Text>>::as_expression(self.as_str())
            }
        }

        impl AsExpression<Text> for &$name {
            type Expression = <&'static str as AsExpression<Text>>::Expression;
            fn as_expression(self) -> Self::Expression {
                AsExpression::<Text>::as_expression(self.as_str())
            }
        }

        impl AsExpression<Nullable<Text>> for &$name {
            type Expression = <&'static str as AsExpression<Nullable<Text>>>::Expression;
            fn as_expression(self) -> Self::Expression {
                AsExpression::<Nullable<Text>>::as_expression(self.as_str())
            }
        }

        // For `Option<_>` values, which diesel binds as themselves (on the
        // concrete connections too: the seeder's batch inserts).
        impl ToSql<Text, MultiBackend> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                <str as ToSql<Text, MultiBackend>>::to_sql(self.as_str(), out)
            }
        }

        impl ToSql<Text, Pg> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <str as ToSql<Text, Pg>>::to_sql(self.as_str(), out)
            }
        }

        impl ToSql<Text, Sqlite> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                <str as ToSql<Text, Sqlite>>::to_sql(self.as_str(), out)
            }
        }

        impl FromSql<Text, MultiBackend> for $name {
            fn from_sql(
                bytes: <MultiBackend as diesel::backend::Backend>::RawValue<'_>,
            ) -> deserialize::Result<$name> {
                let s = text(bytes)?;
                s.parse().map_err(|_| {
                    format!(concat!("unknown ", stringify!($name), " {:?} in the database"), s).into()
                })
            }
        }

        impl Queryable<Text, MultiBackend> for $name {
            type Row = $name;
            fn build(row: $name) -> deserialize::Result<$name> {
                Ok(row)
            }
        }
    )+};
}

text_enums!(
    AccountRole,
    InterviewRole,
    LoopState,
    Vote,
    Outcome,
    Verdict,
    StoredFeedbackState,
    ReadVia,
    QuickVoteMode,
    ProgramState,
    SignOffOutcome,
    super::outbox::Kind,
    super::outbox::Status,
);

#[cfg(test)]
mod tests {
    use diesel::dsl::sql;
    use diesel::prelude::*;

    use super::*;
    use crate::db::DbConn;

    /// The error and its causes, as the log shows them.
    fn chain(e: &dyn std::error::Error) -> String {
        let mut out = e.to_string();
        let mut cause = e.source();
        while let Some(c) = cause {
            out.push_str(": ");
            out.push_str(&c.to_string());
            cause = c.source();
        }
        out
    }

    fn sqlite() -> DbConn {
        DbConn::Sqlite(diesel::SqliteConnection::establish(":memory:").unwrap())
    }

    #[test]
    fn ids_and_enums_bind_and_read_as_their_text() {
        let mut c = sqlite();
        let id = LoopId::random();
        let text: String = diesel::select(id.into_sql::<Text>())
            .get_result(&mut c)
            .unwrap();
        assert_eq!(text, id.uuid().hyphenated().to_string());
        let back: LoopId = diesel::select(sql::<Text>(&format!("'{id}'")))
            .get_result(&mut c)
            .unwrap();
        assert_eq!(back, id);
        for s in LoopState::ALL {
            let text: String = diesel::select(s.into_sql::<Text>())
                .get_result(&mut c)
                .unwrap();
            assert_eq!(text, s.as_str());
            let back: LoopState = diesel::select(sql::<Text>(&format!("'{s}'")))
                .get_result(&mut c)
                .unwrap();
            assert_eq!(back, *s);
        }
        let none: Option<Vote> = diesel::select(sql::<Nullable<Text>>("NULL"))
            .get_result(&mut c)
            .unwrap();
        assert_eq!(none, None);
    }

    #[test]
    fn a_value_that_does_not_parse_fails_the_read() {
        let mut c = sqlite();
        for junk in [
            "'not-an-id'",
            "''",
            "'00000000-0000-0000-0000'",
            // Forms a parser would take, but not the one written.
            "'{67e55044-10b1-426f-9247-bb680e5fe0c8}'",
            "'67E55044-10B1-426F-9247-BB680E5FE0C8'",
            "'67e5504410b1426f9247bb680e5fe0c8'",
        ] {
            let e = diesel::select(sql::<Text>(junk))
                .get_result::<UserId>(&mut c)
                .unwrap_err();
            assert!(
                matches!(e, diesel::result::Error::DeserializationError(_)),
                "{e:?}"
            );
            assert!(chain(&e).contains("malformed UserId"), "{e}");
        }
        let e = diesel::select(sql::<Text>("'limbo'"))
            .get_result::<LoopState>(&mut c)
            .unwrap_err();
        assert!(
            chain(&e).contains("unknown LoopState \"limbo\" in the database"),
            "{e}"
        );
        let e = diesel::select(sql::<Nullable<Text>>("'neutral'"))
            .get_result::<Option<Vote>>(&mut c)
            .unwrap_err();
        assert!(chain(&e).contains("unknown Vote"), "{e}");
    }
}
