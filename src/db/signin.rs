//! Sign-in counters: stored here, judged in `domain::signin`.
//!
//! An attempt takes its counters with one conditional upsert each, before
//! its password is checked: the row is created or bumped only if it admits
//! an attempt now, and the statement answers with the new count. Two
//! attempts — on two threads, or two instances on one PostgreSQL database —
//! cannot both read the same count: PostgreSQL's `ON CONFLICT DO UPDATE`
//! locks the row and re-checks its condition on the latest version, and
//! SQLite runs one write transaction at a time. All of an attempt's counters
//! are taken in one savepoint, so an attempt refused by one counter is
//! counted by none.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::DbConn;
use super::schema::signin_counters;
use crate::domain::signin::{Credit, Limits, Scope};

/// What the counters said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// Evaluate the password; each counter's attempts, this one included.
    Admitted(Vec<(Scope, i64)>),
    /// Do not: this counter admits the next attempt at `next_at_ms`.
    Refused { scope: Scope, next_at_ms: i64 },
}

#[derive(QueryableByName)]
struct Bumped {
    #[diesel(sql_type = BigInt)]
    attempts: i64,
}

/// The conditional upsert, written once with `$n` placeholders.
const BUMP: &str = "INSERT INTO signin_counters (key, attempts, last_at, next_at) \
     VALUES ($1, 1, $2, 0) \
     ON CONFLICT (key) DO UPDATE SET \
       attempts = CASE WHEN signin_counters.last_at < $3 THEN 1 \
                       ELSE signin_counters.attempts + 1 END, \
       last_at = $2 \
     WHERE signin_counters.next_at <= $2 OR signin_counters.last_at < $3 \
     RETURNING attempts";

/// Bumps one counter if it admits an attempt at `now_ms`; `None` if not.
fn bump(conn: &mut DbConn, key: &str, limits: Limits, now_ms: i64) -> QueryResult<Option<i64>> {
    let forgotten_before = limits.forgotten_before(now_ms);
    let bumped = match conn {
        DbConn::Postgres(c) => diesel::sql_query(BUMP)
            .bind::<Text, _>(key)
            .bind::<BigInt, _>(now_ms)
            .bind::<BigInt, _>(forgotten_before)
            .get_result::<Bumped>(c)
            .optional()?,
        // SQLite's numbered parameters are `?n`.
        DbConn::Sqlite(c) => diesel::sql_query(BUMP.replace('$', "?"))
            .bind::<Text, _>(key)
            .bind::<BigInt, _>(now_ms)
            .bind::<BigInt, _>(forgotten_before)
            .get_result::<Bumped>(c)
            .optional()?,
    };
    let Some(Bumped { attempts }) = bumped else {
        return Ok(None);
    };
    // Still inside the transaction that holds the row: nobody else reads
    // it before the next attempt's time is set.
    let next_at = limits.next_at_ms(attempts, now_ms);
    diesel::update(signin_counters::table.find(key))
        .set(signin_counters::next_at.eq(next_at))
        .execute(conn)?;
    Ok(Some(attempts))
}

enum Stop {
    Refused(Scope),
    Db(diesel::result::Error),
}

impl From<diesel::result::Error> for Stop {
    fn from(e: diesel::result::Error) -> Self {
        Stop::Db(e)
    }
}

/// Takes an attempt from every counter, in the order given, or from none.
/// Call inside a write transaction.
pub fn claim(conn: &mut DbConn, counters: &[(Scope, String)], now_ms: i64) -> QueryResult<Claim> {
    let taken = conn.transaction::<_, Stop, _>(|conn| {
        let mut taken = Vec::with_capacity(counters.len());
        for (scope, key) in counters {
            match bump(conn, key, scope.limits(), now_ms)? {
                Some(n) => taken.push((*scope, n)),
                None => return Err(Stop::Refused(*scope)),
            }
        }
        Ok(taken)
    });
    match taken {
        Ok(taken) => Ok(Claim::Admitted(taken)),
        Err(Stop::Db(e)) => Err(e),
        Err(Stop::Refused(scope)) => {
            let key = &counters
                .iter()
                .find(|(s, _)| *s == scope)
                .expect("the refusing counter is one of these")
                .1;
            let next_at_ms = signin_counters::table
                .find(key)
                .select(signin_counters::next_at)
                .get_result::<i64>(conn)
                .optional()?
                .unwrap_or(now_ms);
            Ok(Claim::Refused { scope, next_at_ms })
        }
    }
}

/// A successful sign-in: each counter as [`Scope::on_success`] says; one
/// given back below its free attempts stops waiting.
pub fn credit(conn: &mut DbConn, counters: &[(Scope, String)]) -> QueryResult<()> {
    for (scope, key) in counters {
        if scope.on_success() == Credit::Reset {
            diesel::delete(signin_counters::table.find(key)).execute(conn)?;
            continue;
        }
        let left: Option<i64> = diesel::update(
            signin_counters::table
                .find(key)
                .filter(signin_counters::attempts.gt(0)),
        )
        .set(signin_counters::attempts.eq(signin_counters::attempts - 1))
        .returning(signin_counters::attempts)
        .get_result(conn)
        .optional()?;
        if let Some(left) = left
            && !scope.limits().waits_after(left)
        {
            diesel::update(signin_counters::table.find(key))
                .set(signin_counters::next_at.eq(0))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// A counter's attempts, for tests and operators.
pub fn attempts(conn: &mut DbConn, key: &str) -> QueryResult<Option<i64>> {
    signin_counters::table
        .find(key)
        .select(signin_counters::attempts)
        .get_result(conn)
        .optional()
}
