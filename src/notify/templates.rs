//! Message texts, plain and HTML.

use super::{LoopRef, Notice, Recipient};

pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Where a message shows the candidate's name: two Unicode noncharacters
/// around a word, which no rendered text or escaping produces. The name
/// itself is kept in the outbox row's `candidate_name` and filled in at
/// send time ([`fill`]), so erasing it rewrites one field exactly.
pub const CANDIDATE: &str = "\u{FDD0}candidate\u{FDD1}";

/// Subject and bodies of an outbox row as sent: the placeholders filled
/// with the row's candidate name (escaped in the HTML body). A row without
/// a name (webhooks; mail queued before names were kept apart) is as
/// stored.
pub fn fill(row: &crate::db::models::OutboxRow) -> Rendered {
    let name = row.candidate_name.as_deref().unwrap_or_default();
    Rendered {
        subject: row.subject.replace(CANDIDATE, name),
        text: row.body_text.replace(CANDIDATE, name),
        html: row.body_html.replace(CANDIDATE, &escape(name)),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn when(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The subject and lines of a Bar Raiser program step.
fn program_lines(step: &str, trainee: &str, detail: Option<&str>) -> (String, Vec<String>) {
    let (subject, line) = match step {
        "enrolled" => (
            format!("Bar Raiser training: {trainee} enrolled"),
            format!(
                "{trainee} is now in Bar Raiser training: shadow certified Bar Raisers, then lead loops as a reverse shadow."
            ),
        ),
        "signed_off" => (
            format!("Bar Raiser training: a reverse shadow of {trainee} signed off"),
            format!(
                "A mentor signed off a loop {trainee} led as a reverse shadow: {}.",
                detail.unwrap_or("recorded")
            ),
        ),
        "certified" => (
            format!("Bar Raiser program: {trainee} certified"),
            format!("{trainee} is a certified Bar Raiser."),
        ),
        "reactivated" => (
            format!("Bar Raiser program: {trainee} re-activated"),
            format!("An admin re-activated {trainee} as a certified Bar Raiser."),
        ),
        "lapsed" => (
            format!("Bar Raiser program: {trainee} lapsed"),
            format!(
                "{trainee} has not served as a loop's Bar Raiser for the configured period; the certification lapsed. An admin can re-activate it."
            ),
        ),
        other => (
            format!("Bar Raiser program: {trainee}"),
            format!("{trainee}: {other}."),
        ),
    };
    (
        subject,
        vec![
            line,
            "Each step of the program is recorded in the organisation's audit trail.".into(),
        ],
    )
}

/// A message about the recipient's own account, not about a loop.
pub fn render_personal(public_url: &str, to: &Recipient, notice: &Notice) -> Rendered {
    let base = public_url.trim_end_matches('/');
    let (subject, lines) = match notice {
        Notice::AccountChangedByOperator {
            operator,
            changed,
            at,
        } => {
            let what = match changed.as_slice() {
                [one] => format!("your {one}"),
                many => format!("your {}", many.join(" and ")),
            };
            (
                "Your account was changed by an administrator".to_string(),
                vec![
                    format!("{operator} changed {what} on {}.", when(at)),
                    "Every session you had was signed out. The change is recorded in the audit trail of each open loop you take part in.".into(),
                    "If you did not ask for this, tell the loop's Bar Raiser or your security team.".into(),
                ],
            )
        }
        Notice::BarRaiserProgram {
            step,
            trainee,
            detail,
        } => program_lines(step, trainee, detail.as_deref()),
        _ => (
            "Your account".to_string(),
            vec!["Something changed on your account.".to_string()],
        ),
    };
    let link = format!("{base}/api/v1/me");
    let greeting = format!("Hello {},", to.name);
    let text = format!(
        "{greeting}\n\n{}\n\n{link}\n\n— bar-raiser\n",
        lines.join("\n")
    );
    let html = format!(
        "<!doctype html><html><body><p>{}</p>{}<p><a href=\"{}\">{}</a></p><p>— bar-raiser</p></body></html>",
        escape(&greeting),
        lines
            .iter()
            .map(|l| format!("<p>{}</p>", escape(l)))
            .collect::<String>(),
        escape(&link),
        escape(&link),
    );
    Rendered {
        subject,
        text,
        html,
    }
}

pub fn render(public_url: &str, to: &Recipient, about: &LoopRef, notice: &Notice) -> Rendered {
    if let Notice::AccountChangedByOperator { .. } | Notice::BarRaiserProgram { .. } = notice {
        return render_personal(public_url, to, notice);
    }
    let base = public_url.trim_end_matches('/');
    let loop_link = format!("{base}/api/v1/loops/{}", about.id);
    let what = format!("{} — {}", about.candidate, about.position);
    let (subject, lines, link): (String, Vec<String>, String) = match notice {
        Notice::InterviewAssigned { interview_id, starts_at, competencies } => (
            format!("Interview assigned: {what}"),
            vec![
                format!("You are interviewing {} for {} on {}.", about.candidate, about.position, when(starts_at)),
                format!("Your competencies: {}.", competencies.join(", ")),
                "Write your feedback alone and seal it before reading anyone else's.".into(),
            ],
            format!("{base}/api/v1/interviews/{interview_id}/feedback"),
        ),
        Notice::InterviewChanged { interview_id, starts_at, competencies } => (
            format!("Interview changed: {what}"),
            vec![
                format!("Your interview with {} for {} changed; it is now on {}.", about.candidate, about.position, when(starts_at)),
                format!("Your competencies: {}.", competencies.join(", ")),
            ],
            format!("{base}/api/v1/interviews/{interview_id}/feedback"),
        ),
        Notice::InterviewRemoved { .. } => (
            format!("Interview removed: {what}"),
            vec![format!("You are no longer interviewing {} for {}.", about.candidate, about.position)],
            loop_link.clone(),
        ),
        Notice::InterviewerDeactivated { interviewer, interview_id, starts_at } => (
            format!("Interviewer deactivated: {what}"),
            vec![
                format!("{interviewer}'s account was deactivated by your identity provider. Their interview with {} for {} on {} is still open.", about.candidate, about.position, when(starts_at)),
                "Assign another interviewer or excuse the interview; their feedback, if sealed, stays in the loop.".into(),
            ],
            format!("{base}/api/v1/interviews/{interview_id}"),
        ),
        Notice::QuickVoteDue { interview_id, closes_at } => (
            format!("Quick vote due: {what}"),
            vec![format!("Your interview with {} has ended. This loop asks for your quick vote (the four-point vote alone) by {}; the full feedback follows as usual.", about.candidate, when(closes_at))],
            format!("{base}/api/v1/interviews/{interview_id}/quick-vote"),
        ),
        Notice::FeedbackDueSoon { interview_id, due_at } => (
            format!("Feedback due soon: {what}"),
            vec![format!("Your feedback on {} is due by {}. Seal it when it is complete.", about.candidate, when(due_at))],
            format!("{base}/api/v1/interviews/{interview_id}/feedback"),
        ),
        Notice::YourFeedbackOverdue { interview_id, due_at } => (
            format!("Feedback overdue: {what}"),
            vec![format!("Your feedback on {} was due at {} and is not sealed yet. Please complete and seal it.", about.candidate, when(due_at))],
            format!("{base}/api/v1/interviews/{interview_id}/feedback"),
        ),
        // The recipient may not read the feedback itself, so the link is the
        // loop's status list, not the interview's feedback.
        Notice::FeedbackOverdue { interview_id: _, due_at, interviewer } => (
            format!("Feedback overdue: {what}"),
            vec![format!("Feedback from {interviewer} on {} was due at {} and is not sealed yet.", about.candidate, when(due_at))],
            format!("{loop_link}/feedback"),
        ),
        Notice::DebriefReady => (
            format!("Ready for debrief: {what}"),
            vec!["Every voting interviewer has sealed their feedback. The Bar Raiser can open the debrief.".into()],
            format!("{loop_link}/debrief"),
        ),
        Notice::DebriefOpened => (
            format!("Debrief open: {what}"),
            vec!["The debrief is open: all sealed feedback is now readable by the loop's participants.".into()],
            format!("{loop_link}/debrief"),
        ),
        Notice::DecisionRecorded { outcome } => (
            format!("Decision recorded: {what}"),
            vec![format!("The hiring manager recorded the decision: {}.", outcome.replace('_', " "))],
            loop_link.clone(),
        ),
        Notice::DecisionConcurred => (
            format!("Hire confirmed: {what}"),
            vec!["The Bar Raiser concurred: the hire is final.".into()],
            loop_link.clone(),
        ),
        Notice::DecisionVetoed => (
            format!("Hire vetoed: {what}"),
            vec!["The Bar Raiser vetoed the hire: the outcome is no hire.".into()],
            loop_link.clone(),
        ),
        Notice::BreakGlassRead { interview_id, admin } => (
            format!("Break-glass read: {what}"),
            vec![format!(
                "{admin} used break-glass to read sealed feedback of interview {interview_id}. The read and its reason are in the loop's audit chain."
            )],
            format!("{loop_link}/audit"),
        ),
        Notice::LoopCancelled { reason } => (
            format!("Loop cancelled: {what}"),
            vec![format!("The loop was cancelled. Reason: {reason}")],
            loop_link.clone(),
        ),
        // Rendered by `render_personal` (above); kept total all the same.
        Notice::AccountChangedByOperator { .. } | Notice::BarRaiserProgram { .. } => (
            "Your account was changed by an administrator".to_string(),
            vec!["An administrator changed your account.".to_string()],
            format!("{base}/api/v1/me"),
        ),
    };
    let greeting = format!("Hello {},", to.name);
    // Every message names its loop, whatever the notice says.
    let about_line = format!("Loop: {what}");
    let text = format!(
        "{greeting}\n\n{}\n\n{about_line}\n{link}\n\n— bar-raiser\n",
        lines.join("\n")
    );
    let html = format!(
        "<!doctype html><html><body><p>{}</p>{}<p>{}<br><a href=\"{}\">{}</a></p><p>— bar-raiser</p></body></html>",
        escape(&greeting),
        lines
            .iter()
            .map(|l| format!("<p>{}</p>", escape(l)))
            .collect::<String>(),
        escape(&about_line),
        escape(&link),
        escape(&link),
    );
    Rendered {
        subject,
        text,
        html,
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use uuid::Uuid;

    use super::*;

    fn every_notice() -> Vec<Notice> {
        let (interview_id, at) = (Uuid::nil(), Utc::now());
        let competencies = vec!["Dive Deep".to_string()];
        vec![
            Notice::InterviewAssigned {
                interview_id,
                starts_at: at,
                competencies: competencies.clone(),
            },
            Notice::InterviewChanged {
                interview_id,
                starts_at: at,
                competencies,
            },
            Notice::InterviewRemoved { interview_id },
            Notice::FeedbackDueSoon {
                interview_id,
                due_at: at,
            },
            Notice::QuickVoteDue {
                interview_id,
                closes_at: at,
            },
            Notice::InterviewerDeactivated {
                interviewer: "Ben".into(),
                interview_id,
                starts_at: at,
            },
            Notice::YourFeedbackOverdue {
                interview_id,
                due_at: at,
            },
            Notice::FeedbackOverdue {
                interview_id,
                due_at: at,
                interviewer: "Ben".into(),
            },
            Notice::DebriefReady,
            Notice::DebriefOpened,
            Notice::DecisionRecorded {
                outcome: "no_hire".into(),
            },
            Notice::DecisionConcurred,
            Notice::DecisionVetoed,
            Notice::BreakGlassRead {
                interview_id,
                admin: "Ada".into(),
            },
            Notice::LoopCancelled {
                reason: "closed".into(),
            },
        ]
    }

    #[test]
    fn an_operators_change_is_told_without_secrets() {
        let to = Recipient {
            email: "ivy@example.com".into(),
            name: "Ivy <One>".into(),
        };
        let notice = Notice::AccountChangedByOperator {
            operator: "Ada Admin".into(),
            changed: vec!["password".into(), "email".into()],
            at: Utc::now(),
        };
        let m = render_personal("https://hire.example.com/", &to, &notice);
        assert!(m.subject.contains("changed by an administrator"));
        assert!(m.text.starts_with("Hello Ivy <One>,"));
        assert!(
            m.text.contains("Ada Admin changed your password and email"),
            "{}",
            m.text
        );
        assert!(m.text.contains("signed out"));
        assert!(m.text.contains("https://hire.example.com/api/v1/me"));
        assert!(m.html.contains("Ivy &lt;One&gt;"));
        let one = Notice::AccountChangedByOperator {
            operator: "Ada Admin".into(),
            changed: vec!["email".into()],
            at: Utc::now(),
        };
        assert!(
            render_personal("x", &to, &one)
                .text
                .contains("changed your email on")
        );
    }

    #[test]
    fn every_message_names_the_loop_and_candidate_and_links_back() {
        let to = Recipient {
            email: "ann@example.com".into(),
            name: "Ann".into(),
        };
        let about = LoopRef {
            id: Uuid::from_u128(7),
            candidate: "Jo <Doe>".into(),
            position: "SDE & Co".into(),
        };
        for notice in every_notice() {
            let m = render("https://hire.example.com/", &to, &about, &notice);
            assert!(
                m.subject.contains("Jo <Doe> — SDE & Co"),
                "{notice:?}: {}",
                m.subject
            );
            assert!(m.text.starts_with("Hello Ann,"), "{notice:?}");
            assert!(m.text.contains("Jo <Doe>"), "{notice:?}: {}", m.text);
            let link = m
                .text
                .lines()
                .find(|l| l.starts_with("https://"))
                .unwrap_or_else(|| panic!("{notice:?} has no link: {}", m.text));
            assert!(
                link.starts_with("https://hire.example.com/api/v1/"),
                "one slash between base and path: {link}"
            );
            assert!(m.html.contains(&format!("href=\"{link}\"")), "{}", m.html);
            assert!(m.html.contains("Jo &lt;Doe&gt;"), "escaped: {}", m.html);
            assert!(!m.html.contains("<Doe>"), "escaped: {}", m.html);
        }
    }
}
