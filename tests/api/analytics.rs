//! Process analytics over decided loops: figures computed from the quick,
//! sealed and blind debrief votes and the outcome, on hand-computed data;
//! who may read which figures; CSV; nothing before a loop is decided.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::both_backends;
use crate::fixtures::*;
use crate::helpers::*;

/// How a test loop ends.
enum Ending {
    NoHire,
    HireConcurred,
    HireVetoed,
    /// It does not: every vote sealed, the debrief not opened.
    Undecided,
}

/// A decided loop with `cast`: the Bar Raiser and the four interviewers
/// seal `sealed` (in `cast.voters()` order), those named in `changes` cast
/// a different debrief vote, and the loop ends as `ending`.
async fn decided_loop(
    app: &TestApp,
    cast: &Cast,
    sealed: [&str; 5],
    changes: &[(usize, &str)],
    ending: Ending,
) -> Uuid {
    quick_voted_loop(app, cast, &[], sealed, changes, ending).await
}

/// [`decided_loop`] where the voters named in `quick` (by their index in
/// `cast.voters()`) first commit that quick vote (the app's quick-vote
/// window must reach back to the interviews, one to five hours ago).
async fn quick_voted_loop(
    app: &TestApp,
    cast: &Cast,
    quick: &[(usize, &str)],
    sealed: [&str; 5],
    changes: &[(usize, &str)],
    ending: Ending,
) -> Uuid {
    let comps = app.competency_ids(&cast.recruiter).await[..3].to_vec();
    let candidate = app.candidate(&cast.recruiter, "Ana Lytics").await;
    let (status, l) = app
        .create_loop(
            &cast.recruiter,
            json!({
                "candidate_id": candidate,
                "position": "Data Engineer",
                "level": "L5",
                "hiring_manager_id": cast.hiring_manager.id,
                "bar_raiser_id": cast.bar_raiser.id,
                "required_competency_ids": comps,
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{l}");
    let loop_id: Uuid = l["id"].as_str().unwrap().parse().unwrap();
    let mut interviews = Vec::new();
    for (n, who) in cast.voters().into_iter().enumerate() {
        let (status, i) = app
            .add_interview(
                &cast.recruiter,
                loop_id,
                who,
                &comps,
                "interviewer",
                -6 + n as i64,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{i}");
        interviews.push(i["id"].as_str().unwrap().parse::<Uuid>().unwrap());
    }
    let lp = |p: &str| format!("/loops/{loop_id}{p}");
    let (status, body) = app.post(&lp("/schedule"), &cast.recruiter, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for (n, vote) in quick {
        let (status, body) = app
            .post(
                &format!("/interviews/{}/quick-vote", interviews[*n]),
                cast.voters()[*n],
                json!({ "vote": vote }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    for ((who, interview), vote) in cast.voters().into_iter().zip(&interviews).zip(sealed) {
        app.draft_and_seal(who, *interview, vote).await;
    }
    // Nothing about a loop in flight.
    assert_problem(
        &app.get(&format!("/analytics/loops/{loop_id}"), &cast.bar_raiser)
            .await,
        409,
        "loop_not_decided",
    );
    if matches!(ending, Ending::Undecided) {
        return loop_id;
    }
    let (status, body) = app.post(&lp("/debrief"), &cast.bar_raiser, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for (n, vote) in changes {
        let (status, body) = app
            .put(
                &lp("/debrief/votes/me"),
                cast.voters()[*n],
                json!({"vote": vote, "rationale": "The discussion surfaced evidence I had weighed differently."}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let outcome = if matches!(ending, Ending::NoHire) {
        "no_hire"
    } else {
        "hire"
    };
    let (status, body) = app
        .post(
            &lp("/decision"),
            &cast.hiring_manager,
            json!({"outcome": outcome, "rationale": "Weighed every vote and the debrief."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = match ending {
        Ending::NoHire | Ending::Undecided => (status, body),
        Ending::HireConcurred => {
            app.post(&lp("/decision/concur"), &cast.bar_raiser, json!({}))
                .await
        }
        Ending::HireVetoed => {
            app.post(
                &lp("/decision/veto"),
                &cast.bar_raiser,
                json!({"rationale": "x".repeat(60)}),
            )
            .await
        }
    };
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "decided", "{body}");
    loop_id
}

fn close(v: &Value, expected: f64) -> bool {
    v.as_f64().is_some_and(|x| (x - expected).abs() < 1e-9)
}

fn row_of<'a>(table: &'a Value, who: &Session) -> &'a Value {
    table["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["interviewer"]["id"] == json!(who.id))
        .unwrap_or_else(|| panic!("no row for {}: {table}", who.email))
}

async fn figures_of_decided_loops(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |c| c.analytics_min_loops = 2).await else {
        return;
    };
    let cast = app.cast().await;
    // Loop A: sealed [1, 4, 3, 2, 1] (Bar Raiser first); in the debrief
    // 4→3, 2→3, 1→2; a hire, vetoed.
    let a = decided_loop(
        &app,
        &cast,
        [
            "strong_no_hire",
            "strong_hire",
            "inclined_to_hire",
            "inclined_not_to_hire",
            "strong_no_hire",
        ],
        &[
            (1, "inclined_to_hire"),
            (3, "inclined_to_hire"),
            (4, "inclined_not_to_hire"),
        ],
        Ending::HireVetoed,
    )
    .await;
    let (status, m) = app
        .get(&format!("/analytics/loops/{a}"), &cast.recruiter)
        .await;
    assert_eq!(status, StatusCode::OK, "{m}");
    assert_eq!(
        (m["voters"].as_i64(), m["changed"].as_i64()),
        (Some(5), Some(3)),
        "{m}"
    );
    // The hiring manager holds no interview: no sealed vote to move toward.
    assert_eq!(m["toward_hiring_manager"], Value::Null);
    // Toward the Bar Raiser's 1: only 4→3.
    assert_eq!(m["toward_bar_raiser"], 1);
    // Sealed mean 2.2, variance 6.8 / 5; debrief [1,3,3,3,2] mean 2.4, 3.2 / 5.
    let (s, d) = ((6.8f64 / 5.0).sqrt(), (3.2f64 / 5.0).sqrt());
    assert!(
        close(&m["spread_sealed"], s) && close(&m["spread_debrief"], d),
        "{m}"
    );
    assert!(close(&m["convergence"], 1.0 - d / s), "{m}");
    assert_eq!(
        (m["hired"].as_bool(), m["vetoed"].as_bool()),
        (Some(false), Some(true))
    );
    assert_eq!(m["bar_raiser_overruled"], true);
    // Those who took part read it; nobody else learns the loop exists.
    assert_eq!(
        app.get(&format!("/analytics/loops/{a}"), &cast.interviewers[0])
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&format!("/analytics/loops/{a}"), &cast.outsider)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/analytics/loops/{a}"), &cast.other_recruiter)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("/analytics/loops/{}", Uuid::new_v4()), &cast.admin)
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    // Loop B: everyone strong_hire, nobody changes; the Bar Raiser concurs.
    decided_loop(&app, &cast, ["strong_hire"; 5], &[], Ending::HireConcurred).await;

    // Interviewer figures (min_loops is 2 here).
    let (status, table) = app.get("/analytics/interviewers", &cast.recruiter).await;
    assert_eq!(status, StatusCode::OK, "{table}");
    assert_eq!(table["min_loops"], 2);
    assert_eq!(table["items"].as_array().unwrap().len(), 5, "{table}");
    let ivy = row_of(&table, &cast.interviewers[0]);
    assert_eq!(
        (ivy["loops"].as_i64(), ivy["insufficient_data"].as_bool()),
        (Some(2), Some(false))
    );
    // A: 4 against the others' mean 1.75 → +2.25; B: 4 against 4 → 0.
    assert!(close(&ivy["leniency"], 1.125), "{ivy}");
    // A: a hire vote, not hired; B: a hire vote, hired.
    assert!(
        close(&ivy["agreement"], 0.5) && close(&ivy["change_rate"], 0.5),
        "{ivy}"
    );
    assert!(close(&ivy["late_rate"], 0.0), "{ivy}");
    assert!(
        ivy["seal_hours_p50"].as_f64().is_some_and(|h| h > 0.0),
        "{ivy}"
    );
    let bo = row_of(&table, &cast.bar_raiser);
    // A: 1 against the others' mean 2.5 → −1.5; B: 0.
    assert!(close(&bo["leniency"], -0.75), "{bo}");
    // A: a no-hire vote, not hired; B: a hire vote, hired → κ 1.
    assert!(
        close(&bo["agreement"], 1.0) && close(&bo["kappa"], 1.0),
        "{bo}"
    );

    // Everyone reads their own; a member reads no one else's.
    let (status, me) = app.get("/analytics/me", &cast.interviewers[0]).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(&me, ivy);
    assert_problem(
        &app.get("/analytics/interviewers", &cast.interviewers[0])
            .await,
        403,
        "analytics_not_permitted",
    );
    assert_problem(
        &app.get(
            &format!("/analytics/interviewers/{}", cast.interviewers[1].id),
            &cast.interviewers[0],
        )
        .await,
        403,
        "analytics_not_permitted",
    );
    assert_problem(
        &app.get("/analytics/summary", &cast.hiring_manager).await,
        403,
        "analytics_not_permitted",
    );
    let (status, one) = app
        .get(
            &format!("/analytics/interviewers/{}", cast.interviewers[0].id),
            &cast.bar_raiser,
        )
        .await;
    assert_eq!((status, &one), (StatusCode::OK, ivy));

    // The organisation.
    let (status, sum) = app.get("/analytics/summary", &cast.admin).await;
    assert_eq!(status, StatusCode::OK, "{sum}");
    assert_eq!(sum["loops"], 2);
    assert_eq!(sum["votes"]["units"], 2);
    assert!(
        sum["votes"]["alpha"]
            .as_f64()
            .is_some_and(|a| (-1.0..=1.0).contains(&a)),
        "{sum}"
    );
    assert!(close(&sum["changed_share"], 0.5), "{sum}");
    assert_eq!(sum["toward_hiring_manager_share"], Value::Null);
    assert!(close(&sum["mean_convergence"], 1.0 - d / s), "{sum}");
    let br = &sum["bar_raisers"][0];
    assert_eq!(
        (
            br["loops"].as_i64(),
            br["vetoes"].as_i64(),
            br["concurs"].as_i64()
        ),
        (Some(2), Some(1), Some(1))
    );
    assert!(close(&br["veto_rate"], 0.5));
    assert_eq!(sum["timeliness"]["seal_hours"]["count"], 10);
    assert_eq!(sum["competencies"].as_array().unwrap().len(), 3, "{sum}");
    // A period with nothing decided in it.
    let (status, empty) = app
        .get(
            "/analytics/summary?from=2020-01-01T00:00:00Z&to=2021-01-01T00:00:00Z",
            &cast.admin,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (empty["loops"].as_i64(), &empty["votes"]["alpha"]),
        (Some(0), &Value::Null)
    );
    // Filters.
    let (_, other) = app
        .get("/analytics/summary?position=Nobody", &cast.admin)
        .await;
    assert_eq!(other["loops"], 0);
    assert_problem(
        &app.get(
            "/analytics/summary?from=2026-01-01T00:00:00Z&to=2025-01-01T00:00:00Z",
            &cast.admin,
        )
        .await,
        422,
        "invalid_query",
    );
    let (status, body) = app.get("/analytics/summary?colour=red", &cast.admin).await;
    assert!(
        status.is_client_error() && body["code"].is_string(),
        "{status} {body}"
    );

    // The reliability data: coders × units, no ids.
    let (status, data) = app.get("/analytics/reliability", &cast.admin).await;
    assert_eq!(status, StatusCode::OK, "{data}");
    let votes = data["votes"].as_array().unwrap();
    assert_eq!(votes.len(), 5);
    assert!(votes.iter().all(|row| row.as_array().unwrap().len() == 2));
    assert_problem(
        &app.get("/analytics/reliability", &cast.recruiter).await,
        403,
        "admin_only",
    );
}
both_backends!(decided_loops, backend => super::figures_of_decided_loops);

async fn too_few_loops_give_no_figures_and_csv_is_safe(app: TestApp) {
    let cast = app.cast().await;
    decided_loop(&app, &cast, ["inclined_to_hire"; 5], &[], Ending::NoHire).await;
    let (status, me) = app.get("/analytics/me", &cast.interviewers[1]).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(
        (me["loops"].as_i64(), me["insufficient_data"].as_bool()),
        (Some(1), Some(true))
    );
    for figure in [
        "leniency",
        "agreement",
        "kappa",
        "change_rate",
        "seal_hours_p50",
        "seal_hours_p90",
        "late_rate",
        "quick_vote_rate",
        "amend_rate",
    ] {
        assert_eq!(me[figure], Value::Null, "{figure}: {me}");
    }
    // Someone with no decided loop at all.
    let (status, none) = app.get("/analytics/me", &cast.shadow).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (none["loops"].as_i64(), none["insufficient_data"].as_bool()),
        (Some(0), Some(true))
    );
    // CSV of the table: a header and one row per interviewer.
    let res = app
        .client
        .request(Method::GET, app.url("/analytics/interviewers"))
        .bearer_auth(&cast.recruiter.token)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = res.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6, "{text}");
    assert!(lines[0].starts_with("interviewer_id,name,email,loops,insufficient_data,leniency"));
    assert!(
        lines[0].ends_with(",late_rate,quick_vote_rate,amend_rate"),
        "{text}"
    );
    assert!(
        lines[1..].iter().all(|l| l.split(',').nth(3) == Some("1")),
        "{text}"
    );
    // Service tokens: `analytics:read` and nothing else opens analytics.
    for (scopes, expected) in [
        (vec!["analytics:read"], StatusCode::OK),
        (vec!["loops:read"], StatusCode::FORBIDDEN),
    ] {
        let (status, t) = app
            .post(
                "/tokens",
                &cast.admin,
                json!({"name": "bi tool", "scopes": scopes}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{t}");
        let secret = t["secret"].as_str().unwrap();
        for path in ["/analytics/summary", "/analytics/interviewers"] {
            let (status, body) = app.call(Method::GET, path, Some(secret), None).await;
            assert_eq!(status, expected, "{scopes:?} {path}: {body}");
        }
    }
    // The printable report: one page, its four charts, no script.
    let res = app
        .client
        .get(app.url("/analytics/report"))
        .bearer_auth(&cast.recruiter.token)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = res.text().await.unwrap();
    for chart in [
        "vote-changes",
        "leniency",
        "time-to-seal",
        "alpha-over-time",
    ] {
        assert!(
            html.contains(&format!("data-chart=\"{chart}\"")),
            "{chart} missing"
        );
    }
    assert!(!html.contains("<script") && !html.contains("http://") && !html.contains("https://"));
    assert_problem(
        &app.get("/analytics/report", &cast.interviewers[0]).await,
        403,
        "analytics_not_permitted",
    );
}
both_backends!(too_few_loops, too_few_loops_give_no_figures_and_csv_is_safe);

/// `a` and `b` are the same JSON, numbers equal to 1e-9 (sums of the same
/// coincidences in another order differ in the last bits).
fn same_figures(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            (x.as_f64().unwrap() - y.as_f64().unwrap()).abs() < 1e-9
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_figures(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_figures(v, w)))
        }
        _ => a == b,
    }
}

/// The summary's figures without its echo of the period asked for.
fn figures(mut summary: Value) -> Value {
    summary.as_object_mut().unwrap().remove("period");
    summary
}

/// A period's whole UTC days come from the per-day roll-up kept at capture,
/// its partial edge days and any filtered period loop by loop: the three
/// ways give the same summary, and still do after a candidate's erasure.
async fn roll_up_and_per_loop_summaries_agree(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |c| c.analytics_min_loops = 2).await else {
        return;
    };
    let cast = app.cast().await;
    let a = decided_loop(
        &app,
        &cast,
        [
            "strong_no_hire",
            "strong_hire",
            "inclined_to_hire",
            "inclined_not_to_hire",
            "strong_no_hire",
        ],
        &[(1, "inclined_to_hire"), (4, "inclined_not_to_hire")],
        Ending::HireVetoed,
    )
    .await;
    decided_loop(
        &app,
        &cast,
        [
            "inclined_to_hire",
            "strong_hire",
            "inclined_to_hire",
            "inclined_not_to_hire",
            "strong_hire",
        ],
        &[(3, "inclined_to_hire")],
        Ending::HireConcurred,
    )
    .await;
    decided_loop(
        &app,
        &cast,
        [
            "strong_no_hire",
            "inclined_not_to_hire",
            "inclined_not_to_hire",
            "strong_no_hire",
            "inclined_to_hire",
        ],
        &[],
        Ending::NoHire,
    )
    .await;
    let now = chrono::Utc::now();
    let today = now.date_naive().and_hms_opt(0, 0, 0).unwrap().and_utc();
    let iso = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    // Whole days: from yesterday (mid-day, an edge day with nothing in it)
    // to two days on (an edge past midnight): today and tomorrow are whole
    // days, read from the roll-up.
    let whole = format!(
        "/analytics/summary?from={}&to={}",
        iso(now - chrono::Duration::hours(30)),
        iso(today + chrono::Duration::days(2) + chrono::Duration::hours(3))
    );
    // Less than a day: loop by loop.
    let edges = format!(
        "/analytics/summary?from={}&to={}",
        iso(now - chrono::Duration::hours(2)),
        iso(now + chrono::Duration::hours(2))
    );
    // Filtered (every loop is for this position): loop by loop.
    let filtered = format!("{whole}&position=Data%20Engineer");
    let check = async || {
        let (status, from_days) = app.get(&whole, &cast.admin).await;
        assert_eq!(status, StatusCode::OK, "{from_days}");
        assert_eq!(from_days["loops"], 3, "{from_days}");
        assert_eq!(from_days["votes"]["units"], 3, "{from_days}");
        assert!(from_days["votes"]["alpha"].is_f64(), "{from_days}");
        assert_eq!(
            from_days["competencies"].as_array().unwrap().len(),
            3,
            "{from_days}"
        );
        for other in [&edges, &filtered] {
            let (status, per_loop) = app.get(other, &cast.admin).await;
            assert_eq!(status, StatusCode::OK, "{per_loop}");
            assert!(
                same_figures(&figures(from_days.clone()), &figures(per_loop.clone())),
                "{from_days}\n{per_loop}"
            );
        }
        from_days
    };
    let before = check().await;
    // Erasing a candidate rewrites no captured analytics row: the roll-up
    // and the loop rows still agree, on the same figures.
    let (status, l) = app.get(&format!("/loops/{a}"), &cast.recruiter).await;
    assert_eq!(status, StatusCode::OK, "{l}");
    let candidate = l["candidate"]["id"].as_str().unwrap().to_string();
    let (status, erased) = app
        .delete(&format!("/candidates/{candidate}"), &cast.recruiter)
        .await;
    assert_eq!(status, StatusCode::OK, "{erased}");
    let after = check().await;
    assert!(
        same_figures(&figures(before.clone()), &figures(after.clone())),
        "{before}\n{after}"
    );
}
both_backends!(roll_up_agrees, backend => super::roll_up_and_per_loop_summaries_agree);

/// Reverts the migrations down to and including the quick-vote one and
/// runs them again: loops decided (and captured) before it meet its
/// backfill, as in a database upgraded to it.
async fn migrate_quick_votes_again(app: &TestApp) {
    app.remigrate_from("20261201000700", |_| {}).await;
}

/// Quick → sealed → debrief, counted: a decided loop where three voters
/// quick-voted (one amended at the seal, two ended elsewhere), one without
/// quick votes, and a loop in flight whose quick votes count nowhere; the
/// loop, interviewer (JSON and CSV) and summary figures, computed by hand;
/// and the migration's backfill gives the same figures as the capture.
async fn quick_votes_in_the_figures(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |c| {
        c.analytics_min_loops = 2;
        c.quick_vote_window_minutes = 24 * 60;
    })
    .await
    else {
        return;
    };
    let cast = app.cast().await;
    // Voters: Bar Raiser, Ivy, Ian, Ida, Ike. Quick [–, 4, 3, –, 2],
    // sealed [1, 4, 2, 3, 2], Ivy's debrief vote 3: quick-voted 3; Ian
    // amended 3 → 2 at the seal; Ivy (4 → 3 in the debrief) and Ian end on
    // another vote than their quick one; Ike keeps 2 throughout.
    let a = quick_voted_loop(
        &app,
        &cast,
        &[
            (1, "strong_hire"),
            (2, "inclined_to_hire"),
            (4, "inclined_not_to_hire"),
        ],
        [
            "strong_no_hire",
            "strong_hire",
            "inclined_not_to_hire",
            "inclined_to_hire",
            "inclined_not_to_hire",
        ],
        &[(1, "inclined_to_hire")],
        Ending::NoHire,
    )
    .await;
    // The debrief showed Ian's interview amended, and nobody else's.
    let (status, debrief) = app
        .get(&format!("/loops/{a}/debrief"), &cast.hiring_manager)
        .await;
    assert_eq!(status, StatusCode::OK, "{debrief}");
    let amended: Vec<&Value> = debrief["votes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["amended"] == true)
        .collect();
    assert_eq!(amended.len(), 1, "{debrief}");
    let (status, m) = app
        .get(&format!("/analytics/loops/{a}"), &cast.interviewers[1])
        .await;
    assert_eq!(status, StatusCode::OK, "{m}");
    assert_eq!(
        (
            m["voters"].as_i64(),
            m["changed"].as_i64(),
            m["quick_voted"].as_i64(),
            m["amended"].as_i64(),
            m["quick_to_final_changed"].as_i64()
        ),
        (Some(5), Some(1), Some(3), Some(1), Some(2)),
        "{m}"
    );
    let b = decided_loop(&app, &cast, ["strong_hire"; 5], &[], Ending::HireConcurred).await;
    let (_, mb) = app.get(&format!("/analytics/loops/{b}"), &cast.admin).await;
    assert_eq!(
        (
            mb["quick_voted"].as_i64(),
            mb["amended"].as_i64(),
            mb["quick_to_final_changed"].as_i64()
        ),
        (Some(0), Some(0), Some(0)),
        "{mb}"
    );
    let (status, table) = app.get("/analytics/interviewers", &cast.recruiter).await;
    assert_eq!(status, StatusCode::OK, "{table}");
    let (status, summary) = app.get("/analytics/summary", &cast.admin).await;
    assert_eq!(status, StatusCode::OK, "{summary}");

    // A loop in flight where every voter quick-voted and sealed another
    // vote: no figure moves.
    let c = quick_voted_loop(
        &app,
        &cast,
        &[
            (0, "strong_hire"),
            (1, "strong_hire"),
            (2, "strong_hire"),
            (3, "strong_hire"),
            (4, "strong_hire"),
        ],
        ["strong_no_hire"; 5],
        &[],
        Ending::Undecided,
    )
    .await;
    assert_problem(
        &app.get(&format!("/analytics/loops/{c}"), &cast.admin).await,
        409,
        "loop_not_decided",
    );
    let check = |table: &Value, summary: &Value| {
        // Two loops each (min_loops 2): Ivy and Ike quick-voted in one of
        // them and kept it at the seal, Ian quick-voted in one and
        // amended it, the Bar Raiser and Ida never quick-voted.
        let rates = |who: &Session| {
            let r = row_of(table, who);
            assert_eq!(
                (r["loops"].as_i64(), r["insufficient_data"].as_bool()),
                (Some(2), Some(false)),
                "{r}"
            );
            (r["quick_vote_rate"].as_f64(), r["amend_rate"].as_f64())
        };
        assert_eq!(rates(&cast.interviewers[0]), (Some(0.5), Some(0.0)));
        assert_eq!(rates(&cast.interviewers[1]), (Some(0.5), Some(1.0)));
        assert_eq!(rates(&cast.interviewers[2]), (Some(0.0), None));
        assert_eq!(rates(&cast.interviewers[3]), (Some(0.5), Some(0.0)));
        assert_eq!(rates(&cast.bar_raiser), (Some(0.0), None));
        // Ten voters, three quick votes: one amended, two ended elsewhere.
        assert_eq!(summary["loops"], 2, "{summary}");
        assert!(close(&summary["quick_voted_share"], 0.3), "{summary}");
        assert!(close(&summary["amended_share"], 1.0 / 3.0), "{summary}");
        assert!(
            close(&summary["quick_to_final_changed_share"], 2.0 / 3.0),
            "{summary}"
        );
    };
    check(&table, &summary);
    let (_, table_now) = app.get("/analytics/interviewers", &cast.recruiter).await;
    let (_, summary_now) = app.get("/analytics/summary", &cast.admin).await;
    assert_eq!(figures(summary.clone()), figures(summary_now.clone()));
    assert_eq!(table["items"], table_now["items"]);
    // Everyone reads their own rates.
    let (_, me) = app.get("/analytics/me", &cast.interviewers[1]).await;
    assert_eq!(&me, row_of(&table, &cast.interviewers[1]));
    // The CSV carries the two rates last.
    let text = app
        .client
        .get(app.url("/analytics/interviewers"))
        .bearer_auth(&cast.recruiter.token)
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = |who: &Session| {
        text.lines()
            .find(|l| l.starts_with(&who.id.to_string()))
            .unwrap_or_else(|| panic!("no line for {}: {text}", who.email))
            .to_string()
    };
    assert!(line(&cast.interviewers[1]).ends_with(",0.5,1"), "{text}");
    assert!(line(&cast.interviewers[2]).ends_with(",0,"), "{text}");
    // No figure shows a quick vote itself.
    for v in ["strong_hire", "inclined_to_hire", "inclined_not_to_hire"] {
        assert!(!text.contains(v) && !summary.to_string().contains(v));
    }

    // The migration's backfill: reverted (the captured quick figures
    // gone with their columns) and run again, it restores the same ones.
    migrate_quick_votes_again(&app).await;
    let (_, table_back) = app.get("/analytics/interviewers", &cast.recruiter).await;
    let (_, summary_back) = app.get("/analytics/summary", &cast.admin).await;
    check(&table_back, &summary_back);
    assert_eq!(table["items"], table_back["items"]);
    let (_, back) = app.get(&format!("/analytics/loops/{a}"), &cast.admin).await;
    assert_eq!(back, m);
}
both_backends!(quick_votes_counted, backend => super::quick_votes_in_the_figures);
