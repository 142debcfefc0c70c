//! Per-token IP allow-lists and rotation with an overlap window (docs/tokens.md):
//! - `tokens.allowed_ips`: the canonical allow-list as a JSON array of CIDR strings; null (and
//!   every existing token) means any address;
//! - `tokens.previous_digest`, `previous_hint`, `previous_valid_until`: the value a rotation
//!   replaced, which keeps working until `previous_valid_until` and is then answered with
//!   `token_rotated`; null when the token was never rotated (or was regenerated since);
//! - `tokens.previous_last_used_at`: the last use of that old value since the rotation, and
//!   `tokens.last_used_previous`: whether the token's latest use was the old value;
//! - an index on `previous_digest`, which authentication looks up like `secret_digest`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        let new_columns = [
            text_null("allowed_ips"),
            string_len_null("previous_digest", 64),
            string_len_null("previous_hint", 8),
            timestamp_with_time_zone_null("previous_valid_until"),
            timestamp_with_time_zone_null("previous_last_used_at"),
            boolean("last_used_previous").default(false).to_owned(),
        ];
        for mut column in new_columns {
            manager
                .alter_table(
                    Table::alter()
                        .table("tokens")
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_tokens_previous_digest")
                    .table("tokens")
                    .col("previous_digest")
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "patdesk's migrations are forward-only".into(),
        ))
    }
}
