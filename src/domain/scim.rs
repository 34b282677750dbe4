//! SCIM 2.0 provisioning as rules (RFC 7643 resources, RFC 7644
//! protocol): reading the bodies identity providers send, `PATCH`
//! operations in the forms Okta and Entra ID send them, `filter`
//! expressions, `attributes` projection, paging, and the role a person's
//! groups give them. Pure: the workflow loads and stores.

use serde_json::{Map, Value};

use super::types::AccountRole;

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Most resources one list answer holds (`count` is capped to it).
pub const MAX_RESULTS: usize = 200;
/// Longest text attribute accepted (userName, names, externalId).
pub const TEXT_MAX_CHARS: usize = 256;

/// A SCIM error response (RFC 7644 §3.12): status, `scimType`, detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimError {
    pub status: u16,
    pub scim_type: Option<&'static str>,
    pub detail: String,
}

impl ScimError {
    pub fn bad(scim_type: &'static str, detail: impl Into<String>) -> ScimError {
        ScimError {
            status: 400,
            scim_type: Some(scim_type),
            detail: detail.into(),
        }
    }

    pub fn not_found(detail: impl Into<String>) -> ScimError {
        ScimError {
            status: 404,
            scim_type: None,
            detail: detail.into(),
        }
    }

    pub fn uniqueness(detail: impl Into<String>) -> ScimError {
        ScimError {
            status: 409,
            scim_type: Some("uniqueness"),
            detail: detail.into(),
        }
    }

    fn invalid_value(detail: impl Into<String>) -> ScimError {
        ScimError::bad("invalidValue", detail)
    }

    fn invalid_path(path: &str) -> ScimError {
        ScimError::bad(
            "invalidPath",
            format!("`{path}` is not an attribute this service keeps"),
        )
    }
}

/// A provisioned person as SCIM shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFields {
    pub user_name: String,
    pub external_id: Option<String>,
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// The one address the account has (`emails`, its primary or first).
    pub email: String,
    pub active: bool,
}

/// A group as SCIM shows it: its members by account id (as sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupFields {
    pub display_name: String,
    pub external_id: Option<String>,
    pub members: Vec<String>,
}

/// An attribute name without its schema's URN, lower-cased (SCIM
/// attribute names are case-insensitive, §2.1 of RFC 7643).
pub fn bare_name(name: &str, schema: &str) -> String {
    let lower = name.trim().to_ascii_lowercase();
    let prefix = format!("{}:", schema.to_ascii_lowercase());
    lower
        .strip_prefix(&prefix)
        .map(str::to_string)
        .unwrap_or(lower)
}

/// The member of `obj` named `key`, whatever its case.
fn field<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

/// A text attribute: absent or null is `None`; anything but a string, or
/// one over [`TEXT_MAX_CHARS`], is refused.
fn text(name: &str, v: Option<&Value>) -> Result<Option<String>, ScimError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() > TEXT_MAX_CHARS => Err(
            ScimError::invalid_value(format!("{name} is over {TEXT_MAX_CHARS} characters")),
        ),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(_) => Err(ScimError::invalid_value(format!("{name} must be a string"))),
    }
}

/// A boolean as providers send it: `true`, or the string `"True"` (Entra).
pub fn boolean(name: &str, v: &Value) -> Result<bool, ScimError> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(ScimError::invalid_value(format!(
            "{name} must be a boolean"
        ))),
    }
}

fn object<'a>(what: &str, v: &'a Value) -> Result<&'a Map<String, Value>, ScimError> {
    v.as_object()
        .ok_or_else(|| ScimError::bad("invalidSyntax", format!("{what} must be a JSON object")))
}

/// Refuses a body whose `schemas` does not name `schema` (absent is
/// allowed: some providers leave it out).
fn check_schemas(obj: &Map<String, Value>, schema: &str) -> Result<(), ScimError> {
    match field(obj, "schemas") {
        None => Ok(()),
        Some(Value::Array(items))
            if items
                .iter()
                .any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(schema))) =>
        {
            Ok(())
        }
        Some(_) => Err(ScimError::bad(
            "invalidSyntax",
            format!("`schemas` must name {schema}"),
        )),
    }
}

/// The address of an `emails` value: its primary entry, else its first.
fn email_of(v: &Value) -> Result<Option<String>, ScimError> {
    let entries: Vec<&Value> = match v {
        Value::Null => return Ok(None),
        Value::Array(items) => items.iter().collect(),
        Value::Object(_) => vec![v],
        _ => return Err(ScimError::invalid_value("emails must be a list of objects")),
    };
    let mut chosen: Option<&Value> = None;
    for e in &entries {
        let obj = object("an entry of emails", e)?;
        let primary = field(obj, "primary")
            .map(|p| boolean("emails.primary", p))
            .transpose()?
            .unwrap_or(false);
        if chosen.is_none() || primary {
            chosen = Some(e);
        }
        if primary {
            break;
        }
    }
    match chosen {
        None => Ok(None),
        Some(e) => text("emails.value", field(object("emails", e)?, "value")),
    }
}

impl UserFields {
    /// The person a `POST` or `PUT` body describes.
    pub fn from_resource(body: &Value) -> Result<UserFields, ScimError> {
        let obj = object("the resource", body)?;
        check_schemas(obj, USER_SCHEMA)?;
        let name = match field(obj, "name") {
            None | Some(Value::Null) => None,
            Some(v) => Some(object("name", v)?),
        };
        let fields = UserFields {
            user_name: text("userName", field(obj, "userName"))?.unwrap_or_default(),
            external_id: text("externalId", field(obj, "externalId"))?,
            display_name: text("displayName", field(obj, "displayName"))?,
            given_name: text("name.givenName", name.and_then(|n| field(n, "givenName")))?,
            family_name: text("name.familyName", name.and_then(|n| field(n, "familyName")))?,
            email: match field(obj, "emails") {
                Some(v) => email_of(v)?.unwrap_or_default(),
                None => String::new(),
            },
            active: match field(obj, "active") {
                None | Some(Value::Null) => true,
                Some(v) => boolean("active", v)?,
            },
        };
        fields.check()?;
        Ok(fields)
    }

    /// What every stored person must have.
    pub fn check(&self) -> Result<(), ScimError> {
        if self.user_name.is_empty() {
            return Err(ScimError::invalid_value("userName is required"));
        }
        if self.email.is_empty() {
            return Err(ScimError::invalid_value(
                "emails must hold an address: the account signs in and is mailed by it",
            ));
        }
        Ok(())
    }

    /// The account's name: `displayName`, else the given and family
    /// names, else `userName`.
    pub fn account_name(&self) -> String {
        if let Some(d) = &self.display_name {
            return d.clone();
        }
        let parts: Vec<&str> = [&self.given_name, &self.family_name]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        if parts.is_empty() {
            self.user_name.clone()
        } else {
            parts.join(" ")
        }
    }

    /// Applies a `PATCH` request's operations, in order; on any refusal
    /// nothing is applied (the caller keeps its copy).
    pub fn apply(&mut self, ops: &[PatchOp]) -> Result<(), ScimError> {
        for op in ops {
            match &op.path {
                Some(path) => self.apply_one(op.op, path, op.value.as_ref())?,
                None => {
                    let value = op.value.as_ref().ok_or_else(|| {
                        ScimError::bad("noTarget", "an operation without `path` needs a value")
                    })?;
                    if op.op == Op::Remove {
                        return Err(ScimError::bad("noTarget", "remove needs a `path`"));
                    }
                    for (k, v) in object("the value", value)? {
                        self.apply_one(op.op, k, Some(v))?;
                    }
                }
            }
        }
        self.check()
    }

    fn apply_one(&mut self, op: Op, path: &str, value: Option<&Value>) -> Result<(), ScimError> {
        let bare = bare_name(path, USER_SCHEMA);
        let remove = op == Op::Remove;
        let value = if remove {
            None
        } else {
            Some(needs(value, path)?)
        };
        let text_of = |name: &str| text(name, value);
        match bare.as_str() {
            "schemas" | "id" | "meta" | "groups" => Ok(()),
            "username" if remove => Err(ScimError::bad("mutability", "userName is required")),
            "username" => {
                self.user_name = text_of("userName")?.unwrap_or_default();
                Ok(())
            }
            "externalid" => {
                self.external_id = text_of("externalId")?;
                Ok(())
            }
            "displayname" => {
                self.display_name = text_of("displayName")?;
                Ok(())
            }
            "name.givenname" => {
                self.given_name = text_of("name.givenName")?;
                Ok(())
            }
            "name.familyname" => {
                self.family_name = text_of("name.familyName")?;
                Ok(())
            }
            "name.formatted"
            | "name.middlename"
            | "name.honorificprefix"
            | "name.honorificsuffix" => Ok(()),
            "name" => {
                match value {
                    None | Some(Value::Null) => {
                        self.given_name = None;
                        self.family_name = None;
                    }
                    Some(v) => {
                        let n = object("name", v)?;
                        if op == Op::Replace {
                            self.given_name = None;
                            self.family_name = None;
                        }
                        if let Some(g) = field(n, "givenName") {
                            self.given_name = text("name.givenName", Some(g))?;
                        }
                        if let Some(f) = field(n, "familyName") {
                            self.family_name = text("name.familyName", Some(f))?;
                        }
                    }
                }
                Ok(())
            }
            "active" if remove => Err(ScimError::bad("mutability", "active cannot be removed")),
            "active" => {
                self.active = boolean("active", needs(value, path)?)?;
                Ok(())
            }
            p if p == "emails" || p.starts_with("emails[") || p == "emails.value" => {
                if remove {
                    return Err(ScimError::bad(
                        "mutability",
                        "emails cannot be removed: the account needs an address",
                    ));
                }
                let v = needs(value, path)?;
                let address = if p == "emails" {
                    email_of(v)?
                } else if p.ends_with("].value") || p == "emails.value" {
                    text("emails.value", Some(v))?
                } else {
                    // `emails[type eq "work"]` with an object value.
                    email_of(v)?
                };
                match address {
                    Some(a) => {
                        self.email = a;
                        Ok(())
                    }
                    None => Err(ScimError::invalid_value("emails must hold an address")),
                }
            }
            _ => Err(ScimError::invalid_path(path)),
        }
    }
}

fn needs<'a>(value: Option<&'a Value>, path: &str) -> Result<&'a Value, ScimError> {
    value
        .ok_or_else(|| ScimError::invalid_value(format!("the operation on `{path}` needs a value")))
}

/// Member ids of a `members` value: `[{"value": id}, …]`.
fn member_ids(v: &Value) -> Result<Vec<String>, ScimError> {
    let items: Vec<&Value> = match v {
        Value::Array(items) => items.iter().collect(),
        Value::Object(_) => vec![v],
        Value::Null => vec![],
        _ => {
            return Err(ScimError::invalid_value(
                "members must be a list of objects",
            ));
        }
    };
    items
        .into_iter()
        .map(|m| {
            text("members.value", field(object("a member", m)?, "value"))?
                .ok_or_else(|| ScimError::invalid_value("each member needs a `value`"))
        })
        .collect()
}

impl GroupFields {
    pub fn from_resource(body: &Value) -> Result<GroupFields, ScimError> {
        let obj = object("the resource", body)?;
        check_schemas(obj, GROUP_SCHEMA)?;
        let fields = GroupFields {
            display_name: text("displayName", field(obj, "displayName"))?.unwrap_or_default(),
            external_id: text("externalId", field(obj, "externalId"))?,
            members: match field(obj, "members") {
                Some(v) => member_ids(v)?,
                None => vec![],
            },
        };
        fields.check()?;
        Ok(fields)
    }

    pub fn check(&self) -> Result<(), ScimError> {
        if self.display_name.is_empty() {
            return Err(ScimError::invalid_value("displayName is required"));
        }
        Ok(())
    }

    pub fn apply(&mut self, ops: &[PatchOp]) -> Result<(), ScimError> {
        for op in ops {
            match &op.path {
                Some(path) => self.apply_one(op.op, path, op.value.as_ref())?,
                None if op.op == Op::Remove => {
                    return Err(ScimError::bad("noTarget", "remove needs a `path`"));
                }
                None => {
                    let value = op.value.as_ref().ok_or_else(|| {
                        ScimError::bad("noTarget", "an operation without `path` needs a value")
                    })?;
                    for (k, v) in object("the value", value)? {
                        self.apply_one(op.op, k, Some(v))?;
                    }
                }
            }
        }
        self.members.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        self.check()
    }

    fn apply_one(&mut self, op: Op, path: &str, value: Option<&Value>) -> Result<(), ScimError> {
        let bare = bare_name(path, GROUP_SCHEMA);
        match (op, bare.as_str()) {
            (_, "schemas" | "id" | "meta") => Ok(()),
            (Op::Remove, "displayname") => {
                Err(ScimError::bad("mutability", "displayName is required"))
            }
            (_, "displayname") => {
                self.display_name =
                    text("displayName", Some(needs(value, path)?))?.unwrap_or_default();
                Ok(())
            }
            (Op::Remove, "externalid") => {
                self.external_id = None;
                Ok(())
            }
            (_, "externalid") => {
                self.external_id = text("externalId", value)?;
                Ok(())
            }
            (Op::Add, "members") => {
                for id in member_ids(needs(value, path)?)? {
                    if !self.members.iter().any(|m| m.eq_ignore_ascii_case(&id)) {
                        self.members.push(id);
                    }
                }
                Ok(())
            }
            (Op::Replace, "members") => {
                self.members = member_ids(needs(value, path)?)?;
                Ok(())
            }
            (Op::Remove, "members") => {
                match value {
                    // Entra: remove the listed members.
                    Some(v) => {
                        let gone = member_ids(v)?;
                        self.members
                            .retain(|m| !gone.iter().any(|g| g.eq_ignore_ascii_case(m)));
                    }
                    None => self.members.clear(),
                }
                Ok(())
            }
            (Op::Remove, p) if p.starts_with("members[") => {
                // Okta: `members[value eq "…"]`.
                let inner = p
                    .strip_prefix("members[")
                    .and_then(|r| r.strip_suffix(']'))
                    .ok_or_else(|| ScimError::invalid_path(path))?;
                // The filter is parsed from the original text: ids keep their case.
                let start = path.find('[').map(|i| i + 1).unwrap_or(0);
                let original = &path[start..start + inner.len()];
                let filter = Filter::parse(original, &["value"])?;
                self.members
                    .retain(|m| !filter.matches(&|_| Some(vec![Attr::Text(m.clone(), false)])));
                Ok(())
            }
            _ => Err(ScimError::invalid_path(path)),
        }
    }
}

/// A `PATCH` operation's verb.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Replace,
    Remove,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PatchOp {
    pub op: Op,
    pub path: Option<String>,
    pub value: Option<Value>,
}

/// The operations of a `PatchOp` request body (RFC 7644 §3.5.2); the verb
/// in any case (`"Replace"` is what Entra sends).
pub fn patch_ops(body: &Value) -> Result<Vec<PatchOp>, ScimError> {
    let obj = object("the request", body)?;
    check_schemas(obj, PATCH_SCHEMA)?;
    let ops = match field(obj, "Operations") {
        Some(Value::Array(ops)) if !ops.is_empty() => ops,
        _ => {
            return Err(ScimError::bad(
                "invalidSyntax",
                "`Operations` must list at least one operation",
            ));
        }
    };
    ops.iter()
        .map(|o| {
            let o = object("an operation", o)?;
            let op = match field(o, "op").and_then(Value::as_str) {
                Some(s) if s.eq_ignore_ascii_case("add") => Op::Add,
                Some(s) if s.eq_ignore_ascii_case("replace") => Op::Replace,
                Some(s) if s.eq_ignore_ascii_case("remove") => Op::Remove,
                _ => {
                    return Err(ScimError::bad(
                        "invalidSyntax",
                        "`op` must be add, replace or remove",
                    ));
                }
            };
            let path = match field(o, "path") {
                None | Some(Value::Null) => None,
                Some(Value::String(p)) if !p.trim().is_empty() => Some(p.trim().to_string()),
                Some(_) => return Err(ScimError::bad("invalidPath", "`path` must be a string")),
            };
            Ok(PatchOp {
                op,
                path,
                value: field(o, "value").cloned(),
            })
        })
        .collect()
}

/// One value of an attribute, for filtering: text (and whether it
/// compares case-exactly) or a boolean.
#[derive(Debug, Clone, PartialEq)]
pub enum Attr {
    Text(String, bool),
    Bool(bool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A `filter` expression (RFC 7644 §3.4.2.2), attribute names bare and
/// lower-cased.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Compare(String, CmpOp, Value),
    Present(String),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    Word(String),
    Literal(Value),
}

fn tokens(s: &str) -> Result<Vec<Token>, ScimError> {
    let bad = |d: &str| ScimError::bad("invalidFilter", d.to_string());
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' {
            out.push(Token::Open);
            i += 1;
        } else if c == ')' {
            out.push(Token::Close);
            i += 1;
        } else if c == '"' {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            if i >= chars.len() {
                return Err(bad("a string is not closed"));
            }
            i += 1;
            let raw: String = chars[start..i].iter().collect();
            let v: String =
                serde_json::from_str(&raw).map_err(|_| bad("a string is not valid JSON"))?;
            out.push(Token::Literal(Value::String(v)));
        } else {
            let start = i;
            while i < chars.len() && !chars[i].is_whitespace() && !"()\"".contains(chars[i]) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            if word.contains('[') || word.contains(']') {
                return Err(bad("value filters (`[…]`) are not supported in `filter`"));
            }
            out.push(Token::Word(word));
        }
    }
    Ok(out)
}

struct Parser<'a> {
    tokens: Vec<Token>,
    at: usize,
    known: &'a [&'a str],
}

impl Parser<'_> {
    fn bad(&self, d: impl Into<String>) -> ScimError {
        ScimError::bad("invalidFilter", d)
    }

    fn keyword(&self, k: &str) -> bool {
        matches!(self.tokens.get(self.at), Some(Token::Word(w)) if w.eq_ignore_ascii_case(k))
    }

    fn or(&mut self) -> Result<Filter, ScimError> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.at += 1;
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, ScimError> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            self.at += 1;
            left = Filter::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, ScimError> {
        if self.keyword("not") {
            self.at += 1;
            if self.tokens.get(self.at) != Some(&Token::Open) {
                return Err(self.bad("`not` must be followed by `(`"));
            }
            return Ok(Filter::Not(Box::new(self.group()?)));
        }
        if self.tokens.get(self.at) == Some(&Token::Open) {
            return self.group();
        }
        self.comparison()
    }

    fn group(&mut self) -> Result<Filter, ScimError> {
        self.at += 1;
        let inner = self.or()?;
        if self.tokens.get(self.at) != Some(&Token::Close) {
            return Err(self.bad("a `(` is not closed"));
        }
        self.at += 1;
        Ok(inner)
    }

    fn comparison(&mut self) -> Result<Filter, ScimError> {
        let attr = match self.tokens.get(self.at) {
            Some(Token::Word(w)) => w.clone(),
            _ => return Err(self.bad("an attribute name was expected")),
        };
        let name = bare_name(&attr, USER_SCHEMA);
        let name = bare_name(&name, GROUP_SCHEMA);
        if !self.known.contains(&name.as_str()) {
            return Err(self.bad(format!("cannot filter on `{attr}`")));
        }
        self.at += 1;
        let op = match self.tokens.get(self.at) {
            Some(Token::Word(w)) => w.to_ascii_lowercase(),
            _ => return Err(self.bad("an operator was expected")),
        };
        self.at += 1;
        let op = match op.as_str() {
            "pr" => return Ok(Filter::Present(name)),
            "eq" => CmpOp::Eq,
            "ne" => CmpOp::Ne,
            "co" => CmpOp::Co,
            "sw" => CmpOp::Sw,
            "ew" => CmpOp::Ew,
            "gt" => CmpOp::Gt,
            "ge" => CmpOp::Ge,
            "lt" => CmpOp::Lt,
            "le" => CmpOp::Le,
            other => return Err(self.bad(format!("unknown operator `{other}`"))),
        };
        let value = match self.tokens.get(self.at) {
            Some(Token::Literal(v)) => v.clone(),
            Some(Token::Word(w)) => match w.to_ascii_lowercase().as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                _ => match w.parse::<f64>() {
                    Ok(_) => Value::String(w.clone()),
                    Err(_) => return Err(self.bad(format!("`{w}` is not a value"))),
                },
            },
            _ => return Err(self.bad("a value was expected")),
        };
        self.at += 1;
        Ok(Filter::Compare(name, op, value))
    }
}

impl Filter {
    /// Parses `s`, refusing attributes not in `known` (bare, lower-case).
    pub fn parse(s: &str, known: &[&str]) -> Result<Filter, ScimError> {
        if s.len() > 4096 {
            return Err(ScimError::bad("invalidFilter", "the filter is too long"));
        }
        let mut p = Parser {
            tokens: tokens(s)?,
            at: 0,
            known,
        };
        let f = p.or()?;
        if p.at != p.tokens.len() {
            return Err(p.bad("the filter has more after its end"));
        }
        Ok(f)
    }

    /// Whether a resource matches; `values` gives an attribute's values
    /// (none: absent).
    pub fn matches(&self, values: &dyn Fn(&str) -> Option<Vec<Attr>>) -> bool {
        match self {
            Filter::And(a, b) => a.matches(values) && b.matches(values),
            Filter::Or(a, b) => a.matches(values) || b.matches(values),
            Filter::Not(a) => !a.matches(values),
            Filter::Present(name) => values(name).is_some_and(|v| !v.is_empty()),
            Filter::Compare(name, op, want) => {
                let have = values(name).unwrap_or_default();
                if want.is_null() {
                    return match op {
                        CmpOp::Eq => have.is_empty(),
                        CmpOp::Ne => !have.is_empty(),
                        _ => false,
                    };
                }
                have.iter().any(|a| compare(a, *op, want))
            }
        }
    }
}

fn compare(have: &Attr, op: CmpOp, want: &Value) -> bool {
    match (have, want) {
        (Attr::Bool(h), Value::Bool(w)) => match op {
            CmpOp::Eq => h == w,
            CmpOp::Ne => h != w,
            _ => false,
        },
        (Attr::Text(h, exact), Value::String(w)) => {
            let (h, w) = if *exact {
                (h.clone(), w.clone())
            } else {
                (h.to_lowercase(), w.to_lowercase())
            };
            match op {
                CmpOp::Eq => h == w,
                CmpOp::Ne => h != w,
                CmpOp::Co => h.contains(&w),
                CmpOp::Sw => h.starts_with(&w),
                CmpOp::Ew => h.ends_with(&w),
                CmpOp::Gt => h > w,
                CmpOp::Ge => h >= w,
                CmpOp::Lt => h < w,
                CmpOp::Le => h <= w,
            }
        }
        _ => false,
    }
}

/// Keeps what `attributes` asks for (plus `id` and `schemas`, always
/// returned), or drops what `excludedAttributes` names (RFC 7644 §3.9).
/// Names are compared bare and case-insensitively, by their first part.
pub fn project(
    resource: &mut Map<String, Value>,
    schema: &str,
    attributes: Option<&str>,
    excluded: Option<&str>,
) {
    let names = |list: &str| -> Vec<String> {
        list.split(',')
            .map(|n| bare_name(n, schema))
            .map(|n| n.split('.').next().unwrap_or_default().to_string())
            .filter(|n| !n.is_empty())
            .collect()
    };
    let always = |k: &str| k == "id" || k == "schemas";
    if let Some(list) = attributes.filter(|l| !l.trim().is_empty()) {
        let keep = names(list);
        resource.retain(|k, _| always(k) || keep.contains(&k.to_ascii_lowercase()));
    } else if let Some(list) = excluded.filter(|l| !l.trim().is_empty()) {
        let drop = names(list);
        resource.retain(|k, _| always(k) || !drop.contains(&k.to_ascii_lowercase()));
    }
}

/// The slice of a list `startIndex` (1-based; below 1 is 1) and `count`
/// (below 0 is 0; capped at [`MAX_RESULTS`]) ask for: offset and length.
pub fn window(start_index: Option<i64>, count: Option<i64>) -> (usize, usize) {
    let start = start_index.unwrap_or(1).max(1) - 1;
    let count = count
        .unwrap_or(MAX_RESULTS as i64)
        .clamp(0, MAX_RESULTS as i64);
    (usize::try_from(start).unwrap_or(usize::MAX), count as usize)
}

/// The role a provisioned person's groups give them under `mapping`
/// (group display name → role, compared case-insensitively): the highest
/// of admin, recruiter, member; member when no group is mapped.
pub fn role_from_groups(groups: &[String], mapping: &[(String, AccountRole)]) -> AccountRole {
    let rank = |r: AccountRole| match r {
        AccountRole::Admin => 2,
        AccountRole::Recruiter => 1,
        AccountRole::Member => 0,
    };
    groups
        .iter()
        .filter_map(|g| {
            mapping
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(g))
                .map(|(_, r)| *r)
        })
        .max_by_key(|r| rank(*r))
        .unwrap_or(AccountRole::Member)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn okta_user() -> Value {
        json!({
            "schemas": [USER_SCHEMA],
            "userName": "ann@example.com",
            "name": {"givenName": "Ann", "familyName": "Lee"},
            "emails": [{"primary": false, "value": "ann.home@example.com", "type": "home"},
                       {"primary": true, "value": "ann@example.com", "type": "work"}],
            "displayName": null,
            "active": true,
            "externalId": "00u1"
        })
    }

    #[test]
    fn reads_a_user_as_okta_sends_it() {
        let u = UserFields::from_resource(&okta_user()).unwrap();
        assert_eq!(u.email, "ann@example.com", "the primary address wins");
        assert_eq!(u.account_name(), "Ann Lee");
        assert_eq!(u.external_id.as_deref(), Some("00u1"));
        assert!(u.active);
    }

    #[test]
    fn a_user_needs_a_name_and_an_address() {
        let e = UserFields::from_resource(&json!({"emails": [{"value": "a@b.c"}]})).unwrap_err();
        assert_eq!((e.status, e.scim_type), (400, Some("invalidValue")));
        let e = UserFields::from_resource(&json!({"userName": "a"})).unwrap_err();
        assert!(e.detail.contains("emails"), "{e:?}");
        let e = UserFields::from_resource(&json!({"schemas": [GROUP_SCHEMA], "userName": "a"}))
            .unwrap_err();
        assert_eq!(e.scim_type, Some("invalidSyntax"));
    }

    #[test]
    fn deactivation_in_the_forms_providers_send() {
        let mut u = UserFields::from_resource(&okta_user()).unwrap();
        let okta = json!({"schemas": [PATCH_SCHEMA],
            "Operations": [{"op": "replace", "value": {"active": false}}]});
        u.apply(&patch_ops(&okta).unwrap()).unwrap();
        assert!(!u.active);
        let entra = json!({"schemas": [PATCH_SCHEMA],
            "Operations": [{"op": "Replace", "path": "active", "value": "True"}]});
        u.apply(&patch_ops(&entra).unwrap()).unwrap();
        assert!(u.active);
        let bad = json!({"Operations": [{"op": "Replace", "path": "active", "value": "yes"}]});
        assert!(u.clone().apply(&patch_ops(&bad).unwrap()).is_err());
    }

    #[test]
    fn patch_paths_as_entra_sends_them() {
        let mut u = UserFields::from_resource(&okta_user()).unwrap();
        let ops = json!({"Operations": [
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@example.com"},
            {"op": "Add", "path": "name.givenName", "value": "Anne"},
            {"op": "Replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:displayName", "value": "Anne L."},
            {"op": "remove", "path": "externalId"}
        ]});
        u.apply(&patch_ops(&ops).unwrap()).unwrap();
        assert_eq!(u.email, "new@example.com");
        assert_eq!(u.given_name.as_deref(), Some("Anne"));
        assert_eq!(u.account_name(), "Anne L.");
        assert_eq!(u.external_id, None);
        let e = u
            .clone()
            .apply(
                &patch_ops(&json!({"Operations": [{"op": "remove", "path": "emails"}]})).unwrap(),
            )
            .unwrap_err();
        assert_eq!(e.scim_type, Some("mutability"));
        let e = u
            .clone()
            .apply(
                &patch_ops(
                    &json!({"Operations": [{"op": "add", "path": "nickName", "value": "x"}]}),
                )
                .unwrap(),
            )
            .unwrap_err();
        assert_eq!(e.scim_type, Some("invalidPath"));
        assert!(patch_ops(&json!({"Operations": [{"op": "move", "path": "x"}]})).is_err());
        assert!(patch_ops(&json!({"Operations": []})).is_err());
    }

    #[test]
    fn group_membership_operations() {
        let mut g = GroupFields::from_resource(&json!({
            "schemas": [GROUP_SCHEMA], "displayName": "Recruiters",
            "members": [{"value": "a"}, {"value": "b"}]
        }))
        .unwrap();
        let ops = |v: Value| patch_ops(&json!({"Operations": v})).unwrap();
        g.apply(&ops(
            json!([{"op": "add", "path": "members", "value": [{"value": "c"}, {"value": "a"}]}]),
        ))
        .unwrap();
        assert_eq!(g.members, ["a", "b", "c"]);
        g.apply(&ops(
            json!([{"op": "remove", "path": "members[value eq \"b\"]"}]),
        ))
        .unwrap();
        assert_eq!(g.members, ["a", "c"]);
        g.apply(&ops(
            json!([{"op": "Remove", "path": "members", "value": [{"value": "a"}]}]),
        ))
        .unwrap();
        assert_eq!(g.members, ["c"]);
        g.apply(&ops(
            json!([{"op": "replace", "value": {"displayName": "Admins", "members": []}}]),
        ))
        .unwrap();
        assert_eq!((g.display_name.as_str(), g.members.len()), ("Admins", 0));
        assert!(
            g.apply(&ops(json!([{"op": "remove", "path": "displayName"}])))
                .is_err()
        );
    }

    fn ann(name: &str) -> Option<Vec<Attr>> {
        match name {
            "username" => Some(vec![Attr::Text("Ann@Example.com".into(), false)]),
            "externalid" => Some(vec![Attr::Text("00u1".into(), true)]),
            "emails.value" => Some(vec![Attr::Text("ann@example.com".into(), false)]),
            "active" => Some(vec![Attr::Bool(true)]),
            _ => None,
        }
    }

    const KNOWN: &[&str] = &[
        "username",
        "externalid",
        "emails.value",
        "displayname",
        "active",
    ];

    #[test]
    fn filters_match_as_rfc_7644_says() {
        let m = |f: &str| Filter::parse(f, KNOWN).unwrap().matches(&ann);
        assert!(
            m(r#"userName eq "ann@example.com""#),
            "userName is not case-exact"
        );
        assert!(!m(r#"externalId eq "00U1""#), "externalId is case-exact");
        assert!(m(r#"emails.value co "example""#));
        assert!(m(r#"userName sw "ann" and active eq true"#));
        assert!(m(r#"userName sw "bob" or externalId pr"#));
        assert!(!m(r#"not (userName pr)"#));
        assert!(m(r#"displayName eq null"#));
        assert!(m(r#"(userName ew ".com") and not (active eq false)"#));
        assert!(m(
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "ANN@example.com""#
        ));
    }

    #[test]
    fn bad_filters_are_invalid_filter() {
        for f in [
            "",
            "userName",
            r#"userName eq"#,
            r#"userName xx "a""#,
            r#"nickName eq "a""#,
            r#"(userName eq "a""#,
            r#"userName eq "a" extra"#,
            r#"emails[type eq "work"] pr"#,
            r#"userName eq "unterminated"#,
            r#"userName eq bare"#,
        ] {
            let e = Filter::parse(f, KNOWN).unwrap_err();
            assert_eq!(e.scim_type, Some("invalidFilter"), "{f}");
        }
    }

    #[test]
    fn projection_and_window() {
        let mut r =
            json!({"id": "1", "schemas": [], "userName": "a", "emails": [], "active": true})
                .as_object()
                .unwrap()
                .clone();
        project(&mut r, USER_SCHEMA, Some("userName,emails.value"), None);
        let mut keys: Vec<&String> = r.keys().collect();
        keys.sort();
        assert_eq!(keys, ["emails", "id", "schemas", "userName"]);
        project(&mut r, USER_SCHEMA, None, Some("emails, id"));
        assert!(!r.contains_key("emails") && r.contains_key("id"));
        assert_eq!(window(None, None), (0, MAX_RESULTS));
        assert_eq!(window(Some(0), Some(-5)), (0, 0));
        assert_eq!(window(Some(11), Some(10_000)), (10, MAX_RESULTS));
    }

    #[test]
    fn groups_give_the_highest_mapped_role() {
        let mapping = vec![
            ("Recruiters".to_string(), AccountRole::Recruiter),
            ("Admins".to_string(), AccountRole::Admin),
        ];
        let g = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(role_from_groups(&g(&[]), &mapping), AccountRole::Member);
        assert_eq!(
            role_from_groups(&g(&["recruiters"]), &mapping),
            AccountRole::Recruiter
        );
        assert_eq!(
            role_from_groups(&g(&["Recruiters", "ADMINS", "x"]), &mapping),
            AccountRole::Admin
        );
    }
}
