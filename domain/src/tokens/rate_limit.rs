//! Per-token rate limits (docs/usage.md): a token may have a limit of calls per minute
//! (1–100,000), and its team a cap that no token of the team exceeds.
//!
//! The budget of a minute is shared by every process on the database without a database round
//! trip per call: a process *leases* a share of the minute's budget (`token_rate_windows.taken`
//! is raised in one short transaction, never past the limit) and spends it from memory; when
//! its lease is spent, it leases again. No process can spend what it has not leased, so the
//! processes together never accept more than the limit in a minute. What they may accept less
//! is what is leased and left unspent when calls stop coming to a process: the lease shrinks as
//! the minute's budget runs out (at most a twentieth of the limit, at most a tenth of what is
//! left, at least one call), so that is a few calls per process.
//!
//! Windows are the clock's minutes (UTC): `RateLimit-Reset` is the seconds to the next one.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set,
    sea_query::OnConflict,
};

use crate::{
    db::begin_write,
    entity::token_rate_window as window,
    error::{Error, Result},
};

/// The highest limit a token (or a team's cap) may have.
pub const MAX_PER_MINUTE: u32 = 100_000;

/// The error code of a call over its token's limit (the API's, and its key in the usage
/// history).
pub const REFUSED_CODE: &str = "rate_limited";

/// A limit as typed (form): empty is no limit; otherwise a whole number within [`check`]'s
/// bounds.
pub fn parse(field: &'static str, raw: &str) -> Result<Option<u32>> {
    let raw = raw.trim().replace(['_', ','], "");
    if raw.is_empty() {
        return Ok(None);
    }
    let limit = raw.parse::<u32>().map_err(|_| {
        Error::invalid(
            field,
            format!(
                "A rate limit is a whole number of calls per minute from 1 to {MAX_PER_MINUTE}, or empty for none."
            ),
        )
    })?;
    check(field, Some(limit))
}

/// A limit given as a number (API, CLI): 1–100,000.
pub fn check(field: &'static str, limit: Option<u32>) -> Result<Option<u32>> {
    match limit {
        Some(n) if !(1..=MAX_PER_MINUTE).contains(&n) => Err(Error::invalid(
            field,
            format!("A rate limit is from 1 to {MAX_PER_MINUTE} calls per minute."),
        )),
        limit => Ok(limit),
    }
}

/// The limit a token's calls are held to: its own within its team's cap.
pub fn effective(own: Option<i32>, team_cap: Option<i32>) -> Option<u32> {
    let own = own.and_then(|n| u32::try_from(n).ok());
    let cap = team_cap.and_then(|n| u32::try_from(n).ok());
    match (own, cap) {
        (Some(own), Some(cap)) => Some(own.min(cap)),
        (own, cap) => own.or(cap),
    }
}

/// What a limited token's call was told: whether it may go on, and the `RateLimit-*` headers'
/// values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateDecision {
    pub allowed: bool,
    pub limit: u32,
    /// Calls left in this minute, as far as this process knows.
    pub remaining: u32,
    /// Seconds until the minute ends (and the budget is whole again): 1–60.
    pub reset_seconds: u64,
}

/// One token's budget for one minute, in this process.
#[derive(Debug)]
struct Lease {
    window: DateTime<Utc>,
    /// Leased and not yet spent.
    left: u32,
    /// What all processes had taken at this process's last lease.
    taken: u32,
    /// The minute's budget is all taken: refuse until the next minute without asking.
    spent: bool,
    /// One lease at a time per token in this process: calls that find the lease spent while
    /// another call is taking one wait for it, instead of each leasing (and a burst of calls
    /// leasing the whole minute into one process).
    leasing: Arc<tokio::sync::Mutex<()>>,
}

impl Lease {
    fn new(window: DateTime<Utc>) -> Self {
        Lease {
            window,
            left: 0,
            taken: 0,
            spent: false,
            leasing: Arc::default(),
        }
    }

    /// Spends one call of what this process holds; `None` when it holds nothing and the
    /// minute's budget may not be all taken (then a lease is needed).
    fn spend_held(&mut self, limit: u32) -> Option<bool> {
        if self.left > 0 {
            self.left -= 1;
            Some(true)
        } else if self.spent || self.taken >= limit {
            Some(false)
        } else {
            None
        }
    }
}

/// This process's leases, by token id.
#[derive(Debug, Default)]
pub struct RateLimiter {
    leases: Mutex<HashMap<String, Lease>>,
}

/// How much to lease at once when `left` of `limit` is still to be taken this minute.
fn lease_size(limit: u32, left: u32) -> u32 {
    (limit / 20).min(left / 10).max(1).min(left)
}

fn minute_of(now: DateTime<Utc>) -> DateTime<Utc> {
    now.duration_trunc(TimeDelta::minutes(1)).unwrap_or(now)
}

impl RateLimiter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Spends one call of `token_id`'s budget of `limit` per minute, leasing more from the
    /// database when this process's lease is spent.
    pub async fn take(
        &self,
        db: &DatabaseConnection,
        token_id: &str,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<RateDecision> {
        let minute = minute_of(now);
        let reset_seconds = u64::try_from((minute + TimeDelta::minutes(1) - now).num_seconds())
            .unwrap_or(0)
            .clamp(1, 60);
        let decision = |allowed: bool, lease: &Lease| RateDecision {
            allowed,
            limit,
            remaining: limit.saturating_sub(lease.taken) + lease.left,
            reset_seconds,
        };
        let held = |lease: &mut Lease| {
            lease
                .spend_held(limit)
                .map(|allowed| decision(allowed, lease))
        };
        let leasing = match self.with_lease(token_id, minute, |lease| {
            held(lease).ok_or_else(|| lease.leasing.clone())
        }) {
            Ok(decided) => return Ok(decided),
            Err(leasing) => leasing,
        };
        let _turn = leasing.lock().await;
        // The call that held the turn before this one may have leased enough for it too.
        if let Ok(decided) = self.with_lease(token_id, minute, |lease| held(lease).ok_or(())) {
            return Ok(decided);
        }
        let (granted, taken) = lease(db, token_id, minute, limit).await?;
        Ok(self.with_lease(token_id, minute, |lease| {
            lease.taken = lease.taken.max(taken);
            lease.left += granted;
            if granted == 0 {
                lease.spent = true;
            }
            let allowed = lease.spend_held(limit).unwrap_or(false);
            decision(allowed, lease)
        }))
    }

    /// Runs `f` on the token's lease for `minute` (a new, empty one if this process has none
    /// for that minute yet).
    fn with_lease<T>(
        &self,
        token_id: &str,
        minute: DateTime<Utc>,
        f: impl FnOnce(&mut Lease) -> T,
    ) -> T {
        let mut leases = self.leases.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(lease) = leases.get_mut(token_id) {
            if lease.window == minute {
                return f(lease);
            }
            // A call of the minute before, which waited while the next one began: it must not
            // wipe the new minute's lease (what it leases for its own minute is not used).
            if lease.window > minute {
                return f(&mut Lease::new(minute));
            }
        }
        // Leases of past minutes are worth nothing: drop them when the map grows.
        if leases.len() > 10_000 {
            leases.retain(|_, lease| lease.window >= minute);
        }
        let lease = leases
            .entry(token_id.to_string())
            .or_insert_with(|| Lease::new(minute));
        if lease.window != minute {
            *lease = Lease::new(minute);
        }
        f(lease)
    }
}

/// Takes a share of the minute's budget in the database: (granted, taken by all processes
/// after this lease). One short transaction; the row is locked while it is read and raised.
async fn lease(
    db: &DatabaseConnection,
    token_id: &str,
    minute: DateTime<Utc>,
    limit: u32,
) -> Result<(u32, u32)> {
    let txn = begin_write(db).await?;
    window::Entity::insert(window::ActiveModel {
        token_id: Set(token_id.to_string()),
        window_start: Set(minute),
        taken: Set(0),
    })
    .on_conflict(
        OnConflict::columns([window::Column::TokenId, window::Column::WindowStart])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    let row = window::Entity::find()
        .filter(window::Column::TokenId.eq(token_id))
        .filter(window::Column::WindowStart.eq(minute))
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(Error::NotFound("rate window"))?;
    let taken = u32::try_from(row.taken).unwrap_or(0);
    let left = limit.saturating_sub(taken);
    let granted = lease_size(limit, left).min(left);
    if granted > 0 {
        let mut active: window::ActiveModel = row.into();
        active.taken = Set(i32::try_from(taken + granted).unwrap_or(i32::MAX));
        active.update(&txn).await?;
    }
    txn.commit().await?;
    Ok((granted, taken + granted))
}

/// Deletes the windows of minutes that are over (the housekeeping sweep).
pub async fn purge_windows(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64> {
    let done = window::Entity::delete_many()
        .filter(window::Column::WindowStart.lt(minute_of(now) - TimeDelta::minutes(1)))
        .exec(db)
        .await?;
    Ok(done.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_shrink_as_the_minute_runs_out() {
        assert_eq!(lease_size(120, 120), 6);
        assert_eq!(lease_size(120, 30), 3);
        assert_eq!(lease_size(120, 5), 1);
        assert_eq!(lease_size(120, 0), 0);
        assert_eq!(lease_size(1, 1), 1);
        assert_eq!(lease_size(100_000, 100_000), 5_000);
    }

    #[test]
    fn a_team_cap_narrows_a_token_limit() {
        assert_eq!(effective(Some(500), Some(100)), Some(100));
        assert_eq!(effective(Some(50), Some(100)), Some(50));
        assert_eq!(effective(None, Some(100)), Some(100));
        assert_eq!(effective(Some(7), None), Some(7));
        assert_eq!(effective(None, None), None);
    }

    #[test]
    fn limits_as_typed() {
        assert_eq!(parse("rate_limit", " 1,000 ").unwrap(), Some(1000));
        assert_eq!(parse("rate_limit", "").unwrap(), None);
        for bad in ["0", "100001", "-3", "ten", "1.5"] {
            assert!(parse("rate_limit", bad).is_err(), "{bad}");
        }
    }
}
