//! Statements written out by hand so that they stay prepared.
//!
//! diesel keeps a statement prepared on its connection only when its query
//! builder vouches that the SQL text cannot vary with the values bound. It
//! never does for an `UPDATE` (a changeset may skip `None` fields), an
//! `INSERT` with a defaultable column or any raw SQL, so those statements
//! are parsed and planned on every execution — on PostgreSQL as `execute
//! <unnamed>`, an eighth of the database's CPU in a seal (BENCHMARKS.md).
//! Overriding the vouching on a wrapper does not work: diesel's connection
//! layers pass the statement on by reference, and `&T` asks the AST again.
//!
//! [`Fixed`] is a statement whose text is fixed in the source, with diesel
//! expressions (bound values) between its parts; walking it marks nothing
//! unsafe, so it is prepared once per connection and its text is its key.
//! The hot writes — the loop's lock, the seal, the audit chain's append —
//! are written this way in `db/`; their tests run them on both backends.

use std::marker::PhantomData;

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::Error;
use diesel::{QueryResult, RunQueryDsl};

/// `parts[0] binds.0 parts[1] binds.1 … parts[n]`, returning rows of `ST`
/// (`()` when it returns none).
pub struct Fixed<B, ST = ()> {
    parts: &'static [&'static str],
    binds: B,
    returns: PhantomData<ST>,
}

impl<B> Fixed<B> {
    /// A statement that returns no rows.
    pub fn new(parts: &'static [&'static str], binds: B) -> Self {
        Fixed {
            parts,
            binds,
            returns: PhantomData,
        }
    }

    /// A statement that returns rows of `ST` (`RETURNING`).
    pub fn returning<ST>(parts: &'static [&'static str], binds: B) -> Fixed<B, ST> {
        Fixed {
            parts,
            binds,
            returns: PhantomData,
        }
    }
}

impl<B, ST> QueryId for Fixed<B, ST> {
    type QueryId = ();
    // The key is the SQL text: two statements with the same bind types
    // must never share a prepared statement.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<B, ST: 'static> Query for Fixed<B, ST> {
    type SqlType = ST;
}

impl<B, ST, Conn> RunQueryDsl<Conn> for Fixed<B, ST> {}

macro_rules! fixed {
    ($n:expr; $($T:ident $i:tt),+) => {
        impl<DB, ST, $($T),+> QueryFragment<DB> for Fixed<($($T,)+), ST>
        where
            DB: Backend,
            $($T: QueryFragment<DB>,)+
        {
            fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
                if self.parts.len() != $n + 1 {
                    return Err(Error::QueryBuilderError(
                        format!("a fixed statement of {} binds has {} parts", $n, self.parts.len()).into(),
                    ));
                }
                $(
                    out.push_sql(self.parts[$i]);
                    self.binds.$i.walk_ast(out.reborrow())?;
                )+
                out.push_sql(self.parts[$n]);
                Ok(())
            }
        }
    };
}

fixed!(1; A 0);
fixed!(2; A 0, B 1);
fixed!(3; A 0, B 1, C 2);
fixed!(4; A 0, B 1, C 2, D 3);
fixed!(5; A 0, B 1, C 2, D 3, E 4);
fixed!(6; A 0, B 1, C 2, D 3, E 4, F 5);
fixed!(7; A 0, B 1, C 2, D 3, E 4, F 5, G 6);
fixed!(10; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use diesel::connection::{Connection, SimpleConnection};
    use diesel::prelude::*;
    use diesel::sql_types::{BigInt, Nullable, Text};

    use super::Fixed;
    use crate::db::DbConn;
    use crate::db::census::{Census, Probe};

    diesel::table! {
        kept_probe (id) {
            id -> BigInt,
            n -> BigInt,
            note -> Nullable<Text>,
        }
    }

    /// Bumps the probe row three times as a [`Fixed`] statement and three
    /// times as diesel's own `UPDATE`; how many statements each put into
    /// the connection's cache.
    fn cached_by(conn: &mut DbConn, census: &Census) -> (u64, u64) {
        let before = census.counts().cached;
        for _ in 0..3 {
            let n: i64 = Fixed::returning::<BigInt>(
                &[
                    "UPDATE kept_probe SET n = n + 1, note = ",
                    " WHERE id = ",
                    " RETURNING n",
                ],
                (
                    None::<String>.into_sql::<Nullable<Text>>(),
                    1_i64.into_sql::<BigInt>(),
                ),
            )
            .get_result(conn)
            .unwrap();
            assert!(n > 0);
        }
        let fixed = census.counts().cached - before;
        let before = census.counts().cached;
        for _ in 0..3 {
            diesel::update(kept_probe::table.find(1_i64))
                .set((
                    kept_probe::n.eq(kept_probe::n + 1),
                    kept_probe::note.eq(None::<String>),
                ))
                .execute(conn)
                .unwrap();
        }
        (fixed, census.counts().cached - before)
    }

    fn probed(mut conn: DbConn) -> (DbConn, Arc<Census>) {
        let census = Arc::new(Census::default());
        conn.set_instrumentation(Probe::new(census.clone()));
        conn.batch_execute(
            "CREATE TEMPORARY TABLE kept_probe (id BIGINT PRIMARY KEY, n BIGINT NOT NULL, note TEXT);
             INSERT INTO kept_probe VALUES (1, 0, NULL);",
        )
        .unwrap();
        (conn, census)
    }

    #[test]
    fn a_fixed_update_is_prepared_once_sqlite() {
        let (mut conn, census) = probed(DbConn::Sqlite(
            diesel::SqliteConnection::establish(":memory:").unwrap(),
        ));
        assert_eq!(cached_by(&mut conn, &census), (1, 0));
        let n: i64 = kept_probe::table
            .select(kept_probe::n)
            .get_result(&mut conn)
            .unwrap();
        assert_eq!(n, 6);
    }

    /// On PostgreSQL it is also one named prepared statement of the session.
    #[test]
    fn a_fixed_update_is_prepared_once_postgres() {
        let Ok(url) = std::env::var("BAR_RAISER_TEST_POSTGRES_URL") else {
            eprintln!("skipped: the PostgreSQL case needs BAR_RAISER_TEST_POSTGRES_URL");
            return;
        };
        let (mut conn, census) = probed(DbConn::Postgres(
            diesel::PgConnection::establish(&url).unwrap(),
        ));
        assert_eq!(cached_by(&mut conn, &census), (1, 0));
        let prepared: i64 = Fixed::returning::<BigInt>(
            &[
                "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE ",
                "",
            ],
            ("UPDATE kept_probe SET n = n + 1, note = %".into_sql::<Text>(),),
        )
        .get_result(&mut conn)
        .unwrap();
        assert_eq!(
            prepared, 1,
            "the fixed update is one prepared statement of the session"
        );
    }

    #[test]
    fn parts_must_match_binds() {
        let (mut conn, _) = probed(DbConn::Sqlite(
            diesel::SqliteConnection::establish(":memory:").unwrap(),
        ));
        let wrong = Fixed::new(
            &["UPDATE kept_probe SET n = "],
            (1_i64.into_sql::<BigInt>(),),
        );
        assert!(wrong.execute(&mut conn).is_err());
    }
}
