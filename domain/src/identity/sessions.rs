//! Browser sessions. The cookie holds a random id (256 bits); the database holds only its
//! SHA-256. A session ends at sign-out, after 12 hours without a request, or 7 days after
//! sign-in, whichever comes first — or when its person signs it out from another one (the
//! Account page's list, [`list_for_user`], [`end_other`], [`end_all_others`]) or changes or
//! resets the password. The list names each session by a random `public_id`, never by the
//! digest, and shows the address and browser it was last seen from ([`resolve_seen`]).

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
        public_id: Set(Some(new_public_id())),
        ip: Set(None),
        user_agent: Set(None),
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
    resolve_seen(db, cookie_value, None).await
}

/// Where a request came from, as the Account page's session list shows it.
#[derive(Clone, Debug, Default)]
pub struct SeenFrom {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

/// The longest `User-Agent` kept: enough to tell browsers apart.
const USER_AGENT_BYTES: usize = 200;

/// [`resolve`], noting where the request came from (`seen`): written with the idle timeout's
/// touch (at most once a minute), and at once on a session's first request, so that a session
/// is listed with its address and browser from the start.
pub async fn resolve_seen(
    db: &DatabaseConnection,
    cookie_value: &str,
    seen: Option<&SeenFrom>,
) -> Result<Option<SignedIn>> {
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
    // `user_agent` is `Some` (maybe empty) once a request was seen.
    let first_request = seen.is_some() && found.user_agent.is_none();
    if now - found.last_seen_at >= TOUCH_INTERVAL || first_request {
        let created_at = found.created_at;
        let mut active: session::ActiveModel = found.into();
        active.last_seen_at = Set(now);
        active.expires_at = Set(expiry(created_at, now));
        if let Some(seen) = seen {
            active.ip = Set(seen.ip.map(|ip| ip.to_string()));
            active.user_agent = Set(Some(crate::activity::cut_to_bytes(
                seen.user_agent.clone().unwrap_or_default(),
                USER_AGENT_BYTES,
            )));
        }
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

/// A random handle for a session in the Account page's list (16 bytes, hex).
fn new_public_id() -> String {
    hex(&random_bytes::<16>())
}

/// One of the account's sessions, as the Account page lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionInfo {
    /// The handle its Sign out button sends: random, not the id's digest.
    pub public_id: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub ip: Option<String>,
    /// The browser in a few words ("Firefox on Linux"), from its `User-Agent`.
    pub browser: Option<String>,
    /// The session of the request that asks.
    pub current: bool,
}

/// The live sessions of `user_id`: the one asking (`current_cookie`) first, then the most
/// recently seen. A session from before public ids gets one here.
pub async fn list_for_user(
    db: &DatabaseConnection,
    user_id: i64,
    current_cookie: Option<&str>,
) -> Result<Vec<SessionInfo>> {
    use sea_orm::QueryOrder;
    let current = current_cookie.filter(|c| well_formed(c)).map(digest_hex);
    let rows = session::Entity::find()
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::ExpiresAt.gt(Utc::now()))
        .order_by_desc(session::Column::LastSeenAt)
        .all(db)
        .await?;
    let mut listed = Vec::with_capacity(rows.len());
    for row in rows {
        let public_id = match row.public_id.clone() {
            Some(id) => id,
            None => {
                let id = new_public_id();
                session::Entity::update_many()
                    .col_expr(
                        session::Column::PublicId,
                        sea_orm::sea_query::Expr::value(id.clone()),
                    )
                    .filter(session::Column::IdDigest.eq(row.id_digest.clone()))
                    .exec(db)
                    .await?;
                id
            }
        };
        listed.push(SessionInfo {
            public_id,
            created_at: row.created_at,
            last_seen_at: row.last_seen_at,
            ip: row.ip,
            browser: row
                .user_agent
                .as_deref()
                .filter(|ua| !ua.is_empty())
                .map(browser_summary),
            current: current.as_deref() == Some(row.id_digest.as_str()),
        });
    }
    // This session first, then the others as seen.
    listed.sort_by_key(|s| !s.current);
    Ok(listed)
}

/// What the Account page says when the session to sign out is not one of the caller's live
/// sessions (ended already, or never theirs: the same words, so a handle tells nothing).
pub const NO_SUCH_SESSION: &str = "That session has already ended.";

/// Ends the session `public_id` of the person `by` (Sign out in the list), recorded in their
/// activity. Only ever one of their own, and not the one asking (`current_cookie`: that is
/// the header's Sign out): anything else is `Rule(NO_SUCH_SESSION)` and nothing ends.
pub async fn end_other(
    db: &DatabaseConnection,
    by: crate::Origin<i64>,
    public_id: &str,
    current_cookie: Option<&str>,
) -> Result<()> {
    let txn = begin_write(db).await?;
    let mut query = session::Entity::delete_many()
        .filter(session::Column::UserId.eq(by.who))
        .filter(session::Column::PublicId.eq(public_id));
    if let Some(current) = current_cookie.filter(|c| well_formed(c)) {
        query = query.filter(session::Column::IdDigest.ne(digest_hex(current)));
    }
    if query.exec(&txn).await?.rows_affected == 0 {
        return Err(crate::error::Error::Rule(NO_SUCH_SESSION.into()));
    }
    activity::record(&txn, Event::own_by(by, Kind::SessionEnded)).await?;
    txn.commit().await?;
    Ok(())
}

/// Ends every session of `by` but the one asking ("Sign out everywhere else"), recorded once.
/// Returns how many ended.
pub async fn end_all_others(
    db: &DatabaseConnection,
    by: crate::Origin<i64>,
    current_cookie: Option<&str>,
) -> Result<u64> {
    let txn = begin_write(db).await?;
    let ended = end_all_but(&txn, by.who, current_cookie).await?;
    if ended > 0 {
        let event = Event::own_by(by, Kind::SessionEnded).target(format!(
            "{ended} session{}",
            if ended == 1 { "" } else { "s" }
        ));
        activity::record(&txn, event).await?;
    }
    txn.commit().await?;
    Ok(ended)
}

/// Ends every session of `user_id` except the one with the cookie value `kept` (in the
/// caller's transaction): a password change keeps the session it was made from; a reset or
/// the operator's `user reset-password` keeps none.
pub(crate) async fn end_all_but(
    db: &impl ConnectionTrait,
    user_id: i64,
    kept: Option<&str>,
) -> Result<u64> {
    let mut query = session::Entity::delete_many().filter(session::Column::UserId.eq(user_id));
    if let Some(kept) = kept.filter(|c| well_formed(c)) {
        query = query.filter(session::Column::IdDigest.ne(digest_hex(kept)));
    }
    Ok(query.exec(db).await?.rows_affected)
}

/// A browser's `User-Agent` in a few words, e.g. "Chrome on Linux" (a small reading of the
/// common browsers' tokens, in the order that tells them apart: Edge and Opera say "Chrome",
/// Chrome says "Safari"); what it does not recognise it calls "Unknown browser".
pub fn browser_summary(user_agent: &str) -> String {
    let has = |token: &str| user_agent.contains(token);
    let browser = if has("Edg/") || has("Edge/") {
        "Edge"
    } else if has("OPR/") || has("Opera") {
        "Opera"
    } else if has("Firefox/") || has("FxiOS/") {
        "Firefox"
    } else if has("Chrome/") || has("Chromium/") || has("CriOS/") {
        "Chrome"
    } else if has("Safari/") {
        "Safari"
    } else if has("curl/") {
        "curl"
    } else {
        "Unknown browser"
    };
    // Phones first: Android's agents also say "Linux", iOS's "like Mac OS X".
    let system = if has("Android") {
        Some("Android")
    } else if has("iPhone") || has("iPad") || has("iPod") {
        Some("iOS")
    } else if has("Windows") {
        Some("Windows")
    } else if has("Mac OS X") || has("Macintosh") {
        Some("macOS")
    } else if has("CrOS") {
        Some("ChromeOS")
    } else if has("Linux") || has("X11") {
        Some("Linux")
    } else {
        None
    };
    match system {
        Some(system) => format!("{browser} on {system}"),
        None => browser.to_string(),
    }
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

    #[test]
    fn browsers_in_a_few_words() {
        let cases = [
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
                "Chrome on Linux",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
                "Edge on Windows",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
                "Safari on macOS",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
                "Safari on iOS",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
                "Chrome on Android",
            ),
            (
                "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
                "Firefox on Linux",
            ),
            ("curl/8.5.0", "curl"),
            ("", "Unknown browser"),
        ];
        for (agent, words) in cases {
            assert_eq!(browser_summary(agent), words, "{agent}");
        }
    }
}
