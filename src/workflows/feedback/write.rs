//! Writing feedback: drafts, seals, addenda, and excusing an interview that
//! will never be sealed.

use uuid::Uuid;

use crate::db::loops::{InterviewChanges, LoopBundle};
use crate::db::models::{AddendumRow, FeedbackRow, RatingRow};
use crate::db::{self, DbConn, FeedbackId, InterviewId};
use crate::domain::feedback::{self as rules, Content, RatingEntry};
use crate::domain::{Rating, Refusal, StoredFeedbackState, lifecycle, proof};
use crate::error::{AppError, AppResult, FieldError};
use crate::events::feedback::{AddendumProof, FeedbackEvent};
use crate::events::{self, By};
use crate::workflows::preconditions::Tagged;
use crate::workflows::views::{self, Names, Person};
use crate::workflows::{Actor, AppState};

use super::render::{content_of, named_content_of, own_view, own_view_named};
use super::{
    Addendum, AddendumInput, DraftFeedback, Feedback, ReasonInput, assigned, interview_and_loop,
    require_author, stored_state, tagged,
};

/// Saves a draft (the interviewer only), replacing the whole draft; saving
/// the same content again changes nothing. `if_match` (the request's first
/// `If-Match` value) refuses overwriting a newer revision (412).
pub async fn save_draft(
    state: &AppState,
    me: &Actor,
    interview: Uuid,
    if_match: Option<String>,
    req: DraftFeedback,
) -> AppResult<Tagged<Feedback>> {
    let content = parse_draft(&req)?;
    let id = InterviewId::from(interview);
    let (me, by) = (me.clone(), me.by(state));
    state
        .db
        .write(move |conn| {
            let (interview_row, b) = interview_and_loop(conn, id, true)?;
            require_author(&b, &interview_row, &me)?;
            lifecycle::write_feedback(b.row.state)?;
            let existing = b.feedback.get(&id).cloned();
            rules::may_edit(stored_state(existing.as_ref()))?;
            let current = existing.as_ref().map(|r| rules::revision_tag(r.revision));
            if !rules::revision_matches(if_match.as_deref(), current.as_deref()) {
                return Err(AppError::PreconditionFailed);
            }
            let problems = rules::draft_problems(&content, &assigned(&b, id));
            if !problems.is_empty() {
                return Err(Refusal::Invalid(problems).into());
            }
            let loop_id = b.row.id.into();
            let at = db::to_db(db::now());
            // `unchanged`: the stored ratings, when this save says what the
            // draft already says (any order) and so changes nothing.
            let (row, unchanged) = match existing {
                Some(row) => {
                    let (stored, before) = content_of(conn, &row)?;
                    if before.same_as(&content) {
                        (row, Some(stored))
                    } else {
                        let row = FeedbackRow {
                            vote: content.vote,
                            summary: content.summary.clone(),
                            revision: row.revision + 1,
                            updated_at: at,
                            ..row
                        };
                        let summary = row.summary.as_deref();
                        db::feedback::update_draft(
                            conn,
                            row.id,
                            row.vote,
                            summary,
                            row.revision,
                            at,
                        )?;
                        (row, None)
                    }
                }
                None => {
                    let row = FeedbackRow {
                        id: FeedbackId::random(),
                        interview_id: id,
                        loop_id: b.row.id,
                        author_id: me.id,
                        state: StoredFeedbackState::Draft,
                        vote: content.vote,
                        summary: content.summary.clone(),
                        revision: 1,
                        created_at: at,
                        updated_at: at,
                        sealed_at: None,
                        content_sha256: None,
                        receipt_salt: None,
                    };
                    db::feedback::insert(conn, &row)?;
                    (row, None)
                }
            };
            // Saving the same content again changes nothing: the answer is
            // the stored draft, as it was.
            let ratings = match unchanged {
                Some(stored) => stored,
                None => {
                    let ratings = rating_rows(row.id, &content);
                    db::feedback::replace_ratings(conn, row.id, &ratings)?;
                    let event = FeedbackEvent::DraftSaved {
                        loop_id,
                        interview,
                        revision: row.revision,
                    };
                    events::record(conn, &by, event)?;
                    ratings
                }
            };
            let view = own_view(conn, &b, &row, ratings, author(&me))?;
            Ok(tagged(&row, view))
        })
        .await
}

/// Seals the feedback (the interviewer only): it never changes again. The
/// answer carries `sealed_at` and `content_sha256`, a receipt to keep.
pub async fn seal(state: &AppState, me: &Actor, interview: Uuid) -> AppResult<Tagged<Feedback>> {
    let id = InterviewId::from(interview);
    let (me, by) = (me.clone(), me.by(state));
    state
        .db
        .write(move |conn| {
            let (interview_row, b) = interview_and_loop(conn, id, true)?;
            require_author(&b, &interview_row, &me)?;
            lifecycle::write_feedback(b.row.state)?;
            let existing = b.feedback.get(&id).cloned();
            let now = db::now();
            let starts_at = db::from_db(interview_row.starts_at);
            rules::may_seal(stored_state(existing.as_ref()), starts_at, now)?;
            let (ratings, names, content) = match &existing {
                Some(row) => named_content_of(conn, row)?,
                None => Default::default(),
            };
            let problems = rules::seal_problems(&content, &assigned(&b, id));
            if !problems.is_empty() {
                return Err(Refusal::Invalid(problems).into());
            }
            let row = existing.ok_or(AppError::NotFound)?;
            let canonical = rules::canonical_json(interview, me.id.into(), &content, now);
            let sha = rules::sha256_hex(&canonical);
            let salt = proof::new_salt();
            let at = db::to_db(now);
            if !db::feedback::seal(conn, row.id, at, &sha, &salt)? {
                return Err(AppError::conflict(
                    "already_sealed",
                    "this feedback is sealed already",
                ));
            }
            let event = FeedbackEvent::Sealed {
                loop_id: b.row.id.into(),
                interview,
                feedback: row.id.into(),
                content_sha256: sha.clone(),
                sealed_at: now,
                digests: proof::feedback_digests(&salt, &content),
            };
            events::record(conn, &by, event)?;
            // The loop is locked: this seal is its only change since loading,
            // so the bundle is brought up to date here rather than reloaded.
            let row = FeedbackRow {
                state: StoredFeedbackState::Sealed,
                sealed_at: Some(at),
                content_sha256: Some(sha),
                receipt_salt: Some(salt),
                updated_at: at,
                ..row
            };
            let mut b = b;
            b.feedback.insert(id, row.clone());
            announce_if_ready(conn, &by, &b)?;
            let view = own_view_named(&b, &row, ratings, &names, author(&me))?;
            Ok(tagged(&row, view))
        })
        .await
}

/// The caller as the author of their own feedback.
fn author(me: &Actor) -> Person {
    Person {
        id: me.id.into(),
        name: me.name.clone(),
        email: me.email.clone(),
    }
}

/// Adds an addendum to sealed feedback (its author only). Append-only and
/// time-stamped; the sealed content is untouched.
pub async fn add_addendum(
    state: &AppState,
    me: &Actor,
    interview: Uuid,
    req: AddendumInput,
) -> AppResult<Addendum> {
    let text = req.text;
    if let Some(v) = crate::domain::accounts::text_problem("text", &text, rules::TEXT_MAX_CHARS) {
        return Err(AppError::validation(vec![v.into()]));
    }
    let id = InterviewId::from(interview);
    let (me, by) = (me.clone(), me.by(state));
    state
        .db
        .write(move |conn| {
            let (interview_row, b) = interview_and_loop(conn, id, true)?;
            require_author(&b, &interview_row, &me)?;
            let row = b.feedback.get(&id);
            rules::may_add_addendum(stored_state(row))?;
            let row = row.ok_or(AppError::NotFound)?;
            let addendum = Uuid::now_v7();
            let now = db::now();
            let a = AddendumRow {
                id: addendum.into(),
                feedback_id: row.id,
                author_id: me.id,
                text,
                created_at: db::to_db(now),
            };
            db::feedback::insert_addendum(conn, &a)?;
            let proof = match &row.receipt_salt {
                Some(salt) => {
                    AddendumProof::Receipt(proof::addendum_receipt(salt, addendum, &a.text, now))
                }
                None => AddendumProof::Plain {
                    text: a.text.clone(),
                },
            };
            let event = FeedbackEvent::AddendumAdded {
                loop_id: b.row.id.into(),
                interview,
                addendum,
                feedback: row.id.into(),
                proof,
            };
            events::record(conn, &by, event)?;
            Ok(Addendum {
                id: addendum,
                text: a.text,
                created_at: db::from_db(a.created_at),
            })
        })
        .await
}

/// Excuses an interview that will never be sealed (the loop's Bar Raiser,
/// before the debrief), with a reason. It then no longer blocks the debrief.
pub async fn excuse(
    state: &AppState,
    me: &Actor,
    interview: Uuid,
    req: ReasonInput,
) -> AppResult<views::Interview> {
    let reason = req.reason;
    if let Some(v) = rules::excuse_reason_problem(&reason) {
        return Err(AppError::validation(vec![v.into()]));
    }
    let reason = reason.trim().to_string();
    let id = InterviewId::from(interview);
    let (me, by) = (me.clone(), me.by(state));
    state
        .db
        .write(move |conn| {
            let (interview_row, b) = interview_and_loop(conn, id, true)?;
            views::require_visible(&b, &me)?;
            lifecycle::excuse(b.row.state, &views::loop_actor(&b, &me))?;
            rules::may_excuse(views::facts(&b, &interview_row).feedback_state())?;
            let at = db::to_db(db::now());
            let changes = InterviewChanges {
                excused_at: Some(Some(at)),
                excused_by: Some(Some(me.id)),
                excuse_reason: Some(Some(reason.clone())),
                updated_at: Some(at),
                ..Default::default()
            };
            db::loops::update_interview(conn, id, &changes)?;
            let loop_id = b.row.id.into();
            let event = FeedbackEvent::InterviewExcused {
                loop_id,
                interview,
                reason,
            };
            events::record(conn, &by, event)?;
            let b = db::loops::bundle(conn, b.row.id)?.ok_or(AppError::NotFound)?;
            announce_if_ready(conn, &by, &b)?;
            let names = Names::load(conn, &b)?;
            let i = b.interview(id).ok_or(AppError::NotFound)?;
            Ok(views::interview_view(&b, i, &names, db::now()))
        })
        .await
}

/// After a seal or an excuse: when nothing is outstanding any more, the Bar
/// Raiser and hiring manager hear that the debrief can open (once).
/// `b` is the loop as it stands after the change.
pub(super) fn announce_if_ready(conn: &mut DbConn, by: &By, b: &LoopBundle) -> AppResult<()> {
    if !views::ready_for_debrief(b) {
        return Ok(());
    }
    let names = Names::load(conn, b)?;
    let to = [b.row.bar_raiser_id, b.row.hiring_manager_id]
        .into_iter()
        .filter_map(|id| names.recipient(id))
        .collect();
    let event = FeedbackEvent::ReadyForDebrief {
        loop_id: b.row.id.into(),
        to,
        about: names.loop_ref(b),
    };
    events::record(conn, by, event)
}

fn rating_rows(feedback_id: FeedbackId, content: &Content) -> Vec<RatingRow> {
    content
        .ratings
        .iter()
        .map(|r| RatingRow {
            feedback_id,
            competency_id: r.competency_id.into(),
            rating: r.rating.map(Rating::get),
            evidence: r.evidence.clone(),
        })
        .collect()
}

/// Parses a draft into domain content; bad ratings are field errors.
fn parse_draft(req: &DraftFeedback) -> AppResult<Content> {
    let mut errors = Vec::new();
    let ratings = req
        .ratings
        .iter()
        .enumerate()
        .map(|(n, r)| {
            let rating = match r.rating {
                None => None,
                Some(v) => match Rating::new(v) {
                    Some(rt) => Some(rt),
                    None => {
                        errors.push(FieldError::new(
                            format!("ratings[{n}].rating"),
                            "a rating is 1, 2, 3 or 4",
                        ));
                        None
                    }
                },
            };
            if r.evidence.as_deref().is_some_and(|e| e.contains('\0')) {
                errors.push(FieldError::new(
                    format!("ratings[{n}].evidence"),
                    "must not contain NUL",
                ));
            }
            RatingEntry {
                competency_id: r.competency_id,
                rating,
                evidence: r.evidence.clone(),
            }
        })
        .collect();
    if req.summary.as_deref().is_some_and(|s| s.contains('\0')) {
        errors.push(FieldError::new("summary", "must not contain NUL"));
    }
    if errors.is_empty() {
        Ok(Content {
            ratings,
            vote: req.vote,
            summary: req.summary.clone(),
        })
    } else {
        Err(AppError::validation(errors))
    }
}
