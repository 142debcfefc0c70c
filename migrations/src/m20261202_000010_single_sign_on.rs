//! Single sign-on (docs/sso.md): `identities` links an account to a subject at an OpenID
//! provider — the issuer and its `sub`, unique together, never an email address — with when it
//! was made and last used to sign in; `instance_policy.require_sso`: password sign-in refused
//! to everyone but instance admins; `sso_group_mappings`: a provider's group name → a team and
//! a role, for the memberships single sign-on keeps in step.

use sea_orm_migration::{prelude::*, schema::*};

use crate::steps::{Unique, add_columns, cascade_fk, create_index, forward_only};

forward_only!(|manager| {
    manager
        .create_table(
            Table::create()
                .table("identities")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("user_id"))
                .col(string_len("issuer", 400))
                .col(string_len("subject", 255))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("last_sign_in_at"))
                .foreign_key(&mut cascade_fk("identities", "user_id", "users"))
                .to_owned(),
        )
        .await?;
    let subject: &[_] = &["issuer", "subject"];
    create_index(
        manager,
        "idx_identities_subject",
        "identities",
        subject,
        Unique::Yes,
    )
    .await?;
    create_index(
        manager,
        "idx_identities_user",
        "identities",
        &["user_id"],
        Unique::No,
    )
    .await?;
    manager
        .create_table(
            Table::create()
                .table("sso_group_mappings")
                .if_not_exists()
                .col(string_len("group_name", 200).primary_key())
                .col(big_integer("team_id"))
                .col(string_len("role", 16))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut cascade_fk("sso_group_mappings", "team_id", "teams"))
                .to_owned(),
        )
        .await?;
    let require_sso = boolean("require_sso").default(false).to_owned();
    add_columns(manager, "instance_policy", [require_sso]).await
});
