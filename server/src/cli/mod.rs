//! The command line: `patdesk serve` (the default), `patdesk migrate`, and the operator's
//! `user`, `team`, `token`, `policy`, `service`, `service-account`, `federation`, `sso` and
//! `scim` commands.
//!
//! The operator's commands call the same domain functions as the web app, as
//! `Actor::Operator`, so their changes are checked and recorded the same way. Every command exits
//! non-zero with one line on stderr naming the problem.

mod policy;
mod scim;
mod service;
mod service_account;
mod sso;
mod team;
mod token;
mod user;
mod webhook;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::{config::Config, telemetry, web};

use self::{
    policy::PolicyCommand,
    scim::ScimCommand,
    service::ServiceCommand,
    service_account::{FederationCommand, ServiceAccountCommand},
    sso::SsoCommand,
    team::TeamCommand,
    token::TokenCommand,
    user::UserCommand,
};

#[derive(Debug, Parser)]
#[command(
    name = "patdesk",
    version,
    about = "Personal access tokens for your team's API: the web app, the REST API and admin commands.",
    after_help = "Configuration (environment, or a .env file in the working directory):\n  \
        DATABASE_URL   sqlite://path or postgres://user:password@host/db (default: sqlite://data/patdesk.db)\n  \
        PATDESK_ADDR   address to listen on (default: 127.0.0.1:3000)\n  \
        RUST_LOG       log filter (default: info)"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web app and the API (the default). Applies pending migrations first.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage teams and their members.
    #[command(subcommand)]
    Team(TeamCommand),
    /// Manage personal access tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Show or set the instance's token policy (docs/governance.md).
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Manage a team's service credentials, for token introspection (docs/forward-auth.md).
    #[command(subcommand)]
    Service(ServiceCommand),
    /// Manage a team's service accounts: owners of tokens that are not people
    /// (docs/service-accounts.md).
    #[command(subcommand)]
    ServiceAccount(ServiceAccountCommand),
    /// Manage the trust policies that let CI jobs exchange their identity tokens for
    /// short-lived tokens of a service account (docs/service-accounts.md).
    #[command(subcommand)]
    Federation(FederationCommand),
    /// Manage the webhooks a team's or the instance's events are posted to (docs/webhooks.md).
    #[command(subcommand)]
    Webhook(webhook::WebhookCommand),
    /// Map identity provider groups to teams, for single sign-on (docs/sso.md).
    #[command(subcommand)]
    Sso(SsoCommand),
    /// Manage the credentials a directory provisions accounts with over SCIM (docs/scim.md).
    #[command(subcommand)]
    Scim(ScimCommand),
    /// Print the API's OpenAPI 3.1 document (as served at /api/openapi.json).
    Openapi,
}

pub fn main() -> ExitCode {
    if let Err(error) = dotenvy::dotenv()
        && !error.not_found()
    {
        eprintln!("patdesk: cannot read .env: {error}");
        return ExitCode::from(2);
    }
    let cli = Cli::parse();
    let serving = matches!(cli.command, None | Some(Command::Serve));
    telemetry::init(if serving { "info" } else { "warn" });
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("patdesk: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}` prints the error and its causes on one line.
            eprintln!("patdesk: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => web::serve(Config::from_env()?).await,
        Command::Migrate => {
            let url = Config::database_url_from_env()?;
            domain::db::migrate(&url).await?;
            println!("migrations applied to {url}");
            Ok(())
        }
        Command::User(command) => user::user_command(command).await,
        Command::Team(command) => team::team_command(command).await,
        Command::Token(command) => token::token_command(command).await,
        Command::Policy(command) => policy::policy_command(command).await,
        Command::Service(command) => service::service_command(command).await,
        Command::ServiceAccount(command) => service_account::service_account_command(command).await,
        Command::Federation(command) => service_account::federation_command(command).await,
        Command::Webhook(command) => webhook::webhook_command(command).await,
        Command::Sso(command) => sso::sso_command(command).await,
        Command::Scim(command) => scim::scim_command(command).await,
        Command::Openapi => {
            println!("{}", serde_json::to_string_pretty(crate::api::openapi())?);
            Ok(())
        }
    }
}

/// The migrated database, for the operator's commands.
async fn database() -> anyhow::Result<sea_orm::DatabaseConnection> {
    let url = Config::database_url_from_env()?;
    domain::db::migrate(&url).await?;
    Ok(domain::db::connect(&url).await?)
}

/// A domain error as the operator should read it: the CLI's one mapping from `domain::Error`.
fn operator_error(error: domain::Error) -> anyhow::Error {
    match error {
        domain::Error::Invalid { message, .. } | domain::Error::Conflict { message, .. } => {
            anyhow::anyhow!(message)
        }
        unavailable if unavailable.is_unavailable() => {
            anyhow::anyhow!("cannot reach the database: {unavailable}")
        }
        other => anyhow::anyhow!(other),
    }
}
