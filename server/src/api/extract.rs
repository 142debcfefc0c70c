//! Extractors whose rejection is an [`ApiError`]: a handler takes `Body<T>`, `Ids<T>` or
//! `Params<T>` (and the infallible `Client`, the caller's address) and never sees a malformed
//! request (413/422 for bodies and queries, 404 for path
//! ids that are not numbers; see the conversions in `crate::error`).
//!
//! Bodies and queries are also refused (422, naming the field) when a text in them holds a
//! control character other than tab and line breaks: NUL would otherwise reach PostgreSQL, which
//! refuses it in `text` with an error (docs/threat-model.md). The domain checks each field's own
//! rules (one line or several) after this.

use axum::{
    extract::{FromRequest, FromRequestParts, Request},
    http::request::Parts,
};
use domain::{
    ClientIp,
    text::{Lines, refused_control},
};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::net::IpAddr;

use crate::error::ApiError;

/// A JSON request body.
pub struct Body<T>(pub T);

impl<S, T> FromRequest<S> for Body<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let axum::Json(value) = axum::Json::<Value>::from_request(request, state).await?;
        if let Some(message) = refused_in_json(&value, "body") {
            return Err(ApiError::validation_failed(message));
        }
        serde_json::from_value(value)
            .map(Body)
            .map_err(|e| ApiError::validation_failed(format!("body: {e}")))
    }
}

/// The client's address as `guard::client_ip` determined it (none where that guard did not run).
pub struct Client(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Client(parts.extensions.get::<ClientIp>().map(|ip| ip.0)))
    }
}

/// The path's parameters.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Ids<T>(pub T);

/// The query string's parameters.
pub struct Params<T>(pub T);

impl<S, T> FromRequestParts<S> for Params<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            refuse_controls(&value, &name)?;
        }
        let axum::extract::Query(params) =
            axum::extract::Query::<T>::from_request_parts(parts, state).await?;
        Ok(Params(params))
    }
}

fn refuse_controls(text: &str, field: &str) -> Result<(), ApiError> {
    match refused_control(field, text, Lines::Many) {
        None => Ok(()),
        Some(message) => Err(ApiError::validation_failed(message)),
    }
}

/// What is wrong with a decoded JSON document (`root` names it: `body`) when a string in it,
/// keys included, holds a control character other than tab and line breaks: the message names
/// its path (`body.items[1]`). The API's bodies and SCIM's share it.
pub(crate) fn refused_in_json(value: &Value, root: &str) -> Option<String> {
    let (path, text) = text_with_control(value)?;
    refused_control(&format!("{root}{path}"), text, Lines::Many)
}

/// The first string in the body (keys included) that holds a refused control character, with
/// its path below the body (`.title`, `.items[2]`). The path is built only for that one string.
fn text_with_control(value: &Value) -> Option<(String, &str)> {
    let refused = |text: &str| refused_control("", text, Lines::Many).is_some();
    match value {
        Value::String(text) => refused(text).then(|| (String::new(), text.as_str())),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            text_with_control(item).map(|(rest, text)| (format!("[{i}]{rest}"), text))
        }),
        Value::Object(fields) => fields.iter().find_map(|(name, item)| {
            if refused(name) {
                return Some((format!(".{name}"), name.as_str()));
            }
            text_with_control(item).map(|(rest, text)| (format!(".{name}{rest}"), text))
        }),
        Value::Null | Value::Bool(_) | Value::Number(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_anywhere_in_a_body_are_named_by_their_path() {
        let refused_body = |body: &Value| {
            let (path, text) = text_with_control(body)?;
            refuse_controls(text, &format!("body{path}")).err()
        };
        let body = serde_json::json!({"title": "ok", "items": ["fine\n", "bad\u{0}"]});
        let refused = refused_body(&body).unwrap();
        assert!(
            refused.message.contains("body.items[1]"),
            "{}",
            refused.message
        );
        assert!(refused.message.contains("U+0000"), "{}", refused.message);
        let fine = serde_json::json!({"body": "line one\r\n\tline two", "n": 1});
        assert!(refused_body(&fine).is_none());
        let key = serde_json::json!({"a\u{1b}": 1});
        assert!(refused_body(&key).is_some());
    }
}
