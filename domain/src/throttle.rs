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

/// How long the caller must wait before trying again (defined beside `Error`, which carries
/// it for the second-factor budget).
pub use crate::error::RetryAfter;

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
        self.check_at(throttle_key(ip), Instant::now())
    }

    /// Counts one failed attempt from `ip`.
    pub fn fail(&self, ip: IpAddr) {
        self.fail_at(throttle_key(ip), Instant::now());
    }

    /// Counts an attempt as failed *before* its costly check (a password hash), so that many
    /// attempts at once cannot all pass [`FailedAuth::check`] before the first has failed:
    /// `Err` when `ip` has none left. An attempt that succeeds is taken back with
    /// [`FailedAuth::forgive`].
    pub fn reserve(&self, ip: IpAddr) -> Result<(), RetryAfter> {
        let key = throttle_key(ip);
        let now = Instant::now();
        // Checked and counted under one lock: two attempts at once cannot both take the last.
        let mut ips = self.ips();
        if let Some(a) = ips.get(&key)
            && a.failures >= self.limit
            && now < a.since + self.window
        {
            return Err(RetryAfter(a.since + self.window - now));
        }
        self.count_failure(&mut ips, key, now);
        Ok(())
    }

    /// Takes back one attempt counted by [`FailedAuth::reserve`] (it succeeded).
    pub fn forgive(&self, ip: IpAddr) {
        if let Some(a) = self.ips().get_mut(&throttle_key(ip)) {
            a.failures = a.failures.saturating_sub(1);
        }
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
        self.block_at(throttle_key(ip), wait, Instant::now());
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
        self.count_failure(&mut ips, ip, now);
    }

    fn count_failure(&self, ips: &mut HashMap<IpAddr, Attempts>, ip: IpAddr, now: Instant) {
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

/// The address an attempt is counted against: an IPv4 address itself, an IPv6 address's /64
/// (one subscriber's network, which holds more addresses than any count could track).
pub fn throttle_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(std::net::Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

/// Takes back one failure counted by [`count_shared_failure`] for an attempt that succeeded
/// (sign-in counts before it hashes). Nothing to do on SQLite.
pub async fn forgive_shared_failure(db: &DatabaseConnection, ip: IpAddr) -> Result<()> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    db.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "UPDATE auth_failures SET failures = failures - 1 WHERE ip = $1 AND failures > 0",
        [throttle_key(ip).to_string().into()],
    ))
    .await?;
    Ok(())
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
                throttle_key(ip).to_string().into(),
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
    fn attempts_reserved_before_checking_are_counted_at_once() {
        let throttle = FailedAuth::new(3, Duration::from_secs(60));
        // Three attempts under way at once, none finished: the fourth is refused.
        for _ in 0..3 {
            assert!(throttle.reserve(ip(1)).is_ok());
        }
        assert!(throttle.reserve(ip(1)).is_err());
        // One of them succeeded: its place is free again.
        throttle.forgive(ip(1));
        assert!(throttle.reserve(ip(1)).is_ok());
    }

    #[test]
    fn ipv6_callers_are_counted_per_64() {
        let throttle = FailedAuth::new(2, Duration::from_secs(60));
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        throttle.fail(a);
        throttle.fail(b);
        assert!(throttle.check(a).is_err(), "the same /64");
        assert!(
            throttle
                .check("2001:db8:1:2:dead::beef".parse().unwrap())
                .is_err()
        );
        assert!(throttle.check(other).is_ok(), "another /64");
        assert_eq!(throttle_key(ip(9)), ip(9));
        assert_eq!(
            throttle_key("::ffff:127.0.0.9".parse().unwrap()),
            ip(9),
            "IPv4 through a dual-stack socket is the IPv4 address"
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
