//! The token page's server functions and what they answer: rows without secrets, the team and
//! expiry choices of the form, and the once-only value; rotation and IP allow-lists
//! (docs/tokens.md).

use common::{ExpiryChoices, Role};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::view::TokenView;
use crate::error::AppError;

/// A row of the owner's token table: the token, and what only its owner is shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRow {
    /// Flattened: the rows keep the flat JSON shape the server functions have always answered.
    #[serde(flatten)]
    pub token: TokenView,
    /// Set when a team admin revoked the token: it no longer works and cannot be regenerated.
    pub revoked: Option<RevokedNote>,
    /// The latest use was with the old value of a rotation.
    pub last_used_old_value: bool,
    /// The value a rotation replaced, while it still works.
    pub old_value: Option<OldValueNote>,
    /// Seconds until it expires (`None`: never): bounds the rotation's overlap.
    pub remaining_seconds: Option<i64>,
}

/// The old value of a rotation under way, as its owner is shown it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OldValueNote {
    /// `pdk_…a1b2`
    pub partial: String,
    pub valid_until: String,
    /// Relative ("3 minutes ago"); `None`: not used since the rotation.
    pub last_used: Option<String>,
    pub last_used_exact: Option<String>,
}

/// The overlaps the Rotate dialog offers, in seconds, with their words.
pub const OVERLAP_CHOICES: [(i64, &str); 3] =
    [(3_600, "1 hour"), (86_400, "24 hours"), (604_800, "7 days")];

/// Who revoked a token, when and why, as its owner is told.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokedNote {
    pub by: String,
    pub at: String,
    pub reason: Option<String>,
    /// It was waiting for approval, and the admin denied it.
    pub denied: bool,
    /// Someone reported the value as leaked (`reason`: where they said they found it).
    pub leaked: bool,
}

/// A team the user may scope a token to, and whether their role allows write access.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamChoice {
    pub slug: String,
    pub name: String,
    pub role: Role,
}

impl TeamChoice {
    pub fn can_write(&self) -> bool {
        self.role.can_write()
    }
}

/// What the new-token form offers: the user's teams and the allowed lifetimes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTokenChoices {
    pub teams: Vec<TeamChoice>,
    pub expiry: ExpiryChoices,
}

/// The once-only answer carrying a token's value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedToken {
    pub id: String,
    pub description: String,
    pub token: String,
    pub expires: Option<String>,
    /// Waits for a team admin's approval before the API accepts it.
    pub pending_approval: bool,
    /// After a rotation: until when the old value still works.
    pub old_valid_until: Option<String>,
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use chrono::{DateTime, Utc};
    use domain::{
        time,
        tokens::{Issued, TokenInfo},
    };
    use http::{HeaderValue, header};
    use leptos::prelude::use_context;
    use leptos_axum::ResponseOptions;

    use super::{IssuedToken, OldValueNote, RevokedNote, TeamChoice, TokenRow, TokenView};
    use crate::{
        error::AppError,
        session::{db, require_user},
    };

    pub fn row(t: TokenInfo, now: DateTime<Utc>) -> TokenRow {
        let revoked = t.revoked.clone().map(|r| RevokedNote {
            by: r.by,
            at: time::minute(r.at),
            reason: r.reason,
            denied: r.denied,
            leaked: r.leaked,
        });
        let old_value = t.old_value.clone().map(|old| OldValueNote {
            partial: domain::tokens::format::partial(&old.hint),
            valid_until: time::minute(old.valid_until),
            last_used: old.last_used_at.map(|at| time::relative(at, now)),
            last_used_exact: old.last_used_at.map(time::minute),
        });
        let mut token = TokenView::of(&t, now);
        // A revoked token is neither about to expire nor waiting for anything.
        token.expiring_soon &= revoked.is_none();
        token.pending_approval &= revoked.is_none();
        TokenRow {
            token,
            remaining_seconds: t.expires_at.map(|at| (at - now).num_seconds().max(0)),
            last_used_old_value: t.last_used_old_value && old_value.is_some(),
            old_value,
            revoked,
        }
    }

    /// The signed-in user's teams, as token scopes.
    pub async fn team_choices() -> Result<Vec<TeamChoice>, AppError> {
        let user = require_user()?;
        let teams = domain::teams::list_for_user(&db()?, user.id).await?;
        Ok(teams
            .into_iter()
            .map(|t| TeamChoice {
                role: t.role,
                slug: t.slug,
                name: t.name,
            })
            .collect())
    }

    /// The response carrying a secret must never be stored by a browser or proxy cache.
    pub fn issued(issued: Issued) -> IssuedToken {
        if let Some(response) = use_context::<ResponseOptions>() {
            response.insert_header(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        IssuedToken {
            id: issued.info.id,
            description: issued.info.description,
            expires: issued.info.expires_at.map(time::minute),
            pending_approval: issued.info.pending_approval,
            old_valid_until: None,
            token: issued.secret.expose().to_string(),
        }
    }
}

#[server(prefix = "/rpc", endpoint = "list_tokens")]
pub async fn list_tokens() -> Result<Vec<TokenRow>, AppError> {
    use crate::session::{db, require_user};
    let user = require_user()?;
    let now = chrono::Utc::now();
    let tokens = domain::tokens::list(&db()?, user.id).await?;
    Ok(tokens.into_iter().map(|t| ssr::row(t, now)).collect())
}

/// The teams a token (or the API explorer) can be scoped to.
#[server(prefix = "/rpc", endpoint = "token_teams")]
pub async fn token_teams() -> Result<Vec<TeamChoice>, AppError> {
    ssr::team_choices().await
}

#[server(prefix = "/rpc", endpoint = "new_token_options")]
pub async fn new_token_options() -> Result<NewTokenChoices, AppError> {
    use crate::session::db;
    Ok(NewTokenChoices {
        teams: ssr::team_choices().await?,
        expiry: domain::tokens::expiry_choices(&db()?).await?,
    })
}

#[server(prefix = "/rpc", endpoint = "create_token")]
pub async fn create_token(
    description: String,
    team: String,
    expiration: String,
    expires_on: Option<String>,
    write: Option<String>,
    allowed_ips: Option<String>,
    rate_limit: Option<String>,
) -> Result<IssuedToken, AppError> {
    use domain::{
        tokens::allow_list::AllowList,
        tokens::{Expiry, NewToken, TokenKind, expiry_choices},
    };

    use crate::session::{db, origin, require_recent_sign_in};
    let user = require_recent_sign_in()?;
    let today = chrono::Utc::now().date_naive();
    let db = db()?;
    let choices = expiry_choices(&db).await?;
    let expiry = Expiry::parse(&expiration, expires_on.as_deref(), today, &choices)?;
    let request = NewToken {
        description: &description,
        team: &team,
        // An HTML checkbox sends its value only when checked.
        write: crate::components::checkbox_on(write),
        expiry,
        kind: TokenKind::Personal,
        allowed: AllowList::parse_text(allowed_ips.as_deref().unwrap_or_default())?,
        rate_limit: domain::tokens::rate_limit::parse(
            "rate_limit",
            rate_limit.as_deref().unwrap_or_default(),
        )?,
    };
    let issued = domain::tokens::create(&db, origin(&user), request).await?;
    Ok(ssr::issued(issued))
}

#[server(prefix = "/rpc", endpoint = "regenerate_token")]
pub async fn regenerate_token(id: String) -> Result<IssuedToken, AppError> {
    use crate::session::{db, origin, require_recent_sign_in};
    let user = require_recent_sign_in()?;
    let issued = domain::tokens::regenerate(&db()?, origin(&user), &id).await?;
    Ok(ssr::issued(issued))
}

/// A new value while the current one keeps working for `overlap_seconds`.
#[server(prefix = "/rpc", endpoint = "rotate_token")]
pub async fn rotate_token(id: String, overlap_seconds: i64) -> Result<IssuedToken, AppError> {
    use domain::{time, tokens::MinOverlap};

    use crate::session::{db, origin, require_recent_sign_in};
    let user = require_recent_sign_in()?;
    let min_overlap = use_context::<MinOverlap>().unwrap_or_default();
    let rotated =
        domain::tokens::rotate(&db()?, origin(&user), &id, overlap_seconds, min_overlap).await?;
    Ok(IssuedToken {
        old_valid_until: Some(time::minute(rotated.old_valid_until)),
        ..ssr::issued(rotated.issued)
    })
}

/// Ends a rotation's overlap: the old value stops working now.
#[server(prefix = "/rpc", endpoint = "end_token_overlap")]
pub async fn end_token_overlap(id: String) -> Result<(), AppError> {
    use crate::session::{db, origin, require_user};
    let user = require_user()?;
    domain::tokens::end_overlap(&db()?, origin(&user), &id).await?;
    Ok(())
}

/// Replaces a token's IP allow-list: any list on the user's own token, a narrower one on
/// another member's as an admin of its team (`domain::tokens::set_allowed_ips`).
#[server(prefix = "/rpc", endpoint = "set_token_allowed_ips")]
pub async fn set_token_allowed_ips(id: String, allowed_ips: String) -> Result<(), AppError> {
    use domain::tokens::allow_list::AllowList;

    use crate::session::{db, origin, require_recent_sign_in};
    let user = require_recent_sign_in()?;
    let allowed = AllowList::parse_text(&allowed_ips)?;
    domain::tokens::set_allowed_ips(&db()?, origin(&user).into(), &id, allowed).await?;
    Ok(())
}

#[server(prefix = "/rpc", endpoint = "delete_token")]
pub async fn delete_token(id: String) -> Result<(), AppError> {
    use crate::session::{db, origin, require_user};
    let user = require_user()?;
    domain::tokens::delete(&db()?, origin(&user), &id).await?;
    Ok(())
}
