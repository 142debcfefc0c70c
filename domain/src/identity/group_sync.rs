//! The identity provider's groups, mapped to teams (`docs/sso.md`): instance admins map a
//! group name to a team and a role; at every single sign-on whose ID token carries a `groups`
//! claim, the person's memberships in mapped teams are made to match — added, role changed,
//! removed — in the sign-in's transaction, and their tokens follow at once
//! (`tokens::rights::changed`). Memberships in teams no group maps to are left alone.

use std::collections::BTreeMap;

use chrono::Utc;
use common::Role;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryOrder, Set,
};

use crate::{
    Origin,
    activity::{self, Actor, Event, Kind},
    db::{begin_write, stored},
    entity::{sso_group, team},
    error::{Error, Result},
    identity::{names::TeamSlug, users},
    teams,
};

/// One mapping, as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupMapping {
    pub group: String,
    pub team: String,
    pub role: Role,
}

/// The longest group name kept (a column bound; providers' names are far shorter).
const MAX_GROUP: usize = 200;

/// Maps `group` to `slug`'s team with `role` (replacing the group's mapping, if any).
pub async fn map(
    db: &DatabaseConnection,
    by: Origin,
    group: &str,
    slug: &TeamSlug,
    role: Role,
) -> Result<()> {
    let group = group_name(group)?;
    let txn = begin_write(db).await?;
    users::require_instance_admin(&txn, by.who, "map groups to teams").await?;
    let team = teams::find(&txn, slug)
        .await?
        .ok_or(Error::NotFound("team"))?;
    sso_group::Entity::delete_by_id(group.clone())
        .exec(&txn)
        .await?;
    sso_group::ActiveModel {
        group_name: Set(group.clone()),
        team_id: Set(team.id),
        role: Set(role.as_str().to_string()),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    record(&txn, by, format!("group {group} → team {slug} as {role}")).await?;
    txn.commit().await?;
    Ok(())
}

/// Removes `group`'s mapping (memberships it made stay until the next sign-ins change them).
pub async fn unmap(db: &DatabaseConnection, by: Origin, group: &str) -> Result<()> {
    let group = group_name(group)?;
    let txn = begin_write(db).await?;
    users::require_instance_admin(&txn, by.who, "map groups to teams").await?;
    let gone = sso_group::Entity::delete_by_id(group.clone())
        .exec(&txn)
        .await?;
    if gone.rows_affected == 0 {
        return Err(Error::NotFound("group mapping"));
    }
    record(&txn, by, format!("group {group} no longer mapped")).await?;
    txn.commit().await?;
    Ok(())
}

/// Every mapping, by group name.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<GroupMapping>> {
    let rows = sso_group::Entity::find()
        .order_by_asc(sso_group::Column::GroupName)
        .all(db)
        .await?;
    let slugs = teams::slugs_by_id(db, rows.iter().map(|r| r.team_id)).await?;
    rows.into_iter()
        .map(|row| {
            Ok(GroupMapping {
                role: stored("sso_group_mappings.role", &row.role, |t| {
                    Role::parse(t).ok()
                })?,
                team: slugs.get(&row.team_id).cloned().unwrap_or_default(),
                group: row.group_name,
            })
        })
        .collect()
}

/// Makes `user_id`'s memberships in mapped teams match `groups` (the claim of a sign-in): in a
/// team some of the person's groups map to, the highest of their roles; in a mapped team none
/// of them maps to, no membership — except that a team's last admin is never removed or
/// demoted (logged). Answers whether any membership changed.
pub(crate) async fn sync(
    txn: &DatabaseTransaction,
    user_id: i64,
    username: &str,
    groups: &[String],
) -> Result<bool> {
    let mappings = sso_group::Entity::find().all(txn).await?;
    if mappings.is_empty() {
        return Ok(false);
    }
    // Every mapped team: the role the person's groups give there (None: no group of theirs).
    let mut wanted: BTreeMap<i64, Option<Role>> = BTreeMap::new();
    for mapping in &mappings {
        let role = stored("sso_group_mappings.role", &mapping.role, |t| {
            Role::parse(t).ok()
        })?;
        let entry = wanted.entry(mapping.team_id).or_insert(None);
        if groups.iter().any(|g| g == &mapping.group_name) {
            *entry = Some(entry.map_or(role, |r| r.max(role)));
        }
    }
    let mut changed = false;
    for (team_id, want) in wanted {
        let Some(team) = team::Entity::find_by_id(team_id).one(txn).await? else {
            continue;
        };
        let have = teams::role(txn, team_id, user_id).await?;
        if have == want {
            continue;
        }
        let losing_admin = have == Some(Role::Admin) && want != Some(Role::Admin);
        if losing_admin && teams::admin_count(txn, team_id).await? <= 1 {
            tracing::warn!(team = %team.slug, user = username, "group sync: kept the team's last admin");
            continue;
        }
        let Some(kind) = teams::write_membership(txn, team_id, user_id, have, want).await? else {
            continue;
        };
        let target = match want {
            Some(role) if have.is_none() => {
                format!("{username} in team {} as {role} (group sync)", team.slug)
            }
            Some(role) => format!("{username} in team {} to {role} (group sync)", team.slug),
            None => format!("{username} from team {} (group sync)", team.slug),
        };
        let event = Event::new(Some(user_id), Actor::Operator, kind)
            .target(target)
            .membership(team_id, user_id);
        activity::record(txn, event).await?;
        changed = true;
    }
    Ok(changed)
}

fn group_name(raw: &str) -> Result<String> {
    let group = raw.trim();
    if group.is_empty() || group.chars().count() > MAX_GROUP {
        return Err(Error::invalid(
            "group",
            format!("A group name is 1 to {MAX_GROUP} characters."),
        ));
    }
    crate::text::check("group", group, crate::text::Lines::One)?;
    Ok(group.to_string())
}

async fn record(txn: &DatabaseTransaction, by: Origin, target: String) -> Result<()> {
    if let Some(admin) = by.who.user_id() {
        let event = Event::by(by, Some(admin), Kind::SsoGroupsChanged).target(target);
        activity::record(txn, event).await?;
    }
    Ok(())
}
