//! The token rules of docs/tokens.md, on a real SQLite database: whatever the caller sends.

use chrono::{Duration, NaiveDate, Utc};
mod support;

use domain::{
    Actor, Error,
    identity::names::{Role, TeamSlug},
    tokens::{self, Expiry, ExpiryChoices, NewToken, TokenKind},
};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use support::{add_member, fresh_db, sign_up, team};

struct World {
    _dir: tempfile::TempDir,
    db: DatabaseConnection,
    alice: i64,
    bob: i64,
}

async fn world() -> World {
    let (dir, db) = fresh_db().await;
    let alice = sign_up(&db, "alice").await;
    let bob = sign_up(&db, "bob").await;
    for slug in ["ops", "web"] {
        team(&db, alice, slug).await;
    }
    add_member(&db, "ops", "bob", Role::Reader).await;
    World {
        _dir: dir,
        db,
        alice,
        bob,
    }
}

fn request<'a>(description: &'a str, team: &'a str, write: bool) -> NewToken<'a> {
    NewToken {
        description,
        team,
        write,
        expiry: Expiry::Days(30),
        kind: TokenKind::Personal,
        allowed: domain::tokens::allow_list::AllowList::any(),
        rate_limit: None,
        permissions: None,
    }
}

fn field(err: &Error) -> &'static str {
    match err {
        Error::Invalid { field, .. } | Error::Conflict { field, .. } => field,
        other => panic!("expected a field error, got {other:?}"),
    }
}

#[tokio::test]
async fn descriptions_are_required_bounded_and_unique_ignoring_case() {
    let w = world().await;
    for bad in ["", "   ", &"d".repeat(101), "tab\there"] {
        let err = tokens::create(
            &w.db,
            domain::Origin::new(w.alice, None),
            request(bad, "ops", false),
        )
        .await
        .unwrap_err();
        assert_eq!(field(&err), "description", "{bad:?}");
    }
    tokens::create(
        &w.db,
        domain::Origin::new(w.alice, None),
        request("Backup job", "ops", false),
    )
    .await
    .unwrap();
    let err = tokens::create(
        &w.db,
        domain::Origin::new(w.alice, None),
        request("backup JOB", "web", false),
    )
    .await
    .unwrap_err();
    assert!(matches!(
        err,
        Error::Conflict {
            field: "description",
            ..
        }
    ));
    // Another user may use the same description.
    tokens::create(
        &w.db,
        domain::Origin::new(w.bob, None),
        request("Backup job", "ops", false),
    )
    .await
    .unwrap();
    // Deleting frees the description.
    let id = tokens::list(&w.db, w.alice).await.unwrap()[0].id.clone();
    tokens::delete(&w.db, domain::Origin::new(w.alice, None), &id)
        .await
        .unwrap();
    tokens::create(
        &w.db,
        domain::Origin::new(w.alice, None),
        request("BACKUP job", "ops", false),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn team_and_write_follow_membership_and_role() {
    let w = world().await;
    // Bob is a reader in ops and not in web.
    let err = tokens::create(
        &w.db,
        domain::Origin::new(w.bob, None),
        request("x", "web", false),
    )
    .await
    .unwrap_err();
    assert_eq!(field(&err), "team");
    let err = tokens::create(
        &w.db,
        domain::Origin::new(w.bob, None),
        request("x", "no-such-team", false),
    )
    .await
    .unwrap_err();
    assert_eq!(field(&err), "team");
    let err = tokens::create(
        &w.db,
        domain::Origin::new(w.bob, None),
        request("x", "ops", true),
    )
    .await
    .unwrap_err();
    assert_eq!(field(&err), "write");
    assert!(err.to_string().contains("reader"), "{err}");
    let read = tokens::create(
        &w.db,
        domain::Origin::new(w.bob, None),
        request("x", "ops", false),
    )
    .await
    .unwrap();
    assert!(!read.info.write);
    let write = tokens::create(
        &w.db,
        domain::Origin::new(w.alice, None),
        request("y", "ops", true),
    )
    .await
    .unwrap();
    assert!(write.info.write);
}

#[test]
fn expiry_choices() {
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    for days in ["7", "30", "60", "90"] {
        assert!(matches!(
            Expiry::parse(days, None, today, &ExpiryChoices::standard()),
            Ok(Expiry::Days(_))
        ));
    }
    assert_eq!(
        Expiry::parse("never", None, today, &ExpiryChoices::standard()).unwrap(),
        Expiry::Never
    );
    for (choice, date) in [
        ("15", None),
        ("custom", None),
        ("custom", Some("2026-11-23")),
        ("custom", Some("2027-11-25")),
        ("custom", Some("23/12/2026")),
    ] {
        assert!(
            Expiry::parse(choice, date, today, &ExpiryChoices::standard()).is_err(),
            "{choice} {date:?}"
        );
    }
    let until = Expiry::parse(
        "custom",
        Some("2027-11-24"),
        today,
        &ExpiryChoices::standard(),
    )
    .unwrap();
    let now = Utc::now();
    assert_eq!(
        until.expires_at(now).unwrap().to_rfc3339(),
        "2027-11-25T00:00:00+00:00"
    );
    let thirty = Expiry::Days(30).expires_at(now).unwrap();
    assert_eq!(thirty - now, Duration::days(30));
}

#[tokio::test]
async fn only_the_digest_is_stored_and_regenerate_replaces_it() {
    let w = world().await;
    let issued = tokens::create(
        &w.db,
        domain::Origin::new(w.alice, None),
        request("ci", "ops", false),
    )
    .await
    .unwrap();
    let secret = issued.secret.expose().to_string();
    let dump = |db: &DatabaseConnection| {
        let db = db.clone();
        async move {
            let rows = db
                .query_all_raw(Statement::from_string(
                    db.get_database_backend(),
                    "SELECT id || ' ' || description || ' ' || secret_digest || ' ' || hint AS line FROM tokens",
                ))
                .await
                .unwrap();
            rows.iter()
                .map(|r| r.try_get::<String>("", "line").unwrap())
                .collect::<Vec<_>>()
                .join("\n")
        }
    };
    let before = dump(&w.db).await;
    assert!(!before.contains(&secret));
    assert!(before.contains(&issued.secret.digest()));

    let again = tokens::regenerate(&w.db, domain::Origin::new(w.alice, None), &issued.info.id)
        .await
        .unwrap();
    assert_eq!(again.info.id, issued.info.id);
    assert_ne!(again.secret.expose(), secret);
    let after = dump(&w.db).await;
    assert!(
        !after.contains(&issued.secret.digest()),
        "the old digest must be gone"
    );
    // Same lifetime, counted from now.
    let lifetime = again.info.expires_at.unwrap() - Utc::now();
    assert!(lifetime > Duration::days(29) && lifetime <= Duration::days(30));
}

#[tokio::test]
async fn nobody_touches_another_users_token() {
    let w = world().await;
    let issued = tokens::create(
        &w.db,
        domain::Origin::new(w.alice, None),
        request("mine", "ops", false),
    )
    .await
    .unwrap();
    let err = tokens::regenerate(&w.db, domain::Origin::new(w.bob, None), &issued.info.id)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound("token")));
    let err = tokens::delete(&w.db, domain::Origin::new(w.bob, None), &issued.info.id)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound("token")));
    assert!(tokens::list(&w.db, w.bob).await.unwrap().is_empty());
    assert_eq!(tokens::list(&w.db, w.alice).await.unwrap().len(), 1);
    let err = tokens::delete(&w.db, domain::Origin::new(w.alice, None), "not-an-id")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound("token")));
}

#[tokio::test]
async fn the_explorer_keeps_one_token_per_team_with_the_role_s_write_access() {
    let w = world().await;
    let live_explorer_tokens = |owner| {
        let db = w.db.clone();
        async move {
            tokens::list(&db, owner)
                .await
                .unwrap()
                .into_iter()
                .filter(|t| t.kind == TokenKind::Explorer)
                .collect::<Vec<_>>()
        }
    };

    let first = tokens::open_explorer(&w.db, domain::Origin::new(w.alice, None), "ops")
        .await
        .unwrap();
    assert_eq!(first.info.description, "API explorer (ops)");
    assert!(first.info.write, "an admin's explorer token can write");
    let lifetime = first.info.expires_at.unwrap() - first.info.created_at;
    assert_eq!(lifetime, Duration::hours(24));

    let second = tokens::open_explorer(&w.db, domain::Origin::new(w.alice, None), "ops")
        .await
        .unwrap();
    let web = tokens::open_explorer(&w.db, domain::Origin::new(w.alice, None), "web")
        .await
        .unwrap();
    let live = live_explorer_tokens(w.alice).await;
    let mut ids: Vec<_> = live.iter().map(|t| t.id.clone()).collect();
    ids.sort();
    let mut expected = vec![second.info.id.clone(), web.info.id.clone()];
    expected.sort();
    assert_eq!(ids, expected, "the first ops token was replaced");

    // Bob is a reader in ops and not in web.
    let bobs = tokens::open_explorer(&w.db, domain::Origin::new(w.bob, None), "ops")
        .await
        .unwrap();
    assert!(!bobs.info.write, "a reader's explorer token is read-only");
    let err = tokens::open_explorer(&w.db, domain::Origin::new(w.bob, None), "web")
        .await
        .unwrap_err();
    assert_eq!(field(&err), "team");
    assert_eq!(live_explorer_tokens(w.bob).await.len(), 1);

    // Creation and replacement are in the activity log.
    let kinds: Vec<String> = domain::activity::list_for_user(&w.db, w.alice, 1, 50)
        .await
        .unwrap()
        .0
        .into_iter()
        .filter(|e| e.token_id.as_deref() == Some(first.info.id.as_str()))
        .map(|e| e.kind)
        .collect();
    assert!(kinds.contains(&"token_created".to_string()), "{kinds:?}");
    assert!(kinds.contains(&"token_deleted".to_string()), "{kinds:?}");
}

#[tokio::test]
async fn a_personal_token_with_the_explorer_s_name_is_explained_not_overwritten() {
    let w = world().await;
    tokens::create(
        &w.db,
        domain::Origin::new(w.alice, None),
        request("api EXPLORER (ops)", "ops", false),
    )
    .await
    .unwrap();
    let err = tokens::open_explorer(&w.db, domain::Origin::new(w.alice, None), "ops")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Rule(m) if m.contains("rename or delete")),
        "{err:?}"
    );
    let live = tokens::list(&w.db, w.alice).await.unwrap();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].kind, TokenKind::Personal);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_with_one_token_share_one_database_check() {
    use std::sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    };

    use domain::tokens::access::{AccessRequest, CallerCache, Presented, TeamScope, check};

    let mut w = world().await;
    let issued = tokens::create(
        &w.db,
        domain::Origin::new(w.alice, None),
        request("CI", "ops", true),
    )
    .await
    .unwrap();
    let lookups = Arc::new(AtomicUsize::new(0));
    let counted = lookups.clone();
    w.db.set_metric_callback(move |info| {
        if info.statement.sql.contains("secret_digest") {
            counted.fetch_add(1, Ordering::SeqCst);
        }
    });
    let cache = Arc::new(CallerCache::default());
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..32 {
        let (db, cache, secret) = (w.db.clone(), cache.clone(), issued.secret.clone());
        calls.spawn(async move {
            let request = AccessRequest {
                presented: Presented::Value(secret.expose()),
                client_ip: None,
                team: TeamScope::Any,
                needs: &[],
                write: false,
            };
            check(&db, &cache, request).await
        });
    }
    while let Some(outcome) = calls.join_next().await {
        let caller = outcome.unwrap().unwrap();
        assert_eq!(caller.token().id, issued.info.id);
    }
    assert_eq!(lookups.load(Ordering::SeqCst), 1);
}

/// Uniqueness ignores case beyond ASCII (before, SQLite's `lower()` folded only A–Z, so these
/// were different descriptions on SQLite and the same on PostgreSQL).
#[tokio::test]
async fn descriptions_that_differ_only_by_case_conflict_in_any_script() {
    let w = world().await;
    for (first, second) in [
        ("Déploiement", "DÉPLOIEMENT"),
        ("Straße", "STRASSE"),
        ("Σύνοψη", "ΣΎΝΟΨΗ"),
        // A precomposed é and e + combining acute accent.
        ("caf\u{e9}", "cafe\u{301}"),
    ] {
        tokens::create(
            &w.db,
            domain::Origin::new(w.alice, None),
            request(first, "ops", false),
        )
        .await
        .unwrap();
        let err = tokens::create(
            &w.db,
            domain::Origin::new(w.alice, None),
            request(second, "web", false),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Conflict {
                    field: "description",
                    ..
                }
            ),
            "{first} / {second}: {err:?}"
        );
    }
    // Other owners, and different words, are not in the way.
    tokens::create(
        &w.db,
        domain::Origin::new(w.bob, None),
        request("DÉPLOIEMENT", "ops", false),
    )
    .await
    .unwrap();
    tokens::create(
        &w.db,
        domain::Origin::new(w.alice, None),
        request("Deploiement", "ops", false),
    )
    .await
    .unwrap();
}

/// Two processes flushing their last-used notes for one token at the same moment: both
/// addresses are kept (each write reads and writes the row under a lock; before, the second
/// write could overwrite the first with what it had read before it).
#[tokio::test]
async fn concurrent_flushes_of_one_token_lose_no_address() {
    use domain::tokens::usage::UsageBuffer;
    let w = world().await;
    for round in 0..10u8 {
        // A token of its own each round: a token keeps only its five latest addresses.
        let description = format!("flushed {round}");
        let issued = tokens::create(
            &w.db,
            domain::Origin::new(w.alice, None),
            request(&description, "ops", false),
        )
        .await
        .unwrap();
        let id = issued.info.id.clone();
        let (a, b) = (UsageBuffer::new(), UsageBuffer::new());
        let (ip_a, ip_b) = (format!("192.0.2.{round}"), format!("198.51.100.{round}"));
        let call = |ip: &str| domain::tokens::usage::Call {
            token_id: &id,
            surface: domain::tokens::usage::Surface::Api,
            ip: Some(ip.parse().unwrap()),
            at: Utc::now(),
        };
        a.accepted(call(&ip_a), false, None);
        b.accepted(call(&ip_b), false, None);
        let (written_a, written_b) = tokio::join!(a.flush(&w.db), b.flush(&w.db));
        assert_eq!((written_a.unwrap(), written_b.unwrap()), (1, 1));
        let listed = tokens::list(&w.db, w.alice).await.unwrap();
        let stored = &listed.iter().find(|t| t.id == id).unwrap().last_used_ips;
        assert!(
            stored.contains(&ip_a) && stored.contains(&ip_b),
            "round {round}: {stored:?}"
        );
    }
}

/// Moves a token's dates, as if it had been created, used and set to expire at these times.
async fn set_dates(
    db: &DatabaseConnection,
    id: &str,
    created: chrono::DateTime<Utc>,
    last_used: Option<chrono::DateTime<Utc>>,
    expires: Option<chrono::DateTime<Utc>>,
) {
    let update = Statement::from_sql_and_values(
        db.get_database_backend(),
        "UPDATE tokens SET created_at = $1, last_used_at = $2, expires_at = $3 WHERE id = $4",
        [created.into(), last_used.into(), expires.into(), id.into()],
    );
    assert_eq!(db.execute_raw(update).await.unwrap().rows_affected(), 1);
}

#[tokio::test]
async fn team_admins_see_live_tokens_flagged_unused_or_expiring_and_filter_them() {
    use domain::tokens::governance::{self, Access, Filter, Scope};
    let w = world().await;
    let now = Utc::now();
    let mut ids = std::collections::HashMap::new();
    for (name, owner) in [
        ("fresh", w.alice),
        ("stale", w.alice),
        ("used long ago", w.alice),
        ("used lately", w.alice),
        ("soon", w.alice),
        ("expired", w.alice),
        ("bob's", w.bob),
    ] {
        let issued = tokens::create(
            &w.db,
            domain::Origin::new(owner, None),
            request(name, "ops", false),
        )
        .await
        .unwrap();
        ids.insert(name, issued.info.id);
    }
    let days = Duration::days;
    set_dates(
        &w.db,
        &ids["stale"],
        now - days(40),
        None,
        Some(now + days(60)),
    )
    .await;
    let long_ago = (now - days(60), Some(now - days(31)));
    set_dates(&w.db, &ids["used long ago"], long_ago.0, long_ago.1, None).await;
    let lately = (now - days(60), Some(now - days(2)));
    set_dates(&w.db, &ids["used lately"], lately.0, lately.1, None).await;
    set_dates(
        &w.db,
        &ids["soon"],
        now - days(1),
        None,
        Some(now + days(3)),
    )
    .await;
    set_dates(
        &w.db,
        &ids["expired"],
        now - days(9),
        None,
        Some(now - days(1)),
    )
    .await;

    let ops = TeamSlug::parse("ops").unwrap();
    let admin = Actor::User(w.alice);
    let list = |filter: Filter| {
        let db = w.db.clone();
        let ops = ops.clone();
        async move {
            let page = governance::list(&db, admin, Scope::Team(&ops), &filter, 1, 100)
                .await
                .unwrap();
            let mut names: Vec<String> = page
                .items
                .iter()
                .map(|t| t.info.description.clone())
                .collect();
            names.sort();
            (names, page)
        }
    };
    let (all, page) = list(Filter::default()).await;
    // Live only: the expired token is not there.
    assert_eq!(
        all,
        [
            "bob's",
            "fresh",
            "soon",
            "stale",
            "used lately",
            "used long ago"
        ]
    );
    let flagged = |name: &str| {
        let t = page
            .items
            .iter()
            .find(|t| t.info.description == name)
            .unwrap();
        (
            t.is_unused(now),
            t.info.is_expiring_soon(now),
            t.owner.clone(),
        )
    };
    assert_eq!(flagged("fresh"), (false, false, "alice".into()));
    assert_eq!(flagged("stale"), (true, false, "alice".into()));
    assert_eq!(flagged("used long ago"), (true, false, "alice".into()));
    assert_eq!(flagged("used lately"), (false, false, "alice".into()));
    assert_eq!(flagged("soon"), (false, true, "alice".into()));
    assert_eq!(flagged("bob's"), (false, false, "bob".into()));

    let unused = Filter {
        unused_days: Some(governance::UNUSED_DAYS),
        ..Filter::default()
    };
    assert_eq!(list(unused).await.0, ["stale", "used long ago"]);
    let expiring = Filter {
        expiring: true,
        ..Filter::default()
    };
    assert_eq!(list(expiring).await.0, ["soon"]);
    let bobs = Filter {
        owner: Some("BOB".into()),
        ..Filter::default()
    };
    assert_eq!(list(bobs).await.0, ["bob's"]);
    let writes = Filter {
        access: Some(Access::ReadWrite),
        ..Filter::default()
    };
    assert!(list(writes).await.0.is_empty());

    // Bob (a reader of ops) may not look; a stranger to the team is told it does not exist.
    let err = governance::list(
        &w.db,
        Actor::User(w.bob),
        Scope::Team(&ops),
        &Filter::default(),
        1,
        20,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
    let web = TeamSlug::parse("web").unwrap();
    let err = governance::list(
        &w.db,
        Actor::User(w.bob),
        Scope::Team(&web),
        &Filter::default(),
        1,
        20,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::NotFound("team")), "{err:?}");
}

/// A burst of calls with a rate-limited token in one process takes one lease of the minute's
/// budget at a time (the others wait for it), not one each: the rest of the budget stays for
/// the other processes (docs/usage.md). A lease is a twentieth of the limit at most.
#[tokio::test]
async fn a_burst_in_one_process_leases_one_share_at_a_time() {
    use domain::tokens::rate_limit::RateLimiter;
    let w = world().await;
    let issued = tokens::create(
        &w.db,
        domain::Origin::new(w.alice, None),
        request("busy", "ops", false),
    )
    .await
    .unwrap();
    let limiter = std::sync::Arc::new(RateLimiter::new());
    let now = Utc::now();
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..64 {
        let (limiter, db, id) = (limiter.clone(), w.db.clone(), issued.info.id.clone());
        calls.spawn(async move { limiter.take(&db, &id, 100_000, now).await.unwrap() });
    }
    let decisions = calls.join_all().await;
    assert!(decisions.iter().all(|d| d.allowed && d.limit == 100_000));
    let taken =
        w.db.query_one_raw(Statement::from_sql_and_values(
            w.db.get_database_backend(),
            "SELECT CAST(SUM(taken) AS BIGINT) AS n FROM token_rate_windows WHERE token_id = $1",
            [issued.info.id.clone().into()],
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(taken, 5_000, "one lease of 5,000 for 64 calls");
    let remaining: Vec<u32> = decisions.iter().map(|d| d.remaining).collect();
    assert_eq!(remaining.iter().min(), Some(&(100_000 - 64)));
}
