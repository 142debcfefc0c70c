//! Notifications (docs/notifications.md):
//! - accounts get an optional email address (`users.email`, as entered, and `users.email_key`,
//!   its lower-case form, unique: one address per account, ignoring case) and what they want
//!   mailed (`notify_expiry`, `notify_new_ip`, `notify_new_token`, all on);
//! - `notifications`: every notice, shown in the app and, when `mail_state` is `pending`, mailed
//!   by whichever server process claims it first (`mail_claimed_until`). `dedupe_key` is unique,
//!   so that a notice that must be sent once (an expiry reminder) is stored once however many
//!   processes find it due.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        let new_columns = [
            string_len_null("email", 254),
            string_len_null("email_key", 254),
            boolean("notify_expiry").default(true).to_owned(),
            boolean("notify_new_ip").default(true).to_owned(),
            boolean("notify_new_token").default(true).to_owned(),
        ];
        for mut column in new_columns {
            manager
                .alter_table(
                    Table::alter()
                        .table("users")
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        // Unique among the addresses set; accounts without one (NULL) do not collide.
        manager
            .create_index(
                Index::create()
                    .name("idx_users_email_key")
                    .table("users")
                    .col("email_key")
                    .unique()
                    .if_not_exists()
                    .to_owned(),
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
                    .foreign_key(
                        ForeignKey::create()
                            .from("notifications", "user_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        let indexes = [
            ("idx_notifications_dedupe", vec!["dedupe_key"], true),
            ("idx_notifications_user", vec!["user_id", "id"], false),
            (
                "idx_notifications_outbox",
                vec!["mail_state", "mail_next_at"],
                false,
            ),
            ("idx_notifications_token", vec!["token_id"], false),
        ];
        for (name, columns, unique) in indexes {
            let mut index = Index::create();
            index.name(name).table("notifications").if_not_exists();
            for column in columns {
                index.col(column);
            }
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "patdesk's migrations are forward-only".into(),
        ))
    }
}
