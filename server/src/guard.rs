//! Request guards for the web app (not the token API, which authenticates each call itself):
//!
//! - [`session`]: resolves the session cookie once per request and puts the signed-in
//!   [`domain::users::User`] into the request's extensions, where pages and server functions read
//!   it; sends signed-out visitors of private pages to `/signin?next=…`.
//! - [`client_ip`]: works out the client's IP once and puts a [`domain::ClientIp`] into the
//!   request's extensions.
//! - [`request_size`]: refuses a request line or headers over the limits of `crate::limits`
//!   before any other work.
//! - [`same_origin`]: refuses state-changing requests (POST, PUT, PATCH, DELETE) whose `Origin`
//!   (or, lacking that, `Referer`) is not this site, so no other site can make a signed-in
//!   browser call our server functions.

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{HeaderMap, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use sea_orm::DatabaseConnection;

use crate::{
    error::ApiError,
    limits::{MAX_HEADER_BYTES, MAX_URI_BYTES},
};

/// The peer's address, or (when the operator trusts a proxy) the last `X-Forwarded-For` entry.
pub async fn client_ip(
    State(trust_forwarded_for): State<bool>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let forwarded = trust_forwarded_for
        .then(|| {
            request
                .headers()
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|part| part.trim().parse::<IpAddr>().ok())
                .next_back()
        })
        .flatten();
    if let Some(ip) = forwarded.or(peer) {
        // A dual-stack listener sees IPv4 clients as `::ffff:a.b.c.d`: they are recorded,
        // shown and matched against allow-lists as the IPv4 address they are.
        request
            .extensions_mut()
            .insert(domain::ClientIp(ip.to_canonical()));
    }
    next.run(request).await
}

/// Paths that need no session: the REST API (token auth), forward-auth and introspection
/// (token and service-credential auth, called by proxies and services), health checks, static
/// files.
fn is_exempt(path: &str) -> bool {
    path.starts_with("/api/")
        || path == "/auth/verify"
        || path == "/oauth/introspect"
        || path.starts_with("/pkg/")
        || path == "/healthz"
        || path == "/readyz"
}

fn is_private_page(path: &str) -> bool {
    app::PRIVATE_PATHS.contains(&path) || path.starts_with("/teams/") || path.starts_with("/admin/")
}

pub async fn session(
    State(db): State<DatabaseConnection>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_string();
    if is_exempt(&path) {
        return next.run(request).await;
    }
    let cookie = request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(domain::sessions::cookie_value)
        .map(str::to_string);
    let user = match cookie {
        Some(value) => match domain::sessions::resolve(&db, &value).await {
            Ok(user) => user,
            Err(error) => return ApiError::from(error).into_response(),
        },
        None => None,
    };
    match user {
        Some(user) => {
            request.extensions_mut().insert(user);
        }
        None if request.method() == Method::GET && is_private_page(&path) => {
            let wanted = request
                .uri()
                .path_and_query()
                .map_or(path.as_str(), |pq| pq.as_str());
            let next = url::form_urlencoded::byte_serialize(wanted.as_bytes()).collect::<String>();
            return Redirect::to(&format!("/signin?next={next}")).into_response();
        }
        None => {}
    }
    next.run(request).await
}

/// The host (and port) a URL such as an `Origin` or `Referer` value names.
fn host_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    Some(rest.split(['/', '?', '#']).next().unwrap_or(rest))
}

fn same_site_request(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let claimed = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    claimed
        .and_then(host_of)
        .is_some_and(|h| h.eq_ignore_ascii_case(host))
}

pub async fn same_origin(request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if safe || is_exempt(request.uri().path()) || same_site_request(request.headers()) {
        return next.run(request).await;
    }
    tracing::warn!(path = %request.uri().path(), "refused a cross-site request");
    ApiError::new(
        StatusCode::FORBIDDEN,
        "cross_site_request",
        "This request did not come from a patdesk page (its Origin header is missing or names another site).",
    )
    .into_response()
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().unwrap());
        }
        map
    }

    #[test]
    fn origin_must_name_this_host() {
        let host = ("host", "127.0.0.1:3000");
        assert!(same_site_request(&headers(&[
            host,
            ("origin", "http://127.0.0.1:3000")
        ])));
        assert!(same_site_request(&headers(&[
            host,
            ("referer", "http://127.0.0.1:3000/teams?x=1")
        ])));
        assert!(!same_site_request(&headers(&[
            host,
            ("origin", "http://evil.example")
        ])));
        assert!(!same_site_request(&headers(&[
            host,
            ("origin", "http://127.0.0.1:3000.evil.example")
        ])));
        assert!(!same_site_request(&headers(&[host, ("origin", "null")])));
        assert!(!same_site_request(&headers(&[host])));
        // An Origin wins over a Referer.
        assert!(!same_site_request(&headers(&[
            host,
            ("origin", "http://evil.example"),
            ("referer", "http://127.0.0.1:3000/"),
        ])));
    }
}
