//! Structured logging with `tracing`, to stderr (stdout is kept for command output).
//!
//! `RUST_LOG` sets the filter (default `info`); `PATDESK_LOG_FORMAT=json` switches to JSON lines.
//! Nothing here ever logs request headers or bodies: they can carry secrets.

use std::io::IsTerminal;

use tracing_subscriber::{EnvFilter, fmt};

/// `default_level` applies when `RUST_LOG` is unset: `info` for the server, `warn` for commands
/// whose output is their answer.
pub fn init(default_level: &str) {
    let mut filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    // Library chatter (each migration check, each statement) stays out of the log whatever
    // RUST_LOG says; our own spans say what matters.
    for directive in ["sqlx=warn", "sea_orm=warn", "sea_orm_migration=warn"] {
        if let Ok(directive) = directive.parse() {
            filter = filter.add_directive(directive);
        }
    }
    let json = std::env::var("PATDESK_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    // A second init (in tests) is harmless: the first subscriber stays.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// The span every request's log lines carry (the `TraceLayer` of `web::router`): method, the
/// path, the query with its values redacted ([`redacted_uri`]), and the HTTP version.
pub fn request_span<B>(request: &axum::http::Request<B>) -> tracing::Span {
    tracing::info_span!(
        "request",
        method = %request.method(),
        uri = %redacted_uri(request.uri()),
        version = ?request.version(),
    )
}

/// What a redacted query value reads as in the log.
const REDACTED: &str = "[redacted]";

/// The path, and the query's parameter names with every value replaced by `[redacted]`.
///
/// Every value, not those of a list of secret names: an authorization code and `state` come in
/// the query (`/auth/oidc/callback`), but so do error texts (`__err`), search words, SCIM
/// filters naming people, and whatever a future route takes; a list would have to be right
/// for all of them forever. The names are enough to tell one request from another.
pub fn redacted_uri(uri: &axum::http::Uri) -> String {
    let path = uri.path();
    let Some(query) = uri.query() else {
        return path.to_string();
    };
    let names = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) => format!("{name}={REDACTED}"),
            None => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&");
    format!("{path}?{names}")
}

#[cfg(test)]
mod tests {
    use super::redacted_uri;

    #[test]
    fn query_values_never_reach_the_log() {
        for (uri, logged) in [
            ("/teams", "/teams"),
            (
                "/auth/oidc/callback?code=SECRET&state=S2",
                "/auth/oidc/callback?code=[redacted]&state=[redacted]",
            ),
            ("/signin?next=%2Fteams&flag", "/signin?next=[redacted]&flag"),
            ("/x?a=b=c&&=v", "/x?a=[redacted]&&=[redacted]"),
        ] {
            assert_eq!(redacted_uri(&uri.parse().unwrap()), logged, "{uri}");
        }
    }
}
