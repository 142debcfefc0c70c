//! User accounts: creation (the first user of an empty instance is its admin) and sign-in.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, Set, SqlErr,
};

use crate::{
    activity::{self, Actor, Event, Kind},
    db::begin_write,
    entity::user,
    error::{Error, Result},
    names::{Password, Username},
    password,
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

/// How an account comes to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Registration {
    /// Someone signed up in the web app, from this address.
    SignUp { ip: Option<String> },
    /// The operator ran `patdesk user add` (with `--admin`: an instance admin).
    ByOperator { admin: bool },
}

/// Creates an account and records it in the new user's activity. The first account of an empty
/// instance becomes the instance admin, as does one the operator makes with `admin`.
pub async fn create(
    db: &DatabaseConnection,
    username: &Username,
    password: &Password,
    registration: Registration,
) -> Result<User> {
    let password_hash = password::hash(password).await?;
    let txn = begin_write(db).await?;
    let first = user::Entity::find().count(&txn).await? == 0;
    let admin = matches!(registration, Registration::ByOperator { admin: true });
    let inserted = user::ActiveModel {
        username: Set(username.as_str().to_string()),
        password_hash: Set(password_hash),
        is_admin: Set(admin || first),
        is_active: Set(true),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => {
            Error::conflict("username", "That username is taken.")
        }
        _ => Error::Database(e),
    })?;
    let event = match registration {
        Registration::SignUp { ip } => Event::own(inserted.id, Kind::SignUp).ip(ip),
        Registration::ByOperator { .. } => {
            Event::new(Some(inserted.id), Actor::Operator, Kind::UserCreated)
                .target(format!("user {username}"))
        }
    };
    activity::record(&txn, event).await?;
    txn.commit().await?;
    Ok(inserted.into())
}

pub async fn find(db: &impl ConnectionTrait, username: &Username) -> Result<Option<user::Model>> {
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

/// Checks a username and password. Unknown users, inactive users and wrong passwords all give
/// [`Error::InvalidCredentials`], after the same amount of hashing work.
pub async fn authenticate(db: &DatabaseConnection, username: &str, password: &str) -> Result<User> {
    let account = match Username::parse(username) {
        Ok(username) => find(db, &username).await?,
        Err(_) => None,
    }
    .filter(|u| u.is_active);
    let stored = account.as_ref().map(|u| u.password_hash.clone());
    if password::verify(password, stored).await {
        account.map(User::from).ok_or(Error::InvalidCredentials)
    } else {
        Err(Error::InvalidCredentials)
    }
}
