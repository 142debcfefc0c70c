//! `ApiError`: every answer that is not a page or a server function's — refusals and failures
//! of the API, the request limits, the guards and the readiness check — as
//! `{"error":{"code","message"}}` with the status `docs/api.md` gives it. 401s carry
//! `WWW-Authenticate: Bearer realm="patdesk"`, 429s `Retry-After`. Every conversion into it
//! (from `domain::Error`, from a refusal, from a rejected request body) is here, once.

use axum::{
    Json,
    extract::rejection::{JsonRejection, PathRejection, QueryRejection},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use domain::{
    throttle::RetryAfter,
    tokens::{access::Denied, rate_limit::RateDecision},
};
use serde::Serialize;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds, for `Retry-After` (429 only).
    pub retry_after: Option<u64>,
    /// What the call needs, for `Patdesk-Accepted-Permissions` (403 `insufficient_permission`
    /// only; as GitHub's `X-Accepted-GitHub-Permissions`).
    pub accepted_permissions: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
            accepted_permissions: None,
        }
    }

    /// Too many leak reports from the caller's IP.
    pub fn too_many_reports(wait: RetryAfter) -> Self {
        Self::too_many("reports", wait)
    }

    /// Too many failed authentications from the caller's IP.
    pub fn rate_limited(wait: RetryAfter) -> Self {
        Self::too_many("failed authentication attempts", wait)
    }

    /// A token used more often than its rate limit allows (`domain::tokens::rate_limit`).
    pub fn token_rate_limited(rate: &RateDecision) -> Self {
        let seconds = rate.reset_seconds;
        ApiError {
            retry_after: Some(seconds),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                domain::tokens::rate_limit::REFUSED_CODE,
                format!(
                    "This token may be used {} times per minute: try again in {seconds} s.",
                    rate.limit
                ),
            )
        }
    }

    /// 429: too many `what` from the caller's address, with when to try again.
    fn too_many(what: &str, wait: RetryAfter) -> Self {
        let seconds = wait.seconds();
        ApiError {
            retry_after: Some(seconds),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("Too many {what} from your address: try again in {seconds} s."),
            )
        }
    }

    pub fn internal() -> Self {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Something went wrong on our side. Please try again.",
        )
    }

    /// The database cannot be reached; the caller may simply retry.
    pub fn unavailable() -> Self {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            "The service cannot reach its database right now. Please try again shortly.",
        )
    }

    /// A body over `limit` bytes (`limits::MAX_BODY_BYTES` for the API).
    pub fn payload_too_large(limit: usize) -> Self {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("The request body is larger than {limit} bytes."),
        )
    }

    /// Password hashing is at its limit: the caller may retry in a moment.
    pub fn busy(retry_after: u64) -> Self {
        ApiError {
            retry_after: Some(retry_after),
            ..ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "The server is busy checking passwords. Please try again in a moment.",
            )
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub(crate) fn validation_failed(message: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            message,
        )
    }
}

/// A body that is too large (413) or not the JSON the endpoint takes (422, saying why).
impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::payload_too_large(crate::limits::MAX_BODY_BYTES)
        } else {
            ApiError::validation_failed(format!("body: {}", rejection.body_text()))
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::validation_failed(format!("query: {}", rejection.body_text()))
    }
}

/// Path ids that are not numbers name nothing.
impl From<PathRejection> for ApiError {
    fn from(_: PathRejection) -> Self {
        ApiError::not_found("No such question or answer: ids in the path are numbers.")
    }
}

/// The status of a refusal: 401 when the token itself is no good, 403 when a good token may
/// not do this; the code is the domain's (`Denied::code`).
impl From<Denied> for ApiError {
    fn from(denied: Denied) -> Self {
        let status = match &denied {
            Denied::MissingToken
            | Denied::MalformedToken(_)
            | Denied::InvalidToken
            | Denied::TokenRevoked
            | Denied::RevokedByAdmin
            | Denied::ReportedLeaked
            | Denied::TokenExpired(_)
            | Denied::TokenRotated(_)
            | Denied::TokenRegenerated(_) => StatusCode::UNAUTHORIZED,
            Denied::IpNotAllowed(_)
            | Denied::NotAMember(_)
            | Denied::PendingApproval(_)
            | Denied::WrongTeam { .. }
            | Denied::ReadOnlyToken
            | Denied::InsufficientPermission { .. }
            | Denied::InsufficientRole { .. } => StatusCode::FORBIDDEN,
        };
        let accepted = match &denied {
            Denied::InsufficientPermission { needed, .. } => Some(
                needed
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            _ => None,
        };
        ApiError {
            accepted_permissions: accepted,
            ..ApiError::new(status, denied.code(), denied.to_string())
        }
    }
}

impl From<domain::Error> for ApiError {
    fn from(error: domain::Error) -> Self {
        use domain::Error as E;
        match error {
            E::Invalid { field, message } | E::Conflict { field, message } => {
                ApiError::validation_failed(format!("{field}: {message}"))
            }
            E::NotFound(what) => ApiError::not_found(format!("No such {what}.")),
            E::Forbidden(message) => {
                ApiError::new(StatusCode::FORBIDDEN, "insufficient_role", message)
            }
            E::Rule(message) => ApiError::new(StatusCode::CONFLICT, "conflict", message),
            E::InvalidCredentials | E::Unauthenticated => Denied::InvalidToken.into(),
            E::Busy => ApiError::busy(1),
            E::TooManyAttempts(wait) => ApiError::rate_limited(wait),
            unavailable if unavailable.is_unavailable() => {
                tracing::warn!(error = %unavailable, "request: database unreachable");
                ApiError::unavailable()
            }
            internal @ (E::Database(_) | E::Internal(_)) => {
                tracing::error!(error = %internal, "request failed");
                ApiError::internal()
            }
        }
    }
}

impl From<domain::tokens::access::AccessError> for ApiError {
    fn from(error: domain::tokens::access::AccessError) -> Self {
        match error {
            domain::tokens::access::AccessError::Denied { reason, .. } => reason.into(),
            domain::tokens::access::AccessError::Internal(error) => error.into(),
        }
    }
}

/// `{"error":{"code","message"}}`, serialized straight from the error (no `serde_json::Value`
/// built first: refusals are the hot path of a guessing attack).
#[derive(Serialize)]
struct Body<'a> {
    error: Detail<'a>,
}

#[derive(Serialize)]
struct Detail<'a> {
    code: &'a str,
    message: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: Detail {
                code: self.code,
                message: &self.message,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(accepted) = self
            .accepted_permissions
            .as_deref()
            .and_then(|a| HeaderValue::from_str(a).ok())
        {
            response
                .headers_mut()
                .insert("patdesk-accepted-permissions", accepted);
        }
        with_refusal_headers(response, self.retry_after, "Bearer realm=\"patdesk\"")
    }
}

/// `Retry-After` when there is a wait, and `WWW-Authenticate: <challenge>` on a 401: what every
/// refusal carries, the API's and SCIM's alike.
pub(crate) fn with_refusal_headers(
    mut response: Response,
    retry_after: Option<u64>,
    challenge: &'static str,
) -> Response {
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    if response.status() == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(challenge),
        );
    }
    response
}

/// An answer of the OAuth token endpoint (`POST /oauth/token`): RFC 6749 §5.2's
/// `{"error","error_description"}`, never cached. Refusals of the exchange, malformed requests,
/// an issuer that cannot be reached, and whatever an [`ApiError`] would say (its code as the
/// `error`) all become one.
#[derive(Debug)]
pub struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
    pub retry_after: Option<u64>,
}

impl OAuthError {
    pub fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        OAuthError {
            status,
            error,
            description: description.into(),
            retry_after: None,
        }
    }

    /// 400 `invalid_request`: the form is missing something or has what it should not.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        OAuthError::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }
}

impl From<domain::tokens::federation::Refusal> for OAuthError {
    fn from(refusal: domain::tokens::federation::Refusal) -> Self {
        OAuthError::new(
            StatusCode::BAD_REQUEST,
            refusal.code(),
            refusal.description(),
        )
    }
}

impl From<crate::federation::Unverified> for OAuthError {
    fn from(unverified: crate::federation::Unverified) -> Self {
        use crate::federation::Unverified as U;
        match unverified {
            U::Refused(refusal) => refusal.into(),
            U::IssuerUnavailable(description) => OAuthError {
                retry_after: Some(5),
                ..OAuthError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    description,
                )
            },
            U::Domain(error) => ApiError::from(error).into(),
        }
    }
}

impl From<domain::Error> for OAuthError {
    fn from(error: domain::Error) -> Self {
        ApiError::from(error).into()
    }
}

impl From<ApiError> for OAuthError {
    fn from(error: ApiError) -> Self {
        OAuthError {
            status: error.status,
            error: error.code,
            description: error.message,
            retry_after: error.retry_after,
        }
    }
}

#[derive(Serialize)]
struct OAuthBody<'a> {
    error: &'a str,
    error_description: &'a str,
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = OAuthBody {
            error: self.error,
            error_description: &self.description,
        };
        let mut response = (self.status, Json(body)).into_response();
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        with_refusal_headers(response, self.retry_after, "Bearer realm=\"patdesk\"")
    }
}
