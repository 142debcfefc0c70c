//! Sudo mode (docs/two-factor.md): sensitive changes — tokens made, regenerated or rotated,
//! allow-lists, service and SCIM credentials, the email address, second factors, every
//! instance-admin change — need a sign-in within the last `PATDESK_SUDO_MINUTES` (default
//! 120). A stale session proves itself again with [`confirm`] (password, plus the second
//! factor when enrolled) or a fresh single sign-on. Tokens and the REST API are not affected:
//! they are the automation path.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use sea_orm::DatabaseConnection;

use crate::{
    activity::{self, Event, Kind},
    db::begin_write,
    error::{Error, Result},
    identity::{sessions, two_factor, users::User},
    secret::SealingKey,
};

/// How long after proving who they are a person may make sensitive changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SudoWindow(Duration);

impl SudoWindow {
    pub const DEFAULT_MINUTES: u32 = 120;
    pub const MINUTES: std::ops::RangeInclusive<u32> = 1..=1440;

    pub fn minutes(minutes: u32) -> Option<Self> {
        Self::MINUTES
            .contains(&minutes)
            .then(|| SudoWindow(Duration::minutes(i64::from(minutes))))
    }

    /// Whether a session whose person proved who they are at `authenticated_at` may make a
    /// sensitive change now.
    pub fn allows(self, authenticated_at: DateTime<Utc>) -> bool {
        Utc::now() - authenticated_at < self.0
    }
}

impl Default for SudoWindow {
    fn default() -> Self {
        SudoWindow(Duration::minutes(i64::from(Self::DEFAULT_MINUTES)))
    }
}

/// What a session without a password is told: the identity provider confirms who they are.
pub const SIGN_IN_AGAIN: &str =
    "This account signs in with single sign-on: sign in again with it to continue.";

/// The person of the session `session_cookie` proves who they are again: the password, and a
/// second-factor code when they have two-factor sign-in on (counted against the account's
/// budget of wrong codes, `two_factor::budget`). Sudo mode counts from now.
pub async fn confirm(
    db: &DatabaseConnection,
    key: &SealingKey,
    session_cookie: &str,
    user: &User,
    password: &str,
    code: Option<&str>,
    ip: Option<IpAddr>,
) -> Result<()> {
    if super::sso::password_less(db, user.id).await? {
        return Err(Error::Rule(SIGN_IN_AGAIN.into()));
    }
    match super::users::authenticate(db, &user.username, password).await {
        Ok(_) => {}
        Err(Error::InvalidCredentials) => {
            return Err(Error::invalid("password", "That is not your password."));
        }
        Err(other) => return Err(other),
    }
    let confirmed = async |code: Option<&str>| {
        let txn = begin_write(db).await?;
        if let Some(code) = code {
            two_factor::check_code(&txn, key, user.id, code).await?;
        }
        sessions::mark_authenticated(&txn, session_cookie).await?;
        activity::record(&txn, Event::own(user.id, Kind::IdentityConfirmed).ip(ip)).await?;
        txn.commit().await?;
        Ok::<(), Error>(())
    };
    if !two_factor::enrolled(db, user.id).await? {
        return confirmed(None).await;
    }
    let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) else {
        return Err(Error::invalid(
            "code",
            "Enter the code from your authenticator app, or a recovery code.",
        ));
    };
    // Counted against the account's budget of wrong codes, as at sign-in.
    two_factor::budget::spend(db, user.id, confirmed(Some(code))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_is_one_minute_to_a_day() {
        assert!(SudoWindow::minutes(0).is_none());
        assert!(SudoWindow::minutes(1441).is_none());
        let window = SudoWindow::minutes(10).unwrap();
        assert!(window.allows(Utc::now() - Duration::minutes(9)));
        assert!(!window.allows(Utc::now() - Duration::minutes(11)));
        assert_eq!(SudoWindow::default(), SudoWindow::minutes(120).unwrap());
    }
}
