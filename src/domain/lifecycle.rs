//! The loop state machine: one function per transition, each taking the
//! current state and the actor and returning the next state or a typed
//! refusal. Handlers never compare states themselves.
//!
//! Checks run in one order everywhere: who (403) before when (409), so a
//! caller learns nothing about a loop's state from an action they may not
//! take anyway.

use super::{LoopState, Outcome, Refusal, Violation};

/// How the caller relates to one loop. Built by the API layer from the
/// signed-in user and the loop's rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoopActor {
    pub admin: bool,
    /// The loop's own recruiter.
    pub loop_recruiter: bool,
    pub hiring_manager: bool,
    pub bar_raiser: bool,
    /// Holds a voting (non-shadow, not excused) interview in the loop.
    pub voting: bool,
}

impl LoopActor {
    fn manages(&self) -> bool {
        self.admin || self.loop_recruiter
    }
}

fn require(allowed: bool, code: &'static str) -> Result<(), Refusal> {
    if allowed {
        Ok(())
    } else {
        Err(Refusal::Forbidden(code))
    }
}

fn state_conflict(code: &'static str, state: LoopState) -> Refusal {
    Refusal::conflict(code, format!("not possible while the loop is {state}"))
}

/// Editing the loop itself or its interviews: the loop's recruiter or an
/// admin, while nothing has been written (`draft` or `scheduled`).
pub fn edit(state: LoopState, actor: &LoopActor) -> Result<(), Refusal> {
    require(actor.manages(), "not_loop_recruiter")?;
    match state {
        LoopState::Draft | LoopState::Scheduled => Ok(()),
        s => Err(state_conflict("loop_not_editable", s)),
    }
}

/// `draft` → `scheduled`, once the composition holds (`violations` empty).
pub fn schedule(
    state: LoopState,
    actor: &LoopActor,
    violations: Vec<Violation>,
) -> Result<LoopState, Refusal> {
    require(actor.manages(), "not_loop_recruiter")?;
    if state != LoopState::Draft {
        return Err(state_conflict("loop_not_draft", state));
    }
    if !violations.is_empty() {
        return Err(Refusal::Invalid(violations));
    }
    Ok(LoopState::Scheduled)
}

/// Any state before `decided` → `cancelled`.
pub fn cancel(state: LoopState, actor: &LoopActor) -> Result<LoopState, Refusal> {
    require(actor.manages(), "not_loop_recruiter")?;
    match state {
        LoopState::Decided => Err(state_conflict("loop_final", state)),
        LoopState::Cancelled => Err(state_conflict("loop_cancelled", state)),
        _ => Ok(LoopState::Cancelled),
    }
}

/// Feedback may be drafted and sealed only while the loop is scheduled:
/// before that nobody has interviewed, after that it is frozen.
pub fn write_feedback(state: LoopState) -> Result<(), Refusal> {
    match state {
        LoopState::Scheduled => Ok(()),
        LoopState::Draft => Err(state_conflict("loop_not_scheduled", state)),
        LoopState::Cancelled => Err(state_conflict("loop_cancelled", state)),
        s => Err(state_conflict("feedback_frozen", s)),
    }
}

/// The Bar Raiser excuses an interview that will never be sealed, before
/// the debrief opens.
pub fn excuse(state: LoopState, actor: &LoopActor) -> Result<(), Refusal> {
    require(actor.bar_raiser, "not_bar_raiser")?;
    match state {
        LoopState::Scheduled => Ok(()),
        s => Err(state_conflict("loop_not_scheduled", s)),
    }
}

/// `scheduled` → `debrief`, by the Bar Raiser, once nothing is outstanding.
/// `outstanding` lists the voting interviews neither sealed nor excused.
pub fn open_debrief(
    state: LoopState,
    actor: &LoopActor,
    outstanding: Vec<Violation>,
) -> Result<LoopState, Refusal> {
    require(actor.bar_raiser, "not_bar_raiser")?;
    if state != LoopState::Scheduled {
        return Err(state_conflict("loop_not_scheduled", state));
    }
    if !outstanding.is_empty() {
        return Err(Refusal::Blocked {
            code: "feedback_outstanding",
            detail: format!(
                "{} voting interview(s) are neither sealed nor excused",
                outstanding.len()
            ),
            violations: outstanding,
        });
    }
    Ok(LoopState::Debrief)
}

/// A voting participant casts or changes a debrief vote until the decision.
pub fn cast_debrief_vote(state: LoopState, actor: &LoopActor) -> Result<(), Refusal> {
    require(actor.voting, "not_voting_participant")?;
    match state {
        LoopState::Debrief => Ok(()),
        s => Err(state_conflict("debrief_not_open", s)),
    }
}

/// The Bar Raiser reveals debrief votes before everyone has voted.
pub fn reveal_votes(state: LoopState, actor: &LoopActor) -> Result<(), Refusal> {
    require(actor.bar_raiser, "not_bar_raiser")?;
    match state {
        LoopState::Debrief => Ok(()),
        s => Err(state_conflict("debrief_not_open", s)),
    }
}

/// The hiring manager decides during the debrief: `no_hire` is final,
/// `hire` waits for the Bar Raiser.
pub fn decide(state: LoopState, actor: &LoopActor, outcome: Outcome) -> Result<LoopState, Refusal> {
    require(actor.hiring_manager, "not_hiring_manager")?;
    match state {
        LoopState::Debrief => Ok(match outcome {
            Outcome::Hire => LoopState::PendingBarRaiser,
            Outcome::NoHire => LoopState::Decided,
        }),
        LoopState::Draft | LoopState::Scheduled => Err(state_conflict("debrief_not_open", state)),
        s => Err(state_conflict("already_decided", s)),
    }
}

/// The Bar Raiser concurs with a hire: final.
pub fn concur(state: LoopState, actor: &LoopActor) -> Result<LoopState, Refusal> {
    require(actor.bar_raiser, "not_bar_raiser")?;
    match state {
        LoopState::PendingBarRaiser => Ok(LoopState::Decided),
        s => Err(state_conflict("no_pending_hire", s)),
    }
}

/// Shortest veto rationale accepted: a veto must be explained.
pub const VETO_RATIONALE_MIN_CHARS: usize = 50;

/// The Bar Raiser vetoes a hire: final, `no_hire`.
pub fn veto(state: LoopState, actor: &LoopActor, rationale: &str) -> Result<LoopState, Refusal> {
    require(actor.bar_raiser, "not_bar_raiser")?;
    if state != LoopState::PendingBarRaiser {
        return Err(state_conflict("no_pending_hire", state));
    }
    if rationale.trim().chars().count() < VETO_RATIONALE_MIN_CHARS {
        return Err(Refusal::Invalid(vec![Violation::new(
            "rationale_too_short",
            "rationale",
            format!("a veto needs a rationale of at least {VETO_RATIONALE_MIN_CHARS} characters"),
        )]));
    }
    Ok(LoopState::Decided)
}

#[cfg(test)]
mod tests {
    use super::*;
    use LoopState::*;

    #[derive(Debug, Clone, Copy)]
    enum Who {
        Admin,
        LoopRecruiter,
        HiringManager,
        BarRaiser,
        Voter,
        Nobody,
    }
    const EVERYONE: [Who; 6] = [
        Who::Admin,
        Who::LoopRecruiter,
        Who::HiringManager,
        Who::BarRaiser,
        Who::Voter,
        Who::Nobody,
    ];

    fn actor(w: Who) -> LoopActor {
        let mut a = LoopActor::default();
        match w {
            Who::Admin => a.admin = true,
            Who::LoopRecruiter => a.loop_recruiter = true,
            Who::HiringManager => a.hiring_manager = true,
            Who::BarRaiser => {
                a.bar_raiser = true;
                a.voting = true
            }
            Who::Voter => a.voting = true,
            Who::Nobody => {}
        }
        a
    }

    fn code(r: Result<impl std::fmt::Debug, Refusal>) -> String {
        match r {
            Ok(v) => format!("ok:{v:?}"),
            Err(Refusal::Forbidden(c)) => format!("403:{c}"),
            Err(Refusal::Conflict { code, .. }) => format!("409:{code}"),
            Err(Refusal::Blocked { code, .. }) => format!("409:{code}"),
            Err(Refusal::Invalid(v)) => format!("422:{}", v[0].code),
        }
    }

    /// Every (state, action, actor): the expected answer is computed from
    /// the rule as written in ARCHITECTURE.md, independently of the code above.
    #[test]
    fn every_state_action_actor() {
        let long = "x".repeat(VETO_RATIONALE_MIN_CHARS);
        for &state in LoopState::ALL {
            for who in EVERYONE {
                let a = actor(who);
                let manages = matches!(who, Who::Admin | Who::LoopRecruiter);
                let br = matches!(who, Who::BarRaiser);
                let hm = matches!(who, Who::HiringManager);
                let voter = matches!(who, Who::Voter | Who::BarRaiser);

                let expect_edit = if !manages {
                    "403:not_loop_recruiter".to_string()
                } else if matches!(state, Draft | Scheduled) {
                    "ok:()".into()
                } else {
                    "409:loop_not_editable".into()
                };
                assert_eq!(code(edit(state, &a)), expect_edit, "edit {state} {who:?}");

                let expect_schedule = if !manages {
                    "403:not_loop_recruiter".to_string()
                } else if state == Draft {
                    "ok:Scheduled".into()
                } else {
                    "409:loop_not_draft".into()
                };
                assert_eq!(code(schedule(state, &a, vec![])), expect_schedule);

                let expect_cancel = if !manages {
                    "403:not_loop_recruiter".to_string()
                } else if state == Decided {
                    "409:loop_final".into()
                } else if state == Cancelled {
                    "409:loop_cancelled".into()
                } else {
                    "ok:Cancelled".into()
                };
                assert_eq!(
                    code(cancel(state, &a)),
                    expect_cancel,
                    "cancel {state} {who:?}"
                );

                let expect_br_scheduled = |ok: &str| {
                    if !br {
                        "403:not_bar_raiser".to_string()
                    } else if state == Scheduled {
                        ok.to_string()
                    } else {
                        "409:loop_not_scheduled".into()
                    }
                };
                assert_eq!(code(excuse(state, &a)), expect_br_scheduled("ok:()"));
                assert_eq!(
                    code(open_debrief(state, &a, vec![])),
                    expect_br_scheduled("ok:Debrief")
                );

                let expect_vote = if !voter {
                    "403:not_voting_participant".to_string()
                } else if state == Debrief {
                    "ok:()".into()
                } else {
                    "409:debrief_not_open".into()
                };
                assert_eq!(code(cast_debrief_vote(state, &a)), expect_vote);

                let expect_reveal = if !br {
                    "403:not_bar_raiser".to_string()
                } else if state == Debrief {
                    "ok:()".into()
                } else {
                    "409:debrief_not_open".into()
                };
                assert_eq!(code(reveal_votes(state, &a)), expect_reveal);

                for outcome in [Outcome::Hire, Outcome::NoHire] {
                    let expect = if !hm {
                        "403:not_hiring_manager".to_string()
                    } else if state == Debrief {
                        match outcome {
                            Outcome::Hire => "ok:PendingBarRaiser".into(),
                            Outcome::NoHire => "ok:Decided".into(),
                        }
                    } else if matches!(state, Draft | Scheduled) {
                        "409:debrief_not_open".into()
                    } else {
                        "409:already_decided".into()
                    };
                    assert_eq!(
                        code(decide(state, &a, outcome)),
                        expect,
                        "decide {state} {who:?}"
                    );
                }

                let expect_verdict = if !br {
                    "403:not_bar_raiser".to_string()
                } else if state == PendingBarRaiser {
                    "ok:Decided".into()
                } else {
                    "409:no_pending_hire".into()
                };
                assert_eq!(code(concur(state, &a)), expect_verdict);
                assert_eq!(code(veto(state, &a, &long)), expect_verdict);
            }
        }
    }

    #[test]
    fn named_cases_from_the_issue() {
        let hm = actor(Who::HiringManager);
        let br = actor(Who::BarRaiser);
        // Debrief opened by the hiring manager.
        assert_eq!(
            code(open_debrief(Scheduled, &hm, vec![])),
            "403:not_bar_raiser"
        );
        // With an unsealed voting interview: 409 naming it.
        let outstanding = vec![Violation::new(
            "interview_open",
            "interviews[abc]",
            "not sealed",
        )];
        match open_debrief(Scheduled, &br, outstanding) {
            Err(Refusal::Blocked {
                code, violations, ..
            }) => {
                assert_eq!(code, "feedback_outstanding");
                assert_eq!(violations[0].field, "interviews[abc]");
            }
            other => panic!("expected blocked, got {other:?}"),
        }
        // Decision before the debrief.
        assert_eq!(
            code(decide(Scheduled, &hm, Outcome::Hire)),
            "409:debrief_not_open"
        );
        // Veto of a no_hire (the loop is decided).
        assert_eq!(
            code(veto(Decided, &br, &"x".repeat(60))),
            "409:no_pending_hire"
        );
        // Veto by anyone but the Bar Raiser.
        assert_eq!(
            code(veto(PendingBarRaiser, &hm, &"x".repeat(60))),
            "403:not_bar_raiser"
        );
        // Concur after veto.
        assert_eq!(code(concur(Decided, &br)), "409:no_pending_hire");
        // A veto needs its rationale.
        assert_eq!(
            code(veto(PendingBarRaiser, &br, "too short")),
            "422:rationale_too_short"
        );
        assert_eq!(
            code(veto(
                PendingBarRaiser,
                &br,
                &format!("  {}  ", "x".repeat(49))
            )),
            "422:rationale_too_short"
        );
    }

    #[test]
    fn schedule_reports_every_violation() {
        let rec = actor(Who::LoopRecruiter);
        let v = vec![Violation::new("a", "x", "a"), Violation::new("b", "y", "b")];
        match schedule(Draft, &rec, v) {
            Err(Refusal::Invalid(all)) => assert_eq!(all.len(), 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn feedback_writable_only_while_scheduled() {
        for &s in LoopState::ALL {
            assert_eq!(write_feedback(s).is_ok(), s == Scheduled, "{s}");
        }
        assert_eq!(code(write_feedback(Debrief)), "409:feedback_frozen");
    }
}
