//! Facts about the request being served that several server-side modules need, with no
//! dependency on any of them (so that `session` and `error` do not import each other).

/// Whether the request reached patdesk over HTTPS, decided once per request by the server's
/// `guard::client_ip` and put into the request's extensions (as `domain::ClientIp` is): only a
/// trusted proxy's `X-Forwarded-Proto` says so, its last value (docs/threat-model.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OverHttps(pub bool);

/// Whether a request came over HTTPS ([`OverHttps`]): the session and form cookies are then
/// `Secure`, with the `__Host-` prefix, and only those are read. A request the guard did not see
/// is plain HTTP.
pub fn over_https(extensions: &http::Extensions) -> bool {
    extensions.get::<OverHttps>().is_some_and(|https| https.0)
}

/// The server function's answer carries a secret (a token, a credential, a signing secret)
/// shown this once: no browser or proxy cache may keep it.
#[cfg(feature = "ssr")]
pub fn no_store() {
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        response.insert_header(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-store"),
        );
    }
}
