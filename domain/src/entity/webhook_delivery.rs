use sea_orm::entity::prelude::*;

/// One event for one endpoint: the webhooks' outbox (`webhook_deliveries`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub webhook_id: i64,
    /// `msg_…`: the `webhook-id` header of every attempt.
    pub message_id: String,
    pub event_type: String,
    /// The JSON body, fixed when the event happened.
    pub payload: String,
    pub created_at: ChronoDateTimeUtc,
    /// `pending`, `delivered` or `failed` (given up with its endpoint).
    pub state: String,
    pub attempts: i32,
    pub last_attempt_at: Option<ChronoDateTimeUtc>,
    /// The receiver's HTTP status at the last attempt, if it answered.
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub delivered_at: Option<ChronoDateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
