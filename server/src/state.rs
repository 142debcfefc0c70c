//! `AppState`: what every handler and middleware can reach.

use std::sync::Arc;

use axum::extract::FromRef;
use domain::{access::CallerCache, throttle::FailedAuth, usage::UsageBuffer};
use leptos::config::LeptosOptions;
use sea_orm::DatabaseConnection;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: DatabaseConnection,
    /// Token uses not yet written to the database.
    pub usage: Arc<UsageBuffer>,
    /// Whether `X-Forwarded-For` names the client (see `Config::trust_forwarded_for`).
    pub trust_forwarded_for: bool,
    /// Failed authentications per client IP (API and sign-in), for 429 `rate_limited`.
    pub failed_auth: Arc<FailedAuth>,
    /// Recently authenticated tokens (see `domain::access::CallerCache`).
    pub callers: Arc<CallerCache>,
}
