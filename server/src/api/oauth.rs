//! The OAuth endpoints a CI job calls (docs/service-accounts.md):
//!
//! - `POST /oauth/token`: RFC 8693 token exchange — the job's identity token (a JWT its CI
//!   platform signed) for a short-lived token of the service account whose trust policy it
//!   matches. Checked by `crate::federation` (keys, signature, claims) and
//!   `domain::tokens::federation` (`jti` once, the policies, the minting).
//! - `POST /oauth/revoke`: RFC 7009 — whoever holds a token's value ends it (the job, when it is
//!   done). Always 200: the answer says nothing of the token.
//!
//! Both are throttled per address like failed authentication: a refused exchange counts.

use std::collections::HashMap;

use axum::{
    Form,
    extract::{State, rejection::FormRejection},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use domain::tokens::federation as rules;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{auth, extract::Client};
use crate::{
    error::{ApiError, OAuthError},
    state::AppState,
};

/// RFC 8693's request, as a form.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct TokenExchangeRequest {
    /// `urn:ietf:params:oauth:grant-type:token-exchange`
    pub grant_type: String,
    /// The CI job's identity token (a JWT).
    pub subject_token: String,
    /// `urn:ietf:params:oauth:token-type:jwt` or `urn:ietf:params:oauth:token-type:id_token`
    pub subject_token_type: String,
    /// Space-separated permissions, to ask for less than the trust policy grants.
    pub scope: Option<String>,
}

/// RFC 8693's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenExchangeResponse {
    /// The new token's value (`pdk_…`): shown this once.
    pub access_token: String,
    /// `urn:ietf:params:oauth:token-type:access_token`
    pub issued_token_type: &'static str,
    /// `Bearer`
    pub token_type: &'static str,
    /// Seconds until it expires.
    pub expires_in: i64,
    /// Its permissions, space-separated.
    pub scope: String,
}

/// RFC 6749 §5.2's error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthErrorBody {
    /// `invalid_request`, `invalid_grant`, `invalid_scope`, `unsupported_grant_type`,
    /// `temporarily_unavailable`, `rate_limited`…
    pub error: String,
    /// Which check failed, in words.
    pub error_description: String,
}

/// A form's fields, each at most once (RFC 6749 §3.2: parameters must not repeat).
fn single_fields(
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<HashMap<String, String>, OAuthError> {
    let Form(pairs) = form.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            OAuthError::from(ApiError::payload_too_large(crate::limits::MAX_BODY_BYTES))
        } else {
            OAuthError::invalid_request(
                "Send the request as a form (application/x-www-form-urlencoded).",
            )
        }
    })?;
    let mut fields = HashMap::new();
    for (name, value) in pairs {
        if fields.insert(name.clone(), value).is_some() {
            return Err(OAuthError::invalid_request(format!(
                "{name} is given more than once."
            )));
        }
    }
    Ok(fields)
}

/// Exchanges a CI job's identity token for a short-lived patdesk token (RFC 8693).
#[utoipa::path(
    post, path = "/oauth/token", tag = "federation",
    request_body(content = TokenExchangeRequest, content_type = "application/x-www-form-urlencoded"),
    security(()),
    responses(
        (status = 200, description = "The minted token", body = TokenExchangeResponse),
        (status = 400, description = "`invalid_request`, `unsupported_grant_type`, `invalid_grant` (the identity token does not qualify: which check failed) or `invalid_scope`", body = OAuthErrorBody),
        (status = 413, description = "Body over 64 KiB", body = OAuthErrorBody),
        (status = 429, description = "Too many refused exchanges from this address", body = OAuthErrorBody),
        (status = 503, description = "`temporarily_unavailable`: the issuer's keys could not be fetched", body = OAuthErrorBody),
    )
)]
pub async fn token(
    State(state): State<AppState>,
    Client(client_ip): Client,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, OAuthError> {
    auth::within_failure_budget(&state, client_ip)?;
    let outcome = exchange(&state, form).await;
    if let Err(refused) = &outcome
        && refused.status == StatusCode::BAD_REQUEST
        && let Some(ip) = client_ip
    {
        auth::count_failed_attempt(&state, ip, true).await;
    }
    let exchanged = outcome?;
    let body = TokenExchangeResponse {
        access_token: exchanged.issued.secret.expose().to_string(),
        issued_token_type: rules::ISSUED_TOKEN_TYPE,
        token_type: "Bearer",
        expires_in: exchanged.expires_in_seconds,
        scope: exchanged.scope,
    };
    let mut response = axum::Json(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(response)
}

async fn exchange(
    state: &AppState,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<rules::Exchanged, OAuthError> {
    let mut fields = single_fields(form)?;
    let mut required = |name: &str| {
        fields
            .remove(name)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| OAuthError::invalid_request(format!("{name} is missing.")))
    };
    let grant_type = required("grant_type")?;
    if grant_type != rules::GRANT_TYPE {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            format!("grant_type must be {}.", rules::GRANT_TYPE),
        ));
    }
    let subject_token = required("subject_token")?;
    let subject_token_type = required("subject_token_type")?;
    if !rules::SUBJECT_TOKEN_TYPES.contains(&subject_token_type.as_str()) {
        return Err(OAuthError::invalid_request(format!(
            "subject_token_type must be {}.",
            rules::SUBJECT_TOKEN_TYPES.join(" or ")
        )));
    }
    if fields.contains_key("actor_token") {
        return Err(OAuthError::invalid_request(
            "Delegation (actor_token) is not supported: send the job's identity token alone.",
        ));
    }
    if let Some(wanted) = fields.get("requested_token_type")
        && wanted != rules::ISSUED_TOKEN_TYPE
    {
        return Err(OAuthError::invalid_request(format!(
            "requested_token_type can only be {}.",
            rules::ISSUED_TOKEN_TYPE
        )));
    }
    let federation = &state.federation;
    let identity = federation.verify(&state.db, &subject_token).await?;
    let scope = fields.get("scope").map(String::as_str);
    rules::exchange(&state.db, &identity, scope)
        .await?
        .map_err(OAuthError::from)
}

/// RFC 7009's request.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct RevocationRequest {
    /// The token's value.
    pub token: String,
    /// Ignored: patdesk has one kind of token.
    pub token_type_hint: Option<String>,
}

/// Revokes a token by its value (RFC 7009): the token stops at once. Always 200, whether the
/// value named a token or not.
#[utoipa::path(
    post, path = "/oauth/revoke", tag = "federation",
    request_body(content = RevocationRequest, content_type = "application/x-www-form-urlencoded"),
    security(()),
    responses(
        (status = 200, description = "Done (or there was nothing to revoke)"),
        (status = 400, description = "No `token` in the form (`invalid_request`)", body = OAuthErrorBody),
        (status = 413, description = "Body over 64 KiB", body = OAuthErrorBody),
        (status = 429, description = "Too many failed authentications from this address", body = OAuthErrorBody),
    )
)]
pub async fn revoke(
    State(state): State<AppState>,
    Client(client_ip): Client,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, OAuthError> {
    auth::within_failure_budget(&state, client_ip)?;
    let mut fields = single_fields(form)?;
    let Some(value) = fields.remove("token").filter(|v| !v.trim().is_empty()) else {
        return Err(OAuthError::invalid_request("token is missing."));
    };
    domain::tokens::revoke_by_value(&state.db, &value, client_ip).await?;
    let mut response = StatusCode::OK.into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
