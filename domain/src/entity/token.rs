use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub user_id: i64,
    pub team_id: i64,
    pub description: String,
    /// `common::description_key(description)`: unique among the owner's live tokens.
    pub description_key: String,
    pub secret_digest: String,
    pub hint: String,
    pub write: bool,
    pub kind: String,
    pub expires_at: Option<ChronoDateTimeUtc>,
    pub created_at: ChronoDateTimeUtc,
    pub regenerated_at: Option<ChronoDateTimeUtc>,
    pub last_used_at: Option<ChronoDateTimeUtc>,
    pub last_used_ips: Option<String>,
    pub deleted_at: Option<ChronoDateTimeUtc>,
    /// The team admin who revoked the token; `None` when its owner (or the operator) deleted it.
    pub revoked_by: Option<i64>,
    /// The admin's reason, if they gave one.
    pub revoke_reason: Option<String>,
    /// A write token waiting for a team admin's approval (the API refuses it until then).
    pub pending_approval: bool,
    /// Revoked because someone reported its value as leaked (`domain::tokens::leaks`).
    pub reported_leaked: bool,
    /// What the reporter said of where they found it.
    pub leak_source: Option<String>,
    /// The allow-list (`domain::tokens::allow_list`) as a JSON array of canonical CIDRs; `None`: any
    /// address.
    pub allowed_ips: Option<String>,
    /// The value a rotation replaced, working until `previous_valid_until` (docs/tokens.md).
    pub previous_digest: Option<String>,
    pub previous_hint: Option<String>,
    pub previous_valid_until: Option<ChronoDateTimeUtc>,
    /// The old value's last use since the rotation.
    pub previous_last_used_at: Option<ChronoDateTimeUtc>,
    /// Whether the latest use (`last_used_at`) was the old value.
    pub last_used_previous: bool,
    /// Calls allowed per minute (`tokens::rate_limit`); `None`: no limit.
    pub rate_limit_per_minute: Option<i32>,
    /// A fine-grained token's permissions, space-separated and sorted
    /// (`common::Permissions::joined`); `None`: a whole-team token (docs/permissions.md).
    pub permissions: Option<String>,
    /// A `federated` token's provenance: the claims of the identity token it was exchanged
    /// for, as a JSON object (docs/service-accounts.md); `None` for every other token.
    pub provenance: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
