//! Events of loops and their interviews, each on the loop's own chain.
//! Interviewers are mailed about their interviews once the loop is
//! scheduled, each mail with its calendar invitation (an iTIP `REQUEST`,
//! or `CANCEL` when the interview is taken from them, removed or its loop
//! cancelled); participants when it is cancelled; subscribers hear of a
//! scheduled loop by webhook.

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::{Action, Chain, Effects, Mail};
use crate::domain::audit::timestamp;
use crate::domain::ical::Method;
use crate::domain::{InterviewRole, QuickVoteMode};
use crate::notify::invite::Invite;
use crate::notify::webhooks::{LoopScheduledData, Payload};
use crate::notify::{LoopRef, Notice, Recipient};

const LOOP_FIELDS: &[&str] = &[
    "position",
    "level",
    "hiring_manager_id",
    "bar_raiser_id",
    "recruiter_id",
    "feedback_due_hours",
    "required_competency_ids",
    "quick_vote_setting",
];
const INTERVIEW_FIELDS: &[&str] = &[
    "interviewer_id",
    "loop_role",
    "competency_ids",
    "starts_at",
    "duration_minutes",
];

pub const LOOP_CREATED: Action = Action {
    name: "loop.created",
    shows: &[
        "candidate_id",
        "position",
        "level",
        "hiring_manager_id",
        "bar_raiser_id",
        "recruiter_id",
        "feedback_due_hours",
        "required_competency_ids",
        "quick_vote_setting",
    ],
};
pub const LOOP_UPDATED: Action = Action {
    name: "loop.updated",
    shows: LOOP_FIELDS,
};
pub const LOOP_SCHEDULED: Action = Action {
    name: "loop.scheduled",
    shows: &[],
};
pub const LOOP_CANCELLED: Action = Action {
    name: "loop.cancelled",
    shows: &["reason"],
};
pub const INTERVIEW_ADDED: Action = Action {
    name: "interview.added",
    shows: INTERVIEW_FIELDS,
};
pub const INTERVIEW_UPDATED: Action = Action {
    name: "interview.updated",
    shows: INTERVIEW_FIELDS,
};
pub const INTERVIEW_REMOVED: Action = Action {
    name: "interview.removed",
    shows: &["interviewer_id"],
};

pub const ACTIONS: &[&Action] = &[
    &LOOP_CREATED,
    &LOOP_UPDATED,
    &LOOP_SCHEDULED,
    &LOOP_CANCELLED,
    &INTERVIEW_ADDED,
    &INTERVIEW_UPDATED,
    &INTERVIEW_REMOVED,
];

/// An interview as its interviewer's mail and calendar describe it.
#[derive(Debug, Clone)]
pub struct Seat {
    pub to: Recipient,
    pub interview: Uuid,
    pub starts_at: DateTime<Utc>,
    pub duration_minutes: i32,
    /// The calendar entry's SEQUENCE for this message.
    pub sequence: i32,
    /// The loop's recruiter, who organizes the calendar entry.
    pub organizer: Option<Recipient>,
    /// The competencies' names.
    pub competencies: Vec<String>,
}

impl Seat {
    fn invite(&self, method: Method) -> Invite {
        Invite {
            method,
            interview_id: self.interview,
            sequence: self.sequence,
            starts_at: self.starts_at,
            duration_minutes: self.duration_minutes,
            organizer: self.organizer.clone(),
            competencies: self.competencies.clone(),
        }
    }

    fn mail(self, about: &LoopRef, method: Method, notice: Notice) -> Mail {
        Mail::Invite {
            invite: self.invite(method),
            to: self.to,
            about: about.clone(),
            notice,
        }
    }

    fn assigned(self, about: &LoopRef) -> Mail {
        let notice = Notice::InterviewAssigned {
            interview_id: self.interview,
            starts_at: self.starts_at,
            competencies: self.competencies.clone(),
        };
        self.mail(about, Method::Request, notice)
    }

    fn changed(self, about: &LoopRef) -> Mail {
        let notice = Notice::InterviewChanged {
            interview_id: self.interview,
            starts_at: self.starts_at,
            competencies: self.competencies.clone(),
        };
        self.mail(about, Method::Request, notice)
    }

    /// Taken off the interview, or the interview removed.
    fn removed(self, about: &LoopRef) -> Mail {
        let notice = Notice::InterviewRemoved {
            interview_id: self.interview,
        };
        self.mail(about, Method::Cancel, notice)
    }

    fn cancelled(self, about: &LoopRef, reason: &str) -> Mail {
        let notice = Notice::LoopCancelled {
            reason: reason.to_string(),
        };
        self.mail(about, Method::Cancel, notice)
    }
}

/// Who is told by mail about an interview change (nobody before the loop
/// is scheduled).
#[derive(Debug, Default)]
pub struct Told {
    /// The interviewer taken off the interview, with the interview as it
    /// was (and the SEQUENCE of the change).
    pub removed: Option<Seat>,
    /// The interview's (new or same) interviewer.
    pub seat: Option<Seat>,
}

/// A loop's fields as a change records them (`None`: unchanged). Text is
/// recorded as sent.
#[derive(Debug, Default)]
pub struct LoopChange {
    pub position: Option<String>,
    pub level: Option<String>,
    pub hiring_manager_id: Option<Uuid>,
    pub bar_raiser_id: Option<Uuid>,
    pub recruiter_id: Option<Uuid>,
    pub feedback_due_hours: Option<i32>,
    pub required_competency_ids: Option<Vec<Uuid>>,
    pub quick_vote: Option<QuickVoteMode>,
}

/// An interview's fields as a change records them (`None`: unchanged).
#[derive(Debug, Default)]
pub struct InterviewChange {
    pub interviewer_id: Option<Uuid>,
    pub loop_role: Option<InterviewRole>,
    pub competency_ids: Option<Vec<Uuid>>,
    pub starts_at: Option<DateTime<Utc>>,
    pub duration_minutes: Option<i32>,
}

#[derive(Debug)]
pub enum LoopEvent {
    Created {
        loop_id: Uuid,
        candidate_id: Uuid,
        position: String,
        level: String,
        hiring_manager_id: Uuid,
        bar_raiser_id: Uuid,
        recruiter_id: Uuid,
        feedback_due_hours: i32,
        required_competency_ids: Vec<Uuid>,
        quick_vote: QuickVoteMode,
    },
    /// Interviewers are sent updated invitations when what they show
    /// changed (the position, the organizing recruiter) once scheduled.
    Updated {
        loop_id: Uuid,
        change: LoopChange,
        told: Option<(LoopRef, Vec<Seat>)>,
    },
    /// Every interviewer is told of their interview.
    Scheduled {
        loop_id: Uuid,
        candidate_id: Uuid,
        about: LoopRef,
        seats: Vec<Seat>,
    },
    /// Every participant is told, with the reason; interviewers with the
    /// cancellation of their calendar entry.
    Cancelled {
        loop_id: Uuid,
        reason: String,
        about: LoopRef,
        /// Participants other than `seats`.
        participants: Vec<Recipient>,
        seats: Vec<Seat>,
    },
    InterviewAdded {
        loop_id: Uuid,
        interview: Uuid,
        interviewer_id: Uuid,
        loop_role: InterviewRole,
        competency_ids: Vec<Uuid>,
        starts_at: DateTime<Utc>,
        duration_minutes: i32,
        /// The interviewer, told of the assignment once the loop is scheduled.
        told: Option<(LoopRef, Seat)>,
    },
    /// A new interviewer is told of the assignment (and the previous one of
    /// the removal); the same one of the change.
    InterviewUpdated {
        loop_id: Uuid,
        interview: Uuid,
        change: InterviewChange,
        reassigned: bool,
        told: Option<(LoopRef, Told)>,
    },
    InterviewRemoved {
        loop_id: Uuid,
        interview: Uuid,
        interviewer_id: Uuid,
        told: Option<(LoopRef, Seat)>,
    },
}

impl LoopEvent {
    pub fn effects(self) -> Effects {
        let on = |loop_id: Uuid, action, subject: Uuid, payload| {
            Effects::audit(
                Chain::Loop(loop_id),
                action,
                Some(subject.to_string()),
                payload,
            )
        };
        match self {
            LoopEvent::Created {
                loop_id,
                candidate_id,
                position,
                level,
                hiring_manager_id,
                bar_raiser_id,
                recruiter_id,
                feedback_due_hours,
                required_competency_ids,
                quick_vote,
            } => on(
                loop_id,
                &LOOP_CREATED,
                loop_id,
                json!({
                    "quick_vote_setting": quick_vote,
                    "candidate_id": candidate_id,
                    "position": position,
                    "level": level,
                    "hiring_manager_id": hiring_manager_id,
                    "bar_raiser_id": bar_raiser_id,
                    "recruiter_id": recruiter_id,
                    "feedback_due_hours": feedback_due_hours,
                    "required_competency_ids": required_competency_ids,
                }),
            ),
            LoopEvent::Updated {
                loop_id,
                change: c,
                told,
            } => {
                let mut e = on(
                    loop_id,
                    &LOOP_UPDATED,
                    loop_id,
                    json!({
                        "position": c.position,
                        "level": c.level,
                        "hiring_manager_id": c.hiring_manager_id,
                        "bar_raiser_id": c.bar_raiser_id,
                        "recruiter_id": c.recruiter_id,
                        "feedback_due_hours": c.feedback_due_hours,
                        "required_competency_ids": c.required_competency_ids,
                        "quick_vote_setting": c.quick_vote,
                    }),
                );
                if let Some((about, seats)) = told {
                    for seat in seats {
                        e = e.mail(seat.changed(&about));
                    }
                }
                e
            }
            LoopEvent::Scheduled {
                loop_id,
                candidate_id,
                about,
                seats,
            } => {
                let mut e = on(loop_id, &LOOP_SCHEDULED, loop_id, json!({})).webhook(
                    Payload::LoopScheduled(LoopScheduledData {
                        loop_id,
                        candidate_id,
                    }),
                );
                for seat in seats {
                    e = e.mail(seat.assigned(&about));
                }
                e
            }
            LoopEvent::Cancelled {
                loop_id,
                reason,
                about,
                participants,
                seats,
            } => {
                let payload = json!({ "reason": reason });
                let mut e = on(loop_id, &LOOP_CANCELLED, loop_id, payload);
                for seat in seats {
                    e = e.mail(seat.cancelled(&about, &reason));
                }
                if !participants.is_empty() {
                    e = e.mail(Mail::Loop {
                        to: participants,
                        about,
                        notice: Notice::LoopCancelled { reason },
                        once: None,
                    });
                }
                e
            }
            LoopEvent::InterviewAdded {
                loop_id,
                interview,
                interviewer_id,
                loop_role,
                competency_ids,
                starts_at,
                duration_minutes,
                told,
            } => {
                let mut e = on(
                    loop_id,
                    &INTERVIEW_ADDED,
                    interview,
                    json!({
                        "interviewer_id": interviewer_id,
                        "loop_role": loop_role,
                        "competency_ids": competency_ids,
                        "starts_at": timestamp(starts_at),
                        "duration_minutes": duration_minutes,
                    }),
                );
                if let Some((about, seat)) = told {
                    e = e.mail(seat.assigned(&about));
                }
                e
            }
            LoopEvent::InterviewUpdated {
                loop_id,
                interview,
                change: c,
                reassigned,
                told,
            } => {
                let mut e = on(
                    loop_id,
                    &INTERVIEW_UPDATED,
                    interview,
                    json!({
                        "interviewer_id": c.interviewer_id,
                        "loop_role": c.loop_role,
                        "competency_ids": c.competency_ids,
                        "starts_at": c.starts_at.map(timestamp),
                        "duration_minutes": c.duration_minutes,
                    }),
                );
                if let Some((about, told)) = told {
                    if let Some(gone) = told.removed {
                        e = e.mail(gone.removed(&about));
                    }
                    if let Some(seat) = told.seat {
                        e = e.mail(if reassigned {
                            seat.assigned(&about)
                        } else {
                            seat.changed(&about)
                        });
                    }
                }
                e
            }
            LoopEvent::InterviewRemoved {
                loop_id,
                interview,
                interviewer_id,
                told,
            } => {
                let e = on(
                    loop_id,
                    &INTERVIEW_REMOVED,
                    interview,
                    json!({ "interviewer_id": interviewer_id }),
                );
                match told {
                    Some((about, seat)) => e.mail(seat.removed(&about)),
                    None => e,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_recorded_field_is_declared() {
        let id = Uuid::from_u128(7);
        let events = [
            LoopEvent::Created {
                loop_id: id,
                candidate_id: id,
                position: "p".into(),
                level: "l".into(),
                hiring_manager_id: id,
                bar_raiser_id: id,
                recruiter_id: id,
                feedback_due_hours: 24,
                required_competency_ids: vec![],
                quick_vote: QuickVoteMode::Required,
            },
            LoopEvent::Updated {
                loop_id: id,
                change: LoopChange::default(),
                told: None,
            },
            LoopEvent::InterviewAdded {
                loop_id: id,
                interview: id,
                interviewer_id: id,
                loop_role: InterviewRole::Shadow,
                competency_ids: vec![],
                starts_at: Utc::now(),
                duration_minutes: 45,
                told: None,
            },
            LoopEvent::InterviewUpdated {
                loop_id: id,
                interview: id,
                change: InterviewChange::default(),
                reassigned: false,
                told: None,
            },
            LoopEvent::InterviewRemoved {
                loop_id: id,
                interview: id,
                interviewer_id: id,
                told: None,
            },
        ];
        for e in events {
            for entry in e.effects().audit {
                let keys: Vec<&String> = entry.payload.as_object().unwrap().keys().collect();
                assert_eq!(
                    keys.len(),
                    entry.action.shows.len(),
                    "{}",
                    entry.action.name
                );
                for k in keys {
                    assert!(entry.action.shows.contains(&k.as_str()), "{k}");
                }
            }
        }
    }
}
