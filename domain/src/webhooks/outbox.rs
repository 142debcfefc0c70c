//! The webhooks' outbox (docs/webhooks.md). Deliveries are queued in the transaction of the
//! change they report. A sender claims whole endpoints, not single deliveries: one process at a
//! time sends an endpoint's deliveries, oldest first, and stops at the first that fails, so
//! that each endpoint receives its events in order. A claim is a lease (`claimed_until`):
//! after a crash, another process (or the restarted one) takes the endpoint once it runs out
//! and sends the same deliveries with the same `webhook-id`s.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, ExprTrait, LockBehavior, LockType, Query},
};

use super::events::PENDING;
use crate::{
    activity::cut_to_bytes,
    db::begin_write,
    entity::{membership, user, webhook, webhook_delivery},
    error::Result,
    notifications::{self, Notice, NoticeKind},
    secret::SealingKey,
};

const DELIVERED: &str = "delivered";
const FAILED: &str = "failed";

/// The longest wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::hours(1);

/// A delivery to send: what goes on the wire, and how many attempts it has had.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub id: i64,
    /// `msg_…`: the `webhook-id`.
    pub message_id: String,
    pub payload: String,
    pub attempts: i32,
}

/// An endpoint this process holds until `until`, with its waiting deliveries in order and
/// the keys to sign them with.
pub struct Claimed {
    pub webhook_id: i64,
    pub public_id: String,
    pub url: String,
    pub keys: Vec<Vec<u8>>,
    pub until: DateTime<Utc>,
    pub deliveries: Vec<Delivery>,
}

impl std::fmt::Debug for Claimed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Claimed")
            .field("webhook", &self.public_id)
            .field("deliveries", &self.deliveries.len())
            .finish_non_exhaustive()
    }
}

/// Claims up to `limit` endpoints that are on, due, held by no process, and have deliveries
/// waiting, for `lease`; each with up to `per_endpoint` of its oldest waiting deliveries.
pub async fn claim(
    db: &DatabaseConnection,
    key: &SealingKey,
    now: DateTime<Utc>,
    lease: Duration,
    limit: u64,
    per_endpoint: u64,
) -> Result<Vec<Claimed>> {
    let txn = begin_write(db).await?;
    let waiting = Query::select()
        .column(webhook_delivery::Column::WebhookId)
        .from(webhook_delivery::Entity)
        .and_where(webhook_delivery::Column::State.eq(PENDING))
        .to_owned();
    let due = webhook::Entity::find()
        .filter(webhook::Column::DisabledAt.is_null())
        .filter(
            Condition::any()
                .add(webhook::Column::NextAttemptAt.is_null())
                .add(webhook::Column::NextAttemptAt.lte(now)),
        )
        .filter(
            Condition::any()
                .add(webhook::Column::ClaimedUntil.is_null())
                .add(webhook::Column::ClaimedUntil.lt(now)),
        )
        .filter(webhook::Column::Id.in_subquery(waiting))
        .order_by_asc(webhook::Column::Id)
        .limit(limit)
        // PostgreSQL: endpoints another process is claiming right now are passed over, not
        // waited for. (SQLite has one writer at a time: `begin_write` serialises claims.)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(&txn)
        .await?;
    if due.is_empty() {
        return Ok(Vec::new());
    }
    // Whole microseconds, as PostgreSQL keeps them: `release` finds the claim by this value.
    let until = (now + lease).trunc_subsecs(6);
    let mut claimed = Vec::with_capacity(due.len());
    let mut unreadable = Vec::new();
    for hook in due {
        let keys = match super::secrets_of(key, &hook, now) {
            Ok(keys) => keys,
            Err(error) => {
                // Sealed with another key: this process's PATDESK_SECRET_KEY differs from the
                // one that made it. Left a minute for a process that can sign (docs/webhooks.md).
                tracing::error!(webhook = %hook.public_id, %error, "webhook secret unreadable");
                unreadable.push(hook.id);
                continue;
            }
        };
        let deliveries = webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::WebhookId.eq(hook.id))
            .filter(webhook_delivery::Column::State.eq(PENDING))
            .order_by_asc(webhook_delivery::Column::Id)
            .limit(per_endpoint)
            .all(&txn)
            .await?
            .into_iter()
            .map(|d| Delivery {
                id: d.id,
                message_id: d.message_id,
                payload: d.payload,
                attempts: d.attempts,
            })
            .collect();
        claimed.push(Claimed {
            webhook_id: hook.id,
            public_id: hook.public_id,
            url: hook.url,
            keys,
            until,
            deliveries,
        });
    }
    if !unreadable.is_empty() {
        webhook::Entity::update_many()
            .col_expr(
                webhook::Column::NextAttemptAt,
                Expr::value(now + Duration::minutes(1)),
            )
            .filter(webhook::Column::Id.is_in(unreadable))
            .exec(&txn)
            .await?;
    }
    if !claimed.is_empty() {
        webhook::Entity::update_many()
            .col_expr(webhook::Column::ClaimedUntil, Expr::value(until))
            .filter(webhook::Column::Id.is_in(claimed.iter().map(|c| c.webhook_id)))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(claimed)
}

/// The receiver took delivery `id` (a 2xx answer with `status`): the endpoint is no longer
/// failing. Answers whether the endpoint still exists (it may have been removed meanwhile).
pub async fn delivered(
    db: &DatabaseConnection,
    claimed: &Claimed,
    id: i64,
    status: u16,
) -> Result<bool> {
    let now = Utc::now();
    let txn = begin_write(db).await?;
    webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::State, Expr::value(DELIVERED))
        .col_expr(
            webhook_delivery::Column::Attempts,
            Expr::col(webhook_delivery::Column::Attempts).add(1),
        )
        .col_expr(webhook_delivery::Column::LastAttemptAt, Expr::value(now))
        .col_expr(
            webhook_delivery::Column::LastStatus,
            Expr::value(i32::from(status)),
        )
        .col_expr(
            webhook_delivery::Column::LastError,
            Expr::value(Option::<String>::None),
        )
        .col_expr(webhook_delivery::Column::DeliveredAt, Expr::value(now))
        .filter(webhook_delivery::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    let endpoint = webhook::Entity::update_many()
        .col_expr(
            webhook::Column::FailingSince,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            webhook::Column::NextAttemptAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(webhook::Column::Id.eq(claimed.webhook_id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(endpoint.rows_affected > 0)
}

/// How retries are spaced and when an endpoint is given up.
#[derive(Clone, Copy, Debug)]
pub struct RetryRules {
    /// The first wait, doubled at each failure of the same delivery (at most [`MAX_BACKOFF`]).
    pub first_wait: Duration,
    /// How long an endpoint may fail before it is turned off (a day).
    pub give_up_after: Duration,
}

/// An attempt at delivery `attempted` failed (`status` if the receiver answered, and why in
/// words): it is tried again after a growing wait; an endpoint failing for
/// `rules.give_up_after` is turned off, its waiting deliveries marked failed, and its admins
/// told. Answers whether the endpoint was turned off.
pub async fn failed(
    db: &DatabaseConnection,
    claimed: &Claimed,
    attempted: &Delivery,
    status: Option<u16>,
    error: &str,
    rules: RetryRules,
) -> Result<bool> {
    let now = Utc::now();
    let attempts = attempted.attempts.saturating_add(1);
    let txn = begin_write(db).await?;
    webhook_delivery::ActiveModel {
        id: Set(attempted.id),
        attempts: Set(attempts),
        last_attempt_at: Set(Some(now)),
        last_status: Set(status.map(i32::from)),
        last_error: Set(Some(cut_to_bytes(error.to_string(), 400))),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    let Some(hook) = webhook::Entity::find_by_id(claimed.webhook_id)
        .one(&txn)
        .await?
    else {
        // Deleted while it was being sent.
        txn.commit().await?;
        return Ok(false);
    };
    let failing_since = hook.failing_since.unwrap_or(now);
    let give_up = now - failing_since >= rules.give_up_after;
    let mut active: webhook::ActiveModel = hook.clone().into();
    active.failing_since = Set(Some(failing_since));
    if give_up {
        let reason = format!("every attempt failed for a day; the last: {error}");
        active.disabled_at = Set(Some(now));
        active.disabled_reason = Set(Some(cut_to_bytes(reason, 400)));
        webhook_delivery::Entity::update_many()
            .col_expr(webhook_delivery::Column::State, Expr::value(FAILED))
            .filter(webhook_delivery::Column::WebhookId.eq(hook.id))
            .filter(webhook_delivery::Column::State.eq(PENDING))
            .exec(&txn)
            .await?;
        tell_admins(&txn, &hook, error, now).await?;
    } else {
        let wait = rules
            .first_wait
            .checked_mul(1 << attempts.clamp(1, 20).saturating_sub(1))
            .unwrap_or(MAX_BACKOFF)
            .min(MAX_BACKOFF);
        active.next_attempt_at = Set(Some(now + wait));
    }
    active.update(&txn).await?;
    txn.commit().await?;
    Ok(give_up)
}

/// A notice to the people who manage a turned-off endpoint: the team's admins, or the
/// instance admins.
async fn tell_admins(
    txn: &impl ConnectionTrait,
    hook: &webhook::Model,
    error: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let admins: Vec<i64> = match hook.team_id {
        Some(team_id) => {
            membership::Entity::find()
                .select_only()
                .column(membership::Column::UserId)
                .filter(membership::Column::TeamId.eq(team_id))
                .filter(membership::Column::Role.eq(common::Role::Admin.as_str()))
                .into_tuple()
                .all(txn)
                .await?
        }
        None => {
            user::Entity::find()
                .select_only()
                .column(user::Column::Id)
                .filter(user::Column::IsAdmin.eq(true))
                .into_tuple()
                .all(txn)
                .await?
        }
    };
    let detail = format!(
        "{} ({}): {error}",
        super::site_of(&hook.url),
        hook.public_id
    );
    for admin in admins {
        let notice =
            Notice::about_account(NoticeKind::WebhookDisabled, admin).detail(detail.clone());
        notifications::notify(txn, notice, now).await?;
    }
    Ok(())
}

/// The endpoint is no longer held by this process (its batch is done, or it stopped early).
pub async fn release(db: &DatabaseConnection, claimed: &Claimed) -> Result<()> {
    webhook::Entity::update_many()
        .col_expr(
            webhook::Column::ClaimedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(webhook::Column::Id.eq(claimed.webhook_id))
        .filter(webhook::Column::ClaimedUntil.eq(claimed.until))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes settled deliveries older than `before`, and those of endpoints that no longer exist
/// (queued as one was removed), for the housekeeping; waiting ones of live endpoints stay.
pub async fn purge(db: &DatabaseConnection, before: DateTime<Utc>) -> Result<u64> {
    let endpoints = Query::select()
        .column(webhook::Column::Id)
        .from(webhook::Entity)
        .to_owned();
    Ok(webhook_delivery::Entity::delete_many()
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(webhook_delivery::Column::State.ne(PENDING))
                        .add(webhook_delivery::Column::CreatedAt.lt(before)),
                )
                .add(webhook_delivery::Column::WebhookId.not_in_subquery(endpoints)),
        )
        .exec(db)
        .await?
        .rows_affected)
}
