//! Teams and memberships. The creator of a team is its admin; team admins add and remove members
//! and change roles; a team always keeps at least one admin.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, FromQueryResult, JoinType, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    RelationDef, Set, SqlErr,
    sea_query::{Expr, Func},
};

pub use crate::activity::Actor;
use crate::{
    Origin,
    activity::{self, Event, Kind},
    db::begin_write,
    entity::{membership, service_account, team, user},
    error::{Error, Result},
    identity::names::{Role, TeamName, TeamSlug, Username},
    identity::users,
};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamSummary {
    pub id: i64,
    pub slug: String,
    pub name: String,
    /// The viewer's role in the team.
    pub role: Role,
    pub member_count: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub username: String,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamDetail {
    pub slug: String,
    pub name: String,
    /// The viewer's role; `None` for the operator.
    pub my_role: Option<Role>,
    pub members: Vec<Member>,
    /// New write tokens of members who are not admins wait for an admin's approval.
    pub require_write_approval: bool,
    /// No token of the team may be used more often than this per minute (docs/usage.md).
    pub max_rate_limit: Option<u32>,
}

fn role_of(m: &membership::Model) -> Result<Role> {
    stored_role(&m.role)
}

/// A role as stored: the column is only ever written from `Role::as_str`.
fn stored_role(text: &str) -> Result<Role> {
    crate::db::stored("memberships.role", text, |t| Role::parse(t).ok())
}

/// Creates a team with `owner_id` as its admin (a user creating their own team, or the operator
/// creating one for them).
pub async fn create(
    db: &DatabaseConnection,
    by: Origin,
    owner_id: i64,
    slug: &TeamSlug,
    name: &TeamName,
) -> Result<TeamSummary> {
    let actor = by.who;
    let txn = begin_write(db).await?;
    let now = Utc::now();
    let team = team::ActiveModel {
        slug: Set(slug.as_str().to_string()),
        name: Set(name.as_str().to_string()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => Error::conflict(
            "slug",
            format!("A team with the slug {slug} already exists."),
        ),
        _ => Error::Database(e),
    })?;
    membership::ActiveModel {
        team_id: Set(team.id),
        user_id: Set(owner_id),
        role: Set(Role::Admin.as_str().to_string()),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let event = Event::by(by, Some(actor.log_owner(owner_id)), Kind::TeamCreated)
        .target(format!("team {slug}"));
    activity::record(&txn, event).await?;
    txn.commit().await?;
    Ok(TeamSummary {
        id: team.id,
        slug: team.slug,
        name: team.name,
        role: Role::Admin,
        member_count: 1,
    })
}

/// The teams `user_id` belongs to, by slug.
pub async fn list_for_user(db: &DatabaseConnection, user_id: i64) -> Result<Vec<TeamSummary>> {
    let memberships = membership::Entity::find()
        .filter(membership::Column::UserId.eq(user_id))
        .all(db)
        .await?;
    let team_ids: Vec<i64> = memberships.iter().map(|m| m.team_id).collect();
    // Three queries whatever the number of teams: memberships, teams, member counts.
    let teams_by_id: HashMap<i64, team::Model> = team::Entity::find()
        .filter(team::Column::Id.is_in(team_ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let member_counts: HashMap<i64, i64> = membership::Entity::find()
        .select_only()
        .column(membership::Column::TeamId)
        .expr(Func::count(Expr::col(membership::Column::UserId)))
        .filter(membership::Column::TeamId.is_in(team_ids))
        .group_by(membership::Column::TeamId)
        .into_tuple::<(i64, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let mut teams: Vec<TeamSummary> = memberships
        .iter()
        .filter_map(|m| {
            let t = teams_by_id.get(&m.team_id)?;
            Some(role_of(m).map(|role| TeamSummary {
                id: t.id,
                slug: t.slug.clone(),
                name: t.name.clone(),
                role,
                member_count: member_counts.get(&t.id).copied().unwrap_or(0) as u64,
            }))
        })
        .collect::<Result<_>>()?;
    teams.sort_by(|a, b| a.slug.cmp(&b.slug));
    Ok(teams)
}

pub(crate) async fn find(
    db: &impl ConnectionTrait,
    slug: &TeamSlug,
) -> Result<Option<team::Model>> {
    Ok(team::Entity::find()
        .filter(team::Column::Slug.eq(slug.as_str()))
        .one(db)
        .await?)
}

/// A valid slug no team has, made from `wanted` (a directory's group name): letters a–z and
/// digits kept, everything else a `-`, then `-2`, `-3`, … until one is free.
pub(crate) async fn free_slug(db: &impl ConnectionTrait, wanted: &str) -> Result<TeamSlug> {
    let mapped: String = wanted
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    let mut base = mapped.trim_matches('-').to_string();
    while base.contains("--") {
        base = base.replace("--", "-");
    }
    if base.len() < 2 {
        base = "team".to_string();
    }
    for n in 1..=1000 {
        let slug = TeamSlug::parse(&crate::text::numbered(&base, n, 40))?;
        if find(db, &slug).await?.is_none() {
            return Ok(slug);
        }
    }
    Err(Error::conflict("slug", "No free team slug could be made."))
}

/// Makes `user_id`'s membership of `team_id` `want` (`None`: not a member), from `have`, what the
/// caller read in its transaction: the row inserted, its role changed, or deleted. For the
/// memberships that follow something outside the team — a provider's groups
/// (`identity::group_sync`), a directory's (`identity::scim::groups`) — whose callers check the
/// last admin and record the entry. Answers what changed, `None` when nothing had to.
pub(crate) async fn write_membership(
    txn: &DatabaseTransaction,
    team_id: i64,
    user_id: i64,
    have: Option<Role>,
    want: Option<Role>,
) -> Result<Option<Kind>> {
    let kind = match (have, want) {
        (None, Some(role)) => {
            membership::ActiveModel {
                team_id: Set(team_id),
                user_id: Set(user_id),
                role: Set(role.as_str().to_string()),
                created_at: Set(Utc::now()),
            }
            .insert(txn)
            .await?;
            Kind::MemberAdded
        }
        (Some(old), Some(role)) if old != role => {
            membership::Entity::update_many()
                .col_expr(membership::Column::Role, Expr::value(role.as_str()))
                .filter(membership::Column::TeamId.eq(team_id))
                .filter(membership::Column::UserId.eq(user_id))
                .exec(txn)
                .await?;
            Kind::MemberRoleChanged
        }
        (Some(_), None) => {
            membership::Entity::delete_by_id((team_id, user_id))
                .exec(txn)
                .await?;
            Kind::MemberRemoved
        }
        _ => return Ok(None),
    };
    Ok(Some(kind))
}

/// `user_id`'s role in `team_id`, if a member.
pub async fn role(db: &impl ConnectionTrait, team_id: i64, user_id: i64) -> Result<Option<Role>> {
    membership::Entity::find_by_id((team_id, user_id))
        .one(db)
        .await?
        .as_ref()
        .map(role_of)
        .transpose()
}

/// The team and the caller's role in it. Non-members get `NotFound`, as if the team did not
/// exist, so that slugs of other teams cannot be probed.
async fn team_for(
    db: &impl ConnectionTrait,
    actor: Actor,
    slug: &TeamSlug,
) -> Result<(team::Model, Option<Role>)> {
    let team = find(db, slug).await?.ok_or(Error::NotFound("team"))?;
    let my_role = actor_role(db, actor, &team).await?;
    Ok((team, my_role))
}

/// The actor's role in the team: none for the operator, `NotFound` for a non-member.
async fn actor_role(
    db: &impl ConnectionTrait,
    actor: Actor,
    team: &team::Model,
) -> Result<Option<Role>> {
    match actor {
        Actor::Operator | Actor::Directory => Ok(None),
        Actor::User(user_id) => match role(db, team.id, user_id).await? {
            Some(role) => Ok(Some(role)),
            None => Err(Error::NotFound("team")),
        },
    }
}

/// The team, if the actor may manage it: its admins and the operator. Non-members get
/// `NotFound` (as for every team they are not in); readers and writers get `Forbidden`, saying
/// what only admins may do (`what`, e.g. "review the team's tokens").
pub(crate) async fn admin_team(
    db: &impl ConnectionTrait,
    actor: Actor,
    slug: &TeamSlug,
    what: &str,
) -> Result<team::Model> {
    let (team, my_role) = team_for(db, actor, slug).await?;
    match my_role {
        None | Some(Role::Admin) => Ok(team),
        Some(_) => Err(Error::Forbidden(format!(
            "Only the team's admins can {what}."
        ))),
    }
}

fn require_admin(my_role: Option<Role>) -> Result<()> {
    match my_role {
        None | Some(Role::Admin) => Ok(()),
        Some(_) => Err(Error::Forbidden(
            "Only the team's admins can manage its members.".into(),
        )),
    }
}

#[derive(FromQueryResult)]
struct MemberRow {
    username: String,
    role: String,
    created_at: DateTime<Utc>,
}

pub async fn detail(db: &DatabaseConnection, actor: Actor, slug: &TeamSlug) -> Result<TeamDetail> {
    let (team, my_role) = team_for(db, actor, slug).await?;
    // One query for every member with their username.
    let members = membership::Entity::find()
        .select_only()
        .column(user::Column::Username)
        .column(membership::Column::Role)
        .column(membership::Column::CreatedAt)
        .join(JoinType::InnerJoin, member_user_relation())
        .filter(membership::Column::TeamId.eq(team.id))
        // Service accounts have their own list (`identity::service_accounts`).
        .filter(
            membership::Column::UserId.not_in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(service_account::Column::UserId)
                    .from(service_account::Entity)
                    .to_owned(),
            ),
        )
        .order_by_asc(user::Column::Username)
        .into_model::<MemberRow>()
        .all(db)
        .await?
        .into_iter()
        .map(|row| {
            Ok(Member {
                role: stored_role(&row.role)?,
                username: row.username,
                joined_at: row.created_at,
            })
        })
        .collect::<Result<_>>()?;
    Ok(TeamDetail {
        slug: team.slug,
        name: team.name,
        my_role,
        members,
        require_write_approval: team.require_write_approval,
        max_rate_limit: team
            .max_rate_limit_per_minute
            .and_then(|n| u32::try_from(n).ok()),
    })
}

fn member_user_relation() -> RelationDef {
    membership::Entity::belongs_to(user::Entity)
        .from(membership::Column::UserId)
        .to(user::Column::Id)
        .into()
}

async fn member_user(db: &impl ConnectionTrait, username: &Username) -> Result<user::Model> {
    users::find_row(db, username)
        .await?
        .ok_or_else(|| Error::invalid("username", format!("There is no user named {username}.")))
}

pub(crate) async fn admin_count(db: &impl ConnectionTrait, team_id: i64) -> Result<u64> {
    Ok(membership::Entity::find()
        .filter(membership::Column::TeamId.eq(team_id))
        .filter(membership::Column::Role.eq(Role::Admin.as_str()))
        .count(db)
        .await?)
}

/// Adds `username` to the team with `role` (team admins and the operator).
pub async fn add_member(
    db: &DatabaseConnection,
    by: Origin,
    slug: &TeamSlug,
    username: &Username,
    role: Role,
) -> Result<()> {
    let actor = by.who;
    let txn = begin_write(db).await?;
    let team = locked_team(&txn, actor, slug).await?;
    let user = member_user(&txn, username).await?;
    let already = || {
        Error::conflict(
            "username",
            format!("{username} is already a member of {slug}."),
        )
    };
    if self::role(&txn, team.id, user.id).await?.is_some() {
        return Err(already());
    }
    membership::ActiveModel {
        team_id: Set(team.id),
        user_id: Set(user.id),
        role: Set(role.as_str().to_string()),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await
    .map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => already(),
        _ => Error::Database(e),
    })?;
    record_member_change(
        &txn,
        by,
        (team.id, user.id),
        Kind::MemberAdded,
        format!("{username} in team {slug} as {role}"),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The team, locked until the transaction ends, after checking that the actor is its admin (or
/// the operator). Changes to one team's members run one after the other: `FOR UPDATE` on
/// PostgreSQL; SQLite's write lock, taken at the transaction's start, already does it. Otherwise
/// two admins demoting each other at once could both pass the last-admin check and leave the
/// team with none.
async fn locked_team(
    txn: &DatabaseTransaction,
    actor: Actor,
    slug: &TeamSlug,
) -> Result<team::Model> {
    let team = team::Entity::find()
        .filter(team::Column::Slug.eq(slug.as_str()))
        .lock_exclusive()
        .one(txn)
        .await?
        .ok_or(Error::NotFound("team"))?;
    let my_role = actor_role(txn, actor, &team).await?;
    require_admin(my_role)?;
    Ok(team)
}

/// Records a membership change: in the acting admin's log, or in the member's when the operator
/// made it.
async fn record_member_change(
    txn: &DatabaseTransaction,
    by: Origin,
    (team_id, member_id): (i64, i64),
    kind: Kind,
    target: String,
) -> Result<()> {
    let actor = by.who;
    let event = Event::by(by, Some(actor.log_owner(member_id)), kind)
        .target(target)
        .membership(team_id, member_id);
    activity::record(txn, event).await
}

/// For a change to an existing membership: the locked team (see [`locked_team`]) and
/// `username`'s membership in it.
async fn managed_membership(
    txn: &DatabaseTransaction,
    actor: Actor,
    slug: &TeamSlug,
    username: &Username,
) -> Result<(team::Model, membership::Model)> {
    let team = locked_team(txn, actor, slug).await?;
    let user = member_user(txn, username).await?;
    let current = membership::Entity::find_by_id((team.id, user.id))
        .one(txn)
        .await?
        .ok_or_else(|| {
            Error::invalid("username", format!("{username} is not a member of {slug}."))
        })?;
    Ok((team, current))
}

pub async fn set_role(
    db: &DatabaseConnection,
    by: Origin,
    slug: &TeamSlug,
    username: &Username,
    new_role: Role,
) -> Result<()> {
    let actor = by.who;
    let txn = begin_write(db).await?;
    let (team, current) = managed_membership(&txn, actor, slug, username).await?;
    if role_of(&current)? == Role::Admin
        && new_role != Role::Admin
        && admin_count(&txn, team.id).await? <= 1
    {
        return Err(Error::Rule(format!(
            "{username} is the last admin of {slug}: make someone else an admin first."
        )));
    }
    let member_id = current.user_id;
    let mut active: membership::ActiveModel = current.into();
    active.role = Set(new_role.as_str().to_string());
    active.update(&txn).await?;
    record_member_change(
        &txn,
        by,
        (team.id, member_id),
        Kind::MemberRoleChanged,
        format!("{username} in team {slug} to {new_role}"),
    )
    .await?;
    txn.commit().await?;
    crate::tokens::rights::changed();
    Ok(())
}

pub async fn remove_member(
    db: &DatabaseConnection,
    by: Origin,
    slug: &TeamSlug,
    username: &Username,
) -> Result<()> {
    let actor = by.who;
    let txn = begin_write(db).await?;
    let (team, current) = managed_membership(&txn, actor, slug, username).await?;
    if role_of(&current)? == Role::Admin && admin_count(&txn, team.id).await? <= 1 {
        return Err(Error::Rule(format!(
            "{username} is the last admin of {slug} and cannot be removed."
        )));
    }
    membership::Entity::delete_by_id((team.id, current.user_id))
        .exec(&txn)
        .await?;
    record_member_change(
        &txn,
        by,
        (team.id, current.user_id),
        Kind::MemberRemoved,
        format!("{username} in team {slug}"),
    )
    .await?;
    txn.commit().await?;
    crate::tokens::rights::changed();
    Ok(())
}

/// A change to one membership, as the web app's member controls ask for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberChange {
    Add(Role),
    SetRole(Role),
    Remove,
}

/// Makes `change` to `username`'s membership of the team (see [`add_member`], [`set_role`],
/// [`remove_member`]).
pub async fn change_member(
    db: &DatabaseConnection,
    by: Origin,
    slug: &TeamSlug,
    username: &Username,
    change: MemberChange,
) -> Result<()> {
    match change {
        MemberChange::Add(role) => add_member(db, by, slug, username, role).await,
        MemberChange::SetRole(role) => set_role(db, by, slug, username, role).await,
        MemberChange::Remove => remove_member(db, by, slug, username).await,
    }
}

/// Turns the team's approval of write tokens on or off (team admins and the operator). Tokens
/// already waiting keep waiting for a decision either way; recorded in the actor's log (the
/// team owner's, for the operator). See docs/governance.md.
pub async fn set_write_approval(
    db: &DatabaseConnection,
    by: Origin,
    slug: &TeamSlug,
    required: bool,
) -> Result<()> {
    change_token_policy(db, by, slug, |team, active| {
        if team.require_write_approval == required {
            return None;
        }
        active.require_write_approval = Set(required);
        Some(if required {
            "write tokens need an admin's approval".to_string()
        } else {
            "write tokens need no approval".to_string()
        })
    })
    .await?;
    Ok(())
}

/// Sets or removes the team's cap on its tokens' rate limits (team admins and the operator): no
/// token of the team is then used more often than `max` calls per minute, whatever its own
/// limit (docs/usage.md); new tokens may not ask for more. Recorded like the approval setting.
pub async fn set_max_rate_limit(
    db: &DatabaseConnection,
    by: Origin,
    slug: &TeamSlug,
    max: Option<u32>,
) -> Result<()> {
    let max = crate::tokens::rate_limit::check("max_rate_limit", max)?;
    let stored = max.and_then(|n| i32::try_from(n).ok());
    let changed = change_token_policy(db, by, slug, |team, active| {
        if team.max_rate_limit_per_minute == stored {
            return None;
        }
        active.max_rate_limit_per_minute = Set(stored);
        Some(match max {
            Some(n) => format!("tokens are used at most {n} times per minute"),
            None => "no cap on tokens' rate limits".to_string(),
        })
    })
    .await?;
    if changed {
        // Checks cached before the change hold tokens to the old cap.
        crate::tokens::rights::changed();
    }
    Ok(())
}

/// The team's permission settings (docs/permissions.md), for its admins: whether whole-team
/// tokens open its services, and whether new tokens must be fine-grained.
pub async fn permission_settings(
    db: &DatabaseConnection,
    actor: Actor,
    slug: &TeamSlug,
) -> Result<(bool, bool)> {
    let team = admin_team(db, actor, slug, "see the team's token settings").await?;
    Ok((team.whole_team_services, team.require_fine_grained))
}

/// Whether the team's whole-team tokens pass a check of its services' scopes
/// (docs/permissions.md): on, a whole-team token opens every service of the team, as before
/// services had scopes; off, only a fine-grained token holding the scope does. Team admins and
/// the operator.
pub async fn set_whole_team_services(
    db: &DatabaseConnection,
    by: Origin,
    slug: &TeamSlug,
    allowed: bool,
) -> Result<()> {
    let changed = change_token_policy(db, by, slug, |team, active| {
        if team.whole_team_services == allowed {
            return None;
        }
        active.whole_team_services = Set(allowed);
        Some(if allowed {
            "whole-team tokens open the team's services".to_string()
        } else {
            "only tokens holding a service's scope open it".to_string()
        })
    })
    .await?;
    if changed {
        // Checks cached before the change let whole-team tokens through.
        crate::tokens::rights::changed();
    }
    Ok(())
}

/// Whether new tokens of the team must be fine-grained (docs/permissions.md); tokens made
/// before keep working. Team admins and the operator.
pub async fn set_require_fine_grained(
    db: &DatabaseConnection,
    by: Origin,
    slug: &TeamSlug,
    required: bool,
) -> Result<()> {
    change_token_policy(db, by, slug, |team, active| {
        if team.require_fine_grained == required {
            return None;
        }
        active.require_fine_grained = Set(required);
        Some(if required {
            "new tokens must be fine-grained".to_string()
        } else {
            "new tokens may be whole-team".to_string()
        })
    })
    .await?;
    Ok(())
}

/// Whether the team's admins may make long-lived tokens for its service accounts
/// (docs/service-accounts.md); off, service accounts get only the minutes-long tokens a trust
/// policy mints. Tokens made before keep working. Team admins and the operator.
pub async fn set_service_account_tokens(
    db: &DatabaseConnection,
    by: Origin,
    slug: &TeamSlug,
    allowed: bool,
) -> Result<()> {
    change_token_policy(db, by, slug, |team, active| {
        if team.service_account_tokens == allowed {
            return None;
        }
        active.service_account_tokens = Set(allowed);
        Some(if allowed {
            "service accounts may have long-lived tokens".to_string()
        } else {
            "service accounts get only short-lived tokens from trust policies".to_string()
        })
    })
    .await?;
    Ok(())
}

/// One change to the team's token policy by an admin of it (or the operator): `change` edits
/// the locked row and says in words what the policy now is, or `None` when it is already so.
/// Recorded in the actor's log (the team's first admin's, for the operator). Whether it changed.
async fn change_token_policy(
    db: &DatabaseConnection,
    by: Origin,
    slug: &TeamSlug,
    change: impl FnOnce(&team::Model, &mut team::ActiveModel) -> Option<String>,
) -> Result<bool> {
    let actor = by.who;
    let txn = begin_write(db).await?;
    let team = admin_team(&txn, actor, slug, "change the team's token policy").await?;
    let team = team::Entity::find_by_id(team.id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(Error::NotFound("team"))?;
    let mut active: team::ActiveModel = team.clone().into();
    let Some(words) = change(&team, &mut active) else {
        return Ok(false);
    };
    let log_owner = match actor {
        Actor::User(id) => id,
        Actor::Operator | Actor::Directory => first_admin(&txn, team.id).await?,
    };
    active.update(&txn).await?;
    let event = Event::by(by, Some(log_owner), Kind::TeamPolicyChanged)
        .target(format!("team {}: {words}", team.slug));
    activity::record(&txn, event).await?;
    txn.commit().await?;
    Ok(true)
}

/// The team's first admin by id (whose log an operator's change to the team goes in).
async fn first_admin(db: &impl ConnectionTrait, team_id: i64) -> Result<i64> {
    membership::Entity::find()
        .filter(membership::Column::TeamId.eq(team_id))
        .filter(membership::Column::Role.eq(Role::Admin.as_str()))
        .order_by_asc(membership::Column::UserId)
        .one(db)
        .await?
        .map(|m| m.user_id)
        .ok_or(Error::NotFound("team"))
}

/// Every team's slug, in order (for instance admins' filters; the caller has checked who asks).
pub async fn all_slugs(db: &DatabaseConnection) -> Result<Vec<String>> {
    Ok(team::Entity::find()
        .select_only()
        .column(team::Column::Slug)
        .order_by_asc(team::Column::Slug)
        .into_tuple::<String>()
        .all(db)
        .await?)
}

/// The slugs of these teams, by id (one query).
pub(crate) async fn slugs_by_id(
    db: &impl ConnectionTrait,
    ids: impl Iterator<Item = i64>,
) -> Result<HashMap<i64, String>> {
    crate::db::text_by_id::<team::Entity>(db, team::Column::Id, team::Column::Slug, ids).await
}

/// One team's slug (empty if the team is gone).
pub(crate) async fn slug_of(db: &impl ConnectionTrait, team_id: i64) -> Result<String> {
    Ok(team::Entity::find_by_id(team_id)
        .one(db)
        .await?
        .map(|t| t.slug)
        .unwrap_or_default())
}
