//! Service credentials and token introspection (docs/forward-auth.md).
//!
//! A team's own services that check patdesk tokens themselves call `POST /oauth/introspect`
//! (RFC 7662) with a *service credential*: `pdks_` + 32 random base62 + 6 of checksum, a prefix
//! of its own so that secret scanners tell it from a token. A team admin creates one (shown
//! once), it is stored as a digest like a token, and it may only introspect tokens of its own
//! team: any other token is simply inactive.
//!
//! A service also has a slug and the scopes it defines (docs/permissions.md): a fine-grained
//! token of the team may hold `deploy:run` once service `deploy` defines `run`, and
//! `/auth/verify?scope=deploy:run` and introspection's `scope` check it.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use crate::{
    Actor, Origin,
    activity::{self, Event, Kind},
    db::begin_write,
    entity::{service, team},
    error::{Error, Result},
    identity::names::TeamSlug,
    identity::users,
    teams,
    tokens::access::{self, AccessError, AccessRequest, CallerCache, Presented, Scheme, TeamScope},
    tokens::format::{ServiceSecret, new_service_id},
    tokens::permissions,
    tokens::usage::{Call, Surface, UsageBuffer},
};

/// A service credential as its team's admins see it (never the secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    pub id: String,
    pub team: String,
    pub name: String,
    /// The last four characters, for `pdks_…a1b2`.
    pub hint: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// The name permissions use for it; `None` for a credential made before services had one.
    pub slug: Option<String>,
    /// The scopes it defines, sorted.
    pub scopes: Vec<String>,
}

/// What a service defines for fine-grained tokens: its slug (made from its name when not
/// given) and its scopes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Definition<'a> {
    pub slug: Option<&'a str>,
    pub scopes: &'a [String],
}

/// A slug from a name: "Deploy API" → `deploy-api`.
fn slug_from(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').chars().take(32).collect()
}

fn slug(raw: Option<&str>, name: &str) -> Result<String> {
    let slug = match raw.map(str::trim) {
        Some(raw) if !raw.is_empty() => raw.to_string(),
        _ => slug_from(name),
    };
    if !permissions::is_name(&slug) {
        return Err(Error::invalid(
            "slug",
            "A service's slug is 1 to 32 of a-z, 0-9, - and _, starting with a letter (like deploy).",
        ));
    }
    if permissions::Builtin::ALL.iter().any(|b| b.name() == slug) {
        return Err(Error::invalid(
            "slug",
            format!("{slug} names one of the team API's own permissions: choose another slug."),
        ));
    }
    Ok(slug)
}

/// The scopes, checked, sorted and without repeats, space-separated as stored.
fn scopes(raw: &[String]) -> Result<String> {
    let mut scopes = std::collections::BTreeSet::new();
    for scope in raw
        .iter()
        .flat_map(|s| s.split([' ', ',']))
        .filter(|s| !s.is_empty())
    {
        if !permissions::is_name(scope) {
            return Err(Error::invalid(
                "scopes",
                format!(
                    "{scope:?} is not a scope: 1 to 32 of a-z, 0-9, - and _, starting with a letter (like run)."
                ),
            ));
        }
        scopes.insert(scope.to_string());
    }
    if scopes.len() > 20 {
        return Err(Error::invalid(
            "scopes",
            "A service defines at most 20 scopes.",
        ));
    }
    Ok(scopes.into_iter().collect::<Vec<_>>().join(" "))
}

/// Refuses a slug another live service of the team has.
async fn slug_free(
    txn: &impl ConnectionTrait,
    team_id: i64,
    slug: &str,
    except: Option<&str>,
) -> Result<()> {
    let taken = service::Entity::find()
        .filter(service::Column::TeamId.eq(team_id))
        .filter(service::Column::DeletedAt.is_null())
        .filter(service::Column::Slug.eq(slug))
        .all(txn)
        .await?
        .into_iter()
        .any(|s| except != Some(s.id.as_str()));
    if taken {
        return Err(Error::conflict(
            "slug",
            format!("Another service of the team has the slug {slug}: choose another."),
        ));
    }
    Ok(())
}

fn name(raw: &str) -> Result<String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(Error::invalid(
            "name",
            "Name the service (the metrics API, say).",
        ));
    }
    if name.chars().count() > 60 {
        return Err(Error::invalid(
            "name",
            "A service name is at most 60 characters long.",
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid(
            "name",
            "A service name is one line of text.",
        ));
    }
    crate::text::check_visible("name", name)?;
    Ok(name.to_string())
}

/// Creates a credential for one of the team's services (team admins and the operator); the
/// secret is returned once, here.
pub async fn create(
    db: &DatabaseConnection,
    by: Origin,
    team: &TeamSlug,
    raw_name: &str,
    definition: Definition<'_>,
) -> Result<(Service, ServiceSecret)> {
    let actor = by.who;
    let name = name(raw_name)?;
    let slug = slug(definition.slug, &name)?;
    let scopes = scopes(definition.scopes)?;
    let txn = begin_write(db).await?;
    let team = teams::admin_team(&txn, actor, team, "manage the team's services").await?;
    // The team's row locked, so that two services cannot take one slug at once.
    team::Entity::find_by_id(team.id)
        .lock_exclusive()
        .one(&txn)
        .await?;
    slug_free(&txn, team.id, &slug, None).await?;
    let secret = ServiceSecret::generate();
    let now = Utc::now();
    let model = service::ActiveModel {
        id: Set(new_service_id()),
        team_id: Set(team.id),
        name: Set(name.clone()),
        secret_digest: Set(secret.digest()),
        hint: Set(secret.hint()),
        created_by: Set(actor.user_id()),
        created_at: Set(now),
        deleted_at: Set(None),
        slug: Set(Some(slug)),
        scopes: Set(scopes),
    }
    .insert(&txn)
    .await?;
    let owner = actor.user_id();
    if owner.is_some() {
        let event = Event::by(by, owner, Kind::ServiceCreated).target(format!(
            "service \"{name}\" ({}) for team {}",
            model.id, team.slug
        ));
        activity::record(&txn, event).await?;
    }
    txn.commit().await?;
    let created_by = match owner {
        Some(id) => users::usernames_by_id(db, [id].into_iter())
            .await?
            .remove(&id)
            .unwrap_or_default(),
        None => activity::OPERATOR.into(),
    };
    Ok((
        Service {
            id: model.id,
            team: team.slug,
            name,
            hint: model.hint,
            created_by,
            created_at: now,
            scopes: permissions::split_scopes(&model.scopes),
            slug: model.slug,
        },
        secret,
    ))
}

/// The team's live service credentials, newest first (team admins and the operator).
pub async fn list(db: &DatabaseConnection, actor: Actor, team: &TeamSlug) -> Result<Vec<Service>> {
    let team = teams::admin_team(db, actor, team, "see the team's services").await?;
    let rows = service::Entity::find()
        .filter(service::Column::TeamId.eq(team.id))
        .filter(service::Column::DeletedAt.is_null())
        .order_by_desc(service::Column::CreatedAt)
        .all(db)
        .await?;
    let names = users::usernames_by_id(db, rows.iter().filter_map(|s| s.created_by)).await?;
    Ok(rows
        .into_iter()
        .map(|s| Service {
            created_by: s
                .created_by
                .and_then(|id| names.get(&id).cloned())
                .unwrap_or_else(|| activity::OPERATOR.into()),
            id: s.id,
            team: team.slug.clone(),
            name: s.name,
            hint: s.hint,
            created_at: s.created_at,
            scopes: permissions::split_scopes(&s.scopes),
            slug: s.slug,
        })
        .collect())
}

/// Sets the scopes a service defines (team admins and the operator), by its id or slug, and
/// answers them. Tokens that hold a scope taken away keep it written, and keep passing a check
/// that names it (`/auth/verify?scope=`) until the service stops asking for it; new tokens can
/// no longer be given it.
pub async fn set_scopes(
    db: &DatabaseConnection,
    by: Origin,
    team: &TeamSlug,
    service_ref: &str,
    new: &[String],
) -> Result<Vec<String>> {
    let actor = by.who;
    let scopes = scopes(new)?;
    let txn = begin_write(db).await?;
    let team = teams::admin_team(&txn, actor, team, "manage the team's services").await?;
    let found = service::Entity::find()
        .filter(service::Column::TeamId.eq(team.id))
        .filter(service::Column::DeletedAt.is_null())
        .filter(
            sea_orm::Condition::any()
                .add(service::Column::Id.eq(service_ref))
                .add(service::Column::Slug.eq(service_ref)),
        )
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(Error::NotFound("service"))?;
    let mut active: service::ActiveModel = found.clone().into();
    active.scopes = Set(scopes.clone());
    let model = active.update(&txn).await?;
    if let Some(owner) = actor.user_id() {
        let event = Event::by(by, Some(owner), Kind::ServiceScopesChanged).target(format!(
            "service \"{}\" ({}) for team {}: scopes {}",
            model.name,
            model.id,
            team.slug,
            if scopes.is_empty() { "none" } else { &scopes }
        ));
        activity::record(&txn, event).await?;
    }
    txn.commit().await?;
    crate::tokens::rights::changed();
    Ok(permissions::split_scopes(&model.scopes))
}

/// Revokes a credential: its next introspection is refused (team admins and the operator).
pub async fn delete(db: &DatabaseConnection, by: Origin, team: &TeamSlug, id: &str) -> Result<()> {
    let actor = by.who;
    let txn = begin_write(db).await?;
    let team = teams::admin_team(&txn, actor, team, "manage the team's services").await?;
    let found = service::Entity::find_by_id(id.to_string())
        .filter(service::Column::TeamId.eq(team.id))
        .filter(service::Column::DeletedAt.is_null())
        .one(&txn)
        .await?
        .ok_or(Error::NotFound("service"))?;
    let name = found.name.clone();
    let mut active: service::ActiveModel = found.into();
    active.deleted_at = Set(Some(Utc::now()));
    active.update(&txn).await?;
    if let Some(owner) = actor.user_id() {
        let event = Event::by(by, Some(owner), Kind::ServiceDeleted)
            .target(format!("service \"{name}\" ({id}) for team {}", team.slug));
        activity::record(&txn, event).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// A service that presented a live credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub id: String,
    pub team_id: i64,
    /// Its slug and scopes, for introspection's `scope` of a whole-team token.
    pub slug: Option<String>,
    pub scopes: Vec<String>,
}

/// The service credential in an `Authorization` value: Basic (`svc_…:pdks_…`, RFC 7662's client
/// authentication) or Bearer `pdks_…`; with Basic, the credential's id when one was named.
pub fn credential_from_authorization(value: &[u8]) -> Option<(ServiceSecret, Option<String>)> {
    match access::read_scheme(value).ok()? {
        Scheme::Bearer(secret) => Some((ServiceSecret::parse(secret)?, None)),
        Scheme::Basic { user, password } => {
            let id = (!user.is_empty()).then_some(user);
            Some((ServiceSecret::parse(&password)?, id))
        }
    }
}

/// The live credential with this secret (and this id, when the caller named one), if any.
pub async fn authenticate(
    db: &DatabaseConnection,
    secret: &ServiceSecret,
    id: Option<&str>,
) -> Result<Option<Caller>> {
    let found = service::Entity::find()
        .filter(service::Column::SecretDigest.eq(secret.digest()))
        .filter(service::Column::DeletedAt.is_null())
        .one(db)
        .await?;
    Ok(found
        .filter(|s| id.is_none_or(|id| id == s.id))
        .map(|s| Caller {
            scopes: permissions::split_scopes(&s.scopes),
            id: s.id,
            team_id: s.team_id,
            slug: s.slug,
        }))
}

/// What introspection says of a token (RFC 7662).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Introspection {
    /// Not usable, for whatever reason: the answer does not say which.
    Inactive,
    Active {
        username: String,
        token_id: String,
        team: String,
        write: bool,
        expires_at: Option<DateTime<Utc>>,
        issued_at: DateTime<Utc>,
        /// RFC 7662's `scope`, space-separated (docs/permissions.md): a fine-grained token's
        /// permissions; for a whole-team token, the introspecting service's own scopes where
        /// the team lets whole-team tokens open its services, else none.
        scope: Option<String>,
    },
}

/// Whether `raw` is a token the API would accept right now for a read of `service`'s team:
/// every check of [`access::check`] (with `client_ip` against the token's allow-list), and the
/// token's team must be the service's. Why a token is not active is not said.
///
/// The answer is counted in the token's usage history (`Surface::Introspect`), with the refusal's
/// code when it is not active.
pub async fn introspect(
    db: &DatabaseConnection,
    cache: &CallerCache,
    usage: &UsageBuffer,
    service: &Caller,
    raw: &str,
    client_ip: Option<std::net::IpAddr>,
) -> Result<Introspection> {
    let request = AccessRequest {
        presented: Presented::Value(raw),
        client_ip,
        team: TeamScope::Id(service.team_id),
        needs: &[],
        write: false,
    };
    let call = |token_id| Call {
        token_id,
        surface: Surface::Introspect,
        ip: client_ip,
        at: Utc::now(),
    };
    let caller = match access::check(db, cache, request).await {
        Ok(caller) => caller,
        Err(AccessError::Denied { reason, token_id }) => {
            if let Some(id) = &token_id {
                usage.refused(call(id), reason.code());
            }
            return Ok(Introspection::Inactive);
        }
        Err(AccessError::Internal(error)) => return Err(error),
    };
    let token = caller.token();
    usage.accepted(call(&token.id), caller.old_value(), None);
    let scope = match (&token.permissions, &service.slug) {
        (Some(held), _) => Some(held.joined()),
        (None, Some(slug)) if caller.whole_team_services() && !service.scopes.is_empty() => Some(
            service
                .scopes
                .iter()
                .map(|scope| format!("{slug}:{scope}"))
                .collect::<Vec<_>>()
                .join(" "),
        ),
        (None, _) => None,
    };
    Ok(Introspection::Active {
        username: caller.username().to_string(),
        token_id: token.id.clone(),
        team: caller.team_slug().to_string(),
        write: caller.can_write(),
        expires_at: token.expires_at,
        issued_at: token.issued_at,
        scope,
    })
}
