//! The Bar Raiser program (issue 17): enrolment, mentors' sign-offs of
//! reverse-shadowed loops, certification (an admin's, or the system's with
//! `BAR_RAISER_AUTO_CERTIFY=true`), lapse at the daily job and re-activation.
//! The rules are `domain::program`'s; every transition is one
//! `ProgramEvent` (audit, webhook, mail to trainee and mentor).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::pagination::{Page, PageRequest};
use super::{Actor, AppState};
use crate::config::ProgramArgs;
use crate::db::models::{ProgramRow, SignOffRow, UserRow};
use crate::db::{self, DbConn, LoopId, SignOffId, UserId};
use crate::domain::program::{self as rules, Certifier, Person, Progress, TrainingVote};
use crate::domain::{AccountRole, LoopState, ProgramState, SignOffOutcome};
use crate::error::{AppError, AppResult};
use crate::events::program::{People, ProgramEvent};
use crate::events::{self, By};
use crate::notify::Recipient;

/// A mentor's sign-off of a loop the trainee led as a reverse shadow.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SignOff {
    pub id: Uuid,
    pub loop_id: Uuid,
    pub trainee_id: Uuid,
    pub mentor_id: Uuid,
    pub outcome: SignOffOutcome,
    /// The mentor's written assessment (100 characters or more).
    pub assessment: String,
    pub signed_at: DateTime<Utc>,
}

impl From<SignOffRow> for SignOff {
    fn from(r: SignOffRow) -> SignOff {
        SignOff {
            id: r.id.into(),
            loop_id: r.loop_id.into(),
            trainee_id: r.trainee_id.into(),
            mentor_id: r.mentor_id.into(),
            outcome: r.outcome,
            assessment: r.assessment,
            signed_at: db::from_db(r.signed_at),
        }
    }
}

/// A trainee's progress against the configured thresholds.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrainingProgress {
    /// Loops shadowed with the feedback sealed.
    pub shadowed_loops: u32,
    pub shadowed_loops_required: u32,
    /// Reverse-shadowed loops a mentor signed off as `pass`.
    pub reverse_shadowed_loops: u32,
    pub reverse_shadowed_loops_required: u32,
    /// Reverse-shadowed loops signed off as `needs_work` (they do not count).
    pub reverse_shadowed_needs_work: u32,
    /// Decided training loops the agreement is measured on.
    pub decided_training_loops: u32,
    /// Share of sealed votes in decided training loops on the side of the
    /// outcome; null before one is decided.
    pub agreement: Option<f64>,
    pub agreement_floor: f64,
    /// Every threshold holds: an admin may certify (or the system does,
    /// with `BAR_RAISER_AUTO_CERTIFY=true`).
    pub ready: bool,
    /// What is missing, by code (`shadowed_loops_missing`, …).
    pub missing: Vec<String>,
}

/// A person's place in the program.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProgramRecord {
    pub user_id: Uuid,
    pub name: String,
    pub state: ProgramState,
    /// The projection of `state` (`certified`), as on the account.
    pub bar_raiser_certified: bool,
    pub mentor_id: Option<Uuid>,
    pub enrolled_at: Option<DateTime<Utc>>,
    /// The latest certification or re-activation.
    pub certified_at: Option<DateTime<Utc>>,
    pub lapsed_at: Option<DateTime<Utc>>,
    /// The latest loop (not draft, not cancelled) with this person as its Bar Raiser.
    pub last_served_at: Option<DateTime<Utc>>,
    pub progress: TrainingProgress,
    pub sign_offs: Vec<SignOff>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Enrol {
    /// The certified Bar Raiser mentoring the trainee. A certified Bar
    /// Raiser who enrols someone is their mentor; an admin may name one.
    #[serde(default)]
    pub mentor_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reactivate {
    /// Why (20 to 2000 characters, not counting surrounding blanks);
    /// recorded in the audit trail.
    #[schema(
        pattern = r"^[\s\u0085]*[^\s\u0000\u0085][^\u0000]{18,1998}[^\s\u0000\u0085][\s\u0085]*$"
    )]
    pub reason: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignOffInput {
    pub outcome: SignOffOutcome,
    /// 100 to 10 000 characters, not counting surrounding blanks.
    #[schema(
        pattern = r"^[\s\u0085]*[^\s\u0000\u0085][^\u0000]{98,9998}[^\s\u0000\u0085][\s\u0085]*$"
    )]
    pub assessment: String,
}

/// A person without a program row is an interviewer, or certified when
/// their account says so (an account written before the program, or by a
/// tool that writes rows directly).
fn row_or_default(row: Option<ProgramRow>, u: &UserRow) -> ProgramRow {
    row.unwrap_or(ProgramRow {
        user_id: u.id,
        state: if u.bar_raiser_certified {
            ProgramState::Certified
        } else {
            ProgramState::Interviewer
        },
        mentor_id: None,
        enrolled_at: None,
        certified_at: u.bar_raiser_certified.then_some(u.updated_at),
        lapsed_at: None,
        updated_at: u.updated_at,
    })
}

fn user(conn: &mut DbConn, id: UserId) -> AppResult<UserRow> {
    db::users::by_id(conn, id)?.ok_or(AppError::NotFound)
}

fn person(conn: &mut DbConn, u: &UserRow) -> AppResult<(Person, ProgramRow)> {
    let row = row_or_default(db::program::get(conn, u.id)?, u);
    let p = Person {
        id: u.id.into(),
        role: u.role,
        state: row.state,
    };
    Ok((p, row))
}

fn actor(conn: &mut DbConn, me: &Actor) -> AppResult<Person> {
    let u = user(conn, me.id)?;
    let (mut p, _) = person(conn, &u)?;
    // A service token acts for its admin with the token's role.
    p.role = me.role;
    Ok(p)
}

/// The trainee's progress from the stored facts.
pub fn progress(conn: &mut DbConn, id: UserId) -> AppResult<(Progress, Vec<SignOffRow>)> {
    let sign_offs = db::program::sign_offs_of(conn, id)?;
    let count = |o| sign_offs.iter().filter(|s| s.outcome == o).count() as u32;
    let p = Progress {
        shadowed_loops: u32::try_from(db::program::shadowed_loops(conn, id)?).unwrap_or(u32::MAX),
        reverse_passed: count(SignOffOutcome::Pass),
        reverse_needs_work: count(SignOffOutcome::NeedsWork),
        votes: db::program::training_votes(conn, id)?
            .into_iter()
            .map(|(vote, outcome)| TrainingVote { vote, outcome })
            .collect(),
    };
    Ok((p, sign_offs))
}

fn record(conn: &mut DbConn, config: &ProgramArgs, id: UserId) -> AppResult<ProgramRecord> {
    let u = user(conn, id)?;
    let (_, row) = person(conn, &u)?;
    let (p, sign_offs) = progress(conn, id)?;
    let t = config.thresholds();
    let missing = p.missing(&t);
    let last_served = db::program::last_served(conn, id)?;
    Ok(ProgramRecord {
        user_id: id.into(),
        name: u.name,
        state: row.state,
        bar_raiser_certified: u.bar_raiser_certified,
        mentor_id: row.mentor_id.map(Uuid::from),
        enrolled_at: row.enrolled_at.map(db::from_db),
        certified_at: row.certified_at.map(db::from_db),
        lapsed_at: row.lapsed_at.map(db::from_db),
        last_served_at: last_served.map(db::from_db),
        progress: TrainingProgress {
            shadowed_loops: p.shadowed_loops,
            shadowed_loops_required: t.shadowed_loops,
            reverse_shadowed_loops: p.reverse_passed,
            reverse_shadowed_loops_required: t.reverse_shadowed_loops,
            reverse_shadowed_needs_work: p.reverse_needs_work,
            decided_training_loops: p.votes.len() as u32,
            agreement: p.agreement(),
            agreement_floor: t.agreement_floor,
            ready: missing.is_empty(),
            missing: missing.into_iter().map(|v| v.code.to_string()).collect(),
        },
        sign_offs: sign_offs.into_iter().map(SignOff::from).collect(),
    })
}

fn may_read(conn: &mut DbConn, me: &Actor, subject: Uuid) -> AppResult<()> {
    let reader = actor(conn, me)?;
    if rules::may_read(&reader, subject) {
        Ok(())
    } else {
        Err(AppError::forbidden("not_program_reader"))
    }
}

/// Who hears of a transition: the trainee and their mentor.
fn people(conn: &mut DbConn, trainee: &UserRow, mentor: Option<UserId>) -> AppResult<People> {
    let mut to = vec![Recipient {
        email: trainee.email.clone(),
        name: trainee.name.clone(),
    }];
    if let Some(m) = mentor.map(|m| user(conn, m)).transpose()? {
        to.push(Recipient {
            email: m.email,
            name: m.name,
        });
    }
    Ok(People {
        user: trainee.id.into(),
        mentor: mentor.map(Uuid::from),
        name: trainee.name.clone(),
        to,
    })
}

/// A person's program record (admins, recruiters, certified Bar Raisers,
/// the person).
pub async fn get(state: &AppState, me: &Actor, id: Uuid) -> AppResult<ProgramRecord> {
    let (me, config) = (me.clone(), state.config.program.clone());
    state
        .db
        .read(move |conn| {
            may_read(conn, &me, id)?;
            record(conn, &config, id.into())
        })
        .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TraineeQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Everyone in training, with their progress, longest in training first,
/// a page at a time.
pub async fn trainees(
    state: &AppState,
    me: &Actor,
    q: TraineeQuery,
) -> AppResult<Page<ProgramRecord>> {
    let (me, config) = (me.clone(), state.config.program.clone());
    let (page, rows) = state
        .db
        .read(move |conn| {
            // Who may read comes first: a caller who may not learns nothing
            // from how their query is refused.
            let reader = actor(conn, &me)?;
            if !rules::may_read(&reader, Uuid::nil()) {
                return Err(AppError::forbidden("not_program_reader"));
            }
            let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
            let rows = db::program::in_state_page(
                conn,
                ProgramState::InTraining,
                page.after(),
                page.fetch(),
            )?
            .into_iter()
            .map(|r| Ok((r.updated_at, r.user_id, record(conn, &config, r.user_id)?)))
            .collect::<AppResult<Vec<_>>>()?;
            Ok((page, rows))
        })
        .await?;
    Ok(Page::from_rows(rows, &page, |r| (r.0, r.1), |r| r.2))
}

/// Enrols an interviewer in training: an admin (naming a mentor or not),
/// or a certified Bar Raiser, who becomes the mentor.
pub async fn enrol(state: &AppState, me: &Actor, id: Uuid, req: Enrol) -> AppResult<ProgramRecord> {
    let (me, by, config) = (me.clone(), me.by(state), state.config.program.clone());
    state
        .db
        .write(move |conn| {
            let trainee = user(conn, id.into())?;
            let by_person = actor(conn, &me)?;
            let (t, mut row) = person(conn, &trainee)?;
            rules::may_enrol(&by_person, &t)?;
            let mentor = match (me.role, req.mentor_id) {
                (AccountRole::Admin, Some(m)) => {
                    let mu = user(conn, m.into())?;
                    let (mp, _) = person(conn, &mu)?;
                    mentor_problem(&mp, id)?;
                    Some(UserId::from(m))
                }
                (AccountRole::Admin, None) => None,
                (_, _) => Some(me.id),
            };
            let now = db::to_db(db::now());
            row.state = ProgramState::InTraining;
            row.mentor_id = mentor;
            row.enrolled_at = Some(now);
            row.updated_at = now;
            db::program::put(conn, &row)?;
            let people = people(conn, &trainee, mentor)?;
            events::record(conn, &by, ProgramEvent::Enrolled(people))?;
            record(conn, &config, trainee.id)
        })
        .await
}

fn mentor_problem(mentor: &Person, trainee: Uuid) -> AppResult<()> {
    if mentor.state != ProgramState::Certified || mentor.id == trainee {
        return Err(AppError::Validation {
            code: "rules_broken",
            detail: "the mentor must be a certified Bar Raiser other than the trainee".into(),
            errors: vec![
                crate::domain::Violation::new(
                    "mentor_not_certified",
                    "mentor_id",
                    "the mentor must be a certified Bar Raiser other than the trainee",
                )
                .into(),
            ],
        });
    }
    Ok(())
}

/// Certifies a trainee once the thresholds hold, in the caller's
/// transaction: `by` an admin confirming or the system.
fn certify_in(
    conn: &mut DbConn,
    by: &By,
    who: Certifier,
    config: &ProgramArgs,
    id: UserId,
) -> AppResult<()> {
    let trainee = user(conn, id)?;
    let (_, mut row) = person(conn, &trainee)?;
    let (p, _) = progress(conn, id)?;
    rules::may_certify(who, row.state, &p, &config.thresholds())?;
    let now = db::to_db(db::now());
    row.state = ProgramState::Certified;
    row.certified_at = Some(now);
    row.updated_at = now;
    db::program::put(conn, &row)?;
    let people = people(conn, &trainee, row.mentor_id)?;
    events::record(conn, by, ProgramEvent::Certified(people))
}

/// An admin certifies a trainee whose thresholds hold (422 listing what
/// is missing otherwise).
pub async fn certify(state: &AppState, me: &Actor, id: Uuid) -> AppResult<ProgramRecord> {
    let (me, by, config) = (me.clone(), me.by(state), state.config.program.clone());
    state
        .db
        .write(move |conn| {
            user(conn, id.into())?;
            let admin = actor(conn, &me)?;
            certify_in(conn, &by, Certifier::Admin(admin), &config, id.into())?;
            record(conn, &config, id.into())
        })
        .await
}

/// An admin re-activates a lapsed Bar Raiser, with a reason.
pub async fn reactivate(
    state: &AppState,
    me: &Actor,
    id: Uuid,
    req: Reactivate,
) -> AppResult<ProgramRecord> {
    let (me, by, config) = (me.clone(), me.by(state), state.config.program.clone());
    state
        .db
        .write(move |conn| {
            let trainee = user(conn, id.into())?;
            let admin = actor(conn, &me)?;
            let (_, mut row) = person(conn, &trainee)?;
            rules::may_reactivate(&admin, row.state, &req.reason)?;
            let now = db::to_db(db::now());
            row.state = ProgramState::Certified;
            row.certified_at = Some(now);
            row.updated_at = now;
            db::program::put(conn, &row)?;
            let people = people(conn, &trainee, row.mentor_id)?;
            let reason = req.reason.trim().to_string();
            events::record(conn, &by, ProgramEvent::Reactivated { people, reason })?;
            record(conn, &config, trainee.id)
        })
        .await
}

/// The loop's mentor signs off the reverse shadow its trainee led, once
/// the loop is decided. With auto-certification, a sign-off that completes
/// the thresholds certifies the trainee in the same transaction.
pub async fn sign_off(
    state: &AppState,
    me: &Actor,
    loop_id: Uuid,
    req: SignOffInput,
) -> AppResult<SignOff> {
    let (me, by, config) = (me.clone(), me.by(state), state.config.program.clone());
    let system = By {
        actor: None,
        public_url: state.config.public_url.clone(),
    };
    state
        .db
        .write(move |conn| {
            let lid = LoopId::from(loop_id);
            let l = db::loops::lock(conn, lid)?.ok_or(AppError::NotFound)?;
            if l.mentor_id != Some(me.id) {
                // Those who may not know of the loop do not learn of it.
                let b = db::loops::bundle_from_row(conn, l)?;
                super::views::require_visible(&b, &me)?;
                return Err(AppError::forbidden("not_program_mentor"));
            }
            let trainee = user(conn, l.bar_raiser_id)?;
            let by_person = actor(conn, &me)?;
            let (t, _) = person(conn, &trainee)?;
            rules::may_sign_off(&by_person, &t, &req.assessment)?;
            if l.state != LoopState::Decided {
                return Err(AppError::conflict(
                    "loop_not_decided",
                    "a reverse shadow is signed off once its loop is decided",
                ));
            }
            if db::program::sign_off_of_loop(conn, lid)?.is_some() {
                return Err(AppError::conflict(
                    "already_signed_off",
                    "this reverse shadow is signed off already",
                ));
            }
            let assessment = req.assessment.trim().to_string();
            let row = SignOffRow {
                id: SignOffId::from(Uuid::now_v7()),
                loop_id: lid,
                trainee_id: trainee.id,
                mentor_id: me.id,
                outcome: req.outcome,
                assessment: assessment.clone(),
                signed_at: db::to_db(db::now()),
            };
            db::program::insert_sign_off(conn, &row)?;
            let people = people(conn, &trainee, Some(me.id))?;
            let event = ProgramEvent::SignedOff {
                people,
                loop_id,
                sign_off: row.id.into(),
                outcome: req.outcome,
                assessment_sha256: crate::domain::feedback::sha256_hex(&assessment),
            };
            events::record(conn, &by, event)?;
            if config.auto_certify {
                let (p, _) = progress(conn, trainee.id)?;
                if p.ready(&config.thresholds()) {
                    certify_in(conn, &system, Certifier::System, &config, trainee.id)?;
                }
            }
            Ok(SignOff::from(row))
        })
        .await
}

/// The daily job: every certified Bar Raiser who has not served as a
/// loop's Bar Raiser for the configured period lapses. Returns how many.
pub fn lapse_due(
    conn: &mut DbConn,
    by: &By,
    config: &ProgramArgs,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let mut n = 0;
    let last_served = db::program::last_served_by_certified(conn)?;
    for mut row in db::program::in_state(conn, ProgramState::Certified)? {
        let last = last_served.get(&row.user_id).copied();
        let since = row.certified_at.unwrap_or(row.updated_at);
        if !rules::lapse_due(
            row.state,
            db::from_db(since),
            last.map(db::from_db),
            config.lapse_months,
            now,
        ) {
            continue;
        }
        let at = db::to_db(now);
        row.state = ProgramState::Lapsed;
        row.lapsed_at = Some(at);
        row.updated_at = at;
        db::program::put(conn, &row)?;
        let trainee = user(conn, row.user_id)?;
        let people = people(conn, &trainee, row.mentor_id)?;
        let last_served_at = last.map(|l| crate::domain::audit::timestamp(db::from_db(l)));
        events::record(
            conn,
            by,
            ProgramEvent::Lapsed {
                people,
                last_served_at,
            },
        )?;
        n += 1;
    }
    Ok(n)
}

/// The schedule answer's warning when the loop's Bar Raiser served more
/// than the configured number of loops in the last 30 days (load).
pub fn load_warning(
    conn: &mut DbConn,
    config: &ProgramArgs,
    bar_raiser: UserId,
    now: DateTime<Utc>,
) -> AppResult<Option<crate::domain::Violation>> {
    let since = db::to_db(rules::load_window_start(now));
    let served = db::program::served_since(conn, bar_raiser, since)?;
    Ok(rules::load_warning(
        u32::try_from(served).unwrap_or(u32::MAX),
        config.load_warning_loops,
    ))
}

/// Keeps the program in step with an operator's direct change of the
/// account's `bar_raiser_certified` (creation, or `PATCH /users/{id}`):
/// `true` certifies from now, `false` takes a certification back.
pub fn follow_flag(conn: &mut DbConn, id: UserId, certified: bool) -> AppResult<()> {
    let u = user(conn, id)?;
    let stored = db::program::get(conn, id)?;
    let had_row = stored.is_some();
    let mut row = row_or_default(stored, &u);
    let now = db::to_db(db::now());
    match (certified, row.state) {
        (true, ProgramState::Certified) if had_row => return Ok(()),
        (true, _) => {
            row.state = ProgramState::Certified;
            row.certified_at = Some(now);
        }
        (false, ProgramState::Certified) => row.state = ProgramState::Interviewer,
        (false, _) => return Ok(()),
    }
    row.updated_at = now;
    db::program::put(conn, &row)?;
    Ok(())
}

/// Where a loop's Bar Raiser stands in the program, and its reverse
/// shadow's mentor with where they stand, for the composition rules.
pub fn composition_facts(
    conn: &mut DbConn,
    b: &db::loops::LoopBundle,
) -> AppResult<(ProgramState, Option<(Uuid, ProgramState)>)> {
    let state_of = |conn: &mut DbConn, id: UserId| -> AppResult<ProgramState> {
        let u = user(conn, id)?;
        Ok(person(conn, &u)?.1.state)
    };
    let bar_raiser = state_of(conn, b.row.bar_raiser_id)?;
    let mentor = match b.row.mentor_id {
        Some(m) => Some((m.into(), state_of(conn, m)?)),
        None => None,
    };
    Ok((bar_raiser, mentor))
}

/// Makes a loop a reverse shadow with mentor `mentor` (who must exist;
/// the composition rules judge the rest).
pub fn set_mentor(conn: &mut DbConn, loop_id: LoopId, mentor: Uuid) -> AppResult<()> {
    if db::users::by_id(conn, mentor.into())?.is_none() {
        return Err(AppError::invalid_field("mentor_id", "no such account"));
    }
    db::program::set_reverse_shadow(conn, loop_id, Some(mentor.into()))?;
    Ok(())
}

/// In a reverse shadow the mentor, not the trainee leading it, holds the
/// loop's veto (and concurrence).
pub fn veto_holder(b: &db::loops::LoopBundle) -> UserId {
    b.row.mentor_id.unwrap_or(b.row.bar_raiser_id)
}
