//! Which webhook events a change is, and their deliveries, written in the change's own
//! transaction (docs/webhooks.md). Every change patdesk records in the activity log comes here
//! (`activity::record_at`), so the events and the audit stream follow the log without a call
//! of their own at each change; expiry reminders, which are no entry, come from
//! `notifications::sweep_expiry`.
//!
//! A payload is `{"type","timestamp","data"}`; `data` names things (token id and description,
//! team, people's names) and never holds a secret, a digest or a hint of a value.

use chrono::{DateTime, SecondsFormat, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Map, Value, json};

// Only plain values and rows here: the activity log calls this module, so it may not call the
// log back (nor `teams` or `notifications`, which record entries).
use super::EventType;
use crate::{
    activity::event::{Actor, DIRECTORY, Event, Kind},
    entity::{membership, team, token, user, webhook, webhook_delivery},
    error::Result,
};

/// A delivery waiting to be sent.
pub(crate) const PENDING: &str = "pending";

/// Writes a delivery of `payload` to endpoint `webhook_id`, waiting to be sent.
pub(crate) async fn queue(
    db: &impl ConnectionTrait,
    webhook_id: i64,
    message_id: &str,
    event_type: &str,
    payload: &str,
    at: DateTime<Utc>,
) -> Result<()> {
    webhook_delivery::ActiveModel {
        webhook_id: Set(webhook_id),
        message_id: Set(message_id.to_string()),
        event_type: Set(event_type.to_string()),
        payload: Set(payload.to_string()),
        created_at: Set(at),
        state: Set(PENDING.to_string()),
        attempts: Set(0),
        last_attempt_at: Set(None),
        last_status: Set(None),
        last_error: Set(None),
        delivered_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The name the log shows for the event's actor (what `activity::Entry::actor` says of it).
async fn actor_name(db: &impl ConnectionTrait, event: &Event) -> Result<String> {
    Ok(match event.actor {
        Actor::User(id) => username(db, id).await?,
        Actor::Directory => DIRECTORY.to_string(),
        Actor::Operator => event.kind.anonymous_actor().to_string(),
    })
}

/// The member's role in the team, if still a member.
async fn role(db: &impl ConnectionTrait, team_id: i64, user_id: i64) -> Result<Option<String>> {
    Ok(membership::Entity::find_by_id((team_id, user_id))
        .one(db)
        .await?
        .map(|m| m.role))
}

/// The webhook events an entry of `kind` may be (besides `audit.entry`, which every entry is).
/// A token's creation is `token.approval_requested` too only when it waits for approval.
fn types_of(kind: Kind) -> &'static [EventType] {
    use EventType as E;
    match kind {
        Kind::TokenCreated => &[E::TokenCreated, E::TokenApprovalRequested],
        Kind::TokenRegenerated => &[E::TokenRegenerated],
        Kind::TokenRotated => &[E::TokenRotated],
        Kind::TokenDeleted | Kind::TokenRevokedByHolder => &[E::TokenDeleted],
        Kind::TokenRevokedByAdmin => &[E::TokenRevoked],
        Kind::TokenReportedLeaked | Kind::OldValueReportedLeaked => &[E::TokenLeakReported],
        Kind::TokenUsedFromNewIp => &[E::TokenNewAddress],
        Kind::TokenApproved => &[E::TokenApproved],
        Kind::TokenDenied => &[E::TokenDenied],
        Kind::MemberAdded => &[E::MemberAdded],
        Kind::MemberRemoved => &[E::MemberRemoved],
        Kind::MemberRoleChanged => &[E::MemberRoleChanged],
        Kind::UserSuspended => &[E::UserSuspended],
        Kind::ScimDeactivated | Kind::ScimDeleted => &[E::UserDeprovisioned],
        _ => &[],
    }
}

/// The endpoints that are on and hear of a change of `team_id` (none: of no team): the
/// instance's, and that team's. A plain read: a change never waits for, or locks, endpoints.
async fn endpoints_on(
    db: &impl ConnectionTrait,
    team_id: Option<i64>,
) -> Result<Vec<webhook::Model>> {
    let mut whose = sea_orm::Condition::any().add(webhook::Column::TeamId.is_null());
    if let Some(team_id) = team_id {
        whose = whose.add(webhook::Column::TeamId.eq(team_id));
    }
    Ok(webhook::Entity::find()
        .filter(webhook::Column::DisabledAt.is_null())
        .filter(whose)
        .all(db)
        .await?)
}

fn takes(hook: &webhook::Model, event: EventType) -> bool {
    hook.events.split_whitespace().any(|e| e == event.as_str())
}

/// Whether a change of `team_id` (none: of no team) reaches `hook`: an instance webhook hears
/// of every team; a team's, of its own.
fn reaches(hook: &webhook::Model, team_id: Option<i64>) -> bool {
    hook.team_id.is_none() || hook.team_id == team_id
}

fn payload(event: EventType, at: DateTime<Utc>, data: Value) -> String {
    json!({
        "type": event.as_str(),
        "timestamp": at.to_rfc3339_opts(SecondsFormat::Millis, true),
        "data": data,
    })
    .to_string()
}

/// Queues `event` for every endpoint in `hooks` that takes it and that a change of `team_id`
/// reaches, with one `webhook-id` per endpoint.
async fn queue_for(
    db: &impl ConnectionTrait,
    hooks: &[webhook::Model],
    team_id: Option<i64>,
    event: EventType,
    at: DateTime<Utc>,
    data: &Value,
) -> Result<()> {
    let mut body = None;
    for hook in hooks
        .iter()
        .filter(|h| takes(h, event) && reaches(h, team_id))
    {
        let body = body.get_or_insert_with(|| payload(event, at, data.clone()));
        let message_id = format!("msg_{}", crate::tokens::format::random_base62(24));
        queue(db, hook.id, &message_id, event.as_str(), body, at).await?;
    }
    Ok(())
}

async fn username(db: &impl ConnectionTrait, id: i64) -> Result<String> {
    Ok(user::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|u| u.username)
        .unwrap_or_default())
}

async fn team_slug(db: &impl ConnectionTrait, id: i64) -> Result<String> {
    Ok(team::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(|t| t.slug)
        .unwrap_or_default())
}

/// A token as the payloads show it.
async fn token_data(db: &impl ConnectionTrait, t: &token::Model) -> Result<Value> {
    let access = match &t.permissions {
        Some(permissions) => json!(permissions.split_whitespace().collect::<Vec<_>>()),
        None if t.write => json!("write"),
        None => json!("read"),
    };
    Ok(json!({
        "id": t.id,
        "description": t.description,
        "team": team_slug(db, t.team_id).await?,
        "owner": username(db, t.user_id).await?,
        "kind": t.kind,
        "access": access,
        "expires_at": t.expires_at.map(|at| at.to_rfc3339_opts(SecondsFormat::Secs, true)),
    }))
}

/// The deliveries the activity entry `entry_id` (just stored, in the same transaction) calls
/// for: its events for the endpoints that take them, and `audit.entry` for instance endpoints
/// that take that.
pub(crate) async fn of_entry(
    db: &impl ConnectionTrait,
    event: &Event,
    entry_id: i64,
    at: DateTime<Utc>,
) -> Result<()> {
    let types = types_of(event.kind);
    // The token the entry is about (its team says whose endpoints hear of it), or the team of
    // a membership change.
    let token = match (&event.token_id, types.is_empty()) {
        (Some(id), false) => token::Entity::find_by_id(id.as_str()).one(db).await?,
        _ => None,
    };
    let team_id = token
        .as_ref()
        .map(|t| t.team_id)
        .or(event.membership.map(|(team, _)| team));
    let hooks = endpoints_on(db, team_id).await?;
    if hooks.is_empty() {
        return Ok(());
    }
    let actor = actor_name(db, event).await?;
    let waits = token.as_ref().is_some_and(|t| t.pending_approval);
    let types: Vec<EventType> = types
        .iter()
        .copied()
        .filter(|t| *t != EventType::TokenApprovalRequested || waits)
        .collect();
    if hooks.iter().any(|h| types.iter().any(|t| takes(h, *t))) {
        let mut data = Map::new();
        data.insert("actor".into(), json!(actor));
        if let Some(t) = &token {
            data.insert("token".into(), token_data(db, t).await?);
            match event.kind {
                Kind::TokenRevokedByAdmin => {
                    data.insert("reason".into(), json!(t.revoke_reason));
                }
                Kind::TokenUsedFromNewIp => {
                    data.insert("address".into(), json!(event.ip));
                }
                _ => {}
            }
        }
        if let Some((team, member)) = event.membership {
            let role = role(db, team, member).await?;
            data.insert(
                "member".into(),
                json!({"username": username(db, member).await?, "role": role}),
            );
            data.insert("team".into(), json!(team_slug(db, team).await?));
        }
        if matches!(
            types[0],
            EventType::UserSuspended | EventType::UserDeprovisioned
        ) && let Some(owner) = event.owner
        {
            data.insert(
                "user".into(),
                json!({"username": username(db, owner).await?}),
            );
        }
        let data = Value::Object(data);
        for event_type in types {
            queue_for(db, &hooks, team_id, event_type, at, &data).await?;
        }
    }
    let audit: Vec<webhook::Model> = hooks
        .into_iter()
        .filter(|h| h.team_id.is_none() && takes(h, EventType::AuditEntry))
        .collect();
    if !audit.is_empty() {
        let owner = match event.owner {
            Some(id) => Some(username(db, id).await?),
            None => None,
        };
        let data = json!({
            "id": entry_id,
            "kind": event.kind.as_str(),
            "what": event.kind.words(),
            "actor": actor,
            "log_of": owner,
            "token_id": event.token_id,
            "ip": event.ip,
            "target": event.target,
        });
        queue_for(db, &audit, team_id, EventType::AuditEntry, at, &data).await?;
    }
    Ok(())
}

/// `token.expiring` (7 days and 1 day before: `days_left`) or `token.expired`, written where
/// the expiry sweep stores its reminder, once per reminder.
pub(crate) async fn of_expiry(
    db: &impl ConnectionTrait,
    t: &token::Model,
    days_left: Option<i64>,
    at: DateTime<Utc>,
) -> Result<()> {
    let hooks = endpoints_on(db, Some(t.team_id)).await?;
    if hooks.is_empty() {
        return Ok(());
    }
    let mut data = Map::new();
    data.insert("token".into(), token_data(db, t).await?);
    let event = match days_left {
        Some(days) => {
            data.insert("days_left".into(), json!(days));
            EventType::TokenExpiring
        }
        None => EventType::TokenExpired,
    };
    queue_for(db, &hooks, Some(t.team_id), event, at, &Value::Object(data)).await
}
