//! Accounts: admins manage them, recruiters may look them up, everyone
//! reads themselves. Creating an account is shared with `create-admin`,
//! first-start bootstrap and the demo ([`insert`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::pagination::{Page, PageRequest};
use super::preconditions::{IfMatch, Tagged};
use super::{Actor, AppState};
use crate::db::{self, DbConn, UserId, models::UserRow, users::UserChanges};
use crate::domain::scopes::{self, AccountWrite};
use crate::domain::{AccountRole, Violation, accounts};
use crate::error::{AppError, AppResult, FieldError};
use crate::events::{self, By, accounts::AccountEvent};
use crate::notify::Recipient;

#[derive(Debug, Serialize, ToSchema)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: AccountRole,
    pub bar_raiser_certified: bool,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> User {
        User {
            id: r.id.into(),
            role: r.role,
            email: r.email,
            name: r.name,
            bar_raiser_certified: r.bar_raiser_certified,
            active: r.active,
            created_at: db::from_db(r.created_at),
            updated_at: db::from_db(r.updated_at),
        }
    }
}

fn tagged(row: UserRow) -> Tagged<User> {
    Tagged::at(row.updated_at, User::from(row))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    #[schema(max_length = 254, format = IdnEmail)]
    pub email: String,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub name: String,
    /// 12 to 1024 characters (a passphrase of several words is best); not
    /// a common or breached password, not a run or repeat of characters,
    /// not built from the name or email (NIST SP 800-63B).
    #[schema(min_length = 12, max_length = 1024, format = Password)]
    pub password: String,
    pub role: AccountRole,
    #[serde(default)]
    pub bar_raiser_certified: bool,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
    )]
    pub name: Option<String>,
    pub role: Option<AccountRole>,
    pub bar_raiser_certified: Option<bool>,
    /// `false` deactivates the account and ends all its sessions.
    pub active: Option<bool>,
    /// Setting another person's password (or email) ends all their
    /// sessions, tells them by mail (at the old address too), and is
    /// recorded in the audit chain of every open loop they take part in
    /// (`account.changed_by_operator`). Service tokens never set one.
    #[schema(min_length = 12, max_length = 1024, format = Password)]
    pub password: Option<String>,
    /// A corrected address; for another person, marked as `password` is.
    #[schema(max_length = 254, format = IdnEmail)]
    pub email: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// 422 listing every violation, if any.
fn refuse(problems: impl IntoIterator<Item = Violation>) -> AppResult<()> {
    let errors: Vec<FieldError> = problems.into_iter().map(FieldError::from).collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::validation(errors))
    }
}

fn email_taken(e: diesel::result::Error) -> AppError {
    match AppError::from(e) {
        AppError::Conflict { .. } => {
            AppError::conflict("email_taken", "an account with this email exists")
        }
        other => other,
    }
}

/// An account about to be created, its password already hashed.
pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: String,
    pub role: AccountRole,
    pub bar_raiser_certified: bool,
    pub active: bool,
}

/// Gives the account `role`, as an identity provider decided it (SCIM
/// groups or an SSO claim), and records the change like any other.
pub fn set_role(conn: &mut DbConn, by: &By, id: UserId, role: AccountRole) -> AppResult<UserRow> {
    let changes = UserChanges {
        role: Some(role),
        updated_at: Some(db::to_db(db::now())),
        ..UserChanges::default()
    };
    let user = db::users::update(conn, id, &changes)?;
    events::record(
        conn,
        by,
        AccountEvent::UserUpdated {
            user: id.into(),
            role: Some(role),
            bar_raiser_certified: None,
            active: None,
            name_changed: false,
            password_changed: false,
            email_changed: false,
        },
    )?;
    Ok(user)
}

/// Creates an account and records it, in the caller's transaction: the
/// step [`create`], `create-admin`, first-start bootstrap and the demo
/// share (the last three with `by.actor` `None`, the system).
pub fn insert(conn: &mut DbConn, by: &By, new: NewUser) -> AppResult<UserRow> {
    let at = db::to_db(db::now());
    let id = Uuid::new_v4();
    let row = UserRow {
        id: id.into(),
        email: new.email.trim().to_string(),
        email_lower: new.email.trim().to_lowercase(),
        name: new.name.trim().to_string(),
        password_hash: new.password_hash,
        role: new.role,
        bar_raiser_certified: new.bar_raiser_certified,
        active: new.active,
        created_at: at,
        updated_at: at,
        session_epoch: 0,
    };
    db::users::insert(conn, &row).map_err(email_taken)?;
    if row.bar_raiser_certified {
        super::program::follow_flag(conn, row.id, true)?;
    }
    events::record(
        conn,
        by,
        AccountEvent::UserCreated {
            user: id,
            role: row.role,
            bar_raiser_certified: row.bar_raiser_certified,
            active: row.active,
        },
    )?;
    Ok(row)
}

/// Creates an account (admins; a service token only below its ceiling).
pub async fn create(state: &AppState, me: &Actor, req: CreateUser) -> AppResult<User> {
    me.require_admin()?;
    if me.is_service() {
        scopes::token_may(AccountWrite::Create { role: req.role })?;
    }
    refuse(
        [
            accounts::email_problem("email", req.email.trim()),
            accounts::text_problem("name", &req.name, accounts::NAME_MAX_CHARS),
            accounts::password_problem(&req.password, &req.email, &req.name),
        ]
        .into_iter()
        .flatten(),
    )?;
    let hash = state.passwords.hash(req.password.clone()).await?;
    let by = me.by(state);
    let row = state
        .db
        .write(move |conn| {
            insert(
                conn,
                &by,
                NewUser {
                    email: &req.email,
                    name: &req.name,
                    password_hash: hash,
                    role: req.role,
                    bar_raiser_certified: req.bar_raiser_certified,
                    active: req.active,
                },
            )
        })
        .await?;
    Ok(User::from(row))
}

/// Accounts, newest first (admins and recruiters).
pub async fn list(state: &AppState, me: &Actor, q: UserQuery) -> AppResult<Page<User>> {
    me.require_recruiter_or_admin()?;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let p = page.clone();
    let rows = state
        .db
        .run(move |conn| Ok(db::users::page(conn, p.after(), p.fetch())?))
        .await?;
    Ok(Page::from_rows(
        rows,
        &page,
        |r| (r.created_at, r.id),
        User::from,
    ))
}

async fn by_id(state: &AppState, id: UserId) -> AppResult<UserRow> {
    state
        .db
        .run(move |conn| db::users::by_id(conn, id)?.ok_or(AppError::NotFound))
        .await
}

/// An account (admins and recruiters; anyone for themselves).
pub async fn get(state: &AppState, me: &Actor, id: Uuid) -> AppResult<Tagged<User>> {
    if id != me.id {
        me.require_recruiter_or_admin()?;
    }
    Ok(tagged(by_id(state, id.into()).await?))
}

/// The signed-in person's own account.
pub async fn current(state: &AppState, me: &Actor) -> AppResult<User> {
    Ok(User::from(by_id(state, me.id).await?))
}

/// Changes an account (admins). Deactivating, or setting a password, ends
/// its sessions at once; an operator's change to another person's password
/// or address is marked ([`AccountEvent::ChangedByOperator`]).
pub async fn update(
    state: &AppState,
    me: &Actor,
    id: Uuid,
    if_match: IfMatch,
    req: UpdateUser,
) -> AppResult<User> {
    me.require_admin()?;
    refuse(
        [
            req.name
                .as_deref()
                .and_then(|n| accounts::text_problem("name", n, accounts::NAME_MAX_CHARS)),
            req.email
                .as_deref()
                .and_then(|e| accounts::email_problem("email", e.trim())),
        ]
        .into_iter()
        .flatten(),
    )?;
    let existing = by_id(state, id.into()).await?;
    if me.is_service() {
        scopes::token_may(AccountWrite::Update {
            target: existing.role,
            new_role: req.role,
            sets_password: req.password.is_some(),
        })?;
    }
    if accounts::demotes_self(id == me.id, req.active, req.role) {
        return Err(AppError::conflict(
            "cannot_demote_self",
            "an admin cannot deactivate or demote their own account",
        ));
    }
    let email = accounts::changed_email(req.email.as_deref(), &existing.email_lower);
    let password_hash = match &req.password {
        Some(p) => {
            let address = email.as_deref().unwrap_or(&existing.email);
            let name = req.name.as_deref().unwrap_or(&existing.name);
            refuse(accounts::password_problem(p, address, name))?;
            Some(state.passwords.hash(p.clone()).await?)
        }
        None => None,
    };
    let changed = accounts::operator_marks(id == me.id, password_hash.is_some(), email.is_some());
    let (by, operator) = (me.by(state), me.name.clone());
    let row = state
        .db
        .write(move |conn| {
            let marked = !changed.is_empty();
            let now_row = db::users::by_id(conn, id.into())?.ok_or(AppError::NotFound)?;
            if_match.check(now_row.updated_at)?;
            let changes = UserChanges {
                name: req.name.as_ref().map(|n| n.trim().to_string()),
                role: req.role,
                bar_raiser_certified: req.bar_raiser_certified,
                active: req.active,
                password_hash: password_hash.clone(),
                email: email.clone(),
                email_lower: email.as_ref().map(|e| e.to_lowercase()),
                session_epoch: marked.then_some(existing.session_epoch + 1),
                updated_at: Some(db::to_db(db::now())),
            };
            let mut row = db::users::update(conn, existing.id, &changes).map_err(email_taken)?;
            if let Some(certified) = req.bar_raiser_certified {
                super::program::follow_flag(conn, row.id, certified)?;
                row = db::users::by_id(conn, row.id)?.ok_or(AppError::NotFound)?;
            }
            if accounts::ends_sessions(req.active == Some(false), password_hash.is_some(), marked) {
                db::users::revoke_all_for_user(conn, row.id)?;
            }
            events::record(
                conn,
                &by,
                AccountEvent::UserUpdated {
                    user: id,
                    role: req.role,
                    bar_raiser_certified: req.bar_raiser_certified,
                    active: req.active,
                    name_changed: req.name.is_some(),
                    password_changed: password_hash.is_some(),
                    email_changed: email.is_some(),
                },
            )?;
            if marked {
                let event = operator_change(conn, operator, &existing, &row, changed)?;
                events::record(conn, &by, event)?;
            }
            Ok(row)
        })
        .await?;
    Ok(User::from(row))
}

/// The marks of an operator's change to another person's password or
/// email: the event in the org chain and in the chain of every loop the
/// person takes part in that is not decided or cancelled, and a mail to
/// them, at the old address too when the address changed. (Their sessions
/// end with the epoch move.)
fn operator_change(
    conn: &mut DbConn,
    operator: String,
    before: &UserRow,
    after: &UserRow,
    changed: Vec<&'static str>,
) -> AppResult<AccountEvent> {
    let open_loops = db::users::open_loops_of(conn, after.id)?
        .into_iter()
        .map(Uuid::from)
        .collect();
    let mut to = vec![Recipient {
        email: after.email.clone(),
        name: after.name.clone(),
    }];
    if before.email_lower != after.email_lower {
        to.push(Recipient {
            email: before.email.clone(),
            name: before.name.clone(),
        });
    }
    Ok(AccountEvent::ChangedByOperator {
        user: after.id.into(),
        changed,
        open_loops,
        to,
        operator,
        at: db::now(),
    })
}
