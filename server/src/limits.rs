//! Limits on the request line and headers (`docs/hardening.md`), checked before any other work.
//!
//! hyper already refuses more than 100 headers and a head of more than about 400 KB; these
//! limits are far lower, near what browsers and common proxies send and accept. Bodies are
//! limited per route (`api::MAX_BODY_BYTES`), and slow requests by `web::REQUEST_TIMEOUT`.

use axum::{
    extract::Request,
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::error::ApiError;

/// The longest path and query accepted.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// The most bytes of header names and values accepted, all headers together.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

pub async fn request_size(request: Request, next: Next) -> Response {
    let uri_bytes = request
        .uri()
        .path_and_query()
        .map_or(0, |p| p.as_str().len());
    if uri_bytes > MAX_URI_BYTES {
        return ApiError::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!("The path and query are {uri_bytes} bytes long; at most {MAX_URI_BYTES} are accepted."),
        )
        .into_response();
    }
    let header_bytes: usize = request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        return ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            format!("The request's headers are {header_bytes} bytes long; at most {MAX_HEADER_BYTES} are accepted."),
        )
        .into_response();
    }
    next.run(request).await
}
