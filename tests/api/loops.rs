use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::both_backends;
use crate::helpers::*;

fn codes(body: &Value) -> Vec<String> {
    let mut c: Vec<String> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap().to_string())
        .collect();
    c.sort();
    c
}

async fn a_full_loop_is_scheduled(app: TestApp) {
    let setup = app.scheduled_loop().await;
    let cast = &setup.cast;
    let (status, l) = app
        .get(&format!("/loops/{}", setup.loop_id), &cast.hiring_manager)
        .await;
    assert_eq!(status, StatusCode::OK, "{l}");
    assert_eq!(l["state"], "scheduled");
    assert_eq!(l["candidate"]["name"], "Casey Candidate");
    assert_eq!(
        l["recruiter"]["id"],
        cast.recruiter.id.to_string(),
        "recruiter defaults to the caller"
    );
    assert_eq!(l["feedback_due_hours"], 24);
    assert_eq!(l["interviews"].as_array().unwrap().len(), 6);
    assert_eq!(
        (l["sealed_count"].as_u64(), l["expected_count"].as_u64()),
        (Some(0), Some(5)),
        "a shadow is not expected"
    );
    assert_eq!(l["ready_for_debrief"], false);
    for i in l["interviews"].as_array().unwrap() {
        assert_eq!(i["feedback_state"], "not_started");
        let ends: chrono::DateTime<chrono::Utc> = i["ends_at"].as_str().unwrap().parse().unwrap();
        let due: chrono::DateTime<chrono::Utc> = i["due_at"].as_str().unwrap().parse().unwrap();
        assert_eq!(due - ends, chrono::Duration::hours(24));
        assert_eq!(i["overdue"], false);
    }
    // Interviews are listed soonest first, and each interviewer finds theirs.
    let (status, mine) = app.get("/me/interviews", &cast.interviewers[0]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    assert_eq!(mine["items"][0]["loop_id"], setup.loop_id.to_string());
    assert_eq!(mine["items"][0]["candidate_name"], "Casey Candidate");
    assert_eq!(mine["items"][0]["interview"]["loop_role"], "interviewer");
    // Scheduling notified every interviewer.
    let queued = app.outbox_recipients().await;
    for s in cast.voters().into_iter().chain([&cast.shadow]) {
        assert!(queued.contains(&s.email), "{} was not notified", s.email);
    }
}
both_backends!(full_setup, a_full_loop_is_scheduled);

/// Creates a draft loop with the given people and interview plan.
async fn loop_with(
    app: &TestApp,
    recruiter: &Session,
    hm: Uuid,
    br: Uuid,
    required: &[Uuid],
    plan: &[(&Session, Vec<Uuid>, &str)],
) -> Uuid {
    let candidate = app.candidate(recruiter, "Rule Breaker").await;
    let (status, l) = app
        .create_loop(recruiter, json!({"candidate_id": candidate, "position": "Engineer", "level": "L5", "hiring_manager_id": hm, "bar_raiser_id": br, "required_competency_ids": required}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{l}");
    let id: Uuid = l["id"].as_str().unwrap().parse().unwrap();
    for (who, comps, role) in plan {
        let (status, body) = app.add_interview(recruiter, id, who, comps, role, 24).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    id
}

async fn each_composition_rule_alone_and_all_at_once(app: TestApp) {
    let cast = app.cast().await;
    let rec = &cast.recruiter;
    let c = app.competency_ids(rec).await;
    let [i0, i1, i2, i3] = [
        &cast.interviewers[0],
        &cast.interviewers[1],
        &cast.interviewers[2],
        &cast.interviewers[3],
    ];
    let br = &cast.bar_raiser;
    let uncertified = app.user("Una Certified", "member", false).await;
    let certified_recruiter = app.user("Cora Recruiter", "recruiter", true).await;
    // An admin schedules, as the loop's recruiter differs between cases.
    let schedule = |id: Uuid| {
        let app = &app;
        let admin = &cast.admin;
        async move {
            app.post(&format!("/loops/{id}/schedule"), admin, json!({}))
                .await
        }
    };
    let good_plan = |br: &'static str| -> Vec<(&Session, Vec<Uuid>, &'static str)> {
        let _ = br;
        vec![
            (&cast.bar_raiser, vec![c[0]], "interviewer"),
            (i0, vec![c[1]], "interviewer"),
            (i1, vec![c[2]], "interviewer"),
        ]
    };

    // The good shape schedules.
    let ok = loop_with(
        &app,
        rec,
        cast.hiring_manager.id,
        br.id,
        &c[..3],
        &good_plan(""),
    )
    .await;
    assert_eq!(schedule(ok).await.0, StatusCode::OK);

    let cases: Vec<(&str, Uuid)> = vec![
        ("bar_raiser_not_certified", {
            let plan = vec![
                (&uncertified, vec![c[0]], "interviewer"),
                (i0, vec![c[1]], "interviewer"),
                (i1, vec![c[2]], "interviewer"),
            ];
            loop_with(
                &app,
                rec,
                cast.hiring_manager.id,
                uncertified.id,
                &c[..3],
                &plan,
            )
            .await
        }),
        (
            "bar_raiser_is_hiring_manager",
            loop_with(&app, rec, br.id, br.id, &c[..3], &good_plan("")).await,
        ),
        // The recruiter can no longer hold a seat in their own loop (rule
        // 7), so such a Bar Raiser also has no interview.
        ("bar_raiser_is_recruiter", {
            let plan = vec![
                (i0, vec![c[0]], "interviewer"),
                (i1, vec![c[1]], "interviewer"),
                (i2, vec![c[2]], "interviewer"),
            ];
            loop_with(
                &app,
                &certified_recruiter,
                cast.hiring_manager.id,
                certified_recruiter.id,
                &c[..3],
                &plan,
            )
            .await
        }),
        ("bar_raiser_without_interview", {
            let plan = vec![
                (i0, vec![c[0]], "interviewer"),
                (i1, vec![c[1]], "interviewer"),
                (i2, vec![c[2]], "interviewer"),
            ];
            loop_with(&app, rec, cast.hiring_manager.id, br.id, &c[..3], &plan).await
        }),
        ("too_few_voting_interviews", {
            let plan = vec![
                (br, vec![c[0]], "interviewer"),
                (i0, vec![c[1]], "interviewer"),
                (i1, vec![c[2]], "shadow"),
            ];
            loop_with(&app, rec, cast.hiring_manager.id, br.id, &c[..2], &plan).await
        }),
        ("interview_competency_count", {
            let plan = vec![
                (br, vec![c[0]], "interviewer"),
                (i0, vec![c[1]], "interviewer"),
                (i1, vec![c[2], c[3], c[4], c[5]], "interviewer"),
            ];
            loop_with(&app, rec, cast.hiring_manager.id, br.id, &c[..3], &plan).await
        }),
        ("required_competency_uncovered", {
            let plan = vec![
                (br, vec![c[0]], "interviewer"),
                (i0, vec![c[1]], "interviewer"),
                (i1, vec![c[1]], "interviewer"),
                (i3, vec![c[2]], "shadow"),
            ];
            loop_with(&app, rec, cast.hiring_manager.id, br.id, &c[..3], &plan).await
        }),
    ];
    for (code, id) in cases {
        let got = schedule(id).await;
        assert_problem(&got, 422, "rules_broken");
        let mut got_codes = codes(&got.1);
        if code == "bar_raiser_is_recruiter" {
            got_codes.retain(|c| *c != "bar_raiser_without_interview");
        }
        assert_eq!(got_codes, [code], "{code}: {}", got.1);
        // Refused means unchanged.
        assert_eq!(
            app.get(&format!("/loops/{id}"), rec).await.1["state"],
            "draft"
        );
    }

    // A person interviews at most once per loop: the database refuses it.
    let dup = loop_with(&app, rec, cast.hiring_manager.id, br.id, &c[..1], &[]).await;
    assert_eq!(
        app.add_interview(rec, dup, i0, &[c[0]], "interviewer", 1)
            .await
            .0,
        StatusCode::CREATED
    );
    assert_problem(
        &app.add_interview(rec, dup, i0, &[c[1]], "shadow", 2).await,
        409,
        "duplicate_interviewer",
    );

    // All at once: uncertified Bar Raiser who is also hiring manager, no interviews.
    let all = loop_with(
        &app,
        rec,
        uncertified.id,
        uncertified.id,
        &c[..2],
        &[(i0, vec![], "interviewer")],
    )
    .await;
    let got = schedule(all).await;
    assert_problem(&got, 422, "rules_broken");
    assert_eq!(
        codes(&got.1),
        [
            "bar_raiser_is_hiring_manager",
            "bar_raiser_not_certified",
            "bar_raiser_without_interview",
            "interview_competency_count",
            "required_competency_uncovered",
            "required_competency_uncovered",
            "too_few_voting_interviews",
        ]
    );
}
both_backends!(
    composition_rules,
    each_composition_rule_alone_and_all_at_once
);

async fn edits_after_scheduling(app: TestApp) {
    let setup = app.scheduled_loop().await;
    let cast = &setup.cast;
    let rec = &cast.recruiter;
    let path = format!("/loops/{}", setup.loop_id);
    // Harmless edits are fine while scheduled.
    let (status, l) = app
        .patch(
            &path,
            rec,
            json!({"position": "Staff Engineer", "feedback_due_hours": 48}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{l}");
    assert_eq!(l["position"], "Staff Engineer");
    // Edits that would break the composition are refused and change nothing.
    let uncertified = app.user("Una Certified", "member", false).await;
    let got = app
        .patch(&path, rec, json!({"bar_raiser_id": uncertified.id}))
        .await;
    assert_problem(&got, 422, "rules_broken");
    assert_eq!(
        app.get(&path, rec).await.1["bar_raiser"]["id"],
        cast.bar_raiser.id.to_string()
    );
    let br_interview = setup.interview_of(&cast.bar_raiser);
    assert_problem(
        &app.delete(&format!("/interviews/{br_interview}"), rec)
            .await,
        422,
        "rules_broken",
    );
    // Only the loop's recruiter or an admin edits; others are told why.
    assert_problem(
        &app.patch(&path, &cast.other_recruiter, json!({"level": "L7"}))
            .await,
        403,
        "not_loop_recruiter",
    );
    assert_problem(
        &app.patch(&path, &cast.hiring_manager, json!({"level": "L7"}))
            .await,
        403,
        "not_loop_recruiter",
    );
    assert_eq!(
        app.patch(&path, &cast.admin, json!({"level": "L7"}))
            .await
            .0,
        StatusCode::OK
    );
    // Scheduling twice is a conflict.
    assert_problem(
        &app.post(&format!("{path}/schedule"), rec, json!({})).await,
        409,
        "loop_not_draft",
    );
    // The shadow's interview can move while no feedback exists.
    let shadow_interview = setup.interview_of(&cast.shadow);
    let (status, moved) = app
        .patch(
            &format!("/interviews/{shadow_interview}"),
            rec,
            json!({"duration_minutes": 45}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["duration_minutes"], 45);
    // Cancelled: nothing is editable any more.
    assert_problem(
        &app.post(&format!("{path}/cancel"), rec, json!({"reason": " "}))
            .await,
        422,
        "validation_failed",
    );
    let (status, l) = app
        .post(
            &format!("{path}/cancel"),
            rec,
            json!({"reason": "Candidate withdrew"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (l["state"].as_str(), l["cancel_reason"].as_str()),
        (Some("cancelled"), Some("Candidate withdrew"))
    );
    assert_problem(
        &app.patch(&path, rec, json!({"level": "L5"})).await,
        409,
        "loop_not_editable",
    );
    assert_problem(
        &app.delete(&format!("/interviews/{shadow_interview}"), rec)
            .await,
        409,
        "loop_not_editable",
    );
    assert_problem(
        &app.post(&format!("{path}/cancel"), rec, json!({"reason": "again"}))
            .await,
        409,
        "loop_cancelled",
    );
}
both_backends!(scheduled_edits, edits_after_scheduling);

async fn outsiders_see_nothing(app: TestApp) {
    let setup = app.draft_loop().await;
    let cast = &setup.cast;
    let path = format!("/loops/{}", setup.loop_id);
    assert_problem(&app.get(&path, &cast.outsider).await, 404, "not_found");
    assert_problem(
        &app.post(&format!("{path}/schedule"), &cast.outsider, json!({}))
            .await,
        404,
        "not_found",
    );
    let (status, list) = app.get("/loops", &cast.outsider).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
    let (_, list) = app
        .get(
            &format!("/loops?candidate_id={}", setup.candidate_id),
            &cast.outsider,
        )
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
    // Members cannot reach candidates at all.
    assert_problem(
        &app.get(
            &format!("/candidates/{}", setup.candidate_id),
            &cast.outsider,
        )
        .await,
        403,
        "recruiter_or_admin_only",
    );
    // Participants, any recruiter and admins do see it.
    for s in [
        &cast.hiring_manager,
        &cast.bar_raiser,
        &cast.shadow,
        &cast.interviewers[2],
        &cast.other_recruiter,
        &cast.admin,
    ] {
        assert_eq!(app.get(&path, s).await.0, StatusCode::OK, "{}", s.email);
    }
    let (_, list) = app.get("/loops?participant=me", &cast.shadow).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let (_, list) = app
        .get("/loops?participant=me", &cast.other_recruiter)
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
    let (_, list) = app.get("/loops?state=draft", &cast.other_recruiter).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let (_, list) = app
        .get("/loops?state=scheduled", &cast.other_recruiter)
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
    assert_problem(
        &app.get("/loops?state=bogus", &cast.admin).await,
        422,
        "invalid_query",
    );
    assert_problem(
        &app.get("/loops?participant=you", &cast.admin).await,
        422,
        "invalid_query",
    );
}
both_backends!(non_participants, outsiders_see_nothing);

async fn pagination_over_120_loops(app: TestApp) {
    let admin = app.admin().await;
    let rec = app.user("Page Recruiter", "recruiter", false).await;
    let hm = app.user("Page Manager", "member", false).await;
    let br = app.user("Page Raiser", "member", true).await;
    let candidate = app.candidate(&rec, "Paged Person").await;
    let new_loop = || {
        let app = &app;
        let rec = &rec;
        async move {
            let (status, body) = app
                .create_loop(rec, json!({"candidate_id": candidate, "position": "P", "level": "L", "hiring_manager_id": hm.id, "bar_raiser_id": br.id}))
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            body["id"].as_str().unwrap().to_string()
        }
    };
    let mut expected = HashSet::new();
    for _ in 0..120 {
        expected.insert(new_loop().await);
    }
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/loops?limit=25&cursor={c}"),
            None => "/loops?limit=25".to_string(),
        };
        let (status, page) = app.get(&path, &admin).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["id"].as_str().unwrap().to_string()),
        );
        pages += 1;
        // Inserts while paging must neither repeat nor hide what was there.
        new_loop().await;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 5);
    let unique: HashSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "duplicates across pages");
    assert_eq!(unique, expected, "gaps across pages");
    assert_problem(
        &app.get("/loops?limit=201", &admin).await,
        422,
        "invalid_query",
    );
    assert_problem(
        &app.get("/loops?limit=0", &admin).await,
        422,
        "invalid_query",
    );
    assert_problem(
        &app.get("/loops?cursor=%00%01", &admin).await,
        422,
        "invalid_query",
    );
}
both_backends!(loop_pages, pagination_over_120_loops);

async fn erasure_leaves_no_personal_data(app: TestApp) {
    let setup = app.scheduled_loop().await;
    let rec = &setup.cast.recruiter;
    let id = setup.candidate_id;
    let (status, c) = app.get(&format!("/candidates/{id}"), rec).await;
    assert_eq!(status, StatusCode::OK);
    let original_name = c["name"].as_str().unwrap().to_string();
    let original_email = c["email"].as_str().unwrap().to_string();
    let (status, erased) = app.delete(&format!("/candidates/{id}"), rec).await;
    assert_eq!(status, StatusCode::OK, "{erased}");
    assert_eq!(erased["erased"], true);
    assert_eq!(erased["name"], "Erased candidate");
    for field in ["email", "phone", "notes"] {
        assert!(erased[field].is_null(), "{field} survived: {erased}");
    }
    assert_eq!(erased["links"], json!([]));
    // Idempotent.
    assert_eq!(
        app.delete(&format!("/candidates/{id}"), rec).await.0,
        StatusCode::OK
    );
    assert_problem(
        &app.patch(&format!("/candidates/{id}"), rec, json!({"name": "Back"}))
            .await,
        409,
        "candidate_erased",
    );
    // The loop stays, naming the tombstone.
    let (_, l) = app.get(&format!("/loops/{}", setup.loop_id), rec).await;
    assert_eq!(
        (
            l["candidate"]["name"].as_str(),
            l["candidate"]["erased"].as_bool()
        ),
        (Some("Erased candidate"), Some(true))
    );
    assert_eq!(l["interviews"].as_array().unwrap().len(), 6);
    // Nothing personal remains in the row, in queued mail, or in any other
    // API answer.
    let row = app.candidate_row(id).await;
    assert!(
        !row.contains(&original_name) && !row.contains(&original_email),
        "{row}"
    );
    let everything = app.dump_text_columns().await;
    assert!(
        !everything.contains(&original_name),
        "the name survives somewhere in the database"
    );
    assert!(
        !everything.contains(&original_email),
        "the email survives somewhere in the database"
    );
    let (_, mine) = app.get("/me/interviews", &setup.cast.interviewers[0]).await;
    assert_eq!(mine["items"][0]["candidate_name"], "Erased candidate");
    // An erased candidate gets no new loop.
    let (status, body) = app
        .create_loop(rec, json!({"candidate_id": id, "position": "P", "level": "L", "hiring_manager_id": setup.cast.hiring_manager.id, "bar_raiser_id": setup.cast.bar_raiser.id}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "candidate_id");
}
both_backends!(erasure, erasure_leaves_no_personal_data);

async fn bad_input_names_the_field(app: TestApp) {
    let cast = app.cast().await;
    let rec = &cast.recruiter;
    let candidate = app.candidate(rec, "Field Test").await;
    let ghost = Uuid::new_v4();
    let (status, body) = app
        .create_loop(rec, json!({"candidate_id": ghost, "position": "", "level": "L", "hiring_manager_id": ghost, "bar_raiser_id": cast.bar_raiser.id, "required_competency_ids": [ghost], "feedback_due_hours": 0}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let fields: HashSet<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for f in [
        "candidate_id",
        "position",
        "hiring_manager_id",
        "required_competency_ids[0]",
        "feedback_due_hours",
    ] {
        assert!(fields.contains(f), "{f} not named: {body}");
    }
    let (status, body) = app
        .create_loop(rec, json!({"candidate_id": candidate, "position": "P", "level": "L", "hiring_manager_id": cast.hiring_manager.id, "bar_raiser_id": cast.bar_raiser.id, "recruiter_id": cast.interviewers[0].id}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["field"], "recruiter_id");
    let (_, l) = app
        .create_loop(rec, json!({"candidate_id": candidate, "position": "P", "level": "L", "hiring_manager_id": cast.hiring_manager.id, "bar_raiser_id": cast.bar_raiser.id}))
        .await;
    let loop_id = l["id"].as_str().unwrap();
    let bad_time = app
        .post(&format!("/loops/{loop_id}/interviews"), rec, json!({"interviewer_id": cast.interviewers[0].id, "competency_ids": [], "starts_at": "next tuesday", "duration_minutes": 60}))
        .await;
    assert_problem(&bad_time, 422, "invalid_body");
    let no_tz = app
        .post(&format!("/loops/{loop_id}/interviews"), rec, json!({"interviewer_id": cast.interviewers[0].id, "competency_ids": [], "starts_at": "2026-12-01 10:00:00", "duration_minutes": 60}))
        .await;
    assert_problem(&no_tz, 422, "invalid_body");
    let (status, body) = app
        .post(&format!("/loops/{loop_id}/interviews"), rec, json!({"interviewer_id": ghost, "competency_ids": [ghost], "starts_at": "2026-12-01T10:00:00Z", "duration_minutes": 4}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: HashSet<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        HashSet::from(["interviewer_id", "competency_ids[0]", "duration_minutes"])
    );
    assert_problem(
        &app.get(&format!("/loops/{ghost}"), rec).await,
        404,
        "not_found",
    );
    assert_problem(&app.get("/loops/not-a-uuid", rec).await, 404, "not_found");
    assert_problem(
        &app.patch(&format!("/interviews/{ghost}"), rec, json!({}))
            .await,
        404,
        "not_found",
    );
    assert_problem(&app.post(&format!("/loops/{ghost}/interviews"), rec, json!({"interviewer_id": ghost, "competency_ids": [], "starts_at": "2026-12-01T10:00:00Z", "duration_minutes": 60})).await, 404, "not_found");
    // Members cannot create loops.
    assert_problem(
        &app.create_loop(&cast.interviewers[0], json!({"candidate_id": candidate, "position": "P", "level": "L", "hiring_manager_id": ghost, "bar_raiser_id": ghost})).await,
        403,
        "recruiter_or_admin_only",
    );
}
both_backends!(bad_input, bad_input_names_the_field);

async fn the_competency_catalogue(app: TestApp) {
    let admin = app.admin().await;
    let member = app.user("Cat Member", "member", false).await;
    let (status, list) = app.get("/competencies", &member).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 16);
    for lp in [
        "Customer Obsession",
        "Ownership",
        "Dive Deep",
        "Have Backbone; Disagree and Commit",
        "Success and Scale Bring Broad Responsibility",
    ] {
        assert!(names.contains(&lp), "{lp}");
    }
    let new = json!({"name": "Technical Depth", "description": "Knows the craft"});
    assert_problem(
        &app.post("/competencies", &member, new.clone()).await,
        403,
        "admin_only",
    );
    let (status, c) = app.post("/competencies", &admin, new.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{c}");
    assert_problem(
        &app.post("/competencies", &admin, new).await,
        409,
        "name_taken",
    );
    let id = c["id"].as_str().unwrap();
    let (status, c) = app
        .patch(
            &format!("/competencies/{id}"),
            &admin,
            json!({"name": "Technical Excellence", "retired": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (c["name"].as_str(), c["retired"].as_bool()),
        (Some("Technical Excellence"), Some(true))
    );
    assert_eq!(
        app.get("/competencies", &member).await.1["items"]
            .as_array()
            .unwrap()
            .len(),
        16
    );
    assert_eq!(
        app.get("/competencies?include_retired=true", &member)
            .await
            .1["items"]
            .as_array()
            .unwrap()
            .len(),
        17
    );
    // A retired competency cannot go on a new loop.
    let rec = app.user("Cat Recruiter", "recruiter", false).await;
    let br = app.user("Cat Raiser", "member", true).await;
    let candidate = app.candidate(&rec, "Cat Candidate").await;
    let (status, body) = app
        .create_loop(&rec, json!({"candidate_id": candidate, "position": "P", "level": "L", "hiring_manager_id": member.id, "bar_raiser_id": br.id, "required_competency_ids": [id]}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["message"], "this competency is retired");
}
both_backends!(competencies, the_competency_catalogue);

async fn candidate_records(app: TestApp) {
    let rec = app.user("Cand Recruiter", "recruiter", false).await;
    let body = json!({"name": "Robert'); DROP TABLE candidates;--", "email": "bobby@tables.example", "notes": "<script>alert(1)</script>"});
    let (status, c) = app.post("/candidates", &rec, body.clone()).await;
    assert_eq!(status, StatusCode::CREATED);
    // Stored and returned verbatim, never interpreted.
    assert_eq!(c["name"], "Robert'); DROP TABLE candidates;--");
    assert_eq!(c["notes"], "<script>alert(1)</script>");
    let dup = json!({"name": "Other", "email": "BOBBY@tables.example"});
    assert_problem(
        &app.post("/candidates", &rec, dup).await,
        409,
        "candidate_exists",
    );
    assert_problem(
        &app.post(
            "/candidates",
            &rec,
            json!({"name": "X", "email": "not-an-email"}),
        )
        .await,
        422,
        "validation_failed",
    );
    assert_problem(
        &app.post(
            "/candidates",
            &rec,
            json!({"name": "x".repeat(10_000), "email": "long@example.com"}),
        )
        .await,
        422,
        "validation_failed",
    );
    let (status, page) = app.get("/candidates?limit=1", &rec).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let id = c["id"].as_str().unwrap();
    let (status, c) = app
        .patch(
            &format!("/candidates/{id}"),
            &rec,
            json!({"phone": "+44 20 7946 0000"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(c["phone"], "+44 20 7946 0000");
}
both_backends!(candidates, candidate_records);
