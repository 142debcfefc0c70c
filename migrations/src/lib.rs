//! patdesk's database schema as forward-only migrations.
//!
//! The same migrations run on SQLite (the embedded default) and PostgreSQL. `patdesk serve`
//! applies them at start-up and `patdesk migrate` applies them and exits. A migration that has
//! landed is never edited: schema changes come as new files.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_initial;
mod m20261124_000002_actors_and_description_keys;
mod m20261124_000003_shared_auth_failures;
mod m20261124_000004_team_question_counts;
mod m20261124_000005_token_governance;
mod m20261124_000006_notifications;
mod m20261124_000007_services;
mod m20261124_000008_token_allow_lists_and_rotation;
mod m20261125_000009_team_content_versions;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_initial::Migration),
            Box::new(m20261124_000002_actors_and_description_keys::Migration),
            Box::new(m20261124_000003_shared_auth_failures::Migration),
            Box::new(m20261124_000004_team_question_counts::Migration),
            Box::new(m20261124_000005_token_governance::Migration),
            Box::new(m20261124_000006_notifications::Migration),
            Box::new(m20261124_000007_services::Migration),
            Box::new(m20261124_000008_token_allow_lists_and_rotation::Migration),
            Box::new(m20261125_000009_team_content_versions::Migration),
        ]
    }
}
