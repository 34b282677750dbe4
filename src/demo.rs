//! `bar-raiser demo`: a realistic sample so a newcomer can try the whole
//! flow from `/docs/` in a minute, and a history for the analytics to show.
//! People (and, but for the recruiter's sign-in, their sessions) are created
//! directly; everything else goes through the real API in-process, exactly
//! as a client would.
//!
//! The history is [`HISTORY_LOOPS`] loops decided over the past eight
//! months: interviews, seals hours or days after them, debriefs where some
//! interviewers change their vote (toward the hiring manager or the Bar
//! Raiser), hires, no-hires and one veto; in its second half, quick votes
//! minutes after the interviews, some of them amended by the sealed vote. Its moments are in the past, so
//! it is written with the demo clock ([`crate::db::demo_clock`], a `tools`
//! build only) set back to each step's moment: the API is called exactly
//! as then, and every stored time, receipt and audit entry is what it would
//! have been. Votes come from a seeded generator: a fresh demo always gives
//! the same figures. The loop in flight is created last, at the real time.

use actix_web::{test, web};
use chrono::{DateTime, Duration, DurationRound, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::app::{self, AppState};
use crate::auth::password::hash_blocking;
use crate::auth::tokens::random_token;
use crate::db::{self, demo_clock};
use crate::domain::AccountRole;
use crate::events::By;
use crate::workflows::users::{self, NewUser};

/// Who the demo creates: (email, name, role, certified).
const PEOPLE: [(&str, &str, AccountRole, bool); 13] = [
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
    (
        "omar@demo.example",
        "Omar Interviewer",
        AccountRole::Member,
        false,
    ),
    (
        "priya@demo.example",
        "Priya Interviewer",
        AccountRole::Member,
        false,
    ),
    (
        "noor@demo.example",
        "Noor Raiser",
        AccountRole::Member,
        true,
    ),
    (
        "mira@demo.example",
        "Mira Manager",
        AccountRole::Member,
        false,
    ),
];

/// Indexes into [`PEOPLE`].
const RECRUITER: usize = 0;
const HAMID: usize = 1;
const BEA: usize = 2;
const SHAY: usize = 7;
const NOOR: usize = 11;
const MIRA: usize = 12;
/// The interviewers of the history's panels.
const PANEL: [usize; 6] = [3, 4, 5, 6, 9, 10];

/// Decided loops of the history, one every ten days.
pub const HISTORY_LOOPS: usize = 24;
/// The loop of the history whose hire the Bar Raiser vetoes.
const VETOED: usize = 10;
/// The first loop of the history whose interviewers commit quick votes.
const QUICK_FROM: usize = HISTORY_LOOPS / 2;

/// How far each person's sealed votes lean from a loop's merit: the
/// leniency the analytics should find.
fn bias(person: usize) -> f64 {
    match person {
        3 => 0.6,   // Ines, lenient
        6 => -0.7,  // Igor, harsh
        5 => 0.25,  // Iris
        9 => -0.25, // Omar
        HAMID | MIRA => 0.35,
        BEA => -0.2,
        _ => 0.0,
    }
}

const VOTES: [&str; 4] = [
    "strong_no_hire",
    "inclined_not_to_hire",
    "inclined_to_hire",
    "strong_hire",
];

const CANDIDATES: [&str; 12] = [
    "Alex Moreau",
    "Bilal Haddad",
    "Carmen Silva",
    "Dmitri Novak",
    "Esi Okafor",
    "Femke Byrne",
    "Goran Rossi",
    "Hana Tanaka",
    "Ivo Kowalski",
    "Jae Lindqvist",
    "Kemi Adeyemi",
    "Luca Ferri",
];

fn evidence(person: usize, loop_no: usize) -> String {
    format!(
        "Loop {loop_no}, interviewer {person}: asked for a concrete situation, the candidate's own \
         actions, the trade-offs weighed and the measured result; follow-up questions probed depth."
    )
}

/// Creates the sample. Refuses when the demo people already exist.
pub async fn run(state: web::Data<AppState>) -> anyhow::Result<()> {
    let password = random_token()[..20].to_string();
    let pw = password.clone();
    let st = state.clone();
    // The people exist from the start of the history.
    let history_start = (Utc::now() - Duration::days(10 * HISTORY_LOOPS as i64 + 12))
        .duration_trunc(Duration::days(1))
        .map_err(|e| anyhow::anyhow!("{e}"))?
        + Duration::hours(8);
    let people = web::block(move || -> anyhow::Result<Vec<db::models::UserRow>> {
        let hash = hash_blocking(&pw)?;
        let mut conn = st.db.conn().map_err(|e| anyhow::anyhow!("{e}"))?;
        if db::users::by_email(&mut conn, PEOPLE[0].0)?.is_some() {
            anyhow::bail!("the demo data exists already in this database");
        }
        demo_clock::set(Some(history_start));
        let written = db::write_tx(&mut conn, |conn| {
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
                })
                .collect::<Result<Vec<_>, _>>()
        });
        demo_clock::set(None);
        written.map_err(|e| anyhow::anyhow!("creating demo people: {e}"))
    })
    .await??;
    let ids: Vec<db::UserId> = people.iter().map(|u| u.id).collect();

    let app = test::init_service(app::build(state.clone())).await;
    let call = |method: &'static str, path: String, token: Option<String>, body: Value| {
        let mut req = match method {
            "POST" => test::TestRequest::post(),
            "PUT" => test::TestRequest::put(),
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

    // --- the history: decided loops, written with the clock set back -----
    // Every person's session, issued as sign-in would (the recruiter's
    // above went through the API).
    let tokens: Vec<String> = people
        .iter()
        .map(|u| {
            state
                .keys
                .issue(&u.id.to_string(), u.role.as_str(), u.session_epoch)
        })
        .collect::<anyhow::Result<_>>()?;
    let act = async |who: usize, method: &'static str, path: String, body: Value| {
        let resp = test::call_service(
            &app,
            call(method, path.clone(), Some(tokens[who].clone()), body),
        )
        .await;
        let status = resp.status();
        let value: Value = test::read_body_json(resp).await;
        anyhow::ensure!(
            status.is_success(),
            "demo history step {method} {path} failed: {status} {value}"
        );
        Ok::<Value, anyhow::Error>(value)
    };
    let mut rng = StdRng::seed_from_u64(16);
    // The quick votes draw from their own generator, so the rest of the
    // history (and its figures) is what it was without them.
    let mut quick_rng = StdRng::seed_from_u64(17);
    let window = i64::from(state.config.quick_vote_window_minutes);
    let at = |t: DateTime<Utc>| demo_clock::set(Some(t));
    let history = async {
        for n in 0..HISTORY_LOOPS {
            let t0 = history_start + Duration::days(10 * n as i64);
            at(t0);
            if n == HISTORY_LOOPS / 2 {
                // Bea, a certified Bar Raiser, enrols Shay in the program:
                // the loops Shay shadows from here on are training progress.
                act(
                    2,
                    "POST",
                    format!("/api/v1/bar-raiser-program/people/{}/enrol", ids[SHAY].uuid()),
                    json!({}),
                )
                .await?;
            }
            let hm = if n % 2 == 0 { HAMID } else { MIRA };
            let br = if n % 3 == 2 { NOOR } else { BEA };
            let panel: Vec<usize> = (0..3).map(|k| PANEL[(n * 3 + k) % PANEL.len()]).collect();
            let cand = act(
                RECRUITER,
                "POST",
                "/api/v1/candidates".into(),
                json!({"name": CANDIDATES[n % CANDIDATES.len()], "email": format!("candidate{n}@candidate.example")}),
            )
            .await?;
            let lp = act(
                RECRUITER,
                "POST",
                "/api/v1/loops".into(),
                json!({
                    "candidate_id": cand["id"],
                    "position": if n % 3 == 1 { "Product Manager" } else { "Senior Software Engineer" },
                    "level": "L6",
                    "hiring_manager_id": ids[hm],
                    "bar_raiser_id": ids[br],
                    "required_competency_ids": [comp(0), comp(1), comp(2), comp(3)],
                }),
            )
            .await?;
            let loop_id = lp["id"].as_str().unwrap_or_default().to_string();
            let mut seats: Vec<usize> = vec![br, hm];
            seats.extend(&panel);
            let first = t0 + Duration::days(1) + Duration::hours(1);
            let mut interviews = Vec::new();
            for (k, who) in seats.iter().enumerate() {
                let comps = if k % 2 == 0 {
                    vec![comp(k % 4), comp((k + 1) % 4)]
                } else {
                    vec![comp(k % 4)]
                };
                let starts = first + Duration::hours(k as i64);
                let i = act(
                    RECRUITER,
                    "POST",
                    format!("/api/v1/loops/{loop_id}/interviews"),
                    json!({
                        "interviewer_id": ids[*who],
                        "competency_ids": comps,
                        "starts_at": starts.to_rfc3339(),
                        "duration_minutes": 45,
                        "loop_role": "interviewer",
                    }),
                )
                .await?;
                interviews.push((*who, i, starts + Duration::minutes(45)));
            }
            if n % 4 == 0 {
                act(
                    RECRUITER,
                    "POST",
                    format!("/api/v1/loops/{loop_id}/interviews"),
                    json!({
                        "interviewer_id": ids[SHAY],
                        "competency_ids": [comp(0)],
                        "starts_at": (first + Duration::hours(seats.len() as i64)).to_rfc3339(),
                        "duration_minutes": 45,
                        "loop_role": "shadow",
                    }),
                )
                .await?;
            }
            act(
                RECRUITER,
                "POST",
                format!("/api/v1/loops/{loop_id}/schedule"),
                json!({}),
            )
            .await?;

            // Sealed votes: the candidate's merit, each person's lean, noise.
            let merit = if n == VETOED {
                3.4
            } else {
                rng.random_range(1.2..3.9)
            };
            let scored = |rng: &mut StdRng, who: usize| -> usize {
                let v = merit + bias(who) + rng.random_range(-0.6..0.6);
                v.round().clamp(1.0, 4.0) as usize
            };
            let mut plan = Vec::new();
            for (who, i, ended) in &interviews {
                let vote = if n == VETOED && *who == br {
                    1
                } else {
                    scored(&mut rng, *who)
                };
                // Most seal within a day; some take two or three.
                let hours = match rng.random_range(0..10) {
                    0..=3 => rng.random_range(0.3..4.0),
                    4..=6 => rng.random_range(4.0..20.0),
                    7..=8 => rng.random_range(20.0..40.0),
                    _ => rng.random_range(40.0..80.0),
                };
                let ratings: Vec<Value> = i["competencies"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .map(|c| {
                        let r = (vote as i64 + rng.random_range(-1..=1)).clamp(1, 4);
                        json!({"competency_id": c["id"], "rating": r, "evidence": evidence(*who, n)})
                    })
                    .collect();
                let sealed_at = *ended + Duration::seconds((hours * 3600.0) as i64);
                plan.push((sealed_at, *who, i["id"].clone(), vote, ratings));
            }
            plan.sort_by_key(|p| p.0);
            // Each step at its moment: a quick vote minutes after its
            // interview (from `QUICK_FROM` on, half of the voters, a third
            // of whom then seal a neighbouring vote), each seal after its
            // draft.
            let mut steps: Vec<(DateTime<Utc>, usize, &'static str, String, Value)> = Vec::new();
            for (sealed_at, who, interview, vote, ratings) in &plan {
                let interview = interview.as_str().unwrap_or_default();
                let ended = interviews
                    .iter()
                    .find(|i| i.1["id"] == interview)
                    .map(|i| i.2)
                    .unwrap_or(*sealed_at);
                if n >= QUICK_FROM && quick_rng.random_bool(0.5) {
                    let quick = if quick_rng.random_bool(0.3) {
                        match *vote {
                            1 => 2,
                            4 => 3,
                            v if quick_rng.random_bool(0.5) => v + 1,
                            v => v - 1,
                        }
                    } else {
                        *vote
                    };
                    // Seals come 18 minutes or more after the interview.
                    let after = quick_rng.random_range(2..=15).min(window);
                    steps.push((
                        ended + Duration::minutes(after),
                        *who,
                        "POST",
                        format!("/api/v1/interviews/{interview}/quick-vote"),
                        json!({"vote": VOTES[quick - 1]}),
                    ));
                }
                steps.push((
                    *sealed_at,
                    *who,
                    "PUT",
                    format!("/api/v1/interviews/{interview}/feedback"),
                    json!({"ratings": ratings, "vote": VOTES[vote - 1], "summary": "Summary of the evidence above; see each competency."}),
                ));
                steps.push((
                    *sealed_at,
                    *who,
                    "POST",
                    format!("/api/v1/interviews/{interview}/feedback/seal"),
                    json!({}),
                ));
            }
            // Stable: a draft stays before its seal.
            steps.sort_by_key(|s| s.0);
            for (moment, who, method, path, body) in steps {
                at(moment);
                act(who, method, path, body).await?;
            }
            let last_seal = plan.last().map(|p| p.0).unwrap_or(t0);
            let opened = last_seal + Duration::minutes(rng.random_range(60..30 * 60));
            at(opened);
            act(br, "POST", format!("/api/v1/loops/{loop_id}/debrief"), json!({})).await?;

            // The debrief: some move toward the hiring manager's sealed
            // vote, fewer toward the Bar Raiser's.
            at(opened + Duration::minutes(50));
            let sealed_of = |who: usize| plan.iter().find(|p| p.1 == who).map(|p| p.3);
            let (hm_vote, br_vote) = (sealed_of(hm).unwrap_or(3), sealed_of(br).unwrap_or(2));
            let mut finals = Vec::new();
            for (_, who, _, vote, _) in &plan {
                let mut last = *vote;
                if *who != hm && *who != br {
                    let toward = match rng.random_range(0..20) {
                        0..=6 => Some(hm_vote),
                        7..=9 => Some(br_vote),
                        _ => None,
                    };
                    if let Some(t) = toward.filter(|t| t != vote) {
                        last = if t > *vote { vote + 1 } else { vote - 1 };
                        act(
                            *who,
                            "PUT",
                            format!("/api/v1/loops/{loop_id}/debrief/votes/me"),
                            json!({"vote": VOTES[last - 1], "rationale": "The discussion surfaced evidence I had weighed differently."}),
                        )
                        .await?;
                    }
                }
                finals.push(last as f64);
            }
            let hire = n == VETOED || finals.iter().sum::<f64>() / finals.len() as f64 >= 2.75;
            at(opened + Duration::minutes(rng.random_range(90..8 * 60)));
            act(
                hm,
                "POST",
                format!("/api/v1/loops/{loop_id}/decision"),
                json!({"outcome": if hire { "hire" } else { "no_hire" }, "rationale": "Weighed every interviewer's evidence against the bar.", "recycle": !hire}),
            )
            .await?;
            if hire {
                at(db::now() + Duration::minutes(rng.random_range(20..240)));
                if n == VETOED {
                    act(
                        br,
                        "POST",
                        format!("/api/v1/loops/{loop_id}/decision/veto"),
                        json!({"rationale": "The evidence on ownership was thin in every interview; this hire would lower the bar."}),
                    )
                    .await?;
                } else {
                    act(br, "POST", format!("/api/v1/loops/{loop_id}/decision/concur"), json!({})).await?;
                }
            }
        }
        Ok::<(), anyhow::Error>(())
    }
    .await;
    demo_clock::set(None);
    history?;

    // --- the sample in flight, at the real time -----------------------------
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
    // Hourly from five hours ago: the fifth (an interviewer's) ended a
    // quarter of an hour ago, so its quick vote is on time.
    let start = chrono::Utc::now() - chrono::Duration::hours(5);
    let plan = [
        (2, vec![comp(0), comp(1)], "interviewer"),
        (3, vec![comp(2)], "interviewer"),
        (4, vec![comp(3)], "interviewer"),
        (5, vec![comp(0), comp(2)], "interviewer"),
        (6, vec![comp(1), comp(3)], "interviewer"),
        (7, vec![comp(0)], "shadow"),
    ];
    let mut quick = None;
    for (n, (who, competencies, role)) in plan.into_iter().enumerate() {
        let i = send(
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
        if n == 4 {
            quick = Some((who, i["id"].as_str().unwrap_or_default().to_string()));
        }
    }
    send(format!("/api/v1/loops/{loop_id}/schedule"), json!({})).await?;
    // One interviewer commits a quick vote right after the interview.
    if let Some((who, interview)) = quick.filter(|_| state.config.quick_vote_window_minutes >= 30) {
        act(
            who,
            "POST",
            format!("/api/v1/interviews/{interview}/quick-vote"),
            json!({"vote": "inclined_to_hire"}),
        )
        .await?;
    }

    println!(
        "Demo data created: {HISTORY_LOOPS} decided loops over the past eight months, quick votes in the last {} of them (see GET /api/v1/analytics/report), and a scheduled loop {loop_id} for Dana Candidate with six interviews, one of them quick-voted. Shay Shadow is in Bar Raiser training with Bea Raiser as mentor (GET /api/v1/bar-raiser-program/trainees).",
        HISTORY_LOOPS - QUICK_FROM
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
