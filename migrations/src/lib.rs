//! patdesk's database schema as forward-only migrations.
//!
//! The same migrations run on SQLite (the embedded default) and PostgreSQL. `patdesk serve`
//! applies them at start-up and `patdesk migrate` applies them and exits. A migration that has
//! landed never changes what it does: schema changes come as new files. The steps they share
//! are in `steps`.

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
mod m20261202_000010_single_sign_on;
mod m20261203_000011_scim;
mod m20261203_000012_two_factor;
mod m20261203_000013_passkeys;
mod m20261203_000014_token_usage_and_rate_limits;
mod m20261206_000101_second_factor_budget;
mod m20261206_000201_sign_ups_and_directory_reach;
mod m20261206_000301_account_care;
mod m20261206_000401_retired_token_values;
mod m20261207_000101_permissions;
mod m20261207_000201_service_accounts;
mod m20261207_000301_service_account_tokens;
mod m20261207_000401_webhooks;
mod steps;

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
            Box::new(m20261202_000010_single_sign_on::Migration),
            Box::new(m20261203_000011_scim::Migration),
            Box::new(m20261203_000012_two_factor::Migration),
            Box::new(m20261203_000013_passkeys::Migration),
            Box::new(m20261203_000014_token_usage_and_rate_limits::Migration),
            Box::new(m20261206_000101_second_factor_budget::Migration),
            Box::new(m20261206_000201_sign_ups_and_directory_reach::Migration),
            Box::new(m20261206_000301_account_care::Migration),
            Box::new(m20261206_000401_retired_token_values::Migration),
            Box::new(m20261207_000101_permissions::Migration),
            Box::new(m20261207_000201_service_accounts::Migration),
            Box::new(m20261207_000301_service_account_tokens::Migration),
            Box::new(m20261207_000401_webhooks::Migration),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A migration's name is what databases record as applied; `forward_only!` must keep
    /// naming each one after its file, or every existing database would run them all again.
    #[test]
    fn each_migration_is_named_after_its_file() {
        let mut files: Vec<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .filter_map(|name| name.strip_suffix(".rs").map(str::to_owned))
            .filter(|stem| stem.starts_with('m'))
            .collect();
        files.sort();
        let names: Vec<String> = Migrator::migrations()
            .iter()
            .map(|migration| migration.name().to_owned())
            .collect();
        assert_eq!(names, files);
    }
}
