//! `teams.content_version`: raised in the same transaction as every question created, edited or
//! deleted, so that a page of questions read at one version is known to be current while the
//! version is unchanged (`domain::content::pages`).

use sea_orm_migration::{prelude::*, schema::*};

use crate::steps::{add_columns, forward_only};

forward_only!(|manager| {
    add_columns(
        manager,
        "teams",
        [big_integer("content_version").default(0).to_owned()],
    )
    .await
});
