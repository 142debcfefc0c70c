use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "activity")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Whose log the entry is in.
    pub user_id: Option<i64>,
    /// Who made the change: a user, or none for the operator at the command line.
    pub actor_id: Option<i64>,
    /// Who acted when no user did: `directory` (SCIM) or `operator`; `None` for a user, a leak
    /// report, and entries made before the column.
    pub actor_kind: Option<String>,
    pub kind: String,
    pub token_id: Option<String>,
    pub ip: Option<String>,
    pub target: Option<String>,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
