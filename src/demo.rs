//! `bar-raiser demo`: a realistic sample so a newcomer can try the whole
//! flow from `/docs/` in a minute. People are created directly; everything
//! else goes through the real API in-process, exactly as a client would.

use actix_web::{test, web};
use serde_json::{Value, json};

use crate::app::{self, AppState};
use crate::auth::password::hash_blocking;
use crate::auth::tokens::random_token;
use crate::db;
use crate::domain::AccountRole;
use crate::events::By;
use crate::workflows::users::{self, NewUser};

/// Who the demo creates: (email, name, role, certified).
const PEOPLE: [(&str, &str, AccountRole, bool); 9] = [
    (
        "recruiter@demo.example",
        "Rosa Recruiter",
        AccountRole::Recruiter,
        false,
    ),
    (
        "manager@demo.example",
        "Hamid Manager",
        AccountRole::Member,
        false,
    ),
    (
        "raiser@demo.example",
        "Bea Raiser",
        AccountRole::Member,
        true,
    ),
    (
        "ines@demo.example",
        "Ines Interviewer",
        AccountRole::Member,
        false,
    ),
    (
        "ivan@demo.example",
        "Ivan Interviewer",
        AccountRole::Member,
        false,
    ),
    (
        "iris@demo.example",
        "Iris Interviewer",
        AccountRole::Member,
        false,
    ),
    (
        "igor@demo.example",
        "Igor Interviewer",
        AccountRole::Member,
        false,
    ),
    (
        "shay@demo.example",
        "Shay Shadow",
        AccountRole::Member,
        false,
    ),
    ("admin@demo.example", "Ada Admin", AccountRole::Admin, false),
];

/// Creates the sample. Refuses when the demo people already exist.
pub async fn run(state: web::Data<AppState>) -> anyhow::Result<()> {
    let password = random_token()[..20].to_string();
    let pw = password.clone();
    let st = state.clone();
    let ids: Vec<db::UserId> = web::block(move || -> anyhow::Result<Vec<db::UserId>> {
        let hash = hash_blocking(&pw)?;
        let mut conn = st.db.conn().map_err(|e| anyhow::anyhow!("{e}"))?;
        if db::users::by_email(&mut conn, PEOPLE[0].0)?.is_some() {
            anyhow::bail!("the demo data exists already in this database");
        }
        db::write_tx(&mut conn, |conn| {
            PEOPLE
                .iter()
                .map(|(email, name, role, certified)| {
                    users::insert(
                        conn,
                        &By {
                            actor: None,
                            public_url: String::new(),
                        },
                        NewUser {
                            email,
                            name,
                            password_hash: hash.clone(),
                            role: *role,
                            bar_raiser_certified: *certified,
                            active: true,
                        },
                    )
                    .map(|u| u.id)
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(|e| anyhow::anyhow!("creating demo people: {e}"))
    })
    .await??;

    let app = test::init_service(app::build(state)).await;
    let call = |method: &'static str, path: String, token: Option<String>, body: Value| {
        let mut req = match method {
            "POST" => test::TestRequest::post(),
            _ => test::TestRequest::get(),
        }
        .uri(&path)
        .set_json(body);
        if let Some(t) = token {
            req = req.insert_header(("authorization", format!("Bearer {t}")));
        }
        req.to_request()
    };
    let login = test::call_service(
        &app,
        call(
            "POST",
            "/api/v1/auth/login".into(),
            None,
            json!({"email": PEOPLE[0].0, "password": password}),
        ),
    )
    .await;
    anyhow::ensure!(
        login.status().is_success(),
        "demo login failed: {}",
        login.status()
    );
    let login: Value = test::read_body_json(login).await;
    let token = login["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let send = async |path: String, body: Value| -> anyhow::Result<Value> {
        let resp =
            test::call_service(&app, call("POST", path.clone(), Some(token.clone()), body)).await;
        let status = resp.status();
        let value: Value = test::read_body_json(resp).await;
        anyhow::ensure!(
            status.is_success(),
            "demo step {path} failed: {status} {value}"
        );
        Ok(value)
    };
    let comps_resp = test::call_service(
        &app,
        call(
            "GET",
            "/api/v1/competencies".into(),
            Some(token.clone()),
            Value::Null,
        ),
    )
    .await;
    let comps: Value = test::read_body_json(comps_resp).await;
    let comp = |n: usize| comps["items"][n]["id"].clone();
    let candidate = send(
        "/api/v1/candidates".into(),
        json!({"name": "Dana Candidate", "email": "dana@candidate.example", "phone": "+1 555 0199", "links": ["https://example.com/dana"], "notes": "Demo candidate"}),
    )
    .await?;
    let l = send(
        "/api/v1/loops".into(),
        json!({
            "candidate_id": candidate["id"],
            "position": "Senior Software Engineer",
            "level": "L6",
            "hiring_manager_id": ids[1],
            "bar_raiser_id": ids[2],
            "required_competency_ids": [comp(0), comp(1), comp(2), comp(3)],
        }),
    )
    .await?;
    let loop_id = l["id"].as_str().unwrap_or_default().to_string();
    let start = chrono::Utc::now() - chrono::Duration::hours(8);
    let plan = [
        (2, vec![comp(0), comp(1)], "interviewer"),
        (3, vec![comp(2)], "interviewer"),
        (4, vec![comp(3)], "interviewer"),
        (5, vec![comp(0), comp(2)], "interviewer"),
        (6, vec![comp(1), comp(3)], "interviewer"),
        (7, vec![comp(0)], "shadow"),
    ];
    for (n, (who, competencies, role)) in plan.into_iter().enumerate() {
        send(
            format!("/api/v1/loops/{loop_id}/interviews"),
            json!({
                "interviewer_id": ids[who],
                "competency_ids": competencies,
                "starts_at": (start + chrono::Duration::hours(n as i64)).to_rfc3339(),
                "duration_minutes": 45,
                "loop_role": role,
            }),
        )
        .await?;
    }
    send(format!("/api/v1/loops/{loop_id}/schedule"), json!({})).await?;

    println!(
        "Demo data created: a scheduled loop {loop_id} for Dana Candidate with six interviews."
    );
    println!("Every demo account below signs in with the password: {password}");
    println!("(shown once; it is not stored anywhere in clear)");
    for (email, name, role, certified) in PEOPLE {
        let extra = if certified {
            ", certified Bar Raiser"
        } else {
            ""
        };
        println!("  {email:<26} {name} ({role}{extra})");
    }
    println!(
        "Try it: sign in at /docs/ with POST /api/v1/auth/login, then GET /api/v1/me/interviews."
    );
    Ok(())
}
