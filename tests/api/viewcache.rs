//! The loop view cache (`workflows::cache`) is never stale and decides
//! nothing per reader: after every kind of write that changes what
//! `GET /loops/{id}` shows — to the loop, its interviews, its feedback's
//! state, a quick vote, and the names it shows (a person, a competency,
//! the candidate renamed or erased) — the very next read, answered by an
//! instance that had the view cached, equals the answer of an instance
//! that keeps nothing, byte for byte, ETag included; for every caller,
//! including the ones it must refuse; and a write through another instance
//! on the same database is seen just the same.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::fixtures::LoopSetup;
use crate::helpers::*;

/// `GET /loops/{id}` against the instance at `base`: status, ETag, body.
async fn view_at(app: &TestApp, base: &str, loop_id: &str, s: &Session) -> (u16, String, Value) {
    let resp = app
        .client
        .get(format!("{base}/api/v1/loops/{loop_id}"))
        .bearer_auth(&s.token)
        .send()
        .await
        .expect("request sent");
    let status = resp.status().as_u16();
    let etag = resp
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, etag, resp.json().await.unwrap())
}

/// Every caller's answer from the caching instance equals the uncached
/// instance's; returns the hiring manager's view.
async fn same_for_everyone(app: &TestApp, uncached: &Twin, setup: &LoopSetup) -> Value {
    let id = setup.loop_id.to_string();
    let c = &setup.cast;
    let mut callers = vec![
        &c.admin,
        &c.recruiter,
        &c.other_recruiter,
        &c.hiring_manager,
        &c.bar_raiser,
        &c.shadow,
        &c.outsider,
    ];
    callers.extend(c.interviewers.iter());
    let mut hm = Value::Null;
    for s in callers {
        let cached = view_at(app, &app.base, &id, s).await;
        let fresh = view_at(app, &uncached.base, &id, s).await;
        assert_eq!(cached, fresh, "{}: the cached answer differs", s.email);
        if s.id == c.hiring_manager.id {
            assert_eq!(cached.0, 200);
            hm = cached.2.clone();
        }
        if s.id == c.outsider.id {
            assert_eq!(cached.0, 404, "an outsider sees the loop: {:?}", cached.2);
        }
    }
    hm
}

/// Reads the view twice through `app` and asserts the second read was
/// answered from the cache: one statement, the caller's account and the
/// loop's key together.
async fn cached(app: &TestApp, setup: &LoopSetup) {
    let path = format!("/loops/{}", setup.loop_id);
    let hm = &setup.cast.hiring_manager;
    let (status, _) = app.get(&path, hm).await;
    assert_eq!(status, StatusCode::OK);
    let before = app.state.db.counts();
    let (status, _) = app.get(&path, hm).await;
    assert_eq!(status, StatusCode::OK);
    let spent = app.state.db.counts().statements - before.statements;
    assert!(spent <= 1, "a repeated loop view ran {spent} statements");
}

fn interview(view: &Value, id: uuid::Uuid) -> &Value {
    view["interviews"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == id.to_string())
        .expect("interview in the view")
}

#[track_caller]
fn ok(got: (StatusCode, Value)) -> Value {
    assert!(got.0.is_success(), "{} {}", got.0, got.1);
    got.1
}

async fn every_write_shows_on_the_next_read(backend: Backend) {
    // Quick votes stay open a day after each interview.
    let Some(app) = TestApp::spawn_with(backend, |c| c.quick_vote_window_minutes = 24 * 60).await
    else {
        return;
    };
    let uncached = app.twin_with(|c| c.view_cache = 0).await;
    let setup = app.draft_loop().await;
    let c = &setup.cast;
    let path = format!("/loops/{}", setup.loop_id);
    let (i0, i1, i3) = (
        setup.interview_of(&c.interviewers[0]),
        setup.interview_of(&c.interviewers[1]),
        setup.interview_of(&c.interviewers[3]),
    );

    // The loop itself.
    cached(&app, &setup).await;
    ok(app
        .patch(
            &path,
            &c.recruiter,
            json!({"position": "Staff Engineer", "quick_vote": "optional"}),
        )
        .await);
    let v = same_for_everyone(&app, &uncached, &setup).await;
    assert_eq!(
        (v["position"].as_str(), v["quick_vote"].as_str()),
        (Some("Staff Engineer"), Some("optional"))
    );

    cached(&app, &setup).await;
    ok(app
        .post(&format!("{path}/schedule"), &c.recruiter, json!({}))
        .await);
    let v = same_for_everyone(&app, &uncached, &setup).await;
    assert_eq!(v["state"], "scheduled");

    // Feedback states, a quick vote, an excuse.
    cached(&app, &setup).await;
    ok(app.draft(&c.interviewers[0], i0, "strong_hire").await);
    let v = same_for_everyone(&app, &uncached, &setup).await;
    assert_eq!(interview(&v, i0)["feedback_state"], "draft");

    cached(&app, &setup).await;
    ok(app
        .post(
            &format!("/interviews/{i1}/quick-vote"),
            &c.interviewers[1],
            json!({"vote": "inclined_to_hire"}),
        )
        .await);
    let v = same_for_everyone(&app, &uncached, &setup).await;
    assert!(interview(&v, i1)["quick_voted_at"].is_string(), "{v}");

    cached(&app, &setup).await;
    ok(app.seal(&c.interviewers[0], i0).await);
    let v = same_for_everyone(&app, &uncached, &setup).await;
    assert_eq!(interview(&v, i0)["feedback_state"], "sealed");
    assert_eq!(v["sealed_count"], 1);

    cached(&app, &setup).await;
    ok(app
        .post(
            &format!("/interviews/{i3}/excuse"),
            &c.bar_raiser,
            json!({"reason": "Interviewer on leave; two others covered the competency."}),
        )
        .await);
    let v = same_for_everyone(&app, &uncached, &setup).await;
    assert_eq!(interview(&v, i3)["feedback_state"], "excused");

    // A new interviewer: the loop's audience changes with it.
    let newcomer = app.user("Nell Newcomer", "member", false).await;
    let (status, _) = app.get(&path, &newcomer).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    cached(&app, &setup).await;
    let (status, body) = app
        .add_interview(
            &c.recruiter,
            setup.loop_id,
            &newcomer,
            &setup.competencies[..1],
            "shadow",
            1,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let v = same_for_everyone(&app, &uncached, &setup).await;
    assert_eq!(v["interviews"].as_array().unwrap().len(), 7);
    let (status, seen) = app.get(&path, &newcomer).await;
    assert_eq!(status, StatusCode::OK, "{seen}");

    // Names the view shows, changed without touching the loop.
    cached(&app, &setup).await;
    ok(app
        .patch(
            &format!("/users/{}", c.hiring_manager.id),
            &c.admin,
            json!({"name": "Hana Renamed"}),
        )
        .await);
    let v = same_for_everyone(&app, &uncached, &setup).await;
    assert_eq!(v["hiring_manager"]["name"], "Hana Renamed");

    cached(&app, &setup).await;
    let competency = setup.competencies[0];
    ok(app
        .patch(
            &format!("/competencies/{competency}"),
            &c.admin,
            json!({"name": "Renamed competency"}),
        )
        .await);
    let v = same_for_everyone(&app, &uncached, &setup).await;
    assert!(
        v["required_competencies"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "Renamed competency"),
        "{v}"
    );

    cached(&app, &setup).await;
    let candidate = format!("/candidates/{}", setup.candidate_id);
    ok(app
        .patch(&candidate, &c.recruiter, json!({"name": "Casey Renamed"}))
        .await);
    let v = same_for_everyone(&app, &uncached, &setup).await;
    assert_eq!(v["candidate"]["name"], "Casey Renamed");

    cached(&app, &setup).await;
    ok(app.delete(&candidate, &c.recruiter).await);
    let v = same_for_everyone(&app, &uncached, &setup).await;
    assert_eq!(v["candidate"]["erased"], true);
    assert_ne!(v["candidate"]["name"], "Casey Renamed");

    cached(&app, &setup).await;
    ok(app
        .post(
            &format!("{path}/cancel"),
            &c.recruiter,
            json!({"reason": "The candidate accepted another offer."}),
        )
        .await);
    let v = same_for_everyone(&app, &uncached, &setup).await;
    assert_eq!(v["state"], "cancelled");

    // The caller is settled in the cached view's own statement: a
    // deactivated account's session is refused at once, by the instance
    // holding the view as by one that keeps nothing.
    cached(&app, &setup).await;
    ok(app
        .patch(
            &format!("/users/{}", c.hiring_manager.id),
            &c.admin,
            json!({"active": false}),
        )
        .await);
    let id = setup.loop_id.to_string();
    let refused = view_at(&app, &app.base, &id, &c.hiring_manager).await;
    assert_eq!(refused.0, 401, "{:?}", refused.2);
    assert_eq!(refused.2["code"], "invalid_token");
    assert_eq!(
        refused,
        view_at(&app, &uncached.base, &id, &c.hiring_manager).await
    );
    // The others still read it from the cache.
    let (status, _) = app.get(&path, &c.recruiter).await;
    assert_eq!(status, StatusCode::OK);
}
both_backends!(every_write, backend => super::every_write_shows_on_the_next_read);

async fn a_write_through_another_instance_shows_on_the_next_read(app: TestApp) {
    let other = app.twin().await;
    let setup = app.draft_loop().await;
    let c = &setup.cast;
    let id = setup.loop_id.to_string();
    let hm = &c.hiring_manager;
    // Both instances hold the view.
    for base in [&app.base, &other.base] {
        for _ in 0..2 {
            assert_eq!(view_at(&app, base, &id, hm).await.0, 200);
        }
    }
    let send = |base: &str, method: reqwest::Method, path: String, s: &Session, body: Value| {
        app.client
            .request(method, format!("{base}/api/v1{path}"))
            .bearer_auth(&s.token)
            .json(&body)
            .send()
    };
    // A loop edit through the other instance, read through this one.
    let resp = send(
        &other.base,
        reqwest::Method::PATCH,
        format!("/loops/{id}"),
        &c.recruiter,
        json!({"position": "Principal Engineer"}),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let (_, _, v) = view_at(&app, &app.base, &id, hm).await;
    assert_eq!(v["position"], "Principal Engineer");
    // A rename through this instance, read through the other.
    assert_eq!(view_at(&app, &other.base, &id, hm).await.0, 200);
    let resp = send(
        &app.base,
        reqwest::Method::PATCH,
        format!("/users/{}", c.bar_raiser.id),
        &c.admin,
        json!({"name": "Bo Renamed"}),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let (_, _, v) = view_at(&app, &other.base, &id, hm).await;
    assert_eq!(v["bar_raiser"]["name"], "Bo Renamed");
    // And both answer the same, ETag included.
    assert_eq!(
        view_at(&app, &app.base, &id, hm).await,
        view_at(&app, &other.base, &id, hm).await
    );
}
both_backends!(
    two_instances,
    a_write_through_another_instance_shows_on_the_next_read
);

/// A kept view is kept as JSON, and an interview's `overdue` turns with the
/// clock, not with a write: the kept JSON says until when it is right, and
/// the first read after the interview falls due (still one statement, still
/// from the cache) says `overdue`, as an instance that keeps nothing does.
async fn overdue_turns_without_a_write(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let uncached = app.twin_with(|c| c.view_cache = 0).await;
    let setup = app.scheduled_loop().await;
    let c = &setup.cast;
    let path = format!("/loops/{}", setup.loop_id);
    let i0 = setup.interview_of(&c.interviewers[0]);
    let v = ok(app.get(&path, &c.hiring_manager).await);
    let hours = v["feedback_due_hours"].as_i64().unwrap();
    // Due three seconds from now.
    let due = bar_raiser::db::now() + chrono::Duration::seconds(3);
    let starts = due - chrono::Duration::hours(hours) - chrono::Duration::minutes(60);
    app.sql(format!(
        "UPDATE interviews SET starts_at = '{}', duration_minutes = 60 WHERE id = '{i0}'",
        starts.naive_utc().format("%Y-%m-%d %H:%M:%S%.f")
    ))
    .await;
    let v = same_for_everyone(&app, &uncached, &setup).await;
    assert_eq!(interview(&v, i0)["overdue"], false);
    cached(&app, &setup).await;
    let wait = (due - chrono::Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(wait + std::time::Duration::from_millis(200)).await;
    let before = app.state.db.counts();
    let v = ok(app.get(&path, &c.hiring_manager).await);
    let spent = app.state.db.counts().statements - before.statements;
    assert!(
        spent <= 1,
        "the view after the due time ran {spent} statements"
    );
    assert_eq!(interview(&v, i0)["overdue"], true, "{v}");
    let v = same_for_everyone(&app, &uncached, &setup).await;
    assert_eq!(interview(&v, i0)["overdue"], true);
    // Other interviews of the loop stay as they were.
    for s in &c.interviewers[1..] {
        assert_eq!(interview(&v, setup.interview_of(s))["overdue"], false);
    }
}
both_backends!(overdue_turns, backend => super::overdue_turns_without_a_write);
