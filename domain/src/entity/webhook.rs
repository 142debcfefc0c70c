use sea_orm::entity::prelude::*;

/// A webhook endpoint of a team, or of the instance when `team_id` is none (`webhooks`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhooks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `whk_…`: how people and the CLI name it; also what its sealed secrets are bound to.
    pub public_id: String,
    pub team_id: Option<i64>,
    pub url: String,
    /// The event types it takes, space-separated and sorted.
    pub events: String,
    pub sealed_secret: String,
    /// The secret before the last rotation, which signs beside the new one until
    /// `previous_secret_until`.
    pub previous_sealed_secret: Option<String>,
    pub previous_secret_until: Option<ChronoDateTimeUtc>,
    pub created_by: Option<i64>,
    pub created_at: ChronoDateTimeUtc,
    /// When its oldest pending delivery may be tried again (none: at once).
    pub next_attempt_at: Option<ChronoDateTimeUtc>,
    /// Since when every attempt has failed (none: the last one succeeded).
    pub failing_since: Option<ChronoDateTimeUtc>,
    /// A process sending its deliveries holds it until then.
    pub claimed_until: Option<ChronoDateTimeUtc>,
    pub disabled_at: Option<ChronoDateTimeUtc>,
    pub disabled_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
