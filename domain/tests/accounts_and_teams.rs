//! Users, sessions and team membership rules, on a real SQLite database.

use domain::{
    Error,
    db::{self, DatabaseUrl},
    names::{Password, Role, TeamName, TeamSlug, Username},
    sessions,
    teams::{self, Actor},
    users,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

async fn fresh_db() -> (tempfile::TempDir, DatabaseConnection) {
    let dir = tempfile::tempdir().unwrap();
    let url = DatabaseUrl::Sqlite {
        path: dir.path().join("t.db"),
    };
    let db = db::connect(&url).await.unwrap();
    db::migrate(&db, &url).await.unwrap();
    (dir, db)
}

fn name(s: &str) -> Username {
    Username::parse(s).unwrap()
}

fn pw() -> Password {
    Password::parse("a long enough password").unwrap()
}

#[tokio::test]
async fn first_user_is_admin_and_usernames_are_case_insensitive() {
    let (_dir, db) = fresh_db().await;
    let alice = users::create(&db, &name("Alice"), &pw(), false)
        .await
        .unwrap();
    assert!(alice.is_admin);
    assert_eq!(alice.username, "alice");
    let bob = users::create(&db, &name("bob"), &pw(), false)
        .await
        .unwrap();
    assert!(!bob.is_admin);
    let err = users::create(&db, &name("ALICE"), &pw(), false)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Conflict {
                field: "username",
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn sign_in_fails_the_same_way_for_unknown_users_and_wrong_passwords() {
    let (_dir, db) = fresh_db().await;
    users::create(&db, &name("alice"), &pw(), false)
        .await
        .unwrap();
    assert!(
        users::authenticate(&db, "ALICE", "a long enough password")
            .await
            .is_ok()
    );
    let wrong = users::authenticate(&db, "alice", "wrong password!")
        .await
        .unwrap_err();
    let unknown = users::authenticate(&db, "nobody", "a long enough password")
        .await
        .unwrap_err();
    assert_eq!(wrong.to_string(), unknown.to_string());
    assert!(matches!(wrong, Error::InvalidCredentials));
}

#[tokio::test]
async fn sessions_resolve_until_ended_and_store_only_digests() {
    let (_dir, db) = fresh_db().await;
    let alice = users::create(&db, &name("alice"), &pw(), false)
        .await
        .unwrap();
    let id = sessions::start(&db, alice.id).await.unwrap();
    let found = sessions::resolve(&db, id.expose()).await.unwrap().unwrap();
    assert_eq!(found.id, alice.id);
    let stored = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT id_digest FROM sessions",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<String>("", "id_digest")
        .unwrap();
    assert_ne!(stored, id.expose());
    assert!(sessions::resolve(&db, "nonsense").await.unwrap().is_none());
    sessions::end(&db, id.expose()).await.unwrap();
    assert!(sessions::resolve(&db, id.expose()).await.unwrap().is_none());
}

#[tokio::test]
async fn team_admins_manage_members_and_a_team_keeps_an_admin() {
    let (_dir, db) = fresh_db().await;
    let alice = users::create(&db, &name("alice"), &pw(), false)
        .await
        .unwrap();
    let bob = users::create(&db, &name("bob"), &pw(), false)
        .await
        .unwrap();
    let ops = TeamSlug::parse("ops").unwrap();
    teams::create(&db, alice.id, &ops, &TeamName::parse("Ops").unwrap())
        .await
        .unwrap();
    let dup = teams::create(&db, bob.id, &ops, &TeamName::parse("Other").unwrap())
        .await
        .unwrap_err();
    assert!(matches!(dup, Error::Conflict { field: "slug", .. }));

    // Bob is not a member: the team does not exist for him.
    let err = teams::detail(&db, Actor::User(bob.id), &ops)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound("team")));

    teams::add_member(&db, Actor::User(alice.id), &ops, &name("bob"), Role::Reader)
        .await
        .unwrap();
    let detail = teams::detail(&db, Actor::User(bob.id), &ops).await.unwrap();
    assert_eq!(detail.my_role, Some(Role::Reader));
    assert_eq!(detail.members.len(), 2);
    // The teams list: each of the user's teams with the user's role and its member count.
    let web = TeamSlug::parse("web").unwrap();
    teams::create(&db, bob.id, &web, &TeamName::parse("Web").unwrap())
        .await
        .unwrap();
    let listed: Vec<(String, Role, u64)> = teams::list_for_user(&db, bob.id)
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.slug, t.role, t.member_count))
        .collect();
    assert_eq!(
        listed,
        [
            ("ops".to_string(), Role::Reader, 2),
            ("web".to_string(), Role::Admin, 1)
        ]
    );

    // A reader cannot manage members.
    let err = teams::set_role(&db, Actor::User(bob.id), &ops, &name("bob"), Role::Admin)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Forbidden(_)));
    let err = teams::remove_member(&db, Actor::User(bob.id), &ops, &name("alice"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Forbidden(_)));

    // The last admin can be neither demoted nor removed.
    let err = teams::set_role(
        &db,
        Actor::User(alice.id),
        &ops,
        &name("alice"),
        Role::Writer,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Rule(_)));
    let err = teams::remove_member(&db, Actor::User(alice.id), &ops, &name("alice"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Rule(_)));

    teams::set_role(&db, Actor::User(alice.id), &ops, &name("bob"), Role::Writer)
        .await
        .unwrap();
    assert_eq!(
        teams::role(&db, 1, bob.id).await.unwrap(),
        Some(Role::Writer)
    );
    teams::remove_member(&db, Actor::User(alice.id), &ops, &name("bob"))
        .await
        .unwrap();
    assert_eq!(teams::role(&db, 1, bob.id).await.unwrap(), None);

    // Unknown users are named in the error.
    let err = teams::add_member(&db, Actor::Operator, &ops, &name("carol"), Role::Reader)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no user named carol"), "{err}");
}
