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

use crate::steps::{Unique, add_columns, create_index, forward_only};

forward_only!(|manager| {
    let tokens = [
        big_integer_null("revoked_by"),
        string_len_null("revoke_reason", 800),
        boolean("pending_approval").default(false).to_owned(),
        boolean("reported_leaked").default(false).to_owned(),
        string_len_null("leak_source", 800),
    ];
    add_columns(manager, "tokens", tokens).await?;
    let teams = [boolean("require_write_approval").default(false).to_owned()];
    add_columns(manager, "teams", teams).await?;
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
    create_index(
        manager,
        "idx_tokens_team",
        "tokens",
        &["team_id"],
        Unique::No,
    )
    .await?;
    Ok(())
});
