//! Single sign-on's rules: which account an issuer's identity signs in as,
//! which role a claim gives, and who may still sign in by password. No I/O:
//! `workflows::sso` gathers the facts and acts on the answer.

use serde_json::Value;

use super::AccountRole;
use crate::config::PasswordSignin;

/// How long a sign-in may take at the provider, from start to callback.
pub const LOGIN_TTL_SECS: i64 = 10 * 60;
/// How long the one-time code a finished sign-in hands out lives.
pub const CODE_TTL_SECS: i64 = 60;
/// Longest `state` or one-time code accepted (ours are 43 characters).
pub const MAX_CODE_CHARS: usize = 256;
/// The cookie that binds a browser sign-in to the browser that started it.
pub const BROWSER_COOKIE: &str = "bar_raiser_sso";
/// The least time between two fetches of the provider's keys triggered by
/// an ID token naming a key the service does not hold (a rotation).
pub const KEY_REFETCH_MIN_SECS: u64 = 1;

/// Who started a sign-in, which decides how its callback answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    /// A browser: the callback redirects to the front end with the
    /// one-time code in the URL fragment.
    Browser,
    /// A command-line tool: the callback shows the one-time code for the
    /// person to paste.
    Cli,
}

impl ClientKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientKind::Browser => "browser",
            ClientKind::Cli => "cli",
        }
    }

    pub fn parse(s: &str) -> Option<ClientKind> {
        match s {
            "browser" => Some(ClientKind::Browser),
            "cli" => Some(ClientKind::Cli),
            _ => None,
        }
    }
}

/// What the service knows of the identity's account, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// The identity is linked to an account.
    Linked { active: bool },
    /// Not linked; an account has the identity's email. `taken`: another
    /// identity of the same issuer is linked to it already.
    SameEmail { active: bool, taken: bool },
    /// Not linked, and no account has the email.
    Nobody,
}

/// What to do with a verified ID token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    SignIn,
    /// Link the identity to the account with its email, then sign in.
    LinkThenSignIn,
    /// Create an account (just-in-time), link it, then sign in.
    CreateThenSignIn,
    /// Refuse with this problem code.
    Refuse(&'static str),
}

/// The rule: an identity signs in as the account linked to its subject;
/// the link is made once, and only by an email the issuer says it verified;
/// a person with no account gets one only when just-in-time creation is on.
/// A deactivated account never signs in.
pub fn step(found: Found, email_verified: bool, jit: bool) -> Step {
    match found {
        Found::Linked { active: true } => Step::SignIn,
        Found::Linked { active: false } => Step::Refuse("account_disabled"),
        _ if !email_verified => Step::Refuse("sso_email_unverified"),
        Found::SameEmail { taken: true, .. } => Step::Refuse("sso_not_linked"),
        Found::SameEmail { active: false, .. } => Step::Refuse("account_disabled"),
        Found::SameEmail { active: true, .. } => Step::LinkThenSignIn,
        Found::Nobody if jit => Step::CreateThenSignIn,
        Found::Nobody => Step::Refuse("sso_not_linked"),
    }
}

/// The values of a role claim: a string, or the strings of a list.
pub fn claim_values(claim: Option<&Value>) -> Vec<String> {
    match claim {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// The role a sign-in's claim gives, or `None` when the claim does not
/// decide roles: no claim or no mapping configured, or SCIM decides this
/// account's role (it was provisioned by SCIM and SCIM maps groups to
/// roles: SCIM wins).
pub fn role_from_claim(
    values: &[String],
    mapping: &[(String, AccountRole)],
    claim_configured: bool,
    scim_decides: bool,
) -> Option<AccountRole> {
    if !claim_configured || mapping.is_empty() || scim_decides {
        return None;
    }
    Some(super::scim::role_from_groups(values, mapping))
}

/// Whether a password sign-in is allowed for an account: `linked` to a
/// single sign-on identity, or the `break_glass` admin (the first account,
/// an admin), who always may.
/// Whether a callback comes back to the browser its sign-in started in:
/// a sign-in bound to a browser (`bound`, the hash kept at its start) needs
/// the same hash of the cookie the callback brought (`brought`); one that
/// is not (a command-line sign-in) needs nothing.
pub fn same_browser(bound: Option<&str>, brought: Option<&str>) -> bool {
    match bound {
        None => true,
        Some(h) => brought == Some(h),
    }
}

pub fn password_allowed(policy: PasswordSignin, linked: bool, break_glass: bool) -> bool {
    break_glass
        || match policy {
            PasswordSignin::On => true,
            PasswordSignin::Off => false,
            PasswordSignin::UnlinkedOnly => !linked,
        }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn linking_needs_a_verified_email_once() {
        assert_eq!(
            step(Found::Linked { active: true }, false, false),
            Step::SignIn
        );
        assert_eq!(
            step(Found::Linked { active: false }, true, true),
            Step::Refuse("account_disabled")
        );
        let same = Found::SameEmail {
            active: true,
            taken: false,
        };
        assert_eq!(step(same, true, false), Step::LinkThenSignIn);
        assert_eq!(
            step(same, false, true),
            Step::Refuse("sso_email_unverified")
        );
        assert_eq!(
            step(
                Found::SameEmail {
                    active: true,
                    taken: true
                },
                true,
                false
            ),
            Step::Refuse("sso_not_linked")
        );
        assert_eq!(
            step(
                Found::SameEmail {
                    active: false,
                    taken: false
                },
                true,
                false
            ),
            Step::Refuse("account_disabled")
        );
        assert_eq!(
            step(Found::Nobody, true, false),
            Step::Refuse("sso_not_linked")
        );
        assert_eq!(step(Found::Nobody, true, true), Step::CreateThenSignIn);
        assert_eq!(
            step(Found::Nobody, false, true),
            Step::Refuse("sso_email_unverified")
        );
    }

    #[test]
    fn claims_map_to_the_highest_role_unless_scim_decides() {
        let mapping = vec![
            ("talent".to_string(), AccountRole::Recruiter),
            ("platform-admins".to_string(), AccountRole::Admin),
        ];
        let v = claim_values(Some(&json!(["engineering", "Talent"])));
        assert_eq!(
            role_from_claim(&v, &mapping, true, false),
            Some(AccountRole::Recruiter)
        );
        let none = claim_values(Some(&json!(["engineering"])));
        assert_eq!(
            role_from_claim(&none, &mapping, true, false),
            Some(AccountRole::Member)
        );
        assert_eq!(role_from_claim(&v, &mapping, true, true), None);
        assert_eq!(role_from_claim(&v, &mapping, false, false), None);
        assert_eq!(role_from_claim(&v, &[], true, false), None);
        assert_eq!(
            claim_values(Some(&json!("platform-admins"))),
            vec!["platform-admins"]
        );
        assert!(claim_values(Some(&json!(42))).is_empty());
    }

    #[test]
    fn password_policy_keeps_the_break_glass_admin() {
        use PasswordSignin::*;
        assert!(password_allowed(On, true, false));
        assert!(!password_allowed(Off, false, false));
        assert!(password_allowed(Off, false, true));
        assert!(password_allowed(UnlinkedOnly, false, false));
        assert!(!password_allowed(UnlinkedOnly, true, false));
        assert!(password_allowed(UnlinkedOnly, true, true));
    }

    #[test]
    fn a_browser_sign_in_comes_back_to_its_browser() {
        assert!(same_browser(Some("h1"), Some("h1")));
        assert!(!same_browser(Some("h1"), Some("h2")), "another browser");
        assert!(!same_browser(Some("h1"), None), "no cookie");
        assert!(same_browser(None, None), "a command line binds by pasting");
        assert!(same_browser(None, Some("h1")));
    }
}
