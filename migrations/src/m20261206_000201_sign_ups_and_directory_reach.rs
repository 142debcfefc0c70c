//! Who may have an account (docs/governance.md, "Who may have an account"):
//! `instance_policy.sign_ups` — `open` (anyone may sign up with a password), `closed` (admins
//! add people) or `sso` (accounts come from single sign-on only) — and
//! `instance_policy.scim_manages_admins`: whether a SCIM directory may change, deactivate or
//! delete instance admins (off: they are out of its reach).

use sea_orm_migration::{prelude::*, schema::*};

use crate::steps::{add_columns, forward_only};

forward_only!(|manager| {
    add_columns(
        manager,
        "instance_policy",
        [
            string_len("sign_ups", 16).default("open").to_owned(),
            boolean("scim_manages_admins").default(false).to_owned(),
        ],
    )
    .await
});
