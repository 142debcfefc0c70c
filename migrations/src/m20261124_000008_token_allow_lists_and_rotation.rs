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

use crate::steps::{Unique, add_columns, create_index, forward_only};

forward_only!(|manager| {
    let columns = [
        text_null("allowed_ips"),
        string_len_null("previous_digest", 64),
        string_len_null("previous_hint", 8),
        timestamp_with_time_zone_null("previous_valid_until"),
        timestamp_with_time_zone_null("previous_last_used_at"),
        boolean("last_used_previous").default(false).to_owned(),
    ];
    add_columns(manager, "tokens", columns).await?;
    create_index(
        manager,
        "idx_tokens_previous_digest",
        "tokens",
        &["previous_digest"],
        Unique::No,
    )
    .await?;
    Ok(())
});
