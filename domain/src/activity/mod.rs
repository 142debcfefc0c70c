//! The activity log: what happened, when, who did it, from where, to what.
//!
//! Every entry is written by the domain function that makes the change, in the change's own
//! transaction: the change and its entry are stored together or not at all, whichever edge (web
//! app, API, CLI) asked for it. See `docs/activity.md`.

pub mod event;

pub use event::*;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::{
    entity::{activity, user},
    error::Result,
};

pub async fn record(db: &impl ConnectionTrait, event: Event) -> Result<()> {
    record_at(db, event, Utc::now()).await
}

/// Stores the entry, and in the same transaction the webhook deliveries it calls for
/// (`webhooks::events`: the token and member events, and the audit stream).
pub async fn record_at(db: &impl ConnectionTrait, event: Event, at: DateTime<Utc>) -> Result<()> {
    let row = activity::ActiveModel {
        user_id: Set(event.owner),
        actor_id: Set(event.actor.user_id()),
        actor_kind: Set(event.actor.stored_kind().map(str::to_string)),
        kind: Set(event.kind.as_str().to_string()),
        token_id: Set(event.token_id.clone()),
        ip: Set(event.ip.clone()),
        target: Set(event.target.clone()),
        created_at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    crate::webhooks::events::of_entry(db, &event, row.id, at).await
}

/// One entry as the Activity page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub id: i64,
    /// The stored kind name (`sign_in`, …).
    pub kind: String,
    /// The kind in words.
    pub what: &'static str,
    /// The acting user's name, or [`OPERATOR`].
    pub actor: String,
    pub token_id: Option<String>,
    pub ip: Option<String>,
    pub target: Option<String>,
    pub at: DateTime<Utc>,
}

/// `user_id`'s activity, newest first: `per_page` entries of page `page` (from 1), and whether
/// there is an older page.
pub async fn list_for_user(
    db: &DatabaseConnection,
    user_id: i64,
    page: u64,
    per_page: u64,
) -> Result<(Vec<Entry>, bool)> {
    let paginator = activity::Entity::find()
        .filter(activity::Column::UserId.eq(user_id))
        .order_by_desc(activity::Column::Id)
        .paginate(db, per_page);
    let pages = paginator.num_pages().await?;
    let rows = paginator.fetch_page(page.saturating_sub(1)).await?;
    Ok((entries_of(db, rows).await?, page < pages))
}

/// The latest `limit` entries of the logs of `owners`, newest first, with whose log each is
/// (the Service accounts tab shows its accounts' logs, which nobody signs in to read).
pub async fn latest_of(
    db: &DatabaseConnection,
    owners: Vec<i64>,
    limit: u64,
) -> Result<Vec<(i64, Entry)>> {
    let rows = activity::Entity::find()
        .filter(activity::Column::UserId.is_in(owners))
        .order_by_desc(activity::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    let owners: Vec<i64> = rows.iter().map(|m| m.user_id.unwrap_or_default()).collect();
    Ok(owners
        .into_iter()
        .zip(entries_of(db, rows).await?)
        .collect())
}

/// Stored rows as entries: each actor's name looked up once.
async fn entries_of(db: &DatabaseConnection, rows: Vec<activity::Model>) -> Result<Vec<Entry>> {
    let mut actor_ids: Vec<i64> = rows.iter().filter_map(|m| m.actor_id).collect();
    actor_ids.sort_unstable();
    actor_ids.dedup();
    let names: HashMap<i64, String> = user::Entity::find()
        .filter(user::Column::Id.is_in(actor_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.username))
        .collect();
    Ok(rows
        .into_iter()
        .map(|m| Entry {
            actor: match m.actor_id {
                Some(id) => names.get(&id).cloned().unwrap_or_default(),
                None if m.actor_kind.as_deref() == Some("directory") => DIRECTORY.to_string(),
                None => Kind::parse(&m.kind)
                    .map_or(OPERATOR, Kind::anonymous_actor)
                    .to_string(),
            },
            id: m.id,
            what: crate::db::known("activity.kind", &m.kind, Kind::parse)
                .map_or("Other", Kind::words),
            kind: m.kind,
            token_id: m.token_id,
            ip: m.ip,
            target: m.target,
            at: m.created_at,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_distinct_name_that_parses_back() {
        let mut names: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.as_str()), Some(*kind));
            assert!(!kind.words().is_empty());
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Kind::ALL.len());
        assert_eq!(Kind::parse("nonsense"), None);
    }
}
