//! `teams.content_version`: raised in the same transaction as every question created, edited or
//! deleted, so that a page of questions read at one version is known to be current while the
//! version is unchanged (`domain::content::pages`).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("teams")
                    .add_column(big_integer("content_version").default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "patdesk's migrations are forward-only".into(),
        ))
    }
}
