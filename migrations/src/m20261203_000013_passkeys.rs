//! Passkeys (docs/two-factor.md): `passkeys`, each account's registered passkeys and security
//! keys (public keys and counters, as webauthn-rs keeps them; the credential id unique);
//! `webauthn_ceremonies`, what a ceremony keeps between its two steps, for five minutes, so
//! that any process can finish what another started.

use sea_orm_migration::{prelude::*, schema::*};

use crate::steps::{Unique, cascade_fk, create_index, forward_only};

forward_only!(|manager| {
    manager
        .create_table(
            Table::create()
                .table("passkeys")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("user_id"))
                .col(string_len("name", 100))
                .col(string_len("credential_id", 2100))
                .col(string_len("user_handle", 36))
                .col(text("credential"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("last_used_at"))
                .foreign_key(&mut cascade_fk("passkeys", "user_id", "users"))
                .to_owned(),
        )
        .await?;
    create_index(
        manager,
        "idx_passkeys_credential_id",
        "passkeys",
        &["credential_id"],
        Unique::Yes,
    )
    .await?;
    create_index(
        manager,
        "idx_passkeys_user",
        "passkeys",
        &["user_id"],
        Unique::No,
    )
    .await?;
    manager
        .create_table(
            Table::create()
                .table("webauthn_ceremonies")
                .if_not_exists()
                .col(string_len("id_digest", 64).primary_key())
                .col(string_len("purpose", 16))
                .col(big_integer_null("user_id"))
                .col(string_len_null("bound_to", 64))
                .col(text("state"))
                .col(timestamp_with_time_zone("expires_at"))
                .to_owned(),
        )
        .await
});
