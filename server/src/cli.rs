//! The command line: `patdesk serve` (the default), `patdesk migrate`, and the operator's
//! `user`, `team`, `token` and `policy` commands.
//!
//! The operator's commands call the same domain functions as the web app, as
//! `Actor::Operator`, so their changes are checked and recorded the same way. Every command exits
//! non-zero with one line on stderr naming the problem.

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
    /// Print the API's OpenAPI 3.1 document (as served at /api/openapi.json).
    Openapi,
}

#[derive(Debug, Subcommand)]
enum ServiceCommand {
    /// Create a credential for one of the team's services; its secret is printed once.
    Create {
        #[arg(long)]
        team: String,
        /// What the service is (the metrics API, say).
        #[arg(long)]
        name: String,
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

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Print the policy in force.
    Show {
        #[arg(long)]
        json: bool,
    },
    /// Change the policy; what is not given stays as it is. Tightening it shortens existing
    /// tokens that exceed the new maximum.
    Set {
        /// The longest a token may live, in days (1–366), or `none`.
        #[arg(long)]
        max_lifetime_days: Option<String>,
        /// Every token must expire ("never" is no longer offered).
        #[arg(long, conflicts_with = "no_require_expiry")]
        require_expiry: bool,
        /// Tokens may be made without expiry again (unless a maximum is set).
        #[arg(long)]
        no_require_expiry: bool,
        /// How long the API explorer's own token lives, in hours.
        #[arg(long)]
        explorer_lifetime_hours: Option<u32>,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create a token and print its value (once).
    Create {
        #[command(flatten)]
        request: CreateArgs,
        /// Print {"id","token","expires_at"} as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List a user's tokens, or with --all every live token (never their values).
    List {
        #[arg(long, required_unless_present = "all", conflicts_with = "all")]
        user: Option<String>,
        /// Every live token of every team (with --team, of one team).
        #[arg(long)]
        all: bool,
        /// With --all: only this team's tokens.
        #[arg(long, requires = "all")]
        team: Option<String>,
        /// With --all: only tokens not used for this many days.
        #[arg(long, requires = "all")]
        unused_days: Option<u32>,
        #[arg(long)]
        json: bool,
    },
    /// Delete (revoke) a token by id.
    Delete { id: String },
    /// Say whether a value is a well-formed patdesk token with a valid checksum, offline (for
    /// secret-scanning pipelines that drop false positives before reporting). Exit status 0 when
    /// it is, 1 when it is not; whether it is a live token is not checked.
    Check { value: String },
}

/// What `token create` asks for.
#[derive(Debug, clap::Args)]
struct CreateArgs {
    /// The token's owner.
    #[arg(long)]
    user: String,
    /// The team the token is scoped to (the owner must be a member).
    #[arg(long)]
    team: String,
    /// What the token is for (1–100 characters, unique among the owner's tokens).
    #[arg(long)]
    description: String,
    /// Allow writes (the owner's role must be writer or admin).
    #[arg(long)]
    write: bool,
    #[arg(long, conflicts_with = "no_expiry", help = expires_in_days_help())]
    expires_in_days: Option<u32>,
    /// Never expire.
    #[arg(long)]
    no_expiry: bool,
    /// Only accept calls from this address or CIDR range (repeat for more, up to 20; IPv4 or
    /// IPv6, e.g. 10.0.0.0/8 or 2001:db8::/32). Without it, any address.
    #[arg(long = "allow-ip", value_name = "ADDRESS_OR_RANGE")]
    allow_ip: Vec<String>,
}

/// `--expires-in-days`'s help, from the standard choices (which the instance's token policy
/// may narrow: `patdesk policy show`).
fn expires_in_days_help() -> String {
    let choices = domain::tokens::ExpiryChoices::standard();
    format!(
        "Lifetime in days: {} (default {}), within the instance's token policy",
        choices.presets_in_words(),
        choices.default_days
    )
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user; the password is read from standard input (first line).
    Add {
        username: String,
        /// Make the user an instance admin.
        #[arg(long)]
        admin: bool,
        /// The address patdesk mails the user's notices to (docs/notifications.md).
        #[arg(long, value_name = "ADDR")]
        email: Option<String>,
    },
    /// Suspend a user: their sessions end, their tokens stop working, sign-in is refused.
    Suspend { username: String },
    /// Reactivate a suspended user.
    Reactivate { username: String },
}

#[derive(Debug, Subcommand)]
enum TeamCommand {
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
}

#[derive(Debug, Subcommand)]
enum MemberCommand {
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
        Command::User(command) => user_command(command).await,
        Command::Team(command) => team_command(command).await,
        Command::Token(command) => token_command(command).await,
        Command::Policy(command) => policy_command(command).await,
        Command::Service(command) => service_command(command).await,
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

async fn service_command(command: ServiceCommand) -> anyhow::Result<()> {
    use domain::{Actor, names::TeamSlug, services};
    let team_of = |team: &str| TeamSlug::parse(team).map_err(operator_error);
    let db = database().await?;
    match command {
        ServiceCommand::Create { team, name, json } => {
            let team = team_of(&team)?;
            let (service, secret) = services::create(&db, Actor::Operator, &team, &name, None)
                .await
                .map_err(operator_error)?;
            if json {
                println!(
                    "{}",
                    serde_json::json!({"id": service.id, "secret": secret.expose(), "team": service.team, "name": service.name})
                );
            } else {
                println!(
                    "created service credential {} for {} in team {}\n{}\nThis secret is shown once: store it in the service's configuration now.",
                    service.id,
                    service.name,
                    service.team,
                    secret.expose()
                );
            }
        }
        ServiceCommand::List { team, json } => {
            let list = services::list(&db, Actor::Operator, &team_of(&team)?)
                .await
                .map_err(operator_error)?;
            if json {
                let rows: Vec<serde_json::Value> = list
                    .iter()
                    .map(|s| serde_json::json!({"id": s.id, "name": s.name, "partial": format!("pdks_…{}", s.hint), "created_by": s.created_by, "created_at": s.created_at.to_rfc3339()}))
                    .collect();
                println!("{}", serde_json::Value::Array(rows));
            } else if list.is_empty() {
                println!("no service credentials");
            } else {
                for s in list {
                    println!(
                        "{}  pdks_…{}  {}  (by {}, {})",
                        s.id,
                        s.hint,
                        s.name,
                        s.created_by,
                        domain::time::date(s.created_at)
                    );
                }
            }
        }
        ServiceCommand::Delete { team, id } => {
            services::delete(&db, Actor::Operator, &team_of(&team)?, &id, None)
                .await
                .map_err(operator_error)?;
            println!("revoked service credential {id}");
        }
    }
    Ok(())
}

async fn policy_command(command: PolicyCommand) -> anyhow::Result<()> {
    use domain::policy::{self, Policy};
    let db = database().await?;
    let current = policy::current(&db).await.map_err(operator_error)?;
    match command {
        PolicyCommand::Show { json } => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        "max_lifetime_days": current.max_lifetime_days,
                        "require_expiry": current.require_expiry,
                        "explorer_lifetime_hours": current.explorer_lifetime_hours,
                    })
                );
            } else {
                println!(
                    "max lifetime: {}\nrequire expiry: {}\nAPI explorer tokens: {} hours",
                    current
                        .max_lifetime_days
                        .map_or("none".to_string(), |d| format!("{d} days")),
                    if current.require_expiry { "yes" } else { "no" },
                    current.explorer_lifetime_hours
                );
            }
            Ok(())
        }
        PolicyCommand::Set {
            max_lifetime_days,
            require_expiry,
            no_require_expiry,
            explorer_lifetime_hours,
        } => {
            let max = match max_lifetime_days.as_deref().map(str::trim) {
                None => current.max_lifetime_days,
                Some("none") => None,
                Some(days) => Some(days.parse::<u32>().map_err(|_| {
                    anyhow::anyhow!(
                        "--max-lifetime-days must be a number of days or none (got {days})"
                    )
                })?),
            };
            let require = if require_expiry {
                true
            } else if no_require_expiry {
                false
            } else {
                current.require_expiry
            };
            // Narrowing the maximum below the explorer's lifetime narrows that too, unless given.
            let explorer = explorer_lifetime_hours.unwrap_or_else(|| {
                max.map_or(current.explorer_lifetime_hours, |days| {
                    current.explorer_lifetime_hours.min(days * 24)
                })
            });
            let new = Policy::new(max, require, explorer).map_err(operator_error)?;
            let applied = policy::set(&db, domain::Actor::Operator, new, None)
                .await
                .map_err(operator_error)?;
            println!(
                "policy set: {}; API explorer tokens live {} hours; {} tokens shortened",
                new.in_words(),
                new.explorer_lifetime_hours,
                applied.shortened
            );
            Ok(())
        }
    }
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

async fn user_command(command: UserCommand) -> anyhow::Result<()> {
    use domain::names::{Email, Password, Username};
    match command {
        UserCommand::Add {
            username,
            admin,
            email,
        } => {
            let username = Username::parse(&username).map_err(operator_error)?;
            let email = email
                .as_deref()
                .map(Email::parse)
                .transpose()
                .map_err(operator_error)?;
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).map_err(|e| {
                anyhow::anyhow!("cannot read the password from standard input: {e}")
            })?;
            let typed = line.strip_suffix('\n').unwrap_or(&line);
            let typed = typed.strip_suffix('\r').unwrap_or(typed);
            let password = Password::parse(typed).map_err(operator_error)?;
            let db = database().await?;
            let registration = domain::users::Registration::ByOperator { admin };
            let user = domain::users::create_with_email(
                &db,
                &username,
                &password,
                email.as_ref(),
                registration,
            )
            .await
            .map_err(operator_error)?;
            println!(
                "created user {}{}",
                user.username,
                if user.is_admin {
                    " (instance admin)"
                } else {
                    ""
                }
            );
            Ok(())
        }
        UserCommand::Suspend { username } => set_suspended(&username, true).await,
        UserCommand::Reactivate { username } => set_suspended(&username, false).await,
    }
}

async fn set_suspended(username: &str, suspend: bool) -> anyhow::Result<()> {
    let username = domain::names::Username::parse(username).map_err(operator_error)?;
    let db = database().await?;
    domain::users::set_suspended(&db, domain::Actor::Operator, &username, suspend, None)
        .await
        .map_err(operator_error)?;
    println!(
        "{} {username}",
        if suspend { "suspended" } else { "reactivated" }
    );
    Ok(())
}

async fn team_command(command: TeamCommand) -> anyhow::Result<()> {
    use domain::{
        Actor,
        names::{Role, TeamName, TeamSlug, Username},
        teams,
    };
    match command {
        TeamCommand::Add { slug, owner, name } => {
            let slug = TeamSlug::parse(&slug).map_err(operator_error)?;
            let owner = Username::parse(&owner).map_err(operator_error)?;
            let name = TeamName::parse(name.as_deref().unwrap_or(slug.as_str()))
                .map_err(operator_error)?;
            let db = database().await?;
            let owner_account = domain::users::find(&db, &owner)
                .await
                .map_err(operator_error)?
                .ok_or_else(|| anyhow::anyhow!("There is no user named {owner}."))?;
            let owner_id = owner_account.id;
            teams::create(&db, Actor::Operator, owner_id, &slug, &name, None)
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
            teams::add_member(&db, Actor::Operator, &slug, &username, role, None)
                .await
                .map_err(operator_error)?;
            println!("added {username} to {slug} as {role}");
            Ok(())
        }
        TeamCommand::Member(MemberCommand::Remove { slug, username }) => {
            let slug = TeamSlug::parse(&slug).map_err(operator_error)?;
            let username = Username::parse(&username).map_err(operator_error)?;
            let db = database().await?;
            teams::remove_member(&db, Actor::Operator, &slug, &username, None)
                .await
                .map_err(operator_error)?;
            println!("removed {username} from {slug}");
            Ok(())
        }
    }
}

async fn token_owner(
    db: &sea_orm::DatabaseConnection,
    username: &str,
) -> anyhow::Result<domain::entity::user::Model> {
    let username = domain::names::Username::parse(username).map_err(operator_error)?;
    domain::users::find(db, &username)
        .await
        .map_err(operator_error)?
        .ok_or_else(|| anyhow::anyhow!("There is no user named {username}."))
}

async fn token_command(command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create { request, json } => token_create(request, json).await,
        TokenCommand::List {
            user: Some(user),
            json,
            ..
        } => token_list(&user, json).await,
        TokenCommand::List {
            team,
            unused_days,
            json,
            ..
        } => token_inventory(team.as_deref(), unused_days, json).await,
        TokenCommand::Check { value } => {
            match domain::token_format::TokenSecret::parse(value.trim()) {
                Ok(secret) => {
                    println!(
                        "valid: {} is a well-formed patdesk token with a valid checksum",
                        domain::token_format::partial(&secret.hint())
                    );
                    Ok(())
                }
                Err(reason) => anyhow::bail!("invalid: {reason}"),
            }
        }
        TokenCommand::Delete { id } => {
            let db = database().await?;
            let info = domain::tokens::delete_by_id(&db, id.trim())
                .await
                .map_err(operator_error)?;
            println!("deleted {} ({})", info.id, info.description);
            Ok(())
        }
    }
}

async fn token_create(request: CreateArgs, json: bool) -> anyhow::Result<()> {
    use domain::tokens::{self, Expiry, NewToken, TokenKind};
    let db = database().await?;
    let choices = tokens::expiry_choices(&db).await.map_err(operator_error)?;
    let policy = match choices.policy_max_days {
        Some(max) => format!(": the instance's token policy allows at most {max} days"),
        None if choices.policy_requires_expiry => {
            ": the instance's token policy requires every token to expire".to_string()
        }
        None => String::new(),
    };
    let expiry = match (request.no_expiry, request.expires_in_days) {
        (true, _) if choices.allow_never => Expiry::Never,
        (true, _) => anyhow::bail!("--no-expiry is not allowed{policy}"),
        (false, days) => {
            let days = days.unwrap_or(choices.default_days);
            Expiry::days(days, &choices).map_err(|_| {
                anyhow::anyhow!(
                    "--expires-in-days must be {} (got {days}){policy}",
                    choices.presets_in_words()
                )
            })?
        }
    };
    let allowed = domain::allow_list::AllowList::parse(request.allow_ip.iter().map(String::as_str))
        .map_err(|e| match e {
            domain::Error::Invalid { message, .. } => anyhow::anyhow!("--allow-ip: {message}"),
            other => operator_error(other),
        })?;
    let owner = token_owner(&db, &request.user).await?;
    let new = NewToken {
        description: &request.description,
        team: &request.team,
        write: request.write,
        expiry,
        kind: TokenKind::Personal,
        allowed,
    };
    let issued = tokens::create_by_operator(&db, owner.id, new)
        .await
        .map_err(operator_error)?;
    let expires_at = issued.info.expires_at.map(|at| at.to_rfc3339());
    if json {
        let value = serde_json::json!({
            "id": issued.info.id,
            "token": issued.secret.expose(),
            "expires_at": expires_at,
            "allowed_ips": issued.info.allowed_ips,
        });
        println!("{value}");
    } else {
        println!("{}", issued.secret.expose());
        eprintln!(
            "created {} for team {} ({}), expires {}. The value above is shown only once.",
            issued.info.id,
            issued.info.team_slug,
            access_words(issued.info.write),
            expires_at.as_deref().unwrap_or("never")
        );
    }
    Ok(())
}

/// `token list --all`: every live token (of one team, or unused for some days), all pages.
async fn token_inventory(
    team: Option<&str>,
    unused_days: Option<u32>,
    json: bool,
) -> anyhow::Result<()> {
    use domain::{
        names::TeamSlug,
        team_tokens::{self, Filter, Scope},
        time,
        token_format::partial,
    };
    let db = database().await?;
    let team = team
        .map(TeamSlug::parse)
        .transpose()
        .map_err(operator_error)?;
    let filter = Filter {
        unused_days,
        ..Filter::default()
    };
    let scope = Scope::Instance {
        team: team.as_ref(),
    };
    let now = chrono::Utc::now();
    let mut rows = Vec::new();
    for page in 1.. {
        let found = team_tokens::list(&db, domain::Actor::Operator, scope, &filter, page, 100)
            .await
            .map_err(operator_error)?;
        let done = page * 100 >= found.total;
        rows.extend(found.items);
        if done {
            break;
        }
    }
    if json {
        let rows: Vec<_> = rows
            .iter()
            .map(|t| {
                serde_json::json!({
                    "id": t.info.id,
                    "owner": t.owner,
                    "team": t.info.team_slug,
                    "description": t.info.description,
                    "kind": t.info.kind.as_str(),
                    "write": t.info.write,
                    "token": partial(&t.info.hint),
                    "created_at": t.info.created_at.to_rfc3339(),
                    "expires_at": t.info.expires_at.map(|at| at.to_rfc3339()),
                    "last_used_at": t.info.last_used_at.map(|at| at.to_rfc3339()),
                    "pending_approval": t.info.pending_approval,
                    "allowed_ips": t.info.allowed_ips,
                    "unused": t.is_unused(now),
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(rows));
        return Ok(());
    }
    for t in &rows {
        println!(
            "{}  {:<10}  {:<12}  {:<10}  {}  expires {}  last used {}  {}",
            t.info.id,
            t.info.team_slug,
            t.owner,
            access_words(t.info.write),
            partial(&t.info.hint),
            t.info.expires_at.map_or("never".into(), time::date),
            t.info
                .last_used_at
                .map_or("never".into(), |at| at.to_rfc3339()),
            t.info.description
        );
    }
    Ok(())
}

fn access_words(write: bool) -> &'static str {
    if write { "read/write" } else { "read" }
}

async fn token_list(user: &str, json: bool) -> anyhow::Result<()> {
    use domain::{time, token_format::partial};
    let db = database().await?;
    let owner = token_owner(&db, user).await?;
    let list = domain::tokens::list(&db, owner.id)
        .await
        .map_err(operator_error)?;
    let now = chrono::Utc::now();
    if json {
        let rows: Vec<_> = list
            .iter()
            .map(|t| {
                serde_json::json!({
                    "id": t.id,
                    "description": t.description,
                    "team": t.team_slug,
                    "write": t.write,
                    "kind": t.kind.as_str(),
                    "token": partial(&t.hint),
                    "created_at": t.created_at.to_rfc3339(),
                    "expires_at": t.expires_at.map(|at| at.to_rfc3339()),
                    "expired": t.is_expired(now),
                    "last_used_at": t.last_used_at.map(|at| at.to_rfc3339()),
                    "last_used_ips": t.last_used_ips,
                    "last_used_old_value": t.old_value.is_some() && t.last_used_old_value,
                    "allowed_ips": t.allowed_ips,
                    "old_value": t.old_value.as_ref().map(|old| serde_json::json!({
                        "token": partial(&old.hint),
                        "valid_until": old.valid_until.to_rfc3339(),
                        "last_used_at": old.last_used_at.map(|at| at.to_rfc3339()),
                    })),
                    "pending_approval": t.pending_approval,
                    "revoked": t.revoked.as_ref().map(|r| serde_json::json!({
                        "by": r.by,
                        "at": r.at.to_rfc3339(),
                        "reason": r.reason,
                        "reported_leaked": r.leaked,
                    })),
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(rows));
        return Ok(());
    }
    for t in &list {
        let state = match &t.revoked {
            Some(r) if r.leaked => format!("REVOKED: reported as leaked on {}", time::date(r.at)),
            Some(r) if r.denied => format!("DENIED by {} on {}", r.by, time::date(r.at)),
            Some(r) => format!("REVOKED by {} on {}", r.by, time::date(r.at)),
            None if t.pending_approval => "PENDING APPROVAL".to_string(),
            None => format!(
                "expires {}",
                t.expires_at.map_or("never".into(), time::date)
            ),
        };
        let allowed = if t.allowed_ips.is_empty() {
            String::new()
        } else {
            format!("  only from {}", t.allowed_ips.join(","))
        };
        println!(
            "{}  {:<10}  {:<10}  {}  {}  last used {}  {}{allowed}",
            t.id,
            t.team_slug,
            access_words(t.write),
            partial(&t.hint),
            state,
            t.last_used_at.map_or("never".into(), |at| at.to_rfc3339()),
            t.description
        );
    }
    Ok(())
}
