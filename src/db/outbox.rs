//! The transactional outbox: rows written with the change that caused them,
//! then claimed, marked and requeued by the delivery worker, plus the
//! queries that decide which feedback reminders are due.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use uuid::Uuid;

use super::models::OutboxRow;
use super::schema::outbox;
use super::types::{InterviewId, LoopId, QuickVoteId, UserId};
use super::{DbConn, now, to_db};
use crate::domain::types::{InterviewRole, LoopState, QuickVoteMode, StoredFeedbackState};

/// What an outbox row is delivered as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Email,
    /// An HTTP POST; `recipient` is `webhook:{id}`, `subject` the event type.
    Webhook,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Email => "email",
            Kind::Webhook => "webhook",
        }
    }
}

impl std::str::FromStr for Kind {
    type Err = ();
    fn from_str(s: &str) -> Result<Kind, ()> {
        [Kind::Email, Kind::Webhook]
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(())
    }
}

/// Queues one email. With a `dedupe_key` already present, does nothing.
/// `candidate_name` fills the placeholders of subject and bodies at send
/// time (`notify::templates::fill`).
#[allow(clippy::too_many_arguments)]
pub fn insert(
    conn: &mut DbConn,
    recipient: &str,
    subject: &str,
    text: &str,
    html: &str,
    loop_id: Option<&str>,
    dedupe_key: Option<&str>,
    candidate_name: Option<&str>,
) -> QueryResult<bool> {
    insert_row(
        conn,
        Kind::Email,
        recipient,
        (subject, text, html),
        loop_id,
        dedupe_key,
        candidate_name,
        None,
    )
}

/// Queues one email carrying a calendar invitation (`calendar`, JSON:
/// `notify::invite::Stored`), never deduplicated.
pub fn insert_invite(
    conn: &mut DbConn,
    recipient: &str,
    (subject, text, html): (&str, &str, &str),
    loop_id: &str,
    candidate_name: &str,
    calendar: &str,
) -> QueryResult<bool> {
    insert_row(
        conn,
        Kind::Email,
        recipient,
        (subject, text, html),
        Some(loop_id),
        None,
        Some(candidate_name),
        Some(calendar),
    )
}

/// Queues one message of any kind. With a `dedupe_key` already present,
/// does nothing.
#[allow(clippy::too_many_arguments)]
pub fn insert_kind(
    conn: &mut DbConn,
    kind: Kind,
    recipient: &str,
    subject: &str,
    text: &str,
    html: &str,
    loop_id: Option<&str>,
    dedupe_key: Option<&str>,
) -> QueryResult<bool> {
    insert_row(
        conn,
        kind,
        recipient,
        (subject, text, html),
        loop_id,
        dedupe_key,
        None,
        None,
    )
}

#[allow(clippy::too_many_arguments)]
fn insert_row(
    conn: &mut DbConn,
    kind: Kind,
    recipient: &str,
    (subject, text, html): (&str, &str, &str),
    loop_id: Option<&str>,
    dedupe_key: Option<&str>,
    candidate_name: Option<&str>,
    calendar: Option<&str>,
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
            kind,
            dedupe_key: dedupe_key.map(str::to_string),
            recipient: recipient.to_string(),
            subject: subject.to_string(),
            body_text: text.to_string(),
            body_html: html.to_string(),
            loop_id: loop_id.map(str::to_string),
            status: Status::Pending,
            attempts: 0,
            next_attempt_at: at,
            lease_until: None,
            last_error: None,
            created_at: at,
            delivered_at: None,
            candidate_name: candidate_name.map(str::to_string),
            calendar: calendar.map(str::to_string),
        })
        .execute(conn)?;
    Ok(true)
}

/// Erases a candidate's name from every message about their loops, queued
/// or sent, so erasure leaves no copy behind.
///
/// Messages keep the name in one field, `candidate_name`, and a placeholder
/// where subject and bodies show it: erasure rewrites that field and
/// nothing else, so a short name ("Al") cannot touch "Alice", "Always" or
/// an interviewer called Alan. Messages queued before that field existed
/// (`candidate_name` NULL, the name written into the text) still get the
/// name replaced as text: over-scrubbing an old message is the lesser harm.
pub fn redact_candidate(
    conn: &mut DbConn,
    candidate_id: &str,
    name: &str,
    replacement: &str,
) -> QueryResult<()> {
    use super::schema::loops;
    let loop_ids: Vec<String> = loops::table
        .filter(loops::candidate_id.eq(candidate_id))
        .select(loops::id)
        .load(conn)?;
    diesel::update(
        outbox::table
            .filter(outbox::loop_id.eq_any(&loop_ids))
            .filter(outbox::candidate_name.is_not_null()),
    )
    .set(outbox::candidate_name.eq(replacement))
    .execute(conn)?;
    if name.trim().is_empty() {
        return Ok(());
    }
    let rows: Vec<(String, String, String, String)> = outbox::table
        .filter(outbox::loop_id.eq_any(&loop_ids))
        .filter(outbox::candidate_name.is_null())
        .filter(outbox::kind.eq(Kind::Email))
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

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pending,
    Delivered,
    Dead,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Delivered => "delivered",
            Status::Dead => "dead",
        }
    }
}

impl std::str::FromStr for Status {
    type Err = ();
    fn from_str(s: &str) -> Result<Status, ()> {
        [Status::Pending, Status::Delivered, Status::Dead]
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(())
    }
}

/// Selects the rows (mail and webhooks) a worker may take now: pending, due, and not
/// leased by a live worker. A macro because PostgreSQL appends its lock
/// clause to the same query on its own connection type.
macro_rules! due_ids {
    ($at:expr, $batch:expr) => {
        outbox::table
            .filter(outbox::kind.eq_any([Kind::Email, Kind::Webhook]))
            .filter(outbox::status.eq(Status::Pending))
            .filter(outbox::next_attempt_at.le($at))
            .filter(
                outbox::lease_until
                    .is_null()
                    .or(outbox::lease_until.lt($at)),
            )
            .order((outbox::next_attempt_at.asc(), outbox::id.asc()))
            .limit($batch)
            .select(outbox::id)
    };
}

/// Leases up to `batch` due messages to the caller until `lease_until` and
/// returns them, oldest due first. On PostgreSQL concurrent claimers skip
/// each other's rows (`FOR UPDATE SKIP LOCKED`), so no message goes to two
/// workers; on SQLite the write transaction already serialises claimers.
/// A worker that dies keeps its messages only until the lease runs out.
pub fn claim(
    conn: &mut DbConn,
    batch: i64,
    lease_until: NaiveDateTime,
) -> QueryResult<Vec<OutboxRow>> {
    let at = to_db(now());
    super::write_tx(conn, |conn| {
        let ids: Vec<String> = match conn {
            DbConn::Postgres(c) => due_ids!(at, batch).for_update().skip_locked().load(c)?,
            DbConn::Sqlite(c) => due_ids!(at, batch).load(c)?,
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        diesel::update(outbox::table.filter(outbox::id.eq_any(&ids)))
            .set(outbox::lease_until.eq(Some(lease_until)))
            .execute(conn)?;
        outbox::table
            .filter(outbox::id.eq_any(&ids))
            .order((outbox::next_attempt_at.asc(), outbox::id.asc()))
            .select(OutboxRow::as_select())
            .load(conn)
    })
}

/// Rows still held under this exact lease: a worker whose lease ran out
/// (and whose message another worker may have taken) changes nothing.
macro_rules! held {
    ($id:expr, $lease:expr) => {
        outbox::table
            .filter(outbox::id.eq($id))
            .filter(outbox::status.eq(Status::Pending))
            .filter(outbox::lease_until.eq($lease))
    };
}

/// Records that a delivery attempt starts, before anything is sent: the
/// attempt counts even if its outcome can never be recorded (a full disk,
/// a lost database), and a database that refuses this write stops the
/// send. False when the lease was lost meanwhile.
pub fn begin_attempt(conn: &mut DbConn, id: &str, lease: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(held!(id, lease))
        .set(outbox::attempts.eq(outbox::attempts + 1))
        .execute(conn)?;
    Ok(n == 1)
}

/// Records a successful delivery (its attempt was counted by
/// [`begin_attempt`]). False when the lease was lost meanwhile.
pub fn mark_delivered(conn: &mut DbConn, id: &str, lease: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(held!(id, lease))
        .set((
            outbox::status.eq(Status::Delivered),
            outbox::delivered_at.eq(Some(to_db(now()))),
            outbox::lease_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Records a failed attempt (counted by [`begin_attempt`]): with `retry_at`
/// the message waits until then, without it the message is dead. False
/// when the lease was lost meanwhile.
pub fn mark_failed(
    conn: &mut DbConn,
    id: &str,
    lease: NaiveDateTime,
    error: &str,
    retry_at: Option<NaiveDateTime>,
) -> QueryResult<bool> {
    let target = held!(id, lease);
    let n = match retry_at {
        Some(at) => diesel::update(target)
            .set((
                outbox::next_attempt_at.eq(at),
                outbox::lease_until.eq(None::<NaiveDateTime>),
                outbox::last_error.eq(Some(error)),
            ))
            .execute(conn)?,
        None => diesel::update(target)
            .set((
                outbox::status.eq(Status::Dead),
                outbox::lease_until.eq(None::<NaiveDateTime>),
                outbox::last_error.eq(Some(error)),
            ))
            .execute(conn)?,
    };
    Ok(n == 1)
}

/// Gives claimed but unsent messages back at once (a worker stopping
/// cleanly), so the next worker need not wait for the lease to run out.
pub fn release(conn: &mut DbConn, ids: &[String], lease: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        outbox::table
            .filter(outbox::id.eq_any(ids))
            .filter(outbox::status.eq(Status::Pending))
            .filter(outbox::lease_until.eq(lease)),
    )
    .set(outbox::lease_until.eq(None::<NaiveDateTime>))
    .execute(conn)
}

/// Messages in the given states, oldest first.
pub fn list(conn: &mut DbConn, statuses: &[Status], limit: i64) -> QueryResult<Vec<OutboxRow>> {
    outbox::table
        .filter(outbox::status.eq_any(statuses.to_vec()))
        .order((outbox::created_at.asc(), outbox::id.asc()))
        .limit(limit)
        .select(OutboxRow::as_select())
        .load(conn)
}

/// How many messages are in each state: (pending, delivered, dead).
pub fn counts(conn: &mut DbConn) -> QueryResult<(i64, i64, i64)> {
    let rows: Vec<(Status, i64)> = outbox::table
        .group_by(outbox::status)
        .select((outbox::status, diesel::dsl::count_star()))
        .load(conn)?;
    let of = |s: Status| rows.iter().find(|(st, _)| *st == s).map_or(0, |(_, n)| *n);
    Ok((of(Status::Pending), of(Status::Delivered), of(Status::Dead)))
}

/// Puts dead messages back in the queue with a fresh attempt budget: the
/// given ones, or every dead one when `ids` is `None`. Returns how many.
pub fn requeue_dead(conn: &mut DbConn, ids: Option<&[String]>) -> QueryResult<usize> {
    let mut q = diesel::update(outbox::table)
        .filter(outbox::status.eq(Status::Dead))
        .into_boxed();
    if let Some(ids) = ids {
        q = q.filter(outbox::id.eq_any(ids));
    }
    q.set((
        outbox::status.eq(Status::Pending),
        outbox::attempts.eq(0),
        outbox::next_attempt_at.eq(to_db(now())),
        outbox::lease_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)
}

/// One interview that may need a feedback reminder, with what the message
/// names. No feedback content is loaded: only whether it is sealed.
#[derive(Debug, Clone)]
pub struct ReminderFacts {
    pub interview_id: InterviewId,
    pub interviewer_id: UserId,
    pub loop_role: InterviewRole,
    pub starts_at: NaiveDateTime,
    pub duration_minutes: i32,
    pub excused: bool,
    pub feedback: Option<StoredFeedbackState>,
    pub loop_id: LoopId,
    pub loop_state: LoopState,
    pub position: String,
    pub feedback_due_hours: i32,
    pub recruiter_id: UserId,
    pub bar_raiser_id: UserId,
    pub candidate: String,
    pub quick_vote: QuickVoteMode,
    pub quick_voted: bool,
}

/// The next page of scheduled loops for the reminder scan: at most `limit`
/// ids after `after`, in id order (index `loops_state_id`, nothing to sort).
/// The scan walks loops, not interviews: a loop's id is the same text in
/// every store, where a key on `starts_at` had to be compared in the
/// store's own spelling of it (SQLite keeps timestamps as text).
pub fn scheduled_loops(
    conn: &mut DbConn,
    after: Option<LoopId>,
    limit: i64,
) -> QueryResult<Vec<LoopId>> {
    use super::schema::loops;
    let mut query = loops::table
        .filter(loops::state.eq(LoopState::Scheduled))
        .select(loops::id)
        .order(loops::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(loops::id.gt(after));
    }
    query.load(conn)
}

/// Which open interviews [`open_interviews`] reads.
pub enum Among<'a> {
    /// Those of these loops that started before the instant (no later
    /// interview can be due yet): one page of the scan.
    Loops(&'a [LoopId], NaiveDateTime),
    /// These interviews, read again inside the transaction that queues
    /// their reminders.
    Interviews(&'a [InterviewId]),
}

/// The interviews `domain::reminders::needs_reminding` can accept (of
/// `scheduled` loops, not excused, feedback not sealed: the same conditions,
/// in SQL, so the scan reads only those) among `among`, with the facts the
/// rule reads; the worker applies the rule itself. No feedback content is
/// loaded: only whether it is sealed.
pub fn open_interviews(conn: &mut DbConn, among: Among<'_>) -> QueryResult<Vec<ReminderFacts>> {
    use super::schema::{candidates, feedback, interviews, loops, quick_votes};
    type Row = (
        (
            InterviewId,
            UserId,
            InterviewRole,
            NaiveDateTime,
            i32,
            Option<NaiveDateTime>,
            Option<StoredFeedbackState>,
            Option<QuickVoteId>,
        ),
        (
            LoopId,
            LoopState,
            String,
            i32,
            UserId,
            UserId,
            QuickVoteMode,
        ),
        String,
    );
    let mut query = interviews::table
        .inner_join(loops::table.inner_join(candidates::table))
        .left_join(feedback::table)
        .left_join(quick_votes::table)
        .into_boxed();
    query = match among {
        Among::Loops(ids, started_before) => query
            .filter(loops::id.eq_any(ids.to_vec()))
            .filter(interviews::starts_at.lt(started_before)),
        Among::Interviews(ids) => query.filter(interviews::id.eq_any(ids.to_vec())),
    };
    let rows: Vec<Row> = query
        .filter(loops::state.eq(LoopState::Scheduled))
        .filter(interviews::excused_at.is_null())
        .filter(
            feedback::state
                .is_null()
                .or(feedback::state.ne(StoredFeedbackState::Sealed)),
        )
        .order((
            loops::id.asc(),
            interviews::starts_at.asc(),
            interviews::id.asc(),
        ))
        .select((
            (
                interviews::id,
                interviews::interviewer_id,
                interviews::loop_role,
                interviews::starts_at,
                interviews::duration_minutes,
                interviews::excused_at,
                feedback::state.nullable(),
                quick_votes::id.nullable(),
            ),
            (
                loops::id,
                loops::state,
                loops::position,
                loops::feedback_due_hours,
                loops::recruiter_id,
                loops::bar_raiser_id,
                loops::quick_vote,
            ),
            candidates::name,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(i, l, candidate)| ReminderFacts {
            interview_id: i.0,
            interviewer_id: i.1,
            loop_role: i.2,
            starts_at: i.3,
            duration_minutes: i.4,
            excused: i.5.is_some(),
            feedback: i.6,
            loop_id: l.0,
            loop_state: l.1,
            position: l.2,
            feedback_due_hours: l.3,
            recruiter_id: l.4,
            bar_raiser_id: l.5,
            candidate,
            quick_vote: l.6,
            quick_voted: i.7.is_some(),
        })
        .collect())
}

/// Name and address of active users, by id: who reminders go to.
pub fn active_recipients(
    conn: &mut DbConn,
    ids: &[UserId],
) -> QueryResult<Vec<(UserId, String, String)>> {
    use super::schema::users;
    users::table
        .filter(users::id.eq_any(ids))
        .filter(users::active.eq(true))
        .select((users::id, users::email, users::name))
        .load(conn)
}

/// Makes the reminder queueing of this transaction wait for any other
/// instance's to commit (PostgreSQL: a transaction-scoped advisory lock;
/// SQLite's write transactions are one at a time already). The dedupe keys
/// alone would keep each reminder to one message; the lock also keeps two
/// instances from waiting on each other's keys in opposite orders.
pub fn lock_reminders(conn: &mut DbConn) -> QueryResult<()> {
    match conn {
        DbConn::Postgres(c) => {
            // Arbitrary constant naming "bar-raiser reminder scan".
            diesel::sql_query("SELECT pg_advisory_xact_lock(7318041106)").execute(c)?;
            Ok(())
        }
        DbConn::Sqlite(_) => Ok(()),
    }
}

/// The outbox's gauges for `/metrics`: undelivered messages by state and
/// the age of the oldest pending one. Counts over `outbox_due`'s status.
pub fn gauges(conn: &mut DbConn) -> QueryResult<crate::metrics::OutboxGauges> {
    let at = to_db(now());
    let pending: i64 = outbox::table
        .filter(outbox::status.eq(Status::Pending))
        .count()
        .get_result(conn)?;
    let leased: i64 = outbox::table
        .filter(outbox::status.eq(Status::Pending))
        .filter(outbox::lease_until.ge(at))
        .count()
        .get_result(conn)?;
    let dead: i64 = outbox::table
        .filter(outbox::status.eq(Status::Dead))
        .count()
        .get_result(conn)?;
    let oldest: Option<NaiveDateTime> = outbox::table
        .filter(outbox::status.eq(Status::Pending))
        .select(diesel::dsl::min(outbox::created_at))
        .get_result(conn)?;
    Ok(crate::metrics::OutboxGauges {
        pending: pending - leased,
        leased,
        dead,
        oldest_pending_age_secs: oldest.map_or(0, |t| (at - t).num_seconds()),
    })
}
