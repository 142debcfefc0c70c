//! Who is calling with this token, and may they do this? [`check`] runs every check of
//! `docs/api.md`, in order, for the API, `/auth/verify` and `/oauth/introspect` alike:
//! the `Authorization` header's shape → format and checksum (before any database access) →
//! lookup by digest (current or rotated-out; on a miss, a value a regeneration replaced answers
//! `token_regenerated`) → not deleted (saying whether an admin revoked it or
//! it was reported as leaked) → not expired → for a rotated-out value, its overlap not over →
//! owner still active (not suspended) → Basic user name matches → not waiting for a team admin's
//! approval → owner still a member of the token's team → the caller's address is on the token's
//! allow-list, if it has one → the asked-for team is the token's team → the permissions the call
//! needs: all held by a fine-grained token; for a whole-team token, a service's scope only where
//! the team lets whole-team tokens open its services (docs/permissions.md) → for writes, the
//! token has `write` and the owner's current role allows writing, which yields a [`WriteGrant`].
//!
//! A token never grants more than its owner can do today: role and membership are read on every
//! check (or taken from a check of the last [`CALLER_CACHE_TTL`]), not copied into the token. A
//! domain function that takes rights away calls [`rights::changed`], which ends every cached check
//! in the process at once.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use base64::{Engine, engine::general_purpose::STANDARD};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter};

use crate::{
    entity::{team, token, user},
    error::Error,
    identity::names::Role,
    teams,
    tokens::{
        allow_list::AllowList,
        format::{FormatError, TokenSecret},
        permissions::{Permission, Permissions},
        rights,
    },
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
    /// A value a regeneration (or a later rotation) replaced, within 30 days of it
    /// (`tokens::retired`): whoever sends it held it, so the date tells them nothing new.
    #[error("This token was regenerated on {0}: use the new value.")]
    TokenRegenerated(String),
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
    /// A fine-grained token without a permission the call needs (or a whole-team token asked
    /// for a service's scope where its team does not let those through).
    #[error("{}", insufficient_permission(missing, *whole_team))]
    InsufficientPermission {
        /// What the call needs that the token lacks.
        missing: Vec<Permission>,
        /// What the call needs (the `Patdesk-Accepted-Permissions` header).
        needed: Vec<Permission>,
        /// The token is whole-team.
        whole_team: bool,
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
                | Denied::TokenRegenerated(_)
        )
    }
}

impl Denied {
    /// The error code the API answers with (`docs/api.md`), also the key of refusals in a
    /// token's usage history (`tokens::usage`).
    pub fn code(&self) -> &'static str {
        match self {
            Denied::MissingToken => "missing_token",
            Denied::MalformedToken(_) => "malformed_token",
            Denied::InvalidToken => "invalid_token",
            Denied::TokenRevoked | Denied::RevokedByAdmin | Denied::ReportedLeaked => {
                "token_revoked"
            }
            Denied::TokenExpired(_) => "token_expired",
            Denied::TokenRotated(_) => "token_rotated",
            Denied::TokenRegenerated(_) => "token_regenerated",
            Denied::IpNotAllowed(_) => "ip_not_allowed",
            Denied::NotAMember(_) => "not_a_member",
            Denied::PendingApproval(_) => "token_pending_approval",
            Denied::WrongTeam { .. } => "wrong_team",
            Denied::InsufficientPermission { .. } => "insufficient_permission",
            Denied::ReadOnlyToken => "read_only_token",
            Denied::InsufficientRole { .. } => "insufficient_role",
        }
    }

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
                | Denied::TokenRegenerated(_)
        )
    }
}

impl From<FormatError> for Denied {
    fn from(e: FormatError) -> Self {
        Denied::MalformedToken(format!("Malformed token: {e}."))
    }
}

/// How a client presents a token.
#[derive(Clone, Copy, Debug)]
pub enum Presented<'a> {
    /// Every `Authorization` header of the request, as sent: `Bearer <token>`, or `Basic`
    /// with the token as the password and its id or its owner's username as the user.
    Authorization(&'a [&'a [u8]]),
    /// A token value on its own (introspection's `token=` field).
    Value(&'a str),
}

/// What an `Authorization` header says, read for its scheme only (the token and the service
/// credential are parsed by their own rules).
#[derive(Debug, PartialEq, Eq)]
pub enum Scheme<'a> {
    Bearer(&'a str),
    Basic { user: String, password: String },
}

/// The scheme of one `Authorization` value; the refusal says what is wrong with it.
pub fn read_scheme(value: &[u8]) -> Result<Scheme<'_>, Denied> {
    let text = std::str::from_utf8(value)
        .ok()
        .filter(|text| {
            text.bytes()
                .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
        })
        .ok_or_else(|| {
            Denied::MalformedToken("The Authorization header is not plain text.".into())
        })?
        .trim();
    let (scheme, rest) = text.split_once(' ').unwrap_or((text, ""));
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Ok(Scheme::Bearer(rest));
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = STANDARD
            .decode(rest)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| {
                Denied::MalformedToken("The Basic credentials are not valid base64 text.".into())
            })?;
        let (user, password) = decoded
            .split_once(':')
            .ok_or_else(|| Denied::MalformedToken("Basic credentials are user:token.".into()))?;
        return Ok(Scheme::Basic {
            user: user.to_string(),
            password: password.to_string(),
        });
    }
    Err(Denied::MalformedToken(
        "Use the Bearer scheme (Authorization: Bearer <token>) or Basic with the token as the password.".into(),
    ))
}

/// A token, well-formed and with a good checksum, and the Basic user name sent with it.
#[derive(Debug)]
pub struct Credentials {
    secret: TokenSecret,
    basic_user: Option<String>,
}

impl Credentials {
    pub fn secret(&self) -> &TokenSecret {
        &self.secret
    }

    /// The Basic user name, if Basic was used.
    pub fn basic_user(&self) -> Option<&str> {
        self.basic_user.as_deref()
    }
}

impl Presented<'_> {
    /// The first two checks: the header's shape, then the token's format and checksum.
    pub fn credentials(self) -> Result<Credentials, Denied> {
        let values = match self {
            Presented::Value(raw) => {
                return Ok(Credentials {
                    secret: TokenSecret::parse(raw.trim())?,
                    basic_user: None,
                });
            }
            Presented::Authorization(values) => values,
        };
        let value = match values {
            [] => return Err(Denied::MissingToken),
            [value] => value,
            _ => {
                return Err(Denied::MalformedToken(
                    "Send one Authorization header, not several.".into(),
                ));
            }
        };
        Ok(match read_scheme(value)? {
            Scheme::Bearer(token) => Credentials {
                secret: TokenSecret::parse(token)?,
                basic_user: None,
            },
            Scheme::Basic { user, password } => Credentials {
                secret: TokenSecret::parse(&password)?,
                basic_user: Some(user),
            },
        })
    }
}

/// Which team the token must be scoped to.
#[derive(Clone, Copy, Debug)]
pub enum TeamScope<'a> {
    /// Any: the call names no team (`/api/v1/me`, the token's own endpoints).
    Any,
    /// The team a path or a proxy's configuration names, by slug (any case).
    Slug(&'a str),
    /// A team by id: the team of the service that introspects.
    Id(i64),
}

/// One call to check: how the token came, from where, for which team, with which permissions
/// (the endpoint's, a proxy's `scope=`), to read or to write.
#[derive(Clone, Copy, Debug)]
pub struct AccessRequest<'a> {
    pub presented: Presented<'a>,
    pub client_ip: Option<IpAddr>,
    pub team: TeamScope<'a>,
    /// Every one is needed; empty: any token of the team will do (`/api/v1/me`).
    pub needs: &'a [Permission],
    pub write: bool,
}

/// What a refusal for want of permissions says.
fn insufficient_permission(missing: &[Permission], whole_team: bool) -> String {
    let list = missing
        .iter()
        .map(Permission::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if whole_team {
        format!(
            "This token's team lets only tokens that hold a service's scope open the service: this call needs {list}. Create a token with only the permissions it needs."
        )
    } else {
        format!("This token does not have the permission this call needs: {list}.")
    }
}

/// The token a call came with, as the checks found it (never its secret or digest).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenInUse {
    pub id: String,
    pub description: String,
    pub team_id: i64,
    /// What the token was granted; [`TokenCaller::can_write`] says whether it may write today.
    pub write: bool,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// When the value was issued: created, or last regenerated or rotated.
    pub issued_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// Until when the value a rotation replaced still works (a time in the past: not any more).
    pub previous_valid_until: Option<DateTime<Utc>>,
    /// Calls allowed per minute: the token's own limit within its team's cap
    /// (`tokens::rate_limit`); `None`: unlimited.
    pub rate_limit: Option<u32>,
    /// A fine-grained token's permissions; `None`: whole-team.
    pub permissions: Option<Permissions>,
    /// A federated token's provenance in one line (`federation::provenance_summary`).
    pub provenance: Option<String>,
}

impl TokenInUse {
    fn of(token: &token::Model, team_cap: Option<i32>, permissions: Option<Permissions>) -> Self {
        TokenInUse {
            permissions,
            provenance: token
                .provenance
                .as_deref()
                .map(crate::tokens::federation::provenance_summary),
            id: token.id.clone(),
            description: token.description.clone(),
            team_id: token.team_id,
            write: token.write,
            expires_at: token.expires_at,
            created_at: token.created_at,
            issued_at: token.regenerated_at.unwrap_or(token.created_at),
            last_used_at: token.last_used_at,
            previous_valid_until: token.previous_valid_until,
            rate_limit: crate::tokens::rate_limit::effective(token.rate_limit_per_minute, team_cap),
        }
    }
}

/// The permission to write team content, as a value: made only by [`check`] for a call that
/// asked to write and passed every check, so that `domain::content`'s writes cannot be reached
/// any other way. It carries who writes, in which team, with which token, from where.
#[derive(Clone, Debug)]
pub struct WriteGrant {
    user_id: i64,
    username: String,
    team_id: i64,
    token_id: String,
    ip: Option<IpAddr>,
    /// A federated token's provenance, recorded with every write it makes.
    provenance: Option<String>,
}

impl WriteGrant {
    /// The team the write may change (the token's).
    pub fn team_id(&self) -> i64 {
        self.team_id
    }

    /// The token's owner, who is recorded as the author.
    pub fn user_id(&self) -> i64 {
        self.user_id
    }

    pub fn username(&self) -> &str {
        &self.username
    }

    pub fn token_id(&self) -> &str {
        &self.token_id
    }

    /// Where a federated token came from, in one line.
    pub fn provenance(&self) -> Option<&str> {
        self.provenance.as_deref()
    }

    /// The address the write came from (checked against the token's allow-list).
    pub fn ip(&self) -> Option<IpAddr> {
        self.ip
    }
}

/// An authenticated caller: the token in use, its owner, the token's team and the owner's
/// role in it today. Made only by [`check`].
#[derive(Debug, Clone)]
pub struct TokenCaller {
    token: TokenInUse,
    user_id: i64,
    username: String,
    team_slug: String,
    role: Role,
    allowed: AllowList,
    old_value: bool,
    write_grant: Option<WriteGrant>,
    whole_team_services: bool,
}

impl TokenCaller {
    pub fn token(&self) -> &TokenInUse {
        &self.token
    }

    pub fn user_id(&self) -> i64 {
        self.user_id
    }

    pub fn username(&self) -> &str {
        &self.username
    }

    pub fn team_slug(&self) -> &str {
        &self.team_slug
    }

    /// The token's allow-list.
    pub fn allowed(&self) -> &AllowList {
        &self.allowed
    }

    /// The call came with the value a rotation replaced (still in its overlap window).
    pub fn old_value(&self) -> bool {
        self.old_value
    }

    /// The permission to write, when the call asked to write and may.
    pub fn write_grant(&self) -> Option<&WriteGrant> {
        self.write_grant.as_ref()
    }

    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.token.expires_at
    }

    /// The owner is an admin of the token's team today.
    pub fn is_team_admin(&self) -> bool {
        self.role.is_admin()
    }

    /// Whether a write would pass now: a write token, and a role that still allows writing.
    /// (A token waiting for approval is refused before it gets here.)
    pub fn can_write(&self) -> bool {
        self.token.write && self.role.can_write()
    }

    /// Whether the token's team lets whole-team tokens open its services.
    pub fn whole_team_services(&self) -> bool {
        self.whole_team_services
    }
}

/// The outcome of a check: refused (with the reason, and the token when the refusal is about a
/// token that exists: its usage history counts it), or a database fault.
#[derive(Debug)]
pub enum AccessError {
    Denied {
        reason: Denied,
        token_id: Option<String>,
    },
    Internal(Error),
}

impl From<Denied> for AccessError {
    fn from(reason: Denied) -> Self {
        AccessError::Denied {
            reason,
            token_id: None,
        }
    }
}

impl Denied {
    /// This refusal, about the token `id`.
    fn of_token(self, id: &str) -> AccessError {
        AccessError::Denied {
            reason: self,
            token_id: Some(id.to_string()),
        }
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

/// What the database says of a token that is live, unexpired, and whose owner is active:
/// the part of a check that [`CallerCache`] keeps.
#[derive(Debug, Clone)]
struct Found {
    /// What the caller is given of the token, kept as it will be handed on (so a reused check
    /// clones it once).
    token: TokenInUse,
    pending_approval: bool,
    /// Looked up by the value a rotation replaced.
    old_value: bool,
    user_id: i64,
    username: String,
    team_slug: String,
    /// `None`: the owner is no longer a member of the token's team.
    role: Option<Role>,
    allowed: AllowList,
    /// The team lets whole-team tokens open its services.
    whole_team_services: bool,
}

impl Found {
    /// Kept for reuse only when it would pass: not waiting for approval, owner a member.
    fn passes(&self) -> bool {
        !self.pending_approval && self.role.is_some()
    }
}

/// Every check of the module's documentation, in order; the caller, with a [`WriteGrant`] when
/// `request.write` passed, or the refusal.
pub async fn check(
    db: &DatabaseConnection,
    cache: &CallerCache,
    request: AccessRequest<'_>,
) -> Result<TokenCaller, AccessError> {
    let credentials = request.presented.credentials()?;
    let found = cache.found(db, &credentials.secret.digest()).await?;
    let (role, write_grant) = match decide(&credentials, &found, &request) {
        Ok(passed) => passed,
        Err(reason) => return Err(reason.of_token(&found.token.id)),
    };
    Ok(TokenCaller {
        token: found.token,
        user_id: found.user_id,
        username: found.username,
        team_slug: found.team_slug,
        role,
        allowed: found.allowed,
        old_value: found.old_value,
        write_grant,
        whole_team_services: found.whole_team_services,
    })
}

/// The checks after the lookup, on what it found: the owner's role today, and the permission to
/// write when the call asked for it and may.
fn decide(
    credentials: &Credentials,
    found: &Found,
    request: &AccessRequest<'_>,
) -> Result<(Role, Option<WriteGrant>), Denied> {
    // What can change without a write: the clock (checked again for a reused check).
    check_clock(&found.token, found.old_value, Utc::now())?;
    if let Some(name) = &credentials.basic_user
        && !(*name == found.token.id || name.eq_ignore_ascii_case(&found.username))
    {
        return Err(Denied::InvalidToken);
    }
    if found.pending_approval {
        return Err(Denied::PendingApproval(found.team_slug.clone()));
    }
    let Some(role) = found.role else {
        return Err(Denied::NotAMember(found.team_slug.clone()));
    };
    if !found.allowed.is_any() {
        match request.client_ip {
            Some(ip) if found.allowed.allows(ip) => {}
            Some(ip) => return Err(Denied::IpNotAllowed(ip.to_canonical().to_string())),
            None => return Err(Denied::IpNotAllowed("an unknown address".into())),
        }
    }
    let other_team = match request.team {
        TeamScope::Any => None,
        TeamScope::Slug(slug) => {
            (!slug.eq_ignore_ascii_case(&found.team_slug)).then(|| slug.to_string())
        }
        TeamScope::Id(id) => (id != found.token.team_id).then(|| "another team".to_string()),
    };
    if let Some(path_team) = other_team {
        return Err(Denied::WrongTeam {
            token_team: found.team_slug.clone(),
            path_team,
        });
    }
    // A lookup in the small set the cached check carries: no query.
    let missing: Vec<Permission> = match &found.token.permissions {
        Some(held) => held.missing(request.needs).into_iter().cloned().collect(),
        None if found.whole_team_services => Vec::new(),
        None => request
            .needs
            .iter()
            .filter(|p| matches!(p, Permission::Service { .. }))
            .cloned()
            .collect(),
    };
    if !missing.is_empty() {
        return Err(Denied::InsufficientPermission {
            missing,
            needed: request.needs.to_vec(),
            whole_team: found.token.permissions.is_none(),
        });
    }
    if !request.write {
        return Ok((role, None));
    }
    if !found.token.write {
        return Err(Denied::ReadOnlyToken);
    }
    if !role.can_write() {
        return Err(Denied::InsufficientRole {
            team: found.team_slug.clone(),
            role,
        });
    }
    let grant = WriteGrant {
        user_id: found.user_id,
        username: found.username.clone(),
        team_id: found.token.team_id,
        token_id: found.token.id.clone(),
        ip: request.client_ip,
        provenance: found.token.provenance.clone(),
    };
    Ok((role, Some(grant)))
}

/// The database's part of a check, by the secret's digest (which is all the database knows of
/// it): the token (current or rotated-out value) → not deleted → clock → owner active; then
/// what the later checks read (approval, membership and role, allow-list).
async fn look_up(db: &DatabaseConnection, digest: &str) -> Result<Found, AccessError> {
    // The current value, or the one a rotation replaced (both indexed).
    let found = token::Entity::find()
        .filter(
            Condition::any()
                .add(token::Column::SecretDigest.eq(digest))
                .add(token::Column::PreviousDigest.eq(digest)),
        )
        .one(db)
        .await?;
    let Some(found) = found else {
        // The miss path only: a value no token has now may be one a regeneration replaced.
        let Some((token_id, at)) =
            crate::tokens::retired::regenerated_at(db, digest, Utc::now()).await?
        else {
            return Err(Denied::InvalidToken.into());
        };
        // A token deleted or revoked since says so: "use the new value" would send its owner
        // after a value that no longer works either.
        let ended = token::Entity::find_by_id(token_id.clone())
            .filter(token::Column::DeletedAt.is_not_null())
            .one(db)
            .await?;
        return Err(match ended {
            Some(ended) => ended_denial(&ended).of_token(&token_id),
            None => Denied::TokenRegenerated(crate::time::minute(at)).of_token(&token_id),
        });
    };
    let old_value = found.secret_digest != digest;
    if found.deleted_at.is_some() {
        return Err(ended_denial(&found).of_token(&found.id));
    }
    let team = team::Entity::find_by_id(found.team_id)
        .one(db)
        .await?
        .ok_or(Error::NotFound("team"))?;
    let permissions = crate::tokens::permissions::stored(found.permissions.as_deref())?;
    let token = TokenInUse::of(&found, team.max_rate_limit_per_minute, permissions);
    check_clock(&token, old_value, Utc::now()).map_err(|reason| reason.of_token(&found.id))?;
    let owner = user::Entity::find_by_id(found.user_id)
        .filter(user::Column::IsActive.eq(true))
        .one(db)
        .await?
        .ok_or_else(|| Denied::InvalidToken.of_token(&found.id))?;
    let team_slug = team.slug;
    let role = if found.pending_approval {
        None
    } else {
        teams::role(db, found.team_id, owner.id).await?
    };
    Ok(Found {
        allowed: AllowList::from_column(found.allowed_ips.as_deref()),
        pending_approval: found.pending_approval,
        token,
        old_value,
        user_id: owner.id,
        username: owner.username,
        team_slug,
        role,
        whole_team_services: team.whole_team_services,
    })
}

/// Why a deleted token refuses its calls: reported as leaked, revoked by a team admin, or
/// deleted by its owner.
fn ended_denial(ended: &token::Model) -> Denied {
    match ended.revoked_by {
        _ if ended.reported_leaked => Denied::ReportedLeaked,
        Some(_) => Denied::RevokedByAdmin,
        None => Denied::TokenRevoked,
    }
}

/// Not expired, and for an old value, its overlap not over.
fn check_clock(token: &TokenInUse, old_value: bool, now: DateTime<Utc>) -> Result<(), Denied> {
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

/// How long a successful check is reused. Whatever changes in another process (which deletes
/// the token, removes the owner from the team, changes a role) takes effect within this time;
/// changes in this process take effect at once ([`rights::changed`]).
pub const CALLER_CACHE_TTL: Duration = Duration::from_millis(500);

/// Entries beyond this are swept (and, if all are fresh, dropped) before a new one is added.
const CALLER_CACHE_MAX: usize = 10_000;

/// A check's database part, kept with when it was made and the rights version it saw.
#[derive(Debug)]
struct Entry {
    at: Instant,
    rights: u64,
    found: Found,
}

type Checks = Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>;

/// Recently checked tokens, by digest: a script calling in a loop costs a map lookup instead of
/// four queries per call. Only checks that pass are kept; the clock, the Basic user name, the
/// address, the team and write access are checked on every call all the same.
#[derive(Debug)]
pub struct CallerCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, Entry>>,
    /// One database check per digest at a time: when a busy token's entry runs out, the
    /// requests that arrive during its check wait for that one check instead of each making
    /// their own and queueing on the connection pool.
    checks: Checks,
}

impl Default for CallerCache {
    fn default() -> Self {
        CallerCache::with_ttl(CALLER_CACHE_TTL)
    }
}

/// A turn at checking one digest; leaving it (even by cancellation) removes the digest's lock
/// from the map once nobody else holds it.
struct CheckTurn<'a> {
    checks: &'a Checks,
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
    /// A cache that reuses a check for `ttl` (tests use a long one, so that only
    /// [`rights::changed`] can end an entry).
    pub fn with_ttl(ttl: Duration) -> Self {
        CallerCache {
            ttl,
            entries: Mutex::default(),
            checks: Mutex::default(),
        }
    }

    fn get(&self, digest: &str) -> Option<Found> {
        let rights = rights::version();
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(digest)
            .filter(|entry| entry.at.elapsed() < self.ttl && entry.rights == rights)
            .map(|entry| entry.found.clone())
    }

    fn put(&self, digest: String, rights: u64, found: Found) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CALLER_CACHE_MAX {
            entries.retain(|_, entry| entry.at.elapsed() < self.ttl);
            if entries.len() >= CALLER_CACHE_MAX {
                entries.clear();
            }
        }
        let at = Instant::now();
        entries.insert(digest, Entry { at, rights, found });
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

    /// The database's part of a check: reused from the last `ttl` when no right was taken away
    /// since, or looked up (once, however many calls wait for it).
    async fn found(&self, db: &DatabaseConnection, digest: &str) -> Result<Found, AccessError> {
        if let Some(found) = self.get(digest) {
            return Ok(found);
        }
        let turn = self.check_turn(digest);
        let _checking = turn.lock.lock().await;
        // Whoever held the lock before us may just have checked this token.
        if let Some(found) = self.get(digest) {
            return Ok(found);
        }
        // Read before the lookup: a change committed during it leaves the entry already stale.
        let rights = rights::version();
        let found = look_up(db, digest).await?;
        if found.passes() {
            self.put(digest.to_string(), rights, found.clone());
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: &str) -> Result<Credentials, Denied> {
        Presented::Authorization(&[value.as_bytes()]).credentials()
    }

    #[test]
    fn schemes_and_shapes() {
        let token = TokenSecret::generate();
        let value = token.expose();
        assert!(
            parse(&format!("Bearer {value}"))
                .unwrap()
                .basic_user()
                .is_none()
        );
        assert!(parse(&format!("bearer  {value} ")).is_ok());
        let basic = STANDARD.encode(format!("tok_x:{value}"));
        let parsed = parse(&format!("Basic {basic}")).unwrap();
        assert_eq!(parsed.basic_user(), Some("tok_x"));
        assert_eq!(
            Presented::Authorization(&[]).credentials().unwrap_err(),
            Denied::MissingToken
        );
        for bad in [
            "Bearer",
            "Bearer nope",
            "Token abc",
            "Basic !!!",
            &format!("Bearer {}", &value[..41]),
        ] {
            assert!(
                matches!(parse(bad), Err(Denied::MalformedToken(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_token_value_on_its_own_is_read_like_a_bearer_one() {
        let token = TokenSecret::generate();
        let parsed = Presented::Value(&format!(" {} ", token.expose()))
            .credentials()
            .unwrap();
        assert_eq!(parsed.secret().expose(), token.expose());
        assert!(matches!(
            Presented::Value("pdk_nope").credentials(),
            Err(Denied::MalformedToken(_))
        ));
    }
}
