//! The instance policy "require two-factor sign-in" (`/admin`, `patdesk policy set
//! --require-2fa --2fa-grace-days N`): password accounts without a second factor have the
//! grace period to enrol, counted from when the policy was turned on (or from the account's
//! creation, if later), and after it may reach only their Account page. Accounts that cannot
//! sign in with a password (single sign-on only: no password, or single sign-on required of
//! everyone but instance admins) are exempt: their identity provider does their 2FA.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, Set};

use crate::{
    activity::{self, Event, Kind, Origin},
    db::begin_write,
    entity::{policy, user},
    error::{Error, Result},
    identity::{password, users},
};

/// The longest grace period an admin may give.
pub const MAX_GRACE_DAYS: u32 = 365;

/// The policy as admins set it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TwoFactorPolicy {
    pub required: bool,
    pub grace_days: u32,
}

/// What the policy asks of one account now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requirement {
    /// Nothing: not required, exempt, or enrolled.
    Met,
    /// Required, not enrolled, still within the grace period ending at `deadline`.
    Due { deadline: DateTime<Utc> },
    /// Required, not enrolled, grace period over: the Account page only.
    Overdue,
}

impl Requirement {
    /// Whole days left before the deadline (0 on its last day).
    pub fn days_left(self, now: DateTime<Utc>) -> Option<i64> {
        match self {
            Requirement::Due { deadline } => Some((deadline - now).num_days().max(0)),
            _ => None,
        }
    }
}

/// The policy in force.
pub async fn policy(db: &impl ConnectionTrait) -> Result<TwoFactorPolicy> {
    Ok(policy::Entity::find_by_id(1)
        .one(db)
        .await?
        .map(|row| TwoFactorPolicy {
            required: row.require_2fa,
            grace_days: u32::try_from(row.two_factor_grace_days).unwrap_or(0),
        })
        .unwrap_or_default())
}

/// Sets the policy (instance admins and the operator). Turning it on starts the grace period
/// now; changing only the grace period keeps its start.
pub async fn set(db: &DatabaseConnection, by: Origin, new: TwoFactorPolicy) -> Result<()> {
    if new.grace_days > MAX_GRACE_DAYS {
        return Err(Error::invalid(
            "grace_days",
            format!("The grace period is 0 to {MAX_GRACE_DAYS} days."),
        ));
    }
    let txn = begin_write(db).await?;
    users::require_instance_admin(&txn, by.who, "change how people sign in").await?;
    crate::tokens::policy::change_row(&txn, |row| {
        let since = match (new.required, row.require_2fa.as_ref()) {
            // Already required: the grace period keeps its start.
            (true, true) => (*row.require_2fa_since.as_ref()).or(Some(Utc::now())),
            (true, false) => Some(Utc::now()),
            (false, _) => None,
        };
        row.require_2fa = Set(new.required);
        row.two_factor_grace_days = Set(i32::try_from(new.grace_days).unwrap_or(i32::MAX));
        row.require_2fa_since = Set(since);
    })
    .await?;
    if let Some(admin) = by.who.user_id() {
        let what = if new.required {
            format!(
                "two-factor sign-in required of password accounts ({} days to set it up)",
                new.grace_days
            )
        } else {
            "two-factor sign-in no longer required".to_string()
        };
        let event = Event::by(by, Some(admin), Kind::TwoFactorRequirementChanged).target(what);
        activity::record(&txn, event).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// What the policy asks of the account `user_id` now.
pub async fn of(db: &impl ConnectionTrait, user_id: i64) -> Result<Requirement> {
    let Some(row) = policy::Entity::find_by_id(1).one(db).await? else {
        return Ok(Requirement::Met);
    };
    if !row.require_2fa {
        return Ok(Requirement::Met);
    }
    let Some(account) = user::Entity::find_by_id(user_id).one(db).await? else {
        return Ok(Requirement::Met);
    };
    let password_sign_in =
        account.password_hash != password::NO_PASSWORD && (account.is_admin || !row.require_sso);
    if !password_sign_in || super::enrolled(db, user_id).await? {
        return Ok(Requirement::Met);
    }
    let since = row.require_2fa_since.unwrap_or(row.updated_at);
    let deadline =
        since.max(account.created_at) + Duration::days(i64::from(row.two_factor_grace_days));
    Ok(if Utc::now() < deadline {
        Requirement::Due { deadline }
    } else {
        Requirement::Overdue
    })
}
