//! iCalendar (RFC 5545) for interview invitations sent as iTIP (RFC 5546)
//! over iMIP (RFC 6047): one `VEVENT` in a `VCALENDAR` whose `METHOD` is
//! `REQUEST` (an invitation or its update) or `CANCEL`.
//!
//! Only what an invitation needs: content lines end in CRLF and are folded
//! at 75 octets (never inside a UTF-8 sequence), TEXT values are escaped
//! (`\\`, `\;`, `\,`, `\n`), parameter values are quoted with the
//! characters a quoted value may not hold left out, times are UTC (`Z`).

use chrono::{DateTime, Utc};

/// The iTIP method, the same in `METHOD` and in the MIME type's `method`
/// parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Request,
    Cancel,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Request => "REQUEST",
            Method::Cancel => "CANCEL",
        }
    }
}

/// A calendar user: `mailto:` address and display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub email: String,
    pub name: String,
}

/// One meeting with one attendee.
#[derive(Debug, Clone)]
pub struct Event {
    pub uid: String,
    /// Raised on every significant change (time, length, attendee,
    /// cancellation): a calendar applies a message only if its sequence is
    /// not older than what it holds.
    pub sequence: i32,
    /// When this revision of the event was written.
    pub stamp: DateTime<Utc>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub organizer: Party,
    pub attendee: Party,
    pub summary: String,
    pub description: String,
    pub url: Option<String>,
}

/// Product identifier of the calendars this service writes.
pub const PRODID: &str = "-//bar-raiser//Interview invitations//EN";

/// The whole `VCALENDAR` object: CRLF line ends, folded lines. A `CANCEL`
/// carries `STATUS:CANCELLED`, a `REQUEST` `STATUS:CONFIRMED`.
pub fn calendar(method: Method, e: &Event) -> String {
    let status = match method {
        Method::Request => "CONFIRMED",
        Method::Cancel => "CANCELLED",
    };
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_string(),
        format!("PRODID:{PRODID}"),
        "VERSION:2.0".to_string(),
        "CALSCALE:GREGORIAN".to_string(),
        format!("METHOD:{}", method.as_str()),
        "BEGIN:VEVENT".to_string(),
        format!("UID:{}", text(&e.uid)),
        format!("SEQUENCE:{}", e.sequence.max(0)),
        format!("DTSTAMP:{}", utc(&e.stamp)),
        format!("DTSTART:{}", utc(&e.start)),
        format!("DTEND:{}", utc(&e.end)),
        format!("SUMMARY:{}", text(&e.summary)),
        format!("DESCRIPTION:{}", text(&e.description)),
        format!(
            "ORGANIZER;CN={}:mailto:{}",
            param(&e.organizer.name),
            address(&e.organizer.email)
        ),
        format!(
            "ATTENDEE;CN={};CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{}",
            param(&e.attendee.name),
            address(&e.attendee.email)
        ),
        format!("STATUS:{status}"),
        "TRANSP:OPAQUE".to_string(),
    ];
    if let Some(url) = &e.url {
        lines.push(format!("URL:{}", address(url)));
    }
    lines.push("END:VEVENT".to_string());
    lines.push("END:VCALENDAR".to_string());
    lines.iter().map(|l| fold(l) + "\r\n").collect()
}

/// A UTC DATE-TIME, `19980119T070000Z`.
pub fn utc(t: &DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A TEXT value (RFC 5545 3.3.11): backslash, semicolon and comma escaped,
/// line breaks as `\n`, other control characters left out.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let s = s.replace("\r\n", "\n").replace('\r', "\n");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// A URI value (`mailto:` address, link): no whitespace or control
/// characters, which could only break the line.
fn address(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect()
}

/// A quoted parameter value (RFC 5545 3.2): a quoted value may hold
/// neither `"` nor control characters, so those are left out.
pub fn param(s: &str) -> String {
    let inner: String = s
        .chars()
        .filter(|c| *c != '"' && !(c.is_control() && *c != '\t'))
        .collect();
    format!("\"{inner}\"")
}

/// Folds one content line (without its CRLF) into lines of at most 75
/// octets, each continuation starting with a space, splitting only between
/// characters.
pub fn fold(line: &str) -> String {
    const MAX: usize = 75;
    let mut out = String::with_capacity(line.len() + line.len() / MAX * 3);
    let mut used = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if used + n > MAX {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += n;
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn event() -> Event {
        let at = |h| Utc.with_ymd_and_hms(2026, 12, 1, h, 0, 0).unwrap();
        Event {
            uid: "interview-1@hire.example.com".into(),
            sequence: 2,
            stamp: at(8),
            start: at(9),
            end: at(10),
            organizer: Party {
                email: "rec@example.com".into(),
                name: "Rita \"the\" Recruiter".into(),
            },
            attendee: Party {
                email: "ivy@example.com".into(),
                name: "Ivy, Interviewer; Jr.".into(),
            },
            summary: "Interview: Jo; Doe, \\ — Engineer".into(),
            description: "Line one\nline two".into(),
            url: Some("https://hire.example.com/api/v1/interviews/1/feedback".into()),
        }
    }

    /// The content lines, unfolded (RFC 5545 3.1).
    fn unfold(ics: &str) -> Vec<String> {
        ics.replace("\r\n ", "")
            .split("\r\n")
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(text("a,b;c\\d\ne\r\nf"), "a\\,b\\;c\\\\d\\ne\\nf");
        assert_eq!(text("bell\u{7}"), "bell");
        assert_eq!(param("Rita \"R\" Roe"), "\"Rita R Roe\"");
        assert_eq!(param("A, B; C: D"), "\"A, B; C: D\"");
    }

    #[test]
    fn long_lines_fold_at_75_octets_between_characters() {
        let line = format!("SUMMARY:{}", "é".repeat(100));
        let folded = fold(&line);
        for l in folded.split("\r\n") {
            assert!(l.len() <= 75, "{} octets: {l}", l.len());
        }
        assert!(folded.split("\r\n").skip(1).all(|l| l.starts_with(' ')));
        assert_eq!(folded.replace("\r\n ", ""), line);
        assert_eq!(fold("short"), "short");
        let exact = "x".repeat(75);
        assert_eq!(fold(&exact), exact);
        assert_eq!(fold(&"x".repeat(76)), format!("{exact}\r\n x"));
    }

    #[test]
    fn a_request_is_a_complete_itip_object() {
        let ics = calendar(Method::Request, &event());
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
        assert!(
            !ics.replace("\r\n", "").contains('\n'),
            "bare LF in {ics:?}"
        );
        for l in ics.split("\r\n") {
            assert!(l.len() <= 75, "{l}");
        }
        let lines = unfold(&ics);
        for want in [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "METHOD:REQUEST",
            "UID:interview-1@hire.example.com",
            "SEQUENCE:2",
            "DTSTAMP:20261201T080000Z",
            "DTSTART:20261201T090000Z",
            "DTEND:20261201T100000Z",
            "SUMMARY:Interview: Jo\\; Doe\\, \\\\ — Engineer",
            "DESCRIPTION:Line one\\nline two",
            "ORGANIZER;CN=\"Rita the Recruiter\":mailto:rec@example.com",
            "ATTENDEE;CN=\"Ivy, Interviewer; Jr.\";CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:ivy@example.com",
            "STATUS:CONFIRMED",
        ] {
            assert!(lines.iter().any(|l| l == want), "no {want:?} in {lines:#?}");
        }
        assert!(lines.iter().any(|l| l.starts_with("PRODID:")));
    }

    #[test]
    fn a_cancel_says_cancelled() {
        let lines = unfold(&calendar(Method::Cancel, &event()));
        assert!(lines.iter().any(|l| l == "METHOD:CANCEL"));
        assert!(lines.iter().any(|l| l == "STATUS:CANCELLED"));
        assert!(!lines.iter().any(|l| l == "STATUS:CONFIRMED"));
    }
}
