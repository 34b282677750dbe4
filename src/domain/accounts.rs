//! Rules for people's records: emails, names, passwords.

use super::Violation;

pub const PASSWORD_MIN_CHARS: usize = 12;
pub const PASSWORD_MAX_CHARS: usize = 512;
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

pub fn password_problem(password: &str, email: &str) -> Option<Violation> {
    let n = password.chars().count();
    if n < PASSWORD_MIN_CHARS {
        return Some(Violation::new(
            "password_too_short",
            "password",
            format!("at least {PASSWORD_MIN_CHARS} characters"),
        ));
    }
    if n > PASSWORD_MAX_CHARS {
        return Some(Violation::new(
            "password_too_long",
            "password",
            format!("at most {PASSWORD_MAX_CHARS} characters"),
        ));
    }
    if password.trim().eq_ignore_ascii_case(email.trim()) {
        return Some(Violation::new(
            "password_is_email",
            "password",
            "must not be the email address",
        ));
    }
    None
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
        assert_eq!(
            password_problem("short", "a@b.co").unwrap().code,
            "password_too_short"
        );
        assert_eq!(
            password_problem("Alice@Example.com", "alice@example.com")
                .unwrap()
                .code,
            "password_is_email"
        );
        assert!(password_problem("a long enough passphrase", "a@b.co").is_none());
        assert_eq!(
            password_problem(&"x".repeat(600), "a@b.co").unwrap().code,
            "password_too_long"
        );
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
}
