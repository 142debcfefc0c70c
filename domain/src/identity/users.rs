//! User accounts: creation (the first user of an empty instance is its admin; never under a
//! reserved name; by sign-up only as `sign_ups` allows), sign-in, and
//! the instance admins' inventory: every account, suspension and reactivation
//! (`docs/governance.md`).

use std::net::IpAddr;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, SqlErr,
};

use crate::{
    Origin,
    activity::{self, Actor, Event, Kind},
    db::begin_write,
    entity::{session, token, user},
    error::{Error, Result},
    identity::names::{Email, Password, Username, reserved_username},
    identity::{password, sign_ups},
};

/// A user as the rest of the app sees them: never with the password hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub is_admin: bool,
}

impl From<user::Model> for User {
    fn from(m: user::Model) -> Self {
        User {
            id: m.id,
            username: m.username,
            is_admin: m.is_admin,
        }
    }
}

/// The PostgreSQL advisory lock key that serialises account creation (any fixed number that no
/// other lock of patdesk's uses; `db::migrate` has its own).
const FIRST_ACCOUNT_LOCK: i64 = 0x7061_7464_5f75_7372; // "patd_usr"

/// How an account comes to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Registration {
    /// Someone signed up in the web app, from this address.
    SignUp { ip: Option<IpAddr> },
    /// The operator ran `patdesk user add` (with `--admin`: an instance admin).
    ByOperator { admin: bool },
    /// A first sign-in through the identity provider, from this address (`identity::sso`).
    SingleSignOn { ip: Option<IpAddr> },
    /// The organisation's directory provisioned it through SCIM (`identity::scim`): never an
    /// instance admin, even on an empty instance.
    Directory { ip: Option<IpAddr> },
}

/// Creates an account and records it in the new user's activity. The first account of an empty
/// instance becomes the instance admin, as does one the operator makes with `admin`.
pub async fn create(
    db: &DatabaseConnection,
    username: &Username,
    password: &Password,
    registration: Registration,
) -> Result<User> {
    create_with_email(db, username, password, None, registration).await
}

/// [`create`], with the address notices are mailed to (docs/notifications.md).
pub async fn create_with_email(
    db: &DatabaseConnection,
    username: &Username,
    password: &Password,
    email: Option<&Email>,
    registration: Registration,
) -> Result<User> {
    let password_hash = password::hash(password).await?;
    create_with_hash(db, username, password_hash, email, registration).await
}

/// [`create_with_email`] with the password already hashed (`password::hash`, the slow part,
/// done before the transaction): the account's row and its activity, in one transaction.
pub async fn create_with_hash(
    db: &DatabaseConnection,
    username: &Username,
    password_hash: String,
    email: Option<&Email>,
    registration: Registration,
) -> Result<User> {
    let txn = begin_write(db).await?;
    let inserted = insert_account(&txn, username, password_hash, email, registration).await?;
    txn.commit().await?;
    Ok(inserted.into())
}

/// The account's row and its activity entry, in the caller's transaction: every way an account
/// is made comes here, so the rules of who may have one are checked here, whatever the caller
/// checked before — no reserved name ([`Username::is_reserved`]), and a sign-up only while the
/// instance takes password sign-ups (`sign_ups::allow_password_sign_up`).
pub(crate) async fn insert_account(
    txn: &sea_orm::DatabaseTransaction,
    username: &Username,
    password_hash: String,
    email: Option<&Email>,
    registration: Registration,
) -> Result<user::Model> {
    if username.is_reserved() {
        return Err(reserved_username());
    }
    if matches!(registration, Registration::SignUp { .. }) {
        // Asked again here, in the transaction that inserts (the server function asked before
        // the slow password hash): no sign-up that started while sign-ups were open is let in
        // after they closed. (A sign-up in flight at the very moment they close may finish.)
        sign_ups::allow_password_sign_up(txn).await?;
    }
    // "Is this the first account?" and the insert must not interleave with another sign-up's:
    // on SQLite `begin_write` already holds the write lock; on PostgreSQL (READ COMMITTED) two
    // sign-ups would both count zero, so they queue on a lock held until the commit.
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        txn.execute_unprepared(&format!(
            "SELECT pg_advisory_xact_lock({FIRST_ACCOUNT_LOCK})"
        ))
        .await?;
    }
    let first = user::Entity::find().count(txn).await? == 0;
    let admin = match registration {
        Registration::ByOperator { admin: true } => true,
        Registration::Directory { .. } => false,
        _ => first,
    };
    let inserted = user::ActiveModel {
        username: Set(username.as_str().to_string()),
        password_hash: Set(password_hash),
        is_admin: Set(admin),
        is_active: Set(true),
        created_at: Set(Utc::now()),
        email: Set(email.map(|e| e.as_str().to_string())),
        email_key: Set(email.map(Email::key)),
        notify_expiry: Set(true),
        notify_new_ip: Set(true),
        notify_new_token: Set(true),
        ..Default::default()
    }
    .insert(txn)
    .await
    .map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(message)) if message.contains("email") => {
            email_taken()
        }
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            Error::conflict("username", "That username is taken.")
        }
        _ => Error::Database(e),
    })?;
    let event = match registration {
        Registration::SignUp { ip } => Event::own(inserted.id, Kind::SignUp).ip(ip),
        Registration::SingleSignOn { ip } => Event::own(inserted.id, Kind::SsoSignUp).ip(ip),
        Registration::Directory { ip } => {
            Event::new(Some(inserted.id), Actor::Directory, Kind::ScimProvisioned)
                .ip(ip)
                .target(format!("user {username}"))
        }
        Registration::ByOperator { .. } => {
            Event::new(Some(inserted.id), Actor::Operator, Kind::UserCreated)
                .target(format!("user {username}"))
        }
    };
    activity::record(txn, event).await?;
    Ok(inserted)
}

/// The account with this username, if any (suspended or not).
pub async fn find(db: &impl ConnectionTrait, username: &Username) -> Result<Option<User>> {
    Ok(find_row(db, username).await?.map(User::from))
}

/// [`find`], as the row (for the domain's own rules: the hash, whether it is active).
pub(crate) async fn find_row(
    db: &impl ConnectionTrait,
    username: &Username,
) -> Result<Option<user::Model>> {
    Ok(user::Entity::find()
        .filter(user::Column::Username.eq(username.as_str()))
        .one(db)
        .await?)
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> Result<Option<User>> {
    Ok(user::Entity::find_by_id(id)
        .filter(user::Column::IsActive.eq(true))
        .one(db)
        .await?
        .map(User::from))
}

/// Checks a username and password. Unknown users and wrong passwords give
/// [`Error::InvalidCredentials`], after the same amount of hashing work; a suspended account
/// with the right password is told it is suspended (only someone who knows the password learns
/// that).
pub async fn authenticate(db: &DatabaseConnection, username: &str, password: &str) -> Result<User> {
    let account = match Username::parse(username) {
        Ok(username) => find_row(db, &username).await?,
        Err(_) => None,
    };
    let stored = account.as_ref().map(|u| u.password_hash.clone());
    if !password::verify(password, stored).await? {
        return Err(Error::InvalidCredentials);
    }
    match account {
        Some(account) if account.is_active => Ok(User::from(account)),
        Some(_) => Err(Error::Forbidden(SUSPENDED.into())),
        None => Err(Error::InvalidCredentials),
    }
}

/// What a suspended user is told at sign-in.
pub const SUSPENDED: &str = "This account is suspended. Ask an instance admin of patdesk to reactivate it (or your IT team, if your organisation's directory deactivated it).";

/// Instance admins (the `is_admin` flag: the first user, or `patdesk user add --admin`) and the
/// operator pass; anyone else is refused, saying what only instance admins may do.
pub async fn require_instance_admin(
    db: &impl ConnectionTrait,
    actor: Actor,
    what: &str,
) -> Result<()> {
    let id = match actor {
        Actor::User(id) => id,
        Actor::Operator => return Ok(()),
        // A directory acts on accounts through `identity::scim` only, never as an admin.
        Actor::Directory => {
            return Err(Error::Forbidden(format!(
                "Only instance admins can {what}."
            )));
        }
    };
    let admin = user::Entity::find_by_id(id)
        .one(db)
        .await?
        .is_some_and(|u| u.is_admin && u.is_active);
    if admin {
        Ok(())
    } else {
        Err(Error::Forbidden(format!(
            "Only instance admins can {what}."
        )))
    }
}

/// An account as instance admins see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub is_admin: bool,
    pub suspended: bool,
    pub created_at: DateTime<Utc>,
    /// Tokens not deleted and not expired.
    pub live_tokens: u64,
}

/// Every account, by name, with its number of live tokens (instance admins).
pub async fn list_accounts(db: &DatabaseConnection, actor: Actor) -> Result<Vec<Account>> {
    require_instance_admin(db, actor, "see every account").await?;
    let now = Utc::now();
    let counts: HashMap<i64, i64> = token::Entity::find()
        .select_only()
        .column(token::Column::UserId)
        .column_as(token::Column::Id.count(), "live")
        .filter(token::Column::DeletedAt.is_null())
        .filter(
            Condition::any()
                .add(token::Column::ExpiresAt.is_null())
                .add(token::Column::ExpiresAt.gt(now)),
        )
        .group_by(token::Column::UserId)
        .into_tuple::<(i64, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(user::Entity::find()
        .order_by_asc(user::Column::Username)
        .all(db)
        .await?
        .into_iter()
        .map(|u| Account {
            live_tokens: u64::try_from(counts.get(&u.id).copied().unwrap_or(0)).unwrap_or(0),
            id: u.id,
            username: u.username,
            is_admin: u.is_admin,
            suspended: !u.is_active,
            created_at: u.created_at,
        })
        .collect())
}

/// Suspends an account (its sessions end, its tokens are refused at once, sign-in says it is
/// suspended) or reactivates it (sign-in and its tokens work again). Instance admins and the
/// operator; an admin cannot suspend themselves. Recorded in the account's own log, with the
/// admin as actor, in the same transaction.
pub async fn set_suspended(
    db: &DatabaseConnection,
    by: Origin,
    username: &Username,
    suspended: bool,
) -> Result<()> {
    let actor = by.who;
    let txn = begin_write(db).await?;
    require_instance_admin(&txn, actor, "suspend or reactivate accounts").await?;
    let account = find_row(&txn, username)
        .await?
        .ok_or_else(|| Error::invalid("username", format!("There is no user named {username}.")))?;
    if suspended && actor.user_id() == Some(account.id) {
        return Err(Error::Rule("You cannot suspend your own account.".into()));
    }
    if account.is_active != suspended {
        // Already as asked.
        return Ok(());
    }
    let id = account.id;
    let mut active: user::ActiveModel = account.into();
    active.is_active = Set(!suspended);
    active.update(&txn).await?;
    if suspended {
        session::Entity::delete_many()
            .filter(session::Column::UserId.eq(id))
            .exec(&txn)
            .await?;
    }
    let kind = if suspended {
        Kind::UserSuspended
    } else {
        Kind::UserReactivated
    };
    let event = Event::by(by, Some(id), kind).target(format!("user {username}"));
    activity::record(&txn, event).await?;
    txn.commit().await?;
    crate::tokens::rights::changed();
    Ok(())
}

/// A valid username nobody has, made from `wanted` (a provider's or a directory's name for the
/// person): letters a–z, digits, `_` and `-` kept (other characters become `-`), then `-2`,
/// `-3`, … until one is free. A reserved name counts as taken (`operator` → `operator-2`), so
/// that a provider's `preferred_username` never fails a first sign-in.
pub(crate) async fn free_username(db: &impl ConnectionTrait, wanted: &str) -> Result<Username> {
    let base = username_base(wanted);
    for n in 1..=1000 {
        let name = Username::parse(&crate::text::numbered(&base, n, 32))?;
        if !name.is_reserved() && find_row(db, &name).await?.is_none() {
            return Ok(name);
        }
    }
    Err(Error::conflict(
        "username",
        "No free username could be made.",
    ))
}

/// `wanted` as a valid username's letters: lower-case ASCII letters, digits, `_`, `-`; every
/// other character a `-`; 3 to 32 characters (`user` when too little is left).
pub(crate) fn username_base(wanted: &str) -> String {
    let mapped: String = wanted
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '_' | '-' => c,
            _ => '-',
        })
        .take(32)
        .collect();
    let trimmed = mapped.trim_matches('-').to_string();
    if trimmed.len() < 3 {
        "user".to_string()
    } else {
        trimmed
    }
}

/// The names of these users, by id.
pub(crate) async fn usernames_by_id(
    db: &impl ConnectionTrait,
    ids: impl Iterator<Item = i64>,
) -> Result<HashMap<i64, String>> {
    crate::db::text_by_id::<user::Entity>(db, user::Column::Id, user::Column::Username, ids).await
}

/// Whether an account has this address (compared as `Email::key`).
pub(crate) async fn email_in_use(db: &impl ConnectionTrait, email: &Email) -> Result<bool> {
    Ok(user::Entity::find()
        .filter(user::Column::EmailKey.eq(email.key()))
        .count(db)
        .await?
        > 0)
}

fn email_taken() -> Error {
    Error::conflict("email", "That email address belongs to another account.")
}

/// Which notices a user wants mailed (docs/notifications.md); revocation notices always are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MailPreferences {
    /// Reminders 7 days and 1 day before a token expires, and the notice that it has.
    pub expiry: bool,
    /// A token used from an IP address not among its recent ones.
    pub new_ip: bool,
    /// A new token created on the account.
    pub new_token: bool,
}

impl Default for MailPreferences {
    fn default() -> Self {
        MailPreferences {
            expiry: true,
            new_ip: true,
            new_token: true,
        }
    }
}

impl From<&user::Model> for MailPreferences {
    fn from(u: &user::Model) -> Self {
        MailPreferences {
            expiry: u.notify_expiry,
            new_ip: u.notify_new_ip,
            new_token: u.notify_new_token,
        }
    }
}

/// A user's own account settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub username: String,
    pub email: Option<String>,
    pub mail: MailPreferences,
}

/// The signed-in user's settings (shown to them only).
pub async fn settings(db: &impl ConnectionTrait, user_id: i64) -> Result<Settings> {
    let account = user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or(Error::Unauthenticated)?;
    Ok(Settings {
        mail: MailPreferences::from(&account),
        username: account.username,
        email: account.email,
    })
}

/// Sets the user's email address (`None` removes it) and mail preferences, and records the
/// change in their log. An address another account has, in any case, is refused.
pub async fn update_settings(
    db: &DatabaseConnection,
    user: Origin<i64>,
    email: Option<&Email>,
    mail: MailPreferences,
) -> Result<()> {
    let Origin { who: user_id, ip } = user;
    let txn = begin_write(db).await?;
    let account = user::Entity::find_by_id(user_id)
        .one(&txn)
        .await?
        .ok_or(Error::Unauthenticated)?;
    // A reset link mailed to the old address opens nothing once the address has changed.
    if account.email_key != email.map(Email::key) {
        crate::identity::reset_links::revoke(&txn, user_id).await?;
    }
    let mut active: user::ActiveModel = account.into();
    active.email = Set(email.map(|e| e.as_str().to_string()));
    active.email_key = Set(email.map(Email::key));
    active.notify_expiry = Set(mail.expiry);
    active.notify_new_ip = Set(mail.new_ip);
    active.notify_new_token = Set(mail.new_token);
    active.update(&txn).await.map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => email_taken(),
        _ => Error::Database(e),
    })?;
    activity::record(&txn, Event::own(user_id, Kind::AccountUpdated).ip(ip)).await?;
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_made_valid() {
        assert_eq!(username_base("Alice"), "alice");
        assert_eq!(
            username_base("alice.smith@example.com"),
            "alice-smith-example-com"
        );
        assert_eq!(username_base("Zoë Ünal"), "zo---nal");
        assert_eq!(username_base("  "), "user");
        assert_eq!(username_base("ab"), "user");
        assert_eq!(username_base(&"x".repeat(50)).len(), 32);
        for wanted in ["Alice", "a.b", "日本語", "-----abc-----", "x"] {
            assert!(Username::parse(&username_base(wanted)).is_ok(), "{wanted}");
        }
        // A reserved name is made valid like any other; `free_username` then numbers it.
        assert!(
            Username::parse(&username_base("Operator"))
                .unwrap()
                .is_reserved()
        );
    }
}
