//! Two-factor sign-in and sudo mode, tried from outside: server functions called over HTTP as a
//! browser (or an attacker) would, the CLI as the operator would, and the log as a thief would.
//! On SQLite, and with `PATDESK_TEST_BACKEND=postgres` on PostgreSQL with a second process
//! finishing the sign-ins the first one started.

mod support;

use domain::identity::two_factor::totp::code_at;
use reqwest::{StatusCode, header};
use serde_json::Value;
use support::{
    Caller, PASSWORD, TestServer, cli, client, client_from, count, execute, json, ok,
    postgres::TempDatabase,
};

const KEY: &str = "a secret key for these tests, long enough";

fn code(secret: &str, steps_ahead: i64) -> String {
    let at = chrono::Utc::now().timestamp() + steps_ahead * 30;
    code_at(secret, at as u64).unwrap()
}

/// A six-digit code the app shows at no step around now.
fn wrong_code(secret: &str) -> String {
    let valid: Vec<String> = (-2..=2).map(|steps| code(secret, steps)).collect();
    (0..)
        .map(|n| format!("{:06}", 123_456 + n))
        .find(|c| !valid.contains(c))
        .unwrap()
}

/// The `Retry-After` of a 429, in seconds.
fn retry_after(response: &reqwest::Response) -> u64 {
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    response.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// Alice signs up and turns on two-factor sign-in; her authenticator secret and recovery codes.
async fn enrolled_alice(alice: &mut Caller<'_>) -> (String, Vec<String>) {
    alice.sign_up("alice").await;
    let begun = alice.call("begin_totp_enrolment", &[]).await;
    assert_eq!(begun.status(), StatusCode::OK);
    let status = json(alice.call("two_factor_status", &[]).await).await;
    let secret = status["pending"]["secret"].as_str().unwrap().to_string();
    assert!(
        status["pending"]["qr_svg"]
            .as_str()
            .unwrap()
            .starts_with("<svg")
    );
    let wrong = alice
        .call("confirm_totp_enrolment", &[("code", "000000")])
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let confirmed = alice
        .call("confirm_totp_enrolment", &[("code", &code(&secret, 0))])
        .await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    let codes: Vec<String> = serde_json::from_value(json(confirmed).await).unwrap();
    assert_eq!(codes.len(), 10);
    let status = json(alice.call("two_factor_status", &[]).await).await;
    assert_eq!(status["enabled"], true);
    assert_eq!(
        status["pending"],
        Value::Null,
        "the secret is not shown again"
    );
    (secret, codes)
}

#[tokio::test]
async fn the_second_step_is_no_session_and_any_process_finishes_it() {
    let envs = [
        ("PATDESK_SECRET_KEY", KEY),
        ("PATDESK_AUTH_FAILURES_PER_MINUTE", "6"),
    ];
    let server = TestServer::start_env(&envs);
    // On PostgreSQL a second process behind the same load balancer; on SQLite one server.
    let second = server.is_postgres().then(|| {
        TestServer::start_with(tempfile::tempdir().unwrap(), &server.database_url(), &envs)
    });
    let other = second.as_ref().unwrap_or(&server);

    let mut alice = Caller::new(&server);
    let (secret, codes) = enrolled_alice(&mut alice).await;
    alice.call("sign_out", &[]).await;

    let step = alice.sign_in("alice", PASSWORD).await;
    assert!(step.status().is_redirection() || step.status().is_success());
    let pending = alice.cookie.clone().unwrap();
    assert!(pending.starts_with("patdesk_sign_in="), "{pending}");
    // A half-finished sign-in is not a session: no page, no server function.
    let page = alice.get("/").await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert!(
        page.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .starts_with("/signin")
    );
    let refused = alice.call("list_tokens", &[]).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    // Renamed to the session cookie, the challenge's id is still nothing.
    let mut forger = Caller::new(&server);
    forger.cookie = Some(pending.replace("patdesk_sign_in=", "patdesk_session="));
    assert_eq!(
        forger.call("list_tokens", &[]).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // Finished on the other process, with a code from the app.
    let mut finishing = Caller::new(other);
    finishing.cookie = Some(pending.clone());
    let done = finishing
        .call("sign_in_second_factor", &[("code", &code(&secret, 1))])
        .await;
    assert!(
        done.status().is_redirection() || done.status().is_success(),
        "{}",
        done.status()
    );
    let session = finishing.cookie.clone().unwrap();
    assert!(session.starts_with("patdesk_session="), "{session}");
    assert_eq!(
        finishing.call("list_tokens", &[]).await.status(),
        StatusCode::OK
    );

    // The same code again (a replay, another sign-in) is refused.
    alice.cookie = None;
    alice.sign_in("alice", PASSWORD).await;
    let replay = alice
        .call("sign_in_second_factor", &[("code", &code(&secret, 1))])
        .await;
    assert_eq!(replay.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(replay).await["Field"]["field"], "code");
    // A recovery code works once.
    let recovered = alice
        .call("sign_in_second_factor", &[("code", &codes[0])])
        .await;
    assert!(
        !recovered.status().is_client_error(),
        "{}",
        recovered.status()
    );
    alice.cookie = None;
    alice.sign_in("alice", PASSWORD).await;
    let used = alice
        .call("sign_in_second_factor", &[("code", &codes[0])])
        .await;
    assert_eq!(used.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Wrong codes count against the address's failed sign-ins: the budget (6 a minute) runs out.
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let response = alice
            .call("sign_in_second_factor", &[("code", "123456")])
            .await;
        statuses.push(response.status());
    }
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );

    // Nothing secret in either log.
    for log in [server.log(), other.log()] {
        assert!(!log.contains(&secret), "the TOTP secret in the log");
        for code in &codes {
            assert!(!log.contains(code.as_str()), "a recovery code in the log");
        }
    }
}

#[tokio::test]
async fn a_stale_session_confirms_who_it_is_before_making_a_token() {
    let server = TestServer::start_env(&[("PATDESK_SUDO_MINUTES", "5")]);
    let db = server.connect_database().await;
    let mut alice = Caller::new(&server);
    let (secret, _) = enrolled_alice(&mut alice).await;
    ok(cli(
        &server,
        &["team", "add", "ops", "--owner", "alice"],
        None,
    ));
    let create = [
        ("description", "deploy"),
        ("team", "ops"),
        ("expiration", "30"),
    ];
    assert_eq!(
        alice.call("create_token", &create).await.status(),
        StatusCode::OK,
        "a fresh sign-in makes tokens"
    );

    // Ten minutes later (time passing: what no interface offers).
    let aged = chrono::Utc::now() - chrono::Duration::minutes(10);
    execute(
        &db,
        "UPDATE sessions SET authenticated_at = $1",
        [aged.into()],
    )
    .await;
    let create = [
        ("description", "deploy 2"),
        ("team", "ops"),
        ("expiration", "30"),
    ];
    let stale = alice.call("create_token", &create).await;
    assert_eq!(stale.status(), StatusCode::FORBIDDEN);
    assert_eq!(json(stale).await, "reauthentication_required");
    // Reading is not sensitive.
    assert_eq!(
        alice.call("list_tokens", &[]).await.status(),
        StatusCode::OK
    );

    let wrong = alice
        .call(
            "confirm_identity",
            &[
                ("password", "not the password"),
                ("code", &code(&secret, 1)),
            ],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(wrong).await["Field"]["field"], "password");
    let no_code = alice
        .call("confirm_identity", &[("password", PASSWORD)])
        .await;
    assert_eq!(json(no_code).await["Field"]["field"], "code");
    let confirmed = alice
        .call(
            "confirm_identity",
            &[("password", PASSWORD), ("code", &code(&secret, 1))],
        )
        .await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    let made = alice.call("create_token", &create).await;
    assert_eq!(made.status(), StatusCode::OK);
    assert!(
        json(made).await["token"]
            .as_str()
            .unwrap()
            .starts_with("pdk_")
    );
}

#[tokio::test]
async fn after_the_grace_period_only_the_account_page_is_open() {
    let server = TestServer::start();
    let mut admin = Caller::new(&server);
    admin.sign_up("admin").await;
    let mut bob = Caller::new(&server);
    bob.sign_up("bob").await;
    ok(cli(
        &server,
        &["policy", "set", "--require-2fa", "--2fa-grace-days", "0"],
        None,
    ));
    let shown =
        String::from_utf8(ok(cli(&server, &["policy", "show", "--json"], None)).stdout).unwrap();
    let shown: Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown["require_2fa"], true);

    let page = bob.get("/teams").await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(page.headers()[header::LOCATION], "/account#two-factor");
    let refused = bob.call("list_tokens", &[]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(json(refused).await, "two_factor_required");
    assert_eq!(bob.get("/account").await.status(), StatusCode::OK);
    assert_eq!(
        bob.call("account_settings", &[]).await.status(),
        StatusCode::OK
    );

    // Enrolled, everything opens again.
    assert_eq!(
        bob.call("begin_totp_enrolment", &[]).await.status(),
        StatusCode::OK
    );
    let status = json(bob.call("two_factor_status", &[]).await).await;
    assert_eq!(status["overdue"], true);
    let secret = status["pending"]["secret"].as_str().unwrap().to_string();
    let confirmed = bob
        .call("confirm_totp_enrolment", &[("code", &code(&secret, 0))])
        .await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    assert_eq!(bob.call("list_tokens", &[]).await.status(), StatusCode::OK);
    assert_eq!(bob.get("/teams").await.status(), StatusCode::OK);

    // The operator's way back for someone who lost every factor.
    ok(cli(&server, &["policy", "set", "--no-require-2fa"], None));
    let reset = ok(cli(&server, &["user", "reset-2fa", "bob"], None));
    assert!(String::from_utf8_lossy(&reset.stdout).contains("reset for bob"));
    bob.cookie = None;
    let signed_in = bob.sign_in("bob", PASSWORD).await;
    assert!(!signed_in.status().is_client_error());
    assert!(
        bob.cookie
            .as_deref()
            .unwrap()
            .starts_with("patdesk_session="),
        "the password alone signs in after the reset"
    );
    let notices = json(bob.call("my_notices", &[("limit", "10")]).await)
        .await
        .to_string();
    assert!(
        notices.contains("Two-factor sign-in was turned off"),
        "{notices}"
    );
}

#[tokio::test]
async fn wrong_codes_from_many_addresses_lock_the_account_and_tell_its_owner() {
    let server = TestServer::start_env(&[("PATDESK_SECRET_KEY", KEY)]);
    let db = server.connect_database().await;
    let mut alice = Caller::new(&server);
    let (secret, codes) = enrolled_alice(&mut alice).await;
    let wrong = wrong_code(&secret);

    // Ten wrong codes against Alice, from three addresses (each well within its own budget),
    // on a fresh challenge each time the password is typed.
    let mut sent = 0;
    for (last, guesses) in [(2, 4), (3, 4), (4, 2)] {
        let mut guesser = Caller {
            server: &server,
            client: client_from(last),
            cookie: None,
        };
        guesser.sign_in("alice", PASSWORD).await;
        assert!(
            guesser
                .cookie
                .as_deref()
                .unwrap()
                .starts_with("patdesk_sign_in=")
        );
        for _ in 0..guesses {
            let response = guesser
                .call("sign_in_second_factor", &[("code", &wrong)])
                .await;
            assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
            sent += 1;
        }
    }
    assert_eq!(sent, 10);

    // Now codes are refused for a minute, from anywhere: a right one too, and a recovery code,
    // at sign-in and in sudo mode alike.
    let mut late = Caller {
        server: &server,
        client: client_from(5),
        cookie: None,
    };
    late.sign_in("alice", PASSWORD).await;
    for right in [code(&secret, 1), codes[0].clone()] {
        let refused = late
            .call("sign_in_second_factor", &[("code", &right)])
            .await;
        let wait = retry_after(&refused);
        assert!((1..=60).contains(&wait), "{wait}");
        assert!(
            late.cookie
                .as_deref()
                .unwrap()
                .starts_with("patdesk_sign_in=")
        );
    }
    let confirm = [("password", PASSWORD), ("code", &code(&secret, 1))];
    let refused = alice.call("confirm_identity", &confirm).await;
    assert!((1..=60).contains(&retry_after(&refused)));
    let refused = alice
        .call("disable_two_factor", &[("code", &code(&secret, 1))])
        .await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);

    // Alice is told, once, in the app (and by mail when she has an address).
    let locked = "SELECT COUNT(*) AS n FROM notifications WHERE kind = 'second_factor_locked'";
    assert_eq!(count(&db, locked, []).await, 1);
    let notices = json(alice.call("my_notices", &[("limit", "10")]).await)
        .await
        .to_string();
    assert!(
        notices.contains("Too many wrong two-factor codes"),
        "{notices}"
    );

    // The minute passes (what no interface offers); the next wrong code waits twice as long.
    let lift = "UPDATE second_factor_failures SET locked_until = $1";
    let past = chrono::Utc::now() - chrono::Duration::seconds(1);
    execute(&db, lift, [past.into()]).await;
    let response = late
        .call("sign_in_second_factor", &[("code", &wrong)])
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused = late
        .call("sign_in_second_factor", &[("code", &code(&secret, 1))])
        .await;
    let wait = retry_after(&refused);
    assert!((61..=120).contains(&wait), "{wait}");
    assert_eq!(count(&db, locked, []).await, 1, "one notice a streak");

    // Once it has passed, the right code signs in (the refused attempts used nothing up).
    execute(&db, lift, [past.into()]).await;
    let done = late
        .call("sign_in_second_factor", &[("code", &code(&secret, 1))])
        .await;
    assert!(
        done.status().is_redirection() || done.status().is_success(),
        "{}",
        done.status()
    );
    assert!(
        late.cookie
            .as_deref()
            .unwrap()
            .starts_with("patdesk_session=")
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL: `make test-rust-postgres` runs it"]
async fn parallel_wrong_codes_on_two_processes_end_the_challenge_after_five() {
    let database = TempDatabase::create();
    // The address's budget out of the way: the challenge's own count is tried here.
    let envs = [
        ("PATDESK_SECRET_KEY", KEY),
        ("PATDESK_AUTH_FAILURES_PER_MINUTE", "1000"),
    ];
    let a = TestServer::start_with(tempfile::tempdir().unwrap(), &database.url, &envs);
    let b = TestServer::start_with(tempfile::tempdir().unwrap(), &database.url, &envs);
    let mut alice = Caller::new(&a);
    let (secret, _) = enrolled_alice(&mut alice).await;
    alice.call("sign_out", &[]).await;
    alice.sign_in("alice", PASSWORD).await;
    let pending = alice.cookie.clone().unwrap();
    assert!(pending.starts_with("patdesk_sign_in="), "{pending}");

    // Twenty wrong codes at once on the one challenge, half to each process.
    let wrong = wrong_code(&secret);
    let sent: Vec<_> = (0..20)
        .map(|i| {
            let server = if i % 2 == 0 { &a } else { &b };
            let request = client()
                .post(server.url("/rpc/sign_in_second_factor"))
                .header(header::ORIGIN, server.base.clone())
                .header(header::COOKIE, pending.clone())
                .form(&[("code", wrong.clone())]);
            tokio::spawn(async move { request.send().await.unwrap().status() })
        })
        .collect();
    let mut statuses = Vec::new();
    for answer in sent {
        statuses.push(answer.await.unwrap());
    }
    // Five were checked (and refused as wrong); the challenge then ended: the others found it
    // gone (409), or the account's codes refused for a while (429).
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNPROCESSABLE_ENTITY)
        .count();
    assert_eq!(checked, 5, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| [
            StatusCode::UNPROCESSABLE_ENTITY,
            StatusCode::CONFLICT,
            StatusCode::TOO_MANY_REQUESTS
        ]
        .contains(s)),
        "{statuses:?}"
    );
    let db = a.connect_database().await;
    let challenges = "SELECT COUNT(*) AS n FROM sign_in_challenges";
    assert_eq!(count(&db, challenges, []).await, 0);
    let failed = "SELECT COUNT(*) AS n FROM activity WHERE target = 'wrong second-factor code'";
    assert_eq!(count(&db, failed, []).await, 5);
    // The right code is too late for it.
    let late = alice
        .call("sign_in_second_factor", &[("code", &code(&secret, 1))])
        .await;
    assert_eq!(late.status(), StatusCode::CONFLICT);
}
