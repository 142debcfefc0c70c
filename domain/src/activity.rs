//! The activity log: what happened, when, by whom, from where, to what.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};

use crate::{entity::activity, error::Result};

/// What kind of event an entry records. Stored as its `as_str()` name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    SignUp,
    SignIn,
    SignInFailed,
    SignOut,
    TeamCreated,
    MemberAdded,
    MemberRoleChanged,
    MemberRemoved,
    TokenCreated,
    TokenRegenerated,
    TokenDeleted,
    /// A write made through the API with a token.
    ApiWrite,
    TokenUsedFromNewIp,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::SignUp => "sign_up",
            Kind::SignIn => "sign_in",
            Kind::SignInFailed => "sign_in_failed",
            Kind::SignOut => "sign_out",
            Kind::TeamCreated => "team_created",
            Kind::MemberAdded => "member_added",
            Kind::MemberRoleChanged => "member_role_changed",
            Kind::MemberRemoved => "member_removed",
            Kind::TokenCreated => "token_created",
            Kind::TokenRegenerated => "token_regenerated",
            Kind::TokenDeleted => "token_deleted",
            Kind::ApiWrite => "api_write",
            Kind::TokenUsedFromNewIp => "token_used_from_new_ip",
        }
    }
}

/// One event to record.
#[derive(Clone, Debug)]
pub struct Event {
    pub user_id: Option<i64>,
    pub kind: Kind,
    pub token_id: Option<String>,
    pub ip: Option<String>,
    pub target: Option<String>,
}

impl Event {
    pub fn new(user_id: Option<i64>, kind: Kind) -> Self {
        Event {
            user_id,
            kind,
            token_id: None,
            ip: None,
            target: None,
        }
    }

    pub fn ip(mut self, ip: Option<String>) -> Self {
        self.ip = ip;
        self
    }

    pub fn target(mut self, target: impl Into<String>) -> Self {
        let mut target: String = target.into();
        if target.len() > 200 {
            let mut cut = 200;
            while !target.is_char_boundary(cut) {
                cut -= 1;
            }
            target.truncate(cut);
        }
        self.target = Some(target);
        self
    }
}

pub async fn record(db: &impl ConnectionTrait, event: Event) -> Result<()> {
    record_at(db, event, Utc::now()).await
}

pub async fn record_at(db: &impl ConnectionTrait, event: Event, at: DateTime<Utc>) -> Result<()> {
    activity::ActiveModel {
        user_id: Set(event.user_id),
        kind: Set(event.kind.as_str().to_string()),
        token_id: Set(event.token_id),
        ip: Set(event.ip),
        target: Set(event.target),
        created_at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// One entry as the Activity page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub id: i64,
    pub kind: String,
    pub actor: Option<String>,
    pub token_id: Option<String>,
    pub ip: Option<String>,
    pub target: Option<String>,
    pub at: DateTime<Utc>,
}

/// `user_id`'s activity, newest first: `per_page` entries of page `page` (from 1), and whether
/// there is an older page.
pub async fn list_for_user(
    db: &sea_orm::DatabaseConnection,
    user_id: i64,
    page: u64,
    per_page: u64,
) -> Result<(Vec<Entry>, bool)> {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

    let actor = crate::entity::user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .map(|u| u.username);
    let paginator = activity::Entity::find()
        .filter(activity::Column::UserId.eq(user_id))
        .order_by_desc(activity::Column::Id)
        .paginate(db, per_page);
    let pages = paginator.num_pages().await?;
    let rows = paginator.fetch_page(page.saturating_sub(1)).await?;
    let entries = rows
        .into_iter()
        .map(|m| Entry {
            id: m.id,
            kind: m.kind,
            actor: actor.clone(),
            token_id: m.token_id,
            ip: m.ip,
            target: m.target,
            at: m.created_at,
        })
        .collect();
    Ok((entries, page < pages))
}

/// Words for an entry's kind.
pub fn describe(kind: &str) -> &'static str {
    match kind {
        "sign_up" => "Signed up",
        "sign_in" => "Signed in",
        "sign_in_failed" => "Failed sign-in attempt",
        "sign_out" => "Signed out",
        "team_created" => "Created a team",
        "member_added" => "Added a team member",
        "member_role_changed" => "Changed a member's role",
        "member_removed" => "Removed a team member",
        "token_created" => "Created a token",
        "token_regenerated" => "Regenerated a token",
        "token_deleted" => "Deleted a token",
        "api_write" => "Changed team content through the API",
        "token_used_from_new_ip" => "Token used from a new IP",
        _ => "Other",
    }
}
