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
    // their competencies, feedback states (on PostgreSQL one statement),
    // people, competency names, the candidate.
    let budget = match app.backend {
        Backend::Sqlite => 9,
        Backend::Postgres => 5,
    };
    assert!(six_miss <= budget, "loop view ran {six_miss} statements");
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
    // (head bump, head hash, event; on PostgreSQL the last two are one
    // statement) — the only part that grows.
    let per_read = match app.backend {
        Backend::Sqlite => 4,
        Backend::Postgres => 3,
    };
    assert_eq!(
        five - two,
        3 * per_read,
        "{two} statements with two readable, {five} with five"
    );
}

both_backends!(
    loop_feedback,
    loop_feedback_costs_the_same_for_any_number_of_seals
);

/// A write's statements and its answer.
async fn write_costs<Fut>(app: &TestApp, call: Fut) -> (u64, StatusCode, Value)
where
    Fut: std::future::Future<Output = (StatusCode, Value)>,
{
    let before = app.state.db.counts();
    let (status, body) = call.await;
    let spent = app.state.db.counts() - before;
    (spent.statements, status, body)
}

/// A draft save and a seal render their answer from what the write holds
/// (`own_view`): the answer must be exactly what a read of the author's
/// feedback says right after, and the statements of each write must not
/// grow with the loop or the number of ratings.
async fn feedback_writes_answer_what_a_read_says(app: TestApp) {
    let setup = app.scheduled_loop().await;
    let voters = setup.cast.voters();
    let mut costs = Vec::new();
    for (n, v) in voters.iter().enumerate() {
        let interview = setup.interview_of(v);
        let path = format!("/interviews/{interview}/feedback");
        let body = app.complete_draft(v, interview, "inclined_to_hire").await;
        let ratings = body["ratings"].as_array().unwrap().len() as u64;
        let (draft, status, saved) = write_costs(&app, app.put(&path, v, body.clone())).await;
        assert_eq!(status, StatusCode::OK, "{saved}");
        let (status, read) = app.get(&path, v).await;
        assert_eq!(status, StatusCode::OK, "{read}");
        assert_eq!(
            saved, read,
            "a draft's answer differs from the read after it"
        );
        assert_eq!(saved["revision"], 1);

        // The same content again changes nothing and answers the same.
        let (_, status, again) = write_costs(&app, app.put(&path, v, body)).await;
        assert_eq!(status, StatusCode::OK, "{again}");
        assert_eq!(
            again, read,
            "an unchanged save answers other than the stored draft"
        );

        let (seal, status, sealed) = write_costs(&app, app.seal(v, interview)).await;
        assert_eq!(status, StatusCode::OK, "{sealed}");
        let (status, read) = app.get(&path, v).await;
        assert_eq!(status, StatusCode::OK, "{read}");
        assert_eq!(
            sealed, read,
            "a seal's answer differs from the read after it"
        );
        assert_eq!(sealed["state"], "sealed");
        assert!(sealed["content_sha256"].is_string());
        // One insert per rating; the rest does not depend on the draft.
        costs.push((n, draft - ratings, seal));
    }
    // The last seal also announces the loop ready for its debrief (mail:
    // more statements), so compare the seals before it.
    let seals: Vec<u64> = costs[..costs.len() - 1].iter().map(|c| c.2).collect();
    let drafts: Vec<u64> = costs.iter().map(|c| c.1).collect();
    assert!(
        seals.windows(2).all(|w| w[0] == w[1]),
        "seal statements vary with the number of ratings: {costs:?}"
    );
    assert!(
        drafts.windows(2).all(|w| w[0] == w[1]),
        "draft statements vary beyond one insert per rating: {costs:?}"
    );
    // The caller, BEGIN, the loop's lock (its interview in the same
    // statement), its competencies, interviews, interview competencies and
    // feedback (on PostgreSQL one statement), the ratings to hash with
    // their competencies' names, the seal, the chain's head bump, its event
    // and head hash (on PostgreSQL one statement), the webhook subscribers,
    // COMMIT.
    let budget = match app.backend {
        Backend::Sqlite => 14,
        Backend::Postgres => 10,
    };
    assert!(
        seals[0] <= budget,
        "a seal ran {} statements: {costs:?}",
        seals[0]
    );
}

/// PostgreSQL reads a loop whole in one statement (a JSON document the
/// database builds, `db::loops`); it must read exactly what the statement
/// per table reads: every interview, its competencies in order, quick
/// votes, feedback rows with their nulls and timestamps to the microsecond.
async fn a_loop_reads_the_same_in_one_statement(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |c| c.quick_vote_window_minutes = 24 * 60).await
    else {
        return;
    };
    let setup = app.scheduled_loop().await;
    let cast = &setup.cast;
    let (i0, i1, i2) = (
        &cast.interviewers[0],
        &cast.interviewers[1],
        &cast.interviewers[2],
    );
    let (status, q) = app
        .post(
            &format!("/interviews/{}/quick-vote", setup.interview_of(i0)),
            i0,
            json!({"vote": "inclined_to_hire"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{q}");
    app.draft_and_seal(i1, setup.interview_of(i1), "strong_hire")
        .await;
    let (status, d) = app
        .draft(i2, setup.interview_of(i2), "strong_no_hire")
        .await;
    assert_eq!(status, StatusCode::OK, "{d}");
    let (status, e) = app
        .post(
            &format!(
                "/interviews/{}/excuse",
                setup.interview_of(&cast.interviewers[3])
            ),
            &cast.bar_raiser,
            json!({"reason": "the shadow was ill"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{e}");

    let id = bar_raiser::db::LoopId::from(setup.loop_id);
    let mut conn = app.state.db.conn().unwrap();
    let by_table = bar_raiser::db::loops::bundle_in_statements(&mut conn, id)
        .unwrap()
        .unwrap();
    let whole = bar_raiser::db::loops::bundle(&mut conn, id)
        .unwrap()
        .unwrap();
    let through_interview =
        bar_raiser::db::loops::bundle_of_interview(&mut conn, setup.interview_of(i1).into(), false)
            .unwrap()
            .unwrap();
    // What the comparison must cover is there.
    assert_eq!(by_table.interviews.len(), 6);
    assert_eq!(by_table.quick_votes.len(), 1);
    assert!(by_table.interviews.iter().any(|i| i.excused_at.is_some()));
    let states: Vec<_> = by_table.feedback.values().map(|f| f.state).collect();
    assert_eq!(states.len(), 2, "{states:?}");
    assert!(by_table.feedback.values().any(|f| f.sealed_at.is_some()));
    let expected = canonical(&by_table);
    assert_eq!(canonical(&whole), expected);
    assert_eq!(canonical(&through_interview), expected);
    // The locked read: the lock statement, then the rest in one.
    let locked = bar_raiser::db::write_tx(&mut conn, |conn| {
        bar_raiser::db::loops::bundle_of_interview(conn, setup.interview_of(i1).into(), true)
    })
    .unwrap()
    .unwrap();
    assert_eq!(locked.row.version, by_table.row.version + 1);
    let mut locked_as_read = locked.clone();
    locked_as_read.row.version = by_table.row.version;
    assert_eq!(canonical(&locked_as_read), expected);
    // Nothing there: no loop, no error.
    let none = bar_raiser::db::loops::bundle(&mut conn, uuid::Uuid::new_v4().into()).unwrap();
    assert!(none.is_none());
}

/// A bundle as text, its maps in key order.
fn canonical(b: &bar_raiser::db::loops::LoopBundle) -> String {
    use std::collections::BTreeMap;
    let sorted = |m: &dyn std::fmt::Debug| format!("{m:?}");
    format!(
        "row: {:?}\nrequired: {:?}\ninterviews: {:?}\ncompetencies: {}\nfeedback: {}\nquick_votes: {}",
        b.row,
        b.required_competency_ids,
        b.interviews,
        sorted(&b.competencies.iter().collect::<BTreeMap<_, _>>()),
        sorted(&b.feedback.iter().collect::<BTreeMap<_, _>>()),
        sorted(&b.quick_votes.iter().collect::<BTreeMap<_, _>>()),
    )
}

both_backends!(
    one_statement_loop,
    backend => super::a_loop_reads_the_same_in_one_statement
);

both_backends!(feedback_writes, feedback_writes_answer_what_a_read_says);
