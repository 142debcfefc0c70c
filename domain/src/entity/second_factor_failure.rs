use sea_orm::entity::prelude::*;

/// An account's wrong second-factor codes (`identity::two_factor::budget`).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "second_factor_failures")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i64,
    /// Wrong codes in the current streak (attempts under way count until they are settled).
    pub failures: i32,
    /// When the streak's latest attempt was counted: an hour later the streak is over.
    pub last_failure_at: ChronoDateTimeUtc,
    /// Codes are refused until then, right or wrong.
    pub locked_until: Option<ChronoDateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
