use sea_orm::entity::prelude::*;

/// The instance's policy (tokens, and whether single sign-on is required): one row, id 1, once
/// an instance admin has set it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "instance_policy")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    pub max_lifetime_days: Option<i64>,
    pub require_expiry: bool,
    pub explorer_lifetime_hours: i64,
    pub updated_at: ChronoDateTimeUtc,
    /// Password sign-in is refused to everyone but instance admins (`identity::sso`).
    pub require_sso: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
