//! The error every server function returns: serializable, so that the browser gets the same
//! value the server produced, and specific enough to put a message next to the right field.

use leptos::server_fn::{
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
