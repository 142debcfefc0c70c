//! The token page's server functions and what they answer: rows without secrets, the team and
//! expiry choices of the form, and the once-only value; rotation and IP allow-lists
//! (docs/tokens.md).

// `create_token` takes one argument per field of the New token form; the `#[server]` macro
// copies them into the browser's function too, where an attribute on the function does not
// reach.
#![allow(clippy::too_many_arguments)]

use common::{ExpiryChoices, Role};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::view::TokenView;
use crate::error::AppError;

/// A row of the owner's token table (live tokens only: those that ended are [`InactiveRow`]s):
/// the token, and what only its owner is shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRow {
    /// Flattened: the rows keep the flat JSON shape the server functions have always answered.
    #[serde(flatten)]
    pub token: TokenView,
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

/// Who revoked a token (an admin, or a leak report), when and why, as its owner is told.
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

/// A token on the Inactive tab: ended within the last 30 days, read-only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InactiveRow {
    #[serde(flatten)]
    pub token: TokenView,
    /// How it ended (`expired`, `deleted`, `deleted_by_operator`, `replaced_by_explorer`,
    /// `revoked`, `denied`, `reported_leaked`).
    pub ending: String,
    /// Who ended it, when and why, in a sentence.
    pub ended: String,
    pub ended_at: String,
    /// An admin's revocation or denial, or a leak report: who, when, why.
    pub revoked: Option<RevokedNote>,
    /// Expired, not deleted: regenerating brings it back with a new value (what the "has
    /// expired" notice tells its owner to do).
    pub can_regenerate: bool,
}

/// A team the user may scope a token to, and whether their role allows write access.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamChoice {
    pub slug: String,
    pub name: String,
    pub role: Role,
    /// New tokens of this team must be fine-grained (the team's or the instance's policy).
    /// This and `services` are filled only where a form offers them
    /// (`ssr::team_choices_offering`).
    pub fine_grained_only: bool,
    /// Its services that define scopes, for "Only these permissions".
    pub services: Vec<ServiceScopes>,
}

/// A service of the team and the scopes it defines (docs/permissions.md).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceScopes {
    pub slug: String,
    pub name: String,
    pub scopes: Vec<String>,
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
    /// The custom expiry date's bounds, `YYYY-MM-DD` (UTC, as the server checks it): tomorrow
    /// and the policy's furthest day.
    pub earliest_date: String,
    pub latest_date: String,
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

    use domain::tokens::ended::{Ended, Ending, InactiveToken};

    use super::{
        InactiveRow, IssuedToken, OldValueNote, RevokedNote, TeamChoice, TokenRow, TokenView,
    };
    use crate::{
        error::AppError,
        session::{db, require_user},
    };

    pub fn row(t: TokenInfo, now: DateTime<Utc>) -> TokenRow {
        let old_value = t.old_value.clone().map(|old| OldValueNote {
            partial: domain::tokens::format::partial(&old.hint),
            valid_until: time::minute(old.valid_until),
            last_used: old.last_used_at.map(|at| time::relative(at, now)),
            last_used_exact: old.last_used_at.map(time::minute),
        });
        TokenRow {
            token: TokenView::of(&t, now),
            remaining_seconds: t.expires_at.map(|at| (at - now).num_seconds().max(0)),
            last_used_old_value: t.last_used_old_value && old_value.is_some(),
            old_value,
        }
    }

    /// Who ended a token, when and why, in a sentence (the Inactive tab and the token's page).
    pub fn ended_words(ended: &Ended) -> String {
        let at = time::minute(ended.at);
        let why = |reason: &Option<String>| match reason {
            Some(reason) => format!(": “{reason}”"),
            None => " (no reason given)".to_string(),
        };
        match &ended.how {
            Ending::Expired => format!("Expired on {at}"),
            Ending::DeletedByOwner => format!("Deleted by you on {at}"),
            Ending::DeletedByOperator => format!("Deleted by the operator on {at}"),
            Ending::ReplacedByExplorer => {
                format!("Replaced by a new API explorer token on {at}")
            }
            Ending::Revoked { by, reason } => format!("Revoked by {by} on {at}{}", why(reason)),
            Ending::Denied { by, reason } => format!("Denied by {by} on {at}{}", why(reason)),
            Ending::ReportedLeaked {
                source: Some(source),
            } => {
                format!("Revoked: reported as leaked on {at}. Found at: {source}")
            }
            Ending::ReportedLeaked { source: None } => {
                format!("Revoked: reported as leaked on {at}")
            }
        }
    }

    /// The stable name of how a token ended (`InactiveRow::ending`).
    pub fn ending_name(how: &Ending) -> &'static str {
        match how {
            Ending::Expired => "expired",
            Ending::DeletedByOwner => "deleted",
            Ending::DeletedByOperator => "deleted_by_operator",
            Ending::ReplacedByExplorer => "replaced_by_explorer",
            Ending::Revoked { .. } => "revoked",
            Ending::Denied { .. } => "denied",
            Ending::ReportedLeaked { .. } => "reported_leaked",
        }
    }

    pub fn inactive_row(t: InactiveToken, now: DateTime<Utc>) -> InactiveRow {
        let InactiveToken { info, ended } = t;
        let revoked = match &ended.how {
            Ending::Revoked { by, reason } | Ending::Denied { by, reason } => Some(RevokedNote {
                by: by.clone(),
                at: time::minute(ended.at),
                reason: reason.clone(),
                denied: matches!(ended.how, Ending::Denied { .. }),
                leaked: false,
            }),
            Ending::ReportedLeaked { source } => Some(RevokedNote {
                by: String::new(),
                at: time::minute(ended.at),
                reason: source.clone(),
                denied: false,
                leaked: true,
            }),
            _ => None,
        };
        let mut token = TokenView::of(&info, now);
        token.expiring_soon = false;
        token.pending_approval = false;
        InactiveRow {
            token,
            ending: ending_name(&ended.how).to_string(),
            ended: ended_words(&ended),
            ended_at: time::minute(ended.at),
            revoked,
            can_regenerate: ended.how == Ending::Expired,
        }
    }

    /// The signed-in user's teams, as token scopes (without what a new token may hold: the
    /// explorer and the token list need none of it).
    pub async fn team_choices() -> Result<Vec<TeamChoice>, AppError> {
        team_choices_offering(|_| false).await
    }

    /// [`team_choices`], with what a new token may hold for the teams `offered` picks (its
    /// fine-grained requirement, its services' scopes): queries of their own, so only for the
    /// teams a form shows the Access fieldset for.
    pub async fn team_choices_offering(
        offered: impl Fn(&str) -> bool,
    ) -> Result<Vec<TeamChoice>, AppError> {
        let user = require_user()?;
        let db = db()?;
        let teams = domain::teams::list_for_user(&db, user.id).await?;
        let mut choices = Vec::with_capacity(teams.len());
        for t in teams {
            let (fine_grained_only, services) = if offered(&t.slug) {
                domain::tokens::permissions::offer(&db, t.id).await?
            } else {
                (false, Vec::new())
            };
            choices.push(TeamChoice {
                role: t.role,
                slug: t.slug,
                name: t.name,
                fine_grained_only,
                services: services
                    .into_iter()
                    .map(|s| super::ServiceScopes {
                        slug: s.slug,
                        name: s.name,
                        scopes: s.scopes,
                    })
                    .collect(),
            });
        }
        Ok(choices)
    }

    /// The response carrying a secret must never be stored by a browser or proxy cache.
    pub fn issued(issued: Issued) -> IssuedToken {
        crate::request::no_store();
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

/// The Active tab: the user's live tokens (not deleted, not expired).
#[server(prefix = "/rpc", endpoint = "list_tokens")]
pub async fn list_tokens() -> Result<Vec<TokenRow>, AppError> {
    use crate::session::{db, require_user};
    let user = require_user()?;
    let now = chrono::Utc::now();
    let tokens = domain::tokens::ended::list_active(&db()?, user.id, now).await?;
    Ok(tokens.into_iter().map(|t| ssr::row(t, now)).collect())
}

/// The Inactive tab: the user's tokens that ended in the last 30 days, with how each ended.
#[server(prefix = "/rpc", endpoint = "inactive_tokens")]
pub async fn inactive_tokens() -> Result<Vec<InactiveRow>, AppError> {
    use crate::session::{db, require_user};
    let user = require_user()?;
    let now = chrono::Utc::now();
    let tokens = domain::tokens::ended::list_inactive(&db()?, user.id, now).await?;
    Ok(tokens
        .into_iter()
        .map(|t| ssr::inactive_row(t, now))
        .collect())
}

/// The teams a token (or the API explorer) can be scoped to.
#[server(prefix = "/rpc", endpoint = "token_teams")]
pub async fn token_teams() -> Result<Vec<TeamChoice>, AppError> {
    ssr::team_choices().await
}

#[server(prefix = "/rpc", endpoint = "new_token_options")]
pub async fn new_token_options() -> Result<NewTokenChoices, AppError> {
    use crate::session::db;
    let expiry = domain::tokens::expiry_choices(&db()?).await?;
    let today = chrono::Utc::now().date_naive();
    let date = |days: u32| {
        (today + chrono::Days::new(u64::from(days)))
            .format(domain::time::DATE)
            .to_string()
    };
    Ok(NewTokenChoices {
        teams: ssr::team_choices_offering(|_| true).await?,
        earliest_date: date(1),
        latest_date: date(expiry.max_custom_days),
        expiry,
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
    /// `team` (whole-team) or `permissions` (only those of `permissions`).
    access: Option<String>,
    /// The Access fieldset's controls, every one `permissions[]` (empty ones: no access).
    permissions: Option<Vec<String>>,
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
    // Every field's own check runs, so that the form shows each bad field at once; the rules
    // that need the database (team, duplicates) follow in `domain::tokens::create`.
    let mut checks = crate::error::FieldChecks::default();
    let described = checks.check(domain::tokens::parse_description(&description))?;
    let expiry = checks.check(Expiry::parse(
        &expiration,
        expires_on.as_deref(),
        today,
        &choices,
    ))?;
    let allowed = checks.check(AllowList::parse_text(
        allowed_ips.as_deref().unwrap_or_default(),
    ))?;
    let rate_limit = checks.check(domain::tokens::rate_limit::parse(
        "rate_limit",
        rate_limit.as_deref().unwrap_or_default(),
    ))?;
    let permissions = match access.as_deref() {
        Some("permissions") => {
            checks.check(domain::tokens::permissions::from_form(permissions).map(Some))?
        }
        _ => Some(None),
    };
    let (Some(_), Some(expiry), Some(allowed), Some(rate_limit), Some(permissions)) =
        (described, expiry, allowed, rate_limit, permissions)
    else {
        return Err(checks.into_error());
    };
    let request = NewToken {
        description: &description,
        team: &team,
        // An HTML checkbox sends its value only when checked.
        write: crate::components::checkbox_on(write),
        expiry,
        kind: TokenKind::Personal,
        allowed,
        rate_limit,
        permissions,
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
