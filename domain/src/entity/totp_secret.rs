use sea_orm::entity::prelude::*;

/// An account's authenticator-app secret (docs/two-factor.md).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "totp_secrets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i64,
    /// The secret, sealed with the server's key (`secret::SealingKey`).
    pub sealed_secret: String,
    pub created_at: ChronoDateTimeUtc,
    /// `None` while enrolment waits for its first code: the secret does not count yet.
    pub confirmed_at: Option<ChronoDateTimeUtc>,
    /// The last 30-second step whose code was accepted: no code of it or before it is again.
    pub last_step: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
