//! `patdesk service`: a team's services — their credentials, for token introspection, and the
//! scopes they define for fine-grained tokens (docs/permissions.md).

use clap::Subcommand;

use super::{database, operator_error};

#[derive(Debug, Subcommand)]
pub(super) enum ServiceCommand {
    /// Create a credential for one of the team's services; its secret is printed once.
    Create {
        #[arg(long)]
        team: String,
        /// What the service is (the metrics API, say).
        #[arg(long)]
        name: String,
        /// The name permissions use for it (`deploy` in `deploy:run`); made from the name when
        /// not given.
        #[arg(long)]
        slug: Option<String>,
        /// A scope it defines, repeatable (`--scope run --scope read`).
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Set the scopes a service defines (all of them: the ones not named are taken away).
    Scopes {
        #[arg(long)]
        team: String,
        /// The service's id or slug.
        service: String,
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// List the team's live service credentials (never their secrets).
    List {
        #[arg(long)]
        team: String,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a service credential: its next introspection is refused.
    Delete {
        #[arg(long)]
        team: String,
        id: String,
    },
}

pub(super) async fn service_command(command: ServiceCommand) -> anyhow::Result<()> {
    use domain::{Actor, identity::names::TeamSlug, tokens::services};
    let team_of = |team: &str| TeamSlug::parse(team).map_err(operator_error);
    let db = database().await?;
    match command {
        ServiceCommand::Create {
            team,
            name,
            slug,
            scopes,
            json,
        } => {
            let team = team_of(&team)?;
            let definition = services::Definition {
                slug: slug.as_deref(),
                scopes: &scopes,
            };
            let (service, secret) =
                services::create(&db, domain::Origin::OPERATOR, &team, &name, definition)
                    .await
                    .map_err(operator_error)?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({"id": service.id, "secret": secret.expose(), "team": service.team, "name": service.name, "slug": service.slug, "scopes": service.scopes})
                );
            } else {
                println!(
                    "created service credential {} for {} ({}) in team {}\n{}\nThis secret is shown once: store it in the service's configuration now.",
                    service.id,
                    service.name,
                    service.slug.as_deref().unwrap_or("no slug"),
                    service.team,
                    secret.expose()
                );
            }
        }
        ServiceCommand::Scopes {
            team,
            service,
            scopes,
            json,
        } => {
            let now = services::set_scopes(
                &db,
                domain::Origin::OPERATOR,
                &team_of(&team)?,
                &service,
                &scopes,
            )
            .await
            .map_err(operator_error)?;
            if json {
                println!("{}", serde_json::json!({"service": service, "scopes": now}));
            } else if now.is_empty() {
                println!("service {service} defines no scopes");
            } else {
                println!("service {service} defines {}", now.join(", "));
            }
        }
        ServiceCommand::List { team, json } => {
            let list = services::list(&db, Actor::Operator, &team_of(&team)?)
                .await
                .map_err(operator_error)?;
            if json {
                let rows: Vec<serde_json::Value> = list
                    .iter()
                    .map(|s| serde_json::json!({"id": s.id, "name": s.name, "slug": s.slug, "scopes": s.scopes, "partial": format!("pdks_…{}", s.hint), "created_by": s.created_by, "created_at": s.created_at.to_rfc3339()}))
                    .collect();
                println!("{}", serde_json::Value::Array(rows));
            } else if list.is_empty() {
                println!("no service credentials");
            } else {
                for s in list {
                    println!(
                        "{}  pdks_…{}  {}  [{}: {}]  (by {}, {})",
                        s.id,
                        s.hint,
                        s.name,
                        s.slug.as_deref().unwrap_or("no slug"),
                        if s.scopes.is_empty() {
                            "no scopes".to_string()
                        } else {
                            s.scopes.join(", ")
                        },
                        s.created_by,
                        domain::time::date(s.created_at)
                    );
                }
            }
        }
        ServiceCommand::Delete { team, id } => {
            services::delete(&db, domain::Origin::OPERATOR, &team_of(&team)?, &id)
                .await
                .map_err(operator_error)?;
            println!("revoked service credential {id}");
        }
    }
    Ok(())
}
