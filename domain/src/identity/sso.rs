//! Single sign-on: which patdesk account a verified OpenID Connect sign-in is (`docs/sso.md`).
//! The protocol itself — discovery, the code flow with PKCE, the ID token's signature and
//! claims — is `server::sso`'s; this module gets only what a verified token said.
//!
//! Accounts are linked by the issuer and its `sub`, never by email: an address at the provider
//! proves nothing about an account here. The first sign-in of an unknown subject makes an
//! account (a username from `preferred_username`, made valid and unique; the email only when
//! the provider says it is verified and no account has it); a person with a password account
//! links it from their Account page while signed in (a sudo-mode change: `server::sso` checks the
//! session's sign-in is recent, when the link starts and when it finishes), and may unlink it.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set, SqlErr,
};

use super::{
    names::{Email, Username},
    password,
    sessions::{self, SessionId},
    users::{self, Registration, SUSPENDED, User},
};
use crate::{
    Origin,
    activity::{self, Event, Kind},
    db::begin_write,
    entity::{identity, policy, user},
    error::{Error, Result},
    notifications::{self, Notice, NoticeKind},
};

/// What a verified ID token (and the provider's userinfo) says of the person.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SsoClaims {
    /// The provider's issuer URL, as its ID tokens name it.
    pub issuer: String,
    /// `sub`: who the person is at the provider, for good.
    pub subject: String,
    pub preferred_username: Option<String>,
    pub email: Option<String>,
    pub email_verified: bool,
    /// The `groups` claim, when the token carries one: mapped teams follow it
    /// (`group_sync`); `None` leaves memberships alone.
    pub groups: Option<Vec<String>>,
}

/// A finished single sign-on.
#[derive(Debug)]
pub struct SignedIn {
    pub user: User,
    pub session: SessionId,
    /// The sign-in made the account.
    pub created: bool,
}

/// Signs in the account linked to `claims`' subject, making one at the subject's first
/// sign-in; the session the browser had (`replaced`) ends. A suspended account is refused.
/// All of it — account, link, session, activity — is one transaction.
pub async fn sign_in(
    db: &DatabaseConnection,
    claims: &SsoClaims,
    replaced: Option<&str>,
    ip: Option<IpAddr>,
) -> Result<SignedIn> {
    check_claims(claims)?;
    let txn = begin_write(db).await?;
    let (account, created) = match linked_account(&txn, claims).await? {
        Some(account) => (account, false),
        None => match provisioned_account(&txn, claims).await? {
            Some(account) => (account, false),
            None => (make_account(&txn, claims, ip).await?, true),
        },
    };
    if !account.is_active {
        return Err(Error::Forbidden(SUSPENDED.into()));
    }
    identity::Entity::update_many()
        .col_expr(
            identity::Column::LastSignInAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(identity::Column::Issuer.eq(&claims.issuer))
        .filter(identity::Column::Subject.eq(&claims.subject))
        .exec(&txn)
        .await?;
    if let Some(old) = replaced {
        sessions::end_quietly(&txn, old).await?;
    }
    let memberships_changed = match &claims.groups {
        Some(groups) => {
            super::group_sync::sync(&txn, account.id, &account.username, groups).await?
        }
        None => false,
    };
    let session = sessions::start(&txn, account.id).await?;
    let event = Event::own(account.id, Kind::SsoSignIn)
        .ip(ip)
        .target(format!("via {}", claims.issuer));
    activity::record(&txn, event).await?;
    txn.commit().await?;
    if memberships_changed {
        crate::tokens::rights::changed();
    }
    Ok(SignedIn {
        user: account.into(),
        session,
        created,
    })
}

/// Links the signed-in user's account to `claims`' subject (from the Account page). A subject
/// linked to another account, or a second link to the same provider, is refused.
pub async fn link(db: &DatabaseConnection, by: Origin<i64>, claims: &SsoClaims) -> Result<()> {
    check_claims(claims)?;
    let txn = begin_write(db).await?;
    if let Some(account) = linked_account(&txn, claims).await? {
        return if account.id == by.who {
            Ok(())
        } else {
            Err(Error::conflict(
                "sso",
                "That single sign-on account is linked to another patdesk account.",
            ))
        };
    }
    let existing = identity::Entity::find()
        .filter(identity::Column::UserId.eq(by.who))
        .filter(identity::Column::Issuer.eq(&claims.issuer))
        .one(&txn)
        .await?;
    if existing.is_some() {
        return Err(Error::conflict(
            "sso",
            "Your account is linked to another account at this provider already.",
        ));
    }
    insert_link(&txn, by.who, claims).await?;
    let event = Event::own_by(by, Kind::SsoLinked).target(format!("at {}", claims.issuer));
    activity::record(&txn, event).await?;
    // A new way into the account: its owner hears of it (and is mailed), whoever linked it.
    let notice = Notice::about_account(NoticeKind::SsoLinked, by.who).detail(&claims.issuer);
    notifications::notify(&txn, notice, Utc::now()).await?;
    txn.commit().await?;
    Ok(())
}

/// One of the account's links to the identity provider, as the Account page lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkedIdentity {
    pub id: i64,
    pub issuer: String,
    pub linked_at: DateTime<Utc>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
}

/// The account's links to identity providers, oldest first.
pub async fn identities(db: &impl ConnectionTrait, user_id: i64) -> Result<Vec<LinkedIdentity>> {
    Ok(identity::Entity::find()
        .filter(identity::Column::UserId.eq(user_id))
        .order_by_asc(identity::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|link| LinkedIdentity {
            id: link.id,
            issuer: link.issuer,
            linked_at: link.created_at,
            last_sign_in_at: link.last_sign_in_at,
        })
        .collect())
}

/// What unlinking the last way in of an account without a password is told.
pub const LAST_WAY_IN: &str =
    "This account has no password: single sign-on is its only way in, so the link stays.";

/// Removes one of the signed-in person's links (the caller has checked sudo mode). Another
/// account's link is "not found"; the only link of an account without a password stays.
pub async fn unlink(db: &DatabaseConnection, by: Origin<i64>, identity_id: i64) -> Result<()> {
    let txn = begin_write(db).await?;
    let link = identity::Entity::find_by_id(identity_id)
        .filter(identity::Column::UserId.eq(by.who))
        .one(&txn)
        .await?
        .ok_or(Error::NotFound("single sign-on link"))?;
    let links = identity::Entity::find()
        .filter(identity::Column::UserId.eq(by.who))
        .count(&txn)
        .await?;
    if links == 1 && password_less(&txn, by.who).await? {
        return Err(Error::Rule(LAST_WAY_IN.into()));
    }
    identity::Entity::delete_by_id(link.id).exec(&txn).await?;
    let event = Event::own_by(by, Kind::SsoUnlinked).target(format!("at {}", link.issuer));
    activity::record(&txn, event).await?;
    txn.commit().await?;
    Ok(())
}

/// What a password sign-in is told when single sign-on is required.
pub const REQUIRED: &str =
    "This patdesk signs people in with single sign-on only: use the single sign-on button.";

/// Whether password sign-in is refused to everyone but instance admins.
pub async fn required(db: &impl ConnectionTrait) -> Result<bool> {
    Ok(policy::Entity::find_by_id(1)
        .one(db)
        .await?
        .is_some_and(|row| row.require_sso))
}

/// Requires single sign-on, or stops requiring it (instance admins and the operator). Instance
/// admins keep password sign-in either way: the way in when the provider is down.
pub async fn set_required(db: &DatabaseConnection, by: Origin, required: bool) -> Result<()> {
    let txn = begin_write(db).await?;
    users::require_instance_admin(&txn, by.who, "change how people sign in").await?;
    crate::tokens::policy::change_row(&txn, |row| row.require_sso = Set(required)).await?;
    if let Some(admin) = by.who.user_id() {
        let what = if required {
            "single sign-on required (instance admins may still use their password)"
        } else {
            "password sign-in allowed again"
        };
        let event = Event::by(by, Some(admin), Kind::SsoRequirementChanged).target(what);
        activity::record(&txn, event).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Whether the account has no password (made by single sign-on or by the directory): only its
/// identity provider can say who it is.
pub async fn password_less(db: &impl ConnectionTrait, user_id: i64) -> Result<bool> {
    Ok(user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .is_some_and(|u| u.password_hash == password::NO_PASSWORD))
}

async fn linked_account(
    db: &impl ConnectionTrait,
    claims: &SsoClaims,
) -> Result<Option<user::Model>> {
    let Some(link) = identity::Entity::find()
        .filter(identity::Column::Issuer.eq(&claims.issuer))
        .filter(identity::Column::Subject.eq(&claims.subject))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(user::Entity::find_by_id(link.user_id).one(db).await?)
}

/// The account a SCIM directory provisioned for this subject (its `externalId` is the `sub`),
/// linked here at the person's first sign-in — unless it is linked to another subject at this
/// provider already.
async fn provisioned_account(
    txn: &sea_orm::DatabaseTransaction,
    claims: &SsoClaims,
) -> Result<Option<user::Model>> {
    let Some(account) = super::scim::provisioned_for_subject(txn, &claims.subject).await? else {
        return Ok(None);
    };
    let linked_here = identity::Entity::find()
        .filter(identity::Column::UserId.eq(account.id))
        .filter(identity::Column::Issuer.eq(&claims.issuer))
        .one(txn)
        .await?
        .is_some();
    if linked_here {
        return Ok(None);
    }
    insert_link(txn, account.id, claims).await?;
    Ok(Some(account))
}

async fn make_account(
    txn: &sea_orm::DatabaseTransaction,
    claims: &SsoClaims,
    ip: Option<IpAddr>,
) -> Result<user::Model> {
    let username = free_username(txn, claims).await?;
    let email = match (&claims.email, claims.email_verified) {
        (Some(raw), true) => match Email::parse(raw) {
            Ok(email) if !users::email_in_use(txn, &email).await? => Some(email),
            _ => None,
        },
        _ => None,
    };
    let registration = Registration::SingleSignOn { ip };
    let account = users::insert_account(
        txn,
        &username,
        password::NO_PASSWORD.to_string(),
        email.as_ref(),
        registration,
    )
    .await?;
    insert_link(txn, account.id, claims).await?;
    Ok(account)
}

async fn insert_link(txn: &impl ConnectionTrait, user_id: i64, claims: &SsoClaims) -> Result<()> {
    identity::ActiveModel {
        user_id: Set(user_id),
        issuer: Set(claims.issuer.clone()),
        subject: Set(claims.subject.clone()),
        created_at: Set(Utc::now()),
        last_sign_in_at: Set(None),
        ..Default::default()
    }
    .insert(txn)
    .await
    .map_err(|e| match e.sql_err() {
        // Two first sign-ins of one subject at once: the second one's link loses.
        Some(SqlErr::UniqueConstraintViolation(_)) => Error::conflict(
            "sso",
            "That single sign-on account is linked to another patdesk account.",
        ),
        _ => Error::Database(e),
    })?;
    Ok(())
}

/// Refuses claims that would carry a control character into a query as they are: the issuer
/// and `sub` (NUL is a database error on PostgreSQL). The rest is checked where it is used:
/// the email by `Email::parse`, the groups by `group_sync`; the username is made anew from
/// letters and digits.
fn check_claims(claims: &SsoClaims) -> Result<()> {
    crate::text::check("iss", &claims.issuer, crate::text::Lines::One)?;
    crate::text::check("sub", &claims.subject, crate::text::Lines::One)
}

/// A valid username nobody has, from `preferred_username`, else the email's local part
/// (`users::free_username`).
async fn free_username(db: &impl ConnectionTrait, claims: &SsoClaims) -> Result<Username> {
    let wanted = claims
        .preferred_username
        .as_deref()
        .or_else(|| claims.email.as_deref().and_then(|e| e.split('@').next()))
        .unwrap_or_default();
    users::free_username(db, wanted).await
}
