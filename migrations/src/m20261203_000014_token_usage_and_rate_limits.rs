//! Usage history and per-token rate limits (docs/usage.md):
//! - `token_usage_hours`: calls per token, hour (UTC, truncated), surface (`api`, `verify`,
//!   `introspect`) and outcome (`accepted` or the refusal's error code), added to by every
//!   process's flush (never one write per request); hours older than 90 days are purged;
//! - `token_addresses`: per token and client address, first and last seen, calls and how many
//!   of them were refused;
//! - `token_rate_windows`: how much of a token's per-minute budget the processes have taken, per
//!   minute window (each process takes leases of it: docs/usage.md);
//! - `tokens.rate_limit_per_minute` (null: no limit) and `teams.max_rate_limit_per_minute` (null:
//!   no cap).

use sea_orm_migration::{prelude::*, schema::*};

use crate::steps::{Unique, add_columns, create_index, forward_only};

forward_only!(|manager| {
    add_columns(manager, "tokens", [integer_null("rate_limit_per_minute")]).await?;
    add_columns(
        manager,
        "teams",
        [integer_null("max_rate_limit_per_minute")],
    )
    .await?;
    manager
        .create_table(
            Table::create()
                .table("token_usage_hours")
                .if_not_exists()
                .col(string_len("token_id", 20))
                .col(timestamp_with_time_zone("hour"))
                .col(string_len("surface", 16))
                .col(string_len("outcome", 40))
                .col(big_integer("calls"))
                .primary_key(
                    Index::create()
                        .col("token_id")
                        .col("hour")
                        .col("surface")
                        .col("outcome"),
                )
                .to_owned(),
        )
        .await?;
    create_index(
        manager,
        "idx_token_usage_hours_hour",
        "token_usage_hours",
        &["hour"],
        Unique::No,
    )
    .await?;
    manager
        .create_table(
            Table::create()
                .table("token_addresses")
                .if_not_exists()
                .col(string_len("token_id", 20))
                .col(string_len("ip", 45))
                .col(timestamp_with_time_zone("first_seen"))
                .col(timestamp_with_time_zone("last_seen"))
                .col(big_integer("calls"))
                .col(big_integer("refused"))
                .primary_key(Index::create().col("token_id").col("ip"))
                .to_owned(),
        )
        .await?;
    create_index(
        manager,
        "idx_token_addresses_last_seen",
        "token_addresses",
        &["last_seen"],
        Unique::No,
    )
    .await?;
    manager
        .create_table(
            Table::create()
                .table("token_rate_windows")
                .if_not_exists()
                .col(string_len("token_id", 20))
                .col(timestamp_with_time_zone("window_start"))
                .col(integer("taken"))
                .primary_key(Index::create().col("token_id").col("window_start"))
                .to_owned(),
        )
        .await
});
