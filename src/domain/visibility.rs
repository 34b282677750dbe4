//! Who may read what: the independence rules 1–4 and 7 as one policy.
//!
//! Both feedback read paths (one interview, a whole loop) call
//! [`content_access`]; neither decides anything on its own. Status (who has
//! sealed) is governed by [`can_see_loop`]; content by [`content_access`].

use super::{AccountRole, LoopState, ReadVia, StoredFeedbackState};

/// How a reader relates to one feedback and its loop.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reader {
    /// Wrote this feedback.
    pub author: bool,
    /// Hiring manager, Bar Raiser, interviewer or shadow of the loop.
    pub participant: bool,
    /// Has sealed their own feedback in the same loop.
    pub own_sealed: bool,
    /// Was put on the loop after its first seal (rule 7): reads content
    /// only once the debrief opens, sealed or not.
    pub joined_late: bool,
    /// The loop's own recruiter.
    pub loop_recruiter: bool,
    pub account: Option<AccountRole>,
    /// A service token (with `feedback:read`): never a participant, never
    /// early; it reads sealed content once the debrief has opened.
    pub service: bool,
}

/// The loop's phase as far as content is concerned: content opens with the
/// debrief and stays open after it (also if the loop is later cancelled).
pub fn debrief_reached(state: LoopState, debrief_opened: bool) -> bool {
    state.debrief_reached() || debrief_opened
}

/// May `reader` see `feedback`'s content? `Ok(None)`: yes, and it is their
/// own (not a read to log). `Ok(Some(via))`: yes, log it as `via`.
/// `Err(code)`: no, with the reason the 403 carries.
///
/// `feedback` is `None` when the interview has no feedback yet; to anyone
/// but the author that looks exactly like a draft, so nothing leaks.
pub fn content_access(
    reader: &Reader,
    feedback: Option<StoredFeedbackState>,
    loop_state: LoopState,
    debrief_opened: bool,
) -> Result<Option<ReadVia>, &'static str> {
    let open = debrief_reached(loop_state, debrief_opened);
    if reader.service {
        return match (open, feedback) {
            (false, _) => Err("not_until_debrief"),
            (true, Some(StoredFeedbackState::Sealed)) => Ok(Some(ReadVia::Debrief)),
            (true, _) => Err("feedback_not_sealed"),
        };
    }
    if reader.author {
        return Ok(None);
    }
    if !reader.participant && !reader.loop_recruiter {
        return Err(if reader.account == Some(AccountRole::Admin) {
            "break_glass_required"
        } else {
            "not_a_participant"
        });
    }
    if !open {
        if !reader.participant {
            return Err("not_until_debrief");
        }
        if reader.joined_late {
            return Err("joined_after_first_seal");
        }
        if !reader.own_sealed {
            return Err("seal_own_feedback_first");
        }
    }
    if feedback != Some(StoredFeedbackState::Sealed) {
        return Err("feedback_not_sealed");
    }
    Ok(Some(if open {
        ReadVia::Debrief
    } else {
        ReadVia::SealedOwn
    }))
}

/// May `reader` see an interview's quick vote (issue 17)? Exactly when they
/// may see that interview's sealed vote: the answer of [`content_access`]
/// for the interview's feedback, and a read to log as that feedback's read.
/// Its author always sees it; anyone else only once the feedback is sealed
/// and the rules open it to them, so a quick vote never leaks early, not
/// even beside an unsealed draft.
pub fn quick_vote_access(
    reader: &Reader,
    feedback: Option<StoredFeedbackState>,
    loop_state: LoopState,
    debrief_opened: bool,
) -> Result<Option<ReadVia>, &'static str> {
    content_access(reader, feedback, loop_state, debrief_opened)
}

/// Rule 7: is a participant put on the loop at `joined_at` a late joiner,
/// given the earliest seal of anyone else's feedback in it? Joining at the
/// very instant of a seal counts as late: the seal could already be read.
pub fn joined_late(
    joined_at: chrono::DateTime<chrono::Utc>,
    first_other_seal: Option<chrono::DateTime<chrono::Utc>>,
) -> bool {
    first_other_seal.is_some_and(|sealed| sealed <= joined_at)
}

/// Rule 7 at assignment: nobody puts themselves on an interview, and a
/// loop's recruiter (who runs the loop and sees its status) never holds an
/// interview or a shadow seat in it. `Err` carries the refusal's code.
pub fn may_assign(
    actor: uuid::Uuid,
    interviewer: uuid::Uuid,
    loop_recruiter: uuid::Uuid,
) -> Result<(), &'static str> {
    if actor == interviewer {
        return Err("self_assignment");
    }
    if interviewer == loop_recruiter {
        return Err("recruiter_cannot_interview");
    }
    Ok(())
}

/// May `reader` see the loop and its status (who has sealed, who is late)?
/// Participants, the loop's recruiter, every recruiter and admins.
pub fn can_see_loop(reader: &Reader) -> bool {
    reader.participant
        || reader.loop_recruiter
        || matches!(
            reader.account,
            Some(AccountRole::Admin) | Some(AccountRole::Recruiter)
        )
}

/// Break-glass: admins only, sealed feedback only (a draft is its author's
/// alone, even in an emergency).
pub fn break_glass(
    account: AccountRole,
    feedback: Option<StoredFeedbackState>,
) -> Result<ReadVia, &'static str> {
    if account != AccountRole::Admin {
        return Err("admin_only");
    }
    match feedback {
        Some(StoredFeedbackState::Sealed) => Ok(ReadVia::BreakGlass),
        _ => Err("feedback_not_sealed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use LoopState::*;
    use StoredFeedbackState as F;

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Kind {
        Author,
        InterviewerSealed,
        InterviewerUnsealed,
        ShadowSealed,
        ShadowUnsealed,
        HiringManagerSealed,
        HiringManagerUnsealed,
        HiringManagerNoInterview,
        BarRaiserSealed,
        BarRaiserUnsealed,
        LateJoinerSealed,
        LateJoinerUnsealed,
        LoopRecruiter,
        OtherRecruiter,
        Admin,
        NonParticipantMember,
        ServiceToken,
    }
    const KINDS: [Kind; 17] = [
        Kind::Author,
        Kind::InterviewerSealed,
        Kind::InterviewerUnsealed,
        Kind::ShadowSealed,
        Kind::ShadowUnsealed,
        Kind::HiringManagerSealed,
        Kind::HiringManagerUnsealed,
        Kind::HiringManagerNoInterview,
        Kind::BarRaiserSealed,
        Kind::BarRaiserUnsealed,
        Kind::LateJoinerSealed,
        Kind::LateJoinerUnsealed,
        Kind::LoopRecruiter,
        Kind::OtherRecruiter,
        Kind::Admin,
        Kind::NonParticipantMember,
        Kind::ServiceToken,
    ];

    fn reader(k: Kind) -> Reader {
        let participant = |own_sealed| Reader {
            participant: true,
            own_sealed,
            account: Some(AccountRole::Member),
            ..Reader::default()
        };
        match k {
            Kind::Author => Reader {
                author: true,
                participant: true,
                account: Some(AccountRole::Member),
                ..Reader::default()
            },
            Kind::InterviewerSealed
            | Kind::ShadowSealed
            | Kind::HiringManagerSealed
            | Kind::BarRaiserSealed => participant(true),
            Kind::InterviewerUnsealed
            | Kind::ShadowUnsealed
            | Kind::HiringManagerUnsealed
            | Kind::HiringManagerNoInterview
            | Kind::BarRaiserUnsealed => participant(false),
            Kind::LateJoinerSealed | Kind::LateJoinerUnsealed => Reader {
                joined_late: true,
                ..participant(k == Kind::LateJoinerSealed)
            },
            Kind::LoopRecruiter => Reader {
                loop_recruiter: true,
                account: Some(AccountRole::Recruiter),
                ..Reader::default()
            },
            Kind::OtherRecruiter => Reader {
                account: Some(AccountRole::Recruiter),
                ..Reader::default()
            },
            Kind::Admin => Reader {
                account: Some(AccountRole::Admin),
                ..Reader::default()
            },
            Kind::NonParticipantMember => Reader {
                account: Some(AccountRole::Member),
                ..Reader::default()
            },
            // Tokens act for the admin who made them, yet read only as a token.
            Kind::ServiceToken => Reader {
                account: Some(AccountRole::Admin),
                service: true,
                ..Reader::default()
            },
        }
    }

    /// The rules restated as a table, independently of the function.
    fn expected(
        k: Kind,
        f: Option<F>,
        s: LoopState,
        opened: bool,
    ) -> Result<Option<ReadVia>, &'static str> {
        use Kind::*;
        let open = matches!(s, Debrief | PendingBarRaiser | Decided) || opened;
        let sealed = f == Some(F::Sealed);
        match k {
            ServiceToken if !open => Err("not_until_debrief"),
            ServiceToken if !sealed => Err("feedback_not_sealed"),
            ServiceToken => Ok(Some(ReadVia::Debrief)),
            Author => Ok(None),
            OtherRecruiter | NonParticipantMember => Err("not_a_participant"),
            Admin => Err("break_glass_required"),
            LoopRecruiter if !open => Err("not_until_debrief"),
            LateJoinerSealed | LateJoinerUnsealed if !open => Err("joined_after_first_seal"),
            InterviewerUnsealed
            | ShadowUnsealed
            | HiringManagerUnsealed
            | HiringManagerNoInterview
            | BarRaiserUnsealed
                if !open =>
            {
                Err("seal_own_feedback_first")
            }
            _ if !sealed => Err("feedback_not_sealed"),
            _ if open => Ok(Some(ReadVia::Debrief)),
            _ => Ok(Some(ReadVia::SealedOwn)),
        }
    }

    #[test]
    fn every_reader_feedback_state_and_loop_state() {
        let mut checked = 0;
        for k in KINDS {
            for f in [None, Some(F::Draft), Some(F::Sealed)] {
                for &s in LoopState::ALL {
                    for opened in [false, true] {
                        // A loop past the debrief always had it opened.
                        if s.debrief_reached() && !opened {
                            continue;
                        }
                        let got = content_access(&reader(k), f, s, opened);
                        assert_eq!(
                            got,
                            expected(k, f, s, opened),
                            "{k:?} {f:?} {s} opened={opened}"
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 17 * 3 * (3 * 2 + 3));
    }

    /// The quick vote's table: the same as the sealed vote's, case by case,
    /// and in particular never to anyone but its author before the
    /// feedback is sealed.
    #[test]
    fn a_quick_vote_is_visible_exactly_when_the_sealed_vote_is() {
        let mut checked = 0;
        for k in KINDS {
            for f in [None, Some(F::Draft), Some(F::Sealed)] {
                for &s in LoopState::ALL {
                    for opened in [false, true] {
                        if s.debrief_reached() && !opened {
                            continue;
                        }
                        let got = quick_vote_access(&reader(k), f, s, opened);
                        assert_eq!(
                            got,
                            expected(k, f, s, opened),
                            "{k:?} {f:?} {s} opened={opened}"
                        );
                        if f != Some(F::Sealed) {
                            assert_eq!(got.is_ok(), k == Kind::Author, "{k:?} {f:?} {s}");
                        }
                        checked += 1;
                    }
                }
            }
        }
        assert_eq!(checked, 17 * 3 * (3 * 2 + 3));
    }

    #[test]
    fn a_draft_is_never_readable_by_anyone_but_its_author() {
        for k in KINDS {
            for &s in LoopState::ALL {
                let r = content_access(&reader(k), Some(F::Draft), s, true);
                assert_eq!(r.is_ok(), k == Kind::Author, "{k:?} {s}");
            }
        }
    }

    #[test]
    fn the_playbook_cases() {
        let hm = reader(Kind::HiringManagerUnsealed);
        let br = reader(Kind::BarRaiserUnsealed);
        for r in [hm, br] {
            assert_eq!(
                content_access(&r, Some(F::Sealed), Scheduled, false),
                Err("seal_own_feedback_first")
            );
        }
        assert_eq!(
            content_access(&reader(Kind::Admin), Some(F::Sealed), Scheduled, false),
            Err("break_glass_required")
        );
        assert_eq!(
            content_access(
                &reader(Kind::InterviewerSealed),
                Some(F::Sealed),
                Scheduled,
                false
            ),
            Ok(Some(ReadVia::SealedOwn))
        );
    }

    #[test]
    fn loop_status_visibility() {
        for k in KINDS {
            let visible = can_see_loop(&reader(k));
            assert_eq!(visible, k != Kind::NonParticipantMember, "{k:?}");
        }
    }

    #[test]
    fn late_joiners() {
        use chrono::TimeZone;
        let t = |m| chrono::Utc.with_ymd_and_hms(2026, 5, 1, 9, m, 0).unwrap();
        assert!(!joined_late(t(10), None));
        assert!(!joined_late(t(10), Some(t(11))));
        assert!(joined_late(t(10), Some(t(10))));
        assert!(joined_late(t(10), Some(t(9))));
    }

    #[test]
    fn assignment_never_seats_oneself_or_the_recruiter() {
        let (me, other, recruiter) = (
            uuid::Uuid::from_u128(1),
            uuid::Uuid::from_u128(2),
            uuid::Uuid::from_u128(3),
        );
        assert_eq!(may_assign(me, other, recruiter), Ok(()));
        assert_eq!(may_assign(me, me, recruiter), Err("self_assignment"));
        assert_eq!(
            may_assign(recruiter, recruiter, recruiter),
            Err("self_assignment")
        );
        assert_eq!(
            may_assign(me, recruiter, recruiter),
            Err("recruiter_cannot_interview")
        );
    }

    #[test]
    fn break_glass_rules() {
        assert_eq!(
            break_glass(AccountRole::Admin, Some(F::Sealed)),
            Ok(ReadVia::BreakGlass)
        );
        assert_eq!(
            break_glass(AccountRole::Admin, Some(F::Draft)),
            Err("feedback_not_sealed")
        );
        assert_eq!(
            break_glass(AccountRole::Admin, None),
            Err("feedback_not_sealed")
        );
        assert_eq!(
            break_glass(AccountRole::Recruiter, Some(F::Sealed)),
            Err("admin_only")
        );
        assert_eq!(
            break_glass(AccountRole::Member, Some(F::Sealed)),
            Err("admin_only")
        );
    }
}
