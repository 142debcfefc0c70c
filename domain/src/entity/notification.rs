use sea_orm::entity::prelude::*;

/// A notice to a user (docs/notifications.md): shown in the app, and mailed when `mail_state`
/// is `pending`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    /// `domain::notifications::NoticeKind::as_str`.
    pub kind: String,
    pub token_id: Option<String>,
    /// The token as it was when the notice was made (it may be gone since).
    pub token_description: Option<String>,
    pub token_hint: Option<String>,
    pub token_team: Option<String>,
    /// What the kind needs besides the token: an IP, a date, who revoked it and why.
    pub detail: Option<String>,
    /// Unique when set: a notice that must exist once (an expiry reminder) is stored once.
    pub dedupe_key: Option<String>,
    pub created_at: ChronoDateTimeUtc,
    pub read_at: Option<ChronoDateTimeUtc>,
    /// `none` (not mailed), `pending`, `sent` or `failed` (gave up after retries).
    pub mail_state: String,
    pub mail_attempts: i32,
    /// When a pending mail is next tried.
    pub mail_next_at: Option<ChronoDateTimeUtc>,
    /// A process that claimed the mail owns it until then.
    pub mail_claimed_until: Option<ChronoDateTimeUtc>,
    pub mail_sent_at: Option<ChronoDateTimeUtc>,
    /// The last delivery error, for the operator.
    pub mail_error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
