//! Each account's budget of wrong second-factor codes (docs/two-factor.md, "Wrong codes"):
//! an authenticator-app or recovery code typed after a right password — the second sign-in
//! step, sudo mode's confirmation, turning the app off — counts against the account, whatever
//! address it comes from and whichever process checks it. After [`FREE_FAILURES`] wrong codes
//! in a streak, codes are refused, right or wrong, for [`FIRST_WAIT`], doubling with every
//! further wrong code up to [`LONGEST_WAIT`]; a streak ends [`STREAK_ENDS_AFTER`] after its
//! latest wrong code. The person gets a notice (always mailed) when the budget trips: someone
//! who knows their password is guessing.
//!
//! An attempt is counted *before* its code is checked ([`spend`]), in a transaction of its own
//! that locks the account's row, so that codes sent at once — to several processes — cannot
//! all pass before the first has failed (the attempt that reaches the budget starts the wait
//! for those behind it). A right code ends the streak; a check that never got to the code
//! gives its attempt back.

use std::future::Future;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
    Set, sea_query::OnConflict,
};

use crate::{
    db::begin_write,
    entity::second_factor_failure::{self, Model},
    error::{Error, Result},
    notifications::{self, Notice, NoticeKind},
    throttle::RetryAfter,
};

/// Wrong codes a streak may have before codes are refused for a while.
pub const FREE_FAILURES: i32 = 10;
/// The first wait, after the [`FREE_FAILURES`]th wrong code; each further one doubles it.
pub const FIRST_WAIT: Duration = Duration::minutes(1);
/// The longest wait.
pub const LONGEST_WAIT: Duration = Duration::hours(1);
/// A streak of wrong codes ends this long after its latest one (the next starts from zero).
pub const STREAK_ENDS_AFTER: Duration = Duration::hours(1);

/// How long codes are refused after the `failures`th wrong code of a streak (none before
/// [`FREE_FAILURES`]).
pub fn wait_after(failures: i32) -> Option<Duration> {
    if failures < FREE_FAILURES {
        return None;
    }
    // 2^6 minutes is past the cap already: no need to shift further.
    let doubled = FIRST_WAIT * (1 << (failures - FREE_FAILURES).min(6));
    Some(doubled.min(LONGEST_WAIT))
}

/// One code check counted against the account before it ran.
#[derive(Debug)]
#[must_use = "an attempt is settled: given back, or kept as a wrong code"]
struct Attempt {
    user_id: i64,
    /// The streak's count with this attempt.
    failures: i32,
}

/// Counts an attempt for `user_id`, or refuses it with [`Error::TooManyAttempts`] while the
/// account's codes are refused.
async fn reserve(db: &DatabaseConnection, user_id: i64) -> Result<Attempt> {
    let now = Utc::now();
    let txn = begin_write(db).await?;
    // The row exists before it is locked: two first attempts at once cannot both insert it.
    second_factor_failure::Entity::insert(second_factor_failure::ActiveModel {
        user_id: Set(user_id),
        failures: Set(0),
        last_failure_at: Set(now),
        locked_until: Set(None),
    })
    .on_conflict(
        OnConflict::column(second_factor_failure::Column::UserId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    // Locked until this transaction ends on PostgreSQL; on SQLite `begin_write` holds the
    // database's write lock already.
    let row = second_factor_failure::Entity::find_by_id(user_id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or_else(|| Error::Internal("second-factor budget row missing".into()))?;
    if let Some(until) = row.locked_until.filter(|until| *until > now) {
        return Err(Error::TooManyAttempts(retry_after(until - now)));
    }
    let failures = if streak_over(row.last_failure_at, now) {
        1
    } else {
        row.failures.saturating_add(1)
    };
    let mut counted: second_factor_failure::ActiveModel = row.into();
    counted.failures = Set(failures);
    counted.last_failure_at = Set(now);
    // Refused from now on, for the attempts that come while this one is checked too.
    counted.locked_until = Set(wait_after(failures).map(|wait| now + wait));
    counted.update(&txn).await?;
    txn.commit().await?;
    Ok(Attempt { user_id, failures })
}

fn streak_over(last_failure_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now - last_failure_at >= STREAK_ENDS_AFTER
}

fn retry_after(wait: Duration) -> RetryAfter {
    RetryAfter(wait.to_std().unwrap_or_default())
}

impl Attempt {
    /// The code was right: the streak is over (whoever has a right code is the person, or
    /// holds their factor anyway).
    async fn right(self, db: &DatabaseConnection) {
        self.settle(db, |row| {
            row.failures = 0;
            row.locked_until = None;
        })
        .await;
    }

    /// The code was never checked (the challenge had ended, say): the attempt is taken back,
    /// and the wait it may have started with it when the streak is under the budget again.
    async fn give_back(self, db: &DatabaseConnection) {
        self.settle(db, |row| {
            row.failures = row.failures.saturating_sub(1).max(0);
            if row.failures < FREE_FAILURES {
                row.locked_until = None;
            }
        })
        .await;
    }

    async fn settle(self, db: &DatabaseConnection, change: impl FnOnce(&mut Model)) {
        let settled = async {
            let txn = begin_write(db).await?;
            if let Some(mut row) = second_factor_failure::Entity::find_by_id(self.user_id)
                .lock_exclusive()
                .one(&txn)
                .await?
            {
                change(&mut row);
                let mut changed: second_factor_failure::ActiveModel = row.clone().into();
                changed.failures = Set(row.failures);
                changed.locked_until = Set(row.locked_until);
                changed.update(&txn).await?;
            }
            txn.commit().await?;
            Ok::<_, Error>(())
        };
        // What the attempt was for went through already; only the count is off by one.
        if let Err(error) = settled.await {
            tracing::warn!(%error, "could not settle a second-factor attempt");
        }
    }

    /// The code was wrong: the attempt stays counted; the one that used up the budget tells
    /// the person.
    async fn keep(self, db: &DatabaseConnection) -> Result<()> {
        if self.failures == FREE_FAILURES {
            let detail = FREE_FAILURES.to_string();
            notifications::notify(
                db,
                Notice::about_account(NoticeKind::SecondFactorLocked, self.user_id).detail(detail),
                Utc::now(),
            )
            .await?;
        }
        Ok(())
    }
}

/// Runs `check` — which checks a second-factor code of `user_id`'s, in a transaction of its
/// own that has ended when it returns — as one attempt of the account's budget: refused with
/// [`Error::TooManyAttempts`] without running while the account's codes are refused; a wrong
/// code ([`Error::Invalid`], what `check_code` answers) stays counted, a right one ends the
/// streak, and a check that failed otherwise gives its attempt back.
pub async fn spend<T>(
    db: &DatabaseConnection,
    user_id: i64,
    check: impl Future<Output = Result<T>>,
) -> Result<T> {
    let attempt = reserve(db, user_id).await?;
    let outcome = check.await;
    match &outcome {
        Ok(_) => attempt.right(db).await,
        Err(Error::Invalid { .. }) => attempt.keep(db).await?,
        Err(_) => attempt.give_back(db).await,
    }
    outcome
}

/// Deletes the counts of streaks that are over and not refusing codes (run with the server's
/// housekeeping).
pub async fn purge_ended(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64> {
    use sea_orm::{ColumnTrait, Condition};
    Ok(second_factor_failure::Entity::delete_many()
        .filter(second_factor_failure::Column::LastFailureAt.lte(now - STREAK_ENDS_AFTER))
        .filter(
            Condition::any()
                .add(second_factor_failure::Column::LockedUntil.is_null())
                .add(second_factor_failure::Column::LockedUntil.lte(now)),
        )
        .exec(db)
        .await?
        .rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_from_a_minute_up_to_an_hour() {
        assert_eq!(wait_after(1), None);
        assert_eq!(wait_after(FREE_FAILURES - 1), None);
        assert_eq!(wait_after(FREE_FAILURES), Some(Duration::minutes(1)));
        assert_eq!(wait_after(FREE_FAILURES + 1), Some(Duration::minutes(2)));
        assert_eq!(wait_after(FREE_FAILURES + 5), Some(Duration::minutes(32)));
        assert_eq!(wait_after(FREE_FAILURES + 6), Some(LONGEST_WAIT));
        assert_eq!(wait_after(i32::MAX), Some(LONGEST_WAIT));
    }
}
