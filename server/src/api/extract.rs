//! Extractors whose rejection is an [`ApiError`]: a handler takes `Body<T>`, `Ids<T>` or
//! `Params<T>` and never sees a malformed request (413/422 for bodies and queries, 404 for path
//! ids that are not numbers; see the conversions in `crate::error`).

use axum::extract::{FromRequest, FromRequestParts};

use crate::error::ApiError;

/// A JSON request body.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Body<T>(pub T);

/// The path's parameters.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Ids<T>(pub T);

/// The query string's parameters.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Params<T>(pub T);
