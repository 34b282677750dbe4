//! Bulk writes for the benchmark tools (`bar-raiser seed`,
//! `bar-raiser bench-commits`): many rows per statement and many loops per
//! transaction, so a realistic database of 100 000 loops takes minutes, not
//! hours. Nothing in the server uses this module.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::analytics::Snapshot;
use super::models::{
    AuditEventRow, CandidateRow, FeedbackRow, InterviewCompetencyRow, InterviewRow, LoopRow,
    QuickVoteRow, RatingRow, UserRow,
};
use super::schema::{
    analytics_agreement, analytics_loops, analytics_ratings, analytics_votes, audit_chains,
    audit_events, candidates, feedback, feedback_ratings, interview_competencies, interviews,
    loop_competencies, loops, quick_votes, users,
};
use super::types::{CompetencyId, LoopId};
use super::{DbConn, write_tx};

/// Bind parameters per statement: under SQLite's limit (32 766) and
/// PostgreSQL's (65 535).
const MAX_PARAMS: usize = 30_000;

/// Rows of one seeding transaction, inserted parents first.
#[derive(Default)]
pub struct Rows {
    pub users: Vec<UserRow>,
    pub candidates: Vec<CandidateRow>,
    pub loops: Vec<LoopRow>,
    /// `(loop_id, competency_id)`.
    pub loop_competencies: Vec<(LoopId, CompetencyId)>,
    /// New chains: `(chain, last_seq, last_hash)`, written with their final head.
    pub chains: Vec<(String, i32, String)>,
    pub interviews: Vec<InterviewRow>,
    pub interview_competencies: Vec<InterviewCompetencyRow>,
    pub quick_votes: Vec<QuickVoteRow>,
    pub feedback: Vec<FeedbackRow>,
    pub ratings: Vec<RatingRow>,
    pub events: Vec<AuditEventRow>,
    /// Existing chains whose head moves: `(chain, last_seq, last_hash)`.
    pub heads: Vec<(String, i32, String)>,
}

/// Multi-row inserts run on the concrete connection: diesel's
/// `MultiConnection` has no batch insert.
macro_rules! insert_chunks {
    ($conn:expr, $table:expr, $rows:expr, $columns:expr) => {
        for chunk in $rows.chunks((MAX_PARAMS / $columns).max(1)) {
            match &mut *$conn {
                DbConn::Postgres(c) => diesel::insert_into($table).values(chunk).execute(c)?,
                DbConn::Sqlite(c) => diesel::insert_into($table).values(chunk).execute(c)?,
            };
        }
    };
}

/// Writes `rows` in one transaction.
pub fn insert(conn: &mut DbConn, rows: &Rows) -> QueryResult<()> {
    write_tx(conn, |conn| {
        insert_chunks!(conn, users::table, &rows.users, 10);
        insert_chunks!(conn, candidates::table, &rows.candidates, 12);
        insert_chunks!(conn, loops::table, &rows.loops, 28);
        let lc: Vec<_> = rows
            .loop_competencies
            .iter()
            .map(|(l, c)| {
                (
                    loop_competencies::loop_id.eq(l),
                    loop_competencies::competency_id.eq(c),
                )
            })
            .collect();
        insert_chunks!(conn, loop_competencies::table, &lc, 2);
        let chains: Vec<_> = rows
            .chains
            .iter()
            .map(|(chain, seq, hash)| {
                (
                    audit_chains::chain.eq(chain),
                    audit_chains::last_seq.eq(*seq),
                    audit_chains::last_hash.eq(hash),
                )
            })
            .collect();
        insert_chunks!(conn, audit_chains::table, &chains, 3);
        insert_chunks!(conn, interviews::table, &rows.interviews, 14);
        insert_chunks!(
            conn,
            interview_competencies::table,
            &rows.interview_competencies,
            3
        );
        insert_chunks!(conn, quick_votes::table, &rows.quick_votes, 7);
        insert_chunks!(conn, feedback::table, &rows.feedback, 12);
        insert_chunks!(conn, feedback_ratings::table, &rows.ratings, 4);
        insert_chunks!(conn, audit_events::table, &rows.events, 10);
        for (chain, seq, hash) in &rows.heads {
            diesel::update(audit_chains::table.find(chain))
                .set((
                    audit_chains::last_seq.eq(*seq),
                    audit_chains::last_hash.eq(hash),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}

/// Writes the analytics snapshots of decided loops (as
/// `workflows::analytics::snapshot` computes them, with their per-day
/// coincidence roll-up) in one transaction,
/// many rows per statement.
pub fn insert_analytics(conn: &mut DbConn, snapshots: &[Snapshot]) -> QueryResult<()> {
    let loops: Vec<_> = snapshots.iter().map(|s| s.lp.clone()).collect();
    let votes: Vec<_> = snapshots.iter().flat_map(|s| s.votes.clone()).collect();
    let ratings: Vec<_> = snapshots.iter().flat_map(|s| s.ratings.clone()).collect();
    let agreement: Vec<_> = snapshots.iter().flat_map(|s| s.agreement.clone()).collect();
    write_tx(conn, |conn| {
        insert_chunks!(conn, analytics_loops::table, &loops, 22);
        insert_chunks!(conn, analytics_votes::table, &votes, 13);
        insert_chunks!(conn, analytics_ratings::table, &ratings, 5);
        insert_chunks!(conn, analytics_agreement::table, &agreement, 14);
        // The per-day roll-up the summary reads, as the capture keeps it.
        super::analytics::roll_up(conn, &agreement)?;
        Ok(())
    })
}

/// Settings for the seeding connection only: a page cache large enough for
/// the indexes of 100 000 loops (SQLite's default 2 MB turns every insert
/// into random reads), and commits that do not wait for the disk — a bulk
/// load that fails is simply run again.
pub fn bulk_session(conn: &mut DbConn) -> QueryResult<()> {
    match conn {
        // The seed writes whole loops at once: the triggers that move the
        // loop view's keys (and the foreign keys' checks) have nothing to
        // say about rows no server has read yet. Needs a superuser, as the
        // benchmark's own database is made by one.
        DbConn::Postgres(_) => conn
            .batch_execute("SET synchronous_commit = off; SET session_replication_role = replica"),
        DbConn::Sqlite(_) => {
            conn.batch_execute("PRAGMA cache_size = -1048576; PRAGMA synchronous = OFF")
        }
    }
}

/// A chain's head: `(last_seq, last_hash)`.
pub fn chain_head(conn: &mut DbConn, chain: &str) -> QueryResult<(i32, String)> {
    audit_chains::table
        .find(chain)
        .select((audit_chains::last_seq, audit_chains::last_hash))
        .first(conn)
}

/// Refreshes PostgreSQL's planner statistics and visibility map after a
/// bulk load (autovacuum would get there, but not before the first
/// measurement): the summary's percentiles walk an index in order
/// (`analytics_votes_seal_order`), which is an index-only scan only on
/// pages the visibility map marks all-visible — right after the load,
/// every entry is a heap fetch (~10× slower). SQLite is left
/// as the server leaves it, without `ANALYZE`: with its STAT4 statistics a
/// cached statement is re-prepared on every new binding of an indexed key.
/// Fresh statistics while the tables grow: without them PostgreSQL plans
/// the seeder's own reads (the analytics capture) for the empty tables it
/// last measured, and past ~50 000 loops they turn into sequential scans
/// (the seed rate fell fivefold). SQLite needs none.
pub fn analyze_growing(conn: &mut DbConn) -> QueryResult<()> {
    match conn {
        DbConn::Postgres(_) => conn.batch_execute("ANALYZE"),
        DbConn::Sqlite(_) => Ok(()),
    }
}

pub fn analyze(conn: &mut DbConn) -> QueryResult<()> {
    match conn {
        DbConn::Postgres(_) => conn.batch_execute("VACUUM ANALYZE"),
        DbConn::Sqlite(_) => Ok(()),
    }
}

// --- the raw commit ceiling --------------------------------------------------

diesel::table! {
    /// Scratch table of the commit probe; created and dropped by it.
    bench_commits (id) {
        id -> Text,
        at -> Timestamp,
    }
}

pub fn create_scratch(conn: &mut DbConn) -> QueryResult<()> {
    conn.batch_execute(
        "CREATE TABLE IF NOT EXISTS bench_commits (id TEXT PRIMARY KEY NOT NULL, at TIMESTAMP NOT NULL)",
    )
}

pub fn drop_scratch(conn: &mut DbConn) -> QueryResult<()> {
    conn.batch_execute("DROP TABLE IF EXISTS bench_commits")
}

/// One durable commit of one single-row insert, begun the way every write
/// of the server begins ([`write_tx`]).
pub fn commit_one(conn: &mut DbConn, id: &str) -> QueryResult<()> {
    write_tx(conn, |conn| {
        diesel::insert_into(bench_commits::table)
            .values((
                bench_commits::id.eq(id),
                bench_commits::at.eq(super::to_db(super::now())),
            ))
            .execute(conn)
            .map(|_| ())
    })
}
