//! Statement budgets of the hot paths, counted by the pool's census
//! (`db::census`): a read costs the same number of statements however big
//! its loop is — no query per interview, per person or per rating — and
//! stays within the budget BENCHMARKS.md lists.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::fixtures::LoopSetup;

use crate::both_backends;
use crate::helpers::*;

/// Statements run by the server for one request (the test is its only
/// client, and nothing runs in the background of a test app).
async fn statements_of<F, Fut>(app: &TestApp, call: F) -> (u64, Value)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = (StatusCode, Value)>,
{
    // Once to warm: first use of a statement on a connection prepares it.
    let (status, _) = call().await;
    assert_eq!(status, StatusCode::OK);
    let before = app.state.db.counts();
    let (status, body) = call().await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let after = app.state.db.counts();
    (after.statements - before.statements, body)
}

/// A loop view read right after a write to its loop (the cached view is no
/// longer current, `workflows::cache`), and then once more (answered from
/// the cache): statements of each.
async fn miss_then_hit(app: &TestApp, setup: &LoopSetup, n: usize) -> (u64, u64, Value) {
    let path = format!("/loops/{}", setup.loop_id);
    let hm = &setup.cast.hiring_manager;
    let (status, body) = app
        .patch(
            &path,
            &setup.cast.recruiter,
            json!({"level": format!("L{n}")}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let before = app.state.db.counts();
    let (status, _) = app.get(&path, hm).await;
    assert_eq!(status, StatusCode::OK);
    let miss = app.state.db.counts().statements - before.statements;
    let (hit, body) = statements_of(app, || app.get(&path, hm)).await;
    assert_eq!(body["level"], format!("L{n}"));
    (miss, hit, body)
}

async fn loop_view_costs_the_same_for_any_loop_size(app: TestApp) {
    let setup = app.draft_loop().await;
    // Once, so every statement is prepared on the connection.
    miss_then_hit(&app, &setup, 5).await;
    let (six_miss, six, body) = miss_then_hit(&app, &setup, 6).await;
    assert_eq!(body["interviews"].as_array().unwrap().len(), 6);

    // Six more interviewers, each with two competencies.
    for n in 0..6 {
        let who = app.user(&format!("Extra {n}"), "member", false).await;
        let (status, i) = app
            .add_interview(
                &setup.cast.recruiter,
                setup.loop_id,
                &who,
                &setup.competencies[..2],
                "interviewer",
                -1,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{i}");
    }
    let (twelve_miss, twelve, body) = miss_then_hit(&app, &setup, 7).await;
    assert_eq!(body["interviews"].as_array().unwrap().len(), 12);
    assert!(
        body["interviews"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| !i["interviewer"]["name"].as_str().unwrap().is_empty()),
        "every interviewer is named: {body}"
    );
    assert_eq!(
        six, twelve,
        "statements per cached loop view grew with the loop"
    );
    assert_eq!(
        six_miss, twelve_miss,
        "statements per loop view grew with the loop"
    );
    // Cached: one statement, the caller's account with the loop's version
    // and the names' generation.
    assert!(six <= 1, "a cached loop view ran {six} statements");
    // Not cached: that one, then the loop, its competencies, interviews,
    // their competencies, feedback states, people, competency names, the
    // candidate.
    assert!(six_miss <= 9, "loop view ran {six_miss} statements");
}

both_backends!(loop_view, loop_view_costs_the_same_for_any_loop_size);

async fn loop_feedback_costs_the_same_for_any_number_of_seals(app: TestApp) {
    let setup = app.scheduled_loop().await;
    let voters = setup.cast.voters();
    let me = voters[0];
    app.draft_and_seal(me, setup.interview_of(me), "inclined_to_hire")
        .await;
    app.draft_and_seal(voters[1], setup.interview_of(voters[1]), "strong_hire")
        .await;
    let path = format!("/loops/{}/feedback", setup.loop_id);
    let (two, body) = statements_of(&app, || app.get(&path, me)).await;
    let readable = |body: &Value| {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["feedback"].is_object())
            .count()
    };
    assert_eq!(readable(&body), 2);

    for v in &voters[2..] {
        app.draft_and_seal(v, setup.interview_of(v), "inclined_not_to_hire")
            .await;
    }
    let (five, body) = statements_of(&app, || app.get(&path, me)).await;
    assert_eq!(readable(&body), 5);
    // Every read of someone else's sealed feedback is logged, inside one
    // transaction: per other author one read-log row and its chain event
    // (head bump, head hash, event) — the only part that grows.
    assert_eq!(
        five - two,
        3 * 4,
        "{two} statements with two readable, {five} with five"
    );
}

both_backends!(
    loop_feedback,
    loop_feedback_costs_the_same_for_any_number_of_seals
);
