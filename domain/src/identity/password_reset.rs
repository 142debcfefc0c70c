//! "Forgot password?" (docs/accounts.md): a one-time link by mail.
//!
//! - [`request`] takes a username or an email address and answers nothing about it: what it
//!   returns is for the mail only, and the caller answers every request the same way. An
//!   active account with a password and an address gets a link; an account that signs in with
//!   single sign-on only gets a mail that says to use the provider; anything else (no such
//!   account, no address, suspended) gets nothing. At most [`PER_ACCOUNT`] requests an hour per
//!   account go anywhere (counted in the database, so across processes); the caller throttles
//!   per address.
//! - The link's secret (32 random bytes) is mailed and never stored: the table keeps its
//!   SHA-256, when it was made and when it expires ([`LIFETIME`]).
//! - [`consume`] uses it once, by a conditional update (two browsers sending it at once: one
//!   wins), sets the new password and ends every session of the account; its person then signs
//!   in afresh (with the second factor when they have one, which the caller asks for).

use std::{fmt, net::IpAddr};

use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QuerySelect, Set, sea_query::Expr,
};

use crate::{
    activity::{self, Event, Kind},
    db::begin_write,
    entity::{password_reset, user},
    error::{Error, Result},
    identity::{
        names::{Email, Password, Username},
        password, password_change, sso,
        users::User,
    },
    secret::{digest_hex, hex, random_bytes},
};

/// How long a link works.
pub const LIFETIME: Duration = Duration::minutes(30);
/// Links (and single sign-on reminders) one account is sent per hour at most.
pub const PER_ACCOUNT: u64 = 3;

/// What the reset page says of a link that is not (or no longer) good.
pub const LINK_NOT_USABLE: &str =
    "This password reset link has expired or was already used. Ask for a new one.";

/// The secret of a link, for the mail only. Never printed by `Debug`.
pub struct ResetSecret(String);

impl ResetSecret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ResetSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResetSecret(***)")
    }
}

/// What to mail after a request (nothing of it is shown to whoever asked).
#[derive(Debug)]
pub enum ResetMail {
    /// The link, for `username` at `to`.
    Link {
        to: String,
        username: String,
        secret: ResetSecret,
    },
    /// The account signs in with single sign-on only: tell them to use the provider.
    UseProvider { to: String, username: String },
    /// Nobody to mail (no such account, no address, suspended, or sent enough this hour).
    Nothing,
}

/// A request for a link by `who` (a username or an email address) from `ip`.
pub async fn request(db: &DatabaseConnection, who: &str, ip: Option<IpAddr>) -> Result<ResetMail> {
    let who = who.trim();
    let account = if who.contains('@') {
        match Email::parse(who) {
            Ok(email) => {
                user::Entity::find()
                    .filter(user::Column::EmailKey.eq(email.key()))
                    .one(db)
                    .await?
            }
            Err(_) => None,
        }
    } else {
        match Username::parse(who) {
            Ok(name) => crate::identity::users::find_row(db, &name).await?,
            Err(_) => None,
        }
    };
    let Some(account) = account.filter(|a| a.is_active) else {
        return Ok(ResetMail::Nothing);
    };
    let Some(to) = account.email.clone() else {
        return Ok(ResetMail::Nothing);
    };
    let now = Utc::now();
    let txn = begin_write(db).await?;
    // The account's row locked for the count and the insert (`FOR UPDATE` on PostgreSQL;
    // SQLite's write lock covers it): requests at once for one account are handled one after
    // the other, so the budget holds.
    user::Entity::find_by_id(account.id)
        .lock_exclusive()
        .one(&txn)
        .await?;
    // Old rows are of no use beyond the hour they are counted in.
    password_reset::Entity::delete_many()
        .filter(password_reset::Column::CreatedAt.lt(now - Duration::days(1)))
        .exec(&txn)
        .await?;
    let recent = password_reset::Entity::find()
        .filter(password_reset::Column::UserId.eq(account.id))
        .filter(password_reset::Column::CreatedAt.gt(now - Duration::hours(1)))
        .count(&txn)
        .await?;
    if recent >= PER_ACCOUNT {
        txn.commit().await?;
        return Ok(ResetMail::Nothing);
    }
    // While the instance requires single sign-on, a password signs in only an instance admin
    // (`sign_in::with_password`): anyone else is told to use the provider, as if they had none.
    // Read in the transaction: on SQLite another pool connection here, while requests at once
    // hold the others waiting for the write lock, could wait for the pool until they time out.
    let password_less = !signs_in_with_password(&txn, &account).await?;
    let secret = ResetSecret(hex(&random_bytes::<32>()));
    password_reset::ActiveModel {
        id_digest: Set(digest_hex(secret.expose())),
        user_id: Set(account.id),
        created_at: Set(now),
        // A single sign-on reminder is counted like a link but opens nothing.
        expires_at: Set(if password_less { now } else { now + LIFETIME }),
        used_at: Set(None),
    }
    .insert(&txn)
    .await?;
    let event = Event::own(account.id, Kind::PasswordResetRequested)
        .ip(ip)
        .target(if password_less {
            "single sign-on only: told to use the provider"
        } else {
            "link mailed"
        });
    activity::record(&txn, event).await?;
    txn.commit().await?;
    Ok(if password_less {
        ResetMail::UseProvider {
            to,
            username: account.username,
        }
    } else {
        ResetMail::Link {
            to,
            username: account.username,
            secret,
        }
    })
}

/// Whether a secret has the shape of one (64 hex characters): anything else is refused
/// without a query.
fn well_formed(secret: &str) -> bool {
    secret.len() == 64 && secret.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The account a live, unused link is for (its username, for the page to name), if any.
pub async fn peek(db: &DatabaseConnection, secret: &str) -> Result<Option<String>> {
    if !well_formed(secret) {
        return Ok(None);
    }
    let Some(link) = password_reset::Entity::find_by_id(digest_hex(secret))
        .one(db)
        .await?
        .filter(|l| l.used_at.is_none() && l.expires_at > Utc::now())
    else {
        return Ok(None);
    };
    Ok(user::Entity::find_by_id(link.user_id)
        .one(db)
        .await?
        .filter(|u| u.is_active && u.password_hash != password::NO_PASSWORD)
        .map(|u| u.username))
}

/// Whether the account signs in with a password: it has one, and single sign-on is not required
/// of it (the policy spares instance admins, as `sign_in::with_password` does).
async fn signs_in_with_password(db: &impl ConnectionTrait, account: &user::Model) -> Result<bool> {
    Ok(account.password_hash != password::NO_PASSWORD
        && (account.is_admin || !sso::required(db).await?))
}

/// Uses the link `secret` to set `new` as its account's password: once (whoever comes second
/// gets `Rule(LINK_NOT_USABLE)`, as does an expired or unknown link or a suspended account),
/// every session of the account ends, the account's other links die, a notice says so.
/// Returns the account: the caller signs its person in (or asks for the second factor).
pub async fn consume(
    db: &DatabaseConnection,
    secret: &str,
    new: &Password,
    ip: Option<IpAddr>,
) -> Result<User> {
    if peek(db, secret).await?.is_none() {
        return Err(Error::Rule(LINK_NOT_USABLE.into()));
    }
    // The slow hash before the transaction; the link is taken in it.
    let hash = password::hash(new).await?;
    let digest = digest_hex(secret);
    let now = Utc::now();
    let txn = begin_write(db).await?;
    let taken = password_reset::Entity::update_many()
        .col_expr(password_reset::Column::UsedAt, Expr::value(now))
        .filter(password_reset::Column::IdDigest.eq(digest.clone()))
        .filter(password_reset::Column::UsedAt.is_null())
        .filter(password_reset::Column::ExpiresAt.gt(now))
        .exec(&txn)
        .await?;
    let link = password_reset::Entity::find_by_id(digest).one(&txn).await?;
    let account = match link {
        Some(link) if taken.rows_affected == 1 => {
            user::Entity::find_by_id(link.user_id).one(&txn).await?
        }
        _ => None,
    };
    let Some(account) = account.filter(|a| a.is_active && a.password_hash != password::NO_PASSWORD)
    else {
        return Err(Error::Rule(LINK_NOT_USABLE.into()));
    };
    // Single sign-on became required since the link was mailed: it signs nobody in.
    if !signs_in_with_password(&txn, &account).await? {
        return Err(Error::Rule(LINK_NOT_USABLE.into()));
    }
    // Any other link of the account dies with this one (`password_change::replace` ends them: `reset_links`).
    password_change::replace(&txn, account.id, hash, None).await?;
    let event = Event::own(account.id, Kind::PasswordChanged)
        .ip(ip)
        .target("reset with a mailed link");
    activity::record(&txn, event).await?;
    password_change::notify(
        &txn,
        account.id,
        "Your password was reset with a link mailed to you.",
    )
    .await?;
    txn.commit().await?;
    Ok(account.into())
}

/// The cookie that carries a link's secret from the mailed URL to the reset page: the link
/// (`/password-reset?code=…`) sets it and redirects, so the secret leaves the address bar, the
/// history and any `Referer` at once (`__Host-` prefixed over HTTPS, as the session's).
pub const COOKIE_BASE_NAME: &str = "patdesk_reset";

/// The reset cookie's `Set-Cookie` value: `HttpOnly`, `SameSite=Lax`, gone with the link.
pub fn set_cookie(secret: &str, secure: bool) -> Option<String> {
    well_formed(secret).then(|| {
        crate::identity::sessions::http_only_cookie(
            COOKIE_BASE_NAME,
            secret,
            LIFETIME.num_seconds(),
            secure,
        )
    })
}

/// The `Set-Cookie` value that removes it.
pub fn clear_cookie(secure: bool) -> String {
    crate::identity::sessions::http_only_cookie(COOKIE_BASE_NAME, "", 0, secure)
}

/// Its name over HTTPS (`secure`) or not.
pub fn cookie_name(secure: bool) -> String {
    format!("{}{COOKIE_BASE_NAME}", if secure { "__Host-" } else { "" })
}

/// [`request`] and its mail, in a task of their own that the caller does not wait for: the
/// caller answers every request the same way and in the same time, whether or not anyone is
/// found (the lookup, the link and the mail server's pace all happen after the answer). The
/// log says whether a mail went out, never to whom or with what.
pub fn request_in_background(
    db: DatabaseConnection,
    mailer: std::sync::Arc<crate::notifications::mail::Mailer>,
    who: String,
    ip: Option<IpAddr>,
) {
    use crate::notifications::mail::Letter;
    tokio::spawn(async move {
        let public_url = mailer.public_url().clone();
        let (to, kind, letter) = match request(&db, &who, ip).await {
            Ok(ResetMail::Link {
                to,
                username,
                secret,
            }) => {
                let mut link = public_url.clone();
                link.set_path("/password-reset");
                link.set_fragment(None);
                link.set_query(Some(&format!("code={}", secret.expose())));
                let letter = Letter::password_reset(
                    &username,
                    link.as_str(),
                    LIFETIME.num_minutes(),
                    &public_url,
                );
                (to, "password_reset", letter)
            }
            Ok(ResetMail::UseProvider { to, username }) => (
                to,
                "password_reset_sso",
                Letter::use_your_provider(&username, &public_url),
            ),
            Ok(ResetMail::Nothing) => return,
            Err(error) => {
                tracing::warn!(%error, "could not handle a password reset request");
                return;
            }
        };
        match mailer.send_letter(&to, kind, letter).await {
            Ok(()) => tracing::info!(kind, "password reset mail sent"),
            Err(error) => tracing::warn!(kind, %error, "password reset mail not sent"),
        }
    });
}
