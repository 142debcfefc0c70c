//! The webhook sender every server process runs (docs/webhooks.md): every second it claims the
//! endpoints with deliveries waiting (`domain::webhooks::outbox::claim`; on PostgreSQL with
//! `FOR UPDATE SKIP LOCKED`, so that processes share the work and no delivery goes out twice)
//! and posts each endpoint's deliveries in order, signed as Standard Webhooks says, to an
//! address checked at send time (`crate::outbound`). The first failure stops the endpoint's
//! batch until its next try.

use std::{sync::Arc, time::Duration};

use domain::{
    secret::SealingKey,
    webhooks::{
        outbox::{self, Claimed, RetryRules},
        signature,
    },
};
use sea_orm::DatabaseConnection;
use tokio::task::JoinSet;

use crate::outbound::{self, Inside};

/// How long a receiver has to answer.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Endpoints claimed at a time, and deliveries per endpoint.
const ENDPOINTS: u64 = 20;
const PER_ENDPOINT: u64 = 20;
/// How often the outbox is looked at.
const POLL_EVERY: Duration = Duration::from_secs(1);

/// The sender's settings, from the environment (`server::config`).
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// `PATDESK_WEBHOOK_ALLOW_PRIVATE`: send to loopback and private addresses (tests).
    pub allow_private: bool,
    /// `PATDESK_WEBHOOK_RETRY_SECONDS`: the first wait after a failure (doubled each time).
    pub first_wait: Duration,
    /// `PATDESK_WEBHOOK_GIVE_UP_SECONDS`: how long an endpoint may fail before it is off.
    pub give_up_after: Duration,
    /// `PATDESK_WEBHOOK_LEASE_SECONDS`: how long a claim holds an endpoint (after a crash,
    /// its deliveries go out again once it has run out).
    pub lease: Duration,
}

impl Settings {
    fn inside(&self) -> Inside {
        if self.allow_private {
            Inside::Allowed
        } else {
            Inside::Refused
        }
    }
}

fn chrono(duration: Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX)
}

/// Runs until aborted. Endpoints are sent to side by side, at most [`ENDPOINTS`] at a time; a
/// slow one holds its own slot only, and the others' are claimed again as soon as they are free.
pub async fn run(db: DatabaseConnection, key: Arc<SealingKey>, settings: Settings) {
    let mut ticker = tokio::time::interval(POLL_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut sending = JoinSet::new();
    loop {
        ticker.tick().await;
        while sending.try_join_next().is_some() {}
        let free = ENDPOINTS.saturating_sub(sending.len() as u64);
        if free == 0 {
            continue;
        }
        let now = chrono::Utc::now();
        let lease = chrono(settings.lease);
        match outbox::claim(&db, &key, now, lease, free, PER_ENDPOINT).await {
            Ok(claimed) => {
                for endpoint in claimed {
                    sending.spawn(send_endpoint(db.clone(), endpoint, settings));
                }
            }
            Err(error) => tracing::warn!(%error, "could not claim webhook deliveries"),
        }
    }
}

/// Sends a claimed endpoint's deliveries in order, until one fails or the claim would run out
/// before the next could finish; then lets the endpoint go.
async fn send_endpoint(db: DatabaseConnection, endpoint: Claimed, settings: Settings) {
    let rules = RetryRules {
        first_wait: chrono(settings.first_wait),
        give_up_after: chrono(settings.give_up_after),
    };
    let webhook = endpoint.public_id.as_str();
    for delivery in &endpoint.deliveries {
        if chrono::Utc::now() + chrono(SEND_TIMEOUT) >= endpoint.until {
            break;
        }
        // The log names the endpoint and the message, never the URL's content or the payload.
        let message = delivery.message_id.as_str();
        // The attempt (its lookup included) must end within the lease.
        match attempt(&endpoint, delivery, settings.inside()).await {
            Ok(status) => {
                tracing::info!(webhook, message, status, "webhook delivered");
                match outbox::delivered(&db, &endpoint, delivery.id, status).await {
                    Ok(true) => {}
                    // Removed meanwhile: nothing more goes to it.
                    Ok(false) => break,
                    Err(error) => {
                        tracing::warn!(webhook, message, %error, "webhook delivered but not marked");
                        break;
                    }
                }
            }
            Err((status, why)) => {
                match outbox::failed(&db, &endpoint, delivery, status, &why, rules).await {
                    Ok(true) => tracing::error!(
                        webhook,
                        message,
                        why,
                        "webhook failing for too long: turned off"
                    ),
                    Ok(false) => {
                        tracing::warn!(webhook, message, why, "webhook not delivered; will retry")
                    }
                    Err(error) => {
                        tracing::warn!(webhook, message, why, %error, "webhook not delivered")
                    }
                }
                break;
            }
        }
    }
    if let Err(error) = outbox::release(&db, &endpoint).await {
        tracing::warn!(webhook, %error, "could not release a webhook endpoint");
    }
}

/// One POST of `delivery`: the receiver's 2xx status, or its status (if it answered) and why
/// it failed in words.
async fn attempt(
    endpoint: &Claimed,
    delivery: &outbox::Delivery,
    inside: Inside,
) -> Result<u16, (Option<u16>, String)> {
    let url =
        url::Url::parse(&endpoint.url).map_err(|_| (None, "its URL is not valid".to_string()))?;
    let client = outbound::client_for(&url, inside, SEND_TIMEOUT)
        .await
        .map_err(|why| (None, why))?;
    let timestamp = chrono::Utc::now().timestamp();
    let body = delivery.payload.as_bytes();
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header(
            "user-agent",
            concat!("patdesk-webhooks/", env!("CARGO_PKG_VERSION")),
        )
        .header("webhook-id", &delivery.message_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header(
            "webhook-signature",
            signature::sign(&endpoint.keys, &delivery.message_id, timestamp, body),
        )
        .body(delivery.payload.clone())
        .send()
        .await
        .map_err(|e| {
            let why = if e.is_timeout() {
                "no answer within 10 s"
            } else {
                "it cannot be reached"
            };
            (None, why.to_string())
        })?;
    let status = response.status();
    if status.is_success() {
        Ok(status.as_u16())
    } else if status.is_redirection() {
        Err((
            Some(status.as_u16()),
            format!(
                "it answered {} (redirects are not followed)",
                status.as_u16()
            ),
        ))
    } else {
        Err((
            Some(status.as_u16()),
            format!("it answered {}", status.as_u16()),
        ))
    }
}
