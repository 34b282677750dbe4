//! Events of accounts and integrations: people's accounts, an operator's
//! change to another person's credentials, service tokens and webhook
//! subscriptions. All go to the organisation's chain; an operator's change
//! also to the chain of every open loop the person takes part in.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{Action, Chain, Effects, Entry, Mail};
use crate::domain::AccountRole;
use crate::notify::{LoopRef, Notice, Recipient};

pub const USER_CREATED: Action = Action {
    name: "user.created",
    shows: &[],
};
pub const USER_UPDATED: Action = Action {
    name: "user.updated",
    shows: &[],
};
pub const ACCOUNT_CHANGED_BY_OPERATOR: Action = Action {
    name: "account.changed_by_operator",
    shows: &["user_id", "changed"],
};
pub const USER_DEPROVISIONED: Action = Action {
    name: "user.deprovisioned",
    shows: &["user_id"],
};
pub const INTERVIEWER_DEPROVISIONED: Action = Action {
    name: "interviewer.deprovisioned",
    shows: &["user_id", "interview_id"],
};
pub const SSO_LINKED: Action = Action {
    name: "sso.linked",
    shows: &["user_id"],
};
pub const TOKEN_CREATED: Action = Action {
    name: "token.created",
    shows: &[],
};
pub const TOKEN_REVOKED: Action = Action {
    name: "token.revoked",
    shows: &[],
};
pub const WEBHOOK_CREATED: Action = Action {
    name: "webhook.created",
    shows: &[],
};
pub const WEBHOOK_DELETED: Action = Action {
    name: "webhook.deleted",
    shows: &[],
};
pub const WEBHOOK_SECRET_ROTATED: Action = Action {
    name: "webhook.secret_rotated",
    shows: &["previous_secret_expires_at"],
};

pub const ACTIONS: &[&Action] = &[
    &USER_CREATED,
    &USER_UPDATED,
    &ACCOUNT_CHANGED_BY_OPERATOR,
    &USER_DEPROVISIONED,
    &INTERVIEWER_DEPROVISIONED,
    &SSO_LINKED,
    &TOKEN_CREATED,
    &TOKEN_REVOKED,
    &WEBHOOK_CREATED,
    &WEBHOOK_DELETED,
    &WEBHOOK_SECRET_ROTATED,
];

#[derive(Debug)]
pub enum AccountEvent {
    UserCreated {
        user: Uuid,
        role: AccountRole,
        bar_raiser_certified: bool,
        active: bool,
    },
    /// The fields a change set (`None`: untouched) and whether it changed
    /// the name, the password, the address.
    UserUpdated {
        user: Uuid,
        role: Option<AccountRole>,
        bar_raiser_certified: Option<bool>,
        active: Option<bool>,
        name_changed: bool,
        password_changed: bool,
        email_changed: bool,
    },
    /// An operator changed another person's `changed` (`password`,
    /// `email`): recorded in the org chain and in every chain of
    /// `open_loops`, and told to the person at every address of `to`.
    ChangedByOperator {
        user: Uuid,
        changed: Vec<&'static str>,
        open_loops: Vec<Uuid>,
        to: Vec<Recipient>,
        operator: String,
        at: DateTime<Utc>,
    },
    /// The identity provider deactivated or deleted a provisioned person
    /// (SCIM): recorded in the org chain, and for each interview of theirs
    /// still open, in its loop's chain with a mail to the loop's recruiter.
    Deprovisioned {
        user: Uuid,
        name: String,
        open: Vec<OpenInterview>,
    },
    /// An identity of the OpenID provider was linked to the account, once:
    /// by a verified email matching it (`how`: `verified_email`) or by
    /// just-in-time creation (`jit`). The subject is the provider's opaque
    /// id for the person, which the link is from then on.
    SsoLinked {
        user: Uuid,
        issuer: String,
        subject: String,
        how: &'static str,
    },
    TokenCreated {
        token: Uuid,
        name: String,
        /// As stored: space-separated.
        scopes: String,
    },
    TokenRevoked {
        token: Uuid,
    },
    WebhookCreated {
        webhook: Uuid,
        url: String,
        /// As stored: space-separated.
        event_types: String,
    },
    WebhookDeleted {
        webhook: Uuid,
    },
    /// A new secret; the previous one signs too until it expires. No
    /// secret is recorded.
    WebhookSecretRotated {
        webhook: Uuid,
        previous_secret_expires_at: DateTime<Utc>,
    },
}

/// An interview a deprovisioned person still holds, and whom to tell.
#[derive(Debug, Clone)]
pub struct OpenInterview {
    pub interview_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub about: LoopRef,
    /// The loop's recruiter, unless their own account is inactive.
    pub recruiter: Option<Recipient>,
}

impl AccountEvent {
    pub fn effects(self) -> Effects {
        let org = |action, subject: Uuid, payload: Value| {
            Effects::audit(Chain::Org, action, Some(subject.to_string()), payload)
        };
        match self {
            AccountEvent::UserCreated {
                user,
                role,
                bar_raiser_certified,
                active,
            } => org(
                &USER_CREATED,
                user,
                json!({"role": role, "bar_raiser_certified": bar_raiser_certified, "active": active}),
            ),
            AccountEvent::UserUpdated {
                user,
                role,
                bar_raiser_certified,
                active,
                name_changed,
                password_changed,
                email_changed,
            } => org(
                &USER_UPDATED,
                user,
                json!({
                    "role": role,
                    "bar_raiser_certified": bar_raiser_certified,
                    "active": active,
                    "name_changed": name_changed,
                    "password_changed": password_changed,
                    "email_changed": email_changed,
                }),
            ),
            AccountEvent::ChangedByOperator {
                user,
                changed,
                open_loops,
                to,
                operator,
                at,
            } => {
                let payload = json!({"user_id": user.to_string(), "changed": changed});
                let chains =
                    std::iter::once(Chain::Org).chain(open_loops.into_iter().map(Chain::Loop));
                Effects {
                    audit: chains
                        .map(|chain| Entry {
                            chain,
                            action: &ACCOUNT_CHANGED_BY_OPERATOR,
                            subject: Some(user.to_string()),
                            payload: payload.clone(),
                        })
                        .collect(),
                    ..Effects::default()
                }
                .mail(Mail::Personal {
                    to,
                    notice: Notice::AccountChangedByOperator {
                        operator,
                        changed: changed.iter().map(|c| c.to_string()).collect(),
                        at,
                    },
                })
            }
            AccountEvent::Deprovisioned { user, name, open } => {
                let mut e = org(
                    &USER_DEPROVISIONED,
                    user,
                    json!({"user_id": user.to_string()}),
                );
                for i in open {
                    let payload = json!({
                        "user_id": user.to_string(),
                        "interview_id": i.interview_id.to_string(),
                    });
                    e.audit.push(Entry {
                        chain: Chain::Loop(i.about.id),
                        action: &INTERVIEWER_DEPROVISIONED,
                        subject: Some(user.to_string()),
                        payload,
                    });
                    if let Some(to) = i.recruiter {
                        e = e.mail(Mail::Loop {
                            to: vec![to],
                            about: i.about,
                            notice: Notice::InterviewerDeactivated {
                                interviewer: name.clone(),
                                interview_id: i.interview_id,
                                starts_at: i.starts_at,
                            },
                            once: None,
                        });
                    }
                }
                e
            }
            AccountEvent::SsoLinked {
                user,
                issuer,
                subject,
                how,
            } => org(
                &SSO_LINKED,
                user,
                json!({"user_id": user.to_string(), "issuer": issuer, "subject": subject, "how": how}),
            ),
            AccountEvent::TokenCreated {
                token,
                name,
                scopes,
            } => org(
                &TOKEN_CREATED,
                token,
                json!({"name": name, "scopes": scopes}),
            ),
            AccountEvent::TokenRevoked { token } => org(&TOKEN_REVOKED, token, json!({})),
            AccountEvent::WebhookCreated {
                webhook,
                url,
                event_types,
            } => org(
                &WEBHOOK_CREATED,
                webhook,
                json!({"url": url, "event_types": event_types}),
            ),
            AccountEvent::WebhookDeleted { webhook } => org(&WEBHOOK_DELETED, webhook, json!({})),
            AccountEvent::WebhookSecretRotated {
                webhook,
                previous_secret_expires_at,
            } => org(
                &WEBHOOK_SECRET_ROTATED,
                webhook,
                json!({
                    "previous_secret_expires_at":
                        crate::domain::audit::timestamp(previous_secret_expires_at),
                }),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::proof;

    /// Each action shows what today's rule shows of the payload it records.
    #[test]
    fn shows_what_the_policy_shows_of_the_recorded_payload() {
        let id = Uuid::from_u128(7);
        let events = [
            AccountEvent::UserCreated {
                user: id,
                role: AccountRole::Admin,
                bar_raiser_certified: false,
                active: true,
            },
            AccountEvent::UserUpdated {
                user: id,
                role: None,
                bar_raiser_certified: None,
                active: None,
                name_changed: false,
                password_changed: true,
                email_changed: false,
            },
            AccountEvent::ChangedByOperator {
                user: id,
                changed: vec!["password"],
                open_loops: vec![Uuid::from_u128(8)],
                to: vec![],
                operator: "Ann".into(),
                at: Utc::now(),
            },
            AccountEvent::TokenCreated {
                token: id,
                name: "n".into(),
                scopes: "loops:read".into(),
            },
            AccountEvent::TokenRevoked { token: id },
            AccountEvent::Deprovisioned {
                user: id,
                name: "Ann".into(),
                open: vec![OpenInterview {
                    interview_id: Uuid::from_u128(9),
                    starts_at: Utc::now(),
                    about: LoopRef {
                        id: Uuid::from_u128(8),
                        candidate: "C".into(),
                        position: "P".into(),
                    },
                    recruiter: None,
                }],
            },
            AccountEvent::WebhookCreated {
                webhook: id,
                url: "https://x.example".into(),
                event_types: "loop.decided".into(),
            },
            AccountEvent::WebhookDeleted { webhook: id },
            AccountEvent::WebhookSecretRotated {
                webhook: id,
                previous_secret_expires_at: Utc::now(),
            },
        ];
        for e in events {
            for entry in e.effects().audit {
                let mut want: Vec<&str> = entry
                    .payload
                    .as_object()
                    .unwrap()
                    .keys()
                    .map(String::as_str)
                    .filter(|k| proof::may_show(k))
                    .collect();
                let mut got = entry.action.shows.to_vec();
                want.sort_unstable();
                got.sort_unstable();
                assert_eq!(got, want, "{}", entry.action.name);
            }
        }
    }

    #[test]
    fn an_operator_change_marks_every_open_loop_and_mails_the_person() {
        let loops = vec![Uuid::from_u128(2), Uuid::from_u128(3)];
        let fx = AccountEvent::ChangedByOperator {
            user: Uuid::from_u128(1),
            changed: vec!["password", "email"],
            open_loops: loops.clone(),
            to: vec![Recipient {
                email: "a@b.co".into(),
                name: "A".into(),
            }],
            operator: "Op".into(),
            at: Utc::now(),
        }
        .effects();
        let chains: Vec<String> = fx.audit.iter().map(|e| e.chain.key()).collect();
        let mut want = vec![crate::db::audit::ORG_CHAIN.to_string()];
        want.extend(loops.iter().map(Uuid::to_string));
        assert_eq!(chains, want);
        assert_eq!(fx.mail.len(), 1);
        assert!(fx.webhooks.is_empty());
    }
}
