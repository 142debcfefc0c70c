//! What team admins control (docs/governance.md):
//! - who revoked a token, when it was not its owner, and why: `tokens.revoked_by` (the team
//!   admin; null when the owner deleted it) and `tokens.revoke_reason` (optional, at most 200
//!   characters); the time is `deleted_at`, as for every deletion;
//! - approval of write tokens: `teams.require_write_approval` (off for every team) and
//!   `tokens.pending_approval` (a write token waiting for an admin; false for every token);
//! - an index on `tokens (team_id)` for a team admin's list of the team's tokens.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        manager
            .alter_table(
                Table::alter()
                    .table("tokens")
                    .add_column(big_integer_null("revoked_by"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("tokens")
                    .add_column(string_len_null("revoke_reason", 800))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("tokens")
                    .add_column(boolean("pending_approval").default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("teams")
                    .add_column(boolean("require_write_approval").default(false))
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
