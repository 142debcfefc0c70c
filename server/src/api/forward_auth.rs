//! patdesk as the auth service of other services (docs/forward-auth.md):
//!
//! - `GET /auth/verify?team=<slug>[&access=write][&scope=<permission>…]`: for reverse proxies (nginx `auth_request`,
//!   Caddy `forward_auth`, Traefik `ForwardAuth`). The same checks, cache, throttle and
//!   last-used recording as the API (`api::auth::check_token`); 200 with `Patdesk-*` headers
//!   for the proxy to copy upstream, or the API's 401/403 answers.
//! - `POST /oauth/introspect` (RFC 7662): for services that check tokens themselves, with a
//!   service credential of their team (`domain::tokens::services`).

use axum::{
    Form,
    extract::{RawQuery, State, rejection::FormRejection},
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use domain::tokens::{
    permissions::{BadPermission, Permission},
    services::{self, Introspection},
    usage::Surface,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{auth, extract::Client};
use crate::{error::ApiError, state::AppState};

/// What a proxy's configuration asks of `/auth/verify`.
#[derive(Debug, Default)]
pub struct VerifyQuery {
    /// The team whose tokens may pass (set in the proxy's configuration).
    pub team: Option<String>,
    /// `write` requires a write token whatever the method.
    pub access: Option<String>,
    /// Permissions the token must hold, all of them (`scope=` repeated): a service's scopes,
    /// `deploy:run` (docs/permissions.md).
    pub scope: Vec<String>,
}

impl VerifyQuery {
    /// Reads the query (`scope` may repeat; another parameter given twice is refused, as a
    /// proxy's configuration that says two things).
    fn parse(raw: Option<&str>) -> Result<VerifyQuery, String> {
        let mut query = VerifyQuery::default();
        for (name, value) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            let slot = match name.as_ref() {
                "team" => &mut query.team,
                "access" => &mut query.access,
                "scope" => {
                    query.scope.push(value.into_owned());
                    continue;
                }
                _ => continue,
            };
            if slot.replace(value.into_owned()).is_some() {
                return Err(format!("{name}= is given twice."));
            }
        }
        Ok(query)
    }
}

/// Whether a method only reads: everything else needs a write token.
fn reads(method: &str) -> bool {
    matches!(
        method.trim().to_ascii_uppercase().as_str(),
        "GET" | "HEAD" | "OPTIONS"
    )
}

/// The headers a proxy names the original request's method in. A proxy sets the one it relies
/// on, but may pass on any other the client sent (nginx passes every client header to its
/// `auth_request` subrequest), so no one of them may be trusted over the others.
const METHOD_HEADERS: [&str; 2] = ["x-original-method", "x-forwarded-method"];

/// Whether the original request writes, from every method header present: it does when any of
/// them names a writing method (or is not readable text), or when they disagree. With none, the
/// method of the check itself decides (a proxy that passes no method sends a GET: a read).
fn original_request_writes(headers: &HeaderMap, own_method: &Method) -> bool {
    // `None` for a value that is not text: not a method anyone reads.
    let mut named = METHOD_HEADERS
        .into_iter()
        .flat_map(|name| headers.get_all(name))
        .map(|value| value.to_str().ok().map(|v| v.trim().to_ascii_uppercase()));
    let Some(first) = named.next() else {
        return !reads(own_method.as_str());
    };
    let Some(first) = first else {
        return true;
    };
    if !reads(&first) {
        return true;
    }
    named.any(|other| other.as_deref() != Some(first.as_str()))
}

/// The service in front of which the proxy asks (for the activity log's first use per service).
fn service_host(headers: &HeaderMap) -> Option<String> {
    let host = headers
        .get("x-forwarded-host")
        .or_else(|| headers.get("x-original-host"))?
        .to_str()
        .ok()?
        .trim();
    (!host.is_empty() && host.len() <= 200).then(|| host.to_ascii_lowercase())
}

/// `GET /auth/verify`: 200 and the caller's identity in headers, or the API's refusal.
pub async fn verify(
    State(state): State<AppState>,
    Client(client_ip): Client,
    RawQuery(query): RawQuery,
    method: Method,
    headers: HeaderMap,
) -> Response {
    let query = match VerifyQuery::parse(query.as_deref()) {
        Ok(query) => query,
        Err(why) => return bad_configuration(&format!("The query is not valid: {why}")),
    };
    let needs: Vec<Permission> = match query.scope.iter().map(|s| s.parse()).collect() {
        Ok(needs) => needs,
        Err(BadPermission(why)) => return bad_configuration(&format!("scope=: {why}")),
    };
    let Some(team) = query.team.filter(|t| !t.trim().is_empty()) else {
        return bad_configuration(
            "Say which team's tokens may pass: /auth/verify?team=<team> in the proxy's configuration.",
        );
    };
    let force_write = match query.access.as_deref() {
        None | Some("read") => false,
        Some("write") => true,
        Some(_) => return bad_configuration("access= may be read or write."),
    };
    // A check of scopes is the service's own vocabulary (`deploy:run` may well be a POST): the
    // method makes the call a write only where no scope is asked for; `access=write` always does.
    let write = force_write || (needs.is_empty() && original_request_writes(&headers, &method));
    let service = service_host(&headers);
    let check = auth::TokenCheck {
        headers: &headers,
        client_ip,
        team: Some(team.trim()),
        needs: &needs,
        write,
        surface: Surface::Verify,
        service: service.as_deref(),
    };
    let auth::Admitted { caller, rate } = match auth::check_token(&state, check).await {
        Ok(admitted) => admitted,
        Err(refusal) => return refusal,
    };
    let access = if caller.can_write() { "write" } else { "read" };
    let mut response = StatusCode::OK.into_response();
    let out = response.headers_mut();
    for (name, value) in [
        ("patdesk-user", caller.username()),
        ("patdesk-team", caller.team_slug()),
        ("patdesk-token-id", caller.token().id.as_str()),
        ("patdesk-access", access),
        ("patdesk-token-expiration", &auth::expiration(&caller)),
    ] {
        if let Ok(value) = HeaderValue::from_str(value) {
            out.insert(HeaderName::from_static(name), value);
        }
    }
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(rate) = rate {
        auth::rate_limit_headers(out, &rate);
    }
    response
}

/// A proxy configured without what it must say: 400, which proxies pass on as an error.
fn bad_configuration(message: &str) -> Response {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_verify_request", message).into_response()
}

/// `token=…` (and `token_type_hint`, which is ignored: patdesk has one kind of token).
#[derive(Debug, Deserialize, ToSchema)]
pub struct IntrospectionRequest {
    /// The token to check.
    pub token: String,
    #[allow(dead_code)]
    pub token_type_hint: Option<String>,
}

/// The answer of RFC 7662: `{"active": false}` for anything not usable right now.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntrospectionResponse {
    pub active: bool,
    /// The token's owner (`sub` and `username`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The token's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Space-separated: `team:<slug>:read` or `team:<slug>:write` first, then a fine-grained
    /// token's permissions (or, for a whole-team token where its team lets those open its
    /// services, the asking service's scopes): `team:ops:read questions:read deploy:run`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Expiry, seconds since the epoch (absent: the token never expires).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// When the value was issued (created or regenerated), seconds since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
}

impl From<Introspection> for IntrospectionResponse {
    fn from(found: Introspection) -> Self {
        match found {
            Introspection::Inactive => IntrospectionResponse {
                active: false,
                sub: None,
                username: None,
                client_id: None,
                scope: None,
                exp: None,
                iat: None,
                token_type: None,
            },
            Introspection::Active {
                username,
                token_id,
                team,
                write,
                expires_at,
                issued_at,
                scope,
            } => IntrospectionResponse {
                active: true,
                sub: Some(username.clone()),
                username: Some(username),
                client_id: Some(token_id),
                scope: Some(
                    [
                        Some(format!(
                            "team:{team}:{}",
                            if write { "write" } else { "read" }
                        )),
                        scope,
                    ]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" "),
                ),
                exp: expires_at.map(|at| at.timestamp()),
                iat: Some(issued_at.timestamp()),
                token_type: Some("Bearer".into()),
            },
        }
    }
}

/// Whether a token is usable right now (RFC 7662). The caller authenticates with a service
/// credential of a team (HTTP Basic `svc_…:pdks_…`, or `Bearer pdks_…`); tokens of any other
/// team, and every token that is not usable (unknown, malformed, deleted, expired, its owner
/// suspended or no longer a member, waiting for approval), are `{"active": false}`.
#[utoipa::path(
    post, path = "/oauth/introspect", tag = "introspection",
    request_body(content = IntrospectionRequest, content_type = "application/x-www-form-urlencoded"),
    security(("service_basic" = []), ("service_bearer" = [])),
    responses(
        (status = 200, description = "Whether the token is active, and if so whose and for what", body = IntrospectionResponse),
        (status = 400, description = "No `token` in the form body (`invalid_request`)", body = crate::api::model::ErrorBody),
        (status = 413, description = "Body over 64 KiB", body = crate::api::model::ErrorBody),
        (status = 401, description = "Missing, malformed or revoked service credential (`invalid_client`)", body = crate::api::model::ErrorBody),
    )
)]
pub async fn introspect(
    State(state): State<AppState>,
    Client(client_ip): Client,
    headers: HeaderMap,
    form: Result<Form<IntrospectionRequest>, FormRejection>,
) -> Result<Response, ApiError> {
    auth::within_failure_budget(&state, client_ip)?;
    // Too large is said first, whatever else is wrong (413, as for every body over the limit).
    if let Err(rejection) = &form
        && rejection.status() == StatusCode::PAYLOAD_TOO_LARGE
    {
        return Err(ApiError::payload_too_large(crate::limits::MAX_BODY_BYTES));
    }
    let credential = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| services::credential_from_authorization(value.as_bytes()));
    // A well-formed credential costs a lookup, so its failure counts in the budget every
    // process shares; a malformed one only in this process (as for the API's tokens).
    let looked_up = credential.is_some();
    let service = match credential {
        Some((secret, id)) => services::authenticate(&state.db, &secret, id.as_deref()).await?,
        None => None,
    };
    let Some(service) = service else {
        if let Some(ip) = client_ip {
            auth::count_failed_attempt(&state, ip, looked_up).await;
        }
        return Err(invalid_client());
    };
    let Ok(Form(request)) = form else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Send the token as a form field: token=pdk_…",
        ));
    };
    // The address checked against the token's allow-list is this request's (the client's, when
    // the service passes it on in X-Forwarded-For and PATDESK_TRUST_FORWARDED_FOR is set).
    let found = services::introspect(
        &state.db,
        &state.callers,
        &state.usage,
        &service,
        &request.token,
        client_ip,
    )
    .await?;
    let mut response = axum::Json(IntrospectionResponse::from(found)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

fn invalid_client() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "Authenticate with one of the team's service credentials: Basic svc_…:pdks_… (a team admin creates one on the team's Services tab).",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn method_headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn only_reading_methods_are_reads() {
        for read in ["GET", "head", "OPTIONS", " get "] {
            assert!(reads(read), "{read}");
        }
        for write in ["POST", "put", "PATCH", "DELETE", "PROPFIND", ""] {
            assert!(!reads(write), "{write}");
        }
    }

    #[test]
    fn a_request_writes_when_any_method_header_says_so_or_they_disagree() {
        let get = Method::GET;
        let writes =
            |pairs: &[(&'static str, &str)]| original_request_writes(&method_headers(pairs), &get);
        assert!(!writes(&[]), "no header: the check's own GET");
        assert!(original_request_writes(&HeaderMap::new(), &Method::POST));
        assert!(!writes(&[("x-original-method", "GET")]));
        assert!(!writes(&[("x-forwarded-method", "head")]));
        assert!(writes(&[("x-original-method", "POST")]));
        // The attack: the proxy's header says POST, the client's own says GET.
        assert!(writes(&[
            ("x-original-method", "POST"),
            ("x-forwarded-method", "GET")
        ]));
        assert!(writes(&[
            ("x-forwarded-method", "GET"),
            ("x-original-method", "DELETE")
        ]));
        // Two reads that disagree: one of them is not the proxy's, so it is not a read.
        assert!(writes(&[
            ("x-original-method", "GET"),
            ("x-forwarded-method", "HEAD")
        ]));
        // The same header twice.
        assert!(writes(&[
            ("x-original-method", "GET"),
            ("x-original-method", "PUT")
        ]));
        assert!(!writes(&[
            ("x-original-method", "GET"),
            ("x-forwarded-method", "get")
        ]));
    }
}
