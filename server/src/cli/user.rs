//! `patdesk user`: accounts: create, suspend and reactivate, make admins, set a new password.

use clap::Subcommand;

use super::{database, operator_error};

#[derive(Debug, Subcommand)]
pub(super) enum UserCommand {
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
    /// Turn two-factor sign-in off for a person who lost every second factor: their
    /// authenticator app and recovery codes are removed (in their activity log, with a notice
    /// to them). Check who is asking first.
    #[command(name = "reset-2fa")]
    ResetTwoFactor { username: String },
    /// Set a new password for a user who forgot theirs (the way without mail); it is read from
    /// standard input (first line). Every session of the account ends; a notice tells them.
    /// Check who is asking first.
    #[command(name = "reset-password")]
    ResetPassword { username: String },
}

pub(super) async fn user_command(command: UserCommand) -> anyhow::Result<()> {
    use domain::identity::names::{Email, Username};
    match command {
        UserCommand::Add {
            username,
            admin,
            email,
        } => {
            // A new account: the names the log prints for actors that are no account are taken.
            let username = Username::parse_new(&username).map_err(operator_error)?;
            let email = email
                .as_deref()
                .map(Email::parse)
                .transpose()
                .map_err(operator_error)?;
            let password = password_from_stdin()?;
            let db = database().await?;
            let registration = domain::identity::users::Registration::ByOperator { admin };
            let user = domain::identity::users::create_with_email(
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
        UserCommand::ResetTwoFactor { username } => reset_two_factor(&username).await,
        UserCommand::ResetPassword { username } => {
            let username = Username::parse(&username).map_err(operator_error)?;
            let password = password_from_stdin()?;
            let db = database().await?;
            domain::identity::password_change::set_by_operator(&db, &username, &password)
                .await
                .map_err(operator_error)?;
            println!(
                "new password set for {username}: every session of the account was signed out"
            );
            Ok(())
        }
    }
}

/// The password on standard input's first line (without its line break), checked.
fn password_from_stdin() -> anyhow::Result<domain::identity::names::Password> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| anyhow::anyhow!("cannot read the password from standard input: {e}"))?;
    let typed = line.strip_suffix('\n').unwrap_or(&line);
    let typed = typed.strip_suffix('\r').unwrap_or(typed);
    domain::identity::names::Password::parse(typed).map_err(operator_error)
}

async fn reset_two_factor(username: &str) -> anyhow::Result<()> {
    let username = domain::identity::names::Username::parse(username).map_err(operator_error)?;
    let db = database().await?;
    let user = domain::identity::users::find(&db, &username)
        .await
        .map_err(operator_error)?
        .ok_or_else(|| anyhow::anyhow!("no user called {username}"))?;
    let removed = domain::identity::two_factor::reset(&db, domain::Origin::OPERATOR, user.id)
        .await
        .map_err(operator_error)?;
    if removed {
        println!(
            "two-factor sign-in reset for {username}: their password alone signs them in until they set it up again"
        );
    } else {
        println!("{username} had no second factor: nothing changed");
    }
    Ok(())
}

async fn set_suspended(username: &str, suspend: bool) -> anyhow::Result<()> {
    let username = domain::identity::names::Username::parse(username).map_err(operator_error)?;
    let db = database().await?;
    domain::identity::users::set_suspended(&db, domain::Origin::OPERATOR, &username, suspend)
        .await
        .map_err(operator_error)?;
    println!(
        "{} {username}",
        if suspend { "suspended" } else { "reactivated" }
    );
    Ok(())
}
