use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

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

/// `(chain, actor, subject, payload)` of every `account.changed_by_operator`
/// event, straight from the store.
async fn operator_events(app: &TestApp) -> Vec<(String, Option<String>, Option<String>, Value)> {
    let db = app.state.db.clone();
    actix_web::web::block(move || {
        use bar_raiser::db::schema::audit_events as e;
        use diesel::prelude::*;
        let mut conn = db.conn().unwrap();
        e::table
            .filter(e::action.eq("account.changed_by_operator"))
            .order((e::chain.asc(), e::seq.asc()))
            .select((e::chain, e::actor_id, e::subject_id, e::payload))
            .load::<(String, Option<String>, Option<String>, String)>(&mut *conn)
            .unwrap()
            .into_iter()
            .map(|(c, a, s, p)| (c, a, s, serde_json::from_str(&p).unwrap()))
            .collect()
    })
    .await
    .unwrap()
}

/// Observed item 6 of issue 13: an admin set a sealed interviewer's
/// password and signed in as them, and nothing anywhere showed it. Now the
/// old sessions end, the interviewer is told, and the loop's chain has it.
async fn an_operator_taking_over_an_account_leaves_marks(app: TestApp) {
    let setup = app.scheduled_loop().await;
    let cast = &setup.cast;
    let admin = &cast.admin;
    app.draft_and_seal(
        &cast.interviewers[0],
        setup.interview_of(&cast.interviewers[0]),
        "inclined_to_hire",
    )
    .await;
    let victim = &cast.interviewers[1];
    app.draft_and_seal(victim, setup.interview_of(victim), "inclined_not_to_hire")
        .await;
    let chosen = "an operator's chosen passphrase";
    let mailed_before = app
        .outbox_recipients()
        .await
        .iter()
        .filter(|r| **r == victim.email)
        .count();
    let (status, body) = app
        .patch(
            &format!("/users/{}", victim.id),
            admin,
            json!({"password": chosen}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Every session from before ends at once: access and refresh tokens.
    assert_problem(&app.get("/me", victim).await, 401, "invalid_token");
    let refresh = app
        .call(
            Method::POST,
            "/auth/refresh",
            None,
            Some(json!({"refresh_token": victim.refresh_token})),
        )
        .await;
    assert_eq!(refresh.0, StatusCode::UNAUTHORIZED, "{}", refresh.1);

    // The person is told, without the password.
    assert!(app.outbox_recipients().await.contains(&victim.email));
    let text = app.dump_text_columns().await;
    assert!(text.contains("changed by an administrator"));
    assert!(
        !text.contains(chosen),
        "the password is nowhere in mail or audit"
    );

    // The org chain and the loop's chain both carry it, in exactly this shape.
    let expected = json!({"user_id": victim.id, "changed": ["password"]});
    let events = operator_events(&app).await;
    let mut chains: Vec<&str> = events.iter().map(|e| e.0.as_str()).collect();
    chains.sort();
    let loop_chain = setup.loop_id.to_string();
    let mut want = vec!["org", loop_chain.as_str()];
    want.sort();
    assert_eq!(chains, want, "{events:?}");
    for (_, actor, subject, payload) in &events {
        assert_eq!(actor.as_deref(), Some(admin.id.to_string().as_str()));
        assert_eq!(subject.as_deref(), Some(victim.id.to_string().as_str()));
        assert_eq!(payload, &expected);
    }
    assert_eq!(
        app.verify_chain(&cast.recruiter, setup.loop_id).await["valid"],
        true
    );

    // The operator can still sign in with the password they chose — the
    // marks above are the guarantee — and an email change is marked too:
    // that session ends, both addresses are told.
    let (status, pair) = app.login(&victim.email, chosen).await;
    assert_eq!(status, StatusCode::OK, "{pair}");
    let taken = pair["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        app.call(Method::GET, "/me", Some(&taken), None).await.0,
        StatusCode::OK
    );
    let new_address = format!("moved-{}", victim.email);
    let (status, body) = app
        .patch(
            &format!("/users/{}", victim.id),
            admin,
            json!({"email": new_address}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["email"], new_address.as_str());
    assert_eq!(
        app.call(Method::GET, "/me", Some(&taken), None).await.0,
        StatusCode::UNAUTHORIZED
    );
    let recipients = app.outbox_recipients().await;
    let told = |a: &str| recipients.iter().filter(|r| r.as_str() == a).count();
    assert_eq!(
        told(&victim.email),
        mailed_before + 2,
        "old address: both changes"
    );
    assert_eq!(told(&new_address), 1, "new address: the email change");
    let events = operator_events(&app).await;
    assert_eq!(events.len(), 4, "{events:?}");
    let email_events: Vec<_> = events
        .iter()
        .filter(|e| e.3 == json!({"user_id": victim.id, "changed": ["email"]}))
        .collect();
    assert_eq!(email_events.len(), 2, "{events:?}");

    // An admin's change to their own account is not an operator's change.
    let (status, _) = app
        .patch(
            &format!("/users/{}", admin.id),
            admin,
            json!({"name": "Ada Renamed"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(operator_events(&app).await.len(), 4);
    // An address already in use: refused, nothing marked.
    let clash = app
        .patch(
            &format!("/users/{}", victim.id),
            admin,
            json!({"email": cast.interviewers[0].email}),
        )
        .await;
    assert_problem(&clash, 409, "email_taken");
    assert_eq!(operator_events(&app).await.len(), 4);
}
both_backends!(
    operator_takeover,
    an_operator_taking_over_an_account_leaves_marks
);
