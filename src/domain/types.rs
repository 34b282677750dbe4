//! Value types of the domain, parsed at the edge so the rest never sees a
//! stray string.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Declares a closed string enum: serde/OpenAPI in `snake_case`, and the
/// same spelling in the database.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownValue(s.to_string())),
                }
            }
        }
    };
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown value {0:?}")]
pub struct UnknownValue(pub String);

string_enum! {
    /// What a person may do in the organisation.
    AccountRole {
        Admin => "admin",
        Recruiter => "recruiter",
        Member => "member",
    }
}

string_enum! {
    /// What an interview counts for: a shadow writes feedback but never votes.
    InterviewRole {
        Interviewer => "interviewer",
        Shadow => "shadow",
    }
}

string_enum! {
    /// Where a loop stands: draft → scheduled → debrief → (pending_bar_raiser)
    /// → decided; cancelled from any state before decided.
    LoopState {
        Draft => "draft",
        Scheduled => "scheduled",
        Debrief => "debrief",
        PendingBarRaiser => "pending_bar_raiser",
        Decided => "decided",
        Cancelled => "cancelled",
    }
}

string_enum! {
    /// The four-point vote; there is no neutral.
    Vote {
        StrongNoHire => "strong_no_hire",
        InclinedNotToHire => "inclined_not_to_hire",
        InclinedToHire => "inclined_to_hire",
        StrongHire => "strong_hire",
    }
}

string_enum! {
    /// The hiring manager's decision.
    Outcome {
        Hire => "hire",
        NoHire => "no_hire",
    }
}

string_enum! {
    /// Whether a loop's interviewers commit a quick vote after each
    /// interview (issue 17): not at all, if they like, or before the debrief
    /// may open.
    QuickVoteMode {
        Off => "off",
        Optional => "optional",
        Required => "required",
    }
}

string_enum! {
    /// Where a person stands in the Bar Raiser program (issue 17):
    /// interviewer → in_training → certified → lapsed, and back to certified
    /// when an admin re-activates them. `bar_raiser_certified` is `certified`.
    ProgramState {
        Interviewer => "interviewer",
        InTraining => "in_training",
        Certified => "certified",
        Lapsed => "lapsed",
    }
}

string_enum! {
    /// A mentor's sign-off of a reverse-shadowed loop.
    SignOffOutcome {
        Pass => "pass",
        NeedsWork => "needs_work",
    }
}

string_enum! {
    /// Stored state of a feedback row.
    StoredFeedbackState {
        Draft => "draft",
        Sealed => "sealed",
    }
}

string_enum! {
    /// Derived per interview: where its feedback stands.
    FeedbackState {
        NotStarted => "not_started",
        Draft => "draft",
        Sealed => "sealed",
        Excused => "excused",
    }
}

string_enum! {
    /// Why a read of someone else's feedback was allowed.
    ReadVia {
        /// The reader had sealed their own feedback in the loop first.
        SealedOwn => "sealed_own",
        /// The debrief was open.
        Debrief => "debrief",
        /// An admin's audited emergency read.
        BreakGlass => "break_glass",
    }
}

string_enum! {
    /// The Bar Raiser's answer to a hire.
    Verdict {
        Concur => "concur",
        Veto => "veto",
    }
}

impl Vote {
    pub fn is_hire(self) -> bool {
        matches!(self, Vote::InclinedToHire | Vote::StrongHire)
    }
}

impl LoopState {
    /// Debrief or later on the way to a decision: content opens to participants.
    pub fn debrief_reached(self) -> bool {
        matches!(
            self,
            LoopState::Debrief | LoopState::PendingBarRaiser | LoopState::Decided
        )
    }
}

/// A competency rating, 1 (far below the bar) to 4 (raises the bar).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = i32, minimum = 1, maximum = 4)]
pub struct Rating(u8);

impl Rating {
    pub const MIN: i32 = 1;
    pub const MAX: i32 = 4;

    pub fn new(value: i64) -> Option<Rating> {
        (i64::from(Self::MIN)..=i64::from(Self::MAX))
            .contains(&value)
            .then_some(Rating(value as u8))
    }

    pub fn get(self) -> i32 {
        i32::from(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_through_their_text() {
        for v in Vote::ALL {
            assert_eq!(v.as_str().parse::<Vote>().unwrap(), *v);
        }
        for s in LoopState::ALL {
            assert_eq!(s.as_str().parse::<LoopState>().unwrap(), *s);
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert!("neutral".parse::<Vote>().is_err());
    }

    /// The stored spelling is also the serde one, both ways: PostgreSQL's
    /// one-statement loop read (`db::loops`) deserializes stored rows.
    #[test]
    fn serde_spells_every_enum_as_stored() {
        fn check<T>(all: &[T])
        where
            T: Copy + PartialEq + std::fmt::Debug + Serialize + serde::de::DeserializeOwned,
            T: fmt::Display,
        {
            for v in all {
                let text = v.to_string();
                assert_eq!(serde_json::to_value(v).unwrap(), text.as_str());
                assert_eq!(
                    serde_json::from_value::<T>(text.clone().into()).unwrap(),
                    *v
                );
            }
        }
        check(AccountRole::ALL);
        check(InterviewRole::ALL);
        check(LoopState::ALL);
        check(Vote::ALL);
        check(Outcome::ALL);
        check(QuickVoteMode::ALL);
        check(ProgramState::ALL);
        check(SignOffOutcome::ALL);
        check(StoredFeedbackState::ALL);
        check(FeedbackState::ALL);
        check(ReadVia::ALL);
        check(Verdict::ALL);
    }

    #[test]
    fn ratings_are_one_to_four() {
        assert_eq!(Rating::new(0), None);
        assert_eq!(Rating::new(5), None);
        assert_eq!(Rating::new(-1), None);
        assert_eq!(Rating::new(1).unwrap().get(), 1);
        assert_eq!(Rating::new(4).unwrap().get(), 4);
    }

    #[test]
    fn hire_votes() {
        assert!(Vote::StrongHire.is_hire());
        assert!(Vote::InclinedToHire.is_hire());
        assert!(!Vote::InclinedNotToHire.is_hire());
        assert!(!Vote::StrongNoHire.is_hire());
    }
}
