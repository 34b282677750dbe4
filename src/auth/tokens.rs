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

/// The claims of an access token issued to an OAuth client (a service
/// token, by the client credentials grant): `typ` is `client`, so it never
/// passes as a person's token, and the service token is looked up on every
/// request, so revoking it ends these at once.
#[derive(Debug, Serialize, Deserialize)]
pub struct ClientClaims {
    /// The service token's id (the OAuth client).
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    /// Always `client`.
    pub typ: String,
    /// Space-separated scope names: the token's or fewer.
    pub scope: String,
}

/// jsonwebtoken's cryptography for the one algorithm this service signs and
/// accepts, HS256, with the `hmac` and `sha2` crates it already uses. The
/// crate's `rust_crypto` bundle would also bring RSA (RUSTSEC-2023-0071, no
/// fixed release), ECDSA and EdDSA code that an HS256-only service never
/// runs; `aws_lc_rs` would bring a C build. Any other algorithm is an error.
mod hs256 {
    use hmac::{Hmac, Mac};
    use jsonwebtoken::crypto::{CryptoProvider, JwkUtils, JwtSigner, JwtVerifier};
    use jsonwebtoken::errors::{ErrorKind, Result};
    use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
    use sha2::Sha256;
    use signature::{Signer, Verifier};

    pub struct Hs256(Hmac<Sha256>);

    impl Hs256 {
        fn new(algorithm: &Algorithm, secret: &[u8]) -> Result<Hs256> {
            if *algorithm != Algorithm::HS256 {
                return Err(ErrorKind::InvalidAlgorithm.into());
            }
            Ok(Hs256(
                Hmac::new_from_slice(secret).map_err(|_| ErrorKind::InvalidKeyFormat)?,
            ))
        }
    }

    impl Signer<Vec<u8>> for Hs256 {
        fn try_sign(&self, msg: &[u8]) -> std::result::Result<Vec<u8>, signature::Error> {
            let mut mac = self.0.clone();
            mac.update(msg);
            Ok(mac.finalize().into_bytes().to_vec())
        }
    }

    impl Verifier<Vec<u8>> for Hs256 {
        /// Constant-time comparison (`verify_slice`).
        fn verify(
            &self,
            msg: &[u8],
            signature: &Vec<u8>,
        ) -> std::result::Result<(), signature::Error> {
            let mut mac = self.0.clone();
            mac.update(msg);
            mac.verify_slice(signature)
                .map_err(signature::Error::from_source)
        }
    }

    impl JwtSigner for Hs256 {
        fn algorithm(&self) -> Algorithm {
            Algorithm::HS256
        }
    }

    impl JwtVerifier for Hs256 {
        fn algorithm(&self) -> Algorithm {
            Algorithm::HS256
        }
    }

    fn signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
        Ok(Box::new(Hs256::new(algorithm, key.try_get_hmac_secret()?)?))
    }

    fn verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
        Ok(Box::new(Hs256::new(algorithm, key.try_get_hmac_secret()?)?))
    }

    pub static PROVIDER: CryptoProvider = CryptoProvider {
        signer_factory: signer,
        verifier_factory: verifier,
        jwk_utils: JwkUtils::new_unimplemented(),
    };
}

/// Installs the HS256-only provider as jsonwebtoken's process default;
/// [`Keys::new`] does it, so anything holding keys can sign and verify.
pub fn install_jwt_crypto() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Err only if another provider was installed first: none is.
        let _ = hs256::PROVIDER.install_default();
    });
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
        install_jwt_crypto();
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

    /// An access token for the OAuth client `token_id` with `scope`.
    pub fn issue_client(&self, token_id: &str, scope: &str) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        let claims = ClientClaims {
            sub: token_id.to_string(),
            iat: now,
            exp: now + self.access_ttl.as_secs() as i64,
            typ: "client".into(),
            scope: scope.to_string(),
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    /// The claims of a valid client access token; `None` for anything else,
    /// a person's access token included.
    pub fn verify_client(&self, token: &str) -> Option<ClientClaims> {
        let data =
            jsonwebtoken::decode::<ClientClaims>(token, &self.decoding, &self.validation).ok()?;
        (data.claims.typ == "client").then_some(data.claims)
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
    fn only_hs256_is_ever_signed_or_verified() {
        install_jwt_crypto();
        let key = EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef");
        for alg in [Algorithm::HS384, Algorithm::HS512, Algorithm::RS256] {
            assert!(
                jsonwebtoken::encode(&Header::new(alg), &"{}", &key).is_err(),
                "{alg:?}"
            );
        }
        let decoding = DecodingKey::from_secret(b"0123456789abcdef0123456789abcdef");
        let sig = jsonwebtoken::crypto::sign(b"a.b", &key, Algorithm::HS256).unwrap();
        assert!(jsonwebtoken::crypto::verify(&sig, b"a.b", &decoding, Algorithm::HS256).unwrap());
        assert!(!jsonwebtoken::crypto::verify(&sig, b"a.c", &decoding, Algorithm::HS256).unwrap());
        assert!(jsonwebtoken::crypto::verify(&sig, b"a.b", &decoding, Algorithm::HS512).is_err());
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
    fn client_and_person_tokens_never_pass_for_each_other() {
        let k = keys("0123456789abcdef0123456789abcdef");
        let client = k.issue_client("t1", "users:read").unwrap();
        let person = k.issue("u1", "admin", 0).unwrap();
        let claims = k.verify_client(&client).unwrap();
        assert_eq!(
            (claims.sub.as_str(), claims.scope.as_str()),
            ("t1", "users:read")
        );
        assert!(k.verify(&client).is_none());
        assert!(k.verify_client(&person).is_none());
        assert!(
            keys("another-secret-another-secret-xx")
                .verify_client(&client)
                .is_none()
        );
    }

    #[test]
    fn random_tokens_differ() {
        assert_ne!(random_token(), random_token());
        assert_eq!(token_hash("x").len(), 64);
    }
}
