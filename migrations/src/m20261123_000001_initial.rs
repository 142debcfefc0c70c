//! The initial schema: users, teams, memberships, tokens, content, sessions and activity.
//!
//! Timestamps are stored with their time zone (UTC). Token secrets and session ids are never
//! stored, only their SHA-256 digests (hex), each behind a unique index for lookup.

use sea_orm_migration::{prelude::*, schema::*};

use crate::steps::{Unique, cascade_fk, create_index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("users")
                    .if_not_exists()
                    .col(big_pk_auto("id"))
                    // Stored lower-case: usernames are case-insensitive.
                    .col(string_len_uniq("username", 32))
                    .col(text("password_hash"))
                    .col(boolean("is_admin").default(false))
                    .col(boolean("is_active").default(true))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("teams")
                    .if_not_exists()
                    .col(big_pk_auto("id"))
                    .col(string_len_uniq("slug", 40))
                    .col(string_len("name", 100))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("memberships")
                    .if_not_exists()
                    .col(big_integer("team_id"))
                    .col(big_integer("user_id"))
                    // `reader`, `writer` or `admin`.
                    .col(string_len("role", 16))
                    .col(timestamp_with_time_zone("created_at"))
                    .primary_key(Index::create().col("team_id").col("user_id"))
                    .foreign_key(&mut named_cascade_fk("memberships", "team_id", "teams"))
                    .foreign_key(&mut named_cascade_fk("memberships", "user_id", "users"))
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            "idx_memberships_user",
            "memberships",
            &["user_id"],
            Unique::No,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("tokens")
                    .if_not_exists()
                    // `tok_` + 16 base62 chars: public, shown in lists and URLs.
                    .col(string_len("id", 20).primary_key())
                    .col(big_integer("user_id"))
                    .col(big_integer("team_id"))
                    .col(string_len("description", 100))
                    // SHA-256 of the secret, hex; the secret itself is never stored.
                    .col(string_len_uniq("secret_digest", 64))
                    // Last 4 chars of the secret, for the partial view `pdk_…a1b2`.
                    .col(string_len("hint", 4))
                    .col(boolean("write").default(false))
                    // `personal` or `explorer`.
                    .col(string_len("kind", 16))
                    .col(timestamp_with_time_zone_null("expires_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("regenerated_at"))
                    .col(timestamp_with_time_zone_null("last_used_at"))
                    // JSON array of the five most recent distinct client IPs, newest first.
                    .col(text_null("last_used_ips"))
                    .col(timestamp_with_time_zone_null("deleted_at"))
                    .foreign_key(&mut named_cascade_fk("tokens", "user_id", "users"))
                    .foreign_key(&mut named_cascade_fk("tokens", "team_id", "teams"))
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            "idx_tokens_user",
            "tokens",
            &["user_id"],
            Unique::No,
        )
        .await?;
        // A description is unique, ignoring case, among the owner's tokens that are not deleted.
        // sea-query cannot express a partial expression index; this SQL is valid on both backends.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX IF NOT EXISTS idx_tokens_user_description \
                 ON tokens (user_id, lower(description)) WHERE deleted_at IS NULL",
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("questions")
                    .if_not_exists()
                    .col(big_pk_auto("id"))
                    .col(big_integer("team_id"))
                    .col(big_integer("author_id"))
                    .col(string_len("title", 200))
                    .col(text("body"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut named_cascade_fk("questions", "team_id", "teams"))
                    .foreign_key(&mut named_cascade_fk("questions", "author_id", "users"))
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            "idx_questions_team",
            "questions",
            &["team_id", "id"],
            Unique::No,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("answers")
                    .if_not_exists()
                    .col(big_pk_auto("id"))
                    .col(big_integer("question_id"))
                    .col(big_integer("author_id"))
                    .col(text("body"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut named_cascade_fk("answers", "question_id", "questions"))
                    .foreign_key(&mut named_cascade_fk("answers", "author_id", "users"))
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            "idx_answers_question",
            "answers",
            &["question_id", "id"],
            Unique::No,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("sessions")
                    .if_not_exists()
                    // SHA-256 of the random session id in the cookie, hex.
                    .col(string_len("id_digest", 64).primary_key())
                    .col(big_integer("user_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("last_seen_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .foreign_key(&mut named_cascade_fk("sessions", "user_id", "users"))
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            "idx_sessions_user",
            "sessions",
            &["user_id"],
            Unique::No,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("activity")
                    .if_not_exists()
                    .col(big_pk_auto("id"))
                    // Whose activity this is (the actor); null for a failed sign-in under an
                    // unknown username.
                    .col(big_integer_null("user_id"))
                    // e.g. `sign_in`, `sign_in_failed`, `token_created`, `api_write`.
                    .col(string_len("kind", 40))
                    .col(string_len_null("token_id", 20))
                    .col(string_len_null("ip", 45))
                    // What was acted on, in words: `team ops`, `question 12`, …
                    .col(string_len_null("target", 200))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut named_cascade_fk("activity", "user_id", "users"))
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            "idx_activity_user",
            "activity",
            &["user_id", "id"],
            Unique::No,
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "activity",
            "sessions",
            "answers",
            "questions",
            "tokens",
            "memberships",
            "teams",
            "users",
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

/// The first migration named its foreign keys `fk_<table>_<column>`; later ones leave the name
/// to the database.
fn named_cascade_fk(
    table: &'static str,
    column: &'static str,
    target: &'static str,
) -> ForeignKeyCreateStatement {
    cascade_fk(table, column, target)
        .name(format!("fk_{table}_{column}"))
        .to_owned()
}
