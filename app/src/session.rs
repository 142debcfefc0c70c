//! Server-side helpers shared by server functions: the database, the signed-in user, the
//! client's address, and setting or clearing the session cookie.
//!
//! The server's session middleware has already resolved the cookie (once per request) and put
//! the user, if any, into the request's extensions; these helpers read it from there.

use std::sync::Arc;

use domain::{identity::users::User, throttle::FailedAuth};
use http::{HeaderValue, header, request::Parts};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use sea_orm::DatabaseConnection;

use crate::{error::AppError, request::over_https};

pub fn db() -> Result<DatabaseConnection, AppError> {
    use_context::<DatabaseConnection>().ok_or_else(|| {
        tracing::error!("no database connection in the Leptos context");
        AppError::Internal
    })
}

fn parts() -> Option<Parts> {
    use_context::<Parts>()
}

/// The signed-in user, if any.
pub fn current_user() -> Option<User> {
    parts().and_then(|p| p.extensions.get::<User>().cloned())
}

/// The signed-in user, or `Unauthenticated`.
pub fn require_user() -> Result<User, AppError> {
    current_user().ok_or(AppError::Unauthenticated)
}

/// When the signed-in person last proved who they are: put into the request's extensions by the
/// server's session guard, with the user.
#[derive(Clone, Copy, Debug)]
pub struct Authenticated(pub chrono::DateTime<chrono::Utc>);

/// Sudo mode (`domain::identity::sudo`): the signed-in user, if they proved who they are within
/// the sudo window; otherwise `ReauthenticationRequired`, which the page answers with the
/// confirm-it-is-you dialog (`crate::sudo`). For every sensitive change.
pub fn require_recent_sign_in() -> Result<User, AppError> {
    let user = require_user()?;
    let window = use_context::<domain::identity::sudo::SudoWindow>().unwrap_or_default();
    let fresh = parts()
        .and_then(|p| p.extensions.get::<Authenticated>().copied())
        .is_some_and(|at| window.allows(at.0));
    if fresh {
        Ok(user)
    } else {
        Err(AppError::ReauthenticationRequired)
    }
}

/// The key authenticator-app secrets are sealed with (the server puts it into the context).
pub fn sealing_key() -> Result<domain::secret::SealingKey, AppError> {
    use_context::<domain::secret::SealingKey>().ok_or_else(|| {
        tracing::error!("no sealing key in the Leptos context");
        AppError::Internal
    })
}

/// The second sign-in step's cookie (`domain::identity::two_factor::challenge`), if any.
pub fn challenge_cookie() -> Option<String> {
    let parts = parts()?;
    let name = domain::identity::two_factor::challenge::cookie_name(over_https(&parts.extensions));
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|h| domain::identity::sessions::cookie_named(h, &name).map(str::to_string))
}

pub fn set_challenge_cookie(
    id: &domain::identity::two_factor::challenge::ChallengeId,
) -> Result<(), AppError> {
    append_set_cookie(domain::identity::two_factor::challenge::set_cookie(
        id,
        is_https(),
    ))
}

pub fn clear_challenge_cookie() -> Result<(), AppError> {
    append_set_cookie(domain::identity::two_factor::challenge::clear_cookie(
        is_https(),
    ))
}

/// `user`, signed in, acting from the client's address: what the activity log records.
pub fn origin(user: &User) -> domain::Origin<i64> {
    domain::Origin::new(user.id, client_ip())
}

/// The client's IP address as the server worked it out (see the server's `guard::client_ip`).
pub fn client_ip() -> Option<std::net::IpAddr> {
    parts().and_then(|p| p.extensions.get::<domain::ClientIp>().map(|ip| ip.0))
}

/// The sign-up budget per client address, apart from the failed-authentication one
/// (`PATDESK_SIGN_UPS_PER_MINUTE`): every sign-up hashes a password.
#[derive(Clone)]
pub struct SignUps(pub Arc<FailedAuth>);

fn rate_limited(wait: domain::throttle::RetryAfter) -> AppError {
    AppError::RateLimited {
        retry_after: wait.seconds(),
    }
}

/// Counts a sign-in attempt against the client's address *before* the password is checked, so
/// that attempts sent at once cannot all pass before the first has failed; refuses it when the
/// address has no attempts left: in this process, and on PostgreSQL in the budget every
/// process shares (`domain::throttle`). A sign-in that succeeds gives its attempt back
/// ([`forgive_sign_in_attempt`]).
pub async fn reserve_sign_in_attempt() -> Result<(), AppError> {
    let (Some(throttle), Some(ip)) = (use_context::<Arc<FailedAuth>>(), client_ip()) else {
        return Ok(());
    };
    throttle.reserve(ip).map_err(rate_limited)?;
    // `count_shared_failure` says "wait" once its count reaches the limit it is given; this
    // attempt is counted before it has failed, so the limit itself is still allowed.
    let shared = domain::throttle::count_shared_failure(
        &db()?,
        ip,
        throttle.limit().saturating_add(1),
        throttle.window(),
    )
    .await?;
    if let Some(wait) = shared {
        throttle.block(ip, wait.0);
        return Err(rate_limited(wait));
    }
    Ok(())
}

/// Gives back the attempt [`reserve_sign_in_attempt`] counted: the sign-in did not fail on
/// its password (it succeeded, the account is suspended, or the server was busy).
pub async fn forgive_sign_in_attempt() {
    let (Some(throttle), Some(ip)) = (use_context::<Arc<FailedAuth>>(), client_ip()) else {
        return;
    };
    throttle.forgive(ip);
    if let Ok(db) = db()
        && let Err(error) = domain::throttle::forgive_shared_failure(&db, ip).await
    {
        tracing::warn!(%error, "could not take back a counted sign-in attempt");
    }
}

/// The budget of passkey ceremonies started per client address
/// (`PATDESK_PASSKEY_CEREMONIES_PER_MINUTE`): each keeps a row for five minutes, and signing
/// in with a passkey alone needs no account.
#[derive(Clone)]
pub struct PasskeyCeremonies(pub Arc<FailedAuth>);

/// Counts a passkey ceremony against the client's address, refusing it when the address has
/// started too many this minute.
pub fn reserve_passkey_ceremony() -> Result<(), AppError> {
    let (Some(PasskeyCeremonies(throttle)), Some(ip)) =
        (use_context::<PasskeyCeremonies>(), client_ip())
    else {
        return Ok(());
    };
    throttle.reserve(ip).map_err(rate_limited)
}

/// Counts a sign-up against the client's address, refusing it when the address has made too
/// many this minute.
pub fn reserve_sign_up() -> Result<(), AppError> {
    let (Some(SignUps(throttle)), Some(ip)) = (use_context::<SignUps>(), client_ip()) else {
        return Ok(());
    };
    throttle.reserve(ip).map_err(rate_limited)
}

/// The session id in the request's cookie, if any.
pub fn session_cookie() -> Option<String> {
    let parts = parts()?;
    session_cookie_of(&parts.extensions, &parts.headers)
}

/// The session id in a request's cookie (the `__Host-` one over HTTPS, as
/// [`over_https`] reads the request's extensions), if any: the one reading of it, for the
/// server's session guard and the server functions alike.
pub fn session_cookie_of(
    extensions: &http::Extensions,
    headers: &http::HeaderMap,
) -> Option<String> {
    let secure = over_https(extensions);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|h| domain::identity::sessions::cookie_value(h, secure).map(str::to_string))
}

fn is_https() -> bool {
    parts().is_some_and(|p| over_https(&p.extensions))
}

fn append_set_cookie(value: String) -> Result<(), AppError> {
    let response = use_context::<ResponseOptions>().ok_or(AppError::Internal)?;
    let value = HeaderValue::from_str(&value).map_err(|_| AppError::Internal)?;
    response.append_header(header::SET_COOKIE, value);
    Ok(())
}

pub fn set_session_cookie(id: &domain::identity::sessions::SessionId) -> Result<(), AppError> {
    append_set_cookie(domain::identity::sessions::set_cookie(id, is_https()))
}

pub fn clear_session_cookie() -> Result<(), AppError> {
    append_set_cookie(domain::identity::sessions::clear_cookie(is_https()))
}

/// Where to go after signing in (or any redirect to a target the request named): the target
/// when `common::local_redirect` finds it a path on this site, normalised; otherwise the home
/// page.
pub fn safe_next(next: Option<&str>) -> String {
    next.and_then(common::local_redirect)
        .unwrap_or_else(|| "/".to_string())
}
