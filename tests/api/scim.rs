//! SCIM 2.0 provisioning at `/scim/v2` (RFC 7643, RFC 7644), as identity
//! providers drive it: Okta's and Entra ID's request shapes, filters and
//! paging, group membership mapped to roles, deactivation and deletion
//! ending a person's access while their history stays. (Protocol
//! conformance as a whole is judged by scim2-tester: `tests/scim/run.sh`.)

use bar_raiser::config::GroupRole;
use bar_raiser::domain::AccountRole;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::*;

const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

async fn scim_token(app: &TestApp, admin: &Session, scopes: &[&str]) -> String {
    let (status, body) = app
        .post(
            "/tokens",
            admin,
            json!({"name": "identity provider", "scopes": scopes}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["secret"].as_str().unwrap().to_string()
}

fn assert_scim_error(got: &(StatusCode, Value), status: u16, scim_type: Option<&str>) {
    assert_eq!(got.0.as_u16(), status, "{}", got.1);
    assert_eq!(got.1["schemas"], json!([ERROR]), "{}", got.1);
    assert_eq!(got.1["status"], status.to_string(), "{}", got.1);
    assert!(got.1["detail"].as_str().is_some_and(|d| !d.is_empty()));
    match scim_type {
        Some(t) => assert_eq!(got.1["scimType"], t, "{}", got.1),
        None => assert!(got.1.get("scimType").is_none(), "{}", got.1),
    }
}

fn okta_user(user_name: &str, email: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {"givenName": "Ann", "familyName": "Lee"},
        "emails": [{"primary": true, "value": email, "type": "work"}],
        "displayName": "Ann Lee",
        "locale": "en-US",
        "externalId": "00u1okta",
        "groups": [],
        "password": "ignored-by-design",
        "active": true
    })
}

fn patch(ops: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
}

async fn provisioning(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |c| {
        c.scim_group_roles = vec![
            GroupRole {
                group: "Recruiters".into(),
                role: AccountRole::Recruiter,
            },
            GroupRole {
                group: "Admins".into(),
                role: AccountRole::Admin,
            },
        ];
    })
    .await
    else {
        return;
    };
    let admin = app.admin().await;
    let idp = scim_token(&app, &admin, &["scim"]).await;
    let scim = |method: Method, path: String, body: Option<Value>| {
        let (app, idp) = (&app, idp.clone());
        async move {
            app.call(method, &format!("/scim/v2{path}"), Some(&idp), body)
                .await
        }
    };

    // Only a token holding `scim` provisions; errors are SCIM's.
    let other = scim_token(&app, &admin, &["users:read"]).await;
    assert_scim_error(
        &app.call(Method::GET, "/scim/v2/Users", Some(&other), None)
            .await,
        403,
        None,
    );
    assert_scim_error(
        &app.call(Method::GET, "/scim/v2/Users", Some(&admin.token), None)
            .await,
        403,
        None,
    );
    assert_scim_error(
        &app.call(Method::GET, "/scim/v2/Users", None, None).await,
        401,
        None,
    );
    assert_scim_error(&scim(Method::GET, "/Nothing".into(), None).await, 404, None);
    assert_scim_error(
        &scim(Method::DELETE, "/Schemas".into(), None).await,
        405,
        None,
    );

    // Okta creates a person: unknown attributes and the password are ignored.
    let (status, ann) = scim(
        Method::POST,
        "/Users".into(),
        Some(okta_user("ann@example.com", "ann@example.com")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{ann}");
    let ann_id = ann["id"].as_str().unwrap().to_string();
    assert_eq!(ann["emails"], json!([{"value": "ann@example.com"}]));
    assert_eq!(
        ann["name"],
        json!({"givenName": "Ann", "familyName": "Lee"})
    );
    assert_eq!(ann["active"], true);
    assert!(ann.get("password").is_none());
    assert!(
        ann["meta"]["location"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/scim/v2/Users/{ann_id}"))
    );
    // The same account in the API, a member with no usable password.
    let (_, account) = app.get(&format!("/users/{ann_id}"), &admin).await;
    assert_eq!(
        (account["name"].as_str(), account["role"].as_str()),
        (Some("Ann Lee"), Some("member"))
    );
    assert_eq!(
        app.login("ann@example.com", "ignored-by-design").await.0,
        StatusCode::UNAUTHORIZED
    );

    // userName is unique whatever its case; so is the address.
    assert_scim_error(
        &scim(
            Method::POST,
            "/Users".into(),
            Some(okta_user("ANN@example.com", "other@example.com")),
        )
        .await,
        409,
        Some("uniqueness"),
    );
    assert_scim_error(
        &scim(
            Method::POST,
            "/Users".into(),
            Some(okta_user("ann2", "Ann@Example.com")),
        )
        .await,
        409,
        Some("uniqueness"),
    );
    assert_scim_error(
        &scim(
            Method::POST,
            "/Users".into(),
            Some(json!({"userName": "nobody"})),
        )
        .await,
        400,
        Some("invalidValue"),
    );
    let (status, bob) = scim(
        Method::POST,
        "/Users".into(),
        Some(okta_user("bob", "bob@example.com")),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{bob}");
    let bob_id = bob["id"].as_str().unwrap().to_string();

    // Filters and paging as providers use them before creating.
    let list = |q: &str| scim(Method::GET, format!("/Users?{q}"), None);
    let (_, found) = list("filter=userName%20eq%20%22ANN%40example.com%22").await;
    assert_eq!(
        (
            found["totalResults"].as_u64(),
            found["Resources"][0]["id"].as_str()
        ),
        (Some(1), Some(ann_id.as_str()))
    );
    let (_, found) = list(
        "filter=emails.value%20co%20%22example%22%20and%20active%20eq%20true&startIndex=2&count=1",
    )
    .await;
    assert_eq!(found["totalResults"], 2);
    assert_eq!(found["startIndex"], 2);
    assert_eq!(found["itemsPerPage"], 1);
    assert_eq!(found["Resources"][0]["id"], bob_id.as_str());
    let (_, found) = list("filter=externalId%20eq%20%2200U1OKTA%22").await;
    assert_eq!(found["totalResults"], 0, "externalId compares case-exactly");
    let (_, found) = list("attributes=userName&count=10").await;
    assert!(
        found["Resources"][0].get("emails").is_none()
            && found["Resources"][0]["userName"].is_string()
    );
    assert_scim_error(
        &list("filter=nickName%20eq%20%22x%22").await,
        400,
        Some("invalidFilter"),
    );
    assert_scim_error(
        &list("filter=userName%20eq").await,
        400,
        Some("invalidFilter"),
    );
    assert_scim_error(&list("count=lots").await, 400, Some("invalidValue"));
    let (status, searched) = scim(
        Method::POST,
        "/Users/.search".into(),
        Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "userName sw \"bo\""})),
    )
    .await;
    assert_eq!(
        (status, searched["totalResults"].as_u64()),
        (StatusCode::OK, Some(1))
    );

    // Entra's PATCH shapes: a filtered path, the verb capitalised.
    let (status, changed) = scim(
        Method::PATCH,
        format!("/Users/{ann_id}"),
        Some(patch(json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "ann.lee@example.com"},
            {"op": "Add", "path": "displayName", "value": "Ann B. Lee"}
        ]))),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["emails"][0]["value"], "ann.lee@example.com");
    let (_, account) = app.get(&format!("/users/{ann_id}"), &admin).await;
    assert_eq!(
        (account["email"].as_str(), account["name"].as_str()),
        (Some("ann.lee@example.com"), Some("Ann B. Lee"))
    );
    assert_scim_error(
        &scim(
            Method::PATCH,
            format!("/Users/{ann_id}"),
            Some(patch(json!([{"op": "remove", "path": "userName"}]))),
        )
        .await,
        400,
        Some("mutability"),
    );
    assert_scim_error(
        &scim(
            Method::PATCH,
            format!("/Users/{ann_id}"),
            Some(patch(json!([{"op": "copy", "path": "userName"}]))),
        )
        .await,
        400,
        Some("invalidSyntax"),
    );

    // Group membership gives roles; leaving the group takes them away.
    let (status, recruiters) = scim(
        Method::POST,
        "/Groups".into(),
        Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Recruiters", "members": [{"value": ann_id}]})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{recruiters}");
    let group_id = recruiters["id"].as_str().unwrap().to_string();
    let role = |id: String| {
        let (app, admin) = (&app, &admin);
        async move {
            app.get(&format!("/users/{id}"), admin).await.1["role"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    assert_eq!(role(ann_id.clone()).await, "recruiter");
    let (_, ann_now) = scim(Method::GET, format!("/Users/{ann_id}"), None).await;
    assert_eq!(ann_now["groups"][0]["display"], "Recruiters");
    assert_scim_error(
        &scim(Method::PATCH, format!("/Groups/{group_id}"), Some(patch(json!([{"op": "add", "path": "members", "value": [{"value": admin.id.to_string()}]}])))).await,
        400,
        Some("invalidValue"),
    );
    let (status, _) = scim(
        Method::PATCH,
        format!("/Groups/{group_id}"),
        Some(patch(
            json!([{"op": "remove", "path": format!("members[value eq \"{ann_id}\"]")}]),
        )),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(role(ann_id.clone()).await, "member");

    // An admin by group makes a token; Entra deactivates her: her sessions
    // and her tokens end at once.
    let (status, _) = scim(
        Method::POST,
        "/Groups".into(),
        Some(json!({"displayName": "Admins", "members": [{"value": bob_id}]})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(role(bob_id.clone()).await, "admin");
    let (status, _) = app
        .patch(
            &format!("/users/{bob_id}"),
            &admin,
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let bob_session = app.session("bob@example.com").await;
    let bob_token = scim_token(&app, &bob_session, &["users:read"]).await;
    assert_eq!(
        app.call(Method::GET, "/users", Some(&bob_token), None)
            .await
            .0,
        StatusCode::OK
    );
    // Bob also interviews in a loop that is still open.
    let setup = app.draft_loop().await;
    let recruiter = &setup.cast.recruiter;
    let (status, body) = app
        .add_interview(
            recruiter,
            setup.loop_id,
            &bob_session,
            &setup.competencies[..1],
            "interviewer",
            3,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let told = || {
        let (app, email) = (&app, recruiter.email.clone());
        async move {
            app.outbox_recipients()
                .await
                .iter()
                .filter(|r| **r == email)
                .count()
        }
    };
    let before = told().await;
    let (status, off) = scim(
        Method::PATCH,
        format!("/Users/{bob_id}"),
        Some(patch(
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
        )),
    )
    .await;
    assert_eq!(
        (status, off["active"].as_bool()),
        (StatusCode::OK, Some(false)),
        "{off}"
    );
    assert_problem(&app.get("/me", &bob_session).await, 401, "invalid_token");
    assert_problem(
        &app.call(Method::GET, "/users", Some(&bob_token), None)
            .await,
        401,
        "invalid_token",
    );
    // The loop's recruiter is told of the open interview, and its chain
    // records it.
    assert_eq!(told().await, before + 1);
    let (_, audit) = app
        .get(
            &format!("/loops/{}/audit", setup.loop_id),
            &setup.cast.admin,
        )
        .await;
    let recorded = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "interviewer.deprovisioned");
    assert!(recorded, "{audit}");
    let (_, tokens) = app.get("/tokens", &admin).await;
    let revoked = tokens["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["created_by"] == bob_id.as_str())
        .all(|t| t["revoked_at"].is_string());
    assert!(revoked, "{tokens}");
    // Okta's reactivation form: no path, an object value.
    let (status, on) = scim(
        Method::PATCH,
        format!("/Users/{bob_id}"),
        Some(patch(json!([{"op": "replace", "value": {"active": true}}]))),
    )
    .await;
    assert_eq!(
        (status, on["active"].as_bool()),
        (StatusCode::OK, Some(true))
    );
    assert_problem(&app.get("/me", &bob_session).await, 401, "invalid_token");

    // Deleting forgets the provider's view; the account and its history
    // stay, inactive.
    let (status, _) = scim(Method::DELETE, format!("/Users/{ann_id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_scim_error(
        &scim(Method::GET, format!("/Users/{ann_id}"), None).await,
        404,
        None,
    );
    assert_scim_error(
        &scim(Method::DELETE, format!("/Users/{ann_id}"), None).await,
        404,
        None,
    );
    let (status, account) = app.get(&format!("/users/{ann_id}"), &admin).await;
    assert_eq!(
        (status, account["active"].as_bool()),
        (StatusCode::OK, Some(false))
    );
    let (_, found) = list("").await;
    assert_eq!(found["totalResults"], 1);
    assert_scim_error(
        &scim(Method::GET, "/Users/not-an-id".into(), None).await,
        404,
        None,
    );
    assert_scim_error(
        &scim(Method::PUT, format!("/Users/{bob_id}"), Some(json!("text"))).await,
        400,
        Some("invalidSyntax"),
    );
}
both_backends!(scim_provisioning, backend => super::provisioning);
