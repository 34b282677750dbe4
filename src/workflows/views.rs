//! Response shapes shared by several resources, built from loaded rows,
//! and the glue that turns "this user, this loop" into the plain facts the
//! domain's rules take.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::db::loops::LoopBundle;
use crate::db::models::{CandidateRow, CompetencyRow, InterviewRow, UserRow};
use crate::db::{self, CompetencyId, DbConn, InterviewId, UserId};
use crate::domain::composition::{Composition, PlannedInterview};
use crate::domain::lifecycle::LoopActor;
use crate::domain::progress::{self, InterviewFacts};
use crate::domain::visibility::{self, Reader};
use crate::domain::{
    FeedbackState, InterviewRole, LoopState, Outcome, ProgramState, QuickVoteMode,
    StoredFeedbackState, Verdict, Violation, quickvote,
};
use crate::error::{AppError, AppResult};
use crate::notify::{LoopRef, Recipient};

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Person {
    pub id: Uuid,
    pub name: String,
    pub email: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CompetencyRef {
    pub id: Uuid,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CandidateRef {
    pub id: Uuid,
    pub name: String,
    pub erased: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Excuse {
    pub excused_at: DateTime<Utc>,
    pub excused_by: Uuid,
    pub reason: String,
}

/// An interview and the status of its feedback — never its content.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Interview {
    pub id: Uuid,
    pub loop_id: Uuid,
    pub interviewer: Person,
    pub loop_role: InterviewRole,
    pub competencies: Vec<CompetencyRef>,
    pub starts_at: DateTime<Utc>,
    pub duration_minutes: i32,
    pub ends_at: DateTime<Utc>,
    /// Interview end plus the loop's `feedback_due_hours`.
    pub due_at: DateTime<Utc>,
    pub feedback_state: FeedbackState,
    pub overdue: bool,
    pub sealed_at: Option<DateTime<Utc>>,
    pub excuse: Option<Excuse>,
    /// When its interviewer committed a quick vote (status only: the vote
    /// is read as feedback is, `GET /interviews/{id}/quick-vote`).
    pub quick_voted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Progress {
    /// Voting interviews sealed.
    pub sealed_count: usize,
    /// Voting interviews expected to seal (excused ones excluded).
    pub expected_count: usize,
    pub ready_for_debrief: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Decision {
    /// The hiring manager's decision.
    pub outcome: Outcome,
    pub rationale: String,
    /// May the candidate be considered for other roles.
    pub recycle: bool,
    pub decided_by: Uuid,
    pub recorded_at: DateTime<Utc>,
    /// For a hire: the Bar Raiser's answer, once given.
    pub bar_raiser_verdict: Option<Verdict>,
    pub veto_rationale: Option<String>,
    pub verdict_at: Option<DateTime<Utc>>,
    pub vetoed: bool,
    /// The outcome once final (`no_hire` after a veto).
    pub final_outcome: Option<Outcome>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// A loop with its interviews and progress.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Loop {
    pub id: Uuid,
    pub candidate: CandidateRef,
    pub position: String,
    pub level: String,
    pub state: LoopState,
    pub hiring_manager: Person,
    pub bar_raiser: Person,
    /// In a reverse shadow (a Bar Raiser in training leads the loop as
    /// `bar_raiser`): the certified mentor who holds the veto and signs off
    /// afterwards. Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mentor: Option<Person>,
    pub recruiter: Person,
    pub feedback_due_hours: i32,
    /// Quick votes after each interview: `off`, `optional` or `required`.
    pub quick_vote: QuickVoteMode,
    pub required_competencies: Vec<CompetencyRef>,
    pub interviews: Vec<Interview>,
    pub sealed_count: usize,
    pub expected_count: usize,
    pub ready_for_debrief: bool,
    pub cancel_reason: Option<String>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub debrief_opened_at: Option<DateTime<Utc>>,
    pub votes_revealed_at: Option<DateTime<Utc>>,
    pub decision: Option<Decision>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Names of the people, competencies and candidate a loop mentions.
pub struct Names {
    pub users: HashMap<UserId, UserRow>,
    pub competencies: HashMap<CompetencyId, CompetencyRow>,
    pub candidate: Option<CandidateRow>,
}

impl Names {
    pub fn load(conn: &mut DbConn, b: &LoopBundle) -> AppResult<Names> {
        let mut competency_ids: Vec<CompetencyId> = b.required_competency_ids.clone();
        competency_ids.extend(b.competencies.values().flatten().copied());
        let r = &b.row;
        // A loop without a mentor names its Bar Raiser twice: one statement shape.
        let named = [
            r.hiring_manager_id,
            r.bar_raiser_id,
            r.recruiter_id,
            r.mentor_id.unwrap_or(r.bar_raiser_id),
        ];
        let interviewers: Vec<UserId> = b.interviews.iter().map(|i| i.interviewer_id).collect();
        let users = db::catalog::loop_users(conn, r.id, named, &interviewers)?;
        let competencies = db::catalog::loop_competencies(conn, r.id, &competency_ids)?;
        Ok(Names {
            users,
            competencies,
            candidate: db::catalog::candidate(conn, r.candidate_id)?,
        })
    }

    pub fn person(&self, id: UserId) -> Person {
        match self.users.get(&id) {
            Some(u) => Person {
                id: u.id.into(),
                name: u.name.clone(),
                email: u.email.clone(),
            },
            None => Person {
                id: id.into(),
                name: String::new(),
                email: String::new(),
            },
        }
    }

    pub fn competency(&self, id: CompetencyId) -> CompetencyRef {
        CompetencyRef {
            id: id.into(),
            name: self
                .competencies
                .get(&id)
                .map(|c| c.name.clone())
                .unwrap_or_default(),
        }
    }

    pub fn candidate_name(&self) -> String {
        self.candidate
            .as_ref()
            .map(|c| c.name.clone())
            .unwrap_or_default()
    }

    pub fn recipient(&self, id: UserId) -> Option<Recipient> {
        self.users.get(&id).filter(|u| u.active).map(|u| Recipient {
            email: u.email.clone(),
            name: u.name.clone(),
        })
    }

    pub fn loop_ref(&self, b: &LoopBundle) -> LoopRef {
        LoopRef {
            id: b.row.id.into(),
            candidate: self.candidate_name(),
            position: b.row.position.clone(),
        }
    }
}

pub fn facts(b: &LoopBundle, i: &InterviewRow) -> InterviewFacts {
    InterviewFacts {
        id: i.id.into(),
        role: i.loop_role,
        starts_at: db::from_db(i.starts_at),
        duration_minutes: i.duration_minutes,
        excused: i.excused_at.is_some(),
        feedback: b.feedback.get(&i.id).map(|f| f.state),
    }
}

pub fn all_facts(b: &LoopBundle) -> Vec<InterviewFacts> {
    b.interviews.iter().map(|i| facts(b, i)).collect()
}

pub fn interview_view(
    b: &LoopBundle,
    i: &InterviewRow,
    names: &Names,
    now: DateTime<Utc>,
) -> Interview {
    let f = facts(b, i);
    let state = b.row.state;
    Interview {
        id: f.id,
        loop_id: b.row.id.into(),
        interviewer: names.person(i.interviewer_id),
        loop_role: f.role,
        competencies: b
            .competencies_of(i.id)
            .iter()
            .map(|c| names.competency(*c))
            .collect(),
        starts_at: f.starts_at,
        duration_minutes: f.duration_minutes,
        ends_at: f.ends_at(),
        due_at: f.due_at(b.row.feedback_due_hours),
        feedback_state: f.feedback_state(),
        overdue: f.overdue(b.row.feedback_due_hours, state, now),
        sealed_at: b
            .feedback
            .get(&i.id)
            .and_then(|fb| fb.sealed_at)
            .map(db::from_db),
        excuse: match (&i.excused_at, &i.excused_by, &i.excuse_reason) {
            (Some(at), Some(by), Some(reason)) => Some(Excuse {
                excused_at: db::from_db(*at),
                excused_by: (*by).into(),
                reason: reason.clone(),
            }),
            _ => None,
        },
        quick_voted_at: b
            .quick_votes
            .get(&i.id)
            .map(|q| db::from_db(q.committed_at)),
    }
}

/// With the loop's `quick_vote` set to `required`: the voting interviews
/// with neither a quick vote nor an excuse, each named.
pub fn quick_votes_outstanding(b: &LoopBundle) -> Vec<Violation> {
    quickvote::outstanding(b.row.quick_vote, &all_facts(b), |f| {
        b.quick_votes.contains_key(&InterviewId::from(f.id))
    })
}

/// Nothing keeps the debrief shut: every voting interview sealed or
/// excused and, where the loop requires them, quick-voted or excused.
pub fn ready_for_debrief(b: &LoopBundle) -> bool {
    progress::loop_progress(b.row.state, &all_facts(b)).ready_for_debrief
        && quick_votes_outstanding(b).is_empty()
}

pub fn decision_view(b: &LoopBundle) -> Option<Decision> {
    let r = &b.row;
    let (Some(outcome), Some(decided_by), Some(recorded_at)) =
        (r.decision_outcome, r.decided_by, r.decision_recorded_at)
    else {
        return None;
    };
    let verdict = r.bar_raiser_verdict;
    Some(Decision {
        outcome,
        rationale: r.decision_rationale.clone().unwrap_or_default(),
        recycle: r.decision_recycle.unwrap_or(false),
        decided_by: decided_by.into(),
        recorded_at: db::from_db(recorded_at),
        bar_raiser_verdict: verdict,
        veto_rationale: r.veto_rationale.clone(),
        verdict_at: r.verdict_at.map(db::from_db),
        vetoed: verdict == Some(Verdict::Veto),
        final_outcome: r.final_outcome,
        decided_at: r.decided_at.map(db::from_db),
    })
}

pub fn loop_view(conn: &mut DbConn, b: &LoopBundle) -> AppResult<Loop> {
    let names = Names::load(conn, b)?;
    Ok(loop_view_with(b, &names))
}

pub fn loop_view_with(b: &LoopBundle, names: &Names) -> Loop {
    let now = db::now();
    let state = b.row.state;
    let progress = progress::loop_progress(state, &all_facts(b));
    let r = &b.row;
    Loop {
        id: r.id.into(),
        candidate: CandidateRef {
            id: r.candidate_id.into(),
            name: names.candidate_name(),
            erased: names
                .candidate
                .as_ref()
                .is_some_and(|c| c.erased_at.is_some()),
        },
        position: r.position.clone(),
        level: r.level.clone(),
        state,
        hiring_manager: names.person(r.hiring_manager_id),
        bar_raiser: names.person(r.bar_raiser_id),
        mentor: r.mentor_id.map(|m| names.person(m)),
        recruiter: names.person(r.recruiter_id),
        feedback_due_hours: r.feedback_due_hours,
        quick_vote: r.quick_vote,
        required_competencies: b
            .required_competency_ids
            .iter()
            .map(|c| names.competency(*c))
            .collect(),
        interviews: b
            .interviews
            .iter()
            .map(|i| interview_view(b, i, names, now))
            .collect(),
        sealed_count: progress.sealed_count,
        expected_count: progress.expected_count,
        ready_for_debrief: progress.ready_for_debrief && quick_votes_outstanding(b).is_empty(),
        cancel_reason: r.cancel_reason.clone(),
        cancelled_at: r.cancelled_at.map(db::from_db),
        debrief_opened_at: r.debrief_opened_at.map(db::from_db),
        votes_revealed_at: r.votes_revealed_at.map(db::from_db),
        decision: decision_view(b),
        created_at: db::from_db(r.created_at),
        updated_at: db::from_db(r.updated_at),
    }
}

// --- who is the caller to this loop -------------------------------------------

pub fn is_participant(b: &LoopBundle, user: UserId) -> bool {
    b.row.hiring_manager_id == user || b.row.bar_raiser_id == user || b.interview_of(user).is_some()
}

pub fn loop_actor(b: &LoopBundle, me: &AuthUser) -> LoopActor {
    let id = me.id;
    LoopActor {
        admin: me.is_admin(),
        loop_recruiter: b.row.recruiter_id == id,
        hiring_manager: b.row.hiring_manager_id == id,
        bar_raiser: b.row.bar_raiser_id == id,
        voting: b
            .interview_of(id)
            .is_some_and(|i| i.loop_role == InterviewRole::Interviewer && i.excused_at.is_none()),
    }
}

/// When the interview's current interviewer was put on it.
pub fn joined_at(i: &InterviewRow) -> DateTime<Utc> {
    db::from_db(i.assigned_at.unwrap_or(i.created_at))
}

/// The earliest seal in the loop of feedback that `user` did not write.
pub fn first_other_seal(b: &LoopBundle, user: UserId) -> Option<DateTime<Utc>> {
    b.feedback
        .values()
        .filter(|f| f.author_id != user)
        .filter_map(|f| f.sealed_at)
        .min()
        .map(db::from_db)
}

/// Rule 7: `user` holds an interview they were put on after the loop's
/// first seal.
pub fn joined_late(b: &LoopBundle, user: UserId) -> bool {
    b.interview_of(user)
        .is_some_and(|i| visibility::joined_late(joined_at(i), first_other_seal(b, user)))
}

/// The caller as a reader of the feedback written by `author` (if any).
pub fn reader(b: &LoopBundle, me: &AuthUser, author: Option<UserId>) -> Reader {
    let id = me.id;
    Reader {
        author: author == Some(id),
        participant: is_participant(b, id),
        joined_late: joined_late(b, id),
        own_sealed: b
            .interview_of(id)
            .and_then(|i| b.feedback.get(&i.id))
            .is_some_and(|f| f.state == StoredFeedbackState::Sealed),
        loop_recruiter: b.row.recruiter_id == id,
        account: Some(me.role),
        service: me.is_service(),
    }
}

/// Who may see a loop, kept beside a cached view of it
/// (`workflows::cache`): everything [`visibility::can_see_loop`] asks of the
/// loop — participants and its recruiter; the caller's account role comes
/// from the caller.
#[derive(Debug, Clone)]
pub struct Audience {
    participants: Vec<UserId>,
    recruiter: UserId,
}

impl Audience {
    pub fn of(b: &LoopBundle) -> Audience {
        let mut participants = vec![b.row.hiring_manager_id, b.row.bar_raiser_id];
        participants.extend(b.interviews.iter().map(|i| i.interviewer_id));
        Audience {
            participants,
            recruiter: b.row.recruiter_id,
        }
    }

    /// A loop the caller may not see does not exist for them: 404.
    /// [`visibility::can_see_loop`] asks of a reader only what an audience
    /// holds (participant, the loop's recruiter) and the caller's account.
    pub fn require_visible(&self, me: &AuthUser) -> AppResult<()> {
        let reader = Reader {
            participant: self.participants.contains(&me.id),
            loop_recruiter: self.recruiter == me.id,
            account: Some(me.role),
            service: me.is_service(),
            ..Reader::default()
        };
        if visibility::can_see_loop(&reader) {
            Ok(())
        } else {
            Err(AppError::NotFound)
        }
    }
}

/// A loop the caller may not see does not exist for them: 404. The same
/// decision, by the same code, as for a view answered from the cache.
pub fn require_visible(b: &LoopBundle, me: &AuthUser) -> AppResult<()> {
    Audience::of(b).require_visible(me)
}

/// The loop as the composition rules see it; `program` is where its Bar
/// Raiser stands and its reverse shadow's mentor, if any
/// (`workflows::program::composition_facts`).
pub fn composition(
    b: &LoopBundle,
    program: (ProgramState, Option<(Uuid, ProgramState)>),
) -> Composition {
    Composition {
        hiring_manager_id: b.row.hiring_manager_id.into(),
        bar_raiser_id: b.row.bar_raiser_id.into(),
        recruiter_id: b.row.recruiter_id.into(),
        bar_raiser_state: program.0,
        mentor: program.1,
        required_competency_ids: b
            .required_competency_ids
            .iter()
            .map(|c| (*c).into())
            .collect(),
        interviews: b
            .interviews
            .iter()
            .map(|i| PlannedInterview {
                id: i.id.into(),
                interviewer_id: i.interviewer_id.into(),
                role: i.loop_role,
                competency_ids: b
                    .competencies_of(i.id)
                    .iter()
                    .map(|c| (*c).into())
                    .collect(),
            })
            .collect(),
    }
}

/// Everyone taking part in the loop (for notices to all of them).
pub fn participants(b: &LoopBundle, names: &Names) -> Vec<Recipient> {
    let mut ids: Vec<UserId> = vec![b.row.hiring_manager_id, b.row.bar_raiser_id];
    ids.extend(b.interviews.iter().map(|i| i.interviewer_id));
    ids.sort();
    ids.dedup();
    ids.into_iter()
        .filter_map(|id| names.recipient(id))
        .collect()
}
