//! What a loop and its interviews may hold, who may be put where, and what
//! a loop's state means for an edit. Pure rules over plain facts: the
//! workflows load the facts and persist the answers. Every problem with a
//! request is reported at once, in field order.

use std::ops::RangeInclusive;

use uuid::Uuid;

use super::accounts::text_problem;
use super::lifecycle::{self, LoopActor};
use super::{AccountRole, LoopState, Refusal, Violation};

/// Longest position or level.
pub const TEXT_MAX: usize = 200;
/// Longest cancellation reason.
pub const REASON_MAX: usize = 2000;
/// Hours after an interview ends that its feedback may be due.
pub const DUE_HOURS: RangeInclusive<i32> = 1..=720;
/// Due hours when a loop does not say.
pub const DEFAULT_DUE_HOURS: i32 = 24;
/// How long an interview may last, in minutes.
pub const DURATION_MINUTES: RangeInclusive<i32> = 5..=480;
/// Most competencies a loop may require (and an interview may cover).
pub const COMPETENCIES_MAX: usize = 16;

/// One thing wrong with a request's field. Text rules carry a machine code
/// ([`Violation`]); the reference and range checks have always been
/// answered with a message only, and stay so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldProblem {
    Coded(Violation),
    Plain {
        field: String,
        message: &'static str,
    },
}

impl FieldProblem {
    fn plain(field: impl Into<String>, message: &'static str) -> Self {
        FieldProblem::Plain {
            field: field.into(),
            message,
        }
    }

    pub fn field(&self) -> &str {
        match self {
            FieldProblem::Coded(v) => &v.field,
            FieldProblem::Plain { field, .. } => field,
        }
    }
}

/// A loop's own fields, of a new loop or of a change (`None`: unchanged).
pub fn loop_problems(
    position: Option<&str>,
    level: Option<&str>,
    feedback_due_hours: Option<i32>,
) -> Vec<FieldProblem> {
    let mut v: Vec<FieldProblem> = [
        position.and_then(|p| text_problem("position", p, TEXT_MAX)),
        level.and_then(|l| text_problem("level", l, TEXT_MAX)),
    ]
    .into_iter()
    .flatten()
    .map(FieldProblem::Coded)
    .collect();
    v.extend(
        feedback_due_hours
            .filter(|h| !DUE_HOURS.contains(h))
            .map(|_| FieldProblem::plain("feedback_due_hours", "between 1 and 720 hours")),
    );
    v
}

/// A cancellation's reason: present, printable, bounded.
pub fn reason_problem(reason: &str) -> Option<Violation> {
    text_problem("reason", reason, REASON_MAX)
}

/// An interview's length.
pub fn duration_problem(minutes: i32) -> Option<FieldProblem> {
    (!DURATION_MINUTES.contains(&minutes))
        .then(|| FieldProblem::plain("duration_minutes", "between 5 and 480 minutes"))
}

/// The candidate a new loop is for: `None` when there is no such
/// candidate, else whether they were erased.
pub fn candidate_problem(erased: Option<bool>) -> Option<FieldProblem> {
    match erased {
        None => Some(FieldProblem::plain("candidate_id", "no such candidate")),
        Some(true) => Some(FieldProblem::plain(
            "candidate_id",
            "this candidate was erased",
        )),
        Some(false) => None,
    }
}

/// The account a person field names, as far as these rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Account {
    pub active: bool,
    pub role: AccountRole,
}

/// A person put in a loop (`found`: their account, if any) must be active;
/// the one who runs it (`runs_loop`: the recruiter field) must be a
/// recruiter or an admin.
pub fn person_problem(
    field: &str,
    found: Option<Account>,
    runs_loop: bool,
) -> Option<FieldProblem> {
    match found {
        None => Some(FieldProblem::plain(field, "no such user")),
        Some(a) if !a.active => Some(FieldProblem::plain(field, "this user is deactivated")),
        Some(a) if runs_loop && a.role == AccountRole::Member => Some(FieldProblem::plain(
            field,
            "the recruiter must be a recruiter or an admin",
        )),
        _ => None,
    }
}

/// Competencies named in `field`: each must exist (`retired[n]`: `None`
/// when it does not, else whether it is retired), not be retired unless
/// already in use (`allowed`), and be listed once; at most
/// [`COMPETENCIES_MAX`].
pub fn competency_problems(
    field: &str,
    ids: &[Uuid],
    retired: &[Option<bool>],
    allowed: &[Uuid],
) -> Vec<FieldProblem> {
    let mut v = Vec::new();
    for (n, (id, retired)) in ids.iter().zip(retired).enumerate() {
        let at = || format!("{field}[{n}]");
        match retired {
            None => v.push(FieldProblem::plain(at(), "no such competency")),
            Some(true) if !allowed.contains(id) => {
                v.push(FieldProblem::plain(at(), "this competency is retired"))
            }
            _ => {}
        }
        if ids[..n].contains(id) {
            v.push(FieldProblem::plain(at(), "listed twice"));
        }
    }
    if ids.len() > COMPETENCIES_MAX {
        v.push(FieldProblem::plain(field, "at most 16 competencies"));
    }
    v
}

/// Rule 7 on editing a loop: nobody appoints themselves hiring manager or
/// Bar Raiser of a loop (`seats`: each change, with the seat's current
/// holder); keeping a seat one already holds is no appointment.
pub fn self_appointment(me: Uuid, seats: &[(Option<Uuid>, Uuid)]) -> Result<(), Refusal> {
    if seats
        .iter()
        .any(|(new, current)| *new == Some(me) && *current != me)
    {
        Err(Refusal::Forbidden("self_assignment"))
    } else {
        Ok(())
    }
}

/// Rule 7 on editing a loop: a recruiter never holds a seat in a loop they
/// run, so the new recruiter must not hold an interview in it.
pub fn recruiter_seat_problem(new_recruiter_holds_interview: bool) -> Option<FieldProblem> {
    new_recruiter_holds_interview.then(|| {
        FieldProblem::plain(
            "recruiter_id",
            "this person holds an interview in the loop; the loop's recruiter cannot interview or shadow in it",
        )
    })
}

/// Whether the composition rules bind a loop in `state`: once scheduled, no
/// edit may leave it in a shape it could not have been scheduled in.
pub fn composition_binds(state: LoopState) -> bool {
    state == LoopState::Scheduled
}

/// Whether interviewers are told by mail about changes to their interviews
/// in a loop in `state`: only once it is scheduled (before, nothing is
/// fixed; scheduling tells everyone at once).
pub fn interviewers_told(state: LoopState) -> bool {
    state == LoopState::Scheduled
}

/// Changing or removing one interview: as editing the loop
/// ([`lifecycle::edit`]), and only while its interviewer has not started
/// feedback.
pub fn edit_interview(
    state: LoopState,
    actor: &LoopActor,
    feedback_started: bool,
) -> Result<(), Refusal> {
    lifecycle::edit(state, actor)?;
    if feedback_started {
        return Err(Refusal::conflict(
            "interview_has_feedback",
            "the interviewer has started feedback; the interview can no longer change",
        ));
    }
    Ok(())
}

/// Whether a list of loops holds only those the caller takes part in: when
/// they ask (`participant=me`), and always for members.
pub fn lists_only_own(asked: bool, role: AccountRole) -> bool {
    asked || !matches!(role, AccountRole::Admin | AccountRole::Recruiter)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(v: &[FieldProblem]) -> Vec<&str> {
        v.iter().map(FieldProblem::field).collect()
    }

    /// Position, level, feedback due hours, and the fields expected wrong.
    type FieldCase<'a> = (Option<&'a str>, Option<&'a str>, Option<i32>, &'a [&'a str]);

    #[test]
    fn loop_fields_are_bounded() {
        let long = "x".repeat(TEXT_MAX + 1);
        let cases: &[FieldCase<'_>] = &[
            (Some("Engineer"), Some("L5"), None, &[]),
            (Some("Engineer"), Some("L5"), Some(1), &[]),
            (Some("Engineer"), Some("L5"), Some(720), &[]),
            (
                Some("Engineer"),
                Some("L5"),
                Some(0),
                &["feedback_due_hours"],
            ),
            (
                Some("Engineer"),
                Some("L5"),
                Some(721),
                &["feedback_due_hours"],
            ),
            (
                Some(" "),
                Some(&long),
                Some(-1),
                &["position", "level", "feedback_due_hours"],
            ),
            (None, None, None, &[]),
            (None, Some(""), None, &["level"]),
        ];
        for (p, l, h, expected) in cases {
            assert_eq!(
                fields(&loop_problems(*p, *l, *h)),
                *expected,
                "{p:?} {l:?} {h:?}"
            );
        }
        assert!(matches!(
            &loop_problems(Some(""), None, None)[0],
            FieldProblem::Coded(v) if v.code == "required"
        ));
    }

    #[test]
    fn reasons_and_durations() {
        assert!(reason_problem("because").is_none());
        assert!(reason_problem("  ").is_some());
        assert!(reason_problem(&"r".repeat(REASON_MAX + 1)).is_some());
        for (d, ok) in [
            (4, false),
            (5, true),
            (480, true),
            (481, false),
            (-5, false),
        ] {
            assert_eq!(duration_problem(d).is_none(), ok, "{d}");
        }
    }

    #[test]
    fn candidates_and_people() {
        assert!(candidate_problem(Some(false)).is_none());
        assert!(candidate_problem(Some(true)).is_some());
        assert!(candidate_problem(None).is_some());
        let acct = |active, role| Some(Account { active, role });
        let cases = [
            (None, false, Some("no such user")),
            (
                acct(false, AccountRole::Admin),
                true,
                Some("this user is deactivated"),
            ),
            (acct(true, AccountRole::Member), false, None),
            (
                acct(true, AccountRole::Member),
                true,
                Some("the recruiter must be a recruiter or an admin"),
            ),
            (acct(true, AccountRole::Recruiter), true, None),
            (acct(true, AccountRole::Admin), true, None),
        ];
        for (found, runs, expected) in cases {
            let got = person_problem("f", found, runs).map(|p| match p {
                FieldProblem::Plain { message, .. } => message,
                FieldProblem::Coded(_) => "coded",
            });
            assert_eq!(got, expected, "{found:?} {runs}");
        }
    }

    #[test]
    fn competencies_exist_are_current_and_unique() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let f = |ids: &[Uuid], retired: &[Option<bool>], allowed: &[Uuid]| {
            competency_problems("c", ids, retired, allowed)
                .iter()
                .map(|p| p.field().to_string())
                .collect::<Vec<_>>()
        };
        assert!(f(&[a, b], &[Some(false), Some(false)], &[]).is_empty());
        assert_eq!(f(&[a], &[None], &[]), ["c[0]"]);
        assert_eq!(f(&[a], &[Some(true)], &[]), ["c[0]"]);
        assert!(f(&[a], &[Some(true)], &[a]).is_empty());
        assert_eq!(f(&[a, a], &[Some(false), Some(false)], &[]), ["c[1]"]);
        let many: Vec<Uuid> = (0..17).map(Uuid::from_u128).collect();
        let ok = vec![Some(false); 17];
        assert_eq!(f(&many, &ok, &[]), ["c"]);
        assert!(f(&many[..16], &ok[..16], &[]).is_empty());
    }

    #[test]
    fn rule_7_on_loop_edits() {
        let (me, other) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let cases = [
            (vec![(None, other)], true),
            (vec![(Some(other), me)], true),
            (vec![(Some(me), me)], true),
            (vec![(Some(me), other)], false),
            (vec![(None, other), (Some(me), other)], false),
        ];
        for (seats, ok) in cases {
            assert_eq!(self_appointment(me, &seats).is_ok(), ok, "{seats:?}");
        }
        assert!(recruiter_seat_problem(false).is_none());
        assert!(recruiter_seat_problem(true).is_some());
    }

    #[test]
    fn what_a_state_means_for_edits() {
        for s in LoopState::ALL {
            let scheduled = *s == LoopState::Scheduled;
            assert_eq!(composition_binds(*s), scheduled, "{s}");
            assert_eq!(interviewers_told(*s), scheduled, "{s}");
        }
        let recruiter = LoopActor {
            loop_recruiter: true,
            ..LoopActor::default()
        };
        assert!(edit_interview(LoopState::Draft, &recruiter, false).is_ok());
        assert!(edit_interview(LoopState::Scheduled, &recruiter, false).is_ok());
        assert!(matches!(
            edit_interview(LoopState::Scheduled, &recruiter, true),
            Err(Refusal::Conflict {
                code: "interview_has_feedback",
                ..
            })
        ));
        assert!(matches!(
            edit_interview(LoopState::Debrief, &recruiter, true),
            Err(Refusal::Conflict {
                code: "loop_not_editable",
                ..
            })
        ));
        assert_eq!(
            edit_interview(LoopState::Draft, &LoopActor::default(), false),
            Err(Refusal::Forbidden("not_loop_recruiter"))
        );
    }

    #[test]
    fn who_lists_only_their_own_loops() {
        let cases = [
            (false, AccountRole::Admin, false),
            (false, AccountRole::Recruiter, false),
            (false, AccountRole::Member, true),
            (true, AccountRole::Admin, true),
            (true, AccountRole::Member, true),
        ];
        for (asked, role, own) in cases {
            assert_eq!(lists_only_own(asked, role), own, "{asked} {role}");
        }
    }
}
