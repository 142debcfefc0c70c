//! What the domain's tests set up again and again: a migrated SQLite database in a temporary
//! directory, accounts with a standard password, teams.
#![allow(dead_code)] // each test file uses its own part

use domain::{
    Actor,
    db::{self, DatabaseUrl},
    identity::{
        names::{Password, Role, TeamName, TeamSlug, Username},
        users::{self, Registration},
    },
    teams,
};
use sea_orm::DatabaseConnection;

/// A fresh, migrated SQLite database; it lives as long as the directory.
pub async fn fresh_db() -> (tempfile::TempDir, DatabaseConnection) {
    let dir = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::Sqlite {
        path: dir.path().join("t.db"),
    };
    db::migrate(&url).await.unwrap();
    let db = db::connect(&url).await.unwrap();
    (dir, db)
}

pub fn name(text: &str) -> Username {
    Username::parse(text).unwrap()
}

pub fn slug(text: &str) -> TeamSlug {
    TeamSlug::parse(text).unwrap()
}

/// The password every test account has.
pub fn pw() -> Password {
    Password::parse("a long enough password").unwrap()
}

/// Signs `username` up (the first account of a database is its instance admin).
pub async fn user(db: &DatabaseConnection, username: &str) -> users::User {
    users::create(
        db,
        &name(username),
        &pw(),
        Registration::SignUp { ip: None },
    )
    .await
    .unwrap()
}

/// [`user`]'s id.
pub async fn sign_up(db: &DatabaseConnection, username: &str) -> i64 {
    user(db, username).await.id
}

/// Team `team` (named as its slug), with `owner` as its admin.
pub async fn team(db: &DatabaseConnection, owner: i64, team: &str) {
    let name = TeamName::parse(team).unwrap();
    teams::create(
        db,
        domain::Origin::new(Actor::User(owner), None),
        owner,
        &slug(team),
        &name,
    )
    .await
    .unwrap();
}

/// Adds `username` to `team` with `role`, as the operator.
pub async fn add_member(db: &DatabaseConnection, team: &str, username: &str, role: Role) {
    teams::add_member(
        db,
        domain::Origin::OPERATOR,
        &slug(team),
        &name(username),
        role,
    )
    .await
    .unwrap();
}
