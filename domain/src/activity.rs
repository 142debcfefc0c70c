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
