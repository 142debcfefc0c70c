//! Account care (docs/accounts.md): what the Account page lists of each session — an opaque
//! public id for its Sign out button (never the id's digest), the address and the browser it
//! was last seen from — and `password_resets`, the one-time links of "Forgot password?",
//! stored as the SHA-256 of their secret only.

use sea_orm_migration::{prelude::*, schema::*};

use crate::steps::{Unique, add_columns, cascade_fk, create_index, forward_only};

forward_only!(|manager| {
    add_columns(
        manager,
        "sessions",
        [
            string_len_null("public_id", 32),
            string_len_null("ip", 45),
            string_len_null("user_agent", 200),
        ],
    )
    .await?;
    create_index(
        manager,
        "sessions_public_id",
        "sessions",
        &["public_id"],
        Unique::Yes,
    )
    .await?;
    manager
        .create_table(
            Table::create()
                .table("password_resets")
                .if_not_exists()
                .col(string_len("id_digest", 64).primary_key())
                .col(big_integer("user_id"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone_null("used_at"))
                .foreign_key(&mut cascade_fk("password_resets", "user_id", "users"))
                .to_owned(),
        )
        .await?;
    create_index(
        manager,
        "password_resets_user",
        "password_resets",
        &["user_id", "created_at"],
        Unique::No,
    )
    .await
});
