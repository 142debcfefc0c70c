//! Tokens that ended — expired, deleted by their owner or the operator, revoked or denied by an
//! admin, reported as leaked — as their owner's Inactive tab lists them for
//! [`INACTIVE_SHOWN_DAYS`] days: how each ended (who, when, why). The live list
//! ([`list_active`]) has the others. Nothing of an ended token's value is kept but its digest
//! (tokens are soft-deleted: the row stays for the activity log and the usage history).

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder,
};

use super::{TokenInfo, TokenKind};
use crate::{
    activity::{self, Kind},
    entity::{activity as activity_entry, token},
    error::Result,
    identity::users,
    teams,
};

/// How long an ended token stays on its owner's Inactive tab.
pub const INACTIVE_SHOWN_DAYS: i64 = 30;

/// How a token ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Its expiry came.
    Expired,
    /// Its owner deleted it.
    DeletedByOwner,
    /// The operator deleted it (`patdesk token delete`).
    DeletedByOperator,
    /// The API explorer replaced it with a new token of its own.
    ReplacedByExplorer,
    /// An admin revoked it (`by`: their username, "the operator" at the command line).
    Revoked { by: String, reason: Option<String> },
    /// It was waiting for approval, and an admin denied it.
    Denied { by: String, reason: Option<String> },
    /// Someone reported its value as leaked (`source`: where they said they found it).
    ReportedLeaked { source: Option<String> },
}

/// When and how a token ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ended {
    pub at: DateTime<Utc>,
    pub how: Ending,
}

/// A token on the Inactive tab.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InactiveToken {
    pub info: TokenInfo,
    pub ended: Ended,
}

/// The owner's live tokens (not deleted, not expired), newest first: the token page's list.
pub async fn list_active(
    db: &DatabaseConnection,
    owner_id: i64,
    now: DateTime<Utc>,
) -> Result<Vec<TokenInfo>> {
    let tokens = token::Entity::find()
        .filter(token::Column::UserId.eq(owner_id))
        .filter(token::Column::DeletedAt.is_null())
        .filter(
            Condition::any()
                .add(token::Column::ExpiresAt.is_null())
                .add(token::Column::ExpiresAt.gt(now)),
        )
        .order_by_desc(token::Column::CreatedAt)
        .all(db)
        .await?;
    let slugs = teams::slugs_by_id(db, tokens.iter().map(|t| t.team_id)).await?;
    tokens
        .into_iter()
        .map(|t| {
            let slug = slugs.get(&t.team_id).cloned().unwrap_or_default();
            TokenInfo::from_model(t, slug)
        })
        .collect()
}

/// The owner's tokens that ended within the last [`INACTIVE_SHOWN_DAYS`] days, most recently
/// ended first, with how each ended. Other people's tokens never appear.
pub async fn list_inactive(
    db: &DatabaseConnection,
    owner_id: i64,
    now: DateTime<Utc>,
) -> Result<Vec<InactiveToken>> {
    let since = now - Duration::days(INACTIVE_SHOWN_DAYS);
    // Deleted lately, or expired lately; a token that expired long ago and was deleted lately
    // ended at its expiry, and is left out below.
    let rows = token::Entity::find()
        .filter(token::Column::UserId.eq(owner_id))
        .filter(
            Condition::any()
                .add(token::Column::DeletedAt.gt(since))
                .add(
                    Condition::all()
                        .add(token::Column::DeletedAt.is_null())
                        .add(token::Column::ExpiresAt.lte(now))
                        .add(token::Column::ExpiresAt.gt(since)),
                ),
        )
        .all(db)
        .await?;
    let endings = endings(db, &rows, now).await?;
    let slugs = teams::slugs_by_id(db, rows.iter().map(|t| t.team_id)).await?;
    let mut listed = Vec::new();
    for (row, ended) in rows.into_iter().zip(endings) {
        let Some(ended) = ended.filter(|e| e.at > since) else {
            continue;
        };
        let slug = slugs.get(&row.team_id).cloned().unwrap_or_default();
        listed.push(InactiveToken {
            info: TokenInfo::from_model(row, slug)?,
            ended,
        });
    }
    listed.sort_by_key(|t| std::cmp::Reverse(t.ended.at));
    Ok(listed)
}

/// How the token ended, if it has (for its page; the caller checked who may read it).
pub async fn ending_of(
    db: &impl ConnectionTrait,
    token_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<Ended>> {
    let Some(row) = token::Entity::find_by_id(token_id.to_string())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(endings(db, std::slice::from_ref(&row), now)
        .await?
        .remove(0))
}

/// How each of `rows` ended (`None`: it has not), in order. Who deleted a token its owner did
/// not revoke is read from the activity log: the row records an admin's revocation but not the
/// operator's, nor the explorer's replacement.
async fn endings(
    db: &impl ConnectionTrait,
    rows: &[token::Model],
    now: DateTime<Utc>,
) -> Result<Vec<Option<Ended>>> {
    let admins = users::usernames_by_id(db, rows.iter().filter_map(|t| t.revoked_by)).await?;
    let unexplained: Vec<String> = rows
        .iter()
        .filter(|t| t.deleted_at.is_some() && t.revoked_by.is_none() && !t.reported_leaked)
        .map(|t| t.id.clone())
        .collect();
    let entries = ending_entries(db, unexplained).await?;
    Ok(rows
        .iter()
        .map(|t| ending(t, &admins, &entries, now))
        .collect())
}

/// The latest entry that ended each token, by token id.
async fn ending_entries(
    db: &impl ConnectionTrait,
    ids: Vec<String>,
) -> Result<HashMap<String, activity_entry::Model>> {
    let mut latest = HashMap::new();
    for chunk in ids.chunks(500) {
        let found = activity_entry::Entity::find()
            .filter(activity_entry::Column::TokenId.is_in(chunk.iter().cloned()))
            .filter(activity_entry::Column::Kind.is_in([
                Kind::TokenDeleted.as_str(),
                Kind::TokenRevokedByAdmin.as_str(),
                Kind::TokenDenied.as_str(),
            ]))
            .order_by_asc(activity_entry::Column::Id)
            .all(db)
            .await?;
        for entry in found {
            if let Some(id) = entry.token_id.clone() {
                latest.insert(id, entry);
            }
        }
    }
    Ok(latest)
}

fn ending(
    t: &token::Model,
    admins: &HashMap<i64, String>,
    entries: &HashMap<String, activity_entry::Model>,
    now: DateTime<Utc>,
) -> Option<Ended> {
    // Whichever came first: a token deleted after it expired ended at its expiry.
    let expired_at = t.expires_at.filter(|at| *at <= now);
    let deleted_at = t.deleted_at;
    let at = match (expired_at, deleted_at) {
        (Some(expired), deleted) if deleted.is_none_or(|d| expired <= d) => {
            return Some(Ended {
                at: expired,
                how: Ending::Expired,
            });
        }
        (_, Some(deleted)) => deleted,
        (_, None) => return None,
    };
    let how = if t.reported_leaked {
        Ending::ReportedLeaked {
            source: t.leak_source.clone(),
        }
    } else if let Some(admin) = t.revoked_by {
        let by = admins.get(&admin).cloned().unwrap_or_default();
        let reason = t.revoke_reason.clone();
        if t.pending_approval {
            Ending::Denied { by, reason }
        } else {
            Ending::Revoked { by, reason }
        }
    } else {
        let entry = entries.get(&t.id);
        let operator = entry.is_some_and(|e| e.actor_kind.as_deref() == Some(activity::OPERATOR));
        let kind = entry.map(|e| e.kind.as_str());
        let reason = t.revoke_reason.clone();
        let by = || "the operator".to_string();
        match kind {
            Some(k) if k == Kind::TokenDenied.as_str() => Ending::Denied { by: by(), reason },
            Some(k) if k == Kind::TokenRevokedByAdmin.as_str() => {
                Ending::Revoked { by: by(), reason }
            }
            _ if operator => Ending::DeletedByOperator,
            // `open_explorer` deletes the previous explorer token in its own words.
            _ if t.kind == TokenKind::Explorer.as_str()
                && entry
                    .and_then(|e| e.target.as_deref())
                    .is_some_and(|target| target.contains("replaced by a new explorer token")) =>
            {
                Ending::ReplacedByExplorer
            }
            _ => Ending::DeletedByOwner,
        }
    };
    Some(Ended { at, how })
}
