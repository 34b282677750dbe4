//! Process analytics over decided loops (the figures are
//! `domain::analytics`'s): per loop, per interviewer, for the organisation.
//!
//! A loop's facts are captured once, in the transaction that makes its
//! outcome final ([`capture`]); loops decided before analytics existed are
//! captured by [`backfill`] at start-up. Nothing here reads a loop in
//! flight, and nothing shows one person's vote: a loop's figures go to
//! those who took part in it (who read every vote at its debrief) and to
//! admins; an interviewer's figures are aggregates over `min_loops` or
//! more loops.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::views::{self, CompetencyRef, Person};
use super::{Actor, AppState};
use crate::db::analytics::{
    AnalyticsAgreementRow, AnalyticsLoopRow, AnalyticsRatingRow, AnalyticsVoteRow, Scope, Snapshot,
};
use crate::db::{self, CompetencyId, DbConn, FeedbackId, InterviewId, LoopId, UserId};
use crate::domain::analytics::{self as rules, Coincidences, LoopFacts, Participation, Voter};
use crate::domain::{InterviewRole, LoopState, Outcome, StoredFeedbackState, Verdict, Vote};
use crate::error::{AppError, AppResult, FieldError};

// --- capture -------------------------------------------------------------------

fn score(v: Vote) -> i32 {
    rules::score(v) as i32
}

fn vote_of(score: i32) -> AppResult<Vote> {
    rules::vote_of(score).ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!("stored vote score {score} is not 1 to 4"))
    })
}

/// Captures a decided loop's facts; call in the transaction that makes its
/// outcome final. A loop not decided, or captured already, is left alone.
pub fn capture(conn: &mut DbConn, loop_id: LoopId) -> AppResult<bool> {
    match snapshot(conn, loop_id)? {
        Some(s) => Ok(db::analytics::insert(conn, &s)?),
        None => Ok(false),
    }
}

/// A decided loop's facts as [`capture`] writes them (`None` when the loop
/// is not decided); the benchmark seeder batch-inserts these.
pub fn snapshot(conn: &mut DbConn, loop_id: LoopId) -> AppResult<Option<Snapshot>> {
    let Some(b) = db::loops::bundle(conn, loop_id)? else {
        return Ok(None);
    };
    let r = &b.row;
    if r.state != LoopState::Decided {
        return Ok(None);
    }
    let decided_at = r.decided_at.unwrap_or(r.updated_at);
    let decided_hire = r.decision_outcome == Some(Outcome::Hire);
    let vetoed = r.bar_raiser_verdict == Some(Verdict::Veto);
    let debrief: HashMap<UserId, Vote> = db::feedback::votes(conn, loop_id)?
        .into_iter()
        .map(|v| (v.voter_id, v.vote))
        .collect();
    // The voters: voting, not excused, sealed with a vote.
    let mut voters = Vec::new();
    for i in &b.interviews {
        let role: InterviewRole = i.loop_role;
        let Some(f) = b.feedback.get(&i.id) else {
            continue;
        };
        let sealed = f.state == StoredFeedbackState::Sealed;
        if role != InterviewRole::Interviewer || i.excused_at.is_some() || !sealed {
            continue;
        }
        let (Some(vote), Some(sealed_at)) = (f.vote, f.sealed_at) else {
            continue;
        };
        voters.push((i, f, vote, sealed_at));
    }
    // Each voter's quick vote, loaded with the bundle.
    let quick_of = |interview: InterviewId| b.quick_votes.get(&interview).map(|q| q.vote);
    let sealed_of = |user: UserId| {
        voters
            .iter()
            .find(|(i, ..)| i.interviewer_id == user)
            .map(|v| v.2)
    };
    let facts = LoopFacts {
        voters: voters
            .iter()
            .map(|(i, _, vote, _)| Voter {
                sealed: *vote,
                debrief: debrief.get(&i.interviewer_id).copied(),
                quick: quick_of(i.id),
            })
            .collect(),
        hiring_manager_sealed: sealed_of(r.hiring_manager_id),
        bar_raiser_sealed: sealed_of(r.bar_raiser_id),
        decided_hire,
        vetoed,
    };
    let m = rules::loop_metrics(&facts);
    let end_of = |i: &crate::db::models::InterviewRow| {
        i.starts_at + Duration::minutes(i64::from(i.duration_minutes))
    };
    let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
    let lp = AnalyticsLoopRow {
        loop_id: r.id,
        decided_at,
        position: r.position.clone(),
        hiring_manager_id: r.hiring_manager_id,
        bar_raiser_id: r.bar_raiser_id,
        decided_hire,
        vetoed,
        last_interview_end_at: b
            .interviews
            .iter()
            .filter(|i| i.excused_at.is_none())
            .map(end_of)
            .max(),
        debrief_opened_at: r.debrief_opened_at,
        voters: count(m.voters),
        changed: count(m.changed),
        toward_hiring_manager: m.toward_hiring_manager.map(count),
        toward_bar_raiser: m.toward_bar_raiser.map(count),
        spread_sealed: m.spread_sealed,
        spread_debrief: m.spread_debrief,
        convergence: m.convergence,
        bar_raiser_overruled: m.bar_raiser_overruled,
        debrief_open_hours: None,
        decision_hours: None,
        quick_voted: count(m.quick_voted),
        amended: count(m.amended),
        quick_to_final_changed: count(m.quick_to_final_changed),
    };
    let lp = AnalyticsLoopRow {
        debrief_open_hours: lp
            .last_interview_end_at
            .zip(lp.debrief_opened_at)
            .map(|(a, b)| hours(a, b)),
        decision_hours: lp.debrief_opened_at.map(|a| hours(a, decided_at)),
        ..lp
    };
    let hired = facts.hired();
    let ids: Vec<FeedbackId> = voters.iter().map(|(_, f, ..)| f.id).collect();
    let mut rated = db::feedback::ratings(conn, &ids)?;
    let mut votes = Vec::new();
    let mut ratings = Vec::new();
    for (n, (i, f, vote, sealed_at)) in voters.iter().enumerate() {
        let others: Vec<f64> = voters
            .iter()
            .enumerate()
            .filter(|(k, _)| *k != n)
            .map(|(_, v)| rules::score(v.2))
            .collect();
        let ended_at = end_of(i);
        let due = ended_at + Duration::hours(i64::from(r.feedback_due_hours));
        votes.push(AnalyticsVoteRow {
            interview_id: i.id,
            loop_id: r.id,
            interviewer_id: i.interviewer_id,
            decided_at,
            sealed_vote: score(*vote),
            debrief_vote: debrief.get(&i.interviewer_id).map(|v| score(*v)),
            others_mean: rules::mean(&others),
            hired,
            ended_at,
            sealed_at: *sealed_at,
            late: *sealed_at > due,
            seal_hours: hours(ended_at, *sealed_at),
            quick_vote: quick_of(i.id).map(score),
        });
        for rating in rated.remove(&f.id).unwrap_or_default() {
            if let Some(value) = rating.rating {
                ratings.push(AnalyticsRatingRow {
                    interview_id: i.id,
                    competency_id: rating.competency_id,
                    loop_id: r.id,
                    decided_at,
                    rating: value,
                });
            }
        }
    }
    // What α needs of this loop, summed later instead of re-read.
    let mut agreement = Vec::new();
    let mut unit = |subject: &str, values: Vec<u8>| {
        if !values.is_empty() {
            agreement.push(AnalyticsAgreementRow::new(
                r.id,
                subject,
                decided_at,
                Coincidences::of_unit(&values).map(|c| c.upper()),
            ));
        }
    };
    unit(
        "",
        votes
            .iter()
            .map(|v| u8::try_from(v.sealed_vote).unwrap_or(0))
            .collect(),
    );
    let mut by_competency: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for x in &ratings {
        by_competency
            .entry(x.competency_id.to_string())
            .or_default()
            .push(u8::try_from(x.rating).unwrap_or(0));
    }
    for (competency, values) in by_competency {
        unit(&competency, values);
    }
    Ok(Some(Snapshot {
        lp,
        votes,
        ratings,
        agreement,
    }))
}

/// Captures every decided loop that has no snapshot yet (loops decided
/// before this version), a batch per transaction. Returns how many.
pub async fn backfill(db: &crate::db::Db) -> AppResult<usize> {
    let mut total = 0;
    loop {
        let done = db
            .write_patiently(|conn| {
                let ids = db::analytics::missing(conn, 100)?;
                for id in &ids {
                    capture(conn, *id)?;
                }
                Ok(ids.len())
            })
            .await?;
        total += done;
        if done < 100 {
            return Ok(total);
        }
    }
}

// --- queries -------------------------------------------------------------------

/// The period and filters of a query. Dates are RFC 3339 times; the
/// period defaults to the year up to now.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Period {
    /// Loops decided at or after this time (default: a year before `to`).
    pub from: Option<DateTime<Utc>>,
    /// Loops decided before this time (default: now).
    pub to: Option<DateTime<Utc>>,
    /// Only loops for this position (exact).
    pub position: Option<String>,
    /// Only loops where this competency was rated.
    pub competency_id: Option<Uuid>,
}

/// The period a figure covers, as resolved.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Covered {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub position: Option<String>,
    pub competency_id: Option<Uuid>,
}

fn resolve(p: &Period) -> AppResult<(Covered, Scope)> {
    let to = p.to.unwrap_or_else(db::now);
    let from = p.from.unwrap_or(to - Duration::days(365));
    if from >= to {
        return Err(AppError::Validation {
            code: "invalid_query",
            detail: "the query string is invalid".into(),
            errors: vec![FieldError::new("from", "must be before `to`")],
        });
    }
    if p.position
        .as_deref()
        .is_some_and(|s| s.is_empty() || s.chars().count() > 200)
    {
        return Err(AppError::validation(vec![FieldError::new(
            "position",
            "1 to 200 characters",
        )]));
    }
    let scope = Scope {
        from: Some(db::to_db(from)),
        to: Some(db::to_db(to)),
        position: p.position.clone(),
        competency: p.competency_id.map(CompetencyId::from),
    };
    Ok((
        Covered {
            from,
            to,
            position: p.position.clone(),
            competency_id: p.competency_id,
        },
        scope,
    ))
}

/// One decided loop: how much its debrief moved people.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LoopAnalytics {
    pub loop_id: Uuid,
    pub position: String,
    pub decided_at: DateTime<Utc>,
    /// Voting, non-excused interviews with a sealed vote.
    pub voters: i32,
    /// Voters whose debrief vote differs from their sealed vote.
    pub changed: i32,
    /// Of those, how many moved strictly closer to the hiring manager's
    /// sealed vote; null when the hiring manager cast none.
    pub toward_hiring_manager: Option<i32>,
    /// The same toward the Bar Raiser's sealed vote.
    pub toward_bar_raiser: Option<i32>,
    /// Population standard deviation of the sealed votes (scored 1–4).
    pub spread_sealed: Option<f64>,
    pub spread_debrief: Option<f64>,
    /// 1 − spread_debrief / spread_sealed; null when the sealed votes agree.
    pub convergence: Option<f64>,
    pub hired: bool,
    pub vetoed: bool,
    /// The Bar Raiser's sealed vote was on the other side of the hiring
    /// manager's decision; null when the Bar Raiser cast none.
    pub bar_raiser_overruled: Option<bool>,
    /// Voters who committed a quick vote after their interview.
    pub quick_voted: i32,
    /// Of those, how many sealed a different vote (the debrief shows them
    /// `amended`).
    pub amended: i32,
    /// Of those, how many ended on a vote other than their quick vote: the
    /// debrief vote if they cast one, else the sealed vote.
    pub quick_to_final_changed: i32,
}

impl LoopAnalytics {
    fn from_row(r: AnalyticsLoopRow) -> LoopAnalytics {
        LoopAnalytics {
            loop_id: r.loop_id.into(),
            position: r.position,
            decided_at: db::from_db(r.decided_at),
            voters: r.voters,
            changed: r.changed,
            toward_hiring_manager: r.toward_hiring_manager,
            toward_bar_raiser: r.toward_bar_raiser,
            spread_sealed: r.spread_sealed,
            spread_debrief: r.spread_debrief,
            convergence: r.convergence,
            hired: r.decided_hire && !r.vetoed,
            vetoed: r.vetoed,
            bar_raiser_overruled: r.bar_raiser_overruled,
            quick_voted: r.quick_voted,
            amended: r.amended,
            quick_to_final_changed: r.quick_to_final_changed,
        }
    }
}

/// A decided loop's figures: to admins and to those who took part in it.
/// 404 to anyone else, 409 `loop_not_decided` before its outcome is final.
pub async fn for_loop(state: &AppState, me: &Actor, id: Uuid) -> AppResult<LoopAnalytics> {
    let me = me.clone();
    state
        .db
        .read(move |conn| {
            let key = LoopId::from(id);
            let b = db::loops::bundle(conn, key)?.ok_or(AppError::NotFound)?;
            let mine =
                me.is_admin() || views::is_participant(&b, me.id) || b.row.recruiter_id == me.id;
            if !mine {
                return Err(AppError::NotFound);
            }
            if b.row.state != LoopState::Decided {
                return Err(AppError::conflict(
                    "loop_not_decided",
                    "analytics cover decided loops only",
                ));
            }
            match db::analytics::loop_row(conn, key)? {
                Some(r) => Ok(LoopAnalytics::from_row(r)),
                // Decided but not captured yet (the backfill runs at start).
                None => Err(AppError::conflict(
                    "loop_not_decided",
                    "this loop's figures are not captured yet",
                )),
            }
        })
        .await
}

/// One interviewer's calibration over a period.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InterviewerAnalytics {
    pub interviewer: Person,
    /// Decided loops in the period where they cast a sealed vote.
    pub loops: usize,
    /// Fewer loops than `min_loops`: every figure is null.
    pub insufficient_data: bool,
    /// Mean of (own sealed vote − mean of the other voters' sealed votes);
    /// above 0 is lenient, below harsh.
    pub leniency: Option<f64>,
    /// Share of loops where the side of their sealed vote (hire 3–4, no
    /// hire 1–2) matched the outcome.
    pub agreement: Option<f64>,
    /// Cohen's κ of the same; null when it is undefined.
    pub kappa: Option<f64>,
    /// Share of loops where they changed their vote in the debrief.
    pub change_rate: Option<f64>,
    /// Hours from interview end to seal: median and 90th percentile.
    pub seal_hours_p50: Option<f64>,
    pub seal_hours_p90: Option<f64>,
    /// Share sealed after the feedback was due.
    pub late_rate: Option<f64>,
    /// Share of loops where they committed a quick vote.
    pub quick_vote_rate: Option<f64>,
    /// Share of their quick-voted loops where the sealed vote differed from
    /// the quick vote; null also when they never quick-voted.
    pub amend_rate: Option<f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InterviewerTable {
    pub period: Covered,
    pub min_loops: usize,
    pub items: Vec<InterviewerAnalytics>,
}

fn participation(v: &AnalyticsVoteRow) -> AppResult<Participation> {
    Ok(Participation {
        own: Voter {
            sealed: vote_of(v.sealed_vote)?,
            debrief: v.debrief_vote.map(vote_of).transpose()?,
            quick: v.quick_vote.map(vote_of).transpose()?,
        },
        others_mean: v.others_mean,
        hired: v.hired,
        seal_hours: (v.sealed_at - v.ended_at).num_seconds() as f64 / 3600.0,
        late: v.late,
    })
}

/// Every interviewer's figures from the voter rows of a period.
fn table(
    conn: &mut DbConn,
    scope: &Scope,
    only: Option<UserId>,
    min_loops: usize,
) -> AppResult<Vec<InterviewerAnalytics>> {
    // Each row carries the mean of its loop's other sealed votes, taken at
    // capture: one interviewer's figures need only their own rows.
    let rows = db::analytics::votes_in(conn, scope, only)?;
    let mut by_person: BTreeMap<UserId, Vec<Participation>> = BTreeMap::new();
    for r in &rows {
        by_person
            .entry(r.interviewer_id)
            .or_default()
            .push(participation(r)?);
    }
    if let Some(o) = only {
        by_person.entry(o).or_default();
    }
    let ids: Vec<UserId> = by_person.keys().copied().collect();
    let people = db::catalog::users_by_ids(conn, &ids)?;
    by_person
        .into_iter()
        .map(|(id, loops)| {
            let m = rules::interviewer_metrics(&loops, min_loops);
            let u = people.get(&id).ok_or(AppError::NotFound)?;
            Ok(InterviewerAnalytics {
                interviewer: Person {
                    id: u.id.into(),
                    name: u.name.clone(),
                    email: u.email.clone(),
                },
                loops: m.loops,
                insufficient_data: m.insufficient_data,
                leniency: m.leniency,
                agreement: m.agreement,
                kappa: m.kappa,
                change_rate: m.change_rate,
                seal_hours_p50: m.seal_hours_p50,
                seal_hours_p90: m.seal_hours_p90,
                late_rate: m.late_rate,
                quick_vote_rate: m.quick_vote_rate,
                amend_rate: m.amend_rate,
            })
        })
        .collect()
}

/// Organisation figures are for admins, recruiters and certified Bar
/// Raisers (and tokens with `analytics:read`, which act for an admin).
fn require_org_reader(me: &Actor) -> AppResult<()> {
    if rules::may_read_org(me.role, me.bar_raiser_certified) {
        Ok(())
    } else {
        Err(AppError::forbidden("analytics_not_permitted"))
    }
}

pub async fn interviewers(state: &AppState, me: &Actor, p: Period) -> AppResult<InterviewerTable> {
    require_org_reader(me)?;
    let (period, scope) = resolve(&p)?;
    let min_loops = state.config.analytics_min_loops;
    let items = state
        .db
        .read(move |conn| table(conn, &scope, None, min_loops))
        .await?;
    Ok(InterviewerTable {
        period,
        min_loops,
        items,
    })
}

/// One interviewer's figures: to organisation readers, and to the
/// interviewer themselves (`me`).
pub async fn interviewer(
    state: &AppState,
    me: &Actor,
    id: Uuid,
    p: Period,
) -> AppResult<InterviewerAnalytics> {
    if id != me.id {
        require_org_reader(me)?;
    }
    let (_, scope) = resolve(&p)?;
    let min_loops = state.config.analytics_min_loops;
    let mut items = state
        .db
        .read(move |conn| {
            db::users::by_id(conn, id.into())?.ok_or(AppError::NotFound)?;
            table(conn, &scope, Some(id.into()), min_loops)
        })
        .await?;
    items.pop().ok_or(AppError::NotFound)
}

/// Krippendorff's α of one set of ratings.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Agreement {
    /// Units (loops) with two or more values.
    pub units: usize,
    /// Ordinal α; null when no unit is pairable or nothing varies.
    pub alpha: Option<f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CompetencyAgreement {
    pub competency: CompetencyRef,
    #[serde(flatten)]
    pub agreement: Agreement,
}

/// Median and 90th percentile, in hours.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Spread {
    pub count: usize,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Timeliness {
    /// Interview end → seal.
    pub seal_hours: Spread,
    /// Last interview end → debrief opened.
    pub debrief_open_hours: Spread,
    /// Debrief opened → final decision.
    pub decision_hours: Spread,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BarRaiserOutcomes {
    pub bar_raiser: Person,
    pub loops: usize,
    pub vetoes: usize,
    pub concurs: usize,
    /// vetoes / (vetoes + concurs); null without a hire decision to judge.
    pub veto_rate: Option<f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Summary {
    pub period: Covered,
    pub loops: usize,
    /// Ordinal α of the sealed votes (units: loops, coders: interviewers).
    pub votes: Agreement,
    /// The same for each competency's sealed ratings, where two or more
    /// interviewers rated it in a loop.
    pub competencies: Vec<CompetencyAgreement>,
    pub mean_convergence: Option<f64>,
    /// Share of loops where any voter changed their vote in the debrief.
    pub changed_share: Option<f64>,
    /// Share of all changed votes that moved toward the hiring manager's
    /// sealed vote (loops where the hiring manager cast one).
    pub toward_hiring_manager_share: Option<f64>,
    /// Share of the voters who committed a quick vote; null without voters.
    pub quick_voted_share: Option<f64>,
    /// Share of the quick votes that the sealed vote amended; null without
    /// quick votes.
    pub amended_share: Option<f64>,
    /// Share of the quick votes that differ from the voter's final vote
    /// (debrief, else sealed); null without quick votes.
    pub quick_to_final_changed_share: Option<f64>,
    pub timeliness: Timeliness,
    pub bar_raisers: Vec<BarRaiserOutcomes>,
}

/// `part / whole`; `None` when `whole` is 0.
fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

fn hours(a: chrono::NaiveDateTime, b: chrono::NaiveDateTime) -> f64 {
    (b - a).num_seconds() as f64 / 3600.0
}

/// The reliability data α is computed from: units (loops) of values.
fn units<K: Ord>(rows: impl Iterator<Item = (K, i32)>) -> Vec<Vec<u8>> {
    let mut by: BTreeMap<K, Vec<u8>> = BTreeMap::new();
    for (unit, v) in rows {
        by.entry(unit)
            .or_default()
            .push(u8::try_from(v).unwrap_or(0));
    }
    by.into_values().collect()
}

fn agreement(units: &[Vec<u8>]) -> Agreement {
    Agreement {
        units: units.iter().filter(|u| u.len() >= 2).count(),
        alpha: rules::krippendorff_alpha_ordinal(units),
    }
}

/// A percentile spread of `hours` in `scope`, from the count and the one
/// or two order statistics each percentile needs (the database sorts; no
/// value list is read): the same figures as `rules::percentile` of them all.
fn spread_in(conn: &mut DbConn, scope: &Scope, hours: db::analytics::Hours) -> AppResult<Spread> {
    let count = db::analytics::hours_count(conn, scope, hours)?;
    let n = usize::try_from(count).unwrap_or(0);
    let mut at = |q: f64| -> AppResult<Option<f64>> {
        let Some(at) = rules::QuantileAt::of(n, q) else {
            return Ok(None);
        };
        let offset = i64::try_from(at.lo).unwrap_or(i64::MAX);
        let limit = i64::try_from(at.hi - at.lo + 1).unwrap_or(1);
        let v = db::analytics::hours_sorted(conn, scope, hours, offset, limit)?;
        match (v.first(), v.last()) {
            (Some(lo), Some(hi)) => Ok(Some(at.between(*lo, *hi))),
            // Rows captured between the count and this read cannot make
            // the list shorter (captures only add); this is defensive.
            _ => Ok(None),
        }
    };
    Ok(Spread {
        count: n,
        p50: at(0.5)?,
        p90: at(0.9)?,
    })
}

/// The summed coincidences per subject of the units in `scope`. An
/// unfiltered period reads its whole UTC days from the per-day roll-up
/// (`db::analytics::roll_up`) and only its partial edge days loop by loop;
/// a period filtered by position or competency is read loop by loop.
fn agreement_sums(
    conn: &mut DbConn,
    scope: &Scope,
) -> AppResult<BTreeMap<String, (i64, [f64; 10])>> {
    let mut sums: BTreeMap<String, (i64, [f64; 10])> = BTreeMap::new();
    let mut add = |rows: Vec<(String, i64, [f64; 10])>| {
        for (subject, units, o) in rows {
            let e = sums.entry(subject).or_insert((0, [0.0; 10]));
            e.0 += units;
            for (sum, v) in e.1.iter_mut().zip(o) {
                *sum += v;
            }
        }
    };
    let days = match (scope.from, scope.to) {
        (Some(from), Some(to)) if scope.position.is_none() && scope.competency.is_none() => {
            rules::whole_days(from, to).map(|d| (from, to, d))
        }
        _ => None,
    };
    match days {
        None => add(db::analytics::agreement_in(conn, scope)?),
        Some((from, to, (first, end))) => {
            add(db::analytics::agreement_days_in(conn, first, end)?);
            let (first, end) = (first.and_time(NaiveTime::MIN), end.and_time(NaiveTime::MIN));
            for (f, t) in [(from, first), (end, to)] {
                if f < t {
                    let edge = Scope {
                        from: Some(f),
                        to: Some(t),
                        ..Scope::default()
                    };
                    add(db::analytics::agreement_in(conn, &edge)?);
                }
            }
        }
    }
    Ok(sums)
}

/// The organisation's figures over a period, added up by the database:
/// counts, shares, means and per-Bar-Raiser figures in SQL aggregates,
/// percentiles from the order statistics they need, and α from the
/// coincidences stored at capture ([`capture`]), summed per day.
pub async fn summary(state: &AppState, me: &Actor, p: Period) -> AppResult<Summary> {
    require_org_reader(me)?;
    let (period, scope) = resolve(&p)?;
    state
        .db
        .read(move |conn| {
            let totals = db::analytics::loop_totals(conn, &scope)?;
            let mut votes = Agreement {
                units: 0,
                alpha: None,
            };
            let mut per_competency = Vec::new();
            for (subject, (units, o)) in agreement_sums(conn, &scope)? {
                let a = Agreement {
                    units: usize::try_from(units).unwrap_or(0),
                    alpha: Coincidences::from_upper(o).alpha_ordinal(),
                };
                if subject.is_empty() {
                    votes = a;
                } else {
                    per_competency.push((subject, a));
                }
            }
            // A subject is a competency id as the capture stored it.
            let per_competency = per_competency
                .into_iter()
                .map(|(subject, a)| {
                    let id: CompetencyId = subject.parse().map_err(|_| {
                        AppError::Internal(anyhow::anyhow!(
                            "stored analytics subject {subject:?} is not a competency id"
                        ))
                    })?;
                    Ok((id, a))
                })
                .collect::<AppResult<Vec<_>>>()?;
            let ids: Vec<CompetencyId> = per_competency.iter().map(|(id, _)| *id).collect();
            let names = db::catalog::competencies_by_ids(conn, &ids)?;
            let mut competencies: Vec<CompetencyAgreement> = per_competency
                .into_iter()
                .map(|(id, a)| CompetencyAgreement {
                    competency: CompetencyRef {
                        id: id.into(),
                        name: names.get(&id).map(|c| c.name.clone()).unwrap_or_default(),
                    },
                    agreement: a,
                })
                .collect();
            competencies.sort_by_key(|c| c.competency.id.to_string());
            let n = usize::try_from(totals.loops).unwrap_or(0);
            let share = |k: i64| (n > 0).then(|| k as f64 / n as f64);
            let mut brs: BTreeMap<UserId, (usize, usize, usize)> = BTreeMap::new();
            for (id, vetoed, decided_hire, loops) in
                db::analytics::bar_raiser_endings(conn, &scope)?
            {
                let loops = usize::try_from(loops).unwrap_or(0);
                let e = brs.entry(id).or_default();
                e.0 += loops;
                if vetoed {
                    e.1 += loops;
                } else if decided_hire {
                    e.2 += loops;
                }
            }
            let br_ids: Vec<UserId> = brs.keys().copied().collect();
            let people = db::catalog::users_by_ids(conn, &br_ids)?;
            let bar_raisers = brs
                .into_iter()
                .map(|(id, (loops, vetoes, concurs))| {
                    let u = people.get(&id).ok_or(AppError::NotFound)?;
                    Ok(BarRaiserOutcomes {
                        bar_raiser: Person {
                            id: u.id.into(),
                            name: u.name.clone(),
                            email: u.email.clone(),
                        },
                        loops,
                        vetoes,
                        concurs,
                        veto_rate: (vetoes + concurs > 0)
                            .then(|| vetoes as f64 / (vetoes + concurs) as f64),
                    })
                })
                .collect::<AppResult<_>>()?;
            use db::analytics::Hours;
            let timeliness = Timeliness {
                seal_hours: spread_in(conn, &scope, Hours::Seal)?,
                debrief_open_hours: spread_in(conn, &scope, Hours::DebriefOpen)?,
                decision_hours: spread_in(conn, &scope, Hours::Decision)?,
            };
            Ok(Summary {
                period,
                loops: n,
                votes,
                competencies,
                // `rules::mean`: the sum over the count.
                mean_convergence: totals
                    .convergence_sum
                    .filter(|_| totals.convergences > 0)
                    .map(|sum| sum / totals.convergences as f64),
                changed_share: share(totals.changed_loops),
                toward_hiring_manager_share: (totals.changed_with_hiring_manager > 0).then(|| {
                    totals.toward_hiring_manager as f64 / totals.changed_with_hiring_manager as f64
                }),
                quick_voted_share: ratio(totals.quick_voted, totals.voters),
                amended_share: ratio(totals.amended, totals.quick_voted),
                quick_to_final_changed_share: ratio(
                    totals.quick_to_final_changed,
                    totals.quick_voted,
                ),
                timeliness,
                bar_raisers,
            })
        })
        .await
}

/// The reliability data behind the summary's α, for checking it with
/// another implementation: one row per interviewer, one column per loop,
/// null where the interviewer did not vote; no ids. Admins only.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReliabilityData {
    pub period: Covered,
    /// Sealed votes scored 1–4: coders × units.
    pub votes: Vec<Vec<Option<u8>>>,
    /// The same per competency id, of the sealed ratings.
    pub competencies: BTreeMap<Uuid, Vec<Vec<Option<u8>>>>,
}

fn matrix<U: Ord + Copy, C: Ord + Copy>(
    rows: impl Iterator<Item = (U, C, i32)>,
) -> Vec<Vec<Option<u8>>> {
    let mut units: BTreeMap<U, usize> = BTreeMap::new();
    let mut coders: BTreeMap<C, usize> = BTreeMap::new();
    let cells: Vec<(U, C, i32)> = rows.collect();
    for (u, c, _) in &cells {
        let n = units.len();
        units.entry(*u).or_insert(n);
        let n = coders.len();
        coders.entry(*c).or_insert(n);
    }
    let mut m = vec![vec![None; units.len()]; coders.len()];
    for (u, c, v) in cells {
        m[coders[&c]][units[&u]] = u8::try_from(v).ok();
    }
    m
}

pub async fn reliability(state: &AppState, me: &Actor, p: Period) -> AppResult<ReliabilityData> {
    if !me.is_admin() {
        return Err(AppError::forbidden("admin_only"));
    }
    let (period, scope) = resolve(&p)?;
    state
        .db
        .read(move |conn| {
            let votes = db::analytics::votes_in(conn, &scope, None)?;
            let ratings = db::analytics::ratings_in(conn, &scope)?;
            // A rating whose interview cast no vote is its own coder.
            let coder: HashMap<Uuid, Uuid> = votes
                .iter()
                .map(|v| (v.interview_id.into(), v.interviewer_id.into()))
                .collect();
            let mut competencies: BTreeMap<Uuid, Vec<(LoopId, Uuid, i32)>> = BTreeMap::new();
            for r in &ratings {
                let interview = Uuid::from(r.interview_id);
                let who = coder.get(&interview).copied().unwrap_or(interview);
                competencies
                    .entry(r.competency_id.into())
                    .or_default()
                    .push((r.loop_id, who, r.rating));
            }
            Ok(ReliabilityData {
                period,
                votes: matrix(
                    votes
                        .iter()
                        .map(|v| (v.loop_id, v.interviewer_id, v.sealed_vote)),
                ),
                competencies: competencies
                    .into_iter()
                    .map(|(k, rows)| (k, matrix(rows.into_iter())))
                    .collect(),
            })
        })
        .await
}

/// One interviewer on the leniency chart: the mean of their differences
/// from their panels, with its 95 % interval.
#[derive(Debug, Clone, Serialize)]
pub struct LeniencyPoint {
    pub name: String,
    pub loops: usize,
    pub mean: f64,
    pub half_width: Option<f64>,
}

/// Agreement of the sealed votes of loops decided in one month.
#[derive(Debug, Clone, Serialize)]
pub struct MonthAgreement {
    /// `YYYY-MM`.
    pub month: String,
    pub units: usize,
    pub alpha: Option<f64>,
}

/// Everything the printable report shows.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub summary: Summary,
    /// The period's decided loops, oldest first.
    pub loops: Vec<LoopAnalytics>,
    /// Interviewers with at least `min_loops` loops.
    pub leniency: Vec<LeniencyPoint>,
    pub min_loops: usize,
    /// Counts per bin of `domain::analytics::SEAL_HOUR_BINS`, plus the open bin.
    pub seal_histogram: Vec<usize>,
    pub alpha_by_month: Vec<MonthAgreement>,
}

/// The report's data (organisation readers).
pub async fn report(state: &AppState, me: &Actor, p: Period) -> AppResult<Report> {
    let summary = summary(state, me, p.clone()).await?;
    let (_, scope) = resolve(&p)?;
    let min_loops = state.config.analytics_min_loops;
    state
        .db
        .read(move |conn| {
            let loops = db::analytics::loops_in(conn, &scope)?;
            let votes = db::analytics::votes_in(conn, &scope, None)?;
            let mut differences: BTreeMap<UserId, Vec<f64>> = BTreeMap::new();
            for v in &votes {
                if let Some(m) = v.others_mean {
                    differences
                        .entry(v.interviewer_id)
                        .or_default()
                        .push(f64::from(v.sealed_vote) - m);
                }
            }
            let ids: Vec<UserId> = differences.keys().copied().collect();
            let people = db::catalog::users_by_ids(conn, &ids)?;
            let mut leniency: Vec<LeniencyPoint> = differences
                .into_iter()
                .filter(|(_, d)| d.len() >= min_loops.max(1))
                .filter_map(|(id, d)| {
                    let (mean, half_width) = rules::mean_with_interval(&d)?;
                    Some(LeniencyPoint {
                        name: people.get(&id).map(|u| u.name.clone()).unwrap_or_default(),
                        loops: d.len(),
                        mean,
                        half_width,
                    })
                })
                .collect();
            leniency.sort_by(|a, b| a.mean.total_cmp(&b.mean));
            let mut months: BTreeMap<String, Vec<(LoopId, i32)>> = BTreeMap::new();
            for v in &votes {
                months
                    .entry(v.decided_at.format("%Y-%m").to_string())
                    .or_default()
                    .push((v.loop_id, v.sealed_vote));
            }
            let alpha_by_month = months
                .into_iter()
                .map(|(month, rows)| {
                    let a = agreement(&units(rows.into_iter()));
                    MonthAgreement {
                        month,
                        units: a.units,
                        alpha: a.alpha,
                    }
                })
                .collect();
            let seal: Vec<f64> = votes
                .iter()
                .map(|v| hours(v.ended_at, v.sealed_at))
                .collect();
            Ok(Report {
                summary,
                loops: loops.into_iter().map(LoopAnalytics::from_row).collect(),
                leniency,
                min_loops,
                seal_histogram: rules::histogram(&seal),
                alpha_by_month,
            })
        })
        .await
}
