use sea_orm::entity::prelude::*;

/// A trust policy: which identity tokens may be exchanged for a token of a service account
/// (`tokens::federation`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "federation_policies")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The service account's `users.id`.
    pub service_account_id: i64,
    pub issuer: String,
    pub audience: String,
    /// Claim → pattern (`*` matches any run of characters), as a JSON object.
    pub conditions: String,
    /// The permissions a minted token holds, space-separated and sorted.
    pub permissions: String,
    pub lifetime_minutes: i32,
    pub created_by: Option<i64>,
    pub created_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
