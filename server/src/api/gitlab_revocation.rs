//! GitLab's Token Revocation API (docs/leaks.md), so that a self-managed GitLab's secret
//! detection revokes the patdesk tokens it finds in pushed code: `GET
//! /api/gitlab/v1/revocable_token_types` and `POST /api/gitlab/v1/revoke_tokens`, the shapes
//! GitLab's documentation gives, authenticated by the pre-shared credential GitLab sends in
//! `Authorization` (`PATDESK_GITLAB_REVOCATION_TOKEN`; without it the routes do not exist). A
//! report feeds the leak-report flow (`domain::tokens::leaks`): the tokens are revoked, their
//! owners told where they were found.

use std::collections::BTreeMap;

use axum::{
    Json,
    extract::{State, rejection::JsonRejection},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use domain::tokens::leaks::{GITLAB_TOKEN_TYPE, Report, revoke_reported};
use serde::Deserialize;

use super::extract::Client;
use crate::{error::ApiError, state::AppState};

/// One finding, as GitLab sends it.
#[derive(Debug, Deserialize)]
pub struct Finding {
    #[serde(rename = "type")]
    pub kind: String,
    pub token: String,
    /// Where it was found (a URL of the file in the repository).
    #[serde(default)]
    pub location: Option<String>,
}

/// Whether the request carries the configured credential; a wrong one counts against the
/// address like a failed authentication.
async fn authenticated(
    state: &AppState,
    client_ip: Option<std::net::IpAddr>,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    super::auth::within_failure_budget(state, client_ip)?;
    let credential = state
        .gitlab_revocation
        .as_ref()
        .ok_or_else(|| ApiError::not_found("No such API endpoint."))?;
    let presented = headers
        .get(header::AUTHORIZATION)
        .map(|value| value.as_bytes())
        .unwrap_or_default();
    if credential.matches(presented) {
        return Ok(());
    }
    if let Some(ip) = client_ip {
        super::auth::count_failed_attempt(state, ip, false).await;
    }
    Err(ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_credential",
        "Send the Token Revocation API credential configured in patdesk (PATDESK_GITLAB_REVOCATION_TOKEN) in Authorization.",
    ))
}

/// `GET /api/gitlab/v1/revocable_token_types`: `{"types": [...]}`.
pub async fn revocable_token_types(
    State(state): State<AppState>,
    Client(client_ip): Client,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authenticated(&state, client_ip, &headers).await?;
    Ok(Json(serde_json::json!({ "types": [GITLAB_TOKEN_TYPE] })).into_response())
}

/// `POST /api/gitlab/v1/revoke_tokens`: a JSON list of `{"type","token","location"}`. 204 once
/// accepted (the revocation happens right after the answer, as for every leak report, so that
/// its timing says nothing of which values were live); 400 when the body is not such a list or
/// a type is not patdesk's, revoking nothing (GitLab then does not retry).
pub async fn revoke_tokens(
    State(state): State<AppState>,
    Client(client_ip): Client,
    headers: HeaderMap,
    body: Result<Json<Vec<Finding>>, JsonRejection>,
) -> Result<Response, ApiError> {
    authenticated(&state, client_ip, &headers).await?;
    let Json(findings) = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::payload_too_large(crate::limits::MAX_BODY_BYTES)
        } else {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Send a JSON list of {\"type\", \"token\", \"location\"}.",
            )
        }
    })?;
    if let Some(other) = findings.iter().find(|f| f.kind != GITLAB_TOKEN_TYPE) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_token_type",
            format!(
                "patdesk revokes only tokens of type {GITLAB_TOKEN_TYPE}, not {:?}.",
                other.kind
            ),
        ));
    }
    // One report per place they were found, so that each owner is told where.
    let mut by_location: BTreeMap<Option<String>, Vec<String>> = BTreeMap::new();
    for finding in findings {
        by_location
            .entry(finding.location)
            .or_default()
            .push(finding.token);
    }
    let mut reports = Vec::new();
    for (location, values) in &by_location {
        let source = location
            .as_deref()
            .map(|at| format!("GitLab secret detection: {at}"))
            .unwrap_or_else(|| "GitLab secret detection".into());
        reports.push(Report::parse(values, Some(&source))?);
    }
    let db = state.db.clone();
    tokio::spawn(async move {
        for report in reports {
            match revoke_reported(&db, &report, client_ip).await {
                Ok(revoked) if !revoked.is_empty() => {
                    tracing::info!(count = revoked.len(), "tokens GitLab found were revoked")
                }
                Ok(_) => {}
                Err(error) => tracing::error!(%error, "revoking tokens GitLab found failed"),
            }
        }
    });
    Ok(StatusCode::NO_CONTENT.into_response())
}
