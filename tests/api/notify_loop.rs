//! A whole loop through the real API, with a real SMTP server: every
//! message arrives with the right recipients, subjects and links, and none
//! carries feedback content.

use std::time::Duration;

use serde_json::json;

use crate::fixtures::evidence;
use crate::helpers::{Backend, TestApp};
use crate::smtp::SmtpServer;

const PUBLIC_URL: &str = "https://hiring.example.com";

async fn a_whole_loop_by_mail(backend: Backend) {
    let Some(smtp) = SmtpServer::start() else {
        return;
    };
    let Some(app) = TestApp::spawn_with(backend, |c| {
        c.smtp_url = Some(bar_raiser::config::Secret::new(smtp.url()));
        c.public_url = PUBLIC_URL.into();
        c.worker.poll_interval = Duration::from_millis(50);
        c.worker.retry_base = Duration::from_millis(100);
    })
    .await
    else {
        return;
    };
    let worker =
        bar_raiser::notify::worker::start(app.state.db.clone(), &app.state.config).unwrap();
    let setup = app.scheduled_loop().await;
    let cast = &setup.cast;
    for s in cast.voters() {
        app.draft_and_seal(s, setup.interview_of(s), "inclined_to_hire")
            .await;
    }
    let l = setup.loop_id;
    assert_eq!(
        app.post(&format!("/loops/{l}/debrief"), &cast.bar_raiser, json!({}))
            .await
            .0,
        200
    );
    assert_eq!(
        app.post(
            &format!("/loops/{l}/decision"),
            &cast.hiring_manager,
            json!({"outcome": "hire", "rationale": "Strong."})
        )
        .await
        .0,
        200
    );
    let veto =
        "Below the bar on Ownership in three of five interviews; hiring would lower the bar.";
    assert_eq!(
        app.post(
            &format!("/loops/{l}/decision/veto"),
            &cast.bar_raiser,
            json!({"rationale": veto})
        )
        .await
        .0,
        200
    );

    // 6 assigned + 2 ready + 8 opened (7 participants and the recruiter) + 3 recorded + 3 vetoed.
    let mails = smtp.wait_for(22, Duration::from_secs(60)).await;
    worker.shutdown().await;
    let to = |email: &str, subject: &str| {
        mails
            .iter()
            .filter(|m| m.to == email && m.subject.starts_with(subject))
            .collect::<Vec<_>>()
    };
    let what = "Casey Candidate — Senior Engineer";
    for s in cast.voters().into_iter().chain([&cast.shadow]) {
        let assigned = to(&s.email, "Interview assigned");
        assert_eq!(assigned.len(), 1, "{}", s.email);
        assert_eq!(assigned[0].subject, format!("Interview assigned: {what}"));
        let link = format!(
            "{PUBLIC_URL}/api/v1/interviews/{}/feedback",
            setup.interview_of(s)
        );
        assert!(assigned[0].text.as_deref().unwrap().contains(&link));
        assert_eq!(to(&s.email, "Debrief open").len(), 1);
    }
    for s in [&cast.bar_raiser, &cast.hiring_manager] {
        let ready = to(&s.email, "Ready for debrief");
        assert_eq!(ready.len(), 1, "{}", s.email);
        assert!(
            ready[0]
                .text
                .as_deref()
                .unwrap()
                .contains(&format!("{PUBLIC_URL}/api/v1/loops/{l}/debrief"))
        );
    }
    assert_eq!(to(&cast.recruiter.email, "Debrief open").len(), 1);
    for s in [&cast.hiring_manager, &cast.recruiter, &cast.bar_raiser] {
        assert_eq!(to(&s.email, "Decision recorded").len(), 1, "{}", s.email);
        assert_eq!(
            to(&s.email, &format!("Hire vetoed: {what}")).len(),
            1,
            "{}",
            s.email
        );
    }
    assert!(to(&cast.outsider.email, "").is_empty());
    assert_eq!(mails.len(), 22, "nothing more, nothing twice");
    // Not one message carries what interviewers wrote, or the veto's text.
    for m in &mails {
        let body = format!(
            "{}{}{}",
            m.subject,
            m.text.as_deref().unwrap_or(""),
            m.html.as_deref().unwrap_or("")
        );
        assert!(evidence("x").contains("described a concrete situation"));
        assert!(
            !body.contains("described a concrete situation"),
            "evidence leaked to {}",
            m.to
        );
        assert!(!body.contains("Summary by"), "a summary leaked to {}", m.to);
        assert!(!body.contains(veto), "veto rationale leaked to {}", m.to);
    }
}

crate::both_backends!(whole_loop, backend => super::a_whole_loop_by_mail);
