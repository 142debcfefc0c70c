//! Failed-authentication throttling per client IP (docs/hardening.md): after `limit` failures within
//! `window`, that IP's further attempts are refused until the window has passed, so that nobody
//! can guess tokens or passwords at speed. Successful attempts are never slowed: a check is one
//! map lookup, and only failures are counted.
//!
//! The counts live in the process's memory. With several server processes on one PostgreSQL,
//! the failures that cost a database lookup (well-formed tokens that match no live token) are
//! also counted in the shared `auth_failures` table ([`count_shared_failure`]), and a process
//! that sees an address's shared budget used up refuses it too ([`FailedAuth::block`]): one
//! budget per address across the processes, give or take one attempt per process. Malformed
//! tokens stay counted per process: they cannot guess anything and cost no database work.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Mutex, MutexGuard},
    time::{Duration, Instant},
};

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};

use crate::error::Result;

/// More distinct IPs than this and expired entries are swept before a new one is added; if
/// all are live, the oldest window goes, so that memory stays bounded under a spoofing flood.
const MAX_TRACKED_IPS: usize = 100_000;

/// Failed attempts per IP: refused with "try again in N seconds" once over the limit.
#[derive(Debug)]
pub struct FailedAuth {
    limit: u32,
    window: Duration,
    ips: Mutex<HashMap<IpAddr, Attempts>>,
}

#[derive(Clone, Copy, Debug)]
struct Attempts {
    since: Instant,
    failures: u32,
}

/// How long the caller must wait before trying again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole seconds, rounded up, at least 1: the `Retry-After` header's value.
    pub fn seconds(self) -> u64 {
        let whole = self.0.as_secs() + u64::from(self.0.subsec_nanos() > 0);
        whole.max(1)
    }
}

impl Default for FailedAuth {
    /// 10 failures a minute per IP.
    fn default() -> Self {
        FailedAuth::new(10, Duration::from_secs(60))
    }
}

impl FailedAuth {
    pub fn new(limit: u32, window: Duration) -> Self {
        FailedAuth {
            limit: limit.max(1),
            window,
            ips: Mutex::new(HashMap::new()),
        }
    }

    /// `Err` when `ip` has used up its failures for the current window.
    pub fn check(&self, ip: IpAddr) -> Result<(), RetryAfter> {
        self.check_at(ip, Instant::now())
    }

    /// Counts one failed attempt from `ip`.
    pub fn fail(&self, ip: IpAddr) {
        self.fail_at(ip, Instant::now());
    }

    /// How many failures an address may make per window.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    pub fn window(&self) -> Duration {
        self.window
    }

    /// Refuses `ip` for `wait` from now, whatever this process has counted itself: the
    /// processes together have seen it fail too often.
    pub fn block(&self, ip: IpAddr, wait: Duration) {
        self.block_at(ip, wait, Instant::now());
    }

    fn block_at(&self, ip: IpAddr, wait: Duration, now: Instant) {
        // A window that ends `wait` from now.
        let since = (now + wait.min(self.window))
            .checked_sub(self.window)
            .unwrap_or(now);
        let mut ips = self.ips();
        ips.insert(
            ip,
            Attempts {
                since,
                failures: self.limit,
            },
        );
    }

    /// The counts; a panic elsewhere while they were held leaves them usable (they are plain
    /// numbers, never half-updated).
    fn ips(&self) -> MutexGuard<'_, HashMap<IpAddr, Attempts>> {
        self.ips
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn check_at(&self, ip: IpAddr, now: Instant) -> Result<(), RetryAfter> {
        let ips = self.ips();
        match ips.get(&ip) {
            Some(a) if a.failures >= self.limit && now < a.since + self.window => {
                Err(RetryAfter(a.since + self.window - now))
            }
            _ => Ok(()),
        }
    }

    fn fail_at(&self, ip: IpAddr, now: Instant) {
        let mut ips = self.ips();
        if ips.len() >= MAX_TRACKED_IPS && !ips.contains_key(&ip) {
            let window = self.window;
            ips.retain(|_, a| now < a.since + window);
            if ips.len() >= MAX_TRACKED_IPS
                && let Some(oldest) = ips.iter().min_by_key(|(_, a)| a.since).map(|(ip, _)| *ip)
            {
                ips.remove(&oldest);
            }
        }
        let entry = ips.entry(ip).or_insert(Attempts {
            since: now,
            failures: 0,
        });
        if now >= entry.since + self.window {
            *entry = Attempts {
                since: now,
                failures: 0,
            };
        }
        entry.failures = entry.failures.saturating_add(1);
    }
}

/// Counts one failed token authentication from `ip` in the table every process on this
/// PostgreSQL database shares, in a window of `window` from the address's first failure, and
/// says how long `ip` must wait when that used up its `limit`. On SQLite (one process) it
/// counts nothing: the process's own count is the whole count.
pub async fn count_shared_failure(
    db: &DatabaseConnection,
    ip: IpAddr,
    limit: u32,
    window: Duration,
) -> Result<Option<RetryAfter>> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(None);
    }
    let now_ms = chrono::Utc::now().timestamp_millis();
    let window_ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
    // One statement, so that processes counting at once neither lose a failure nor both start
    // a new window.
    let counted = db
        .query_one_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "INSERT INTO auth_failures (ip, window_started_ms, failures) VALUES ($1, $2, 1) \
             ON CONFLICT (ip) DO UPDATE SET \
               failures = CASE WHEN auth_failures.window_started_ms <= $3 THEN 1 \
                               ELSE auth_failures.failures + 1 END, \
               window_started_ms = CASE WHEN auth_failures.window_started_ms <= $3 \
                                        THEN EXCLUDED.window_started_ms \
                                        ELSE auth_failures.window_started_ms END \
             RETURNING window_started_ms, failures",
            [
                ip.to_string().into(),
                now_ms.into(),
                now_ms.saturating_sub(window_ms).into(),
            ],
        ))
        .await?;
    let Some(row) = counted else {
        return Ok(None);
    };
    let started_ms: i64 = row.try_get("", "window_started_ms")?;
    let failures: i32 = row.try_get("", "failures")?;
    if u32::try_from(failures).unwrap_or(0) < limit {
        return Ok(None);
    }
    let left_ms = (started_ms + window_ms - now_ms).max(0);
    Ok(Some(RetryAfter(Duration::from_millis(
        u64::try_from(left_ms).unwrap_or(0),
    ))))
}

/// Deletes the shared counts whose window has passed (run with the server's housekeeping).
pub async fn purge_shared_failures(db: &DatabaseConnection, window: Duration) -> Result<u64> {
    let window_ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
    let expired_before = chrono::Utc::now()
        .timestamp_millis()
        .saturating_sub(window_ms);
    let backend = db.get_database_backend();
    let placeholder = if backend == DatabaseBackend::Postgres {
        "$1"
    } else {
        "?"
    };
    Ok(db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            format!("DELETE FROM auth_failures WHERE window_started_ms <= {placeholder}"),
            [expired_before.into()],
        ))
        .await?
        .rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, last])
    }

    #[test]
    fn refuses_after_the_limit_until_the_window_passes() {
        let throttle = FailedAuth::new(3, Duration::from_secs(60));
        let start = Instant::now();
        for _ in 0..3 {
            assert!(throttle.check_at(ip(1), start).is_ok());
            throttle.fail_at(ip(1), start);
        }
        let wait = throttle
            .check_at(ip(1), start + Duration::from_secs(20))
            .unwrap_err();
        assert_eq!(wait.seconds(), 40);
        assert!(
            throttle.check_at(ip(2), start).is_ok(),
            "other IPs are not affected"
        );
        assert!(
            throttle
                .check_at(ip(1), start + Duration::from_secs(60))
                .is_ok()
        );
        // A new window starts from the next failure.
        throttle.fail_at(ip(1), start + Duration::from_secs(61));
        assert!(
            throttle
                .check_at(ip(1), start + Duration::from_secs(61))
                .is_ok()
        );
    }

    #[test]
    fn a_block_refuses_until_it_runs_out() {
        let throttle = FailedAuth::new(3, Duration::from_secs(60));
        let start = Instant::now();
        throttle.block_at(ip(1), Duration::from_secs(10), start);
        let wait = throttle.check_at(ip(1), start).unwrap_err();
        assert_eq!(wait.seconds(), 10);
        assert!(throttle.check_at(ip(2), start).is_ok());
        assert!(
            throttle
                .check_at(ip(1), start + Duration::from_secs(10))
                .is_ok()
        );
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(RetryAfter(Duration::from_millis(1)).seconds(), 1);
        assert_eq!(RetryAfter(Duration::from_millis(1500)).seconds(), 2);
        assert_eq!(RetryAfter(Duration::from_secs(3)).seconds(), 3);
        assert_eq!(RetryAfter(Duration::ZERO).seconds(), 1);
    }
}
