//! Notifications (docs/notifications.md), end to end through a real SMTP server (aiosmtpd):
//! expiry reminders once each across sweeps, restarts and processes; new-IP alerts; revocation
//! notices whatever the preferences; a mail server that is down delays mail, never loses or
//! repeats it; no mail carries a secret.

mod support;

use chrono::{Duration, Utc};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use support::{
    Caller, FAST_FLUSH, PASSWORD, TestServer, alice_owns_ops, cli, eventually, json, ok,
    smtp::{Mail, SmtpSink},
};

const PUBLIC_URL: &str = "http://patdesk.test";

/// What a server that mails through `smtp` is started with: sweeps every second, retries
/// after a second.
fn mail_env(smtp: &SmtpSink) -> Vec<(&'static str, String)> {
    vec![
        ("PATDESK_SMTP_URL", smtp.url()),
        ("PATDESK_MAIL_FROM", "patdesk <patdesk@patdesk.test>".into()),
        ("PATDESK_PUBLIC_URL", PUBLIC_URL.into()),
        ("PATDESK_NOTIFY_INTERVAL_SECONDS", "1".into()),
        ("PATDESK_MAIL_RETRY_SECONDS", "1".into()),
        (FAST_FLUSH.0, FAST_FLUSH.1.into()),
    ]
}

fn refs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// A user with an email address, made with the CLI (`user add --email`).
fn user_with_email(server: &TestServer, name: &str) -> String {
    let email = format!("{name}@example.test");
    ok(cli(
        server,
        &["user", "add", name, "--email", &email],
        Some(&format!("{PASSWORD}\n")),
    ));
    email
}

/// Creates a token with the CLI (`--expires-in-days days`) and returns (id, value).
fn token_for(server: &TestServer, user: &str, description: &str, days: u32) -> (String, String) {
    let days = days.to_string();
    let out = ok(cli(
        server,
        &[
            "token",
            "create",
            "--user",
            user,
            "--team",
            "ops",
            "--description",
            description,
            "--expires-in-days",
            &days,
            "--json",
        ],
        None,
    ));
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    (
        created["id"].as_str().unwrap().into(),
        created["token"].as_str().unwrap().into(),
    )
}

/// A 7-day token created a day ago (what no interface offers: time passing): it expires within
/// 7 days, and lived longer than 7, so it is reminded (a token that only ever lives 7 days is
/// short-lived by design and is not: `domain::tokens::expiry_warns`).
async fn reminded_token(server: &TestServer, user: &str, description: &str) -> (String, String) {
    let (id, secret) = token_for(server, user, description, 7);
    let db = server.connect_database().await;
    let a_day_ago = Utc::now() - Duration::days(1);
    let sql = "UPDATE tokens SET created_at = $1 WHERE id = $2";
    assert_eq!(
        support::execute(&db, sql, [a_day_ago.into(), id.as_str().into()]).await,
        1
    );
    (id, secret)
}

/// Moves a token's expiry (what no interface offers: time passing), as a 30-day token's: its
/// creation moves to 30 days before (a token living 7 days or less is never reminded).
async fn set_expiry(server: &TestServer, id: &str, at: chrono::DateTime<Utc>) {
    let db = server.connect_database().await;
    support::set_token_expiry(&db, id, Some(at)).await;
    let created = at - Duration::days(30);
    let sql = "UPDATE tokens SET created_at = $1 WHERE id = $2";
    assert_eq!(
        support::execute(&db, sql, [created.into(), id.into()]).await,
        1
    );
}

/// Waits until no mail is pending (all sent, or given up), so that counting mails is final.
async fn outbox_drained(server: &TestServer) {
    let db = server.connect_database().await;
    eventually("every pending mail sent", || async {
        let pending = "SELECT COUNT(*) AS n FROM notifications WHERE mail_state = 'pending'";
        let pending = support::count(&db, pending, []).await;
        (pending == 0).then_some(())
    })
    .await;
}

/// Waits for exactly `count` mails of `kind` about `token_id` and returns them.
async fn wait_for(smtp: &SmtpSink, kind: &str, token_id: &str, count: usize) -> Vec<Mail> {
    eventually(
        &format!("{count} {kind} mail(s) for {token_id}"),
        || async {
            let mails = smtp.about(kind, token_id);
            (mails.len() >= count).then_some(mails)
        },
    )
    .await
}

fn assert_no_secret(smtp: &SmtpSink, secrets: &[&str]) {
    let mails = smtp.mails();
    assert!(!mails.is_empty());
    for mail in &mails {
        for secret in secrets {
            assert!(
                !mail.contains(secret),
                "a mail carries a token secret:\n{}",
                mail.raw
            );
            // Not even the secret part without the prefix.
            assert!(!mail.contains(&secret[4..]), "{}", mail.raw);
        }
    }
}

#[tokio::test]
async fn expiry_reminders_are_mailed_once_across_sweeps_and_a_restart() {
    let smtp = SmtpSink::start();
    let env = mail_env(&smtp);
    let first = TestServer::start_env(&refs(&env));
    let email = user_with_email(&first, "alice");
    ok(cli(
        &first,
        &["team", "add", "ops", "--owner", "alice"],
        None,
    ));

    // Expires in 7 days: reminded at once, by the start-up sweep or the next.
    let (weekly, weekly_secret) = reminded_token(&first, "alice", "weekly backup").await;
    // A token that lives 7 days in all is not reminded of its expiry.
    let (short, _) = token_for(&first, "alice", "one week job", 7);
    let reminder = wait_for(&smtp, "expires_in_7_days", &weekly, 1)
        .await
        .remove(0);
    assert_eq!(reminder.to(), email);
    assert_eq!(
        reminder.header("Subject"),
        "Your token \"weekly backup\" expires within 7 days"
    );
    let hint = &weekly_secret[weekly_secret.len() - 4..];
    assert!(
        reminder.body.contains(&format!("pdk_…{hint}")),
        "{}",
        reminder.body
    );
    assert!(
        reminder
            .body
            .contains(&format!("{PUBLIC_URL}/tokens/{weekly}"))
    );
    assert!(reminder.body.contains("team ops"));

    // A later sweep (it finds a token that is due only now) mails that one, not the first again.
    let (daily, daily_secret) = token_for(&first, "alice", "canary", 30);
    set_expiry(&first, &daily, Utc::now() + Duration::hours(20)).await;
    wait_for(&smtp, "expires_in_1_day", &daily, 1).await;

    // A restart: the reminders are stored, not found again.
    let url = first.database_url();
    let kept = first.terminate_keep_data();
    let second = TestServer::start_with(tempfile::tempdir().unwrap(), &url, &refs(&env));
    let (gone, gone_secret) = token_for(&second, "alice", "old importer", 30);
    set_expiry(&second, &gone, Utc::now() - Duration::minutes(1)).await;
    let expired = wait_for(&smtp, "expired", &gone, 1).await.remove(0);
    assert!(
        expired
            .body
            .contains(&format!("Regenerate it: {PUBLIC_URL}/tokens/{gone}")),
        "{}",
        expired.body
    );
    outbox_drained(&second).await;

    assert_eq!(smtp.about("expires_in_7_days", &weekly).len(), 1);
    assert_eq!(smtp.about("expires_in_1_day", &daily).len(), 1);
    assert_eq!(smtp.about("expires_in_7_days", &daily).len(), 0);
    assert_eq!(smtp.about("expires_in_7_days", &short).len(), 0);
    assert_eq!(smtp.about("expired", &gone).len(), 1);
    // GitHub's "a new token was created on your account", once per token.
    for id in [&weekly, &daily, &gone] {
        assert_eq!(smtp.about("token_created", id).len(), 1, "{id}");
    }
    assert_no_secret(&smtp, &[&weekly_secret, &daily_secret, &gone_secret]);
    drop(kept);
}

#[tokio::test]
async fn a_new_ip_is_mailed_once_an_hour_and_listed_every_time() {
    let smtp = SmtpSink::start();
    let mut env = mail_env(&smtp);
    env.push(("PATDESK_TRUST_FORWARDED_FOR", "true".into()));
    let server = TestServer::start_env(&refs(&env));
    user_with_email(&server, "bob");
    ok(cli(
        &server,
        &["team", "add", "ops", "--owner", "bob"],
        None,
    ));
    let (id, secret) = token_for(&server, "bob", "metrics scraper", 30);
    let http = Client::new();
    let db = server.connect_database().await;
    let use_from = |ip: &'static str| {
        let http = http.clone();
        let url = server.url("/api/v1/me");
        let secret = secret.clone();
        async move {
            let response = http
                .get(url)
                .bearer_auth(secret)
                .header("X-Forwarded-For", ip)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
        }
    };
    let stored_ips = || async {
        let ips = "SELECT last_used_ips AS v FROM tokens WHERE id = $1";
        support::text(&db, ips, [id.as_str().into()])
            .await
            .unwrap_or_default()
    };
    let notices_of = |kind: &'static str| {
        let db = db.clone();
        let id = id.clone();
        async move {
            let notices =
                "SELECT COUNT(*) AS n FROM notifications WHERE token_id = $1 AND kind = $2";
            support::count(&db, notices, [id.into(), kind.into()]).await
        }
    };

    // The first use has nothing to compare with: no alert.
    use_from("198.51.100.1").await;
    eventually("the first address stored", || async {
        stored_ips().await.contains("198.51.100.1").then_some(())
    })
    .await;
    // Two uses from a new address: one alert.
    use_from("203.0.113.9").await;
    use_from("203.0.113.9").await;
    let alert = wait_for(&smtp, "new_ip", &id, 1).await.remove(0);
    assert!(alert.body.contains("203.0.113.9"), "{}", alert.body);
    assert!(!alert.body.contains("198.51.100.1"));
    // Another new address within the hour: listed in the app, not mailed again.
    use_from("192.0.2.44").await;
    eventually("the second new address noticed", || async {
        (notices_of("new_ip").await == 2).then_some(())
    })
    .await;
    outbox_drained(&server).await;
    assert_eq!(smtp.about("new_ip", &id).len(), 1);
    assert_eq!(notices_of("new_ip").await, 2);

    // In the app: both, unread, each linking to the token.
    let mut bob = Caller::new(&server);
    bob.sign_in("bob", PASSWORD).await;
    let listed = json(bob.call("my_notices", &[("limit", "8")]).await).await;
    let new_ip: Vec<&Value> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == "new_ip")
        .collect();
    assert_eq!(new_ip.len(), 2);
    assert!(
        new_ip
            .iter()
            .all(|n| n["token_id"] == id.as_str() && n["read"] == false)
    );
    assert_eq!(
        listed["unread"], 3,
        "two new addresses and the new token: {listed}"
    );
    // Marking one read, then all.
    let first_id = new_ip[0]["id"].to_string();
    // Somebody else cannot mark bob's.
    let mut carol = Caller::new(&server);
    carol.sign_up("carol").await;
    let marked = json(carol.call("mark_notices_read", &[("id", &first_id)]).await).await;
    assert_eq!(marked, 0);
    let marked = json(bob.call("mark_notices_read", &[("id", &first_id)]).await).await;
    assert_eq!(marked, 1);
    let listed = json(bob.call("my_notices", &[("limit", "8")]).await).await;
    assert_eq!(listed["unread"], 2);
    json(bob.call("mark_notices_read", &[]).await).await;
    let listed = json(bob.call("my_notices", &[("limit", "8")]).await).await;
    assert_eq!(listed["unread"], 0);
    assert_no_secret(&smtp, &[&secret]);
}

#[tokio::test]
async fn revocations_are_mailed_whatever_the_preferences_and_turned_off_kinds_are_not() {
    let smtp = SmtpSink::start();
    let server = TestServer::start_env(&refs(&mail_env(&smtp)));
    // alice administers ops (no address); bob writes in it and turns every optional mail off.
    alice_owns_ops(&server);
    user_with_email(&server, "bob");
    ok(cli(
        &server,
        &["team", "member", "add", "ops", "bob", "--role", "writer"],
        None,
    ));
    let mut bob = Caller::new(&server);
    bob.sign_in("bob", PASSWORD).await;
    let saved = bob
        .call("save_account", &[("email", "Bob@Example.test")])
        .await;
    assert_eq!(saved.status(), StatusCode::OK);
    let settings = json(bob.call("account_settings", &[]).await).await;
    assert_eq!(settings["email"], "Bob@Example.test");
    assert_eq!(settings["mail_expiry"], false);
    assert_eq!(settings["mail_new_ip"], false);
    assert_eq!(settings["mail_new_token"], false);
    assert_eq!(settings["mail_configured"], true);

    // Due for a reminder and new: neither is mailed (both are listed in the app).
    let (deploy, deploy_secret) = reminded_token(&server, "bob", "ci deploy").await;
    let (laptop, laptop_secret) = token_for(&server, "bob", "laptop", 30);
    // The reminder is noticed (in the app) before the token is revoked below.
    let db = server.connect_database().await;
    eventually("the 7-day reminder noticed", || async {
        let noticed = "SELECT COUNT(*) AS n FROM notifications WHERE token_id = $1 AND kind = $2";
        let values = [deploy.as_str().into(), "expires_in_7_days".into()];
        let noticed = support::count(&db, noticed, values).await;
        (noticed == 1).then_some(())
    })
    .await;

    // alice revokes one with a reason; someone reports the other as leaked.
    let mut alice = Caller::new(&server);
    alice.sign_in("alice", PASSWORD).await;
    let revoked = alice
        .call(
            "revoke_team_token",
            &[
                ("team", "ops"),
                ("id", &deploy),
                ("reason", "rotated after offboarding"),
            ],
        )
        .await;
    assert_eq!(revoked.status(), StatusCode::OK);
    let reported = Client::new()
        .post(server.url("/api/v1/credentials/revoke"))
        .json(&json!({"credentials": [laptop_secret], "source": "https://paste.example.test/x1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reported.status(), StatusCode::ACCEPTED);

    let by_admin = wait_for(&smtp, "token_revoked", &deploy, 1).await.remove(0);
    assert_eq!(by_admin.to(), "Bob@Example.test");
    assert!(
        by_admin
            .body
            .contains("Revoked by alice: \"rotated after offboarding\""),
        "{}",
        by_admin.body
    );
    let leaked = wait_for(&smtp, "token_revoked", &laptop, 1).await.remove(0);
    assert!(
        leaked.body.contains("reported as leaked"),
        "{}",
        leaked.body
    );
    assert!(leaked.body.contains("https://paste.example.test/x1"));
    outbox_drained(&server).await;
    let kinds: Vec<String> = smtp
        .mails()
        .iter()
        .map(|m| m.notice().to_string())
        .collect();
    assert_eq!(
        kinds,
        ["token_revoked", "token_revoked"],
        "only revocations are mailed"
    );
    let listed = json(bob.call("my_notices", &[("limit", "20")]).await).await;
    let listed_kinds: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    for kind in ["token_created", "expires_in_7_days", "token_revoked"] {
        assert!(
            listed_kinds.contains(&kind),
            "{kind} missing from {listed_kinds:?}"
        );
    }
    assert_no_secret(&smtp, &[&deploy_secret, &laptop_secret]);
}

#[tokio::test]
async fn email_addresses_are_checked_and_belong_to_one_account() {
    let server = TestServer::start();
    let mut alice = Caller::new(&server);
    let created = alice
        .call(
            "sign_up",
            &[
                ("username", "alice"),
                ("password", PASSWORD),
                ("password_confirmation", PASSWORD),
                ("email", "Alice@Example.test"),
            ],
        )
        .await;
    assert!(created.status().is_redirection() || created.status().is_success());
    // Taken, in any case, or malformed: 422 naming the field, and no account. A taken address
    // is not said to be taken (no way to find out who has an account; docs/threat-model.md).
    let mut other = Caller::new(&server);
    for (email, says) in [
        ("alice@example.TEST", app::auth::EMAIL_NOT_USABLE),
        ("alice@", "Enter an email address like name@example.com."),
        (
            "not an address",
            "Enter an email address like name@example.com.",
        ),
    ] {
        let refused = other
            .call(
                "sign_up",
                &[
                    ("username", "mallory"),
                    ("password", PASSWORD),
                    ("password_confirmation", PASSWORD),
                    ("email", email),
                ],
            )
            .await;
        assert_eq!(
            refused.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{email}"
        );
        let body = refused.text().await.unwrap();
        assert!(body.contains("email") && body.contains(says), "{body}");
        assert!(!body.contains("another account"), "{body}");
    }
    let mut mallory = Caller::new(&server);
    let refused = mallory.sign_in("mallory", PASSWORD).await;
    assert!(
        refused.status().is_client_error() && mallory.cookie.is_none(),
        "no half-made account: {}",
        refused.status()
    );
    // Without an address: fine; taking alice's on the account page: refused.
    mallory.sign_up("mallory").await;
    let taken = mallory
        .call("save_account", &[("email", "ALICE@example.test")])
        .await;
    assert_eq!(taken.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        taken
            .text()
            .await
            .unwrap()
            .contains("belongs to another account")
    );
    let settings = json(mallory.call("account_settings", &[]).await).await;
    assert_eq!(settings["email"], Value::Null);
    assert_eq!(settings["mail_configured"], false);
    // Signed out: no notices (the header asks on every page), and nothing to mark.
    let mut visitor = Caller::new(&server);
    let signed_out = visitor.call("my_notices", &[("limit", "8")]).await;
    assert_eq!(signed_out.status(), StatusCode::OK);
    assert_eq!(json(signed_out).await, Value::Null);
    let marked = visitor.call("mark_notices_read", &[]).await;
    assert_eq!(marked.status(), StatusCode::UNAUTHORIZED);
    // A server without SMTP settings says so once and works as before.
    assert!(server.log().contains("PATDESK_SMTP_URL is not set"));
}

#[tokio::test]
async fn a_mail_server_that_is_down_delays_mail_but_never_loses_or_repeats_it() {
    let mut smtp = SmtpSink::start();
    smtp.stop();
    let server = TestServer::start_env(&refs(&mail_env(&smtp)));
    user_with_email(&server, "carol");
    ok(cli(
        &server,
        &["team", "add", "ops", "--owner", "carol"],
        None,
    ));
    let mut tokens: Vec<(String, String)> = Vec::new();
    for i in 0..5 {
        tokens.push(reminded_token(&server, "carol", &format!("job {i}")).await);
    }
    let db = server.connect_database().await;
    // Every mail tried at least once, and refused.
    eventually("every mail tried while the mail server is down", || async {
        let untried = "SELECT COUNT(*) AS n FROM notifications \
            WHERE mail_state = 'pending' AND mail_attempts = 0";
        let untried = support::count(&db, untried, []).await;
        let failed_tries = "SELECT COUNT(*) AS n FROM notifications WHERE mail_attempts > 0";
        let failed_tries = support::count(&db, failed_tries, []).await;
        (untried == 0 && failed_tries == 10).then_some(())
    })
    .await;
    assert!(smtp.mails().is_empty());
    smtp.resume();
    outbox_drained(&server).await;
    for (id, _) in &tokens {
        assert_eq!(smtp.about("expires_in_7_days", id).len(), 1, "{id}");
        assert_eq!(smtp.about("token_created", id).len(), 1, "{id}");
    }
    assert_eq!(smtp.mails().len(), 10);
    assert!(server.log().contains("mail not sent; will retry"));
}

/// Two processes on one PostgreSQL, 200 reminders due at once: each is mailed exactly once.
#[tokio::test]
#[ignore = "needs PostgreSQL: `make test-rust-postgres` runs it"]
async fn two_processes_mail_each_of_200_reminders_exactly_once() {
    use domain::{
        identity::users::MailPreferences,
        tokens::{Expiry, NewToken, TokenKind},
    };

    let smtp = SmtpSink::start();
    let database = support::postgres::TempDatabase::create();
    let setup_dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], stdin: Option<&str>| {
        ok(support::cli_at(
            setup_dir.path(),
            &database.url,
            args,
            stdin,
        ))
    };
    run(&["migrate"], None);
    run(
        &["user", "add", "owner0", "--email", "owner0@example.test"],
        Some(&format!("{PASSWORD}\n")),
    );
    run(&["team", "add", "ops", "--owner", "owner0"], None);
    let owners: Vec<String> = (0..4).map(|i| format!("owner{i}")).collect();
    for owner in &owners[1..] {
        let email = format!("{owner}@example.test");
        run(
            &["user", "add", owner, "--email", &email],
            Some(&format!("{PASSWORD}\n")),
        );
        run(
            &["team", "member", "add", "ops", owner, "--role", "reader"],
            None,
        );
    }
    // 50 tokens each, all due for the 7-day reminder; "new token" mails turned off first.
    let db = domain::db::connect(&database.url.parse().unwrap())
        .await
        .unwrap();
    let mut ids = Vec::new();
    for owner in &owners {
        let user = domain::identity::users::find(
            &db,
            &domain::identity::names::Username::parse(owner).unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
        let email =
            domain::identity::names::Email::parse(&format!("{owner}@example.test")).unwrap();
        let mail = MailPreferences {
            new_token: false,
            ..MailPreferences::default()
        };
        domain::identity::users::update_settings(
            &db,
            domain::Origin::new(user.id, None),
            Some(&email),
            mail,
        )
        .await
        .unwrap();
        for i in 0..50 {
            let description = format!("{owner} job {i}");
            let request = NewToken {
                description: &description,
                team: "ops",
                write: false,
                expiry: Expiry::Days(7),
                kind: TokenKind::Personal,
                allowed: domain::tokens::allow_list::AllowList::any(),
                rate_limit: None,
                permissions: None,
            };
            let issued = domain::tokens::create_by_operator(&db, user.id, request)
                .await
                .unwrap();
            ids.push((owner.clone(), issued.info.id));
        }
    }
    // Created a day ago: they lived longer than 7 days, so their expiry is reminded.
    let a_day_ago = Utc::now() - Duration::days(1);
    support::execute(&db, "UPDATE tokens SET created_at = $1", [a_day_ago.into()]).await;
    let env = mail_env(&smtp);
    let servers: Vec<TestServer> = std::thread::scope(|scope| {
        let started: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    TestServer::start_with(tempfile::tempdir().unwrap(), &database.url, &refs(&env))
                })
            })
            .collect();
        started.into_iter().map(|s| s.join().unwrap()).collect()
    });
    eventually("200 reminders mailed", || async {
        (smtp.mails().len() >= 200).then_some(())
    })
    .await;
    outbox_drained(&servers[0]).await;
    let mails = smtp.mails();
    assert_eq!(mails.len(), 200, "one mail per token, no more");
    for (owner, id) in &ids {
        let about: Vec<&Mail> = mails.iter().filter(|m| m.token() == id).collect();
        assert_eq!(about.len(), 1, "{id}");
        assert_eq!(about[0].notice(), "expires_in_7_days");
        assert_eq!(about[0].to(), format!("{owner}@example.test"));
    }
    // Each mail was sent by one of the processes (each logs the mails it sent).
    let sent_by: Vec<usize> = servers
        .iter()
        .map(|s| s.log().matches("mail sent").count())
        .collect();
    assert_eq!(sent_by.iter().sum::<usize>(), 200, "{sent_by:?}");
}

/// The header's user menu is HTML drawn on the server and put into the page as it is
/// (docs/frontend.md, "The shell"): what a user typed — here a token's description, in the
/// notice of its creation — is escaped in it, never markup.
#[tokio::test]
async fn the_user_menu_escapes_what_users_typed() {
    let server = TestServer::start();
    alice_owns_ops(&server);
    token_for(&server, "alice", "<img src=x onerror=alert(1)>", 30);
    let mut alice = Caller::new(&server);
    alice.sign_in("alice", PASSWORD).await;
    let header = json(alice.call("header_state", &[]).await).await;
    assert_eq!(header["user"]["username"], "alice");
    let html = header["html"].as_str().expect("the menu's HTML");
    assert!(html.contains("Signed in as"), "{html}");
    // The bell (the notices) is a part of its own, in the bar at every width.
    let bell = header["bell"].as_str().expect("the bell's HTML");
    assert!(
        bell.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "the notice's headline, escaped: {bell}"
    );
    assert!(!bell.contains("<img"), "{bell}");
    // A visitor gets the sign-in links, and no user.
    let visitor = json(Caller::new(&server).call("header_state", &[]).await).await;
    assert_eq!(visitor["user"], Value::Null);
    assert!(
        visitor["html"]
            .as_str()
            .unwrap()
            .contains("href=\"/signin\"")
    );
}
