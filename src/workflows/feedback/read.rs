//! Reads of feedback under the independence rules, the loop listing,
//! break-glass, and the read log.

use uuid::Uuid;

use crate::db::models::{FeedbackRow, ReadRow};
use crate::db::{self, DbConn, InterviewId, LoopId, UserId};
use crate::domain::feedback as rules;
use crate::domain::{ReadVia, visibility};
use crate::error::{AppError, AppResult, FieldError};
use crate::events::{self, By, feedback::FeedbackEvent};
use crate::workflows::preconditions::Tagged;
use crate::workflows::views::{self, Names};

use super::render::{feedback_views, one_view};
use super::{
    BreakGlassInput, Feedback, FeedbackEntry, LoopFeedback, debrief_opened, interview_and_loop,
    stored_state, tagged,
};
use crate::workflows::{Actor, AppState};

/// One interview's feedback. Its author always may read it; others only as
/// the independence rules allow, and every such read is logged.
pub async fn get(state: &AppState, me: &Actor, interview: Uuid) -> AppResult<Tagged<Feedback>> {
    let id = InterviewId::from(interview);
    let reader = me.clone();
    let (row, view, via) = state
        .db
        .read(move |conn| {
            let (interview, b) = interview_and_loop(conn, id, false)?;
            views::require_visible(&b, &reader)?;
            let row = b.feedback.get(&id).cloned();
            let who = views::reader(&b, &reader, Some(interview.interviewer_id));
            let via = visibility::content_access(
                &who,
                stored_state(row.as_ref()),
                b.row.state,
                debrief_opened(&b),
            )
            .map_err(AppError::forbidden)?;
            let row = row.ok_or(AppError::NotFound)?;
            let view = one_view(conn, &b, &row)?;
            Ok((row, view, via))
        })
        .await?;
    if let Some(via) = via {
        let (r, reader) = (row.clone(), me.id);
        state
            .db
            .write(move |conn| log_read(conn, &r, reader, via, None))
            .await?;
    }
    Ok(tagged(&row, view))
}

/// Every feedback of a loop: status for all, content only where the same
/// policy as the single read allows; each content read is logged.
pub async fn list_for_loop(state: &AppState, me: &Actor, loop_id: Uuid) -> AppResult<LoopFeedback> {
    let id = LoopId::from(loop_id);
    let reader = me.clone();
    let (listing, reads) = state
        .db
        .read(move |conn| {
            let b = db::loops::bundle(conn, id)?.ok_or(AppError::NotFound)?;
            views::require_visible(&b, &reader)?;
            let loop_state = b.row.state;
            let names = Names::load(conn, &b)?;
            let mut decisions = Vec::new();
            for i in &b.interviews {
                let row = b.feedback.get(&i.id);
                let who = views::reader(&b, &reader, Some(i.interviewer_id));
                let access = visibility::content_access(
                    &who,
                    stored_state(row),
                    loop_state,
                    debrief_opened(&b),
                );
                decisions.push((i, row, access));
            }
            let readable: Vec<&FeedbackRow> = decisions
                .iter()
                .filter_map(|(_, row, d)| d.is_ok().then_some(*row).flatten())
                .collect();
            let mut views_by_interview = feedback_views(conn, &b, &names, &readable)?;
            let mut reads = Vec::new();
            let mut items = Vec::new();
            for (i, row, decision) in decisions {
                let f = views::facts(&b, i);
                let (feedback, withheld) = match (decision, row) {
                    (Ok(via), Some(row)) => {
                        if let Some(via) = via {
                            reads.push((row.clone(), via));
                        }
                        (views_by_interview.remove(&i.id), None)
                    }
                    (Ok(_), None) => (None, None),
                    (Err(code), _) => (None, Some(code.to_string())),
                };
                items.push(FeedbackEntry {
                    interview_id: f.id,
                    interviewer: names.person(i.interviewer_id),
                    loop_role: f.role,
                    feedback_state: f.feedback_state(),
                    sealed_at: row.and_then(|r| r.sealed_at).map(db::from_db),
                    feedback,
                    withheld,
                });
            }
            let listing = LoopFeedback {
                loop_id: b.row.id.into(),
                state: loop_state,
                items,
            };
            Ok((listing, reads))
        })
        .await?;
    if !reads.is_empty() {
        let reader = me.id;
        state
            .db
            .write(move |conn| {
                for (row, via) in &reads {
                    log_read(conn, row, reader, *via, None)?;
                }
                Ok(())
            })
            .await?;
    }
    Ok(listing)
}

/// An admin's break-glass read of sealed feedback, with a reason (20 to
/// 2000 characters). Written to the audit chain and the read log; the
/// loop's Bar Raiser is told.
pub async fn break_glass(
    state: &AppState,
    me: &Actor,
    interview: Uuid,
    req: BreakGlassInput,
) -> AppResult<Tagged<Feedback>> {
    me.require_admin()?;
    let reason = req.reason.trim().to_string();
    if let Some(problem) = rules::break_glass_reason_problem(&reason) {
        return Err(AppError::validation(vec![FieldError::new(
            "reason", problem,
        )]));
    }
    let id = InterviewId::from(interview);
    let (me, by) = (me.clone(), me.by(state));
    state
        .db
        .write(move |conn| {
            let (_, b) = interview_and_loop(conn, id, true)?;
            let row = b.feedback.get(&id).cloned();
            let via =
                visibility::break_glass(me.role, stored_state(row.as_ref())).map_err(|code| {
                    match code {
                        "admin_only" => AppError::forbidden(code),
                        _ => AppError::conflict(
                            code,
                            "only sealed feedback can be read, even through break-glass",
                        ),
                    }
                })?;
            let row = row.ok_or(AppError::NotFound)?;
            // The read log's chain event (`feedback.break_glass_read`) is the audit entry.
            log_read(conn, &row, me.id, via, Some(&reason))?;
            let names = Names::load(conn, &b)?;
            if let Some(to) = names.recipient(b.row.bar_raiser_id) {
                let event = FeedbackEvent::BreakGlassNoticed {
                    to: vec![to],
                    about: names.loop_ref(&b),
                    interview,
                    admin: me.name.clone(),
                };
                events::record(conn, &by, event)?;
            }
            let view = feedback_views(conn, &b, &names, &[&row])?
                .remove(&id)
                .ok_or(AppError::NotFound)?;
            Ok(tagged(&row, view))
        })
        .await
}

/// Logs `reader`'s read of `row`'s feedback, allowed `via`.
pub fn log_read(
    conn: &mut DbConn,
    row: &FeedbackRow,
    reader: UserId,
    via: ReadVia,
    reason: Option<&str>,
) -> AppResult<()> {
    record_read(
        conn,
        &ReadRow {
            id: Uuid::now_v7().into(),
            feedback_id: row.id,
            loop_id: row.loop_id,
            reader_id: reader,
            via,
            reason: reason.map(str::to_string),
            read_at: db::to_db(db::now()),
        },
    )
}

/// Logs a read of someone else's feedback: the read-log row and, in the
/// same transaction, its event in the loop's audit chain with a receipt of
/// the row, so that an edited, deleted or invented read-log row fails
/// `verify` (rule 8). This is the only way a read is logged.
pub fn record_read(conn: &mut DbConn, row: &ReadRow) -> AppResult<()> {
    db::feedback::insert_read(conn, row)?;
    let read = db::feedback::read_facts(row);
    // A read sends no mail, so no links need a public address.
    let by = By {
        actor: Some(read.reader),
        public_url: String::new(),
    };
    let loop_id = row.loop_id.into();
    events::record(conn, &by, FeedbackEvent::Read { loop_id, read })
}
