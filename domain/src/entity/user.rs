use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub is_admin: bool,
    pub is_active: bool,
    pub created_at: ChronoDateTimeUtc,
    /// The address notices are mailed to, as its owner entered it (`None`: in-app only).
    pub email: Option<String>,
    /// `email` in lower case: unique, so that one address belongs to one account.
    pub email_key: Option<String>,
    /// Mail expiry reminders and expiry notices.
    pub notify_expiry: bool,
    /// Mail "token used from a new IP address".
    pub notify_new_ip: bool,
    /// Mail "a new token was created on your account".
    pub notify_new_token: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
