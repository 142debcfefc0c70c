use sea_orm::entity::prelude::*;

/// A sign-in whose password was right and whose second factor is still to come.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sign_in_challenges")]
pub struct Model {
    /// SHA-256 (hex) of the id in the browser's sign-in cookie.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id_digest: String,
    pub user_id: i64,
    /// Wrong codes given so far; the challenge ends at the fifth.
    pub failures: i32,
    pub expires_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
