//! What team admins control (docs/governance.md):
//! - who revoked a token, when it was not its owner, and why: `tokens.revoked_by` (the team
//!   admin; null when the owner deleted it) and `tokens.revoke_reason` (optional, at most 200
//!   characters); the time is `deleted_at`, as for every deletion;
//! - approval of write tokens: `teams.require_write_approval` (off for every team) and
//!   `tokens.pending_approval` (a write token waiting for an admin; false for every token);
//! - the instance's token policy: `instance_policy`, one row (id 1) once an admin sets it;
//! - leak reports: `tokens.reported_leaked` and `tokens.leak_source` (what the reporter said);
//! - an index on `tokens (team_id)` for a team admin's list of the team's tokens.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        let new_columns = [
            ("tokens", big_integer_null("revoked_by")),
            ("tokens", string_len_null("revoke_reason", 800)),
            (
                "tokens",
                boolean("pending_approval").default(false).to_owned(),
            ),
            (
                "teams",
                boolean("require_write_approval").default(false).to_owned(),
            ),
            (
                "tokens",
                boolean("reported_leaked").default(false).to_owned(),
            ),
            ("tokens", string_len_null("leak_source", 800)),
        ];
        for (table, mut column) in new_columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("instance_policy")
                    .if_not_exists()
                    .col(big_integer("id").primary_key())
                    .col(big_integer_null("max_lifetime_days"))
                    .col(boolean("require_expiry").default(false))
                    .col(big_integer("explorer_lifetime_hours").default(24))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_tokens_team")
                    .table("tokens")
                    .col("team_id")
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
