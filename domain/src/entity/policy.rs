use sea_orm::entity::prelude::*;

/// The instance's policy (tokens, how people sign in, who may have an account): one row, id 1,
/// once an instance admin has set it.
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
    /// Password accounts must enrol a second factor (`identity::two_factor`)…
    pub require_2fa: bool,
    /// …within this many days of `require_2fa_since` (or of their creation, if later).
    pub two_factor_grace_days: i32,
    pub require_2fa_since: Option<ChronoDateTimeUtc>,
    /// Who may make an account by signing up: `open`, `closed` or `sso`
    /// (`identity::sign_ups`).
    pub sign_ups: String,
    /// A SCIM directory may change, deactivate and delete instance admins (`identity::scim`).
    pub scim_manages_admins: bool,
    /// New tokens must be fine-grained (docs/permissions.md).
    pub require_fine_grained: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
