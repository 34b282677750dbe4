//! The debrief the Bar Raiser runs, the hiring manager's decision and the
//! Bar Raiser's concurrence or veto: opening the debrief, its one-page view
//! (the vote table, the competency matrix, the independence report), debrief
//! votes and their reveal, the decision, the verdict.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::views::{self, CompetencyRef, Loop, Names, Person};
use super::{Actor, AppState};
use crate::db::loops::{LoopBundle, LoopChanges};
use crate::db::models::{DebriefVoteRow, FeedbackRow};
use crate::db::{self, DbConn, FeedbackId, InterviewId, LoopId, UserId};
use crate::domain::debrief::{self as rules, MatrixInterview, Read, Tally, Voter};
use crate::domain::{
    InterviewRole, LoopState, Outcome, ReadVia, Refusal, StoredFeedbackState, Verdict, Violation,
    Vote, lifecycle, progress, proof, visibility,
};
use crate::error::{AppError, AppResult};
use crate::events::{
    self,
    debrief::{Audience, DebriefEvent},
};
use crate::notify::Recipient;
use crate::workflows::feedback::{Feedback, feedback_views, log_read};
use crate::workflows::loops::lock_visible;

/// The loop-chain event recorded when an operator changes a participant's
/// password or email.
pub const OPERATOR_CHANGE: &str = "account.changed_by_operator";

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DebriefVoteInput {
    pub vote: Vote,
    /// Required when the vote differs from your sealed one.
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub rationale: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    pub outcome: Outcome,
    #[schema(
        min_length = 1,
        max_length = 5000,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub rationale: String,
    /// May the candidate be considered for other roles.
    #[serde(default)]
    pub recycle: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VetoInput {
    /// At least 50 characters, not counting blanks at either end.
    #[schema(
        min_length = 50,
        max_length = 5000,
        pattern = r"^\s*\S[\s\S]{48,}\S\s*$"
    )]
    pub rationale: String,
}

/// The caller's own debrief vote.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyDebriefVote {
    pub loop_id: Uuid,
    pub sealed_vote: Option<Vote>,
    pub vote: Vote,
    pub rationale: String,
    pub changed: bool,
    pub updated_at: DateTime<Utc>,
}

/// One voter: the sealed vote, and the debrief vote once votes are shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct VoteRow {
    pub voter: Person,
    pub interview_id: Uuid,
    /// The quick vote committed after the interview, shown exactly when the
    /// sealed vote is (issue 17).
    pub quick_vote: Option<Vote>,
    pub quick_voted_at: Option<DateTime<Utc>>,
    /// As sealed; never altered.
    pub sealed_vote: Option<Vote>,
    pub sealed_at: Option<DateTime<Utc>>,
    /// The sealed vote differs from the quick vote (null unless both are
    /// shown); the two times are `quick_voted_at` and `sealed_at`.
    pub amended: Option<bool>,
    /// Whether this voter has cast a debrief vote (always shown).
    pub has_voted: bool,
    /// Hidden (null) until every voter has voted or the Bar Raiser reveals.
    pub debrief_vote: Option<Vote>,
    pub rationale: Option<String>,
    /// The debrief vote differs from the sealed one (null while hidden).
    pub changed: Option<bool>,
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct VoteCounts {
    pub strong_no_hire: usize,
    pub inclined_not_to_hire: usize,
    pub inclined_to_hire: usize,
    pub strong_hire: usize,
}

impl From<Tally> for VoteCounts {
    fn from(t: Tally) -> Self {
        VoteCounts {
            strong_no_hire: t.strong_no_hire,
            inclined_not_to_hire: t.inclined_not_to_hire,
            inclined_to_hire: t.inclined_to_hire,
            strong_hire: t.strong_hire,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MatrixCell {
    pub interview_id: Uuid,
    pub interviewer: Person,
    pub loop_role: InterviewRole,
    pub rating: Option<i32>,
}

/// One competency across the interviews that rated it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MatrixRow {
    pub competency: CompetencyRef,
    pub ratings: Vec<MatrixCell>,
}

/// An operator's change to a participant's credentials or email.
#[derive(Debug, Serialize, ToSchema)]
pub struct OperatorChange {
    pub by: Person,
    pub at: DateTime<Utc>,
    /// What changed: `password`, `email`, …
    pub changed: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IndependenceLine {
    pub participant: Person,
    pub interview_id: Option<Uuid>,
    /// When they were put on their interview, and by whom.
    pub joined_at: Option<DateTime<Utc>>,
    pub added_by: Option<Person>,
    /// Put on the loop after its first seal: read content only from the
    /// debrief on (rule 7).
    pub late_joiner: bool,
    pub sealed_at: Option<DateTime<Utc>>,
    /// First read of anyone else's feedback (break-glass excluded).
    pub first_read_at: Option<DateTime<Utc>>,
    /// The seal came before any read of others' feedback.
    pub independent: bool,
    /// Changes an admin or a token made to this person's password or email
    /// while the loop ran: whoever held the account afterwards may not be
    /// the participant.
    pub operator_changes: Vec<OperatorChange>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BreakGlassRead {
    pub reader: Person,
    pub interview_id: Uuid,
    pub read_at: DateTime<Utc>,
    pub reason: Option<String>,
}

/// Everything the debrief needs on one page.
#[derive(Debug, Serialize, ToSchema)]
pub struct DebriefView {
    pub loop_id: Uuid,
    pub state: LoopState,
    pub debrief_opened_at: Option<DateTime<Utc>>,
    /// Every sealed feedback with its addenda.
    pub feedback: Vec<Feedback>,
    pub votes: Vec<VoteRow>,
    /// Debrief votes are shown (all voted, or revealed).
    pub votes_revealed: bool,
    pub sealed_vote_counts: VoteCounts,
    /// Null until the debrief votes are shown.
    pub debrief_vote_counts: Option<VoteCounts>,
    pub competency_matrix: Vec<MatrixRow>,
    pub independence_report: Vec<IndependenceLine>,
    pub independent: bool,
    pub break_glass_reads: Vec<BreakGlassRead>,
}

/// The participants and the loop's recruiter (once, by email).
fn everyone(b: &LoopBundle, names: &Names) -> Audience {
    let mut to = views::participants(b, names);
    if let Some(r) = names.recipient(b.row.recruiter_id) {
        to.retain(|p| p.email != r.email);
        to.push(r);
    }
    Audience {
        to,
        about: names.loop_ref(b),
    }
}

/// Who hears of a decision or a verdict.
fn decision_audience(b: &LoopBundle, names: &Names) -> Audience {
    let r = &b.row;
    let to: Vec<Recipient> =
        rules::decision_audience(r.hiring_manager_id, r.recruiter_id, r.bar_raiser_id)
            .into_iter()
            .filter_map(|id| names.recipient(id))
            .collect();
    Audience {
        to,
        about: names.loop_ref(b),
    }
}

fn reload_view(conn: &mut DbConn, id: LoopId) -> AppResult<Loop> {
    let b = db::loops::bundle(conn, id)?.ok_or(AppError::NotFound)?;
    views::loop_view(conn, &b)
}

/// Open the debrief (the loop's Bar Raiser), once nothing is outstanding.
pub async fn open(state: &AppState, me: &Actor, loop_id: Uuid) -> AppResult<Loop> {
    let (by, me) = (me.by(state), me.clone());
    state
        .db
        .write(move |conn| {
            let id = LoopId::from(loop_id);
            let b = lock_visible(conn, id, &me)?;
            let outstanding = progress::outstanding(&views::all_facts(&b));
            let next =
                lifecycle::open_debrief(b.row.state, &views::loop_actor(&b, &me), outstanding)?;
            let missing = views::quick_votes_outstanding(&b);
            if !missing.is_empty() {
                return Err(Refusal::Blocked {
                    code: "quick_votes_outstanding",
                    detail: format!(
                        "the loop requires quick votes: {} voting interview(s) have none and are not excused",
                        missing.len()
                    ),
                    violations: missing,
                }
                .into());
            }
            db::loops::update(
                conn,
                id,
                LoopChanges {
                    state: Some(next),
                    debrief_opened_at: Some(Some(db::to_db(db::now()))),
                    ..Default::default()
                },
            )?;
            let names = Names::load(conn, &b)?;
            let audience = everyone(&b, &names);
            events::record(conn, &by, DebriefEvent::Opened { loop_id, audience })?;
            reload_view(conn, id)
        })
        .await
}

/// The debrief view, and the reads of others' feedback it made (to log).
struct Assembled {
    view: DebriefView,
    reads: Vec<(FeedbackRow, ReadVia)>,
}

/// The sealed feedback of `b`, in interview order.
fn sealed_of(b: &LoopBundle) -> Vec<&FeedbackRow> {
    b.interviews
        .iter()
        .filter_map(|i| b.feedback.get(&i.id))
        .filter(|f| f.state == StoredFeedbackState::Sealed)
        .collect()
}

/// The sealed vote of the interview `interview_id`, if its feedback is sealed.
fn sealed_vote(b: &LoopBundle, interview_id: InterviewId) -> Option<Vote> {
    b.feedback
        .get(&interview_id)
        .filter(|f| f.state == StoredFeedbackState::Sealed)
        .and_then(|f| f.vote)
}

fn vote_table(
    conn: &mut DbConn,
    b: &LoopBundle,
    names: &Names,
) -> AppResult<(Vec<VoteRow>, rules::VoteTable<Uuid>)> {
    let votes_cast: HashMap<UserId, DebriefVoteRow> = db::feedback::votes(conn, b.row.id)?
        .into_iter()
        .map(|v| (v.voter_id, v))
        .collect();
    let voters = b
        .interviews
        .iter()
        .filter(|i| i.loop_role == InterviewRole::Interviewer && i.excused_at.is_none())
        .map(|i| Voter::<Uuid> {
            voter: i.interviewer_id.into(),
            interview: i.id.into(),
            quick: b.quick_votes.get(&i.id).map(|q| q.vote),
            sealed: sealed_vote(b, i.id),
            debrief: votes_cast
                .get(&i.interviewer_id)
                .map(|v| (v.vote, v.rationale.clone())),
        })
        .collect();
    let mut table = rules::vote_table(voters, b.row.votes_revealed_at.is_some());
    let rows = std::mem::take(&mut table.lines)
        .into_iter()
        .map(|l| {
            let id = InterviewId::from(l.interview);
            let sealed_at = b
                .feedback
                .get(&id)
                .filter(|_| l.sealed_vote.is_some())
                .and_then(|f| f.sealed_at)
                .map(db::from_db);
            let quick_voted_at = b
                .quick_votes
                .get(&id)
                .filter(|_| l.quick_vote.is_some())
                .map(|q| db::from_db(q.committed_at));
            (l, sealed_at, quick_voted_at)
        })
        .map(|(l, sealed_at, quick_voted_at)| VoteRow {
            voter: names.person(l.voter.into()),
            interview_id: l.interview,
            quick_vote: l.quick_vote,
            quick_voted_at,
            sealed_at,
            amended: l.amended,
            sealed_vote: l.sealed_vote,
            has_voted: l.has_voted,
            debrief_vote: l.debrief_vote,
            rationale: l.rationale,
            changed: l.changed,
        })
        .collect();
    Ok((rows, table))
}

fn competency_matrix(
    conn: &mut DbConn,
    b: &LoopBundle,
    names: &Names,
    sealed: &[&FeedbackRow],
) -> AppResult<Vec<MatrixRow>> {
    let ratings = db::feedback::loop_ratings(
        conn,
        b.row.id,
        &sealed.iter().map(|f| f.id).collect::<Vec<FeedbackId>>(),
    )?;
    let interviews: Vec<MatrixInterview<Uuid>> = b
        .interviews
        .iter()
        .map(|i| MatrixInterview {
            interview: i.id.into(),
            competencies: b
                .competencies_of(i.id)
                .iter()
                .map(|c| Uuid::from(*c))
                .collect(),
            sealed_ratings: sealed.iter().find(|f| f.interview_id == i.id).map(|f| {
                ratings
                    .get(&f.id)
                    .map(|rs| {
                        rs.iter()
                            .map(|r| (r.competency_id.into(), r.rating))
                            .collect()
                    })
                    .unwrap_or_default()
            }),
        })
        .collect();
    let required: Vec<Uuid> = b
        .required_competency_ids
        .iter()
        .map(|c| Uuid::from(*c))
        .collect();
    rules::matrix(&required, &interviews, |c| {
        names.competency((*c).into()).name
    })
    .into_iter()
    .map(|line| {
        let ratings = line
            .cells
            .into_iter()
            .map(|(interview_id, rating)| {
                let i = b
                    .interviews
                    .iter()
                    .find(|i| i.id == interview_id)
                    .ok_or(AppError::NotFound)?;
                Ok(MatrixCell {
                    interview_id: i.id.into(),
                    interviewer: names.person(i.interviewer_id),
                    loop_role: i.loop_role,
                    rating,
                })
            })
            .collect::<AppResult<_>>()?;
        Ok(MatrixRow {
            competency: names.competency(line.competency.into()),
            ratings,
        })
    })
    .collect()
}

/// The independence report and the break-glass reads, from the read log
/// and the operators' changes on the loop's chain.
fn independence(
    conn: &mut DbConn,
    b: &LoopBundle,
    names: &Names,
) -> AppResult<(Vec<IndependenceLine>, bool, Vec<BreakGlassRead>)> {
    let log = db::feedback::reads(conn, b.row.id)?;
    let reads: Vec<Read> = log
        .iter()
        .map(|r| Read {
            reader: r.reader_id.into(),
            at: db::from_db(r.read_at),
            via: r.via,
        })
        .collect();
    let participants = rules::report_participants(
        b.row.hiring_manager_id,
        b.row.bar_raiser_id,
        b.interviews.iter().map(|i| i.interviewer_id),
    );
    let facts: Vec<(Uuid, Option<DateTime<Utc>>)> = participants
        .iter()
        .map(|p| {
            let sealed_at = b
                .interview_of(*p)
                .and_then(|i| b.feedback.get(&i.id))
                .and_then(|f| f.sealed_at)
                .map(db::from_db);
            ((*p).into(), sealed_at)
        })
        .collect();
    let report = rules::independence(&facts, &reads, b.row.debrief_opened_at.map(db::from_db));
    let independent = rules::all_independent(&report);
    let operator_events: Vec<_> = db::audit::events(conn, &b.row.id.to_string())?
        .into_iter()
        .filter(|e| e.action == OPERATOR_CHANGE)
        .collect();
    let mut others: Vec<UserId> = b
        .interviews
        .iter()
        .filter_map(|i| i.assigned_by)
        .chain(
            operator_events
                .iter()
                .filter_map(|e| e.actor_id.map(UserId::from)),
        )
        .filter(|id| !names.users.contains_key(id))
        .collect();
    others.sort();
    others.dedup();
    let more = db::catalog::users_by_ids(conn, &others)?;
    let person = |id: UserId| -> Person {
        match more.get(&id) {
            Some(u) => Person {
                id: u.id.into(),
                name: u.name.clone(),
                email: u.email.clone(),
            },
            None => names.person(id),
        }
    };
    let lines = participants
        .iter()
        .zip(report)
        .map(|(id, line)| {
            let interview = b.interview_of(*id);
            let subject = id.to_string();
            let operator_changes = operator_events
                .iter()
                .filter(|e| e.subject_id.as_deref() == Some(subject.as_str()))
                .map(|e| {
                    // Lenient as before: a change without a `changed` list
                    // shows an empty one; a payload that is not JSON is an
                    // error.
                    let payload: serde_json::Value =
                        serde_json::from_str(&e.payload).map_err(anyhow::Error::from)?;
                    Ok(OperatorChange {
                        by: match e.actor_id {
                            Some(a) => person(a.into()),
                            // The system: no one to name.
                            None => Person {
                                id: Uuid::nil(),
                                name: String::new(),
                                email: String::new(),
                            },
                        },
                        at: e.created_at,
                        changed: serde_json::from_value(payload["changed"].clone())
                            .unwrap_or_default(),
                    })
                })
                .collect::<AppResult<_>>()?;
            Ok(IndependenceLine {
                participant: names.person(*id),
                interview_id: interview.map(|i| i.id.into()),
                joined_at: interview.map(views::joined_at),
                added_by: interview.and_then(|i| i.assigned_by).map(&person),
                late_joiner: views::joined_late(b, *id),
                sealed_at: line.sealed_at,
                first_read_at: line.first_read_at,
                independent: line.independent,
                operator_changes,
            })
        })
        .collect::<AppResult<_>>()?;
    let feedback_interview: HashMap<FeedbackId, InterviewId> = b
        .feedback
        .values()
        .map(|f| (f.id, f.interview_id))
        .collect();
    let break_glass_reads = log
        .iter()
        .zip(&reads)
        .filter(|(_, read)| rules::listed_apart(read.via))
        .map(|(r, _)| BreakGlassRead {
            reader: names.person(r.reader_id),
            // Deliberately lenient, as before: a read of feedback no
            // longer in the loop shows the nil id.
            interview_id: feedback_interview
                .get(&r.feedback_id)
                .map(|i| Uuid::from(*i))
                .unwrap_or_default(),
            read_at: db::from_db(r.read_at),
            reason: r.reason.clone(),
        })
        .collect();
    Ok((lines, independent, break_glass_reads))
}

fn assemble(conn: &mut DbConn, b: &LoopBundle, me: &Actor) -> AppResult<Assembled> {
    let names = Names::load(conn, b)?;
    let loop_state = b.row.state;
    let sealed = sealed_of(b);
    let mut reads = Vec::new();
    for f in &sealed {
        let reader = views::reader(b, me, Some(f.author_id));
        if let Some(via) =
            visibility::content_access(&reader, Some(StoredFeedbackState::Sealed), loop_state, true)
                .map_err(AppError::forbidden)?
        {
            reads.push(((*f).clone(), via));
        }
    }
    let mut by_interview = feedback_views(conn, b, &names, &sealed)?;
    let feedback: Vec<Feedback> = b
        .interviews
        .iter()
        .filter_map(|i| by_interview.remove(&i.id))
        .collect();
    let (votes, table) = vote_table(conn, b, &names)?;
    let competency_matrix = competency_matrix(conn, b, &names, &sealed)?;
    let (independence_report, independent, break_glass_reads) = independence(conn, b, &names)?;
    Ok(Assembled {
        view: DebriefView {
            loop_id: b.row.id.into(),
            state: loop_state,
            debrief_opened_at: b.row.debrief_opened_at.map(db::from_db),
            feedback,
            votes,
            votes_revealed: table.shown,
            sealed_vote_counts: table.sealed_counts.into(),
            debrief_vote_counts: table.debrief_counts.map(VoteCounts::from),
            competency_matrix,
            independence_report,
            independent,
            break_glass_reads,
        },
        reads,
    })
}

/// The debrief view (participants and the loop's recruiter, once the
/// debrief is open). Reading it logs a read of each feedback not the
/// reader's own, in a second transaction.
pub async fn show(state: &AppState, me: &Actor, loop_id: Uuid) -> AppResult<DebriefView> {
    let (me, me_id) = (me.clone(), me.id);
    let Assembled { view, reads } = state
        .db
        .run(move |conn| {
            let b = db::loops::bundle(conn, loop_id.into())?.ok_or(AppError::NotFound)?;
            views::require_visible(&b, &me)?;
            let reader = views::reader(&b, &me, None);
            rules::may_view(
                reader.participant,
                reader.loop_recruiter,
                reader.service,
                me.is_admin(),
            )
            .map_err(AppError::forbidden)?;
            if !visibility::debrief_reached(b.row.state, b.row.debrief_opened_at.is_some()) {
                return Err(AppError::conflict(
                    "debrief_not_open",
                    "the debrief has not opened yet",
                ));
            }
            assemble(conn, &b, &me)
        })
        .await?;
    if !reads.is_empty() {
        state
            .db
            .write(move |conn| {
                for (row, via) in &reads {
                    log_read(conn, row, me_id, *via, None)?;
                }
                Ok(())
            })
            .await?;
    }
    Ok(view)
}

/// Cast or change the caller's debrief vote. The chain keeps a salted
/// receipt, never the vote: the trail is read by people who may not see a
/// vote before it is revealed.
pub async fn cast_vote(
    state: &AppState,
    me: &Actor,
    loop_id: Uuid,
    req: DebriefVoteInput,
) -> AppResult<MyDebriefVote> {
    let (by, me) = (me.by(state), me.clone());
    state
        .db
        .write(move |conn| {
            let id = LoopId::from(loop_id);
            let b = lock_visible(conn, id, &me)?;
            lifecycle::cast_debrief_vote(b.row.state, &views::loop_actor(&b, &me))?;
            let sealed_vote = b.interview_of(me.id).and_then(|i| sealed_vote(&b, i.id));
            let problems: Vec<Violation> =
                rules::revote_problems(sealed_vote, req.vote, &req.rationale);
            if !problems.is_empty() {
                return Err(Refusal::Invalid(problems).into());
            }
            let now = db::now();
            let at = db::to_db(now);
            let salt = proof::new_salt();
            let rationale = req.rationale.trim().to_string();
            let receipt = proof::vote_receipt(&salt, me.id.into(), req.vote, &rationale, now);
            let row = DebriefVoteRow {
                loop_id: id,
                voter_id: me.id,
                vote: req.vote,
                rationale,
                created_at: at,
                updated_at: at,
                receipt_salt: Some(salt),
            };
            db::feedback::put_vote(conn, &row)?;
            events::record(
                conn,
                &by,
                DebriefEvent::VoteCast {
                    loop_id,
                    voter: me.id.into(),
                    receipt,
                },
            )?;
            Ok(MyDebriefVote {
                loop_id,
                sealed_vote,
                vote: req.vote,
                rationale: row.rationale,
                changed: sealed_vote != Some(req.vote),
                updated_at: db::from_db(at),
            })
        })
        .await
}

/// Reveal the debrief votes before everyone has voted (the Bar Raiser).
/// Revealing twice changes nothing.
pub async fn reveal(state: &AppState, me: &Actor, loop_id: Uuid) -> AppResult<Loop> {
    let (by, me) = (me.by(state), me.clone());
    state
        .db
        .write(move |conn| {
            let id = LoopId::from(loop_id);
            let b = lock_visible(conn, id, &me)?;
            lifecycle::reveal_votes(b.row.state, &views::loop_actor(&b, &me))?;
            if b.row.votes_revealed_at.is_none() {
                db::loops::update(
                    conn,
                    id,
                    LoopChanges {
                        votes_revealed_at: Some(Some(db::to_db(db::now()))),
                        ..Default::default()
                    },
                )?;
                events::record(conn, &by, DebriefEvent::VotesRevealed { loop_id })?;
            }
            reload_view(conn, id)
        })
        .await
}

/// Record the hiring manager's decision. `no_hire` is final; `hire` waits
/// for the Bar Raiser.
pub async fn decide(
    state: &AppState,
    me: &Actor,
    loop_id: Uuid,
    req: DecisionInput,
) -> AppResult<Loop> {
    let (by, me) = (me.by(state), me.clone());
    state
        .db
        .write(move |conn| {
            let id = LoopId::from(loop_id);
            let b = lock_visible(conn, id, &me)?;
            let actor = views::loop_actor(&b, &me);
            let next = lifecycle::decide(b.row.state, &actor, req.outcome)?;
            if let Some(message) = rules::decision_rationale_problem(&req.rationale) {
                return Err(AppError::invalid_field("rationale", message));
            }
            let rationale = req.rationale.trim().to_string();
            let now = db::now();
            let at = Some(db::to_db(now));
            let is_final = next == LoopState::Decided;
            let receipt = proof::decision_receipt(&proof::DecisionFacts {
                outcome: req.outcome,
                rationale: rationale.clone(),
                recycle: req.recycle,
                decided_by: me.id.into(),
                recorded_at: now,
            });
            db::loops::update(
                conn,
                id,
                LoopChanges {
                    state: Some(next),
                    decision_outcome: Some(Some(req.outcome)),
                    decision_rationale: Some(Some(rationale)),
                    decision_recycle: Some(Some(req.recycle)),
                    decided_by: Some(Some(me.id)),
                    decision_recorded_at: Some(at),
                    final_outcome: is_final.then_some(Some(req.outcome)),
                    decided_at: is_final.then_some(at),
                    ..Default::default()
                },
            )?;
            let names = Names::load(conn, &b)?;
            let event = DebriefEvent::DecisionRecorded {
                loop_id,
                outcome: req.outcome,
                recycle: req.recycle,
                receipt,
                is_final,
                audience: decision_audience(&b, &names),
            };
            events::record(conn, &by, event)?;
            if is_final {
                super::analytics::capture(conn, id)?;
            }
            reload_view(conn, id)
        })
        .await
}

/// The Bar Raiser concurs with a pending hire (`veto: None`) or vetoes it
/// with a rationale: the outcome becomes final.
pub async fn verdict(
    state: &AppState,
    me: &Actor,
    loop_id: Uuid,
    veto: Option<VetoInput>,
) -> AppResult<Loop> {
    let (by, me) = (me.by(state), me.clone());
    let veto = veto.map(|v| v.rationale);
    state
        .db
        .write(move |conn| {
            let id = LoopId::from(loop_id);
            let b = lock_visible(conn, id, &me)?;
            let (current, mut actor) = (b.row.state, views::loop_actor(&b, &me));
            actor.bar_raiser = crate::workflows::program::veto_holder(&b) == me.id;
            let (next, verdict, outcome) = match &veto {
                Some(rationale) => {
                    if let Some(message) = rules::veto_rationale_problem(rationale) {
                        return Err(AppError::invalid_field("rationale", message));
                    }
                    (
                        lifecycle::veto(current, &actor, rationale)?,
                        Verdict::Veto,
                        Outcome::NoHire,
                    )
                }
                None => (
                    lifecycle::concur(current, &actor)?,
                    Verdict::Concur,
                    Outcome::Hire,
                ),
            };
            let rationale = veto.as_ref().map(|r| r.trim().to_string());
            let now = db::now();
            let at = Some(db::to_db(now));
            let receipt = proof::verdict_receipt(&proof::VerdictFacts {
                verdict,
                rationale: rationale.clone(),
                final_outcome: outcome,
                at: now,
            });
            db::loops::update(
                conn,
                id,
                LoopChanges {
                    state: Some(next),
                    bar_raiser_verdict: Some(Some(verdict)),
                    veto_rationale: Some(rationale),
                    verdict_at: Some(at),
                    final_outcome: Some(Some(outcome)),
                    decided_at: Some(at),
                    ..Default::default()
                },
            )?;
            let names = Names::load(conn, &b)?;
            let event = DebriefEvent::Verdict {
                loop_id,
                verdict,
                final_outcome: outcome,
                receipt,
                audience: decision_audience(&b, &names),
            };
            events::record(conn, &by, event)?;
            // The outcome is final: its facts are captured for analytics.
            super::analytics::capture(conn, id)?;
            reload_view(conn, id)
        })
        .await
}
