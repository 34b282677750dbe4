//! What a candidate record may hold. Every problem is reported at once.

use super::Violation;
use super::accounts::{email_problem, text_problem};

/// What an erased candidate's name reads as.
pub const ERASED_NAME: &str = "Erased candidate";
pub const NAME_MAX: usize = 200;
pub const PHONE_MAX: usize = 50;
pub const LINKS_MAX: usize = 20;
pub const LINK_MAX: usize = 2000;
pub const NOTES_MAX: usize = 20_000;

/// The fields of a new candidate, or of a change (`None`: unchanged).
#[derive(Debug, Default, Clone, Copy)]
pub struct Fields<'a> {
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub links: Option<&'a [String]>,
    pub notes: Option<&'a str>,
}

/// Everything wrong with `f`, in field order.
pub fn problems(f: Fields<'_>) -> Vec<Violation> {
    let mut v: Vec<Violation> = [
        f.name.and_then(|n| text_problem("name", n, NAME_MAX)),
        f.email.and_then(|e| email_problem("email", e.trim())),
        f.phone.and_then(|p| bounded("phone", p, PHONE_MAX)),
        f.notes.and_then(|n| bounded("notes", n, NOTES_MAX)),
    ]
    .into_iter()
    .flatten()
    .collect();
    v.extend(f.links.map(links_problems).unwrap_or_default());
    v
}

fn bounded(field: &str, value: &str, max: usize) -> Option<Violation> {
    if value.chars().count() > max {
        Some(Violation::new(
            "too_long",
            field,
            format!("at most {max} characters"),
        ))
    } else if value.contains('\0') {
        Some(Violation::new(
            "invalid_characters",
            field,
            "must not contain NUL",
        ))
    } else {
        None
    }
}

fn links_problems(links: &[String]) -> Vec<Violation> {
    let mut v = Vec::new();
    if links.len() > LINKS_MAX {
        v.push(Violation::new(
            "too_many",
            "links",
            format!("at most {LINKS_MAX} links"),
        ));
    }
    for (n, l) in links.iter().enumerate() {
        if l.trim().is_empty() || l.chars().count() > LINK_MAX || l.contains('\0') {
            v.push(Violation::new(
                "invalid_link",
                format!("links[{n}]"),
                format!("1 to {LINK_MAX} characters"),
            ));
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(f: Fields<'_>) -> Vec<(String, &'static str)> {
        problems(f)
            .into_iter()
            .map(|v| (v.field.to_string(), v.code))
            .collect()
    }

    #[test]
    fn each_field_is_checked_and_every_problem_reported() {
        let long_phone = "1".repeat(PHONE_MAX + 1);
        let many: Vec<String> = (0..=LINKS_MAX).map(|n| format!("https://x/{n}")).collect();
        let bad_links = vec![
            "https://ok".to_string(),
            " ".into(),
            "x".repeat(LINK_MAX + 1),
        ];
        let cases: Vec<(Fields<'_>, Vec<(&str, &str)>)> = vec![
            (Fields::default(), vec![]),
            (
                Fields {
                    name: Some("Ada"),
                    email: Some("ada@example.com"),
                    ..Fields::default()
                },
                vec![],
            ),
            (
                Fields {
                    name: Some("  "),
                    ..Fields::default()
                },
                vec![("name", "required")],
            ),
            (
                Fields {
                    email: Some("not-an-email"),
                    ..Fields::default()
                },
                vec![("email", "invalid_email")],
            ),
            (
                Fields {
                    phone: Some(&long_phone),
                    ..Fields::default()
                },
                vec![("phone", "too_long")],
            ),
            (
                Fields {
                    notes: Some("a\0b"),
                    ..Fields::default()
                },
                vec![("notes", "invalid_characters")],
            ),
            (
                Fields {
                    links: Some(&many),
                    ..Fields::default()
                },
                vec![("links", "too_many")],
            ),
            (
                Fields {
                    links: Some(&bad_links),
                    ..Fields::default()
                },
                vec![("links[1]", "invalid_link"), ("links[2]", "invalid_link")],
            ),
            (
                Fields {
                    name: Some(""),
                    phone: Some(&long_phone),
                    ..Fields::default()
                },
                vec![("name", "required"), ("phone", "too_long")],
            ),
        ];
        for (f, expected) in cases {
            let expected: Vec<(String, &str)> = expected
                .into_iter()
                .map(|(a, b)| (a.to_string(), b))
                .collect();
            assert_eq!(codes(f), expected, "{f:?}");
        }
    }
}
