use sea_orm::entity::prelude::*;

/// What a SCIM directory says of an account beyond the `users` row (docs/scim.md).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "scim_accounts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i64,
    /// The directory's `userName`, as it spells it (`None`: the patdesk username is it).
    pub user_name: Option<String>,
    /// `user_name` in lower case: unique, as SCIM's `userName` is case-insensitive.
    pub user_name_key: Option<String>,
    /// The directory's own id for the person (unique; single sign-on links by it).
    pub external_id: Option<String>,
    pub display_name: Option<String>,
    /// The directory made the account (it signs in with single sign-on only).
    pub provisioned: bool,
    pub modified_at: ChronoDateTimeUtc,
    /// The directory deleted it: the account stays suspended, and SCIM answers 404 for it.
    pub removed_at: Option<ChronoDateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
