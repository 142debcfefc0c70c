//! What each token's calls were (docs/usage.md): every check of a token — accepted or refused,
//! through the API, `/auth/verify` or introspection — is noted in memory; a background task
//! writes the notes in batches (every few seconds, and at shutdown), never one database write
//! per request. Three things are kept:
//!
//! - the last use (`tokens.last_used_at`, the five most recent addresses, the old value of a
//!   rotation): merged with what is stored, so that several server processes sharing one
//!   database end with the latest of all of them;
//! - calls per hour, surface and outcome (`token_usage_hours`), and per address
//!   (`token_addresses`): *added* to what is stored in one upsert per row, so that what every
//!   process counted adds up exactly. A batch is written in one transaction per token, and put
//!   back whole when that fails. Hours older than [`KEPT_DAYS`] are purged by the housekeeping
//!   sweep.
//!
//! Addresses are counted per IPv4 address and per IPv6 `/64` (stored as `2001:db8:1:2::/64`),
//! and a token keeps at most [`UsageBuffer::kept_addresses`] of them ([`KEPT_ADDRESSES`] by
//! default): the busiest half and the most recently seen of the rest ([`keep_addresses`]), in
//! memory between two flushes and in the table after each flush. A client that claims a new
//! address on every call (through a trusted proxy) cannot grow the table or the token's page.

pub mod history;

use std::{collections::HashMap, net::IpAddr, sync::Mutex};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QuerySelect, Set,
    sea_query::{Expr, OnConflict, Order, Query},
};

use crate::{
    activity::{self, Event, Kind},
    db::begin_write,
    entity::{activity as logged, token, token_address, token_usage_hour},
    error::Result,
    notifications::{self, Notice, NoticeKind, TokenRef},
    teams,
    throttle::throttle_key,
};

/// How many distinct recent IPs a token keeps.
pub const KEPT_IPS: usize = 5;

/// How long the hourly counts are kept.
pub const KEPT_DAYS: i64 = 90;

/// How many addresses a token keeps by default (`PATDESK_USAGE_ADDRESSES_PER_TOKEN`,
/// docs/usage.md): far more than a token used from a fleet of machines shows, few enough that
/// its page and the usage API read them at once.
pub const KEPT_ADDRESSES: usize = 1_000;

/// The outcome of an accepted call, beside the refusals' error codes.
pub const ACCEPTED: &str = "accepted";

/// Where a token was checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Surface {
    /// The team REST API.
    Api,
    /// `/auth/verify`, for a reverse proxy.
    Verify,
    /// `/oauth/introspect`, for a service.
    Introspect,
}

impl Surface {
    pub fn as_str(self) -> &'static str {
        match self {
            Surface::Api => "api",
            Surface::Verify => "verify",
            Surface::Introspect => "introspect",
        }
    }
}

/// One check of a token: which, through what, from where, when.
#[derive(Clone, Copy, Debug)]
pub struct Call<'a> {
    pub token_id: &'a str,
    pub surface: Surface,
    pub ip: Option<IpAddr>,
    pub at: DateTime<Utc>,
}

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
    /// The address of `ips[0]`, so that a call from the same address as the last one costs no
    /// formatting.
    last_ip: Option<IpAddr>,
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

    /// Folds `other` (noted earlier, not written) into this one.
    fn merge(&mut self, other: Use) {
        self.note(other.at, other.latest_old);
        if let Some(old_at) = other.old_at {
            self.note(old_at, true);
        }
        self.ips = merge_ips(&self.ips, &other.ips);
        // `ips[0]` may be another address now: the next call formats its own.
        self.last_ip = None;
        merge_services(&mut self.services, &other.services);
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

/// One address's calls in a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    first: DateTime<Utc>,
    last: DateTime<Utc>,
    calls: i64,
    refused: i64,
}

impl Seen {
    fn add(&mut self, other: Seen) {
        self.first = self.first.min(other.first);
        self.last = self.last.max(other.last);
        self.calls += other.calls;
        self.refused += other.refused;
    }
}

/// The key of an hourly count: the hour's start, the surface, the outcome.
type HourKey = (DateTime<Utc>, Surface, &'static str);

/// What one token's calls since the last flush were.
#[derive(Debug, Default, Clone)]
struct Noted {
    /// The latest accepted use, if any.
    last: Option<Use>,
    /// Calls by hour, surface and outcome: a handful between two flushes, so a list searched in
    /// order costs less than hashing each call's key.
    hours: Vec<(HourKey, i64)>,
    /// Calls by address: an IPv4 address, or an IPv6 address's `/64` ([`throttle_key`]).
    addresses: HashMap<IpAddr, Seen>,
}

/// How an address is stored in `token_addresses.ip`: an IPv4 address as it is, an IPv6 `/64`
/// as the network, `2001:db8:1:2::/64`.
fn stored_address(key: IpAddr) -> String {
    match key {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("{v6}/64"),
    }
}

/// Which of a token's addresses to keep when it has more than `kept`: the `kept / 2` busiest
/// (most calls, the latest seen first among equals), then the most recently seen of the rest.
/// A flood of new addresses cannot push out where the token is really used, and a new address
/// still gets in. [`evict_addresses`] is the same rule in SQL.
fn keep_addresses(addresses: &mut HashMap<IpAddr, Seen>, kept: usize) {
    if addresses.len() <= kept {
        return;
    }
    let mut all: Vec<(IpAddr, Seen)> = addresses.drain().collect();
    all.sort_by(|(a, x), (b, y)| {
        (y.calls, y.last)
            .cmp(&(x.calls, x.last))
            .then_with(|| a.cmp(b))
    });
    let mut rest = all.split_off((kept / 2).min(all.len()));
    rest.sort_by(|(a, x), (b, y)| {
        (y.last, y.calls)
            .cmp(&(x.last, x.calls))
            .then_with(|| a.cmp(b))
    });
    rest.truncate(kept - all.len());
    addresses.extend(all.into_iter().chain(rest));
}

impl Noted {
    fn count(&mut self, call: &Call<'_>, outcome: &'static str, kept_addresses: usize) {
        let hour = call
            .at
            .duration_trunc(TimeDelta::hours(1))
            .unwrap_or(call.at);
        self.add_hour((hour, call.surface, outcome), 1);
        if let Some(ip) = call.ip {
            let seen = Seen {
                first: call.at,
                last: call.at,
                calls: 1,
                refused: i64::from(outcome != ACCEPTED),
            };
            self.addresses
                .entry(throttle_key(ip))
                .and_modify(|s| s.add(seen))
                .or_insert(seen);
            // Pruned when twice the cap is reached, so that pruning costs little per call; the
            // flush keeps at most the cap in the table.
            if self.addresses.len() >= kept_addresses.saturating_mul(2).max(2) {
                keep_addresses(&mut self.addresses, kept_addresses);
            }
        }
    }

    fn add_hour(&mut self, key: HourKey, calls: i64) {
        match self.hours.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += calls,
            None => self.hours.push((key, calls)),
        }
    }

    /// Folds `other` (noted earlier, not written) into this one.
    fn merge(&mut self, other: Noted) {
        match (&mut self.last, other.last) {
            (Some(mine), Some(theirs)) => mine.merge(theirs),
            (mine @ None, theirs) => *mine = theirs,
            (Some(_), None) => {}
        }
        for (key, calls) in other.hours {
            self.add_hour(key, calls);
        }
        for (ip, seen) in other.addresses {
            self.addresses
                .entry(ip)
                .and_modify(|s| s.add(seen))
                .or_insert(seen);
        }
    }
}

/// Calls not yet written, by token id.
#[derive(Debug)]
pub struct UsageBuffer {
    pending: Mutex<HashMap<String, Noted>>,
    /// How many addresses a token keeps.
    kept_addresses: usize,
}

impl Default for UsageBuffer {
    fn default() -> Self {
        Self::keeping_addresses(KEPT_ADDRESSES)
    }
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

    /// A buffer whose tokens keep at most `kept` addresses each (at least one).
    pub fn keeping_addresses(kept: usize) -> Self {
        Self {
            pending: Mutex::default(),
            kept_addresses: kept.max(1),
        }
    }

    /// How many addresses a token keeps.
    pub fn kept_addresses(&self) -> usize {
        self.kept_addresses
    }

    fn with_token<T>(&self, token_id: &str, f: impl FnOnce(&mut Noted, usize) -> T) -> T {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(noted) = pending.get_mut(token_id) {
            return f(noted, self.kept_addresses);
        }
        f(
            pending.entry(token_id.to_string()).or_default(),
            self.kept_addresses,
        )
    }

    /// Notes an accepted call, with the token's current value or (`old_value`) the one a
    /// rotation replaced, through a reverse proxy in front of `service` if any (cheap: a map
    /// update under a short lock).
    pub fn accepted(&self, call: Call<'_>, old_value: bool, service: Option<&str>) {
        self.with_token(call.token_id, |noted, kept| {
            noted.count(&call, ACCEPTED, kept);
            let last = noted.last.get_or_insert_with(|| Use {
                at: call.at,
                ips: Vec::new(),
                services: Vec::new(),
                latest_old: old_value,
                old_at: None,
                last_ip: None,
            });
            if let Some(service) = service {
                merge_services(&mut last.services, &[service.to_string()]);
            }
            last.note(call.at, old_value);
            if let Some(ip) = call.ip.map(|ip| ip.to_canonical())
                && last.last_ip != Some(ip)
            {
                last.ips = merge_ips(&[ip.to_string()], &last.ips);
                last.last_ip = Some(ip);
            }
        });
    }

    /// Notes a refused call of an existing token, by the refusal's error code.
    pub fn refused(&self, call: Call<'_>, code: &'static str) {
        self.with_token(call.token_id, |noted, kept| noted.count(&call, code, kept));
    }

    pub fn is_empty(&self) -> bool {
        self.pending.lock().map(|p| p.is_empty()).unwrap_or(true)
    }

    /// Writes every pending note and returns how many tokens were written. What fails to be
    /// written is put back for the next flush.
    pub async fn flush(&self, db: &DatabaseConnection) -> Result<usize> {
        let batch: HashMap<String, Noted> = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            std::mem::take(&mut *pending)
        };
        let mut written = 0;
        let mut failed = Vec::new();
        for (token_id, noted) in batch {
            match write_one(db, &token_id, &noted, self.kept_addresses).await {
                Ok(()) => written += 1,
                Err(error) => {
                    tracing::warn!(%error, "could not write usage data; will retry");
                    failed.push((token_id, noted));
                }
            }
        }
        if !failed.is_empty() {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            for (token_id, noted) in failed {
                let into = pending.entry(token_id).or_default();
                into.merge(noted);
                keep_addresses(&mut into.addresses, self.kept_addresses);
            }
        }
        Ok(written)
    }
}

/// Writes one token's notes in one transaction: the counts added to what is stored, the
/// addresses over `kept_addresses` evicted, then the last use merged into the token's row.
async fn write_one(
    db: &DatabaseConnection,
    token_id: &str,
    noted: &Noted,
    kept_addresses: usize,
) -> Result<()> {
    let txn = begin_write(db).await?;
    add_counts(&txn, token_id, noted).await?;
    if !noted.addresses.is_empty() {
        evict_addresses(&txn, token_id, kept_addresses).await?;
    }
    if let Some(last) = &noted.last {
        write_last_use(&txn, token_id, last).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Adds the hourly counts and the addresses' calls to what every process wrote before (one
/// upsert per row: the database does the sum, so nothing another process added is lost).
async fn add_counts(db: &impl ConnectionTrait, token_id: &str, noted: &Noted) -> Result<()> {
    use token_address::Column as A;
    use token_usage_hour::Column as H;
    for &((hour, surface, outcome), calls) in &noted.hours {
        token_usage_hour::Entity::insert(token_usage_hour::ActiveModel {
            token_id: Set(token_id.to_string()),
            hour: Set(hour),
            surface: Set(surface.as_str().to_string()),
            outcome: Set(outcome.to_string()),
            calls: Set(calls),
        })
        .on_conflict(
            OnConflict::columns([H::TokenId, H::Hour, H::Surface, H::Outcome])
                .value(
                    H::Calls,
                    Expr::cust("token_usage_hours.calls + excluded.calls"),
                )
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    }
    for (ip, seen) in &noted.addresses {
        token_address::Entity::insert(token_address::ActiveModel {
            token_id: Set(token_id.to_string()),
            ip: Set(stored_address(*ip)),
            first_seen: Set(seen.first),
            last_seen: Set(seen.last),
            calls: Set(seen.calls),
            refused: Set(seen.refused),
        })
        .on_conflict(
            OnConflict::columns([A::TokenId, A::Ip])
                .value(
                    A::Calls,
                    Expr::cust("token_addresses.calls + excluded.calls"),
                )
                .value(
                    A::Refused,
                    Expr::cust("token_addresses.refused + excluded.refused"),
                )
                .value(
                    A::FirstSeen,
                    Expr::cust(
                        "CASE WHEN excluded.first_seen < token_addresses.first_seen \
                         THEN excluded.first_seen ELSE token_addresses.first_seen END",
                    ),
                )
                .value(
                    A::LastSeen,
                    Expr::cust(
                        "CASE WHEN excluded.last_seen > token_addresses.last_seen \
                         THEN excluded.last_seen ELSE token_addresses.last_seen END",
                    ),
                )
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

/// Deletes the token's addresses beyond the `kept` that [`keep_addresses`] keeps (the same rule:
/// the `kept / 2` busiest, then the most recently seen). A count over the primary key's prefix
/// first, so that a token under the cap costs one cheap query; over it, the sort is of at most
/// the cap and one flush's new addresses.
async fn evict_addresses(db: &impl ConnectionTrait, token_id: &str, kept: usize) -> Result<()> {
    use token_address::Column as A;
    let stored = token_address::Entity::find()
        .filter(A::TokenId.eq(token_id))
        .count(db)
        .await?;
    if stored <= kept as u64 {
        return Ok(());
    }
    let busiest_count = kept / 2;
    let busiest = Query::select()
        .column(A::Ip)
        .from(token_address::Entity)
        .and_where(A::TokenId.eq(token_id))
        .order_by(A::Calls, Order::Desc)
        .order_by(A::LastSeen, Order::Desc)
        .order_by(A::Ip, Order::Asc)
        .limit(busiest_count as u64)
        .to_owned();
    let recent = Query::select()
        .column(A::Ip)
        .from(token_address::Entity)
        .and_where(A::TokenId.eq(token_id))
        .and_where(A::Ip.not_in_subquery(busiest.clone()))
        .order_by(A::LastSeen, Order::Desc)
        .order_by(A::Calls, Order::Desc)
        .order_by(A::Ip, Order::Asc)
        .limit((kept - busiest_count) as u64)
        .to_owned();
    token_address::Entity::delete_many()
        .filter(A::TokenId.eq(token_id))
        .filter(A::Ip.not_in_subquery(busiest))
        .filter(A::Ip.not_in_subquery(recent))
        .exec(db)
        .await?;
    Ok(())
}

/// Merges one token's latest use into its row. The row is locked while it is read and written
/// (`FOR UPDATE` on PostgreSQL, the write lock on SQLite): two processes flushing the same token
/// at once take turns, so neither overwrites the addresses the other just wrote.
async fn write_last_use(
    txn: &sea_orm::DatabaseTransaction,
    token_id: &str,
    use_: &Use,
) -> Result<()> {
    let Some(current) = token::Entity::find_by_id(token_id.to_string())
        .lock_exclusive()
        .one(txn)
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
    active.update(txn).await?;
    // A token's first use has nothing to compare with: only later new addresses are news.
    if !stored.is_empty() && current.kind != common::TokenKind::Explorer.as_str() {
        let team = teams::slug_of(txn, current.team_id).await?;
        for ip in &new_ips {
            let notice = Notice::new(
                NoticeKind::NewIp,
                owner,
                TokenRef::of(&current, team.clone()),
            )
            .detail(ip.as_str());
            notifications::notify(txn, notice, use_.at).await?;
        }
    }
    for service in &use_.services {
        let seen = logged::Entity::find()
            .filter(logged::Column::TokenId.eq(token_id))
            .filter(logged::Column::Kind.eq(Kind::TokenUsedViaProxy.as_str()))
            .filter(logged::Column::Target.eq(service.as_str()))
            .count(txn)
            .await?;
        if seen == 0 {
            let event = Event::own(owner, Kind::TokenUsedViaProxy)
                .ip_text(use_.ips.first().cloned())
                .token(token_id)
                .target(service.as_str());
            activity::record_at(txn, event, use_.at).await?;
        }
    }
    for ip in new_ips {
        let event = Event::own(owner, Kind::TokenUsedFromNewIp)
            .ip_text(Some(ip.clone()))
            .token(token_id)
            .target(format!("token \"{}\"", current.description));
        activity::record_at(txn, event, use_.at).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(ip: Option<&str>, at: DateTime<Utc>) -> Call<'static> {
        Call {
            token_id: "tok_1",
            surface: Surface::Api,
            ip: ip.map(|ip| ip.parse().unwrap()),
            at,
        }
    }

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
        buffer.accepted(call(Some("10.0.0.1"), now), false, None);
        buffer.accepted(call(Some("10.0.0.2"), now), false, None);
        buffer.accepted(call(Some("10.0.0.1"), now), false, None);
        let pending = buffer.pending.lock().unwrap();
        let last = pending["tok_1"].last.as_ref().unwrap();
        assert_eq!(last.ips, ips(&["10.0.0.1", "10.0.0.2"]));
    }

    #[test]
    fn the_latest_use_says_which_value() {
        let buffer = UsageBuffer::new();
        let now = Utc::now();
        let later = now + chrono::Duration::seconds(1);
        buffer.accepted(call(None, later), true, None);
        buffer.accepted(call(None, now), false, None);
        {
            let pending = buffer.pending.lock().unwrap();
            let last = pending["tok_1"].last.as_ref().unwrap();
            assert!(last.latest_old);
            assert_eq!(last.old_at, Some(later));
        }
        buffer.accepted(
            call(None, later + chrono::Duration::seconds(1)),
            false,
            None,
        );
        let pending = buffer.pending.lock().unwrap();
        let last = pending["tok_1"].last.as_ref().unwrap();
        assert!(!last.latest_old);
        assert_eq!(last.old_at, Some(later));
    }

    #[test]
    fn calls_are_counted_by_hour_outcome_and_address() {
        let buffer = UsageBuffer::new();
        let at = "2026-12-03T10:15:00Z".parse::<DateTime<Utc>>().unwrap();
        let next_hour = at + chrono::Duration::hours(1);
        buffer.accepted(call(Some("10.0.0.1"), at), false, None);
        buffer.accepted(call(Some("10.0.0.1"), at), false, None);
        buffer.refused(call(Some("10.0.0.2"), at), "read_only_token");
        buffer.refused(call(Some("10.0.0.1"), next_hour), "read_only_token");
        let pending = buffer.pending.lock().unwrap();
        let noted = &pending["tok_1"];
        let hour = "2026-12-03T10:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let later = hour + chrono::Duration::hours(1);
        assert_eq!(
            noted.hours,
            [
                ((hour, Surface::Api, ACCEPTED), 2),
                ((hour, Surface::Api, "read_only_token"), 1),
                ((later, Surface::Api, "read_only_token"), 1),
            ]
        );
        let first: IpAddr = "10.0.0.1".parse().unwrap();
        assert_eq!(
            noted.addresses[&first],
            Seen {
                first: at,
                last: next_hour,
                calls: 3,
                refused: 1
            }
        );
        // A refusal is not a use: the last use is the accepted calls'.
        assert_eq!(noted.last.as_ref().unwrap().at, at);
    }

    #[test]
    fn ipv6_addresses_are_counted_per_64() {
        let buffer = UsageBuffer::new();
        let at = Utc::now();
        for ip in ["2001:db8:1:2::1", "2001:db8:1:2:ffff::9", "2001:db8:1:3::1"] {
            buffer.accepted(call(Some(ip), at), false, None);
        }
        let pending = buffer.pending.lock().unwrap();
        let mut stored: Vec<(String, i64)> = pending["tok_1"]
            .addresses
            .iter()
            .map(|(ip, seen)| (stored_address(*ip), seen.calls))
            .collect();
        stored.sort();
        assert_eq!(
            stored,
            [
                ("2001:db8:1:2::/64".to_string(), 2),
                ("2001:db8:1:3::/64".to_string(), 1)
            ]
        );
    }

    #[test]
    fn a_flood_of_addresses_keeps_the_busiest_and_the_latest() {
        let buffer = UsageBuffer::keeping_addresses(4);
        let start = Utc::now();
        // Two busy addresses, then a new address every second.
        for _ in 0..5 {
            buffer.accepted(call(Some("192.0.2.1"), start), false, None);
            buffer.accepted(call(Some("192.0.2.2"), start), false, None);
        }
        for i in 0..50u8 {
            let at = start + chrono::Duration::seconds(i64::from(i) + 1);
            buffer.accepted(call(Some(&format!("198.51.100.{i}")), at), false, None);
        }
        let mut pending = buffer.pending.lock().unwrap();
        let addresses = &mut pending.get_mut("tok_1").unwrap().addresses;
        assert!(addresses.len() < 8, "pruned at twice the cap");
        keep_addresses(addresses, 4);
        let mut kept: Vec<String> = addresses.keys().map(|ip| ip.to_string()).collect();
        kept.sort();
        assert_eq!(
            kept,
            ["192.0.2.1", "192.0.2.2", "198.51.100.48", "198.51.100.49"]
        );
    }
}
