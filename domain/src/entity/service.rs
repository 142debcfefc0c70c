use sea_orm::entity::prelude::*;

/// A team's service credential (docs/forward-auth.md): stored as a digest, like a token.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service_credentials")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub team_id: i64,
    pub name: String,
    pub secret_digest: String,
    pub hint: String,
    /// The team admin who made it; `None` for the operator.
    pub created_by: Option<i64>,
    pub created_at: ChronoDateTimeUtc,
    pub deleted_at: Option<ChronoDateTimeUtc>,
    /// The name permissions use for it (`deploy` in `deploy:run`), unique among the team's live
    /// services; `None` for a credential made before services had one (it defines no scopes).
    pub slug: Option<String>,
    /// The scopes it defines, space-separated and sorted (docs/permissions.md).
    pub scopes: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
