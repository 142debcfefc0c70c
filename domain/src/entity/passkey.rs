use sea_orm::entity::prelude::*;

/// A passkey or security key registered to an account (`identity::passkeys`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "passkeys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    /// What its owner called it ("work laptop").
    pub name: String,
    /// The credential's id, hex: unique.
    pub credential_id: String,
    /// The account's WebAuthn user handle (a UUID), the same on each of its passkeys.
    pub user_handle: String,
    /// webauthn-rs's `Passkey` as JSON: the public key and the signature counter (no secret).
    pub credential: String,
    pub created_at: ChronoDateTimeUtc,
    pub last_used_at: Option<ChronoDateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
