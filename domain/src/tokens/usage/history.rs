//! Reading a token's usage history back (docs/usage.md): calls per day and per hour, accepted
//! and refused by code, the addresses it came from, and what they suggest for its allow-list.
//! Only the token's owner and the admins of its team may read it; anyone else is told there is
//! no such token.

use std::{
    collections::{BTreeMap, HashMap},
    net::IpAddr,
};

use chrono::{DateTime, Duration, DurationRound, NaiveDate, TimeDelta, Utc};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::{ACCEPTED, KEPT_ADDRESSES, KEPT_DAYS};
use crate::{
    entity::{team, token, token_address, token_usage_hour as hour},
    error::{Error, Result},
    identity::users,
    tokens::{TokenInfo, format::is_token_id},
};

/// One day's (or hour's) calls: accepted, and refused by error code.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Calls {
    pub accepted: i64,
    /// Refusals by error code, in code order.
    pub refused: BTreeMap<String, i64>,
}

impl Calls {
    pub fn refused_total(&self) -> i64 {
        self.refused.values().sum()
    }

    pub fn total(&self) -> i64 {
        self.accepted + self.refused_total()
    }

    fn add(&mut self, outcome: &str, calls: i64) {
        if outcome == ACCEPTED {
            self.accepted += calls;
        } else {
            *self.refused.entry(outcome.to_string()).or_default() += calls;
        }
    }
}

/// A day of a token's history (UTC).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Day {
    pub date: NaiveDate,
    pub calls: Calls,
}

/// An hour of a token's history (its start, UTC).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hour {
    pub start: DateTime<Utc>,
    pub calls: Calls,
}

/// An address a token was used from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    pub ip: String,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub calls: i64,
    /// How many of `calls` were refused.
    pub refused: i64,
}

/// What a token's page shows and the usage API answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct History {
    pub token: TokenInfo,
    pub owner: String,
    pub owner_id: i64,
    /// The token was deleted (its history stays readable for [`KEPT_DAYS`] days).
    pub deleted: bool,
    /// The team's cap on rate limits.
    pub team_cap: Option<u32>,
    /// Every day of the period, oldest first, days without calls included.
    pub days: Vec<Day>,
    /// The last 24 hours, oldest first, hours without calls included.
    pub hours: Vec<Hour>,
    /// Most recently seen first, at most [`MAX_ADDRESSES_READ`].
    pub addresses: Vec<Address>,
    /// The period's calls by outcome (accepted and each refusal's code), and by surface.
    pub totals: Calls,
    pub by_surface: BTreeMap<String, i64>,
}

/// The most addresses a history reads (the most recently seen): what a token keeps at most
/// ([`KEPT_ADDRESSES`]), so that rows written before that cap cannot make a page or an API
/// answer slow.
pub const MAX_ADDRESSES_READ: u64 = KEPT_ADDRESSES as u64;

/// The longest period asked for, in days ([`KEPT_DAYS`]).
pub const MAX_DAYS: u32 = KEPT_DAYS as u32;

/// `days` as asked (API `?days=`): 1–90.
pub fn check_days(days: Option<u32>) -> Result<u32> {
    match days.unwrap_or(30) {
        d @ 1..=MAX_DAYS => Ok(d),
        _ => Err(Error::invalid(
            "days",
            format!("days is from 1 to {MAX_DAYS}."),
        )),
    }
}

/// Who may read a token's history.
#[derive(Clone, Copy, Debug)]
pub enum Reader {
    /// A signed-in person: the token's owner or an admin of its team.
    User(i64),
    /// The token itself (`GET /api/v1/tokens/self/usage`).
    TokenItself,
}

/// The token `token_id`'s history over the `days` days up to `now`, for `reader`.
pub async fn of_token(
    db: &DatabaseConnection,
    reader: Reader,
    token_id: &str,
    days: u32,
    now: DateTime<Utc>,
) -> Result<History> {
    if !is_token_id(token_id) {
        return Err(Error::NotFound("token"));
    }
    let row = token::Entity::find_by_id(token_id.to_string())
        .one(db)
        .await?
        .ok_or(Error::NotFound("token"))?;
    if let Reader::User(user_id) = reader {
        crate::tokens::changer_of(db, crate::Actor::User(user_id), &row).await?;
    }
    let team = team::Entity::find_by_id(row.team_id)
        .one(db)
        .await?
        .ok_or(Error::NotFound("token"))?;
    let owner = users::usernames_by_id(db, std::iter::once(row.user_id))
        .await?
        .remove(&row.user_id)
        .unwrap_or_default();
    let frame = Frame {
        owner,
        owner_id: row.user_id,
        deleted: row.deleted_at.is_some(),
        team_cap: team
            .max_rate_limit_per_minute
            .and_then(|n| u32::try_from(n).ok()),
    };
    let token = TokenInfo::from_model(row, team.slug)?;
    read(db, token, frame, days, now).await
}

/// What a history says of the token beside its calls.
struct Frame {
    owner: String,
    owner_id: i64,
    deleted: bool,
    team_cap: Option<u32>,
}

async fn read(
    db: &impl ConnectionTrait,
    token: TokenInfo,
    frame: Frame,
    days: u32,
    now: DateTime<Utc>,
) -> Result<History> {
    let today = now.date_naive();
    let first_day = today - Duration::days(i64::from(days) - 1);
    let since = first_day.and_hms_opt(0, 0, 0).map_or(now, |t| t.and_utc());
    let this_hour = now.duration_trunc(TimeDelta::hours(1)).unwrap_or(now);
    let first_hour = this_hour - TimeDelta::hours(23);
    let rows = hour::Entity::find()
        .filter(hour::Column::TokenId.eq(token.id.as_str()))
        .filter(hour::Column::Hour.gte(since.min(first_hour)))
        .all(db)
        .await?;
    let mut by_day: BTreeMap<NaiveDate, Calls> = BTreeMap::new();
    let mut by_hour: HashMap<DateTime<Utc>, Calls> = HashMap::new();
    let mut totals = Calls::default();
    let mut by_surface: BTreeMap<String, i64> = BTreeMap::new();
    for row in rows {
        if row.hour >= first_hour {
            by_hour
                .entry(row.hour)
                .or_default()
                .add(&row.outcome, row.calls);
        }
        if row.hour >= since {
            by_day
                .entry(row.hour.date_naive())
                .or_default()
                .add(&row.outcome, row.calls);
            totals.add(&row.outcome, row.calls);
            *by_surface.entry(row.surface).or_default() += row.calls;
        }
    }
    let days = first_day
        .iter_days()
        .take_while(|d| *d <= today)
        .map(|date| Day {
            date,
            calls: by_day.remove(&date).unwrap_or_default(),
        })
        .collect();
    let hours = (0..24)
        .map(|i| {
            let start = first_hour + TimeDelta::hours(i);
            Hour {
                start,
                calls: by_hour.remove(&start).unwrap_or_default(),
            }
        })
        .collect();
    let addresses = token_address::Entity::find()
        .filter(token_address::Column::TokenId.eq(token.id.as_str()))
        .filter(token_address::Column::LastSeen.gte(since))
        .order_by_desc(token_address::Column::LastSeen)
        .limit(MAX_ADDRESSES_READ)
        .all(db)
        .await?
        .into_iter()
        .map(|a| Address {
            ip: a.ip,
            first_seen: a.first_seen,
            last_seen: a.last_seen,
            calls: a.calls,
            refused: a.refused,
        })
        .collect();
    Ok(History {
        token,
        owner: frame.owner,
        owner_id: frame.owner_id,
        deleted: frame.deleted,
        team_cap: frame.team_cap,
        days,
        hours,
        addresses,
        totals,
        by_surface,
    })
}

/// Each token's calls since `since`, accepted and refused (for the team's Tokens tab and
/// `/admin/tokens`): one query for all of them.
pub async fn totals_since(
    db: &impl ConnectionTrait,
    token_ids: &[String],
    since: DateTime<Utc>,
) -> Result<HashMap<String, Calls>> {
    let mut totals: HashMap<String, Calls> = HashMap::new();
    for ids in token_ids.chunks(500) {
        let rows = hour::Entity::find()
            .filter(hour::Column::TokenId.is_in(ids.iter().map(String::as_str)))
            .filter(hour::Column::Hour.gte(since))
            .all(db)
            .await?;
        for row in rows {
            totals
                .entry(row.token_id)
                .or_default()
                .add(&row.outcome, row.calls);
        }
    }
    Ok(totals)
}

/// An allow-list for the addresses a token was accepted from: each address on its own, or where
/// several share a `/24` (IPv4) or `/64` (IPv6), that range; an IPv6 `/64` (how IPv6 addresses
/// are counted) as that range. For its owner to review and save.
pub fn suggested_allow_list(addresses: &[Address]) -> Vec<String> {
    /// What one range holds: the single addresses seen in it, and whether a whole counted /64
    /// was.
    #[derive(Default)]
    struct InRange {
        ips: Vec<IpAddr>,
        whole: bool,
    }
    let mut ranges: BTreeMap<String, InRange> = BTreeMap::new();
    for address in addresses.iter().filter(|a| a.calls > a.refused) {
        if let Ok(IpNet::V6(counted)) = address.ip.parse::<IpNet>() {
            ranges.entry(counted.trunc().to_string()).or_default().whole = true;
            continue;
        }
        let Ok(ip) = address.ip.parse::<IpAddr>() else {
            continue;
        };
        let range = match ip {
            IpAddr::V4(v4) => Ipv4Net::new(v4, 24).map(|n| IpNet::V4(n.trunc())),
            IpAddr::V6(v6) => Ipv6Net::new(v6, 64).map(|n| IpNet::V6(n.trunc())),
        };
        if let Ok(range) = range {
            ranges.entry(range.to_string()).or_default().ips.push(ip);
        }
    }
    let mut list: Vec<String> = ranges
        .into_iter()
        .map(|(range, seen)| match seen.ips.as_slice() {
            [one] if !seen.whole => one.to_string(),
            _ => range,
        })
        .collect();
    list.sort();
    list
}

/// Deletes hours and addresses not seen for [`KEPT_DAYS`] days (the housekeeping sweep).
pub async fn purge(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64> {
    let cutoff = now - Duration::days(KEPT_DAYS);
    let hours = hour::Entity::delete_many()
        .filter(hour::Column::Hour.lt(cutoff))
        .exec(db)
        .await?;
    let addresses = token_address::Entity::delete_many()
        .filter(token_address::Column::LastSeen.lt(cutoff))
        .exec(db)
        .await?;
    Ok(hours.rows_affected + addresses.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(ip: &str, calls: i64, refused: i64) -> Address {
        Address {
            ip: ip.into(),
            first_seen: Utc::now(),
            last_seen: Utc::now(),
            calls,
            refused,
        }
    }

    #[test]
    fn addresses_that_share_a_range_become_the_range() {
        let suggested = suggested_allow_list(&[
            seen("192.0.2.10", 5, 0),
            seen("192.0.2.200", 1, 0),
            seen("198.51.100.7", 3, 0),
            seen("2001:db8:1:2::5", 2, 0),
            seen("2001:db8:1:2::9", 2, 0),
            seen("2001:db8:9::1", 2, 0),
            // IPv6 as counted since: one /64.
            seen("2001:db8:7:7::/64", 1, 0),
            // Only refused from here: not where the token is used.
            seen("203.0.113.9", 4, 4),
        ]);
        assert_eq!(
            suggested,
            [
                "192.0.2.0/24",
                "198.51.100.7",
                "2001:db8:1:2::/64",
                "2001:db8:7:7::/64",
                "2001:db8:9::1"
            ]
        );
    }

    #[test]
    fn days_asked_for() {
        assert_eq!(check_days(None).unwrap(), 30);
        assert_eq!(check_days(Some(90)).unwrap(), 90);
        assert!(check_days(Some(0)).is_err());
        assert!(check_days(Some(91)).is_err());
    }
}
