//! What a competency of the catalogue may hold. Every problem is reported
//! at once.

use super::Violation;
use super::accounts::text_problem;

pub const NAME_MAX: usize = 200;
pub const DESCRIPTION_MAX: usize = 2000;

/// Everything wrong with a new competency's fields, or with a change's
/// (`None`: unchanged), in field order.
pub fn problems(name: Option<&str>, description: Option<&str>) -> Vec<Violation> {
    [
        name.and_then(|n| text_problem("name", n, NAME_MAX)),
        description.and_then(|d| text_problem("description", d, DESCRIPTION_MAX)),
    ]
    .into_iter()
    .flatten()
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Name, description, and the (code, field) of each problem expected.
    type Case<'a> = (Option<&'a str>, Option<&'a str>, &'a [(&'a str, &'a str)]);

    #[test]
    fn fields_within_bounds() {
        let long_name = "n".repeat(NAME_MAX + 1);
        let long_description = "d".repeat(DESCRIPTION_MAX + 1);
        let at_name_max = "n".repeat(NAME_MAX);
        let cases: &[Case] = &[
            (Some("Coding"), Some("Writes code"), &[]),
            (None, None, &[]),
            (Some(&at_name_max), None, &[]),
            (Some(" "), Some("x"), &[("required", "name")]),
            (Some(&long_name), None, &[("too_long", "name")]),
            (
                None,
                Some(&long_description),
                &[("too_long", "description")],
            ),
            (None, Some("a\0b"), &[("invalid_characters", "description")]),
            (
                Some(""),
                Some(""),
                &[("required", "name"), ("required", "description")],
            ),
        ];
        for (name, description, expected) in cases {
            let got: Vec<(&str, String)> = problems(*name, *description)
                .into_iter()
                .map(|v| (v.code, v.field))
                .collect();
            let want: Vec<(&str, String)> =
                expected.iter().map(|(c, f)| (*c, f.to_string())).collect();
            assert_eq!(got, want, "{name:?} {description:?}");
        }
    }
}
