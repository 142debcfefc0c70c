//! Personal access tokens: create, list, regenerate, delete — the rules of `docs/tokens.md`,
//! enforced here whatever the caller (web app, API, CLI) sends.
//!
//! The secret is returned once, by `create`, `regenerate` and `rotate`, as a [`TokenSecret`];
//! only its digest and a 4-character hint are stored (after a rotation, also the old value's,
//! until the next rotation or regeneration; values a regeneration replaced, as digests only,
//! for 30 days: `retired`).

pub mod access;
pub mod allow_list;
pub mod ended;
pub mod expiry;
pub mod federation;
pub use expiry::{SHORT_LIFETIME_DAYS, expiry_warns};
pub mod format;
pub mod governance;
pub mod leaks;
pub mod permissions;
pub mod policy;
pub mod rate_limit;
pub mod retired;
pub mod rights;
pub mod services;
pub mod usage;

use std::net::IpAddr;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, SqlErr,
};

pub use common::{EXPIRING_SOON_DAYS, ExpiryChoices, ExpiryOption, TokenKind};

use crate::{
    Origin,
    activity::{self, Actor, Event, Kind},
    db::begin_write,
    entity::{team, token},
    error::{Error, Result},
    identity::names::{Role, TeamSlug},
    notifications::{self, Notice, NoticeKind, TokenRef},
    teams,
    tokens::allow_list::AllowList,
    tokens::format::{TokenSecret, is_token_id, new_token_id},
    tokens::permissions::{Level, Permission, Permissions},
    tokens::policy::Policy,
};

/// How long a new token lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    /// One of the preset numbers of days from now.
    Days(u32),
    /// Through the end of this date (UTC).
    Until(NaiveDate),
    /// No expiry (where the choices allow it).
    Never,
    /// This long from now: a federated token's minutes (`tokens::federation`).
    For(Duration),
}

/// The lifetimes tokens may be given on this instance, under its token policy: what the form
/// offers, the CLI accepts and regeneration keeps to.
pub async fn expiry_choices(db: &impl ConnectionTrait) -> Result<ExpiryChoices> {
    Ok(policy::current(db).await?.expiry_choices())
}

impl Expiry {
    /// From the form's choice (a preset number of days, `custom` or `never`) and custom date.
    pub fn parse(
        choice: &str,
        custom_date: Option<&str>,
        today: NaiveDate,
        choices: &ExpiryChoices,
    ) -> Result<Self> {
        match ExpiryOption::parse(choice) {
            Some(ExpiryOption::Days(days)) => Expiry::days(days, choices),
            Some(ExpiryOption::Never) if choices.allow_never => Ok(Expiry::Never),
            Some(ExpiryOption::Custom) => Expiry::until(custom_date, today, choices),
            Some(ExpiryOption::Never) | None => {
                Err(Error::invalid("expiration", choices.refusal()))
            }
        }
    }

    /// A preset number of days (the CLI's `--expires-in-days`).
    pub fn days(days: u32, choices: &ExpiryChoices) -> Result<Self> {
        if choices.allows_preset(days) {
            Ok(Expiry::Days(days))
        } else {
            Err(Error::invalid("expiration", choices.refusal()))
        }
    }

    fn until(custom_date: Option<&str>, today: NaiveDate, choices: &ExpiryChoices) -> Result<Self> {
        let raw = custom_date.unwrap_or_default().trim();
        if raw.is_empty() {
            return Err(Error::invalid(
                "expires_on",
                "Choose a date for the token to expire.",
            ));
        }
        let date = NaiveDate::parse_from_str(raw, crate::time::DATE)
            .map_err(|_| Error::invalid("expires_on", "Enter the date as YYYY-MM-DD."))?;
        if date <= today {
            return Err(Error::invalid(
                "expires_on",
                "The expiry date must be in the future.",
            ));
        }
        let max = choices.max_custom_days;
        if (date - today).num_days() > i64::from(max) {
            return Err(Error::invalid(
                "expires_on",
                format!("The expiry date can be at most {max} days ahead."),
            ));
        }
        Ok(Expiry::Until(date))
    }

    /// The instant a token created at `now` stops working.
    pub fn expires_at(self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Expiry::Days(days) => Some(now + Duration::days(i64::from(days))),
            Expiry::Until(date) => date
                .succ_opt()
                .and_then(|next| next.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc()),
            Expiry::Never => None,
            Expiry::For(lifetime) => Some(now + lifetime),
        }
    }
}

/// A regenerated token keeps its lifetime, counted from now, as far as the policy allows: no
/// longer than a custom date can reach or the policy's maximum, and the default preset for a
/// token without expiry where "never" is not a choice.
fn regenerated_expiry(
    lifetime: Option<Duration>,
    now: DateTime<Utc>,
    policy: &Policy,
) -> Option<DateTime<Utc>> {
    let choices = policy.expiry_choices();
    // A custom date counts through the end of its day: up to a day past its reach in days.
    let longest = Duration::days(i64::from(choices.max_custom_days) + 1);
    let expires = match lifetime {
        Some(lifetime) => Some(now + lifetime.min(longest)),
        None if choices.allow_never => None,
        None => Some(now + Duration::days(i64::from(choices.default_days))),
    };
    match (expires, policy.latest_expiry(now)) {
        (Some(at), Some(latest)) => Some(at.min(latest)),
        (expires, _) => expires,
    }
}

/// A token as its owner sees it in a list: everything but the secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenInfo {
    pub id: String,
    pub description: String,
    pub team_slug: String,
    pub write: bool,
    pub kind: TokenKind,
    pub hint: String,
    pub created_at: DateTime<Utc>,
    /// When its current value was issued: its latest regeneration, else its creation.
    pub issued_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// Most recent first; at most five.
    pub last_used_ips: Vec<String>,
    /// A write token waiting for a team admin's approval: the API refuses it until then.
    pub pending_approval: bool,
    /// Set when someone other than the owner revoked it (a team admin).
    pub revoked: Option<Revocation>,
    /// Canonical CIDRs the token may be used from; empty: any address.
    pub allowed_ips: Vec<String>,
    /// The value the latest rotation replaced, while it still works.
    pub old_value: Option<OldValue>,
    /// The latest use was with the old value.
    pub last_used_old_value: bool,
    /// The token's own limit of calls per minute (its team's cap may hold it lower:
    /// `rate_limit::effective`); `None`: no limit of its own.
    pub rate_limit: Option<u32>,
    /// A fine-grained token's permissions; `None`: a whole-team token (docs/permissions.md).
    pub permissions: Option<Permissions>,
    /// A federated token's provenance (JSON: the identity token's claims;
    /// `federation::provenance_of`).
    pub provenance: Option<String>,
}

/// The value a rotation replaced, during its overlap window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OldValue {
    /// Its last four characters.
    pub hint: String,
    /// It works until then.
    pub valid_until: DateTime<Utc>,
    /// Its last use since the rotation.
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A token's revocation by a team admin, as its owner is shown it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Revocation {
    /// The admin's username (empty when the operator revoked it).
    pub by: String,
    pub at: DateTime<Utc>,
    pub reason: Option<String>,
    /// It was waiting for approval, and the admin denied it.
    pub denied: bool,
    /// Someone reported its value as leaked (`by` is empty, `reason` is what they said of
    /// where they found it).
    pub leaked: bool,
}

/// How long a token revoked by an admin (or reported as leaked) stays on its owner's token page.
pub const REVOKED_SHOWN_DAYS: i64 = 30;

impl TokenInfo {
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    /// Live, and expiring within [`EXPIRING_SOON_DAYS`].
    pub fn is_expiring_soon(&self, now: DateTime<Utc>) -> bool {
        !self.is_expired(now)
            && self
                .expires_at
                .is_some_and(|at| at - now <= Duration::days(EXPIRING_SOON_DAYS))
    }

    /// Expiring soon, and worth a warning ([`expiry_warns`]): what the token page's banner
    /// counts.
    pub fn warns_of_expiry(&self, now: DateTime<Utc>) -> bool {
        self.is_expiring_soon(now) && expiry_warns(self.kind, self.issued_at, self.expires_at)
    }

    pub(crate) fn from_model(m: token::Model, team_slug: String) -> Result<Self> {
        let last_used_ips = m
            .last_used_ips
            .as_deref()
            .and_then(|json| serde_json::from_str(json).ok())
            .unwrap_or_default();
        let old_value = match (&m.previous_hint, m.previous_valid_until) {
            (Some(hint), Some(until)) if until > Utc::now() => Some(OldValue {
                hint: hint.clone(),
                valid_until: until,
                last_used_at: m.previous_last_used_at,
            }),
            _ => None,
        };
        Ok(TokenInfo {
            allowed_ips: AllowList::from_column(m.allowed_ips.as_deref()).entries(),
            last_used_old_value: m.last_used_previous,
            old_value,
            id: m.id,
            description: m.description,
            team_slug,
            write: m.write,
            // The column is only ever written from `TokenKind::as_str`.
            kind: crate::db::stored("tokens.kind", &m.kind, TokenKind::parse)?,
            hint: m.hint,
            created_at: m.created_at,
            issued_at: m.regenerated_at.unwrap_or(m.created_at),
            expires_at: m.expires_at,
            last_used_at: m.last_used_at,
            last_used_ips,
            pending_approval: m.pending_approval,
            revoked: None,
            rate_limit: m.rate_limit_per_minute.and_then(|n| u32::try_from(n).ok()),
            permissions: permissions::stored(m.permissions.as_deref())?,
            provenance: m.provenance,
        })
    }
}

/// The answer to `create` and `regenerate`: the only place the secret ever appears.
#[derive(Debug)]
pub struct Issued {
    pub info: TokenInfo,
    pub secret: TokenSecret,
}

/// A description: 1–100 characters, no control or invisible formatting characters, trimmed.
pub fn parse_description(raw: &str) -> Result<String> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(Error::invalid(
            "description",
            "Enter a description, so you know what the token is for.",
        ));
    }
    if value.chars().count() > 100 {
        return Err(Error::invalid(
            "description",
            "A description is at most 100 characters long.",
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::invalid(
            "description",
            "A description cannot contain control characters.",
        ));
    }
    crate::text::check_visible("description", value)?;
    Ok(value.to_string())
}

/// What a new token asks for, as the caller sent it.
#[derive(Clone, Debug)]
pub struct NewToken<'a> {
    pub description: &'a str,
    pub team: &'a str,
    /// For a whole-team token; a fine-grained token writes when one of its permissions does.
    pub write: bool,
    /// `None`: a whole-team token; else only these (docs/permissions.md).
    pub permissions: Option<Permissions>,
    pub expiry: Expiry,
    pub kind: TokenKind,
    /// Where it may be used from ([`AllowList::any`] for anywhere).
    pub allowed: AllowList,
    /// Calls allowed per minute (1–100,000, within the team's cap); `None`: no limit.
    pub rate_limit: Option<u32>,
}

fn duplicate_description() -> Error {
    Error::conflict(
        "description",
        "You already have a token with this description: choose another.",
    )
}

/// The owner's live tokens whose description counts as this one (same
/// [`common::description_key`]: what the unique index on `description_key` would refuse).
async fn live_namesakes(
    db: &impl ConnectionTrait,
    owner_id: i64,
    description: &str,
) -> Result<Vec<token::Model>> {
    Ok(token::Entity::find()
        .filter(token::Column::UserId.eq(owner_id))
        .filter(token::Column::DescriptionKey.eq(common::description_key(description)))
        .filter(token::Column::DeletedAt.is_null())
        .all(db)
        .await?)
}

/// Creates a token for its owner, who asked for it (from `ip`).
pub async fn create(
    db: &DatabaseConnection,
    owner: Origin<i64>,
    request: NewToken<'_>,
) -> Result<Issued> {
    create_as(db, owner.into(), owner.who, request, Making::default()).await
}

/// Creates a token for `owner_id` at the operator's request (`patdesk token create`).
pub async fn create_by_operator(
    db: &DatabaseConnection,
    owner_id: i64,
    request: NewToken<'_>,
) -> Result<Issued> {
    create_as(db, Origin::OPERATOR, owner_id, request, Making::APPROVED).await
}

/// Creates a token for `owner_id` that whoever made it (`by`: a team admin or the operator, who
/// checked they may: `identity::service_accounts`, `tokens::federation`) approved in doing so.
pub(crate) async fn create_approved(
    db: &DatabaseConnection,
    by: Origin,
    owner_id: i64,
    request: NewToken<'_>,
) -> Result<Issued> {
    create_as(db, by, owner_id, request, Making::APPROVED).await
}

/// A federated token (`tokens::federation`): approved by the trust policy an admin made, with
/// where it came from.
pub(crate) async fn create_federated(
    db: &DatabaseConnection,
    owner_id: i64,
    request: NewToken<'_>,
    provenance: String,
) -> Result<Issued> {
    let making = Making {
        approved: true,
        provenance: Some(provenance),
    };
    let by = Origin::new(Actor::User(owner_id), None);
    create_as(db, by, owner_id, request, making).await
}

/// What a new token is beyond what its request says.
#[derive(Clone, Debug, Default)]
struct Making {
    /// Approved by whoever made it (the operator; an admin for a service account; a trust
    /// policy): a write token does not wait for approval. Otherwise it waits where its team
    /// requires approval, unless its owner is an admin.
    approved: bool,
    /// A federated token's provenance (JSON).
    provenance: Option<String>,
}

impl Making {
    const APPROVED: Making = Making {
        approved: true,
        provenance: None,
    };
}

async fn create_as(
    db: &DatabaseConnection,
    by: Origin,
    owner_id: i64,
    request: NewToken<'_>,
    making: Making,
) -> Result<Issued> {
    let Origin { who: actor, ip } = by;
    let description = parse_description(request.description)?;
    let rate_limit = rate_limit::check("rate_limit", request.rate_limit)?;
    let txn = begin_write(db).await?;
    let (team, role) = member_team(&txn, owner_id, request.team).await?;
    permissions::check_new(&txn, &team, request.permissions.as_ref()).await?;
    // A fine-grained token writes exactly when one of its permissions does: approval and the
    // owner's role then apply as to any write token.
    let write = match &request.permissions {
        Some(permissions) => permissions.any_write(),
        None => request.write,
    };
    if write && !role.can_write() {
        return Err(read_only_role(role, &team.slug));
    }
    within_team_cap(&team, rate_limit)?;
    if !live_namesakes(&txn, owner_id, &description)
        .await?
        .is_empty()
    {
        return Err(duplicate_description());
    }
    // Where the team requires it, a member's write token waits for an admin (the operator's
    // and admins' own tokens do not).
    let pending = write && team.require_write_approval && !making.approved && !role.is_admin();
    let now = Utc::now();
    // The caller parsed the expiry against the policy it read; this is the policy in force.
    let expires_at = request.expiry.expires_at(now);
    let policy = policy::current(&txn).await?;
    if !policy.allows(now, expires_at) {
        return Err(Error::invalid(
            "expiration",
            policy.expiry_choices().refusal(),
        ));
    }
    let issued = insert(
        &txn,
        Row {
            actor,
            owner_id,
            team,
            description,
            write,
            pending,
            kind: request.kind,
            expires_at,
            allowed: request.allowed,
            rate_limit,
            permissions: request.permissions,
            provenance: making.provenance,
            now,
        },
        ip,
    )
    .await?;
    txn.commit().await?;
    Ok(issued)
}

/// The API explorer's token for one team: deletes the owner's previous explorer token for the
/// team and creates a new one, "API explorer (<team>)", valid for the policy's explorer lifetime, with write access
/// exactly when the owner's role allows it. Both happen in one transaction, so a user has at most
/// one live explorer token per team.
pub async fn open_explorer(
    db: &DatabaseConnection,
    owner: Origin<i64>,
    team: &str,
) -> Result<Issued> {
    let owner_id = owner.who;
    let (team, role) = member_team(db, owner_id, team).await?;
    let description = format!("API explorer ({})", team.slug);
    // The previous explorer token has this name too; any other token with it is in the way.
    let personal_namesake = live_namesakes(db, owner_id, &description)
        .await?
        .iter()
        .try_fold(false, |found, t| {
            let kind = crate::db::stored("tokens.kind", &t.kind, TokenKind::parse)?;
            Ok::<_, Error>(found || kind != TokenKind::Explorer)
        })?;
    if personal_namesake {
        return Err(Error::Rule(format!(
            "You have a token described as \"{description}\", the name the explorer gives its \
             own token: rename or delete it to use the explorer with {}.",
            team.slug
        )));
    }
    // Two tabs opening the explorer at once both delete the old token and then race to insert;
    // the unique index on descriptions lets one win, and the other simply tries again.
    let mut attempts = 0;
    loop {
        attempts += 1;
        match replace_explorer_token(db, owner, &team, role, &description).await {
            Err(Error::Conflict { .. }) if attempts < 3 => continue,
            outcome => return outcome,
        }
    }
}

async fn replace_explorer_token(
    db: &DatabaseConnection,
    owner: Origin<i64>,
    team: &team::Model,
    role: Role,
    description: &str,
) -> Result<Issued> {
    let Origin { who: owner_id, ip } = owner;
    let txn = begin_write(db).await?;
    let now = Utc::now();
    let lifetime = policy::current(&txn).await?.explorer_lifetime();
    let previous = token::Entity::find()
        .filter(token::Column::UserId.eq(owner_id))
        .filter(token::Column::TeamId.eq(team.id))
        .filter(token::Column::Kind.eq(TokenKind::Explorer.as_str()))
        .filter(token::Column::DeletedAt.is_null())
        .all(&txn)
        .await?;
    for old in previous {
        let old_id = old.id.clone();
        let mut active: token::ActiveModel = old.into();
        active.deleted_at = Set(Some(now));
        active.update(&txn).await?;
        let event = Event::own_by(owner, Kind::TokenDeleted)
            .token(old_id)
            .target(format!(
                "token \"{description}\" (replaced by a new explorer token)"
            ));
        activity::record(&txn, event).await?;
    }
    let issued = insert(
        &txn,
        Row {
            actor: Actor::User(owner_id),
            owner_id,
            team: team.clone(),
            description: description.to_string(),
            write: explorer_may_write(team, role),
            pending: false,
            kind: TokenKind::Explorer,
            expires_at: Some(now + lifetime),
            // The explorer calls from the browser of whoever opened it.
            allowed: AllowList::any(),
            // Its team's cap, if any, applies all the same.
            rate_limit: None,
            // It exists to try everything: whole-team.
            permissions: None,
            provenance: None,
            now,
        },
        ip,
    )
    .await?;
    txn.commit().await?;
    crate::tokens::rights::changed();
    Ok(issued)
}

/// The explorer's token writes when the owner's role allows it, except in a team that requires
/// approval of write tokens, where only its admins' explorer tokens write.
fn explorer_may_write(team: &team::Model, role: Role) -> bool {
    role.can_write() && (!team.require_write_approval || role.is_admin())
}

/// The team named by `slug` and the owner's role in it; any team the owner is not in (or that
/// does not exist) is the same "choose one of your teams".
async fn member_team(
    db: &impl ConnectionTrait,
    owner_id: i64,
    slug: &str,
) -> Result<(team::Model, Role)> {
    let slug = TeamSlug::parse(slug).map_err(|_| not_your_team())?;
    let team = teams::find(db, &slug).await?.ok_or_else(not_your_team)?;
    let role = teams::role(db, team.id, owner_id)
        .await?
        .ok_or_else(not_your_team)?;
    Ok((team, role))
}

/// A validated token about to be stored.
struct Row {
    actor: Actor,
    owner_id: i64,
    team: team::Model,
    description: String,
    write: bool,
    /// Waits for a team admin's approval.
    pending: bool,
    kind: TokenKind,
    expires_at: Option<DateTime<Utc>>,
    allowed: AllowList,
    rate_limit: Option<u32>,
    permissions: Option<Permissions>,
    provenance: Option<String>,
    now: DateTime<Utc>,
}

/// A token's own limit may not exceed its team's cap.
fn within_team_cap(team: &team::Model, limit: Option<u32>) -> Result<()> {
    match (limit, team.max_rate_limit_per_minute) {
        (Some(limit), Some(cap)) if i64::from(limit) > i64::from(cap) => Err(Error::invalid(
            "rate_limit",
            format!(
                "Team {} allows at most {cap} calls per minute per token.",
                team.slug
            ),
        )),
        _ => Ok(()),
    }
}

/// Stores a new token with a fresh secret and records its creation (in the caller's
/// transaction).
async fn insert(db: &impl ConnectionTrait, row: Row, ip: Option<IpAddr>) -> Result<Issued> {
    let secret = TokenSecret::generate();
    let model = token::ActiveModel {
        id: Set(new_token_id()),
        user_id: Set(row.owner_id),
        team_id: Set(row.team.id),
        description_key: Set(common::description_key(&row.description)),
        description: Set(row.description),
        secret_digest: Set(secret.digest()),
        hint: Set(secret.hint()),
        write: Set(row.write),
        kind: Set(row.kind.as_str().to_string()),
        expires_at: Set(row.expires_at),
        created_at: Set(row.now),
        regenerated_at: Set(None),
        last_used_at: Set(None),
        last_used_ips: Set(None),
        deleted_at: Set(None),
        revoked_by: Set(None),
        revoke_reason: Set(None),
        pending_approval: Set(row.pending),
        reported_leaked: Set(false),
        leak_source: Set(None),
        allowed_ips: Set(row.allowed.to_column()),
        previous_digest: Set(None),
        previous_hint: Set(None),
        previous_valid_until: Set(None),
        previous_last_used_at: Set(None),
        last_used_previous: Set(false),
        rate_limit_per_minute: Set(row.rate_limit.and_then(|n| i32::try_from(n).ok())),
        permissions: Set(row.permissions.as_ref().map(Permissions::joined)),
        provenance: Set(row.provenance),
    }
    .insert(db)
    .await
    .map_err(|e| match e.sql_err() {
        // Two requests racing for the same description: the partial unique index decides.
        Some(SqlErr::UniqueConstraintViolation(_)) => duplicate_description(),
        _ => Error::Database(e),
    })?;
    // The explorer's and federated tokens are made by machines, often: no notice each time.
    if row.kind == TokenKind::Personal {
        let notice = Notice::new(
            NoticeKind::TokenCreated,
            row.owner_id,
            TokenRef::of(&model, row.team.slug.clone()),
        );
        notifications::notify(db, notice, row.now).await?;
    }
    let info = TokenInfo::from_model(model, row.team.slug)?;
    let event = Event::new(Some(row.owner_id), row.actor, Kind::TokenCreated)
        .ip(ip)
        .token(info.id.clone())
        .target(format!(
            "token \"{}\" for team {}",
            info.description, info.team_slug
        ));
    activity::record(db, event).await?;
    Ok(Issued { info, secret })
}

fn not_your_team() -> Error {
    Error::invalid("team", "Choose one of your teams.")
}

fn read_only_role(role: Role, team: &str) -> Error {
    Error::invalid(
        "write",
        format!("Your role in {team} is {role}: write access needs the writer or admin role."),
    )
}

/// The owner's tokens that are not deleted, newest first (expired ones included), and those a
/// team admin revoked in the last [`REVOKED_SHOWN_DAYS`] days, with who did it and why.
pub async fn list(db: &DatabaseConnection, owner_id: i64) -> Result<Vec<TokenInfo>> {
    let revoked_since = Utc::now() - Duration::days(REVOKED_SHOWN_DAYS);
    let tokens = token::Entity::find()
        .filter(token::Column::UserId.eq(owner_id))
        .filter(
            Condition::any()
                .add(token::Column::DeletedAt.is_null())
                .add(
                    Condition::all()
                        .add(
                            Condition::any()
                                .add(token::Column::RevokedBy.is_not_null())
                                .add(token::Column::ReportedLeaked.eq(true)),
                        )
                        .add(token::Column::DeletedAt.gt(revoked_since)),
                ),
        )
        .order_by_desc(token::Column::CreatedAt)
        .all(db)
        .await?;
    let admins =
        crate::identity::users::usernames_by_id(db, tokens.iter().filter_map(|t| t.revoked_by))
            .await?;
    let slugs = teams::slugs_by_id(db, tokens.iter().map(|t| t.team_id)).await?;
    tokens
        .into_iter()
        .map(|t| {
            let slug = slugs.get(&t.team_id).cloned().unwrap_or_default();
            let revoked = match (t.revoked_by, t.deleted_at) {
                (_, Some(at)) if t.reported_leaked => Some(Revocation {
                    by: String::new(),
                    at,
                    reason: t.leak_source.clone(),
                    denied: false,
                    leaked: true,
                }),
                (Some(by), Some(at)) => Some(Revocation {
                    by: admins.get(&by).cloned().unwrap_or_default(),
                    at,
                    reason: t.revoke_reason.clone(),
                    denied: t.pending_approval,
                    leaked: false,
                }),
                _ => None,
            };
            Ok(TokenInfo {
                revoked,
                ..TokenInfo::from_model(t, slug)?
            })
        })
        .collect()
}

/// One of the owner's live tokens, locked until the write transaction it is read in ends (so a
/// regeneration and a deletion of one token happen one after the other); other people's tokens
/// are "not found", never "forbidden".
async fn lock_owned(
    db: &impl ConnectionTrait,
    owner_id: i64,
    token_id: &str,
) -> Result<token::Model> {
    if !is_token_id(token_id) {
        return Err(Error::NotFound("token"));
    }
    token::Entity::find_by_id(token_id.to_string())
        .filter(token::Column::UserId.eq(owner_id))
        .filter(token::Column::DeletedAt.is_null())
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or(Error::NotFound("token"))
}

/// A new secret for the token: same id and settings, the same lifetime counted from now. The
/// old secret stops working at once (its digest is replaced, and kept apart for 30 days so that
/// the API can say it was regenerated: `retired`), as does any value an earlier rotation left
/// working.
pub async fn regenerate(
    db: &DatabaseConnection,
    owner: Origin<i64>,
    token_id: &str,
) -> Result<Issued> {
    let owner_id = owner.who;
    let txn = begin_write(db).await?;
    let current = lock_owned(&txn, owner_id, token_id).await?;
    let issued = reissue(&txn, current, None).await?;
    let event = Event::own_by(owner, Kind::TokenRegenerated);
    finish_change(txn, event, &issued.info, "").await?;
    Ok(issued)
}

/// The longest overlap a rotation may keep the old value working for.
pub const MAX_OVERLAP: Duration = Duration::days(7);

/// The shortest overlap a rotation may ask for (`PATDESK_MIN_OVERLAP_SECONDS`, default
/// [`MinOverlap::DEFAULT`]): a window shorter than a deployment takes defeats its purpose, so
/// only tests lower it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MinOverlap(pub Duration);

impl MinOverlap {
    pub const DEFAULT: MinOverlap = MinOverlap(Duration::seconds(60));
}

impl Default for MinOverlap {
    fn default() -> Self {
        MinOverlap::DEFAULT
    }
}

/// What `rotate` answers: the new value (once) and until when the old one still works.
#[derive(Debug)]
pub struct Rotated {
    pub issued: Issued,
    pub old_valid_until: DateTime<Utc>,
}

/// A new value, like [`regenerate`], while the current value keeps working for
/// `overlap_seconds` (as the API and the form send it: between `min_overlap` —
/// `PATDESK_MIN_OVERLAP_SECONDS` — and [`MAX_OVERLAP`], and never past the token's current
/// expiry), so that the jobs using it can be moved to the new one without
/// a gap. A value an earlier rotation left working stops at once: there is one old value at a
/// time.
pub async fn rotate(
    db: &DatabaseConnection,
    owner: Origin<i64>,
    token_id: &str,
    overlap_seconds: i64,
    MinOverlap(min_overlap): MinOverlap,
) -> Result<Rotated> {
    let owner_id = owner.who;
    // Checked as a number first, so that whatever a caller sends, the Duration cannot overflow.
    if !(min_overlap.num_seconds()..=MAX_OVERLAP.num_seconds()).contains(&overlap_seconds) {
        return Err(Error::invalid(
            "overlap",
            format!(
                "The old value can stay valid for {} to 7 days ({} to {} seconds).",
                overlap_words(min_overlap),
                min_overlap.num_seconds(),
                MAX_OVERLAP.num_seconds()
            ),
        ));
    }
    let overlap = Duration::seconds(overlap_seconds);
    let txn = begin_write(db).await?;
    let current = lock_owned(&txn, owner_id, token_id).await?;
    let now = Utc::now();
    if let Some(expires_at) = current.expires_at {
        let remaining = expires_at - now;
        if remaining <= Duration::zero() {
            return Err(Error::invalid(
                "overlap",
                "This token has expired, so its value cannot stay valid: regenerate it instead.",
            ));
        }
        if overlap > remaining {
            return Err(Error::invalid(
                "overlap",
                format!(
                    "The old value cannot outlive the token, which expires in {} ({}): choose a shorter overlap.",
                    overlap_words(remaining),
                    crate::time::minute(expires_at)
                ),
            ));
        }
    }
    let old_valid_until = now + overlap;
    let issued = reissue(&txn, current, Some(old_valid_until)).await?;
    let event = Event::own_by(owner, Kind::TokenRotated);
    let until = crate::time::minute(old_valid_until);
    let detail = format!(" (old value valid until {until})");
    finish_change(txn, event, &issued.info, &detail).await?;
    Ok(Rotated {
        issued,
        old_valid_until,
    })
}

/// "1 hour", "7 days", "90 seconds": the largest whole unit.
fn overlap_words(span: Duration) -> String {
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit}")
        } else {
            format!("{n} {unit}s")
        }
    };
    match span.num_seconds() {
        s if s >= 86_400 => plural(s / 86_400, "day"),
        s if s >= 3_600 => plural(s / 3_600, "hour"),
        s if s >= 60 => plural(s / 60, "minute"),
        s => plural(s, "second"),
    }
}

/// Ends a rotation's overlap now: the old value stops working at once.
pub async fn end_overlap(
    db: &DatabaseConnection,
    owner: Origin<i64>,
    token_id: &str,
) -> Result<TokenInfo> {
    let owner_id = owner.who;
    let txn = begin_write(db).await?;
    let current = lock_owned(&txn, owner_id, token_id).await?;
    let now = Utc::now();
    if current
        .previous_valid_until
        .is_none_or(|until| until <= now)
    {
        return Err(Error::Rule(
            "This token has no old value still working: its overlap has ended already.".into(),
        ));
    }
    let info = save(&txn, current, |t| t.previous_valid_until = Set(Some(now))).await?;
    let event = Event::own_by(owner, Kind::TokenOverlapEnded);
    finish_change(txn, event, &info, "").await?;
    Ok(info)
}

/// Gives the (locked) token a new value with its lifetime counted from now. With `keep_until`,
/// the current value stays valid until then (a rotation); without, it dies at once (a
/// regeneration). Either way an older rotated-out value is forgotten.
async fn reissue(
    txn: &impl ConnectionTrait,
    current: token::Model,
    keep_until: Option<DateTime<Utc>>,
) -> Result<Issued> {
    // Its minutes come from the identity token it was exchanged for: a new value would outlive
    // that proof (docs/service-accounts.md).
    if current.kind == TokenKind::Federated.as_str() {
        return Err(Error::Rule(
            "A token minted by an identity-token exchange cannot be regenerated or rotated: exchange a fresh identity token instead.".into(),
        ));
    }
    let now = Utc::now();
    let issued_at = current.regenerated_at.unwrap_or(current.created_at);
    let lifetime = current.expires_at.map(|at| at - issued_at);
    let secret = TokenSecret::generate();
    let team_id = current.team_id;
    let (old_digest, old_hint) = (current.secret_digest.clone(), current.hint.clone());
    let (token_id, old_previous) = (current.id.clone(), current.previous_digest.clone());
    let mut active: token::ActiveModel = current.into();
    active.secret_digest = Set(secret.digest());
    active.hint = Set(secret.hint());
    active.regenerated_at = Set(Some(now));
    let policy = policy::current(txn).await?;
    active.expires_at = Set(regenerated_expiry(lifetime, now, &policy));
    let kept = keep_until.is_some();
    // The values that stop working for good are remembered, for `token_regenerated`: the
    // current one unless a rotation keeps it, and whatever an earlier rotation left.
    let retired = [(!kept).then(|| old_digest.clone()), old_previous]
        .into_iter()
        .flatten();
    retired::retire(txn, &token_id, retired, now).await?;
    active.previous_digest = Set(kept.then_some(old_digest));
    active.previous_hint = Set(kept.then_some(old_hint));
    active.previous_valid_until = Set(keep_until);
    active.previous_last_used_at = Set(None);
    active.last_used_previous = Set(false);
    let model = active.update(txn).await?;
    let info = TokenInfo::from_model(model, teams::slug_of(txn, team_id).await?)?;
    Ok(Issued { info, secret })
}

/// Sets where the token may be used from. Its owner may set any list; an admin of the token's
/// team may only narrow another member's (every new entry inside the current list, and "any
/// address" only where it already was), so that an admin can contain a token but not open it
/// up. Anyone else gets "not found". Takes effect at the next call (within the API's
/// half-second cache in other processes).
pub async fn set_allowed_ips(
    db: &DatabaseConnection,
    by: Origin,
    token_id: &str,
    allowed: AllowList,
) -> Result<TokenInfo> {
    let txn = begin_write(db).await?;
    let (current, changer) = token_to_change(&txn, by.who, token_id).await?;
    if changer == Changer::TeamAdmin
        && !allowed.is_within(&AllowList::from_column(current.allowed_ips.as_deref()))
    {
        return Err(Error::invalid(
            "allowed_ips",
            "A team admin can narrow another member's list but not widen it: every entry must lie within the current list.",
        ));
    }
    let owner_id = current.user_id;
    let info = save(&txn, current, |t| t.allowed_ips = Set(allowed.to_column())).await?;
    let list = if allowed.is_any() {
        "any address".to_string()
    } else {
        allowed.entries().join(", ")
    };
    let event = Event::by(by, Some(owner_id), Kind::TokenAllowedIpsChanged);
    finish_change(txn, event, &info, &format!(": {list}")).await?;
    Ok(info)
}

/// Who changes a token's setting: its owner (or the operator), within the rules; or an admin of
/// its team, who may only narrow what another member set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Changer {
    Owner,
    TeamAdmin,
}

/// The live token `token_id`, locked for a change by `actor`, and who they are to it. Anyone but
/// its owner, the operator and its team's admins is told there is no such token.
async fn token_to_change(
    txn: &DatabaseTransaction,
    actor: Actor,
    token_id: &str,
) -> Result<(token::Model, Changer)> {
    if !is_token_id(token_id) {
        return Err(Error::NotFound("token"));
    }
    let current = token::Entity::find_by_id(token_id.to_string())
        .filter(token::Column::DeletedAt.is_null())
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or(Error::NotFound("token"))?;
    let changer = changer_of(txn, actor, &current).await?;
    Ok((current, changer))
}

/// Who `actor` is to `token`: its owner (as is the operator) or an admin of its team. Anyone
/// else is told there is no such token: the rule for changing a token's settings and for reading
/// its usage.
pub(crate) async fn changer_of(
    db: &impl ConnectionTrait,
    actor: Actor,
    token: &token::Model,
) -> Result<Changer> {
    match actor {
        Actor::User(user_id) if user_id != token.user_id => {
            let role = teams::role(db, token.team_id, user_id).await?;
            if !role.is_some_and(|r| r.is_admin()) {
                return Err(Error::NotFound("token"));
            }
            Ok(Changer::TeamAdmin)
        }
        _ => Ok(Changer::Owner),
    }
}

/// Changes a token's limit of calls per minute: its owner sets any limit within the team's cap
/// (or none); an admin of the token's team may only narrow it (a lower limit than the one in
/// force). Anyone else is told there is no such token.
pub async fn set_rate_limit(
    db: &DatabaseConnection,
    by: Origin,
    token_id: &str,
    limit: Option<u32>,
) -> Result<TokenInfo> {
    let limit = rate_limit::check("rate_limit", limit)?;
    let txn = begin_write(db).await?;
    let (current, changer) = token_to_change(&txn, by.who, token_id).await?;
    let team = team::Entity::find_by_id(current.team_id)
        .one(&txn)
        .await?
        .ok_or(Error::NotFound("token"))?;
    if changer == Changer::TeamAdmin {
        let in_force = rate_limit::effective(
            current.rate_limit_per_minute,
            team.max_rate_limit_per_minute,
        );
        let lower = match (limit, in_force) {
            (Some(new), Some(now)) => new <= now,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if !lower {
            return Err(Error::invalid(
                "rate_limit",
                "A team admin can lower another member's rate limit but not raise or remove it.",
            ));
        }
    }
    let owner_id = current.user_id;
    within_team_cap(&team, limit)?;
    let stored = limit.and_then(|n| i32::try_from(n).ok());
    let info = save(&txn, current, |t| t.rate_limit_per_minute = Set(stored)).await?;
    let detail = match limit {
        Some(n) => format!(": {n} calls per minute"),
        None => ": no limit".to_string(),
    };
    let event = Event::by(by, Some(owner_id), Kind::TokenRateLimitChanged);
    finish_change(txn, event, &info, &detail).await?;
    Ok(info)
}

/// Renames the owner's live token: the same rules as a new token's description
/// ([`parse_description`], unique among the owner's live tokens but for itself, so that a change
/// of case alone is allowed). Anyone else's token is "not found", a team admin's view included:
/// the description is the owner's note to themselves.
pub async fn set_description(
    db: &DatabaseConnection,
    owner: Origin<i64>,
    token_id: &str,
    raw: &str,
) -> Result<TokenInfo> {
    let owner_id = owner.who;
    let description = parse_description(raw)?;
    let txn = begin_write(db).await?;
    let current = lock_owned(&txn, owner_id, token_id).await?;
    // An expired token is read-only like a deleted one (its page offers Regenerate only).
    if current.expires_at.is_some_and(|at| at <= Utc::now()) {
        return Err(Error::NotFound("token"));
    }
    if live_namesakes(&txn, owner_id, &description)
        .await?
        .iter()
        .any(|t| t.id != current.id)
    {
        return Err(duplicate_description());
    }
    let before = current.description.clone();
    let key = common::description_key(&description);
    let info = save(&txn, current, |t| {
        t.description = Set(description);
        t.description_key = Set(key);
    })
    .await
    .map_err(|e| match e {
        // A concurrent rename or creation took the description: the unique index decides.
        Error::Database(db)
            if matches!(db.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) =>
        {
            duplicate_description()
        }
        other => other,
    })?;
    let event = Event::own_by(owner, Kind::TokenDescriptionChanged);
    finish_change(txn, event, &info, &format!(" (was \"{before}\")")).await?;
    Ok(info)
}

/// Deletes (revokes) the token: API calls with it fail from now on.
pub async fn delete(
    db: &DatabaseConnection,
    owner: Origin<i64>,
    token_id: &str,
) -> Result<TokenInfo> {
    delete_as(db, owner.into(), owner.who, token_id).await
}

/// Deletes `owner_id`'s token, recording `actor` as the one who did it.
async fn delete_as(
    db: &DatabaseConnection,
    by: Origin,
    owner_id: i64,
    token_id: &str,
) -> Result<TokenInfo> {
    let txn = begin_write(db).await?;
    let current = lock_owned(&txn, owner_id, token_id).await?;
    let info = save(&txn, current, |t| t.deleted_at = Set(Some(Utc::now()))).await?;
    let event = Event::by(by, Some(owner_id), Kind::TokenDeleted);
    finish_change(txn, event, &info, "").await?;
    Ok(info)
}

/// Revokes the token whose value this is, for whoever holds it (`POST /oauth/revoke`, RFC
/// 7009: a CI job ends its token when done). The current value deletes the token; a rotated-out
/// value that still works stops (the new one goes on). Anything else — malformed, unknown,
/// already ended — changes nothing: the caller learns nothing either way (RFC 7009 §2.2).
pub async fn revoke_by_value(
    db: &DatabaseConnection,
    value: &str,
    ip: Option<IpAddr>,
) -> Result<()> {
    let Ok(secret) = TokenSecret::parse(value.trim()) else {
        return Ok(());
    };
    let digest = secret.digest();
    let txn = begin_write(db).await?;
    let found = token::Entity::find()
        .filter(
            Condition::any()
                .add(token::Column::SecretDigest.eq(&digest))
                .add(token::Column::PreviousDigest.eq(&digest)),
        )
        .filter(token::Column::DeletedAt.is_null())
        .lock_exclusive()
        .one(&txn)
        .await?;
    let Some(current) = found else {
        return Ok(());
    };
    let owner_id = current.user_id;
    let now = Utc::now();
    let (info, detail) = if current.secret_digest == digest {
        let info = save(&txn, current, |t| t.deleted_at = Set(Some(now))).await?;
        (info, " with its value")
    } else if current
        .previous_valid_until
        .is_some_and(|until| until > now)
    {
        let info = save(&txn, current, |t| t.previous_valid_until = Set(Some(now))).await?;
        (info, ": its old value, presented after a rotation")
    } else {
        return Ok(());
    };
    let event = Event::new(Some(owner_id), Actor::Operator, Kind::TokenRevokedByHolder).ip(ip);
    finish_change(txn, event, &info, detail).await
}

/// Saves the locked token `current` as `change` leaves it, and reads it back.
async fn save(
    txn: &DatabaseTransaction,
    current: token::Model,
    change: impl FnOnce(&mut token::ActiveModel),
) -> Result<TokenInfo> {
    let team_id = current.team_id;
    let mut active: token::ActiveModel = current.into();
    change(&mut active);
    let model = active.update(txn).await?;
    TokenInfo::from_model(model, teams::slug_of(txn, team_id).await?)
}

/// How a change to a token ends: its activity entry (`event`, about `token`, described as
/// `token "<description>"` and `detail`) in the change's own transaction, the commit, and word
/// to the cached checks that rights may have changed.
async fn finish_change(
    txn: DatabaseTransaction,
    event: Event,
    token: &TokenInfo,
    detail: &str,
) -> Result<()> {
    let event = event
        .token(token.id.clone())
        .target(format!("token \"{}\"{detail}", token.description));
    activity::record(&txn, event).await?;
    txn.commit().await?;
    crate::tokens::rights::changed();
    Ok(())
}

/// What a token may do: the whole team's access (with or without write), or only some
/// permissions (docs/permissions.md).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    WholeTeam { write: bool },
    Only(Permissions),
}

/// The outcome of [`set_access`].
#[derive(Debug)]
pub enum AccessChange {
    Done(Box<TokenInfo>),
    /// The change gives the token more than it had: it needs a recent sign-in (sudo mode),
    /// which the caller did not say it has.
    NeedsRecentSignIn,
}

/// Changes what the owner's token may do (docs/permissions.md). Narrowing takes effect at once
/// (cached checks end with the commit); widening — anything the token could not do before —
/// needs `recently_signed_in` (sudo mode; the operator always is) and, where the team requires
/// approval of write tokens, a write makes the token wait for an admin's approval again.
pub async fn set_access(
    db: &DatabaseConnection,
    owner: Origin,
    owner_id: i64,
    token_id: &str,
    new: Access,
    recently_signed_in: bool,
) -> Result<AccessChange> {
    let txn = begin_write(db).await?;
    let current = lock_owned(&txn, owner_id, token_id).await?;
    if current.expires_at.is_some_and(|at| at <= Utc::now()) {
        return Err(Error::NotFound("token"));
    }
    let team = team::Entity::find_by_id(current.team_id)
        .one(&txn)
        .await?
        .ok_or(Error::NotFound("team"))?;
    let role = teams::role(&txn, team.id, owner_id)
        .await?
        .ok_or(Error::NotFound("token"))?;
    let held = permissions::stored(current.permissions.as_deref())?;
    let (write, fine) = match &new {
        Access::WholeTeam { write } => (*write, None),
        Access::Only(permissions) => (permissions.any_write(), Some(permissions)),
    };
    permissions::check_new(&txn, &team, fine)
        .await
        .or_else(|e| match (&e, fine) {
            // Where fine-grained tokens are required, a whole-team token made before may stay
            // so, or lose its write access, but not gain it.
            (Error::Invalid { .. }, None) if held.is_none() && (!write || current.write) => Ok(()),
            _ => Err(e),
        })?;
    if write && !role.can_write() {
        return Err(read_only_role(role, &team.slug));
    }
    let widens = match (&held, &new) {
        (None, Access::WholeTeam { write }) => *write && !current.write,
        (None, Access::Only(new)) => new.iter().any(|p| match p {
            Permission::Builtin(_, level) => *level == Level::Write && !current.write,
            Permission::Service { .. } => !team.whole_team_services,
        }),
        (Some(_), Access::WholeTeam { .. }) => true,
        (Some(held), Access::Only(new)) => new.iter().any(|p| !held.allows(p)),
    };
    if widens && !recently_signed_in {
        return Ok(AccessChange::NeedsRecentSignIn);
    }
    let before = access_in_words(held.as_ref(), current.write);
    // A wider write waits for an admin again where the team asks for approval.
    let pending = current.pending_approval
        || (widens
            && write
            && team.require_write_approval
            && owner.who != Actor::Operator
            && !role.is_admin());
    let stored = fine.map(Permissions::joined);
    let info = save(&txn, current, |t| {
        t.write = Set(write);
        t.permissions = Set(stored);
        t.pending_approval = Set(pending);
    })
    .await?;
    let now = access_in_words(info.permissions.as_ref(), info.write);
    let event = Event::by(owner, Some(owner_id), Kind::TokenAccessChanged);
    finish_change(txn, event, &info, &format!(": {now} (was {before})")).await?;
    Ok(AccessChange::Done(Box::new(info)))
}

/// A token's access as the activity log says it: its permissions, or the whole team's.
fn access_in_words(permissions: Option<&Permissions>, write: bool) -> String {
    match permissions {
        Some(permissions) => permissions.summary(),
        None if write => "whole team, read/write".to_string(),
        None => "whole team, read".to_string(),
    }
}

/// Deletes the owner's token by id, for the operator (`patdesk token delete <id>`).
pub async fn delete_by_id(db: &DatabaseConnection, token_id: &str) -> Result<TokenInfo> {
    if !is_token_id(token_id) {
        return Err(Error::invalid(
            "id",
            format!("{token_id:?} is not a token id (tok_ + 16 letters and digits)."),
        ));
    }
    let found = token::Entity::find_by_id(token_id.to_string())
        .filter(token::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .ok_or(Error::NotFound("token"))?;
    delete_as(db, Origin::OPERATOR, found.user_id, token_id).await
}
