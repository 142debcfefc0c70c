use sea_orm::entity::prelude::*;

/// Calls of one token in one hour, through one surface, with one outcome (`usage`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "token_usage_hours")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_id: String,
    /// The hour's start (UTC).
    #[sea_orm(primary_key, auto_increment = false)]
    pub hour: ChronoDateTimeUtc,
    /// `api`, `verify` or `introspect`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub surface: String,
    /// `accepted`, or the refusal's error code.
    #[sea_orm(primary_key, auto_increment = false)]
    pub outcome: String,
    pub calls: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
