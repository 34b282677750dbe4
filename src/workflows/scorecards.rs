//! The scorecard export: sealed feedback of decided loops in the shape of the
//! Greenhouse Harvest scorecard object, for applicant-tracking systems.
//! Who may read which loops is `domain::export`; every scorecard served is
//! logged in the read log like any other read of someone's feedback.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::pagination::{Page, PageRequest};
use super::{Actor, AppState};
use crate::db::export::ScorecardFilter;
use crate::db::models::{FeedbackRow, ReadRow, UserRow};
use crate::db::{self, CompetencyId, DbConn, FeedbackId, InterviewId, LoopId, UserId};
use crate::domain::export::{self, ExportScope, ScorecardRating};
use crate::domain::{Rating, ReadVia, Vote};
use crate::error::{AppError, AppResult, FieldError};

/// What the read log says about a read through the export.
pub const READ_REASON: &str = "scorecard export";

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ScorecardQuery {
    /// Only scorecards changed strictly after this RFC 3339 time (e.g.
    /// `2026-05-01T00:00:00Z`): pass the largest `updated_at` of your last
    /// sync.
    #[param(value_type = Option<String>, format = DateTime)]
    pub updated_after: Option<String>,
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A person as Greenhouse names them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScorecardUser {
    pub id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub name: String,
    /// Always null: there are no employee ids here.
    pub employee_id: Option<String>,
}

/// One competency's rating.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScorecardAttribute {
    /// The competency.
    pub name: String,
    /// Always `Competency`.
    #[serde(rename = "type")]
    pub type_: String,
    pub rating: ScorecardRating,
    /// The written evidence.
    pub note: String,
}

/// Competency names by rating word (`mixed` is always empty: the scale has
/// no middle).
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ScorecardRatings {
    pub definitely_not: Vec<String>,
    pub no: Vec<String>,
    pub mixed: Vec<String>,
    pub yes: Vec<String>,
    pub strong_yes: Vec<String>,
}

/// A free-text answer: the summary first (no id), then each addendum (its
/// id), oldest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScorecardQuestion {
    pub id: Option<Uuid>,
    pub question: String,
    pub answer: String,
}

/// One sealed feedback, shaped like a Greenhouse Harvest scorecard.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Scorecard {
    /// The feedback id.
    pub id: Uuid,
    pub candidate_id: Uuid,
    /// The loop: the candidate's application to this position.
    pub application_id: Uuid,
    /// The interview's name: position and competencies.
    pub interview: String,
    /// When the interview started.
    pub interviewed_at: DateTime<Utc>,
    /// When the feedback was sealed.
    pub submitted_at: DateTime<Utc>,
    pub interviewer: ScorecardUser,
    /// The author: always the interviewer.
    pub submitted_by: ScorecardUser,
    /// The sealed vote (debrief re-votes are not scorecards).
    pub overall_recommendation: ScorecardRating,
    /// In the order the competencies were assigned.
    pub attributes: Vec<ScorecardAttribute>,
    pub ratings: ScorecardRatings,
    pub questions: Vec<ScorecardQuestion>,
    pub created_at: DateTime<Utc>,
    /// The later of the loop's decision and the newest addendum: a
    /// scorecard enters the export when its loop is decided.
    pub updated_at: DateTime<Utc>,
}

fn person(users: &HashMap<UserId, UserRow>, id: UserId) -> ScorecardUser {
    let name = users.get(&id).map(|u| u.name.clone()).unwrap_or_default();
    let (first_name, last_name) = export::split_name(&name);
    ScorecardUser {
        id: id.into(),
        first_name,
        last_name,
        name,
        employee_id: None,
    }
}

/// Builds the page's scorecards from their feedback rows, loading what
/// they mention in a handful of queries.
fn scorecards(
    conn: &mut DbConn,
    rows: &[(FeedbackRow, NaiveDateTime)],
) -> AppResult<Vec<Scorecard>> {
    let ids: Vec<FeedbackId> = rows.iter().map(|(f, _)| f.id).collect();
    let mut loop_ids: Vec<LoopId> = rows.iter().map(|(f, _)| f.loop_id).collect();
    loop_ids.sort_unstable();
    loop_ids.dedup();
    let interview_ids: Vec<InterviewId> = rows.iter().map(|(f, _)| f.interview_id).collect();
    let author_ids: Vec<UserId> = rows.iter().map(|(f, _)| f.author_id).collect();

    let loops: HashMap<LoopId, _> = db::export::loops_by_ids(conn, &loop_ids)?
        .into_iter()
        .map(|l| (l.id, l))
        .collect();
    let interviews: HashMap<InterviewId, _> = db::export::interviews_by_ids(conn, &interview_ids)?
        .into_iter()
        .map(|i| (i.id, i))
        .collect();
    let order = db::loops::competency_links(conn, &interview_ids)?;
    let competency_ids: Vec<CompetencyId> = order.values().flatten().copied().collect();
    let competencies = db::catalog::competencies_by_ids(conn, &competency_ids)?;
    let users = db::catalog::users_by_ids(conn, &author_ids)?;
    let mut ratings = db::feedback::ratings(conn, &ids)?;
    let recorded = db::audit::seal_receipts(conn, &loop_ids)?;
    for (f, _) in rows {
        let rs = ratings.get(&f.id).map(Vec::as_slice).unwrap_or_default();
        crate::workflows::feedback::check_receipt(f, rs, recorded.get(&f.id))?;
    }
    let mut addenda = db::feedback::addenda(conn, &ids)?;

    let mut out = Vec::with_capacity(rows.len());
    for (f, updated_at) in rows {
        let (Some(lp), Some(interview)) = (loops.get(&f.loop_id), interviews.get(&f.interview_id))
        else {
            return Err(AppError::Internal(anyhow::anyhow!(
                "feedback {} lost its loop or interview",
                f.id
            )));
        };
        if !export::exported(interview.loop_role) {
            continue;
        }
        let assigned = order.get(&f.interview_id).cloned().unwrap_or_default();
        let name_of = |c: &CompetencyId| {
            competencies
                .get(c)
                .map(|c| c.name.clone())
                .unwrap_or_default()
        };
        let mut rated = ratings.remove(&f.id).unwrap_or_default();
        rated.sort_by_key(|r| {
            assigned
                .iter()
                .position(|c| *c == r.competency_id)
                .unwrap_or(usize::MAX)
        });
        let mut buckets = ScorecardRatings::default();
        let mut attributes = Vec::new();
        // A sealed feedback rates every assigned competency with evidence
        // (checked at the seal), so nothing is skipped in practice.
        for r in rated {
            let Some(rating) = r.rating.and_then(|v| Rating::new(i64::from(v))) else {
                continue;
            };
            let word = export::rating_word(rating);
            let name = name_of(&r.competency_id);
            match word {
                ScorecardRating::DefinitelyNot => buckets.definitely_not.push(name.clone()),
                ScorecardRating::No => buckets.no.push(name.clone()),
                ScorecardRating::Yes => buckets.yes.push(name.clone()),
                ScorecardRating::StrongYes => buckets.strong_yes.push(name.clone()),
            }
            attributes.push(ScorecardAttribute {
                name,
                type_: "Competency".into(),
                rating: word,
                note: r.evidence.unwrap_or_default(),
            });
        }
        let vote: Vote = f.vote.ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!("sealed feedback {} has no vote", f.id))
        })?;
        let mut questions = vec![ScorecardQuestion {
            id: None,
            question: "Summary".into(),
            answer: f.summary.clone().unwrap_or_default(),
        }];
        for a in addenda.remove(&f.id).unwrap_or_default() {
            questions.push(ScorecardQuestion {
                id: Some(a.id.into()),
                question: format!(
                    "Addendum ({})",
                    db::from_db(a.created_at).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
                answer: a.text,
            });
        }
        let interview_name = format!(
            "{} interview: {}",
            lp.position,
            assigned.iter().map(name_of).collect::<Vec<_>>().join(", ")
        );
        let author = person(&users, f.author_id);
        out.push(Scorecard {
            id: f.id.into(),
            candidate_id: lp.candidate_id.into(),
            application_id: lp.id.into(),
            interview: interview_name,
            interviewed_at: db::from_db(interview.starts_at),
            submitted_at: db::from_db(f.sealed_at.unwrap_or(f.updated_at)),
            interviewer: person(&users, interview.interviewer_id),
            submitted_by: author,
            overall_recommendation: export::recommendation(vote),
            attributes,
            ratings: buckets,
            questions,
            created_at: db::from_db(f.created_at),
            updated_at: db::from_db(*updated_at),
        });
    }
    Ok(out)
}

fn parse_query(q: &ScorecardQuery) -> AppResult<(PageRequest, Option<NaiveDateTime>)> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref());
    let after = q
        .updated_after
        .as_deref()
        .map(|s| {
            DateTime::parse_from_rfc3339(s.trim())
                .map(|t| t.with_timezone(&Utc).naive_utc())
                .map_err(|_| {
                    FieldError::new(
                        "updated_after",
                        "an RFC 3339 time such as 2026-05-01T00:00:00Z",
                    )
                })
        })
        .transpose();
    match (page, after) {
        (Ok(p), Ok(a)) => Ok((p, a)),
        (page, after) => {
            let mut errors = match page {
                Err(AppError::Validation { errors, .. }) => errors,
                Err(other) => return Err(other),
                Ok(_) => Vec::new(),
            };
            errors.extend(after.err());
            Err(AppError::Validation {
                code: "invalid_query",
                detail: "the query string is invalid".into(),
                errors,
            })
        }
    }
}

/// Scorecards of decided loops the caller may export, oldest change
/// first; each one served is logged as a read of that feedback.
pub async fn list(state: &AppState, me: &Actor, q: ScorecardQuery) -> AppResult<Page<Scorecard>> {
    let scope = export::export_scope(me.role).map_err(AppError::forbidden)?;
    let (page, updated_after) = parse_query(&q)?;
    let filter = ScorecardFilter {
        recruiter_id: (scope == ExportScope::OwnLoops).then_some(me.id),
        updated_after,
        after: page.after(),
    };
    let fetch = page.fetch();
    let (rows, cards) = state
        .db
        .run(move |conn| {
            let rows = db::export::scorecards(conn, &filter, fetch)?;
            let cards = scorecards(conn, &rows)?;
            Ok((rows, cards))
        })
        .await?;
    let page: Page<Scorecard> = Page::from_rows(
        rows.into_iter().zip(cards).collect(),
        &page,
        |((f, at), _)| (*at, f.id),
        |(_, card)| card,
    );
    let served: Vec<(FeedbackId, LoopId)> = page
        .items
        .iter()
        .map(|c| (c.id.into(), c.application_id.into()))
        .collect();
    if !served.is_empty() {
        let reader = me.id;
        state
            .db
            .write(move |conn| {
                let at = db::to_db(db::now());
                for (feedback_id, loop_id) in served {
                    crate::workflows::feedback::record_read(
                        conn,
                        &ReadRow {
                            id: Uuid::now_v7().into(),
                            feedback_id,
                            loop_id,
                            reader_id: reader,
                            via: ReadVia::Debrief,
                            reason: Some(READ_REASON.into()),
                            read_at: at,
                        },
                    )?;
                }
                Ok(())
            })
            .await?;
    }
    Ok(page)
}
