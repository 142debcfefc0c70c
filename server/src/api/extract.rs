//! Extractors whose rejection is an [`ApiError`]: a handler takes `Body<T>`, `Ids<T>` or
//! `Params<T>` and never sees a malformed request (413/422 for bodies and queries, 404 for path
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
use domain::text::{Lines, control_message, is_refused_control};
use serde::de::DeserializeOwned;
use serde_json::Value;

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
        refuse_controls_in_json(&value, "body")?;
        serde_json::from_value(value)
            .map(Body)
            .map_err(|e| ApiError::validation_failed(format!("body: {e}")))
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
    match text.chars().find(|&c| is_refused_control(c, Lines::Many)) {
        None => Ok(()),
        Some(c) => Err(ApiError::validation_failed(control_message(
            field,
            c,
            Lines::Many,
        ))),
    }
}

/// Every string in the body, keys included, named by its path (`body.title`, `body.items[2]`).
fn refuse_controls_in_json(value: &Value, path: &str) -> Result<(), ApiError> {
    match value {
        Value::String(text) => refuse_controls(text, path),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, item)| refuse_controls_in_json(item, &format!("{path}[{i}]"))),
        Value::Object(fields) => fields.iter().try_for_each(|(name, item)| {
            let path = format!("{path}.{name}");
            refuse_controls(name, &path)?;
            refuse_controls_in_json(item, &path)
        }),
        Value::Null | Value::Bool(_) | Value::Number(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_anywhere_in_a_body_are_named_by_their_path() {
        let body = serde_json::json!({"title": "ok", "items": ["fine\n", "bad\u{0}"]});
        let refused = refuse_controls_in_json(&body, "body").unwrap_err();
        assert!(
            refused.message.contains("body.items[1]"),
            "{}",
            refused.message
        );
        assert!(refused.message.contains("U+0000"), "{}", refused.message);
        let fine = serde_json::json!({"body": "line one\r\n\tline two", "n": 1});
        assert!(refuse_controls_in_json(&fine, "body").is_ok());
        let key = serde_json::json!({"a\u{1b}": 1});
        assert!(refuse_controls_in_json(&key, "body").is_err());
    }
}
