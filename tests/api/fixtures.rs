//! A cast of people and a loop built through the API, as a recruiter would.

use std::collections::HashMap;

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;

/// Everyone a loop needs, plus people who must not see it.
pub struct Cast {
    pub admin: Session,
    pub recruiter: Session,
    pub other_recruiter: Session,
    pub hiring_manager: Session,
    pub bar_raiser: Session,
    /// Four voting interviewers besides the Bar Raiser.
    pub interviewers: Vec<Session>,
    pub shadow: Session,
    pub outsider: Session,
}

impl Cast {
    /// Everyone with a voting interview: the Bar Raiser first.
    pub fn voters(&self) -> Vec<&Session> {
        std::iter::once(&self.bar_raiser)
            .chain(self.interviewers.iter())
            .collect()
    }
}

pub struct LoopSetup {
    pub cast: Cast,
    pub candidate_id: Uuid,
    pub loop_id: Uuid,
    /// Interview id by interviewer id.
    pub interviews: HashMap<Uuid, Uuid>,
    /// The loop's required competencies (also the ones assigned).
    pub competencies: Vec<Uuid>,
}

impl LoopSetup {
    pub fn interview_of(&self, s: &Session) -> Uuid {
        self.interviews[&s.id]
    }
}

impl TestApp {
    pub async fn cast(&self) -> Cast {
        Cast {
            admin: self.admin().await,
            recruiter: self.user("Rae Recruiter", "recruiter", false).await,
            other_recruiter: self.user("Otto Recruiter", "recruiter", false).await,
            hiring_manager: self.user("Hana Manager", "member", false).await,
            bar_raiser: self.user("Bo Raiser", "member", true).await,
            interviewers: vec![
                self.user("Ivy One", "member", false).await,
                self.user("Ian Two", "member", false).await,
                self.user("Ida Three", "member", false).await,
                self.user("Ike Four", "member", false).await,
            ],
            shadow: self.user("Sam Shadow", "member", false).await,
            outsider: self.user("Olga Outsider", "member", false).await,
        }
    }

    pub async fn competency_ids(&self, s: &Session) -> Vec<Uuid> {
        let (status, body) = self.get("/competencies", s).await;
        assert_eq!(status, StatusCode::OK);
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().parse().unwrap())
            .collect()
    }

    pub async fn candidate(&self, s: &Session, name: &str) -> Uuid {
        let email = format!(
            "{}-{}@candidates.example",
            name.to_lowercase().replace(' ', "."),
            &Uuid::new_v4().simple().to_string()[..8]
        );
        let (status, body) = self
            .post("/candidates", s, json!({"name": name, "email": email, "phone": "+1 555 0100", "links": ["https://example.com/cv"], "notes": "Referred"}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().unwrap().parse().unwrap()
    }

    pub async fn create_loop(&self, s: &Session, body: Value) -> (StatusCode, Value) {
        self.post("/loops", s, body).await
    }

    pub async fn add_interview(
        &self,
        s: &Session,
        loop_id: Uuid,
        who: &Session,
        comps: &[Uuid],
        role: &str,
        hours_from_now: i64,
    ) -> (StatusCode, Value) {
        let starts = Utc::now() + Duration::hours(hours_from_now);
        self.post(
            &format!("/loops/{loop_id}/interviews"),
            s,
            json!({"interviewer_id": who.id, "competency_ids": comps, "starts_at": starts.to_rfc3339(), "duration_minutes": 60, "loop_role": role}),
        )
        .await
    }

    /// A complete draft loop: Bar Raiser and four interviewers voting, one
    /// shadow; interviews started two to one hours ago, so feedback can be
    /// sealed at once.
    pub async fn draft_loop(&self) -> LoopSetup {
        let cast = self.cast().await;
        let comps = self.competency_ids(&cast.recruiter).await[..3].to_vec();
        let candidate_id = self.candidate(&cast.recruiter, "Casey Candidate").await;
        let (status, l) = self
            .create_loop(
                &cast.recruiter,
                json!({
                    "candidate_id": candidate_id,
                    "position": "Senior Engineer",
                    "level": "L6",
                    "hiring_manager_id": cast.hiring_manager.id,
                    "bar_raiser_id": cast.bar_raiser.id,
                    "required_competency_ids": comps,
                }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{l}");
        let loop_id: Uuid = l["id"].as_str().unwrap().parse().unwrap();
        let plan: Vec<(&Session, Vec<Uuid>, &str, i64)> = vec![
            (
                &cast.bar_raiser,
                vec![comps[0], comps[1]],
                "interviewer",
                -6,
            ),
            (&cast.interviewers[0], vec![comps[2]], "interviewer", -5),
            (&cast.interviewers[1], vec![comps[0]], "interviewer", -4),
            (
                &cast.interviewers[2],
                vec![comps[1], comps[2]],
                "interviewer",
                -3,
            ),
            (
                &cast.interviewers[3],
                vec![comps[0], comps[1], comps[2]],
                "interviewer",
                -2,
            ),
            (&cast.shadow, vec![comps[1]], "shadow", -2),
        ];
        let mut interviews = HashMap::new();
        for (who, c, role, hours) in plan {
            let (status, i) = self
                .add_interview(&cast.recruiter, loop_id, who, &c, role, hours)
                .await;
            assert_eq!(status, StatusCode::CREATED, "{i}");
            interviews.insert(who.id, i["id"].as_str().unwrap().parse().unwrap());
        }
        LoopSetup {
            cast,
            candidate_id,
            loop_id,
            interviews,
            competencies: comps,
        }
    }

    pub async fn scheduled_loop(&self) -> LoopSetup {
        let setup = self.draft_loop().await;
        let (status, body) = self
            .post(
                &format!("/loops/{}/schedule", setup.loop_id),
                &setup.cast.recruiter,
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["state"], "scheduled");
        setup
    }
}

/// Evidence long enough to seal.
pub fn evidence(tag: &str) -> String {
    format!(
        "{tag}: described a concrete situation, the actions they took personally, the trade-offs they weighed and the measurable result; follow-ups confirmed depth."
    )
}

impl TestApp {
    /// The competencies assigned to an interview.
    pub async fn assigned(&self, s: &Session, interview: Uuid) -> Vec<Uuid> {
        let (status, i) = self.get(&format!("/interviews/{interview}"), s).await;
        assert_eq!(status, StatusCode::OK, "{i}");
        i["competencies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().parse().unwrap())
            .collect()
    }

    /// A complete draft for the caller's interview.
    pub async fn complete_draft(&self, s: &Session, interview: Uuid, vote: &str) -> Value {
        let comps = self.assigned(s, interview).await;
        json!({
            "ratings": comps.iter().enumerate().map(|(n, c)| json!({"competency_id": c, "rating": 1 + (n % 4), "evidence": evidence(&format!("{} on {c}", s.email))})).collect::<Vec<_>>(),
            "vote": vote,
            "summary": format!("Summary by {}", s.email),
        })
    }

    pub async fn draft(&self, s: &Session, interview: Uuid, vote: &str) -> (StatusCode, Value) {
        let body = self.complete_draft(s, interview, vote).await;
        self.put(&format!("/interviews/{interview}/feedback"), s, body)
            .await
    }

    pub async fn seal(&self, s: &Session, interview: Uuid) -> (StatusCode, Value) {
        self.post(
            &format!("/interviews/{interview}/feedback/seal"),
            s,
            json!({}),
        )
        .await
    }

    /// Drafts and seals in one go; panics unless both succeed.
    pub async fn draft_and_seal(&self, s: &Session, interview: Uuid, vote: &str) -> Value {
        let (status, body) = self.draft(s, interview, vote).await;
        assert_eq!(status, StatusCode::OK, "draft: {body}");
        let (status, body) = self.seal(s, interview).await;
        assert_eq!(status, StatusCode::OK, "seal: {body}");
        body
    }

    /// Seals every voter's feedback with `vote`, opens the debrief as the
    /// Bar Raiser and records `outcome` as the hiring manager; panics
    /// unless each step succeeds. Returns the loop as the decision left it
    /// (a hire waits for the Bar Raiser: `pending_bar_raiser`).
    pub async fn seal_all_and_decide(&self, setup: &LoopSetup, vote: &str, outcome: &str) -> Value {
        let cast = &setup.cast;
        for s in cast.voters() {
            self.draft_and_seal(s, setup.interview_of(s), vote).await;
        }
        let lp = |suffix: &str| format!("/loops/{}{suffix}", setup.loop_id);
        let (status, l) = self
            .post(&lp("/debrief"), &cast.bar_raiser, json!({}))
            .await;
        assert_eq!(status, StatusCode::OK, "{l}");
        let (status, l) = self
            .post(
                &lp("/decision"),
                &cast.hiring_manager,
                json!({"outcome": outcome, "rationale": "Decided on the written evidence."}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{l}");
        l
    }

    /// Verifies a loop's chain as its recruiter.
    pub async fn verify_chain(&self, s: &Session, loop_id: Uuid) -> Value {
        let (status, v) = self.get(&format!("/loops/{loop_id}/audit/verify"), s).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        v
    }
}
