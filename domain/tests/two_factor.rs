//! Two-factor sign-in and sudo mode on a real SQLite database: the test plays the
//! authenticator app (`totp::code_at`) and the person.

mod support;

use chrono::{Duration, Utc};
use domain::{
    Error, Origin,
    identity::{
        sessions,
        sign_in::{self, SignInStep},
        sudo,
        two_factor::{
            self, SecondFactor, challenge, recovery,
            requirement::{self, Requirement, TwoFactorPolicy},
            totp,
        },
    },
    secret::SealingKey,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use support::{fresh_db, user};

const PASSWORD: &str = "a long enough password";

fn key() -> SealingKey {
    SealingKey::from_text("a test key that is long enough to be used").unwrap()
}

fn now_code(secret: &str, steps_ahead: i64) -> String {
    let at = Utc::now().timestamp() + steps_ahead * 30;
    totp::code_at(secret, at as u64).unwrap()
}

/// Enrols `user_id`'s authenticator app; returns its secret and the recovery codes.
async fn enrol(db: &DatabaseConnection, user_id: i64, username: &str) -> (String, Vec<String>) {
    let enrolment = totp::begin(db, &key(), user_id, username).await.unwrap();
    let codes = totp::confirm(
        db,
        &key(),
        Origin::new(user_id, None),
        &now_code(&enrolment.secret, 0),
    )
    .await
    .unwrap();
    (enrolment.secret, codes)
}

async fn scalar(db: &DatabaseConnection, sql: &str) -> String {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<String>(0).unwrap()
}

#[tokio::test]
async fn enrolment_needs_a_current_code_and_keeps_the_secret_sealed() {
    let (_dir, db) = fresh_db().await;
    let alice = user(&db, "alice").await;
    let enrolment = totp::begin(&db, &key(), alice.id, "alice").await.unwrap();
    assert!(enrolment.uri.starts_with("otpauth://totp/patdesk:alice?"));
    assert!(enrolment.qr_svg.starts_with("<svg"));
    // Waiting for its first code: shown again, not yet a second factor.
    let pending = totp::pending(&db, &key(), alice.id, "alice").await.unwrap();
    assert_eq!(pending.map(|p| p.secret), Some(enrolment.secret.clone()));
    assert!(!two_factor::enrolled(&db, alice.id).await.unwrap());
    // The stored secret is neither the base32 text nor readable with another key.
    let sealed = scalar(&db, "SELECT sealed_secret FROM totp_secrets").await;
    assert!(!sealed.contains(&enrolment.secret), "{sealed}");
    let other = SealingKey::from_text("another key, also long enough to be used").unwrap();
    assert!(totp::pending(&db, &other, alice.id, "alice").await.is_err());

    let wrong = totp::confirm(&db, &key(), Origin::new(alice.id, None), "000000").await;
    assert!(matches!(wrong, Err(Error::Invalid { field: "code", .. })));
    let codes = totp::confirm(
        &db,
        &key(),
        Origin::new(alice.id, None),
        &now_code(&enrolment.secret, 0),
    )
    .await
    .unwrap();
    assert_eq!(codes.len(), 10);
    assert!(two_factor::enrolled(&db, alice.id).await.unwrap());
    // The codes are stored as digests only.
    let digest = scalar(&db, "SELECT code_digest FROM recovery_codes LIMIT 1").await;
    assert!(codes.iter().all(|c| !digest.contains(&c.replace('-', ""))));
    // A second app is refused until the first is turned off.
    assert!(matches!(
        totp::begin(&db, &key(), alice.id, "alice").await,
        Err(Error::Rule(_))
    ));
}

#[tokio::test]
async fn each_code_is_accepted_once_within_a_step_either_side() {
    let (_dir, db) = fresh_db().await;
    let alice = user(&db, "alice").await;
    let (secret, _) = enrol(&db, alice.id, "alice").await;
    // Confirming used the current step: its code, and the step before, are refused now.
    for behind in [0, -1] {
        let again = two_factor::check_code(&db, &key(), alice.id, &now_code(&secret, behind)).await;
        assert!(
            matches!(again, Err(Error::Invalid { field: "code", .. })),
            "step {behind}"
        );
    }
    // The next step's code (a fast clock) is accepted once.
    let ahead = now_code(&secret, 1);
    assert_eq!(
        two_factor::check_code(&db, &key(), alice.id, &ahead)
            .await
            .unwrap(),
        SecondFactor::AuthenticatorApp
    );
    assert!(
        two_factor::check_code(&db, &key(), alice.id, &ahead)
            .await
            .is_err()
    );
    // Two steps ahead is too far.
    assert!(
        two_factor::check_code(&db, &key(), alice.id, &now_code(&secret, 3))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn recovery_codes_work_once_and_new_ones_replace_them() {
    let (_dir, db) = fresh_db().await;
    let alice = user(&db, "alice").await;
    let (_, codes) = enrol(&db, alice.id, "alice").await;
    let typed = codes[0].to_uppercase().replace('-', " ");
    assert_eq!(
        two_factor::check_code(&db, &key(), alice.id, &typed)
            .await
            .unwrap(),
        SecondFactor::RecoveryCode
    );
    assert!(
        two_factor::check_code(&db, &key(), alice.id, &codes[0])
            .await
            .is_err()
    );
    assert_eq!(recovery::left(&db, alice.id).await.unwrap(), 9);
    // Someone else's code is not Alice's.
    let bob = user(&db, "bob").await;
    let (_, bobs) = enrol(&db, bob.id, "bob").await;
    assert!(
        two_factor::check_code(&db, &key(), alice.id, &bobs[0])
            .await
            .is_err()
    );
    let fresh = totp::regenerate_recovery_codes(&db, Origin::new(alice.id, None))
        .await
        .unwrap();
    assert_eq!(recovery::left(&db, alice.id).await.unwrap(), 10);
    assert!(
        two_factor::check_code(&db, &key(), alice.id, &codes[1])
            .await
            .is_err(),
        "old codes stop working"
    );
    assert!(
        two_factor::check_code(&db, &key(), alice.id, &fresh[1])
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_password_alone_is_no_session_when_two_factor_is_on() {
    let (_dir, db) = fresh_db().await;
    let alice = user(&db, "alice").await;
    let (secret, codes) = enrol(&db, alice.id, "alice").await;
    let SignInStep::SecondFactor(pending) =
        sign_in::with_password(&db, "alice", PASSWORD, None, None)
            .await
            .unwrap()
    else {
        panic!("the password alone signed in");
    };
    // The challenge's id is no session id.
    assert!(
        sessions::resolve(&db, pending.expose())
            .await
            .unwrap()
            .is_none()
    );
    let wrong = challenge::complete(&db, &key(), pending.expose(), "123456", None, None).await;
    assert!(matches!(wrong, Err(Error::Invalid { field: "code", .. })));
    let (user, session) = challenge::complete(
        &db,
        &key(),
        pending.expose(),
        &now_code(&secret, 1),
        None,
        None,
    )
    .await
    .unwrap();
    assert_eq!(user.id, alice.id);
    assert!(
        sessions::resolve(&db, session.expose())
            .await
            .unwrap()
            .is_some()
    );
    // Finished: the challenge cannot be used again.
    let again = challenge::complete(&db, &key(), pending.expose(), &codes[0], None, None).await;
    assert!(matches!(again, Err(Error::Rule(_))));

    // Five wrong codes end a challenge: the right one no longer helps.
    let SignInStep::SecondFactor(pending) =
        sign_in::with_password(&db, "alice", PASSWORD, None, None)
            .await
            .unwrap()
    else {
        panic!("the password alone signed in");
    };
    for _ in 0..challenge::MAX_FAILURES {
        let _ = challenge::complete(&db, &key(), pending.expose(), "000000", None, None).await;
    }
    let late = challenge::complete(&db, &key(), pending.expose(), &codes[1], None, None).await;
    assert!(matches!(late, Err(Error::Rule(_))));
    let failed = scalar(
        &db,
        "SELECT CAST(COUNT(*) AS TEXT) FROM activity WHERE kind = 'sign_in_failed' AND target = 'wrong second-factor code'",
    )
    .await;
    assert_eq!(failed, (1 + challenge::MAX_FAILURES).to_string());
}

#[tokio::test]
async fn sudo_mode_asks_for_the_password_and_the_second_factor() {
    let (_dir, db) = fresh_db().await;
    let alice = user(&db, "alice").await;
    let session = sessions::start(&db, alice.id).await.unwrap();
    let window = sudo::SudoWindow::minutes(10).unwrap();
    let fresh = |db: DatabaseConnection, id: String| async move {
        let signed_in = sessions::resolve(&db, &id).await.unwrap().unwrap();
        window.allows(signed_in.authenticated_at)
    };
    assert!(fresh(db.clone(), session.expose().to_string()).await);
    db.execute_unprepared("UPDATE sessions SET authenticated_at = '2020-01-01 00:00:00+00:00'")
        .await
        .unwrap();
    assert!(!fresh(db.clone(), session.expose().to_string()).await);

    let (secret, _) = enrol(&db, alice.id, "alice").await;
    let confirm = |password: &'static str, code: Option<String>| {
        let db = db.clone();
        let alice = alice.clone();
        let session = session.expose().to_string();
        async move {
            sudo::confirm(
                &db,
                &key(),
                &session,
                &alice,
                password,
                code.as_deref(),
                None,
            )
            .await
        }
    };
    assert!(matches!(
        confirm("not my password", Some(now_code(&secret, 1))).await,
        Err(Error::Invalid {
            field: "password",
            ..
        })
    ));
    assert!(matches!(
        confirm(PASSWORD, None).await,
        Err(Error::Invalid { field: "code", .. })
    ));
    assert!(!fresh(db.clone(), session.expose().to_string()).await);
    confirm(PASSWORD, Some(now_code(&secret, 1))).await.unwrap();
    assert!(fresh(db.clone(), session.expose().to_string()).await);
}

#[tokio::test]
async fn the_policy_gives_a_grace_period_then_only_the_account_page() {
    let (_dir, db) = fresh_db().await;
    let admin = user(&db, "admin").await;
    let alice = user(&db, "alice").await;
    assert_eq!(
        requirement::of(&db, alice.id).await.unwrap(),
        Requirement::Met
    );
    // Alice may not set it; an instance admin may.
    let policy = TwoFactorPolicy {
        required: true,
        grace_days: 3,
    };
    assert!(matches!(
        requirement::set(&db, Origin::new(alice.id, None).into(), policy).await,
        Err(Error::Forbidden(_))
    ));
    requirement::set(&db, Origin::new(admin.id, None).into(), policy)
        .await
        .unwrap();
    let due = requirement::of(&db, alice.id).await.unwrap();
    assert_eq!(due.days_left(Utc::now()), Some(2));
    // The grace period counts from when the policy was turned on.
    db.execute_unprepared(&format!(
        "UPDATE instance_policy SET require_2fa_since = '{}'",
        (Utc::now() - Duration::days(4)).format("%Y-%m-%d %H:%M:%S+00:00")
    ))
    .await
    .unwrap();
    db.execute_unprepared(&format!(
        "UPDATE users SET created_at = '{}'",
        (Utc::now() - Duration::days(5)).format("%Y-%m-%d %H:%M:%S+00:00")
    ))
    .await
    .unwrap();
    assert_eq!(
        requirement::of(&db, alice.id).await.unwrap(),
        Requirement::Overdue
    );
    enrol(&db, alice.id, "alice").await;
    assert_eq!(
        requirement::of(&db, alice.id).await.unwrap(),
        Requirement::Met
    );
    // An account without a password (single sign-on's) is exempt: its provider does its 2FA.
    let carol = user(&db, "carol").await;
    // New since the policy: the grace period counts from her account's creation.
    let due = requirement::of(&db, carol.id).await.unwrap();
    assert_eq!(due.days_left(Utc::now()), Some(2));
    db.execute_unprepared(&format!(
        "UPDATE users SET password_hash = '{}' WHERE id = {}",
        domain::identity::password::NO_PASSWORD,
        carol.id
    ))
    .await
    .unwrap();
    assert_eq!(
        requirement::of(&db, carol.id).await.unwrap(),
        Requirement::Met
    );

    // The operator's way back: the factors go, a notice and an entry say so.
    assert!(
        two_factor::reset(&db, Origin::OPERATOR, alice.id)
            .await
            .unwrap()
    );
    assert!(!two_factor::enrolled(&db, alice.id).await.unwrap());
    assert_eq!(recovery::left(&db, alice.id).await.unwrap(), 0);
    assert_eq!(
        scalar(
            &db,
            &format!(
                "SELECT kind FROM notifications WHERE user_id = {}",
                alice.id
            )
        )
        .await,
        "two_factor_reset"
    );
    assert_eq!(
        scalar(
            &db,
            &format!(
                "SELECT kind FROM activity WHERE user_id = {} ORDER BY id DESC LIMIT 1",
                alice.id
            )
        )
        .await,
        "two_factor_reset"
    );
    assert!(
        !two_factor::reset(&db, Origin::OPERATOR, alice.id)
            .await
            .unwrap()
    );
}
