//! Webhooks (docs/webhooks.md): endpoints that team admins (their team's events) and instance
//! admins (every team's, the accounts', and the audit stream) point at their own systems.
//!
//! - here: the endpoints — create, list with their recent deliveries, rotate the secret,
//!   delete, redeliver — and the event types;
//! - `events`: which events an activity entry (or an expiry reminder) is, their payloads, and
//!   the deliveries written in the change's transaction;
//! - `outbox`: what the sender claims, and how an attempt is settled;
//! - `signature`: Standard Webhooks' signing.

pub mod events;
pub mod outbox;
pub mod signature;

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use crate::{
    Origin,
    activity::{self, Event, Kind},
    db::begin_write,
    entity::{webhook, webhook_delivery},
    error::{Error, Result},
    identity::{names::TeamSlug, users},
    secret::SealingKey,
    teams,
};

pub use signature::WebhookSecret;

/// Declares [`EventType`] with each type's name and what it says, in one table.
macro_rules! event_types {
    ($($(#[$doc:meta])* $kind:ident => $name:literal, $words:literal, $teams:literal;)*) => {
        /// An event a webhook can take.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum EventType {
            $($(#[$doc])* $kind,)*
        }

        impl EventType {
            pub const ALL: &[EventType] = &[$(EventType::$kind,)*];

            /// The `type` of its payloads, and how it is chosen.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(EventType::$kind => $name,)*
                }
            }

            /// When it is sent, in words (the forms' and `--help`'s).
            pub fn words(self) -> &'static str {
                match self {
                    $(EventType::$kind => $words,)*
                }
            }

            /// Whether a team's webhook may take it (the rest are about accounts or the whole
            /// instance: instance webhooks only).
            pub fn for_teams(self) -> bool {
                match self {
                    $(EventType::$kind => $teams,)*
                }
            }
        }
    };
}

event_types! {
    TokenCreated => "token.created", "a token is created", true;
    TokenRegenerated => "token.regenerated", "a token is regenerated", true;
    TokenRotated => "token.rotated", "a token is rotated", true;
    /// By its owner, the operator, or someone holding its value.
    TokenDeleted => "token.deleted", "a token is deleted", true;
    /// By an admin, with the reason.
    TokenRevoked => "token.revoked", "an admin revokes a token", true;
    /// 7 days and 1 day before.
    TokenExpiring => "token.expiring", "a token expires in 7 days, and in 1 day", true;
    TokenExpired => "token.expired", "a token has expired", true;
    TokenLeakReported => "token.leak_reported", "a token is reported as leaked", true;
    TokenNewAddress => "token.new_address", "a token is used from a new address", true;
    TokenApprovalRequested => "token.approval_requested", "a write token waits for approval", true;
    TokenApproved => "token.approved", "a waiting token is approved", true;
    TokenDenied => "token.denied", "a waiting token is denied", true;
    MemberAdded => "member.added", "someone joins a team", true;
    MemberRemoved => "member.removed", "someone leaves a team", true;
    MemberRoleChanged => "member.role_changed", "a member's role changes", true;
    UserSuspended => "user.suspended", "an instance admin suspends an account", false;
    /// The organisation's directory (SCIM) deactivated or deleted the account.
    UserDeprovisioned => "user.deprovisioned", "the directory (SCIM) deactivates or deletes an account", false;
    /// Every activity entry: the audit stream.
    AuditEntry => "audit.entry", "every activity entry (the audit stream)", false;
}

impl EventType {
    pub fn parse(name: &str) -> Option<EventType> {
        EventType::ALL.iter().copied().find(|t| t.as_str() == name)
    }
}

/// Whose webhooks: one team's (its admins manage them), or the instance's (instance admins).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    Team(TeamSlug),
    Instance,
}

/// Whether endpoints may be on loopback and private addresses (`PATDESK_WEBHOOK_ALLOW_PRIVATE`,
/// for tests): given to the web app's server functions, which pass it to [`create`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PrivateDestinations(pub bool);

/// The longest URL an endpoint may have.
pub const MAX_URL_LENGTH: usize = 2000;
/// How long a rotated-out secret keeps signing beside the new one.
pub const ROTATION_OVERLAP: Duration = Duration::hours(24);
/// The deliveries each endpoint shows.
pub const RECENT_DELIVERIES: u64 = 10;
/// Endpoints a team (or the instance) may have: each is sent every event it takes.
pub const MAX_ENDPOINTS: u64 = 20;

/// An endpoint as its admins see it (never its secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Webhook {
    /// `whk_…`
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub created_at: DateTime<Utc>,
    /// Until when the previous secret still signs, during a rotation.
    pub previous_secret_until: Option<DateTime<Utc>>,
    /// Since when every attempt has failed.
    pub failing_since: Option<DateTime<Utc>>,
    /// When the oldest waiting delivery is tried again.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub disabled_reason: Option<String>,
    /// The latest first.
    pub deliveries: Vec<Delivery>,
}

/// One delivery of an event to an endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// `msg_…`: the `webhook-id` it is sent with.
    pub message_id: String,
    pub event_type: String,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    pub attempts: i32,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

impl From<webhook_delivery::Model> for Delivery {
    fn from(d: webhook_delivery::Model) -> Self {
        Delivery {
            message_id: d.message_id,
            event_type: d.event_type,
            state: d.state,
            attempts: d.attempts,
            last_status: d.last_status,
            last_error: d.last_error,
            created_at: d.created_at,
            delivered_at: d.delivered_at,
        }
    }
}

/// The team's id and slug (`None` for the instance), if `actor` may manage the scope's
/// webhooks: a team's admins (and the operator), or the instance admins for the instance's.
async fn managed_scope(
    db: &impl sea_orm::ConnectionTrait,
    actor: crate::Actor,
    scope: &Scope,
) -> Result<Option<(i64, String)>> {
    match scope {
        Scope::Team(slug) => {
            let team = teams::admin_team(db, actor, slug, "manage the team's webhooks").await?;
            Ok(Some((team.id, team.slug)))
        }
        Scope::Instance => {
            users::require_instance_admin(db, actor, "manage the instance's webhooks").await?;
            Ok(None)
        }
    }
}

fn scope_filter(team: &Option<(i64, String)>) -> sea_orm::Condition {
    match team {
        Some((id, _)) => sea_orm::Condition::all().add(webhook::Column::TeamId.eq(*id)),
        None => sea_orm::Condition::all().add(webhook::Column::TeamId.is_null()),
    }
}

fn scope_words(team: &Option<(i64, String)>) -> String {
    match team {
        Some((_, slug)) => format!("team {slug}"),
        None => "the instance".to_string(),
    }
}

/// A destination URL: `http` or `https`, a host, no user name or password (the list shows the
/// URL), at most [`MAX_URL_LENGTH`]; a host written as an address (or `localhost`) must be a
/// public one unless `allow_private` (`PATDESK_WEBHOOK_ALLOW_PRIVATE`, for tests). Names are
/// resolved and checked again at every send (`server::webhooks`), where a name that resolves
/// inside is refused too.
pub fn check_url(raw: &str, allow_private: bool) -> Result<url::Url> {
    let raw = raw.trim();
    let invalid = |why: &str| Error::invalid("url", why.to_string());
    if raw.is_empty() {
        return Err(invalid("Give the URL patdesk posts events to."));
    }
    if raw.len() > MAX_URL_LENGTH {
        return Err(invalid("The URL is longer than 2,000 characters."));
    }
    crate::text::check("url", raw, crate::text::Lines::One)?;
    let url = url::Url::parse(raw)
        .map_err(|_| invalid("That is not a URL: write it as https://host/path."))?;
    // As stored: percent-encoding can make it longer than what was typed.
    if url.as_str().len() > MAX_URL_LENGTH {
        return Err(invalid("The URL is longer than 2,000 characters."));
    }
    if !matches!(url.scheme(), "https" | "http") {
        return Err(invalid("The URL must start with https:// (or http://)."));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "Leave the user name and password out of the URL: endpoints check the signature instead.",
        ));
    }
    let Some(host) = url.host() else {
        return Err(invalid("The URL has no host."));
    };
    if !allow_private {
        let address: Option<IpAddr> = match host {
            url::Host::Ipv4(v4) => Some(v4.into()),
            url::Host::Ipv6(v6) => Some(v6.into()),
            url::Host::Domain(name) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                (name == "localhost" || name.ends_with(".localhost"))
                    .then_some(IpAddr::from([127, 0, 0, 1]))
            }
        };
        if let Some(why) = address.and_then(crate::outbound::refused_destination) {
            return Err(invalid(&format!(
                "That host is {why}: patdesk sends webhooks only to public addresses."
            )));
        }
    }
    Ok(url)
}

/// The event types asked for, checked: known, and for a team's webhook only team events.
/// Sorted, without repeats; at least one.
pub fn check_events(raw: &[String], for_team: bool) -> Result<Vec<EventType>> {
    let mut events = Vec::new();
    for name in raw.iter().flat_map(|r| r.split([',', ' '])).map(str::trim) {
        if name.is_empty() {
            continue;
        }
        let Some(event) = EventType::parse(name) else {
            return Err(Error::invalid(
                "events",
                format!(
                    "There is no event \"{}\".",
                    crate::text::escape_invisible(name)
                ),
            ));
        };
        if for_team && !event.for_teams() {
            return Err(Error::invalid(
                "events",
                format!("{name} is for instance webhooks: a team's webhook cannot take it."),
            ));
        }
        events.push(event);
    }
    events.sort_unstable();
    events.dedup();
    if events.is_empty() {
        return Err(Error::invalid("events", "Choose at least one event."));
    }
    Ok(events)
}

fn joined(events: &[EventType]) -> String {
    events
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// What a sealed secret is bound to: its endpoint.
fn seal_context(public_id: &str) -> Vec<u8> {
    format!("webhook:{public_id}").into_bytes()
}

/// Adds an endpoint and answers it with its secret (shown this once).
pub async fn create(
    db: &DatabaseConnection,
    key: &SealingKey,
    by: Origin,
    scope: &Scope,
    raw_url: &str,
    raw_events: &[String],
    allow_private: bool,
) -> Result<(Webhook, WebhookSecret)> {
    let url = check_url(raw_url, allow_private)?;
    let events = check_events(raw_events, matches!(scope, Scope::Team(_)))?;
    let txn = begin_write(db).await?;
    let team = managed_scope(&txn, by.who, scope).await?;
    let existing = webhook::Entity::find()
        .filter(scope_filter(&team))
        .count(&txn)
        .await?;
    if existing >= MAX_ENDPOINTS {
        return Err(Error::Rule(format!(
            "{} has {MAX_ENDPOINTS} webhooks, the most it may have: remove one first.",
            scope_words(&team)
        )));
    }
    let secret = WebhookSecret::generate();
    let public_id = format!("whk_{}", crate::tokens::format::random_base62(16));
    let now = Utc::now();
    let row = webhook::ActiveModel {
        public_id: Set(public_id.clone()),
        team_id: Set(team.as_ref().map(|(id, _)| *id)),
        url: Set(url.to_string()),
        events: Set(joined(&events)),
        sealed_secret: Set(key.seal(secret.expose().as_bytes(), &seal_context(&public_id))),
        previous_sealed_secret: Set(None),
        previous_secret_until: Set(None),
        created_by: Set(by.who.user_id()),
        created_at: Set(now),
        next_attempt_at: Set(None),
        failing_since: Set(None),
        claimed_until: Set(None),
        disabled_at: Set(None),
        disabled_reason: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    record(&txn, by, Kind::WebhookCreated, &row, &team).await?;
    txn.commit().await?;
    Ok((shown(row, Vec::new()), secret))
}

async fn record(
    txn: &impl sea_orm::ConnectionTrait,
    by: Origin,
    kind: Kind,
    row: &webhook::Model,
    team: &Option<(i64, String)>,
) -> Result<()> {
    let Some(owner) = by.who.user_id() else {
        // The operator has no log of its own (as for services and SCIM credentials).
        return Ok(());
    };
    let event = Event::by(by, Some(owner), kind).target(format!(
        "{} ({}) of {}",
        site_of(&row.url),
        row.public_id,
        scope_words(team)
    ));
    activity::record(txn, event).await
}

/// An endpoint's URL without its path and query, which may hold a credential of the receiver
/// (`https://hooks.example.com/…`): how the log, the audit stream and notices name it. Its
/// admins see the whole URL on its page.
pub(crate) fn site_of(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(parsed) => format!("{}/…", parsed.origin().ascii_serialization()),
        Err(_) => "an endpoint".to_string(),
    }
}

fn shown(row: webhook::Model, deliveries: Vec<Delivery>) -> Webhook {
    Webhook {
        id: row.public_id,
        url: row.url,
        events: row.events.split_whitespace().map(str::to_string).collect(),
        created_at: row.created_at,
        previous_secret_until: row
            .previous_secret_until
            .filter(|until| *until > Utc::now()),
        failing_since: row.failing_since,
        next_attempt_at: row.next_attempt_at,
        disabled_at: row.disabled_at,
        disabled_reason: row.disabled_reason,
        deliveries,
    }
}

/// The scope's endpoints, oldest first, each with its [`RECENT_DELIVERIES`] latest deliveries.
pub async fn list(db: &DatabaseConnection, by: Origin, scope: &Scope) -> Result<Vec<Webhook>> {
    let team = managed_scope(db, by.who, scope).await?;
    let rows = webhook::Entity::find()
        .filter(scope_filter(&team))
        .order_by_asc(webhook::Column::Id)
        .all(db)
        .await?;
    let mut hooks = Vec::with_capacity(rows.len());
    for row in rows {
        let deliveries = webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::WebhookId.eq(row.id))
            .order_by_desc(webhook_delivery::Column::Id)
            .limit(RECENT_DELIVERIES)
            .all(db)
            .await?
            .into_iter()
            .map(Delivery::from)
            .collect();
        hooks.push(shown(row, deliveries));
    }
    Ok(hooks)
}

/// The scope's endpoint `public_id`, locked for a change.
async fn managed_hook(
    txn: &impl sea_orm::ConnectionTrait,
    by: Origin,
    scope: &Scope,
    public_id: &str,
) -> Result<(webhook::Model, Option<(i64, String)>)> {
    let team = managed_scope(txn, by.who, scope).await?;
    let row = webhook::Entity::find()
        .filter(scope_filter(&team))
        .filter(webhook::Column::PublicId.eq(public_id.trim()))
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or(Error::NotFound("webhook"))?;
    Ok((row, team))
}

pub async fn delete(
    db: &DatabaseConnection,
    by: Origin,
    scope: &Scope,
    public_id: &str,
) -> Result<()> {
    let txn = begin_write(db).await?;
    let (row, team) = managed_hook(&txn, by, scope, public_id).await?;
    webhook_delivery::Entity::delete_many()
        .filter(webhook_delivery::Column::WebhookId.eq(row.id))
        .exec(&txn)
        .await?;
    webhook::Entity::delete_by_id(row.id).exec(&txn).await?;
    record(&txn, by, Kind::WebhookDeleted, &row, &team).await?;
    txn.commit().await?;
    Ok(())
}

/// A new secret for the endpoint, answered this once; the old one signs beside it for
/// [`ROTATION_OVERLAP`] (a second signature in `webhook-signature`), so that the receiver can
/// change its secret in that time without missing a delivery.
pub async fn rotate_secret(
    db: &DatabaseConnection,
    key: &SealingKey,
    by: Origin,
    scope: &Scope,
    public_id: &str,
) -> Result<WebhookSecret> {
    let txn = begin_write(db).await?;
    let (row, team) = managed_hook(&txn, by, scope, public_id).await?;
    let secret = WebhookSecret::generate();
    let mut active: webhook::ActiveModel = row.clone().into();
    active.previous_sealed_secret = Set(Some(row.sealed_secret.clone()));
    active.previous_secret_until = Set(Some(Utc::now() + ROTATION_OVERLAP));
    active.sealed_secret = Set(key.seal(secret.expose().as_bytes(), &seal_context(&row.public_id)));
    active.update(&txn).await?;
    record(&txn, by, Kind::WebhookSecretRotated, &row, &team).await?;
    txn.commit().await?;
    Ok(secret)
}

/// Sends delivery `message_id` again, after what is waiting (with the same `webhook-id`: the
/// receiver can tell it has seen it), and turns the endpoint back on if it was off.
pub async fn redeliver(
    db: &DatabaseConnection,
    by: Origin,
    scope: &Scope,
    public_id: &str,
    message_id: &str,
) -> Result<()> {
    let txn = begin_write(db).await?;
    let (row, team) = managed_hook(&txn, by, scope, public_id).await?;
    let original = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::WebhookId.eq(row.id))
        .filter(webhook_delivery::Column::MessageId.eq(message_id.trim()))
        .order_by_desc(webhook_delivery::Column::Id)
        .one(&txn)
        .await?
        .ok_or(Error::NotFound("delivery"))?;
    events::queue(
        &txn,
        row.id,
        &original.message_id,
        &original.event_type,
        &original.payload,
        Utc::now(),
    )
    .await?;
    if row.disabled_at.is_some() || row.failing_since.is_some() {
        let mut active: webhook::ActiveModel = row.clone().into();
        active.disabled_at = Set(None);
        active.disabled_reason = Set(None);
        active.failing_since = Set(None);
        active.next_attempt_at = Set(None);
        active.update(&txn).await?;
    }
    record(&txn, by, Kind::WebhookRedelivered, &row, &team).await?;
    txn.commit().await?;
    Ok(())
}

/// Opens an endpoint's secrets to sign with: the current one, and the previous one while its
/// overlap lasts.
pub(crate) fn secrets_of(
    key: &SealingKey,
    row: &webhook::Model,
    now: DateTime<Utc>,
) -> Result<Vec<Vec<u8>>> {
    let context = seal_context(&row.public_id);
    let open = |sealed: &str| -> Result<Vec<u8>> {
        let text = key
            .open(sealed, &context)
            .map_err(|e| Error::Internal(format!("webhook {}: {e}", row.public_id)))?;
        let text = String::from_utf8(text).map_err(|_| {
            Error::Internal(format!("webhook {}: a secret is not text", row.public_id))
        })?;
        signature::key_bytes(&text).ok_or_else(|| {
            Error::Internal(format!("webhook {}: a secret is malformed", row.public_id))
        })
    };
    let mut secrets = vec![open(&row.sealed_secret)?];
    if let (Some(previous), Some(until)) = (&row.previous_sealed_secret, row.previous_secret_until)
        && until > now
    {
        secrets.push(open(previous)?);
    }
    Ok(secrets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_have_distinct_names_that_parse_back() {
        let mut names: Vec<&str> = EventType::ALL.iter().map(|e| e.as_str()).collect();
        for event in EventType::ALL {
            assert_eq!(EventType::parse(event.as_str()), Some(*event));
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), EventType::ALL.len());
    }

    #[test]
    fn urls_must_be_http_and_public_unless_allowed() {
        assert!(check_url("https://hooks.example.com/patdesk", false).is_ok());
        for inside in [
            "http://127.0.0.1:9000/",
            "http://localhost/x",
            "https://10.0.0.8/",
            "https://[::1]/",
            "http://169.254.169.254/latest/meta-data/",
            "https://[fd00::1]/",
            "http://[::ffff:192.168.0.1]/",
        ] {
            let refused = check_url(inside, false).unwrap_err().to_string();
            assert!(refused.contains("public addresses"), "{inside}: {refused}");
            assert!(
                check_url(inside, true).is_ok(),
                "{inside} with the test flag"
            );
        }
        for bad in [
            "",
            "ftp://example.com/",
            "https://user:pw@example.com/",
            "not a url",
            "https://ex\u{7}ample.com/",
        ] {
            assert!(check_url(bad, true).is_err(), "{bad:?}");
        }
        assert!(check_url(&format!("https://example.com/{}", "a".repeat(2000)), false).is_err());
        // Percent-encoding makes it longer than typed: the stored form is what is measured.
        let quotes = format!("https://example.com/{}", "\"".repeat(700));
        assert!(quotes.len() < MAX_URL_LENGTH && check_url(&quotes, false).is_err());
        assert_eq!(
            site_of("https://hooks.slack.com/services/T0/B0/s3cr3t?token=x"),
            "https://hooks.slack.com/…"
        );
    }

    #[test]
    fn team_webhooks_take_team_events_only() {
        let events = |names: &[&str], team| {
            check_events(
                &names.iter().map(|n| n.to_string()).collect::<Vec<_>>(),
                team,
            )
        };
        assert_eq!(
            events(&["token.deleted,token.created", "token.created"], true).unwrap(),
            [EventType::TokenCreated, EventType::TokenDeleted]
        );
        assert!(events(&["audit.entry"], true).is_err());
        assert!(events(&["user.suspended"], true).is_err());
        assert!(events(&["audit.entry", "user.suspended"], false).is_ok());
        assert!(events(&["token.exploded"], false).is_err());
        assert!(events(&[], false).is_err());
    }
}
