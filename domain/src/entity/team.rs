use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "teams")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub created_at: ChronoDateTimeUtc,
    /// Kept with every question created or deleted (`content`).
    pub question_count: i64,
    /// Raised with every question created, edited or deleted (`content`, `content::pages`).
    pub content_version: i64,
    /// New write tokens of members who are not admins wait for an admin's approval.
    pub require_write_approval: bool,
    /// The highest per-minute rate limit a token of this team may have; `None`: no cap.
    pub max_rate_limit_per_minute: Option<i32>,
    /// Whole-team tokens pass a check of one of the team's services' scopes
    /// (docs/permissions.md); off, only a token holding the scope does.
    pub whole_team_services: bool,
    /// New tokens of this team must be fine-grained.
    pub require_fine_grained: bool,
    /// Its admins may make long-lived tokens for its service accounts; off, only trust
    /// policies' short-lived ones (docs/service-accounts.md).
    pub service_account_tokens: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
