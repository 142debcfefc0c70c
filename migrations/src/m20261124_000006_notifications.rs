//! Notifications (docs/notifications.md):
//! - accounts get an optional email address (`users.email`, as entered, and `users.email_key`,
//!   its lower-case form, unique: one address per account, ignoring case) and what they want
//!   mailed (`notify_expiry`, `notify_new_ip`, `notify_new_token`, all on);
//! - `notifications`: every notice, shown in the app and, when `mail_state` is `pending`, mailed
//!   by whichever server process claims it first (`mail_claimed_until`). `dedupe_key` is unique,
//!   so that a notice that must be sent once (an expiry reminder) is stored once however many
//!   processes find it due.

use sea_orm_migration::{prelude::*, schema::*};

use crate::steps::{Unique, add_columns, cascade_fk, create_index, forward_only};

forward_only!(|manager| {
    let columns = [
        string_len_null("email", 254),
        string_len_null("email_key", 254),
        boolean("notify_expiry").default(true).to_owned(),
        boolean("notify_new_ip").default(true).to_owned(),
        boolean("notify_new_token").default(true).to_owned(),
    ];
    add_columns(manager, "users", columns).await?;
    // Unique among the addresses set; accounts without one (NULL) do not collide.
    create_index(
        manager,
        "idx_users_email_key",
        "users",
        &["email_key"],
        Unique::Yes,
    )
    .await?;
    manager
        .create_table(
            Table::create()
                .table("notifications")
                .if_not_exists()
                .col(big_pk_auto("id"))
                .col(big_integer("user_id"))
                .col(string_len("kind", 40))
                .col(string_len_null("token_id", 40))
                .col(string_len_null("token_description", 400))
                .col(string_len_null("token_hint", 40))
                .col(string_len_null("token_team", 40))
                .col(string_len_null("detail", 1000))
                .col(string_len_null("dedupe_key", 200))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("read_at"))
                .col(string_len("mail_state", 10))
                .col(integer("mail_attempts").default(0))
                .col(timestamp_with_time_zone_null("mail_next_at"))
                .col(timestamp_with_time_zone_null("mail_claimed_until"))
                .col(timestamp_with_time_zone_null("mail_sent_at"))
                .col(string_len_null("mail_error", 400))
                .foreign_key(&mut cascade_fk("notifications", "user_id", "users"))
                .to_owned(),
        )
        .await?;
    let indexes: [(_, &[_], _); 4] = [
        ("idx_notifications_dedupe", &["dedupe_key"], Unique::Yes),
        ("idx_notifications_user", &["user_id", "id"], Unique::No),
        (
            "idx_notifications_outbox",
            &["mail_state", "mail_next_at"],
            Unique::No,
        ),
        ("idx_notifications_token", &["token_id"], Unique::No),
    ];
    for (name, columns, unique) in indexes {
        create_index(manager, name, "notifications", columns, unique).await?;
    }
    Ok(())
});
