//! Tools for `bench/run` (see BENCHMARKS.md), not for production use:
//!
//! - `bar-raiser seed` fills a fresh database with realistic loops (six
//!   interviews with competencies, quick votes, sealed feedback with
//!   ratings, decisions,
//!   and the audit events the API would have written, hash-chained so
//!   `/audit/verify` passes), plus scheduled loops holding complete drafts
//!   for the write scenarios, and writes the id lists the load generator
//!   walks;
//! - `bar-raiser bench-commits` measures the store's raw durable-commit
//!   ceiling through the same driver, pool and connection settings.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, SubsecRound, Utc};
use clap::Args;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use uuid::Uuid;

use crate::auth::password::hash_blocking;
use crate::config::{DatabaseArgs, Secret};
use crate::db::bench::Rows;
use crate::db::models::{
    AuditEventRow, CandidateRow, FeedbackRow, InterviewCompetencyRow, InterviewRow, LoopRow,
    QuickVoteRow, RatingRow, UserRow,
};
use crate::db::{
    self, CandidateId, CompetencyId, Db, FeedbackId, InterviewId, LoopId, QuickVoteId, UserId,
    audit::ORG_CHAIN, to_db,
};
use crate::domain::audit::{Event, GENESIS, event_hash, timestamp};
use crate::domain::feedback::{Content, RatingEntry, canonical_json, sha256_hex};
use crate::domain::{
    AccountRole, InterviewRole, LoopState, Outcome, QuickVoteMode, Rating, StoredFeedbackState,
    Verdict, Vote, proof,
};

#[derive(Debug, Args)]
pub struct SeedArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,

    /// Loops with sealed feedback: most decided, some in debrief, some
    /// still scheduled.
    #[arg(long, default_value_t = 1000)]
    pub loops: usize,

    /// Extra scheduled loops whose six interviews hold complete drafts of
    /// the six bench writers (writer1..6@bench.example): what the draft and
    /// seal scenarios consume, one feedback per request.
    #[arg(long, default_value_t = 1000)]
    pub draft_loops: usize,

    /// How many of the loops reader@bench.example sits in (as an
    /// interviewer who has sealed), spread evenly over them.
    #[arg(long, default_value_t = 1000)]
    pub reader_loops: usize,

    /// Password of every seeded account.
    #[arg(long, env = "BAR_RAISER_SEED_PASSWORD", hide_env_values = true)]
    pub password: Secret,

    /// Directory for the lists the load generator walks (created).
    #[arg(long)]
    pub out: PathBuf,

    /// Loops per transaction.
    #[arg(long, default_value_t = 500)]
    pub batch: usize,
}

#[derive(Debug, Args)]
pub struct CommitArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,

    /// How long each measurement runs.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,

    /// Concurrent committers, one measurement per value (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "1,16")]
    pub threads: Vec<usize>,
}

const POSITIONS: [&str; 6] = [
    "Software Engineer",
    "Senior Software Engineer",
    "Engineering Manager",
    "Product Manager",
    "Data Scientist",
    "Site Reliability Engineer",
];
const LEVELS: [&str; 4] = ["L4", "L5", "L6", "L7"];
const FIRST: [&str; 10] = [
    "Ada", "Ben", "Chloe", "Dev", "Elif", "Farid", "Grace", "Hugo", "Ines", "Jonas",
];
const LAST: [&str; 10] = [
    "Okafor",
    "Lindqvist",
    "Tanaka",
    "Moreau",
    "Novak",
    "Haddad",
    "Silva",
    "Kowalski",
    "Byrne",
    "Rossi",
];
const VOTES: [Vote; 4] = [
    Vote::StrongNoHire,
    Vote::InclinedNotToHire,
    Vote::InclinedToHire,
    Vote::StrongHire,
];

/// The seeded people, by index into their pools.
struct People {
    admin: UserRow,
    recruiters: Vec<UserRow>,
    raisers: Vec<UserRow>,
    members: Vec<UserRow>,
    reader: UserRow,
    writers: Vec<UserRow>,
}

/// A hash chain being built in memory.
struct Chain {
    name: String,
    seq: i32,
    hash: String,
}

impl Chain {
    fn new(name: &str) -> Chain {
        Chain {
            name: name.to_string(),
            seq: 0,
            hash: GENESIS.to_string(),
        }
    }

    fn push(
        &mut self,
        out: &mut Vec<AuditEventRow>,
        actor: &UserId,
        action: &str,
        subject: impl std::fmt::Display,
        payload: serde_json::Value,
        at: DateTime<Utc>,
    ) {
        self.seq += 1;
        let mut event = Event {
            id: Uuid::now_v7(),
            chain: self.name.clone(),
            seq: self.seq,
            actor_id: Some((*actor).into()),
            action: action.to_string(),
            subject_id: Some(subject.to_string()),
            payload: payload.to_string(),
            created_at: at,
            prev_hash: self.hash.clone(),
            hash: String::new(),
        };
        event.hash = event_hash(&event.prev_hash, &event);
        self.hash = event.hash.clone();
        out.push(AuditEventRow {
            id: event.id.into(),
            chain: event.chain,
            seq: event.seq,
            actor_id: Some(*actor),
            action: event.action,
            subject_id: event.subject_id,
            payload: event.payload,
            created_at: to_db(at),
            prev_hash: event.prev_hash,
            hash: event.hash,
        });
    }
}

/// What a seeded loop looks like.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Decided (hire concurred, or no hire), every voting interview sealed.
    Decided,
    /// In debrief, every voting interview sealed.
    Debrief,
    /// Scheduled, one voting interview still a draft.
    Scheduled,
    /// Scheduled, every interview a complete unsealed draft of a writer.
    Drafts,
}

struct Ctx<'a> {
    people: &'a People,
    competencies: &'a [CompetencyId],
    org: Chain,
    rng: StdRng,
    /// Draws for the quick votes alone, so the rest of the seeded data is
    /// what it was before quick votes were seeded.
    quick_rng: StdRng,
    rows: Rows,
    reader_loops: Vec<LoopId>,
    /// `(writer index, interview id, competency ids)`.
    drafts: Vec<(usize, InterviewId, Vec<CompetencyId>)>,
    /// Decided loops of the current batch, whose analytics facts are
    /// captured after the batch is written.
    decided: Vec<LoopId>,
}

fn user_row(email: &str, name: &str, hash: &str, role: AccountRole, certified: bool) -> UserRow {
    let at = to_db(db::now());
    UserRow {
        id: UserId::random(),
        email: email.to_string(),
        email_lower: email.to_lowercase(),
        name: name.to_string(),
        password_hash: hash.to_string(),
        role,
        bar_raiser_certified: certified,
        active: true,
        created_at: at,
        updated_at: at,
        session_epoch: 0,
    }
}

fn people(hash: &str) -> People {
    let member = |email: String, name: String, certified: bool| {
        user_row(&email, &name, hash, AccountRole::Member, certified)
    };
    People {
        admin: user_row(
            "bench-admin@bench.example",
            "Bench Admin",
            hash,
            AccountRole::Admin,
            false,
        ),
        recruiters: (1..=10)
            .map(|n| {
                user_row(
                    &format!("recruiter{n}@bench.example"),
                    &format!("Recruiter {n}"),
                    hash,
                    AccountRole::Recruiter,
                    false,
                )
            })
            .collect(),
        raisers: (1..=40)
            .map(|n| {
                member(
                    format!("raiser{n}@bench.example"),
                    format!("Bar Raiser {n}"),
                    true,
                )
            })
            .collect(),
        members: (1..=400)
            .map(|n| {
                member(
                    format!("member{n}@bench.example"),
                    format!("{} {} {n}", FIRST[n % 10], LAST[(n / 10) % 10]),
                    false,
                )
            })
            .collect(),
        reader: member("reader@bench.example".into(), "Bench Reader".into(), false),
        writers: (1..=6)
            .map(|n| {
                member(
                    format!("writer{n}@bench.example"),
                    format!("Bench Writer {n}"),
                    n == 1,
                )
            })
            .collect(),
    }
}

/// Evidence of at least the 100 characters a seal needs.
fn evidence(rng: &mut StdRng) -> String {
    const SITUATIONS: [&str; 4] = [
        "Walked through the migration of a payments service to a new datastore",
        "Described a production incident where the on-call runbook was wrong",
        "Explained how they pushed back on a launch date with data from user research",
        "Designed a rate limiter for a multi-tenant API on the whiteboard",
    ];
    const DETAILS: [&str; 4] = [
        "named the trade-offs, the owner of each risk and what they measured afterwards.",
        "was specific about their own part versus the team's and what they would change.",
        "needed prompting to quantify the impact but got there with concrete numbers.",
        "stayed vague on the outcome; follow-up questions did not produce specifics.",
    ];
    format!(
        "{}; {}",
        SITUATIONS[rng.random_range(0..SITUATIONS.len())],
        DETAILS[rng.random_range(0..DETAILS.len())]
    )
}

impl Ctx<'_> {
    fn add_loop(&mut self, n: usize, total: usize, kind: Kind, with_reader: bool) {
        let p = self.people;
        let now = db::now().trunc_subsecs(0);
        // Finished loops spread over the past year; loops still collecting
        // feedback are from this week, their interviews from this morning, so
        // no reminder falls due while the benchmark runs.
        let recent = matches!(kind, Kind::Drafts | Kind::Scheduled);
        let created = if recent {
            now - chrono::Duration::days(7) + chrono::Duration::seconds(n as i64)
        } else {
            now - chrono::Duration::days(400)
                + chrono::Duration::minutes((n as i64) * 380 * 24 * 60 / total.max(1) as i64)
        };
        let recruiter = p.recruiters[self.rng.random_range(0..p.recruiters.len())].clone();
        let (raiser, mut slots): (UserRow, Vec<&UserRow>) = if kind == Kind::Drafts {
            (p.writers[0].clone(), p.writers.iter().skip(1).collect())
        } else {
            let raiser = p.raisers[self.rng.random_range(0..p.raisers.len())].clone();
            let mut picked: Vec<usize> = Vec::new();
            while picked.len() < 5 {
                let m = self.rng.random_range(0..p.members.len());
                if !picked.contains(&m) {
                    picked.push(m);
                }
            }
            let mut slots: Vec<&UserRow> = picked.iter().map(|&m| &p.members[m]).collect();
            if with_reader {
                slots[1] = &p.reader;
            }
            (raiser, slots)
        };
        // The hiring manager interviews in base loops (slot 0); in draft
        // loops the six writers hold every interview and the manager only
        // watches.
        let hiring_manager = if kind == Kind::Drafts {
            p.members[n % p.members.len()].clone()
        } else {
            slots[0].clone()
        };
        let mut interviewers: Vec<UserRow> = vec![raiser.clone()];
        interviewers.extend(slots.drain(..).cloned());

        let candidate = CandidateRow {
            id: CandidateId::random(),
            name: format!(
                "{} {}",
                FIRST[self.rng.random_range(0..10)],
                LAST[self.rng.random_range(0..10)]
            ),
            email: None,
            email_lower: None,
            phone: Some(format!("+1 555 {:04}", n % 10_000)),
            links: "[]".into(),
            notes: None,
            erased_at: None,
            erased_by: None,
            created_by: recruiter.id,
            created_at: to_db(created),
            updated_at: to_db(created),
        };
        let email = format!("candidate-{}@example.com", &candidate.id.to_string()[..13]);
        let candidate = CandidateRow {
            email: Some(email.clone()),
            email_lower: Some(email),
            ..candidate
        };
        self.org.push(
            &mut self.rows.events,
            &recruiter.id,
            "candidate.created",
            candidate.id,
            json!({}),
            created,
        );

        // Four required competencies; interview k covers required k % 4
        // plus up to two more.
        let mut required: Vec<CompetencyId> = Vec::new();
        while required.len() < 4 {
            let c = self.competencies[self.rng.random_range(0..self.competencies.len())];
            if !required.contains(&c) {
                required.push(c);
            }
        }
        let loop_id = LoopId::random();
        let mut chain = Chain::new(&loop_id.to_string());
        let state = match kind {
            Kind::Decided => LoopState::Decided,
            Kind::Debrief => LoopState::Debrief,
            Kind::Scheduled | Kind::Drafts => LoopState::Scheduled,
        };
        let hire = self.rng.random_bool(0.4);
        let debrief_at = created + chrono::Duration::days(10);
        let decided_at = created + chrono::Duration::days(11);
        let decided = kind == Kind::Decided;
        if decided {
            self.decided.push(loop_id);
        }
        let outcome = if hire { Outcome::Hire } else { Outcome::NoHire };
        let row = LoopRow {
            id: loop_id,
            candidate_id: candidate.id,
            position: POSITIONS[n % POSITIONS.len()].into(),
            level: LEVELS[n % LEVELS.len()].into(),
            hiring_manager_id: hiring_manager.id,
            bar_raiser_id: raiser.id,
            recruiter_id: recruiter.id,
            feedback_due_hours: 24,
            state,
            cancel_reason: None,
            cancelled_at: None,
            debrief_opened_at: matches!(kind, Kind::Decided | Kind::Debrief)
                .then(|| to_db(debrief_at)),
            votes_revealed_at: None,
            decision_outcome: decided.then_some(outcome),
            decision_rationale: decided.then(|| "Consistent evidence across the loop.".into()),
            decision_recycle: decided.then_some(!hire),
            decided_by: decided.then_some(hiring_manager.id),
            decision_recorded_at: decided.then(|| to_db(decided_at)),
            bar_raiser_verdict: (decided && hire).then_some(Verdict::Concur),
            veto_rationale: None,
            verdict_at: (decided && hire).then(|| to_db(decided_at)),
            final_outcome: decided.then_some(outcome),
            decided_at: decided.then(|| to_db(decided_at)),
            created_by: recruiter.id,
            created_at: to_db(created),
            updated_at: to_db(if decided { decided_at } else { created }),
            version: 0,
            quick_vote: QuickVoteMode::Optional,
            mentor_id: None,
        };
        chain.push(
            &mut self.rows.events,
            &recruiter.id,
            "loop.created",
            loop_id,
            json!({
                "candidate_id": row.candidate_id,
                "position": row.position,
                "level": row.level,
                "hiring_manager_id": row.hiring_manager_id,
                "bar_raiser_id": row.bar_raiser_id,
                "recruiter_id": row.recruiter_id,
                "feedback_due_hours": row.feedback_due_hours,
                "required_competency_ids": required,
                "quick_vote_setting": row.quick_vote,
            }),
            created,
        );
        if with_reader {
            self.reader_loops.push(loop_id);
        }
        self.rows
            .loop_competencies
            .extend(required.iter().map(|c| (loop_id, *c)));
        self.rows.candidates.push(candidate);
        self.rows.loops.push(row);

        let first_start = if recent {
            now - chrono::Duration::hours(8)
        } else {
            created + chrono::Duration::days(7)
        };
        let mut interview_plan = Vec::new();
        for (k, person) in interviewers.iter().enumerate() {
            let shadow = k == 5;
            let mut comps = vec![required[k % 4]];
            for _ in 0..self.rng.random_range(0..=2) {
                let c = self.competencies[self.rng.random_range(0..self.competencies.len())];
                if !comps.contains(&c) {
                    comps.push(c);
                }
            }
            let starts = first_start + chrono::Duration::hours(k as i64);
            let interview = InterviewRow {
                id: InterviewId::random(),
                loop_id,
                interviewer_id: person.id,
                loop_role: if shadow {
                    InterviewRole::Shadow
                } else {
                    InterviewRole::Interviewer
                },
                starts_at: to_db(starts),
                duration_minutes: 45,
                excused_at: None,
                excused_by: None,
                excuse_reason: None,
                created_at: to_db(created),
                updated_at: to_db(created),
                assigned_at: Some(to_db(created)),
                assigned_by: Some(recruiter.id),
                calendar_sequence: 0,
            };
            chain.push(
                &mut self.rows.events,
                &recruiter.id,
                "interview.added",
                interview.id,
                json!({
                    "interviewer_id": interview.interviewer_id,
                    "loop_role": interview.loop_role,
                    "competency_ids": comps,
                    "starts_at": timestamp(starts),
                    "duration_minutes": 45,
                }),
                created,
            );
            self.rows
                .interview_competencies
                .extend(
                    comps
                        .iter()
                        .enumerate()
                        .map(|(pos, c)| InterviewCompetencyRow {
                            interview_id: interview.id,
                            competency_id: *c,
                            position: pos as i32,
                        }),
                );
            interview_plan.push((interview.id, person.id, comps, starts));
            self.rows.interviews.push(interview);
        }
        chain.push(
            &mut self.rows.events,
            &recruiter.id,
            "loop.scheduled",
            loop_id,
            json!({}),
            created + chrono::Duration::hours(1),
        );

        for (k, (interview_id, author, comps, starts)) in interview_plan.into_iter().enumerate() {
            let shadow = k == 5;
            let sealed = match kind {
                Kind::Drafts => false,
                // The shadow keeps a draft; in scheduled loops so does the
                // last voting interviewer.
                _ if shadow => false,
                Kind::Scheduled => k != 4,
                Kind::Decided | Kind::Debrief => true,
            };
            let written = starts + chrono::Duration::hours(2);
            let vote = VOTES[self.rng.random_range(0..4)];
            let content = Content {
                ratings: comps
                    .iter()
                    .map(|c| RatingEntry {
                        competency_id: (*c).into(),
                        rating: Rating::new(self.rng.random_range(1..=4)),
                        evidence: Some(evidence(&mut self.rng)),
                    })
                    .collect(),
                vote: Some(vote),
                summary: Some(format!(
                    "{} overall: strongest on the first competency, some gaps elsewhere.",
                    vote.as_str().replace('_', " ")
                )),
            };
            let feedback_id = FeedbackId::random();
            // About a third of the voters in sealed loops committed a quick
            // vote minutes after the interview; a quarter of those sealed
            // another vote (amended).
            if sealed && self.quick_rng.random_bool(0.35) {
                let amend = self.quick_rng.random_bool(0.25);
                let at =
                    starts + chrono::Duration::minutes(45 + self.quick_rng.random_range(1..=30));
                self.quick_vote(&mut chain, loop_id, interview_id, author, vote, amend, at);
            }
            chain.push(
                &mut self.rows.events,
                &author,
                "feedback.draft_saved",
                interview_id,
                json!({"revision": 1}),
                written,
            );
            // Sealed from a few minutes to two days after writing.
            let delay = chrono::Duration::minutes(self.rng.random_range(10..=48 * 60));
            let sha = sealed.then(|| {
                let at = written + delay;
                let sha = sha256_hex(&canonical_json(
                    interview_id.into(),
                    author.into(),
                    &content,
                    at,
                ));
                chain.push(
                    &mut self.rows.events,
                    &author,
                    "feedback.sealed",
                    interview_id,
                    json!({"feedback_id": feedback_id, "content_sha256": sha, "sealed_at": timestamp(at)}),
                    at,
                );
                (at, sha)
            });
            self.rows
                .ratings
                .extend(content.ratings.iter().map(|r| RatingRow {
                    feedback_id,
                    competency_id: r.competency_id.into(),
                    rating: r.rating.map(Rating::get),
                    evidence: r.evidence.clone(),
                }));
            self.rows.feedback.push(FeedbackRow {
                id: feedback_id,
                interview_id,
                loop_id,
                author_id: author,
                state: if sealed {
                    StoredFeedbackState::Sealed
                } else {
                    StoredFeedbackState::Draft
                },
                vote: Some(vote),
                summary: content.summary.clone(),
                revision: 1,
                created_at: to_db(written),
                updated_at: to_db(sha.as_ref().map(|(at, _)| *at).unwrap_or(written)),
                sealed_at: sha.as_ref().map(|(at, _)| to_db(*at)),
                content_sha256: sha.map(|(_, s)| s),
                receipt_salt: None,
            });
            if kind == Kind::Drafts {
                self.drafts.push((k, interview_id, comps));
            }
        }

        if matches!(kind, Kind::Decided | Kind::Debrief) {
            chain.push(
                &mut self.rows.events,
                &raiser.id,
                "debrief.opened",
                loop_id,
                json!({}),
                debrief_at,
            );
        }
        if decided {
            chain.push(
                &mut self.rows.events,
                &hiring_manager.id,
                "decision.recorded",
                loop_id,
                json!({"outcome": outcome, "recycle": !hire, "receipt": proof::decision_receipt(&proof::DecisionFacts {
                    outcome,
                    rationale: "Consistent evidence across the loop.".into(),
                    recycle: !hire,
                    decided_by: hiring_manager.id.into(),
                    recorded_at: decided_at,
                })}),
                decided_at,
            );
            if hire {
                chain.push(
                    &mut self.rows.events,
                    &raiser.id,
                    "decision.concurred",
                    loop_id,
                    json!({"final_outcome": "hire", "receipt": proof::verdict_receipt(&proof::VerdictFacts {
                        verdict: Verdict::Concur,
                        rationale: None,
                        final_outcome: Outcome::Hire,
                        at: decided_at,
                    })}),
                    decided_at,
                );
            }
        }
        self.rows.chains.push((chain.name, chain.seq, chain.hash));
    }

    /// A quick vote committed `at`, with the chain's `quick_vote.committed`
    /// as the API writes it (salted receipt, never the vote): the sealed
    /// `vote`, or a neighbouring one when `amend`.
    #[allow(clippy::too_many_arguments)]
    fn quick_vote(
        &mut self,
        chain: &mut Chain,
        loop_id: LoopId,
        interview_id: InterviewId,
        voter: UserId,
        vote: Vote,
        amend: bool,
        at: DateTime<Utc>,
    ) {
        let n = VOTES.iter().position(|v| *v == vote).unwrap_or(0);
        let quick = match (amend, n) {
            (false, _) => vote,
            (true, 0) => VOTES[1],
            (true, n) => VOTES[n - 1],
        };
        let row = QuickVoteRow {
            id: QuickVoteId::from(Uuid::now_v7()),
            interview_id,
            loop_id,
            voter_id: voter,
            vote: quick,
            committed_at: to_db(at),
            receipt_salt: proof::new_salt(),
        };
        let receipt = proof::quick_vote_receipt(&proof::StoredQuickVote {
            id: row.id.into(),
            interview_id: interview_id.into(),
            voter: voter.into(),
            vote: quick,
            committed_at: db::from_db(row.committed_at),
            salt: row.receipt_salt.clone(),
        });
        chain.push(
            &mut self.rows.events,
            &voter,
            "quick_vote.committed",
            interview_id,
            json!({"quick_vote_id": row.id, "committed_at": timestamp(db::from_db(row.committed_at)), "receipt": receipt}),
            db::from_db(row.committed_at),
        );
        self.rows.quick_votes.push(row);
    }

    /// Writes the rows gathered so far, moving the org chain's head, and
    /// hands the batch's decided loops to the analytics capture.
    fn flush(
        &mut self,
        conn: &mut db::DbConn,
        captures: &std::sync::mpsc::SyncSender<Vec<LoopId>>,
    ) -> anyhow::Result<()> {
        let mut rows = std::mem::take(&mut self.rows);
        rows.heads = vec![(self.org.name.clone(), self.org.seq, self.org.hash.clone())];
        db::bench::insert(conn, &rows).context("writing seeded rows")?;
        let decided = std::mem::take(&mut self.decided);
        if !decided.is_empty() {
            // A closed channel means the capture failed; its error is the
            // one worth reporting, and `seed` reports it when it joins.
            captures
                .send(decided)
                .map_err(|_| anyhow::anyhow!("the analytics capture stopped"))?;
        }
        Ok(())
    }
}

/// The analytics facts of each batch of decided loops, once that batch is
/// committed: computed by the same function the decision's transaction
/// uses, written in bulk. It runs on a connection of its own beside the
/// loop writer — the reads of the capture (seven statements a loop) were
/// half the seed's time when they waited their turn.
fn capture(
    conn: &mut db::DbConn,
    batches: std::sync::mpsc::Receiver<Vec<LoopId>>,
) -> anyhow::Result<()> {
    for decided in batches {
        let snapshots = decided
            .iter()
            .filter_map(|id| crate::workflows::analytics::snapshot(conn, *id).transpose())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| anyhow::anyhow!("capturing analytics: {e}"))?;
        db::bench::insert_analytics(conn, &snapshots).context("writing analytics rows")?;
    }
    Ok(())
}

/// `bar-raiser seed`.
pub fn seed(args: SeedArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let db = Db::connect(&args.db.database_url, 2)?;
    db.migrate()?;
    let mut conn = db.conn().map_err(|e| anyhow::anyhow!("{e}"))?;
    db::bench::bulk_session(&mut conn)?;
    let mut capture_conn = db.conn().map_err(|e| anyhow::anyhow!("{e}"))?;
    db::bench::bulk_session(&mut capture_conn)?;
    anyhow::ensure!(
        db::loops::count(&mut conn)? == 0,
        "seed wants an empty database; this one has loops"
    );
    let hash = hash_blocking(args.password.expose())?;
    let people = people(&hash);
    let competencies: Vec<CompetencyId> = db::catalog::competencies(&mut conn, false)?
        .into_iter()
        .map(|c| c.id)
        .collect();
    anyhow::ensure!(
        competencies.len() >= 4,
        "the catalogue needs 4 competencies"
    );
    let (seq, head) = db::bench::chain_head(&mut conn, ORG_CHAIN)?;
    let mut ctx = Ctx {
        people: &people,
        competencies: &competencies,
        org: Chain {
            name: ORG_CHAIN.into(),
            seq,
            hash: head,
        },
        rng: StdRng::seed_from_u64(8),
        quick_rng: StdRng::seed_from_u64(9),
        rows: Rows::default(),
        reader_loops: Vec::new(),
        drafts: Vec::new(),
        decided: Vec::new(),
    };

    let all: Vec<&UserRow> = std::iter::once(&people.admin)
        .chain(&people.recruiters)
        .chain(&people.raisers)
        .chain(&people.members)
        .chain(std::iter::once(&people.reader))
        .chain(&people.writers)
        .collect();
    let now = db::now();
    for u in &all {
        ctx.org.push(
            &mut ctx.rows.events,
            &people.admin.id,
            "user.created",
            u.id,
            json!({"role": u.role, "bar_raiser_certified": u.bar_raiser_certified, "active": true}),
            now,
        );
    }
    let every = (args.loops / args.reader_loops.max(1)).max(1);
    let batch = args.batch.max(1);
    let total = args.loops + args.draft_loops;
    // Two batches may wait for the capture; the writer then waits for it.
    let (captures, batches) = std::sync::mpsc::sync_channel(2);
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let capturing = scope.spawn(move || capture(&mut capture_conn, batches));
        let written = (|| -> anyhow::Result<()> {
            ctx.rows.users = all.into_iter().cloned().collect();
            ctx.flush(&mut conn, &captures)?;

            for n in 0..total {
                let kind = if n >= args.loops {
                    Kind::Drafts
                } else {
                    // Oldest first: 70 % decided, 10 % in debrief, 20 % scheduled.
                    match n * 10 / args.loops.max(1) {
                        0..=6 => Kind::Decided,
                        7 => Kind::Debrief,
                        _ => Kind::Scheduled,
                    }
                };
                let with_reader =
                    kind != Kind::Drafts && n % every == 0 && n / every < args.reader_loops;
                ctx.add_loop(n, args.loops, kind, with_reader);
                if (n + 1) % batch == 0 || n + 1 == total {
                    ctx.flush(&mut conn, &captures)?;
                    // Each time the tables have doubled (so a handful of times in
                    // all, whatever the size).
                    let batches = (n + 1) / batch;
                    if (n + 1) % batch == 0 && batches.is_power_of_two() {
                        db::bench::analyze_growing(&mut conn)?;
                    }
                    if (n + 1) % (batch * 20) == 0 {
                        eprintln!("seed: {} of {total} loops", n + 1);
                    }
                }
            }
            Ok(())
        })();
        drop(captures);
        let captured = capturing
            .join()
            .map_err(|_| anyhow::anyhow!("the analytics capture panicked"))?;
        // The capture's own error explains a writer that found it gone.
        captured.and(written)
    })?;
    db::bench::analyze(&mut conn)?;

    let write = |name: &str, text: String| -> anyhow::Result<()> {
        let path = args.out.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
    };
    write("reader_loops.txt", lines(ctx.reader_loops.iter()))?;
    // The last two fifths of the draft loops, loop by loop, for the
    // two-instance scenario: sealing every draft of a loop makes it ready
    // for debrief, which queues mail for the outbox workers to send.
    let mut drafts = std::mem::take(&mut ctx.drafts);
    let reserved = drafts.split_off(drafts.len() - drafts.len() / 6 * 2 / 5 * 6);
    // Writer by writer, so concurrent requests touch different loops.
    drafts.sort_by_key(|(writer, _, _)| *writer);
    let draft_lines = |drafts: &[(usize, InterviewId, Vec<CompetencyId>)]| {
        let mut text = String::new();
        for (writer, interview, comps) in drafts {
            let comps: Vec<String> = comps.iter().map(CompetencyId::to_string).collect();
            let _ = writeln!(text, "{interview} {} {}", writer + 1, comps.join(","));
        }
        text
    };
    write("drafts.txt", draft_lines(&drafts))?;
    write("drafts_by_loop.txt", draft_lines(&reserved))?;
    write(
        "writers.txt",
        lines(people.writers.iter().map(|u| &u.email)),
    )?;
    println!(
        "seeded {} loops ({} with drafts), {} users, {} drafts, reader in {} loops, in {:.1}s",
        total,
        args.draft_loops,
        people.members.len() + people.raisers.len() + people.recruiters.len() + 8,
        drafts.len(),
        ctx.reader_loops.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn lines(items: impl Iterator<Item = impl std::fmt::Display>) -> String {
    items.fold(String::new(), |mut s, i| {
        let _ = writeln!(s, "{i}");
        s
    })
}

/// `bar-raiser bench-commits`: one line per concurrency,
/// `threads=N commits=M errors=E seconds=S commits_per_s=R`.
pub fn commits(args: CommitArgs) -> anyhow::Result<()> {
    let most = args.threads.iter().copied().max().unwrap_or(1).max(1);
    let db = Db::connect(&args.db.database_url, most as u32)?;
    {
        let mut conn = db.conn().map_err(|e| anyhow::anyhow!("{e}"))?;
        db::bench::create_scratch(&mut conn)?;
    }
    for &threads in &args.threads {
        let threads = threads.max(1);
        let commits = Arc::new(AtomicU64::new(0));
        let errors = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (db, commits, errors, stop) =
                    (db.clone(), commits.clone(), errors.clone(), stop.clone());
                std::thread::spawn(move || -> anyhow::Result<()> {
                    let mut conn = db.conn().map_err(|e| anyhow::anyhow!("{e}"))?;
                    while !stop.load(Ordering::Relaxed) {
                        match db::bench::commit_one(&mut conn, &Uuid::new_v4().to_string()) {
                            Ok(()) => commits.fetch_add(1, Ordering::Relaxed),
                            Err(_) => errors.fetch_add(1, Ordering::Relaxed),
                        };
                    }
                    Ok(())
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs(args.seconds));
        stop.store(true, Ordering::Relaxed);
        for h in handles {
            h.join()
                .map_err(|_| anyhow::anyhow!("a committer panicked"))??;
        }
        let seconds = started.elapsed().as_secs_f64();
        let n = commits.load(Ordering::Relaxed);
        println!(
            "threads={threads} commits={n} errors={} seconds={seconds:.2} commits_per_s={:.1}",
            errors.load(Ordering::Relaxed),
            n as f64 / seconds
        );
    }
    let mut conn = db.conn().map_err(|e| anyhow::anyhow!("{e}"))?;
    db::bench::drop_scratch(&mut conn)?;
    Ok(())
}
