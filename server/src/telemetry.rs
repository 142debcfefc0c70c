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
