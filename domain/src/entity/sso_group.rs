use sea_orm::entity::prelude::*;

/// An identity provider's group mapped to a team and a role (`identity::group_sync`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sso_group_mappings")]
pub struct Model {
    /// The group's name as the `groups` claim carries it.
    #[sea_orm(primary_key, auto_increment = false)]
    pub group_name: String,
    pub team_id: i64,
    /// `reader`, `writer` or `admin`.
    pub role: String,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
