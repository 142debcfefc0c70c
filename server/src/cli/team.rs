//! `patdesk team`: teams and their members.

use clap::Subcommand;

use super::{database, operator_error};

#[derive(Debug, Subcommand)]
pub(super) enum TeamCommand {
    /// Create a team with an existing user as its admin.
    Add {
        slug: String,
        /// The user who becomes the team's admin.
        #[arg(long)]
        owner: String,
        /// Display name (default: the slug).
        #[arg(long)]
        name: Option<String>,
    },
    /// Manage a team's members.
    #[command(subcommand)]
    Member(MemberCommand),
    /// Change a team's token settings (docs/permissions.md); what is not given stays as it is.
    Set {
        slug: String,
        /// Whole-team tokens pass a check of the team's services' scopes (the default).
        #[arg(long, conflicts_with = "no_whole_team_services")]
        whole_team_services: bool,
        /// Only tokens holding a service's scope open it.
        #[arg(long)]
        no_whole_team_services: bool,
        /// New tokens of the team must be fine-grained.
        #[arg(long, conflicts_with = "no_require_fine_grained")]
        require_fine_grained: bool,
        /// New tokens may be whole-team again.
        #[arg(long)]
        no_require_fine_grained: bool,
        /// Admins may make long-lived tokens for the team's service accounts (the default).
        #[arg(long, conflicts_with = "no_service_account_tokens")]
        service_account_tokens: bool,
        /// Service accounts get only short-lived tokens from trust policies
        /// (docs/service-accounts.md).
        #[arg(long)]
        no_service_account_tokens: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(super) enum MemberCommand {
    /// Add a user to a team with a role.
    Add {
        slug: String,
        username: String,
        /// reader, writer or admin.
        #[arg(long)]
        role: String,
    },
    /// Remove a user from a team.
    Remove { slug: String, username: String },
}

pub(super) async fn team_command(command: TeamCommand) -> anyhow::Result<()> {
    use domain::{
        identity::names::{Role, TeamName, TeamSlug, Username},
        teams,
    };
    match command {
        TeamCommand::Add { slug, owner, name } => {
            let slug = TeamSlug::parse(&slug).map_err(operator_error)?;
            let owner = Username::parse(&owner).map_err(operator_error)?;
            let name = TeamName::parse(name.as_deref().unwrap_or(slug.as_str()))
                .map_err(operator_error)?;
            let db = database().await?;
            let owner_account = domain::identity::users::find(&db, &owner)
                .await
                .map_err(operator_error)?
                .ok_or_else(|| anyhow::anyhow!("There is no user named {owner}."))?;
            let owner_id = owner_account.id;
            teams::create(&db, domain::Origin::OPERATOR, owner_id, &slug, &name)
                .await
                .map_err(operator_error)?;
            println!("created team {slug} with {owner} as admin");
            Ok(())
        }
        TeamCommand::Member(MemberCommand::Add {
            slug,
            username,
            role,
        }) => {
            let slug = TeamSlug::parse(&slug).map_err(operator_error)?;
            let username = Username::parse(&username).map_err(operator_error)?;
            let role = Role::parse(&role).map_err(|e| operator_error(e.into()))?;
            let db = database().await?;
            teams::add_member(&db, domain::Origin::OPERATOR, &slug, &username, role)
                .await
                .map_err(operator_error)?;
            println!("added {username} to {slug} as {role}");
            Ok(())
        }
        TeamCommand::Set {
            slug,
            whole_team_services,
            no_whole_team_services,
            require_fine_grained,
            no_require_fine_grained,
            service_account_tokens,
            no_service_account_tokens,
        } => {
            let slug = TeamSlug::parse(&slug).map_err(operator_error)?;
            let db = database().await?;
            if whole_team_services || no_whole_team_services {
                teams::set_whole_team_services(
                    &db,
                    domain::Origin::OPERATOR,
                    &slug,
                    whole_team_services,
                )
                .await
                .map_err(operator_error)?;
                println!(
                    "{slug}: {}",
                    if whole_team_services {
                        "whole-team tokens open the team's services"
                    } else {
                        "only tokens holding a service's scope open it"
                    }
                );
            }
            if require_fine_grained || no_require_fine_grained {
                teams::set_require_fine_grained(
                    &db,
                    domain::Origin::OPERATOR,
                    &slug,
                    require_fine_grained,
                )
                .await
                .map_err(operator_error)?;
                println!(
                    "{slug}: {}",
                    if require_fine_grained {
                        "new tokens must be fine-grained"
                    } else {
                        "new tokens may be whole-team"
                    }
                );
            }
            if service_account_tokens || no_service_account_tokens {
                teams::set_service_account_tokens(
                    &db,
                    domain::Origin::OPERATOR,
                    &slug,
                    service_account_tokens,
                )
                .await
                .map_err(operator_error)?;
                println!(
                    "{slug}: {}",
                    if service_account_tokens {
                        "service accounts may have long-lived tokens"
                    } else {
                        "service accounts get only short-lived tokens from trust policies"
                    }
                );
            }
            Ok(())
        }
        TeamCommand::Member(MemberCommand::Remove { slug, username }) => {
            let slug = TeamSlug::parse(&slug).map_err(operator_error)?;
            let username = Username::parse(&username).map_err(operator_error)?;
            let db = database().await?;
            teams::remove_member(&db, domain::Origin::OPERATOR, &slug, &username)
                .await
                .map_err(operator_error)?;
            println!("removed {username} from {slug}");
            Ok(())
        }
    }
}
