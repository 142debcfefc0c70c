//! `patdesk scim credential`: the credentials an organisation's directory provisions accounts
//! with (docs/scim.md).

use clap::Subcommand;

use super::{database, operator_error};

#[derive(Debug, Subcommand)]
pub(super) enum ScimCommand {
    /// Create, list or revoke SCIM credentials.
    #[command(subcommand)]
    Credential(CredentialCommand),
}

#[derive(Debug, Subcommand)]
pub(super) enum CredentialCommand {
    /// Create a credential for a directory (Okta, Entra ID, …); its secret is printed once.
    Create {
        /// Which directory will use it.
        #[arg(long)]
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// List the live credentials (never their secrets).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Revoke a credential: the directory's next call with it is refused.
    Delete { id: String },
}

pub(super) async fn scim_command(command: ScimCommand) -> anyhow::Result<()> {
    use domain::{Actor, Origin, identity::scim};
    let db = database().await?;
    let ScimCommand::Credential(command) = command;
    match command {
        CredentialCommand::Create { name, json } => {
            let (credential, secret) = scim::create_credential(&db, Origin::OPERATOR, &name)
                .await
                .map_err(operator_error)?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({"id": credential.id, "name": credential.name, "secret": secret.expose()})
                );
            } else {
                println!(
                    "created SCIM credential {} for {}\n{}\nThis secret is shown once: paste it into the directory's SCIM settings now (base URL: <your patdesk>/scim/v2).",
                    credential.id,
                    credential.name,
                    secret.expose()
                );
            }
        }
        CredentialCommand::List { json } => {
            let list = scim::list_credentials(&db, Actor::Operator)
                .await
                .map_err(operator_error)?;
            if json {
                let rows: Vec<serde_json::Value> = list
                    .iter()
                    .map(|c| serde_json::json!({"id": c.id, "name": c.name, "partial": format!("pdkscim_…{}", c.hint), "created_by": c.created_by, "created_at": c.created_at.to_rfc3339(), "last_used_at": c.last_used_at.map(|t| t.to_rfc3339())}))
                    .collect();
                println!("{}", serde_json::Value::Array(rows));
            } else if list.is_empty() {
                println!("no SCIM credentials");
            } else {
                for c in list {
                    let used = c.last_used_at.map_or_else(
                        || "never used".to_string(),
                        |t| format!("last used {}", domain::time::date(t)),
                    );
                    println!(
                        "{}  pdkscim_…{}  {}  (by {}, {}; {used})",
                        c.id,
                        c.hint,
                        c.name,
                        c.created_by,
                        domain::time::date(c.created_at)
                    );
                }
            }
        }
        CredentialCommand::Delete { id } => {
            scim::delete_credential(&db, Origin::OPERATOR, &id)
                .await
                .map_err(operator_error)?;
            println!("revoked SCIM credential {id}");
        }
    }
    Ok(())
}
