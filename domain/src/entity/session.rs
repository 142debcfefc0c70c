use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    /// SHA-256 (hex) of the session id in the cookie.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id_digest: String,
    pub user_id: i64,
    pub created_at: ChronoDateTimeUtc,
    pub last_seen_at: ChronoDateTimeUtc,
    pub expires_at: ChronoDateTimeUtc,
    /// When the person last proved who they are in this session (password, second factor or
    /// single sign-on): sudo mode counts from it. `None` on sessions older than sudo mode:
    /// `created_at` then.
    pub authenticated_at: Option<ChronoDateTimeUtc>,
    /// The handle the Account page's Sign out button names (random, not the digest):
    /// `None` on sessions from before it, which get one when first listed.
    pub public_id: Option<String>,
    /// The address it was last seen from, and its browser's `User-Agent` (cut to 200 bytes).
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
