//! Service credentials (docs/forward-auth.md): what a team's own services present to
//! `POST /oauth/introspect`. Stored like tokens: the SHA-256 of the secret and its last four
//! characters, never the secret; deletion is soft (`deleted_at`).

use sea_orm_migration::{prelude::*, schema::*};

use crate::steps::{Unique, cascade_fk, create_index, forward_only};

forward_only!(|manager| {
    manager
        .create_table(
            Table::create()
                .table("service_credentials")
                .if_not_exists()
                .col(string_len("id", 40).primary_key())
                .col(big_integer("team_id"))
                .col(string_len("name", 240))
                .col(string_len("secret_digest", 64))
                .col(string_len("hint", 8))
                .col(big_integer_null("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("deleted_at"))
                .foreign_key(&mut cascade_fk("service_credentials", "team_id", "teams"))
                .to_owned(),
        )
        .await?;
    let table = "service_credentials";
    create_index(
        manager,
        "idx_service_credentials_digest",
        table,
        &["secret_digest"],
        Unique::Yes,
    )
    .await?;
    create_index(
        manager,
        "idx_service_credentials_team",
        table,
        &["team_id"],
        Unique::No,
    )
    .await?;
    Ok(())
});
