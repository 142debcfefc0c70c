//! Who may make an account by signing up with a password (`/admin`, `patdesk policy set
//! --sign-ups open|closed|sso`; docs/governance.md): anyone (`open`, the default, so that a new
//! instance's first person can sign up and become its admin), nobody (`closed`: instance admins
//! and the operator add people — `patdesk user add`, SCIM and a first single sign-on still make
//! accounts), or nobody with a password (`sso`: accounts come from single sign-on). "Require
//! single sign-on" (`identity::sso`) rules out password sign-ups whatever this says: an account
//! made with a password there could not sign in with it, and would be exempt from the
//! two-factor policy as a single sign-on account while its sign-up session lasted.
//!
//! `users::insert_account` asks [`allow_password_sign_up`] in the transaction that makes the
//! account; the sign-up server function asks it first too, before hashing the password. The
//! setting is changed by `tokens::policy::set_sign_ups`.

use sea_orm::{ConnectionTrait, EntityTrait};

use crate::{
    entity::policy,
    error::{Error, Result},
};

/// The instance's setting for sign-ups.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SignUps {
    /// Anyone may sign up with a password.
    #[default]
    Open,
    /// Nobody signs up: instance admins and the operator add people.
    Closed,
    /// Accounts are made by signing in with single sign-on; no password sign-up.
    SingleSignOn,
}

impl SignUps {
    pub const ALL: [SignUps; 3] = [SignUps::Open, SignUps::Closed, SignUps::SingleSignOn];

    /// `open`, `closed` or `sso`: the stored value, the CLI's and the form's.
    pub fn as_str(self) -> &'static str {
        match self {
            SignUps::Open => "open",
            SignUps::Closed => "closed",
            SignUps::SingleSignOn => "sso",
        }
    }

    fn from_str(raw: &str) -> Option<Self> {
        SignUps::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// What an admin or the operator asks for.
    pub fn parse(raw: &str) -> Result<Self> {
        SignUps::from_str(&raw.trim().to_ascii_lowercase()).ok_or_else(|| {
            Error::invalid(
                "sign_ups",
                "Sign-ups are open, closed or sso (single sign-on only).",
            )
        })
    }

    /// "open: anyone may sign up with a password"
    pub fn in_words(self) -> &'static str {
        match self {
            SignUps::Open => "open: anyone may sign up with a password",
            SignUps::Closed => "closed: admins add people",
            SignUps::SingleSignOn => "single sign-on only: no password sign-ups",
        }
    }
}

/// The setting as admins set it (`open` until someone sets the policy).
pub async fn setting(db: &impl ConnectionTrait) -> Result<SignUps> {
    Ok(in_row(policy::Entity::find_by_id(1).one(db).await?.as_ref())?.0)
}

/// What applies now: the setting, with "require single sign-on" making `open` into `sso`.
pub async fn in_force(db: &impl ConnectionTrait) -> Result<SignUps> {
    let (setting, sso_required) = in_row(policy::Entity::find_by_id(1).one(db).await?.as_ref())?;
    Ok(match setting {
        SignUps::Open if sso_required => SignUps::SingleSignOn,
        other => other,
    })
}

/// The row's setting and whether single sign-on is required.
fn in_row(row: Option<&policy::Model>) -> Result<(SignUps, bool)> {
    let Some(row) = row else {
        return Ok((SignUps::default(), false));
    };
    let setting = crate::db::stored("instance_policy.sign_ups", &row.sign_ups, SignUps::from_str)?;
    Ok((setting, row.require_sso))
}

/// What a sign-up is told when sign-ups are closed.
pub const CLOSED: &str =
    "This patdesk does not take sign-ups: an instance admin adds people. Ask yours for an account.";
/// What a password sign-up is told when accounts come from single sign-on.
pub const SINGLE_SIGN_ON_ONLY: &str = "Accounts on this patdesk are made by signing in with single sign-on: use the single sign-on button on the sign-in page.";

/// Refuses a password sign-up (403, the words above) unless sign-ups are open and single
/// sign-on is not required.
pub async fn allow_password_sign_up(db: &impl ConnectionTrait) -> Result<()> {
    match in_force(db).await? {
        SignUps::Open => Ok(()),
        SignUps::Closed => Err(Error::Forbidden(CLOSED.into())),
        SignUps::SingleSignOn => Err(Error::Forbidden(SINGLE_SIGN_ON_ONLY.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse_back() {
        for s in SignUps::ALL {
            assert_eq!(SignUps::parse(s.as_str()).unwrap(), s);
        }
        assert_eq!(SignUps::parse(" SSO ").unwrap(), SignUps::SingleSignOn);
        assert!(matches!(
            SignUps::parse("invite"),
            Err(Error::Invalid {
                field: "sign_ups",
                ..
            })
        ));
        assert_eq!(SignUps::default(), SignUps::Open);
    }
}
