//! The command line: `patdesk serve` (the default) and `patdesk migrate`.
//!
//! Every command exits non-zero with one line on stderr naming the problem.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::{config::Config, telemetry, web};

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
}

pub fn main() -> ExitCode {
    if let Err(error) = dotenvy::dotenv()
        && !error.not_found()
    {
        eprintln!("patdesk: cannot read .env: {error}");
        return ExitCode::from(2);
    }
    let cli = Cli::parse();
    telemetry::init();
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
            let db = domain::db::connect(&url).await?;
            domain::db::migrate(&db, &url).await?;
            println!("migrations applied to {url}");
            Ok(())
        }
    }
}
