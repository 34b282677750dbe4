use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::json;

use crate::both_backends;
use crate::helpers::*;

async fn nobody_reads_before_sealing(app: TestApp) {
    let setup = app.scheduled_loop().await;
    let cast = &setup.cast;
    let four = &cast.interviewers;
    // Four interviewers draft.
    for s in four {
        let (status, body) = app
            .draft(s, setup.interview_of(s), "inclined_to_hire")
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // Each tries to read the others: refused, and the listing shows status only.
    for reader in four {
        for author in four.iter().filter(|a| a.id != reader.id) {
            let got = app
                .get(
                    &format!("/interviews/{}/feedback", setup.interview_of(author)),
                    reader,
                )
                .await;
            assert_problem(&got, 403, "seal_own_feedback_first");
            assert!(got.1.get("ratings").is_none());
        }
        let (status, listing) = app
            .get(&format!("/loops/{}/feedback", setup.loop_id), reader)
            .await;
        assert_eq!(status, StatusCode::OK);
        for entry in listing["items"].as_array().unwrap() {
            let own = entry["interviewer"]["id"] == reader.id.to_string();
            assert_eq!(entry["feedback"].is_null(), !own, "{entry}");
            if !own {
                assert_eq!(entry["withheld"], "seal_own_feedback_first");
            }
        }
    }
    // Their own draft is theirs to read.
    let (status, own) = app
        .get(
            &format!("/interviews/{}/feedback", setup.interview_of(&four[0])),
            &four[0],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(own["state"], "draft");

    // Two seal; the first can now read the second's sealed feedback, but no draft.
    app.seal(&four[0], setup.interview_of(&four[0])).await;
    app.seal(&four[1], setup.interview_of(&four[1])).await;
    let (status, other) = app
        .get(
            &format!("/interviews/{}/feedback", setup.interview_of(&four[1])),
            &four[0],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{other}");
    assert_eq!(other["state"], "sealed");
    assert_eq!(other["ratings"].as_array().unwrap().len(), 1);
    assert_problem(
        &app.get(
            &format!("/interviews/{}/feedback", setup.interview_of(&four[2])),
            &four[0],
        )
        .await,
        403,
        "feedback_not_sealed",
    );
    let (_, listing) = app
        .get(&format!("/loops/{}/feedback", setup.loop_id), &four[0])
        .await;
    let readable: HashSet<String> = listing["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !e["feedback"].is_null())
        .map(|e| e["interviewer"]["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        readable,
        HashSet::from([four[0].id.to_string(), four[1].id.to_string()])
    );

    // The hiring manager and the Bar Raiser are held to the same rule.
    for s in [&cast.hiring_manager, &cast.bar_raiser] {
        assert_problem(
            &app.get(
                &format!("/interviews/{}/feedback", setup.interview_of(&four[1])),
                s,
            )
            .await,
            403,
            "seal_own_feedback_first",
        );
    }
    // The recruiter waits for the debrief; outsiders never.
    assert_problem(
        &app.get(
            &format!("/interviews/{}/feedback", setup.interview_of(&four[1])),
            &cast.recruiter,
        )
        .await,
        403,
        "not_until_debrief",
    );
    assert_problem(
        &app.get(
            &format!("/interviews/{}/feedback", setup.interview_of(&four[1])),
            &cast.outsider,
        )
        .await,
        404,
        "not_found",
    );
    assert_problem(
        &app.get(
            &format!("/loops/{}/feedback", setup.loop_id),
            &cast.outsider,
        )
        .await,
        404,
        "not_found",
    );

    // An admin: refused without break-glass; with it, content, an audit
    // event and a notice to the Bar Raiser.
    let target = setup.interview_of(&four[1]);
    assert_problem(
        &app.get(&format!("/interviews/{target}/feedback"), &cast.admin)
            .await,
        403,
        "break_glass_required",
    );
    let short = app
        .post(
            &format!("/interviews/{target}/feedback/break-glass"),
            &cast.admin,
            json!({"reason": "curious"}),
        )
        .await;
    assert_problem(&short, 422, "validation_failed");
    assert_problem(
        &app.post(
            &format!("/interviews/{target}/feedback/break-glass"),
            &cast.recruiter,
            json!({"reason": "legal hold request #4411 from counsel"}),
        )
        .await,
        403,
        "admin_only",
    );
    let before = app
        .outbox_recipients()
        .await
        .iter()
        .filter(|r| **r == cast.bar_raiser.email)
        .count();
    let (status, content) = app
        .post(
            &format!("/interviews/{target}/feedback/break-glass"),
            &cast.admin,
            json!({"reason": "legal hold request #4411 from counsel"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{content}");
    assert_eq!(content["state"], "sealed");
    let after = app
        .outbox_recipients()
        .await
        .iter()
        .filter(|r| **r == cast.bar_raiser.email)
        .count();
    assert_eq!(after, before + 1, "the Bar Raiser is notified");
    let (_, audit) = app
        .get(&format!("/loops/{}/audit", setup.loop_id), &cast.recruiter)
        .await;
    let bg: Vec<_> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "feedback.break_glass_read")
        .collect();
    assert_eq!(bg.len(), 1);
    assert_eq!(bg[0]["actor_id"], cast.admin.id.to_string());
    assert_eq!(
        bg[0]["payload"]["reason"],
        "legal hold request #4411 from counsel"
    );
    // A draft stays its author's alone, even through break-glass.
    assert_problem(
        &app.post(
            &format!(
                "/interviews/{}/feedback/break-glass",
                setup.interview_of(&four[2])
            ),
            &cast.admin,
            json!({"reason": "legal hold request #4411 from counsel"}),
        )
        .await,
        409,
        "feedback_not_sealed",
    );
    assert_eq!(
        app.verify_chain(&cast.recruiter, setup.loop_id).await["valid"],
        true
    );
}
both_backends!(independence, nobody_reads_before_sealing);

async fn drafting_and_sealing_rules(app: TestApp) {
    let setup = app.scheduled_loop().await;
    let cast = &setup.cast;
    let me = &cast.interviewers[3];
    let interview = setup.interview_of(me);
    let path = format!("/interviews/{interview}/feedback");
    let comps = app.assigned(me, interview).await;
    assert_eq!(comps.len(), 3);

    // Nothing yet.
    assert_problem(&app.get(&path, me).await, 404, "not_found");
    // Partial drafts are fine.
    let partial =
        json!({"ratings": [{"competency_id": comps[0], "rating": 2}], "summary": "so far"});
    let resp = app
        .client
        .put(app.url(&path))
        .bearer_auth(&me.token)
        .json(&partial)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let etag1 = resp.headers()["etag"].to_str().unwrap().to_string();
    // Saving the same again changes nothing.
    let resp = app
        .client
        .put(app.url(&path))
        .bearer_auth(&me.token)
        .json(&partial)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["etag"].to_str().unwrap(), etag1);
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(v["revision"], 1);
    // A change with the current ETag works; a stale one is refused.
    let more = json!({"ratings": [{"competency_id": comps[0], "rating": 3}], "summary": "so far"});
    let resp = app
        .client
        .put(app.url(&path))
        .bearer_auth(&me.token)
        .header("if-match", &etag1)
        .json(&more)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let etag2 = resp.headers()["etag"].to_str().unwrap().to_string();
    assert_ne!(etag1, etag2);
    let resp = app
        .client
        .put(app.url(&path))
        .bearer_auth(&me.token)
        .header("if-match", &etag1)
        .json(&partial)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PRECONDITION_FAILED);
    assert_eq!(
        app.get(&path, me).await.1["ratings"][0]["rating"],
        3,
        "the stale write changed nothing"
    );

    // Bad drafts.
    let bad = json!({"ratings": [{"competency_id": comps[0], "rating": 5}, {"competency_id": setup.competencies[0], "rating": 0}]});
    assert_problem(&app.put(&path, me, bad).await, 422, "validation_failed");
    let foreign = app.competency_ids(me).await[10];
    let (status, body) = app
        .put(
            &path,
            me,
            json!({"ratings": [{"competency_id": foreign, "rating": 2}]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["code"], "competency_not_assigned");
    assert_problem(
        &app.put(&path, me, json!({"vote": "neutral"})).await,
        422,
        "invalid_body",
    );
    // Only the interviewer writes.
    assert_problem(
        &app.put(&path, &cast.bar_raiser, json!({})).await,
        403,
        "not_the_interviewer",
    );
    assert_problem(
        &app.put(&path, &cast.admin, json!({})).await,
        403,
        "not_the_interviewer",
    );
    assert_problem(
        &app.seal(&cast.admin, interview).await,
        403,
        "not_the_interviewer",
    );

    // Sealing an incomplete draft lists every problem.
    let (status, body) = app.seal(me, interview).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let codes: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "evidence_too_short",
            "rating_missing",
            "rating_missing",
            "vote_missing"
        ]
    );
    // Addenda wait for the seal.
    assert_problem(
        &app.post(
            &format!("{path}/addenda"),
            me,
            json!({"text": "one more thing"}),
        )
        .await,
        409,
        "not_sealed",
    );

    // Complete and seal: a receipt comes back.
    let (status, _) = app.draft(me, interview, "strong_hire").await;
    assert_eq!(status, StatusCode::OK);
    let (status, sealed) = app.seal(me, interview).await;
    assert_eq!(status, StatusCode::OK, "{sealed}");
    assert_eq!(sealed["state"], "sealed");
    assert!(sealed["sealed_at"].is_string());
    let sha = sealed["content_sha256"].as_str().unwrap();
    assert_eq!(sha.len(), 64);
    // Sealed means sealed.
    assert_problem(&app.seal(me, interview).await, 409, "already_sealed");
    assert_problem(
        &app.put(&path, me, json!({"summary": "changed my mind"}))
            .await,
        409,
        "already_sealed",
    );
    let (status, addendum) = app
        .post(
            &format!("{path}/addenda"),
            me,
            json!({"text": "I mixed up two answers in my notes; the rating stands."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{addendum}");
    let (_, after) = app.get(&path, me).await;
    assert_eq!(
        after["content_sha256"], sha,
        "an addendum leaves the receipt as it was"
    );
    assert_eq!(after["addenda"].as_array().unwrap().len(), 1);
    let added: chrono::DateTime<chrono::Utc> = after["addenda"][0]["created_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let sealed_at: chrono::DateTime<chrono::Utc> =
        after["sealed_at"].as_str().unwrap().parse().unwrap();
    assert!(added > sealed_at);
    assert_problem(
        &app.post(
            &format!("{path}/addenda"),
            &cast.bar_raiser,
            json!({"text": "not mine"}),
        )
        .await,
        403,
        "not_the_interviewer",
    );

    // The loop counts it.
    let (_, l) = app
        .get(&format!("/loops/{}", setup.loop_id), &cast.recruiter)
        .await;
    assert_eq!(l["sealed_count"], 1);
}
both_backends!(drafting, drafting_and_sealing_rules);

async fn timing_shadows_and_excuses(app: TestApp) {
    let cast = app.cast().await;
    let rec = &cast.recruiter;
    let c = app.competency_ids(rec).await;
    let candidate = app.candidate(rec, "Future Person").await;
    let (_, l) = app
        .create_loop(rec, json!({"candidate_id": candidate, "position": "P", "level": "L", "hiring_manager_id": cast.hiring_manager.id, "bar_raiser_id": cast.bar_raiser.id, "required_competency_ids": [c[0]]}))
        .await;
    let loop_id: uuid::Uuid = l["id"].as_str().unwrap().parse().unwrap();
    let mut ids = std::collections::HashMap::new();
    for (who, role, hours) in [
        (&cast.bar_raiser, "interviewer", -3),
        (&cast.interviewers[0], "interviewer", -2),
        (&cast.interviewers[1], "interviewer", 48),
        (&cast.shadow, "shadow", -2),
    ] {
        let (status, i) = app
            .add_interview(rec, loop_id, who, &[c[0]], role, hours)
            .await;
        assert_eq!(status, StatusCode::CREATED);
        ids.insert(
            who.id,
            i["id"].as_str().unwrap().parse::<uuid::Uuid>().unwrap(),
        );
    }
    // Drafting before scheduling is refused.
    assert_problem(
        &app.draft(
            &cast.interviewers[0],
            ids[&cast.interviewers[0].id],
            "strong_hire",
        )
        .await,
        409,
        "loop_not_scheduled",
    );
    assert_eq!(
        app.post(&format!("/loops/{loop_id}/schedule"), rec, json!({}))
            .await
            .0,
        StatusCode::OK
    );
    // Sealing before the interview starts is refused.
    let future = ids[&cast.interviewers[1].id];
    assert_eq!(
        app.draft(&cast.interviewers[1], future, "strong_hire")
            .await
            .0,
        StatusCode::OK
    );
    assert_problem(
        &app.seal(&cast.interviewers[1], future).await,
        409,
        "interview_not_started",
    );
    // A shadow seals like anyone, but is not counted.
    app.draft_and_seal(&cast.shadow, ids[&cast.shadow.id], "strong_no_hire")
        .await;
    app.draft_and_seal(
        &cast.bar_raiser,
        ids[&cast.bar_raiser.id],
        "inclined_to_hire",
    )
    .await;
    app.draft_and_seal(
        &cast.interviewers[0],
        ids[&cast.interviewers[0].id],
        "inclined_to_hire",
    )
    .await;
    let (_, l) = app.get(&format!("/loops/{loop_id}"), rec).await;
    assert_eq!(
        (
            l["sealed_count"].as_u64(),
            l["expected_count"].as_u64(),
            l["ready_for_debrief"].as_bool()
        ),
        (Some(2), Some(3), Some(false))
    );
    // Only the Bar Raiser excuses, with a reason.
    let path = format!("/interviews/{future}/excuse");
    assert_problem(
        &app.post(&path, &cast.hiring_manager, json!({"reason": "travelling"}))
            .await,
        403,
        "not_bar_raiser",
    );
    assert_problem(
        &app.post(&path, &cast.bar_raiser, json!({"reason": ""}))
            .await,
        422,
        "validation_failed",
    );
    let (status, i) = app
        .post(
            &path,
            &cast.bar_raiser,
            json!({"reason": "Interviewer on leave; two others covered the competency."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{i}");
    assert_eq!(i["feedback_state"], "excused");
    assert_problem(
        &app.post(&path, &cast.bar_raiser, json!({"reason": "again"}))
            .await,
        409,
        "already_excused",
    );
    let sealed_one = ids[&cast.interviewers[0].id];
    assert_problem(
        &app.post(
            &format!("/interviews/{sealed_one}/excuse"),
            &cast.bar_raiser,
            json!({"reason": "no"}),
        )
        .await,
        409,
        "interview_sealed",
    );
    let (_, l) = app.get(&format!("/loops/{loop_id}"), rec).await;
    assert_eq!(
        (
            l["sealed_count"].as_u64(),
            l["expected_count"].as_u64(),
            l["ready_for_debrief"].as_bool()
        ),
        (Some(2), Some(2), Some(true))
    );
    // The Bar Raiser and hiring manager heard the debrief can open, once.
    let queued = app.outbox_recipients().await;
    assert_eq!(
        queued
            .iter()
            .filter(|r| **r == cast.hiring_manager.email)
            .count(),
        1
    );
}
both_backends!(shadows_and_excuses, timing_shadows_and_excuses);

async fn tampering_is_detected(app: TestApp) {
    let setup = app.scheduled_loop().await;
    let cast = &setup.cast;
    app.draft_and_seal(
        &cast.interviewers[0],
        setup.interview_of(&cast.interviewers[0]),
        "strong_hire",
    )
    .await;
    let v = app.verify_chain(&cast.recruiter, setup.loop_id).await;
    assert_eq!(v["valid"], true, "{v}");
    let n = v["events_checked"].as_u64().unwrap();
    assert!(
        n >= 10,
        "creation, six interviews, schedule, draft, seal: {n}"
    );
    let (_, audit) = app
        .get(&format!("/loops/{}/audit", setup.loop_id), &cast.bar_raiser)
        .await;
    let items = audit["items"].as_array().unwrap();
    assert_eq!(items[0]["action"], "loop.created");
    assert_eq!(items[0]["prev_hash"], "0".repeat(64));
    assert_eq!(items[1]["prev_hash"], items[0]["hash"]);
    // Who may read the trail.
    assert_problem(
        &app.get(
            &format!("/loops/{}/audit", setup.loop_id),
            &cast.hiring_manager,
        )
        .await,
        403,
        "not_loop_auditor",
    );
    assert_problem(
        &app.get(
            &format!("/loops/{}/audit/verify", setup.loop_id),
            &cast.outsider,
        )
        .await,
        404,
        "not_found",
    );

    // Edit one event's payload in the store.
    let third = items[2]["id"].as_str().unwrap().to_string();
    app.sql(format!(
        "UPDATE audit_events SET payload = '{{\"forged\":true}}' WHERE id = '{third}'"
    ))
    .await;
    let v = app.verify_chain(&cast.recruiter, setup.loop_id).await;
    assert_eq!(v["valid"], false);
    assert_eq!(v["first_invalid_event"], third);
    assert_eq!(v["first_invalid_seq"], 3);
}
both_backends!(tamper_edit, tampering_is_detected);

async fn deletion_is_detected(app: TestApp) {
    let setup = app.scheduled_loop().await;
    let cast = &setup.cast;
    let (_, audit) = app
        .get(&format!("/loops/{}/audit", setup.loop_id), &cast.recruiter)
        .await;
    let items = audit["items"].as_array().unwrap();
    let fourth = items[3]["id"].as_str().unwrap().to_string();
    app.sql(format!("DELETE FROM audit_events WHERE id = '{fourth}'"))
        .await;
    let v = app.verify_chain(&cast.recruiter, setup.loop_id).await;
    assert_eq!(v["valid"], false);
    assert_eq!(v["first_invalid_seq"], 4);
    // Dropping the newest event is caught by the chain head.
    let setup2 = app.scheduled_loop().await;
    let (_, audit) = app
        .get(
            &format!("/loops/{}/audit", setup2.loop_id),
            &setup2.cast.recruiter,
        )
        .await;
    let last = audit["items"].as_array().unwrap().last().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.sql(format!("DELETE FROM audit_events WHERE id = '{last}'"))
        .await;
    let v = app
        .verify_chain(&setup2.cast.recruiter, setup2.loop_id)
        .await;
    assert_eq!(v["valid"], false, "{v}");
}
both_backends!(tamper_delete, deletion_is_detected);

async fn thirty_two_seals_one_winner(app: TestApp) {
    let setup = app.scheduled_loop().await;
    let me = &setup.cast.interviewers[0];
    let interview = setup.interview_of(me);
    assert_eq!(
        app.draft(me, interview, "strong_hire").await.0,
        StatusCode::OK
    );
    let url = app.url(&format!("/interviews/{interview}/feedback/seal"));
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let client = app.client.clone();
            let url = url.clone();
            let token = me.token.clone();
            actix_web::rt::spawn(async move {
                client
                    .post(url)
                    .bearer_auth(token)
                    .json(&json!({}))
                    .send()
                    .await
                    .unwrap()
                    .status()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CONFLICT)
            .count(),
        31,
        "{statuses:?}"
    );
    let (_, audit) = app
        .get(
            &format!("/loops/{}/audit", setup.loop_id),
            &setup.cast.recruiter,
        )
        .await;
    let seals = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "feedback.sealed")
        .count();
    assert_eq!(seals, 1);
}
both_backends!(concurrent_same_seal, thirty_two_seals_one_winner);

async fn sixty_four_interviewers_seal_at_once(app: TestApp) {
    let admin = app.admin().await;
    let rec = app.user("Big Recruiter", "recruiter", false).await;
    let br = app.user("Big Raiser", "member", true).await;
    let hm = app.user("Big Manager", "member", false).await;
    let comp = app.competency_ids(&rec).await[0];
    let candidate = app.candidate(&rec, "Popular Candidate").await;
    let (_, l) = app
        .create_loop(&rec, json!({"candidate_id": candidate, "position": "P", "level": "L", "hiring_manager_id": hm.id, "bar_raiser_id": br.id, "required_competency_ids": [comp]}))
        .await;
    let loop_id: uuid::Uuid = l["id"].as_str().unwrap().parse().unwrap();
    // 64 people, created as the admin would (hashing is the slow part).
    let mut people = vec![br.clone()];
    for n in 0..63 {
        let email = format!("crowd{n}@example.com");
        let (status, _) = app.post("/users", &admin, json!({"email": email, "name": format!("Crowd {n}"), "password": PASSWORD, "role": "member"})).await;
        assert_eq!(status, StatusCode::CREATED);
        people.push(app.session(&email).await);
    }
    let mut interviews = Vec::new();
    for p in &people {
        let (status, i) = app
            .add_interview(&rec, loop_id, p, &[comp], "interviewer", -2)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{i}");
        interviews.push(i["id"].as_str().unwrap().parse::<uuid::Uuid>().unwrap());
    }
    assert_eq!(
        app.post(&format!("/loops/{loop_id}/schedule"), &rec, json!({}))
            .await
            .0,
        StatusCode::OK
    );
    for (p, i) in people.iter().zip(&interviews) {
        assert_eq!(app.draft(p, *i, "inclined_to_hire").await.0, StatusCode::OK);
    }
    let tasks: Vec<_> = people
        .iter()
        .zip(&interviews)
        .map(|(p, i)| {
            let req = app
                .client
                .post(app.url(&format!("/interviews/{i}/feedback/seal")))
                .bearer_auth(&p.token)
                .json(&json!({}));
            actix_web::rt::spawn(async move {
                let resp = req.send().await.unwrap();
                (resp.status(), resp.text().await.unwrap())
            })
        })
        .collect();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(!body.contains("locked"), "{body}");
    }
    let (_, l) = app.get(&format!("/loops/{loop_id}"), &rec).await;
    assert_eq!(
        (l["sealed_count"].as_u64(), l["ready_for_debrief"].as_bool()),
        (Some(64), Some(true))
    );
    assert_eq!(app.verify_chain(&rec, loop_id).await["valid"], true);
}
both_backends!(concurrent_sixty_four, sixty_four_interviewers_seal_at_once);
