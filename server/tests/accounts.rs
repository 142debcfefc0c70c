//! Accounts, sessions and teams, tried from outside: server functions called directly over HTTP
//! (as an attacker would), the CLI as an operator would, and the database file as a thief would.

mod support;

use reqwest::{StatusCode, header};
use serde_json::Value;
use support::{Caller, PASSWORD, TestServer, cli, client, eventually, json, ok, token};

#[tokio::test]
async fn sessions_cookies_and_sign_in_answers() {
    // Trusted forwarded headers: the HTTPS sign-in below comes through a loopback "proxy".
    let server = TestServer::start_env(&[("PATDESK_TRUST_FORWARDED_FOR", "true")]);
    let mut alice = Caller::new(&server);

    // Signed out: private pages send you to sign in, and back afterwards.
    let page = alice.get("/teams").await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(page.headers()[header::LOCATION], "/signin?next=%2Fteams");

    let response = alice
        .call(
            "sign_up",
            &[
                ("username", "Alice"),
                ("password", PASSWORD),
                ("password_confirmation", PASSWORD),
            ],
        )
        .await;
    let set_cookie = response.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_string();
    assert!(set_cookie.starts_with("patdesk_session="), "{set_cookie}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    assert!(
        !set_cookie.contains("Secure"),
        "plain HTTP must not set Secure: {set_cookie}"
    );
    let first_session = alice.cookie.clone().unwrap();
    assert_eq!(alice.get("/teams").await.status(), StatusCode::OK);

    // Over HTTPS (as a proxy reports it) the cookie is Secure.
    let https = client()
        .post(server.url("/rpc/sign_in"))
        .header(header::ORIGIN, &server.base)
        .header("x-forwarded-proto", "https")
        .form(&[("username", "alice"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(
        https.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Secure")
    );

    // Wrong password and unknown user: the same status, the same words.
    let wrong = alice.sign_in("alice", "not the password").await;
    let wrong_status = wrong.status();
    let wrong_body = json(wrong).await;
    let unknown = alice.sign_in("nobody-here", "not the password").await;
    assert_eq!(wrong_status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.status(), wrong_status);
    assert_eq!(json(unknown).await, wrong_body);
    assert_eq!(
        wrong_body["Field"]["message"],
        "Wrong username or password."
    );

    // Signing in again renews the session id; the old one stops working.
    alice.cookie = Some(first_session.clone());
    let response = alice.sign_in("ALICE", PASSWORD).await;
    assert!(!response.status().is_client_error());
    let renewed = alice.cookie.clone().unwrap();
    assert_ne!(renewed, first_session);
    let mut stale = Caller::new(&server);
    stale.cookie = Some(first_session);
    assert_eq!(stale.get("/teams").await.status(), StatusCode::SEE_OTHER);

    // Sign-out ends the session on the server, not only in the browser.
    alice.call("sign_out", &[]).await;
    let mut replay = Caller::new(&server);
    replay.cookie = Some(renewed);
    assert_eq!(replay.get("/").await.status(), StatusCode::SEE_OTHER);

    // Private redirects never point off-site.
    let mut bob = Caller::new(&server);
    bob.sign_up("bob").await;
    bob.call("sign_out", &[]).await;
    let response = bob
        .call(
            "sign_in",
            &[
                ("username", "bob"),
                ("password", PASSWORD),
                ("next", "//evil.example/x"),
            ],
        )
        .await;
    let location = response
        .headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_string());
    assert_eq!(location.as_deref(), Some("/"));
}

#[tokio::test]
async fn cross_site_requests_are_refused() {
    let server = TestServer::start();
    let mut alice = Caller::new(&server);
    alice.sign_up("alice").await;
    for origin in [Some("http://evil.example"), Some("null"), None] {
        let response = alice
            .call_from(
                "create_team",
                &[("slug", "stolen"), ("name", "Stolen")],
                origin,
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "origin {origin:?}"
        );
        assert_eq!(json(response).await["error"]["code"], "cross_site_request");
    }
    let teams = json(alice.call("my_teams", &[]).await).await;
    assert_eq!(
        teams,
        serde_json::json!([]),
        "no team may have been created"
    );
}

#[tokio::test]
async fn only_team_admins_manage_members() {
    let server = TestServer::start();
    let mut alice = Caller::new(&server);
    alice.sign_up("alice").await;
    let created = alice
        .call("create_team", &[("slug", "ops"), ("name", "Operations")])
        .await;
    assert!(!created.status().is_client_error(), "{}", created.status());

    // Bob comes from the CLI, as an operator would add him.
    let out = cli(
        &server,
        &["user", "add", "bob"],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cli(
        &server,
        &["user", "add", "mallory"],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(out.status.success());
    let out = cli(
        &server,
        &["team", "member", "add", "ops", "bob", "--role", "reader"],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut bob = Caller::new(&server);
    assert!(
        !bob.sign_in("bob", PASSWORD)
            .await
            .status()
            .is_client_error()
    );
    let mut mallory = Caller::new(&server);
    assert!(
        !mallory
            .sign_in("mallory", PASSWORD)
            .await
            .status()
            .is_client_error()
    );

    // A reader calling the admin's server functions directly.
    for (function, form) in [
        (
            "set_role",
            vec![("team", "ops"), ("username", "bob"), ("role", "admin")],
        ),
        (
            "remove_member",
            vec![("team", "ops"), ("username", "alice")],
        ),
        (
            "add_member",
            vec![("team", "ops"), ("username", "mallory"), ("role", "admin")],
        ),
    ] {
        let response = bob.call(function, &form).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{function}");
    }
    // A non-member cannot even see the team, let alone change it.
    let response = mallory.call("team_detail", &[("slug", "ops")]).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = mallory
        .call(
            "add_member",
            &[("team", "ops"), ("username", "mallory"), ("role", "admin")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // Signed-out callers get 401.
    let mut anonymous = Caller::new(&server);
    let response = anonymous.call("team_detail", &[("slug", "ops")]).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    let detail = json(bob.call("team_detail", &[("slug", "ops")]).await).await;
    let roles: Vec<(String, String)> = detail["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["username"].as_str().unwrap().into(),
                m["role"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        [
            ("alice".into(), "admin".into()),
            ("bob".into(), "reader".into())
        ]
    );

    // The admin can; the last admin cannot demote themself.
    assert!(
        alice
            .call(
                "set_role",
                &[("team", "ops"), ("username", "bob"), ("role", "writer")]
            )
            .await
            .status()
            .is_success()
    );
    let response = alice
        .call(
            "set_role",
            &[("team", "ops"), ("username", "alice"), ("role", "reader")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(
        json(response).await["Rule"]
            .as_str()
            .unwrap()
            .contains("last admin")
    );
}

/// A server function, its form fields, and the field the error should name.
type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);

#[tokio::test]
async fn bad_input_gets_a_message_about_the_field_never_a_500() {
    let server = TestServer::start();
    let mut caller = Caller::new(&server);
    let long = "x".repeat(33);
    let cases: Vec<Case> = vec![
        (
            "sign_up",
            vec![
                ("username", ""),
                ("password", PASSWORD),
                ("password_confirmation", PASSWORD),
            ],
            "username",
        ),
        (
            "sign_up",
            vec![
                ("username", &long),
                ("password", PASSWORD),
                ("password_confirmation", PASSWORD),
            ],
            "username",
        ),
        (
            "sign_up",
            vec![
                ("username", "bad name!"),
                ("password", PASSWORD),
                ("password_confirmation", PASSWORD),
            ],
            "username",
        ),
        (
            "sign_up",
            vec![
                ("username", "carol"),
                ("password", "short"),
                ("password_confirmation", "short"),
            ],
            "password",
        ),
        (
            "sign_up",
            vec![
                ("username", "carol"),
                ("password", PASSWORD),
                ("password_confirmation", "different!!"),
            ],
            "password_confirmation",
        ),
    ];
    for (function, form, field) in cases {
        let response = caller.call(function, &form).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{form:?}"
        );
        assert_eq!(json(response).await["Field"]["field"], field, "{form:?}");
    }
    caller.sign_up("carol").await;
    let long_slug = "s".repeat(41);
    for (function, form, field) in [
        ("create_team", vec![("slug", ""), ("name", "x")], "slug"),
        (
            "create_team",
            vec![("slug", long_slug.as_str()), ("name", "x")],
            "slug",
        ),
        (
            "create_team",
            vec![("slug", "under_score"), ("name", "x")],
            "slug",
        ),
        (
            "create_team",
            vec![("slug", "ok-slug"), ("name", &"n".repeat(101))],
            "name",
        ),
    ] {
        let response = caller.call(function, &form).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{form:?}"
        );
        assert_eq!(json(response).await["Field"]["field"], field);
    }
    assert!(
        caller
            .call("create_team", &[("slug", "ok-slug"), ("name", "")])
            .await
            .status()
            .is_success()
    );
    let response = caller
        .call("create_team", &[("slug", "OK-slug"), ("name", "")])
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        json(response).await["Field"]["message"]
            .as_str()
            .unwrap()
            .contains("already exists")
    );
    let response = caller
        .call(
            "add_member",
            &[
                ("team", "ok-slug"),
                ("username", "carol"),
                ("role", "owner"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(response).await["Field"]["field"], "role");
    // Missing arguments are the caller's mistake too.
    let response = caller.call("add_member", &[("team", "ok-slug")]).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(!server.log().contains("panicked"));
}

#[tokio::test]
async fn the_cli_validates_and_explains() {
    let server = TestServer::start();
    let ok = |out: &std::process::Output| {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        )
    };
    ok(&cli(
        &server,
        &["user", "add", "dana"],
        Some(&format!("{PASSWORD}\n")),
    ));
    ok(&cli(
        &server,
        &[
            "team",
            "add",
            "eng",
            "--owner",
            "dana",
            "--name",
            "Engineering",
        ],
        None,
    ));
    let cases: Vec<(Vec<&str>, Option<String>, &str)> = vec![
        (
            vec!["user", "add", "x"],
            Some(format!("{PASSWORD}\n")),
            "3 to 32",
        ),
        (
            vec!["user", "add", "Dana"],
            Some(format!("{PASSWORD}\n")),
            "taken",
        ),
        (
            vec!["user", "add", "erin"],
            Some("short\n".into()),
            "at least 10",
        ),
        (vec!["user", "add", "erin"], None, "Enter a password"),
        (
            vec!["team", "add", "eng", "--owner", "dana"],
            None,
            "already exists",
        ),
        (
            vec!["team", "add", "ops", "--owner", "ghost"],
            None,
            "no user named ghost",
        ),
        (
            vec!["team", "add", "Bad_Slug", "--owner", "dana"],
            None,
            "only letters",
        ),
        (
            vec!["team", "member", "add", "eng", "dana", "--role", "boss"],
            None,
            "Unknown role",
        ),
        (
            vec!["team", "member", "add", "eng", "ghost", "--role", "reader"],
            None,
            "no user named ghost",
        ),
        (
            vec!["team", "member", "add", "nope", "dana", "--role", "reader"],
            None,
            "team not found",
        ),
        (
            vec!["team", "member", "remove", "eng", "dana"],
            None,
            "last admin",
        ),
    ];
    for (args, stdin, expected) in cases {
        let out = cli(&server, &args, stdin.as_deref());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"));
    }
}

#[tokio::test]
async fn the_database_holds_no_password_or_session_id_in_clear() {
    // Reads the database's files, so always SQLite, whatever PATDESK_TEST_BACKEND says.
    let dir = tempfile::tempdir().unwrap();
    let url = support::sqlite_url(dir.path());
    let server = TestServer::start_in(dir, &url);
    let mut alice = Caller::new(&server);
    alice.sign_up("alice").await;
    let session = alice.cookie.clone().unwrap();
    let session_id = session.split_once('=').unwrap().1.to_string();
    alice
        .call("create_team", &[("slug", "ops"), ("name", "")])
        .await;
    let mut frank = Caller::new(&server);
    frank.sign_in("alice", "a wrong password for the log").await;

    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(server.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            bytes.extend(std::fs::read(&path).unwrap());
        }
    }
    assert!(bytes.len() > 4096, "expected database files");
    let haystack = String::from_utf8_lossy(&bytes);
    for secret in [
        PASSWORD,
        "a wrong password for the log",
        session_id.as_str(),
    ] {
        assert!(
            !haystack.contains(secret),
            "found a secret in the database files"
        );
    }
    let log = server.log();
    for secret in [
        PASSWORD,
        "a wrong password for the log",
        session_id.as_str(),
    ] {
        assert!(!log.contains(secret), "found a secret in the server log");
    }
}

/// The roles of a team's members, from `team_detail`.
async fn admins(caller: &mut Caller<'_>, team: &str) -> Vec<String> {
    let detail = json(caller.call("team_detail", &[("slug", team)]).await).await;
    detail["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "admin")
        .map(|m| m["username"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn two_admins_demoting_each_other_at_once_leave_one_admin() {
    let server = TestServer::start();
    let mut alice = Caller::new(&server);
    alice.sign_up("alice").await;
    let mut bob = Caller::new(&server);
    bob.sign_up("bob").await;
    let created = alice
        .call("create_team", &[("slug", "ops"), ("name", "Ops")])
        .await;
    assert!(created.status().is_success(), "{}", created.status());
    let added = alice
        .call(
            "add_member",
            &[("team", "ops"), ("username", "bob"), ("role", "admin")],
        )
        .await;
    assert!(added.status().is_success(), "{}", added.status());

    // Each round, both try to demote the other at the same moment. One wins; the other is then
    // no admin any more (403), or would demote the last admin (409). Never both, never a 500.
    for round in 0..20 {
        let (by_alice, by_bob) = tokio::join!(
            alice.call(
                "set_role",
                &[("team", "ops"), ("username", "bob"), ("role", "reader")]
            ),
            bob.call(
                "set_role",
                &[("team", "ops"), ("username", "alice"), ("role", "reader")]
            ),
        );
        let statuses = [by_alice.status(), by_bob.status()];
        assert!(
            statuses.iter().filter(|s| s.is_success()).count() == 1
                && statuses
                    .iter()
                    .any(|s| [StatusCode::FORBIDDEN, StatusCode::CONFLICT].contains(s)),
            "round {round}: {statuses:?}"
        );
        let remaining = admins(&mut alice, "ops").await;
        assert_eq!(remaining.len(), 1, "round {round}: admins {remaining:?}");
        // The one left an admin makes the other an admin again for the next round.
        let (winner, loser) = if remaining[0] == "alice" {
            (&mut alice, "bob")
        } else {
            (&mut bob, "alice")
        };
        let restored = winner
            .call(
                "set_role",
                &[("team", "ops"), ("username", loser), ("role", "admin")],
            )
            .await;
        assert!(restored.status().is_success(), "{}", restored.status());
    }
    let teams = json(bob.call("my_teams", &[]).await).await;
    assert_eq!(
        teams,
        serde_json::json!([
            {"slug": "ops", "name": "Ops", "role": "admin", "member_count": 2}
        ])
    );
}

/// The operator's commands are in the activity log of the user they affect, with "operator" as
/// the actor (before, `user add`, `team add` and `team member add|remove` left no entry, and
/// `token create|delete` were recorded as the owner's own doing).
#[tokio::test]
async fn cli_made_users_teams_and_memberships_are_in_the_activity_log() {
    let server = TestServer::start();
    let password = format!("{PASSWORD}\n");
    ok(cli(&server, &["user", "add", "alice"], Some(&password)));
    ok(cli(&server, &["user", "add", "bob"], Some(&password)));
    ok(cli(
        &server,
        &["team", "add", "ops", "--owner", "alice"],
        None,
    ));
    ok(cli(
        &server,
        &["team", "member", "add", "ops", "bob", "--role", "writer"],
        None,
    ));
    ok(cli(
        &server,
        &["team", "member", "remove", "ops", "bob"],
        None,
    ));
    let (id, _) = token(&server, "alice", "ops", "cli", false);
    ok(cli(&server, &["token", "delete", &id], None));

    let entries = |page: Value| -> Vec<(String, String, String)> {
        page["rows"]
            .as_array()
            .unwrap()
            .iter()
            .rev()
            .map(|r| {
                let text = |key: &str| r[key].as_str().unwrap_or_default().to_string();
                (text("kind"), text("actor"), text("target"))
            })
            .collect()
    };
    let entry = |kind: &str, actor: &str, target: &str| {
        (kind.to_string(), actor.to_string(), target.to_string())
    };
    let mut alice = Caller::new(&server);
    alice.sign_in("alice", PASSWORD).await;
    let log = entries(json(alice.call("my_activity", &[("page", "1")]).await).await);
    assert_eq!(
        log[..4],
        [
            entry("user_created", "operator", "user alice"),
            entry("team_created", "operator", "team ops"),
            entry("token_created", "operator", "token \"cli\" for team ops"),
            entry("token_deleted", "operator", "token \"cli\""),
        ],
        "{log:?}"
    );
    let mut bob = Caller::new(&server);
    bob.sign_in("bob", PASSWORD).await;
    let log = entries(json(bob.call("my_activity", &[("page", "1")]).await).await);
    assert_eq!(
        log[..3],
        [
            entry("user_created", "operator", "user bob"),
            entry("member_added", "operator", "bob in team ops as writer"),
            entry("member_removed", "operator", "bob in team ops"),
        ],
        "{log:?}"
    );
}

/// Sessions nobody uses again are deleted by the server's periodic sweep, not left forever.
#[tokio::test]
async fn expired_sessions_are_purged_by_the_sweep() {
    use sea_orm::{ConnectionTrait, Statement};

    let server = TestServer::start_env(&[("PATDESK_SESSION_SWEEP_SECONDS", "1")]);
    let mut alice = Caller::new(&server);
    alice.sign_up("alice").await;
    let mut bob = Caller::new(&server);
    bob.sign_up("bob").await;
    let db = server.connect_database().await;
    let count = |sql: &'static str| {
        let db = db.clone();
        async move {
            let row = db
                .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<i64>(0).unwrap()
        }
    };
    assert_eq!(count("SELECT COUNT(*) FROM sessions").await, 2);
    // Alice's session runs out (as if 7 days had passed); bob's is live.
    db.execute_raw(Statement::from_string(
        db.get_database_backend(),
        "UPDATE sessions SET expires_at = '2000-01-01T00:00:00Z' WHERE user_id = \
         (SELECT id FROM users WHERE username = 'alice')",
    ))
    .await
    .unwrap();
    eventually("the expired session to be purged", || async {
        (count("SELECT COUNT(*) FROM sessions").await == 1).then_some(())
    })
    .await;
    let left = count(
        "SELECT COUNT(*) FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = 'bob')",
    )
    .await;
    assert_eq!(left, 1, "the live session must stay");
}

/// A plain HTML form post (no wasm yet) that fails is answered with a redirect back to the form
/// carrying the error, not with the error's status: the page then shows the message. The same
/// call from the wasm (no `Accept: text/html`) gets the status.
#[tokio::test]
async fn a_failing_plain_form_post_is_redirected_back_with_its_error() {
    let server = TestServer::start();
    let form = [("username", "nobody"), ("password", "not the password")];
    let response = client()
        .post(server.url("/rpc/sign_in"))
        .header(header::ORIGIN, server.url(""))
        .header(header::REFERER, server.url("/signin"))
        .header(header::ACCEPT, "text/html,application/xhtml+xml")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()[header::LOCATION].to_str().unwrap();
    assert!(
        location.starts_with(&server.url("/signin")) && location.contains("__err="),
        "{location}"
    );
    let response = client()
        .post(server.url("/rpc/sign_in"))
        .header(header::ORIGIN, server.url(""))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// A password sign-up of `username` from a fresh browser: the answer, and the browser (whose
/// cookie says whether a session started).
async fn try_sign_up<'a>(
    server: &'a TestServer,
    username: &str,
) -> (reqwest::Response, Caller<'a>) {
    let mut caller = Caller::new(server);
    let response = caller
        .call(
            "sign_up",
            &[
                ("username", username),
                ("password", PASSWORD),
                ("password_confirmation", PASSWORD),
            ],
        )
        .await;
    (response, caller)
}

/// `patdesk policy show --json`.
fn policy_shown(server: &TestServer) -> Value {
    let out = ok(cli(server, &["policy", "show", "--json"], None));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Issue 45, item 5: who may sign up is the instance's choice — open (the default, so that a
/// new instance's first person signs up and becomes its admin), closed (the operator, SCIM and
/// single sign-on still make accounts), or single sign-on only — set and shown by the CLI, and
/// refused with a clear 403, never a 500, and never an account or a session.
#[tokio::test]
async fn sign_ups_are_open_closed_or_single_sign_on_only() {
    let server = TestServer::start();
    let db = server.connect_database().await;
    // A new instance: the first person signs up and is its admin.
    let mut root = Caller::new(&server);
    root.sign_up("root").await;
    let shown = policy_shown(&server);
    assert_eq!(shown["sign_ups"], "open");
    assert_eq!(shown["sign_ups_in_force"], "open");

    let out = ok(cli(
        &server,
        &["policy", "set", "--sign-ups", "closed"],
        None,
    ));
    assert!(String::from_utf8_lossy(&out.stdout).contains("closed"));
    assert_eq!(policy_shown(&server)["sign_ups"], "closed");
    let text = String::from_utf8(ok(cli(&server, &["policy", "show"], None)).stdout).unwrap();
    assert!(text.contains("sign-ups: closed"), "{text}");

    let (refused, mallory) = try_sign_up(&server, "mallory").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let said = json(refused).await.to_string();
    assert!(said.contains("does not take sign-ups"), "{said}");
    assert!(
        mallory.cookie.is_none(),
        "a refused sign-up started a session"
    );
    let users = "SELECT COUNT(*) AS n FROM users WHERE username = 'mallory'";
    assert_eq!(support::count(&db, users, []).await, 0);
    // The page says so instead of showing a form that cannot work.
    let page = Caller::new(&server)
        .get("/signup")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("data-testid=\"sign-ups-closed\""), "{page}");
    assert!(!page.contains("name=\"password_confirmation\""));
    // The operator still adds people.
    ok(cli(
        &server,
        &["user", "add", "bob"],
        Some(&format!("{PASSWORD}\n")),
    ));
    let mut bob = Caller::new(&server);
    bob.sign_in("bob", PASSWORD).await;
    assert!(
        bob.cookie.is_some(),
        "an account the operator made signs in"
    );

    // Single sign-on only: no password sign-up either (this server has no provider to point
    // to, so the page says sign-ups are closed; tests/sso.rs has the button).
    ok(cli(&server, &["policy", "set", "--sign-ups", "sso"], None));
    let (refused, _) = try_sign_up(&server, "mallory").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(json(refused).await.to_string().contains("single sign-on"));

    // Open again.
    ok(cli(&server, &["policy", "set", "--sign-ups", "open"], None));
    let (made, mallory) = try_sign_up(&server, "mallory").await;
    assert!(made.status().is_success() || made.status().is_redirection());
    assert!(mallory.cookie.is_some());

    // A value that is none of the three is refused, naming them.
    let wrong = cli(&server, &["policy", "set", "--sign-ups", "invite"], None);
    assert!(!wrong.status.success());
    let said = String::from_utf8_lossy(&wrong.stderr);
    assert!(said.contains("open, closed or sso"), "{said}");
    assert_eq!(policy_shown(&server)["sign_ups"], "open");
}

/// Issue 45, item 5: with single sign-on required, a password sign-up used to make an account
/// with a session that the two-factor policy then treated as single sign-on only — exempt.
/// "Require single sign-on" now rules out password sign-ups whatever the setting says.
#[tokio::test]
async fn with_single_sign_on_required_nobody_slips_in_by_signing_up_outside_two_factor() {
    let server = TestServer::start();
    Caller::new(&server).sign_up("root").await;
    ok(cli(&server, &["policy", "set", "--require-sso"], None));
    ok(cli(
        &server,
        &["policy", "set", "--require-2fa", "--2fa-grace-days", "0"],
        None,
    ));
    assert_eq!(policy_shown(&server)["sign_ups_in_force"], "sso");

    let (refused, mallory) = try_sign_up(&server, "mallory").await;
    assert!(
        mallory.cookie.is_none(),
        "a password sign-up got a session while single sign-on is required"
    );
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(json(refused).await.to_string().contains("single sign-on"));

    // Closed stays closed when single sign-on is required too.
    ok(cli(
        &server,
        &["policy", "set", "--sign-ups", "closed"],
        None,
    ));
    assert_eq!(policy_shown(&server)["sign_ups_in_force"], "closed");
}

/// Issue 45, item 13: the names the activity log prints for actors that are no account cannot
/// be taken by a new one — in any case, by sign-up or by the CLI — while an account that
/// already has one keeps signing in.
#[tokio::test]
async fn the_names_the_log_prints_for_actors_cannot_be_taken() {
    let server = TestServer::start();
    Caller::new(&server).sign_up("root").await;
    for name in [
        "operator",
        "Operator",
        "SCIM",
        "directory",
        "system",
        "leak-report",
    ] {
        let (refused, caller) = try_sign_up(&server, name).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        let body = json(refused).await;
        assert_eq!(body["Field"]["field"], "username", "{name}: {body}");
        assert!(body.to_string().contains("reserved"), "{name}: {body}");
        assert!(caller.cookie.is_none());
    }
    let out = cli(
        &server,
        &["user", "add", "OPERATOR"],
        Some(&format!("{PASSWORD}\n")),
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("reserved"));

    // An account named so before the names were reserved still works.
    ok(cli(
        &server,
        &["user", "add", "sysx"],
        Some(&format!("{PASSWORD}\n")),
    ));
    let db = server.connect_database().await;
    let renamed = "UPDATE users SET username = 'system' WHERE username = 'sysx'";
    assert_eq!(support::execute(&db, renamed, []).await, 1);
    let mut old = Caller::new(&server);
    old.sign_in("System", PASSWORD).await;
    assert!(
        old.cookie.is_some(),
        "an existing 'system' account signs in"
    );
    ok(cli(&server, &["user", "suspend", "system"], None));
}
