//! `patdesk webhook`: the endpoints a team's or the instance's events are posted to, signed as
//! Standard Webhooks says (docs/webhooks.md).

use clap::{Args, Subcommand};
use domain::{
    Origin,
    identity::names::TeamSlug,
    webhooks::{self, EventType, Scope},
};

use super::{database, operator_error};
use crate::config::Config;

/// Whose webhook: a team's (`--team`) or the instance's (`--instance`).
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub(super) struct ScopeArgs {
    #[arg(long)]
    team: Option<String>,
    /// The instance's webhooks: every team's events, the accounts', and `audit.entry`.
    #[arg(long)]
    instance: bool,
}

impl ScopeArgs {
    fn scope(&self) -> anyhow::Result<Scope> {
        match &self.team {
            Some(team) => Ok(Scope::Team(TeamSlug::parse(team).map_err(operator_error)?)),
            None => Ok(Scope::Instance),
        }
    }
}

#[derive(Debug, Subcommand)]
pub(super) enum WebhookCommand {
    /// Add an endpoint; its signing secret (whsec_…) is printed once.
    Create {
        #[command(flatten)]
        scope: ScopeArgs,
        #[arg(long)]
        url: String,
        /// An event it takes, repeatable: token.created, token.revoked, member.added,
        /// audit.entry (instance only)… (`patdesk webhook events` lists them).
        #[arg(long = "event", value_name = "EVENT", required = true)]
        events: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// List the endpoints and their latest deliveries.
    List {
        #[command(flatten)]
        scope: ScopeArgs,
        #[arg(long)]
        json: bool,
    },
    /// Remove an endpoint; what waits for it is not sent.
    Delete {
        #[command(flatten)]
        scope: ScopeArgs,
        /// Its id (whk_…).
        id: String,
    },
    /// A new signing secret, printed once; the old one keeps signing beside it for 24 hours.
    RotateSecret {
        #[command(flatten)]
        scope: ScopeArgs,
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Send a delivery again (and turn its endpoint back on if it was off).
    Redeliver {
        #[command(flatten)]
        scope: ScopeArgs,
        id: String,
        /// The delivery's message id (msg_…).
        message: String,
    },
    /// List the events an endpoint can take.
    Events,
}

fn webhook_json(w: &webhooks::Webhook) -> serde_json::Value {
    let deliveries: Vec<_> = w
        .deliveries
        .iter()
        .map(|d| {
            serde_json::json!({
                "message_id": d.message_id, "type": d.event_type, "state": d.state,
                "attempts": d.attempts, "last_status": d.last_status, "last_error": d.last_error,
                "created_at": d.created_at.to_rfc3339(),
                "delivered_at": d.delivered_at.map(|at| at.to_rfc3339()),
            })
        })
        .collect();
    serde_json::json!({
        "id": w.id, "url": w.url, "events": w.events, "created_at": w.created_at.to_rfc3339(),
        "previous_secret_until": w.previous_secret_until.map(|at| at.to_rfc3339()),
        "failing_since": w.failing_since.map(|at| at.to_rfc3339()),
        "next_attempt_at": w.next_attempt_at.map(|at| at.to_rfc3339()),
        "disabled_at": w.disabled_at.map(|at| at.to_rfc3339()),
        "disabled_reason": w.disabled_reason, "deliveries": deliveries,
    })
}

pub(super) async fn webhook_command(command: WebhookCommand) -> anyhow::Result<()> {
    if let WebhookCommand::Events = command {
        for event in EventType::ALL {
            let whose = if event.for_teams() {
                ""
            } else {
                " (instance webhooks only)"
            };
            println!("{:<26} {}{whose}", event.as_str(), event.words());
        }
        return Ok(());
    }
    let config = Config::from_env()?;
    let db = database().await?;
    let key = || crate::secret_key::load(config.secret_key.clone(), &config.database_url);
    match command {
        WebhookCommand::Create {
            scope,
            url,
            events,
            json,
        } => {
            let (hook, secret) = webhooks::create(
                &db,
                &key()?,
                Origin::OPERATOR,
                &scope.scope()?,
                &url,
                &events,
                config.webhooks.allow_private,
            )
            .await
            .map_err(operator_error)?;
            if json {
                let mut shown = webhook_json(&hook);
                shown["secret"] = secret.expose().into();
                println!("{shown}");
            } else {
                println!("created webhook {} for {}", hook.id, hook.url);
                println!("signing secret (shown once): {}", secret.expose());
            }
        }
        WebhookCommand::List { scope, json } => {
            let list = webhooks::list(&db, Origin::OPERATOR, &scope.scope()?)
                .await
                .map_err(operator_error)?;
            if json {
                let rows: Vec<_> = list.iter().map(webhook_json).collect();
                println!("{}", serde_json::Value::Array(rows));
            } else if list.is_empty() {
                println!("no webhooks");
            } else {
                for w in list {
                    let state = match (&w.disabled_at, &w.failing_since) {
                        (Some(_), _) => "off",
                        (None, Some(_)) => "failing",
                        (None, None) => "on",
                    };
                    println!("{}  {}  {}  {}", w.id, state, w.url, w.events.join(","));
                }
            }
        }
        WebhookCommand::Delete { scope, id } => {
            webhooks::delete(&db, Origin::OPERATOR, &scope.scope()?, &id)
                .await
                .map_err(operator_error)?;
            println!("deleted webhook {id}");
        }
        WebhookCommand::RotateSecret { scope, id, json } => {
            let secret =
                webhooks::rotate_secret(&db, &key()?, Origin::OPERATOR, &scope.scope()?, &id)
                    .await
                    .map_err(operator_error)?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({"id": id, "secret": secret.expose()})
                );
            } else {
                println!(
                    "new signing secret (shown once; the old one signs too for 24 hours): {}",
                    secret.expose()
                );
            }
        }
        WebhookCommand::Redeliver { scope, id, message } => {
            webhooks::redeliver(&db, Origin::OPERATOR, &scope.scope()?, &id, &message)
                .await
                .map_err(operator_error)?;
            println!("queued {message} again for webhook {id}");
        }
        WebhookCommand::Events => unreachable!("answered above"),
    }
    Ok(())
}
