//! Password hashing: argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane), run on the
//! blocking pool so that the async runtime keeps serving while a hash is computed.

use std::sync::LazyLock;

use argon2::{
    Algorithm, Argon2, Params, Version,
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
};

use crate::{error::Error, names::Password, secret::random_bytes};

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_blocking(password: &str) -> Result<String, Error> {
    let salt = SaltString::encode_b64(&random_bytes::<16>())
        .map_err(|e| Error::Internal(format!("salt: {e}")))?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| Error::Internal(format!("argon2: {e}")))
}

fn verify_blocking(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash for a password, in PHC string form.
pub async fn hash(password: &Password) -> Result<String, Error> {
    let password = password.expose().to_string();
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(|e| Error::Internal(format!("hashing task: {e}")))?
}

/// Whether `password` matches `stored`. With `stored = None` (unknown user) a dummy hash is
/// checked instead, so that both cases take the same time.
pub async fn verify(password: &str, stored: Option<String>) -> bool {
    static DUMMY: LazyLock<String> =
        LazyLock::new(|| hash_blocking("not a real password, only for timing").unwrap_or_default());
    let password = password.to_string();
    let known = stored.is_some();
    tokio::task::spawn_blocking(move || {
        let stored = stored.unwrap_or_else(|| DUMMY.clone());
        verify_blocking(&password, &stored) && known
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_reveal_nothing() {
        let password = Password::parse("correct horse battery").unwrap();
        let stored = hash(&password).await.unwrap();
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert!(!stored.contains("horse"));
        assert!(verify("correct horse battery", Some(stored.clone())).await);
        assert!(!verify("correct horse batterY", Some(stored)).await);
        assert!(!verify("not a real password, only for timing", None).await);
    }
}
