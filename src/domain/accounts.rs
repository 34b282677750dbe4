//! Rules for people's records: emails, names, passwords.

use std::collections::HashSet;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};

use super::{AccountRole, Violation};

pub const PASSWORD_MIN_CHARS: usize = 12;
pub const PASSWORD_MAX_CHARS: usize = 1024;
pub const NAME_MAX_CHARS: usize = 200;
pub const EMAIL_MAX_CHARS: usize = 254;

/// A deliberately plain check: one `@`, something on each side, a dot in
/// the domain, no spaces or control characters. Delivery proves the rest.
pub fn email_problem(field: &str, email: &str) -> Option<Violation> {
    let bad = |m: &str| Some(Violation::new("invalid_email", field, m));
    if email.chars().count() > EMAIL_MAX_CHARS {
        return bad("an email address has at most 254 characters");
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("an email address has no spaces or control characters");
    }
    match email.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.') =>
        {
            None
        }
        _ => bad("not an email address"),
    }
}

/// Names: present, printable, bounded.
pub fn text_problem(field: &str, value: &str, max: usize) -> Option<Violation> {
    if value.trim().is_empty() {
        return Some(Violation::new("required", field, "must not be blank"));
    }
    if value.chars().count() > max {
        return Some(Violation::new(
            "too_long",
            field,
            format!("at most {max} characters"),
        ));
    }
    if value.chars().any(|c| c == '\0') {
        return Some(Violation::new(
            "invalid_characters",
            field,
            "must not contain NUL",
        ));
    }
    None
}

/// Common and breached passwords, lowercased, one a line: the 20,000 that
/// Django ships for its `CommonPasswordValidator` (Royce Williams' list,
/// taken from Django 5.2's `common-passwords.txt.gz`; BSD-3-Clause, ©
/// Django Software Foundation and contributors). Compiled in: no network
/// at run time.
const COMMON_PASSWORDS: &str = include_str!("common-passwords.txt");

fn common_passwords() -> &'static HashSet<&'static str> {
    static SET: LazyLock<HashSet<&'static str>> =
        LazyLock::new(|| COMMON_PASSWORDS.lines().map(str::trim).collect());
    &SET
}

/// NIST SP 800-63B §5.1.1.2 for a password about to be set: long enough
/// (passphrases welcome, up to a bound), not the email, not a common or
/// breached password — also not one dressed up with digits, symbols or
/// look-alike characters — not a run or a repeat, and not built from the
/// account's own name or email. No composition rules.
pub fn password_problem(password: &str, email: &str, name: &str) -> Option<Violation> {
    let bad = |code: &'static str, message: &str| Some(Violation::new(code, "password", message));
    let n = password.chars().count();
    if n < PASSWORD_MIN_CHARS {
        return bad(
            "password_too_short",
            &format!(
                "at least {PASSWORD_MIN_CHARS} characters; a passphrase of several words is best"
            ),
        );
    }
    if n > PASSWORD_MAX_CHARS {
        return bad(
            "password_too_long",
            &format!("at most {PASSWORD_MAX_CHARS} characters"),
        );
    }
    if password.trim().eq_ignore_ascii_case(email.trim()) {
        return bad("password_is_email", "must not be the email address");
    }
    let lower = password.to_lowercase();
    if is_common(&lower) {
        return bad(
            "password_too_common",
            "this password is on a list of common or breached passwords",
        );
    }
    if is_repetitive(&compact(&lower)) {
        return bad(
            "password_repetitive",
            "a repeated or running sequence of characters is easy to guess",
        );
    }
    if built_from(&lower, &personal_words(email, name)) {
        return bad(
            "password_personal",
            "must not be built from your name or email address",
        );
    }
    None
}

/// Lowercase, letters and digits only.
fn compact(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The password, its core without leading and trailing digits and symbols
/// (`Password1234!` → `password`), and both with look-alikes read back
/// (`p@ssw0rd` → `password`): on the list, any of them.
fn is_common(lower: &str) -> bool {
    let list = common_passwords();
    let core = lower.trim_matches(|c: char| !c.is_alphabetic());
    let spaced = lower.split_whitespace().collect::<String>();
    [lower, core, spaced.as_str()].iter().any(|candidate| {
        !candidate.is_empty()
            && (list.contains(candidate)
                || list.contains(unleet(candidate, 'i').as_str())
                || list.contains(unleet(candidate, 'l').as_str()))
    })
}

fn unleet(s: &str, one: char) -> String {
    s.chars()
        .map(|c| match c {
            '0' => 'o',
            '1' => one,
            '3' => 'e',
            '4' | '@' => 'a',
            '5' | '$' => 's',
            '7' => 't',
            '!' => 'i',
            other => other,
        })
        .collect()
}

/// Of its letters and digits: one short unit over and over
/// (`aaaaaaaaaaaa`, `abc abc abc abc`), at most two different characters, or
/// a straight run (`abcdefghijkl`, `123456789012`, `987654321098`).
fn is_repetitive(compact: &str) -> bool {
    let chars: Vec<char> = compact.chars().collect();
    let n = chars.len();
    let repeated =
        (1..=n / 2).any(|p| n.is_multiple_of(p) && chars.chunks(p).all(|c| c == &chars[..p]));
    let distinct = chars.iter().collect::<HashSet<_>>().len();
    let step = |a: char, b: char| -> i64 {
        if a.is_ascii_digit() && b.is_ascii_digit() {
            (b as i64 - a as i64).rem_euclid(10)
        } else {
            b as i64 - a as i64
        }
    };
    let run = |d: i64| chars.windows(2).all(|w| step(w[0], w[1]) == d);
    let runs = run(1) || run(-1) || (chars.iter().all(char::is_ascii_digit) && run(9));
    repeated || distinct <= 2 || runs
}

/// The account's own words: the name and the email's local part, whole and
/// in parts (`ann.marie-smith` → `annmariesmith`, `ann`, `marie`, `smith`).
fn personal_words(email: &str, name: &str) -> Vec<String> {
    let local = email
        .trim()
        .rsplit_once('@')
        .map_or(email.trim(), |(l, _)| l);
    let mut words = Vec::new();
    for source in [name, local] {
        words.push(compact(source));
        words.extend(source.split(|c: char| !c.is_alphanumeric()).map(compact));
    }
    words.retain(|w| w.chars().count() >= 2);
    // Longest first, so a whole name goes before its parts.
    words.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
    words.dedup();
    words
}

/// Built from the account's words: once they are taken out, what is left
/// has fewer than six letters, or is itself a common password
/// (`TessTarget1990!`, `ada.admin2024`, `smithsmith123`).
fn built_from(lower: &str, words: &[String]) -> bool {
    let whole = compact(lower);
    let mut rest = whole.clone();
    for w in words {
        rest = rest.replace(w.as_str(), "");
    }
    if rest == whole {
        return false;
    }
    let letters = rest.chars().filter(|c| c.is_alphabetic()).count();
    letters < 6 || is_common(&rest)
}

/// Whether an admin's change to `target` would deactivate or demote their
/// own account (`cannot_demote_self`): an organisation must keep an admin
/// who can undo it.
pub fn demotes_self(is_self: bool, active: Option<bool>, role: Option<AccountRole>) -> bool {
    is_self && (active == Some(false) || role.is_some_and(|r| r != AccountRole::Admin))
}

/// The address a change asks for, trimmed, if it differs from the current
/// one (compared case-insensitively); `None` if it does not change it.
pub fn changed_email(requested: Option<&str>, current_lower: &str) -> Option<String> {
    requested
        .map(str::trim)
        .filter(|e| e.to_lowercase() != current_lower)
        .map(str::to_string)
}

/// What an operator's change to *another* person's account marks (see
/// SECURITY.md): `password` when it sets one, `email` when the address
/// changes. A change to one's own account marks nothing.
pub fn operator_marks(
    is_self: bool,
    sets_password: bool,
    changes_email: bool,
) -> Vec<&'static str> {
    if is_self {
        return Vec::new();
    }
    [("password", sets_password), ("email", changes_email)]
        .into_iter()
        .filter_map(|(what, yes)| yes.then_some(what))
        .collect()
}

/// Whether a change ends all the account's sessions: deactivation, a new
/// password, or any operator's mark.
pub fn ends_sessions(deactivates: bool, sets_password: bool, operator_marked: bool) -> bool {
    deactivates || sets_password || operator_marked
}

/// Longest service-token name, in characters.
pub const TOKEN_NAME_MAX_CHARS: usize = 200;

/// A service token about to be minted: a name, at least one scope, an
/// expiry (if any) in the future. The scope and expiry answers have never
/// carried a code: callers show only their field and message.
pub fn token_problems(
    name: &str,
    scope_count: usize,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Vec<Violation> {
    let mut problems: Vec<Violation> = text_problem("name", name, TOKEN_NAME_MAX_CHARS)
        .into_iter()
        .collect();
    if scope_count == 0 {
        problems.push(Violation::new(
            "no_scopes",
            "scopes",
            "grant at least one scope",
        ));
    }
    if expires_at.is_some_and(|e| e <= now) {
        problems.push(Violation::new(
            "expired",
            "expires_at",
            "must be in the future",
        ));
    }
    problems
}

/// Longest accepted webhook target URL, in characters.
pub const WEBHOOK_URL_MAX_CHARS: usize = 2000;
/// The prefix of a Standard Webhooks secret.
pub const WEBHOOK_SECRET_PREFIX: &str = "whsec_";
/// Bounds of a webhook signing key, in bytes (the Standard Webhooks
/// specification: 24 to 64).
pub const WEBHOOK_KEY_MIN_BYTES: usize = 24;
pub const WEBHOOK_KEY_MAX_BYTES: usize = 64;

/// A webhook URL too long to consider (checked before anything else).
pub fn webhook_url_too_long(url: &str) -> Option<Violation> {
    (url.chars().count() > WEBHOOK_URL_MAX_CHARS).then(|| {
        Violation::new(
            "too_long",
            "url",
            format!("at most {WEBHOOK_URL_MAX_CHARS} characters"),
        )
    })
}

/// A subscription to nothing.
pub fn webhook_events_problem(event_count: usize) -> Option<Violation> {
    (event_count == 0).then(|| {
        Violation::new(
            "no_event_types",
            "event_types",
            "subscribe to at least one event type",
        )
    })
}

/// The key of a Standard Webhooks secret: `whsec_` followed by the
/// standard base64 alphabet (padding optional, as the reference libraries
/// accept it) of 24 to 64 bytes. `None` for anything else.
pub fn webhook_secret_key(secret: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let key = LENIENT
        .decode(secret.strip_prefix(WEBHOOK_SECRET_PREFIX)?)
        .ok()?;
    (WEBHOOK_KEY_MIN_BYTES..=WEBHOOK_KEY_MAX_BYTES)
        .contains(&key.len())
        .then_some(key)
}

/// A caller-supplied signing secret: a Standard Webhooks secret
/// ([`webhook_secret_key`]).
pub fn webhook_secret_problem(secret: &str) -> Option<Violation> {
    webhook_secret_key(secret).is_none().then(|| {
        Violation::new(
            "invalid_secret",
            "secret",
            format!(
                "`{WEBHOOK_SECRET_PREFIX}` followed by the base64 of {WEBHOOK_KEY_MIN_BYTES} to \
                 {WEBHOOK_KEY_MAX_BYTES} bytes (the Standard Webhooks form)"
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for ok in ["a@b.co", "first.last+tag@example.com", "ü@bücher.de"] {
            assert!(email_problem("email", ok).is_none(), "{ok}");
        }
        for bad in [
            "", "a", "a@b", "@b.co", "a@.co", "a@b.", "a b@c.de", "a@b@c.de", "a@b.co\0",
        ] {
            assert!(email_problem("email", bad).is_some(), "{bad:?}");
        }
        assert!(email_problem("email", &format!("{}@b.co", "a".repeat(260))).is_some());
    }

    #[test]
    fn passwords() {
        let email = "tess.target@example.com";
        let name = "Tess Target";
        // (password, the code it breaks, or None)
        let table: [(&str, Option<&str>); 27] = [
            ("short", Some("password_too_short")),
            ("elevenchars", Some("password_too_short")),
            ("Tess.Target@Example.com", Some("password_is_email")),
            // On the list, as is or dressed up.
            ("password1234", Some("password_too_common")),
            ("Password1234!", Some("password_too_common")),
            ("p@ssw0rd2024", Some("password_too_common")),
            ("qwertyuiop12", Some("password_too_common")),
            ("1234567890qwerty", Some("password_too_common")),
            ("!!!!monkey!!!!", Some("password_too_common")),
            ("iloveyou iloveyou", Some("password_repetitive")),
            // Repeats and runs.
            ("aaaaaaaaaaaa", Some("password_repetitive")),
            ("abcabcabcabc", Some("password_repetitive")),
            ("abababababab", Some("password_repetitive")),
            ("abcdefghijklmn", Some("password_repetitive")),
            ("123456789012", Some("password_repetitive")),
            ("890123456789", Some("password_repetitive")),
            ("zyxwvutsrqpo", Some("password_repetitive")),
            // Built from the account's own name or email.
            ("TessTarget1990!", Some("password_personal")),
            ("tess.target.2024", Some("password_personal")),
            ("targettarget99", Some("password_personal")),
            ("Tess12345678", Some("password_personal")),
            ("tesstargetqwerty", Some("password_personal")),
            // Passphrases pass, also one that mentions the name.
            ("correct horse battery staple", None),
            ("Tess climbs granite walls at dawn", None),
            ("a long ci admin passphrase", None),
            ("Lörem ïpsum dölor sit ämet", None),
            ("7hK#p2vQ!x9Lm", None),
        ];
        for (password, want) in table {
            assert_eq!(
                password_problem(password, email, name).map(|v| v.code),
                want,
                "{password:?}"
            );
        }
        let long = (0..120).map(|i| format!("word{i}")).collect::<Vec<_>>();
        let long = long.join(" ");
        assert!(long.chars().count() > 800);
        assert!(password_problem(&long, email, name).is_none());
        assert_eq!(
            password_problem(&"xy z".repeat(300), email, name)
                .unwrap()
                .code,
            "password_too_long"
        );
        // Every violation names the field.
        assert_eq!(
            password_problem("password1234", email, name).unwrap().field,
            "password"
        );
        // The list is there and lowercased.
        assert!(common_passwords().len() > 19_000);
        assert!(common_passwords().contains("password"));
    }

    #[test]
    fn texts() {
        assert_eq!(text_problem("name", "  ", 10).unwrap().code, "required");
        assert_eq!(
            text_problem("name", &"x".repeat(11), 10).unwrap().code,
            "too_long"
        );
        assert_eq!(
            text_problem("name", "a\0b", 10).unwrap().code,
            "invalid_characters"
        );
        assert!(text_problem("name", "Robert'); DROP TABLE users;--", 100).is_none());
    }

    #[test]
    fn account_changes() {
        use AccountRole::*;
        // (is self, active, role) → demotes self
        let table = [
            (true, Some(false), None, true),
            (true, Some(true), None, false),
            (true, None, Some(Recruiter), true),
            (true, None, Some(Admin), false),
            (true, None, None, false),
            (false, Some(false), Some(Member), false),
        ];
        for (me, active, role, want) in table {
            assert_eq!(
                demotes_self(me, active, role),
                want,
                "{me} {active:?} {role:?}"
            );
        }
        // (requested, current lowercased) → changed address
        let table = [
            (None, "a@b.co", None),
            (Some(" A@B.co "), "a@b.co", None),
            (Some(" c@b.co "), "a@b.co", Some("c@b.co")),
        ];
        for (asked, current, want) in table {
            assert_eq!(changed_email(asked, current).as_deref(), want, "{asked:?}");
        }
        // (is self, sets password, changes email) → marks
        let table: [(bool, bool, bool, &[&str]); 5] = [
            (true, true, true, &[]),
            (false, false, false, &[]),
            (false, true, false, &["password"]),
            (false, false, true, &["email"]),
            (false, true, true, &["password", "email"]),
        ];
        for (me, pw, email, want) in table {
            assert_eq!(operator_marks(me, pw, email), want, "{me} {pw} {email}");
        }
        assert!(!ends_sessions(false, false, false));
        assert!(ends_sessions(true, false, false));
        assert!(ends_sessions(false, true, false));
        assert!(ends_sessions(false, false, true));
    }

    #[test]
    fn tokens_and_webhooks() {
        let now = Utc::now();
        let fields = |v: Vec<Violation>| v.into_iter().map(|v| v.field).collect::<Vec<_>>();
        assert!(token_problems("ATS sync", 1, None, now).is_empty());
        assert!(token_problems("x", 2, Some(now + chrono::Duration::hours(1)), now).is_empty());
        assert_eq!(
            fields(token_problems(" ", 0, Some(now), now)),
            ["name", "scopes", "expires_at"]
        );
        assert_eq!(
            fields(token_problems(&"n".repeat(201), 1, None, now)),
            ["name"]
        );
        assert!(webhook_url_too_long(&"u".repeat(2000)).is_none());
        assert!(webhook_url_too_long(&"u".repeat(2001)).is_some());
        assert!(webhook_events_problem(0).is_some());
        assert!(webhook_events_problem(1).is_none());
        let b64 = |n: usize| {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(vec![7u8; n])
        };
        for (secret, ok) in [
            (format!("whsec_{}", b64(23)), false),
            (format!("whsec_{}", b64(24)), true),
            (format!("whsec_{}", b64(32)), true),
            (format!("whsec_{}", b64(32).trim_end_matches('=')), true),
            (format!("whsec_{}", b64(64)), true),
            (format!("whsec_{}", b64(65)), false),
            // Not base64 of the standard alphabet, no prefix, spaces.
            (format!("whsec_{}", b64(32).replace('B', "-")), false),
            (
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw_Z7xHs3TdkQ".to_string(),
                false,
            ),
            (b64(32), false),
            (format!(" whsec_{}", b64(32)), false),
            (format!("whsec_{} ", b64(32)), false),
            ("a-shared-secret-of-some-length".to_string(), false),
        ] {
            assert_eq!(webhook_secret_problem(&secret).is_none(), ok, "{secret:?}");
        }
        assert_eq!(
            webhook_secret_key("whsec_MDEyMzQ1Njc4OWFiY2RlZmdoaWprbG1u"),
            Some(b"0123456789abcdefghijklmn".to_vec())
        );
    }
}
