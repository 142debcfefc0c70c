//! SCIM provisioning's rules (RFC 7643/7644; docs/scim.md): the credentials an organisation's
//! directory calls with, and what it may do to accounts. The protocol — JSON, filters, PATCH
//! operations, the error schema — is `server::scim`'s; this module gets plain values.
//!
//! The directory sees every account but those it deleted. What it says of an account beyond
//! patdesk's own columns (its `userName`, `externalId`, display name, whether it made the
//! account) is kept in `scim_accounts`. A directory's `userName` is often an email address,
//! which is no patdesk username: a provisioned account's username is made from it once (its
//! local part, made valid and unique, as single sign-on does) and stays when the directory
//! renames the person; until the directory names an account it did not make, its `userName` is
//! the patdesk username. Deactivating (`active: false`) or deleting an account suspends it at once
//! — sessions ended, every token refused — with an entry in its log by "SCIM" and a notice to
//! the person; a deleted account stays, suspended, for the admins (SCIM answers 404 for it).
//! Accounts the directory makes have no password: they sign in with single sign-on, linked by
//! `externalId` = the provider's `sub` at their first sign-in (`identity::sso`). Its groups are
//! teams' membership lists (`groups`).
//!
//! Instance admins are out of the directory's reach unless an instance admin says otherwise
//! ([`manages_admins`], off by default): a SCIM credential could otherwise rewrite an admin's
//! email, `externalId` or `active` — take over or lock out the people who run patdesk. The
//! directory still lists and reads them; a replace, PATCH or DELETE of one is refused (403).

pub mod groups;

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, SqlErr,
    sea_query::{IntoCondition, Query, SelectStatement},
};

use super::{
    names::Email,
    password::NO_PASSWORD,
    users::{self, Registration},
};
use crate::{
    Actor, Origin,
    activity::{self, Event, Kind},
    db::begin_write,
    entity::{policy, scim_account, scim_credential, session, user},
    error::{Error, Result},
    notifications::{self, Notice, NoticeKind},
    tokens::format::{ScimSecret, new_scim_id},
};

/// A SCIM credential as instance admins see it (never the secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credential {
    pub id: String,
    pub name: String,
    /// The last four characters, for `pdkscim_…a1b2`.
    pub hint: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// `raw`, trimmed: 1 to `max` visible characters, or `refusal` about `field`.
fn bounded(field: &'static str, raw: &str, max: usize, refusal: &str) -> Result<String> {
    let value = raw.trim();
    if value.is_empty() || value.chars().count() > max {
        return Err(Error::invalid(field, refusal));
    }
    crate::text::check_visible(field, value)?;
    Ok(value.to_string())
}

fn credential_name(raw: &str) -> Result<String> {
    let refusal = "Name the directory that will use it (1 to 100 characters: \"Okta\", say).";
    bounded("name", raw, 100, refusal)
}

/// Makes a SCIM credential (instance admins and the operator); the secret is returned once,
/// here.
pub async fn create_credential(
    db: &DatabaseConnection,
    by: Origin,
    raw_name: &str,
) -> Result<(Credential, ScimSecret)> {
    let name = credential_name(raw_name)?;
    let txn = begin_write(db).await?;
    users::require_instance_admin(&txn, by.who, "manage SCIM credentials").await?;
    let secret = ScimSecret::generate();
    let now = Utc::now();
    let row = scim_credential::ActiveModel {
        id: Set(new_scim_id()),
        name: Set(name),
        secret_digest: Set(secret.digest()),
        hint: Set(secret.hint()),
        created_by: Set(by.who.user_id()),
        created_at: Set(now),
        last_used_at: Set(None),
        deleted_at: Set(None),
    }
    .insert(&txn)
    .await?;
    if let Some(admin) = by.who.user_id() {
        let event = Event::by(by, Some(admin), Kind::ScimCredentialCreated)
            .target(format!("SCIM credential \"{}\" ({})", row.name, row.id));
        activity::record(&txn, event).await?;
    }
    txn.commit().await?;
    let mut shown = credentials_of(db, vec![row]).await?;
    Ok((shown.remove(0), secret))
}

/// The live SCIM credentials, newest first (instance admins and the operator).
pub async fn list_credentials(db: &DatabaseConnection, actor: Actor) -> Result<Vec<Credential>> {
    users::require_instance_admin(db, actor, "see SCIM credentials").await?;
    let rows = scim_credential::Entity::find()
        .filter(scim_credential::Column::DeletedAt.is_null())
        .order_by_desc(scim_credential::Column::CreatedAt)
        .all(db)
        .await?;
    credentials_of(db, rows).await
}

async fn credentials_of(
    db: &DatabaseConnection,
    rows: Vec<scim_credential::Model>,
) -> Result<Vec<Credential>> {
    let names = users::usernames_by_id(db, rows.iter().filter_map(|r| r.created_by)).await?;
    Ok(rows
        .into_iter()
        .map(|r| Credential {
            created_by: r
                .created_by
                .and_then(|id| names.get(&id).cloned())
                .unwrap_or_else(|| activity::OPERATOR.to_string()),
            id: r.id,
            name: r.name,
            hint: r.hint,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
        })
        .collect())
}

/// Revokes a SCIM credential: the directory's next call with it is refused.
pub async fn delete_credential(db: &DatabaseConnection, by: Origin, id: &str) -> Result<()> {
    let txn = begin_write(db).await?;
    users::require_instance_admin(&txn, by.who, "manage SCIM credentials").await?;
    let row = scim_credential::Entity::find_by_id(id)
        .filter(scim_credential::Column::DeletedAt.is_null())
        .one(&txn)
        .await?
        .ok_or(Error::NotFound("SCIM credential"))?;
    let target = format!("SCIM credential \"{}\" ({})", row.name, row.id);
    let mut active: scim_credential::ActiveModel = row.into();
    active.deleted_at = Set(Some(Utc::now()));
    active.update(&txn).await?;
    if let Some(admin) = by.who.user_id() {
        let event = Event::by(by, Some(admin), Kind::ScimCredentialDeleted).target(target);
        activity::record(&txn, event).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// A directory whose credential checked out: what every SCIM operation below requires, and
/// only [`authenticate`] makes.
#[derive(Clone, Debug)]
pub struct Directory {
    credential_id: String,
}

impl Directory {
    pub fn credential_id(&self) -> &str {
        &self.credential_id
    }
}

/// How often a credential's `last_used_at` is written at most (a directory syncing calls often).
const LAST_USED_EVERY: Duration = Duration::minutes(1);

/// The directory calling with `presented` (the bearer value), if it is a live credential.
/// `None` for anything else: a malformed value, a wrong checksum, an unknown or revoked one.
pub async fn authenticate(db: &DatabaseConnection, presented: &str) -> Result<Option<Directory>> {
    let Some(secret) = ScimSecret::parse(presented) else {
        return Ok(None);
    };
    let Some(row) = scim_credential::Entity::find()
        .filter(scim_credential::Column::SecretDigest.eq(secret.digest()))
        .filter(scim_credential::Column::DeletedAt.is_null())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let now = Utc::now();
    if row.last_used_at.is_none_or(|at| now - at > LAST_USED_EVERY) {
        scim_credential::Entity::update_many()
            .col_expr(
                scim_credential::Column::LastUsedAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(scim_credential::Column::Id.eq(&row.id))
            .exec(db)
            .await?;
    }
    Ok(Some(Directory {
        credential_id: row.id,
    }))
}

/// An account as the directory sees it (a SCIM User).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScimUser {
    pub id: i64,
    pub user_name: String,
    pub external_id: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub active: bool,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
}

/// What the directory asks an account to be: a create's or a replace's whole state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserChange {
    /// Checked by [`user_name`].
    pub user_name: String,
    pub external_id: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<Email>,
    /// `None`: as it is (a create makes it active).
    pub active: Option<bool>,
}

/// A directory's `userName`: 1 to 255 visible characters (an email address, often).
pub fn user_name(raw: &str) -> Result<String> {
    bounded(
        "userName",
        raw,
        255,
        "userName is 1 to 255 characters long.",
    )
}

/// Checks the free-text attributes of a change: `externalId` up to 255 characters of one line,
/// `displayName` up to 200 visible characters. Empty values are no value.
pub fn text_attribute(field: &'static str, raw: Option<&str>) -> Result<Option<String>> {
    let Some(value) = raw.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let max = if field == "externalId" { 255 } else { 200 };
    if value.chars().count() > max {
        return Err(Error::invalid(
            field,
            format!("{field} is at most {max} characters long."),
        ));
    }
    if field == "externalId" {
        crate::text::check(field, value, crate::text::Lines::One)?;
    } else {
        crate::text::check_visible(field, value)?;
    }
    Ok(Some(value.to_string()))
}

/// The filters a directory looks accounts up by (each `attribute eq "value"`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserFilter {
    /// Case-insensitive, as usernames are.
    UserName(String),
    /// Case-sensitive: the directory's own id.
    ExternalId(String),
    /// Case-insensitive.
    Email(String),
}

/// The ids of accounts whose directory record matches `condition`.
fn recorded(condition: impl IntoCondition) -> SelectStatement {
    Query::select()
        .column(scim_account::Column::UserId)
        .from(scim_account::Entity)
        .cond_where(condition)
        .to_owned()
}

/// Accounts the directory has not deleted.
pub(super) fn visible() -> Condition {
    Condition::all().add(
        user::Column::Id.not_in_subquery(recorded(scim_account::Column::RemovedAt.is_not_null())),
    )
}

/// Accounts whose `userName` is `name` (case-insensitive): the directory's own spelling where
/// it gave one, else the patdesk username.
fn named(name: &str) -> Condition {
    let key = name.trim().to_lowercase();
    let spelled = scim_account::Column::UserNameKey;
    Condition::any()
        .add(user::Column::Id.in_subquery(recorded(spelled.eq(key.as_str()))))
        .add(
            Condition::all()
                .add(user::Column::Username.eq(key.as_str()))
                .add(user::Column::Id.not_in_subquery(recorded(spelled.is_not_null()))),
        )
}

/// Whether another visible account than `except` has this `userName`.
async fn user_name_in_use(
    db: &impl ConnectionTrait,
    name: &str,
    except: Option<i64>,
) -> Result<bool> {
    let mut condition = visible().add(named(name));
    if let Some(id) = except {
        condition = condition.add(user::Column::Id.ne(id));
    }
    Ok(user::Entity::find().filter(condition).count(db).await? > 0)
}

fn matching(filter: &UserFilter) -> Condition {
    match filter {
        UserFilter::UserName(name) => named(name),
        UserFilter::Email(address) => {
            Condition::all().add(user::Column::EmailKey.eq(address.trim().to_lowercase()))
        }
        UserFilter::ExternalId(id) => Condition::all().add(
            user::Column::Id
                .in_subquery(recorded(scim_account::Column::ExternalId.eq(id.as_str()))),
        ),
    }
}

/// A page of accounts: `skip` from the first (by id), at most `count`, and how many match in
/// all.
pub async fn list(
    db: &DatabaseConnection,
    _directory: &Directory,
    filter: Option<&UserFilter>,
    skip: u64,
    count: u64,
) -> Result<(u64, Vec<ScimUser>)> {
    let mut condition = visible();
    if let Some(filter) = filter {
        condition = condition.add(matching(filter));
    }
    let (total, rows) =
        page_of::<user::Entity>(db, condition, user::Column::Id, skip, count).await?;
    Ok((total, with_directory_records(db, rows).await?))
}

/// The rows of `E` matching `condition`, by `order`: `skip` from the first, at most `count`,
/// and how many match in all.
pub(super) async fn page_of<E: EntityTrait>(
    db: &DatabaseConnection,
    condition: Condition,
    order: E::Column,
    skip: u64,
    count: u64,
) -> Result<(u64, Vec<E::Model>)>
where
    E::Model: Sync,
{
    let total = E::find().filter(condition.clone()).count(db).await?;
    let rows = if count == 0 {
        Vec::new()
    } else {
        E::find()
            .filter(condition)
            .order_by_asc(order)
            .offset(skip)
            .limit(count)
            .all(db)
            .await?
    };
    Ok((total, rows))
}

async fn with_directory_records(
    db: &impl ConnectionTrait,
    rows: Vec<user::Model>,
) -> Result<Vec<ScimUser>> {
    let records: std::collections::HashMap<i64, scim_account::Model> = scim_account::Entity::find()
        .filter(scim_account::Column::UserId.is_in(rows.iter().map(|u| u.id)))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.user_id, r))
        .collect();
    Ok(rows
        .into_iter()
        .map(|u| {
            let record = records.get(&u.id);
            scim_user(u, record)
        })
        .collect())
}

fn scim_user(u: user::Model, record: Option<&scim_account::Model>) -> ScimUser {
    ScimUser {
        id: u.id,
        user_name: record
            .and_then(|r| r.user_name.clone())
            .unwrap_or(u.username),
        external_id: record.and_then(|r| r.external_id.clone()),
        display_name: record.and_then(|r| r.display_name.clone()),
        email: u.email,
        active: u.is_active,
        created: u.created_at,
        modified: record.map_or(u.created_at, |r| r.modified_at),
    }
}

/// The `userName` of each of these accounts, by id: the directory's spelling, else the username.
pub(super) async fn user_names(
    db: &impl ConnectionTrait,
    ids: impl Iterator<Item = i64>,
) -> Result<std::collections::HashMap<i64, String>> {
    let rows = user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .all(db)
        .await?;
    Ok(with_directory_records(db, rows)
        .await?
        .into_iter()
        .map(|u| (u.id, u.user_name))
        .collect())
}

/// One account, or `NotFound` (also for one the directory deleted).
pub async fn get(db: &DatabaseConnection, _directory: &Directory, id: i64) -> Result<ScimUser> {
    find(db, id).await
}

async fn find(db: &impl ConnectionTrait, id: i64) -> Result<ScimUser> {
    let row = user::Entity::find_by_id(id)
        .filter(visible())
        .one(db)
        .await?
        .ok_or(Error::NotFound("user"))?;
    let record = scim_account::Entity::find_by_id(id).one(db).await?;
    Ok(scim_user(row, record.as_ref()))
}

/// Makes an account the directory provisions: no password (single sign-on only), never an
/// instance admin, active unless the change says otherwise; its username made from the
/// `userName`'s local part.
pub async fn create(
    db: &DatabaseConnection,
    _directory: &Directory,
    change: UserChange,
    ip: Option<IpAddr>,
) -> Result<ScimUser> {
    let txn = begin_write(db).await?;
    if user_name_in_use(&txn, &change.user_name, None).await? {
        return Err(user_name_taken());
    }
    let local_part = change.user_name.split('@').next().unwrap_or_default();
    let username = users::free_username(&txn, local_part).await?;
    let account = users::insert_account(
        &txn,
        &username,
        NO_PASSWORD.to_string(),
        change.email.as_ref(),
        Registration::Directory { ip },
    )
    .await?;
    let id = account.id;
    save_record(&txn, id, &change, true).await?;
    if change.active == Some(false) {
        // Made inactive: no session to end, no notice about an account never used.
        set_active(&txn, id, false).await?;
        let event = Event::new(Some(id), Actor::Directory, Kind::ScimDeactivated).ip(ip);
        activity::record(&txn, event).await?;
    }
    let created = find(&txn, id).await?;
    txn.commit().await?;
    Ok(created)
}

/// Makes the account what `change` says, given the account as it is (a PUT ignores it; a PATCH
/// applies its operations to it): read, locked and changed in one transaction, so that two
/// changes at once are applied one after the other, never one lost. Renames, addresses and the
/// directory's attributes are stored with their activity entries; `active: false` deactivates
/// the account at once. `E` is the caller's error: `change`'s own, or a domain one.
pub async fn replace<E: From<Error>>(
    db: &DatabaseConnection,
    _directory: &Directory,
    id: i64,
    change: impl FnOnce(&ScimUser) -> std::result::Result<UserChange, E>,
    ip: Option<IpAddr>,
) -> std::result::Result<ScimUser, E> {
    let txn = begin_write(db).await.map_err(Error::from)?;
    let (current, record) = locked(&txn, id).await?;
    let before = scim_user(current.clone(), record.as_ref());
    // A request that says nothing valid is a 400 whoever it names; a valid one is refused here.
    let change = change(&before)?;
    within_reach(&txn, &current).await?;
    let deactivated = apply(&txn, current, record, before, change, ip).await?;
    let after = find(&txn, id).await?;
    txn.commit().await.map_err(Error::from)?;
    if deactivated {
        crate::tokens::rights::changed();
    }
    Ok(after)
}

/// The account (visible to the directory) and its record, its row locked for the transaction
/// (`FOR UPDATE` on PostgreSQL; SQLite's write lock covers it).
async fn locked(
    txn: &sea_orm::DatabaseTransaction,
    id: i64,
) -> Result<(user::Model, Option<scim_account::Model>)> {
    let current = user::Entity::find_by_id(id)
        .filter(visible())
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or(Error::NotFound("user"))?;
    let record = scim_account::Entity::find_by_id(id).one(txn).await?;
    Ok((current, record))
}

/// Stores `change` over `before`; answers whether it deactivated the account.
async fn apply(
    txn: &sea_orm::DatabaseTransaction,
    current: user::Model,
    record: Option<scim_account::Model>,
    before: ScimUser,
    change: UserChange,
    ip: Option<IpAddr>,
) -> Result<bool> {
    let id = current.id;
    if before.user_name.to_lowercase() != change.user_name.to_lowercase()
        && user_name_in_use(txn, &change.user_name, Some(id)).await?
    {
        return Err(user_name_taken());
    }
    let new_email = change.email.as_ref().map(|e| e.as_str().to_string());
    let username = current.username.clone();
    if before.email != new_email {
        let mut row: user::ActiveModel = current.into();
        row.email = Set(new_email.clone());
        row.email_key = Set(change.email.as_ref().map(Email::key));
        row.update(txn).await.map_err(taken)?;
    }
    let provisioned = record.as_ref().is_some_and(|r| r.provisioned);
    save_record(txn, id, &change, provisioned).await?;
    if before.user_name != change.user_name
        || before.email != new_email
        || before.external_id != change.external_id
        || before.display_name != change.display_name
    {
        let event = Event::new(Some(id), Actor::Directory, Kind::ScimUpdated)
            .ip(ip)
            .target(format!("user {username} (userName {})", change.user_name));
        activity::record(txn, event).await?;
    }
    match change.active {
        Some(false) if before.active => {
            deactivate(txn, id, Kind::ScimDeactivated, ip).await?;
            Ok(true)
        }
        Some(true) if !before.active => {
            set_active(txn, id, true).await?;
            let event = Event::new(Some(id), Actor::Directory, Kind::ScimReactivated)
                .ip(ip)
                .target(format!("user {username}"));
            activity::record(txn, event).await?;
            Ok(false)
        }
        _ => Ok(false),
    }
}

/// Deletes the account as far as the directory goes: suspended at once (as `active: false`),
/// kept with its tokens and history for the admins, and from now on unknown to SCIM.
pub async fn delete(
    db: &DatabaseConnection,
    _directory: &Directory,
    id: i64,
    ip: Option<IpAddr>,
) -> Result<()> {
    let txn = begin_write(db).await?;
    let current = user::Entity::find_by_id(id)
        .filter(visible())
        .one(&txn)
        .await?
        .ok_or(Error::NotFound("user"))?;
    within_reach(&txn, &current).await?;
    let now = Utc::now();
    match scim_account::Entity::find_by_id(id).one(&txn).await? {
        Some(record) => {
            let mut record: scim_account::ActiveModel = record.into();
            record.removed_at = Set(Some(now));
            record.modified_at = Set(now);
            // The names may come back for someone else: a deleted account lets go of them.
            record.external_id = Set(None);
            record.user_name = Set(None);
            record.user_name_key = Set(None);
            record.update(&txn).await?;
        }
        None => {
            scim_account::ActiveModel {
                user_id: Set(id),
                user_name: Set(None),
                user_name_key: Set(None),
                external_id: Set(None),
                display_name: Set(None),
                provisioned: Set(false),
                modified_at: Set(now),
                removed_at: Set(Some(now)),
            }
            .insert(&txn)
            .await?;
        }
    }
    if current.is_active {
        deactivate(&txn, id, Kind::ScimDeleted, ip).await?;
    } else {
        let event = Event::new(Some(id), Actor::Directory, Kind::ScimDeleted).ip(ip);
        activity::record(&txn, event).await?;
    }
    txn.commit().await?;
    crate::tokens::rights::changed();
    Ok(())
}

/// Suspends the account in the caller's transaction: the notice first (a suspended account
/// gets none), then the flag, the sessions, the entry. The caller calls `rights::changed` after
/// its commit.
async fn deactivate(
    txn: &impl ConnectionTrait,
    id: i64,
    kind: Kind,
    ip: Option<IpAddr>,
) -> Result<()> {
    notifications::notify(
        txn,
        Notice::about_account(NoticeKind::AccountDeactivated, id),
        Utc::now(),
    )
    .await?;
    set_active(txn, id, false).await?;
    session::Entity::delete_many()
        .filter(session::Column::UserId.eq(id))
        .exec(txn)
        .await?;
    activity::record(txn, Event::new(Some(id), Actor::Directory, kind).ip(ip)).await
}

async fn set_active(txn: &impl ConnectionTrait, id: i64, active: bool) -> Result<()> {
    user::Entity::update_many()
        .col_expr(
            user::Column::IsActive,
            sea_orm::sea_query::Expr::value(active),
        )
        .filter(user::Column::Id.eq(id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Writes the directory's record of the account (made on first need).
async fn save_record(
    txn: &impl ConnectionTrait,
    id: i64,
    change: &UserChange,
    provisioned: bool,
) -> Result<()> {
    let record = scim_account::ActiveModel {
        user_id: Set(id),
        user_name: Set(Some(change.user_name.clone())),
        user_name_key: Set(Some(change.user_name.to_lowercase())),
        external_id: Set(change.external_id.clone()),
        display_name: Set(change.display_name.clone()),
        provisioned: Set(provisioned),
        modified_at: Set(Utc::now()),
        removed_at: Set(None),
    };
    let exists = scim_account::Entity::find_by_id(id)
        .one(txn)
        .await?
        .is_some();
    let saved = if exists {
        record.update(txn).await.map(|_| ())
    } else {
        record.insert(txn).await.map(|_| ())
    };
    saved.map_err(taken)
}

/// Whether the directory may change, deactivate and delete instance admins (off until an
/// instance admin allows it).
pub async fn manages_admins(db: &impl ConnectionTrait) -> Result<bool> {
    Ok(policy::Entity::find_by_id(1)
        .one(db)
        .await?
        .is_some_and(|row| row.scim_manages_admins))
}

/// Lets the directory change instance admins, or keeps them out of its reach (instance admins
/// and the operator), recorded in the admin's log.
pub async fn set_manages_admins(db: &DatabaseConnection, by: Origin, allowed: bool) -> Result<()> {
    let txn = begin_write(db).await?;
    users::require_instance_admin(&txn, by.who, "change what SCIM may do").await?;
    crate::tokens::policy::change_row(&txn, |row| row.scim_manages_admins = Set(allowed)).await?;
    if let Some(admin) = by.who.user_id() {
        let what = if allowed {
            "SCIM may change, deactivate and delete instance admins"
        } else {
            "instance admins kept out of SCIM's reach"
        };
        let event = Event::by(by, Some(admin), Kind::ScimAdminReachChanged).target(what);
        activity::record(&txn, event).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// What the directory is told when it would change an instance admin.
pub const ADMIN_OUT_OF_REACH: &str = "This account is an instance admin of patdesk, and this patdesk keeps instance admins out of the directory's reach: change it in patdesk, or ask an instance admin to let SCIM manage admins.";

/// Refuses (403) a change to `account` when it is an instance admin and the directory may not
/// manage admins. Read in the change's transaction, after the account's row is locked.
async fn within_reach(txn: &impl ConnectionTrait, account: &user::Model) -> Result<()> {
    if account.is_admin && !manages_admins(txn).await? {
        return Err(Error::Forbidden(ADMIN_OUT_OF_REACH.into()));
    }
    Ok(())
}

fn user_name_taken() -> Error {
    Error::conflict("userName", "Another account has that userName.")
}

/// A unique column's conflict, in words naming the attribute.
fn taken(e: sea_orm::DbErr) -> Error {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(message)) if message.contains("email") => {
            Error::conflict("emails", "That email address belongs to another account.")
        }
        Some(SqlErr::UniqueConstraintViolation(message)) if message.contains("external_id") => {
            Error::conflict("externalId", "Another account has that externalId.")
        }
        Some(SqlErr::UniqueConstraintViolation(_)) => user_name_taken(),
        _ => Error::Database(e),
    }
}

/// The account the directory provisioned for this subject (`externalId` = the provider's
/// `sub`), when it is not linked to an identity yet: single sign-on links it at the person's
/// first sign-in (docs/sso.md).
pub(crate) async fn provisioned_for_subject(
    db: &impl ConnectionTrait,
    subject: &str,
) -> Result<Option<user::Model>> {
    let Some(record) = scim_account::Entity::find()
        .filter(scim_account::Column::ExternalId.eq(subject))
        .filter(scim_account::Column::Provisioned.eq(true))
        .filter(scim_account::Column::RemovedAt.is_null())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(user::Entity::find_by_id(record.user_id).one(db).await?)
}
