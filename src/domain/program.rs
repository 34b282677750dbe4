//! The Bar Raiser program (issue 17): how an interviewer becomes a certified
//! Bar Raiser and how a certified one lapses.
//!
//! ```text
//! interviewer ──enrol──▶ in_training ──certify──▶ certified ──lapse──▶ lapsed
//!   (admin, or a certified        (admin, or the system     (daily job)  │
//!    Bar Raiser as mentor)         when auto-certifying)                 │
//!                                  certified ◀──re-activate (admin, reason)
//! ```
//!
//! Pure rules over plain facts; the clock is the caller's `now`.

use chrono::{DateTime, Duration, Months, Utc};
use uuid::Uuid;

use super::accounts::text_problem;
use super::{AccountRole, Outcome, ProgramState, Refusal, SignOffOutcome, Violation, Vote};

/// Shadowed loops a trainee needs, unless configured.
pub const DEFAULT_SHADOWED_LOOPS: u32 = 3;
/// Reverse-shadowed loops signed off as `pass` a trainee needs, unless configured.
pub const DEFAULT_REVERSE_SHADOWED_LOOPS: u32 = 2;
/// The share of the trainee's sealed votes in training loops that must
/// agree with the loops' outcomes, unless configured.
pub const DEFAULT_AGREEMENT_FLOOR: f64 = 0.6;
/// Months without serving as a loop's Bar Raiser after which a certified
/// Bar Raiser lapses, unless configured.
pub const DEFAULT_LAPSE_MONTHS: u32 = 12;
/// Loops served as Bar Raiser in the last 30 days above which scheduling
/// warns, unless configured.
pub const DEFAULT_LOAD_WARNING_LOOPS: u32 = 6;
/// The window the load warning counts over.
pub const LOAD_WINDOW_DAYS: i64 = 30;
/// A sign-off's written assessment: at least this many characters.
pub const ASSESSMENT_MIN_CHARS: usize = 100;
pub const ASSESSMENT_MAX_CHARS: usize = 10_000;
/// A re-activation's reason: at least this many characters.
pub const REASON_MIN_CHARS: usize = 20;
pub const REASON_MAX_CHARS: usize = 2000;

/// What certification asks of a trainee.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub shadowed_loops: u32,
    pub reverse_shadowed_loops: u32,
    /// 0.0 to 1.0.
    pub agreement_floor: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            shadowed_loops: DEFAULT_SHADOWED_LOOPS,
            reverse_shadowed_loops: DEFAULT_REVERSE_SHADOWED_LOOPS,
            agreement_floor: DEFAULT_AGREEMENT_FLOOR,
        }
    }
}

/// The person asking, as the program sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Person {
    pub id: Uuid,
    pub role: AccountRole,
    pub state: ProgramState,
}

impl Person {
    fn certified(&self) -> bool {
        self.state == ProgramState::Certified
    }
}

/// Who certifies: an admin confirming, or the system when
/// `BAR_RAISER_AUTO_CERTIFY=true`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Certifier {
    Admin(Person),
    System,
}

/// One of the trainee's sealed votes in a decided training loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrainingVote {
    pub vote: Vote,
    pub outcome: Outcome,
}

impl TrainingVote {
    /// Issue 13's agreement: the side of the sealed vote matches the outcome.
    pub fn agrees(self) -> bool {
        self.vote.is_hire() == (self.outcome == Outcome::Hire)
    }
}

/// What a trainee has done so far.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Progress {
    /// Loops the trainee shadowed with their feedback sealed.
    pub shadowed_loops: u32,
    /// Reverse-shadowed loops a mentor signed off as `pass`.
    pub reverse_passed: u32,
    /// Reverse-shadowed loops signed off as `needs_work`.
    pub reverse_needs_work: u32,
    /// Sealed votes in decided training loops, beside each loop's outcome.
    pub votes: Vec<TrainingVote>,
}

impl Progress {
    /// The share of sealed votes agreeing with the outcome; `None` before
    /// any training loop is decided.
    pub fn agreement(&self) -> Option<f64> {
        let n = self.votes.len();
        (n > 0).then(|| self.votes.iter().filter(|v| v.agrees()).count() as f64 / n as f64)
    }

    /// What still stands between the trainee and certification, each named;
    /// empty when the thresholds hold.
    pub fn missing(&self, t: &Thresholds) -> Vec<Violation> {
        let mut v = Vec::new();
        if self.shadowed_loops < t.shadowed_loops {
            v.push(Violation::new(
                "shadowed_loops_missing",
                "shadowed_loops",
                format!(
                    "{} of {} shadowed loops",
                    self.shadowed_loops, t.shadowed_loops
                ),
            ));
        }
        if self.reverse_passed < t.reverse_shadowed_loops {
            v.push(Violation::new(
                "reverse_shadowed_loops_missing",
                "reverse_shadowed_loops",
                format!(
                    "{} of {} reverse-shadowed loops signed off as pass",
                    self.reverse_passed, t.reverse_shadowed_loops
                ),
            ));
        }
        match self.agreement() {
            Some(a) if a >= t.agreement_floor => {}
            got => v.push(Violation::new(
                "agreement_below_floor",
                "agreement",
                match got {
                    Some(a) => format!(
                        "sealed votes agree with outcomes {:.0}% of the time, the floor is {:.0}%",
                        a * 100.0,
                        t.agreement_floor * 100.0
                    ),
                    None => "no decided training loop to measure agreement on yet".into(),
                },
            )),
        }
        v
    }

    pub fn ready(&self, t: &Thresholds) -> bool {
        self.missing(t).is_empty()
    }
}

fn wrong_state(expected: ProgramState, state: ProgramState) -> Refusal {
    Refusal::conflict(
        "program_state",
        format!("the person is {state}; this needs {expected}"),
    )
}

/// May `by` enrol `trainee`? An admin, or a certified Bar Raiser (the
/// mentor) other than the trainee; the trainee is an interviewer.
pub fn may_enrol(by: &Person, trainee: &Person) -> Result<(), Refusal> {
    let mentor_ok = by.certified() && by.id != trainee.id;
    if by.role != AccountRole::Admin && !mentor_ok {
        return Err(Refusal::Forbidden("not_program_mentor"));
    }
    if trainee.state != ProgramState::Interviewer {
        return Err(wrong_state(ProgramState::Interviewer, trainee.state));
    }
    Ok(())
}

/// May `by` sign off the reverse-shadowed loop of `trainee`? A certified
/// Bar Raiser other than the trainee, while the trainee is in training,
/// with a written assessment of 100 characters or more.
pub fn may_sign_off(by: &Person, trainee: &Person, assessment: &str) -> Result<(), Refusal> {
    if !by.certified() || by.id == trainee.id {
        return Err(Refusal::Forbidden("not_program_mentor"));
    }
    if trainee.state != ProgramState::InTraining {
        return Err(wrong_state(ProgramState::InTraining, trainee.state));
    }
    let text = assessment.trim();
    let n = text.chars().count();
    if let Some(v) = text_problem("assessment", text, ASSESSMENT_MAX_CHARS) {
        return Err(Refusal::Invalid(vec![v]));
    }
    if n < ASSESSMENT_MIN_CHARS {
        return Err(Refusal::Invalid(vec![Violation::new(
            "too_short",
            "assessment",
            format!(
                "a written assessment has at least {ASSESSMENT_MIN_CHARS} characters, this one {n}"
            ),
        )]));
    }
    Ok(())
}

/// Who reads a person's program record (and the list of trainees): admins,
/// recruiters, certified Bar Raisers (mentors), and the person themself.
pub fn may_read(reader: &Person, subject: Uuid) -> bool {
    matches!(reader.role, AccountRole::Admin | AccountRole::Recruiter)
        || reader.certified()
        || reader.id == subject
}

/// Whether a sign-off counts toward certification.
pub fn counts(outcome: SignOffOutcome) -> bool {
    outcome == SignOffOutcome::Pass
}

/// May the trainee be certified now? An admin confirms or the system
/// certifies; the trainee is in training and every threshold holds (422
/// listing what is missing).
pub fn may_certify(
    by: Certifier,
    state: ProgramState,
    progress: &Progress,
    t: &Thresholds,
) -> Result<(), Refusal> {
    if let Certifier::Admin(p) = by
        && p.role != AccountRole::Admin
    {
        return Err(Refusal::Forbidden("admin_only"));
    }
    if state != ProgramState::InTraining {
        return Err(wrong_state(ProgramState::InTraining, state));
    }
    let missing = progress.missing(t);
    if !missing.is_empty() {
        return Err(Refusal::Invalid(missing));
    }
    Ok(())
}

/// May an admin re-activate a lapsed Bar Raiser, with this reason?
pub fn may_reactivate(by: &Person, state: ProgramState, reason: &str) -> Result<(), Refusal> {
    if by.role != AccountRole::Admin {
        return Err(Refusal::Forbidden("admin_only"));
    }
    if state != ProgramState::Lapsed {
        return Err(wrong_state(ProgramState::Lapsed, state));
    }
    let text = reason.trim();
    let n = text.chars().count();
    if let Some(v) = text_problem("reason", text, REASON_MAX_CHARS) {
        return Err(Refusal::Invalid(vec![v]));
    }
    if n < REASON_MIN_CHARS {
        return Err(Refusal::Invalid(vec![Violation::new(
            "too_short",
            "reason",
            format!("a reason has at least {REASON_MIN_CHARS} characters"),
        )]));
    }
    Ok(())
}

/// Whether a certified Bar Raiser lapses at `now`: they have not served as
/// a loop's Bar Raiser for `months` months, counted from the later of their
/// last loop and their (re-)certification.
pub fn lapse_due(
    state: ProgramState,
    certified_at: DateTime<Utc>,
    last_served: Option<DateTime<Utc>>,
    months: u32,
    now: DateTime<Utc>,
) -> bool {
    if state != ProgramState::Certified {
        return false;
    }
    let since = last_served.map_or(certified_at, |l| l.max(certified_at));
    since
        .checked_add_months(Months::new(months))
        .is_some_and(|deadline| now >= deadline)
}

/// The start of the load window ending at `now`.
pub fn load_window_start(now: DateTime<Utc>) -> DateTime<Utc> {
    now - Duration::days(LOAD_WINDOW_DAYS)
}

/// The warning a schedule answer carries when the Bar Raiser served more
/// than `max` loops in the last 30 days.
pub fn load_warning(served_last_30_days: u32, max: u32) -> Option<Violation> {
    (served_last_30_days > max).then(|| {
        Violation::new(
            "bar_raiser_load",
            "bar_raiser_id",
            format!(
                "the Bar Raiser served {served_last_30_days} loops in the last {LOAD_WINDOW_DAYS} days, more than {max}"
            ),
        )
    })
}

/// Whether the person may be a loop's Bar Raiser (composition): certified,
/// or in training when the loop names a certified mentor holding the veto
/// (a reverse shadow).
pub fn bar_raiser_problem(
    state: ProgramState,
    mentor_state: Option<ProgramState>,
) -> Option<Violation> {
    match (state, mentor_state) {
        (ProgramState::Certified, None) => None,
        (ProgramState::InTraining, Some(ProgramState::Certified)) => None,
        (ProgramState::Lapsed, _) => Some(Violation::new(
            "bar_raiser_lapsed",
            "bar_raiser_id",
            "the Bar Raiser's certification lapsed; an admin re-activates it",
        )),
        (ProgramState::InTraining, _) => Some(Violation::new(
            "reverse_shadow_without_mentor",
            "bar_raiser_id",
            "a Bar Raiser in training leads a loop only as a reverse shadow, with a certified mentor holding the veto",
        )),
        (ProgramState::Certified, Some(_)) => Some(Violation::new(
            "mentor_without_trainee",
            "mentor_id",
            "a mentor holds the veto only for a Bar Raiser in training",
        )),
        (ProgramState::Interviewer, _) => Some(Violation::new(
            "bar_raiser_not_certified",
            "bar_raiser_id",
            "the Bar Raiser must be certified",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProgramState::*;
    use chrono::TimeZone;

    fn person(n: u128, role: AccountRole, state: ProgramState) -> Person {
        Person {
            id: Uuid::from_u128(n),
            role,
            state,
        }
    }

    fn admin() -> Person {
        person(1, AccountRole::Admin, Interviewer)
    }

    fn mentor() -> Person {
        person(2, AccountRole::Member, Certified)
    }

    fn code(r: Result<(), Refusal>) -> &'static str {
        match r {
            Ok(()) => "ok",
            Err(Refusal::Forbidden(c)) => c,
            Err(Refusal::Conflict { code, .. }) => code,
            Err(Refusal::Blocked { code, .. }) => code,
            Err(Refusal::Invalid(v)) => v[0].code,
        }
    }

    #[test]
    fn enrolment_by_admin_or_certified_mentor_of_an_interviewer() {
        let trainee = person(3, AccountRole::Member, Interviewer);
        let cases = [
            (admin(), trainee, "ok"),
            (mentor(), trainee, "ok"),
            (
                person(4, AccountRole::Member, Interviewer),
                trainee,
                "not_program_mentor",
            ),
            (
                person(4, AccountRole::Recruiter, InTraining),
                trainee,
                "not_program_mentor",
            ),
            (
                person(4, AccountRole::Member, Lapsed),
                trainee,
                "not_program_mentor",
            ),
            // A certified Bar Raiser cannot enrol themself; they are no interviewer anyway.
            (mentor(), mentor(), "not_program_mentor"),
            (
                admin(),
                person(3, AccountRole::Member, InTraining),
                "program_state",
            ),
            (
                admin(),
                person(3, AccountRole::Member, Certified),
                "program_state",
            ),
            (
                admin(),
                person(3, AccountRole::Member, Lapsed),
                "program_state",
            ),
        ];
        for (by, t, expected) in cases {
            assert_eq!(code(may_enrol(&by, &t)), expected, "{by:?} enrols {t:?}");
        }
    }

    #[test]
    fn who_reads_a_record() {
        let subject = Uuid::from_u128(3);
        let cases = [
            (admin(), true),
            (person(4, AccountRole::Recruiter, Interviewer), true),
            (mentor(), true),
            (person(3, AccountRole::Member, InTraining), true),
            (person(4, AccountRole::Member, InTraining), false),
            (person(4, AccountRole::Member, Lapsed), false),
            (person(4, AccountRole::Member, Interviewer), false),
        ];
        for (reader, expected) in cases {
            assert_eq!(may_read(&reader, subject), expected, "{reader:?}");
        }
    }

    #[test]
    fn sign_off_needs_a_certified_mentor_and_100_characters() {
        let trainee = person(3, AccountRole::Member, InTraining);
        let long = "x".repeat(ASSESSMENT_MIN_CHARS);
        let short = "x".repeat(ASSESSMENT_MIN_CHARS - 1);
        assert_eq!(code(may_sign_off(&mentor(), &trainee, &long)), "ok");
        // Characters, not bytes; surrounding blanks do not count.
        let accented = "é".repeat(ASSESSMENT_MIN_CHARS);
        assert_eq!(code(may_sign_off(&mentor(), &trainee, &accented)), "ok");
        assert_eq!(
            code(may_sign_off(&mentor(), &trainee, &format!("  {short}  "))),
            "too_short"
        );
        assert_eq!(code(may_sign_off(&mentor(), &trainee, "   ")), "required");
        assert_eq!(
            code(may_sign_off(&admin(), &trainee, &long)),
            "not_program_mentor"
        );
        assert_eq!(
            code(may_sign_off(&trainee, &trainee, &long)),
            "not_program_mentor"
        );
        let done = person(3, AccountRole::Member, Certified);
        assert_eq!(code(may_sign_off(&mentor(), &done, &long)), "program_state");
        assert!(counts(SignOffOutcome::Pass));
        assert!(!counts(SignOffOutcome::NeedsWork));
    }

    fn votes(agreeing: usize, disagreeing: usize) -> Vec<TrainingVote> {
        let yes = TrainingVote {
            vote: Vote::InclinedToHire,
            outcome: Outcome::Hire,
        };
        let no = TrainingVote {
            vote: Vote::StrongHire,
            outcome: Outcome::NoHire,
        };
        std::iter::repeat_n(yes, agreeing)
            .chain(std::iter::repeat_n(no, disagreeing))
            .collect()
    }

    fn done() -> Progress {
        Progress {
            shadowed_loops: 3,
            reverse_passed: 2,
            reverse_needs_work: 1,
            votes: votes(4, 1),
        }
    }

    #[test]
    fn agreement_is_the_side_of_the_vote_against_the_outcome() {
        let sides = [
            (Vote::StrongHire, Outcome::Hire, true),
            (Vote::InclinedToHire, Outcome::Hire, true),
            (Vote::InclinedNotToHire, Outcome::Hire, false),
            (Vote::StrongNoHire, Outcome::NoHire, true),
            (Vote::InclinedToHire, Outcome::NoHire, false),
        ];
        for (vote, outcome, agrees) in sides {
            assert_eq!(TrainingVote { vote, outcome }.agrees(), agrees);
        }
        assert_eq!(Progress::default().agreement(), None);
        assert_eq!(done().agreement(), Some(0.8));
    }

    #[test]
    fn certification_thresholds() {
        let t = Thresholds::default();
        assert!(done().ready(&t));
        let missing = |p: Progress| -> Vec<&'static str> {
            p.missing(&t).into_iter().map(|v| v.code).collect()
        };
        assert_eq!(
            missing(Progress {
                shadowed_loops: 2,
                ..done()
            }),
            ["shadowed_loops_missing"]
        );
        // needs_work sign-offs never count.
        assert_eq!(
            missing(Progress {
                reverse_passed: 1,
                reverse_needs_work: 5,
                ..done()
            }),
            ["reverse_shadowed_loops_missing"]
        );
        // 3 of 5 is 0.6: on the floor holds, below it does not.
        assert!(
            Progress {
                votes: votes(3, 2),
                ..done()
            }
            .ready(&t)
        );
        assert_eq!(
            missing(Progress {
                votes: votes(2, 3),
                ..done()
            }),
            ["agreement_below_floor"]
        );
        assert_eq!(
            missing(Progress::default()),
            [
                "shadowed_loops_missing",
                "reverse_shadowed_loops_missing",
                "agreement_below_floor"
            ]
        );
        // Configured thresholds.
        let strict = Thresholds {
            shadowed_loops: 4,
            reverse_shadowed_loops: 2,
            agreement_floor: 0.9,
        };
        assert_eq!(done().missing(&strict).len(), 2);
        let lax = Thresholds {
            shadowed_loops: 0,
            reverse_shadowed_loops: 0,
            agreement_floor: 0.0,
        };
        assert!(
            !Progress::default().ready(&lax),
            "agreement needs a decided loop"
        );
    }

    #[test]
    fn certify_by_admin_or_system_when_ready() {
        let t = Thresholds::default();
        let member = person(5, AccountRole::Member, Certified);
        let cases = [
            (Certifier::Admin(admin()), InTraining, done(), "ok"),
            (Certifier::System, InTraining, done(), "ok"),
            (Certifier::Admin(member), InTraining, done(), "admin_only"),
            (Certifier::System, Interviewer, done(), "program_state"),
            (Certifier::System, Certified, done(), "program_state"),
            (Certifier::System, Lapsed, done(), "program_state"),
            (
                Certifier::Admin(admin()),
                InTraining,
                Progress::default(),
                "shadowed_loops_missing",
            ),
        ];
        for (by, state, progress, expected) in cases {
            assert_eq!(code(may_certify(by, state, &progress, &t)), expected);
        }
    }

    #[test]
    fn reactivation_by_admin_with_a_reason() {
        let reason = "back from a year of parental leave";
        assert_eq!(code(may_reactivate(&admin(), Lapsed, reason)), "ok");
        assert_eq!(
            code(may_reactivate(&mentor(), Lapsed, reason)),
            "admin_only"
        );
        assert_eq!(code(may_reactivate(&admin(), Lapsed, "back")), "too_short");
        assert_eq!(code(may_reactivate(&admin(), Lapsed, " ")), "required");
        for state in [Interviewer, InTraining, Certified] {
            assert_eq!(
                code(may_reactivate(&admin(), state, reason)),
                "program_state"
            );
        }
    }

    #[test]
    fn lapse_after_the_period_without_serving() {
        let t = |y, m, d| Utc.with_ymd_and_hms(y, m, d, 9, 0, 0).unwrap();
        let certified = t(2024, 1, 10);
        let served = Some(t(2025, 3, 1));
        // Twelve months after the last loop, not before.
        assert!(!lapse_due(Certified, certified, served, 12, t(2026, 2, 28)));
        assert!(lapse_due(Certified, certified, served, 12, t(2026, 3, 1)));
        // Never served: counted from the certification.
        assert!(!lapse_due(Certified, certified, None, 12, t(2025, 1, 9)));
        assert!(lapse_due(Certified, certified, None, 12, t(2025, 1, 10)));
        // A re-activation restarts the clock even after an old loop.
        let reactivated = t(2026, 2, 1);
        assert!(!lapse_due(
            Certified,
            reactivated,
            served,
            12,
            t(2026, 6, 1)
        ));
        // Configured period.
        assert!(lapse_due(Certified, certified, served, 6, t(2025, 9, 1)));
        // Only the certified lapse.
        for state in [Interviewer, InTraining, Lapsed] {
            assert!(!lapse_due(state, certified, None, 12, t(2030, 1, 1)));
        }
    }

    #[test]
    fn load_warning_above_the_configured_number() {
        assert_eq!(load_warning(6, 6), None);
        let w = load_warning(7, 6).unwrap();
        assert_eq!(w.code, "bar_raiser_load");
        assert!(w.message.contains('7'), "{}", w.message);
        let now = Utc.with_ymd_and_hms(2026, 5, 31, 0, 0, 0).unwrap();
        assert_eq!(
            load_window_start(now),
            Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap()
        );
    }

    #[test]
    fn who_may_be_a_loops_bar_raiser() {
        let cases = [
            (Certified, None, None),
            (InTraining, Some(Certified), None),
            (Lapsed, None, Some("bar_raiser_lapsed")),
            (Lapsed, Some(Certified), Some("bar_raiser_lapsed")),
            (InTraining, None, Some("reverse_shadow_without_mentor")),
            (
                InTraining,
                Some(Lapsed),
                Some("reverse_shadow_without_mentor"),
            ),
            (
                InTraining,
                Some(InTraining),
                Some("reverse_shadow_without_mentor"),
            ),
            (Interviewer, None, Some("bar_raiser_not_certified")),
            (
                Interviewer,
                Some(Certified),
                Some("bar_raiser_not_certified"),
            ),
            (Certified, Some(Certified), Some("mentor_without_trainee")),
        ];
        for (state, mentor, expected) in cases {
            assert_eq!(
                bar_raiser_problem(state, mentor).map(|v| v.code),
                expected,
                "{state} with mentor {mentor:?}"
            );
        }
    }
}
