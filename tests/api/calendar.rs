//! Calendar invitations (iTIP over iMIP) through the real API and the
//! outbox: one UID per interview, SEQUENCE raised with every change its
//! interviewer is told of, `REQUEST` to whoever holds the interview,
//! `CANCEL` to whoever loses it, and the candidate's name only ever filled
//! in at send time, so erasure reaches queued invitations too.

use std::collections::HashMap;

use bar_raiser::db::models::OutboxRow;
use bar_raiser::db::outbox::Status;
use bar_raiser::domain::ical::Party;
use bar_raiser::notify::invite::{self, Stored};
use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{Backend, TestApp};

const PUBLIC_URL: &str = "https://hiring.example.com";

/// Every queued message with an invitation, in the order queued.
async fn invites(app: &TestApp) -> Vec<(OutboxRow, Stored)> {
    let rows = app
        .state
        .db
        .run(|c| {
            Ok(bar_raiser::db::outbox::list(
                c,
                &[Status::Pending, Status::Delivered, Status::Dead],
                10_000,
            )?)
        })
        .await
        .unwrap();
    rows.into_iter()
        .filter_map(|r| {
            let s: Stored = serde_json::from_str(r.calendar.as_deref()?).unwrap();
            Some((r, s))
        })
        .collect()
}

/// The invitations queued after the first `seen`.
async fn new_invites(app: &TestApp, seen: &mut usize) -> Vec<(OutboxRow, Stored)> {
    let all = invites(app).await;
    let fresh = all[*seen..].to_vec();
    *seen = all.len();
    fresh
}

fn sender() -> Party {
    Party {
        email: "noreply@hiring.example.com".into(),
        name: "bar-raiser".into(),
    }
}

/// The iCalendar text as sent, unfolded.
fn ics(row: &OutboxRow, s: &Stored) -> String {
    let name = row.candidate_name.as_deref().unwrap_or_default();
    let (_, text) = invite::render(s, name, Utc::now(), &sender()).unwrap();
    text.replace("\r\n ", "")
}

fn one<'a>(rows: &'a [(OutboxRow, Stored)], email: &str) -> &'a (OutboxRow, Stored) {
    let mine: Vec<_> = rows.iter().filter(|(r, _)| r.recipient == email).collect();
    assert_eq!(mine.len(), 1, "{email}: {rows:#?}");
    mine[0]
}

async fn invitations_follow_the_interview(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |c| c.public_url = PUBLIC_URL.into()).await else {
        return;
    };
    let setup = app.scheduled_loop().await;
    let cast = &setup.cast;
    let rec = &cast.recruiter;
    let mut seen = 0;

    // Scheduling: a REQUEST to every interviewer, at SEQUENCE 0.
    let scheduled = new_invites(&app, &mut seen).await;
    assert_eq!(scheduled.len(), 6, "{scheduled:#?}");
    for s in cast.voters().into_iter().chain([&cast.shadow]) {
        let (row, inv) = one(&scheduled, &s.email);
        let id = setup.interview_of(s);
        assert_eq!(inv.method, "REQUEST");
        assert_eq!(inv.uid, format!("interview-{id}@hiring.example.com"));
        assert_eq!(inv.sequence, 0);
        assert_eq!(inv.attendee.email, s.email);
        assert_eq!(
            inv.organizer.as_ref().map(|o| o.email.as_str()),
            Some(rec.email.as_str())
        );
        assert_eq!(inv.ends_at - inv.starts_at, Duration::minutes(60));
        assert!(
            row.subject.contains("Interview assigned"),
            "{}",
            row.subject
        );
        let text = ics(row, inv);
        assert!(text.contains("METHOD:REQUEST\r\n"), "{text}");
        assert!(text.contains("STATUS:CONFIRMED\r\n"), "{text}");
        assert!(
            text.contains("SUMMARY:Interview: Casey Candidate — Senior Engineer\r\n"),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "ATTENDEE;CN=\"{}\";CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{}\r\n",
                row_name(&app, s.id).await,
                s.email
            )),
            "{text}"
        );
    }

    // Rescheduled: a REQUEST, same UID, one revision on, the new times.
    let who = &cast.interviewers[0];
    let iid = setup.interview_of(who);
    let uid = format!("interview-{iid}@hiring.example.com");
    let at = (Utc::now() + Duration::days(2))
        .with_timezone(&chrono::FixedOffset::east_opt(2 * 3600).unwrap());
    let (status, body) = app
        .patch(
            &format!("/interviews/{iid}"),
            rec,
            json!({"starts_at": at.to_rfc3339(), "duration_minutes": 45}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let moved = new_invites(&app, &mut seen).await;
    assert_eq!(moved.len(), 1, "{moved:#?}");
    let (row, inv) = one(&moved, &who.email);
    assert_eq!(
        (inv.method.as_str(), inv.uid.as_str(), inv.sequence),
        ("REQUEST", uid.as_str(), 1)
    );
    assert_eq!(inv.starts_at.timestamp(), at.timestamp());
    assert_eq!(inv.ends_at - inv.starts_at, Duration::minutes(45));
    let text = ics(row, inv);
    let utc = at.with_timezone(&Utc).format("%Y%m%dT%H%M%SZ").to_string();
    assert!(text.contains(&format!("DTSTART:{utc}\r\n")), "{text}");

    // Another interviewer: CANCEL to the one taken off, REQUEST to the new
    // one, the same UID at the next SEQUENCE.
    let newcomer = &cast.outsider;
    let (status, body) = app
        .patch(
            &format!("/interviews/{iid}"),
            rec,
            json!({"interviewer_id": newcomer.id}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let swapped = new_invites(&app, &mut seen).await;
    assert_eq!(swapped.len(), 2, "{swapped:#?}");
    let (row, gone) = one(&swapped, &who.email);
    assert_eq!(
        (gone.method.as_str(), gone.uid.as_str(), gone.sequence),
        ("CANCEL", uid.as_str(), 2)
    );
    assert!(ics(row, gone).contains("STATUS:CANCELLED\r\n"));
    let (_, came) = one(&swapped, &newcomer.email);
    assert_eq!(
        (came.method.as_str(), came.uid.as_str(), came.sequence),
        ("REQUEST", uid.as_str(), 2)
    );
    assert_eq!(came.starts_at, gone.starts_at);

    // An interview removed: CANCEL, one revision on.
    let shadow_interview = setup.interview_of(&cast.shadow);
    let (status, body) = app
        .delete(&format!("/interviews/{shadow_interview}"), rec)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let removed = new_invites(&app, &mut seen).await;
    let (_, inv) = one(&removed, &cast.shadow.email);
    assert_eq!((inv.method.as_str(), inv.sequence), ("CANCEL", 1));
    assert_eq!(
        inv.uid,
        format!("interview-{shadow_interview}@hiring.example.com")
    );

    // The position changes what every invitation says: a REQUEST each.
    let (status, body) = app
        .patch(
            &format!("/loops/{}", setup.loop_id),
            rec,
            json!({"position": "Principal Engineer"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let renamed = new_invites(&app, &mut seen).await;
    assert_eq!(renamed.len(), 5, "{renamed:#?}");
    for (row, inv) in &renamed {
        assert_eq!(inv.method, "REQUEST");
        assert_eq!(inv.position, "Principal Engineer");
        let expected = if inv.uid == uid { 3 } else { 1 };
        assert_eq!(inv.sequence, expected, "{}", row.recipient);
    }
    // Another level changes no invitation.
    let (status, body) = app
        .patch(
            &format!("/loops/{}", setup.loop_id),
            rec,
            json!({"level": "L7"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(new_invites(&app, &mut seen).await.is_empty());

    // The loop cancelled: a CANCEL to each interviewer, one revision on;
    // the hiring manager's notice has no invitation.
    let (status, body) = app
        .post(
            &format!("/loops/{}/cancel", setup.loop_id),
            rec,
            json!({"reason": "Position closed"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let cancelled = new_invites(&app, &mut seen).await;
    assert_eq!(cancelled.len(), 5, "{cancelled:#?}");
    for (row, inv) in &cancelled {
        assert_eq!(inv.method, "CANCEL", "{}", row.recipient);
        let expected = if inv.uid == uid { 4 } else { 2 };
        assert_eq!(inv.sequence, expected, "{}", row.recipient);
        assert!(ics(row, inv).contains("STATUS:CANCELLED\r\n"));
        assert!(row.subject.starts_with("Loop cancelled"), "{}", row.subject);
    }
    let all = app.outbox_recipients().await;
    let to_bar_raiser = all.iter().filter(|r| **r == cast.bar_raiser.email).count();
    // Assigned and renamed and cancelled: one mail each, none twice.
    assert_eq!(to_bar_raiser, 3, "{all:?}");
    assert!(all.contains(&cast.hiring_manager.email));

    // Per UID and attendee, SEQUENCE only ever rises.
    let everything = invites(&app).await;
    let mut last: HashMap<(String, String), i32> = HashMap::new();
    for (row, inv) in &everything {
        let key = (inv.uid.clone(), row.recipient.clone());
        if let Some(before) = last.insert(key, inv.sequence) {
            assert!(inv.sequence > before, "{row:?}");
        }
    }

    // The MIME message: the calendar as an alternative and as invite.ics,
    // with the method of the iCalendar object.
    let from: lettre::message::Mailbox = "Bar Raiser <noreply@hiring.example.com>".parse().unwrap();
    for (row, inv) in &everything {
        let raw = String::from_utf8(
            bar_raiser::notify::mailer::compose(&from, row)
                .unwrap()
                .formatted(),
        )
        .unwrap();
        assert!(raw.contains("multipart/mixed"), "{raw}");
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(
            raw.contains(&format!(
                "Content-Type: text/calendar; method={}; charset=utf-8",
                inv.method
            )),
            "{raw}"
        );
        assert!(raw.contains("filename=\"invite.ics\""), "{raw}");
        assert!(
            raw.contains(&format!(
                "Content-Type: application/ics; method={};",
                inv.method
            )),
            "{raw}"
        );
    }

    // Erasure: queued invitations name the tombstone, and nothing is sent
    // again.
    let (status, body) = app
        .delete(&format!("/candidates/{}", setup.candidate_id), rec)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let after = invites(&app).await;
    assert_eq!(after.len(), everything.len(), "erasure queued invitations");
    for (row, inv) in &after {
        let text = ics(row, inv);
        assert!(!text.contains("Casey"), "{text}");
        assert!(text.contains("Erased candidate"), "{text}");
    }
    assert!(!app.dump_text_columns().await.contains("Casey Candidate"));
}
crate::both_backends!(invitations_follow, backend => super::invitations_follow_the_interview);

/// A draft loop's interviews send nothing; scheduling sends the revision
/// they reached, and cancelling a draft loop cancels no calendar entry.
async fn drafts_invite_nobody(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |c| c.public_url = PUBLIC_URL.into()).await else {
        return;
    };
    let setup = app.draft_loop().await;
    let rec = &setup.cast.recruiter;
    let who = &setup.cast.interviewers[1];
    let iid = setup.interview_of(who);
    let (status, body) = app
        .patch(
            &format!("/interviews/{iid}"),
            rec,
            json!({"duration_minutes": 30}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(invites(&app).await.is_empty());
    let (status, body) = app
        .post(
            &format!("/loops/{}/cancel", setup.loop_id),
            rec,
            json!({"reason": "Not needed"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(invites(&app).await.is_empty());
}
crate::both_backends!(drafts_invite_nobody, backend => super::drafts_invite_nobody);

/// The display name a user was created with.
async fn row_name(app: &TestApp, id: Uuid) -> String {
    app.state
        .db
        .run(move |c| Ok(bar_raiser::db::users::by_id(c, id.into())?.unwrap().name))
        .await
        .unwrap()
}
