//! The authorization matrix: every operation in the committed OpenAPI
//! document × every kind of caller → the status it must get. The table is
//! keyed by `operationId`; an operation without a row (or a row without an
//! operation) fails the test, so no route can skip it.

use std::collections::{BTreeSet, HashMap};

use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::both_backends;
use crate::fixtures::*;
use crate::helpers::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum K {
    Anonymous,
    Deactivated,
    Outsider,
    InterviewerUnsealed,
    InterviewerSealed,
    ShadowUnsealed,
    ShadowSealed,
    HiringManager,
    BarRaiserUnsealed,
    BarRaiserSealed,
    LoopRecruiter,
    OtherRecruiter,
    Admin,
}
use K::*;

const KINDS: [K; 13] = [
    Anonymous,
    Deactivated,
    Outsider,
    InterviewerUnsealed,
    InterviewerSealed,
    ShadowUnsealed,
    ShadowSealed,
    HiringManager,
    BarRaiserUnsealed,
    BarRaiserSealed,
    LoopRecruiter,
    OtherRecruiter,
    Admin,
];
const PARTICIPANTS: [K; 7] = [
    InterviewerUnsealed,
    InterviewerSealed,
    ShadowUnsealed,
    ShadowSealed,
    HiringManager,
    BarRaiserUnsealed,
    BarRaiserSealed,
];

/// How far the caller's fresh loop is taken before the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    /// No loop, and a fresh interviewer in `Ctx::trainee`.
    Trainee,
    NoLoop,
    Draft,
    Scheduled,
    /// Every voter sealed, debrief not yet open.
    Ready,
    Debrief,
    PendingHire,
}

/// Expected status for each kind: `ok` for `allowed`, 404 for the outsider
/// where the loop is not theirs to know, `denied` for everyone else;
/// 401 without valid credentials.
fn rule(allowed: &[K], ok: u16, denied: u16, outsider: Option<u16>) -> impl Fn(K) -> u16 + '_ {
    move |k| match k {
        Anonymous | Deactivated => 401,
        Outsider if !allowed.contains(&Outsider) && outsider.is_some() => {
            outsider.unwrap_or(denied)
        }
        k if allowed.contains(&k) => ok,
        _ => denied,
    }
}

fn seers() -> Vec<K> {
    let mut v = PARTICIPANTS.to_vec();
    v.extend([LoopRecruiter, OtherRecruiter, Admin]);
    v
}

/// The world shared by all rows: people and a few fixed targets.
struct World {
    cast: Cast,
    deactivated: Session,
    /// Holds an extra shadow interview in every loop: the target of
    /// interview edits, so no caller's own interview is touched.
    spare: Session,
    /// Not in any loop: added by `create_interview`.
    joiner: Session,
    competencies: Vec<Uuid>,
    candidate: Uuid,
    competency: Uuid,
}

/// One caller's fresh loop and targets.
#[derive(Default)]
struct Ctx {
    loop_id: Uuid,
    interviews: HashMap<Uuid, Uuid>,
    spare_interview: Uuid,
    erasable_candidate: Uuid,
    token_id: String,
    webhook_id: String,
    refresh_token: String,
    trainee: Uuid,
}

impl World {
    fn session(&self, k: K) -> Option<&Session> {
        let c = &self.cast;
        Some(match k {
            Anonymous => return None,
            Deactivated => &self.deactivated,
            Outsider => &c.outsider,
            InterviewerUnsealed | InterviewerSealed => &c.interviewers[0],
            ShadowUnsealed | ShadowSealed => &c.shadow,
            HiringManager => &c.hiring_manager,
            BarRaiserUnsealed | BarRaiserSealed => &c.bar_raiser,
            LoopRecruiter => &c.recruiter,
            OtherRecruiter => &c.other_recruiter,
            Admin => &c.admin,
        })
    }
}

async fn ensure_sealed(app: &TestApp, s: &Session, interview: Uuid) {
    let (_, f) = app
        .get(&format!("/interviews/{interview}/feedback"), s)
        .await;
    if f["state"] != "sealed" {
        app.draft_and_seal(s, interview, "inclined_to_hire").await;
    }
}

async fn prepare(app: &TestApp, w: &World, stage: Stage, k: K) -> Ctx {
    let c = &w.cast;
    let mut ctx = Ctx::default();
    if let Some(s) = w.session(k)
        && k != Deactivated
    {
        // A fresh sign-in, so refresh and logout never race another row.
        ctx.refresh_token = app.session(&s.email).await.refresh_token;
    }
    ctx.erasable_candidate = app.candidate(&c.recruiter, "Erasable").await;
    let (_, t) = app
        .post(
            "/tokens",
            &c.admin,
            json!({"name": "matrix", "scopes": ["users:read"]}),
        )
        .await;
    ctx.token_id = t["token"]["id"].as_str().unwrap_or_default().to_string();
    let (_, h) = app
        .post(
            "/webhooks",
            &c.admin,
            json!({"url": "https://hooks.example.com/matrix", "event_types": ["loop.scheduled"]}),
        )
        .await;
    ctx.webhook_id = h["webhook"]["id"].as_str().unwrap_or_default().to_string();
    if stage == Stage::Trainee {
        let (status, u) = app
            .post(
                "/users",
                &c.admin,
                json!({"email": format!("trainee-{}@example.com", Uuid::new_v4().simple()), "name": "Trainee", "password": PASSWORD, "role": "member"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{u}");
        ctx.trainee = u["id"].as_str().unwrap().parse().unwrap();
    }
    if stage <= Stage::NoLoop {
        return ctx;
    }
    let comps = &w.competencies;
    let (status, l) = app
        .create_loop(
            &c.recruiter,
            json!({"candidate_id": w.candidate, "position": "Matrix", "level": "L5", "hiring_manager_id": c.hiring_manager.id, "bar_raiser_id": c.bar_raiser.id, "required_competency_ids": comps}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{l}");
    ctx.loop_id = l["id"].as_str().unwrap().parse().unwrap();
    let plan = [
        (&c.bar_raiser, comps[0], "interviewer"),
        (&c.interviewers[0], comps[1], "interviewer"),
        (&c.interviewers[1], comps[2], "interviewer"),
        (&c.interviewers[2], comps[0], "interviewer"),
        (&c.interviewers[3], comps[1], "interviewer"),
        (&c.shadow, comps[2], "shadow"),
        (&w.spare, comps[0], "shadow"),
    ];
    for (who, comp, role) in plan {
        let (status, i) = app
            .add_interview(&c.recruiter, ctx.loop_id, who, &[comp], role, -3)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{i}");
        ctx.interviews
            .insert(who.id, i["id"].as_str().unwrap().parse().unwrap());
    }
    ctx.spare_interview = ctx.interviews[&w.spare.id];
    if stage == Stage::Draft {
        return ctx;
    }
    let (status, body) = app
        .post(
            &format!("/loops/{}/schedule", ctx.loop_id),
            &c.recruiter,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let i1 = &c.interviewers[1];
    // Interviewer 1 quick-votes, then seals: the target of quick-vote reads.
    let (status, body) = app
        .post(
            &format!("/interviews/{}/quick-vote", ctx.interviews[&i1.id]),
            i1,
            json!({"vote": "inclined_to_hire"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    app.draft_and_seal(i1, ctx.interviews[&i1.id], "inclined_to_hire")
        .await;
    let own = w
        .session(k)
        .and_then(|s| ctx.interviews.get(&s.id).copied());
    match k {
        InterviewerSealed | ShadowSealed | BarRaiserSealed => {
            let s = w.session(k).unwrap();
            app.draft_and_seal(s, own.unwrap(), "inclined_to_hire")
                .await;
        }
        InterviewerUnsealed | ShadowUnsealed | BarRaiserUnsealed => {
            let s = w.session(k).unwrap();
            assert_eq!(
                app.draft(s, own.unwrap(), "inclined_to_hire").await.0,
                StatusCode::OK
            );
        }
        _ => {}
    }
    if stage >= Stage::Ready {
        for s in [
            &c.bar_raiser,
            &c.interviewers[0],
            &c.interviewers[2],
            &c.interviewers[3],
        ] {
            ensure_sealed(app, s, ctx.interviews[&s.id]).await;
        }
    }
    if stage >= Stage::Debrief {
        let (status, body) = app
            .post(
                &format!("/loops/{}/debrief", ctx.loop_id),
                &c.bar_raiser,
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    if stage >= Stage::PendingHire {
        let (status, body) = app
            .post(
                &format!("/loops/{}/decision", ctx.loop_id),
                &c.hiring_manager,
                json!({"outcome": "hire", "rationale": "Matrix hire."}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    ctx
}

type Expect = Box<dyn Fn(K) -> u16>;

/// One row: operation id, stage, expectations.
fn rows() -> Vec<(&'static str, Stage, Expect)> {
    let public = |code: u16| -> Expect { Box::new(move |_| code) };
    let signed_in = |code: u16| -> Expect {
        Box::new(move |k| {
            if matches!(k, Anonymous | Deactivated) {
                401
            } else {
                code
            }
        })
    };
    let admin_only = |ok: u16| -> Expect { Box::new(move |k| rule(&[Admin], ok, 403, None)(k)) };
    let staff = |ok: u16| -> Expect {
        Box::new(move |k| rule(&[LoopRecruiter, OtherRecruiter, Admin], ok, 403, None)(k))
    };
    let org_readers = |ok: u16| -> Expect {
        Box::new(move |k| {
            rule(
                &[
                    BarRaiserUnsealed,
                    BarRaiserSealed,
                    LoopRecruiter,
                    OtherRecruiter,
                    Admin,
                ],
                ok,
                403,
                None,
            )(k)
        })
    };
    let managers = |ok: u16| -> Expect {
        Box::new(move |k| rule(&[LoopRecruiter, Admin], ok, 403, Some(404))(k))
    };
    let bar_raiser = |ok: u16| -> Expect {
        Box::new(move |k| rule(&[BarRaiserUnsealed, BarRaiserSealed], ok, 403, Some(404))(k))
    };
    let seer = |ok: u16| -> Expect {
        Box::new(move |k| {
            let s = seers();
            rule(&s, ok, 403, Some(404))(k)
        })
    };
    let only = |allowed: &'static [K], ok: u16, outsider: u16| -> Expect {
        Box::new(move |k| rule(allowed, ok, 403, Some(outsider))(k))
    };
    vec![
        ("healthz", Stage::NoLoop, public(200)),
        ("readyz", Stage::NoLoop, public(200)),
        // Off in the matrix's app (no BAR_RAISER_METRICS_TOKEN): 404 for
        // everyone, signed in or not; with the token, see metrics.rs.
        ("metrics", Stage::NoLoop, public(404)),
        ("list_problem_types", Stage::NoLoop, public(200)),
        ("get_problem_type", Stage::NoLoop, public(200)),
        ("login", Stage::NoLoop, public(200)),
        // Off in the matrix's app (no BAR_RAISER_OIDC_ISSUER): 404
        // `sso_not_configured` for everyone; with a provider, see sso.rs.
        ("sso_start", Stage::NoLoop, public(404)),
        ("sso_callback", Stage::NoLoop, public(404)),
        ("sso_exchange", Stage::NoLoop, public(404)),
        // A person's session (or none) never obtains a client token: the
        // endpoint takes only a form with a service token's credentials.
        ("oauth_token", Stage::NoLoop, public(400)),
        ("refresh_token", Stage::NoLoop, signed_in(200)),
        ("logout", Stage::NoLoop, signed_in(204)),
        ("get_me", Stage::NoLoop, signed_in(200)),
        ("list_my_interviews", Stage::NoLoop, signed_in(200)),
        ("create_user", Stage::NoLoop, admin_only(201)),
        ("list_users", Stage::NoLoop, staff(200)),
        (
            "get_user",
            Stage::NoLoop,
            Box::new(|k| {
                rule(
                    &[HiringManager, LoopRecruiter, OtherRecruiter, Admin],
                    200,
                    403,
                    None,
                )(k)
            }),
        ),
        ("update_user", Stage::NoLoop, admin_only(200)),
        ("list_competencies", Stage::NoLoop, signed_in(200)),
        ("get_competency", Stage::NoLoop, signed_in(200)),
        ("create_competency", Stage::NoLoop, admin_only(201)),
        ("update_competency", Stage::NoLoop, admin_only(200)),
        ("create_candidate", Stage::NoLoop, staff(201)),
        ("list_candidates", Stage::NoLoop, staff(200)),
        ("get_candidate", Stage::NoLoop, staff(200)),
        ("update_candidate", Stage::NoLoop, staff(200)),
        ("erase_candidate", Stage::NoLoop, staff(200)),
        ("create_token", Stage::NoLoop, admin_only(201)),
        ("list_tokens", Stage::NoLoop, admin_only(200)),
        ("get_token", Stage::NoLoop, admin_only(200)),
        ("revoke_token", Stage::NoLoop, admin_only(204)),
        ("create_webhook", Stage::NoLoop, admin_only(201)),
        ("list_webhooks", Stage::NoLoop, admin_only(200)),
        ("get_webhook", Stage::NoLoop, admin_only(200)),
        ("delete_webhook", Stage::NoLoop, admin_only(204)),
        ("rotate_webhook_secret", Stage::NoLoop, admin_only(200)),
        ("create_loop", Stage::NoLoop, staff(201)),
        // Admins read every decided loop's scorecards, recruiters their own.
        ("list_scorecards", Stage::NoLoop, staff(200)),
        // Analytics: everyone their own; the organisation's to admins,
        // recruiters and certified Bar Raisers; a loop's only once decided
        // (409 before), to those who took part, 404 to anyone else.
        ("get_my_analytics", Stage::NoLoop, signed_in(200)),
        (
            "list_interviewer_analytics",
            Stage::NoLoop,
            org_readers(200),
        ),
        ("get_analytics_summary", Stage::NoLoop, org_readers(200)),
        ("get_analytics_report", Stage::NoLoop, org_readers(200)),
        (
            "get_analytics_reliability_data",
            Stage::NoLoop,
            admin_only(200),
        ),
        (
            "get_interviewer_analytics",
            Stage::NoLoop,
            Box::new(|k| {
                rule(
                    &[
                        InterviewerUnsealed,
                        InterviewerSealed,
                        BarRaiserUnsealed,
                        BarRaiserSealed,
                        LoopRecruiter,
                        OtherRecruiter,
                        Admin,
                    ],
                    200,
                    403,
                    None,
                )(k)
            }),
        ),
        (
            "get_loop_analytics",
            Stage::Scheduled,
            Box::new(|k| {
                let mut s = PARTICIPANTS.to_vec();
                s.extend([LoopRecruiter, Admin]);
                rule(&s, 409, 404, Some(404))(k)
            }),
        ),
        ("list_loops", Stage::NoLoop, signed_in(200)),
        ("get_loop", Stage::Scheduled, seer(200)),
        ("update_loop", Stage::Scheduled, managers(200)),
        ("schedule_loop", Stage::Draft, managers(200)),
        ("cancel_loop", Stage::Scheduled, managers(200)),
        ("create_interview", Stage::Scheduled, managers(201)),
        ("get_interview", Stage::Scheduled, seer(200)),
        ("update_interview", Stage::Scheduled, managers(200)),
        ("delete_interview", Stage::Scheduled, managers(204)),
        ("excuse_interview", Stage::Scheduled, bar_raiser(200)),
        // Reading the sealed feedback of another interviewer: only those
        // who sealed their own first.
        (
            "get_feedback",
            Stage::Scheduled,
            Box::new(|k| {
                rule(
                    &[InterviewerSealed, ShadowSealed, BarRaiserSealed],
                    200,
                    403,
                    Some(404),
                )(k)
            }),
        ),
        (
            "list_loop_feedback",
            Stage::Scheduled,
            Box::new(|k| {
                let s = seers();
                rule(&s, 200, 403, Some(404))(k)
            }),
        ),
        // Own interview where the caller has one: drafts and seals succeed
        // until sealed (409); addenda only after.
        (
            "save_feedback_draft",
            Stage::Scheduled,
            Box::new(|k| match k {
                InterviewerUnsealed | ShadowUnsealed | BarRaiserUnsealed => 200,
                InterviewerSealed | ShadowSealed | BarRaiserSealed => 409,
                Anonymous | Deactivated => 401,
                Outsider => 404,
                _ => 403,
            }),
        ),
        (
            "seal_feedback",
            Stage::Scheduled,
            Box::new(|k| match k {
                InterviewerUnsealed | ShadowUnsealed | BarRaiserUnsealed => 200,
                InterviewerSealed | ShadowSealed | BarRaiserSealed => 409,
                Anonymous | Deactivated => 401,
                Outsider => 404,
                _ => 403,
            }),
        ),
        (
            "add_feedback_addendum",
            Stage::Scheduled,
            Box::new(|k| match k {
                InterviewerUnsealed | ShadowUnsealed | BarRaiserUnsealed => 409,
                InterviewerSealed | ShadowSealed | BarRaiserSealed => 201,
                Anonymous | Deactivated => 401,
                Outsider => 404,
                _ => 403,
            }),
        ),
        // A quick vote: the voting interviewer of the interview only, before
        // the seal (409 after); a shadow's interview does not vote.
        (
            "commit_quick_vote",
            Stage::Scheduled,
            Box::new(|k| match k {
                InterviewerUnsealed | BarRaiserUnsealed => 201,
                InterviewerSealed | BarRaiserSealed => 409,
                Anonymous | Deactivated => 401,
                Outsider => 404,
                _ => 403,
            }),
        ),
        // Reading another interviewer's quick vote: exactly as their sealed
        // feedback (get_feedback).
        (
            "get_quick_vote",
            Stage::Scheduled,
            Box::new(|k| {
                rule(
                    &[InterviewerSealed, ShadowSealed, BarRaiserSealed],
                    200,
                    403,
                    Some(404),
                )(k)
            }),
        ),
        ("break_glass_read", Stage::Scheduled, admin_only(200)),
        ("open_debrief", Stage::Ready, bar_raiser(200)),
        (
            "get_debrief",
            Stage::Debrief,
            Box::new(|k| {
                let mut allowed = PARTICIPANTS.to_vec();
                allowed.push(LoopRecruiter);
                rule(&allowed, 200, 403, Some(404))(k)
            }),
        ),
        (
            "cast_debrief_vote",
            Stage::Debrief,
            only(
                &[
                    InterviewerUnsealed,
                    InterviewerSealed,
                    BarRaiserUnsealed,
                    BarRaiserSealed,
                ],
                200,
                404,
            ),
        ),
        ("reveal_debrief_votes", Stage::Debrief, bar_raiser(200)),
        (
            "record_decision",
            Stage::Debrief,
            only(&[HiringManager], 200, 404),
        ),
        ("concur_with_hire", Stage::PendingHire, bar_raiser(200)),
        ("veto_hire", Stage::PendingHire, bar_raiser(200)),
        (
            "get_loop_audit",
            Stage::Scheduled,
            only(
                &[LoopRecruiter, BarRaiserUnsealed, BarRaiserSealed, Admin],
                200,
                404,
            ),
        ),
        (
            "verify_loop_audit",
            Stage::Scheduled,
            only(
                &[LoopRecruiter, BarRaiserUnsealed, BarRaiserSealed, Admin],
                200,
                404,
            ),
        ),
        // The Bar Raiser program: records to admins, recruiters and
        // certified Bar Raisers; enrolment by an admin or a certified Bar
        // Raiser (as mentor); certification and re-activation by admins
        // (409: the target is an interviewer, neither in training nor
        // lapsed); a sign-off by the loop's mentor only (this loop has none).
        ("list_trainees", Stage::NoLoop, org_readers(200)),
        ("get_program_record", Stage::NoLoop, org_readers(200)),
        (
            "enrol_trainee",
            Stage::Trainee,
            Box::new(|k| rule(&[BarRaiserUnsealed, BarRaiserSealed, Admin], 200, 403, None)(k)),
        ),
        ("certify_trainee", Stage::NoLoop, admin_only(409)),
        ("reactivate_bar_raiser", Stage::NoLoop, admin_only(409)),
        (
            "sign_off_reverse_shadow",
            Stage::Scheduled,
            only(&[], 201, 404),
        ),
    ]
}

/// The request each row sends, for caller `k` in `ctx`.
fn request(op: &str, w: &World, ctx: &Ctx, k: K) -> (Method, String, Option<Value>) {
    let c = &w.cast;
    let l = ctx.loop_id;
    let unique = Uuid::new_v4().simple().to_string();
    let own = w
        .session(k)
        .and_then(|s| ctx.interviews.get(&s.id).copied());
    let fallback = ctx
        .interviews
        .get(&c.interviewers[2].id)
        .copied()
        .unwrap_or_default();
    let i1 = ctx
        .interviews
        .get(&c.interviewers[1].id)
        .copied()
        .unwrap_or_default();
    let mine = own
        .filter(|_| !matches!(k, HiringManager))
        .unwrap_or(fallback);
    use Method as M;
    match op {
        "healthz" => (M::GET, "/healthz".into(), None),
        "oauth_token" => (
            M::POST,
            "/oauth/token".into(),
            Some(json!({"grant_type": "client_credentials"})),
        ),
        "readyz" => (M::GET, "/readyz".into(), None),
        "metrics" => (M::GET, "/metrics".into(), None),
        "list_problem_types" => (M::GET, "/problems".into(), None),
        "get_problem_type" => (M::GET, "/problems/not_found".into(), None),
        "login" => (
            M::POST,
            "/auth/login".into(),
            Some(json!({"email": ADMIN_EMAIL, "password": PASSWORD})),
        ),
        "sso_start" => (M::GET, "/auth/sso/start?client=cli".into(), None),
        "sso_callback" => (M::GET, "/auth/sso/callback?code=c&state=s".into(), None),
        "sso_exchange" => (
            M::POST,
            "/auth/sso/exchange".into(),
            Some(json!({"code": "not-a-code"})),
        ),
        "refresh_token" => (
            M::POST,
            "/auth/refresh".into(),
            Some(
                json!({"refresh_token": if ctx.refresh_token.is_empty() { "none".to_string() } else { ctx.refresh_token.clone() }}),
            ),
        ),
        "logout" => (
            M::POST,
            "/auth/logout".into(),
            Some(json!({"refresh_token": ctx.refresh_token})),
        ),
        "get_me" => (M::GET, "/me".into(), None),
        "list_my_interviews" => (M::GET, "/me/interviews".into(), None),
        "create_user" => (
            M::POST,
            "/users".into(),
            Some(
                json!({"email": format!("{unique}@example.com"), "name": "New", "password": PASSWORD, "role": "member"}),
            ),
        ),
        "list_users" => (M::GET, "/users".into(), None),
        "get_user" => (M::GET, format!("/users/{}", c.hiring_manager.id), None),
        "update_user" => (
            M::PATCH,
            format!("/users/{}", w.joiner.id),
            Some(json!({"name": "Joiner"})),
        ),
        "list_competencies" => (M::GET, "/competencies".into(), None),
        "get_competency" => (M::GET, format!("/competencies/{}", w.competency), None),
        "create_competency" => (
            M::POST,
            "/competencies".into(),
            Some(json!({"name": format!("Competency {unique}"), "description": "d"})),
        ),
        "update_competency" => (
            M::PATCH,
            format!("/competencies/{}", w.competency),
            Some(json!({"description": "updated"})),
        ),
        "create_candidate" => (
            M::POST,
            "/candidates".into(),
            Some(json!({"name": "C", "email": format!("{unique}@candidates.example")})),
        ),
        "list_candidates" => (M::GET, "/candidates".into(), None),
        "get_candidate" => (M::GET, format!("/candidates/{}", w.candidate), None),
        "update_candidate" => (
            M::PATCH,
            format!("/candidates/{}", w.candidate),
            Some(json!({"notes": "matrix"})),
        ),
        "erase_candidate" => (
            M::DELETE,
            format!("/candidates/{}", ctx.erasable_candidate),
            None,
        ),
        "create_token" => (
            M::POST,
            "/tokens".into(),
            Some(json!({"name": "t", "scopes": ["loops:read"]})),
        ),
        "list_tokens" => (M::GET, "/tokens".into(), None),
        "get_token" => (M::GET, format!("/tokens/{}", ctx.token_id), None),
        "revoke_token" => (M::DELETE, format!("/tokens/{}", ctx.token_id), None),
        "create_webhook" => (
            M::POST,
            "/webhooks".into(),
            Some(
                json!({"url": "https://hooks.example.com/new", "event_types": ["debrief.opened"]}),
            ),
        ),
        "list_webhooks" => (M::GET, "/webhooks".into(), None),
        "get_webhook" => (M::GET, format!("/webhooks/{}", ctx.webhook_id), None),
        "delete_webhook" => (M::DELETE, format!("/webhooks/{}", ctx.webhook_id), None),
        "rotate_webhook_secret" => (
            M::POST,
            format!("/webhooks/{}/rotate-secret", ctx.webhook_id),
            None,
        ),
        "create_loop" => (
            M::POST,
            "/loops".into(),
            Some(
                json!({"candidate_id": w.candidate, "position": "P", "level": "L", "hiring_manager_id": c.hiring_manager.id, "bar_raiser_id": c.bar_raiser.id}),
            ),
        ),
        "list_loops" => (M::GET, "/loops".into(), None),
        "list_scorecards" => (M::GET, "/scorecards".into(), None),
        "get_my_analytics" => (M::GET, "/analytics/me".into(), None),
        "list_interviewer_analytics" => (M::GET, "/analytics/interviewers".into(), None),
        "get_analytics_summary" => (M::GET, "/analytics/summary".into(), None),
        "get_analytics_report" => (M::GET, "/analytics/report".into(), None),
        "get_analytics_reliability_data" => (M::GET, "/analytics/reliability".into(), None),
        "get_interviewer_analytics" => (
            M::GET,
            format!("/analytics/interviewers/{}", c.interviewers[0].id),
            None,
        ),
        "get_loop_analytics" => (M::GET, format!("/analytics/loops/{l}"), None),
        "get_loop" => (M::GET, format!("/loops/{l}"), None),
        "update_loop" => (
            M::PATCH,
            format!("/loops/{l}"),
            Some(json!({"level": "L6"})),
        ),
        "schedule_loop" => (M::POST, format!("/loops/{l}/schedule"), Some(json!({}))),
        "cancel_loop" => (
            M::POST,
            format!("/loops/{l}/cancel"),
            Some(json!({"reason": "matrix"})),
        ),
        "create_interview" => (
            M::POST,
            format!("/loops/{l}/interviews"),
            Some(
                json!({"interviewer_id": w.joiner.id, "competency_ids": [w.competencies[0]], "starts_at": "2026-01-01T10:00:00Z", "duration_minutes": 45, "loop_role": "shadow"}),
            ),
        ),
        "get_interview" => (M::GET, format!("/interviews/{}", ctx.spare_interview), None),
        "update_interview" => (
            M::PATCH,
            format!("/interviews/{}", ctx.spare_interview),
            Some(json!({"duration_minutes": 50})),
        ),
        "delete_interview" => (
            M::DELETE,
            format!("/interviews/{}", ctx.spare_interview),
            None,
        ),
        "excuse_interview" => (
            M::POST,
            format!("/interviews/{fallback}/excuse"),
            Some(json!({"reason": "matrix"})),
        ),
        "get_feedback" => (M::GET, format!("/interviews/{i1}/feedback"), None),
        "list_loop_feedback" => (M::GET, format!("/loops/{l}/feedback"), None),
        "save_feedback_draft" => (
            M::PUT,
            format!("/interviews/{mine}/feedback"),
            Some(json!({"summary": "matrix"})),
        ),
        "seal_feedback" => (
            M::POST,
            format!("/interviews/{mine}/feedback/seal"),
            Some(json!({})),
        ),
        "add_feedback_addendum" => (
            M::POST,
            format!("/interviews/{mine}/feedback/addenda"),
            Some(json!({"text": "matrix"})),
        ),
        "commit_quick_vote" => (
            M::POST,
            format!("/interviews/{mine}/quick-vote"),
            Some(json!({"vote": "inclined_not_to_hire"})),
        ),
        "get_quick_vote" => (M::GET, format!("/interviews/{i1}/quick-vote"), None),
        "break_glass_read" => (
            M::POST,
            format!("/interviews/{i1}/feedback/break-glass"),
            Some(json!({"reason": "authorization matrix test read"})),
        ),
        "open_debrief" => (M::POST, format!("/loops/{l}/debrief"), Some(json!({}))),
        "get_debrief" => (M::GET, format!("/loops/{l}/debrief"), None),
        "cast_debrief_vote" => (
            M::PUT,
            format!("/loops/{l}/debrief/votes/me"),
            Some(json!({"vote": "inclined_to_hire", "rationale": "same as sealed"})),
        ),
        "reveal_debrief_votes" => (
            M::POST,
            format!("/loops/{l}/debrief/reveal"),
            Some(json!({})),
        ),
        "record_decision" => (
            M::POST,
            format!("/loops/{l}/decision"),
            Some(json!({"outcome": "hire", "rationale": "matrix"})),
        ),
        "concur_with_hire" => (
            M::POST,
            format!("/loops/{l}/decision/concur"),
            Some(json!({})),
        ),
        "veto_hire" => (
            M::POST,
            format!("/loops/{l}/decision/veto"),
            Some(
                json!({"rationale": "A veto rationale long enough to pass the fifty character rule."}),
            ),
        ),
        "get_loop_audit" => (M::GET, format!("/loops/{l}/audit"), None),
        "verify_loop_audit" => (M::GET, format!("/loops/{l}/audit/verify"), None),
        "list_trainees" => (M::GET, "/bar-raiser-program/trainees".into(), None),
        "get_program_record" => (
            M::GET,
            format!("/bar-raiser-program/people/{}", w.joiner.id),
            None,
        ),
        "enrol_trainee" => (
            M::POST,
            format!("/bar-raiser-program/people/{}/enrol", ctx.trainee),
            Some(json!({})),
        ),
        "certify_trainee" => (
            M::POST,
            format!("/bar-raiser-program/people/{}/certify", w.joiner.id),
            None,
        ),
        "reactivate_bar_raiser" => (
            M::POST,
            format!("/bar-raiser-program/people/{}/reactivate", w.joiner.id),
            Some(json!({"reason": "back after a long leave of absence"})),
        ),
        "sign_off_reverse_shadow" => (
            M::POST,
            format!("/loops/{l}/sign-off"),
            Some(json!({"outcome": "pass", "assessment": "x".repeat(120)})),
        ),
        other => panic!("no request for {other}"),
    }
}

fn committed_operations() -> BTreeSet<String> {
    let doc: Value = serde_json::from_str(include_str!("../../openapi/openapi.json")).unwrap();
    doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|op| op["operationId"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn every_documented_operation_has_a_row() {
    let documented = committed_operations();
    let covered: BTreeSet<String> = rows()
        .into_iter()
        .map(|(op, _, _)| op.to_string())
        .collect();
    let missing: Vec<_> = documented.difference(&covered).collect();
    let stale: Vec<_> = covered.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "operations without a row in the authorization matrix: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "rows for operations that no longer exist: {stale:?}"
    );
}

async fn authorization_matrix(app: TestApp) {
    let w = world(&app).await;
    matrix_cells(&app, &w, false).await;
}

/// What the single sign-on operations answer everyone once an issuer is
/// configured (the matrix's rows say what they answer without one: 404):
/// the start for a command line, and refusals of a state and a one-time
/// code that no sign-in issued.
fn with_sso(op: &str) -> Option<u16> {
    match op {
        "sso_start" => Some(200),
        "sso_callback" => Some(400),
        "sso_exchange" => Some(400),
        _ => None,
    }
}

/// Every row of the matrix for every kind of caller, with the sessions of
/// `w`.
async fn matrix_cells(app: &TestApp, w: &World, sso_configured: bool) {
    let documented = committed_operations();
    let mut failures = Vec::new();
    let mut checked = 0;
    for (op, stage, expect) in rows() {
        if !documented.contains(op) {
            continue;
        }
        // Sign-in counts the attempts on one account from one address
        // before checking the password, so thirteen at once would be
        // throttled: its cells run one after another.
        let at_once = if op == "login" { 1 } else { KINDS.len() };
        let results: Vec<_> = futures_util::stream::iter(KINDS.iter().map(|&k| {
            let (app, w) = (app, w);
            async move {
                let ctx = prepare(app, w, stage, k).await;
                let (method, path, body) = request(op, w, &ctx, k);
                let token = w.session(k).map(|s| s.token.clone());
                let got = app.call(method, &path, token.as_deref(), body).await;
                (k, got)
            }
        }))
        .buffered(at_once)
        .collect()
        .await;
        for (k, (status, body)) in results {
            checked += 1;
            let want = match with_sso(op) {
                Some(code) if sso_configured => code,
                _ => expect(k),
            };
            if status.as_u16() != want {
                failures.push(format!(
                    "{op} as {k:?}: expected {want}, got {} {body}",
                    status.as_u16()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(checked, documented.len() * KINDS.len());
}
/// The matrix's interviews ended two hours before each request: a window
/// of a day keeps quick votes open for every cell.
async fn matrix_with_quick_votes_open(backend: Backend) {
    if let Some(app) = TestApp::spawn_with(backend, |c| c.quick_vote_window_minutes = 24 * 60).await
    {
        authorization_matrix(app).await;
    }
}
both_backends!(matrix, backend => super::matrix_with_quick_votes_open);

/// The SCIM-provisioned callers: the same matrix, every person but the
/// first admin provisioned by an identity provider (then given a role and
/// a password by the admin). Provisioning changes nothing of what anyone
/// may do.
async fn matrix_of_provisioned_people(backend: Backend) {
    if let Some(app) = TestApp::spawn_with(backend, |c| c.quick_vote_window_minutes = 24 * 60).await
    {
        app.provision_people().await;
        authorization_matrix(app).await;
    }
}
both_backends!(provisioned_matrix, backend => super::matrix_of_provisioned_people);

/// The SSO-linked callers: the same matrix, every person signed in through
/// the OpenID provider (`tests/api/sso.rs`: a real one, on loopback), their
/// accounts linked at that first sign-in by verified email, and every cell
/// asked with the access token single sign-on issued. The deactivated
/// person cannot sign in by SSO (refused, as `sso.rs` shows) and keeps the
/// token from before the deactivation, which no longer works either.
async fn matrix_of_sso_linked_people(backend: Backend) {
    let Some(sso) =
        crate::sso::Sso::spawn(backend, |c| c.quick_vote_window_minutes = 24 * 60).await
    else {
        return;
    };
    let app = &sso.app;
    let mut w = world(app).await;
    let mut people: Vec<&mut Session> = vec![
        &mut w.cast.admin,
        &mut w.cast.recruiter,
        &mut w.cast.other_recruiter,
        &mut w.cast.hiring_manager,
        &mut w.cast.bar_raiser,
        &mut w.cast.shadow,
        &mut w.cast.outsider,
        &mut w.spare,
        &mut w.joiner,
    ];
    people.extend(w.cast.interviewers.iter_mut());
    for s in people {
        let tokens = sso.sign_in(&s.email).await;
        let (status, me) = app
            .call(Method::GET, "/me", tokens["access_token"].as_str(), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{me}");
        assert_eq!(me["id"], s.id.to_string(), "linked to the same account");
        // A session of its own (an access token is a JWT of the account
        // and the second, so only the refresh token tells sessions apart).
        assert_ne!(tokens["refresh_token"].as_str().unwrap(), s.refresh_token);
        s.token = tokens["access_token"].as_str().unwrap().to_string();
        s.refresh_token = tokens["refresh_token"].as_str().unwrap().to_string();
    }
    matrix_cells(app, &w, true).await;
}
both_backends!(sso_matrix, backend => super::matrix_of_sso_linked_people);

/// The client-credentials caller, across the whole matrix: for every
/// operation, an access token from `POST /oauth/token` gets exactly what
/// the service token's own secret gets (the same admin, the same scopes —
/// all of them — so the personal acts are 403 for both).
async fn client_credentials_cells(app: TestApp) {
    let w = world(&app).await;
    let scopes: Vec<&str> = SCOPES.to_vec();
    let (status, t) = app
        .post(
            "/tokens",
            &w.cast.admin,
            json!({"name": "oauth matrix", "scopes": scopes}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{t}");
    let id = t["token"]["id"].as_str().unwrap().to_string();
    let secret = t["secret"].as_str().unwrap().to_string();
    let access = app.client_token(&id, &secret, None).await;
    let documented = committed_operations();
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut insufficient = 0;
    for (op, stage, _) in rows() {
        if !documented.contains(op) {
            continue;
        }
        let mut got = Vec::new();
        for credential in [&secret, &access] {
            let ctx = prepare(&app, &w, stage, Admin).await;
            let (method, path, body) = request(op, &w, &ctx, Admin);
            got.push(app.call(method, &path, Some(credential), body).await);
        }
        checked += 1;
        let (by_secret, by_access) = (&got[0], &got[1]);
        if by_secret.0 != by_access.0 || by_secret.1.get("code") != by_access.1.get("code") {
            failures.push(format!(
                "{op}: the secret got {} {}, the client's access token {} {}",
                by_secret.0, by_secret.1, by_access.0, by_access.1
            ));
        }
        insufficient += usize::from(by_access.1["code"] == "insufficient_scope");
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} operations differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(checked, documented.len());
    // The personal acts and token management stay closed to both.
    assert!(
        insufficient >= 15,
        "only {insufficient} operations refused the token"
    );
}
/// As the matrix: the fixture's interviews ended hours ago, so a window of
/// a day keeps the quick votes `prepare` commits open.
async fn client_credentials_with_quick_votes_open(backend: Backend) {
    if let Some(app) = TestApp::spawn_with(backend, |c| c.quick_vote_window_minutes = 24 * 60).await
    {
        client_credentials_cells(app).await;
    }
}
both_backends!(client_credentials_matrix, backend => super::client_credentials_with_quick_votes_open);

/// Every scope a token can hold.
const SCOPES: [&str; 11] = [
    "users:read",
    "users:write",
    "candidates:read",
    "candidates:write",
    "loops:read",
    "loops:write",
    "feedback:read",
    "audit:read",
    "webhooks:manage",
    "analytics:read",
    "scim",
];

/// The people, a deactivated account and the fixed targets every row uses.
async fn world(app: &TestApp) -> World {
    let cast = app.cast().await;
    let deactivated = app.user("Dee Activated", "member", false).await;
    assert_eq!(
        app.patch(
            &format!("/users/{}", deactivated.id),
            &cast.admin,
            json!({"active": false})
        )
        .await
        .0,
        StatusCode::OK
    );
    let spare = app.user("Spare Shadow", "member", false).await;
    let joiner = app.user("Late Joiner", "member", false).await;
    let competencies = app.competency_ids(&cast.recruiter).await[..3].to_vec();
    let candidate = app.candidate(&cast.recruiter, "Matrix Candidate").await;
    let (_, comp) = app
        .post(
            "/competencies",
            &cast.admin,
            json!({"name": "Matrix Competency", "description": "d"}),
        )
        .await;
    World {
        cast,
        deactivated,
        spare,
        joiner,
        competencies,
        candidate,
        competency: comp["id"].as_str().unwrap().parse().unwrap(),
    }
}

/// The token privilege ceiling, as matrix cells: the account-writing
/// operations × the admin in person and tokens with and without
/// `users:write` × what is written. A token acts for its admin, so without
/// the ceiling every `users:write` cell would read like the admin's.
async fn token_ceiling_cells(app: TestApp) {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    enum Caller {
        AdminPerson,
        UsersWriteToken,
        UsersReadToken,
    }
    use Caller::*;
    let admin = app.admin().await;
    let other_admin = app.user("Other Admin", "admin", false).await;
    let mut secrets = HashMap::new();
    for (caller, scopes) in [
        (UsersWriteToken, json!(["users:write", "users:read"])),
        (UsersReadToken, json!(["users:read"])),
    ] {
        let (status, t) = app
            .post(
                "/tokens",
                &admin,
                json!({"name": "ceiling", "scopes": scopes}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{t}");
        secrets.insert(caller, t["secret"].as_str().unwrap().to_string());
    }
    secrets.insert(AdminPerson, admin.token.clone());
    // (operation, what, expected for AdminPerson, UsersWriteToken, UsersReadToken)
    let cells: [(&str, &str, [u16; 3]); 11] = [
        ("create_user", "member", [201, 201, 403]),
        ("create_user", "recruiter", [201, 201, 403]),
        ("create_user", "admin", [201, 403, 403]),
        ("update_user", "rename member", [200, 200, 403]),
        ("update_user", "member to recruiter", [200, 200, 403]),
        ("update_user", "member to admin", [200, 403, 403]),
        ("update_user", "member password", [200, 403, 403]),
        ("update_user", "rename admin", [200, 403, 403]),
        ("update_user", "admin password", [200, 403, 403]),
        ("update_user", "demote admin", [200, 403, 403]),
        ("update_user", "deactivate member", [200, 200, 403]),
    ];
    let mut failures = Vec::new();
    for (op, what, expected) in cells {
        for (caller, want) in [AdminPerson, UsersWriteToken, UsersReadToken]
            .into_iter()
            .zip(expected)
        {
            // A fresh target per cell, so no cell depends on another.
            let target = app.user("Ceiling Target", "member", false).await;
            let admin_target = if what.contains("admin") && op == "update_user" {
                app.user("Ceiling Admin", "admin", false).await.id
            } else {
                other_admin.id
            };
            let unique = Uuid::new_v4().simple().to_string();
            let new_password = "an operator's chosen password";
            let (method, path, body) = match (op, what) {
                ("create_user", role) => (
                    Method::POST,
                    "/users".to_string(),
                    json!({"email": format!("{unique}@example.com"), "name": "New", "password": PASSWORD, "role": role}),
                ),
                (_, "rename member") => (
                    Method::PATCH,
                    format!("/users/{}", target.id),
                    json!({"name": "Renamed"}),
                ),
                (_, "member to recruiter") => (
                    Method::PATCH,
                    format!("/users/{}", target.id),
                    json!({"role": "recruiter"}),
                ),
                (_, "member to admin") => (
                    Method::PATCH,
                    format!("/users/{}", target.id),
                    json!({"role": "admin"}),
                ),
                (_, "member password") => (
                    Method::PATCH,
                    format!("/users/{}", target.id),
                    json!({"password": new_password}),
                ),
                (_, "rename admin") => (
                    Method::PATCH,
                    format!("/users/{admin_target}"),
                    json!({"name": "Renamed"}),
                ),
                (_, "admin password") => (
                    Method::PATCH,
                    format!("/users/{admin_target}"),
                    json!({"password": new_password}),
                ),
                (_, "demote admin") => (
                    Method::PATCH,
                    format!("/users/{admin_target}"),
                    json!({"role": "member"}),
                ),
                (_, "deactivate member") => (
                    Method::PATCH,
                    format!("/users/{}", target.id),
                    json!({"active": false}),
                ),
                other => panic!("no request for {other:?}"),
            };
            let (status, got) = app
                .call(method, &path, Some(&secrets[&caller]), Some(body))
                .await;
            let code = match (caller, want) {
                (_, 200 | 201) => None,
                (UsersReadToken, _) => Some("insufficient_scope"),
                _ => Some("token_privilege_ceiling"),
            };
            if status.as_u16() != want || (code.is_some() && got["code"] != code.unwrap()) {
                failures.push(format!(
                    "{op} ({what}) as {caller:?}: expected {want} {code:?}, got {} {got}",
                    status.as_u16()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
both_backends!(token_ceiling, token_ceiling_cells);
