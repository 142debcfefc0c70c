//! Ending an account's unused password-reset links (`password_reset`) when what they stood for
//! changes: its password (any way) or its email address. A module of its own, over the table
//! alone, so that `users` and `password_change` can call it without importing the reset flow.

use chrono::Utc;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr};

use crate::{entity::password_reset, error::Result};

/// Ends every unused link of the account.
pub(crate) async fn revoke(db: &impl ConnectionTrait, user_id: i64) -> Result<()> {
    password_reset::Entity::update_many()
        .col_expr(password_reset::Column::UsedAt, Expr::value(Utc::now()))
        .filter(password_reset::Column::UserId.eq(user_id))
        .filter(password_reset::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}
