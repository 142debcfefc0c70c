//! Facts about the request being served that several server-side modules need, with no
//! dependency on any of them (so that `session` and `error` do not import each other).

/// Whether a request came over HTTPS (directly, or through a proxy that says so in
/// `X-Forwarded-Proto`): the session and form cookies are then `Secure`, with the `__Host-`
/// prefix.
pub fn over_https(uri: &http::Uri, headers: &http::HeaderMap) -> bool {
    uri.scheme_str() == Some("https")
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}
