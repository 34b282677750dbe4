//! Accounts: admins manage them, recruiters may look them up, everyone
//! reads themselves.

use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::AuthUser;
use crate::db::{self, audit::ORG_CHAIN, models::UserRow, users::UserChanges};
use crate::domain::scopes::{self, AccountWrite};
use crate::domain::{AccountRole, accounts};
use crate::error::{AppError, AppResult, FieldError, Problem};
use crate::notify::{self, Notice, Recipient};
use crate::workflows::pagination::{Page, PageRequest};

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

impl TryFrom<UserRow> for User {
    type Error = AppError;
    fn try_from(r: UserRow) -> AppResult<User> {
        Ok(User {
            id: db::uuid(&r.id),
            role: db::parse_enum(&r.role)?,
            email: r.email,
            name: r.name,
            bar_raiser_certified: r.bar_raiser_certified,
            active: r.active,
            created_at: db::from_db(r.created_at),
            updated_at: db::from_db(r.updated_at),
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub email: String,
    pub name: String,
    /// 12 to 1024 characters (a passphrase of several words is best); not
    /// a common or breached password, not a run or repeat of characters,
    /// not built from the name or email (NIST SP 800-63B).
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
    pub name: Option<String>,
    pub role: Option<AccountRole>,
    pub bar_raiser_certified: Option<bool>,
    /// `false` deactivates the account and ends all its sessions.
    pub active: Option<bool>,
    /// Setting another person's password (or email) ends all their
    /// sessions, tells them by mail (at the old address too), and is
    /// recorded in the audit chain of every open loop they take part in
    /// (`account.changed_by_operator`). Service tokens never set one.
    pub password: Option<String>,
    /// A corrected address; for another person, marked as `password` is.
    pub email: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Items per page, 1 to 200 (default 50).
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

fn check(errors: &mut Vec<FieldError>, v: Option<crate::domain::Violation>) {
    if let Some(v) = v {
        errors.push(v.into());
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

/// Creates an account row and its audit event; shared by the API,
/// `create-admin` and first-start bootstrap.
pub fn insert_user(conn: &mut db::DbConn, actor: Option<Uuid>, new: NewUser) -> AppResult<UserRow> {
    let at = db::to_db(db::now());
    let row = UserRow {
        id: Uuid::new_v4().to_string(),
        email: new.email.trim().to_string(),
        email_lower: new.email.trim().to_lowercase(),
        name: new.name.trim().to_string(),
        password_hash: new.password_hash,
        role: new.role.as_str().into(),
        bar_raiser_certified: new.bar_raiser_certified,
        active: new.active,
        created_at: at,
        updated_at: at,
        session_epoch: 0,
    };
    db::users::insert(conn, &row).map_err(|e| match AppError::from(e) {
        AppError::Conflict { .. } => {
            AppError::conflict("email_taken", "an account with this email exists")
        }
        other => other,
    })?;
    db::audit::append(
        conn,
        ORG_CHAIN,
        actor,
        "user.created",
        Some(&row.id),
        &serde_json::json!({"role": row.role, "bar_raiser_certified": row.bar_raiser_certified, "active": row.active}),
    )?;
    Ok(row)
}

/// Create an account (admins).
#[utoipa::path(
    tag = "users",
    operation_id = "create_user",
    request_body = CreateUser,
    security(("bearer" = [])),
    responses(
        (status = 201, body = User),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin; or a service token over its ceiling (`token_privilege_ceiling`: an admin account or a password)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Email taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/users")]
pub async fn create(
    state: web::Data<AppState>,
    me: AuthUser,
    body: web::Json<CreateUser>,
) -> AppResult<HttpResponse> {
    me.require_admin()?;
    let req = body.into_inner();
    if me.is_service() {
        scopes::token_may(AccountWrite::Create { role: req.role })?;
    }
    let mut errors = Vec::new();
    check(
        &mut errors,
        accounts::email_problem("email", req.email.trim()),
    );
    check(
        &mut errors,
        accounts::text_problem("name", &req.name, accounts::NAME_MAX_CHARS),
    );
    check(
        &mut errors,
        accounts::password_problem(&req.password, &req.email, &req.name),
    );
    if !errors.is_empty() {
        return Err(AppError::validation(errors));
    }
    let hash = state.passwords.hash(req.password.clone()).await?;
    let row = state
        .db
        .write(move |conn| {
            insert_user(
                conn,
                Some(me.id),
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
    Ok(HttpResponse::Created().json(User::try_from(row)?))
}

/// List accounts, newest first (admins and recruiters).
#[utoipa::path(
    tag = "users",
    operation_id = "list_users",
    params(UserQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Page<User>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users")]
pub async fn list(
    state: web::Data<AppState>,
    me: AuthUser,
    query: web::Query<UserQuery>,
) -> AppResult<HttpResponse> {
    me.require_recruiter_or_admin()?;
    let page = PageRequest::parse(query.limit, query.cursor.as_deref())?;
    let p = page.clone();
    let rows = state
        .db
        .run(move |conn| Ok(db::users::page(conn, p.after.clone(), p.fetch())?))
        .await?;
    let mut items = Vec::new();
    let page = Page::from_rows(rows, &page, |r| (r.created_at, r.id.clone()), |r| r);
    for r in page.items {
        items.push(User::try_from(r)?);
    }
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor: page.next_cursor,
    }))
}

/// Read an account (admins and recruiters; anyone for themselves).
#[utoipa::path(
    tag = "users",
    operation_id = "get_user",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, body = User),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let id = id.into_inner();
    if id != me.id {
        me.require_recruiter_or_admin()?;
    }
    let row = state
        .db
        .run(move |conn| db::users::by_id(conn, &id.to_string())?.ok_or(AppError::NotFound))
        .await?;
    Ok(super::preconditions::ok(row.updated_at).json(User::try_from(row)?))
}

/// Change an account (admins). Deactivating ends its sessions at once.
#[utoipa::path(
    tag = "users",
    operation_id = "update_user",
    params(("id" = Uuid, Path)),
    request_body = UpdateUser,
    security(("bearer" = [])),
    responses(
        (status = 200, body = User),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin; or a service token over its ceiling (`token_privilege_ceiling`: an admin account, a role of admin, or a password)", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`cannot_demote_self`: an admin cannot demote or deactivate themselves; `email_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/users/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    me: AuthUser,
    id: web::Path<Uuid>,
    if_match: super::preconditions::IfMatch,
    body: web::Json<UpdateUser>,
) -> AppResult<HttpResponse> {
    me.require_admin()?;
    let id = id.into_inner();
    let req = body.into_inner();
    let mut errors = Vec::new();
    if let Some(name) = &req.name {
        check(
            &mut errors,
            accounts::text_problem("name", name, accounts::NAME_MAX_CHARS),
        );
    }
    if let Some(email) = &req.email {
        check(&mut errors, accounts::email_problem("email", email.trim()));
    }
    if !errors.is_empty() {
        return Err(AppError::validation(errors));
    }
    let target = id.to_string();
    let existing = state
        .db
        .run(move |conn| db::users::by_id(conn, &target)?.ok_or(AppError::NotFound))
        .await?;
    if me.is_service() {
        scopes::token_may(AccountWrite::Update {
            target: db::parse_enum(&existing.role)?,
            new_role: req.role,
            sets_password: req.password.is_some(),
        })?;
    }
    if id == me.id
        && (req.active == Some(false) || req.role.is_some_and(|r| r != AccountRole::Admin))
    {
        return Err(AppError::conflict(
            "cannot_demote_self",
            "an admin cannot deactivate or demote their own account",
        ));
    }
    let email = req
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| e.to_lowercase() != existing.email_lower)
        .map(str::to_string);
    let password_hash = match &req.password {
        Some(p) => {
            let address = email.as_deref().unwrap_or(&existing.email);
            if let Some(v) = accounts::password_problem(
                p,
                address,
                req.name.as_deref().unwrap_or(&existing.name),
            ) {
                return Err(AppError::validation(vec![v.into()]));
            }
            Some(state.passwords.hash(p.clone()).await?)
        }
        None => None,
    };
    // Another person's credentials or address changed by an operator: the
    // marks that keep it from passing unseen (see SECURITY.md).
    let mut changed = Vec::new();
    if id != me.id {
        if password_hash.is_some() {
            changed.push("password");
        }
        if email.is_some() {
            changed.push("email");
        }
    }
    let public_url = state.config.public_url.clone();
    let row = state
        .db
        .write(move |conn| {
            let operator_change = !changed.is_empty();
            let now_row = db::users::by_id(conn, &id.to_string())?.ok_or(AppError::NotFound)?;
            if_match.check(now_row.updated_at)?;
            let changes = UserChanges {
                name: req.name.as_ref().map(|n| n.trim().to_string()),
                role: req.role.map(|r| r.as_str().to_string()),
                bar_raiser_certified: req.bar_raiser_certified,
                active: req.active,
                password_hash: password_hash.clone(),
                email: email.clone(),
                email_lower: email.as_ref().map(|e| e.to_lowercase()),
                session_epoch: operator_change.then_some(existing.session_epoch + 1),
                updated_at: Some(db::to_db(db::now())),
            };
            let row =
                db::users::update(conn, &existing.id, &changes).map_err(
                    |e| match AppError::from(e) {
                        AppError::Conflict { .. } => {
                            AppError::conflict("email_taken", "an account with this email exists")
                        }
                        other => other,
                    },
                )?;
            if req.active == Some(false) || password_hash.is_some() || operator_change {
                db::users::revoke_all_for_user(conn, &row.id)?;
            }
            db::audit::append(
                conn,
                ORG_CHAIN,
                Some(me.id),
                "user.updated",
                Some(&row.id),
                &serde_json::json!({
                    "role": req.role,
                    "bar_raiser_certified": req.bar_raiser_certified,
                    "active": req.active,
                    "name_changed": req.name.is_some(),
                    "password_changed": password_hash.is_some(),
                    "email_changed": email.is_some(),
                }),
            )?;
            if operator_change {
                mark_operator_change(conn, &public_url, &me, &existing, &row, &changed)?;
            }
            Ok(row)
        })
        .await?;
    Ok(HttpResponse::Ok().json(User::try_from(row)?))
}

/// The marks of an operator's change to another person's password or
/// email, in the change's transaction: the event `account.changed_by_operator`
/// (payload: the user id and what changed, never a secret or an address) in
/// the org chain and in the chain of every loop the person takes part in
/// that is not decided or cancelled, and a mail to them, at the old address
/// too when the address changed. Their sessions end with the epoch move.
fn mark_operator_change(
    conn: &mut db::DbConn,
    public_url: &str,
    operator: &AuthUser,
    before: &UserRow,
    after: &UserRow,
    changed: &[&str],
) -> AppResult<()> {
    let payload = serde_json::json!({"user_id": after.id, "changed": changed});
    let mut chains = vec![ORG_CHAIN.to_string()];
    chains.extend(db::users::open_loops_of(conn, &after.id)?);
    for chain in &chains {
        db::audit::append(
            conn,
            chain,
            Some(operator.id),
            "account.changed_by_operator",
            Some(&after.id),
            &payload,
        )?;
    }
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
    let notice = Notice::AccountChangedByOperator {
        operator: operator.name.clone(),
        changed: changed.iter().map(|c| c.to_string()).collect(),
        at: db::now(),
    };
    notify::enqueue_personal(conn, public_url, &to, &notice)
}

/// The signed-in user.
#[utoipa::path(
    tag = "users",
    operation_id = "get_me",
    security(("bearer" = [])),
    responses(
        (status = 200, body = User),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me")]
pub async fn current(state: web::Data<AppState>, me: AuthUser) -> AppResult<HttpResponse> {
    let id = me.id.to_string();
    let row = state
        .db
        .run(move |conn| db::users::by_id(conn, &id)?.ok_or(AppError::NotFound))
        .await?;
    Ok(HttpResponse::Ok().json(User::try_from(row)?))
}
