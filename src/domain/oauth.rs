//! OAuth 2.0 client credentials (RFC 6749 §4.4) for HR tooling: a service
//! token's id and secret are a confidential client's credentials, and the
//! token endpoint trades them for a short-lived access token carrying the
//! token's scopes or fewer. These are the rules of the request; the
//! workflow looks the client up and signs.

use super::scopes::Scope;

/// The one grant this server supports.
pub const CLIENT_CREDENTIALS: &str = "client_credentials";

/// An error of the token endpoint, as RFC 6749 §5.2 names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub kind: ErrorKind,
    pub description: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Malformed: a missing or repeated parameter, two client
    /// authentication methods, a body that is not a form.
    InvalidRequest,
    /// Unknown client, wrong secret, revoked or expired token, or its
    /// admin deactivated (401).
    InvalidClient,
    UnsupportedGrantType,
    /// A requested scope the token does not hold, or an unknown one.
    InvalidScope,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidRequest => "invalid_request",
            ErrorKind::InvalidClient => "invalid_client",
            ErrorKind::UnsupportedGrantType => "unsupported_grant_type",
            ErrorKind::InvalidScope => "invalid_scope",
        }
    }

    /// 401 for client authentication, 400 for everything else (§5.2).
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::InvalidClient => 401,
            _ => 400,
        }
    }
}

fn error(kind: ErrorKind, description: impl Into<String>) -> OAuthError {
    OAuthError {
        kind,
        description: description.into(),
    }
}

/// A token request as it came: the form's parameters in order, and the
/// client's credentials from an `Authorization: Basic` header if one was
/// sent (already decoded).
pub struct TokenRequest<'a> {
    pub form: &'a [(String, String)],
    pub basic: Option<(String, String)>,
}

/// What a well-formed request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientGrant {
    pub client_id: String,
    pub client_secret: String,
    /// `None` when no scope was asked for: the token's own scopes.
    pub scope: Option<Vec<Scope>>,
}

/// Checks a token request's shape (§4.4.2, §2.3.1, §3.2): each parameter
/// at most once (an empty one counts as absent, §3.1), the grant type,
/// exactly one way of authenticating the client, and known scope names.
pub fn parse(request: TokenRequest<'_>) -> Result<ClientGrant, OAuthError> {
    let get = |name: &str| -> Result<Option<String>, OAuthError> {
        let mut values = request
            .form
            .iter()
            .filter(|(k, v)| k == name && !v.is_empty());
        let first = values.next().map(|(_, v)| v.clone());
        if values.next().is_some() {
            return Err(error(
                ErrorKind::InvalidRequest,
                format!("`{name}` is given more than once"),
            ));
        }
        Ok(first)
    };
    let grant_type = get("grant_type")?;
    let body_id = get("client_id")?;
    let body_secret = get("client_secret")?;
    let scope = get("scope")?;
    let grant_type = grant_type.ok_or_else(|| {
        error(
            ErrorKind::InvalidRequest,
            "`grant_type` is required (`client_credentials`)",
        )
    })?;
    if grant_type != CLIENT_CREDENTIALS {
        return Err(error(
            ErrorKind::UnsupportedGrantType,
            format!("only `{CLIENT_CREDENTIALS}` is supported"),
        ));
    }
    let (client_id, client_secret) = match (request.basic, body_id, body_secret) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err(error(
                ErrorKind::InvalidRequest,
                "the client authenticates one way: HTTP Basic or `client_id` and \
                 `client_secret` in the body, not both",
            ));
        }
        (Some(basic), None, None) => basic,
        (None, Some(id), Some(secret)) => (id, secret),
        (None, _, _) => {
            return Err(error(
                ErrorKind::InvalidClient,
                "client authentication is required: HTTP Basic with the service \
                 token's id and secret (or `client_id` and `client_secret`)",
            ));
        }
    };
    let scope = scope
        .map(|s| {
            s.split(' ')
                .filter(|s| !s.is_empty())
                .map(|name| {
                    name.parse::<Scope>().map_err(|_| {
                        error(ErrorKind::InvalidScope, format!("unknown scope `{name}`"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    Ok(ClientGrant {
        client_id,
        client_secret,
        scope,
    })
}

/// The scopes an access token gets: what was asked for, each held by the
/// client (§3.3: never more than it holds), or all it holds.
pub fn narrow(held: &[Scope], asked: Option<&[Scope]>) -> Result<Vec<Scope>, OAuthError> {
    let Some(asked) = asked else {
        return Ok(held.to_vec());
    };
    if let Some(extra) = asked.iter().find(|s| !held.contains(s)) {
        return Err(error(
            ErrorKind::InvalidScope,
            format!("this client does not hold `{}`", extra.as_str()),
        ));
    }
    let mut granted: Vec<Scope> = asked.to_vec();
    granted.sort();
    granted.dedup();
    Ok(granted)
}

/// The `scope` member of an answer: space-separated names.
pub fn scope_string(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The client's credentials in an `Authorization: Basic` value: base64 of
/// `id:secret`, each form-urlencoded first (§2.3.1). `None` when the value
/// is not Basic at all; an error when it is but cannot be read.
pub fn basic_credentials(
    header: &str,
    decode_base64: impl Fn(&str) -> Option<Vec<u8>>,
    percent_decode: impl Fn(&str) -> Option<String>,
) -> Option<Result<(String, String), OAuthError>> {
    let (scheme, rest) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let bad = || {
        error(
            ErrorKind::InvalidClient,
            "the Basic credentials cannot be read",
        )
    };
    let read = || -> Option<(String, String)> {
        let raw = String::from_utf8(decode_base64(rest.trim())?).ok()?;
        let (id, secret) = raw.split_once(':')?;
        Some((percent_decode(id)?, percent_decode(secret)?))
    };
    Some(read().ok_or_else(bad))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn kind(r: Result<ClientGrant, OAuthError>) -> ErrorKind {
        r.expect_err("should be refused").kind
    }

    #[test]
    fn a_basic_request_and_a_body_request_are_read_alike() {
        let f = form(&[("grant_type", "client_credentials")]);
        let basic = parse(TokenRequest {
            form: &f,
            basic: Some(("id".into(), "brt_s".into())),
        })
        .unwrap();
        let f = form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "id"),
            ("client_secret", "brt_s"),
        ]);
        let body = parse(TokenRequest {
            form: &f,
            basic: None,
        })
        .unwrap();
        assert_eq!(basic, body);
        assert_eq!(basic.scope, None);
    }

    #[test]
    fn malformed_requests_get_the_rfc_error_they_deserve() {
        type Case = (Vec<(String, String)>, Option<(String, String)>, ErrorKind);
        let creds = || Some(("id".to_string(), "s".to_string()));
        let cases: Vec<Case> = vec![
            (form(&[]), creds(), ErrorKind::InvalidRequest),
            (
                form(&[("grant_type", "password")]),
                creds(),
                ErrorKind::UnsupportedGrantType,
            ),
            (
                form(&[
                    ("grant_type", "client_credentials"),
                    ("grant_type", "client_credentials"),
                ]),
                creds(),
                ErrorKind::InvalidRequest,
            ),
            (
                form(&[("grant_type", "client_credentials"), ("client_id", "id")]),
                creds(),
                ErrorKind::InvalidRequest,
            ),
            (
                form(&[("grant_type", "client_credentials")]),
                None,
                ErrorKind::InvalidClient,
            ),
            (
                form(&[("grant_type", "client_credentials"), ("client_id", "id")]),
                None,
                ErrorKind::InvalidClient,
            ),
            (
                form(&[("grant_type", "client_credentials"), ("scope", "root")]),
                creds(),
                ErrorKind::InvalidScope,
            ),
        ];
        for (f, basic, want) in cases {
            assert_eq!(kind(parse(TokenRequest { form: &f, basic })), want, "{f:?}");
        }
    }

    #[test]
    fn an_empty_parameter_counts_as_absent() {
        let f = form(&[("grant_type", "client_credentials"), ("scope", "")]);
        let g = parse(TokenRequest {
            form: &f,
            basic: Some(("id".into(), "s".into())),
        })
        .unwrap();
        assert_eq!(g.scope, None);
    }

    #[test]
    fn scopes_narrow_but_never_widen() {
        let held = [Scope::UsersRead, Scope::LoopsRead];
        assert_eq!(narrow(&held, None).unwrap(), held.to_vec());
        assert_eq!(
            narrow(&held, Some(&[Scope::LoopsRead, Scope::LoopsRead])).unwrap(),
            vec![Scope::LoopsRead]
        );
        assert_eq!(narrow(&held, Some(&[])).unwrap(), Vec::<Scope>::new());
        assert_eq!(
            narrow(&held, Some(&[Scope::UsersWrite])).unwrap_err().kind,
            ErrorKind::InvalidScope
        );
        assert_eq!(
            scope_string(&[Scope::UsersRead, Scope::LoopsRead]),
            "users:read loops:read"
        );
    }

    #[test]
    fn basic_credentials_are_decoded_and_percent_decoded() {
        let b64 = |s: &str| (s == "aWQlM0E6c2VjcmV0").then(|| b"id%3A:secret".to_vec());
        let pct = |s: &str| Some(s.replace("%3A", ":"));
        assert_eq!(
            basic_credentials("Basic aWQlM0E6c2VjcmV0", b64, pct),
            Some(Ok(("id:".to_string(), "secret".to_string())))
        );
        assert_eq!(basic_credentials("Bearer x", b64, pct), None);
        assert_eq!(
            basic_credentials("basic !!!", b64, pct).map(|r| r.unwrap_err().kind),
            Some(ErrorKind::InvalidClient)
        );
    }
}
