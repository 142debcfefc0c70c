use sea_orm::entity::prelude::*;

/// A value a regeneration (or a later rotation) replaced, by its digest, for 30 days: the API
/// answers it `token_regenerated` (`tokens::access`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "retired_token_values")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub digest: String,
    pub token_id: String,
    pub retired_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
