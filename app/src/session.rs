//! Server-side helpers shared by server functions: the database, the signed-in user, the
//! client's address, and setting or clearing the session cookie.
//!
//! The server's session middleware has already resolved the cookie (once per request) and put
//! the user, if any, into the request's extensions; these helpers read it from there.

use std::sync::Arc;

use domain::{access::CallerCache, throttle::FailedAuth, users::User};
use http::{HeaderValue, header, request::Parts};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use sea_orm::DatabaseConnection;

use crate::error::AppError;

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

/// The client's IP address as the server worked it out (see the server's `guard::client_ip`).
pub fn client_ip() -> Option<String> {
    client_addr().map(|ip| ip.to_string())
}

fn client_addr() -> Option<std::net::IpAddr> {
    parts().and_then(|p| p.extensions.get::<domain::ClientIp>().map(|ip| ip.0))
}

/// Refuses the attempt if the client's IP has failed to authenticate too often (the same
/// per-IP count the API uses, see `domain::throttle`).
pub fn check_auth_throttle() -> Result<(), AppError> {
    let (Some(throttle), Some(ip)) = (use_context::<Arc<FailedAuth>>(), client_addr()) else {
        return Ok(());
    };
    throttle.check(ip).map_err(|wait| AppError::RateLimited {
        retry_after: wait.seconds(),
    })
}

/// Makes a deleted or regenerated token fail at once in this process (the API reuses a token
/// check for half a second, see `domain::access::CallerCache`).
pub fn forget_cached_token(token_id: &str) {
    if let Some(callers) = use_context::<Arc<CallerCache>>() {
        callers.forget_token(token_id);
    }
}

/// Makes a membership or role change count at once for every token in this process.
pub fn forget_cached_tokens() {
    if let Some(callers) = use_context::<Arc<CallerCache>>() {
        callers.clear();
    }
}

/// Counts a failed sign-in against the client's IP.
pub fn note_auth_failure() {
    if let (Some(throttle), Some(ip)) = (use_context::<Arc<FailedAuth>>(), client_addr()) {
        throttle.fail(ip);
    }
}

/// The session id in the request's cookie, if any.
pub fn session_cookie() -> Option<String> {
    let parts = parts()?;
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|h| domain::sessions::cookie_value(h).map(str::to_string))
}

/// Whether the page was requested over HTTPS (directly, or through a proxy that says so).
fn is_https() -> bool {
    parts().is_some_and(|p| {
        p.uri.scheme_str() == Some("https")
            || p.headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("https"))
    })
}

fn append_set_cookie(value: String) -> Result<(), AppError> {
    let response = use_context::<ResponseOptions>().ok_or(AppError::Internal)?;
    let value = HeaderValue::from_str(&value).map_err(|_| AppError::Internal)?;
    response.append_header(header::SET_COOKIE, value);
    Ok(())
}

pub fn set_session_cookie(id: &domain::sessions::SessionId) -> Result<(), AppError> {
    append_set_cookie(domain::sessions::set_cookie(id, is_https()))
}

pub fn clear_session_cookie() -> Result<(), AppError> {
    append_set_cookie(domain::sessions::clear_cookie(is_https()))
}

/// Where to go after signing in: only paths on this site (no `//host` or `https://…`).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && !path.chars().any(char::is_control) =>
        {
            path.to_string()
        }
        _ => "/".to_string(),
    }
}
