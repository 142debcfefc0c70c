//! `second_factor_failures`: each account's budget of wrong second-factor codes
//! (docs/two-factor.md, "Wrong codes"), in the database so that every server process counts
//! into one: the wrong codes of the current streak, when the last one came, and until when
//! codes are refused.

use sea_orm_migration::{prelude::*, schema::*};

use crate::steps::{cascade_fk, forward_only};

forward_only!(|manager| {
    manager
        .create_table(
            Table::create()
                .table("second_factor_failures")
                .if_not_exists()
                .col(big_integer("user_id").primary_key())
                .col(integer("failures").default(0))
                .col(timestamp_with_time_zone("last_failure_at"))
                .col(timestamp_with_time_zone_null("locked_until"))
                .foreign_key(&mut cascade_fk(
                    "second_factor_failures",
                    "user_id",
                    "users",
                ))
                .to_owned(),
        )
        .await
});
