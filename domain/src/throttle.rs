//! Failed-authentication throttling per client IP (docs/hardening.md): after `limit` failures within
//! `window`, that IP's further attempts are refused until the window has passed, so that nobody
//! can guess tokens or passwords at speed. Successful attempts are never slowed: a check is one
//! map lookup, and only failures are counted.
//!
//! The counts live in the process's memory: with several server processes each keeps its own,
//! which bounds an attacker at `limit` × processes per window.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

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

    fn check_at(&self, ip: IpAddr, now: Instant) -> Result<(), RetryAfter> {
        let ips = self
            .ips
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match ips.get(&ip) {
            Some(a) if a.failures >= self.limit && now < a.since + self.window => {
                Err(RetryAfter(a.since + self.window - now))
            }
            _ => Ok(()),
        }
    }

    fn fail_at(&self, ip: IpAddr, now: Instant) {
        let mut ips = self
            .ips
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
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
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(RetryAfter(Duration::from_millis(1)).seconds(), 1);
        assert_eq!(RetryAfter(Duration::from_millis(1500)).seconds(), 2);
        assert_eq!(RetryAfter(Duration::from_secs(3)).seconds(), 3);
        assert_eq!(RetryAfter(Duration::ZERO).seconds(), 1);
    }
}
