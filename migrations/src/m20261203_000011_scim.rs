//! SCIM provisioning (docs/scim.md): `scim_credentials`, the bearer secrets a directory
//! (Okta, Entra ID, …) calls `/scim/v2` with — instance-wide, stored as digests like every
//! secret; `scim_accounts`, what the directory says of an account beyond patdesk's own columns:
//! its `userName` (as the directory spells it, unique by `user_name_key`, its lower case; the
//! patdesk username is made from it once), its `externalId` (unique: single sign-on links a
//! provisioned account by it), display name,
//! whether the directory made the account, and when it deleted it (the account stays,
//! suspended, for its tokens' and its activity's sake; SCIM no longer sees it); `scim_groups`,
//! a directory's groups, each a team's membership list with the role it gives, and
//! `scim_group_members`, who is in each; `activity.actor_kind`, who acted when no user did
//! (`directory`, `operator`), so that the log names the directory for what SCIM did.

use sea_orm_migration::{prelude::*, schema::*};

use crate::steps::{Unique, add_columns, cascade_fk, create_index, forward_only};

forward_only!(|manager| {
    manager
        .create_table(
            Table::create()
                .table("scim_credentials")
                .if_not_exists()
                .col(string_len("id", 40).primary_key())
                .col(string_len("name", 100))
                .col(string_len("secret_digest", 64))
                .col(string_len("hint", 8))
                .col(big_integer_null("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("last_used_at"))
                .col(timestamp_with_time_zone_null("deleted_at"))
                .to_owned(),
        )
        .await?;
    create_index(
        manager,
        "idx_scim_credentials_digest",
        "scim_credentials",
        &["secret_digest"],
        Unique::Yes,
    )
    .await?;
    manager
        .create_table(
            Table::create()
                .table("scim_accounts")
                .if_not_exists()
                .col(big_integer("user_id").primary_key())
                .col(string_len_null("user_name", 255))
                .col(string_len_null("user_name_key", 255))
                .col(string_len_null("external_id", 255))
                .col(string_len_null("display_name", 200))
                .col(boolean("provisioned").default(false))
                .col(timestamp_with_time_zone("modified_at"))
                .col(timestamp_with_time_zone_null("removed_at"))
                .foreign_key(&mut cascade_fk("scim_accounts", "user_id", "users"))
                .to_owned(),
        )
        .await?;
    create_index(
        manager,
        "idx_scim_accounts_user_name_key",
        "scim_accounts",
        &["user_name_key"],
        Unique::Yes,
    )
    .await?;
    create_index(
        manager,
        "idx_scim_accounts_external_id",
        "scim_accounts",
        &["external_id"],
        Unique::Yes,
    )
    .await?;
    manager
        .create_table(
            Table::create()
                .table("scim_groups")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(string_len("display_name", 100))
                .col(string_len("display_key", 100))
                .col(string_len_null("external_id", 255))
                .col(big_integer("team_id"))
                .col(string_len("role", 16))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("modified_at"))
                .foreign_key(&mut cascade_fk("scim_groups", "team_id", "teams"))
                .to_owned(),
        )
        .await?;
    create_index(
        manager,
        "idx_scim_groups_display_key",
        "scim_groups",
        &["display_key"],
        Unique::Yes,
    )
    .await?;
    create_index(
        manager,
        "idx_scim_groups_external_id",
        "scim_groups",
        &["external_id"],
        Unique::Yes,
    )
    .await?;
    manager
        .create_table(
            Table::create()
                .table("scim_group_members")
                .if_not_exists()
                .col(big_integer("group_id"))
                .col(big_integer("user_id"))
                .primary_key(Index::create().col("group_id").col("user_id"))
                .foreign_key(&mut cascade_fk(
                    "scim_group_members",
                    "group_id",
                    "scim_groups",
                ))
                .foreign_key(&mut cascade_fk("scim_group_members", "user_id", "users"))
                .to_owned(),
        )
        .await?;
    add_columns(manager, "activity", [string_len_null("actor_kind", 16)]).await
});
