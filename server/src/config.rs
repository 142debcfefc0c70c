//! Settings, read from the environment (a `.env` file in the working directory is read first).

use std::{net::SocketAddr, ops::RangeInclusive, path::PathBuf, str::FromStr, time::Duration};

use domain::{
    db::{DatabaseUrl, DatabaseUrlError},
    notifications::mail::MailSettings,
};
use url::Url;

/// Where the server listens when `PATDESK_ADDR` is not set.
pub const DEFAULT_ADDR: &str = "127.0.0.1:3000";

#[derive(Debug, Clone)]
pub struct Config {
    /// `DATABASE_URL`; an SQLite file under `./data/` when unset.
    pub database_url: DatabaseUrl,
    /// `PATDESK_ADDR`; port 0 picks a free port (the chosen address is logged).
    pub addr: SocketAddr,
    /// `LEPTOS_SITE_ROOT`: the directory holding `pkg/` (wasm, js, css) built by cargo-leptos.
    pub site_root: PathBuf,
    /// `PATDESK_TRUST_FORWARDED_FOR=true`: behind a reverse proxy, take the client's IP from
    /// `X-Forwarded-For`, but only from the proxies of `PATDESK_TRUSTED_PROXIES` (default
    /// loopback). Off by default: a client could otherwise claim any address.
    pub forwarded_for: crate::guard::ForwardedFor,
    /// `PATDESK_AUTH_FAILURES_PER_MINUTE`: failed authentications (API tokens and sign-in) one
    /// IP may make in a minute before it gets 429 `rate_limited`.
    pub auth_failures_per_minute: u32,
    /// `PATDESK_LEAK_REPORTS_PER_MINUTE`: reports of leaked tokens per client IP a minute.
    pub leak_reports_per_minute: u32,
    /// `PATDESK_SIGN_UPS_PER_MINUTE`: sign-ups per client IP a minute (each hashes a password).
    pub sign_ups_per_minute: u32,
    /// `PATDESK_PASSKEY_CEREMONIES_PER_MINUTE`: passkey ceremonies started per client IP a
    /// minute (each is a row kept for five minutes, and signing in with a passkey needs no
    /// account).
    pub passkey_ceremonies_per_minute: u32,
    /// `PATDESK_PASSWORD_HASHES_AT_ONCE` and `PATDESK_PASSWORD_HASH_QUEUE`: how many password
    /// hashes run at once (default two per core) and how many may wait (default 32); beyond
    /// that a sign-in or sign-up is answered 503 with `Retry-After`. `None`: the defaults.
    pub password_hashes: (Option<usize>, Option<usize>),
    /// `PATDESK_USAGE_FLUSH_MS`: how often noted token uses are written (default 5 s; the
    /// contract asks for at least every 10 s). Tests shorten it to wait less.
    pub usage_flush_interval: Duration,
    /// `PATDESK_USAGE_ADDRESSES_PER_TOKEN`: how many client addresses each token's usage
    /// history keeps (1–1,000, default 1,000; docs/usage.md). Tests lower it.
    pub usage_addresses_per_token: usize,
    /// `PATDESK_SESSION_SWEEP_SECONDS`: how often expired sessions are deleted (default hourly).
    pub session_sweep_interval: Duration,
    /// `PATDESK_PUBLIC_URL`: where people reach this app (links in mails); `http://` and the
    /// listening address when unset.
    pub public_url: Option<Url>,
    /// `PATDESK_SMTP_URL` (checked): the mail server notices go out through; none when unset
    /// (notices are then shown in the app only).
    pub smtp_url: Option<String>,
    /// `PATDESK_MAIL_FROM`: the mails' sender (default `patdesk <patdesk@localhost>`).
    pub mail_from: String,
    /// `PATDESK_NOTIFY_INTERVAL_SECONDS`: how often expiry reminders are looked for (default
    /// 300; also at start-up).
    pub notify_interval: Duration,
    /// `PATDESK_MAIL_RETRY_SECONDS`: the first wait before a failed mail is tried again
    /// (doubled per attempt; default 30). Tests shorten it.
    pub mail_retry_base: Duration,
    /// `PATDESK_MIN_OVERLAP_SECONDS`: the shortest overlap a token rotation may keep the old
    /// value for (default 60; tests use a few seconds).
    pub min_overlap: domain::tokens::MinOverlap,
    /// `PATDESK_OIDC_*`: single sign-on, when an issuer is set (`crate::sso`).
    pub oidc: Option<OidcEnv>,
    /// `PATDESK_SECRET_KEY` (at least 32 characters): the key authenticator-app secrets are
    /// sealed with. Unset: the key in the data folder, generated on first start
    /// (`crate::secret_key`).
    pub secret_key: Option<domain::secret::SealingKey>,
    /// `PATDESK_SUDO_MINUTES` (1–1440, default 120): how long after signing in a person may
    /// make sensitive changes without confirming who they are again.
    pub sudo_window: domain::identity::sudo::SudoWindow,
    /// `PATDESK_FEDERATION_ALLOW_HTTP_LOOPBACK=true`: trust policies may name an `http://`
    /// issuer on a loopback address (the tests' issuer); never any other plain-HTTP issuer.
    pub federation_allow_http_loopback: bool,
    /// `PATDESK_FEDERATION_KEY_REFETCH_SECONDS` (0–3600, default 10): the shortest time between
    /// two fetches of an issuer's keys caused by an identity token naming a key it does not
    /// know (a rotation). Tests set 0.
    pub federation_key_refetch: Duration,
    /// `PATDESK_GITLAB_REVOCATION_TOKEN` (at least 32 characters): the credential a self-managed
    /// GitLab sends to patdesk's Token Revocation API (docs/leaks.md); unset, it is not served.
    pub gitlab_revocation: Option<domain::tokens::leaks::GitLabCredential>,
    /// The webhook sender's settings (docs/webhooks.md): `PATDESK_WEBHOOK_ALLOW_PRIVATE`,
    /// `PATDESK_WEBHOOK_RETRY_SECONDS` (1–3600, default 10), `PATDESK_WEBHOOK_GIVE_UP_SECONDS`
    /// (1–604800, default a day), `PATDESK_WEBHOOK_LEASE_SECONDS` (15–3600, default 300).
    pub webhooks: crate::webhooks::Settings,
}

/// The default of `PATDESK_FEDERATION_KEY_REFETCH_SECONDS`.
pub const DEFAULT_FEDERATION_KEY_REFETCH: Duration = Duration::from_secs(10);

/// Single sign-on as the environment gives it; the redirect URI comes from
/// [`Config::public_url`] once the address is known.
#[derive(Clone)]
pub struct OidcEnv {
    /// As given (an issuer is compared to the letter: `https://a/` and `https://a` differ).
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub name: String,
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for OidcEnv {
    /// Never the client secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcEnv")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("name", &self.name)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// The default of `PATDESK_USAGE_FLUSH_MS`.
pub const DEFAULT_USAGE_FLUSH_INTERVAL: Duration = Duration::from_secs(5);
/// The default of `PATDESK_SESSION_SWEEP_SECONDS`.
pub const DEFAULT_SESSION_SWEEP_INTERVAL: Duration = Duration::from_secs(3600);

/// The default of `PATDESK_NOTIFY_INTERVAL_SECONDS`.
pub const DEFAULT_NOTIFY_INTERVAL: Duration = Duration::from_secs(300);
/// The default of `PATDESK_MAIL_RETRY_SECONDS`.
pub const DEFAULT_MAIL_RETRY_BASE: Duration = Duration::from_secs(30);
/// The default of `PATDESK_MAIL_FROM`.
pub const DEFAULT_MAIL_FROM: &str = "patdesk <patdesk@localhost>";

/// The default of `PATDESK_AUTH_FAILURES_PER_MINUTE`: a script with a stale token notices long
/// before this; a guesser gets 30 tries a minute.
pub const DEFAULT_AUTH_FAILURES_PER_MINUTE: u32 = 30;
/// Leak reports (`POST /api/v1/credentials/revoke`) one address may send a minute.
pub const DEFAULT_LEAK_REPORTS_PER_MINUTE: u32 = 20;
/// The default of `PATDESK_SIGN_UPS_PER_MINUTE`.
pub const DEFAULT_SIGN_UPS_PER_MINUTE: u32 = 30;
/// The default of `PATDESK_PASSKEY_CEREMONIES_PER_MINUTE`: a person signs in with one or two.
pub const DEFAULT_PASSKEY_CEREMONIES_PER_MINUTE: u32 = 20;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    DatabaseUrl(#[from] DatabaseUrlError),
    #[error("PATDESK_ADDR {0:?} is not an address like 127.0.0.1:3000")]
    Addr(String),
    #[error("PATDESK_TRUST_FORWARDED_FOR must be true or false, not {0:?}")]
    TrustForwardedFor(String),
    #[error(
        "PATDESK_AUTH_FAILURES_PER_MINUTE must be a whole number from 1 to 10000000, not {0:?}"
    )]
    AuthFailures(String),
    #[error("PATDESK_LEAK_REPORTS_PER_MINUTE must be a whole number from 1 to 10000000, not {0:?}")]
    LeakReports(String),
    #[error("PATDESK_SIGN_UPS_PER_MINUTE must be a whole number from 1 to 10000000, not {0:?}")]
    SignUps(String),
    #[error(
        "PATDESK_PASSKEY_CEREMONIES_PER_MINUTE must be a whole number from 1 to 10000000, not {0:?}"
    )]
    PasskeyCeremonies(String),
    #[error("PATDESK_PASSWORD_HASHES_AT_ONCE must be a whole number from 1 to 256, not {0:?}")]
    HashesAtOnce(String),
    #[error("PATDESK_PASSWORD_HASH_QUEUE must be a whole number from 0 to 100000, not {0:?}")]
    HashQueue(String),
    #[error(
        "PATDESK_USAGE_FLUSH_MS must be a whole number of milliseconds from 10 to 10000, not {0:?}"
    )]
    UsageFlush(String),
    #[error("PATDESK_USAGE_ADDRESSES_PER_TOKEN must be a whole number from 1 to 1000, not {0:?}")]
    UsageAddresses(String),
    #[error("PATDESK_SESSION_SWEEP_SECONDS must be a whole number from 1 to 86400, not {0:?}")]
    SessionSweep(String),
    #[error(
        "PATDESK_PUBLIC_URL must be an http:// or https:// URL like https://patdesk.example.com, not {0:?}"
    )]
    PublicUrl(String),
    #[error("single sign-on: {0}")]
    Oidc(&'static str),
    #[error("{0}")]
    Mail(String),
    #[error("PATDESK_NOTIFY_INTERVAL_SECONDS must be a whole number from 1 to 86400, not {0:?}")]
    NotifyInterval(String),
    #[error("PATDESK_MAIL_RETRY_SECONDS must be a whole number from 1 to 3600, not {0:?}")]
    MailRetry(String),
    #[error("PATDESK_MIN_OVERLAP_SECONDS must be a whole number from 1 to 604800, not {0:?}")]
    MinOverlap(String),
    #[error(
        "PATDESK_TRUSTED_PROXIES holds {0:?}, which is not an IP address or CIDR range (e.g. 10.0.0.0/8, ::1)"
    )]
    TrustedProxies(String),
    #[error("PATDESK_SECRET_KEY: {0}; generate one with `openssl rand -base64 32`")]
    SecretKey(domain::secret::KeyTooShort),
    #[error("PATDESK_SUDO_MINUTES must be a whole number of minutes from 1 to 1440, not {0:?}")]
    SudoMinutes(String),
    #[error("PATDESK_FEDERATION_ALLOW_HTTP_LOOPBACK must be true or false, not {0:?}")]
    FederationHttpLoopback(String),
    #[error(
        "PATDESK_FEDERATION_KEY_REFETCH_SECONDS must be a whole number from 0 to 3600, not {0:?}"
    )]
    FederationKeyRefetch(String),
    #[error("PATDESK_GITLAB_REVOCATION_TOKEN: {0}")]
    GitLabRevocation(&'static str),
    #[error("PATDESK_WEBHOOK_ALLOW_PRIVATE must be true or false, not {0:?}")]
    WebhookAllowPrivate(String),
    #[error("PATDESK_WEBHOOK_RETRY_SECONDS must be a whole number from 1 to 3600, not {0:?}")]
    WebhookRetry(String),
    #[error("PATDESK_WEBHOOK_GIVE_UP_SECONDS must be a whole number from 1 to 604800, not {0:?}")]
    WebhookGiveUp(String),
    #[error("PATDESK_WEBHOOK_LEASE_SECONDS must be a whole number from 15 to 3600, not {0:?}")]
    WebhookLease(String),
    #[error("{0} is not valid UTF-8")]
    NotUnicode(&'static str),
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        let database_url = match var("DATABASE_URL")? {
            Some(raw) => raw.parse()?,
            None => DatabaseUrl::default(),
        };
        let addr_text = var("PATDESK_ADDR")?.unwrap_or_else(|| DEFAULT_ADDR.to_string());
        let addr = addr_text
            .trim()
            .parse()
            .map_err(|_| ConfigError::Addr(addr_text.clone()))?;
        let site_root = var("LEPTOS_SITE_ROOT")?.unwrap_or_else(|| "target/site".to_string());
        let trust_forwarded_for = flag(
            "PATDESK_TRUST_FORWARDED_FOR",
            ConfigError::TrustForwardedFor,
        )?;
        let federation_allow_http_loopback = flag(
            "PATDESK_FEDERATION_ALLOW_HTTP_LOOPBACK",
            ConfigError::FederationHttpLoopback,
        )?;
        let gitlab_revocation = var("PATDESK_GITLAB_REVOCATION_TOKEN")?
            .map(|secret| domain::tokens::leaks::GitLabCredential::new(&secret))
            .transpose()
            .map_err(ConfigError::GitLabRevocation)?;
        let federation_key_refetch = seconds(
            "PATDESK_FEDERATION_KEY_REFETCH_SECONDS",
            0..=3600,
            ConfigError::FederationKeyRefetch,
            DEFAULT_FEDERATION_KEY_REFETCH,
        )?;
        let webhooks = crate::webhooks::Settings {
            allow_private: flag(
                "PATDESK_WEBHOOK_ALLOW_PRIVATE",
                ConfigError::WebhookAllowPrivate,
            )?,
            first_wait: seconds(
                "PATDESK_WEBHOOK_RETRY_SECONDS",
                1..=3600,
                ConfigError::WebhookRetry,
                Duration::from_secs(10),
            )?,
            give_up_after: seconds(
                "PATDESK_WEBHOOK_GIVE_UP_SECONDS",
                1..=604_800,
                ConfigError::WebhookGiveUp,
                Duration::from_secs(86_400),
            )?,
            lease: seconds(
                "PATDESK_WEBHOOK_LEASE_SECONDS",
                15..=3600,
                ConfigError::WebhookLease,
                Duration::from_secs(300),
            )?,
        };
        let proxies_text = var("PATDESK_TRUSTED_PROXIES")?;
        let forwarded_for = crate::guard::ForwardedFor {
            trusted: trust_forwarded_for,
            proxies: crate::guard::ForwardedFor::parse_proxies(
                proxies_text
                    .as_deref()
                    .unwrap_or(crate::guard::ForwardedFor::DEFAULT_PROXIES),
            )
            .map_err(ConfigError::TrustedProxies)?,
        };
        let auth_failures_per_minute = bounded(
            "PATDESK_AUTH_FAILURES_PER_MINUTE",
            1..=10_000_000,
            ConfigError::AuthFailures,
        )?
        .unwrap_or(DEFAULT_AUTH_FAILURES_PER_MINUTE);
        let leak_reports_per_minute = bounded(
            "PATDESK_LEAK_REPORTS_PER_MINUTE",
            1..=10_000_000,
            ConfigError::LeakReports,
        )?
        .unwrap_or(DEFAULT_LEAK_REPORTS_PER_MINUTE);
        let sign_ups_per_minute = bounded(
            "PATDESK_SIGN_UPS_PER_MINUTE",
            1..=10_000_000,
            ConfigError::SignUps,
        )?
        .unwrap_or(DEFAULT_SIGN_UPS_PER_MINUTE);
        let passkey_ceremonies_per_minute = bounded(
            "PATDESK_PASSKEY_CEREMONIES_PER_MINUTE",
            1..=10_000_000,
            ConfigError::PasskeyCeremonies,
        )?
        .unwrap_or(DEFAULT_PASSKEY_CEREMONIES_PER_MINUTE);
        let password_hashes = (
            bounded(
                "PATDESK_PASSWORD_HASHES_AT_ONCE",
                1..=256,
                ConfigError::HashesAtOnce,
            )?,
            bounded(
                "PATDESK_PASSWORD_HASH_QUEUE",
                0..=100_000,
                ConfigError::HashQueue,
            )?,
        );
        let usage_flush_interval = bounded(
            "PATDESK_USAGE_FLUSH_MS",
            10..=10_000,
            ConfigError::UsageFlush,
        )?
        .map_or(DEFAULT_USAGE_FLUSH_INTERVAL, Duration::from_millis);
        let usage_addresses_per_token = bounded(
            "PATDESK_USAGE_ADDRESSES_PER_TOKEN",
            1..=domain::tokens::usage::KEPT_ADDRESSES,
            ConfigError::UsageAddresses,
        )?
        .unwrap_or(domain::tokens::usage::KEPT_ADDRESSES);
        let session_sweep_interval = seconds(
            "PATDESK_SESSION_SWEEP_SECONDS",
            1..=86_400,
            ConfigError::SessionSweep,
            DEFAULT_SESSION_SWEEP_INTERVAL,
        )?;
        let public_url = match var("PATDESK_PUBLIC_URL")? {
            None => None,
            Some(raw) => match Url::parse(raw.trim()) {
                Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => Some(url),
                _ => return Err(ConfigError::PublicUrl(raw)),
            },
        };
        let smtp_url = var("PATDESK_SMTP_URL")?;
        let mail_from = var("PATDESK_MAIL_FROM")?.unwrap_or_else(|| DEFAULT_MAIL_FROM.into());
        let notify_interval = seconds(
            "PATDESK_NOTIFY_INTERVAL_SECONDS",
            1..=86_400,
            ConfigError::NotifyInterval,
            DEFAULT_NOTIFY_INTERVAL,
        )?;
        let mail_retry_base = seconds(
            "PATDESK_MAIL_RETRY_SECONDS",
            1..=3_600,
            ConfigError::MailRetry,
            DEFAULT_MAIL_RETRY_BASE,
        )?;
        let min_overlap = bounded(
            "PATDESK_MIN_OVERLAP_SECONDS",
            1..=604_800,
            ConfigError::MinOverlap,
        )?
        .map_or(domain::tokens::MinOverlap::DEFAULT, |seconds: i64| {
            domain::tokens::MinOverlap(chrono::Duration::seconds(seconds))
        });
        let oidc = oidc_env()?;
        let secret_key = var("PATDESK_SECRET_KEY")?
            .map(|text| domain::secret::SealingKey::from_text(&text))
            .transpose()
            .map_err(ConfigError::SecretKey)?;
        let sudo_window = bounded(
            "PATDESK_SUDO_MINUTES",
            domain::identity::sudo::SudoWindow::MINUTES,
            ConfigError::SudoMinutes,
        )?
        .and_then(domain::identity::sudo::SudoWindow::minutes)
        .unwrap_or_default();
        let config = Config {
            database_url,
            addr,
            site_root: PathBuf::from(site_root),
            forwarded_for,
            auth_failures_per_minute,
            leak_reports_per_minute,
            sign_ups_per_minute,
            passkey_ceremonies_per_minute,
            password_hashes,
            usage_flush_interval,
            usage_addresses_per_token,
            session_sweep_interval,
            public_url,
            smtp_url,
            mail_from,
            notify_interval,
            mail_retry_base,
            min_overlap,
            oidc,
            secret_key,
            sudo_window,
            federation_allow_http_loopback,
            federation_key_refetch,
            gitlab_revocation,
            webhooks,
        };
        // Checked now, so that a wrong mail setting stops the start instead of every mail.
        config.mail_settings()?;
        Ok(config)
    }

    /// Federation's settings (docs/service-accounts.md): a trust policy's default audience is
    /// the public URL as people reach it (without a trailing `/`).
    pub fn federation_settings(&self) -> domain::tokens::federation::Settings {
        domain::tokens::federation::Settings {
            default_audience: self.public_url().as_str().trim_end_matches('/').to_string(),
            allow_http_loopback: self.federation_allow_http_loopback,
        }
    }

    /// Where links in mails point: `PATDESK_PUBLIC_URL`, or the listening address.
    pub fn public_url(&self) -> Url {
        self.public_url.clone().unwrap_or_else(|| {
            Url::parse(&format!("http://{}/", self.addr)).expect("an address makes a URL")
        })
    }

    /// The mail settings, when a mail server is configured.
    pub fn mail_settings(&self) -> Result<Option<MailSettings>, ConfigError> {
        self.smtp_url
            .as_deref()
            .map(|smtp| MailSettings::parse(smtp, &self.mail_from, &self.public_url()))
            .transpose()
            .map_err(ConfigError::Mail)
    }

    /// Only the database part, for commands that need nothing else.
    pub fn database_url_from_env() -> Result<DatabaseUrl, ConfigError> {
        Ok(match var("DATABASE_URL")? {
            Some(raw) => raw.parse()?,
            None => DatabaseUrl::default(),
        })
    }
}

/// A whole number within `range` from the variable `name`, or `None` when it is unset; any
/// other value is the error `invalid` makes of it.
fn bounded<T>(
    name: &'static str,
    range: RangeInclusive<T>,
    invalid: fn(String) -> ConfigError,
) -> Result<Option<T>, ConfigError>
where
    T: FromStr + PartialOrd,
{
    match var(name)? {
        None => Ok(None),
        Some(v) => match v.trim().parse::<T>() {
            Ok(n) if range.contains(&n) => Ok(Some(n)),
            _ => Err(invalid(v)),
        },
    }
}

/// `PATDESK_OIDC_ISSUER` and the settings that go with it; `None` when no issuer is set.
fn oidc_env() -> Result<Option<OidcEnv>, ConfigError> {
    let Some(issuer) = var("PATDESK_OIDC_ISSUER")? else {
        return Ok(None);
    };
    let issuer = issuer.trim().to_string();
    match Url::parse(&issuer) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {}
        _ => {
            return Err(ConfigError::Oidc(
                "PATDESK_OIDC_ISSUER must be an http(s) URL",
            ));
        }
    }
    let client_id = var("PATDESK_OIDC_CLIENT_ID")?.ok_or(ConfigError::Oidc(
        "PATDESK_OIDC_CLIENT_ID must be set with PATDESK_OIDC_ISSUER",
    ))?;
    let client_secret = var("PATDESK_OIDC_CLIENT_SECRET")?.ok_or(ConfigError::Oidc(
        "PATDESK_OIDC_CLIENT_SECRET must be set with PATDESK_OIDC_ISSUER",
    ))?;
    let name = var("PATDESK_OIDC_NAME")?.unwrap_or_else(|| "single sign-on".into());
    let scopes: Vec<String> = var("PATDESK_OIDC_SCOPES")?
        .unwrap_or_else(|| "openid profile email".into())
        .split_whitespace()
        .map(str::to_string)
        .collect();
    if !scopes.iter().any(|s| s == "openid") {
        return Err(ConfigError::Oidc("PATDESK_OIDC_SCOPES must include openid"));
    }
    Ok(Some(OidcEnv {
        issuer,
        client_id: client_id.trim().to_string(),
        client_secret,
        name: name.trim().to_string(),
        scopes,
    }))
}

/// `true` or `false` (also `1`/`0`, `yes`/`no`) from `name`; unset is `false`.
fn flag(name: &'static str, invalid: fn(String) -> ConfigError) -> Result<bool, ConfigError> {
    match var(name)? {
        None => Ok(false),
        Some(v) => match v.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" => Ok(false),
            _ => Err(invalid(v)),
        },
    }
}

/// A duration in seconds from `name`, within `range`; `default` when unset.
fn seconds(
    name: &'static str,
    range: RangeInclusive<u64>,
    invalid: fn(String) -> ConfigError,
    default: Duration,
) -> Result<Duration, ConfigError> {
    Ok(bounded(name, range, invalid)?.map_or(default, Duration::from_secs))
}

/// An environment variable; unset and empty are the same.
fn var(name: &'static str) -> Result<Option<String>, ConfigError> {
    match std::env::var(name) {
        Ok(value) if value.trim().is_empty() => Ok(None),
        Ok(value) => Ok(Some(value)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(ConfigError::NotUnicode(name)),
    }
}
