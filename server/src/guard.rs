//! Request guards for the web app (not the token API, which authenticates each call itself):
//!
//! - [`session`]: resolves the session cookie once per request and puts the signed-in
//!   [`domain::identity::users::User`] into the request's extensions, where pages and server functions read
//!   it; sends signed-out visitors of private pages to `/signin?next=…`.
//! - [`client_ip`]: works out the client's IP and whether the request came over HTTPS once, and
//!   puts a [`domain::ClientIp`] and an [`app::request::OverHttps`] into the request's
//!   extensions.
//! - [`request_size`]: refuses a request line or headers over the limits of `crate::limits`
//!   before any other work.
//! - [`request_text`]: refuses a path or query that decodes to a control character (`%00`).
//! - [`sudo_mode`]: refuses a server function classed `Sudo` (`app::server_fns`) from a
//!   session whose sign-in is older than the sudo window.
//! - [`same_origin`]: refuses state-changing requests (POST, PUT, PATCH, DELETE) whose `Origin`
//!   (or, lacking that, `Referer`) is not this site, so no other site can make a signed-in
//!   browser call our server functions.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{HeaderMap, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use domain::identity::two_factor::requirement::Requirement;
use ipnet::IpNet;
use sea_orm::DatabaseConnection;

use crate::{
    error::ApiError,
    limits::{MAX_HEADER_BYTES, MAX_URI_BYTES},
};

/// Where the client's address comes from (`PATDESK_TRUST_FORWARDED_FOR`,
/// `PATDESK_TRUSTED_PROXIES`; docs/threat-model.md).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForwardedFor {
    /// Whether `X-Forwarded-For` is read at all.
    pub trusted: bool,
    /// The proxies whose `X-Forwarded-For` is believed: the header is read only when the peer
    /// is one of them, and entries they appended are walked past.
    pub proxies: Vec<IpNet>,
}

impl ForwardedFor {
    /// The default `PATDESK_TRUSTED_PROXIES`: a proxy on this machine.
    pub const DEFAULT_PROXIES: &'static str = "127.0.0.0/8, ::1/128";

    /// `PATDESK_TRUSTED_PROXIES`: addresses or CIDR ranges, separated by commas or spaces.
    pub fn parse_proxies(text: &str) -> Result<Vec<IpNet>, String> {
        text.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map(|net| net.trunc())
                    .map_err(|_| entry.to_string())
            })
            .collect()
    }

    fn is_proxy(&self, ip: IpAddr) -> bool {
        self.proxies.iter().any(|net| net.contains(&ip))
    }

    /// The client's address: the peer's, unless the peer is a trusted proxy; then the
    /// `X-Forwarded-For` entries are walked from the right (the last one is the one the peer
    /// appended) past every trusted proxy, as nginx's `real_ip_recursive` does. An entry that
    /// is not an address (`unknown`, garbage) stops the walk at the peer: an earlier entry is
    /// the client's own word, never taken on its own.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusted || !self.is_proxy(peer) {
            return peer;
        }
        let entries = headers
            .get_all("x-forwarded-for")
            .iter()
            .map(|value| value.to_str().unwrap_or(""))
            .flat_map(|value| value.split(','));
        let mut client = peer;
        for entry in entries.rev() {
            let Some(ip) = forwarded_address(entry) else {
                return peer;
            };
            client = ip;
            if !self.is_proxy(ip) {
                break;
            }
        }
        client
    }

    /// Whether the request came over HTTPS: only when the peer is a trusted proxy (the rule
    /// `X-Forwarded-For` has) and the last `X-Forwarded-Proto` value, the one the connecting
    /// proxy set or appended, says `https`. patdesk itself speaks plain HTTP, so neither an
    /// untrusted peer's header nor the scheme a client writes in its request line counts: a
    /// client that could claim HTTPS would be served the `__Host-` cookies' names while
    /// sending an unprefixed cookie a sibling site planted, or the other way round.
    pub fn over_https(&self, peer: IpAddr, headers: &HeaderMap) -> bool {
        if !self.trusted || !self.is_proxy(peer.to_canonical()) {
            return false;
        }
        headers
            .get_all("x-forwarded-proto")
            .iter()
            .map(|value| value.to_str().unwrap_or(""))
            .flat_map(|value| value.split(','))
            .next_back()
            .is_some_and(|last| last.trim().eq_ignore_ascii_case("https"))
    }
}

/// One `X-Forwarded-For` entry: an address, or an address with a port as some proxies write
/// it (`203.0.113.5:4711`, `[2001:db8::1]:4711`, `[2001:db8::1]`).
fn forwarded_address(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    let ip = entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| {
            entry
                .strip_prefix('[')?
                .strip_suffix(']')?
                .parse::<IpAddr>()
                .ok()
        })?;
    Some(ip.to_canonical())
}

/// Puts the client's address ([`ForwardedFor::client`]) into the request as a
/// `domain::ClientIp`, for everything that records or throttles by address, and whether it came
/// over HTTPS ([`ForwardedFor::over_https`]) as an `app::request::OverHttps`, for the cookies.
pub async fn client_ip(
    State(forwarded): State<Arc<ForwardedFor>>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(peer) = peer {
        // A dual-stack listener sees IPv4 clients as `::ffff:a.b.c.d`: they are recorded,
        // shown and matched against allow-lists as the IPv4 address they are.
        let ip = forwarded.client(peer, request.headers());
        let https = forwarded.over_https(peer, request.headers());
        let extensions = request.extensions_mut();
        extensions.insert(domain::ClientIp(ip));
        extensions.insert(app::request::OverHttps(https));
    }
    next.run(request).await
}

/// Pages asked for with a server function's error in the URL (`?__path=…&__err=…`, where a
/// plain HTML form post is sent back to its form) are served only when the error was made for
/// this browser (`app::error::url_error_is_for`); otherwise the browser is sent to the same page
/// without it, so nobody can put a sentence of their own under a form with a link.
pub async fn form_errors(request: Request, next: Next) -> Response {
    // Cheap checks first: the API's GETs (exempt) never have their query parsed here.
    let query = match request.uri().query() {
        Some(query) if request.method() == Method::GET && !is_exempt(request.uri().path()) => query,
        _ => return next.run(request).await,
    };
    let carries_error = url::form_urlencoded::parse(query.as_bytes())
        .any(|(name, _)| name == "__err" || name == "__path");
    if !carries_error {
        return next.run(request).await;
    }
    let secure = app::request::over_https(request.extensions());
    let ours = url::form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "__err")
        .and_then(|(_, err)| {
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE, err.as_bytes()).ok()
        })
        .is_some_and(|decoded| app::error::url_error_is_for(&decoded, request.headers(), secure));
    if ours {
        return next.run(request).await;
    }
    let kept: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(name, _)| name != "__err" && name != "__path")
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    let mut location = request.uri().path().to_string();
    if !kept.is_empty() {
        location.push('?');
        location.push_str(
            &url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(kept)
                .finish(),
        );
    }
    // The path is the request's own, so anything: `//evil.example/x` would be another site.
    Redirect::to(&app::session::safe_next(Some(&location))).into_response()
}

/// The largest server function form body read (axum's default body limit).
const MAX_SERVER_FUNCTION_BODY: usize = 2 * 1024 * 1024;

/// Server functions' form fields with a control character other than tab and line breaks are
/// refused before the function runs: 422 with the field's name, as the function's own errors
/// are (`AppError::Field`). Each domain value then checks its own rules (`domain::text`), so
/// NUL never reaches the database, whatever field it is sent in (docs/threat-model.md).
///
/// Every POST under `/rpc/` is read, whatever its `Content-Type` says: server functions decode
/// their body as a form without looking at that header, so a form sent as `text/plain` must
/// not pass unchecked.
pub async fn server_function_text(request: Request, next: Next) -> Response {
    if request.method() != Method::POST || !request.uri().path().starts_with("/rpc/") {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_SERVER_FUNCTION_BODY).await else {
        return ApiError::payload_too_large(MAX_SERVER_FUNCTION_BODY).into_response();
    };
    let refused = url::form_urlencoded::parse(&bytes).find_map(|(name, value)| {
        let message = domain::text::refused_control(&name, &value, domain::text::Lines::Many)?;
        Some(app::error::AppError::field(&name, message))
    });
    if let Some(error) = refused {
        let body = serde_json::to_string(&error).unwrap_or_default();
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response();
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}

/// Paths that need no session: the REST API (token auth), forward-auth and introspection
/// (token and service-credential auth, called by proxies and services), the token exchange and
/// revocation (a CI job's identity token, a token's value), SCIM (a directory's credential;
/// directories send no `Origin`), health checks, static files.
fn is_exempt(path: &str) -> bool {
    path.starts_with("/api/")
        || path.starts_with("/scim/")
        || path == "/auth/verify"
        || path == "/oauth/introspect"
        || path == "/oauth/token"
        || path == "/oauth/revoke"
        || path.starts_with("/pkg/")
        || path == "/healthz"
        || path == "/readyz"
}

/// Where a request came from, for the Account page's list of sessions.
fn seen_from(request: &Request) -> domain::identity::sessions::SeenFrom {
    domain::identity::sessions::SeenFrom {
        ip: request
            .extensions()
            .get::<domain::ClientIp>()
            .map(|ip| ip.0),
        user_agent: request
            .headers()
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    }
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
    let cookie = app::session::session_cookie_of(request.extensions(), request.headers());
    let signed_in = match cookie {
        Some(value) => {
            match domain::identity::sessions::resolve_seen(&db, &value, Some(&seen_from(&request)))
                .await
            {
                Ok(signed_in) => signed_in,
                Err(error) => return ApiError::from(error).into_response(),
            }
        }
        None => None,
    };
    match signed_in {
        Some(signed_in) => {
            let requirement =
                match domain::identity::two_factor::requirement::of(&db, signed_in.user.id).await {
                    Ok(requirement) => requirement,
                    Err(error) => return ApiError::from(error).into_response(),
                };
            if requirement == Requirement::Overdue
                && let Some(refused) = refuse_until_enrolled(request.method(), &path)
            {
                return refused;
            }
            let extensions = request.extensions_mut();
            extensions.insert(app::session::Authenticated(signed_in.authenticated_at));
            extensions.insert(requirement);
            extensions.insert(signed_in.user);
        }
        None if request.method() == Method::GET && is_private_page(&path) => {
            let wanted = request
                .uri()
                .path_and_query()
                .map_or(path.as_str(), |pq| pq.as_str());
            let wanted = app::session::safe_next(Some(wanted));
            let next = url::form_urlencoded::byte_serialize(wanted.as_bytes()).collect::<String>();
            return Redirect::to(&format!("/signin?next={next}")).into_response();
        }
        None => {}
    }
    next.run(request).await
}

/// Sudo mode, one rule in one place: a server function that the registry
/// (`app::server_fns::SERVER_FUNCTIONS`) classes `Sudo`, called from a session whose sign-in is
/// older than the sudo window, is refused with 403 `reauthentication_required` before it runs;
/// the page then asks the person to confirm it is them and sends the call again. Each of these
/// functions checks again itself (`app::session::require_recent_sign_in`). A caller without a
/// session passes: the function answers `unauthenticated` itself. Runs after [`session`].
pub async fn sudo_mode(
    State(window): State<domain::identity::sudo::SudoWindow>,
    request: Request,
    next: Next,
) -> Response {
    let needs_sudo =
        app::server_fns::class_of(request.uri().path()) == Some(app::server_fns::Class::Sudo);
    let stale = needs_sudo
        && request
            .extensions()
            .get::<app::session::Authenticated>()
            .is_some_and(|at| !window.allows(at.0));
    if stale {
        return server_function_error(&app::error::AppError::ReauthenticationRequired);
    }
    next.run(request).await
}

/// A server function's refusal, answered by a guard before the function runs: the status and
/// the JSON body the function itself would answer with.
fn server_function_error(error: &app::error::AppError) -> Response {
    let body = serde_json::to_string(error).unwrap_or_default();
    (
        error.status(),
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// What a person whose grace period to set up two-factor sign-in is over may still reach: their
/// Account page and what it calls, and signing out. Anything else is refused — a page by a
/// redirect to the Account page, a server function by 403 `TwoFactorRequired` — until they
/// enrol (docs/two-factor.md).
fn refuse_until_enrolled(method: &Method, path: &str) -> Option<Response> {
    if let Some(function) = path.strip_prefix("/rpc/") {
        if app::two_factor::ALLOWED_BEFORE_ENROLMENT.contains(&function) {
            return None;
        }
        let body =
            serde_json::to_string(&app::error::AppError::TwoFactorRequired).unwrap_or_default();
        return Some(
            (
                StatusCode::FORBIDDEN,
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                body,
            )
                .into_response(),
        );
    }
    let page_elsewhere = method == Method::GET
        && path != "/account"
        && !path.starts_with("/signin")
        && !path.starts_with("/signup")
        && !path.starts_with("/auth/");
    page_elsewhere.then(|| Redirect::to("/account#two-factor").into_response())
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

/// Refuses (422 `validation_failed`, naming the part) a path or query string that decodes to a
/// control character — other than tab and line breaks in a query value — before any handler
/// reads it: `/teams/a%00b` would otherwise carry NUL into a lookup, which PostgreSQL refuses
/// with an error (a 500), and pages, the API and forward-auth all take names from the URL.
/// SCIM's queries are its own (a filter with NUL is its 400 `invalidFilter`; its ids are
/// numbers).
pub async fn request_text(request: Request, next: Next) -> Response {
    let uri = request.uri();
    let path = uri.path();
    // Percent-decoding as a form does (`+` as a space) changes nothing this looks for.
    let decoded_path = url::form_urlencoded::parse(path.as_bytes());
    let mut refused = decoded_path.into_iter().find_map(|(name, value)| {
        domain::text::refused_control("path", &name, domain::text::Lines::One)
            .or_else(|| domain::text::refused_control("path", &value, domain::text::Lines::One))
    });
    if refused.is_none() && !path.starts_with("/scim/") {
        let query = uri.query().unwrap_or_default();
        refused = url::form_urlencoded::parse(query.as_bytes()).find_map(|(name, value)| {
            domain::text::refused_control(
                "a query parameter's name",
                &name,
                domain::text::Lines::One,
            )
            .or_else(|| domain::text::refused_control(&name, &value, domain::text::Lines::Many))
        });
    }
    match refused {
        Some(message) => ApiError::validation_failed(message).into_response(),
        None => next.run(request).await,
    }
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

    fn forwarded(proxies: &str) -> ForwardedFor {
        ForwardedFor {
            trusted: true,
            proxies: ForwardedFor::parse_proxies(proxies).unwrap(),
        }
    }

    fn client(policy: &ForwardedFor, peer: &str, xff: &[&str]) -> String {
        let mut map = HeaderMap::new();
        for value in xff {
            map.append("x-forwarded-for", value.parse().unwrap());
        }
        policy.client(peer.parse().unwrap(), &map).to_string()
    }

    #[test]
    fn the_last_forwarded_entry_decides_even_when_it_carries_a_port() {
        let local = forwarded(ForwardedFor::DEFAULT_PROXIES);
        assert_eq!(client(&local, "127.0.0.1", &["10.1.2.3"]), "10.1.2.3");
        // The bypass: the client's own 10.1.2.3, then what the proxy appended.
        assert_eq!(
            client(&local, "127.0.0.1", &["10.1.2.3, 203.0.113.5:4711"]),
            "203.0.113.5"
        );
        assert_eq!(
            client(&local, "127.0.0.1", &["10.1.2.3, [2001:db8::7]:4711"]),
            "2001:db8::7"
        );
        assert_eq!(
            client(&local, "127.0.0.1", &["10.1.2.3", "[2001:db8::7]"]),
            "2001:db8::7"
        );
        assert_eq!(
            client(&local, "::1", &["::ffff:198.51.100.4"]),
            "198.51.100.4"
        );
        // Not an address: the peer, never the earlier entry.
        for last in ["unknown", "", "10.1.2.3:x", "_hidden"] {
            assert_eq!(
                client(&local, "127.0.0.1", &[&format!("10.1.2.3, {last}")]),
                "127.0.0.1",
                "{last:?}"
            );
        }
        assert_eq!(client(&local, "127.0.0.1", &[]), "127.0.0.1");
    }

    #[test]
    fn only_trusted_proxies_are_believed_and_walked_past() {
        let proxies = forwarded("192.0.2.0/24, 127.0.0.1");
        // A direct client (not a proxy) names any address it likes: ignored.
        assert_eq!(
            client(&proxies, "198.51.100.9", &["10.1.2.3"]),
            "198.51.100.9"
        );
        // Two proxies in a row: both walked past.
        assert_eq!(
            client(
                &proxies,
                "127.0.0.1",
                &["10.9.9.9, 203.0.113.5, 192.0.2.10"]
            ),
            "203.0.113.5"
        );
        // Every entry a proxy: the leftmost.
        assert_eq!(
            client(&proxies, "127.0.0.1", &["192.0.2.1, 192.0.2.2"]),
            "192.0.2.1"
        );
        // Trust switched off: the peer alone.
        let off = ForwardedFor {
            trusted: false,
            ..proxies
        };
        assert_eq!(client(&off, "127.0.0.1", &["10.1.2.3"]), "127.0.0.1");
        assert_eq!(
            ForwardedFor::parse_proxies("10.0.0.0/8 ::1, bad"),
            Err("bad".to_string())
        );
    }

    fn https(policy: &ForwardedFor, peer: &str, proto: &[&str]) -> bool {
        let mut map = HeaderMap::new();
        for value in proto {
            map.append("x-forwarded-proto", value.parse().unwrap());
        }
        policy.over_https(peer.parse().unwrap(), &map)
    }

    #[test]
    fn only_a_trusted_proxy_says_https_and_its_last_value_counts() {
        let local = forwarded(ForwardedFor::DEFAULT_PROXIES);
        assert!(https(&local, "127.0.0.1", &["https"]));
        assert!(https(&local, "::ffff:127.0.0.1", &["HTTPS"]));
        assert!(https(&local, "127.0.0.1", &["http, https"]));
        assert!(https(&local, "127.0.0.1", &["http", " https "]));
        // The client's own `https` before what the proxy appended: plain HTTP.
        assert!(!https(&local, "127.0.0.1", &["https, http"]));
        assert!(!https(&local, "127.0.0.1", &["https", "http"]));
        assert!(!https(&local, "127.0.0.1", &["https, "]));
        assert!(!https(&local, "127.0.0.1", &[]));
        // Not a trusted proxy, or trust switched off: never.
        assert!(!https(&local, "198.51.100.9", &["https"]));
        let off = ForwardedFor {
            trusted: false,
            ..local
        };
        assert!(!https(&off, "127.0.0.1", &["https"]));
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
