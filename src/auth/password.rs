//! Password hashing with argon2id at OWASP's parameters (m=19456 KiB, t=2,
//! p=1), always on the blocking pool and never more at once than the
//! machine can spare, so a login storm cannot starve ordinary requests.

use std::sync::Arc;

use argon2::password_hash::{
    PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString, rand_core::OsRng,
};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::error::{AppError, AppResult};

fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash_blocking(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))
}

pub fn verify_blocking(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Hashes and verifies off the async workers, a bounded number at a time.
#[derive(Clone)]
pub struct Passwords {
    /// Verified against when the email is unknown, so that answer takes as
    /// long as a wrong password.
    dummy_hash: Arc<String>,
    permits: Arc<Semaphore>,
}

impl Passwords {
    pub fn new() -> anyhow::Result<Self> {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        Ok(Passwords {
            dummy_hash: Arc::new(hash_blocking("not a real password, only for timing")?),
            permits: Arc::new(Semaphore::new((cores / 2).max(1))),
        })
    }

    pub async fn hash(&self, password: String) -> AppResult<String> {
        let _permit = self.permits.acquire().await.map_err(anyhow::Error::from)?;
        actix_web::web::block(move || hash_blocking(&password))
            .await?
            .map_err(AppError::Internal)
    }

    /// True when `password` matches `hash`; with no hash (unknown user) it
    /// does the same work and answers false.
    pub async fn verify(&self, password: String, hash: Option<String>) -> AppResult<bool> {
        let _permit = self.permits.acquire().await.map_err(anyhow::Error::from)?;
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.as_ref().clone());
        let ok = actix_web::web::block(move || verify_blocking(&password, &hash)).await?;
        Ok(ok && known)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters() {
        let h = hash_blocking("correct horse battery staple").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_blocking("correct horse battery staple", &h));
        assert!(!verify_blocking("wrong", &h));
        assert!(!verify_blocking("anything", "not a hash"));
    }
}
