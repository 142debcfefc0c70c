//! A team admin's view and control of the tokens that reach the team's data: every live token
//! scoped to the team, whoever owns it, with filters, and revocation with an optional reason.
//! The owner sees who revoked their token, when and why (on their token page and in their
//! activity). See `docs/governance.md`.
//!
//! Only the team's admins (and the operator) get past [`teams::admin_team`]; other members are
//! refused with `Forbidden`, non-members get "team not found" as everywhere else.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::{
    Origin,
    activity::{self, Actor, Event, Kind},
    content::Page,
    db::begin_write,
    entity::token,
    error::{Error, Result},
    identity::names::{TeamSlug, Username},
    identity::users,
    notifications::{self, Notice, NoticeKind, TokenRef},
    teams,
    tokens::TokenInfo,
    tokens::format::is_token_id,
    tokens::usage::history::{self, Calls},
};

/// A token counts as unused when nobody has called with it for this many days (a token younger
/// than that, never used, does not count yet).
pub const UNUSED_DAYS: u32 = 30;

/// The longest reason an admin may give, in characters.
pub const MAX_REASON_CHARS: usize = 200;

/// One of the team's live tokens, as its admins see it: everything but the secret, and whose it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamToken {
    pub info: TokenInfo,
    pub owner: String,
    /// Its calls in the last [`USAGE_DAYS`] days (docs/usage.md).
    pub recent: Calls,
}

/// The days the lists' "calls" column counts.
pub const USAGE_DAYS: i64 = 7;

impl TeamToken {
    /// No call in the last [`UNUSED_DAYS`] days (counting from creation for a token never used).
    pub fn is_unused(&self, now: DateTime<Utc>) -> bool {
        let last = self.info.last_used_at.unwrap_or(self.info.created_at);
        now - last > Duration::days(i64::from(UNUSED_DAYS))
    }
}

/// Read-only tokens, or read/write ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    ReadWrite,
}

impl Access {
    /// `read` or `write` (as the filters are sent).
    pub fn parse(text: &str) -> Result<Option<Self>> {
        match text.trim() {
            "" | "any" => Ok(None),
            "read" => Ok(Some(Access::Read)),
            "write" | "read/write" => Ok(Some(Access::ReadWrite)),
            other => Err(Error::invalid(
                "access",
                format!("{other:?} is not an access filter: use read or write."),
            )),
        }
    }
}

/// Whose tokens: one team's (its admins), or every team's (instance admins), optionally
/// narrowed to one team.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope<'a> {
    Team(&'a TeamSlug),
    Instance { team: Option<&'a TeamSlug> },
}

/// Which tokens to list. Every filter narrows the list; the default is all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// The owner's username.
    pub owner: Option<String>,
    pub access: Option<Access>,
    /// Only tokens not used for this many days (counting from creation for a token never
    /// used); the tab's checkbox asks for [`UNUSED_DAYS`].
    pub unused_days: Option<u32>,
    /// Only tokens expiring within [`crate::tokens::EXPIRING_SOON_DAYS`] days.
    pub expiring: bool,
    /// Only write tokens waiting for approval.
    pub pending: bool,
    pub sort: Sort,
}

/// The order of the list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sort {
    /// Newest first.
    #[default]
    Newest,
    /// Most calls in the last [`USAGE_DAYS`] days first.
    Calls,
}

impl Sort {
    /// `newest` (or empty) or `calls`, as the list's links send it.
    pub fn parse(text: &str) -> Result<Self> {
        match text.trim() {
            "" | "newest" => Ok(Sort::Newest),
            "calls" => Ok(Sort::Calls),
            other => Err(Error::invalid(
                "sort",
                format!("{other:?} is not an order: use newest or calls."),
            )),
        }
    }
}

/// The scope's live tokens (not deleted, not expired), newest first, a page at a time.
pub async fn list(
    db: &DatabaseConnection,
    actor: Actor,
    scope: Scope<'_>,
    filter: &Filter,
    page: u64,
    per_page: u64,
) -> Result<Page<TeamToken>> {
    let team_id = match scope {
        Scope::Team(slug) => Some(
            teams::admin_team(db, actor, slug, "review the team's tokens")
                .await?
                .id,
        ),
        Scope::Instance { team } => {
            users::require_instance_admin(db, actor, "review every token").await?;
            match team {
                // An unknown team holds no tokens: an empty page, not an error.
                Some(slug) => Some(teams::find(db, slug).await?.map_or(-1, |t| t.id)),
                None => None,
            }
        }
    };
    let now = Utc::now();
    let mut query = token::Entity::find()
        .filter(token::Column::DeletedAt.is_null())
        .filter(
            Condition::any()
                .add(token::Column::ExpiresAt.is_null())
                .add(token::Column::ExpiresAt.gt(now)),
        );
    if let Some(team_id) = team_id {
        query = query.filter(token::Column::TeamId.eq(team_id));
    }
    if let Some(owner) = filter.owner.as_deref().filter(|o| !o.trim().is_empty()) {
        let owner_id = match Username::parse(owner.trim()) {
            Ok(name) => users::find(db, &name).await?.map(|u| u.id),
            Err(_) => None,
        };
        // An unknown owner owns nothing: an empty page, not an error.
        query = query.filter(token::Column::UserId.eq(owner_id.unwrap_or(-1)));
    }
    if let Some(access) = filter.access {
        query = query.filter(token::Column::Write.eq(access == Access::ReadWrite));
    }
    if let Some(days) = filter.unused_days {
        let cutoff = now - Duration::days(i64::from(days));
        query = query.filter(
            Condition::any()
                .add(token::Column::LastUsedAt.lt(cutoff))
                .add(
                    Condition::all()
                        .add(token::Column::LastUsedAt.is_null())
                        .add(token::Column::CreatedAt.lt(cutoff)),
                ),
        );
    }
    if filter.pending {
        query = query.filter(token::Column::PendingApproval.eq(true));
    }
    if filter.expiring {
        let soon = now + Duration::days(crate::tokens::EXPIRING_SOON_DAYS);
        query = query.filter(token::Column::ExpiresAt.lte(soon));
    }
    let query = query
        .order_by_desc(token::Column::CreatedAt)
        .order_by_desc(token::Column::Id);
    let since = now - Duration::days(USAGE_DAYS);
    let (total, rows, mut recent) = match filter.sort {
        Sort::Newest => {
            let paginator = query.paginate(db, per_page);
            let total = paginator.num_items().await?;
            let rows = paginator.fetch_page(page.saturating_sub(1)).await?;
            let ids: Vec<String> = rows.iter().map(|t| t.id.clone()).collect();
            (total, rows, history::totals_since(db, &ids, since).await?)
        }
        Sort::Calls => {
            // The order needs every matching token's count: ids first, then the page's rows.
            let mut ids: Vec<String> = query
                .clone()
                .select_only()
                .column(token::Column::Id)
                .into_tuple()
                .all(db)
                .await?;
            let recent = history::totals_since(db, &ids, since).await?;
            let calls = |id: &String| recent.get(id).map_or(0, Calls::total);
            // Stable: equal counts keep the newest-first order.
            ids.sort_by_key(|id| std::cmp::Reverse(calls(id)));
            let total = ids.len() as u64;
            let start = usize::try_from(page.saturating_sub(1) * per_page).unwrap_or(usize::MAX);
            let page_ids: Vec<String> = ids
                .into_iter()
                .skip(start)
                .take(usize::try_from(per_page).unwrap_or(usize::MAX))
                .collect();
            let mut rows = token::Entity::find()
                .filter(token::Column::Id.is_in(page_ids.iter().map(String::as_str)))
                .all(db)
                .await?;
            rows.sort_by_key(|t| page_ids.iter().position(|id| *id == t.id));
            (total, rows, recent)
        }
    };
    let names = users::usernames_by_id(db, rows.iter().map(|t| t.user_id)).await?;
    let slugs = teams::slugs_by_id(db, rows.iter().map(|t| t.team_id)).await?;
    let items = rows
        .into_iter()
        .map(|t| {
            Ok(TeamToken {
                owner: names.get(&t.user_id).cloned().unwrap_or_default(),
                recent: recent.remove(&t.id).unwrap_or_default(),
                info: TokenInfo::from_model(
                    t.clone(),
                    slugs.get(&t.team_id).cloned().unwrap_or_default(),
                )?,
            })
        })
        .collect::<Result<_>>()?;
    Ok(Page {
        items,
        page,
        per_page,
        total,
    })
}

/// The reason as stored: trimmed, `None` when empty, at most [`MAX_REASON_CHARS`] characters,
/// no control characters.
pub fn parse_reason(raw: Option<&str>) -> Result<Option<String>> {
    let value = raw.unwrap_or_default().trim();
    if value.is_empty() {
        return Ok(None);
    }
    if value.chars().count() > MAX_REASON_CHARS {
        return Err(Error::invalid(
            "reason",
            format!("A reason is at most {MAX_REASON_CHARS} characters long."),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::invalid(
            "reason",
            "A reason cannot contain control characters or line breaks.",
        ));
    }
    Ok(Some(value.to_string()))
}

/// Revokes one of the team's live tokens, whoever owns it: it stops working at once, like a
/// deletion by its owner, and its owner's activity records who revoked it and why (written in
/// the same transaction). The edge that calls this also drops the token from its
/// [`crate::tokens::access::CallerCache`].
pub async fn revoke(
    db: &DatabaseConnection,
    by: Origin,
    scope: Scope<'_>,
    token_id: &str,
    reason: Option<&str>,
) -> Result<TeamToken> {
    let reason = parse_reason(reason)?;
    decide(db, by, scope, token_id, Decision::Revoke(reason)).await
}

/// Approves a write token that waits for approval: the API accepts it from now on.
pub async fn approve(
    db: &DatabaseConnection,
    by: Origin,
    slug: &TeamSlug,
    token_id: &str,
) -> Result<TeamToken> {
    decide(db, by, Scope::Team(slug), token_id, Decision::Approve).await
}

/// Denies a write token that waits for approval: it is deleted, and its owner is told why.
pub async fn deny(
    db: &DatabaseConnection,
    by: Origin,
    slug: &TeamSlug,
    token_id: &str,
    reason: Option<&str>,
) -> Result<TeamToken> {
    let reason = parse_reason(reason)?;
    decide(db, by, Scope::Team(slug), token_id, Decision::Deny(reason)).await
}

/// What a team admin does to one of the team's tokens.
enum Decision {
    Revoke(Option<String>),
    Approve,
    Deny(Option<String>),
}

impl Decision {
    fn kind(&self) -> Kind {
        match self {
            Decision::Revoke(_) => Kind::TokenRevokedByAdmin,
            Decision::Approve => Kind::TokenApproved,
            Decision::Deny(_) => Kind::TokenDenied,
        }
    }

    fn reason(&self) -> Option<&str> {
        match self {
            Decision::Revoke(reason) | Decision::Deny(reason) => reason.as_deref(),
            Decision::Approve => None,
        }
    }
}

/// One decision on one live token of the team, by one of its admins, in one transaction with
/// its entry in the owner's log. Approving and denying apply to waiting tokens only.
async fn decide(
    db: &DatabaseConnection,
    by: Origin,
    scope: Scope<'_>,
    token_id: &str,
    decision: Decision,
) -> Result<TeamToken> {
    let actor = by.who;
    let what = match decision {
        Decision::Revoke(_) => "revoke the team's tokens",
        Decision::Approve | Decision::Deny(_) => "approve or deny the team's tokens",
    };
    let txn = begin_write(db).await?;
    let mut query =
        token::Entity::find_by_id(token_id.to_string()).filter(token::Column::DeletedAt.is_null());
    match scope {
        Scope::Team(slug) => {
            let team = teams::admin_team(&txn, actor, slug, what).await?;
            query = query.filter(token::Column::TeamId.eq(team.id));
        }
        Scope::Instance { .. } => {
            users::require_instance_admin(&txn, actor, "revoke any token").await?;
        }
    }
    if !is_token_id(token_id) {
        return Err(Error::NotFound("token"));
    }
    let current = query
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(Error::NotFound("token"))?;
    let team_slug = teams::slug_of(&txn, current.team_id).await?;
    if !matches!(decision, Decision::Revoke(_)) && !current.pending_approval {
        return Err(Error::Rule(
            "This token is not waiting for approval (it was approved already).".into(),
        ));
    }
    let owner_id = current.user_id;
    let mut active: token::ActiveModel = current.into();
    match &decision {
        Decision::Approve => active.pending_approval = Set(false),
        Decision::Revoke(reason) | Decision::Deny(reason) => {
            active.deleted_at = Set(Some(Utc::now()));
            active.revoked_by = Set(actor.user_id());
            active.revoke_reason = Set(reason.clone());
        }
    }
    let model = active.update(&txn).await?;
    let mut names =
        users::usernames_by_id(&txn, [owner_id].into_iter().chain(actor.user_id())).await?;
    if let Decision::Revoke(reason) | Decision::Deny(reason) = &decision {
        let by = actor
            .user_id()
            .and_then(|id| names.get(&id).cloned())
            .unwrap_or_else(|| "the operator".into());
        let what = if matches!(decision, Decision::Deny(_)) {
            "Denied (it was waiting for approval)"
        } else {
            "Revoked"
        };
        let detail = match reason {
            Some(reason) => format!("{what} by {by}: \"{reason}\"."),
            None => format!("{what} by {by}."),
        };
        let notice = Notice::new(
            NoticeKind::TokenRevoked,
            owner_id,
            TokenRef::of(&model, team_slug.clone()),
        )
        .detail(detail);
        notifications::notify(&txn, notice, Utc::now()).await?;
    }
    let owner = names.remove(&owner_id).unwrap_or_default();
    let info = TokenInfo::from_model(model, team_slug.clone())?;
    let mut target = format!("token \"{}\" for team {team_slug}", info.description);
    if let Some(reason) = decision.reason() {
        target.push_str(&format!(": {reason}"));
    }
    let event = Event::by(by, Some(owner_id), decision.kind())
        .token(info.id.clone())
        .target(target);
    activity::record(&txn, event).await?;
    txn.commit().await?;
    crate::tokens::rights::changed();
    Ok(TeamToken {
        info,
        owner,
        // A revoked or denied token is not listed again: its count is not shown.
        recent: Calls::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_trimmed_optional_and_bounded() {
        assert_eq!(parse_reason(None).unwrap(), None);
        assert_eq!(parse_reason(Some("   ")).unwrap(), None);
        assert_eq!(
            parse_reason(Some("  leaked in CI logs "))
                .unwrap()
                .as_deref(),
            Some("leaked in CI logs")
        );
        assert!(parse_reason(Some(&"x".repeat(MAX_REASON_CHARS))).is_ok());
        assert!(parse_reason(Some(&"é".repeat(MAX_REASON_CHARS + 1))).is_err());
        assert!(parse_reason(Some("two\nlines")).is_err());
    }

    #[test]
    fn access_filters_parse() {
        assert_eq!(Access::parse("").unwrap(), None);
        assert_eq!(Access::parse("read").unwrap(), Some(Access::Read));
        assert_eq!(Access::parse("write").unwrap(), Some(Access::ReadWrite));
        assert!(Access::parse("admin").is_err());
    }
}
