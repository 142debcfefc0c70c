//! The error every server function returns: serializable, so that the browser gets the same
//! value the server produced, and specific enough to put a message next to the right field.
//!
//! It is also where a server function's failure gets its HTTP status (see `docs/errors.md`):
//! server_fn answers every error with 500, so [`AppError`]'s `ser`, which server_fn calls once
//! to write the error into the response, sets the status that says what happened through
//! `ResponseOptions` (422 for bad input, 401, 403, 404, 409, 429 with `Retry-After`, 503, and
//! 400 for arguments that do not decode). Only our own faults stay 500s.
//!
//! For a plain HTML form post, whose error travels back to the form in the URL, `ser` binds the
//! error to the posting browser ([`BoundError`]) and [`url_error_is_for`] is the check the
//! server's `guard::form_errors` makes before serving a page with such an error.

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
    /// Bad input in several fields, every one found at once (`AppError::all`): each message is
    /// shown next to its field.
    #[error("{}", .0.first().map(|f| f.message.as_str()).unwrap_or_default())]
    Fields(Vec<FieldMessage>),
    #[error("Sign in to continue.")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// A rule that stops the change (e.g. a team keeps one admin): shown above the form.
    #[error("{0}")]
    Rule(String),
    /// Too many failed sign-ins from this address, or wrong second-factor codes for the account.
    #[error("Too many attempts: try again in {}.", wait_in_words(*retry_after))]
    RateLimited { retry_after: u64 },
    /// Too many passwords are being checked right now (a burst of sign-ins).
    #[error("patdesk is busy checking passwords. Please try again in a moment.")]
    Busy,
    /// The database cannot be reached right now.
    #[error("patdesk cannot reach its database right now. Please try again in a moment.")]
    Unavailable,
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    /// A sensitive change from a session whose sign-in is older than the sudo window
    /// (`PATDESK_SUDO_MINUTES`): confirm who you are (`confirm_identity`), then try again.
    #[error("For your security, confirm it is you before this change: enter your password again.")]
    #[serde(rename = "reauthentication_required")]
    ReauthenticationRequired,
    /// The instance requires two-factor sign-in and the grace period to set it up is over:
    /// only the Account page is open until it is.
    #[error(
        "This patdesk requires two-factor sign-in: set it up on your Account page to continue."
    )]
    #[serde(rename = "two_factor_required")]
    TwoFactorRequired,
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
        if let Some(bound) = self.bound_for_url() {
            return bound;
        }
        #[cfg(feature = "ssr")]
        self.set_response_status();
        // Our variants always serialize; were one not to, the browser still gets an answer.
        <JsonEncoding as Encodes<Self>>::encode(self)
            .unwrap_or_else(|_| Bytes::from_static(br#""Internal""#))
    }

    fn de(data: Bytes) -> Self {
        // Parsed as text, as Leptos parses a resource's value in the page: then the browser's
        // main module holds one copy of this type's deserializer, not one per input kind
        // (docs/frontend.md, "What the main module holds").
        let text = match std::str::from_utf8(&data) {
            Ok(text) => text,
            Err(e) => return AppError::ServerFn(ServerFnErrorErr::Deserialization(e.to_string())),
        };
        // An error that came back through the URL carries its binding; the server's
        // `guard::form_errors` has checked it before the page was served.
        if let Ok(bound) = leptos::serde_json::from_str::<BoundError>(text) {
            return bound.error;
        }
        leptos::serde_json::from_str(text).unwrap_or_else(|e| {
            AppError::ServerFn(ServerFnErrorErr::Deserialization(e.to_string()))
        })
    }
}

/// A server function's error on its way back to the form through the URL (a plain HTML form
/// post, before the wasm has loaded: leptos redirects to the form's page with the error in
/// `?__err=`). Anyone can write such a URL, so the error is bound to the browser that posted the
/// form: `bound_to` is a digest of the error and a random value in that browser's `HttpOnly`
/// form cookie, and the server shows only errors whose binding matches the cookie of the
/// browser asking (docs/threat-model.md).
#[derive(Serialize, Deserialize)]
struct BoundError {
    // Checked on the server only.
    #[cfg_attr(not(feature = "ssr"), allow(dead_code))]
    bound_to: String,
    error: AppError,
}

/// One field's message in [`AppError::Fields`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldMessage {
    pub field: String,
    pub message: String,
}

/// A wait as people say it: "45 seconds", "1 minute", "4 minutes" (rounded up, so that
/// nobody comes back too early).
pub fn wait_in_words(seconds: u64) -> String {
    match seconds {
        0 | 1 => "1 second".to_string(),
        2..=59 => format!("{seconds} seconds"),
        _ => match seconds.div_ceil(60) {
            1 => "1 minute".to_string(),
            minutes => format!("{minutes} minutes"),
        },
    }
}

impl AppError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        AppError::Field {
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// Every field's message of `errors` as one error (`Field` for one, `Fields` for more);
    /// `None` when there is none. Errors about no field are left out: callers collect field
    /// checks only.
    pub fn all(errors: Vec<AppError>) -> Option<AppError> {
        let mut messages: Vec<FieldMessage> = errors
            .into_iter()
            .flat_map(AppError::into_field_messages)
            .collect();
        match messages.len() {
            0 => None,
            1 => {
                let FieldMessage { field, message } = messages.remove(0);
                Some(AppError::Field { field, message })
            }
            _ => Some(AppError::Fields(messages)),
        }
    }

    fn into_field_messages(self) -> Vec<FieldMessage> {
        match self {
            AppError::Field { field, message } => vec![FieldMessage { field, message }],
            AppError::Fields(messages) => messages,
            _ => Vec::new(),
        }
    }

    /// This error without the messages of the fields in `changed` (a form clears a field's
    /// message once the field changes); `None` when nothing is left.
    pub fn without_fields(&self, changed: &[String]) -> Option<AppError> {
        match self {
            AppError::Field { field, .. } if changed.contains(field) => None,
            AppError::Fields(messages) => AppError::all(
                messages
                    .iter()
                    .filter(|m| !changed.contains(&m.field))
                    .map(|m| AppError::field(&m.field, m.message.clone()))
                    .collect(),
            ),
            other => Some(other.clone()),
        }
    }

    /// The message for `field`, if this error is about it.
    pub fn for_field(&self, name: &str) -> Option<String> {
        match self {
            AppError::Field { field, message } if field == name => Some(message.clone()),
            AppError::Fields(messages) => messages
                .iter()
                .find(|m| m.field == name)
                .map(|m| m.message.clone()),
            _ => None,
        }
    }

    /// The message for errors that are not about one field.
    pub fn general(&self) -> Option<String> {
        match self {
            AppError::Field { .. } | AppError::Fields(_) => None,
            other => Some(other.to_string()),
        }
    }
}

/// A server function's checks of a form's fields, each run whatever the others found, so that
/// the answer names every bad field at once (`AppError::Fields`), not the first one only.
#[cfg(feature = "ssr")]
#[derive(Default)]
pub struct FieldChecks(Vec<AppError>);

#[cfg(feature = "ssr")]
impl FieldChecks {
    /// The value, or `None` with a field's error kept for later; any other error (the
    /// database, a refusal) ends the call at once.
    pub fn check<T>(&mut self, result: Result<T, domain::Error>) -> Result<Option<T>, AppError> {
        match result {
            Ok(value) => Ok(Some(value)),
            Err(e @ (domain::Error::Invalid { .. } | domain::Error::Conflict { .. })) => {
                self.0.push(e.into());
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Every field's error found, as one.
    pub fn into_error(self) -> AppError {
        AppError::all(self.0).unwrap_or(AppError::Internal)
    }
}

#[cfg(feature = "ssr")]
impl AppError {
    /// The HTTP status this error stands for.
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            AppError::Field { .. } | AppError::Fields(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_)
            | AppError::ReauthenticationRequired
            | AppError::TwoFactorRequired => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Rule(_) => StatusCode::CONFLICT,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable | AppError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            AppError::ServerFn(
                ServerFnErrorErr::Args(_)
                | ServerFnErrorErr::Deserialization(_)
                | ServerFnErrorErr::MissingArg(_),
            ) => StatusCode::BAD_REQUEST,
            AppError::Internal | AppError::ServerFn(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// For a plain HTML form post: the error bound to this browser ([`BoundError`]), setting the
    /// browser's form cookie first if it has none. `None` for any other call.
    fn bound_for_url(&self) -> Option<Bytes> {
        use leptos::prelude::{provide_context, use_context};
        if !is_plain_form_post() {
            return None;
        }
        let parts = use_context::<http::request::Parts>()?;
        let secure = crate::request::over_https(&parts.extensions);
        // `ser` runs twice for one error (the body, then the URL): one value for both.
        let nonce = match use_context::<FormNonce>() {
            Some(FormNonce(nonce)) => nonce,
            None => {
                let nonce = form_cookie(&parts.headers, secure).unwrap_or_else(|| {
                    let fresh = domain::secret::hex(&domain::secret::random_bytes::<32>());
                    set_form_cookie(&fresh, secure);
                    fresh
                });
                provide_context(FormNonce(nonce.clone()));
                nonce
            }
        };
        let error = <JsonEncoding as Encodes<Self>>::encode(self).ok()?;
        let bound = BoundError {
            bound_to: binding(&nonce, &error),
            error: self.clone(),
        };
        <JsonEncoding as Encodes<BoundError>>::encode(&bound).ok()
    }

    /// Gives the response this error's status (and `Retry-After` for 429). Not for a plain HTML
    /// form post: that one is answered with a redirect back to the form, carrying the error in
    /// the URL, which a status would override.
    fn set_response_status(&self) {
        use http::{HeaderValue, header};
        use leptos::prelude::use_context;
        use leptos_axum::ResponseOptions;
        let Some(response) = use_context::<ResponseOptions>() else {
            return;
        };
        if is_plain_form_post() {
            return;
        }
        response.set_status(self.status());
        match self {
            AppError::RateLimited { retry_after } => {
                response.insert_header(header::RETRY_AFTER, HeaderValue::from(*retry_after));
            }
            AppError::Busy => {
                response.insert_header(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
    }
}

/// Whether the server function was called by a plain HTML form post (it accepts HTML): its
/// answer is a redirect back to the form.
#[cfg(feature = "ssr")]
fn is_plain_form_post() -> bool {
    leptos::prelude::use_context::<http::request::Parts>().is_some_and(|parts| {
        parts
            .headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
    })
}

/// This request's form-cookie value, once read or made.
#[cfg(feature = "ssr")]
#[derive(Clone)]
struct FormNonce(String);

/// The form cookie's name (with the `__Host-` prefix over HTTPS).
#[cfg(feature = "ssr")]
fn form_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-patdesk_form"
    } else {
        "patdesk_form"
    }
}

/// The browser's form-cookie value, if it has one.
#[cfg(feature = "ssr")]
pub fn form_cookie(headers: &http::HeaderMap, secure: bool) -> Option<String> {
    let wanted = form_cookie_name(secure);
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|h| domain::identity::sessions::cookie_named(h, wanted))
        .find(|value| value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_string)
}

#[cfg(feature = "ssr")]
fn set_form_cookie(nonce: &str, secure: bool) {
    use leptos::prelude::use_context;
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    let value = format!(
        "{}={nonce}; Path=/; HttpOnly; SameSite=Lax{}",
        form_cookie_name(secure),
        if secure { "; Secure" } else { "" }
    );
    if let Ok(value) = http::HeaderValue::from_str(&value) {
        response.append_header(http::header::SET_COOKIE, value);
    }
}

/// The digest that binds an encoded error to a browser's form cookie.
#[cfg(feature = "ssr")]
fn binding(nonce: &str, encoded_error: &[u8]) -> String {
    domain::secret::digest_hex(&format!(
        "patdesk form error\n{nonce}\n{}",
        String::from_utf8_lossy(encoded_error)
    ))
}

/// Whether an error from a URL's `__err` (decoded from base64) was made by this server for the
/// browser whose request carries `headers`: its binding matches the browser's form cookie.
#[cfg(feature = "ssr")]
pub fn url_error_is_for(decoded: &[u8], headers: &http::HeaderMap, secure: bool) -> bool {
    let Some(nonce) = form_cookie(headers, secure) else {
        return false;
    };
    let Ok(bound) = leptos::serde_json::from_slice::<BoundError>(decoded) else {
        return false;
    };
    let Ok(error) = <JsonEncoding as Encodes<AppError>>::encode(&bound.error) else {
        return false;
    };
    // Not a secret comparison in the sense of a password: the digest is in the URL already.
    bound.bound_to == binding(&nonce, &error)
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
            E::Busy => AppError::Busy,
            E::TooManyAttempts(wait) => AppError::RateLimited {
                retry_after: wait.seconds(),
            },
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
