//! Every domain change that takes rights away counts at once in the process that makes it,
//! however long a token check may be reused: the change itself ends the cached checks
//! (`domain::tokens::rights`), no caller has to remember to. The cache here
//! keeps a check for an hour, so a change that forgot would leave the old answer in place.

use std::{net::IpAddr, time::Duration};

mod support;

use domain::{
    Actor,
    identity::{
        names::{Role, TeamSlug},
        users,
    },
    teams,
    tokens::{
        self, Expiry, Issued, MinOverlap, NewToken, TokenKind,
        access::{AccessError, AccessRequest, CallerCache, Denied, Presented, TeamScope, check},
        allow_list::AllowList,
        governance::{self, Scope},
        leaks::{self, Report},
        policy::{self, Policy},
    },
};
use sea_orm::DatabaseConnection;
use support::{add_member, fresh_db, name, sign_up, slug, team};

struct World {
    _dir: tempfile::TempDir,
    db: DatabaseConnection,
    cache: CallerCache,
    /// Instance admin and admin of team `ops`.
    admin: i64,
    /// A writer in `ops`.
    writer: i64,
}

fn ops() -> TeamSlug {
    slug("ops")
}

async fn world() -> World {
    let (dir, db) = fresh_db().await;
    let admin = sign_up(&db, "alice").await;
    let writer = sign_up(&db, "bob").await;
    team(&db, admin, "ops").await;
    add_member(&db, "ops", "bob", Role::Writer).await;
    World {
        _dir: dir,
        db,
        cache: CallerCache::with_ttl(Duration::from_secs(3600)),
        admin,
        writer,
    }
}

impl World {
    async fn token(&self, owner: i64, description: &str) -> Issued {
        let request = NewToken {
            description,
            team: "ops",
            write: true,
            expiry: Expiry::Days(30),
            kind: TokenKind::Personal,
            allowed: AllowList::any(),
            rate_limit: None,
            permissions: None,
        };
        tokens::create(&self.db, domain::Origin::new(owner, None), request)
            .await
            .unwrap()
    }

    /// A write to `ops` from 192.0.2.1 with `value`: the check's answer.
    async fn write_with(&self, value: &str) -> Result<domain::tokens::access::TokenCaller, Denied> {
        let request = AccessRequest {
            presented: Presented::Value(value),
            client_ip: Some(IpAddr::from([192, 0, 2, 1])),
            team: TeamScope::Slug("ops"),
            needs: &[],
            write: true,
        };
        match check(&self.db, &self.cache, request).await {
            Ok(caller) => Ok(caller),
            Err(AccessError::Denied { reason, .. }) => Err(reason),
            Err(AccessError::Internal(error)) => panic!("{error}"),
        }
    }

    /// Checks `issued` (so that the cache holds a passing check), then asserts that after
    /// `change` the same check is refused as `expected` says.
    async fn refused_after<F: Future<Output = ()>>(
        &self,
        value: &str,
        change: F,
        expected: impl Fn(&Denied) -> bool,
        what: &str,
    ) {
        let before = self.write_with(value).await;
        assert!(before.is_ok(), "{what}: before the change: {before:?}");
        change.await;
        let after = self.write_with(value).await;
        assert!(
            after.as_ref().is_err_and(&expected),
            "{what}: after the change the cached check was reused: {after:?}"
        );
    }
}

#[tokio::test]
async fn every_change_that_takes_rights_away_counts_at_once() {
    let w = world().await;
    let (db, admin, writer) = (&w.db, w.admin, w.writer);

    let t = w.token(writer, "deleted").await;
    let change = async {
        tokens::delete(db, domain::Origin::new(writer, None), &t.info.id)
            .await
            .unwrap();
    };
    w.refused_after(
        t.secret.expose(),
        change,
        |d| *d == Denied::TokenRevoked,
        "delete",
    )
    .await;

    let t = w.token(writer, "regenerated").await;
    let change = async {
        tokens::regenerate(db, domain::Origin::new(writer, None), &t.info.id)
            .await
            .unwrap();
    };
    w.refused_after(
        t.secret.expose(),
        change,
        |d| matches!(d, Denied::TokenRegenerated(_)),
        "regenerate",
    )
    .await;

    let t = w.token(writer, "rotated, then its overlap ended").await;
    let rotated = tokens::rotate(
        db,
        domain::Origin::new(writer, None),
        &t.info.id,
        3600,
        MinOverlap::DEFAULT,
    )
    .await
    .unwrap();
    assert!(rotated.issued.secret.expose() != t.secret.expose());
    let change = async {
        tokens::end_overlap(db, domain::Origin::new(writer, None), &t.info.id)
            .await
            .unwrap();
    };
    let rotated_out = |d: &Denied| matches!(d, Denied::TokenRotated(_));
    w.refused_after(t.secret.expose(), change, rotated_out, "end_overlap")
        .await;

    let t = w.token(writer, "allow-listed").await;
    let change = async {
        let allowed = AllowList::parse(["10.0.0.0/8"]).unwrap();
        tokens::set_allowed_ips(
            db,
            domain::Origin::new(Actor::User(writer), None),
            &t.info.id,
            allowed,
        )
        .await
        .unwrap();
    };
    let not_here = |d: &Denied| matches!(d, Denied::IpNotAllowed(_));
    w.refused_after(t.secret.expose(), change, not_here, "set_allowed_ips")
        .await;

    let t = w.token(writer, "revoked by an admin").await;
    let change = async {
        let team = ops();
        governance::revoke(
            db,
            domain::Origin::new(Actor::User(admin), None),
            Scope::Team(&team),
            &t.info.id,
            None,
        )
        .await
        .unwrap();
    };
    w.refused_after(
        t.secret.expose(),
        change,
        |d| *d == Denied::RevokedByAdmin,
        "revoke",
    )
    .await;

    let t = w.token(writer, "leaked").await;
    let change = async {
        let report = Report::parse(&[t.secret.expose().to_string()], None).unwrap();
        let revoked = leaks::revoke_reported(db, &report, None).await.unwrap();
        assert_eq!(revoked, std::slice::from_ref(&t.info.id));
    };
    w.refused_after(
        t.secret.expose(),
        change,
        |d| *d == Denied::ReportedLeaked,
        "leak report",
    )
    .await;

    let first = tokens::open_explorer(db, domain::Origin::new(writer, None), "ops")
        .await
        .unwrap();
    let change = async {
        tokens::open_explorer(db, domain::Origin::new(writer, None), "ops")
            .await
            .unwrap();
    };
    let gone = |d: &Denied| *d == Denied::TokenRevoked;
    w.refused_after(first.secret.expose(), change, gone, "a new explorer token")
        .await;

    let t = w.token(writer, "demoted").await;
    let change = async {
        teams::set_role(
            db,
            domain::Origin::new(Actor::User(admin), None),
            &ops(),
            &name("bob"),
            Role::Reader,
        )
        .await
        .unwrap();
    };
    let reader = |d: &Denied| {
        matches!(
            d,
            Denied::InsufficientRole {
                role: Role::Reader,
                ..
            }
        )
    };
    w.refused_after(t.secret.expose(), change, reader, "set_role")
        .await;
    teams::set_role(
        db,
        domain::Origin::new(Actor::User(admin), None),
        &ops(),
        &name("bob"),
        Role::Writer,
    )
    .await
    .unwrap();

    let t = w.token(writer, "removed from the team").await;
    let change = async {
        teams::remove_member(
            db,
            domain::Origin::new(Actor::User(admin), None),
            &ops(),
            &name("bob"),
        )
        .await
        .unwrap();
    };
    let gone = |d: &Denied| matches!(d, Denied::NotAMember(_));
    w.refused_after(t.secret.expose(), change, gone, "remove_member")
        .await;

    let t = w.token(admin, "suspended").await;
    let change = async {
        users::set_suspended(db, domain::Origin::OPERATOR, &name("alice"), true)
            .await
            .unwrap();
    };
    w.refused_after(
        t.secret.expose(),
        change,
        |d| *d == Denied::InvalidToken,
        "suspend",
    )
    .await;
}

/// Tightening the policy shortens live tokens: a reused check would go on saying the old
/// expiry (the API's `Patdesk-Token-Expiration`).
#[tokio::test]
async fn a_tightened_policy_shows_in_the_next_check_at_once() {
    let w = world().await;
    let t = w.token(w.writer, "long-lived").await;
    let before = w.write_with(t.secret.expose()).await.unwrap();
    let policy = Policy::new(Some(1), false, 8).unwrap();
    let applied = policy::set(
        &w.db,
        domain::Origin::new(Actor::User(w.admin), None),
        policy,
    )
    .await
    .unwrap();
    assert_eq!(applied.shortened, 1);
    let after = w.write_with(t.secret.expose()).await.unwrap();
    assert!(
        after.expires_at() < before.expires_at(),
        "{:?} then {:?}",
        before.expires_at(),
        after.expires_at()
    );
}

/// A role or a token kind that the domain never writes is a fault, logged and refused, never
/// quietly read as a reader or a personal token.
#[tokio::test]
async fn an_unknown_stored_role_or_kind_is_an_error_not_a_guess() {
    use sea_orm::{ConnectionTrait, Statement};
    let w = world().await;
    let t = w.token(w.writer, "stored kinds").await;
    let corrupt = |sql: &str| Statement::from_string(w.db.get_database_backend(), sql.to_string());
    w.db.execute_raw(corrupt("UPDATE memberships SET role = 'superuser'"))
        .await
        .unwrap();
    let ops_id = 1; // the only team
    let team = teams::role(&w.db, ops_id, w.writer).await;
    assert!(matches!(team, Err(domain::Error::Internal(_))), "{team:?}");
    let request = AccessRequest {
        presented: Presented::Value(t.secret.expose()),
        client_ip: None,
        team: TeamScope::Any,
        needs: &[],
        write: false,
    };
    let checked = check(&w.db, &w.cache, request).await;
    assert!(
        matches!(checked, Err(AccessError::Internal(_))),
        "{checked:?}"
    );

    w.db.execute_raw(corrupt("UPDATE tokens SET kind = 'robot'"))
        .await
        .unwrap();
    let listed = tokens::list(&w.db, w.writer).await;
    assert!(
        matches!(listed, Err(domain::Error::Internal(_))),
        "{listed:?}"
    );
}

/// A token's rate limit is part of the cached check: a limit set by its owner, lowered by an
/// admin, or a team cap reaches the next call at once, however long checks are reused.
#[tokio::test]
async fn rate_limit_changes_reach_cached_checks_at_once() {
    let w = world().await;
    let (db, admin, writer) = (&w.db, w.admin, w.writer);
    let t = w.token(writer, "limited later").await;
    let limit = || async {
        w.write_with(t.secret.expose())
            .await
            .unwrap()
            .token()
            .rate_limit
    };
    assert_eq!(limit().await, None);
    tokens::set_rate_limit(
        db,
        domain::Origin::new(Actor::User(writer), None),
        &t.info.id,
        Some(500),
    )
    .await
    .unwrap();
    assert_eq!(limit().await, Some(500), "the owner's limit");
    tokens::set_rate_limit(
        db,
        domain::Origin::new(Actor::User(admin), None),
        &t.info.id,
        Some(200),
    )
    .await
    .unwrap();
    assert_eq!(limit().await, Some(200), "lowered by the team's admin");
    let ops = domain::identity::names::TeamSlug::parse("ops").unwrap();
    domain::teams::set_max_rate_limit(
        db,
        domain::Origin::new(Actor::User(admin), None),
        &ops,
        Some(50),
    )
    .await
    .unwrap();
    assert_eq!(limit().await, Some(50), "the team's cap");
}
