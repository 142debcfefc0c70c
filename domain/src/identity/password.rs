//! Password hashing: argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane), run on the
//! blocking pool so that the async runtime keeps serving while a hash is computed.
//!
//! Hashes are bounded ([`HashLimit`]): at most so many run at once and so many wait; a hash
//! beyond that is refused with [`Error::Busy`] (503 with `Retry-After`) at once, so that a burst
//! of sign-ins cannot take the server's memory (19 MiB each) or its blocking pool.

use std::sync::{
    LazyLock, OnceLock,
    atomic::{AtomicUsize, Ordering},
};

use tokio::sync::{Semaphore, SemaphorePermit};

use argon2::{
    Algorithm, Argon2, Params, Version,
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
};

use crate::{error::Error, identity::names::Password, secret::random_bytes};

/// The password hash of an account without a password (made by single sign-on or SCIM): not a
/// PHC string, so no password ever matches it ([`verify`] spends the same time on it as on a
/// real one).
pub const NO_PASSWORD: &str = "!sso";

/// How many password hashes run at once, and how many may wait for a turn.
#[derive(Debug)]
pub struct HashLimit {
    running: Semaphore,
    waiting: AtomicUsize,
    max_waiting: usize,
}

impl HashLimit {
    /// How many may wait for a turn unless configured.
    pub const DEFAULT_WAITING: usize = 32;

    /// How many run at once unless configured: two per core (a hash is one core's work for a
    /// few tens of milliseconds).
    pub fn default_at_once() -> usize {
        std::thread::available_parallelism().map_or(2, usize::from) * 2
    }

    /// The defaults: [`HashLimit::default_at_once`], [`HashLimit::DEFAULT_WAITING`].
    pub fn default_for_this_machine() -> Self {
        HashLimit::new(Self::default_at_once(), Self::DEFAULT_WAITING)
    }

    pub fn new(at_once: usize, max_waiting: usize) -> Self {
        HashLimit {
            running: Semaphore::new(at_once.max(1)),
            waiting: AtomicUsize::new(0),
            max_waiting,
        }
    }

    /// A turn to hash, or [`Error::Busy`] when every turn is taken and the queue is full.
    async fn turn(&self) -> Result<SemaphorePermit<'_>, Error> {
        if let Ok(permit) = self.running.try_acquire() {
            return Ok(permit);
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(Error::Busy);
        }
        let permit = self.running.acquire().await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        permit.map_err(|_| Error::Busy)
    }
}

static LIMIT: OnceLock<HashLimit> = OnceLock::new();

/// Sets the limit for this process (the server does, from its configuration, before serving);
/// without it, [`HashLimit::default_for_this_machine`]. Later calls change nothing.
pub fn set_limit(limit: HashLimit) {
    let _ = LIMIT.set(limit);
}

fn limit() -> &'static HashLimit {
    LIMIT.get_or_init(HashLimit::default_for_this_machine)
}

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

/// A hash for a password, in PHC string form; [`Error::Busy`] when hashing is at its limit.
pub async fn hash(password: &Password) -> Result<String, Error> {
    let _turn = limit().turn().await?;
    let password = password.expose().to_string();
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(|e| Error::Internal(format!("hashing task: {e}")))?
}

/// Whether `password` matches `stored`. With `stored = None` (unknown user) a dummy hash is
/// checked instead, so that both cases take the same time. [`Error::Busy`] when hashing is at
/// its limit.
pub async fn verify(password: &str, stored: Option<String>) -> Result<bool, Error> {
    static DUMMY: LazyLock<String> =
        LazyLock::new(|| hash_blocking("not a real password, only for timing").unwrap_or_default());
    let _turn = limit().turn().await?;
    let password = password.to_string();
    // An account with no password (single sign-on's [`NO_PASSWORD`]) costs the same time as
    // an unknown one, so that timing tells nothing about which accounts exist.
    let stored = stored.filter(|hash| PasswordHash::new(hash).is_ok());
    let known = stored.is_some();
    Ok(tokio::task::spawn_blocking(move || {
        let stored = stored.unwrap_or_else(|| DUMMY.clone());
        verify_blocking(&password, &stored) && known
    })
    .await
    .unwrap_or(false))
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
        assert!(
            verify("correct horse battery", Some(stored.clone()))
                .await
                .unwrap()
        );
        assert!(!verify("correct horse batterY", Some(stored)).await.unwrap());
        assert!(
            !verify("not a real password, only for timing", None)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn turns_beyond_the_running_and_waiting_limits_are_refused_at_once() {
        let limit: &'static HashLimit = Box::leak(Box::new(HashLimit::new(1, 1)));
        let running = limit.turn().await.unwrap();
        // One may wait for the running hash...
        let waiter = tokio::spawn(async move { limit.turn().await.map(|_| ()) });
        while limit.waiting.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        // ...a third, with the queue full, is refused at once.
        assert!(matches!(limit.turn().await, Err(Error::Busy)));
        drop(running);
        assert!(waiter.await.unwrap().is_ok());
    }
}
