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
    // A password reset link and its page (docs/accounts.md) are never stored by a cache; the
    // link, whose URL holds the secret, sends no referrer. (The page, whose URL holds none,
    // keeps `same-origin`: under `no-referrer` its posts would carry `Origin: null`.)
    let path = request.uri().path();
    let reset_page = matches!(path, "/password-reset" | "/reset-password");
    let reset_link = path == "/password-reset";
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if reset_page {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
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
        HeaderValue::from_static(if reset_link {
            "no-referrer"
        } else {
            "same-origin"
        }),
    );
    headers.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    response
}
