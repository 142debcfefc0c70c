//! A new password for an account (docs/accounts.md): changed by its person on the Account page
//! ([`change`]: the current password first; the session it is made from stays and counts as
//! just signed in, every other ends), or set by the operator (`patdesk user reset-password`,
//! [`set_by_operator`]: every session ends). The reset by a mailed link is `password_reset`,
//! which ends the same way ([`replace`]). Each is recorded in the person's activity and told
//! to them in a `password_changed` notice (mailed when they have an address). Tokens are
//! separate credentials: they keep working, and no cached token check needs ending.

use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, Set};

use crate::{
    Origin,
    activity::{self, Actor, Event, Kind},
    db::begin_write,
    entity::user,
    error::{Error, Result},
    identity::{names::Password, names::Username, password, sessions},
    notifications::{self, Notice, NoticeKind},
};

/// What the Account page says to an account without a password (single sign-on only).
pub const NO_PASSWORD_TO_CHANGE: &str =
    "This account signs in with single sign-on and has no password to change.";

/// Changes the password of `by` from `current` to `new` (the caller has checked that the two
/// new ones typed match). A wrong `current` is `Invalid` on the field `current_password`. The
/// session `kept` (the one asking) stays, marked as just authenticated; every other ends.
pub async fn change(
    db: &DatabaseConnection,
    by: Origin<i64>,
    current: &str,
    new: &Password,
    kept: &str,
) -> Result<()> {
    let Some(account) = user::Entity::find_by_id(by.who).one(db).await? else {
        return Err(Error::Unauthenticated);
    };
    if account.password_hash == password::NO_PASSWORD {
        return Err(Error::Rule(NO_PASSWORD_TO_CHANGE.into()));
    }
    if !password::verify(current, Some(account.password_hash.clone())).await? {
        return Err(Error::invalid(
            "current_password",
            "That is not your current password.",
        ));
    }
    let hash = password::hash(new).await?;
    let txn = begin_write(db).await?;
    replace(&txn, by.who, hash, Some(kept)).await?;
    sessions::mark_authenticated(&txn, kept).await?;
    activity::record(
        &txn,
        Event::own_by(by, Kind::PasswordChanged).target("on the Account page"),
    )
    .await?;
    notify(
        &txn,
        by.who,
        "Your password was changed on your Account page.",
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The operator sets a new password for `username` (`patdesk user reset-password`): every
/// session of the account ends. A suspended account is refused (reactivate it first); an
/// account without a password (single sign-on only) gets one, and can then sign in with it.
pub async fn set_by_operator(
    db: &DatabaseConnection,
    username: &Username,
    new: &Password,
) -> Result<()> {
    let Some(account) = crate::identity::users::find_row(db, username).await? else {
        return Err(Error::NotFound("user"));
    };
    if !account.is_active {
        return Err(Error::Rule(
            "This account is suspended: reactivate it first (patdesk user reactivate).".into(),
        ));
    }
    let hash = password::hash(new).await?;
    let txn = begin_write(db).await?;
    replace(&txn, account.id, hash, None).await?;
    let event = Event::new(Some(account.id), Actor::Operator, Kind::PasswordChanged)
        .target("set by the operator");
    activity::record(&txn, event).await?;
    notify(
        &txn,
        account.id,
        "The operator of patdesk set a new password for your account.",
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Stores `hash` as the account's password and ends its sessions but `kept` (in the caller's
/// transaction). Sessions are read from the database at every request (nothing caches them),
/// so the ended ones are refused from the next request on.
pub(crate) async fn replace(
    txn: &impl ConnectionTrait,
    user_id: i64,
    hash: String,
    kept: Option<&str>,
) -> Result<()> {
    user::ActiveModel {
        id: Set(user_id),
        password_hash: Set(hash),
        ..Default::default()
    }
    .update(txn)
    .await?;
    sessions::end_all_but(txn, user_id, kept).await?;
    // A reset link mailed before the change (to a mailbox someone else may read) opens nothing
    // after it.
    crate::identity::reset_links::revoke(txn, user_id).await?;
    Ok(())
}

/// The `password_changed` notice, `how` saying by which way.
pub(crate) async fn notify(txn: &impl ConnectionTrait, user_id: i64, how: &str) -> Result<()> {
    notifications::notify(
        txn,
        Notice::about_account(NoticeKind::PasswordChanged, user_id).detail(how),
        chrono::Utc::now(),
    )
    .await?;
    Ok(())
}
