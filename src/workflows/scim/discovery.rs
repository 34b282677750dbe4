//! SCIM's self-description (RFC 7644 §4): `/ServiceProviderConfig`,
//! `/ResourceTypes` and `/Schemas`. The User and Group schemas list exactly
//! the attributes this service keeps and gives back as written; anything
//! else a provider sends is ignored (RFC 7643 §2.1 leaves the subset to the
//! service provider). These documents are public to any SCIM caller.

use serde_json::{Value, json};

use super::{ListQuery, ScimResult, list_response};
use crate::domain::scim::{GROUP_SCHEMA, MAX_RESULTS, ScimError, USER_SCHEMA};

const SPC_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// `GET /ServiceProviderConfig`.
pub fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": [SPC_SCHEMA],
        "documentationUri": format!("{}/docs/", base.trim_end_matches("/scim/v2")),
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "A service token with the `scim` scope (brt_…), or an access token for one from POST /oauth/token",
            "primary": true
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig")}
    })
}

fn resource_type(base: &str, name: &str, endpoint: &str, schema: &str, what: &str) -> Value {
    json!({
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": name,
        "name": name,
        "endpoint": endpoint,
        "description": what,
        "schema": schema,
        "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/{name}")}
    })
}

fn resource_types(base: &str) -> Vec<Value> {
    vec![
        resource_type(base, "User", "/Users", USER_SCHEMA, "A person's account"),
        resource_type(
            base,
            "Group",
            "/Groups",
            GROUP_SCHEMA,
            "A group; its members' roles follow it by configuration",
        ),
    ]
}

/// `GET /ResourceTypes`.
pub fn list_resource_types(base: &str, query: &ListQuery) -> Value {
    list_response(resource_types(base), RESOURCE_TYPE_SCHEMA, query, |r| r)
}

/// `GET /ResourceTypes/{id}`.
pub fn resource_type_by_id(base: &str, id: &str) -> ScimResult {
    resource_types(base)
        .into_iter()
        .find(|r| r["id"] == id)
        .ok_or_else(|| ScimError::not_found(format!("no resource type {id}")))
}

/// One attribute's definition (RFC 7643 §7).
struct A {
    name: &'static str,
    ty: &'static str,
    multi: bool,
    required: bool,
    mutability: &'static str,
    case_exact: bool,
    uniqueness: &'static str,
    refs: &'static [&'static str],
    sub: Vec<Value>,
}

impl A {
    fn new(name: &'static str, ty: &'static str) -> A {
        A {
            name,
            ty,
            multi: false,
            required: false,
            mutability: "readWrite",
            case_exact: false,
            uniqueness: "none",
            refs: &[],
            sub: vec![],
        }
    }
    fn multi(mut self) -> A {
        self.multi = true;
        self
    }
    fn required(mut self) -> A {
        self.required = true;
        self
    }
    fn mutability(mut self, m: &'static str) -> A {
        self.mutability = m;
        self
    }
    fn exact(mut self) -> A {
        self.case_exact = true;
        self
    }
    fn unique(mut self) -> A {
        self.uniqueness = "server";
        self
    }
    fn refs(mut self, r: &'static [&'static str]) -> A {
        self.refs = r;
        self
    }
    fn sub(mut self, sub: Vec<A>) -> A {
        self.sub = sub.into_iter().map(A::done).collect();
        self
    }
    fn done(self) -> Value {
        let mut v = json!({
            "name": self.name,
            "type": self.ty,
            "multiValued": self.multi,
            "description": self.name,
            "required": self.required,
            "caseExact": self.case_exact,
            "mutability": self.mutability,
            "returned": "default",
            "uniqueness": self.uniqueness,
        });
        if !self.refs.is_empty() {
            v["referenceTypes"] = json!(self.refs);
        }
        if !self.sub.is_empty() {
            v["subAttributes"] = json!(self.sub);
        }
        v
    }
}

fn schema(base: &str, id: &str, name: &str, what: &str, attributes: Vec<A>) -> Value {
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": id,
        "name": name,
        "description": what,
        "attributes": attributes.into_iter().map(A::done).collect::<Vec<_>>(),
        "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{id}")}
    })
}

fn user_schema(base: &str) -> Value {
    let ro = "readOnly";
    schema(
        base,
        USER_SCHEMA,
        "User",
        "A person's account",
        vec![
            A::new("userName", "string").required().unique(),
            A::new("name", "complex").sub(vec![
                A::new("givenName", "string"),
                A::new("familyName", "string"),
            ]),
            A::new("displayName", "string"),
            A::new("emails", "complex")
                .multi()
                .required()
                .sub(vec![A::new("value", "string").required()]),
            A::new("active", "boolean").required(),
            A::new("groups", "complex").multi().mutability(ro).sub(vec![
                A::new("value", "string").mutability(ro),
                A::new("$ref", "reference").mutability(ro).refs(&["Group"]),
                A::new("display", "string").mutability(ro),
            ]),
        ],
    )
}

fn group_schema(base: &str) -> Value {
    schema(
        base,
        GROUP_SCHEMA,
        "Group",
        "A group of people",
        vec![
            A::new("displayName", "string").required().unique(),
            A::new("members", "complex").multi().sub(vec![
                A::new("value", "string").mutability("immutable").exact(),
                A::new("$ref", "reference")
                    .mutability("immutable")
                    .refs(&["User"]),
            ]),
        ],
    )
}

fn flag(name: &'static str) -> A {
    A::new(name, "complex")
        .mutability("readOnly")
        .required()
        .sub(vec![
            A::new("supported", "boolean")
                .mutability("readOnly")
                .required(),
        ])
}

fn meta_schemas(base: &str) -> Vec<Value> {
    let ro = "readOnly";
    let s = |n| A::new(n, "string").mutability(ro);
    let b = |n| A::new(n, "boolean").mutability(ro);
    let attribute_parts = || {
        vec![
            s("name").exact(),
            s("type"),
            b("multiValued"),
            s("description"),
            b("required"),
            s("canonicalValues").multi(),
            b("caseExact"),
            s("mutability"),
            s("returned"),
            s("uniqueness"),
            s("referenceTypes").multi(),
        ]
    };
    let mut attribute_sub = attribute_parts();
    attribute_sub.push(
        A::new("subAttributes", "complex")
            .multi()
            .mutability(ro)
            .sub(attribute_parts()),
    );
    vec![
        schema(
            base,
            SPC_SCHEMA,
            "ServiceProviderConfig",
            "What this service supports",
            vec![
                A::new("documentationUri", "reference")
                    .mutability(ro)
                    .refs(&["external"]),
                flag("patch"),
                A::new("bulk", "complex")
                    .mutability(ro)
                    .required()
                    .sub(vec![
                        b("supported").required(),
                        A::new("maxOperations", "integer").mutability(ro).required(),
                        A::new("maxPayloadSize", "integer")
                            .mutability(ro)
                            .required(),
                    ]),
                A::new("filter", "complex")
                    .mutability(ro)
                    .required()
                    .sub(vec![
                        b("supported").required(),
                        A::new("maxResults", "integer").mutability(ro).required(),
                    ]),
                flag("changePassword"),
                flag("sort"),
                flag("etag"),
                A::new("authenticationSchemes", "complex")
                    .multi()
                    .mutability(ro)
                    .required()
                    .sub(vec![
                        s("type").required(),
                        s("name").required(),
                        s("description").required(),
                        b("primary"),
                    ]),
            ],
        ),
        schema(
            base,
            RESOURCE_TYPE_SCHEMA,
            "ResourceType",
            "A type of resource this service serves",
            vec![
                s("id"),
                s("name").required(),
                s("description"),
                A::new("endpoint", "reference")
                    .mutability(ro)
                    .required()
                    .refs(&["uri"]),
                A::new("schema", "reference")
                    .mutability(ro)
                    .required()
                    .exact()
                    .refs(&["uri"]),
            ],
        ),
        schema(
            base,
            SCHEMA_SCHEMA,
            "Schema",
            "A schema of this service's resources",
            vec![
                s("id").required(),
                s("name"),
                s("description"),
                A::new("attributes", "complex")
                    .multi()
                    .mutability(ro)
                    .required()
                    .sub(attribute_sub),
            ],
        ),
    ]
}

fn schemas(base: &str) -> Vec<Value> {
    let mut all = vec![user_schema(base), group_schema(base)];
    all.extend(meta_schemas(base));
    all
}

/// `GET /Schemas`.
pub fn list_schemas(base: &str, query: &ListQuery) -> Value {
    list_response(schemas(base), SCHEMA_SCHEMA, query, |s| s)
}

/// `GET /Schemas/{id}`.
pub fn schema_by_id(base: &str, id: &str) -> ScimResult {
    schemas(base)
        .into_iter()
        .find(|s| s["id"].as_str().is_some_and(|s| s.eq_ignore_ascii_case(id)))
        .ok_or_else(|| ScimError::not_found(format!("no schema {id}")))
}
