//! The Bar Raiser program (issue 17): enrolment, certification, lapse and
//! re-activation, each recorded once (audit, webhook, mail to trainee and
//! mentor); shadows never count toward the quorum, the decision or the
//! scorecard export.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::both_backends;
use crate::fixtures::*;
use crate::helpers::*;

fn person(id: Uuid) -> String {
    format!("/bar-raiser-program/people/{id}")
}

fn codes(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["code"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

impl TestApp {
    /// Runs the daily lapse rule as if it were `months` months from now.
    async fn lapse_after(&self, months: u32) -> usize {
        let config = self.state.config.program.clone();
        let by = bar_raiser::events::By {
            actor: None,
            public_url: self.state.config.public_url.clone(),
        };
        let now = chrono::Utc::now()
            .checked_add_months(chrono::Months::new(months))
            .unwrap();
        self.state
            .db
            .write(move |c| bar_raiser::workflows::program::lapse_due(c, &by, &config, now))
            .await
            .unwrap()
    }

    /// Seals every voter's feedback (and the shadow's, with `shadow_vote`),
    /// opens the debrief and records `outcome`.
    async fn decide(&self, setup: &LoopSetup, shadow_vote: &str, outcome: &str) {
        let cast = &setup.cast;
        self.draft_and_seal(&cast.shadow, setup.interview_of(&cast.shadow), shadow_vote)
            .await;
        let l = self
            .seal_all_and_decide(setup, "inclined_not_to_hire", outcome)
            .await;
        assert_eq!(l["state"], "decided");
    }

    /// Webhook deliveries to `recipient` (`webhook:{id}`), or program mail
    /// to that address (other mail, such as interview invitations, aside).
    async fn count_to(&self, recipient: &str) -> usize {
        let db = self.state.db.clone();
        let recipient = recipient.to_string();
        actix_web::web::block(move || {
            use bar_raiser::db::schema::outbox;
            use diesel::prelude::*;
            let mut conn = db.conn().unwrap();
            outbox::table
                .filter(outbox::recipient.eq(&recipient))
                .select(outbox::subject)
                .load::<String>(&mut *conn)
                .unwrap()
                .into_iter()
                .filter(|s| recipient.starts_with("webhook:") || s.starts_with("Bar Raiser "))
                .count()
        })
        .await
        .unwrap()
    }
}

/// interviewer → in_training → certified → lapsed → certified, with the
/// thresholds configured to one shadowed loop, no reverse shadow and an
/// agreement floor of one half.
async fn every_transition(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |c| {
        c.program.shadowed_loops = 1;
        c.program.reverse_shadowed_loops = 0;
        c.program.agreement_floor = 0.5;
    })
    .await
    else {
        return;
    };
    let setup = app.scheduled_loop().await;
    let cast = &setup.cast;
    let (trainee, mentor) = (&cast.shadow, &cast.bar_raiser);
    let (status, hook) = app
        .post(
            "/webhooks",
            &cast.admin,
            json!({"url": "https://hooks.example.com/program", "event_types": ["bar_raiser.enrolled", "bar_raiser.certified", "bar_raiser.lapsed"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hook}");
    let hook = format!("webhook:{}", hook["webhook"]["id"].as_str().unwrap());

    // An interviewer; the record is theirs and the program's readers'.
    let (status, r) = app.get(&person(trainee.id), trainee).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["state"], "interviewer");
    assert_eq!(r["bar_raiser_certified"], false);
    assert_problem(
        &app.get(&person(trainee.id), &cast.interviewers[0]).await,
        403,
        "not_program_reader",
    );

    // Enrolment: not by an uncertified member; by a certified Bar Raiser,
    // who becomes the mentor; once.
    let enrol = format!("{}/enrol", person(trainee.id));
    assert_problem(
        &app.post(&enrol, &cast.interviewers[0], json!({})).await,
        403,
        "not_program_mentor",
    );
    let (status, r) = app.post(&enrol, mentor, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["state"], "in_training");
    assert_eq!(r["mentor_id"], mentor.id.to_string());
    assert_problem(
        &app.post(&enrol, &cast.admin, json!({})).await,
        409,
        "program_state",
    );
    assert_eq!(app.count_to(&hook).await, 1);
    assert_eq!(app.count_to(&trainee.email).await, 1);
    assert_eq!(app.count_to(&mentor.email).await, 1);

    // Not ready: each missing threshold named.
    let certify = format!("{}/certify", person(trainee.id));
    let got = app.post(&certify, &cast.admin, json!({})).await;
    assert_problem(&got, 422, "rules_broken");
    assert_eq!(
        codes(&got.1),
        ["shadowed_loops_missing", "agreement_below_floor"]
    );
    let (status, list) = app
        .get("/bar-raiser-program/trainees", &cast.recruiter)
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let listed = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["user_id"] == trainee.id.to_string())
        .expect("the trainee is listed");
    assert_eq!(listed["progress"]["shadowed_loops"], 0);
    assert_eq!(listed["progress"]["shadowed_loops_required"], 1);
    assert_eq!(listed["progress"]["ready"], false);

    // The shadowed loop is decided; the shadow's sealed vote agrees.
    app.decide(&setup, "strong_no_hire", "no_hire").await;
    let (_, r) = app.get(&person(trainee.id), mentor).await;
    assert_eq!(r["progress"]["shadowed_loops"], 1);
    assert_eq!(r["progress"]["decided_training_loops"], 1);
    assert_eq!(r["progress"]["agreement"], 1.0);
    assert_eq!(r["progress"]["ready"], true, "{r}");

    // Certification: admins only.
    assert_problem(
        &app.post(&certify, mentor, json!({})).await,
        403,
        "admin_only",
    );
    let (status, r) = app.post(&certify, &cast.admin, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["state"], "certified");
    assert_eq!(r["bar_raiser_certified"], true);
    let (_, u) = app
        .get(&format!("/users/{}", trainee.id), &cast.admin)
        .await;
    assert_eq!(
        u["bar_raiser_certified"], true,
        "the flag is the projection"
    );
    assert_eq!(app.count_to(&hook).await, 2);

    // Lapse: not within the period, after it.
    assert_eq!(app.lapse_after(11).await, 0);
    assert!(app.lapse_after(13).await >= 1);
    let (_, r) = app.get(&person(trainee.id), &cast.admin).await;
    assert_eq!(r["state"], "lapsed");
    assert_eq!(r["bar_raiser_certified"], false);
    let (_, u) = app
        .get(&format!("/users/{}", trainee.id), &cast.admin)
        .await;
    assert_eq!(u["bar_raiser_certified"], false);

    // Re-activation: admins, with a reason of 20 characters or more.
    let reactivate = format!("{}/reactivate", person(trainee.id));
    let reason = json!({"reason": "back from a year of parental leave"});
    assert_problem(
        &app.post(&reactivate, mentor, reason.clone()).await,
        403,
        "admin_only",
    );
    let got = app
        .post(&reactivate, &cast.admin, json!({"reason": "back"}))
        .await;
    assert_problem(&got, 422, "rules_broken");
    assert_eq!(codes(&got.1), ["too_short"]);
    let (status, r) = app.post(&reactivate, &cast.admin, reason.clone()).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["state"], "certified");
    assert_problem(
        &app.post(&reactivate, &cast.admin, reason).await,
        409,
        "program_state",
    );

    // Each transition told the trainee and the mentor, and the webhook:
    // enrolled, certified, lapsed, certified again (the mentor lapsed too).
    assert_eq!(app.count_to(&trainee.email).await, 4);
    assert!(app.count_to(&mentor.email).await >= 4);
    assert!(app.count_to(&hook).await >= 4);
}
both_backends!(program_transitions, backend => super::every_transition);

/// An admin may name the mentor: a certified Bar Raiser other than the
/// trainee; and an existing certified account is `certified` in the program.
async fn mentors_named_by_an_admin(app: TestApp) {
    let cast = app.cast().await;
    let trainee = &cast.interviewers[0];
    let enrol = format!("{}/enrol", person(trainee.id));
    let got = app
        .post(
            &enrol,
            &cast.admin,
            json!({"mentor_id": cast.interviewers[1].id}),
        )
        .await;
    assert_problem(&got, 422, "rules_broken");
    assert_eq!(codes(&got.1), ["mentor_not_certified"]);
    let (status, r) = app
        .post(
            &enrol,
            &cast.admin,
            json!({"mentor_id": cast.bar_raiser.id}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["mentor_id"], cast.bar_raiser.id.to_string());
    let (_, br) = app.get(&person(cast.bar_raiser.id), &cast.admin).await;
    assert_eq!(br["state"], "certified");
    assert_eq!(br["bar_raiser_certified"], true);
    // The recruiter reads, the outsider does not.
    assert_eq!(
        app.get("/bar-raiser-program/trainees", &cast.recruiter)
            .await
            .0,
        StatusCode::OK
    );
    assert_problem(
        &app.get("/bar-raiser-program/trainees", &cast.outsider)
            .await,
        403,
        "not_program_reader",
    );
}
both_backends!(program_mentors, mentors_named_by_an_admin);

/// A shadow's sealed feedback never opens the debrief alone, is not needed
/// for it, and never reaches the scorecard export.
async fn shadow_outside_quorum_and_export(app: TestApp) {
    let setup = app.scheduled_loop().await;
    let cast = &setup.cast;
    app.draft_and_seal(
        &cast.shadow,
        setup.interview_of(&cast.shadow),
        "strong_hire",
    )
    .await;
    let lp = |suffix: &str| format!("/loops/{}{suffix}", setup.loop_id);
    let (status, _) = app.post(&lp("/debrief"), &cast.bar_raiser, json!({})).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "the shadow alone is no quorum"
    );
    for s in cast.voters() {
        app.draft_and_seal(s, setup.interview_of(s), "inclined_not_to_hire")
            .await;
    }
    let (status, l) = app.post(&lp("/debrief"), &cast.bar_raiser, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{l}");
    let (status, l) = app
        .post(
            &lp("/decision"),
            &cast.hiring_manager,
            json!({"outcome": "no_hire", "rationale": "Below the bar."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{l}");
    let (status, page) = app.get("/scorecards", &cast.admin).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), cast.voters().len(), "{page}");
    assert!(
        items
            .iter()
            .all(|c| c["interviewer"]["id"] != cast.shadow.id.to_string()),
        "a shadow's scorecard was exported: {page}"
    );
}
both_backends!(program_shadow_excluded, shadow_outside_quorum_and_export);

/// A reverse shadow: the trainee leads the loop as its Bar Raiser, a
/// certified mentor holding an interview holds the veto and signs off; the
/// sign-off that completes the thresholds certifies (auto-certification).
async fn reverse_shadow(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |c| {
        c.program.auto_certify = true;
        c.program.shadowed_loops = 0;
        c.program.reverse_shadowed_loops = 1;
        c.program.agreement_floor = 0.0;
    })
    .await
    else {
        return;
    };
    let setup = app.draft_loop().await;
    let cast = &setup.cast;
    let (trainee, mentor) = (&cast.interviewers[0], &cast.bar_raiser);
    let lp = |suffix: &str| format!("/loops/{}{suffix}", setup.loop_id);
    let (status, r) = app
        .post(&format!("{}/enrol", person(trainee.id)), mentor, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    // The trainee leads only with a mentor.
    let (status, l) = app
        .patch(
            &lp(""),
            &cast.recruiter,
            json!({"bar_raiser_id": trainee.id}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{l}");
    let got = app.post(&lp("/schedule"), &cast.recruiter, json!({})).await;
    assert_problem(&got, 422, "rules_broken");
    assert_eq!(codes(&got.1), ["reverse_shadow_without_mentor"]);
    let (status, l) = app
        .patch(&lp(""), &cast.recruiter, json!({"mentor_id": mentor.id}))
        .await;
    assert_eq!(status, StatusCode::OK, "{l}");
    let (status, l) = app.post(&lp("/schedule"), &cast.recruiter, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{l}");
    assert_eq!(l["warnings"], json!([]), "{l}");
    // The loop view names the trainee leading it and the mentor holding the
    // veto, for everyone who may read the loop.
    for who in [&cast.recruiter, trainee, mentor, &cast.hiring_manager] {
        let (status, v) = app.get(&lp(""), who).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["bar_raiser"]["id"], trainee.id.to_string());
        assert_eq!(v["mentor"]["id"], mentor.id.to_string(), "{v}");
        assert_eq!(v["mentor"]["name"], l["mentor"]["name"]);
        assert!(!v["mentor"]["name"].as_str().unwrap().is_empty());
    }
    for s in cast.voters() {
        app.draft_and_seal(s, setup.interview_of(s), "inclined_to_hire")
            .await;
    }
    // The trainee runs the debrief; the mentor holds the veto.
    let (status, l) = app.post(&lp("/debrief"), trainee, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{l}");
    let (status, l) = app
        .post(
            &lp("/decision"),
            &cast.hiring_manager,
            json!({"outcome": "hire", "rationale": "Strong delivery."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{l}");
    let sign_off = json!({"outcome": "pass", "assessment": "Ran a calm, evidence-led debrief; pressed the hiring manager on ownership and kept the bar in view throughout."});
    assert_problem(
        &app.post(&lp("/sign-off"), mentor, sign_off.clone()).await,
        409,
        "loop_not_decided",
    );
    assert_problem(
        &app.post(&lp("/decision/concur"), trainee, json!({})).await,
        403,
        "not_bar_raiser",
    );
    let (status, l) = app.post(&lp("/decision/concur"), mentor, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{l}");
    assert_eq!(l["state"], "decided");

    // The sign-off: the mentor's alone, 100 characters or more, once.
    assert_problem(
        &app.post(&lp("/sign-off"), &cast.outsider, sign_off.clone())
            .await,
        404,
        "not_found",
    );
    assert_problem(
        &app.post(&lp("/sign-off"), trainee, sign_off.clone()).await,
        403,
        "not_program_mentor",
    );
    let got = app
        .post(
            &lp("/sign-off"),
            mentor,
            json!({"outcome": "pass", "assessment": "Good."}),
        )
        .await;
    assert_problem(&got, 422, "rules_broken");
    assert_eq!(codes(&got.1), ["too_short"]);
    let (status, s) = app.post(&lp("/sign-off"), mentor, sign_off.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{s}");
    assert_eq!(s["outcome"], "pass");
    assert_eq!(s["trainee_id"], trainee.id.to_string());
    // Once only: the sign-off certified the trainee, who is out of training.
    assert_problem(
        &app.post(&lp("/sign-off"), mentor, sign_off).await,
        409,
        "program_state",
    );
    // Auto-certified by the sign-off that completed the thresholds.
    let (_, r) = app.get(&person(trainee.id), trainee).await;
    assert_eq!(r["state"], "certified", "{r}");
    assert_eq!(r["progress"]["reverse_shadowed_loops"], 1);
    assert_eq!(r["sign_offs"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.count_to(&trainee.email).await,
        3,
        "enrolled, signed off, certified"
    );
}
both_backends!(program_reverse_shadow, backend => super::reverse_shadow);

/// A lapsed Bar Raiser is refused by the composition rules, by name.
async fn lapsed_bar_raiser_refused(app: TestApp) {
    let setup = app.draft_loop().await;
    assert!(app.lapse_after(13).await >= 1);
    let got = app
        .post(
            &format!("/loops/{}/schedule", setup.loop_id),
            &setup.cast.recruiter,
            json!({}),
        )
        .await;
    assert_problem(&got, 422, "rules_broken");
    assert_eq!(codes(&got.1), ["bar_raiser_lapsed"]);
}
both_backends!(program_lapsed_refused, lapsed_bar_raiser_refused);

/// Scheduling warns, without refusing, when the loop's Bar Raiser served
/// more loops than configured in the last 30 days; draft and cancelled
/// loops do not count, and a loop without a mentor names none.
async fn load_warning(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |c| c.program.load_warning_loops = 1).await else {
        return;
    };
    let schedule = |setup: &LoopSetup| {
        let (path, who) = (
            format!("/loops/{}/schedule", setup.loop_id),
            setup.cast.recruiter.clone(),
        );
        let app = &app;
        async move { app.post(&path, &who, json!({})).await }
    };
    // Earlier loops of one Bar Raiser: each draft loop has a cast of its own,
    // so the earlier loops are handed to the later loop's Bar Raiser in the
    // database (the composition rules are not what this test is about).
    let hand_over = |loops: Vec<Uuid>, to: &LoopSetup| {
        let raiser = to.cast.bar_raiser.id;
        let ids: Vec<String> = loops.iter().map(|l| format!("'{l}'")).collect();
        app.sql(format!(
            "UPDATE loops SET bar_raiser_id = '{raiser}' WHERE id IN ({})",
            ids.join(", ")
        ))
    };
    let mut earlier = Vec::new();
    for _ in 0..2 {
        let setup = app.draft_loop().await;
        let (status, l) = schedule(&setup).await;
        assert_eq!(status, StatusCode::OK, "{l}");
        assert_eq!(l["warnings"], json!([]), "{l}");
        assert!(l.get("mentor").is_none(), "{l}");
        earlier.push(setup);
    }
    // Two served before: more than one, the warning (and still scheduled).
    let third = app.draft_loop().await;
    hand_over(earlier.iter().map(|s| s.loop_id).collect(), &third).await;
    let (status, l) = schedule(&third).await;
    assert_eq!(status, StatusCode::OK, "{l}");
    assert_eq!(l["state"], "scheduled");
    let w = l["warnings"].as_array().unwrap();
    assert_eq!(w.len(), 1, "{l}");
    assert_eq!(w[0]["code"], "bar_raiser_load");
    assert_eq!(w[0]["field"], "bar_raiser_id");
    let message = w[0]["message"].as_str().unwrap();
    assert!(message.contains("served 2 loops"), "{message}");
    // Cancelled loops do not count: the two earlier ones cancelled leave
    // one served (the third), not more than one.
    for e in &earlier {
        let (status, c) = app
            .post(
                &format!("/loops/{}/cancel", e.loop_id),
                &e.cast.recruiter,
                json!({"reason": "The candidate withdrew from the process."}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{c}");
    }
    let fourth = app.draft_loop().await;
    let mut all: Vec<Uuid> = earlier.iter().map(|s| s.loop_id).collect();
    all.push(third.loop_id);
    hand_over(all, &fourth).await;
    let (status, l) = schedule(&fourth).await;
    assert_eq!(status, StatusCode::OK, "{l}");
    assert_eq!(l["warnings"], json!([]), "two cancelled, one served: {l}");
}
both_backends!(program_load_warning, backend => super::load_warning);
