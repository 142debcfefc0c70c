//! Signing in with a password: the password checked, then a session, or the second step when
//! the account has two-factor sign-in on (`two_factor::challenge`).

use std::net::IpAddr;

use sea_orm::DatabaseConnection;

use crate::{
    activity::{self, Actor, Event, Kind},
    db::begin_write,
    error::{Error, Result},
    identity::{
        names::Username,
        sessions::{self, SessionId},
        two_factor::{self, challenge::ChallengeId},
        users::{self, User},
    },
};

/// Where a password sign-in got to.
#[derive(Debug)]
pub enum SignInStep {
    /// Signed in: the session for the cookie.
    SignedIn(User, SessionId),
    /// The account has two-factor sign-in on: the second step's challenge, for its own cookie
    /// (`two_factor::challenge`). No session yet.
    SecondFactor(ChallengeId),
}

/// Checks the username and password and starts a session, or the second step when the account
/// has two-factor sign-in on. The session the browser had before (`replaced`), if any, ends
/// with the new one: a new id at every sign-in, so a session id planted before sign-in is
/// worthless. Successes and failures are recorded in the named user's activity (failures for a
/// name nobody has, in no one's).
pub async fn with_password(
    db: &DatabaseConnection,
    username: &str,
    password: &str,
    replaced: Option<&str>,
    ip: Option<IpAddr>,
) -> Result<SignInStep> {
    match users::authenticate(db, username, password).await {
        Ok(user) => {
            if !user.is_admin && crate::identity::sso::required(db).await? {
                return Err(Error::Forbidden(crate::identity::sso::REQUIRED.into()));
            }
            let txn = begin_write(db).await?;
            if two_factor::enrolled(&txn, user.id).await? {
                let challenge = two_factor::challenge::start(&txn, user.id).await?;
                txn.commit().await?;
                return Ok(SignInStep::SecondFactor(challenge));
            }
            let session = sessions::replace_on_sign_in(&txn, user.id, None, replaced, ip).await?;
            txn.commit().await?;
            Ok(SignInStep::SignedIn(user, session))
        }
        Err(Error::InvalidCredentials) => {
            let named = Username::parse(username).ok();
            let user_id = match &named {
                Some(name) => users::find(db, name).await?.map(|u| u.id),
                None => None,
            };
            // An attempt under a name nobody has goes in no one's log, so its actor (stored as
            // none, like the operator's) is never shown.
            let actor = user_id.map_or(Actor::Operator, Actor::User);
            let mut event = Event::new(user_id, actor, Kind::SignInFailed).ip(ip);
            if let Some(name) = named {
                event = event.target(format!("user {name}"));
            }
            activity::record(db, event).await?;
            Err(Error::InvalidCredentials)
        }
        Err(other) => Err(other),
    }
}
