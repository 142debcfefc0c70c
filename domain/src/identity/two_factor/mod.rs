//! Two-factor sign-in (docs/two-factor.md): an authenticator app ([`totp`]) with one-time
//! recovery codes ([`recovery`]), asked for after the password on a step of its own
//! ([`challenge`]: a half-finished sign-in is no session), each account's budget of wrong codes
//! ([`budget`]), and the instance policy that requires it of password accounts
//! ([`requirement`]).

pub mod budget;
pub mod challenge;
pub mod recovery;
pub mod requirement;
pub mod totp;

use sea_orm::ConnectionTrait;

use crate::{
    activity::{self, Event, Kind, Origin},
    db::begin_write,
    error::{Error, Result},
    notifications::{self, Notice, NoticeKind},
    secret::SealingKey,
};

/// What a person gave as their second factor, once it is known to be right.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecondFactor {
    AuthenticatorApp,
    RecoveryCode,
}

impl SecondFactor {
    /// How the activity log says how someone signed in.
    pub fn in_words(self) -> &'static str {
        match self {
            SecondFactor::AuthenticatorApp => "with an authenticator app code",
            SecondFactor::RecoveryCode => "with a recovery code",
        }
    }
}

/// What the second step and sudo mode say of an authenticator app's code that was the last one
/// accepted: the one that confirmed the app right after enrolment, typed again at sign-in.
pub const CODE_JUST_USED: &str = "That code was just used; wait for the next one from your authenticator app (a new code every 30 seconds).";

/// What is wrong with a second-factor code: the same words for a wrong code, a code used
/// long ago and a recovery code used up (a code used within the last minute or so is
/// [`CODE_JUST_USED`]: an app shows it still, right after the code confirmed it).
pub const WRONG_CODE: &str = "That code is not right. Enter the current 6-digit code from your authenticator app, or one of your recovery codes.";

/// Whether the account has a second factor: a confirmed authenticator app or a passkey.
pub async fn enrolled(db: &impl ConnectionTrait, user_id: i64) -> Result<bool> {
    Ok(totp::confirmed(db, user_id).await? || crate::identity::passkeys::any(db, user_id).await?)
}

/// Checks a second-factor code in the caller's transaction: six digits are a confirmed
/// authenticator app's code (each accepted once), anything else a recovery code (each used
/// once). A wrong code is [`Error::Invalid`] on the field `code`. Callers run it inside
/// [`budget::spend`], which counts it against the account.
pub async fn check_code(
    db: &impl ConnectionTrait,
    key: &SealingKey,
    user_id: i64,
    code: &str,
) -> Result<SecondFactor> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let accepted = if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        totp::accept(db, key, user_id, &code)
            .await?
            .then_some(SecondFactor::AuthenticatorApp)
    } else {
        recovery::consume(db, user_id, &code)
            .await?
            .then_some(SecondFactor::RecoveryCode)
    };
    accepted.ok_or_else(|| Error::invalid("code", WRONG_CODE))
}

/// Turns two-factor sign-in off for someone who lost every factor (`patdesk user reset-2fa`):
/// the authenticator app, the recovery codes and the passkeys go, with an entry in the
/// person's log and a notice to them. Returns whether there was anything to remove.
pub async fn reset(db: &sea_orm::DatabaseConnection, by: Origin, user_id: i64) -> Result<bool> {
    let txn = begin_write(db).await?;
    let removed = totp::remove(&txn, user_id).await?
        | recovery::remove_all(&txn, user_id).await?
        | crate::identity::passkeys::remove_all(&txn, user_id).await?;
    if removed {
        activity::record(&txn, Event::by(by, Some(user_id), Kind::TwoFactorReset)).await?;
        notifications::notify(
            &txn,
            Notice::about_account(NoticeKind::TwoFactorReset, user_id),
            chrono::Utc::now(),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(removed)
}
