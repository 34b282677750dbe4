//! The debrief the Bar Raiser runs, the hiring manager's decision and the
//! Bar Raiser's concurrence or veto.

use std::collections::HashMap;

use actix_web::{HttpResponse, get, post, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::feedback::{Feedback, feedback_views, log_read};
use super::loops::lock_visible;
use crate::app::AppState;
use crate::auth::AuthUser;
use crate::db::loops::{LoopBundle, LoopChanges};
use crate::db::models::{DebriefVoteRow, FeedbackRow};
use crate::db::{self, DbConn};
use crate::domain::debrief::{self as rules, Read, Tally};
use crate::domain::{
    InterviewRole, LoopState, Outcome, ReadVia, Refusal, StoredFeedbackState, Verdict, Violation,
    Vote, lifecycle, progress, proof, visibility,
};
use crate::error::{AppError, AppResult, FieldError, Problem};
use crate::notify::webhooks::{self, EventType};
use crate::notify::{self, Notice};
use crate::workflows::views::{self, CompetencyRef, Loop, Names, Person};

const RATIONALE_MAX: usize = 5000;

/// The loop-chain event recorded when an operator changes a participant's
/// password or email.
pub const OPERATOR_CHANGE: &str = "account.changed_by_operator";

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DebriefVoteInput {
    pub vote: Vote,
    /// Required when the vote differs from your sealed one.
    #[serde(default)]
    pub rationale: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    pub outcome: Outcome,
    pub rationale: String,
    /// May the candidate be considered for other roles.
    #[serde(default)]
    pub recycle: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VetoInput {
    /// At least 50 characters.
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
    /// As sealed; never altered.
    pub sealed_vote: Option<Vote>,
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

fn notify_all(
    conn: &mut DbConn,
    public_url: &str,
    b: &LoopBundle,
    names: &Names,
    notice: Notice,
    with_recruiter: bool,
) -> AppResult<()> {
    let mut to = views::participants(b, names);
    if with_recruiter && let Some(r) = names.recipient(&b.row.recruiter_id) {
        to.retain(|p| p.email != r.email);
        to.push(r);
    }
    notify::enqueue(conn, public_url, &to, &names.loop_ref(b), &notice, None)
}

fn decision_audience(
    conn: &mut DbConn,
    public_url: &str,
    b: &LoopBundle,
    notice: Notice,
) -> AppResult<()> {
    let names = Names::load(conn, b)?;
    let mut ids = vec![
        &b.row.hiring_manager_id,
        &b.row.recruiter_id,
        &b.row.bar_raiser_id,
    ];
    ids.dedup();
    let to: Vec<_> = ids
        .into_iter()
        .filter_map(|id| names.recipient(id))
        .collect();
    notify::enqueue(conn, public_url, &to, &names.loop_ref(b), &notice, None)
}

fn reload_view(conn: &mut DbConn, id: &str) -> AppResult<Loop> {
    let b = db::loops::bundle(conn, id)?.ok_or(AppError::NotFound)?;
    views::loop_view(conn, &b)
}

fn text_required(field: &str, value: &str, min: usize, max: usize) -> AppResult<()> {
    let n = value.trim().chars().count();
    if n < min.max(1) || n > max {
        let message = if min > 1 {
            format!("{min} to {max} characters")
        } else {
            format!("required, at most {max} characters")
        };
        return Err(AppError::validation(vec![FieldError::new(field, message)]));
    }
    Ok(())
}

/// Open the debrief (the loop's Bar Raiser). Refused with 409
/// `feedback_outstanding`, naming each open interview, until every voting
/// interview is sealed or excused. Freezes feedback; opens sealed content
/// to participants and the loop's recruiter.
#[utoipa::path(
    tag = "debrief",
    operation_id = "open_debrief",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Loop),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`feedback_outstanding` (each open interview listed in `errors`) or the loop is not scheduled", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/loops/{id}/debrief")]
pub async fn open(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner().to_string();
    let public_url = state.config.public_url.clone();
    let view = state
        .db
        .write(move |conn| {
            let b = lock_visible(conn, &id, &me)?;
            let outstanding = progress::outstanding(&views::all_facts(&b)?);
            let next = lifecycle::open_debrief(
                views::state_of(&b)?,
                &views::loop_actor(&b, &me),
                outstanding,
            )?;
            db::loops::update(
                conn,
                &id,
                LoopChanges {
                    state: Some(next.as_str().into()),
                    debrief_opened_at: Some(Some(db::to_db(db::now()))),
                    ..Default::default()
                },
            )?;
            db::audit::append(
                conn,
                &id,
                Some(me.id),
                "debrief.opened",
                Some(&id),
                &serde_json::json!({}),
            )?;
            webhooks::emit(
                conn,
                EventType::DebriefOpened,
                serde_json::json!({"loop_id": id}),
            )?;
            let names = Names::load(conn, &b)?;
            notify_all(conn, &public_url, &b, &names, Notice::DebriefOpened, true)?;
            reload_view(conn, &id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

struct Assembled {
    view: DebriefView,
    reads: Vec<(FeedbackRow, ReadVia)>,
}

fn assemble(conn: &mut DbConn, b: &LoopBundle, me: &AuthUser) -> AppResult<Assembled> {
    let names = Names::load(conn, b)?;
    let loop_state = views::state_of(b)?;
    let sealed: Vec<&FeedbackRow> = b
        .interviews
        .iter()
        .filter_map(|i| b.feedback.get(&i.id))
        .filter(|f| f.state == StoredFeedbackState::Sealed.as_str())
        .collect();
    let mut reads = Vec::new();
    for f in &sealed {
        let reader = views::reader(b, me, Some(&f.author_id));
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

    // Votes.
    let votes_cast: HashMap<String, DebriefVoteRow> = db::feedback::votes(conn, &b.row.id)?
        .into_iter()
        .map(|v| (v.voter_id.clone(), v))
        .collect();
    let voters: Vec<_> = b
        .interviews
        .iter()
        .filter(|i| i.loop_role == InterviewRole::Interviewer.as_str() && i.excused_at.is_none())
        .collect();
    let cast = voters
        .iter()
        .filter(|i| votes_cast.contains_key(&i.interviewer_id))
        .count();
    let shown = rules::votes_visible(voters.len(), cast, b.row.votes_revealed_at.is_some());
    let mut vote_rows = Vec::new();
    let mut sealed_votes = Vec::new();
    let mut debrief_votes = Vec::new();
    for i in &voters {
        let sealed_vote: Option<Vote> = b
            .feedback
            .get(&i.id)
            .filter(|f| f.state == StoredFeedbackState::Sealed.as_str())
            .and_then(|f| f.vote.as_deref())
            .map(db::parse_enum)
            .transpose()?;
        sealed_votes.extend(sealed_vote);
        let dv = votes_cast.get(&i.interviewer_id);
        let debrief_vote: Option<Vote> = dv.map(|v| db::parse_enum(&v.vote)).transpose()?;
        if shown {
            debrief_votes.extend(debrief_vote);
        }
        vote_rows.push(VoteRow {
            voter: names.person(&i.interviewer_id),
            interview_id: db::uuid(&i.id),
            sealed_vote,
            has_voted: dv.is_some(),
            debrief_vote: if shown { debrief_vote } else { None },
            rationale: if shown {
                dv.map(|v| v.rationale.clone())
            } else {
                None
            },
            changed: if shown {
                debrief_vote.map(|d| Some(d) != sealed_vote)
            } else {
                None
            },
        });
    }

    // Competency matrix over sealed feedback.
    let ratings = db::feedback::loop_ratings(
        conn,
        &b.row.id,
        &sealed.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(),
    )?;
    let mut competency_order: Vec<String> = b.required_competency_ids.clone();
    for i in &b.interviews {
        for c in b.competencies_of(&i.id) {
            if !competency_order.contains(c) {
                competency_order.push(c.clone());
            }
        }
    }
    competency_order.sort_by_key(|c| names.competency(c).name);
    let competency_matrix = competency_order
        .iter()
        .map(|c| MatrixRow {
            competency: names.competency(c),
            ratings: b
                .interviews
                .iter()
                .filter(|i| b.competencies_of(&i.id).contains(c))
                .filter_map(|i| {
                    let f = sealed.iter().find(|f| f.interview_id == i.id)?;
                    let rating = ratings
                        .get(&f.id)
                        .and_then(|rs| rs.iter().find(|r| &r.competency_id == c))
                        .and_then(|r| r.rating);
                    Some(MatrixCell {
                        interview_id: db::uuid(&i.id),
                        interviewer: names.person(&i.interviewer_id),
                        loop_role: i.loop_role.parse().unwrap_or(InterviewRole::Interviewer),
                        rating,
                    })
                })
                .collect(),
        })
        .collect();

    // Independence report from the read log.
    let log = db::feedback::reads(conn, &b.row.id)?;
    let domain_reads: Vec<Read> = log
        .iter()
        .map(|r| {
            Ok(Read {
                reader: db::uuid(&r.reader_id),
                at: db::from_db(r.read_at),
                via: db::parse_enum(&r.via)?,
            })
        })
        .collect::<AppResult<_>>()?;
    let mut participant_ids: Vec<&str> = vec![&b.row.hiring_manager_id, &b.row.bar_raiser_id];
    participant_ids.extend(b.interviews.iter().map(|i| i.interviewer_id.as_str()));
    let mut seen = std::collections::HashSet::new();
    participant_ids.retain(|p| seen.insert(*p));
    let facts: Vec<(Uuid, Option<DateTime<Utc>>)> = participant_ids
        .iter()
        .map(|p| {
            let sealed_at = b
                .interview_of(p)
                .and_then(|i| b.feedback.get(&i.id))
                .and_then(|f| f.sealed_at)
                .map(db::from_db);
            (db::uuid(p), sealed_at)
        })
        .collect();
    let report = rules::independence(
        &facts,
        &domain_reads,
        b.row.debrief_opened_at.map(db::from_db),
    );
    let operator_events: Vec<_> = db::audit::events(conn, &b.row.id)?
        .into_iter()
        .filter(|e| e.action == OPERATOR_CHANGE)
        .collect();
    let mut others: Vec<String> = b
        .interviews
        .iter()
        .filter_map(|i| i.assigned_by.clone())
        .chain(
            operator_events
                .iter()
                .filter_map(|e| e.actor_id.map(|a| a.to_string())),
        )
        .filter(|id| !names.users.contains_key(id))
        .collect();
    others.sort();
    others.dedup();
    let refs: Vec<&str> = others.iter().map(String::as_str).collect();
    let more = db::catalog::users_by_ids(conn, &refs)?;
    let person = |id: &str| match more.get(id) {
        Some(u) => Person {
            id: db::uuid(&u.id),
            name: u.name.clone(),
            email: u.email.clone(),
        },
        None => names.person(id),
    };
    let independence_report: Vec<IndependenceLine> = report
        .into_iter()
        .map(|line| {
            let id = line.participant.to_string();
            let interview = b.interview_of(&id);
            IndependenceLine {
                participant: names.person(&id),
                interview_id: interview.map(|i| db::uuid(&i.id)),
                joined_at: interview.map(views::joined_at),
                added_by: interview
                    .and_then(|i| i.assigned_by.as_deref())
                    .map(&person),
                late_joiner: views::joined_late(b, &id),
                sealed_at: line.sealed_at,
                first_read_at: line.first_read_at,
                independent: line.independent,
                operator_changes: operator_events
                    .iter()
                    .filter(|e| e.subject_id.as_deref() == Some(id.as_str()))
                    .map(|e| OperatorChange {
                        by: e
                            .actor_id
                            .map(|a| person(&a.to_string()))
                            .unwrap_or_else(|| names.person("")),
                        at: e.created_at,
                        changed: serde_json::from_str::<serde_json::Value>(&e.payload)
                            .ok()
                            .and_then(|p| serde_json::from_value(p["changed"].clone()).ok())
                            .unwrap_or_default(),
                    })
                    .collect(),
            }
        })
        .collect();
    let feedback_interview: HashMap<&str, &str> = b
        .feedback
        .values()
        .map(|f| (f.id.as_str(), f.interview_id.as_str()))
        .collect();
    let break_glass_reads = log
        .iter()
        .filter(|r| r.via == ReadVia::BreakGlass.as_str())
        .map(|r| BreakGlassRead {
            reader: names.person(&r.reader_id),
            interview_id: db::uuid(
                feedback_interview
                    .get(r.feedback_id.as_str())
                    .copied()
                    .unwrap_or_default(),
            ),
            read_at: db::from_db(r.read_at),
            reason: r.reason.clone(),
        })
        .collect();
    let independent = independence_report.iter().all(|l| l.independent);
    Ok(Assembled {
        view: DebriefView {
            loop_id: db::uuid(&b.row.id),
            state: loop_state,
            debrief_opened_at: b.row.debrief_opened_at.map(db::from_db),
            feedback,
            votes: vote_rows,
            votes_revealed: shown,
            sealed_vote_counts: rules::tally(sealed_votes).into(),
            debrief_vote_counts: shown.then(|| rules::tally(debrief_votes).into()),
            competency_matrix,
            independence_report,
            independent,
            break_glass_reads,
        },
        reads,
    })
}

/// The debrief view (participants and the loop's recruiter, once the
/// debrief is open): all sealed feedback with addenda, sealed and debrief
/// votes side by side, the competency matrix, counts, and the independence
/// report. Reading it logs a read of each feedback not your own.
#[utoipa::path(
    tag = "debrief",
    operation_id = "get_debrief",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = DebriefView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`debrief_not_open`, or `feedback_integrity_failed` (a sealed feedback no longer matches its receipt)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/loops/{id}/debrief")]
pub async fn show(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner().to_string();
    let me_id = me.id;
    let assembled = state
        .db
        .run(move |conn| {
            let b = db::loops::bundle(conn, &id)?.ok_or(AppError::NotFound)?;
            views::require_visible(&b, &me)?;
            let reader = views::reader(&b, &me, None);
            if !reader.participant && !reader.loop_recruiter && !reader.service {
                return Err(AppError::forbidden(if me.is_admin() {
                    "break_glass_required"
                } else {
                    "not_a_participant"
                }));
            }
            if !visibility::debrief_reached(views::state_of(&b)?, b.row.debrief_opened_at.is_some())
            {
                return Err(AppError::conflict(
                    "debrief_not_open",
                    "the debrief has not opened yet",
                ));
            }
            assemble(conn, &b, &me)
        })
        .await?;
    let Assembled { view, reads } = assembled;
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
    Ok(HttpResponse::Ok().json(view))
}

/// Cast or change your debrief vote (voting participants, while the
/// debrief is open). Your sealed vote stays on record; a different vote
/// needs a rationale. Others see only that you voted until all have voted
/// or the Bar Raiser reveals.
#[utoipa::path(
    tag = "debrief",
    operation_id = "cast_debrief_vote",
    params(("id" = Uuid, Path)),
    request_body = DebriefVoteInput,
    security(("bearer" = [])),
    responses(
        (status = 200, body = MyDebriefVote),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The debrief is not open", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/loops/{id}/debrief/votes/me")]
pub async fn cast_vote(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<DebriefVoteInput>,
) -> AppResult<HttpResponse> {
    let req = body.into_inner();
    let id = id.into_inner().to_string();
    let mine = state
        .db
        .write(move |conn| {
            let b = lock_visible(conn, &id, &me)?;
            lifecycle::cast_debrief_vote(views::state_of(&b)?, &views::loop_actor(&b, &me))?;
            let me_str = me.id.to_string();
            let sealed_vote: Option<Vote> = b
                .interview_of(&me_str)
                .and_then(|i| b.feedback.get(&i.id))
                .filter(|f| f.state == StoredFeedbackState::Sealed.as_str())
                .and_then(|f| f.vote.as_deref())
                .map(db::parse_enum)
                .transpose()?;
            let problems: Vec<Violation> =
                rules::revote_problems(sealed_vote, req.vote, &req.rationale);
            if !problems.is_empty() {
                return Err(Refusal::Invalid(problems).into());
            }
            let now = db::now();
            let at = db::to_db(now);
            let salt = proof::new_salt();
            let rationale = req.rationale.trim().to_string();
            // The chain keeps a salted receipt, never the vote: the trail is
            // read by people who may not see a vote before it is revealed.
            let receipt = proof::vote_receipt(&salt, me.id, req.vote, &rationale, now);
            let row = DebriefVoteRow {
                loop_id: id.clone(),
                voter_id: me_str,
                vote: req.vote.as_str().into(),
                rationale,
                created_at: at,
                updated_at: at,
                receipt_salt: Some(salt),
            };
            db::feedback::put_vote(conn, &row)?;
            db::audit::append(
                conn,
                &id,
                Some(me.id),
                proof::action::VOTE,
                Some(&id),
                &serde_json::json!({"voter_id": me.id, "receipt": receipt}),
            )?;
            Ok(MyDebriefVote {
                loop_id: db::uuid(&id),
                sealed_vote,
                vote: req.vote,
                rationale: row.rationale,
                changed: sealed_vote != Some(req.vote),
                updated_at: db::from_db(at),
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(mine))
}

/// Reveal the debrief votes before everyone has voted (the Bar Raiser).
#[utoipa::path(
    tag = "debrief",
    operation_id = "reveal_debrief_votes",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Loop),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/loops/{id}/debrief/reveal")]
pub async fn reveal(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner().to_string();
    let view = state
        .db
        .write(move |conn| {
            let b = lock_visible(conn, &id, &me)?;
            lifecycle::reveal_votes(views::state_of(&b)?, &views::loop_actor(&b, &me))?;
            if b.row.votes_revealed_at.is_none() {
                db::loops::update(
                    conn,
                    &id,
                    LoopChanges {
                        votes_revealed_at: Some(Some(db::to_db(db::now()))),
                        ..Default::default()
                    },
                )?;
                db::audit::append(
                    conn,
                    &id,
                    Some(me.id),
                    "debrief.votes_revealed",
                    Some(&id),
                    &serde_json::json!({}),
                )?;
            }
            reload_view(conn, &id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Record the decision (the loop's hiring manager, during the debrief).
/// `no_hire` is final; `hire` waits for the Bar Raiser to concur or veto.
#[utoipa::path(
    tag = "debrief",
    operation_id = "record_decision",
    params(("id" = Uuid, Path)),
    request_body = DecisionInput,
    security(("bearer" = [])),
    responses(
        (status = 200, body = Loop),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`debrief_not_open` or `already_decided`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/loops/{id}/decision")]
pub async fn decide(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<DecisionInput>,
) -> AppResult<HttpResponse> {
    let req = body.into_inner();
    let id = id.into_inner().to_string();
    let public_url = state.config.public_url.clone();
    let view = state
        .db
        .write(move |conn| {
            let b = lock_visible(conn, &id, &me)?;
            let next = lifecycle::decide(views::state_of(&b)?, &views::loop_actor(&b, &me), req.outcome)?;
            text_required("rationale", &req.rationale, 1, RATIONALE_MAX)?;
            let now = db::now();
            let at = Some(db::to_db(now));
            let final_now = next == LoopState::Decided;
            let receipt = proof::decision_receipt(&proof::DecisionFacts {
                outcome: req.outcome.as_str().into(),
                rationale: req.rationale.trim().to_string(),
                recycle: req.recycle,
                decided_by: me.id,
                recorded_at: now,
            });
            db::loops::update(
                conn,
                &id,
                LoopChanges {
                    state: Some(next.as_str().into()),
                    decision_outcome: Some(Some(req.outcome.as_str().into())),
                    decision_rationale: Some(Some(req.rationale.trim().to_string())),
                    decision_recycle: Some(Some(req.recycle)),
                    decided_by: Some(Some(me.id.to_string())),
                    decision_recorded_at: Some(at),
                    final_outcome: final_now.then(|| Some(req.outcome.as_str().to_string())),
                    decided_at: final_now.then_some(at),
                    ..Default::default()
                },
            )?;
            db::audit::append(
                conn,
                &id,
                Some(me.id),
                proof::action::DECISION,
                Some(&id),
                &serde_json::json!({"outcome": req.outcome, "recycle": req.recycle, "receipt": receipt}),
            )?;
            decision_audience(conn, &public_url, &b, Notice::DecisionRecorded { outcome: req.outcome.as_str().into() })?;
            webhooks::emit(conn, EventType::DecisionRecorded, serde_json::json!({"loop_id": id, "outcome": req.outcome}))?;
            if final_now { webhooks::emit_final(conn, &id, req.outcome, false)?; }
            reload_view(conn, &id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The Bar Raiser concurs with a hire: it becomes final.
#[utoipa::path(
    tag = "debrief",
    operation_id = "concur_with_hire",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Loop),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No hire is pending", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/loops/{id}/decision/concur")]
pub async fn concur(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    verdict(state, me, id.into_inner(), None).await
}

/// The Bar Raiser vetoes a hire (rationale of at least 50 characters): the
/// outcome becomes `no_hire`, `vetoed: true`.
#[utoipa::path(
    tag = "debrief",
    operation_id = "veto_hire",
    params(("id" = Uuid, Path)),
    request_body = VetoInput,
    security(("bearer" = [])),
    responses(
        (status = 200, body = Loop),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No hire is pending", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Rationale too short", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/loops/{id}/decision/veto")]
pub async fn veto_hire(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    body: web::Json<VetoInput>,
) -> AppResult<HttpResponse> {
    verdict(
        state,
        me,
        id.into_inner(),
        Some(body.into_inner().rationale),
    )
    .await
}

async fn verdict(
    state: web::Data<AppState>,
    me: AuthUser,
    id: Uuid,
    veto: Option<String>,
) -> AppResult<HttpResponse> {
    let id = id.to_string();
    let public_url = state.config.public_url.clone();
    let view = state
        .db
        .write(move |conn| {
            let b = lock_visible(conn, &id, &me)?;
            let (current, actor) = (views::state_of(&b)?, views::loop_actor(&b, &me));
            let (next, verdict, outcome) = match &veto {
                Some(rationale) => {
                    if rationale.chars().count() > RATIONALE_MAX {
                        return Err(AppError::invalid_field(
                            "rationale",
                            format!("at most {RATIONALE_MAX} characters"),
                        ));
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
            let now = db::now();
            let at = Some(db::to_db(now));
            let receipt = proof::verdict_receipt(&proof::VerdictFacts {
                verdict: verdict.as_str().into(),
                rationale: veto.as_ref().map(|r| r.trim().to_string()),
                final_outcome: outcome.as_str().into(),
                at: now,
            });
            db::loops::update(
                conn,
                &id,
                LoopChanges {
                    state: Some(next.as_str().into()),
                    bar_raiser_verdict: Some(Some(verdict.as_str().into())),
                    veto_rationale: Some(veto.as_ref().map(|r| r.trim().to_string())),
                    verdict_at: Some(at),
                    final_outcome: Some(Some(outcome.as_str().into())),
                    decided_at: Some(at),
                    ..Default::default()
                },
            )?;
            db::audit::append(
                conn,
                &id,
                Some(me.id),
                match verdict {
                    Verdict::Veto => proof::action::VETO,
                    Verdict::Concur => proof::action::CONCUR,
                },
                Some(&id),
                &serde_json::json!({"final_outcome": outcome, "receipt": receipt}),
            )?;
            let notice = match verdict {
                Verdict::Veto => Notice::DecisionVetoed,
                Verdict::Concur => Notice::DecisionConcurred,
            };
            decision_audience(conn, &public_url, &b, notice)?;
            if verdict == Verdict::Veto {
                webhooks::emit(
                    conn,
                    EventType::DecisionVetoed,
                    serde_json::json!({"loop_id": id}),
                )?;
            }
            webhooks::emit_final(conn, &id, outcome, verdict == Verdict::Veto)?;
            reload_view(conn, &id)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
