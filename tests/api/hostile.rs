//! Hostile input: whatever arrives, the answer is a clear problem and
//! nothing changes — never a 500, never a lost or mangled value.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::*;

async fn raw(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: &str,
) -> (StatusCode, Value) {
    let resp = app
        .client
        .request(method, app.url(path))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = resp.status();
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .ends_with("json")
    );
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn nothing_odd_gets_a_500(app: TestApp) {
    let setup = app.scheduled_loop().await;
    let cast = &setup.cast;
    let admin = &cast.admin;
    let rec = &cast.recruiter;
    // NUL bytes are refused where text is stored.
    assert_problem(&app.post("/users", admin, json!({"email": "nul@example.com", "name": "a\u{0}b", "password": PASSWORD, "role": "member"})).await, 422, "validation_failed");
    assert_problem(
        &app.post(
            "/candidates",
            rec,
            json!({"name": "Nul", "email": "nul@candidates.example", "notes": "x\u{0}y"}),
        )
        .await,
        422,
        "validation_failed",
    );
    let me = &cast.interviewers[0];
    let interview = setup.interview_of(me);
    let comps = app.assigned(me, interview).await;
    assert_problem(
        &app.put(
            &format!("/interviews/{interview}/feedback"),
            me,
            json!({"ratings": [{"competency_id": comps[0], "evidence": "bad\u{0}byte"}]}),
        )
        .await,
        422,
        "validation_failed",
    );
    // 10 000-character names.
    let long = "n".repeat(10_000);
    assert_problem(&app.post("/users", admin, json!({"email": "long@example.com", "name": long, "password": PASSWORD, "role": "member"})).await, 422, "validation_failed");
    assert_problem(
        &app.patch(
            &format!("/loops/{}", setup.loop_id),
            rec,
            json!({"position": long}),
        )
        .await,
        422,
        "validation_failed",
    );
    assert_problem(
        &app.post(
            "/competencies",
            admin,
            json!({"name": long, "description": "d"}),
        )
        .await,
        422,
        "validation_failed",
    );
    // Numbers out of range and of the wrong kind.
    for duration in [
        json!(-5),
        json!(1e20),
        json!(99999999999i64),
        json!("60"),
        json!(60.5),
    ] {
        let got = app
            .post(&format!("/loops/{}/interviews", setup.loop_id), rec, json!({"interviewer_id": cast.outsider.id, "competency_ids": [comps[0]], "starts_at": "2026-12-01T10:00:00Z", "duration_minutes": duration}))
            .await;
        assert_eq!(
            got.0,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{duration}: {}",
            got.1
        );
    }
    assert_problem(
        &app.put(&format!("/interviews/{interview}/feedback"), me, json!({"ratings": [{"competency_id": comps[0], "rating": 9_223_372_036_854_775_807i64}]})).await,
        422,
        "validation_failed",
    );
    // Duplicate keys, nulls where values belong, arrays where objects belong.
    assert_problem(
        &raw(
            &app,
            reqwest::Method::POST,
            "/candidates",
            &rec.token,
            r#"{"name":"A","name":"B","email":"dup@keys.example"}"#,
        )
        .await,
        422,
        "invalid_body",
    );
    assert_problem(
        &raw(
            &app,
            reqwest::Method::POST,
            "/candidates",
            &rec.token,
            r#"{"name":null,"email":"null@keys.example"}"#,
        )
        .await,
        422,
        "invalid_body",
    );
    assert_problem(
        &raw(
            &app,
            reqwest::Method::POST,
            "/candidates",
            &rec.token,
            r#"[1,2,3]"#,
        )
        .await,
        422,
        "invalid_body",
    );
    assert_problem(
        &raw(&app, reqwest::Method::POST, "/candidates", &rec.token, "").await,
        400,
        "malformed_json",
    );
    let huge_array = format!(
        "{{\"name\":\"A\",\"email\":\"a@b.co\",\"links\":[{}\"x\"]}}",
        "\"x\",".repeat(12_000)
    );
    let got = raw(
        &app,
        reqwest::Method::POST,
        "/candidates",
        &rec.token,
        &huge_array,
    )
    .await;
    assert!(matches!(got.0.as_u16(), 413 | 422), "{}", got.0);
    // Query strings.
    for q in [
        "limit=abc",
        "limit=1e3",
        "limit=%00",
        "cursor=%FF%FE",
        "state=draft&state=scheduled",
        "limit=-9223372036854775809",
    ] {
        let got = app.get(&format!("/loops?{q}"), admin).await;
        assert_problem(&got, 422, "invalid_query");
    }
    // Odd paths never reach a handler as data.
    for p in [
        "/loops/%00",
        "/loops/..%2F..%2Fetc%2Fpasswd",
        "/interviews/%F0%9F%92%A3/feedback",
        "/users/' OR 1=1 --",
    ] {
        let got = app.get(p, admin).await;
        assert!(matches!(got.0.as_u16(), 400 | 404), "{p}: {}", got.0);
    }
    // Unicode and metacharacters are stored and returned verbatim.
    let weird = "Zoë \u{202e}gnp.exe 🧪 <b>&amp;</b> '; DROP TABLE loops; --";
    let (status, c) = app
        .post(
            "/candidates",
            rec,
            json!({"name": weird, "email": "weird@candidates.example"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(c["name"], weird);
    let (_, back) = app
        .get(&format!("/candidates/{}", c["id"].as_str().unwrap()), rec)
        .await;
    assert_eq!(back["name"], weird);
    // Headers.
    let resp = app
        .client
        .get(app.url("/me"))
        .header("authorization", format!("Bearer {}", "\u{7f}".repeat(3)))
        .send()
        .await;
    if let Ok(resp) = resp {
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    let resp = app
        .client
        .put(app.url(&format!("/interviews/{interview}/feedback")))
        .bearer_auth(&me.token)
        .header("if-match", "x".repeat(5000))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PRECONDITION_FAILED);
    // After all that, the loop is as it was and its chain is intact.
    let (_, l) = app.get(&format!("/loops/{}", setup.loop_id), rec).await;
    assert_eq!(l["position"], "Senior Engineer");
    assert_eq!(l["interviews"].as_array().unwrap().len(), 6);
    assert_eq!(app.verify_chain(rec, setup.loop_id).await["valid"], true);
}
both_backends!(hostile_input, nothing_odd_gets_a_500);
