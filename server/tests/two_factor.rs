//! Two-factor sign-in and sudo mode, tried from outside: server functions called over HTTP as a
//! browser (or an attacker) would, the CLI as the operator would, and the log as a thief would.
//! On SQLite, and with `PATDESK_TEST_BACKEND=postgres` on PostgreSQL with a second process
//! finishing the sign-ins the first one started.

mod support;

use domain::identity::two_factor::totp::code_at;
use reqwest::{StatusCode, header};
use serde_json::Value;
use support::{Caller, PASSWORD, TestServer, cli, execute, json, ok};

const KEY: &str = "a secret key for these tests, long enough";

fn code(secret: &str, steps_ahead: i64) -> String {
    let at = chrono::Utc::now().timestamp() + steps_ahead * 30;
    code_at(secret, at as u64).unwrap()
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
