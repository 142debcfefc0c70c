//! API authentication: `Authorization: Bearer <token>` or `Basic base64(<user>:<token>)`, where
//! `<user>` is the token's id or its owner's username, checked by `domain::tokens::access::check`
//! (malformed values and bad checksums are refused before any database access); here, the
//! failed-attempt throttle around it and the answer to a refusal.

use axum::{
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use std::net::IpAddr;

use domain::{
    ClientIp, throttle,
    tokens::access::{self, AccessError, AccessRequest, Denied, Presented, TeamScope},
};

use crate::{error::ApiError, state::AppState};

/// The `{team}` of a `/api/v1/teams/{team}/…` path.
fn path_team(path: &str) -> Option<&str> {
    path.strip_prefix("/api/v1/teams/")?
        .split('/')
        .next()
        .filter(|t| !t.is_empty())
}

/// Authenticates and authorizes every `/api/v1` request; handlers find the
/// [`access::TokenCaller`] in the request's extensions.
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let client_ip = request.extensions().get::<ClientIp>().map(|ip| ip.0);
    let path = request.uri().path().to_string();
    // Team content is written with non-GET methods; the token's own endpoints (regenerate,
    // delete) are allowed to any valid token, so that a read-only token can revoke itself.
    let writes_team_content =
        path_team(&path).is_some() && !matches!(*request.method(), Method::GET | Method::HEAD);
    let caller = match check_token(
        &state,
        request.headers(),
        client_ip,
        path_team(&path),
        writes_team_content,
    )
    .await
    {
        Ok(caller) => caller,
        Err(refusal) => return refusal,
    };
    // Noted in memory; written in batches (see domain::tokens::usage).
    let ip = client_ip.map(|ip| ip.to_string());
    state.usage.record(
        &caller.token().id,
        ip.as_deref(),
        chrono::Utc::now(),
        caller.old_value(),
    );
    let expiration = expiration(&caller);
    request.extensions_mut().insert(caller);
    let mut response = next.run(request).await;
    if response.status().is_success()
        && let Ok(value) = HeaderValue::from_str(&expiration)
    {
        response
            .headers_mut()
            .insert("patdesk-token-expiration", value);
    }
    response
}

/// Every check of `docs/api.md` on the `Authorization` of `headers` (`domain::tokens::access::check`,
/// cached), after the address's failure budget; `team` (when given) is the team asked for, and
/// `write` whether the call writes. The refusal is the answer to send, counted against the
/// address where it counts. The API's middleware and the forward-auth endpoint both use it.
pub(crate) async fn check_token(
    state: &AppState,
    headers: &HeaderMap,
    client_ip: Option<IpAddr>,
    team: Option<&str>,
    write: bool,
) -> Result<access::TokenCaller, Response> {
    // An IP that has failed too often is refused before anything else, so that guessing
    // costs the guesser time and the server nothing.
    if let Some(ip) = client_ip
        && let Err(wait) = state.failed_auth.check(ip)
    {
        return Err(ApiError::rate_limited(wait).into_response());
    }
    let authorization: Vec<&[u8]> = headers
        .get_all(header::AUTHORIZATION)
        .iter()
        .map(HeaderValue::as_bytes)
        .collect();
    let request = AccessRequest {
        presented: Presented::Authorization(&authorization),
        client_ip,
        team: team.map_or(TeamScope::Any, TeamScope::Slug),
        write,
    };
    match access::check(&state.db, &state.callers, request).await {
        Ok(caller) => Ok(caller),
        Err(AccessError::Denied(denied)) => Err(refuse(state, client_ip, denied).await),
        Err(AccessError::Internal(error)) => Err(ApiError::from(error).into_response()),
    }
}

/// `Patdesk-Token-Expiration`: RFC 3339, or `never`.
pub(crate) fn expiration(caller: &access::TokenCaller) -> String {
    caller
        .expires_at()
        .map_or_else(|| "never".to_string(), |at| at.to_rfc3339())
}

/// The refusal, after counting it against the caller's address where it counts: in this
/// process, and for failures that cost a database lookup, in the budget every process on the
/// database shares (`domain::throttle`).
async fn refuse(state: &AppState, client_ip: Option<IpAddr>, denied: Denied) -> Response {
    if let Some(ip) = client_ip
        && denied.counts_as_failed_attempt()
    {
        count_failed_attempt(state, ip, denied.counts_across_processes()).await;
    }
    ApiError::from(denied).into_response()
}

/// Counts a failed authentication from `ip` in this process and, when `across_processes`, in
/// the budget every process on the database shares; blocks the address when that is used up.
pub(crate) async fn count_failed_attempt(state: &AppState, ip: IpAddr, across_processes: bool) {
    let throttle = &state.failed_auth;
    throttle.fail(ip);
    if across_processes {
        let shared =
            throttle::count_shared_failure(&state.db, ip, throttle.limit(), throttle.window());
        match shared.await {
            Ok(Some(wait)) => throttle.block(ip, wait.0),
            Ok(None) => {}
            // The refusal stands; only the shared count is missing.
            Err(error) => tracing::warn!(%error, "could not count a failed authentication"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_team_of_a_path() {
        assert_eq!(path_team("/api/v1/teams/ops/questions"), Some("ops"));
        assert_eq!(path_team("/api/v1/teams//questions"), None);
        assert_eq!(path_team("/api/v1/me"), None);
    }
}
