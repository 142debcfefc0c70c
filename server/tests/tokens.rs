//! Token management tried from outside: server functions called directly over HTTP (bypassing
//! the form) and the CLI's token commands.

mod support;

use reqwest::{StatusCode, header};
use serde_json::Value;
use support::{Caller, PASSWORD, TestServer, cli, json};

/// Alice (admin of `ops`), Bob (reader in `ops`), Mallory (no team).
async fn people(server: &TestServer) -> (Caller<'_>, Caller<'_>, Caller<'_>) {
    let mut alice = Caller::new(server);
    alice.sign_up("alice").await;
    alice
        .call("create_team", &[("slug", "ops"), ("name", "")])
        .await;
    let mut bob = Caller::new(server);
    bob.sign_up("bob").await;
    assert!(
        cli(
            server,
            &["team", "member", "add", "ops", "bob", "--role", "reader"],
            None
        )
        .status
        .success()
    );
    let mut mallory = Caller::new(server);
    mallory.sign_up("mallory").await;
    (alice, bob, mallory)
}

fn form<'a>(description: &'a str, team: &'a str, expiration: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("description", description),
        ("team", team),
        ("expiration", expiration),
    ]
}

#[tokio::test]
async fn server_rules_hold_whatever_the_browser_sends() {
    let server = TestServer::start();
    let (mut alice, mut bob, mut mallory) = people(&server).await;

    let long = "d".repeat(101);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (form("", "ops", "30"), "description"),
        (form(&long, "ops", "30"), "description"),
        (form("x", "ops", "45"), "expiration"),
        (form("x", "ops", "custom"), "expires_on"),
        (
            [
                form("x", "ops", "custom"),
                vec![("expires_on", "2001-01-01")],
            ]
            .concat(),
            "expires_on",
        ),
        (
            [
                form("x", "ops", "custom"),
                vec![("expires_on", "2999-01-01")],
            ]
            .concat(),
            "expires_on",
        ),
        (
            [form("x", "ops", "custom"), vec![("expires_on", "soon")]].concat(),
            "expires_on",
        ),
        (form("x", "nope", "30"), "team"),
    ];
    for (fields, field) in cases {
        let response = alice.call("create_token", &fields).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{fields:?}"
        );
        assert_eq!(json(response).await["Field"]["field"], field, "{fields:?}");
    }

    // A reader cannot create a write token, however the request is made.
    let response = bob
        .call(
            "create_token",
            &[form("ci", "ops", "30"), vec![("write", "true")]].concat(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(response).await["Field"]["field"], "write");
    // Nor scope a token to a team they are not in.
    let response = mallory.call("create_token", &form("ci", "ops", "30")).await;
    assert_eq!(json(response).await["Field"]["field"], "team");

    // The value comes back once, never cacheable.
    let response = alice
        .call(
            "create_token",
            &[form("Deploy", "ops", "7"), vec![("write", "true")]].concat(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    let issued = json(response).await;
    let value = issued["token"].as_str().unwrap().to_string();
    let id = issued["id"].as_str().unwrap().to_string();
    assert!(value.starts_with("pdk_") && value.len() == 42);

    let response = alice
        .call("create_token", &form("deploy", "ops", "30"))
        .await;
    assert_eq!(
        response.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "duplicate description"
    );

    // Listing never returns the value.
    let listed = json(alice.call("list_tokens", &[]).await).await;
    assert!(!listed.to_string().contains(&value));
    assert_eq!(listed[0]["partial"], format!("pdk_…{}", &value[38..]));
    assert_eq!(listed[0]["write"], true);
    // Seven days from now, but a 7-day token is short-lived by design: no expiry warning
    // (`domain::tokens::expiry_warns`).
    assert_eq!(listed[0]["expiring_soon"], false);
    assert_eq!(listed[0]["last_used"], Value::Null);

    // Nobody else can see, regenerate or delete it.
    assert_eq!(
        json(mallory.call("list_tokens", &[]).await).await,
        serde_json::json!([])
    );
    for function in ["regenerate_token", "delete_token"] {
        let response = mallory.call(function, &[("id", &id)]).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{function}");
        let response = bob.call(function, &[("id", &id)]).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{function}");
    }
    let mut anonymous = Caller::new(&server);
    assert_eq!(
        anonymous.call("list_tokens", &[]).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        anonymous
            .call("delete_token", &[("id", &id)])
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );

    // Regenerate: same id, new value; delete: gone from the list.
    let response = alice.call("regenerate_token", &[("id", &id)]).await;
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    let again = json(response).await;
    assert_eq!(again["id"], id.as_str());
    assert_ne!(again["token"], value.as_str());
    assert_eq!(
        alice.call("delete_token", &[("id", &id)]).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        json(alice.call("list_tokens", &[]).await).await,
        serde_json::json!([])
    );
    assert_eq!(
        alice.call("delete_token", &[("id", &id)]).await.status(),
        StatusCode::NOT_FOUND
    );

    let log = server.log();
    assert!(!log.contains(&value) && !log.contains(again["token"].as_str().unwrap()));
    assert!(!log.contains(PASSWORD));
}

#[tokio::test]
async fn the_cli_creates_lists_and_deletes_tokens() {
    let server = TestServer::start();
    let (_alice, _bob, _mallory) = people(&server).await;
    let out = cli(
        &server,
        &[
            "token",
            "create",
            "--user",
            "alice",
            "--team",
            "ops",
            "--description",
            "cron",
            "--write",
            "--expires-in-days",
            "60",
            "--json",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    let value = created["token"].as_str().unwrap();
    assert!(value.starts_with("pdk_"));
    assert!(created["expires_at"].as_str().unwrap().len() > 10);

    let out = cli(
        &server,
        &[
            "token",
            "create",
            "--user",
            "alice",
            "--team",
            "ops",
            "--description",
            "forever",
            "--no-expiry",
        ],
        None,
    );
    assert!(out.status.success());
    let plain = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        plain.trim().len(),
        42,
        "plain output is the value alone: {plain}"
    );

    let out = cli(
        &server,
        &["token", "list", "--user", "alice", "--json"],
        None,
    );
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert!(!listed.to_string().contains(value));
    let id = created["id"].as_str().unwrap();

    for (args, expected) in [
        (
            vec![
                "token",
                "create",
                "--user",
                "bob",
                "--team",
                "ops",
                "--description",
                "w",
                "--write",
            ],
            "write access needs",
        ),
        (
            vec![
                "token",
                "create",
                "--user",
                "alice",
                "--team",
                "ops",
                "--description",
                "x",
                "--expires-in-days",
                "5",
            ],
            "7, 30, 60 or 90",
        ),
        (
            vec![
                "token",
                "create",
                "--user",
                "alice",
                "--team",
                "ops",
                "--description",
                "CRON",
            ],
            "already have a token",
        ),
        (
            vec![
                "token",
                "create",
                "--user",
                "ghost",
                "--team",
                "ops",
                "--description",
                "x",
            ],
            "no user named ghost",
        ),
        (vec!["token", "delete", "tok_nope"], "not a token id"),
    ] {
        let out = cli(&server, &args, None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    let out = cli(&server, &["token", "delete", id], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cli(
        &server,
        &["token", "list", "--user", "alice", "--json"],
        None,
    );
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn sign_ins_and_token_changes_are_in_the_activity_log() {
    use sea_orm::{ConnectionTrait, Database, Statement};

    let server = TestServer::start();
    let (mut alice, _bob, _mallory) = people(&server).await;
    let mut stranger = Caller::new(&server);
    stranger.sign_in("alice", "not her password").await;
    stranger.sign_in("nobody-at-all", "not a password").await;
    alice.call("sign_out", &[]).await;
    alice.sign_in("alice", PASSWORD).await;
    let issued = json(
        alice
            .call("create_token", &form("audit me", "ops", "30"))
            .await,
    )
    .await;
    let id = issued["id"].as_str().unwrap();
    alice.call("regenerate_token", &[("id", id)]).await;
    alice.call("delete_token", &[("id", id)]).await;

    let url = server.database_url();
    let db = Database::connect(url).await.unwrap();
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT a.kind || ' ' || coalesce(u.username, '-') || ' ' || coalesce(a.token_id, '-') || ' ' || \
             coalesce(a.ip, '-') AS line FROM activity a LEFT JOIN users u ON u.id = a.user_id ORDER BY a.id",
        ))
        .await
        .unwrap();
    let lines: Vec<String> = rows
        .iter()
        .map(|r| r.try_get::<String>("", "line").unwrap())
        .collect();
    let has = |prefix: &str| lines.iter().any(|l| l.starts_with(prefix));
    for expected in [
        "sign_up alice",
        "sign_in_failed alice",
        "sign_in_failed -",
        "sign_out alice",
        "sign_in alice",
        "team_created alice",
        &format!("token_created alice {id} 127.0.0.1"),
        &format!("token_regenerated alice {id}"),
        &format!("token_deleted alice {id}"),
    ] {
        assert!(has(expected), "no activity {expected:?} in {lines:#?}");
    }
}

/// Descriptions that differ only by case count as the same in any script, on SQLite and on
/// PostgreSQL alike (before, SQLite's `lower()` folded only A–Z, and the Rust check used
/// `to_lowercase`, which keeps "ß" and a combining accent apart).
#[tokio::test]
async fn descriptions_differing_only_by_case_conflict_beyond_ascii() {
    let server = TestServer::start();
    let (mut alice, _bob, _mallory) = people(&server).await;
    for (first, second) in [
        ("Déploiement", "DÉPLOIEMENT"),
        ("Straße", "STRASSE"),
        ("caf\u{e9}", "CAFE\u{301}"),
    ] {
        let created = alice.call("create_token", &form(first, "ops", "30")).await;
        assert_eq!(created.status(), StatusCode::OK, "{first}");
        let refused = alice.call("create_token", &form(second, "ops", "30")).await;
        assert_eq!(
            refused.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{second}"
        );
        let error = json(refused).await;
        assert_eq!(error["Field"]["field"], "description", "{second}: {error}");
    }
    let listed = json(alice.call("list_tokens", &[]).await).await;
    assert_eq!(listed.as_array().unwrap().len(), 3, "{listed}");
}

/// A form with several bad fields is answered with every one of them at once (`Fields`), each
/// with its own message, not the first one only; one bad field keeps the `Field` shape.
#[tokio::test]
async fn every_bad_field_is_named_at_once() {
    let server = TestServer::start();
    let (mut alice, _, _) = people(&server).await;

    let response = alice
        .call(
            "create_token",
            &[
                form("", "ops", "custom"),
                vec![
                    ("expires_on", ""),
                    ("rate_limit", "lots"),
                    ("allowed_ips", "10.0.0.0/33"),
                ],
            ]
            .concat(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = json(response).await;
    let fields: Vec<&str> = body["Fields"]
        .as_array()
        .expect("every field's error")
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["description", "expires_on", "allowed_ips", "rate_limit"]
    );
    assert_eq!(
        body["Fields"][0]["message"],
        "Enter a description, so you know what the token is for."
    );
    let listed = json(alice.call("list_tokens", &[]).await).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(0), "nothing was made");

    // The team form: the slug and the name together.
    let long_name = "n".repeat(101);
    let response = alice
        .call(
            "create_team",
            &[("slug", "x"), ("name", long_name.as_str())],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = json(response).await;
    assert_eq!(body["Fields"][0]["field"], "slug");
    assert_eq!(body["Fields"][1]["field"], "name");
}
