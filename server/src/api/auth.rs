//! API authentication: `Authorization: Bearer <token>` or `Basic base64(<user>:<token>)`, where
//! `<user>` is the token's id or its owner's username, checked by `domain::tokens::access::check`
//! (malformed values and bad checksums are refused before any database access); here, the
//! failed-attempt throttle around it and the answer to a refusal.

use axum::{
    extract::{MatchedPath, Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use std::net::IpAddr;

use domain::{
    ClientIp, throttle,
    tokens::{
        access::{self, AccessError, AccessRequest, Denied, Presented, TeamScope},
        permissions::Permission,
        rate_limit::{self, RateDecision},
        usage::{Call, Surface},
    },
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
    let needs = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(&[][..], |matched| {
            super::needed_permissions(request.method(), matched.as_str())
        });
    // Team content is written with non-GET methods; the token's own endpoints (regenerate,
    // delete) are allowed to any valid token, so that a read-only token can revoke itself.
    let writes_team_content =
        path_team(&path).is_some() && !matches!(*request.method(), Method::GET | Method::HEAD);
    let check = TokenCheck {
        headers: request.headers(),
        client_ip,
        team: path_team(&path),
        needs,
        write: writes_team_content,
        surface: Surface::Api,
        service: None,
    };
    let Admitted { caller, rate } = match check_token(&state, check).await {
        Ok(admitted) => admitted,
        Err(refusal) => return refusal,
    };
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
    if let Some(rate) = rate {
        rate_limit_headers(response.headers_mut(), &rate);
    }
    response
}

/// One token check: the request's headers and address, the team asked for (if any), whether it
/// writes, and where it came (`service`: the host behind a reverse proxy, for `/auth/verify`).
pub(crate) struct TokenCheck<'a> {
    pub headers: &'a HeaderMap,
    pub client_ip: Option<IpAddr>,
    pub team: Option<&'a str>,
    /// What the call needs (the endpoint's permissions, a proxy's `scope=`).
    pub needs: &'a [Permission],
    pub write: bool,
    pub surface: Surface,
    pub service: Option<&'a str>,
}

/// A call that passed: who, and for a rate-limited token, what its budget says (the
/// `RateLimit-*` headers every answer to it carries).
pub(crate) struct Admitted {
    pub caller: access::TokenCaller,
    pub rate: Option<RateDecision>,
}

/// Every check of `docs/api.md` on the `Authorization` of the request
/// (`domain::tokens::access::check`, cached), after the address's failure budget, then the token's
/// rate limit. The call is counted in the token's usage history (accepted, or refused by code)
/// when the token exists. The refusal is the answer to send, counted against the address where
/// it counts. The API's middleware and the forward-auth endpoint both use it.
pub(crate) async fn check_token(
    state: &AppState,
    check: TokenCheck<'_>,
) -> Result<Admitted, Response> {
    let client_ip = check.client_ip;
    // An IP that has failed too often is refused before anything else, so that guessing
    // costs the guesser time and the server nothing.
    within_failure_budget(state, client_ip).map_err(IntoResponse::into_response)?;
    let authorization: Vec<&[u8]> = check
        .headers
        .get_all(header::AUTHORIZATION)
        .iter()
        .map(HeaderValue::as_bytes)
        .collect();
    let request = AccessRequest {
        presented: Presented::Authorization(&authorization),
        client_ip,
        team: check.team.map_or(TeamScope::Any, TeamScope::Slug),
        needs: check.needs,
        write: check.write,
    };
    let now = chrono::Utc::now();
    let call = |token_id| Call {
        token_id,
        surface: check.surface,
        ip: client_ip,
        at: now,
    };
    let caller = match access::check(&state.db, &state.callers, request).await {
        Ok(caller) => caller,
        Err(AccessError::Denied { reason, token_id }) => {
            if let Some(id) = &token_id {
                state.usage.refused(call(id), reason.code());
            }
            return Err(refuse(state, client_ip, reason).await);
        }
        Err(AccessError::Internal(error)) => return Err(ApiError::from(error).into_response()),
    };
    let token_id = caller.token().id.as_str();
    let rate = match caller.token().rate_limit {
        Some(limit) => {
            let decision = state
                .rate_limits
                .take(&state.db, token_id, limit, now)
                .await
                .map_err(|error| ApiError::from(error).into_response())?;
            if !decision.allowed {
                // Not a failed authentication: the token is good, only too busy.
                state
                    .usage
                    .refused(call(token_id), rate_limit::REFUSED_CODE);
                let mut refusal = ApiError::token_rate_limited(&decision).into_response();
                rate_limit_headers(refusal.headers_mut(), &decision);
                return Err(refusal);
            }
            Some(decision)
        }
        None => None,
    };
    // Noted in memory; written in batches (see domain::tokens::usage).
    state
        .usage
        .accepted(call(token_id), caller.old_value(), check.service);
    Ok(Admitted { caller, rate })
}

/// The token's budget in the fields of the IETF httpapi rate-limit headers draft (-12):
/// `RateLimit-Policy: "token";q=<limit>;w=60` (its quota per 60-second window) and
/// `RateLimit: "token";r=<remaining>;t=<seconds until the window ends>`, Structured Fields
/// lists of one item; and, for one more release (README), the legacy `RateLimit-Limit`,
/// `RateLimit-Remaining` and `RateLimit-Reset` of the draft's earlier versions.
pub(crate) fn rate_limit_headers(headers: &mut HeaderMap, rate: &RateDecision) {
    let policy = format!("\"{POLICY}\";q={};w=60", rate.limit);
    let now = format!("\"{POLICY}\";r={};t={}", rate.remaining, rate.reset_seconds);
    for (name, value) in [("ratelimit-policy", policy), ("ratelimit", now)] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
    for (name, value) in [
        ("ratelimit-limit", u64::from(rate.limit)),
        ("ratelimit-remaining", u64::from(rate.remaining)),
        ("ratelimit-reset", rate.reset_seconds),
    ] {
        headers.insert(HeaderName::from_static(name), HeaderValue::from(value));
    }
}

/// The name of patdesk's one rate-limit policy in the `RateLimit` fields: the token's own.
const POLICY: &str = "token";

/// Refuses (429 `rate_limited`) an address that has failed authentication too often, before
/// anything else is looked at: guessing costs the guesser time and the server nothing. Every
/// endpoint that authenticates something (tokens, service or GitLab credentials, identity
/// tokens) asks this first.
pub(crate) fn within_failure_budget(
    state: &AppState,
    client_ip: Option<IpAddr>,
) -> Result<(), ApiError> {
    match client_ip {
        Some(ip) => state.failed_auth.check(ip).map_err(ApiError::rate_limited),
        None => Ok(()),
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
