//! API authentication: `Authorization: Bearer <token>` or `Basic base64(<user>:<token>)`, where
//! `<user>` is the token's id or its owner's username. Malformed values and bad checksums are
//! refused before any database access.

use axum::{
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use std::net::IpAddr;

use domain::{
    ClientIp, throttle,
    tokens::access::{self, Denied},
    tokens::format::TokenSecret,
};

use crate::{error::ApiError, state::AppState};

/// What the `Authorization` header carries, checked for shape and checksum only.
#[derive(Debug)]
pub struct Credentials {
    pub secret: TokenSecret,
    /// The Basic user name, if Basic was used.
    pub basic_user: Option<String>,
}

pub fn parse_authorization(headers: &HeaderMap) -> Result<Credentials, Denied> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(Denied::MissingToken);
    };
    if values.next().is_some() {
        return Err(Denied::MalformedToken(
            "Send one Authorization header, not several.".into(),
        ));
    }
    let text = value
        .to_str()
        .map_err(|_| Denied::MalformedToken("The Authorization header is not plain text.".into()))?
        .trim();
    let (scheme, rest) = text.split_once(' ').unwrap_or((text, ""));
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Ok(Credentials {
            secret: TokenSecret::parse(rest)?,
            basic_user: None,
        });
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = STANDARD
            .decode(rest)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| {
                Denied::MalformedToken("The Basic credentials are not valid base64 text.".into())
            })?;
        let (user, password) = decoded
            .split_once(':')
            .ok_or_else(|| Denied::MalformedToken("Basic credentials are user:token.".into()))?;
        return Ok(Credentials {
            secret: TokenSecret::parse(password)?,
            basic_user: Some(user.to_string()),
        });
    }
    Err(Denied::MalformedToken(
        "Use the Bearer scheme (Authorization: Bearer <token>) or Basic with the token as the password.".into(),
    ))
}

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
        &caller.token.id,
        ip.as_deref(),
        chrono::Utc::now(),
        caller.old_value,
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

/// Every check of `docs/api.md` on the `Authorization` of `headers`, in order: the address's
/// failure budget, the header's shape and checksum, the token (`domain::tokens::access`, cached), the
/// token's allow-list against `client_ip`, then `team` (when given) and `write`. The refusal is the answer to send, counted against the
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
    let credentials = match parse_authorization(headers) {
        Ok(credentials) => credentials,
        Err(denied) => return Err(refuse(state, client_ip, denied).await),
    };
    let caller = match access::authenticate_cached(
        &state.db,
        &state.callers,
        &credentials.secret,
        credentials.basic_user.as_deref(),
    )
    .await
    {
        Ok(caller) => caller,
        Err(access::AccessError::Denied(denied)) => {
            return Err(refuse(state, client_ip, denied).await);
        }
        Err(access::AccessError::Internal(error)) => {
            return Err(ApiError::from(error).into_response());
        }
    };
    if let Err(denied) = caller
        .check_ip(client_ip)
        .and_then(|()| caller.authorize(team, write))
    {
        return Err(refuse(state, client_ip, denied).await);
    }
    Ok(caller)
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

    fn headers(value: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(header::AUTHORIZATION, value.parse().unwrap());
        map
    }

    #[test]
    fn schemes_and_shapes() {
        let token = TokenSecret::generate();
        let value = token.expose();
        assert!(
            parse_authorization(&headers(&format!("Bearer {value}")))
                .unwrap()
                .basic_user
                .is_none()
        );
        assert!(parse_authorization(&headers(&format!("bearer  {value} "))).is_ok());
        let basic = STANDARD.encode(format!("tok_x:{value}"));
        let parsed = parse_authorization(&headers(&format!("Basic {basic}"))).unwrap();
        assert_eq!(parsed.basic_user.as_deref(), Some("tok_x"));
        assert_eq!(
            parse_authorization(&HeaderMap::new()).unwrap_err(),
            Denied::MissingToken
        );
        for bad in [
            "Bearer",
            "Bearer nope",
            "Token abc",
            "Basic !!!",
            &format!("Bearer {}", &value[..41]),
        ] {
            assert!(
                matches!(
                    parse_authorization(&headers(bad)),
                    Err(Denied::MalformedToken(_))
                ),
                "{bad}"
            );
        }
        assert_eq!(path_team("/api/v1/teams/ops/questions"), Some("ops"));
        assert_eq!(path_team("/api/v1/me"), None);
    }
}
