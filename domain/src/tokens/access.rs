//! Who is calling the API with this token, and may they do this? The checks of `docs/api.md`,
//! in order, in one place: format and checksum (before any database access) → lookup by digest
//! (current or rotated-out) → not deleted (saying whether an admin revoked it or it was reported
//! as leaked) → not expired → for a rotated-out value, its overlap not over → owner still active
//! (not suspended) → Basic user name matches → not waiting for a team admin's approval → owner
//! still a member of the token's team → the caller's address is on the token's allow-list, if it
//! has one → the path's team is the token's team → for writes, the token has `write` and the
//! owner's current role allows writing.
//!
//! A token never grants more than its owner can do today: role and membership are read on every
//! call, not copied into the token.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter};

use crate::{
    entity::{token, user},
    error::Error,
    identity::names::Role,
    teams,
    tokens::allow_list::AllowList,
    tokens::format::{FormatError, TokenSecret},
};

/// Why a call is refused. Each maps to one status and error code at the HTTP edge.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error(
        "No token: send Authorization: Bearer <token>, or Basic auth with the token as the password."
    )]
    MissingToken,
    #[error("{0}")]
    MalformedToken(String),
    #[error("This token is not valid. Check that it was copied whole.")]
    InvalidToken,
    #[error("This token has been deleted. Create a new one on your Access tokens page.")]
    TokenRevoked,
    /// Revoked by an admin: of the token's team, or of the instance. (Who and why are for the
    /// owner's eyes, on their token page, not for whoever holds the value.)
    #[error(
        "This token was revoked by an admin. Its owner can see who and why on their Access tokens page."
    )]
    RevokedByAdmin,
    #[error(
        "This token was reported as leaked and has been revoked. Create a new one on your Access tokens page."
    )]
    ReportedLeaked,
    #[error("This token expired on {0}. Regenerate it on your Access tokens page.")]
    TokenExpired(String),
    /// A value a rotation replaced, after its overlap window.
    #[error(
        "This is an old value of a rotated token: it stopped working on {0}. Use the token's new value."
    )]
    TokenRotated(String),
    /// The token's allow-list does not include the caller's address (named; the list is not).
    #[error("This token cannot be used from {0}: its owner allows it only from certain addresses.")]
    IpNotAllowed(String),
    #[error(
        "This token is waiting for an admin of team {0} to approve it: write tokens of this team need approval."
    )]
    PendingApproval(String),
    #[error("This token's owner is no longer a member of team {0}.")]
    NotAMember(String),
    #[error("This token is scoped to team {token_team}, not {path_team}.")]
    WrongTeam {
        token_team: String,
        path_team: String,
    },
    #[error("This token is read-only. Create a token with write access to make changes.")]
    ReadOnlyToken,
    #[error("Your role in team {team} is {role}: writing needs the writer or admin role.")]
    InsufficientRole { team: String, role: Role },
}

impl Denied {
    /// Whether the refusal counts against the caller's address in the failed-authentication
    /// throttle: a token was sent and it is not a good one, so it may be a guess. Sending no
    /// token, and refusals of a good token by team or role, do not count.
    pub fn counts_as_failed_attempt(&self) -> bool {
        matches!(
            self,
            Denied::MalformedToken(_)
                | Denied::InvalidToken
                | Denied::TokenRevoked
                | Denied::RevokedByAdmin
                | Denied::ReportedLeaked
                | Denied::TokenExpired(_)
                | Denied::TokenRotated(_)
        )
    }
}

impl Denied {
    /// Whether the refusal cost a database lookup (a well-formed token that matches no live
    /// one): such failures are also counted in the budget the processes share.
    pub fn counts_across_processes(&self) -> bool {
        matches!(
            self,
            Denied::InvalidToken
                | Denied::TokenRevoked
                | Denied::RevokedByAdmin
                | Denied::ReportedLeaked
                | Denied::TokenExpired(_)
                | Denied::TokenRotated(_)
        )
    }
}

impl From<FormatError> for Denied {
    fn from(e: FormatError) -> Self {
        Denied::MalformedToken(format!("Malformed token: {e}."))
    }
}

/// An authenticated API caller: the token in use, its owner, the token's team and the owner's
/// role in it today.
#[derive(Debug, Clone)]
pub struct TokenCaller {
    pub token: token::Model,
    pub user_id: i64,
    pub username: String,
    pub team_slug: String,
    pub role: Role,
    /// The token's allow-list, parsed once per database check.
    pub allowed: AllowList,
    /// The call came with the value a rotation replaced (still in its overlap window).
    pub old_value: bool,
}

impl TokenCaller {
    /// The token's allow-list must include the caller's address; with a list, a request whose
    /// address is unknown is refused.
    pub fn check_ip(&self, ip: Option<IpAddr>) -> Result<(), Denied> {
        if self.allowed.is_any() {
            return Ok(());
        }
        match ip {
            Some(ip) if self.allowed.allows(ip) => Ok(()),
            Some(ip) => Err(Denied::IpNotAllowed(ip.to_canonical().to_string())),
            None => Err(Denied::IpNotAllowed("an unknown address".into())),
        }
    }

    /// What can change without a write: the clock (expiry, the old value's overlap).
    fn check_clock(&self, now: DateTime<Utc>) -> Result<(), Denied> {
        check_clock(&self.token, self.old_value, now)
    }

    /// The path's team must be the token's; writes need a write token and a writing role.
    pub fn authorize(&self, path_team: Option<&str>, write: bool) -> Result<(), Denied> {
        if let Some(path_team) = path_team
            && !path_team.eq_ignore_ascii_case(&self.team_slug)
        {
            return Err(Denied::WrongTeam {
                token_team: self.team_slug.clone(),
                path_team: path_team.to_string(),
            });
        }
        if write {
            if !self.token.write {
                return Err(Denied::ReadOnlyToken);
            }
            if !self.role.can_write() {
                return Err(Denied::InsufficientRole {
                    team: self.team_slug.clone(),
                    role: self.role,
                });
            }
        }
        Ok(())
    }

    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.token.expires_at
    }

    /// Whether a write would pass now: a write token, and a role that still allows writing.
    pub fn can_write(&self) -> bool {
        self.token.write && self.role.can_write()
    }
}

/// The outcome of a check: refused (with the reason), or a database fault.
#[derive(Debug)]
pub enum AccessError {
    Denied(Denied),
    Internal(Error),
}

impl From<Denied> for AccessError {
    fn from(d: Denied) -> Self {
        AccessError::Denied(d)
    }
}

impl From<sea_orm::DbErr> for AccessError {
    fn from(e: sea_orm::DbErr) -> Self {
        AccessError::Internal(Error::Database(e))
    }
}

impl From<Error> for AccessError {
    fn from(e: Error) -> Self {
        AccessError::Internal(e)
    }
}

/// Checks a token (already parsed, so well-formed) and, for Basic auth, the user name that came
/// with it: the token's id or its owner's username.
pub async fn authenticate(
    db: &DatabaseConnection,
    secret: &TokenSecret,
    basic_user: Option<&str>,
) -> Result<TokenCaller, AccessError> {
    authenticate_digest(db, &secret.digest(), basic_user).await
}

/// [`authenticate`] by the secret's digest (which is all the database knows of it).
async fn authenticate_digest(
    db: &DatabaseConnection,
    digest: &str,
    basic_user: Option<&str>,
) -> Result<TokenCaller, AccessError> {
    // The current value, or the one a rotation replaced (both indexed).
    let found = token::Entity::find()
        .filter(
            Condition::any()
                .add(token::Column::SecretDigest.eq(digest))
                .add(token::Column::PreviousDigest.eq(digest)),
        )
        .one(db)
        .await?
        .ok_or(Denied::InvalidToken)?;
    let old_value = found.secret_digest != digest;
    if found.deleted_at.is_some() {
        return Err(match found.revoked_by {
            _ if found.reported_leaked => Denied::ReportedLeaked,
            Some(_) => Denied::RevokedByAdmin,
            None => Denied::TokenRevoked,
        }
        .into());
    }
    check_clock(&found, old_value, Utc::now())?;
    let owner = user::Entity::find_by_id(found.user_id)
        .filter(user::Column::IsActive.eq(true))
        .one(db)
        .await?
        .ok_or(Denied::InvalidToken)?;
    if let Some(name) = basic_user
        && !(name == found.id || name.eq_ignore_ascii_case(&owner.username))
    {
        return Err(Denied::InvalidToken.into());
    }
    let team_slug = teams::slug_of(db, found.team_id).await?;
    if found.pending_approval {
        return Err(Denied::PendingApproval(team_slug).into());
    }
    let role = teams::role(db, found.team_id, owner.id)
        .await?
        .ok_or_else(|| Denied::NotAMember(team_slug.clone()))?;
    Ok(TokenCaller {
        allowed: AllowList::from_column(found.allowed_ips.as_deref()),
        token: found,
        user_id: owner.id,
        username: owner.username,
        team_slug,
        role,
        old_value,
    })
}

/// Not expired, and for an old value, its overlap not over.
fn check_clock(token: &token::Model, old_value: bool, now: DateTime<Utc>) -> Result<(), Denied> {
    if let Some(at) = token.expires_at
        && at <= now
    {
        return Err(Denied::TokenExpired(crate::time::minute(at)));
    }
    if old_value {
        match token.previous_valid_until {
            Some(until) if until > now => {}
            until => {
                let when = until.map_or_else(|| "its rotation".into(), crate::time::minute);
                return Err(Denied::TokenRotated(when));
            }
        }
    }
    Ok(())
}

/// How long a successful check is reused. Whatever changes elsewhere (another process deletes
/// the token, an operator removes the owner from the team, a role changes) takes effect within
/// this time; deletion, regeneration, rotation and allow-list changes in this process take
/// effect at once (see
/// [`CallerCache::forget_token`]).
pub const CALLER_CACHE_TTL: Duration = Duration::from_millis(500);

/// Entries beyond this are swept (and, if all are fresh, dropped) before a new one is added.
const CALLER_CACHE_MAX: usize = 10_000;

/// Recently authenticated tokens, by digest: a script calling in a loop costs a map lookup
/// instead of four queries per call. Only successes are kept; expiry and the Basic user name are
/// checked on every call all the same.
#[derive(Debug, Default)]
pub struct CallerCache {
    entries: Mutex<HashMap<String, (Instant, TokenCaller)>>,
    /// One database check per digest at a time: when a busy token's entry runs out, the
    /// requests that arrive during its check wait for that one check instead of each making
    /// their own (which, at 64 concurrent calls, queued hundreds of queries on the pool every
    /// [`CALLER_CACHE_TTL`] and made the slowest calls several times slower).
    checks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// A turn at checking one digest; leaving it (even by cancellation) removes the digest's lock
/// from the map once nobody else holds it.
struct CheckTurn<'a> {
    checks: &'a Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    digest: &'a str,
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl Drop for CheckTurn<'_> {
    fn drop(&mut self) {
        let mut checks = self.checks.lock().unwrap_or_else(|e| e.into_inner());
        // Two references: the map's and ours. More means others still wait on this lock.
        if Arc::strong_count(&self.lock) <= 2
            && checks
                .get(self.digest)
                .is_some_and(|lock| Arc::ptr_eq(lock, &self.lock))
        {
            checks.remove(self.digest);
        }
    }
}

impl CallerCache {
    fn get(&self, digest: &str) -> Option<TokenCaller> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(digest)
            .filter(|(at, _)| at.elapsed() < CALLER_CACHE_TTL)
            .map(|(_, caller)| caller.clone())
    }

    fn put(&self, digest: String, caller: TokenCaller) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CALLER_CACHE_MAX {
            entries.retain(|_, (at, _)| at.elapsed() < CALLER_CACHE_TTL);
            if entries.len() >= CALLER_CACHE_MAX {
                entries.clear();
            }
        }
        entries.insert(digest, (Instant::now(), caller));
    }

    fn check_turn<'a>(&'a self, digest: &'a str) -> CheckTurn<'a> {
        let mut checks = self.checks.lock().unwrap_or_else(|e| e.into_inner());
        let lock = checks.entry(digest.to_string()).or_default().clone();
        CheckTurn {
            checks: &self.checks,
            digest,
            lock,
        }
    }

    /// Drops the token's entry: called when it is deleted or regenerated in this process.
    pub fn forget_token(&self, token_id: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, (_, caller)| caller.token.id != token_id);
    }

    /// Drops every entry: called when a membership or role changes in this process.
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

/// [`authenticate`], reusing a success from the last [`CALLER_CACHE_TTL`].
pub async fn authenticate_cached(
    db: &DatabaseConnection,
    cache: &CallerCache,
    secret: &TokenSecret,
    basic_user: Option<&str>,
) -> Result<TokenCaller, AccessError> {
    let digest = secret.digest();
    let caller = match cache.get(&digest) {
        Some(caller) => caller,
        None => {
            let turn = cache.check_turn(&digest);
            let _checking = turn.lock.lock().await;
            // Whoever held the lock before us may just have checked this token.
            match cache.get(&digest) {
                Some(caller) => caller,
                None => {
                    let caller = authenticate_digest(db, &digest, basic_user).await?;
                    cache.put(digest.clone(), caller.clone());
                    return Ok(caller);
                }
            }
        }
    };
    // What can change without a write: the clock, and what this request sent.
    caller.check_clock(Utc::now())?;
    if let Some(name) = basic_user
        && !(name == caller.token.id || name.eq_ignore_ascii_case(&caller.username))
    {
        return Err(Denied::InvalidToken.into());
    }
    Ok(caller)
}
