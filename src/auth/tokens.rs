//! Access tokens (HS256 JWTs) and opaque refresh tokens.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Secret;

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// Account role at issue time (informational; the stored role rules).
    pub role: String,
    pub iat: i64,
    pub exp: i64,
    /// Always `access`, so no other token kind can pass as one.
    pub typ: String,
    /// The account's session epoch at issue; a token of an older epoch is
    /// refused (an operator changed the password or email since).
    #[serde(default)]
    pub sep: i64,
}

#[derive(Clone)]
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub access_ttl: Duration,
}

impl Keys {
    pub fn new(secret: &Secret, access_ttl: Duration) -> Keys {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub", "iat"]);
        Keys {
            encoding: EncodingKey::from_secret(secret.expose().as_bytes()),
            decoding: DecodingKey::from_secret(secret.expose().as_bytes()),
            validation,
            access_ttl,
        }
    }

    pub fn issue(&self, user_id: &str, role: &str, session_epoch: i32) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user_id.to_string(),
            role: role.to_string(),
            iat: now,
            exp: now + self.access_ttl.as_secs() as i64,
            typ: "access".into(),
            sep: i64::from(session_epoch),
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    /// The claims of a valid access token; `None` for anything else
    /// (expired, tampered, other key, other algorithm, `alg: none`).
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).ok()?;
        (data.claims.typ == "access").then_some(data.claims)
    }
}

/// A new random secret: 32 bytes, URL-safe base64.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Refresh tokens are stored only as this hash.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(s: &str) -> Keys {
        Keys::new(&Secret::new(s), Duration::from_secs(900))
    }

    #[test]
    fn round_trip_and_rejections() {
        let k = keys("0123456789abcdef0123456789abcdef");
        let t = k.issue("u1", "admin", 0).unwrap();
        assert_eq!(k.verify(&t).unwrap().sub, "u1");
        assert!(
            keys("another-secret-another-secret-xx")
                .verify(&t)
                .is_none()
        );
        // alg: none, unsigned.
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD.encode(format!(
            r#"{{"sub":"u1","role":"admin","iat":0,"exp":{},"typ":"access"}}"#,
            chrono::Utc::now().timestamp() + 600
        ));
        assert!(k.verify(&format!("{header}.{body}.")).is_none());
        // Tampered payload.
        let parts: Vec<&str> = t.split('.').collect();
        assert!(
            k.verify(&format!("{}.{}.{}", parts[0], body, parts[2]))
                .is_none()
        );
    }

    #[test]
    fn random_tokens_differ() {
        assert_ne!(random_token(), random_token());
        assert_eq!(token_hash("x").len(), 64);
    }
}
