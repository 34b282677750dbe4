//! 64 concurrent clients doing what a busy hiring week does — drafts,
//! seals, reads, debrief votes — for a bounded time: no 5xx, no `database
//! is locked`, every acknowledged write readable afterwards, every chain
//! verifies.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::both_backends;
use crate::fixtures::*;
use crate::helpers::*;

/// What the server acknowledged: interview → (last draft summary, seal receipt).
type Acks = Arc<Mutex<HashMap<Uuid, (Option<String>, Option<String>)>>>;

async fn a_busy_week(app: TestApp) {
    let cast = app.cast().await;
    let rec = &cast.recruiter;
    let comps = app.competency_ids(rec).await[..3].to_vec();
    let people: Vec<&Session> = std::iter::once(&cast.bar_raiser)
        .chain(cast.interviewers.iter())
        .chain([&cast.shadow, &cast.other_recruiter])
        .collect();
    let candidate = app.candidate(rec, "Busy Week").await;
    // Eleven loops of six voting interviews and a shadow: 77 interviews.
    let mut slots: Vec<(Uuid, Uuid, &Session)> = Vec::new();
    let mut loops = Vec::new();
    for _ in 0..11 {
        let (status, l) = app
            .create_loop(rec, json!({"candidate_id": candidate, "position": "P", "level": "L", "hiring_manager_id": cast.hiring_manager.id, "bar_raiser_id": cast.bar_raiser.id, "required_competency_ids": comps}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{l}");
        let loop_id: Uuid = l["id"].as_str().unwrap().parse().unwrap();
        for (n, p) in people.iter().enumerate() {
            let role = if n == 5 { "shadow" } else { "interviewer" };
            let (status, i) = app
                .add_interview(rec, loop_id, p, &[comps[n % 3]], role, -2)
                .await;
            assert_eq!(status, StatusCode::CREATED, "{i}");
            slots.push((loop_id, i["id"].as_str().unwrap().parse().unwrap(), p));
        }
        assert_eq!(
            app.post(&format!("/loops/{loop_id}/schedule"), rec, json!({}))
                .await
                .0,
            StatusCode::OK
        );
        loops.push(loop_id);
    }
    let acks: Acks = Arc::new(Mutex::new(HashMap::new()));
    let errors: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    let check = |errors: &Arc<Mutex<Vec<String>>>, what: &str, got: &(StatusCode, Value)| {
        let text = got.1.to_string();
        if got.0.is_server_error() || text.contains("locked") {
            errors
                .lock()
                .unwrap()
                .push(format!("{what}: {} {text}", got.0));
        }
    };
    // 64 clients, each with a fixed script over its own interview.
    let clients = slots.iter().take(64).map(|(loop_id, interview, who)| {
        let (app, acks, errors, comps) = (&app, acks.clone(), errors.clone(), &comps);
        async move {
            let path = format!("/interviews/{interview}/feedback");
            let assigned = app.assigned(who, *interview).await;
            for round in 0..4 {
                let summary = format!("round {round} by {}", who.email);
                let body = json!({"ratings": [{"competency_id": assigned[0], "rating": 1 + round % 4, "evidence": evidence(&summary)}], "vote": "inclined_to_hire", "summary": summary});
                let got = app.put(&path, who, body).await;
                check(&errors, "draft", &got);
                if got.0 == StatusCode::OK {
                    acks.lock().unwrap().entry(*interview).or_default().0 = Some(summary);
                }
                check(&errors, "read own", &app.get(&path, who).await);
                check(&errors, "read loop", &app.get(&format!("/loops/{loop_id}"), who).await);
                check(&errors, "read listing", &app.get(&format!("/loops/{loop_id}/feedback"), who).await);
            }
            let got = app.seal(who, *interview).await;
            check(&errors, "seal", &got);
            if got.0 == StatusCode::OK {
                acks.lock().unwrap().entry(*interview).or_default().1 = got.1["content_sha256"].as_str().map(str::to_string);
            }
            let _ = comps;
        }
    });
    join_all(clients).await;
    // Then the Bar Raiser opens every loop whose voters all sealed, and the
    // voters re-vote, all at once.
    let mut opened = Vec::new();
    for l in &loops {
        let (_, view) = app.get(&format!("/loops/{l}"), rec).await;
        if view["ready_for_debrief"] == true {
            let got = app
                .post(&format!("/loops/{l}/debrief"), &cast.bar_raiser, json!({}))
                .await;
            check(&errors, "open", &got);
            opened.push(*l);
        }
    }
    assert!(
        !opened.is_empty(),
        "some loop was fully sealed by the 64 clients"
    );
    let voters: Vec<&Session> = people
        .iter()
        .enumerate()
        .filter(|(n, _)| *n != 5)
        .map(|(_, p)| *p)
        .collect();
    let votes = opened.iter().flat_map(|l| voters.iter().map(move |p| (*l, *p))).map(|(l, p)| {
        let (app, errors) = (&app, errors.clone());
        async move {
            let got = app.put(&format!("/loops/{l}/debrief/votes/me"), p, json!({"vote": "strong_hire", "rationale": "More convinced after the discussion."})).await;
            check(&errors, "vote", &got);
            assert_eq!(got.0, StatusCode::OK, "{}", got.1);
            check(&errors, "debrief view", &app.get(&format!("/loops/{l}/debrief"), p).await);
        }
    });
    join_all(votes).await;
    let errors = errors.lock().unwrap().clone();
    assert!(
        errors.is_empty(),
        "{} bad answers:\n{}",
        errors.len(),
        errors.join("\n")
    );

    // Every acknowledged write is there.
    let acks = acks.lock().unwrap().clone();
    assert_eq!(acks.len(), 64);
    for (loop_id, interview, who) in slots.iter().take(64) {
        let (summary, receipt) = &acks[interview];
        let (status, f) = app
            .get(&format!("/interviews/{interview}/feedback"), who)
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            f["summary"].as_str(),
            summary.as_deref(),
            "last acknowledged draft of {interview}"
        );
        assert_eq!(f["state"], "sealed");
        assert_eq!(f["content_sha256"].as_str(), receipt.as_deref());
        let _ = loop_id;
    }
    for l in &opened {
        let (_, view) = app
            .get(&format!("/loops/{l}/debrief"), &cast.hiring_manager)
            .await;
        assert_eq!(view["votes_revealed"], true);
        assert!(
            view["votes"]
                .as_array()
                .unwrap()
                .iter()
                .all(|v| v["debrief_vote"] == "strong_hire")
        );
    }
    for l in &loops {
        assert_eq!(
            app.verify_chain(rec, *l).await["valid"],
            true,
            "chain of {l}"
        );
    }
}
both_backends!(concurrency_mix, a_busy_week);
