use sea_orm::entity::prelude::*;

/// A "Forgot password?" link: the SHA-256 of its secret, never the secret.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "password_resets")]
pub struct Model {
    /// SHA-256 (hex) of the secret in the mailed link.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id_digest: String,
    pub user_id: i64,
    pub created_at: ChronoDateTimeUtc,
    pub expires_at: ChronoDateTimeUtc,
    /// When it was used: a link works once. Kept (with its creation) to count the links an
    /// account was sent recently.
    pub used_at: Option<ChronoDateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
