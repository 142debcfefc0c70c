//! Fine-grained permissions (docs/permissions.md): a token's `permissions` (NULL: a whole-team
//! token, what every existing token stays; else its permissions, space-separated and sorted);
//! a service's `slug` and the `scopes` it defines (space-separated); a team's
//! `whole_team_services` (whether whole-team tokens pass a service's scope check: on, so that
//! nothing that works today stops) and `require_fine_grained` (new tokens must be
//! fine-grained), and the instance policy's `require_fine_grained`.

use sea_orm_migration::{prelude::*, schema::*};

use crate::steps::{add_columns, forward_only};

forward_only!(|manager| {
    add_columns(manager, "tokens", [text_null("permissions")]).await?;
    add_columns(
        manager,
        "service_credentials",
        [
            string_len_null("slug", 32),
            text("scopes").default("").to_owned(),
        ],
    )
    .await?;
    add_columns(
        manager,
        "teams",
        [
            boolean("whole_team_services").default(true).to_owned(),
            boolean("require_fine_grained").default(false).to_owned(),
        ],
    )
    .await?;
    add_columns(
        manager,
        "instance_policy",
        [boolean("require_fine_grained").default(false).to_owned()],
    )
    .await
});
