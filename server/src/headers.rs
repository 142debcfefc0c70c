//! Security headers on every response (`docs/hardening.md`, OWASP Secure Headers).
//!
//! Pages carry their own Content-Security-Policy with the per-response nonce (set by
//! `app::shell`); every other response — JSON, files, errors — gets a policy that allows
//! nothing, so that nothing we serve can be framed or run as a document.

use axum::{
    extract::Request,
    http::{HeaderValue, header},
    middleware::Next,
    response::Response,
};

/// For responses that are not pages: no content of any kind, no framing.
pub const LOCKED_DOWN_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(LOCKED_DOWN_POLICY));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Not `no-referrer`: browsers then send `Origin: null` on same-site POSTs, which the
    // same-origin check (guard::same_origin) would refuse.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    response
}
