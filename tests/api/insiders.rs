//! The independence promise against the people who operate a loop
//! (recruiters, admins) and against edits made straight in the database:
//! rule 7 (changing who takes part never opens content) and rule 8 (the
//! proof covers the content).

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::both_backends;
use crate::fixtures::LoopSetup;
use crate::helpers::*;

fn starts(hours_ago: i64) -> String {
    (Utc::now() - Duration::hours(hours_ago)).to_rfc3339()
}

async fn seat(
    app: &TestApp,
    by: &Session,
    setup: &LoopSetup,
    who: Uuid,
    role: &str,
) -> (StatusCode, Value) {
    app.post(
        &format!("/loops/{}/interviews", setup.loop_id),
        by,
        json!({"interviewer_id": who, "competency_ids": [setup.competencies[0]],
               "starts_at": starts(1), "duration_minutes": 30, "loop_role": role}),
    )
    .await
}

both_backends!(nobody_seats_themselves, nobody_seats_themselves_body);
async fn nobody_seats_themselves_body(app: TestApp) {
    let setup = app.scheduled_loop().await;
    let cast = &setup.cast;
    app.draft_and_seal(
        &cast.interviewers[0],
        setup.interview_of(&cast.interviewers[0]),
        "inclined_to_hire",
    )
    .await;

    // The observed attack: the loop's recruiter adds themselves as a shadow
    // whose interview "already happened", seals filler, reads the rest.
    assert_problem(
        &seat(&app, &cast.recruiter, &setup, cast.recruiter.id, "shadow").await,
        403,
        "self_assignment",
    );
    assert_problem(
        &seat(&app, &cast.admin, &setup, cast.admin.id, "interviewer").await,
        403,
        "self_assignment",
    );
    // Nobody else may seat the recruiter either.
    assert_problem(
        &seat(&app, &cast.admin, &setup, cast.recruiter.id, "shadow").await,
        422,
        "recruiter_cannot_interview",
    );
    // The hiring manager does not run the loop at all.
    let (status, _) = seat(
        &app,
        &cast.hiring_manager,
        &setup,
        cast.hiring_manager.id,
        "shadow",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Moving an interview with no feedback yet to oneself.
    let untouched = setup.interview_of(&cast.interviewers[3]);
    for who in [&cast.admin, &cast.recruiter] {
        assert_problem(
            &app.patch(
                &format!("/interviews/{untouched}"),
                who,
                json!({"interviewer_id": who.id}),
            )
            .await,
            403,
            "self_assignment",
        );
    }
    assert_problem(
        &app.patch(
            &format!("/interviews/{untouched}"),
            &cast.admin,
            json!({"interviewer_id": cast.recruiter.id}),
        )
        .await,
        422,
        "recruiter_cannot_interview",
    );
    // Nor may an operator appoint themselves hiring manager or Bar Raiser.
    for field in ["hiring_manager_id", "bar_raiser_id"] {
        let mut body = json!({});
        body[field] = json!(cast.admin.id);
        assert_problem(
            &app.patch(&format!("/loops/{}", setup.loop_id), &cast.admin, body)
                .await,
            403,
            "self_assignment",
        );
    }
    // Nor may the recruiter role go to someone who holds a seat.
    let (status, body) = app
        .patch(
            &format!("/loops/{}", setup.loop_id),
            &cast.admin,
            json!({"recruiter_id": cast.interviewers[3].id}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["field"], "recruiter_id");

    // Nothing changed: the loop still has its six interviews.
    let (_, l) = app
        .get(&format!("/loops/{}", setup.loop_id), &cast.recruiter)
        .await;
    assert_eq!(l["interviews"].as_array().unwrap().len(), 6);
    assert_eq!(l["recruiter"]["id"], cast.recruiter.id.to_string());
}

both_backends!(late_joiners_wait_for_the_debrief, late_joiners_body);
async fn late_joiners_body(app: TestApp) {
    let setup = app.scheduled_loop().await;
    let cast = &setup.cast;
    let first = &cast.interviewers[0];
    let first_interview = setup.interview_of(first);
    app.draft_and_seal(first, first_interview, "inclined_to_hire")
        .await;

    // After the first seal an admin seats a colleague, and another admin
    // moves an untouched interview to a third person.
    let late = app.user("Lou Late", "member", false).await;
    let (status, body) = seat(&app, &cast.admin, &setup, late.id, "interviewer").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let late_interview: Uuid = body["id"].as_str().unwrap().parse().unwrap();
    let moved_to = app.user("Mo Moved", "member", false).await;
    let moved = setup.interview_of(&cast.interviewers[3]);
    let (status, body) = app
        .patch(
            &format!("/interviews/{moved}"),
            &cast.recruiter,
            json!({"interviewer_id": moved_to.id}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Both seal, and still read nothing of anyone else's before the debrief.
    app.draft_and_seal(&late, late_interview, "strong_hire")
        .await;
    app.draft_and_seal(&moved_to, moved, "strong_hire").await;
    for s in [&late, &moved_to] {
        assert_problem(
            &app.get(&format!("/interviews/{first_interview}/feedback"), s)
                .await,
            403,
            "joined_after_first_seal",
        );
        let (status, list) = app
            .get(&format!("/loops/{}/feedback", setup.loop_id), s)
            .await;
        assert_eq!(status, StatusCode::OK);
        let entry = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["interview_id"] == first_interview.to_string())
            .unwrap();
        assert!(entry["feedback"].is_null());
        assert_eq!(entry["withheld"], "joined_after_first_seal");
    }
    // Someone who was there from the start reads as before.
    let early = &cast.interviewers[1];
    app.draft_and_seal(early, setup.interview_of(early), "inclined_to_hire")
        .await;
    let (status, _) = app
        .get(&format!("/interviews/{first_interview}/feedback"), early)
        .await;
    assert_eq!(status, StatusCode::OK);

    // At the debrief content opens to them, and the report names them.
    for s in [&cast.bar_raiser, &cast.interviewers[2]] {
        app.draft_and_seal(s, setup.interview_of(s), "inclined_to_hire")
            .await;
    }
    let (status, body) = app
        .post(
            &format!("/loops/{}/debrief", setup.loop_id),
            &cast.bar_raiser,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = app
        .get(&format!("/interviews/{first_interview}/feedback"), &late)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, view) = app
        .get(
            &format!("/loops/{}/debrief", setup.loop_id),
            &cast.bar_raiser,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    let line = |s: &Session| {
        view["independence_report"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["participant"]["id"] == s.id.to_string())
            .cloned()
            .unwrap()
    };
    let l = line(&late);
    assert_eq!(l["late_joiner"], true);
    assert_eq!(l["added_by"]["id"], cast.admin.id.to_string());
    assert!(l["joined_at"].is_string());
    let m = line(&moved_to);
    assert_eq!(m["late_joiner"], true);
    assert_eq!(m["added_by"]["id"], cast.recruiter.id.to_string());
    let e = line(early);
    assert_eq!(e["late_joiner"], false);
    assert_eq!(e["added_by"]["id"], cast.recruiter.id.to_string());

    // Every membership change is in the trail.
    let (_, audit) = app
        .get(&format!("/loops/{}/audit", setup.loop_id), &cast.bar_raiser)
        .await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "interview.added").count(),
        7
    );
    assert!(actions.contains(&"interview.updated"));
}

both_backends!(outsiders_learn_nothing, outsiders_body);
async fn outsiders_body(app: TestApp) {
    let setup = app.scheduled_loop().await;
    let cast = &setup.cast;
    let interview = setup.interview_of(&cast.interviewers[0]);
    app.draft_and_seal(&cast.interviewers[0], interview, "inclined_to_hire")
        .await;
    let out = &cast.outsider;
    let not_found = |got: (StatusCode, Value)| assert_problem(&got, 404, "not_found");
    not_found(
        app.get(&format!("/interviews/{interview}/feedback"), out)
            .await,
    );
    not_found(
        app.get(&format!("/loops/{}/feedback", setup.loop_id), out)
            .await,
    );
    not_found(
        app.put(&format!("/interviews/{interview}/feedback"), out, json!({}))
            .await,
    );
    not_found(app.seal(out, interview).await);
    not_found(
        app.post(
            &format!("/interviews/{interview}/feedback/addenda"),
            out,
            json!({"text": "x"}),
        )
        .await,
    );
    // A participant who is not the author still learns why.
    assert_problem(
        &app.put(
            &format!("/interviews/{interview}/feedback"),
            &cast.interviewers[1],
            json!({}),
        )
        .await,
        403,
        "not_the_interviewer",
    );
}

/// A loop taken to a vetoed hire: every kind of receipt exists.
async fn decided_loop(app: &TestApp) -> (LoopSetup, Uuid, Uuid) {
    let setup = app.scheduled_loop().await;
    let cast = &setup.cast;
    let first = setup.interview_of(&cast.interviewers[0]);
    for s in setup.cast.voters() {
        app.draft_and_seal(s, setup.interview_of(s), "inclined_to_hire")
            .await;
    }
    let (status, a) = app
        .post(
            &format!("/interviews/{first}/feedback/addenda"),
            &cast.interviewers[0],
            json!({"text": "Correction: the design exercise took 40 minutes, not 30."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{a}");
    let addendum: Uuid = a["id"].as_str().unwrap().parse().unwrap();
    // A read before the debrief, logged.
    let (status, _) = app
        .get(
            &format!("/interviews/{first}/feedback"),
            &cast.interviewers[1],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let lp = |p: &str| format!("/loops/{}{p}", setup.loop_id);
    assert_eq!(
        app.post(&lp("/debrief"), &cast.bar_raiser, json!({}))
            .await
            .0,
        StatusCode::OK
    );
    let (status, body) = app
        .put(
            &lp("/debrief/votes/me"),
            &cast.interviewers[2],
            json!({"vote": "strong_no_hire", "rationale": "the systems answer did not hold up"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .post(
            &lp("/decision"),
            &cast.hiring_manager,
            json!({"outcome": "hire", "rationale": "strong overall"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .post(
            &lp("/decision/veto"),
            &cast.bar_raiser,
            json!({"rationale": "Raises no bar on ownership; two interviews found the same gap in depth."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (setup, first, addendum)
}

both_backends!(the_proof_covers_the_content, proof_body);
async fn proof_body(app: TestApp) {
    let (setup, first, addendum) = decided_loop(&app).await;
    let cast = &setup.cast;
    let loop_id = setup.loop_id;
    let v = app.verify_chain(&cast.bar_raiser, loop_id).await;
    assert_eq!(v["valid"], true, "{v}");
    // 5 sealed + 1 addendum + 1 debrief vote + decision + verdict + reads.
    assert!(v["subjects_checked"].as_u64().unwrap() >= 10, "{v}");

    let (_, f) = app
        .get(
            &format!("/interviews/{first}/feedback"),
            &cast.interviewers[0],
        )
        .await;
    let feedback_id = f["id"].as_str().unwrap().to_string();
    let voter = cast.interviewers[2].id;
    // (tamper, restore, expected kind, expected id, expected part)
    let cases: Vec<(String, String, &str, String, &str)> = vec![
        (
            format!("UPDATE feedback SET vote = 'strong_hire' WHERE id = '{feedback_id}'"),
            format!("UPDATE feedback SET vote = 'inclined_to_hire' WHERE id = '{feedback_id}'"),
            "feedback",
            feedback_id.clone(),
            "vote",
        ),
        (
            format!("UPDATE feedback_ratings SET rating = 4 WHERE feedback_id = '{feedback_id}'"),
            format!("UPDATE feedback_ratings SET rating = 1 WHERE feedback_id = '{feedback_id}'"),
            "feedback",
            feedback_id.clone(),
            "ratings",
        ),
        (
            format!("UPDATE feedback SET summary = 'weak' WHERE id = '{feedback_id}'"),
            format!(
                "UPDATE feedback SET summary = 'Summary by {}' WHERE id = '{feedback_id}'",
                cast.interviewers[0].email
            ),
            "feedback",
            feedback_id.clone(),
            "summary",
        ),
        (
            format!("UPDATE feedback_addenda SET text = 'nothing to see' WHERE id = '{addendum}'"),
            format!(
                "UPDATE feedback_addenda SET text = 'Correction: the design exercise took 40 minutes, not 30.' WHERE id = '{addendum}'"
            ),
            "addendum",
            addendum.to_string(),
            "text",
        ),
        (
            format!("UPDATE debrief_votes SET vote = 'strong_hire' WHERE voter_id = '{voter}'"),
            format!("UPDATE debrief_votes SET vote = 'strong_no_hire' WHERE voter_id = '{voter}'"),
            "debrief_vote",
            voter.to_string(),
            "record",
        ),
        (
            format!("UPDATE loops SET decision_rationale = 'unanimous' WHERE id = '{loop_id}'"),
            format!(
                "UPDATE loops SET decision_rationale = 'strong overall' WHERE id = '{loop_id}'"
            ),
            "decision",
            loop_id.to_string(),
            "record",
        ),
        (
            format!("UPDATE loops SET veto_rationale = 'none' WHERE id = '{loop_id}'"),
            format!(
                "UPDATE loops SET veto_rationale = 'Raises no bar on ownership; two interviews found the same gap in depth.' WHERE id = '{loop_id}'"
            ),
            "verdict",
            loop_id.to_string(),
            "record",
        ),
    ];
    for (tamper, restore, kind, id, part) in cases {
        app.sql(tamper.clone()).await;
        let v = app.verify_chain(&cast.bar_raiser, loop_id).await;
        assert_eq!(v["valid"], false, "{tamper}: {v}");
        assert_eq!(
            v["first_invalid_subject"],
            json!({"kind": kind, "id": id, "part": part}),
            "{tamper}"
        );
        // The failure names the subject, never the content.
        assert!(!v.to_string().contains("strong_hire"), "{v}");
        if kind == "feedback" {
            // A tampered feedback is refused, not served as sealed.
            for who in [&cast.bar_raiser, &cast.interviewers[0]] {
                assert_problem(
                    &app.get(&format!("/interviews/{first}/feedback"), who).await,
                    409,
                    "feedback_integrity_failed",
                );
            }
            assert_problem(
                &app.get(&format!("/loops/{loop_id}/debrief"), &cast.bar_raiser)
                    .await,
                409,
                "feedback_integrity_failed",
            );
        }
        app.sql(restore).await;
        let v = app.verify_chain(&cast.bar_raiser, loop_id).await;
        assert_eq!(v["valid"], true, "after restoring {tamper}: {v}");
    }

    // The read log: a deleted row, an edited one, an invented one.
    let (_, audit) = app
        .get(&format!("/loops/{loop_id}/audit"), &cast.bar_raiser)
        .await;
    let read_events: Vec<&Value> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "feedback.read")
        .collect();
    assert!(!read_events.is_empty());
    let read_id = read_events[0]["payload"]["read_id"].as_str().unwrap();
    let reader = cast.interviewers[1].id;
    app.sql(format!(
        "UPDATE feedback_reads SET via = 'debrief' WHERE id = '{read_id}'"
    ))
    .await;
    let v = app.verify_chain(&cast.bar_raiser, loop_id).await;
    assert_eq!(
        v["first_invalid_subject"],
        json!({"kind": "read", "id": read_id, "part": "record"}),
        "{v}"
    );
    app.sql(format!(
        "UPDATE feedback_reads SET via = 'sealed_own' WHERE id = '{read_id}'"
    ))
    .await;
    assert_eq!(
        app.verify_chain(&cast.bar_raiser, loop_id).await["valid"],
        true
    );
    let planted = Uuid::new_v4();
    app.sql(format!(
        "INSERT INTO feedback_reads (id, feedback_id, loop_id, reader_id, via, reason, read_at) \
         VALUES ('{planted}', '{feedback_id}', '{loop_id}', '{reader}', 'debrief', NULL, '2030-01-01 00:00:00')"
    ))
    .await;
    let v = app.verify_chain(&cast.bar_raiser, loop_id).await;
    assert_eq!(
        v["first_invalid_subject"],
        json!({"kind": "read", "id": planted, "part": "unrecorded"}),
        "{v}"
    );
    app.sql(format!("DELETE FROM feedback_reads WHERE id = '{planted}'"))
        .await;
    app.sql(format!("DELETE FROM feedback_reads WHERE id = '{read_id}'"))
        .await;
    let v = app.verify_chain(&cast.bar_raiser, loop_id).await;
    assert_eq!(v["valid"], false, "{v}");
    assert_eq!(
        v["first_invalid_subject"],
        json!({"kind": "read", "id": read_id, "part": "missing"})
    );
}

both_backends!(the_trail_hides_unrevealed_votes, trail_body);
async fn trail_body(app: TestApp) {
    let setup = app.scheduled_loop().await;
    let cast = &setup.cast;
    for s in cast.voters() {
        app.draft_and_seal(s, setup.interview_of(s), "inclined_to_hire")
            .await;
    }
    let lp = |p: &str| format!("/loops/{}{p}", setup.loop_id);
    app.post(&lp("/debrief"), &cast.bar_raiser, json!({})).await;
    let secret = "a rationale nobody may read before the reveal";
    let (status, body) = app
        .put(
            &lp("/debrief/votes/me"),
            &cast.interviewers[0],
            json!({"vote": "strong_no_hire", "rationale": secret}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for who in [&cast.bar_raiser, &cast.recruiter, &cast.admin] {
        let (status, audit) = app.get(&lp("/audit"), who).await;
        assert_eq!(status, StatusCode::OK);
        let text = audit.to_string();
        assert!(!text.contains(secret), "{text}");
        assert!(!text.contains("strong_no_hire"), "{text}");
        let cast_event = audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == "debrief.vote_cast")
            .unwrap();
        let keys: Vec<&String> = cast_event["payload"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["receipt", "voter_id"]);
    }
    // The debrief itself still hides the vote until everyone voted.
    let (_, view) = app.get(&lp("/debrief"), &cast.bar_raiser).await;
    assert!(!view.to_string().contains(secret));
}

both_backends!(operator_changes_show_in_the_report, operator_changes_body);
async fn operator_changes_body(app: TestApp) {
    let setup = app.scheduled_loop().await;
    let cast = &setup.cast;
    let target = &cast.interviewers[1];
    // An admin sets an interviewer's password while the loop runs.
    let (status, body) = app
        .patch(
            &format!("/users/{}", target.id),
            &cast.admin,
            json!({"password": "violet tractor moonlight harbor"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Whoever holds the new password now acts as the interviewer.
    let (status, signed) = app
        .login(&target.email, "violet tractor moonlight harbor")
        .await;
    assert_eq!(status, StatusCode::OK, "{signed}");
    let target = Session {
        token: signed["access_token"].as_str().unwrap().to_string(),
        refresh_token: signed["refresh_token"].as_str().unwrap().to_string(),
        ..target.clone()
    };
    for s in cast.voters() {
        let who = if s.id == target.id { &target } else { s };
        app.draft_and_seal(who, setup.interview_of(s), "inclined_to_hire")
            .await;
    }
    let lp = |p: &str| format!("/loops/{}{p}", setup.loop_id);
    assert_eq!(
        app.post(&lp("/debrief"), &cast.bar_raiser, json!({}))
            .await
            .0,
        StatusCode::OK
    );
    let (status, view) = app.get(&lp("/debrief"), &cast.bar_raiser).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    let lines = view["independence_report"].as_array().unwrap();
    let line = lines
        .iter()
        .find(|l| l["participant"]["id"] == target.id.to_string())
        .unwrap();
    let changes = line["operator_changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{line}");
    assert_eq!(changes[0]["by"]["id"], cast.admin.id.to_string());
    assert_eq!(changes[0]["changed"], json!(["password"]));
    // Nobody else's line carries a change.
    assert!(
        lines
            .iter()
            .filter(|l| l["participant"]["id"] != target.id.to_string())
            .all(|l| l["operator_changes"].as_array().unwrap().is_empty())
    );
}
