use sea_orm::entity::prelude::*;

/// A SCIM directory's group: a team's membership list (docs/scim.md).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "scim_groups")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub display_name: String,
    /// `display_name` in lower case: unique.
    pub display_key: String,
    pub external_id: Option<String>,
    pub team_id: i64,
    /// The role its members get in the team (`common::Role::as_str`).
    pub role: String,
    pub created_at: ChronoDateTimeUtc,
    pub modified_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
