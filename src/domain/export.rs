//! The scorecard export for applicant-tracking systems: who may read it and
//! how our scales read in Greenhouse Harvest's words.
//!
//! Who: the export is the organisation's record after the fact, so it only
//! ever holds sealed feedback of **decided** loops (the independence rules
//! protect the decision; once it is made nobody's vote can be swayed any
//! more). Admins (and service tokens, which act for the admin who made
//! them) read every decided loop; a recruiter reads the loops they are the
//! recruiter of, the same loops whose content opens to them at the debrief;
//! members read none. Every scorecard served is a logged read.

use serde::Serialize;
use utoipa::ToSchema;

use super::{AccountRole, Rating, Vote};

/// Greenhouse's four-point words, for overall recommendations and for
/// attribute ratings alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScorecardRating {
    DefinitelyNot,
    No,
    Yes,
    StrongYes,
}

/// Whether an interview's sealed feedback is exported: a shadow's (a Bar
/// Raiser trainee observing) never is, as it never counts toward the
/// quorum or the decision (issue 17).
pub fn exported(role: super::InterviewRole) -> bool {
    role == super::InterviewRole::Interviewer
}

/// The sealed vote as a Greenhouse overall recommendation.
pub fn recommendation(vote: Vote) -> ScorecardRating {
    match vote {
        Vote::StrongNoHire => ScorecardRating::DefinitelyNot,
        Vote::InclinedNotToHire => ScorecardRating::No,
        Vote::InclinedToHire => ScorecardRating::Yes,
        Vote::StrongHire => ScorecardRating::StrongYes,
    }
}

/// A competency rating (1..=4) as a Greenhouse attribute rating.
pub fn rating_word(rating: Rating) -> ScorecardRating {
    match rating.get() {
        1 => ScorecardRating::DefinitelyNot,
        2 => ScorecardRating::No,
        3 => ScorecardRating::Yes,
        _ => ScorecardRating::StrongYes,
    }
}

/// Which decided loops a caller's export covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportScope {
    /// Every decided loop (admins, service tokens).
    AllDecided,
    /// Decided loops the caller is the recruiter of.
    OwnLoops,
}

pub fn export_scope(account: AccountRole) -> Result<ExportScope, &'static str> {
    match account {
        AccountRole::Admin => Ok(ExportScope::AllDecided),
        AccountRole::Recruiter => Ok(ExportScope::OwnLoops),
        AccountRole::Member => Err("recruiter_or_admin_only"),
    }
}

/// First and last name the way Greenhouse wants them: the first word, and
/// the rest.
pub fn split_name(name: &str) -> (String, String) {
    let name = name.trim();
    match name.split_once(char::is_whitespace) {
        Some((first, rest)) => (first.to_string(), rest.trim().to_string()),
        None => (name.to_string(), String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shadows_are_never_exported() {
        assert!(exported(crate::domain::InterviewRole::Interviewer));
        assert!(!exported(crate::domain::InterviewRole::Shadow));
    }

    #[test]
    fn votes_and_ratings_map_one_to_one() {
        use ScorecardRating::*;
        assert_eq!(
            Vote::ALL
                .iter()
                .map(|v| recommendation(*v))
                .collect::<Vec<_>>(),
            [DefinitelyNot, No, Yes, StrongYes]
        );
        assert_eq!(
            (1..=4)
                .map(|r| rating_word(Rating::new(r).unwrap()))
                .collect::<Vec<_>>(),
            [DefinitelyNot, No, Yes, StrongYes]
        );
        assert_eq!(
            serde_json::to_value([DefinitelyNot, StrongYes]).unwrap(),
            serde_json::json!(["definitely_not", "strong_yes"])
        );
    }

    #[test]
    fn who_reads_the_export() {
        assert_eq!(
            export_scope(AccountRole::Admin),
            Ok(ExportScope::AllDecided)
        );
        assert_eq!(
            export_scope(AccountRole::Recruiter),
            Ok(ExportScope::OwnLoops)
        );
        assert_eq!(
            export_scope(AccountRole::Member),
            Err("recruiter_or_admin_only")
        );
    }

    #[test]
    fn names_split_at_the_first_space() {
        assert_eq!(
            split_name("Ada Lovelace"),
            ("Ada".into(), "Lovelace".into())
        );
        assert_eq!(
            split_name(" Ana María  de la Cruz "),
            ("Ana".into(), "María  de la Cruz".into())
        );
        assert_eq!(split_name("Plato"), ("Plato".into(), String::new()));
        assert_eq!(split_name(""), (String::new(), String::new()));
    }
}
