//! HTTP conventions clients build on: `Location` on every 201 naming a
//! resource that reads back, and cursor paging on every list that grows.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::both_backends;
use crate::helpers::*;

/// POSTs `body` and returns the answer with its `Location` header.
async fn create(app: &TestApp, s: &Session, path: &str, body: Value) -> (Value, String) {
    let resp = app
        .client
        .post(app.url(path))
        .bearer_auth(&s.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED, "POST {path}");
    let location = resp
        .headers()
        .get("location")
        .unwrap_or_else(|| panic!("POST {path} answered 201 without Location"))
        .to_str()
        .unwrap()
        .to_string();
    (resp.json().await.unwrap(), location)
}

/// Follows a `Location` (a path on the server) and returns what it reads.
async fn follow(app: &TestApp, s: &Session, location: &str) -> Value {
    let path = location
        .strip_prefix("/api/v1")
        .unwrap_or_else(|| panic!("Location {location} is not under /api/v1"));
    let (status, body) = app.get(path, s).await;
    assert_eq!(status, StatusCode::OK, "GET {location}: {body}");
    body
}

async fn every_201_names_what_it_created(app: TestApp) {
    let admin = app.admin().await;
    let setup = app.scheduled_loop().await;
    let cast = &setup.cast;

    let (c, at) = create(
        &app,
        &cast.recruiter,
        "/candidates",
        json!({"name": "Loc Candidate", "email": format!("{}@candidates.example", Uuid::new_v4())}),
    )
    .await;
    assert_eq!(
        at,
        format!("/api/v1/candidates/{}", c["id"].as_str().unwrap())
    );
    assert_eq!(follow(&app, &cast.recruiter, &at).await["id"], c["id"]);

    let (comp, at) = create(
        &app,
        &admin,
        "/competencies",
        json!({"name": format!("Located {}", Uuid::new_v4()), "description": "d"}),
    )
    .await;
    assert_eq!(
        follow(&app, &cast.interviewers[0], &at).await["id"],
        comp["id"]
    );

    let (u, at) = create(
        &app,
        &admin,
        "/users",
        json!({"email": format!("{}@example.com", Uuid::new_v4()), "name": "Loc User", "password": PASSWORD, "role": "member"}),
    )
    .await;
    assert_eq!(follow(&app, &admin, &at).await["id"], u["id"]);

    let (t, at) = create(
        &app,
        &admin,
        "/tokens",
        json!({"name": "located", "scopes": ["loops:read"]}),
    )
    .await;
    let read = follow(&app, &admin, &at).await;
    assert_eq!(read["id"], t["token"]["id"]);
    assert!(
        read.get("secret").is_none(),
        "a token's secret is shown once"
    );

    let (h, at) = create(
        &app,
        &admin,
        "/webhooks",
        json!({"url": "https://hooks.example.com/located", "event_types": ["loop.scheduled"]}),
    )
    .await;
    assert_eq!(follow(&app, &admin, &at).await["id"], h["webhook"]["id"]);

    let (l, at) = create(
        &app,
        &cast.recruiter,
        "/loops",
        json!({"candidate_id": c["id"], "position": "Located", "level": "L5", "hiring_manager_id": cast.hiring_manager.id, "bar_raiser_id": cast.bar_raiser.id, "required_competency_ids": setup.competencies}),
    )
    .await;
    assert_eq!(follow(&app, &cast.recruiter, &at).await["id"], l["id"]);

    let starts = chrono::Utc::now() + chrono::Duration::days(3);
    let (i, at) = create(
        &app,
        &cast.recruiter,
        &format!("/loops/{}/interviews", l["id"].as_str().unwrap()),
        json!({"interviewer_id": cast.interviewers[0].id, "competency_ids": [setup.competencies[0]], "starts_at": starts.to_rfc3339(), "duration_minutes": 45, "loop_role": "interviewer"}),
    )
    .await;
    assert_eq!(follow(&app, &cast.recruiter, &at).await["id"], i["id"]);

    // An addendum is part of its feedback: Location names the feedback.
    let me = &cast.interviewers[1];
    let interview = setup.interview_of(me);
    app.draft_and_seal(me, interview, "inclined_to_hire").await;
    let (a, at) = create(
        &app,
        me,
        &format!("/interviews/{interview}/feedback/addenda"),
        json!({"text": "One more thing I remembered."}),
    )
    .await;
    assert_eq!(at, format!("/api/v1/interviews/{interview}/feedback"));
    let feedback = follow(&app, me, &at).await;
    assert!(
        feedback["addenda"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == a["id"]),
        "{feedback}"
    );
}
both_backends!(location, every_201_names_what_it_created);

/// Walks a list `limit` at a time; every page 200, and the last one without
/// `next_cursor`.
async fn walk(app: &TestApp, s: &Session, path: &str, limit: u32) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let page = match &cursor {
            Some(c) => format!("{path}?limit={limit}&cursor={c}"),
            None => format!("{path}?limit={limit}"),
        };
        let (status, body) = app.get(&page, s).await;
        assert_eq!(status, StatusCode::OK, "GET {page}: {body}");
        let got = body["items"].as_array().unwrap();
        assert!(
            got.len() <= limit as usize,
            "{page} gave {} items",
            got.len()
        );
        items.extend(got.iter().cloned());
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return items,
        }
    }
    panic!("{path} never ended");
}

fn ids(items: &[Value], pointer: &str) -> Vec<String> {
    items
        .iter()
        .map(|i| i.pointer(pointer).unwrap().as_str().unwrap().to_string())
        .collect()
}

async fn growing_lists_page_without_gaps(app: TestApp) {
    let admin = app.admin().await;
    let setup = app.draft_loop().await;
    let cast = &setup.cast;

    for n in 0..5 {
        let (status, body) = app
            .post(
                "/tokens",
                &admin,
                json!({"name": format!("paged {n}"), "scopes": ["loops:read"]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, body) = app
            .post(
                "/webhooks",
                &admin,
                json!({"url": format!("https://hooks.example.com/{n}"), "event_types": ["loop.scheduled"]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    // The same interviewer in four more loops, at times out of order.
    let me = &cast.interviewers[0];
    for hours in [30, 10, 50, 20] {
        let candidate = app.candidate(&cast.recruiter, "Paged Candidate").await;
        let (status, l) = app
            .create_loop(
                &cast.recruiter,
                json!({"candidate_id": candidate, "position": "Paged", "level": "L5", "hiring_manager_id": cast.hiring_manager.id, "bar_raiser_id": cast.bar_raiser.id, "required_competency_ids": setup.competencies}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{l}");
        let loop_id = l["id"].as_str().unwrap().parse().unwrap();
        let (status, i) = app
            .add_interview(
                &cast.recruiter,
                loop_id,
                me,
                &setup.competencies[..1],
                "interviewer",
                hours,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{i}");
    }

    for path in ["/tokens", "/webhooks"] {
        let (_, whole) = app.get(&format!("{path}?limit=200"), &admin).await;
        let paged = walk(&app, &admin, path, 2).await;
        assert!(paged.len() >= 5, "{path}: {}", paged.len());
        assert_eq!(
            ids(&paged, "/id"),
            ids(whole["items"].as_array().unwrap(), "/id"),
            "{path}: pages equal the whole, in order"
        );
    }

    let mine = walk(&app, me, "/me/interviews", 2).await;
    assert_eq!(
        mine.len(),
        5,
        "one interview in the draft loop and four more"
    );
    let starts: Vec<String> = ids(&mine, "/interview/starts_at");
    let mut sorted = starts.clone();
    sorted.sort();
    assert_eq!(starts, sorted, "soonest first across pages");
    let mut unique = ids(&mine, "/interview/id");
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 5);

    for path in ["/tokens", "/webhooks", "/me/interviews"] {
        let who = if path == "/me/interviews" { me } else { &admin };
        for bad in ["limit=0", "limit=201", "cursor=garbage"] {
            assert_problem(
                &app.get(&format!("{path}?{bad}"), who).await,
                422,
                "invalid_query",
            );
        }
    }
}
both_backends!(paging, growing_lists_page_without_gaps);
