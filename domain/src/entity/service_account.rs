use sea_orm::entity::prelude::*;

/// A team's account that is not a person (docs/service-accounts.md): its `users` row owns its
/// tokens, its membership gives its role; it never signs in.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service_accounts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i64,
    pub team_id: i64,
    /// Unique in the team: `deploy-bot`.
    pub name: String,
    pub description: String,
    pub created_by: Option<i64>,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
