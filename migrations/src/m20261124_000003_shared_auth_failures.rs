//! `auth_failures`: failed token authentications per client address, counted in the database so
//! that every server process on one PostgreSQL shares one budget per address (`docs/hardening.md`).
//! One row per address: when its window started (Unix milliseconds) and how many failures it
//! has seen since. Created on SQLite too, where the one process counts in memory instead.

use sea_orm_migration::{prelude::*, schema::*};

use crate::steps::forward_only;

forward_only!(|manager| {
    manager
        .create_table(
            Table::create()
                .table("auth_failures")
                .if_not_exists()
                .col(string_len("ip", 45).primary_key())
                .col(big_integer("window_started_ms"))
                .col(integer("failures"))
                .to_owned(),
        )
        .await
});
