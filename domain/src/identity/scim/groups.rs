//! SCIM Groups as teams (docs/scim.md): a directory's group is a team's membership list.
//!
//! A group named like a single sign-on group mapping (`group_sync`) is that mapping's team, and
//! its members get the mapping's role; any other group gets a team of its own (made from its
//! `displayName`, with no admin until an instance admin names one), and its members are
//! writers. The team and the role are settled when the group is made; renaming the group
//! renames only the group.
//!
//! The directory manages the memberships its groups give, no others: adding a person to a group
//! makes them a member of the team (or raises their role to the group's); removing them, or
//! deleting the group, ends the membership unless another of the directory's groups for the
//! same team still has them — and a team's last admin is never removed. Their tokens follow at
//! once (`rights::changed`), as for any membership change. Deleting a group keeps its team and
//! the team's content.

use std::collections::BTreeSet;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use common::Role;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    SqlErr,
};

use super::{Directory, page_of, user_names, visible};
use crate::{
    Actor,
    activity::{self, Event, Kind},
    db::{begin_write, stored},
    entity::{scim_group, scim_group_member, sso_group, team, user},
    error::{Error, Result},
    identity::names::TeamName,
    teams,
};

/// A group as the directory sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScimGroup {
    pub id: i64,
    pub display_name: String,
    pub external_id: Option<String>,
    /// The members' account ids.
    pub members: Vec<i64>,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
}

/// What the directory asks a group to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupChange {
    /// Checked by [`display_name`].
    pub display_name: String,
    pub external_id: Option<String>,
    /// Account ids.
    pub members: BTreeSet<i64>,
}

/// A group's `displayName`: 1 to 100 visible characters (it names a team).
pub fn display_name(raw: &str) -> Result<String> {
    let name = TeamName::parse(raw).map_err(|_| {
        Error::invalid(
            "displayName",
            "displayName is 1 to 100 visible characters of one line.",
        )
    })?;
    Ok(name.as_str().to_string())
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupFilter {
    /// Case-insensitive.
    DisplayName(String),
    ExternalId(String),
}

pub async fn list(
    db: &DatabaseConnection,
    _directory: &Directory,
    filter: Option<&GroupFilter>,
    skip: u64,
    count: u64,
) -> Result<(u64, Vec<ScimGroup>)> {
    let condition = match filter {
        None => Condition::all(),
        Some(GroupFilter::DisplayName(name)) => {
            Condition::all().add(scim_group::Column::DisplayKey.eq(name.trim().to_lowercase()))
        }
        Some(GroupFilter::ExternalId(id)) => {
            Condition::all().add(scim_group::Column::ExternalId.eq(id.as_str()))
        }
    };
    let (total, rows) =
        page_of::<scim_group::Entity>(db, condition, scim_group::Column::Id, skip, count).await?;
    Ok((total, described(db, rows).await?))
}

pub async fn get(db: &DatabaseConnection, _directory: &Directory, id: i64) -> Result<ScimGroup> {
    let row = find(db, id).await?;
    Ok(described(db, vec![row]).await?.remove(0))
}

async fn find(db: &impl ConnectionTrait, id: i64) -> Result<scim_group::Model> {
    scim_group::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound("group"))
}

/// The groups with their members.
async fn described(
    db: &impl ConnectionTrait,
    rows: Vec<scim_group::Model>,
) -> Result<Vec<ScimGroup>> {
    let links = scim_group_member::Entity::find()
        .filter(scim_group_member::Column::GroupId.is_in(rows.iter().map(|g| g.id)))
        .order_by_asc(scim_group_member::Column::UserId)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|g| ScimGroup {
            members: links
                .iter()
                .filter(|l| l.group_id == g.id)
                .map(|l| l.user_id)
                .collect(),
            id: g.id,
            display_name: g.display_name,
            external_id: g.external_id,
            created: g.created_at,
            modified: g.modified_at,
        })
        .collect())
}

/// Makes a group: the mapped team of a single sign-on group of the same name, or a new team.
pub async fn create(
    db: &DatabaseConnection,
    directory: &Directory,
    change: GroupChange,
    ip: Option<IpAddr>,
) -> Result<ScimGroup> {
    let txn = begin_write(db).await?;
    let mapping = sso_group::Entity::find()
        .filter(sso_group::Column::GroupName.eq(change.display_name.as_str()))
        .one(&txn)
        .await?;
    let (team_id, role) = match mapping {
        Some(mapping) => {
            let role = stored("sso_group_mappings.role", &mapping.role, |t| {
                Role::parse(t).ok()
            })?;
            (mapping.team_id, role)
        }
        None => (
            team_for(&txn, &change.display_name, ip).await?,
            Role::Writer,
        ),
    };
    let now = Utc::now();
    let row = scim_group::ActiveModel {
        display_name: Set(change.display_name.clone()),
        display_key: Set(change.display_name.to_lowercase()),
        external_id: Set(change.external_id.clone()),
        team_id: Set(team_id),
        role: Set(role.as_str().to_string()),
        created_at: Set(now),
        modified_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(taken)?;
    let changed = set_members(&txn, &row, &change.members, ip).await?;
    txn.commit().await?;
    if changed {
        crate::tokens::rights::changed();
    }
    get(db, directory, row.id).await
}

/// A new team for a group: its slug made from the name (valid and unique), no members yet.
async fn team_for(txn: &DatabaseTransaction, name: &str, ip: Option<IpAddr>) -> Result<i64> {
    let slug = teams::free_slug(txn, name).await?;
    let team = team::ActiveModel {
        slug: Set(slug.as_str().to_string()),
        name: Set(name.to_string()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let event = Event::new(None, Actor::Directory, Kind::TeamCreated)
        .ip(ip)
        .target(format!("team {slug} (SCIM group \"{name}\")"));
    activity::record(txn, event).await?;
    Ok(team.id)
}

/// Makes the group what `change` says (its name, external id and members), given the group as
/// it is: read, locked and changed in one transaction, as `scim::replace` does for accounts.
pub async fn replace<E: From<Error>>(
    db: &DatabaseConnection,
    directory: &Directory,
    id: i64,
    change: impl FnOnce(&ScimGroup) -> std::result::Result<GroupChange, E>,
    ip: Option<IpAddr>,
) -> std::result::Result<ScimGroup, E> {
    let txn = begin_write(db).await.map_err(Error::from)?;
    let row = locked(&txn, id).await?;
    let before = described(&txn, vec![row.clone()]).await?.remove(0);
    let change = change(&before)?;
    let changed = apply(&txn, row, change, ip).await?;
    txn.commit().await.map_err(Error::from)?;
    if changed {
        crate::tokens::rights::changed();
    }
    Ok(get(db, directory, id).await?)
}

async fn locked(txn: &DatabaseTransaction, id: i64) -> Result<scim_group::Model> {
    scim_group::Entity::find_by_id(id)
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or(Error::NotFound("group"))
}

/// Stores `change`; answers whether a membership changed.
async fn apply(
    txn: &DatabaseTransaction,
    row: scim_group::Model,
    change: GroupChange,
    ip: Option<IpAddr>,
) -> Result<bool> {
    let mut saved: scim_group::ActiveModel = row.clone().into();
    saved.display_name = Set(change.display_name.clone());
    saved.display_key = Set(change.display_name.to_lowercase());
    saved.external_id = Set(change.external_id.clone());
    saved.modified_at = Set(Utc::now());
    saved.update(txn).await.map_err(taken)?;
    set_members(txn, &row, &change.members, ip).await
}

/// Deletes the group and the memberships it gave; the team stays.
pub async fn delete(
    db: &DatabaseConnection,
    _directory: &Directory,
    id: i64,
    ip: Option<IpAddr>,
) -> Result<()> {
    let txn = begin_write(db).await?;
    let row = find(&txn, id).await?;
    let changed = set_members(&txn, &row, &BTreeSet::new(), ip).await?;
    scim_group::Entity::delete_by_id(id).exec(&txn).await?;
    txn.commit().await?;
    if changed {
        crate::tokens::rights::changed();
    }
    Ok(())
}

/// Makes the group's members `wanted` and the team's memberships follow (module docs). Answers
/// whether a membership changed.
async fn set_members(
    txn: &DatabaseTransaction,
    group: &scim_group::Model,
    wanted: &BTreeSet<i64>,
    ip: Option<IpAddr>,
) -> Result<bool> {
    let known: BTreeSet<i64> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::Id.is_in(wanted.iter().copied()))
        .filter(visible())
        .into_tuple::<i64>()
        .all(txn)
        .await?
        .into_iter()
        .collect();
    if let Some(unknown) = wanted.difference(&known).next() {
        return Err(Error::invalid(
            "members",
            format!("There is no user {unknown}."),
        ));
    }
    let have: BTreeSet<i64> = scim_group_member::Entity::find()
        .filter(scim_group_member::Column::GroupId.eq(group.id))
        .all(txn)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    let role = stored("scim_groups.role", &group.role, |t| Role::parse(t).ok())?;
    let slug = teams::slug_of(txn, group.team_id).await?;
    let mut changed = false;
    for &user_id in wanted.difference(&have) {
        scim_group_member::ActiveModel {
            group_id: Set(group.id),
            user_id: Set(user_id),
        }
        .insert(txn)
        .await?;
        changed |= join(txn, group, &slug, user_id, role, ip).await?;
    }
    for &user_id in have.difference(wanted) {
        scim_group_member::Entity::delete_by_id((group.id, user_id))
            .exec(txn)
            .await?;
        changed |= leave(txn, group, &slug, user_id, ip).await?;
    }
    Ok(changed)
}

/// The person is a member of the team with at least the group's role.
async fn join(
    txn: &DatabaseTransaction,
    group: &scim_group::Model,
    slug: &str,
    user_id: i64,
    role: Role,
    ip: Option<IpAddr>,
) -> Result<bool> {
    let have = teams::role(txn, group.team_id, user_id).await?;
    if have.is_some_and(|have| have >= role) {
        return Ok(false);
    }
    let Some(kind) = teams::write_membership(txn, group.team_id, user_id, have, Some(role)).await?
    else {
        return Ok(false);
    };
    let words = match have {
        None => format!("in team {slug} as {role}"),
        Some(_) => format!("in team {slug} to {role}"),
    };
    record(
        txn,
        (group.team_id, user_id),
        kind,
        words,
        &group.display_name,
        ip,
    )
    .await?;
    Ok(true)
}

/// The person leaves the team, unless another of the directory's groups for it has them or
/// they are its last admin.
async fn leave(
    txn: &DatabaseTransaction,
    group: &scim_group::Model,
    slug: &str,
    user_id: i64,
    ip: Option<IpAddr>,
) -> Result<bool> {
    let other_groups: Vec<i64> = scim_group::Entity::find()
        .select_only()
        .column(scim_group::Column::Id)
        .filter(scim_group::Column::TeamId.eq(group.team_id))
        .filter(scim_group::Column::Id.ne(group.id))
        .into_tuple::<i64>()
        .all(txn)
        .await?;
    let still_in = scim_group_member::Entity::find()
        .filter(scim_group_member::Column::UserId.eq(user_id))
        .filter(scim_group_member::Column::GroupId.is_in(other_groups))
        .count(txn)
        .await?
        > 0;
    let Some(have) = teams::role(txn, group.team_id, user_id).await? else {
        return Ok(false);
    };
    if still_in {
        return Ok(false);
    }
    if have == Role::Admin && teams::admin_count(txn, group.team_id).await? <= 1 {
        tracing::warn!(team = slug, "SCIM group: kept the team's last admin");
        return Ok(false);
    }
    teams::write_membership(txn, group.team_id, user_id, Some(have), None).await?;
    let words = format!("from team {slug}");
    record(
        txn,
        (group.team_id, user_id),
        Kind::MemberRemoved,
        words,
        &group.display_name,
        ip,
    )
    .await?;
    Ok(true)
}

async fn record(
    txn: &DatabaseTransaction,
    (team_id, user_id): (i64, i64),
    kind: Kind,
    words: String,
    group: &str,
    ip: Option<IpAddr>,
) -> Result<()> {
    let names = user_names(txn, [user_id].into_iter()).await?;
    let name = names.get(&user_id).cloned().unwrap_or_default();
    let event = Event::new(Some(user_id), Actor::Directory, kind)
        .ip(ip)
        .target(format!("{name} {words} (SCIM group \"{group}\")"))
        .membership(team_id, user_id);
    activity::record(txn, event).await
}

fn taken(e: sea_orm::DbErr) -> Error {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(message)) if message.contains("external_id") => {
            Error::conflict("externalId", "Another group has that externalId.")
        }
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            Error::conflict("displayName", "Another group has that displayName.")
        }
        _ => Error::Database(e),
    }
}
