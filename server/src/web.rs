//! The HTTP surface: one axum router for pages, server functions, static files and health checks.

use std::{net::SocketAddr, path::Path, sync::Arc, time::Duration};

use anyhow::Context as _;
use axum::{Router, http::StatusCode, middleware, response::IntoResponse, routing::get};
use domain::{
    content::pages::QuestionPages,
    db::{DatabaseUrl, ServeLock},
    identity::password::HashLimit,
    notifications::mail::Mailer,
    throttle::FailedAuth,
    tokens::access::CallerCache,
    tokens::{rate_limit::RateLimiter, usage::UsageBuffer},
};
use leptos::{
    config::{Env, LeptosOptions},
    prelude::provide_context,
};
use leptos_axum::{LeptosRoutes, generate_route_list};
use sea_orm::DatabaseConnection;
use tower_http::{
    catch_panic::CatchPanicLayer,
    compression::CompressionLayer,
    timeout::TimeoutLayer,
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing::Level;

use crate::{
    api, assets,
    config::Config,
    error::ApiError,
    guard, headers, health,
    limits::REQUEST_TIMEOUT,
    scim, sso,
    state::{AppState, Shared},
};

pub fn leptos_options(config: &Config) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("patdesk")
        .site_root(config.site_root.to_string_lossy().to_string())
        .site_pkg_dir(assets::PKG_DIR)
        .hash_files(assets::names_are_hashed())
        .hash_file(assets::HASH_FILE.into())
        .site_addr(config.addr)
        .env(Env::PROD)
        .build()
}

/// Leptos's task executor on the server: tokio, with every task Leptos spawns cut off after
/// `limit`.
///
/// The request timeout (a `TimeoutLayer`) ends a request's own future, but the server functions a
/// page's resources call while it renders do not run in it: Leptos spawns each resource's
/// future as a task of its own (`any_spawner::Executor::spawn`), which a 408 leaves running.
/// Every task Leptos spawns here belongs to one request, so none may outlive the request's
/// limit either.
pub struct RequestBoundTasks {
    pub limit: Duration,
}

impl RequestBoundTasks {
    /// Makes this Leptos's executor, before `leptos_axum` sets plain tokio (which then leaves
    /// it). `false` when an executor was set already (a second router in one process).
    pub fn install(limit: Duration) -> bool {
        any_spawner::Executor::init_custom_executor(RequestBoundTasks { limit }).is_ok()
    }
}

impl any_spawner::CustomExecutor for RequestBoundTasks {
    fn spawn(&self, task: any_spawner::PinnedFuture<()>) {
        tokio::spawn(within(self.limit, task));
    }

    fn spawn_local(&self, task: any_spawner::PinnedLocalFuture<()>) {
        tokio::task::spawn_local(within(self.limit, task));
    }

    fn poll_local(&self) {}
}

/// `task`, dropped when it runs longer than `limit`.
async fn within(limit: Duration, task: impl Future<Output = ()>) {
    if tokio::time::timeout(limit, task).await.is_err() {
        tracing::warn!(
            limit_seconds = limit.as_secs(),
            "a task a page started ran past the request timeout and was stopped"
        );
    }
}

pub fn router(state: AppState) -> Router {
    RequestBoundTasks::install(REQUEST_TIMEOUT);
    let routes = generate_route_list(app::App);
    let shell_options = state.leptos_options.clone();
    let server_fn_context = {
        let db = state.db.clone();
        let failed_auth = state.failed_auth.clone();
        let sign_ups = app::session::SignUps(state.sign_ups.clone());
        let passkey_ceremonies = app::session::PasskeyCeremonies(state.passkey_ceremonies.clone());
        let mail_configured = app::account::MailConfigured(state.mail_configured);
        let reset_mail = app::reset_mail::ResetMail(state.reset_mailer.clone());
        // Reset links asked for per client address: 10 in 15 minutes (each account has its
        // own budget in the database, `domain::identity::password_reset::PER_ACCOUNT`).
        let reset_requests = app::reset_mail::ResetRequests(Arc::new(FailedAuth::new(
            10,
            Duration::from_secs(15 * 60),
        )));
        let min_overlap = state.min_overlap;
        let federation = state.federation.settings.clone();
        let private_destinations =
            domain::webhooks::PrivateDestinations(state.webhooks_allow_private);
        let sso = app::auth::SingleSignOn(state.sso.as_ref().map(|s| s.shown()));
        let sealing_key = state.sealing_key.clone();
        let sudo_window = state.sudo_window;
        let relying_party = app::webauthn::RelyingPartyContext(state.relying_party.clone());
        move || {
            provide_context(relying_party.clone());
            provide_context((*sealing_key).clone());
            provide_context(sudo_window);
            provide_context(sso.clone());
            provide_context(db.clone());
            provide_context(failed_auth.clone());
            provide_context(sign_ups.clone());
            provide_context(passkey_ceremonies.clone());
            provide_context(mail_configured);
            provide_context(reset_mail.clone());
            provide_context(reset_requests.clone());
            provide_context(min_overlap);
            provide_context(federation.clone());
            provide_context(private_destinations);
        }
    };
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/auth/oidc/start", get(sso::start))
        .route("/auth/oidc/callback", get(sso::callback))
        .route("/auth/oidc/link", get(sso::link))
        .route("/password-reset", get(crate::password_reset::follow_link))
        .merge(api::router(state.clone()))
        .merge(scim::router(state.clone()))
        .nest_service(
            "/pkg",
            assets::router(
                Path::new(state.leptos_options.site_root.as_ref()),
                state.leptos_options.hash_files,
            ),
        )
        .leptos_routes_with_context(&state, routes, server_fn_context, move || {
            app::shell(shell_options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(
            app::shell,
        ))
        // Runs after the session guard, which finds the sign-in it checks.
        .layer(middleware::from_fn_with_state(
            state.sudo_window,
            guard::sudo_mode,
        ))
        .layer(middleware::from_fn_with_state(
            state.db.clone(),
            guard::session,
        ))
        .layer(middleware::from_fn(guard::server_function_text))
        .layer(middleware::from_fn(guard::form_errors))
        .layer(middleware::from_fn(guard::same_origin))
        .layer(middleware::from_fn_with_state(
            state.forwarded_for.clone(),
            guard::client_ip,
        ))
        .layer(middleware::from_fn(guard::request_text))
        .layer(middleware::from_fn(guard::request_size))
        .layer(middleware::from_fn(headers::security_headers))
        // A bug that panics answers 500 (and is logged) instead of dropping the connection.
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::internal().into_response()
        }))
        .layer(CompressionLayer::new())
        // A request that takes longer than this (a stalled body upload, a database that
        // hangs) is answered 408 and its resources freed; the tasks its page's resources run
        // in are held to the same limit by `RequestBoundTasks`.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(
            // Method, path and status, the query's names without their values: headers,
            // bodies and query values (an authorization code, `state`) can carry secrets.
            TraceLayer::new_for_http()
                .make_span_with(crate::telemetry::request_span::<axum::body::Body>)
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state)
}

/// Single sign-on from `PATDESK_OIDC_*`, its provider discovered in the background so that a
/// slow issuer does not hold up the start: one that cannot be reached is one log line, and each
/// sign-in tries again.
fn single_sign_on(config: &Config) -> anyhow::Result<Option<Arc<sso::Sso>>> {
    let Some(oidc) = &config.oidc else {
        return Ok(None);
    };
    let redirect = config.public_url().join("auth/oidc/callback")?;
    let settings = sso::SsoSettings {
        issuer: openidconnect::IssuerUrl::new(oidc.issuer.clone())?,
        client_id: openidconnect::ClientId::new(oidc.client_id.clone()),
        client_secret: openidconnect::ClientSecret::new(oidc.client_secret.clone()),
        name: oidc.name.clone(),
        scopes: oidc.scopes.clone(),
        redirect: openidconnect::RedirectUrl::new(redirect.to_string())?,
    };
    let sso = Arc::new(sso::Sso::new(settings)?);
    let discovering = sso.clone();
    let issuer = oidc.issuer.clone();
    tokio::spawn(async move {
        match discovering.discover().await {
            Ok(_) => tracing::info!(%issuer, "single sign-on through {issuer}"),
            Err(error) => tracing::warn!(
                %issuer,
                "single sign-on: the provider cannot be reached ({error}); sign-ins will try again"
            ),
        }
    });
    Ok(Some(sso))
}

/// This server as a WebAuthn relying party, from its public address; the log says where
/// passkeys work, or that they do not.
fn relying_party(config: &Config) -> Option<Arc<domain::identity::passkeys::RelyingParty>> {
    let public_url = config.public_url();
    match domain::identity::passkeys::RelyingParty::for_public_url(&public_url) {
        Some(rp) => {
            tracing::info!(origin = %rp.origin, "passkeys work at {}", rp.origin);
            Some(Arc::new(rp))
        }
        None => {
            tracing::warn!(
                %public_url,
                "passkeys are off: browsers refuse an IP address as their site; set PATDESK_PUBLIC_URL to a host name"
            );
            None
        }
    }
}

/// Opens and migrates the database, starts the background tasks (usage flusher, housekeeping,
/// notices), then serves until SIGINT or SIGTERM.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    // Installed before anything is announced, so that an early SIGTERM is a graceful stop.
    let shutdown = shutdown_signal()?;
    // Before migrating: a second server must not change the schema under the first.
    let serve_lock = match &config.database_url {
        DatabaseUrl::Sqlite { path } => Some(ServeLock::take(path)?),
        DatabaseUrl::Postgres { .. } => None,
    };
    domain::db::migrate(&config.database_url).await?;
    let db = domain::db::connect(&config.database_url).await?;
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.addr))?;
    let addr = listener.local_addr()?;
    let mut config = config;
    config.addr = addr;
    let mailer = match config.mail_settings()? {
        Some(settings) => {
            tracing::info!(server = %settings.server(), "notices are mailed through {}", settings.server());
            Some(Mailer::new(&settings).map_err(anyhow::Error::msg)?)
        }
        None => {
            tracing::info!(
                "PATDESK_SMTP_URL is not set: notices are shown in the app only, no mail is sent"
            );
            None
        }
    };
    let (at_once, waiting) = config.password_hashes;
    domain::identity::password::set_limit(HashLimit::new(
        at_once.unwrap_or_else(HashLimit::default_at_once),
        waiting.unwrap_or(HashLimit::DEFAULT_WAITING),
    ));
    let usage = Arc::new(UsageBuffer::keeping_addresses(
        config.usage_addresses_per_token,
    ));
    let state = AppState::new(Shared {
        leptos_options: leptos_options(&config),
        db: db.clone(),
        usage: usage.clone(),
        forwarded_for: Arc::new(config.forwarded_for.clone()),
        failed_auth: Arc::new(FailedAuth::new(
            config.auth_failures_per_minute,
            Duration::from_secs(60),
        )),
        sign_ups: Arc::new(FailedAuth::new(
            config.sign_ups_per_minute,
            Duration::from_secs(60),
        )),
        passkey_ceremonies: Arc::new(FailedAuth::new(
            config.passkey_ceremonies_per_minute,
            Duration::from_secs(60),
        )),
        leak_reports: Arc::new(FailedAuth::new(
            config.leak_reports_per_minute,
            Duration::from_secs(60),
        )),
        callers: Arc::new(CallerCache::default()),
        rate_limits: Arc::new(RateLimiter::new()),
        // The one server of a SQLite database counts its own writes; processes sharing a
        // PostgreSQL database read each team's version (`domain::content::pages`).
        question_pages: Arc::new(match &serve_lock {
            Some(sole_writer) => QuestionPages::counted_here(sole_writer),
            None => QuestionPages::checked_in_database(),
        }),
        mail_configured: mailer.is_some(),
        // Reset links go out at once, not through the outbox: their secret is stored nowhere.
        reset_mailer: match config.mail_settings()? {
            Some(settings) => Some(Arc::new(
                Mailer::new(&settings).map_err(anyhow::Error::msg)?,
            )),
            None => None,
        },
        min_overlap: config.min_overlap,
        public_url: config.public_url(),
        sso: single_sign_on(&config)?,
        sealing_key: Arc::new(crate::secret_key::load(
            config.secret_key.clone(),
            &config.database_url,
        )?),
        sudo_window: config.sudo_window,
        relying_party: relying_party(&config),
        gitlab_revocation: config.gitlab_revocation.clone(),
        federation: Arc::new(crate::federation::Federation::new(
            config.federation_settings(),
            config.federation_key_refetch,
        )),
        webhooks_allow_private: config.webhooks.allow_private,
    });
    let (stop_flushing, flushing_stopped) = tokio::sync::watch::channel(false);
    let flusher = tokio::spawn(flush_usage_every(
        config.usage_flush_interval,
        db.clone(),
        usage.clone(),
        flushing_stopped,
    ));
    let sweeper = tokio::spawn(housekeeping_every(
        config.session_sweep_interval,
        db.clone(),
        state.failed_auth.window(),
    ));
    let webhooks = tokio::spawn(crate::webhooks::run(
        db.clone(),
        state.sealing_key.clone(),
        config.webhooks,
    ));
    let notices = tokio::spawn(crate::notices::run(
        db.clone(),
        mailer,
        config.notify_interval,
        config.mail_retry_base,
    ));
    tracing::info!(%addr, database = %config.database_url, "listening on http://{addr}");
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .context("server error")?;
    tracing::info!("shutting down: in-flight requests finished");
    // A flush under way is let finish (aborting it would lose the batch it took); then the
    // rest is written.
    let _ = stop_flushing.send(true);
    let _ = flusher.await;
    sweeper.abort();
    notices.abort();
    webhooks.abort();
    match usage.flush(&db).await {
        Ok(written) => tracing::info!(tokens = written, "usage data written"),
        Err(error) => tracing::error!(%error, "could not write usage data at shutdown"),
    }
    db.close().await.ok();
    Ok(())
}

/// A future that resolves on SIGINT (Ctrl-C) or SIGTERM; the handlers are installed at once.
fn shutdown_signal() -> anyhow::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    let mut terminate = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {},
            _ = terminate.recv() => {},
        }
        tracing::info!("shutdown signal received");
    })
}

/// Writes noted token uses every `interval`, until `stop` says so (between two flushes).
async fn flush_usage_every(
    interval: Duration,
    db: DatabaseConnection,
    usage: Arc<UsageBuffer>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.changed() => return,
        }
        if !usage.is_empty()
            && let Err(error) = usage.flush(&db).await
        {
            tracing::warn!(%error, "could not write usage data");
        }
    }
}

/// Deletes expired sessions, shared failure counts whose window has passed, and what
/// unfinished sign-ins left behind, at start-up and then every `interval`, until aborted.
async fn housekeeping_every(interval: Duration, db: DatabaseConnection, failure_window: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match domain::identity::sessions::purge_expired(&db).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "expired sessions deleted"),
            Err(error) => tracing::warn!(%error, "could not delete expired sessions"),
        }
        if let Err(error) = domain::throttle::purge_shared_failures(&db, failure_window).await {
            tracing::warn!(%error, "could not delete old failed-authentication counts");
        }
        let now = chrono::Utc::now();
        match domain::tokens::usage::history::purge(&db, now).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "usage older than 90 days deleted"),
            Err(error) => tracing::warn!(%error, "could not delete old usage"),
        }
        if let Err(error) = domain::tokens::rate_limit::purge_windows(&db, now).await {
            tracing::warn!(%error, "could not delete past rate-limit windows");
        }
        // Regenerated tokens' old values answer `token_regenerated` for 30 days, then nothing.
        if let Err(error) = domain::tokens::retired::purge(&db, now).await {
            tracing::warn!(%error, "could not forget regenerated tokens' old values");
        }
        // Exchanged identity tokens' jtis once expired, federated tokens a day after.
        match domain::tokens::federation::purge(&db, now).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "expired federated tokens deleted"),
            Err(error) => tracing::warn!(%error, "could not delete expired federated tokens"),
        }
        // Settled webhook deliveries after 30 days (the cards show the latest ten).
        let kept_from = now - chrono::Duration::days(30);
        match domain::webhooks::outbox::purge(&db, kept_from).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "old webhook deliveries deleted"),
            Err(error) => tracing::warn!(%error, "could not delete old webhook deliveries"),
        }
        purge_unfinished_sign_ins(&db, now).await;
    }
}

/// Deletes what half-finished sign-ins leave behind: expired passkey ceremonies and sign-in
/// challenges, and second-factor failure counts whose streak is over.
async fn purge_unfinished_sign_ins(db: &DatabaseConnection, now: chrono::DateTime<chrono::Utc>) {
    use domain::identity::{passkeys, two_factor};
    if let Err(error) = passkeys::purge_expired(db).await {
        tracing::warn!(%error, "could not delete expired passkey ceremonies");
    }
    if let Err(error) = two_factor::challenge::purge_expired(db).await {
        tracing::warn!(%error, "could not delete expired sign-in challenges");
    }
    if let Err(error) = two_factor::budget::purge_ended(db, now).await {
        tracing::warn!(%error, "could not delete old second-factor failure counts");
    }
}
