//! The `patdesk` binary's library: everything between the network (or the command line) and the
//! `domain` crate.
//!
//! - [`api`]: the token-authenticated REST API under `/api/v1`.
//! - [`cli`]: argument parsing and the commands (`serve`, `migrate`, …).
//! - [`config`]: settings from the environment and `.env`.
//! - [`telemetry`]: structured logging with `tracing`.
//! - [`scim`]: SCIM 2.0 provisioning under `/scim/v2`, for organisations' directories.
//! - [`sso`]: single sign-on over OpenID Connect.
//! - [`web`]: the axum router: Leptos pages and server functions, health checks.
//! - [`assets`]: the browser's built files under `/pkg`, precompressed and cached.
//! - [`health`]: `/healthz` and `/readyz`.
//! - [`state`]: `AppState`, what every handler can reach.
//! - [`error`]: `ApiError`, every answer that is not a page or a server function's.
//! - [`headers`]: security headers on every response.
//! - [`guard`]: session resolution, private-page redirects and the same-origin check.
//! - [`limits`]: the longest URI, the most header and body bytes, the longest time a request may
//!   have.

pub mod api;
pub mod assets;
pub mod cli;
pub mod config;
pub mod error;
pub mod federation;
pub mod guard;
pub mod headers;
pub mod health;
pub mod limits;
pub mod notices;
pub mod outbound;
pub mod password_reset;
pub mod scim;
pub mod secret_key;
pub mod sso;
pub mod state;
pub mod telemetry;
pub mod web;
pub mod webhooks;
