//! How times are written for people: the same formats on the pages, in API refusals and at the
//! command line. (Machine-readable times are RFC 3339, from `to_rfc3339`.)

use chrono::{DateTime, Duration, Utc};

/// A day: `2026-11-24`. Also the format a custom expiry date is entered in.
pub const DATE: &str = "%Y-%m-%d";
/// To the minute: `2026-11-24 08:15 UTC`.
pub const MINUTE: &str = "%Y-%m-%d %H:%M UTC";
/// To the second: `2026-11-24 08:15:42 UTC`.
pub const SECOND: &str = "%Y-%m-%d %H:%M:%S UTC";

pub fn date(at: DateTime<Utc>) -> String {
    at.format(DATE).to_string()
}

pub fn minute(at: DateTime<Utc>) -> String {
    at.format(MINUTE).to_string()
}

pub fn second(at: DateTime<Utc>) -> String {
    at.format(SECOND).to_string()
}

/// "just now", "5 minutes ago", "3 days ago", and the date beyond 60 days.
pub fn relative(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let ago = now - at;
    let plural = |n: i64, unit: &str| format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" });
    if ago < Duration::minutes(1) {
        "just now".into()
    } else if ago < Duration::hours(1) {
        plural(ago.num_minutes(), "minute")
    } else if ago < Duration::days(1) {
        plural(ago.num_hours(), "hour")
    } else if ago < Duration::days(60) {
        plural(ago.num_days(), "day")
    } else {
        date(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_relative_times() {
        let now = DateTime::parse_from_rfc3339("2026-11-24T08:15:42Z")
            .unwrap()
            .to_utc();
        assert_eq!(date(now), "2026-11-24");
        assert_eq!(minute(now), "2026-11-24 08:15 UTC");
        assert_eq!(second(now), "2026-11-24 08:15:42 UTC");
        assert_eq!(relative(now - Duration::seconds(5), now), "just now");
        assert_eq!(relative(now - Duration::minutes(1), now), "1 minute ago");
        assert_eq!(relative(now - Duration::hours(3), now), "3 hours ago");
        assert_eq!(relative(now - Duration::days(59), now), "59 days ago");
        assert_eq!(relative(now - Duration::days(61), now), "2026-09-24");
    }
}
