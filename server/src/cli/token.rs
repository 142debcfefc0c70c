//! `patdesk token`: create, list and inventory personal access tokens.

use clap::Subcommand;
use domain::tokens::TokenInfo;
use serde::Serialize;

use super::{database, operator_error};
use crate::api::model::TokenOut;

#[derive(Debug, Subcommand)]
pub(super) enum TokenCommand {
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
pub(super) struct CreateArgs {
    /// The token's owner.
    #[arg(
        long,
        required_unless_present = "service_account",
        conflicts_with = "service_account"
    )]
    user: Option<String>,
    /// Or: a service account of --team, by id or name (`patdesk service-account list`); the
    /// token survives any person leaving (docs/service-accounts.md).
    #[arg(long, value_name = "ID_OR_NAME")]
    service_account: Option<String>,
    /// The team the token is scoped to (the owner must be a member).
    #[arg(long)]
    team: String,
    /// What the token is for (1–100 characters, unique among the owner's tokens).
    #[arg(long)]
    description: String,
    /// Allow writes (the owner's role must be writer or admin). For a whole-team token; a
    /// fine-grained token writes when one of its permissions does.
    #[arg(long, conflicts_with = "permission")]
    write: bool,
    /// Make a fine-grained token with this permission, repeatable (questions:read,
    /// answers:write, tokens:self, team_tokens:read, or a service's scope such as deploy:run;
    /// docs/permissions.md). Without any, the token is whole-team.
    #[arg(long = "permission", value_name = "PERMISSION")]
    permission: Vec<String>,
    #[arg(long, conflicts_with = "no_expiry", help = expires_in_days_help())]
    expires_in_days: Option<u32>,
    /// Never expire.
    #[arg(long)]
    no_expiry: bool,
    /// Only accept calls from this address or CIDR range (repeat for more, up to 20; IPv4 or
    /// IPv6, e.g. 10.0.0.0/8 or 2001:db8::/32). Without it, any address.
    #[arg(long = "allow-ip", value_name = "ADDRESS_OR_RANGE")]
    allow_ip: Vec<String>,
    /// At most this many calls per minute (1–100000, within the team's cap); more are answered
    /// 429. Without it, no limit of its own.
    #[arg(long, value_name = "CALLS_PER_MINUTE",
          value_parser = clap::value_parser!(u32).range(1..=i64::from(domain::tokens::rate_limit::MAX_PER_MINUTE)))]
    rate_limit: Option<u32>,
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

async fn token_owner(
    db: &sea_orm::DatabaseConnection,
    username: &str,
) -> anyhow::Result<domain::identity::users::User> {
    let username = domain::identity::names::Username::parse(username).map_err(operator_error)?;
    domain::identity::users::find(db, &username)
        .await
        .map_err(operator_error)?
        .ok_or_else(|| anyhow::anyhow!("There is no user named {username}."))
}

pub(super) async fn token_command(command: TokenCommand) -> anyhow::Result<()> {
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
            match domain::tokens::format::TokenSecret::parse(value.trim()) {
                Ok(secret) => {
                    println!(
                        "valid: {} is a well-formed patdesk token with a valid checksum",
                        domain::tokens::format::partial(&secret.hint())
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
    let allowed =
        domain::tokens::allow_list::AllowList::parse(request.allow_ip.iter().map(String::as_str))
            .map_err(|e| match e {
            domain::Error::Invalid { message, .. } => anyhow::anyhow!("--allow-ip: {message}"),
            other => operator_error(other),
        })?;
    let permissions = if request.permission.is_empty() {
        None
    } else {
        Some(
            tokens::permissions::Permissions::parse_list(&request.permission.join(" "))
                .map_err(|e| anyhow::anyhow!("--permission: {e}"))?,
        )
    };
    let new = NewToken {
        description: &request.description,
        team: &request.team,
        write: request.write,
        expiry,
        kind: TokenKind::Personal,
        allowed,
        rate_limit: request.rate_limit,
        permissions,
    };
    let issued = match (&request.user, &request.service_account) {
        (_, Some(account)) => domain::identity::service_accounts::create_token(
            &db,
            domain::Origin::OPERATOR,
            account,
            new,
        )
        .await
        .map_err(operator_error)?,
        (Some(user), None) => {
            let owner = token_owner(&db, user).await?;
            tokens::create_by_operator(&db, owner.id, new)
                .await
                .map_err(operator_error)?
        }
        (None, None) => anyhow::bail!("name the token's owner: --user or --service-account"),
    };
    let expires_at = issued.info.expires_at.map(|at| at.to_rfc3339());
    if json {
        let value = serde_json::json!({
            "id": issued.info.id,
            "token": issued.secret.expose(),
            "expires_at": expires_at,
            "allowed_ips": issued.info.allowed_ips,
            "permissions": issued.info.permissions.as_ref().map(|p| p.to_list()),
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
        identity::names::TeamSlug,
        time,
        tokens::format::partial,
        tokens::governance::{self, Filter, Scope},
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
        let found = governance::list(&db, domain::Actor::Operator, scope, &filter, page, 100)
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
                let more = serde_json::json!({"owner": t.owner, "unused": t.is_unused(now)});
                token_json(&t.info, more)
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

/// A token's JSON: the API's [`TokenOut`] and the fields this listing adds (`more`, an object).
fn token_json(info: &TokenInfo, more: serde_json::Value) -> serde_json::Value {
    #[derive(Serialize)]
    struct Row {
        #[serde(flatten)]
        token: TokenOut,
        #[serde(flatten)]
        more: serde_json::Value,
    }
    let row = Row {
        token: TokenOut::from(info),
        more,
    };
    // Strings, numbers and an object of them: serializing cannot fail.
    serde_json::to_value(row).expect("a token's JSON serializes")
}

fn access_words(write: bool) -> &'static str {
    if write { "read/write" } else { "read" }
}

async fn token_list(user: &str, json: bool) -> anyhow::Result<()> {
    use domain::{time, tokens::format::partial};
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
                let more = serde_json::json!({
                    "expired": t.is_expired(now),
                    "last_used_old_value": t.old_value.is_some() && t.last_used_old_value,
                    "old_value": t.old_value.as_ref().map(|old| serde_json::json!({
                        "token": partial(&old.hint),
                        "valid_until": old.valid_until.to_rfc3339(),
                        "last_used_at": old.last_used_at.map(|at| at.to_rfc3339()),
                    })),
                    "revoked": t.revoked.as_ref().map(|r| serde_json::json!({
                        "by": r.by,
                        "at": r.at.to_rfc3339(),
                        "reason": r.reason,
                        "reported_leaked": r.leaked,
                    })),
                });
                token_json(t, more)
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
