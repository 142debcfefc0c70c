//! `teams.service_account_tokens`: whether the team's admins may make long-lived tokens for its
//! service accounts (on: what every team could do when service accounts came). Off, service
//! accounts get only the minutes-long tokens a trust policy mints (docs/service-accounts.md).

use sea_orm_migration::{prelude::*, schema::*};

use crate::steps::{add_columns, forward_only};

forward_only!(|manager| {
    add_columns(
        manager,
        "teams",
        [boolean("service_account_tokens").default(true).to_owned()],
    )
    .await
});
