//! `patdesk sso`: which identity provider groups map to which teams (docs/sso.md).

use clap::Subcommand;

use super::{database, operator_error};

#[derive(Debug, Subcommand)]
pub(super) enum SsoCommand {
    /// Map a provider group to a team: at every single sign-on, members of the group are made
    /// members of the team with the role, and people who left the group leave the team.
    MapGroup {
        group: String,
        #[arg(long)]
        team: String,
        /// reader, writer or admin.
        #[arg(long, default_value = "writer")]
        role: String,
    },
    /// Remove a group's mapping.
    UnmapGroup { group: String },
    /// List the group mappings.
    Groups {
        #[arg(long)]
        json: bool,
    },
}

pub(super) async fn sso_command(command: SsoCommand) -> anyhow::Result<()> {
    use domain::{Origin, identity::group_sync, identity::names::TeamSlug};
    let db = database().await?;
    match command {
        SsoCommand::MapGroup { group, team, role } => {
            let team = TeamSlug::parse(&team).map_err(operator_error)?;
            let role = common::Role::parse(&role).map_err(|e| anyhow::anyhow!("{e}"))?;
            group_sync::map(&db, Origin::OPERATOR, &group, &team, role)
                .await
                .map_err(operator_error)?;
            println!("group {} mapped to team {team} as {role}", group.trim());
        }
        SsoCommand::UnmapGroup { group } => {
            group_sync::unmap(&db, Origin::OPERATOR, &group)
                .await
                .map_err(operator_error)?;
            println!("group {} no longer mapped", group.trim());
        }
        SsoCommand::Groups { json } => {
            let mappings = group_sync::list(&db).await.map_err(operator_error)?;
            if json {
                let rows: Vec<_> = mappings
                    .iter()
                    .map(|m| serde_json::json!({"group": m.group, "team": m.team, "role": m.role.as_str()}))
                    .collect();
                println!("{}", serde_json::Value::Array(rows));
            } else {
                for m in &mappings {
                    println!("{}  →  {} as {}", m.group, m.team, m.role);
                }
            }
        }
    }
    Ok(())
}
