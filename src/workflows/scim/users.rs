//! `/scim/v2/Users`: provisioned people.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::{ListQuery, ScimResult, base, list_response, meta, parse_id, projected, put, require};
use crate::auth::tokens::random_token;
use crate::db::models::{ScimUserRow, UserRow};
use crate::db::scim::Provisioned;
use crate::db::{self, DbConn, ScimGroupId, UserId, users::UserChanges};
use crate::domain::scim::{Attr, Filter, ScimError, USER_SCHEMA, UserFields};
use crate::domain::{AccountRole, accounts};
use crate::error::{AppError, AppResult};
use crate::events::accounts::{AccountEvent, OpenInterview};
use crate::events::{self, By};
use crate::notify::{LoopRef, Recipient};
use crate::workflows::users::{NewUser, insert};
use crate::workflows::{Actor, AppState};

/// Attributes a filter may name.
const FILTERABLE: &[&str] = &[
    "id",
    "username",
    "externalid",
    "displayname",
    "emails",
    "emails.value",
    "name.givenname",
    "name.familyname",
    "active",
];

fn fields_of(scim: &ScimUserRow, user: &UserRow) -> UserFields {
    UserFields {
        user_name: scim.user_name.clone(),
        external_id: scim.external_id.clone(),
        display_name: scim.display_name.clone(),
        given_name: scim.given_name.clone(),
        family_name: scim.family_name.clone(),
        email: user.email.clone(),
        active: user.active,
    }
}

/// The resource as SCIM shows it.
fn resource(base: &str, (scim, user): &Provisioned, groups: &[(ScimGroupId, String)]) -> Value {
    let mut r = Map::new();
    r.insert("schemas".into(), json!([USER_SCHEMA]));
    r.insert("id".into(), json!(user.id));
    put(&mut r, "externalId", scim.external_id.as_ref());
    r.insert("userName".into(), json!(scim.user_name));
    if scim.given_name.is_some() || scim.family_name.is_some() {
        let mut name = Map::new();
        put(&mut name, "givenName", scim.given_name.as_ref());
        put(&mut name, "familyName", scim.family_name.as_ref());
        r.insert("name".into(), Value::Object(name));
    }
    put(&mut r, "displayName", scim.display_name.as_ref());
    r.insert("emails".into(), json!([{"value": user.email}]));
    r.insert("active".into(), json!(user.active));
    if !groups.is_empty() {
        let groups: Vec<Value> = groups
            .iter()
            .map(|(id, name)| json!({"value": id, "$ref": format!("{base}/Groups/{id}"), "display": name}))
            .collect();
        r.insert("groups".into(), json!(groups));
    }
    r.insert(
        "meta".into(),
        meta(
            "User",
            format!("{base}/Users/{}", user.id),
            scim.created_at,
            scim.updated_at.max(user.updated_at),
        ),
    );
    Value::Object(r)
}

/// The values of `attr` (bare, lower-case) for filtering.
fn values(fields: &UserFields, id: UserId, attr: &str) -> Option<Vec<Attr>> {
    let text = |v: &Option<String>, exact| v.clone().map(|s| vec![Attr::Text(s, exact)]);
    match attr {
        "id" => Some(vec![Attr::Text(id.to_string(), true)]),
        "username" => Some(vec![Attr::Text(fields.user_name.clone(), false)]),
        "externalid" => text(&fields.external_id, true),
        "displayname" => text(&fields.display_name, false),
        "emails" | "emails.value" => Some(vec![Attr::Text(fields.email.clone(), false)]),
        "name.givenname" => text(&fields.given_name, false),
        "name.familyname" => text(&fields.family_name, false),
        "active" => Some(vec![Attr::Bool(fields.active)]),
        _ => None,
    }
}

/// Refuses what the account rules refuse of the projection.
fn check_account(fields: &UserFields) -> Result<(), ScimError> {
    let problems: Vec<String> = [
        accounts::email_problem("emails", &fields.email),
        accounts::text_problem("name", &fields.account_name(), accounts::NAME_MAX_CHARS),
    ]
    .into_iter()
    .flatten()
    .map(|v| crate::error::FieldError::from(v).message)
    .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ScimError::bad("invalidValue", problems.join("; ")))
    }
}

fn user_name_taken(conn: &mut DbConn, name: &str, other_than: Option<UserId>) -> AppResult<bool> {
    Ok(
        db::scim::user_by_name(conn, &name.to_lowercase())?
            .is_some_and(|id| Some(id) != other_than),
    )
}

fn email_taken(e: AppError) -> AppError {
    match e {
        AppError::Conflict { .. } => {
            AppError::conflict("email_taken", "an account with this email exists")
        }
        other => other,
    }
}

/// `POST /Users`: provisions a person (a member, until their groups say
/// otherwise). Their password is a random secret nobody holds: they sign
/// in through single sign-on, or an admin sets one.
pub async fn create_user(state: &AppState, me: &Actor, body: Value) -> ScimResult {
    require(me)?;
    let fields = UserFields::from_resource(&body)?;
    check_account(&fields)?;
    let hash = state.passwords.hash(random_token()).await?;
    let (by, base) = (me.by(state), base(state));
    state
        .db
        .write(move |conn| {
            if user_name_taken(conn, &fields.user_name, None)? {
                return Ok(Err(ScimError::uniqueness("userName is taken")));
            }
            if db::users::by_email(conn, &fields.email)?.is_some() {
                return Ok(Err(ScimError::uniqueness(
                    "an account with this email exists",
                )));
            }
            let name = fields.account_name();
            let user = insert(
                conn,
                &by,
                NewUser {
                    email: &fields.email,
                    name: &name,
                    password_hash: hash,
                    role: AccountRole::Member,
                    bar_raiser_certified: false,
                    active: fields.active,
                },
            )?;
            let scim = ScimUserRow {
                user_id: user.id,
                user_name: fields.user_name.clone(),
                user_name_lower: fields.user_name.to_lowercase(),
                external_id: fields.external_id.clone(),
                display_name: fields.display_name.clone(),
                given_name: fields.given_name.clone(),
                family_name: fields.family_name.clone(),
                created_at: user.created_at,
                updated_at: user.updated_at,
            };
            db::scim::insert_user(conn, &scim)?;
            Ok(Ok(resource(&base, &(scim, user), &[])))
        })
        .await?
}

async fn load(
    state: &AppState,
    id: UserId,
) -> Result<(Provisioned, Vec<(ScimGroupId, String)>), ScimError> {
    state
        .db
        .read(move |conn| {
            let found = db::scim::user(conn, id)?;
            Ok(match found {
                Some(p) => Some((p, db::scim::groups_of(conn, id)?)),
                None => None,
            })
        })
        .await?
        .ok_or_else(|| ScimError::not_found(format!("no user {id}")))
}

/// `GET /Users/{id}`.
pub async fn get_user(state: &AppState, me: &Actor, id: &str, query: &ListQuery) -> ScimResult {
    require(me)?;
    let (p, groups) = load(state, parse_id(id, "user")?).await?;
    Ok(projected(
        resource(&base(state), &p, &groups),
        USER_SCHEMA,
        query,
    ))
}

/// `GET /Users` and `POST /Users/.search`.
pub async fn list_users(state: &AppState, me: &Actor, query: ListQuery) -> ScimResult {
    require(me)?;
    let filter = query
        .filter
        .as_deref()
        .map(|f| Filter::parse(f, FILTERABLE))
        .transpose()?;
    let (all, memberships, names) = state
        .db
        .read(|conn| {
            Ok((
                db::scim::users(conn)?,
                db::scim::memberships(conn)?,
                db::scim::groups(conn)?,
            ))
        })
        .await?;
    let base = base(state);
    // Each person's groups, indexed once (not one scan per person).
    let names: HashMap<ScimGroupId, String> =
        names.into_iter().map(|g| (g.id, g.display_name)).collect();
    let mut groups_of: HashMap<UserId, Vec<(ScimGroupId, String)>> = HashMap::new();
    for (g, u) in memberships {
        let name = names.get(&g).cloned().unwrap_or_default();
        groups_of.entry(u).or_default().push((g, name));
    }
    let selected: Vec<Provisioned> = all
        .into_iter()
        .filter(|(s, u)| {
            let fields = fields_of(s, u);
            filter
                .as_ref()
                .is_none_or(|f| f.matches(&|a| values(&fields, u.id, a)))
        })
        .collect();
    Ok(list_response(selected, USER_SCHEMA, &query, |p| {
        let groups = groups_of.get(&p.1.id).map(Vec::as_slice).unwrap_or(&[]);
        resource(&base, &p, groups)
    }))
}

/// `PUT /Users/{id}`: the body replaces the provider's view.
pub async fn replace_user(state: &AppState, me: &Actor, id: &str, body: Value) -> ScimResult {
    require(me)?;
    let id: UserId = parse_id(id, "user")?;
    let fields = UserFields::from_resource(&body)?;
    save(state, me, id, move |_| Ok(fields)).await
}

/// `PATCH /Users/{id}`: operations applied to the provider's view.
pub async fn patch_user(state: &AppState, me: &Actor, id: &str, body: Value) -> ScimResult {
    require(me)?;
    let id: UserId = parse_id(id, "user")?;
    let ops = crate::domain::scim::patch_ops(&body)?;
    save(state, me, id, move |mut fields| {
        fields.apply(&ops)?;
        Ok(fields)
    })
    .await
}

/// Reads the person, asks `change` for their new view, and stores it and
/// its projection on the account in one transaction.
async fn save<F>(state: &AppState, me: &Actor, id: UserId, change: F) -> ScimResult
where
    F: FnOnce(UserFields) -> Result<UserFields, ScimError> + Send + 'static,
{
    let (by, base) = (me.by(state), base(state));
    state
        .db
        .write(move |conn| {
            let Some((scim, user)) = db::scim::user(conn, id)? else {
                return Ok(Err(ScimError::not_found(format!("no user {id}"))));
            };
            let before = fields_of(&scim, &user);
            let after = match change(before.clone()).and_then(|f| check_account(&f).map(|_| f)) {
                Ok(f) => f,
                Err(e) => return Ok(Err(e)),
            };
            if user_name_taken(conn, &after.user_name, Some(id))? {
                return Ok(Err(ScimError::uniqueness("userName is taken")));
            }
            let at = db::to_db(db::now());
            let scim = ScimUserRow {
                user_name: after.user_name.clone(),
                user_name_lower: after.user_name.to_lowercase(),
                external_id: after.external_id.clone(),
                display_name: after.display_name.clone(),
                given_name: after.given_name.clone(),
                family_name: after.family_name.clone(),
                updated_at: at,
                ..scim
            };
            db::scim::update_user(conn, &scim)?;
            let user = project(conn, &by, &user, &after, at).map_err(email_taken);
            let user = match user {
                Ok(u) => u,
                Err(AppError::Conflict { .. }) => {
                    return Ok(Err(ScimError::uniqueness(
                        "an account with this email exists",
                    )));
                }
                Err(e) => return Err(e),
            };
            let groups = db::scim::groups_of(conn, id)?;
            Ok(Ok(resource(&base, &(scim, user), &groups)))
        })
        .await?
}

/// Moves the account to `after`'s name, address and active flag, recording
/// the change; deactivation ends the person's sessions and tokens.
fn project(
    conn: &mut DbConn,
    by: &By,
    user: &UserRow,
    after: &UserFields,
    at: chrono::NaiveDateTime,
) -> AppResult<UserRow> {
    let name = after.account_name();
    let email = (after.email.to_lowercase() != user.email_lower).then(|| after.email.clone());
    let deactivated = user.active && !after.active;
    let changes = UserChanges {
        name: (name != user.name).then(|| name.clone()),
        active: (after.active != user.active).then_some(after.active),
        email: email.clone(),
        email_lower: email.as_ref().map(|e| e.to_lowercase()),
        session_epoch: deactivated.then_some(user.session_epoch + 1),
        updated_at: Some(at),
        ..UserChanges::default()
    };
    let row = db::users::update(conn, user.id, &changes)?;
    events::record(
        conn,
        by,
        AccountEvent::UserUpdated {
            user: user.id.into(),
            role: None,
            bar_raiser_certified: None,
            active: changes.active,
            name_changed: changes.name.is_some(),
            password_changed: false,
            email_changed: email.is_some(),
        },
    )?;
    if deactivated {
        end_access(conn, user.id, at)?;
        let open = open_interviews(conn, user.id)?;
        events::record(
            conn,
            by,
            AccountEvent::Deprovisioned {
                user: user.id.into(),
                name: user.name.clone(),
                open,
            },
        )?;
    }
    Ok(row)
}

/// The person's open interviews, each with its loop and the recruiter to
/// tell (when their account is active).
fn open_interviews(conn: &mut DbConn, id: UserId) -> AppResult<Vec<OpenInterview>> {
    let mut open = Vec::new();
    for (interview, loop_id, starts_at, position, candidate, recruiter) in
        db::scim::open_interviews_of(conn, id)?
    {
        let recruiter = db::users::by_id(conn, recruiter)?
            .filter(|r| r.active)
            .map(|r| Recipient {
                email: r.email,
                name: r.name,
            });
        open.push(OpenInterview {
            interview_id: interview.into(),
            starts_at: db::from_db(starts_at),
            about: LoopRef {
                id: loop_id.into(),
                candidate,
                position,
            },
            recruiter,
        });
    }
    Ok(open)
}

/// Ends everything the person could act with: refresh tokens now (access
/// tokens die with the inactive flag) and the service tokens they made.
fn end_access(conn: &mut DbConn, id: UserId, at: chrono::NaiveDateTime) -> AppResult<()> {
    db::users::revoke_all_for_user(conn, id)?;
    db::scim::revoke_tokens_of(conn, id, at)?;
    Ok(())
}

/// `DELETE /Users/{id}`: deactivates the account and forgets the
/// provider's view of it; its history stays.
pub async fn delete_user(state: &AppState, me: &Actor, id: &str) -> Result<(), ScimError> {
    require(me)?;
    let id: UserId = parse_id(id, "user")?;
    let by = me.by(state);
    state
        .db
        .write(move |conn| {
            let Some((scim, user)) = db::scim::user(conn, id)? else {
                return Ok(Err(ScimError::not_found(format!("no user {id}"))));
            };
            let at = db::to_db(db::now());
            let mut after = fields_of(&scim, &user);
            after.active = false;
            project(conn, &by, &user, &after, at)?;
            db::scim::delete_user(conn, id)?;
            Ok(Ok(()))
        })
        .await?
}

/// Gives each of `people` the role their groups map to (when roles are
/// mapped), recording each change.
pub(super) fn apply_roles(
    conn: &mut DbConn,
    by: &By,
    mapping: &[(String, AccountRole)],
    people: &[UserId],
) -> AppResult<()> {
    if mapping.is_empty() {
        return Ok(());
    }
    for id in people {
        let Some(user) = db::users::by_id(conn, *id)? else {
            continue;
        };
        let groups: Vec<String> = db::scim::groups_of(conn, *id)?
            .into_iter()
            .map(|(_, name)| name)
            .collect();
        let role = crate::domain::scim::role_from_groups(&groups, mapping);
        if role == user.role {
            continue;
        }
        crate::workflows::users::set_role(conn, by, *id, role)?;
    }
    Ok(())
}
