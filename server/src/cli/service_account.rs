//! `patdesk service-account` and `patdesk federation`: a team's service accounts, and the trust
//! policies that let CI jobs exchange their identity tokens for short-lived tokens of them
//! (docs/service-accounts.md).

use clap::Subcommand;
use domain::{
    Actor, Origin,
    identity::{names::TeamSlug, service_accounts},
    tokens::federation,
};

use super::{database, operator_error};
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub(super) enum ServiceAccountCommand {
    /// Create a service account in a team.
    Create {
        #[arg(long)]
        team: String,
        /// 3–32 characters: a letter, then letters, digits, '_' and '-'.
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        description: String,
        /// What its tokens may do at most: reader or writer.
        #[arg(long, default_value = "reader")]
        role: String,
        #[arg(long)]
        json: bool,
    },
    /// List a team's service accounts.
    List {
        #[arg(long)]
        team: String,
        #[arg(long)]
        json: bool,
    },
    /// Delete a service account: its tokens stop at once and its trust policies go.
    Delete {
        #[arg(long)]
        team: String,
        /// Its id or name.
        account: String,
    },
}

#[derive(Debug, Subcommand)]
pub(super) enum FederationCommand {
    /// Trust an issuer's identity tokens that match the conditions to act as a service account.
    Add {
        #[arg(long)]
        team: String,
        /// The service account's id or name.
        #[arg(long)]
        service_account: String,
        /// The issuer (https://token.actions.githubusercontent.com, https://gitlab.com, …).
        #[arg(long)]
        issuer: String,
        /// The audience the tokens must name (default: PATDESK_PUBLIC_URL).
        #[arg(long)]
        audience: Option<String>,
        /// claim=value, repeatable; `*` matches any characters (repository=acme/app,
        /// ref=refs/heads/main). One must name a repository, project or namespace.
        #[arg(long = "condition", value_name = "CLAIM=VALUE")]
        conditions: Vec<String>,
        /// A permission the minted token holds, repeatable (questions:read, deploy:run…).
        #[arg(long = "permission", value_name = "PERMISSION", required = true)]
        permissions: Vec<String>,
        /// How long a minted token lives: 5–60 minutes (default 15).
        #[arg(long)]
        lifetime_minutes: Option<u32>,
        #[arg(long)]
        json: bool,
    },
    /// List the trust policies of a team's service accounts.
    List {
        #[arg(long)]
        team: String,
        #[arg(long)]
        json: bool,
    },
    /// Remove a trust policy: tokens it minted live out their minutes.
    Remove {
        #[arg(long)]
        team: String,
        id: i64,
    },
}

fn team_of(team: &str) -> anyhow::Result<TeamSlug> {
    TeamSlug::parse(team).map_err(operator_error)
}

fn account_json(a: &service_accounts::ServiceAccount) -> serde_json::Value {
    serde_json::json!({
        "id": a.id, "team": a.team, "name": a.name, "description": a.description,
        "role": a.role.as_str(), "live_tokens": a.live_tokens,
        "created_by": a.created_by, "created_at": a.created_at.to_rfc3339(),
    })
}

pub(super) async fn service_account_command(command: ServiceAccountCommand) -> anyhow::Result<()> {
    let db = database().await?;
    match command {
        ServiceAccountCommand::Create {
            team,
            name,
            description,
            role,
            json,
        } => {
            let role = domain::identity::names::Role::parse(&role)
                .map_err(|e| anyhow::anyhow!("--role: {e}"))?;
            let account = service_accounts::create(
                &db,
                Origin::OPERATOR,
                &team_of(&team)?,
                &name,
                &description,
                role,
            )
            .await
            .map_err(operator_error)?;
            if json {
                println!("{}", account_json(&account));
            } else {
                println!(
                    "created service account {} ({}) in team {} as {}",
                    account.name, account.id, account.team, account.role
                );
            }
        }
        ServiceAccountCommand::List { team, json } => {
            let list = service_accounts::list(&db, Actor::Operator, &team_of(&team)?)
                .await
                .map_err(operator_error)?;
            if json {
                let rows: Vec<_> = list.iter().map(account_json).collect();
                println!("{}", serde_json::Value::Array(rows));
            } else if list.is_empty() {
                println!("no service accounts");
            } else {
                for a in list {
                    println!(
                        "{}  {}  {}  {} live tokens  {}",
                        a.id, a.name, a.role, a.live_tokens, a.description
                    );
                }
            }
        }
        ServiceAccountCommand::Delete { team, account } => {
            service_accounts::delete(&db, Origin::OPERATOR, &team_of(&team)?, &account)
                .await
                .map_err(operator_error)?;
            println!("deleted service account {account}: its tokens stopped");
        }
    }
    Ok(())
}

fn policy_json(p: &federation::TrustPolicy) -> serde_json::Value {
    let conditions: serde_json::Map<String, serde_json::Value> = p
        .conditions
        .iter()
        .map(|c| (c.claim.clone(), c.pattern.clone().into()))
        .collect();
    serde_json::json!({
        "id": p.id, "service_account_id": p.service_account_id,
        "service_account": p.service_account, "issuer": p.issuer, "audience": p.audience,
        "conditions": conditions, "permissions": p.permissions,
        "lifetime_minutes": p.lifetime_minutes, "created_at": p.created_at.to_rfc3339(),
    })
}

pub(super) async fn federation_command(command: FederationCommand) -> anyhow::Result<()> {
    let db = database().await?;
    match command {
        FederationCommand::Add {
            team,
            service_account,
            issuer,
            audience,
            conditions,
            permissions,
            lifetime_minutes,
            json,
        } => {
            let settings = Config::from_env()?.federation_settings();
            let new = federation::NewPolicy {
                issuer: &issuer,
                audience: audience.as_deref(),
                conditions: &conditions,
                permissions: &permissions,
                lifetime_minutes,
            };
            let policy = federation::add_policy(
                &db,
                Origin::OPERATOR,
                &team_of(&team)?,
                &service_account,
                new,
                &settings,
            )
            .await
            .map_err(operator_error)?;
            if json {
                println!("{}", policy_json(&policy));
            } else {
                println!(
                    "added trust policy {} to service account {}: tokens from {} for {}",
                    policy.id, policy.service_account, policy.issuer, policy.audience
                );
            }
        }
        FederationCommand::List { team, json } => {
            let list = federation::policies(&db, Actor::Operator, &team_of(&team)?)
                .await
                .map_err(operator_error)?;
            if json {
                let rows: Vec<_> = list.iter().map(policy_json).collect();
                println!("{}", serde_json::Value::Array(rows));
            } else if list.is_empty() {
                println!("no trust policies");
            } else {
                for p in list {
                    let conditions: Vec<String> = p
                        .conditions
                        .iter()
                        .map(|c| format!("{}={}", c.claim, c.pattern))
                        .collect();
                    println!(
                        "{}  {}  {}  aud {}  [{}]  → {} for {} min",
                        p.id,
                        p.service_account,
                        p.issuer,
                        p.audience,
                        conditions.join(", "),
                        p.permissions.join(" "),
                        p.lifetime_minutes
                    );
                }
            }
        }
        FederationCommand::Remove { team, id } => {
            federation::remove_policy(&db, Origin::OPERATOR, &team_of(&team)?, id)
                .await
                .map_err(operator_error)?;
            println!("removed trust policy {id}");
        }
    }
    Ok(())
}
