//! Quick votes (issue 17): committed once within the window after the
//! interview, sealed like feedback, read exactly where the sealed vote is,
//! shown beside the sealed and debrief votes, and proved by the chain.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::fixtures::*;
use crate::helpers::*;

fn qv(interview: Uuid) -> String {
    format!("/interviews/{interview}/quick-vote")
}

async fn commit(app: &TestApp, s: &Session, interview: Uuid, vote: &str) -> (StatusCode, Value) {
    app.post(&qv(interview), s, json!({ "vote": vote })).await
}

/// Moves an interview (as the loop's recruiter) so it ended `minutes_ago`.
async fn ended(app: &TestApp, setup: &LoopSetup, interview: Uuid, minutes_ago: i64) {
    let starts = Utc::now() - Duration::minutes(60 + minutes_ago);
    let (status, body) = app
        .patch(
            &format!("/interviews/{interview}"),
            &setup.cast.recruiter,
            json!({ "starts_at": starts.to_rfc3339() }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn set_mode(app: &TestApp, setup: &LoopSetup, mode: &str) -> Value {
    let (status, body) = app
        .patch(
            &format!("/loops/{}", setup.loop_id),
            &setup.cast.recruiter,
            json!({ "quick_vote": mode }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["quick_vote"], mode);
    body
}

/// The whole path with a window of a day (the fixture's interviews ended
/// one to five hours ago): who may commit, who may read, the debrief's
/// amended flag, the trail and its proof.
async fn committing_reading_and_the_debrief(backend: Backend) {
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
    let iv0 = setup.interview_of(i0);
    let (_, l) = app
        .get(&format!("/loops/{}", setup.loop_id), &cast.recruiter)
        .await;
    assert_eq!(l["quick_vote"], "optional", "the default");

    // Committing: once, the interviewer only, voting interviews only.
    let (status, q) = commit(&app, i0, iv0, "inclined_to_hire").await;
    assert_eq!(status, StatusCode::CREATED, "{q}");
    assert_eq!(q["vote"], "inclined_to_hire");
    assert_eq!(q["interview_id"], iv0.to_string());
    assert_eq!(q["receipt"].as_str().unwrap().len(), 64);
    assert_problem(
        &commit(&app, i0, iv0, "strong_hire").await,
        409,
        "quick_vote_committed",
    );
    assert_problem(
        &commit(&app, i1, iv0, "strong_hire").await,
        403,
        "not_the_interviewer",
    );
    assert_problem(
        &commit(&app, &cast.outsider, iv0, "strong_hire").await,
        404,
        "not_found",
    );
    let shadow = setup.interview_of(&cast.shadow);
    assert_problem(
        &commit(&app, &cast.shadow, shadow, "strong_hire").await,
        403,
        "not_voting_participant",
    );
    assert_problem(
        &app.post(&qv(setup.interview_of(i1)), i1, json!({"vote": "neutral"}))
            .await,
        422,
        "invalid_body",
    );
    // After the seal a quick vote would prove nothing.
    app.draft_and_seal(i2, setup.interview_of(i2), "strong_hire")
        .await;
    assert_problem(
        &commit(&app, i2, setup.interview_of(i2), "strong_hire").await,
        409,
        "already_sealed",
    );
    // The interview shows that it was quick-voted (status), never how.
    let (_, iv) = app
        .get(&format!("/interviews/{iv0}"), &cast.recruiter)
        .await;
    assert_eq!(iv["quick_voted_at"], q["committed_at"]);
    assert!(!iv.to_string().contains("inclined_to_hire"), "{iv}");
    // A quick vote is feedback started: the interview no longer moves.
    assert_problem(
        &app.patch(
            &format!("/interviews/{iv0}"),
            &cast.recruiter,
            json!({"duration_minutes": 45}),
        )
        .await,
        409,
        "interview_has_feedback",
    );

    // Reading: the author always; anyone else exactly as the sealed vote.
    let (status, own) = app.get(&qv(iv0), i0).await;
    assert_eq!(status, StatusCode::OK, "{own}");
    assert_eq!(own, q);
    for (who, code) in [
        (i1, "seal_own_feedback_first"),
        (&cast.hiring_manager, "seal_own_feedback_first"),
        (&cast.recruiter, "not_until_debrief"),
        (&cast.admin, "break_glass_required"),
        (&cast.other_recruiter, "not_a_participant"),
    ] {
        assert_problem(&app.get(&qv(iv0), who).await, 403, code);
    }
    assert_problem(&app.get(&qv(iv0), &cast.outsider).await, 404, "not_found");
    // Interviewer 2 has sealed, but interviewer 0 has not: the quick vote
    // stays closed, as the sealed vote does.
    assert_problem(&app.get(&qv(iv0), i2).await, 403, "feedback_not_sealed");
    // The author seals with another vote; now interviewer 2 reads both.
    app.draft_and_seal(i0, iv0, "strong_no_hire").await;
    let (status, read) = app.get(&qv(iv0), i2).await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(read["vote"], "inclined_to_hire");
    // No quick vote: 404 to whoever may read it.
    assert_problem(
        &app.get(&qv(setup.interview_of(i2)), i2).await,
        404,
        "not_found",
    );

    // The trail records the commit with a receipt, never the vote.
    let lp = |p: &str| format!("/loops/{}{p}", setup.loop_id);
    let (_, audit) = app.get(&lp("/audit"), &cast.bar_raiser).await;
    let committed: Vec<&Value> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "quick_vote.committed")
        .collect();
    assert_eq!(committed.len(), 1);
    let keys: Vec<&String> = committed[0]["payload"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(keys, ["committed_at", "quick_vote_id", "receipt"]);
    assert_eq!(committed[0]["payload"]["receipt"], q["receipt"]);
    // Interviewer 2's read of it is logged as a read of that feedback.
    let reads = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "feedback.read" && e["actor_id"] == i2.id.to_string())
        .count();
    assert_eq!(reads, 1, "{audit}");

    // The debrief: quick, sealed and debrief votes side by side.
    for s in cast.voters() {
        if ![i0.id, i2.id].contains(&s.id) {
            app.draft_and_seal(s, setup.interview_of(s), "inclined_to_hire")
                .await;
        }
    }
    let (status, body) = app.post(&lp("/debrief"), &cast.bar_raiser, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, view) = app.get(&lp("/debrief"), &cast.hiring_manager).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    let row = |interview: Uuid| {
        view["votes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["interview_id"] == interview.to_string())
            .unwrap()
            .clone()
    };
    let r0 = row(iv0);
    assert_eq!(r0["quick_vote"], "inclined_to_hire");
    assert_eq!(r0["sealed_vote"], "strong_no_hire");
    assert_eq!(r0["amended"], true);
    assert_eq!(r0["quick_voted_at"], q["committed_at"]);
    assert!(r0["sealed_at"].is_string(), "{r0}");
    let r2 = row(setup.interview_of(i2));
    assert_eq!(r2["quick_vote"], Value::Null);
    assert_eq!(r2["amended"], Value::Null);
    assert_eq!(r2["sealed_vote"], "strong_hire");

    // The proof covers it: intact, then a deleted row is named.
    let v = app.verify_chain(&cast.recruiter, setup.loop_id).await;
    assert_eq!(v["valid"], true, "{v}");
    app.sql(format!(
        "DELETE FROM quick_votes WHERE interview_id = '{iv0}'"
    ))
    .await;
    let v = app.verify_chain(&cast.recruiter, setup.loop_id).await;
    assert_eq!(v["valid"], false, "{v}");
    assert_eq!(v["first_invalid_subject"]["kind"], "quick_vote");
    assert_eq!(v["first_invalid_subject"]["part"], "missing");
    assert_eq!(v["first_invalid_subject"]["id"], q["id"]);
}
crate::both_backends!(quick_votes, backend => super::committing_reading_and_the_debrief);

/// With the default window of 60 minutes: too early, on time, too late;
/// the loop setting `off`; `required` holding the debrief shut.
async fn the_window_and_the_setting(app: TestApp) {
    let setup = app.scheduled_loop().await;
    let cast = &setup.cast;
    let (i0, i1, i3) = (
        &cast.interviewers[0],
        &cast.interviewers[1],
        &cast.interviewers[3],
    );
    // Ended four hours ago: the window closed.
    assert_problem(
        &commit(&app, i0, setup.interview_of(i0), "strong_hire").await,
        422,
        "quick_vote_closed",
    );
    // Not ended yet (it starts in an hour).
    let iv1 = setup.interview_of(i1);
    ended(&app, &setup, iv1, -120).await;
    assert_problem(
        &commit(&app, i1, iv1, "strong_hire").await,
        422,
        "quick_vote_too_early",
    );
    // Ended half an hour ago: on time.
    ended(&app, &setup, iv1, 30).await;
    let (status, body) = commit(&app, i1, iv1, "strong_hire").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // Off: no quick votes at all.
    let iv3 = setup.interview_of(i3);
    ended(&app, &setup, iv3, 30).await;
    set_mode(&app, &setup, "off").await;
    assert_problem(
        &commit(&app, i3, iv3, "strong_hire").await,
        422,
        "quick_vote_off",
    );
    assert_problem(
        &app.patch(
            &format!("/loops/{}", setup.loop_id),
            &cast.recruiter,
            json!({"quick_vote": "sometimes"}),
        )
        .await,
        422,
        "invalid_body",
    );

    // Required: everyone seals, yet the debrief stays shut while voting
    // interviews have no quick vote and no excuse.
    let l = set_mode(&app, &setup, "required").await;
    assert_eq!(l["quick_vote"], "required");
    for s in cast.voters() {
        app.draft_and_seal(s, setup.interview_of(s), "inclined_to_hire")
            .await;
    }
    let lp = format!("/loops/{}", setup.loop_id);
    let (_, l) = app.get(&lp, &cast.bar_raiser).await;
    assert_eq!(l["ready_for_debrief"], false, "{l}");
    let got = app
        .post(&format!("{lp}/debrief"), &cast.bar_raiser, json!({}))
        .await;
    assert_problem(&got, 409, "quick_votes_outstanding");
    let missing: Vec<&str> = got.1["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    // Five voters (the Bar Raiser and four interviewers), one quick vote.
    assert_eq!(missing, ["quick_vote_missing"; 4]);
    // The recruiter relaxes the setting: the debrief opens.
    set_mode(&app, &setup, "optional").await;
    let (status, body) = app
        .post(&format!("{lp}/debrief"), &cast.bar_raiser, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The setting is part of the trail.
    let (_, audit) = app.get(&format!("{lp}/audit"), &cast.recruiter).await;
    let settings: Vec<&Value> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["payload"].get("quick_vote_setting"))
        .filter(|v| !v.is_null())
        .collect();
    assert_eq!(settings, ["optional", "off", "required", "optional"]);
}
crate::both_backends!(window_and_setting, the_window_and_the_setting);

/// (recipient, dedupe key) of every queued quick-vote reminder (the key is
/// `quick_vote:{interview}:{recipient}`).
async fn quick_vote_reminders(app: &TestApp) -> Vec<(String, String)> {
    let db = app.state.db.clone();
    actix_web::web::block(move || {
        use bar_raiser::db::schema::outbox;
        use diesel::prelude::*;
        let mut conn = db.conn().unwrap();
        outbox::table
            .select((outbox::recipient, outbox::dedupe_key))
            .load::<(String, Option<String>)>(&mut *conn)
            .unwrap()
            .into_iter()
            .filter_map(|(to, key)| Some((to, key?)))
            .filter(|(_, key)| key.starts_with("quick_vote:"))
            .collect()
    })
    .await
    .unwrap()
}

async fn scan(app: &TestApp) -> usize {
    bar_raiser::notify::reminders::queue_due(
        &app.state.db,
        "http://bar-raiser.example",
        bar_raiser::db::now(),
        bar_raiser::domain::quickvote::DEFAULT_WINDOW_MINUTES,
    )
    .await
    .unwrap()
}

/// With `required`, the interviewer whose interview has just ended hears
/// once that a quick vote is due; closed windows and `optional` loops stay
/// silent.
async fn the_reminder(app: TestApp) {
    let setup = app.scheduled_loop().await;
    let i1 = &setup.cast.interviewers[1];
    let iv1 = setup.interview_of(i1);
    ended(&app, &setup, iv1, 10).await;
    scan(&app).await;
    assert_eq!(quick_vote_reminders(&app).await, [], "optional: silent");
    set_mode(&app, &setup, "required").await;
    scan(&app).await;
    scan(&app).await;
    // Only the interview whose window is open; once.
    assert_eq!(
        quick_vote_reminders(&app).await,
        [(i1.email.clone(), format!("quick_vote:{iv1}:{}", i1.email))]
    );
}
crate::both_backends!(reminder, the_reminder);
