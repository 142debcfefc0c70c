//! Fine-grained permissions (docs/permissions.md): the rules around `common::permissions` —
//! which permissions a new token of a team may hold (the built-in ones, and its own services'
//! scopes), and whether the instance or the team requires fine-grained tokens. The check of a
//! call against them is `access::check`'s.

use std::collections::{BTreeMap, BTreeSet};

use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

pub use common::permissions::{BadPermission, Builtin, Level, Permission, Permissions, is_name};

use crate::{
    Origin,
    activity::{self, Event, Kind},
    db::begin_write,
    entity::{policy, service, team},
    error::{Error, Result},
};

/// The error of a bad permission list, on the form's `permissions` field.
pub fn invalid(error: BadPermission) -> Error {
    Error::invalid("permissions", error.0)
}

/// A form's `permissions[]` values (an empty one: no access) as permissions; a bad list is
/// the form's `permissions` field error.
pub fn from_form(values: Option<Vec<String>>) -> Result<Permissions> {
    Permissions::parse_list(&values.unwrap_or_default().join(" ")).map_err(invalid)
}

/// A service's stored scopes (space-separated) as a list.
pub(crate) fn split_scopes(stored: &str) -> Vec<String> {
    stored.split_whitespace().map(str::to_string).collect()
}

/// The team's live services.
async fn live_services(db: &impl ConnectionTrait, team_id: i64) -> Result<Vec<service::Model>> {
    Ok(service::Entity::find()
        .filter(service::Column::TeamId.eq(team_id))
        .filter(service::Column::DeletedAt.is_null())
        .all(db)
        .await?)
}

/// Reads a token's stored permissions (`None`: whole-team).
pub(crate) fn stored(column: Option<&str>) -> Result<Option<Permissions>> {
    column
        .map(|text| {
            Permissions::parse_list(text)
                .map_err(|e| Error::Internal(format!("tokens.permissions: {e}")))
        })
        .transpose()
}

/// The scopes each live service of the team defines, by slug.
pub async fn service_scopes(
    db: &impl ConnectionTrait,
    team_id: i64,
) -> Result<BTreeMap<String, BTreeSet<String>>> {
    Ok(live_services(db, team_id)
        .await?
        .into_iter()
        .filter_map(|s| {
            let scopes = split_scopes(&s.scopes).into_iter().collect();
            s.slug.map(|slug| (slug, scopes))
        })
        .collect())
}

/// Whether a new token of `team` may have `permissions` (`None`: whole-team): the instance's
/// and the team's requirement of fine-grained tokens, and every service scope one the team's
/// own services define.
pub(crate) async fn check_new(
    txn: &impl ConnectionTrait,
    team: &team::Model,
    permissions: Option<&Permissions>,
) -> Result<()> {
    let Some(permissions) = permissions else {
        if team.require_fine_grained {
            return Err(Error::invalid(
                "permissions",
                format!(
                    "Team {} requires fine-grained tokens: choose the permissions this token needs.",
                    team.slug
                ),
            ));
        }
        if required(txn).await? {
            return Err(Error::invalid(
                "permissions",
                "This patdesk requires fine-grained tokens: choose the permissions this token needs.",
            ));
        }
        return Ok(());
    };
    let services = service_scopes(txn, team.id).await?;
    let unknown: Vec<String> = permissions
        .iter()
        .filter_map(|p| match p {
            Permission::Service { service, scope }
                if !services.get(service).is_some_and(|s| s.contains(scope)) =>
            {
                Some(p.to_string())
            }
            _ => None,
        })
        .collect();
    if !unknown.is_empty() {
        return Err(Error::invalid(
            "permissions",
            format!(
                "Team {} has no service scope {}: a token may hold scopes its own team's services define.",
                team.slug,
                unknown.join(", ")
            ),
        ));
    }
    Ok(())
}

/// Whether the instance requires fine-grained tokens.
pub async fn required(db: &impl ConnectionTrait) -> Result<bool> {
    Ok(policy::Entity::find_by_id(1)
        .one(db)
        .await?
        .is_some_and(|row| row.require_fine_grained))
}

/// Requires fine-grained tokens for every new token of the instance, or stops requiring them
/// (instance admins and the operator); recorded in the admin's log.
pub async fn set_required(db: &DatabaseConnection, by: Origin, on: bool) -> Result<()> {
    let txn = begin_write(db).await?;
    crate::identity::users::require_instance_admin(&txn, by.who, "change the token policy").await?;
    crate::tokens::policy::change_row(&txn, |row| row.require_fine_grained = Set(on)).await?;
    if let Some(admin) = by.who.user_id() {
        let event = Event::by(by, Some(admin), Kind::InstancePolicyChanged).target(if on {
            "new tokens must be fine-grained"
        } else {
            "new tokens may be whole-team"
        });
        activity::record(&txn, event).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// One of a team's services, as the New token form offers its scopes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceOffer {
    pub slug: String,
    pub name: String,
    pub scopes: Vec<String>,
}

/// What the New token form offers for a team (by id): whether its new tokens must be
/// fine-grained (by the team or the instance), and its live services that define scopes.
pub async fn offer(db: &impl ConnectionTrait, team_id: i64) -> Result<(bool, Vec<ServiceOffer>)> {
    let team = team::Entity::find_by_id(team_id)
        .one(db)
        .await?
        .ok_or(Error::NotFound("team"))?;
    let required = team.require_fine_grained || required(db).await?;
    let mut services: Vec<ServiceOffer> = live_services(db, team_id)
        .await?
        .into_iter()
        .filter_map(|s| {
            let scopes = split_scopes(&s.scopes);
            let slug = s.slug?;
            (!scopes.is_empty()).then_some(ServiceOffer {
                slug,
                name: s.name,
                scopes,
            })
        })
        .collect();
    services.sort_by(|a, b| a.slug.cmp(&b.slug));
    Ok((required, services))
}
