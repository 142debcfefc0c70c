//! `ScimError`: every SCIM answer that is not a resource, in RFC 7644 §3.12's error schema
//! (`application/scim+json`, `status` as a string, `scimType` where the RFC has one). What the
//! rest of the server already answers — the throttle's 429, an unreachable database's 503, an
//! internal error's 500 (logged there) — is taken from `ApiError`, so that it is decided once.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};

use super::scim_json;
use crate::error::{ApiError, with_refusal_headers};

pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

#[derive(Debug)]
pub struct ScimError {
    pub status: StatusCode,
    /// RFC 7644 Table 9: `invalidFilter`, `uniqueness`, `invalidSyntax`, `invalidPath`,
    /// `noTarget`, `invalidValue`, `mutability`, …
    pub scim_type: Option<&'static str>,
    pub detail: String,
    retry_after: Option<u64>,
}

impl ScimError {
    pub fn new(
        status: StatusCode,
        scim_type: Option<&'static str>,
        detail: impl Into<String>,
    ) -> Self {
        ScimError {
            status,
            scim_type,
            detail: detail.into(),
            retry_after: None,
        }
    }

    /// 400 with a `scimType`.
    pub fn bad(scim_type: &'static str, detail: impl Into<String>) -> Self {
        ScimError::new(StatusCode::BAD_REQUEST, Some(scim_type), detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        ScimError::new(StatusCode::NOT_FOUND, None, detail)
    }

    pub fn unauthorized() -> Self {
        ScimError::new(
            StatusCode::UNAUTHORIZED,
            None,
            "Send a patdesk SCIM credential as Authorization: Bearer pdkscim_… (instance admins create one).",
        )
    }
}

impl From<ApiError> for ScimError {
    fn from(error: ApiError) -> Self {
        ScimError {
            retry_after: error.retry_after,
            ..ScimError::new(error.status, None, error.message)
        }
    }
}

impl From<domain::Error> for ScimError {
    fn from(error: domain::Error) -> Self {
        use domain::Error as E;
        match error {
            E::Invalid { message, .. } => ScimError::bad("invalidValue", message),
            E::Conflict { message, .. } => {
                ScimError::new(StatusCode::CONFLICT, Some("uniqueness"), message)
            }
            E::NotFound(what) => ScimError::not_found(format!("No such {what}.")),
            E::Forbidden(message) => ScimError::new(StatusCode::FORBIDDEN, None, message),
            E::Rule(message) => ScimError::bad("invalidValue", message),
            other => ApiError::from(other).into(),
        }
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let mut body = serde_json::json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.as_u16().to_string(),
            "detail": self.detail,
        });
        if let Some(scim_type) = self.scim_type {
            body["scimType"] = scim_type.into();
        }
        let response = scim_json(self.status, &body);
        with_refusal_headers(response, self.retry_after, "Bearer realm=\"patdesk-scim\"")
    }
}
