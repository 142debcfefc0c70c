//! Users, sessions and team membership rules, on a real SQLite database.

mod support;

use domain::{
    Error, activity,
    identity::names::{Role, TeamName, TeamSlug},
    identity::sessions,
    identity::users::{self, Registration},
    teams::{self, Actor},
};
use sea_orm::{ConnectionTrait, Statement};
use support::{fresh_db, name, pw, user};

#[tokio::test]
async fn first_user_is_admin_and_usernames_are_case_insensitive() {
    let (_dir, db) = fresh_db().await;
    let alice = user(&db, "Alice").await;
    assert!(alice.is_admin);
    assert_eq!(alice.username, "alice");
    let bob = user(&db, "bob").await;
    assert!(!bob.is_admin);
    let err = users::create(
        &db,
        &name("ALICE"),
        &pw(),
        Registration::SignUp { ip: None },
    )
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
    user(&db, "alice").await;
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
    let alice = user(&db, "alice").await;
    let id = sessions::start(&db, alice.id).await.unwrap();
    let found = sessions::resolve(&db, id.expose()).await.unwrap().unwrap();
    assert_eq!(found.user.id, alice.id);
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
    sessions::sign_out(&db, id.expose(), None).await.unwrap();
    assert!(sessions::resolve(&db, id.expose()).await.unwrap().is_none());
}

#[tokio::test]
async fn team_admins_manage_members_and_a_team_keeps_an_admin() {
    let (_dir, db) = fresh_db().await;
    let alice = user(&db, "alice").await;
    let bob = user(&db, "bob").await;
    let ops = TeamSlug::parse("ops").unwrap();
    teams::create(
        &db,
        domain::Origin::new(Actor::User(alice.id), None),
        alice.id,
        &ops,
        &TeamName::parse("Ops").unwrap(),
    )
    .await
    .unwrap();
    let dup = teams::create(
        &db,
        domain::Origin::new(Actor::User(bob.id), None),
        bob.id,
        &ops,
        &TeamName::parse("Other").unwrap(),
    )
    .await
    .unwrap_err();
    assert!(matches!(dup, Error::Conflict { field: "slug", .. }));

    // Bob is not a member: the team does not exist for him.
    let err = teams::detail(&db, Actor::User(bob.id), &ops)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound("team")));

    teams::add_member(
        &db,
        domain::Origin::new(Actor::User(alice.id), None),
        &ops,
        &name("bob"),
        Role::Reader,
    )
    .await
    .unwrap();
    let detail = teams::detail(&db, Actor::User(bob.id), &ops).await.unwrap();
    assert_eq!(detail.my_role, Some(Role::Reader));
    assert_eq!(detail.members.len(), 2);
    // The teams list: each of the user's teams with the user's role and its member count.
    let web = TeamSlug::parse("web").unwrap();
    teams::create(
        &db,
        domain::Origin::new(Actor::User(bob.id), None),
        bob.id,
        &web,
        &TeamName::parse("Web").unwrap(),
    )
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
    let err = teams::set_role(
        &db,
        domain::Origin::new(Actor::User(bob.id), None),
        &ops,
        &name("bob"),
        Role::Admin,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Forbidden(_)));
    let err = teams::remove_member(
        &db,
        domain::Origin::new(Actor::User(bob.id), None),
        &ops,
        &name("alice"),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Forbidden(_)));

    // The last admin can be neither demoted nor removed.
    let err = teams::set_role(
        &db,
        domain::Origin::new(Actor::User(alice.id), None),
        &ops,
        &name("alice"),
        Role::Writer,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Rule(_)));
    let err = teams::remove_member(
        &db,
        domain::Origin::new(Actor::User(alice.id), None),
        &ops,
        &name("alice"),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Rule(_)));

    teams::set_role(
        &db,
        domain::Origin::new(Actor::User(alice.id), None),
        &ops,
        &name("bob"),
        Role::Writer,
    )
    .await
    .unwrap();
    assert_eq!(
        teams::role(&db, 1, bob.id).await.unwrap(),
        Some(Role::Writer)
    );
    teams::remove_member(
        &db,
        domain::Origin::new(Actor::User(alice.id), None),
        &ops,
        &name("bob"),
    )
    .await
    .unwrap();
    assert_eq!(teams::role(&db, 1, bob.id).await.unwrap(), None);

    // Unknown users are named in the error.
    let err = teams::add_member(
        &db,
        domain::Origin::OPERATOR,
        &ops,
        &name("carol"),
        Role::Reader,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("no user named carol"), "{err}");
}

/// The operator's commands leave entries too, in the affected user's log, with "operator" as
/// the actor (before, `patdesk user add`, `team add` and `team member add|remove` left none).
#[tokio::test]
async fn operator_changes_are_in_the_affected_users_activity() {
    let (_dir, db) = fresh_db().await;
    let alice = users::create(
        &db,
        &name("alice"),
        &pw(),
        Registration::ByOperator { admin: false },
    )
    .await
    .unwrap();
    let bob = user(&db, "bob").await;
    let ops = TeamSlug::parse("ops").unwrap();
    let team_name = TeamName::parse("Ops").unwrap();
    teams::create(&db, domain::Origin::OPERATOR, alice.id, &ops, &team_name)
        .await
        .unwrap();
    teams::add_member(
        &db,
        domain::Origin::OPERATOR,
        &ops,
        &name("bob"),
        Role::Writer,
    )
    .await
    .unwrap();
    teams::remove_member(&db, domain::Origin::OPERATOR, &ops, &name("bob"))
        .await
        .unwrap();

    let log = |user_id| {
        let db = db.clone();
        async move {
            let (entries, _) = activity::list_for_user(&db, user_id, 1, 50).await.unwrap();
            entries
                .into_iter()
                .map(|e| (e.kind, e.actor, e.target.unwrap_or_default()))
                .rev()
                .collect::<Vec<_>>()
        }
    };
    let entry = |kind: &str, actor: &str, target: &str| {
        (kind.to_string(), actor.to_string(), target.to_string())
    };
    assert_eq!(
        log(alice.id).await,
        [
            entry("user_created", "operator", "user alice"),
            entry("team_created", "operator", "team ops"),
        ]
    );
    assert_eq!(
        log(bob.id).await,
        [
            entry("sign_up", "bob", ""),
            entry("member_added", "operator", "bob in team ops as writer"),
            entry("member_removed", "operator", "bob in team ops"),
        ]
    );
}

/// A member change by a team admin is in the admin's log, made in the change's transaction: a
/// refused change leaves no entry.
#[tokio::test]
async fn member_changes_by_an_admin_are_in_the_admins_activity_only_when_made() {
    let (_dir, db) = fresh_db().await;
    let alice = user(&db, "alice").await;
    user(&db, "bob").await;
    let ops = TeamSlug::parse("ops").unwrap();
    let admin = Actor::User(alice.id);
    teams::create(
        &db,
        domain::Origin::new(admin, None),
        alice.id,
        &ops,
        &TeamName::parse("Ops").unwrap(),
    )
    .await
    .unwrap();
    let ip = Some(std::net::IpAddr::from([192, 0, 2, 7]));
    teams::add_member(
        &db,
        domain::Origin::new(admin, ip),
        &ops,
        &name("bob"),
        Role::Reader,
    )
    .await
    .unwrap();
    // Refused: bob is already a member, and alice is the last admin.
    teams::add_member(
        &db,
        domain::Origin::new(admin, ip),
        &ops,
        &name("bob"),
        Role::Writer,
    )
    .await
    .unwrap_err();
    teams::set_role(
        &db,
        domain::Origin::new(admin, ip),
        &ops,
        &name("alice"),
        Role::Reader,
    )
    .await
    .unwrap_err();
    let (entries, _) = activity::list_for_user(&db, alice.id, 1, 50).await.unwrap();
    let kinds: Vec<(&str, &str, Option<&str>)> = entries
        .iter()
        .rev()
        .map(|e| (e.kind.as_str(), e.actor.as_str(), e.ip.as_deref()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("sign_up", "alice", None),
            ("team_created", "alice", None),
            ("member_added", "alice", Some("192.0.2.7")),
        ]
    );
}

#[tokio::test]
async fn expired_sessions_are_purged_and_live_ones_kept() {
    let (_dir, db) = fresh_db().await;
    let alice = user(&db, "alice").await;
    let expired = sessions::start(&db, alice.id).await.unwrap();
    let live = sessions::start(&db, alice.id).await.unwrap();
    db.execute_raw(Statement::from_string(
        db.get_database_backend(),
        format!(
            "UPDATE sessions SET expires_at = '2000-01-01T00:00:00Z' WHERE id_digest = '{}'",
            domain::secret::digest_hex(expired.expose())
        ),
    ))
    .await
    .unwrap();
    assert_eq!(sessions::purge_expired(&db).await.unwrap(), 1);
    let left = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT id_digest FROM sessions",
        ))
        .await
        .unwrap();
    assert_eq!(left.len(), 1);
    assert!(
        sessions::resolve(&db, live.expose())
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn signing_in_replaces_the_old_session_and_is_recorded() {
    let (_dir, db) = fresh_db().await;
    let alice = user(&db, "alice").await;
    let first = sessions::start(&db, alice.id).await.unwrap();
    let ip = Some(std::net::IpAddr::from([192, 0, 2, 1]));
    let domain::identity::sign_in::SignInStep::SignedIn(user, second) =
        domain::identity::sign_in::with_password(
            &db,
            "Alice",
            "a long enough password",
            Some(first.expose()),
            ip,
        )
        .await
        .unwrap()
    else {
        panic!("no second factor is set up: the password signs in");
    };
    assert_eq!(user.id, alice.id);
    assert!(
        sessions::resolve(&db, first.expose())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        sessions::resolve(&db, second.expose())
            .await
            .unwrap()
            .is_some()
    );
    let err = domain::identity::sign_in::with_password(&db, "alice", "wrong password!", None, ip)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidCredentials));
    sessions::sign_out(&db, second.expose(), ip).await.unwrap();
    let (entries, _) = activity::list_for_user(&db, alice.id, 1, 50).await.unwrap();
    let kinds: Vec<&str> = entries.iter().rev().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["sign_up", "sign_in", "sign_in_failed", "sign_out"]);
}
