//! Last-used tracking (docs/api.md): each authenticated API call is noted in memory; a
//! background task writes the notes in batches (every few seconds, and at shutdown), never one
//! database write per request.
//!
//! Writing merges with what is stored, so that several server processes sharing one database
//! end with the latest `last_used_at` and the most recent distinct IPs of all of them.

use std::{collections::HashMap, sync::Mutex};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect, Set,
};

use crate::{
    activity::{self, Event, Kind},
    db::begin_write,
    entity::{activity as logged, token},
    error::Result,
    notifications::{self, Notice, NoticeKind, TokenRef},
    teams,
};

/// How many distinct recent IPs a token keeps.
pub const KEPT_IPS: usize = 5;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Use {
    at: DateTime<Utc>,
    /// Most recent first, distinct.
    ips: Vec<String>,
    /// The services (hosts behind a reverse proxy, docs/forward-auth.md) it was used through,
    /// distinct.
    services: Vec<String>,
    /// The latest use (`at`) was with the value a rotation replaced.
    latest_old: bool,
    /// The latest use of that old value, if any.
    old_at: Option<DateTime<Utc>>,
}

impl Use {
    /// Folds a use at `at` (with the old value or not) into this one.
    fn note(&mut self, at: DateTime<Utc>, old_value: bool) {
        if at >= self.at {
            self.at = at;
            self.latest_old = old_value;
        }
        if old_value {
            self.old_at = self.old_at.max(Some(at));
        }
    }
}

/// How many distinct services one flush notes per token (more is someone sending junk hosts).
const KEPT_SERVICES: usize = 10;

fn merge_services(into: &mut Vec<String>, more: &[String]) {
    for service in more {
        if into.len() < KEPT_SERVICES && !into.contains(service) {
            into.push(service.clone());
        }
    }
}

/// Uses not yet written, by token id.
#[derive(Debug, Default)]
pub struct UsageBuffer {
    pending: Mutex<HashMap<String, Use>>,
}

/// `new` ips (most recent first) in front of `old`, without repeats, at most `KEPT_IPS`.
fn merge_ips(new: &[String], old: &[String]) -> Vec<String> {
    let mut merged: Vec<String> = Vec::with_capacity(KEPT_IPS);
    for ip in new.iter().chain(old) {
        if !merged.contains(ip) {
            merged.push(ip.clone());
        }
        if merged.len() == KEPT_IPS {
            break;
        }
    }
    merged
}

impl UsageBuffer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Notes a use of `token_id` from `ip`, with its current value or (`old_value`) the one a
    /// rotation replaced (cheap: a map update under a short lock).
    pub fn record(&self, token_id: &str, ip: Option<&str>, at: DateTime<Utc>, old_value: bool) {
        self.record_via(token_id, ip, at, old_value, None);
    }

    /// [`record`](Self::record), for a use through a reverse proxy in front of `service`.
    pub fn record_via(
        &self,
        token_id: &str,
        ip: Option<&str>,
        at: DateTime<Utc>,
        old_value: bool,
        service: Option<&str>,
    ) {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let entry = pending.entry(token_id.to_string()).or_insert_with(|| Use {
            at,
            ips: Vec::new(),
            services: Vec::new(),
            latest_old: old_value,
            old_at: None,
        });
        if let Some(service) = service {
            merge_services(&mut entry.services, &[service.to_string()]);
        }
        entry.note(at, old_value);
        if let Some(ip) = ip {
            entry.ips = merge_ips(&[ip.to_string()], &entry.ips);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.pending.lock().map(|p| p.is_empty()).unwrap_or(true)
    }

    /// Writes every pending use and returns how many tokens were updated. Uses that fail to be
    /// written are put back for the next flush.
    pub async fn flush(&self, db: &DatabaseConnection) -> Result<usize> {
        let batch: HashMap<String, Use> = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            std::mem::take(&mut *pending)
        };
        let mut written = 0;
        let mut failed = Vec::new();
        for (token_id, use_) in batch {
            match write_one(db, &token_id, &use_).await {
                Ok(()) => written += 1,
                Err(error) => {
                    tracing::warn!(%error, "could not write last-used data; will retry");
                    failed.push((token_id, use_));
                }
            }
        }
        if !failed.is_empty() {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            for (token_id, use_) in failed {
                let ips = use_.ips.clone();
                let entry = pending.entry(token_id).or_insert(use_.clone());
                entry.note(use_.at, use_.latest_old);
                if let Some(old_at) = use_.old_at {
                    entry.note(old_at, true);
                }
                entry.ips = merge_ips(&entry.ips.clone(), &ips);
                merge_services(&mut entry.services, &use_.services);
            }
        }
        Ok(written)
    }
}

/// Merges one token's noted use into what is stored. The row is locked while it is read and
/// written (`FOR UPDATE` on PostgreSQL, the write lock on SQLite): two processes flushing the
/// same token at once take turns, so neither overwrites the addresses the other just wrote.
async fn write_one(db: &DatabaseConnection, token_id: &str, use_: &Use) -> Result<()> {
    let txn = begin_write(db).await?;
    let Some(current) = token::Entity::find_by_id(token_id.to_string())
        .lock_exclusive()
        .one(&txn)
        .await?
    else {
        return Ok(());
    };
    let stored: Vec<String> = current
        .last_used_ips
        .as_deref()
        .and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or_default();
    // Another process may have written a later use: keep the latest of the two.
    let newer_here = current.last_used_at.is_none_or(|at| use_.at >= at);
    let ips = if newer_here {
        merge_ips(&use_.ips, &stored)
    } else {
        merge_ips(&stored, &use_.ips)
    };
    let new_ips: Vec<&String> = use_.ips.iter().filter(|ip| !stored.contains(ip)).collect();
    let owner = current.user_id;
    let mut active: token::ActiveModel = current.clone().into();
    if newer_here {
        active.last_used_at = Set(Some(use_.at));
        active.last_used_previous = Set(use_.latest_old);
    }
    // Only while a rotated-out value is kept (a regeneration since forgets it).
    if let Some(old_at) = use_.old_at
        && current.previous_digest.is_some()
        && current.previous_last_used_at.is_none_or(|at| old_at > at)
    {
        active.previous_last_used_at = Set(Some(old_at));
    }
    active.last_used_ips = Set(Some(
        serde_json::to_string(&ips).unwrap_or_else(|_| "[]".into()),
    ));
    active.update(&txn).await?;
    // A token's first use has nothing to compare with: only later new addresses are news.
    if !stored.is_empty() && current.kind != common::TokenKind::Explorer.as_str() {
        let team = teams::slug_of(&txn, current.team_id).await?;
        for ip in &new_ips {
            let notice = Notice::new(
                NoticeKind::NewIp,
                owner,
                TokenRef::of(&current, team.clone()),
            )
            .detail(ip.as_str());
            notifications::notify(&txn, notice, use_.at).await?;
        }
    }
    for service in &use_.services {
        let seen = logged::Entity::find()
            .filter(logged::Column::TokenId.eq(token_id))
            .filter(logged::Column::Kind.eq(Kind::TokenUsedViaProxy.as_str()))
            .filter(logged::Column::Target.eq(service.as_str()))
            .count(&txn)
            .await?;
        if seen == 0 {
            let event = Event::own(owner, Kind::TokenUsedViaProxy)
                .ip_text(use_.ips.first().cloned())
                .token(token_id)
                .target(service.as_str());
            activity::record_at(&txn, event, use_.at).await?;
        }
    }
    for ip in new_ips {
        let event = Event::own(owner, Kind::TokenUsedFromNewIp)
            .ip_text(Some(ip.clone()))
            .token(token_id)
            .target(format!("token \"{}\"", current.description));
        activity::record_at(&txn, event, use_.at).await?;
    }
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ips_are_distinct_recent_first_and_capped() {
        let ips = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(merge_ips(&ips(&["b"]), &ips(&["a", "b"])), ips(&["b", "a"]));
        assert_eq!(
            merge_ips(&ips(&["f", "e"]), &ips(&["a", "b", "c", "d"])),
            ips(&["f", "e", "a", "b", "c"])
        );
        let buffer = UsageBuffer::new();
        let now = Utc::now();
        buffer.record("tok_1", Some("10.0.0.1"), now, false);
        buffer.record("tok_1", Some("10.0.0.2"), now, false);
        buffer.record("tok_1", Some("10.0.0.1"), now, false);
        let pending = buffer.pending.lock().unwrap();
        assert_eq!(pending["tok_1"].ips, ips(&["10.0.0.1", "10.0.0.2"]));
    }

    #[test]
    fn the_latest_use_says_which_value() {
        let buffer = UsageBuffer::new();
        let now = Utc::now();
        let later = now + chrono::Duration::seconds(1);
        buffer.record("tok_1", None, later, true);
        buffer.record("tok_1", None, now, false);
        {
            let pending = buffer.pending.lock().unwrap();
            assert!(pending["tok_1"].latest_old);
            assert_eq!(pending["tok_1"].old_at, Some(later));
        }
        buffer.record("tok_1", None, later + chrono::Duration::seconds(1), false);
        let pending = buffer.pending.lock().unwrap();
        assert!(!pending["tok_1"].latest_old);
        assert_eq!(pending["tok_1"].old_at, Some(later));
    }
}
