//! `AppState`: what every handler and middleware can reach.

use std::{ops::Deref, sync::Arc};

use axum::extract::FromRef;
use domain::{
    content::pages::QuestionPages, throttle::FailedAuth, tokens::access::CallerCache,
    tokens::rate_limit::RateLimiter, tokens::usage::UsageBuffer,
};
use leptos::config::LeptosOptions;
use sea_orm::DatabaseConnection;

/// Cloned for every request by the routes, middleware and extractors that hold it, so it is one
/// `Arc` (cloning the fields themselves, the Leptos options' dozens among them, measurably
/// slowed every API call).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub leptos_options: LeptosOptions,
    pub db: DatabaseConnection,
    /// Token uses not yet written to the database.
    pub usage: Arc<UsageBuffer>,
    /// Whether, and from which proxies, `X-Forwarded-For` names the client
    /// (`Config::forwarded_for`).
    pub forwarded_for: Arc<crate::guard::ForwardedFor>,
    /// Failed authentications per client IP (API and sign-in), for 429 `rate_limited`.
    pub failed_auth: Arc<FailedAuth>,
    /// Sign-ups per client IP (`PATDESK_SIGN_UPS_PER_MINUTE`), for 429.
    pub sign_ups: Arc<FailedAuth>,
    /// Passkey ceremonies started per client IP (`PATDESK_PASSKEY_CEREMONIES_PER_MINUTE`), for
    /// 429.
    pub passkey_ceremonies: Arc<FailedAuth>,
    /// Leak reports per client IP (the same per-address counter, counted separately), for 429.
    pub leak_reports: Arc<FailedAuth>,
    /// Recently authenticated tokens (see `domain::tokens::access::CallerCache`).
    pub callers: Arc<CallerCache>,
    /// This process's share of rate-limited tokens' budgets (`domain::tokens::rate_limit`).
    pub rate_limits: Arc<RateLimiter>,
    /// Pages of team questions with the content version they were read at
    /// (`domain::content::pages`).
    pub question_pages: Arc<QuestionPages>,
    /// Whether notices are mailed (`PATDESK_SMTP_URL` is set); the account page says so.
    pub mail_configured: bool,
    /// What sends password reset links (docs/accounts.md), when mail is configured.
    pub reset_mailer: Option<Arc<domain::notifications::mail::Mailer>>,
    /// `PATDESK_MIN_OVERLAP_SECONDS`, for token rotation (the API and the web app).
    pub min_overlap: domain::tokens::MinOverlap,
    /// Where this server is reached (`Config::public_url`): SCIM's `meta.location`.
    pub public_url: url::Url,
    /// Single sign-on, when configured (`PATDESK_OIDC_*`).
    pub sso: Option<Arc<crate::sso::Sso>>,
    /// The key authenticator-app secrets are sealed with (`crate::secret_key`).
    pub sealing_key: Arc<domain::secret::SealingKey>,
    /// This server as a WebAuthn relying party (passkeys), from `PATDESK_PUBLIC_URL`.
    pub relying_party: Option<Arc<domain::identity::passkeys::RelyingParty>>,
    /// `PATDESK_SUDO_MINUTES`.
    pub sudo_window: domain::identity::sudo::SudoWindow,
    /// `PATDESK_GITLAB_REVOCATION_TOKEN`: GitLab's Token Revocation API is served when set.
    pub gitlab_revocation: Option<domain::tokens::leaks::GitLabCredential>,
    /// Identity-token exchange: its settings and the issuers' keys (`crate::federation`).
    pub federation: Arc<crate::federation::Federation>,
    /// `PATDESK_WEBHOOK_ALLOW_PRIVATE` (docs/webhooks.md): endpoints on private addresses.
    pub webhooks_allow_private: bool,
}

impl AppState {
    pub fn new(shared: Shared) -> Self {
        AppState(Arc::new(shared))
    }
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// leptos_axum takes the options from the state (page and server-function routes).
impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// Single sign-on's handlers take the provider, when configured.
impl FromRef<AppState> for Option<Arc<crate::sso::Sso>> {
    fn from_ref(state: &AppState) -> Self {
        state.sso.clone()
    }
}

/// Single sign-on's linking checks sudo mode.
impl FromRef<AppState> for domain::identity::sudo::SudoWindow {
    fn from_ref(state: &AppState) -> Self {
        state.sudo_window
    }
}

impl FromRef<AppState> for DatabaseConnection {
    fn from_ref(state: &AppState) -> Self {
        state.db.clone()
    }
}

impl FromRef<AppState> for domain::tokens::MinOverlap {
    fn from_ref(state: &AppState) -> Self {
        state.min_overlap
    }
}

impl FromRef<AppState> for Arc<CallerCache> {
    fn from_ref(state: &AppState) -> Self {
        state.callers.clone()
    }
}

impl FromRef<AppState> for Arc<QuestionPages> {
    fn from_ref(state: &AppState) -> Self {
        state.question_pages.clone()
    }
}
