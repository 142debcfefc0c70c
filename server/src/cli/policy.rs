//! `patdesk policy`: the instance's policy: tokens' lifetimes, how people sign in (single
//! sign-on, two-factor sign-in), who may sign up, and whether SCIM may change instance admins.

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
        /// Who may sign up with a password: `open` (anyone), `closed` (admins add people with
        /// `patdesk user add`, SCIM or single sign-on) or `sso` (accounts come from single
        /// sign-on only). Requiring single sign-on rules out password sign-ups whatever this says.
        #[arg(long, value_name = "open|closed|sso")]
        sign_ups: Option<String>,
        /// Let a SCIM directory change, deactivate and delete instance admins.
        #[arg(long, conflicts_with = "no_scim_manages_admins")]
        scim_manages_admins: bool,
        /// Keep instance admins out of the directory's reach (the default).
        #[arg(long)]
        no_scim_manages_admins: bool,
        /// New tokens must be fine-grained: only the permissions they need
        /// (docs/permissions.md).
        #[arg(long, conflicts_with = "no_require_fine_grained")]
        require_fine_grained: bool,
        /// New tokens may be whole-team again.
        #[arg(long)]
        no_require_fine_grained: bool,
    },
}

pub(super) async fn policy_command(command: PolicyCommand) -> anyhow::Result<()> {
    use domain::{
        identity::{scim, sign_ups, sso},
        tokens::policy,
    };
    let db = database().await?;
    let current = policy::current(&db).await.map_err(operator_error)?;
    let sso_required = sso::required(&db).await.map_err(operator_error)?;
    let two_factor = domain::identity::two_factor::requirement::policy(&db)
        .await
        .map_err(operator_error)?;
    let sign_up_setting = sign_ups::setting(&db).await.map_err(operator_error)?;
    let sign_ups_in_force = sign_ups::in_force(&db).await.map_err(operator_error)?;
    let scim_manages_admins = scim::manages_admins(&db).await.map_err(operator_error)?;
    let fine_grained_required = domain::tokens::permissions::required(&db)
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
                        "sign_ups": sign_up_setting.as_str(),
                        "sign_ups_in_force": sign_ups_in_force.as_str(),
                        "scim_manages_admins": scim_manages_admins,
                        "require_fine_grained": fine_grained_required,
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
                println!("sign-ups: {}", sign_up_setting.in_words());
                if sign_ups_in_force != sign_up_setting {
                    println!(
                        "  in force: {} (single sign-on is required)",
                        sign_ups_in_force.in_words()
                    );
                }
                println!(
                    "SCIM may change instance admins: {}",
                    if scim_manages_admins { "yes" } else { "no" }
                );
                println!(
                    "require fine-grained tokens: {}",
                    if fine_grained_required { "yes" } else { "no" }
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
            sign_ups: sign_ups_wanted,
            scim_manages_admins: allow_scim,
            no_scim_manages_admins: keep_admins_out,
            require_fine_grained,
            no_require_fine_grained,
        } => {
            let sign_up_flags = sign_ups_wanted.is_some();
            let scim_flags = allow_scim || keep_admins_out;
            let fine_grained_flags = require_fine_grained || no_require_fine_grained;
            if fine_grained_flags {
                domain::tokens::permissions::set_required(
                    &db,
                    domain::Origin::OPERATOR,
                    require_fine_grained,
                )
                .await
                .map_err(operator_error)?;
                println!(
                    "{}",
                    if require_fine_grained {
                        "new tokens must be fine-grained"
                    } else {
                        "new tokens may be whole-team"
                    }
                );
            }
            if let Some(wanted) = sign_ups_wanted {
                let new = sign_ups::SignUps::parse(&wanted).map_err(operator_error)?;
                domain::tokens::policy::set_sign_ups(&db, domain::Origin::OPERATOR, new)
                    .await
                    .map_err(operator_error)?;
                println!("sign-ups {}", new.in_words());
                if new != sign_ups::SignUps::Open && !has_instance_admin(&db).await? {
                    println!(
                        "no instance admin yet: make one with `patdesk user add --admin NAME` (the password on standard input)"
                    );
                }
            }
            if scim_flags {
                scim::set_manages_admins(&db, domain::Origin::OPERATOR, allow_scim)
                    .await
                    .map_err(operator_error)?;
                println!(
                    "{}",
                    if allow_scim {
                        "SCIM may change, deactivate and delete instance admins"
                    } else {
                        "instance admins kept out of SCIM's reach"
                    }
                );
            }
            let other_flags = sign_up_flags || scim_flags || fine_grained_flags;
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
            } else if !token_flags && !two_factor_flags && other_flags {
                return Ok(());
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

/// Whether the instance has an active instance admin (who could then open sign-ups again, or
/// add people, from `/admin`).
async fn has_instance_admin(db: &sea_orm::DatabaseConnection) -> anyhow::Result<bool> {
    let accounts = domain::identity::users::list_accounts(db, domain::Actor::Operator)
        .await
        .map_err(operator_error)?;
    Ok(accounts.iter().any(|a| a.is_admin && !a.suspended))
}

fn max_lifetime_help() -> String {
    format!(
        "The longest a token may live, in days (1 to {}), or `none`",
        domain::tokens::policy::MAX_LIFETIME_DAYS
    )
}
