//! A sign-in between its two steps: the password was right, the second factor is still to
//! come. It is no session: its id travels in a cookie of its own (`patdesk_sign_in`), which
//! nothing but [`complete`] reads, so no page, server function or API call is served on it. It
//! lives in the database (any process behind a load balancer can finish it), for five minutes
//! and five wrong codes at most (counted by a conditional update, so also across processes);
//! every wrong code counts against the account's budget too (`budget`).

use std::{fmt, net::IpAddr};

use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set,
    sea_query::{Expr, ExprTrait},
};

use super::{budget, check_code};
use crate::{
    activity::{self, Event, Kind},
    db::begin_write,
    entity::sign_in_challenge,
    error::{Error, Result},
    identity::{
        sessions::{self, SessionId},
        users::{self, User},
    },
    secret::{SealingKey, digest_hex, hex, random_bytes},
};

/// How long the second step may take.
pub const LIFETIME: Duration = Duration::minutes(5);
/// Wrong codes one challenge takes before it ends (the address's failure budget counts too).
pub const MAX_FAILURES: i32 = 5;
/// The cookie's name over plain HTTP (`__Host-` prefixed over HTTPS, as the session's).
pub const COOKIE_BASE_NAME: &str = "patdesk_sign_in";

/// What the second step says when its challenge is gone.
pub const EXPIRED: &str =
    "This sign-in has expired or was already finished. Sign in again with your password.";

/// The secret id in the challenge's cookie. Never printed by `Debug`.
pub struct ChallengeId(String);

impl ChallengeId {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ChallengeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChallengeId(***)")
    }
}

/// Starts the second step for `user_id` (in the caller's transaction).
pub(crate) async fn start(db: &impl ConnectionTrait, user_id: i64) -> Result<ChallengeId> {
    // Challenges nobody finished: cheap to sweep here, where new ones are made.
    purge_expired(db).await?;
    let id = ChallengeId(hex(&random_bytes::<32>()));
    sign_in_challenge::ActiveModel {
        id_digest: Set(digest_hex(id.expose())),
        user_id: Set(user_id),
        failures: Set(0),
        expires_at: Set(Utc::now() + LIFETIME),
    }
    .insert(db)
    .await?;
    Ok(id)
}

/// Finishes the sign-in whose challenge cookie is `cookie_value` with a second-factor code:
/// the challenge ends and a session starts (ending the browser's session before it,
/// `replaced`), recorded as a sign-in with how it was made. A wrong code is recorded as a
/// failed sign-in and counted against the challenge (which ends at [`MAX_FAILURES`]) and the
/// account's budget (`budget`: while it refuses codes, [`Error::TooManyAttempts`]).
pub async fn complete(
    db: &DatabaseConnection,
    key: &SealingKey,
    cookie_value: &str,
    code: &str,
    replaced: Option<&str>,
    ip: Option<IpAddr>,
) -> Result<(User, SessionId)> {
    let digest = digest_hex(cookie_value);
    let Some(found) = live(db, &digest).await? else {
        return Err(Error::Rule(EXPIRED.into()));
    };
    let user_id = found.user_id;
    budget::spend(db, user_id, async {
        let txn = begin_write(db).await?;
        // One of the challenge's attempts is taken before its code is checked, by a
        // conditional update: attempts sent at once (to several processes) are counted one
        // after the other, and no more than MAX_FAILURES codes are ever checked.
        let claimed = sign_in_challenge::Entity::update_many()
            .col_expr(
                sign_in_challenge::Column::Failures,
                Expr::col(sign_in_challenge::Column::Failures).add(1),
            )
            .filter(sign_in_challenge::Column::IdDigest.eq(digest.clone()))
            .filter(sign_in_challenge::Column::Failures.lt(MAX_FAILURES))
            .filter(sign_in_challenge::Column::ExpiresAt.gt(Utc::now()))
            .exec(&txn)
            .await?;
        if claimed.rows_affected != 1 {
            return Err(Error::Rule(EXPIRED.into()));
        }
        let Some(user) = users::get(&txn, user_id).await? else {
            return Err(Error::Rule(EXPIRED.into()));
        };
        match check_code(&txn, key, user_id, code).await {
            Ok(factor) => {
                sign_in_challenge::Entity::delete_by_id(digest.clone())
                    .exec(&txn)
                    .await?;
                let how = Some(factor.in_words().to_string());
                let session =
                    sessions::replace_on_sign_in(&txn, user_id, how, replaced, ip).await?;
                txn.commit().await?;
                Ok((user, session))
            }
            Err(wrong @ Error::Invalid { .. }) => {
                // The attempt taken above stays counted; the last one ends the challenge.
                sign_in_challenge::Entity::delete_many()
                    .filter(sign_in_challenge::Column::IdDigest.eq(digest.clone()))
                    .filter(sign_in_challenge::Column::Failures.gte(MAX_FAILURES))
                    .exec(&txn)
                    .await?;
                let event = Event::own(user_id, Kind::SignInFailed)
                    .target("wrong second-factor code")
                    .ip(ip);
                activity::record(&txn, event).await?;
                txn.commit().await?;
                Err(wrong)
            }
            Err(other) => Err(other),
        }
    })
    .await
}

/// The unexpired challenge whose id has the digest `digest`.
async fn live(db: &impl ConnectionTrait, digest: &str) -> Result<Option<sign_in_challenge::Model>> {
    Ok(sign_in_challenge::Entity::find_by_id(digest.to_string())
        .one(db)
        .await?
        .filter(|c| c.expires_at > Utc::now()))
}

/// Deletes the challenges nobody finished (run with the server's housekeeping too: new
/// sign-ins sweep them, but an instance nobody signs in to keeps them otherwise).
pub async fn purge_expired(db: &impl ConnectionTrait) -> Result<u64> {
    Ok(sign_in_challenge::Entity::delete_many()
        .filter(sign_in_challenge::Column::ExpiresAt.lte(Utc::now()))
        .exec(db)
        .await?
        .rows_affected)
}

/// The challenge's `Set-Cookie` value: `HttpOnly`, `SameSite=Lax`, gone after [`LIFETIME`].
pub fn set_cookie(id: &ChallengeId, secure: bool) -> String {
    sessions::http_only_cookie(
        COOKIE_BASE_NAME,
        id.expose(),
        LIFETIME.num_seconds(),
        secure,
    )
}

/// The `Set-Cookie` value that removes it.
pub fn clear_cookie(secure: bool) -> String {
    sessions::http_only_cookie(COOKIE_BASE_NAME, "", 0, secure)
}

/// The challenge cookie's name over HTTPS (`secure`) or not.
pub fn cookie_name(secure: bool) -> String {
    format!("{}{COOKIE_BASE_NAME}", if secure { "__Host-" } else { "" })
}
