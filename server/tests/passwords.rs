//! Account care (docs/accounts.md), tried from outside: changing the password on the Account
//! page, "Forgot password?" through a real SMTP server (aiosmtpd), the operator's
//! `patdesk user reset-password`, the Account page's list of sessions, and what the second
//! step says of a code that was just used. On SQLite, and with `PATDESK_TEST_BACKEND=postgres`
//! on PostgreSQL.

mod support;

use domain::identity::two_factor::totp::code_at;
use reqwest::{Client, StatusCode, header};
use serde_json::Value;
use support::{
    Caller, PASSWORD, TestServer, cli, count, eventually, execute, json, ok,
    smtp::{Mail, SmtpSink},
};

const PUBLIC_URL: &str = "http://patdesk.test";
const NEW_PASSWORD: &str = "a brand new password";
const FIREFOX: &str =
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

fn mail_env(smtp: &SmtpSink) -> Vec<(&'static str, String)> {
    vec![
        ("PATDESK_SMTP_URL", smtp.url()),
        ("PATDESK_MAIL_FROM", "patdesk <patdesk@patdesk.test>".into()),
        ("PATDESK_PUBLIC_URL", PUBLIC_URL.into()),
        ("PATDESK_NOTIFY_INTERVAL_SECONDS", "1".into()),
    ]
}

fn server_mailing_to(smtp: &SmtpSink) -> TestServer {
    let env = mail_env(smtp);
    let refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    TestServer::start_env(&refs)
}

/// A user with an email address, made with the CLI.
fn user_with_email(server: &TestServer, name: &str) {
    ok(cli(
        server,
        &[
            "user",
            "add",
            name,
            "--email",
            &format!("{name}@example.test"),
        ],
        Some(&format!("{PASSWORD}\n")),
    ));
}

/// A caller from its own loopback address (each budget per address starts afresh), with a
/// browser's `User-Agent`.
fn caller_from<'a>(server: &'a TestServer, last: u8, agent: &str) -> Caller<'a> {
    let mut caller = Caller::new(server);
    caller.client = Client::builder()
        .local_address(std::net::IpAddr::V4(std::net::Ipv4Addr::new(
            127, 0, 0, last,
        )))
        .user_agent(agent)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    caller
}

async fn signed_in<'a>(server: &'a TestServer, last: u8, name: &str, password: &str) -> Caller<'a> {
    let mut caller = caller_from(server, last, FIREFOX);
    let response = caller.sign_in(name, password).await;
    assert!(
        response.status().is_success(),
        "{name} signs in: {}",
        response.status()
    );
    assert!(
        caller
            .cookie
            .as_deref()
            .unwrap()
            .starts_with("patdesk_session=")
    );
    caller
}

/// Whether the caller's session still opens the Account page.
async fn still_signed_in(caller: &Caller<'_>) -> bool {
    let page = caller.get("/account").await;
    match page.status() {
        StatusCode::OK => true,
        StatusCode::SEE_OTHER | StatusCode::FOUND => {
            assert!(
                page.headers()[header::LOCATION]
                    .to_str()
                    .unwrap()
                    .starts_with("/signin")
            );
            false
        }
        other => panic!("unexpected {other}"),
    }
}

fn field(body: &Value) -> Vec<(String, String)> {
    match (&body["Field"], &body["Fields"]) {
        (Value::Object(one), _) => vec![(
            one["field"].as_str().unwrap().into(),
            one["message"].as_str().unwrap().into(),
        )],
        (_, Value::Array(many)) => many
            .iter()
            .map(|m| {
                (
                    m["field"].as_str().unwrap().into(),
                    m["message"].as_str().unwrap().into(),
                )
            })
            .collect(),
        _ => panic!("no field error in {body}"),
    }
}

#[tokio::test]
async fn changing_the_password_ends_every_other_session_but_this_one() {
    let server = TestServer::start();
    let mut alice = caller_from(&server, 11, FIREFOX);
    alice.sign_up("alice").await;
    let other = signed_in(&server, 12, "alice", PASSWORD).await;
    let mut bob = caller_from(&server, 13, FIREFOX);
    bob.sign_up("bob").await;

    // A wrong current password: said next to its field, and nothing changes.
    let wrong = alice
        .call(
            "change_password",
            &[
                ("current_password", "not my password at all"),
                ("new_password", NEW_PASSWORD),
                ("new_password_confirmation", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        field(&json(wrong).await),
        [(
            "current_password".to_string(),
            "That is not your current password.".to_string()
        )]
    );
    // Too short and not the same twice: both said at once, each next to its field.
    let mismatched = alice
        .call(
            "change_password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "short"),
                ("new_password_confirmation", "different"),
            ],
        )
        .await;
    assert_eq!(mismatched.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = field(&json(mismatched).await)
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    assert_eq!(fields, ["new_password", "new_password_confirmation"]);
    assert!(still_signed_in(&other).await);

    let changed = alice
        .call(
            "change_password",
            &[
                ("current_password", PASSWORD),
                ("new_password", NEW_PASSWORD),
                ("new_password_confirmation", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert!(still_signed_in(&alice).await, "this session stays");
    assert!(!still_signed_in(&other).await, "every other session ends");
    assert!(still_signed_in(&bob).await, "other accounts' sessions stay");

    let mut again = caller_from(&server, 14, FIREFOX);
    assert_eq!(
        again.sign_in("alice", PASSWORD).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert!(
        again
            .sign_in("alice", NEW_PASSWORD)
            .await
            .status()
            .is_success()
    );

    let db = server.connect_database().await;
    let notices = count(
        &db,
        "SELECT COUNT(*) AS n FROM notifications n JOIN users u ON u.id = n.user_id \
         WHERE u.username = 'alice' AND n.kind = 'password_changed'",
        [],
    )
    .await;
    assert_eq!(notices, 1);
    // From a session signed in long ago: sudo mode first.
    execute(
        &db,
        "UPDATE sessions SET authenticated_at = $1",
        [(chrono::Utc::now() - chrono::Duration::hours(2)).into()],
    )
    .await;
    let stale = alice
        .call(
            "change_password",
            &[
                ("current_password", NEW_PASSWORD),
                ("new_password", PASSWORD),
                ("new_password_confirmation", PASSWORD),
            ],
        )
        .await;
    assert_eq!(stale.status(), StatusCode::FORBIDDEN);
    assert!(
        stale
            .text()
            .await
            .unwrap()
            .contains("reauthentication_required")
    );
}

#[tokio::test]
async fn an_account_without_a_password_has_none_to_change() {
    let server = TestServer::start();
    let mut carol = caller_from(&server, 21, FIREFOX);
    carol.sign_up("carol").await;
    let db = server.connect_database().await;
    // What single sign-on makes: an account with no password (domain::identity::sso).
    execute(
        &db,
        "UPDATE users SET password_hash = '!sso' WHERE username = 'carol'",
        [],
    )
    .await;
    let settings = json(carol.call("account_settings", &[]).await).await;
    assert_eq!(settings["has_password"], false);
    let refused = carol
        .call(
            "change_password",
            &[
                ("current_password", PASSWORD),
                ("new_password", NEW_PASSWORD),
                ("new_password_confirmation", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(
        json(refused).await["Rule"]
            .as_str()
            .unwrap()
            .contains("single sign-on")
    );
}

/// The reset mails to `to` so far.
fn reset_mails(smtp: &SmtpSink, to: &str, kind: &str) -> Vec<Mail> {
    smtp.mails()
        .into_iter()
        .filter(|m| m.notice() == kind && m.to().contains(to))
        .collect()
}

/// The link in a reset mail, and its code.
fn link_in(mail: &Mail) -> (String, String) {
    let start = mail
        .body
        .find(&format!("{PUBLIC_URL}/password-reset?code="))
        .expect("a reset link in the mail");
    let link: String = mail.body[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '"' && *c != '<')
        .collect();
    let code = link.split("code=").nth(1).unwrap().to_string();
    (link, code)
}

/// Follows a reset link as a browser would: the code goes into a cookie, the page comes
/// without it in the address. Returns the cookie.
async fn follow(server: &TestServer, code: &str) -> String {
    let response = support::client()
        .get(server.url(&format!("/password-reset?code={code}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[header::LOCATION], "/reset-password");
    assert_eq!(response.headers()[header::REFERRER_POLICY], "no-referrer");
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    let cookie = response.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("Max-Age=1800"),
        "{cookie}"
    );
    cookie.split(';').next().unwrap().to_string()
}

#[tokio::test]
async fn a_reset_link_works_once_and_ends_every_session() {
    let smtp = SmtpSink::start();
    let server = server_mailing_to(&smtp);
    user_with_email(&server, "alice");
    let before = signed_in(&server, 31, "alice", PASSWORD).await;

    // The same answer for an account, an address, and nobody.
    let mut visitor = caller_from(&server, 32, FIREFOX);
    let mut answers = Vec::new();
    for who in [
        "alice",
        "nobody-here",
        "ALICE@example.test",
        "nobody@example.test",
    ] {
        let response = visitor
            .call("request_password_reset", &[("who", who)])
            .await;
        answers.push((response.status(), response.text().await.unwrap()));
    }
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    assert_eq!(answers[0].0, StatusCode::OK);

    let mails = eventually("two reset links for alice", || async {
        let mails = reset_mails(&smtp, "alice@example.test", "password_reset");
        (mails.len() == 2).then_some(mails)
    })
    .await;
    let (link, code) = link_in(&mails[0]);
    assert!(link.starts_with("http://patdesk.test/password-reset?code="));
    assert_eq!(code.len(), 64);
    // The secret is stored as its digest only, and never logged.
    let db = server.connect_database().await;
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) AS n FROM password_resets WHERE id_digest = $1",
            [code.clone().into()]
        )
        .await,
        0
    );

    let mut reset = caller_from(&server, 33, FIREFOX);
    reset.cookie = Some(follow(&server, &code).await);
    let page = reset.get("/reset-password").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()[header::CACHE_CONTROL], "no-store");
    // Its URL holds no secret; `no-referrer` would make its posts `Origin: null`.
    assert_eq!(page.headers()[header::REFERRER_POLICY], "same-origin");
    assert_eq!(
        json(reset.call("reset_link_state", &[]).await).await,
        "alice"
    );
    let mismatch = reset
        .call(
            "reset_password",
            &[
                ("password", NEW_PASSWORD),
                ("password_confirmation", "something else"),
            ],
        )
        .await;
    assert_eq!(mismatch.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let link_cookie = reset.cookie.clone();
    let done = reset
        .call(
            "reset_password",
            &[
                ("password", NEW_PASSWORD),
                ("password_confirmation", NEW_PASSWORD),
            ],
        )
        .await;
    assert!(done.status().is_success(), "{}", done.status());
    assert!(
        reset
            .cookie
            .as_deref()
            .unwrap()
            .starts_with("patdesk_session="),
        "signed in: {:?}",
        reset.cookie
    );
    assert!(still_signed_in(&reset).await);
    assert!(
        !still_signed_in(&before).await,
        "every session before the reset ends"
    );

    // Used once: the same link again, and the other link sent before, are refused.
    let mut replay = caller_from(&server, 34, FIREFOX);
    replay.cookie = link_cookie;
    let again = replay
        .call(
            "reset_password",
            &[("password", PASSWORD), ("password_confirmation", PASSWORD)],
        )
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert!(
        json(again).await["Rule"]
            .as_str()
            .unwrap()
            .contains("expired or was already used")
    );
    let (_, other_code) = link_in(&mails[1]);
    replay.cookie = Some(follow(&server, &other_code).await);
    assert_eq!(
        replay.call("reset_link_state", &[]).await.status(),
        StatusCode::CONFLICT
    );

    let mut fresh = caller_from(&server, 35, FIREFOX);
    assert!(
        fresh
            .sign_in("alice", NEW_PASSWORD)
            .await
            .status()
            .is_success()
    );
    eventually("the password_changed mail", || async {
        let sent = reset_mails(&smtp, "alice@example.test", "password_changed");
        (!sent.is_empty()).then_some(())
    })
    .await;
    assert!(
        !server.log().contains(&code),
        "the reset code is in the log"
    );
    assert!(!server.log().contains(&other_code));
}

/// A mailed link dies when what it stood for changes: the password is changed another way,
/// or single sign-on becomes required (a password then signs in only an instance admin, and
/// a reset would have been a way around the provider).
#[tokio::test]
async fn a_reset_link_dies_with_a_password_change_and_under_required_single_sign_on() {
    let smtp = SmtpSink::start();
    let server = server_mailing_to(&smtp);
    // The instance's first account is its admin, whom required single sign-on spares: alice is
    // the second.
    user_with_email(&server, "root");
    user_with_email(&server, "alice");
    let mut visitor = caller_from(&server, 41, FIREFOX);
    let response = visitor
        .call("request_password_reset", &[("who", "alice")])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let mail = eventually("a reset link for alice", || async {
        reset_mails(&smtp, "alice@example.test", "password_reset").pop()
    })
    .await;
    let (_, code) = link_in(&mail);

    // Alice changes her password on the Account page: the link opens nothing any more.
    let mut alice = signed_in(&server, 42, "alice", PASSWORD).await;
    let changed = alice
        .call(
            "change_password",
            &[
                ("current_password", PASSWORD),
                ("new_password", NEW_PASSWORD),
                ("new_password_confirmation", NEW_PASSWORD),
            ],
        )
        .await;
    assert!(changed.status().is_success(), "{}", changed.status());
    let mut holder = caller_from(&server, 43, FIREFOX);
    holder.cookie = Some(follow(&server, &code).await);
    assert_eq!(
        holder.call("reset_link_state", &[]).await.status(),
        StatusCode::CONFLICT
    );

    // A new link, then single sign-on becomes required: the link signs nobody in, and a
    // request now mails "use your provider", with no link.
    let response = visitor
        .call("request_password_reset", &[("who", "alice")])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let second = eventually("a second reset link for alice", || async {
        let mails = reset_mails(&smtp, "alice@example.test", "password_reset");
        (mails.len() == 2).then(|| mails.into_iter().nth(1).unwrap())
    })
    .await;
    let (_, code) = link_in(&second);
    ok(cli(&server, &["policy", "set", "--require-sso"], None));
    holder.cookie = Some(follow(&server, &code).await);
    let refused = holder
        .call(
            "reset_password",
            &[("password", PASSWORD), ("password_confirmation", PASSWORD)],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(
        !holder
            .cookie
            .as_deref()
            .unwrap_or("")
            .starts_with("patdesk_session=")
    );
    let response = visitor
        .call("request_password_reset", &[("who", "alice")])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    eventually("the use-your-provider mail", || async {
        let sent = reset_mails(&smtp, "alice@example.test", "password_reset_sso");
        (!sent.is_empty()).then_some(())
    })
    .await;
    assert_eq!(
        reset_mails(&smtp, "alice@example.test", "password_reset").len(),
        2
    );
}

#[tokio::test]
async fn reset_links_expire_are_budgeted_and_skip_who_cannot_use_them() {
    let smtp = SmtpSink::start();
    let server = server_mailing_to(&smtp);
    for name in ["alice", "sam", "sue", "bob"] {
        user_with_email(&server, name);
    }
    let db = server.connect_database().await;
    // Sam signs in with single sign-on only; Sue is suspended.
    execute(
        &db,
        "UPDATE users SET password_hash = '!sso' WHERE username = 'sam'",
        [],
    )
    .await;
    ok(cli(&server, &["user", "suspend", "sue"], None));

    let mut visitor = caller_from(&server, 41, FIREFOX);
    for who in ["alice", "alice", "alice", "alice", "sam", "sue"] {
        let response = visitor
            .call("request_password_reset", &[("who", who)])
            .await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    // From another address (this one's budget is nearly used up), a last one for Bob: once
    // his mail is in, the others' requests have long been handled.
    let mut other = caller_from(&server, 42, FIREFOX);
    assert_eq!(
        other
            .call("request_password_reset", &[("who", "bob")])
            .await
            .status(),
        StatusCode::OK
    );
    eventually("Bob's link", || async {
        (!reset_mails(&smtp, "bob@example.test", "password_reset").is_empty()).then_some(())
    })
    .await;
    eventually("Sam's mail", || async {
        (!reset_mails(&smtp, "sam@example.test", "password_reset_sso").is_empty()).then_some(())
    })
    .await;
    // The requests are handled in tasks of their own, in no set order: Alice's three links
    // may come after Bob's.
    eventually("Alice's three links", || async {
        (reset_mails(&smtp, "alice@example.test", "password_reset").len() >= 3).then_some(())
    })
    .await;
    let alices = reset_mails(&smtp, "alice@example.test", "password_reset");
    assert_eq!(alices.len(), 3, "three links an hour per account");
    let sams = reset_mails(&smtp, "sam@example.test", "password_reset_sso");
    assert!(sams[0].body.contains("single sign-on"));
    assert!(
        !sams[0].body.contains("code="),
        "no link for an account without a password"
    );
    assert!(reset_mails(&smtp, "sam@example.test", "password_reset").is_empty());
    assert!(
        smtp.mails().iter().all(|m| !m.to().contains("sue@")),
        "suspended: nothing"
    );

    // Per address: 10 in 15 minutes, then 429 whoever is asked for.
    for n in 0..4 {
        let response = visitor
            .call("request_password_reset", &[("who", &format!("nobody{n}"))])
            .await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    let throttled = visitor
        .call("request_password_reset", &[("who", "alice")])
        .await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(json(throttled).await.get("RateLimited").is_some());

    // Expired: 30 minutes later the link opens nothing.
    let (_, code) = link_in(&reset_mails(&smtp, "bob@example.test", "password_reset")[0]);
    execute(
        &db,
        "UPDATE password_resets SET expires_at = $1",
        [(chrono::Utc::now() - chrono::Duration::seconds(1)).into()],
    )
    .await;
    let mut late = caller_from(&server, 43, FIREFOX);
    late.cookie = Some(follow(&server, &code).await);
    assert_eq!(
        late.call("reset_link_state", &[]).await.status(),
        StatusCode::CONFLICT
    );
    let refused = late
        .call(
            "reset_password",
            &[
                ("password", NEW_PASSWORD),
                ("password_confirmation", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let mut bob = caller_from(&server, 44, FIREFOX);
    assert!(
        bob.sign_in("bob", PASSWORD).await.status().is_success(),
        "unchanged"
    );
}

#[tokio::test]
async fn without_mail_there_is_no_link_and_the_operator_resets() {
    let server = TestServer::start();
    let mut alice = caller_from(&server, 51, FIREFOX);
    alice.sign_up("alice").await;
    let mut visitor = caller_from(&server, 52, FIREFOX);
    let refused = visitor
        .call("request_password_reset", &[("who", "alice")])
        .await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(
        json(refused).await["Rule"]
            .as_str()
            .unwrap()
            .contains("ask an administrator")
    );
    let page = visitor.get("/signin").await.text().await.unwrap();
    assert!(!page.contains("/forgot-password"), "no link offered");
    assert!(page.contains("Ask an administrator"));

    let out = ok(cli(
        &server,
        &["user", "reset-password", "alice"],
        Some(&format!("{NEW_PASSWORD}\n")),
    ));
    assert!(String::from_utf8_lossy(&out.stdout).contains("new password set for alice"));
    assert!(!still_signed_in(&alice).await, "every session ends");
    let mut again = caller_from(&server, 53, FIREFOX);
    assert!(
        again
            .sign_in("alice", NEW_PASSWORD)
            .await
            .status()
            .is_success()
    );
    let short = cli(
        &server,
        &["user", "reset-password", "alice"],
        Some("short\n"),
    );
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 10 characters"));
    let nobody = cli(
        &server,
        &["user", "reset-password", "nobody"],
        Some(&format!("{NEW_PASSWORD}\n")),
    );
    assert!(!nobody.status.success());
    let db = server.connect_database().await;
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) AS n FROM activity WHERE kind = 'password_changed' \
             AND target = 'set by the operator'",
            []
        )
        .await,
        1
    );
}

#[tokio::test]
async fn the_session_list_is_ones_own_and_signs_out_only_ones_own() {
    let server = TestServer::start();
    let mut alice = caller_from(&server, 61, FIREFOX);
    alice.sign_up("alice").await;
    let alice_phone = signed_in(&server, 62, "alice", PASSWORD).await;
    let mut bob = caller_from(&server, 63, FIREFOX);
    bob.sign_up("bob").await;
    // Each session is seen once (its address and browser are noted on its first request).
    assert!(still_signed_in(&alice_phone).await);

    let listed = json(alice.call("my_sessions", &[]).await).await;
    let listed = listed.as_array().unwrap().clone();
    assert_eq!(listed.len(), 2, "{listed:?}");
    let current: Vec<&Value> = listed.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    let phone = listed.iter().find(|s| s["current"] == false).unwrap();
    assert_eq!(phone["browser"], "Firefox on Linux");
    assert_eq!(phone["address"], "127.0.0.62");
    let handle = phone["id"].as_str().unwrap().to_string();
    assert_eq!(handle.len(), 32);
    // The handle is not the cookie's digest (nor the cookie).
    let db = server.connect_database().await;
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) AS n FROM sessions WHERE id_digest = $1",
            [handle.clone().into()]
        )
        .await,
        0
    );

    // Bob cannot end Alice's session with its handle, nor his own current one this way.
    let bobs = json(bob.call("my_sessions", &[]).await).await;
    assert_eq!(bobs.as_array().unwrap().len(), 1, "only his own: {bobs}");
    let refused = bob.call("end_session", &[("id", &handle)]).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(still_signed_in(&alice_phone).await, "nothing ended");
    let own_current = bobs[0]["id"].as_str().unwrap();
    assert_eq!(
        bob.call("end_session", &[("id", own_current)])
            .await
            .status(),
        StatusCode::CONFLICT
    );
    assert!(still_signed_in(&bob).await);

    let ended = alice.call("end_session", &[("id", &handle)]).await;
    assert_eq!(ended.status(), StatusCode::OK);
    assert!(!still_signed_in(&alice_phone).await);
    assert!(still_signed_in(&alice).await);

    // Everywhere else: two more, then one click.
    let one = signed_in(&server, 64, "alice", PASSWORD).await;
    let two = signed_in(&server, 65, "alice", PASSWORD).await;
    let count_ended = json(alice.call("end_other_sessions", &[]).await).await;
    assert_eq!(count_ended, 2);
    assert!(!still_signed_in(&one).await && !still_signed_in(&two).await);
    assert!(still_signed_in(&alice).await);
    assert!(
        still_signed_in(&bob).await,
        "another account's session stays"
    );
}

#[tokio::test]
async fn the_code_that_confirmed_the_app_is_said_to_be_just_used() {
    let server = TestServer::start_env(&[(
        "PATDESK_SECRET_KEY",
        "a secret key for these tests, long enough",
    )]);
    let mut alice = caller_from(&server, 71, FIREFOX);
    alice.sign_up("alice").await;
    assert_eq!(
        alice.call("begin_totp_enrolment", &[]).await.status(),
        StatusCode::OK
    );
    let status = json(alice.call("two_factor_status", &[]).await).await;
    let secret = status["pending"]["secret"].as_str().unwrap().to_string();
    let now = chrono::Utc::now().timestamp() as u64;
    let used = code_at(&secret, now).unwrap();
    let confirmed = alice
        .call("confirm_totp_enrolment", &[("code", &used)])
        .await;
    assert_eq!(confirmed.status(), StatusCode::OK);

    let mut again = caller_from(&server, 72, FIREFOX);
    assert!(again.sign_in("alice", PASSWORD).await.status().is_success());
    let refused = again
        .call("sign_in_second_factor", &[("code", &used)])
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let message = field(&json(refused).await).remove(0).1;
    assert!(
        message.starts_with("That code was just used; wait for the next one"),
        "{message}"
    );
    // A code that is simply wrong still gets the usual words.
    let wrong = (0..)
        .map(|n| format!("{:06}", 123_456 + n))
        .find(|c| {
            (-2..=2).all(|s: i64| code_at(&secret, (now as i64 + s * 30) as u64).unwrap() != *c)
        })
        .unwrap();
    let refused = again
        .call("sign_in_second_factor", &[("code", &wrong)])
        .await;
    let message = field(&json(refused).await).remove(0).1;
    assert!(message.starts_with("That code is not right"), "{message}");
    // The next step's code signs in.
    let next = code_at(&secret, now + 30).unwrap();
    let done = again
        .call("sign_in_second_factor", &[("code", &next)])
        .await;
    assert!(done.status().is_success(), "{}", done.status());
    // Sudo mode's confirmation says the same of the code just used.
    let confirm = again
        .call(
            "confirm_identity",
            &[("password", PASSWORD), ("code", &next)],
        )
        .await;
    assert_eq!(confirm.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let message = field(&json(confirm).await).remove(0).1;
    assert!(message.starts_with("That code was just used"), "{message}");
}

#[tokio::test]
async fn a_reset_does_not_sign_past_the_second_factor() {
    let smtp = SmtpSink::start();
    let env = mail_env(&smtp);
    let mut refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    refs.push((
        "PATDESK_SECRET_KEY",
        "a secret key for these tests, long enough",
    ));
    let server = TestServer::start_env(&refs);
    user_with_email(&server, "alice");
    let mut alice = signed_in(&server, 81, "alice", PASSWORD).await;
    alice.call("begin_totp_enrolment", &[]).await;
    let status = json(alice.call("two_factor_status", &[]).await).await;
    let secret = status["pending"]["secret"].as_str().unwrap().to_string();
    let now = chrono::Utc::now().timestamp() as u64;
    let confirmed = alice
        .call(
            "confirm_totp_enrolment",
            &[("code", &code_at(&secret, now).unwrap())],
        )
        .await;
    assert_eq!(confirmed.status(), StatusCode::OK);

    let mut visitor = caller_from(&server, 82, FIREFOX);
    visitor
        .call("request_password_reset", &[("who", "alice")])
        .await;
    let mail = eventually("the link", || async {
        reset_mails(&smtp, "alice@example.test", "password_reset")
            .into_iter()
            .next()
    })
    .await;
    let (_, code) = link_in(&mail);
    let mut reset = caller_from(&server, 83, FIREFOX);
    reset.cookie = Some(follow(&server, &code).await);
    let done = reset
        .call(
            "reset_password",
            &[
                ("password", NEW_PASSWORD),
                ("password_confirmation", NEW_PASSWORD),
            ],
        )
        .await;
    assert!(done.status().is_success());
    assert_eq!(
        done.headers()[header::LOCATION].to_str().unwrap(),
        "/signin?reset=two-factor"
    );
    assert!(
        reset
            .cookie
            .as_deref()
            .is_none_or(|c| !c.starts_with("patdesk_session=")),
        "no session without the second factor: {:?}",
        reset.cookie
    );
    assert!(!still_signed_in(&alice).await);
    // The new password leads to the second step, not into the account.
    let mut again = caller_from(&server, 84, FIREFOX);
    again.sign_in("alice", NEW_PASSWORD).await;
    assert!(
        again
            .cookie
            .as_deref()
            .unwrap()
            .starts_with("patdesk_sign_in=")
    );
}
