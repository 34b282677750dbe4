//! `/scim/v2/Groups`: groups of provisioned people, whose membership maps
//! to roles by configuration.

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::users::apply_roles;
use super::{ListQuery, ScimResult, base, list_response, meta, parse_id, projected, put, require};
use crate::db::models::ScimGroupRow;
use crate::db::{self, DbConn, ScimGroupId, UserId};
use crate::domain::AccountRole;
use crate::domain::scim::{Attr, Filter, GROUP_SCHEMA, GroupFields, ScimError, TEXT_MAX_CHARS};
use crate::error::AppResult;
use crate::workflows::{Actor, AppState};

const FILTERABLE: &[&str] = &[
    "id",
    "displayname",
    "externalid",
    "members",
    "members.value",
];

fn mapping(state: &AppState) -> Vec<(String, AccountRole)> {
    state
        .config
        .scim_group_roles
        .iter()
        .map(|g| (g.group.clone(), g.role))
        .collect()
}

fn resource(base: &str, group: &ScimGroupRow, members: &[UserId]) -> Value {
    let mut r = Map::new();
    r.insert("schemas".into(), json!([GROUP_SCHEMA]));
    r.insert("id".into(), json!(group.id));
    put(&mut r, "externalId", group.external_id.as_ref());
    r.insert("displayName".into(), json!(group.display_name));
    if !members.is_empty() {
        let members: Vec<Value> = members
            .iter()
            .map(|m| json!({"value": m, "$ref": format!("{base}/Users/{m}")}))
            .collect();
        r.insert("members".into(), json!(members));
    }
    r.insert(
        "meta".into(),
        meta(
            "Group",
            format!("{base}/Groups/{}", group.id),
            group.created_at,
            group.updated_at,
        ),
    );
    Value::Object(r)
}

fn values(group: &ScimGroupRow, members: &[UserId], attr: &str) -> Option<Vec<Attr>> {
    match attr {
        "id" => Some(vec![Attr::Text(group.id.to_string(), true)]),
        "displayname" => Some(vec![Attr::Text(group.display_name.clone(), false)]),
        "externalid" => group.external_id.clone().map(|e| vec![Attr::Text(e, true)]),
        "members" | "members.value" => Some(
            members
                .iter()
                .map(|m| Attr::Text(m.to_string(), true))
                .collect(),
        ),
        _ => None,
    }
}

/// The accounts `fields` names, refused unless each is a provisioned
/// person.
fn resolve_members(
    conn: &mut DbConn,
    fields: &GroupFields,
) -> AppResult<Result<Vec<UserId>, ScimError>> {
    let mut ids = Vec::new();
    for m in &fields.members {
        match uuid::Uuid::parse_str(m) {
            Ok(id) => ids.push(UserId::from(id)),
            Err(_) => {
                return Ok(Err(ScimError::bad(
                    "invalidValue",
                    format!("member {m} is not a user"),
                )));
            }
        }
    }
    ids.sort();
    ids.dedup();
    let known = db::scim::provisioned_among(conn, &ids)?;
    if let Some(missing) = ids.iter().find(|i| !known.contains(i)) {
        return Ok(Err(ScimError::bad(
            "invalidValue",
            format!("member {missing} is not a provisioned user"),
        )));
    }
    Ok(Ok(ids))
}

fn check(fields: &GroupFields) -> Result<(), ScimError> {
    if fields.display_name.chars().count() > TEXT_MAX_CHARS {
        return Err(ScimError::bad("invalidValue", "displayName is too long"));
    }
    Ok(())
}

/// `POST /Groups`.
pub async fn create_group(state: &AppState, me: &Actor, body: Value) -> ScimResult {
    require(me)?;
    let fields = GroupFields::from_resource(&body)?;
    check(&fields)?;
    let (by, base, mapping) = (me.by(state), base(state), mapping(state));
    state
        .db
        .write(move |conn| {
            if db::scim::group_by_name(conn, &fields.display_name.to_lowercase())?.is_some() {
                return Ok(Err(ScimError::uniqueness(
                    "a group with this displayName exists",
                )));
            }
            let members = match resolve_members(conn, &fields)? {
                Ok(m) => m,
                Err(e) => return Ok(Err(e)),
            };
            let at = db::to_db(db::now());
            let row = ScimGroupRow {
                id: ScimGroupId::random(),
                display_name: fields.display_name.clone(),
                display_name_lower: fields.display_name.to_lowercase(),
                external_id: fields.external_id.clone(),
                created_at: at,
                updated_at: at,
            };
            db::scim::insert_group(conn, &row)?;
            db::scim::set_members(conn, row.id, &members)?;
            apply_roles(conn, &by, &mapping, &members)?;
            Ok(Ok(resource(&base, &row, &members)))
        })
        .await?
}

async fn load(state: &AppState, id: ScimGroupId) -> Result<(ScimGroupRow, Vec<UserId>), ScimError> {
    state
        .db
        .read(move |conn| {
            Ok(match db::scim::group(conn, id)? {
                Some(g) => {
                    let members = db::scim::members(conn, id)?
                        .into_iter()
                        .map(|(u, _)| u)
                        .collect();
                    Some((g, members))
                }
                None => None,
            })
        })
        .await?
        .ok_or_else(|| ScimError::not_found(format!("no group {id}")))
}

/// `GET /Groups/{id}`.
pub async fn get_group(state: &AppState, me: &Actor, id: &str, query: &ListQuery) -> ScimResult {
    require(me)?;
    let (g, members) = load(state, parse_id(id, "group")?).await?;
    Ok(projected(
        resource(&base(state), &g, &members),
        GROUP_SCHEMA,
        query,
    ))
}

/// `GET /Groups` and `POST /Groups/.search`.
pub async fn list_groups(state: &AppState, me: &Actor, query: ListQuery) -> ScimResult {
    require(me)?;
    let filter = query
        .filter
        .as_deref()
        .map(|f| Filter::parse(f, FILTERABLE))
        .transpose()?;
    let (groups, memberships) = state
        .db
        .read(|conn| Ok((db::scim::groups(conn)?, db::scim::memberships(conn)?)))
        .await?;
    let base = base(state);
    // Each group's members, indexed once (not one scan per group).
    let mut members_of: HashMap<ScimGroupId, Vec<UserId>> = HashMap::new();
    for (g, u) in memberships {
        members_of.entry(g).or_default().push(u);
    }
    let selected: Vec<(ScimGroupRow, Vec<UserId>)> = groups
        .into_iter()
        .map(|g| {
            let mut members = members_of.remove(&g.id).unwrap_or_default();
            members.sort();
            (g, members)
        })
        .filter(|(g, members)| {
            filter
                .as_ref()
                .is_none_or(|f| f.matches(&|a| values(g, members, a)))
        })
        .collect();
    Ok(list_response(
        selected,
        GROUP_SCHEMA,
        &query,
        |(g, members)| resource(&base, &g, &members),
    ))
}

/// `PUT /Groups/{id}`.
pub async fn replace_group(state: &AppState, me: &Actor, id: &str, body: Value) -> ScimResult {
    require(me)?;
    let id: ScimGroupId = parse_id(id, "group")?;
    let fields = GroupFields::from_resource(&body)?;
    save(state, me, id, move |_| Ok(fields)).await
}

/// `PATCH /Groups/{id}`.
pub async fn patch_group(state: &AppState, me: &Actor, id: &str, body: Value) -> ScimResult {
    require(me)?;
    let id: ScimGroupId = parse_id(id, "group")?;
    let ops = crate::domain::scim::patch_ops(&body)?;
    save(state, me, id, move |mut fields| {
        fields.apply(&ops)?;
        Ok(fields)
    })
    .await
}

async fn save<F>(state: &AppState, me: &Actor, id: ScimGroupId, change: F) -> ScimResult
where
    F: FnOnce(GroupFields) -> Result<GroupFields, ScimError> + Send + 'static,
{
    let (by, base, mapping) = (me.by(state), base(state), mapping(state));
    state
        .db
        .write(move |conn| {
            let Some(group) = db::scim::group(conn, id)? else {
                return Ok(Err(ScimError::not_found(format!("no group {id}"))));
            };
            let before: Vec<UserId> = db::scim::members(conn, id)?
                .into_iter()
                .map(|(u, _)| u)
                .collect();
            let fields = GroupFields {
                display_name: group.display_name.clone(),
                external_id: group.external_id.clone(),
                members: before.iter().map(|u| u.to_string()).collect(),
            };
            let after = match change(fields).and_then(|f| check(&f).map(|_| f)) {
                Ok(f) => f,
                Err(e) => return Ok(Err(e)),
            };
            let lower = after.display_name.to_lowercase();
            if db::scim::group_by_name(conn, &lower)?.is_some_and(|g| g != id) {
                return Ok(Err(ScimError::uniqueness(
                    "a group with this displayName exists",
                )));
            }
            let members = match resolve_members(conn, &after)? {
                Ok(m) => m,
                Err(e) => return Ok(Err(e)),
            };
            let row = ScimGroupRow {
                display_name: after.display_name.clone(),
                display_name_lower: lower,
                external_id: after.external_id.clone(),
                updated_at: db::to_db(db::now()),
                ..group
            };
            db::scim::update_group(conn, &row)?;
            db::scim::set_members(conn, id, &members)?;
            let mut touched: Vec<UserId> =
                before.into_iter().chain(members.iter().copied()).collect();
            touched.sort();
            touched.dedup();
            apply_roles(conn, &by, &mapping, &touched)?;
            Ok(Ok(resource(&base, &row, &members)))
        })
        .await?
}

/// `DELETE /Groups/{id}`: the group goes; its members keep their accounts
/// (and lose the role it gave them).
pub async fn delete_group(state: &AppState, me: &Actor, id: &str) -> Result<(), ScimError> {
    require(me)?;
    let id: ScimGroupId = parse_id(id, "group")?;
    let (by, mapping) = (me.by(state), mapping(state));
    state
        .db
        .write(move |conn| {
            if db::scim::group(conn, id)?.is_none() {
                return Ok(Err(ScimError::not_found(format!("no group {id}"))));
            }
            let members: Vec<UserId> = db::scim::members(conn, id)?
                .into_iter()
                .map(|(u, _)| u)
                .collect();
            db::scim::delete_group(conn, id)?;
            apply_roles(conn, &by, &mapping, &members)?;
            Ok(Ok(()))
        })
        .await?
}
