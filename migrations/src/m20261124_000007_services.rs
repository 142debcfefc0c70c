//! Service credentials (docs/forward-auth.md): what a team's own services present to
//! `POST /oauth/introspect`. Stored like tokens: the SHA-256 of the secret and its last four
//! characters, never the secret; deletion is soft (`deleted_at`).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("service_credentials")
                    .if_not_exists()
                    .col(string_len("id", 40).primary_key())
                    .col(big_integer("team_id"))
                    .col(string_len("name", 240))
                    .col(string_len("secret_digest", 64))
                    .col(string_len("hint", 8))
                    .col(big_integer_null("created_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("deleted_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("service_credentials", "team_id")
                            .to("teams", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column, unique) in [
            ("idx_service_credentials_digest", "secret_digest", true),
            ("idx_service_credentials_team", "team_id", false),
        ] {
            let mut index = Index::create();
            index
                .name(name)
                .table("service_credentials")
                .col(column)
                .if_not_exists();
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
