//! Two-factor sign-in and sudo mode (docs/two-factor.md): `totp_secrets`, each account's
//! authenticator-app secret, sealed with the server's key (a TOTP secret must be read back to
//! check a code, so it cannot be a digest), unconfirmed until a first code is given, with the
//! last time step accepted (a code is accepted once); `recovery_codes`, digests of the one-time
//! codes shown at enrolment; `sign_in_challenges`, sign-ins whose password was right and whose
//! second factor is still to come (digest of the id in their own cookie: they are no session);
//! `sessions.authenticated_at`, when the session's person last proved who they are (sudo mode);
//! the instance policy's `require_2fa`, its grace period and since when it applies.

use sea_orm_migration::{prelude::*, schema::*};

use crate::steps::{Unique, add_columns, cascade_fk, create_index, forward_only};

forward_only!(|manager| {
    manager
        .create_table(
            Table::create()
                .table("totp_secrets")
                .if_not_exists()
                .col(big_integer("user_id").primary_key())
                .col(string_len("sealed_secret", 200))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("confirmed_at"))
                .col(big_integer_null("last_step"))
                .foreign_key(&mut cascade_fk("totp_secrets", "user_id", "users"))
                .to_owned(),
        )
        .await?;
    manager
        .create_table(
            Table::create()
                .table("recovery_codes")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("user_id"))
                .col(string_len("code_digest", 64))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("used_at"))
                .foreign_key(&mut cascade_fk("recovery_codes", "user_id", "users"))
                .to_owned(),
        )
        .await?;
    create_index(
        manager,
        "idx_recovery_codes_user",
        "recovery_codes",
        &["user_id", "code_digest"],
        Unique::Yes,
    )
    .await?;
    manager
        .create_table(
            Table::create()
                .table("sign_in_challenges")
                .if_not_exists()
                .col(string_len("id_digest", 64).primary_key())
                .col(big_integer("user_id"))
                .col(integer("failures").default(0))
                .col(timestamp_with_time_zone("expires_at"))
                .foreign_key(&mut cascade_fk("sign_in_challenges", "user_id", "users"))
                .to_owned(),
        )
        .await?;
    add_columns(
        manager,
        "sessions",
        [timestamp_with_time_zone_null("authenticated_at")],
    )
    .await?;
    add_columns(
        manager,
        "instance_policy",
        [
            boolean("require_2fa").default(false).to_owned(),
            integer("two_factor_grace_days").default(0).to_owned(),
            timestamp_with_time_zone_null("require_2fa_since"),
        ],
    )
    .await
});
