//! Service accounts and federation (docs/service-accounts.md).
//!
//! - `service_accounts`: the accounts of a team that are not people. Each is a `users` row
//!   (no password, no email: it never signs in) with a membership in its team (its role caps
//!   its tokens); this row says it is a service account, of which team, under which name.
//! - `federation_policies`: a service account's trust policies: which issuer's signed identity
//!   tokens (a CI job's OIDC token) with which audience and claims may be exchanged for a
//!   short-lived token of the account, with which permissions and lifetime.
//! - `federation_jtis`: the identity tokens already exchanged (a digest of issuer and `jti`),
//!   kept until their `exp`, so that each is used once, on every process sharing the database.
//! - `tokens.provenance`: a minted (`federated`) token's claims as JSON: who it was made for.
//! - `users.username` grows to 200 characters on PostgreSQL (SQLite does not enforce lengths):
//!   a service account's name there is "service account <name> (team <slug>)", longer than
//!   the 32 characters a person's username has.

use sea_orm_migration::{prelude::*, schema::*};

use crate::steps::{Unique, add_columns, cascade_fk, create_index, forward_only};

forward_only!(|manager| {
    if manager.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        manager
            .alter_table(
                Table::alter()
                    .table("users")
                    .modify_column(string_len("username", 200))
                    .to_owned(),
            )
            .await?;
    }
    manager
        .create_table(
            Table::create()
                .table("service_accounts")
                .if_not_exists()
                .col(big_integer("user_id").primary_key())
                .col(big_integer("team_id"))
                .col(string_len("name", 32))
                .col(string_len("description", 200).default(""))
                .col(big_integer_null("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut cascade_fk("service_accounts", "user_id", "users"))
                .foreign_key(&mut cascade_fk("service_accounts", "team_id", "teams"))
                .to_owned(),
        )
        .await?;
    create_index(
        manager,
        "idx_service_accounts_team_name",
        "service_accounts",
        &["team_id", "name"],
        Unique::Yes,
    )
    .await?;
    manager
        .create_table(
            Table::create()
                .table("federation_policies")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("service_account_id"))
                .col(string_len("issuer", 500))
                .col(string_len("audience", 500))
                .col(text("conditions"))
                .col(text("permissions"))
                .col(integer("lifetime_minutes"))
                .col(big_integer_null("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut cascade_fk(
                    "federation_policies",
                    "service_account_id",
                    "users",
                ))
                .to_owned(),
        )
        .await?;
    create_index(
        manager,
        "idx_federation_policies_issuer",
        "federation_policies",
        &["issuer"],
        Unique::No,
    )
    .await?;
    manager
        .create_table(
            Table::create()
                .table("federation_jtis")
                .if_not_exists()
                .col(string_len("digest", 64).primary_key())
                .col(timestamp_with_time_zone("expires_at"))
                .to_owned(),
        )
        .await?;
    create_index(
        manager,
        "idx_federation_jtis_expires_at",
        "federation_jtis",
        &["expires_at"],
        Unique::No,
    )
    .await?;
    add_columns(manager, "tokens", [text_null("provenance")]).await
});
