use sea_orm::entity::prelude::*;

/// A WebAuthn ceremony between its two steps (`identity::passkeys`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webauthn_ceremonies")]
pub struct Model {
    /// SHA-256 (hex) of the id the browser holds.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id_digest: String,
    /// `register`, `sign_in`, `second_factor` or `confirm`.
    pub purpose: String,
    /// The account it is for (none for a sign-in with a passkey alone).
    pub user_id: Option<i64>,
    /// For a second factor: the digest of the sign-in challenge it belongs to.
    pub bound_to: Option<String>,
    /// webauthn-rs's state as JSON (a challenge; no secret of the person's).
    pub state: String,
    pub expires_at: ChronoDateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
