use reqwest::StatusCode;
use serde_json::json;

use crate::both_backends;
use crate::helpers::*;

async fn admins_manage_users_members_cannot(app: TestApp) {
    let admin = app.admin().await;
    let member = app.user("Max Member", "member", false).await;
    let recruiter = app.user("Rita Recruiter", "recruiter", false).await;

    let new_user =
        json!({"email": "new@example.com", "name": "New", "password": PASSWORD, "role": "member"});
    assert_problem(
        &app.post("/users", &member, new_user.clone()).await,
        403,
        "admin_only",
    );
    assert_problem(
        &app.post("/users", &recruiter, new_user.clone()).await,
        403,
        "admin_only",
    );
    assert_problem(
        &app.get("/users", &member).await,
        403,
        "recruiter_or_admin_only",
    );
    assert_problem(
        &app.patch(
            &format!("/users/{}", member.id),
            &member,
            json!({"role": "admin"}),
        )
        .await,
        403,
        "admin_only",
    );
    assert_eq!(app.get("/users", &recruiter).await.0, StatusCode::OK);
    // Anyone reads themselves.
    assert_eq!(
        app.get(&format!("/users/{}", member.id), &member).await.0,
        StatusCode::OK
    );
    assert_problem(
        &app.get(&format!("/users/{}", recruiter.id), &member).await,
        403,
        "recruiter_or_admin_only",
    );

    let (status, created) = app.post("/users", &admin, new_user.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["role"], "member");
    assert_eq!(created["active"], true);
    assert!(created.get("password_hash").is_none() && created.get("password").is_none());
    // Case-insensitive uniqueness.
    let dup =
        json!({"email": "NEW@example.com", "name": "Dup", "password": PASSWORD, "role": "member"});
    assert_problem(&app.post("/users", &admin, dup).await, 409, "email_taken");

    // Validation lists every field.
    let (status, body) = app
        .post(
            "/users",
            &admin,
            json!({"email": "nope", "name": " ", "password": "short", "role": "member"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "name", "password"]);
    let same = json!({"email": "same@example.com", "name": "S", "password": "same@example.com", "role": "member"});
    assert_eq!(
        app.post("/users", &admin, same).await.1["errors"][0]["code"],
        "password_is_email"
    );
    assert_problem(
        &app.post(
            "/users",
            &admin,
            json!({"email": "x@y.co", "name": "X", "password": PASSWORD, "role": "root"}),
        )
        .await,
        422,
        "invalid_body",
    );

    // Patch, and an admin cannot lock themselves out.
    let id = created["id"].as_str().unwrap();
    let (status, body) = app
        .patch(
            &format!("/users/{id}"),
            &admin,
            json!({"bar_raiser_certified": true, "name": "Renamed"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            body["bar_raiser_certified"].as_bool(),
            body["name"].as_str()
        ),
        (Some(true), Some("Renamed"))
    );
    assert_problem(
        &app.patch(
            &format!("/users/{}", admin.id),
            &admin,
            json!({"active": false}),
        )
        .await,
        409,
        "cannot_demote_self",
    );
    assert_problem(
        &app.patch(
            &format!("/users/{}", uuid::Uuid::new_v4()),
            &admin,
            json!({"name": "x"}),
        )
        .await,
        404,
        "not_found",
    );
    assert_problem(
        &app.get("/users/not-a-uuid", &admin).await,
        404,
        "not_found",
    );
}
both_backends!(user_admin, admins_manage_users_members_cannot);

async fn listing_pages_without_gaps(app: TestApp) {
    let admin = app.admin().await;
    for n in 0..7 {
        let (status, _) = app
            .post("/users", &admin, json!({"email": format!("u{n}@example.com"), "name": format!("U{n}"), "password": PASSWORD, "role": "member"}))
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/users?limit=3&cursor={c}"),
            None => "/users?limit=3".into(),
        };
        let (status, page) = app.get(&path, &admin).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for u in page["items"].as_array().unwrap() {
            seen.push(u["email"].as_str().unwrap().to_string());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 8);
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 8);

    assert_problem(
        &app.get("/users?limit=0", &admin).await,
        422,
        "invalid_query",
    );
    assert_problem(
        &app.get("/users?limit=-1", &admin).await,
        422,
        "invalid_query",
    );
    assert_problem(
        &app.get("/users?limit=100000000000000000000", &admin).await,
        422,
        "invalid_query",
    );
    assert_problem(
        &app.get("/users?cursor=garbage", &admin).await,
        422,
        "invalid_query",
    );
    assert_problem(
        &app.get("/users?limit=1&limit=2", &admin).await,
        422,
        "invalid_query",
    );
    assert_problem(
        &app.get("/users?bogus=1", &admin).await,
        422,
        "invalid_query",
    );
}
both_backends!(user_pages, listing_pages_without_gaps);
