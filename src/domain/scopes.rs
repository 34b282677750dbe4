//! What a service token may do: each operation needs one scope, and
//! anything not listed here is closed to tokens (deny by default).
//! A token never changes who may read feedback: see `visibility`.

use super::Refusal;
use super::types::{AccountRole, UnknownValue};

/// The scopes an admin can grant a token.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
pub enum Scope {
    #[serde(rename = "users:read")]
    UsersRead,
    #[serde(rename = "users:write")]
    UsersWrite,
    #[serde(rename = "candidates:read")]
    CandidatesRead,
    #[serde(rename = "candidates:write")]
    CandidatesWrite,
    #[serde(rename = "loops:read")]
    LoopsRead,
    #[serde(rename = "loops:write")]
    LoopsWrite,
    /// Feedback content, only where the loop's debrief has opened.
    #[serde(rename = "feedback:read")]
    FeedbackRead,
    #[serde(rename = "audit:read")]
    AuditRead,
    #[serde(rename = "webhooks:manage")]
    WebhooksManage,
    /// Process analytics of decided loops (aggregates only).
    #[serde(rename = "analytics:read")]
    AnalyticsRead,
    /// SCIM 2.0 provisioning of people and groups (`/scim/v2`).
    #[serde(rename = "scim")]
    Scim,
}

impl Scope {
    pub const ALL: [Scope; 11] = [
        Scope::UsersRead,
        Scope::UsersWrite,
        Scope::CandidatesRead,
        Scope::CandidatesWrite,
        Scope::LoopsRead,
        Scope::LoopsWrite,
        Scope::FeedbackRead,
        Scope::AuditRead,
        Scope::WebhooksManage,
        Scope::AnalyticsRead,
        Scope::Scim,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::UsersRead => "users:read",
            Scope::UsersWrite => "users:write",
            Scope::CandidatesRead => "candidates:read",
            Scope::CandidatesWrite => "candidates:write",
            Scope::LoopsRead => "loops:read",
            Scope::LoopsWrite => "loops:write",
            Scope::FeedbackRead => "feedback:read",
            Scope::AuditRead => "audit:read",
            Scope::WebhooksManage => "webhooks:manage",
            Scope::AnalyticsRead => "analytics:read",
            Scope::Scim => "scim",
        }
    }
}

impl Scope {
    /// What the scope allows, in a line (the OAuth 2.0 scheme's scope list).
    pub fn description(self) -> &'static str {
        match self {
            Scope::UsersRead => "Read accounts",
            Scope::UsersWrite => "Create and change members' and recruiters' accounts",
            Scope::CandidatesRead => "Read candidates",
            Scope::CandidatesWrite => "Create, change and erase candidates",
            Scope::LoopsRead => "Read loops and interviews",
            Scope::LoopsWrite => "Create, change, schedule and cancel loops and interviews",
            Scope::FeedbackRead => {
                "Read feedback, debriefs and scorecards where the debrief has opened"
            }
            Scope::AuditRead => "Read and verify loops' audit trails",
            Scope::WebhooksManage => "Manage webhooks",
            Scope::AnalyticsRead => "Read process analytics of decided loops",
            Scope::Scim => "Provision people and groups over SCIM 2.0 (/scim/v2)",
        }
    }
}

impl std::str::FromStr for Scope {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Scope, UnknownValue> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| UnknownValue(s.to_string()))
    }
}

/// What an operation asks of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requirement {
    /// Any valid token (harmless reads such as the catalogue).
    AnyToken,
    Scope(Scope),
    /// Personal acts (writing or sealing feedback, voting, deciding,
    /// break-glass) and token management: people only.
    NotForTokens,
}

/// The requirement of `method` on the route `pattern` (as actix matched
/// it, e.g. `/api/v1/loops/{id}`).
pub fn required(method: &str, pattern: &str) -> Requirement {
    use Requirement::{AnyToken, NotForTokens};
    let need = Requirement::Scope;
    let path = pattern.strip_prefix("/api/v1").unwrap_or(pattern);
    match (method, path) {
        ("GET", "/me" | "/competencies" | "/competencies/{id}") => AnyToken,
        ("GET", "/users" | "/users/{id}") => need(Scope::UsersRead),
        ("POST", "/users") | ("PATCH", "/users/{id}") => need(Scope::UsersWrite),
        // The Bar Raiser program: people's records are account data; a
        // mentor's sign-off is a personal act (below: not for tokens).
        ("GET", "/bar-raiser-program/trainees" | "/bar-raiser-program/people/{id}") => {
            need(Scope::UsersRead)
        }
        (
            "POST",
            "/bar-raiser-program/people/{id}/enrol"
            | "/bar-raiser-program/people/{id}/certify"
            | "/bar-raiser-program/people/{id}/reactivate",
        ) => need(Scope::UsersWrite),
        ("GET", "/candidates" | "/candidates/{id}") => need(Scope::CandidatesRead),
        ("POST", "/candidates") | ("PATCH" | "DELETE", "/candidates/{id}") => {
            need(Scope::CandidatesWrite)
        }
        ("GET", "/loops" | "/loops/{id}" | "/interviews/{id}") => need(Scope::LoopsRead),
        (
            "POST",
            "/loops" | "/loops/{id}/schedule" | "/loops/{id}/cancel" | "/loops/{id}/interviews",
        )
        | ("PATCH", "/loops/{id}" | "/interviews/{id}")
        | ("DELETE", "/interviews/{id}") => need(Scope::LoopsWrite),
        (
            "GET",
            "/interviews/{id}/feedback"
            | "/interviews/{id}/quick-vote"
            | "/loops/{id}/feedback"
            | "/loops/{id}/debrief"
            | "/scorecards",
        ) => need(Scope::FeedbackRead),
        ("GET", "/loops/{id}/audit" | "/loops/{id}/audit/verify") => need(Scope::AuditRead),
        (_, "/webhooks" | "/webhooks/{id}") => need(Scope::WebhooksManage),
        (
            "GET",
            "/analytics/loops/{id}"
            | "/analytics/interviewers"
            | "/analytics/interviewers/{id}"
            | "/analytics/summary"
            | "/analytics/reliability"
            | "/analytics/report",
        ) => need(Scope::AnalyticsRead),
        (_, p) if p.starts_with("/scim/v2/") => need(Scope::Scim),
        _ => NotForTokens,
    }
}

/// A write to an account, as the token ceiling sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountWrite {
    /// `POST /users` with this role (its first password comes with it).
    Create { role: AccountRole },
    /// `PATCH /users/{id}` of an account that has role `target`.
    Update {
        target: AccountRole,
        new_role: Option<AccountRole>,
        sets_password: bool,
    },
}

/// The refusal code of the ceiling.
pub const CEILING: &str = "token_privilege_ceiling";

/// The privilege ceiling of a service token, whatever its scopes: a token
/// never makes an admin, never changes anyone's role to admin, never sets
/// or resets an existing account's password, and never touches an admin
/// account. `users:write` covers members (interviewers, hiring managers)
/// and recruiters: creating them, renaming, certifying, (de)activating,
/// moving between those two roles, correcting an email address. A token
/// acts for its admin, so without this a `users:write` token could mint an
/// admin and sign in as it, or take over any participant's account.
pub fn token_may(write: AccountWrite) -> Result<(), Refusal> {
    let allowed = match write {
        AccountWrite::Create { role } => role != AccountRole::Admin,
        AccountWrite::Update {
            target,
            new_role,
            sets_password,
        } => target != AccountRole::Admin && new_role != Some(AccountRole::Admin) && !sets_password,
    };
    if allowed {
        Ok(())
    } else {
        Err(Refusal::Forbidden(CEILING))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_ceiling_table() {
        use AccountRole::{Admin, Member, Recruiter};
        let create = |role| AccountWrite::Create { role };
        let update = |target, new_role, sets_password| AccountWrite::Update {
            target,
            new_role,
            sets_password,
        };
        let table: Vec<(AccountWrite, bool)> = vec![
            (create(Member), true),
            (create(Recruiter), true),
            (create(Admin), false),
            // Plain changes to members and recruiters.
            (update(Member, None, false), true),
            (update(Recruiter, None, false), true),
            (update(Member, Some(Recruiter), false), true),
            (update(Recruiter, Some(Member), false), true),
            (update(Member, Some(Member), false), true),
            // Never an admin made.
            (update(Member, Some(Admin), false), false),
            (update(Recruiter, Some(Admin), false), false),
            // Never a password.
            (update(Member, None, true), false),
            (update(Recruiter, None, true), false),
            (update(Member, Some(Recruiter), true), false),
            // Never an admin account touched, not even to demote or rename.
            (update(Admin, None, false), false),
            (update(Admin, Some(Member), false), false),
            (update(Admin, Some(Admin), false), false),
            (update(Admin, None, true), false),
        ];
        for (write, allowed) in table {
            let got = token_may(write);
            if allowed {
                assert_eq!(got, Ok(()), "{write:?}");
            } else {
                assert_eq!(got, Err(Refusal::Forbidden(CEILING)), "{write:?}");
            }
        }
        // Exhaustively: whatever the mix, an admin never comes out of a
        // token and a password never goes in.
        for &target in AccountRole::ALL {
            for new_role in std::iter::once(None).chain(AccountRole::ALL.iter().copied().map(Some))
            {
                for sets_password in [false, true] {
                    let ok = token_may(update(target, new_role, sets_password)).is_ok();
                    let admin_involved = target == Admin || new_role == Some(Admin);
                    assert_eq!(ok, !admin_involved && !sets_password);
                }
            }
        }
    }

    #[test]
    fn scopes_round_trip() {
        for s in Scope::ALL {
            assert_eq!(s.as_str().parse::<Scope>().unwrap(), s);
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert!("admin".parse::<Scope>().is_err());
    }

    #[test]
    fn personal_acts_are_closed_to_tokens() {
        for (m, p) in [
            ("PUT", "/api/v1/interviews/{id}/feedback"),
            ("POST", "/api/v1/interviews/{id}/feedback/seal"),
            ("POST", "/api/v1/interviews/{id}/quick-vote"),
            ("POST", "/api/v1/interviews/{id}/feedback/break-glass"),
            ("POST", "/api/v1/loops/{id}/decision/veto"),
            ("PUT", "/api/v1/loops/{id}/debrief/votes/me"),
            ("POST", "/api/v1/tokens"),
            ("POST", "/api/v1/auth/logout"),
            ("GET", "/api/v1/something/new"),
        ] {
            assert_eq!(required(m, p), Requirement::NotForTokens, "{m} {p}");
        }
    }

    #[test]
    fn reads_and_writes_need_their_scope() {
        assert_eq!(
            required("GET", "/api/v1/loops/{id}"),
            Requirement::Scope(Scope::LoopsRead)
        );
        assert_eq!(
            required("POST", "/api/v1/loops"),
            Requirement::Scope(Scope::LoopsWrite)
        );
        assert_eq!(
            required("GET", "/api/v1/loops/{id}/feedback"),
            Requirement::Scope(Scope::FeedbackRead)
        );
        // A quick vote is read as the sealed vote is: feedback content.
        assert_eq!(
            required("GET", "/api/v1/interviews/{id}/quick-vote"),
            Requirement::Scope(Scope::FeedbackRead)
        );
        assert_eq!(
            required("DELETE", "/api/v1/candidates/{id}"),
            Requirement::Scope(Scope::CandidatesWrite)
        );
        assert_eq!(
            required("GET", "/api/v1/competencies"),
            Requirement::AnyToken
        );
    }
}
