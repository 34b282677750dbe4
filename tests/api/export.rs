//! `GET /scorecards`: sealed feedback of decided loops, shaped like
//! Greenhouse Harvest scorecards, for admins and the loop's recruiter only.

use std::collections::HashMap;

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::both_backends;
use crate::fixtures::*;
use crate::helpers::*;

/// Vote and competency ratings (in assigned order) per voter, chosen so
/// that every word of both scales appears.
fn plan(setup: &LoopSetup) -> Vec<(&Session, &'static str, Vec<i64>)> {
    let c = &setup.cast;
    vec![
        (&c.bar_raiser, "strong_no_hire", vec![1, 2]),
        (&c.interviewers[0], "inclined_not_to_hire", vec![3]),
        (&c.interviewers[1], "inclined_to_hire", vec![4]),
        (&c.interviewers[2], "strong_hire", vec![4, 3]),
        (&c.interviewers[3], "inclined_to_hire", vec![2, 3, 4]),
    ]
}

impl TestApp {
    async fn export(&self, s: &Session, query: &str) -> (StatusCode, Value) {
        self.get(&format!("/scorecards{query}"), s).await
    }

    /// Every scorecard the caller may export, following the cursor.
    async fn export_all(&self, s: &Session, limit: usize) -> Vec<Value> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let q = match &cursor {
                Some(c) => format!("?limit={limit}&cursor={c}"),
                None => format!("?limit={limit}"),
            };
            let (status, page) = self.export(s, &q).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            let items = page["items"].as_array().unwrap();
            assert!(items.len() <= limit);
            all.extend(items.iter().cloned());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => return all,
            }
        }
    }

    async fn competency_names(&self, s: &Session) -> HashMap<String, String> {
        let (_, body) = self.get("/competencies", s).await;
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["id"].as_str().unwrap().to_string(),
                    c["name"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    async fn export_reads(&self) -> i64 {
        let db = self.state.db.clone();
        actix_web::web::block(move || {
            use bar_raiser::db::schema::feedback_reads;
            use diesel::prelude::*;
            let mut conn = db.conn().unwrap();
            feedback_reads::table
                .filter(feedback_reads::reason.eq("scorecard export"))
                .filter(feedback_reads::via.eq("debrief"))
                .count()
                .get_result::<i64>(&mut *conn)
                .unwrap()
        })
        .await
        .unwrap()
    }
}

fn ids(cards: &[Value]) -> Vec<String> {
    let mut v: Vec<String> = cards
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

fn rfc3339_param(v: &Value) -> String {
    v.as_str().unwrap().replace('+', "%2B")
}

async fn a_decided_loop_exports_greenhouse_scorecards(app: TestApp) {
    let setup = app.scheduled_loop().await;
    let cast = &setup.cast;
    let lp = |suffix: &str| format!("/loops/{}{suffix}", setup.loop_id);
    let names = app.competency_names(&cast.recruiter).await;

    // Seal everyone's feedback with the planned ratings.
    let mut sealed: HashMap<Uuid, Value> = HashMap::new();
    for (s, vote, ratings) in plan(&setup) {
        let interview = setup.interview_of(s);
        let comps = app.assigned(s, interview).await;
        assert_eq!(comps.len(), ratings.len());
        let body = json!({
            "ratings": comps.iter().zip(&ratings).map(|(c, r)| json!({"competency_id": c, "rating": r, "evidence": evidence(&format!("{} on {c}", s.email))})).collect::<Vec<_>>(),
            "vote": vote,
            "summary": format!("Summary by {}", s.email),
        });
        let (status, d) = app
            .put(&format!("/interviews/{interview}/feedback"), s, body)
            .await;
        assert_eq!(status, StatusCode::OK, "{d}");
        let (status, f) = app.seal(s, interview).await;
        assert_eq!(status, StatusCode::OK, "{f}");
        sealed.insert(s.id, f);
    }
    // Sealed but not decided: nothing to export, at any stage.
    for who in [&cast.recruiter, &cast.admin] {
        let (status, page) = app.export(who, "").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["items"], json!([]), "scheduled loop exported");
    }
    let (status, l) = app.post(&lp("/debrief"), &cast.bar_raiser, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{l}");
    let early = &cast.interviewers[2];
    let (status, _) = app
        .post(
            &format!("/interviews/{}/feedback/addenda", setup.interview_of(early)),
            early,
            json!({"text": "One more observation from the debrief."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(app.export(&cast.recruiter, "").await.1["items"], json!([]));
    let (status, l) = app
        .post(
            &lp("/decision"),
            &cast.hiring_manager,
            json!({"outcome": "hire", "rationale": "Strong delivery."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{l}");
    assert_eq!(l["state"], "pending_bar_raiser");
    assert_eq!(app.export(&cast.admin, "").await.1["items"], json!([]));
    let (status, l) = app
        .post(
            &lp("/decision/veto"),
            &cast.bar_raiser,
            json!({"rationale": "Below the bar on Ownership in three of five interviews; the hire would lower the bar."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{l}");
    assert_eq!(l["state"], "decided");
    let decided_at = l["decision"]["decided_at"].clone();

    // Members get nothing, not even an empty page.
    for s in [
        &cast.interviewers[0],
        &cast.hiring_manager,
        &cast.bar_raiser,
    ] {
        assert_problem(&app.export(s, "").await, 403, "recruiter_or_admin_only");
    }
    // Another recruiter exports their own loops only: not this one.
    assert_eq!(
        app.export(&cast.other_recruiter, "").await.1["items"],
        json!([])
    );

    // The loop's recruiter: five scorecards (the shadow never sealed), in
    // pages, each served one logged.
    let reads_before = app.export_reads().await;
    let cards = app.export_all(&cast.recruiter, 2).await;
    assert_eq!(cards.len(), 5);
    let mut expected: Vec<String> = sealed
        .values()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    expected.sort();
    assert_eq!(ids(&cards), expected);
    assert_eq!(app.export_reads().await - reads_before, 5);
    // Oldest change first: the one with the addendum comes last.
    let updated: Vec<&str> = cards
        .iter()
        .map(|c| c["updated_at"].as_str().unwrap())
        .collect();
    let mut sorted = updated.clone();
    sorted.sort();
    assert_eq!(updated, sorted);
    // The admin exports every decided loop: the same five.
    assert_eq!(ids(&app.export_all(&cast.admin, 200).await), expected);

    // One scorecard, field by field.
    let ike = &cast.interviewers[3];
    let interview = setup.interview_of(ike);
    let (_, iv) = app.get(&format!("/interviews/{interview}"), ike).await;
    let comps = app.assigned(ike, interview).await;
    let f = &sealed[&ike.id];
    let card = cards.iter().find(|c| c["id"] == f["id"]).unwrap();
    let person = json!({
        "id": ike.id,
        "first_name": "Ike",
        "last_name": "Four",
        "name": "Ike Four",
        "employee_id": null,
    });
    let comp_names: Vec<&str> = comps
        .iter()
        .map(|c| names[&c.to_string()].as_str())
        .collect();
    let attributes: Vec<Value> = comps
        .iter()
        .zip(["no", "yes", "strong_yes"])
        .map(|(c, word)| {
            json!({
                "name": names[&c.to_string()],
                "type": "Competency",
                "rating": word,
                "note": evidence(&format!("{} on {c}", ike.email)),
            })
        })
        .collect();
    assert_eq!(
        card,
        &json!({
            "id": f["id"],
            "candidate_id": setup.candidate_id,
            "application_id": setup.loop_id,
            "interview": format!("Senior Engineer interview: {}", comp_names.join(", ")),
            "interviewed_at": iv["starts_at"],
            "submitted_at": f["sealed_at"],
            "interviewer": person,
            "submitted_by": person,
            "overall_recommendation": "yes",
            "attributes": attributes,
            "ratings": {
                "definitely_not": [],
                "no": [comp_names[0]],
                "mixed": [],
                "yes": [comp_names[1]],
                "strong_yes": [comp_names[2]],
            },
            "questions": [{"id": null, "question": "Summary", "answer": format!("Summary by {}", ike.email)}],
            "created_at": card["created_at"],
            "updated_at": decided_at,
        })
    );
    assert!(card["created_at"].as_str().unwrap() <= f["sealed_at"].as_str().unwrap());

    // Every vote maps to its recommendation.
    for (s, vote, _) in plan(&setup) {
        let card = cards
            .iter()
            .find(|c| c["id"] == sealed[&s.id]["id"])
            .unwrap();
        let word = match vote {
            "strong_no_hire" => "definitely_not",
            "inclined_not_to_hire" => "no",
            "inclined_to_hire" => "yes",
            _ => "strong_yes",
        };
        assert_eq!(card["overall_recommendation"], word, "{vote}");
        assert_eq!(card["interviewer"]["id"], s.id.to_string());
    }
    // The Bar Raiser's 1 and 2 are definitely_not and no.
    let br = cards
        .iter()
        .find(|c| c["id"] == sealed[&cast.bar_raiser.id]["id"])
        .unwrap();
    assert_eq!(br["ratings"]["definitely_not"].as_array().unwrap().len(), 1);
    assert_eq!(br["ratings"]["no"].as_array().unwrap().len(), 1);
    // An addendum is a further answer, after the summary.
    let with_addendum = cards
        .iter()
        .find(|c| c["id"] == sealed[&early.id]["id"])
        .unwrap();
    let questions = with_addendum["questions"].as_array().unwrap();
    assert_eq!(questions.len(), 2);
    assert!(
        questions[1]["question"]
            .as_str()
            .unwrap()
            .starts_with("Addendum (")
    );
    assert_eq!(
        questions[1]["answer"],
        "One more observation from the debrief."
    );
    assert!(questions[1]["id"].is_string());

    // An addendum after the decision moves its scorecard past the decision,
    // so `updated_after` picks up exactly that change.
    let late = &cast.interviewers[0];
    let (status, _) = app
        .post(
            &format!("/interviews/{}/feedback/addenda", setup.interview_of(late)),
            late,
            json!({"text": "Correction: the second example was from a team project."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, page) = app
        .export(
            &cast.recruiter,
            &format!("?updated_after={}", rfc3339_param(&decided_at)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{page}");
    assert_eq!(items[0]["id"], sealed[&late.id]["id"]);
    assert!(items[0]["updated_at"].as_str().unwrap() > decided_at.as_str().unwrap());
    assert_eq!(
        items[0]["questions"][1]["answer"],
        "Correction: the second example was from a team project."
    );

    // Bad queries are 422 with the field named.
    for q in [
        "?updated_after=yesterday",
        "?updated_after=2026-13-01T00:00:00Z",
        "?limit=0",
        "?cursor=nope",
    ] {
        assert_problem(&app.export(&cast.recruiter, q).await, 422, "invalid_query");
    }
    let (_, p) = app
        .export(&cast.recruiter, "?updated_after=yesterday")
        .await;
    assert_eq!(p["errors"][0]["field"], "updated_after");
    // The export reads never count against anyone's independence.
    let (_, view) = app.get(&lp("/debrief"), &cast.recruiter).await;
    assert_eq!(view["independent"], true, "{}", view["independence_report"]);
}
both_backends!(decided_loop, a_decided_loop_exports_greenhouse_scorecards);
