use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::fixtures::*;
use crate::helpers::*;

const VOTES: [&str; 5] = [
    "strong_hire",
    "inclined_to_hire",
    "inclined_to_hire",
    "inclined_not_to_hire",
    "strong_hire",
];

/// Seals every voting interview (Bar Raiser first) with the votes above.
async fn seal_all(app: &TestApp, setup: &LoopSetup) {
    for (s, vote) in setup.cast.voters().into_iter().zip(VOTES) {
        app.draft_and_seal(s, setup.interview_of(s), vote).await;
    }
}

fn row_of<'a>(view: &'a Value, s: &Session) -> &'a Value {
    view["votes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["voter"]["id"] == s.id.to_string())
        .unwrap()
}

async fn from_creation_to_a_vetoed_hire(app: TestApp) {
    let setup = app.scheduled_loop().await;
    let cast = &setup.cast;
    let lp = |suffix: &str| format!("/loops/{}{suffix}", setup.loop_id);
    seal_all(&app, &setup).await;
    // The shadow never sealed: that does not hold the debrief.
    let (_, l) = app.get(&lp(""), &cast.recruiter).await;
    assert_eq!(l["ready_for_debrief"], true);
    assert_problem(
        &app.post(&lp("/debrief"), &cast.hiring_manager, json!({}))
            .await,
        403,
        "not_bar_raiser",
    );
    assert_problem(
        &app.post(
            &lp("/decision"),
            &cast.hiring_manager,
            json!({"outcome": "hire", "rationale": "r"}),
        )
        .await,
        409,
        "debrief_not_open",
    );
    assert_problem(
        &app.get(&lp("/debrief"), &cast.bar_raiser).await,
        409,
        "debrief_not_open",
    );
    let (status, l) = app.post(&lp("/debrief"), &cast.bar_raiser, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{l}");
    assert_eq!(l["state"], "debrief");
    // Feedback is frozen now; addenda remain possible.
    let shadow_interview = setup.interview_of(&cast.shadow);
    assert_problem(
        &app.draft(&cast.shadow, shadow_interview, "strong_hire")
            .await,
        409,
        "feedback_frozen",
    );
    let mine = setup.interview_of(&cast.interviewers[0]);
    assert_eq!(
        app.post(
            &format!("/interviews/{mine}/feedback/addenda"),
            &cast.interviewers[0],
            json!({"text": "Clarifying a rating after the fact."})
        )
        .await
        .0,
        StatusCode::CREATED
    );
    // Content opens to participants and the loop's recruiter.
    assert_eq!(
        app.get(&format!("/interviews/{mine}/feedback"), &cast.recruiter)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        app.get(
            &format!("/interviews/{mine}/feedback"),
            &cast.hiring_manager
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_problem(
        &app.get(
            &format!("/interviews/{mine}/feedback"),
            &cast.other_recruiter,
        )
        .await,
        403,
        "not_a_participant",
    );

    // Re-votes: two voters change their minds.
    assert_problem(
        &app.put(
            &lp("/debrief/votes/me"),
            &cast.hiring_manager,
            json!({"vote": "strong_hire"}),
        )
        .await,
        403,
        "not_voting_participant",
    );
    assert_problem(
        &app.put(
            &lp("/debrief/votes/me"),
            &cast.interviewers[2],
            json!({"vote": "strong_hire"}),
        )
        .await,
        422,
        "rules_broken",
    );
    for (s, vote, why) in [
        (
            &cast.bar_raiser,
            "inclined_not_to_hire",
            "Ownership examples were all team wins; no personal ownership shown.",
        ),
        (
            &cast.interviewers[0],
            "inclined_to_hire",
            "Agree with the Bar Raiser's reading of the design round.",
        ),
        (&cast.interviewers[1], "inclined_to_hire", ""),
        (&cast.interviewers[2], "inclined_not_to_hire", ""),
        (&cast.interviewers[3], "strong_hire", ""),
    ] {
        let (status, v) = app
            .put(
                &lp("/debrief/votes/me"),
                s,
                json!({"vote": vote, "rationale": why}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{v}");
    }
    let (status, view) = app.get(&lp("/debrief"), &cast.hiring_manager).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["votes_revealed"], true);
    let br = row_of(&view, &cast.bar_raiser);
    assert_eq!(
        (
            br["sealed_vote"].as_str(),
            br["debrief_vote"].as_str(),
            br["changed"].as_bool()
        ),
        (
            Some("strong_hire"),
            Some("inclined_not_to_hire"),
            Some(true)
        )
    );
    assert_eq!(
        br["rationale"],
        "Ownership examples were all team wins; no personal ownership shown."
    );
    let same = row_of(&view, &cast.interviewers[1]);
    assert_eq!(same["changed"], false);
    assert_eq!(
        view["sealed_vote_counts"],
        json!({"strong_no_hire": 0, "inclined_not_to_hire": 1, "inclined_to_hire": 2, "strong_hire": 2})
    );
    assert_eq!(
        view["debrief_vote_counts"],
        json!({"strong_no_hire": 0, "inclined_not_to_hire": 2, "inclined_to_hire": 2, "strong_hire": 1})
    );
    // Every sealed feedback, with addenda; the matrix; independence.
    assert_eq!(view["feedback"].as_array().unwrap().len(), 5);
    let with_addendum = view["feedback"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["interview_id"] == mine.to_string())
        .unwrap();
    assert_eq!(with_addendum["addenda"].as_array().unwrap().len(), 1);
    let matrix = view["competency_matrix"].as_array().unwrap();
    assert_eq!(matrix.len(), 3);
    for row in matrix {
        assert!(
            row["ratings"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["rating"].is_i64()),
            "{row}"
        );
    }
    let first = matrix
        .iter()
        .find(|r| r["competency"]["id"] == setup.competencies[0].to_string())
        .unwrap();
    assert_eq!(
        first["ratings"].as_array().unwrap().len(),
        3,
        "Bar Raiser, interviewer two and four rated it"
    );
    let names: Vec<&str> = matrix
        .iter()
        .map(|r| r["competency"]["name"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "rows by competency name");
    let report = view["independence_report"].as_array().unwrap();
    assert_eq!(
        report.len(),
        7,
        "hiring manager, Bar Raiser, four interviewers, shadow"
    );
    assert!(
        report.iter().all(|l| l["independent"] == true),
        "{report:?}"
    );
    assert_eq!(view["independent"], true);
    assert!(view["break_glass_reads"].as_array().unwrap().is_empty());

    // The decision: only the hiring manager; a hire waits for the Bar Raiser.
    assert_problem(
        &app.post(
            &lp("/decision"),
            &cast.bar_raiser,
            json!({"outcome": "hire", "rationale": "r"}),
        )
        .await,
        403,
        "not_hiring_manager",
    );
    assert_problem(
        &app.post(
            &lp("/decision/veto"),
            &cast.bar_raiser,
            json!({"rationale": "x".repeat(60)}),
        )
        .await,
        409,
        "no_pending_hire",
    );
    let (status, l) = app.post(&lp("/decision"), &cast.hiring_manager, json!({"outcome": "hire", "rationale": "Strong delivery; will coach on ownership.", "recycle": true})).await;
    assert_eq!(status, StatusCode::OK, "{l}");
    assert_eq!(l["state"], "pending_bar_raiser");
    assert_problem(
        &app.put(
            &lp("/debrief/votes/me"),
            &cast.interviewers[0],
            json!({"vote": "strong_hire", "rationale": "late"}),
        )
        .await,
        409,
        "debrief_not_open",
    );
    assert_problem(
        &app.post(
            &lp("/decision"),
            &cast.hiring_manager,
            json!({"outcome": "no_hire", "rationale": "r"}),
        )
        .await,
        409,
        "already_decided",
    );
    assert_problem(
        &app.post(
            &lp("/decision/veto"),
            &cast.hiring_manager,
            json!({"rationale": "x".repeat(60)}),
        )
        .await,
        403,
        "not_bar_raiser",
    );
    assert_problem(
        &app.post(
            &lp("/decision/veto"),
            &cast.bar_raiser,
            json!({"rationale": "Too short."}),
        )
        .await,
        422,
        "rules_broken",
    );
    let rationale = "Below the bar on Ownership and Dive Deep in three of five interviews; the hire would lower the bar.";
    let (status, l) = app
        .post(
            &lp("/decision/veto"),
            &cast.bar_raiser,
            json!({"rationale": rationale}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{l}");
    assert_eq!(l["state"], "decided");
    let d = &l["decision"];
    assert_eq!(
        (
            d["outcome"].as_str(),
            d["final_outcome"].as_str(),
            d["vetoed"].as_bool()
        ),
        (Some("hire"), Some("no_hire"), Some(true))
    );
    assert_eq!(d["veto_rationale"], rationale);
    assert_eq!(d["decided_by"], cast.hiring_manager.id.to_string());
    assert_eq!(d["recycle"], true);
    assert_problem(
        &app.post(&lp("/decision/concur"), &cast.bar_raiser, json!({}))
            .await,
        409,
        "no_pending_hire",
    );
    assert_problem(
        &app.post(
            &lp("/cancel"),
            &cast.recruiter,
            json!({"reason": "too late"}),
        )
        .await,
        409,
        "loop_final",
    );
    // Final: addenda and reads only.
    assert_eq!(
        app.post(
            &format!("/interviews/{mine}/feedback/addenda"),
            &cast.interviewers[0],
            json!({"text": "Second note."})
        )
        .await
        .0,
        StatusCode::CREATED
    );
    // Vote table after the decision still shows both votes.
    let (_, view) = app.get(&lp("/debrief"), &cast.recruiter).await;
    assert_eq!(
        row_of(&view, &cast.bar_raiser)["sealed_vote"],
        "strong_hire"
    );
    // The whole story is in a chain that verifies.
    assert_eq!(
        app.verify_chain(&cast.bar_raiser, setup.loop_id).await["valid"],
        true
    );
    let (_, audit) = app.get(&lp("/audit"), &cast.recruiter).await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "loop.created",
        "loop.scheduled",
        "feedback.sealed",
        "debrief.opened",
        "debrief.vote_cast",
        "decision.recorded",
        "decision.vetoed",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    // The people who should hear about the veto did.
    let queued = app.outbox_recipients().await;
    for s in [&cast.hiring_manager, &cast.recruiter, &cast.bar_raiser] {
        assert!(queued.contains(&s.email));
    }
}
both_backends!(vetoed_hire, from_creation_to_a_vetoed_hire);

async fn the_report_shows_reads_and_break_glass_exactly(app: TestApp) {
    let setup = app.scheduled_loop().await;
    let cast = &setup.cast;
    let [a, b] = [&cast.interviewers[0], &cast.interviewers[1]];
    app.draft_and_seal(b, setup.interview_of(b), "strong_hire")
        .await;
    app.draft_and_seal(a, setup.interview_of(a), "inclined_to_hire")
        .await;
    // A reads B's feedback, after sealing their own.
    assert_eq!(
        app.get(
            &format!("/interviews/{}/feedback", setup.interview_of(b)),
            a
        )
        .await
        .0,
        StatusCode::OK
    );
    // An admin uses break-glass on B's.
    let reason = "Compliance review of interview conduct, ticket SEC-2291";
    assert_eq!(
        app.post(
            &format!("/interviews/{}/feedback/break-glass", setup.interview_of(b)),
            &cast.admin,
            json!({"reason": reason})
        )
        .await
        .0,
        StatusCode::OK
    );
    for s in [
        &cast.bar_raiser,
        &cast.interviewers[2],
        &cast.interviewers[3],
    ] {
        app.draft_and_seal(s, setup.interview_of(s), "inclined_to_hire")
            .await;
    }
    assert_eq!(
        app.post(
            &format!("/loops/{}/debrief", setup.loop_id),
            &cast.bar_raiser,
            json!({})
        )
        .await
        .0,
        StatusCode::OK
    );
    let (_, view) = app
        .get(
            &format!("/loops/{}/debrief", setup.loop_id),
            &cast.bar_raiser,
        )
        .await;
    let line = |s: &Session| {
        view["independence_report"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["participant"]["id"] == s.id.to_string())
            .unwrap()
            .clone()
    };
    let la = line(a);
    let sealed: chrono::DateTime<chrono::Utc> = la["sealed_at"].as_str().unwrap().parse().unwrap();
    let first_read: chrono::DateTime<chrono::Utc> =
        la["first_read_at"].as_str().unwrap().parse().unwrap();
    assert!(sealed < first_read);
    assert_eq!(la["independent"], true);
    // B read nothing before the debrief.
    assert!(line(b)["first_read_at"].is_null());
    // The admin's read is listed apart, exactly.
    let bg = view["break_glass_reads"].as_array().unwrap();
    assert_eq!(bg.len(), 1);
    assert_eq!(bg[0]["reader"]["id"], cast.admin.id.to_string());
    assert_eq!(bg[0]["interview_id"], setup.interview_of(b).to_string());
    assert_eq!(bg[0]["reason"], reason);
    assert_eq!(view["independent"], true);
    // The Bar Raiser's own view logged reads too, after the debrief opened.
    let (_, again) = app
        .get(
            &format!("/loops/{}/debrief", setup.loop_id),
            &cast.recruiter,
        )
        .await;
    let br = again["independence_report"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["participant"]["id"] == cast.bar_raiser.id.to_string())
        .unwrap()
        .clone();
    assert!(br["first_read_at"].is_string());
    assert_eq!(br["independent"], true);
}
both_backends!(
    independence_report,
    the_report_shows_reads_and_break_glass_exactly
);

async fn blind_revote(app: TestApp) {
    let setup = app.scheduled_loop().await;
    let cast = &setup.cast;
    seal_all(&app, &setup).await;
    let lp = |suffix: &str| format!("/loops/{}{suffix}", setup.loop_id);
    assert_eq!(
        app.post(&lp("/debrief"), &cast.bar_raiser, json!({}))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        app.put(
            &lp("/debrief/votes/me"),
            &cast.interviewers[0],
            json!({"vote": "strong_no_hire", "rationale": "Changed after hearing the panel."})
        )
        .await
        .0,
        StatusCode::OK
    );
    // Others see that a vote was cast, not which.
    let (_, view) = app.get(&lp("/debrief"), &cast.interviewers[1]).await;
    assert_eq!(view["votes_revealed"], false);
    let r = row_of(&view, &cast.interviewers[0]);
    assert_eq!(
        (
            r["has_voted"].as_bool(),
            r["debrief_vote"].is_null(),
            r["rationale"].is_null(),
            r["changed"].is_null()
        ),
        (Some(true), true, true, true)
    );
    assert_eq!(row_of(&view, &cast.interviewers[1])["has_voted"], false);
    assert!(view["debrief_vote_counts"].is_null());
    // Sealed votes are on the table from the start.
    assert_eq!(r["sealed_vote"], "inclined_to_hire");
    // Only the Bar Raiser reveals early.
    assert_problem(
        &app.post(&lp("/debrief/reveal"), &cast.hiring_manager, json!({}))
            .await,
        403,
        "not_bar_raiser",
    );
    assert_eq!(
        app.post(&lp("/debrief/reveal"), &cast.bar_raiser, json!({}))
            .await
            .0,
        StatusCode::OK
    );
    let (_, view) = app.get(&lp("/debrief"), &cast.interviewers[1]).await;
    assert_eq!(view["votes_revealed"], true);
    assert_eq!(
        row_of(&view, &cast.interviewers[0])["debrief_vote"],
        "strong_no_hire"
    );
    assert_eq!(row_of(&view, &cast.interviewers[0])["changed"], true);

    // Another loop: revealed by everyone voting.
    let setup2 = app.scheduled_loop().await;
    seal_all(&app, &setup2).await;
    let lp2 = |suffix: &str| format!("/loops/{}{suffix}", setup2.loop_id);
    assert_eq!(
        app.post(&lp2("/debrief"), &setup2.cast.bar_raiser, json!({}))
            .await
            .0,
        StatusCode::OK
    );
    let voters = setup2.cast.voters();
    for (n, s) in voters.iter().enumerate() {
        let (_, view) = app.get(&lp2("/debrief"), &setup2.cast.hiring_manager).await;
        assert_eq!(view["votes_revealed"], false, "revealed after {n} of 5");
        assert_eq!(
            app.put(&lp2("/debrief/votes/me"), s, json!({"vote": VOTES[n]}))
                .await
                .0,
            StatusCode::OK
        );
    }
    let (_, view) = app.get(&lp2("/debrief"), &setup2.cast.hiring_manager).await;
    assert_eq!(view["votes_revealed"], true);
    assert_eq!(view["debrief_vote_counts"], view["sealed_vote_counts"]);
}
both_backends!(blind_votes, blind_revote);

async fn opening_rules(app: TestApp) {
    let setup = app.scheduled_loop().await;
    let cast = &setup.cast;
    // Two voting interviews open: 409 naming exactly those.
    for s in [
        &cast.bar_raiser,
        &cast.interviewers[0],
        &cast.interviewers[1],
    ] {
        app.draft_and_seal(s, setup.interview_of(s), "strong_hire")
            .await;
    }
    let (status, body) = app
        .post(
            &format!("/loops/{}/debrief", setup.loop_id),
            &cast.bar_raiser,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["code"], "feedback_outstanding");
    let mut named: Vec<String> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect();
    named.sort();
    let mut expected = vec![
        format!("interviews[{}]", setup.interview_of(&cast.interviewers[2])),
        format!("interviews[{}]", setup.interview_of(&cast.interviewers[3])),
    ];
    expected.sort();
    assert_eq!(named, expected);
    // A no-hire decision is final at once, and cannot be vetoed.
    for s in [&cast.interviewers[2], &cast.interviewers[3]] {
        app.draft_and_seal(s, setup.interview_of(s), "strong_no_hire")
            .await;
    }
    assert_eq!(
        app.post(
            &format!("/loops/{}/debrief", setup.loop_id),
            &cast.bar_raiser,
            json!({})
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_problem(
        &app.post(
            &format!("/loops/{}/debrief", setup.loop_id),
            &cast.bar_raiser,
            json!({}),
        )
        .await,
        409,
        "loop_not_scheduled",
    );
    assert_problem(
        &app.post(
            &format!("/loops/{}/decision", setup.loop_id),
            &cast.hiring_manager,
            json!({"outcome": "no_hire", "rationale": ""}),
        )
        .await,
        422,
        "validation_failed",
    );
    let (status, l) = app
        .post(
            &format!("/loops/{}/decision", setup.loop_id),
            &cast.hiring_manager,
            json!({"outcome": "no_hire", "rationale": "Mixed signals on core competencies."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            l["state"].as_str(),
            l["decision"]["final_outcome"].as_str(),
            l["decision"]["vetoed"].as_bool()
        ),
        (Some("decided"), Some("no_hire"), Some(false))
    );
    assert_problem(
        &app.post(
            &format!("/loops/{}/decision/veto", setup.loop_id),
            &cast.bar_raiser,
            json!({"rationale": "x".repeat(80)}),
        )
        .await,
        409,
        "no_pending_hire",
    );

    // A hire that the Bar Raiser concurs with.
    let setup2 = app.scheduled_loop().await;
    seal_all(&app, &setup2).await;
    let c2 = &setup2.cast;
    assert_eq!(
        app.post(
            &format!("/loops/{}/debrief", setup2.loop_id),
            &c2.bar_raiser,
            json!({})
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        app.post(
            &format!("/loops/{}/decision", setup2.loop_id),
            &c2.hiring_manager,
            json!({"outcome": "hire", "rationale": "Clear hire."})
        )
        .await
        .0,
        StatusCode::OK
    );
    let (status, l) = app
        .post(
            &format!("/loops/{}/decision/concur", setup2.loop_id),
            &c2.bar_raiser,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            l["decision"]["final_outcome"].as_str(),
            l["decision"]["bar_raiser_verdict"].as_str()
        ),
        (Some("hire"), Some("concur"))
    );
    assert_problem(
        &app.post(
            &format!("/loops/{}/decision/veto", setup2.loop_id),
            &c2.bar_raiser,
            json!({"rationale": "x".repeat(80)}),
        )
        .await,
        409,
        "no_pending_hire",
    );
}
both_backends!(open_and_decide, opening_rules);
