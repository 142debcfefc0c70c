//! The error every server function returns: serializable, so that the browser gets the same
//! value the server produced, and specific enough to put a message next to the right field.
//!
//! It is also where a server function's failure gets its HTTP status (see `docs/errors.md`):
//! server_fn answers every error with 500, so [`AppError`]'s `ser`, which server_fn calls once
//! to write the error into the response, sets the status that says what happened through
//! `ResponseOptions` (422 for bad input, 401, 403, 404, 409, 429 with `Retry-After`, 503, and
//! 400 for arguments that do not decode). Only our own faults stay 500s.

use leptos::server_fn::{
    Bytes, Encodes,
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Bad input: shown next to `field`.
    #[error("{message}")]
    Field { field: String, message: String },
    #[error("Sign in to continue.")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// A rule that stops the change (e.g. a team keeps one admin): shown above the form.
    #[error("{0}")]
    Rule(String),
    /// Too many failed sign-ins from this address.
    #[error("Too many failed attempts from your address: try again in {retry_after} s.")]
    RateLimited { retry_after: u64 },
    /// The database cannot be reached right now.
    #[error("patdesk cannot reach its database right now. Please try again in a moment.")]
    Unavailable,
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    #[error("{0}")]
    ServerFn(ServerFnErrorErr),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::ServerFn(value)
    }

    fn ser(&self) -> Bytes {
        #[cfg(feature = "ssr")]
        self.set_response_status();
        // Our variants always serialize; were one not to, the browser still gets an answer.
        <JsonEncoding as Encodes<Self>>::encode(self)
            .unwrap_or_else(|_| Bytes::from_static(br#""Internal""#))
    }
}

impl AppError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        AppError::Field {
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// The message for `field`, if this error is about it.
    pub fn for_field(&self, name: &str) -> Option<String> {
        match self {
            AppError::Field { field, message } if field == name => Some(message.clone()),
            _ => None,
        }
    }

    /// The message for errors that are not about one field.
    pub fn general(&self) -> Option<String> {
        match self {
            AppError::Field { .. } => None,
            other => Some(other.to_string()),
        }
    }
}

#[cfg(feature = "ssr")]
impl AppError {
    /// The HTTP status this error stands for.
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            AppError::Field { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Rule(_) => StatusCode::CONFLICT,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::ServerFn(
                ServerFnErrorErr::Args(_)
                | ServerFnErrorErr::Deserialization(_)
                | ServerFnErrorErr::MissingArg(_),
            ) => StatusCode::BAD_REQUEST,
            AppError::Internal | AppError::ServerFn(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Gives the response this error's status (and `Retry-After` for 429). Not for a plain HTML
    /// form post: that one is answered with a redirect back to the form, carrying the error in
    /// the URL, which a status would override.
    fn set_response_status(&self) {
        use http::{HeaderValue, header};
        use leptos::prelude::use_context;
        use leptos_axum::ResponseOptions;
        let plain_form_post = use_context::<http::request::Parts>().is_some_and(|parts| {
            parts
                .headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|accept| accept.contains("text/html"))
        });
        let Some(response) = use_context::<ResponseOptions>() else {
            return;
        };
        if plain_form_post {
            return;
        }
        response.set_status(self.status());
        if let AppError::RateLimited { retry_after } = self {
            response.insert_header(header::RETRY_AFTER, HeaderValue::from(*retry_after));
        }
    }
}

#[cfg(feature = "ssr")]
impl From<domain::Error> for AppError {
    fn from(error: domain::Error) -> Self {
        use domain::Error as E;
        match error {
            E::Invalid { field, message } | E::Conflict { field, message } => {
                AppError::field(field, message)
            }
            E::InvalidCredentials => AppError::field("password", "Wrong username or password."),
            E::Unauthenticated => AppError::Unauthenticated,
            E::Forbidden(message) => AppError::Forbidden(message),
            E::NotFound(what) => AppError::NotFound(format!("No such {what}.")),
            E::Rule(message) => AppError::Rule(message),
            unavailable if unavailable.is_unavailable() => {
                tracing::warn!(error = %unavailable, "server function: database unreachable");
                AppError::Unavailable
            }
            internal @ (E::Database(_) | E::Internal(_)) => {
                // The details go to the log, never to the browser.
                tracing::error!(error = %internal, "server function failed");
                AppError::Internal
            }
        }
    }
}
