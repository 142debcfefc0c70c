//! Service accounts (docs/service-accounts.md): a team's accounts that are not people, so that
//! the tokens of CI jobs and integrations survive any person leaving.
//!
//! A service account is a `users` row that cannot sign in (no password, no email, a name no
//! person can take: "service account deploy (team acme)", which is also how every list and the
//! activity log show it), a membership in its team whose role (reader or writer) caps its
//! tokens, and a `service_accounts` row saying whose team it is and under which short name. Its
//! tokens are ordinary tokens: checks, governance, usage, limits and notices treat them as any
//! token. The team's admins (and the operator) create, list and delete accounts, and make their
//! tokens: long-lived ones here, short-lived ones by exchange (`tokens::federation`).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, SqlErr,
};

use crate::{
    Origin,
    activity::{self, Actor, Event, Kind},
    db::begin_write,
    entity::{federation_policy, membership, service_account, team, token, user},
    error::{Error, Result},
    identity::names::{Role, TeamSlug},
    identity::{password, users},
    teams,
    tokens::{self, Issued, NewToken},
};

/// A service account as its team's admins see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceAccount {
    /// Its account's id (`users.id`): what `--service-account` and the pages name it by.
    pub id: i64,
    pub team: String,
    pub name: String,
    pub description: String,
    pub role: Role,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// Its tokens that are not deleted (expired ones included).
    pub live_tokens: u64,
}

/// How every list and the activity log name a service account: its account's username.
pub fn label(name: &str, team: &str) -> String {
    format!("service account {name} (team {team})")
}

/// A name: 3–32 characters of `a-z 0-9 _ -`, starting with a letter (so that a number always
/// means an id), kept lower-case.
fn parse_name(raw: &str) -> Result<String> {
    let name = raw.trim().to_ascii_lowercase();
    let valid_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if !(3..=32).contains(&name.len())
        || !valid_chars
        || !name.starts_with(|c: char| c.is_ascii_lowercase())
    {
        return Err(Error::invalid(
            "name",
            "A service account's name is 3 to 32 characters: a letter first, then letters a–z, digits, '_' and '-'.",
        ));
    }
    Ok(name)
}

fn parse_description(raw: &str) -> Result<String> {
    let value = raw.trim();
    if value.chars().count() > 200 {
        return Err(Error::invalid(
            "description",
            "A description is at most 200 characters long.",
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

/// A service account's role: reader or writer. It administers nothing.
fn check_role(role: Role) -> Result<()> {
    if role.is_admin() {
        return Err(Error::invalid(
            "role",
            "A service account is a reader or a writer: it cannot administer the team.",
        ));
    }
    Ok(())
}

/// Creates a service account in the team (its admins and the operator).
pub async fn create(
    db: &DatabaseConnection,
    by: Origin,
    team: &TeamSlug,
    raw_name: &str,
    raw_description: &str,
    role: Role,
) -> Result<ServiceAccount> {
    let name = parse_name(raw_name)?;
    let description = parse_description(raw_description)?;
    check_role(role)?;
    let txn = begin_write(db).await?;
    let team = teams::admin_team(&txn, by.who, team, "manage the team's service accounts").await?;
    let taken = || {
        Error::conflict(
            "name",
            format!(
                "Team {} already has a service account named {name}.",
                team.slug
            ),
        )
    };
    let now = Utc::now();
    let account = user::ActiveModel {
        username: Set(label(&name, &team.slug)),
        // No password and no email: nothing signs in as it, and no reset link reaches it.
        password_hash: Set(password::NO_PASSWORD.to_string()),
        is_admin: Set(false),
        is_active: Set(true),
        created_at: Set(now),
        email: Set(None),
        email_key: Set(None),
        notify_expiry: Set(false),
        notify_new_ip: Set(false),
        notify_new_token: Set(false),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => taken(),
        _ => Error::Database(e),
    })?;
    membership::ActiveModel {
        team_id: Set(team.id),
        user_id: Set(account.id),
        role: Set(role.as_str().to_string()),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    service_account::ActiveModel {
        user_id: Set(account.id),
        team_id: Set(team.id),
        name: Set(name.clone()),
        description: Set(description.clone()),
        created_by: Set(by.who.user_id()),
        created_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => taken(),
        _ => Error::Database(e),
    })?;
    let event = Event::by(
        by,
        Some(by.who.log_owner(account.id)),
        Kind::ServiceAccountCreated,
    )
    .target(format!("{} as {role}", account.username));
    activity::record(&txn, event).await?;
    txn.commit().await?;
    Ok(ServiceAccount {
        id: account.id,
        team: team.slug,
        name,
        description,
        role,
        created_by: created_by_name(db, by.who.user_id()).await?,
        created_at: now,
        live_tokens: 0,
    })
}

async fn created_by_name(db: &impl ConnectionTrait, id: Option<i64>) -> Result<String> {
    Ok(match id {
        Some(id) => users::usernames_by_id(db, [id].into_iter())
            .await?
            .remove(&id)
            .unwrap_or_default(),
        None => activity::OPERATOR.into(),
    })
}

/// The team's service accounts, by name (its admins and the operator).
pub async fn list(
    db: &DatabaseConnection,
    actor: Actor,
    team: &TeamSlug,
) -> Result<Vec<ServiceAccount>> {
    let team = teams::admin_team(db, actor, team, "see the team's service accounts").await?;
    let rows = service_account::Entity::find()
        .filter(service_account::Column::TeamId.eq(team.id))
        .order_by_asc(service_account::Column::Name)
        .all(db)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.user_id).collect();
    let roles: HashMap<i64, String> = membership::Entity::find()
        .filter(membership::Column::TeamId.eq(team.id))
        .filter(membership::Column::UserId.is_in(ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.user_id, m.role))
        .collect();
    let mut live_tokens: HashMap<i64, u64> = HashMap::new();
    for t in token::Entity::find()
        .filter(token::Column::UserId.is_in(ids))
        .filter(token::Column::DeletedAt.is_null())
        .all(db)
        .await?
    {
        *live_tokens.entry(t.user_id).or_default() += 1;
    }
    let names = users::usernames_by_id(db, rows.iter().filter_map(|r| r.created_by)).await?;
    rows.into_iter()
        .map(|row| {
            let role = roles.get(&row.user_id).map_or("reader", String::as_str);
            Ok(ServiceAccount {
                id: row.user_id,
                team: team.slug.clone(),
                role: crate::db::stored("memberships.role", role, |t| Role::parse(t).ok())?,
                created_by: row
                    .created_by
                    .and_then(|id| names.get(&id).cloned())
                    .unwrap_or_else(|| activity::OPERATOR.into()),
                live_tokens: live_tokens.get(&row.user_id).copied().unwrap_or_default(),
                name: row.name,
                description: row.description,
                created_at: row.created_at,
            })
        })
        .collect()
}

/// Whether the team's admins may make long-lived tokens for its service accounts (its admins
/// and the operator ask).
pub async fn long_lived_tokens_allowed(
    db: &DatabaseConnection,
    actor: Actor,
    team: &TeamSlug,
) -> Result<bool> {
    let team = teams::admin_team(db, actor, team, "see the team's service accounts").await?;
    Ok(team.service_account_tokens)
}

/// The live tokens of the team's service accounts, newest first, with each one's account name
/// (its admins and the operator): long-lived ones and the minutes-long federated ones, with
/// their provenance.
pub async fn tokens(
    db: &DatabaseConnection,
    actor: Actor,
    team: &TeamSlug,
) -> Result<Vec<(String, tokens::TokenInfo)>> {
    let (team, names) = administered_names(db, actor, team).await?;
    token::Entity::find()
        .filter(token::Column::UserId.is_in(names.keys().copied()))
        .filter(token::Column::DeletedAt.is_null())
        .order_by_desc(token::Column::CreatedAt)
        .limit(200)
        .all(db)
        .await?
        .into_iter()
        .map(|t| {
            let name = names.get(&t.user_id).cloned().unwrap_or_default();
            Ok((name, tokens::TokenInfo::from_model(t, team.slug.clone())?))
        })
        .collect()
}

/// The latest entries of the logs of the team's service accounts (what their tokens did,
/// exchanges with their provenance, tokens made for them), newest first, with each one's
/// account name (its admins and the operator).
pub async fn activity(
    db: &DatabaseConnection,
    actor: Actor,
    team: &TeamSlug,
    limit: u64,
) -> Result<Vec<(String, activity::Entry)>> {
    let (_, names) = administered_names(db, actor, team).await?;
    let entries = activity::latest_of(db, names.keys().copied().collect(), limit).await?;
    Ok(entries
        .into_iter()
        .map(|(owner, entry)| (names.get(&owner).cloned().unwrap_or_default(), entry))
        .collect())
}

/// The team, if the actor administers it, and its service accounts' names by id: what the
/// lists of the Service accounts tab start from.
pub(crate) async fn administered_names(
    db: &impl ConnectionTrait,
    actor: Actor,
    team: &TeamSlug,
) -> Result<(team::Model, BTreeMap<i64, String>)> {
    let team = teams::admin_team(db, actor, team, "see the team's service accounts").await?;
    let names = service_account::Entity::find()
        .filter(service_account::Column::TeamId.eq(team.id))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.user_id, a.name))
        .collect();
    Ok((team, names))
}

/// The team (if the actor administers it) and its service account named by `account_ref`: its
/// id, or its name.
pub(crate) async fn find_administered(
    db: &impl ConnectionTrait,
    actor: Actor,
    team: &TeamSlug,
    account_ref: &str,
    what: &str,
) -> Result<(team::Model, service_account::Model)> {
    let team = teams::admin_team(db, actor, team, what).await?;
    let wanted = account_ref.trim();
    let query = service_account::Entity::find().filter(service_account::Column::TeamId.eq(team.id));
    let query = match wanted.parse::<i64>() {
        Ok(id) => query.filter(service_account::Column::UserId.eq(id)),
        Err(_) => query.filter(service_account::Column::Name.eq(wanted.to_ascii_lowercase())),
    };
    let account = query
        .one(db)
        .await?
        .ok_or(Error::NotFound("service account"))?;
    Ok((team, account))
}

/// Whether `user_id` is a service account (which never signs in and is no team member to manage
/// as a person).
pub async fn is_service_account(db: &impl ConnectionTrait, user_id: i64) -> Result<bool> {
    Ok(service_account::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .is_some())
}

/// Deletes a service account: its tokens stop at once, its trust policies go, and its account
/// stays (suspended, renamed "…, deleted #id") so that the activity log still names it.
pub async fn delete(
    db: &DatabaseConnection,
    by: Origin,
    team: &TeamSlug,
    account_ref: &str,
) -> Result<()> {
    let txn = begin_write(db).await?;
    let (team, account) = find_administered(
        &txn,
        by.who,
        team,
        account_ref,
        "manage the team's service accounts",
    )
    .await?;
    end_account(&txn, &team, account.user_id, by.who.user_id()).await?;
    let label = label(&account.name, &team.slug);
    service_account::Entity::delete_by_id(account.user_id)
        .exec(&txn)
        .await?;
    let event = Event::by(
        by,
        Some(by.who.log_owner(account.user_id)),
        Kind::ServiceAccountDeleted,
    )
    .target(label);
    activity::record(&txn, event).await?;
    txn.commit().await?;
    crate::tokens::rights::changed();
    Ok(())
}

/// Ends what a deleted service account had: its live tokens (revoked by `admin`), its trust
/// policies, its membership; its account is suspended and renamed so that the name is free.
async fn end_account(
    txn: &DatabaseTransaction,
    team: &team::Model,
    user_id: i64,
    admin: Option<i64>,
) -> Result<()> {
    let now = Utc::now();
    token::Entity::update_many()
        .col_expr(
            token::Column::DeletedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .col_expr(
            token::Column::RevokedBy,
            sea_orm::sea_query::Expr::value(admin),
        )
        .col_expr(
            token::Column::RevokeReason,
            sea_orm::sea_query::Expr::value("its service account was deleted"),
        )
        .filter(token::Column::UserId.eq(user_id))
        .filter(token::Column::DeletedAt.is_null())
        .exec(txn)
        .await?;
    federation_policy::Entity::delete_many()
        .filter(federation_policy::Column::ServiceAccountId.eq(user_id))
        .exec(txn)
        .await?;
    membership::Entity::delete_by_id((team.id, user_id))
        .exec(txn)
        .await?;
    let account = user::Entity::find_by_id(user_id)
        .one(txn)
        .await?
        .ok_or(Error::NotFound("service account"))?;
    let renamed = format!("{}, deleted #{user_id}", account.username);
    let mut active: user::ActiveModel = account.into();
    active.username = Set(renamed);
    active.is_active = Set(false);
    active.update(txn).await?;
    Ok(())
}

/// Creates a long-lived token for a service account (its team's admins and the operator), where
/// the team allows them (`teams.service_account_tokens`): the token is the account's, in its
/// team, within its role; the admin who makes it approves it.
pub async fn create_token(
    db: &DatabaseConnection,
    by: Origin,
    account_ref: &str,
    request: NewToken<'_>,
) -> Result<Issued> {
    let team = TeamSlug::parse(request.team)?;
    let (team, account) = find_administered(
        db,
        by.who,
        &team,
        account_ref,
        "make tokens for the team's service accounts",
    )
    .await?;
    if !team.service_account_tokens {
        return Err(Error::Rule(format!(
            "Team {} gives its service accounts only short-lived tokens, through a trust policy: no long-lived token can be made.",
            team.slug
        )));
    }
    tokens::create_approved(db, by, account.user_id, request).await
}
