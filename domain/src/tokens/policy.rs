//! The instance's token policy, set by instance admins (`/admin`, `patdesk policy set`): a
//! maximum lifetime for tokens, whether they must expire, and how long the API explorer's token
//! lives. It narrows what the token form offers, the CLI accepts and regeneration keeps to
//! ([`Policy::expiry_choices`]); tightening it shortens existing tokens. See
//! `docs/governance.md`.

use chrono::{DateTime, Duration, Utc};
use common::ExpiryChoices;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, Set,
};

use crate::{
    Origin,
    activity::{self, Event, Kind},
    db::begin_write,
    entity::{policy, token},
    error::{Error, Result},
    identity::sign_ups::SignUps,
    notifications::{self, Notice, NoticeKind, TokenRef},
};

pub use common::MAX_LIFETIME_DAYS;
/// The explorer's token lifetime when nobody has set one.
pub const DEFAULT_EXPLORER_HOURS: u32 = common::EXPLORER_LIFETIME_HOURS as u32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// No token lives longer than this many days from its creation (none: no limit).
    pub max_lifetime_days: Option<u32>,
    /// Every token expires ("never" is not offered).
    pub require_expiry: bool,
    /// How long the API explorer's own token lives.
    pub explorer_lifetime_hours: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            max_lifetime_days: None,
            require_expiry: false,
            explorer_lifetime_hours: DEFAULT_EXPLORER_HOURS,
        }
    }
}

impl Policy {
    /// Checks the values an admin asks for, naming the field that is wrong.
    pub fn new(
        max_lifetime_days: Option<u32>,
        require_expiry: bool,
        explorer_lifetime_hours: u32,
    ) -> Result<Self> {
        if let Some(days) = max_lifetime_days
            && !(1..=MAX_LIFETIME_DAYS).contains(&days)
        {
            return Err(Error::invalid(
                "max_lifetime_days",
                format!("The maximum lifetime is 1 to {MAX_LIFETIME_DAYS} days, or none."),
            ));
        }
        let longest_hours = max_lifetime_days.map_or(MAX_LIFETIME_DAYS, |d| d) * 24;
        if explorer_lifetime_hours == 0 || explorer_lifetime_hours > longest_hours {
            return Err(Error::invalid(
                "explorer_lifetime_hours",
                format!(
                    "The API explorer's token lives 1 to {longest_hours} hours (at most the maximum lifetime)."
                ),
            ));
        }
        Ok(Policy {
            max_lifetime_days,
            require_expiry,
            explorer_lifetime_hours,
        })
    }

    /// This policy changed as an operator asks (`patdesk policy set`): the explorer's lifetime,
    /// when not given, stays as it is but narrows to a new maximum.
    pub fn changed(
        self,
        max_lifetime_days: Option<u32>,
        require_expiry: bool,
        explorer_lifetime_hours: Option<u32>,
    ) -> Result<Self> {
        let explorer = explorer_lifetime_hours.unwrap_or_else(|| {
            max_lifetime_days.map_or(self.explorer_lifetime_hours, |days| {
                self.explorer_lifetime_hours.min(days.saturating_mul(24))
            })
        });
        Policy::new(max_lifetime_days, require_expiry, explorer)
    }

    /// The lifetimes a new token may be given under this policy: the standard choices, narrowed.
    pub fn expiry_choices(&self) -> ExpiryChoices {
        ExpiryChoices::standard().within(self.max_lifetime_days, self.require_expiry)
    }

    /// The latest a token created (or regenerated) at `from` may expire.
    pub fn latest_expiry(&self, from: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.max_lifetime_days
            .map(|days| from + Duration::days(i64::from(days)))
    }

    /// Whether a token created at `from` may expire at `expires_at` (`None`: never).
    pub fn allows(&self, from: DateTime<Utc>, expires_at: Option<DateTime<Utc>>) -> bool {
        match (expires_at, self.latest_expiry(from)) {
            (None, Some(_)) => false,
            (None, None) => !self.require_expiry,
            // A custom date runs to the end of its day: a day's grace.
            (Some(at), Some(latest)) => at <= latest + Duration::days(1),
            (Some(_), None) => true,
        }
    }

    pub fn explorer_lifetime(&self) -> Duration {
        Duration::hours(i64::from(self.explorer_lifetime_hours))
    }

    /// "at most 30 days, and every token expires"
    pub fn in_words(&self) -> String {
        match (self.max_lifetime_days, self.require_expiry) {
            (Some(days), _) => format!("tokens live at most {days} days"),
            (None, true) => "every token expires".to_string(),
            (None, false) => "no limit on token lifetimes".to_string(),
        }
    }
}

/// The policy in force (the defaults until an admin sets one).
pub async fn current(db: &impl ConnectionTrait) -> Result<Policy> {
    Ok(match policy::Entity::find_by_id(1).one(db).await? {
        Some(row) => Policy {
            max_lifetime_days: row.max_lifetime_days.and_then(|d| u32::try_from(d).ok()),
            require_expiry: row.require_expiry,
            explorer_lifetime_hours: u32::try_from(row.explorer_lifetime_hours)
                .unwrap_or(DEFAULT_EXPLORER_HOURS),
        },
        None => Policy::default(),
    })
}

/// Changes the instance policy's one row (in the caller's transaction), made with the
/// defaults first if no one has set the policy yet: the token policy, single sign-on's,
/// two-factor sign-in's, sign-ups' and SCIM's settings share it, each changing its own columns.
pub(crate) async fn change_row(
    txn: &impl sea_orm::ConnectionTrait,
    change: impl FnOnce(&mut policy::ActiveModel),
) -> Result<()> {
    let found = policy::Entity::find_by_id(1).one(txn).await?;
    let exists = found.is_some();
    let mut row: policy::ActiveModel = match found {
        Some(found) => found.into(),
        None => {
            let defaults = Policy::default();
            policy::ActiveModel {
                id: Set(1),
                max_lifetime_days: Set(defaults.max_lifetime_days.map(i64::from)),
                require_expiry: Set(defaults.require_expiry),
                explorer_lifetime_hours: Set(i64::from(defaults.explorer_lifetime_hours)),
                updated_at: Set(Utc::now()),
                require_sso: Set(false),
                require_2fa: Set(false),
                two_factor_grace_days: Set(0),
                require_2fa_since: Set(None),
                sign_ups: Set(SignUps::default().as_str().to_string()),
                scim_manages_admins: Set(false),
                require_fine_grained: Set(false),
            }
        }
    };
    change(&mut row);
    row.updated_at = Set(Utc::now());
    if exists {
        row.update(txn).await?;
    } else {
        row.insert(txn).await?;
    }
    Ok(())
}

/// What setting the policy did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Applied {
    /// Existing tokens whose expiry was brought forward to creation + the maximum.
    pub shortened: u64,
}

/// Sets the policy (instance admins and the operator). Tightening it shortens every live token
/// that now exceeds it to its creation time plus the maximum — never lengthens one — with one
/// entry in each owner's log, all in one transaction with the change. Loosening it changes no
/// token.
pub async fn set(db: &DatabaseConnection, by: Origin, new: Policy) -> Result<Applied> {
    let actor = by.who;
    let txn = begin_write(db).await?;
    crate::identity::users::require_instance_admin(&txn, actor, "change the token policy").await?;
    change_row(&txn, |row| {
        row.max_lifetime_days = Set(new.max_lifetime_days.map(i64::from));
        row.require_expiry = Set(new.require_expiry);
        row.explorer_lifetime_hours = Set(i64::from(new.explorer_lifetime_hours));
    })
    .await?;
    let shortened = match new.max_lifetime_days {
        Some(days) => shorten_tokens(&txn, by, days).await?,
        None => 0,
    };
    if let Some(admin) = actor.user_id() {
        let event = Event::by(by, Some(admin), Kind::InstancePolicyChanged).target(format!(
            "token policy: {}; API explorer tokens live {} hours ({shortened} tokens shortened)",
            new.in_words(),
            new.explorer_lifetime_hours
        ));
        activity::record(&txn, event).await?;
    }
    txn.commit().await?;
    crate::tokens::rights::changed();
    Ok(Applied { shortened })
}

/// Brings forward the expiry of every live token that outlives creation + `days`.
async fn shorten_tokens(txn: &impl ConnectionTrait, by: Origin, days: u32) -> Result<u64> {
    let now = Utc::now();
    let longest = Duration::days(i64::from(days));
    // Candidates: live, not expired, and either never expiring or expiring later than the
    // maximum allows for the youngest possible token; the exact test is per token below.
    let candidates = token::Entity::find()
        .filter(token::Column::DeletedAt.is_null())
        .filter(
            Condition::any()
                .add(token::Column::ExpiresAt.is_null())
                .add(token::Column::ExpiresAt.gt(now)),
        )
        .all(txn)
        .await?;
    let teams = crate::teams::slugs_by_id(txn, candidates.iter().map(|t| t.team_id)).await?;
    let mut shortened = 0;
    for t in candidates {
        let latest = t.created_at + longest;
        if t.expires_at.is_some_and(|at| at <= latest) {
            continue;
        }
        let team = teams.get(&t.team_id).cloned().unwrap_or_default();
        let notice = Notice::new(
            NoticeKind::ExpiryShortened,
            t.user_id,
            TokenRef::of(&t, team),
        )
        .detail(crate::time::minute(latest));
        notifications::notify(txn, notice, now).await?;
        let (owner, id, description, was) =
            (t.user_id, t.id.clone(), t.description.clone(), t.expires_at);
        let mut active: token::ActiveModel = t.into();
        active.expires_at = Set(Some(latest));
        active.update(txn).await?;
        let was = was.map_or("never".to_string(), crate::time::minute);
        let event = Event::by(by, Some(owner), Kind::TokenExpiryShortened)
            .token(id)
            .target(format!(
                "token \"{description}\": expires {} instead of {was} (instance policy: at most {days} days)",
                crate::time::minute(latest)
            ));
        activity::record(txn, event).await?;
        shortened += 1;
    }
    Ok(shortened)
}

/// Sets who may sign up (`identity::sign_ups`; instance admins and the operator), recorded in
/// the admin's log. Here, beside `change_row`, because `identity::users` asks `sign_ups` at
/// every new account and this needs `users` (no import cycle).
pub async fn set_sign_ups(db: &DatabaseConnection, by: Origin, new: SignUps) -> Result<()> {
    let txn = begin_write(db).await?;
    crate::identity::users::require_instance_admin(&txn, by.who, "change who may sign up").await?;
    change_row(&txn, |row| {
        row.sign_ups = Set(new.as_str().to_string());
    })
    .await?;
    if let Some(admin) = by.who.user_id() {
        let event = Event::by(by, Some(admin), Kind::SignUpsChanged)
            .target(format!("sign-ups {}", new.in_words()));
        activity::record(&txn, event).await?;
    }
    txn.commit().await?;
    Ok(())
}
