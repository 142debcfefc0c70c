use sea_orm::entity::prelude::*;

/// An account's link to a subject at an OpenID provider (`domain::identity::sso`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "identities")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    /// The provider's issuer URL, as its ID tokens name it.
    pub issuer: String,
    /// `sub` at that provider.
    pub subject: String,
    pub created_at: ChronoDateTimeUtc,
    pub last_sign_in_at: Option<ChronoDateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
