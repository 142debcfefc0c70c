//! Personal access tokens: create, list, regenerate, delete — the rules of PRODUCT.md §1 and §5,
//! enforced here whatever the caller (web app, API, CLI) sends.
//!
//! The secret is returned once, by `create` and `regenerate`, as a [`TokenSecret`]; only its
//! digest and a 4-character hint are stored.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, SqlErr,
};

use crate::{
    activity::{self, Event, Kind},
    db::begin_write,
    entity::{team, token},
    error::{Error, Result},
    names::{Role, TeamSlug},
    teams,
    token_format::{TokenSecret, is_token_id, new_token_id},
};

/// How long a new token lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    /// 7, 30, 60 or 90 days from now.
    Days(u32),
    /// Through the end of this date (UTC); at most 366 days ahead.
    Until(NaiveDate),
    /// No expiry (allowed; the form recommends one).
    Never,
}

pub const PRESET_DAYS: [u32; 4] = [7, 30, 60, 90];
pub const MAX_CUSTOM_DAYS: i64 = 366;

impl Expiry {
    /// From the form's choice (`7`, `30`, `60`, `90`, `custom`, `never`) and custom date.
    pub fn parse(choice: &str, custom_date: Option<&str>, today: NaiveDate) -> Result<Self> {
        match choice.trim() {
            "never" | "none" => Ok(Expiry::Never),
            "custom" => {
                let raw = custom_date.unwrap_or_default().trim();
                if raw.is_empty() {
                    return Err(Error::invalid(
                        "expires_on",
                        "Choose a date for the token to expire.",
                    ));
                }
                let date = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                    .map_err(|_| Error::invalid("expires_on", "Enter the date as YYYY-MM-DD."))?;
                if date <= today {
                    return Err(Error::invalid(
                        "expires_on",
                        "The expiry date must be in the future.",
                    ));
                }
                if (date - today).num_days() > MAX_CUSTOM_DAYS {
                    return Err(Error::invalid(
                        "expires_on",
                        format!("The expiry date can be at most {MAX_CUSTOM_DAYS} days ahead."),
                    ));
                }
                Ok(Expiry::Until(date))
            }
            days => match days.parse::<u32>() {
                Ok(n) if PRESET_DAYS.contains(&n) => Ok(Expiry::Days(n)),
                _ => Err(Error::invalid(
                    "expiration",
                    "Choose 7, 30, 60 or 90 days, a custom date, or no expiry.",
                )),
            },
        }
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
        }
    }
}

/// `personal`, or `explorer` for the API explorer's own token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Personal,
    Explorer,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Personal => "personal",
            TokenKind::Explorer => "explorer",
        }
    }
}

/// A token as its owner sees it in a list: everything but the secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenInfo {
    pub id: String,
    pub description: String,
    pub team_slug: String,
    pub write: bool,
    pub kind: String,
    pub hint: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// Most recent first; at most five.
    pub last_used_ips: Vec<String>,
}

impl TokenInfo {
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    fn from_model(m: token::Model, team_slug: String) -> Self {
        let last_used_ips = m
            .last_used_ips
            .as_deref()
            .and_then(|json| serde_json::from_str(json).ok())
            .unwrap_or_default();
        TokenInfo {
            id: m.id,
            description: m.description,
            team_slug,
            write: m.write,
            kind: m.kind,
            hint: m.hint,
            created_at: m.created_at,
            expires_at: m.expires_at,
            last_used_at: m.last_used_at,
            last_used_ips,
        }
    }
}

/// The answer to `create` and `regenerate`: the only place the secret ever appears.
#[derive(Debug)]
pub struct Issued {
    pub info: TokenInfo,
    pub secret: TokenSecret,
}

/// A description: 1–100 characters, no control characters, trimmed.
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
    Ok(value.to_string())
}

/// What a new token asks for, as the caller sent it.
#[derive(Clone, Debug)]
pub struct NewToken<'a> {
    pub description: &'a str,
    pub team: &'a str,
    pub write: bool,
    pub expiry: Expiry,
    pub kind: TokenKind,
}

fn duplicate_description() -> Error {
    Error::conflict(
        "description",
        "You already have a token with this description: choose another.",
    )
}

/// The owner's live tokens with this description, ignoring case (what the unique index on
/// descriptions would refuse).
async fn live_namesakes(
    db: &DatabaseConnection,
    owner_id: i64,
    description: &str,
) -> Result<Vec<token::Model>> {
    let wanted = description.to_lowercase();
    let live = token::Entity::find()
        .filter(token::Column::UserId.eq(owner_id))
        .filter(token::Column::DeletedAt.is_null())
        .all(db)
        .await?;
    Ok(live
        .into_iter()
        .filter(|t| t.description.to_lowercase() == wanted)
        .collect())
}

pub async fn create(
    db: &DatabaseConnection,
    owner_id: i64,
    request: NewToken<'_>,
    ip: Option<String>,
) -> Result<Issued> {
    let description = parse_description(request.description)?;
    let (team, role) = member_team(db, owner_id, request.team).await?;
    if request.write && !role.can_write() {
        return Err(read_only_role(role, &team.slug));
    }
    if !live_namesakes(db, owner_id, &description).await?.is_empty() {
        return Err(duplicate_description());
    }
    let now = Utc::now();
    let txn = begin_write(db).await?;
    let issued = insert(
        &txn,
        Row {
            owner_id,
            team,
            description,
            write: request.write,
            kind: request.kind,
            expires_at: request.expiry.expires_at(now),
            now,
        },
        ip,
    )
    .await?;
    txn.commit().await?;
    Ok(issued)
}

/// How long the API explorer's own token lives.
pub const EXPLORER_LIFETIME: Duration = Duration::hours(24);

/// The API explorer's token for one team: deletes the owner's previous explorer token for the
/// team and creates a new one, "API explorer (<team>)", valid for 24 hours, with write access
/// exactly when the owner's role allows it. Both happen in one transaction, so a user has at most
/// one live explorer token per team.
pub async fn open_explorer(
    db: &DatabaseConnection,
    owner_id: i64,
    team: &str,
    ip: Option<String>,
) -> Result<Issued> {
    let (team, role) = member_team(db, owner_id, team).await?;
    let description = format!("API explorer ({})", team.slug);
    // The previous explorer token has this name too; any other token with it is in the way.
    let personal_namesake = live_namesakes(db, owner_id, &description)
        .await?
        .iter()
        .any(|t| t.kind != TokenKind::Explorer.as_str());
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
        match replace_explorer_token(db, owner_id, &team, role, &description, ip.clone()).await {
            Err(Error::Conflict { .. }) if attempts < 3 => continue,
            outcome => return outcome,
        }
    }
}

async fn replace_explorer_token(
    db: &DatabaseConnection,
    owner_id: i64,
    team: &team::Model,
    role: Role,
    description: &str,
    ip: Option<String>,
) -> Result<Issued> {
    let txn = begin_write(db).await?;
    let now = Utc::now();
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
        let mut event = Event::new(Some(owner_id), Kind::TokenDeleted)
            .ip(ip.clone())
            .target(format!(
                "token \"{description}\" (replaced by a new explorer token)"
            ));
        event.token_id = Some(old_id);
        activity::record(&txn, event).await?;
    }
    let issued = insert(
        &txn,
        Row {
            owner_id,
            team: team.clone(),
            description: description.to_string(),
            write: role.can_write(),
            kind: TokenKind::Explorer,
            expires_at: Some(now + EXPLORER_LIFETIME),
            now,
        },
        ip,
    )
    .await?;
    txn.commit().await?;
    Ok(issued)
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
    owner_id: i64,
    team: team::Model,
    description: String,
    write: bool,
    kind: TokenKind,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
}

/// Stores a new token with a fresh secret and records its creation (in the caller's
/// transaction).
async fn insert(db: &impl ConnectionTrait, row: Row, ip: Option<String>) -> Result<Issued> {
    let secret = TokenSecret::generate();
    let model = token::ActiveModel {
        id: Set(new_token_id()),
        user_id: Set(row.owner_id),
        team_id: Set(row.team.id),
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
    }
    .insert(db)
    .await
    .map_err(|e| match e.sql_err() {
        // Two requests racing for the same description: the partial unique index decides.
        Some(SqlErr::UniqueConstraintViolation(_)) => duplicate_description(),
        _ => Error::Database(e),
    })?;
    let info = TokenInfo::from_model(model, row.team.slug);
    let mut event = Event::new(Some(row.owner_id), Kind::TokenCreated)
        .ip(ip)
        .target(format!(
            "token \"{}\" for team {}",
            info.description, info.team_slug
        ));
    event.token_id = Some(info.id.clone());
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

/// The owner's tokens that are not deleted, newest first (expired ones included).
pub async fn list(db: &DatabaseConnection, owner_id: i64) -> Result<Vec<TokenInfo>> {
    let tokens = token::Entity::find()
        .filter(token::Column::UserId.eq(owner_id))
        .filter(token::Column::DeletedAt.is_null())
        .order_by_desc(token::Column::CreatedAt)
        .all(db)
        .await?;
    let mut team_ids: Vec<i64> = tokens.iter().map(|t| t.team_id).collect();
    team_ids.sort_unstable();
    team_ids.dedup();
    let slugs: HashMap<i64, String> = team::Entity::find()
        .filter(team::Column::Id.is_in(team_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t.slug))
        .collect();
    Ok(tokens
        .into_iter()
        .map(|t| {
            let slug = slugs.get(&t.team_id).cloned().unwrap_or_default();
            TokenInfo::from_model(t, slug)
        })
        .collect())
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

async fn team_slug(db: &impl ConnectionTrait, team_id: i64) -> Result<String> {
    Ok(team::Entity::find_by_id(team_id)
        .one(db)
        .await?
        .map(|t| t.slug)
        .unwrap_or_default())
}

/// A new secret for the token: same id and settings, the same lifetime counted from now. The
/// old secret stops working at once (its digest is replaced).
pub async fn regenerate(
    db: &DatabaseConnection,
    owner_id: i64,
    token_id: &str,
    ip: Option<String>,
) -> Result<Issued> {
    let txn = begin_write(db).await?;
    let current = lock_owned(&txn, owner_id, token_id).await?;
    let now = Utc::now();
    let issued_at = current.regenerated_at.unwrap_or(current.created_at);
    let lifetime = current.expires_at.map(|at| at - issued_at);
    let secret = TokenSecret::generate();
    let team_id = current.team_id;
    let mut active: token::ActiveModel = current.into();
    active.secret_digest = Set(secret.digest());
    active.hint = Set(secret.hint());
    active.regenerated_at = Set(Some(now));
    active.expires_at = Set(lifetime.map(|l| now + l));
    let model = active.update(&txn).await?;
    let info = TokenInfo::from_model(model, team_slug(&txn, team_id).await?);
    let mut event = Event::new(Some(owner_id), Kind::TokenRegenerated)
        .ip(ip)
        .target(format!("token \"{}\"", info.description));
    event.token_id = Some(info.id.clone());
    activity::record(&txn, event).await?;
    txn.commit().await?;
    Ok(Issued { info, secret })
}

/// Deletes (revokes) the token: API calls with it fail from now on.
pub async fn delete(
    db: &DatabaseConnection,
    owner_id: i64,
    token_id: &str,
    ip: Option<String>,
) -> Result<TokenInfo> {
    let txn = begin_write(db).await?;
    let current = lock_owned(&txn, owner_id, token_id).await?;
    let team_id = current.team_id;
    let mut active: token::ActiveModel = current.into();
    active.deleted_at = Set(Some(Utc::now()));
    let model = active.update(&txn).await?;
    let info = TokenInfo::from_model(model, team_slug(&txn, team_id).await?);
    let mut event = Event::new(Some(owner_id), Kind::TokenDeleted)
        .ip(ip)
        .target(format!("token \"{}\"", info.description));
    event.token_id = Some(info.id.clone());
    activity::record(&txn, event).await?;
    txn.commit().await?;
    Ok(info)
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
    delete(db, found.user_id, token_id, None).await
}
