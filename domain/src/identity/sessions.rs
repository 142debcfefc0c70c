//! Browser sessions. The cookie holds a random id (256 bits); the database holds only its
//! SHA-256. A session ends at sign-out, after 12 hours without a request, or 7 days after
//! sign-in, whichever comes first.

use std::net::IpAddr;

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set,
};

use crate::{
    activity::{self, Event, Kind},
    db::begin_write,
    entity::session,
    error::Result,
    identity::users::{self, User},
    secret::{digest_hex, hex, random_bytes},
};

pub const IDLE_TIMEOUT: Duration = Duration::hours(12);
pub const MAX_LIFETIME: Duration = Duration::days(7);
/// `last_seen_at` is rewritten at most this often, not on every request.
const TOUCH_INTERVAL: Duration = Duration::minutes(1);

/// The secret session id that goes into the cookie. Never printed by `Debug`.
pub struct SessionId(String);

impl SessionId {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionId(***)")
    }
}

/// Whether a cookie value has the shape of a session id (64 hex chars): anything else is
/// rejected without a database query.
fn well_formed(value: &str) -> bool {
    value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit())
}

fn expiry(created_at: DateTime<Utc>, last_seen_at: DateTime<Utc>) -> DateTime<Utc> {
    (last_seen_at + IDLE_TIMEOUT).min(created_at + MAX_LIFETIME)
}

/// Starts a new session for `user_id` and returns its id for the cookie. Its person has just
/// proved who they are: sudo mode counts from now.
pub async fn start(db: &impl ConnectionTrait, user_id: i64) -> Result<SessionId> {
    let id = SessionId(hex(&random_bytes::<32>()));
    let now = Utc::now();
    session::ActiveModel {
        id_digest: Set(digest_hex(id.expose())),
        user_id: Set(user_id),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(expiry(now, now)),
        authenticated_at: Set(Some(now)),
    }
    .insert(db)
    .await?;
    Ok(id)
}

/// How every sign-in ends (in the caller's transaction): the browser's old session, if any
/// (`replaced`), ends — a new id at every sign-in, so an id planted before is worthless — a new
/// one starts, and the sign-in is recorded in the person's activity, saying `how` when there
/// is more to say than the password.
pub(crate) async fn replace_on_sign_in(
    txn: &impl ConnectionTrait,
    user_id: i64,
    how: Option<String>,
    replaced: Option<&str>,
    ip: Option<IpAddr>,
) -> Result<SessionId> {
    if let Some(old) = replaced {
        end_quietly(txn, old).await?;
    }
    let session = start(txn, user_id).await?;
    let mut event = Event::own(user_id, Kind::SignIn).ip(ip);
    if let Some(how) = how {
        event = event.target(how);
    }
    activity::record(txn, event).await?;
    Ok(session)
}

/// A live session: who is signed in, and when they last proved it (sudo mode,
/// `identity::sudo`).
#[derive(Clone, Debug)]
pub struct SignedIn {
    pub user: User,
    pub authenticated_at: DateTime<Utc>,
}

/// The signed-in user for a cookie value, if the session is live (and the user still active).
/// Extends the idle timeout.
pub async fn resolve(db: &DatabaseConnection, cookie_value: &str) -> Result<Option<SignedIn>> {
    if !well_formed(cookie_value) {
        return Ok(None);
    }
    let digest = digest_hex(cookie_value);
    let Some(found) = session::Entity::find_by_id(digest.clone()).one(db).await? else {
        return Ok(None);
    };
    let now = Utc::now();
    if found.expires_at <= now {
        session::Entity::delete_by_id(digest).exec(db).await?;
        return Ok(None);
    }
    let Some(user) = users::get(db, found.user_id).await? else {
        return Ok(None);
    };
    let authenticated_at = found.authenticated_at.unwrap_or(found.created_at);
    if now - found.last_seen_at >= TOUCH_INTERVAL {
        let created_at = found.created_at;
        let mut active: session::ActiveModel = found.into();
        active.last_seen_at = Set(now);
        active.expires_at = Set(expiry(created_at, now));
        active.update(db).await?;
    }
    Ok(Some(SignedIn {
        user,
        authenticated_at,
    }))
}

/// Records that the person of the session `cookie_value` has just proved who they are again
/// (in the caller's transaction): sudo mode counts from now.
pub(crate) async fn mark_authenticated(
    db: &impl ConnectionTrait,
    cookie_value: &str,
) -> Result<()> {
    if well_formed(cookie_value) {
        session::Entity::update_many()
            .col_expr(
                session::Column::AuthenticatedAt,
                sea_orm::sea_query::Expr::value(Utc::now()),
            )
            .filter(session::Column::IdDigest.eq(digest_hex(cookie_value)))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Ends the session with this cookie value (sign-out) and records it in its user's activity.
/// Unknown values are ignored.
pub async fn sign_out(
    db: &DatabaseConnection,
    cookie_value: &str,
    ip: Option<IpAddr>,
) -> Result<()> {
    if !well_formed(cookie_value) {
        return Ok(());
    }
    let txn = begin_write(db).await?;
    let digest = digest_hex(cookie_value);
    if let Some(found) = session::Entity::find_by_id(digest.clone())
        .one(&txn)
        .await?
    {
        session::Entity::delete_by_id(digest).exec(&txn).await?;
        activity::record(&txn, Event::own(found.user_id, Kind::SignOut).ip(ip)).await?;
    }
    txn.commit().await?;
    Ok(())
}

pub(crate) async fn end_quietly(db: &impl ConnectionTrait, cookie_value: &str) -> Result<()> {
    if well_formed(cookie_value) {
        session::Entity::delete_by_id(digest_hex(cookie_value))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// Removes every expired session; the server runs this periodically (`web::serve`), since a
/// session nobody presents again is never looked at, and so never removed, by `resolve`.
pub async fn purge_expired(db: &DatabaseConnection) -> Result<u64> {
    Ok(session::Entity::delete_many()
        .filter(session::Column::ExpiresAt.lte(Utc::now()))
        .exec(db)
        .await?
        .rows_affected)
}

/// The session cookie's name over plain HTTP.
pub const COOKIE_NAME: &str = "patdesk_session";

/// Its name over HTTPS: with the `__Host-` prefix, browsers accept it only from this host,
/// `Secure`, for the whole site, so no sibling subdomain can plant a session cookie for it.
pub const SECURE_COOKIE_NAME: &str = "__Host-patdesk_session";

/// The session cookie's name when served over HTTPS (`secure`) or not.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_COOKIE_NAME
    } else {
        COOKIE_NAME
    }
}

/// The session id in a `Cookie` request header, if any: over HTTPS only the `__Host-` cookie
/// counts.
pub fn cookie_value(cookie_header: &str, secure: bool) -> Option<&str> {
    cookie_named(cookie_header, cookie_name(secure))
}

/// The value of the cookie called `wanted` in a `Cookie` request header, if any.
pub fn cookie_named<'a>(cookie_header: &'a str, wanted: &str) -> Option<&'a str> {
    cookie_header.split(';').find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == wanted).then_some(value.trim())
    })
}

/// The `Set-Cookie` value that stores a session: `HttpOnly` (no script can read it),
/// `SameSite=Lax` (not sent on cross-site POSTs), `Secure` when served over HTTPS, and no
/// `Max-Age` beyond the session's own lifetime.
pub fn set_cookie(id: &SessionId, secure: bool) -> String {
    http_only_cookie(COOKIE_NAME, id.expose(), MAX_LIFETIME.num_seconds(), secure)
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(secure: bool) -> String {
    http_only_cookie(COOKIE_NAME, "", 0, secure)
}

/// A `Set-Cookie` value for one of patdesk's own cookies (`base_name`, `__Host-` prefixed over
/// HTTPS): for the whole site, `HttpOnly`, `SameSite=Lax`, `Secure` over HTTPS.
pub(crate) fn http_only_cookie(base_name: &str, value: &str, max_age: i64, secure: bool) -> String {
    format!(
        "{}{base_name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        if secure { "__Host-" } else { "" },
        if secure { "; Secure" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies() {
        assert_eq!(
            cookie_value("a=1; patdesk_session=abc; b=2", false),
            Some("abc")
        );
        assert_eq!(cookie_value("patdesk_sessionx=abc", false), None);
        // Over HTTPS only the __Host- cookie counts (a plain one may come from a subdomain).
        assert_eq!(cookie_value("patdesk_session=abc", true), None);
        assert_eq!(
            cookie_value("patdesk_session=abc; __Host-patdesk_session=def", true),
            Some("def")
        );
        let id = SessionId("f".repeat(64));
        let header = set_cookie(&id, true);
        assert!(
            header.starts_with("__Host-patdesk_session=")
                && header.contains("Path=/;")
                && header.contains("HttpOnly")
                && header.contains("SameSite=Lax")
                && header.ends_with("Secure")
                && !header.contains("Domain"),
            "{header}"
        );
        assert!(set_cookie(&id, false).starts_with("patdesk_session="));
        assert!(!set_cookie(&id, false).contains("Secure"));
        assert!(clear_cookie(false).contains("Max-Age=0"));
        assert!(clear_cookie(true).starts_with("__Host-patdesk_session=;"));
    }
}
