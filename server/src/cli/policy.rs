//! `patdesk policy`: the instance's token policy.

use clap::Subcommand;

use super::{database, operator_error};

#[derive(Debug, Subcommand)]
pub(super) enum PolicyCommand {
    /// Print the policy in force.
    Show {
        #[arg(long)]
        json: bool,
    },
    /// Change the policy; what is not given stays as it is. Tightening it shortens existing
    /// tokens that exceed the new maximum.
    Set {
        #[arg(long, help = max_lifetime_help())]
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
        /// Refuse password sign-in to everyone but instance admins: single sign-on only.
        #[arg(long, conflicts_with = "no_require_sso")]
        require_sso: bool,
        /// Allow password sign-in again.
        #[arg(long)]
        no_require_sso: bool,
        /// Password accounts must set up two-factor sign-in (single sign-on accounts are
        /// exempt); see --2fa-grace-days.
        #[arg(long = "require-2fa", conflicts_with = "no_require_2fa")]
        require_2fa: bool,
        /// Stop requiring two-factor sign-in.
        #[arg(long = "no-require-2fa")]
        no_require_2fa: bool,
        /// Days people have to set up two-factor sign-in once it is required (0 to 365; default
        /// as set, 0 at first).
        #[arg(long = "2fa-grace-days", value_name = "N")]
        two_factor_grace_days: Option<u32>,
    },
}

pub(super) async fn policy_command(command: PolicyCommand) -> anyhow::Result<()> {
    use domain::{identity::sso, tokens::policy};
    let db = database().await?;
    let current = policy::current(&db).await.map_err(operator_error)?;
    let sso_required = sso::required(&db).await.map_err(operator_error)?;
    let two_factor = domain::identity::two_factor::requirement::policy(&db)
        .await
        .map_err(operator_error)?;
    match command {
        PolicyCommand::Show { json } => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        "max_lifetime_days": current.max_lifetime_days,
                        "require_expiry": current.require_expiry,
                        "explorer_lifetime_hours": current.explorer_lifetime_hours,
                        "require_sso": sso_required,
                        "require_2fa": two_factor.required,
                        "two_factor_grace_days": two_factor.grace_days,
                    })
                );
            } else {
                println!(
                    "max lifetime: {}\nrequire expiry: {}\nAPI explorer tokens: {} hours\nrequire single sign-on: {}\nrequire two-factor sign-in: {}",
                    current
                        .max_lifetime_days
                        .map_or("none".to_string(), |d| format!("{d} days")),
                    if current.require_expiry { "yes" } else { "no" },
                    current.explorer_lifetime_hours,
                    if sso_required { "yes" } else { "no" },
                    if two_factor.required {
                        format!("yes ({} days' grace)", two_factor.grace_days)
                    } else {
                        "no".to_string()
                    },
                );
            }
            Ok(())
        }
        PolicyCommand::Set {
            max_lifetime_days,
            require_expiry,
            no_require_expiry,
            explorer_lifetime_hours,
            require_sso,
            no_require_sso,
            require_2fa,
            no_require_2fa,
            two_factor_grace_days,
        } => {
            let two_factor_flags = require_2fa || no_require_2fa || two_factor_grace_days.is_some();
            let token_flags = max_lifetime_days.is_some()
                || require_expiry
                || no_require_expiry
                || explorer_lifetime_hours.is_some();
            if require_sso || no_require_sso {
                sso::set_required(&db, domain::Origin::OPERATOR, require_sso)
                    .await
                    .map_err(operator_error)?;
                println!(
                    "{}",
                    if require_sso {
                        "single sign-on required: password sign-in is refused to all but instance admins"
                    } else {
                        "password sign-in allowed again"
                    }
                );
                if !token_flags && !two_factor_flags {
                    return Ok(());
                }
            }
            if two_factor_flags {
                use domain::identity::two_factor::requirement::{self, TwoFactorPolicy};
                let new = TwoFactorPolicy {
                    required: (two_factor.required || require_2fa) && !no_require_2fa,
                    grace_days: two_factor_grace_days.unwrap_or(two_factor.grace_days),
                };
                requirement::set(&db, domain::Origin::OPERATOR, new)
                    .await
                    .map_err(operator_error)?;
                if new.required {
                    println!(
                        "two-factor sign-in required of password accounts: {} days to set it up",
                        new.grace_days
                    );
                } else {
                    println!("two-factor sign-in not required");
                }
                if !token_flags {
                    return Ok(());
                }
            }
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
            let new = current
                .changed(max, require, explorer_lifetime_hours)
                .map_err(operator_error)?;
            let applied = policy::set(&db, domain::Origin::OPERATOR, new)
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

fn max_lifetime_help() -> String {
    format!(
        "The longest a token may live, in days (1 to {}), or `none`",
        domain::tokens::policy::MAX_LIFETIME_DAYS
    )
}
