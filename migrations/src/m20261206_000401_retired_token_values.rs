//! `retired_token_values`: the digests of values a regeneration (or a later rotation) replaced,
//! so that for 30 days the API can answer such a value `token_regenerated` ("use the new value")
//! rather than `invalid_token` (docs/tokens.md). Only the digest is kept, as for live values;
//! the housekeeping deletes rows older than 30 days. Looked up by digest, only when a value
//! matches no token (the primary key is the index), and purged by `retired_at`.

use sea_orm_migration::{prelude::*, schema::*};

use crate::steps::{Unique, cascade_fk, create_index, forward_only};

forward_only!(|manager| {
    manager
        .create_table(
            Table::create()
                .table("retired_token_values")
                .if_not_exists()
                .col(string_len("digest", 64).primary_key())
                .col(string_len("token_id", 20))
                .col(timestamp_with_time_zone("retired_at"))
                .foreign_key(&mut cascade_fk(
                    "retired_token_values",
                    "token_id",
                    "tokens",
                ))
                .to_owned(),
        )
        .await?;
    create_index(
        manager,
        "idx_retired_token_values_retired_at",
        "retired_token_values",
        &["retired_at"],
        Unique::No,
    )
    .await
});
