//! Interview loops: created and edited by recruiters, read by everyone in
//! them, moved through their states only by the domain's transitions.

use actix_web::web::Bytes;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::cache::Kept;
use super::pagination::{Page, PageRequest};
use super::preconditions::{IfMatch, Tagged};
use super::views::{self, CandidateRef, Loop, Names};
use super::{Actor, AppState};
use crate::auth::Claim;
use crate::db::{
    self, CandidateId, CompetencyId, DbConn, LoopId, UserId,
    loops::{LoopBundle, LoopChanges, LoopFilter},
    models::{LoopRow, UserRow},
};
use crate::domain::loops::{self as rules, Account, FieldProblem};
use crate::domain::{
    LoopState, QuickVoteMode, Refusal, Violation, composition, lifecycle, quickvote,
};
use crate::error::{AppError, AppResult, FieldError};
use crate::events::{
    self,
    loops::{LoopChange, LoopEvent, Seat},
};
use crate::notify::Recipient;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLoop {
    pub candidate_id: Uuid,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$",
        example = "Senior Software Engineer"
    )]
    pub position: String,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$",
        example = "L6"
    )]
    pub level: String,
    pub hiring_manager_id: Uuid,
    /// Must be a certified Bar Raiser when the loop is scheduled.
    pub bar_raiser_id: Uuid,
    /// Defaults to the caller.
    pub recruiter_id: Option<Uuid>,
    /// Each once, at most 16; none retired.
    #[serde(default)]
    #[schema(max_items = 16, value_type = BTreeSet<Uuid>)]
    pub required_competency_ids: Vec<Uuid>,
    /// Hours after an interview ends that its feedback is due (default 24).
    #[schema(minimum = 1, maximum = 720)]
    #[serde(default, deserialize_with = "super::integral::opt_i32")]
    pub feedback_due_hours: Option<i32>,
    /// Quick votes after each interview: `off`, `optional` (default) or
    /// `required` (the debrief opens only once every voting interview has
    /// one or is excused).
    pub quick_vote: Option<QuickVoteMode>,
    /// A reverse shadow (the Bar Raiser program): the loop's Bar Raiser is a
    /// trainee, and this certified Bar Raiser, who holds an interview in the
    /// loop, holds its veto and signs the trainee off once it is decided.
    pub mentor_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateLoop {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub position: Option<String>,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub level: Option<String>,
    pub hiring_manager_id: Option<Uuid>,
    pub bar_raiser_id: Option<Uuid>,
    pub recruiter_id: Option<Uuid>,
    /// Replaces the list: each once, at most 16.
    #[schema(max_items = 16, value_type = Option<BTreeSet<Uuid>>)]
    pub required_competency_ids: Option<Vec<Uuid>>,
    #[schema(minimum = 1, maximum = 720)]
    #[serde(default, deserialize_with = "super::integral::opt_i32")]
    pub feedback_due_hours: Option<i32>,
    pub quick_vote: Option<QuickVoteMode>,
    /// Makes the loop a reverse shadow with this mentor (see `CreateLoop`).
    pub mentor_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelLoop {
    #[schema(
        min_length = 1,
        max_length = 2000,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub reason: String,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParticipantFilter {
    /// Loops the caller takes part in.
    Me,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LoopQuery {
    pub state: Option<LoopState>,
    pub candidate_id: Option<Uuid>,
    pub participant: Option<ParticipantFilter>,
    /// Items per page, 1 to 200 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A loop in a list: enough to find it, no interviews.
/// The answer to scheduling a loop: the loop, and what the composition
/// rules advise without refusing.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduledLoop {
    #[serde(flatten)]
    pub r#loop: Loop,
    /// Advisories that do not block scheduling, each with its code: today
    /// `bar_raiser_load`, when the loop's Bar Raiser served more than the
    /// configured number of loops (`BAR_RAISER_PROGRAM_LOAD_WARNING`, default 6)
    /// in the last 30 days. Empty when there is nothing to say.
    pub warnings: Vec<FieldError>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoopSummary {
    pub id: Uuid,
    pub candidate: CandidateRef,
    pub position: String,
    pub level: String,
    pub state: LoopState,
    pub hiring_manager_id: Uuid,
    pub bar_raiser_id: Uuid,
    pub recruiter_id: Uuid,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

// --- shared with interviews (and, for now, the debrief) ----------------------

/// 422 listing every problem, unless there are none.
pub(crate) fn fail_if(problems: Vec<FieldProblem>) -> AppResult<()> {
    if problems.is_empty() {
        return Ok(());
    }
    Err(AppError::validation(
        problems
            .into_iter()
            .map(|p| match p {
                FieldProblem::Coded(v) => FieldError::from(v),
                FieldProblem::Plain { field, message } => FieldError::new(field, message),
            })
            .collect(),
    ))
}

/// An account as the loop rules see it.
pub(crate) fn account(u: &UserRow) -> Account {
    Account {
        active: u.active,
        role: u.role,
    }
}

/// Checks that each `(field, user id)` names an active account, and that
/// the recruiter field names a recruiter or admin.
fn check_people(
    conn: &mut DbConn,
    people: &[(&str, Uuid)],
    problems: &mut Vec<FieldProblem>,
) -> AppResult<()> {
    let ids: Vec<UserId> = people.iter().map(|(_, id)| UserId::from(*id)).collect();
    let found = db::catalog::users_by_ids(conn, &ids)?;
    for ((field, _), id) in people.iter().zip(&ids) {
        let acct = found.get(id).map(account);
        problems.extend(rules::person_problem(field, acct, *field == "recruiter_id"));
    }
    Ok(())
}

/// Checks that competencies exist, are not retired (unless already in use:
/// `allowed`), and are not repeated; returns them as stored.
pub(crate) fn check_competencies(
    conn: &mut DbConn,
    field: &str,
    ids: &[Uuid],
    allowed: &[CompetencyId],
    problems: &mut Vec<FieldProblem>,
) -> AppResult<Vec<CompetencyId>> {
    let typed: Vec<CompetencyId> = ids.iter().copied().map(CompetencyId::from).collect();
    let found = db::catalog::competencies_by_ids(conn, &typed)?;
    let retired: Vec<Option<bool>> = typed
        .iter()
        .map(|id| found.get(id).map(|c| c.retired))
        .collect();
    let allowed: Vec<Uuid> = allowed.iter().copied().map(Uuid::from).collect();
    problems.extend(rules::competency_problems(field, ids, &retired, &allowed));
    Ok(typed)
}

/// A loop's bundle, or 404.
pub(crate) fn bundle(conn: &mut DbConn, id: LoopId) -> AppResult<LoopBundle> {
    db::loops::bundle(conn, id)?.ok_or(AppError::NotFound)
}

/// Loads a loop the caller may see, locked for writing.
pub fn lock_visible(conn: &mut DbConn, id: LoopId, me: &Actor) -> AppResult<LoopBundle> {
    let b = db::loops::lock_bundle(conn, id)?.ok_or(AppError::NotFound)?;
    views::require_visible(&b, me)?;
    Ok(b)
}

/// Re-checks composition after an edit to a loop whose composition binds
/// (a scheduled one): an edit may not leave it in a shape it could not
/// have been scheduled in.
pub(crate) fn recheck_composition(conn: &mut DbConn, loop_id: LoopId) -> AppResult<()> {
    let b = bundle(conn, loop_id)?;
    if !rules::composition_binds(b.row.state) {
        return Ok(());
    }
    let facts = super::program::composition_facts(conn, &b)?;
    let broken: Vec<Violation> = composition::check(&views::composition(&b, facts));
    if broken.is_empty() {
        Ok(())
    } else {
        Err(Refusal::Invalid(broken).into())
    }
}

/// The interview `i` of `b`, as its interviewer's mail and calendar
/// invitation describe it, if they can be mailed.
pub(crate) fn seat(b: &LoopBundle, names: &Names, i: &db::models::InterviewRow) -> Option<Seat> {
    let to = names.recipient(i.interviewer_id)?;
    let organizer = names.users.get(&b.row.recruiter_id).map(|u| Recipient {
        email: u.email.clone(),
        name: u.name.clone(),
    });
    Some(Seat {
        to,
        interview: i.id.into(),
        starts_at: db::from_db(i.starts_at),
        duration_minutes: i.duration_minutes,
        sequence: i.calendar_sequence,
        organizer,
        competencies: b
            .competencies_of(i.id)
            .iter()
            .map(|c| names.competency(*c).name)
            .collect(),
    })
}

// --- the workflows -------------------------------------------------------------

/// Creates a loop for a candidate (recruiters, admins); it starts in `draft`.
pub async fn create(state: &AppState, me: &Actor, req: CreateLoop) -> AppResult<Loop> {
    me.require_recruiter_or_admin()?;
    let mut problems = rules::loop_problems(
        Some(&req.position),
        Some(&req.level),
        req.feedback_due_hours,
    );
    let (by, me) = (me.by(state), Uuid::from(me.id));
    state
        .db
        .write(move |conn| {
            let recruiter = req.recruiter_id.unwrap_or(me);
            let candidate = db::catalog::candidate(conn, req.candidate_id.into())?;
            problems.extend(rules::candidate_problem(
                candidate.map(|c| c.erased_at.is_some()),
            ));
            check_people(
                conn,
                &[
                    ("hiring_manager_id", req.hiring_manager_id),
                    ("bar_raiser_id", req.bar_raiser_id),
                    ("recruiter_id", recruiter),
                ],
                &mut problems,
            )?;
            let required = check_competencies(
                conn,
                "required_competency_ids",
                &req.required_competency_ids,
                &[],
                &mut problems,
            )?;
            fail_if(problems)?;
            let at = db::to_db(db::now());
            let loop_id = LoopId::random();
            let row = LoopRow {
                id: loop_id,
                candidate_id: req.candidate_id.into(),
                position: req.position.trim().to_string(),
                level: req.level.trim().to_string(),
                hiring_manager_id: req.hiring_manager_id.into(),
                bar_raiser_id: req.bar_raiser_id.into(),
                recruiter_id: recruiter.into(),
                feedback_due_hours: req.feedback_due_hours.unwrap_or(rules::DEFAULT_DUE_HOURS),
                state: LoopState::Draft,
                cancel_reason: None,
                cancelled_at: None,
                debrief_opened_at: None,
                votes_revealed_at: None,
                decision_outcome: None,
                decision_rationale: None,
                decision_recycle: None,
                decided_by: None,
                decision_recorded_at: None,
                bar_raiser_verdict: None,
                veto_rationale: None,
                verdict_at: None,
                final_outcome: None,
                decided_at: None,
                created_by: me.into(),
                created_at: at,
                updated_at: at,
                version: 0,
                quick_vote: req.quick_vote.unwrap_or(quickvote::DEFAULT_MODE),
                mentor_id: None,
            };
            db::loops::insert(conn, &row, &required)?;
            if let Some(m) = req.mentor_id {
                super::program::set_mentor(conn, row.id, m)?;
            }
            let event = LoopEvent::Created {
                loop_id: loop_id.into(),
                candidate_id: req.candidate_id,
                position: row.position.clone(),
                level: row.level.clone(),
                hiring_manager_id: req.hiring_manager_id,
                bar_raiser_id: req.bar_raiser_id,
                recruiter_id: recruiter,
                feedback_due_hours: row.feedback_due_hours,
                required_competency_ids: required.into_iter().map(Uuid::from).collect(),
                quick_vote: row.quick_vote,
            };
            events::record(conn, &by, event)?;
            let b = bundle(conn, row.id)?;
            views::loop_view(conn, &b)
        })
        .await
}

fn summary(r: LoopRow, candidate: Option<&db::models::CandidateRow>) -> LoopSummary {
    LoopSummary {
        id: r.id.into(),
        candidate: CandidateRef {
            id: r.candidate_id.into(),
            name: candidate.map(|c| c.name.clone()).unwrap_or_default(),
            erased: candidate.is_some_and(|c| c.erased_at.is_some()),
        },
        position: r.position,
        level: r.level,
        state: r.state,
        hiring_manager_id: r.hiring_manager_id.into(),
        bar_raiser_id: r.bar_raiser_id.into(),
        recruiter_id: r.recruiter_id.into(),
        created_at: db::from_db(r.created_at),
        updated_at: db::from_db(r.updated_at),
    }
}

/// Loops, newest first. Members see only loops they take part in;
/// recruiters and admins see all (or theirs with `participant=me`).
pub async fn list(state: &AppState, me: &Actor, q: LoopQuery) -> AppResult<Page<LoopSummary>> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let filter = LoopFilter {
        state: q.state,
        candidate_id: q.candidate_id.map(CandidateId::from),
        participant: rules::lists_only_own(q.participant.is_some(), me.role).then_some(me.id),
    };
    let p = page.clone();
    let (rows, candidates) = state
        .db
        .run(move |conn| {
            let rows = db::loops::page(conn, &filter, p.after(), p.fetch())?;
            let ids: Vec<CandidateId> = rows.iter().map(|r| r.candidate_id).collect();
            let candidates = db::catalog::candidate_names(conn, &ids)?;
            Ok((rows, candidates))
        })
        .await?;
    Ok(Page::from_rows(
        rows,
        &page,
        |r| (r.created_at, r.id),
        |r| {
            let c = candidates.get(&r.candidate_id);
            summary(r, c)
        },
    ))
}

/// A loop: its interviews with feedback status (never content), progress
/// and decision. Not found for people outside it.
///
/// Answered from the process' view cache when one statement finds the
/// caller's account and the loop and the names it shows unchanged
/// (`workflows::cache`): the caller's claim is settled in that statement
/// (`auth::Claim`), so a cached view is one round trip. The answer is the
/// view's JSON (a [`Loop`]), kept serialized.
pub async fn get(state: &AppState, claim: Claim, id: Uuid) -> AppResult<Tagged<Bytes>> {
    let (id, cache) = (LoopId::from(id), state.views.clone());
    state
        .db
        .read(move |conn| {
            let (me, key) = match claim {
                Claim::Session { id: caller, .. } => {
                    let found = db::loops::view_key_as(conn, id, caller)?;
                    let (row, key) = found.map_or((None, None), |(row, key)| (Some(row), key));
                    (claim.settle(row.as_ref())?, key)
                }
                Claim::Settled(me) => {
                    let key = db::loops::view_key(conn, id)?;
                    (me, key)
                }
            };
            let key = key.ok_or(AppError::NotFound)?;
            if let Some(kept) = cache.get(id, key) {
                kept.audience.require_visible(&me)?;
                let (updated_at, json) = kept.answer();
                return Ok(Tagged::at(updated_at, json));
            }
            let b = bundle(conn, id)?;
            views::require_visible(&b, &me)?;
            let kept = Kept::new(key, &b, views::loop_view(conn, &b)?);
            let (updated_at, json) = kept.answer();
            cache.keep(id, kept);
            Ok(Tagged::at(updated_at, json))
        })
        .await
}

/// Edits a loop while `draft` or `scheduled` (the loop's recruiter, admins).
/// A scheduled loop must still satisfy the composition rules afterwards.
pub async fn update(
    state: &AppState,
    me: &Actor,
    id: Uuid,
    if_match: IfMatch,
    req: UpdateLoop,
) -> AppResult<Tagged<Loop>> {
    let (by, me, key) = (me.by(state), me.clone(), LoopId::from(id));
    state
        .db
        .write(move |conn| {
            let b = lock_visible(conn, key, &me)?;
            if_match.check(b.row.updated_at)?;
            lifecycle::edit(b.row.state, &views::loop_actor(&b, &me))?;
            rules::self_appointment(
                me.id.into(),
                &[
                    (req.hiring_manager_id, b.row.hiring_manager_id.into()),
                    (req.bar_raiser_id, b.row.bar_raiser_id.into()),
                ],
            )?;
            let mut problems = rules::loop_problems(
                req.position.as_deref(),
                req.level.as_deref(),
                req.feedback_due_hours,
            );
            let people: Vec<(&str, Uuid)> = [
                ("hiring_manager_id", req.hiring_manager_id),
                ("bar_raiser_id", req.bar_raiser_id),
                ("recruiter_id", req.recruiter_id),
            ]
            .into_iter()
            .filter_map(|(f, v)| v.map(|v| (f, v)))
            .collect();
            check_people(conn, &people, &mut problems)?;
            problems.extend(rules::recruiter_seat_problem(
                req.recruiter_id
                    .is_some_and(|r| b.interview_of(r.into()).is_some()),
            ));
            let required = match &req.required_competency_ids {
                Some(ids) => Some(check_competencies(
                    conn,
                    "required_competency_ids",
                    ids,
                    &b.required_competency_ids,
                    &mut problems,
                )?),
                None => None,
            };
            fail_if(problems)?;
            // What every invitation shows: the position and its organizer.
            let reinvite = rules::interviewers_told(b.row.state)
                && (req
                    .position
                    .as_ref()
                    .is_some_and(|p| p.trim() != b.row.position)
                    || req
                        .recruiter_id
                        .is_some_and(|r| UserId::from(r) != b.row.recruiter_id));
            db::loops::update(
                conn,
                key,
                LoopChanges {
                    position: req.position.as_ref().map(|p| p.trim().to_string()),
                    level: req.level.as_ref().map(|l| l.trim().to_string()),
                    hiring_manager_id: req.hiring_manager_id.map(UserId::from),
                    bar_raiser_id: req.bar_raiser_id.map(UserId::from),
                    recruiter_id: req.recruiter_id.map(UserId::from),
                    feedback_due_hours: req.feedback_due_hours,
                    quick_vote: req.quick_vote,
                    ..Default::default()
                },
            )?;
            if let Some(required) = &required {
                db::loops::set_required(conn, key, required)?;
            }
            if let Some(m) = req.mentor_id {
                super::program::set_mentor(conn, key, m)?;
            }
            recheck_composition(conn, key)?;
            let told = if reinvite {
                db::loops::bump_calendar_sequences(conn, key)?;
                let after = bundle(conn, key)?;
                let names = Names::load(conn, &after)?;
                let seats = after
                    .interviews
                    .iter()
                    .filter_map(|i| seat(&after, &names, i))
                    .collect();
                Some((names.loop_ref(&after), seats))
            } else {
                None
            };
            let change = LoopChange {
                position: req.position,
                level: req.level,
                hiring_manager_id: req.hiring_manager_id,
                bar_raiser_id: req.bar_raiser_id,
                recruiter_id: req.recruiter_id,
                feedback_due_hours: req.feedback_due_hours,
                quick_vote: req.quick_vote,
                required_competency_ids: required
                    .map(|ids| ids.into_iter().map(Uuid::from).collect()),
            };
            let event = LoopEvent::Updated {
                loop_id: id,
                change,
                told,
            };
            events::record(conn, &by, event)?;
            let b = bundle(conn, key)?;
            Ok(Tagged::at(b.row.updated_at, views::loop_view(conn, &b)?))
        })
        .await
}

/// Schedules a draft loop: every composition rule is checked and each one
/// broken listed; on success interviewers are told.
pub async fn schedule(state: &AppState, me: &Actor, id: Uuid) -> AppResult<ScheduledLoop> {
    let (by, me, key) = (me.by(state), me.clone(), LoopId::from(id));
    let program = state.config.program.clone();
    state
        .db
        .write(move |conn| {
            let b = lock_visible(conn, key, &me)?;
            let names = Names::load(conn, &b)?;
            let facts = super::program::composition_facts(conn, &b)?;
            let broken = composition::check(&views::composition(&b, facts));
            let next = lifecycle::schedule(b.row.state, &views::loop_actor(&b, &me), broken)?;
            // Counted before this loop leaves draft: the loops served so far.
            let warnings =
                super::program::load_warning(conn, &program, b.row.bar_raiser_id, db::now())?
                    .into_iter()
                    .map(FieldError::from)
                    .collect();
            db::loops::update(
                conn,
                key,
                LoopChanges {
                    state: Some(next),
                    ..Default::default()
                },
            )?;
            let mut seats = Vec::new();
            for i in &b.interviews {
                seats.extend(seat(&b, &names, i));
            }
            let event = LoopEvent::Scheduled {
                loop_id: id,
                candidate_id: b.row.candidate_id.into(),
                about: names.loop_ref(&b),
                seats,
            };
            events::record(conn, &by, event)?;
            Ok(ScheduledLoop {
                r#loop: views::loop_view_with(&bundle(conn, key)?, &names),
                warnings,
            })
        })
        .await
}

/// Cancels a loop before it is decided, with a reason; participants are
/// told.
pub async fn cancel(state: &AppState, me: &Actor, id: Uuid, req: CancelLoop) -> AppResult<Loop> {
    if let Some(v) = rules::reason_problem(&req.reason) {
        return Err(AppError::validation(vec![v.into()]));
    }
    let reason = req.reason.trim().to_string();
    let (by, me, key) = (me.by(state), me.clone(), LoopId::from(id));
    state
        .db
        .write(move |conn| {
            let b = lock_visible(conn, key, &me)?;
            let next = lifecycle::cancel(b.row.state, &views::loop_actor(&b, &me))?;
            db::loops::update(
                conn,
                key,
                LoopChanges {
                    state: Some(next),
                    cancel_reason: Some(Some(reason.clone())),
                    cancelled_at: Some(Some(db::to_db(db::now()))),
                    ..Default::default()
                },
            )?;
            // Interviewers who were sent invitations get their cancellation.
            let invited = rules::interviewers_told(b.row.state);
            if invited {
                db::loops::bump_calendar_sequences(conn, key)?;
            }
            let after = bundle(conn, key)?;
            let names = Names::load(conn, &after)?;
            let seats: Vec<Seat> = if invited {
                after
                    .interviews
                    .iter()
                    .filter_map(|i| seat(&after, &names, i))
                    .collect()
            } else {
                Vec::new()
            };
            let participants = views::participants(&b, &names)
                .into_iter()
                .filter(|p| !seats.iter().any(|s| s.to.email == p.email))
                .collect();
            let event = LoopEvent::Cancelled {
                loop_id: id,
                reason,
                about: names.loop_ref(&b),
                participants,
                seats,
            };
            events::record(conn, &by, event)?;
            Ok(views::loop_view_with(&bundle(conn, key)?, &names))
        })
        .await
}
