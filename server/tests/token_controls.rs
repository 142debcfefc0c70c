//! Per-token IP allow-lists and rotation with an overlap window (docs/tokens.md), tried from
//! outside against the real binary: callers bound to distinct loopback addresses (and IPv6),
//! a trusted proxy's `X-Forwarded-For`, forward-auth and introspection, a second server process
//! on the same database, and the web app's server functions for editing, rotating and ending an
//! overlap. Runs on SQLite, and on PostgreSQL with `PATDESK_TEST_BACKEND=postgres`.

mod support;

use std::process::Output;

use chrono::{DateTime, Utc};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use support::{
    Caller, FAST_FLUSH, PASSWORD, TestServer, alice_owns_ops, cli, client, client_from, eventually,
    json, ok, within_a_second,
};

/// Test-sized rotation windows: the server's minimum lowered from 60 s.
const SHORT_OVERLAPS: (&str, &str) = ("PATDESK_MIN_OVERLAP_SECONDS", "1");

/// `patdesk token create --user <user> --team ops --description <description> <more…>`.
fn create(server: &TestServer, user: &str, description: &str, more: &[&str]) -> Output {
    let mut args = vec![
        "token",
        "create",
        "--user",
        user,
        "--team",
        "ops",
        "--description",
        description,
    ];
    args.extend(more);
    cli(server, &args, None)
}

/// Alice's write token with `--allow-ip` for each entry: (id, value).
fn token_allowed(server: &TestServer, description: &str, allow: &[&str]) -> (String, String) {
    let mut more = vec!["--write", "--json"];
    for entry in allow {
        more.extend(["--allow-ip", entry]);
    }
    let out = ok(create(server, "alice", description, &more));
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    (
        created["id"].as_str().unwrap().into(),
        created["token"].as_str().unwrap().into(),
    )
}

/// `GET url` with the token: status and JSON body (`null` when none).
async fn get(
    client: &Client,
    url: &str,
    token: &str,
    forwarded: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = client.get(url).bearer_auth(token);
    if let Some(ip) = forwarded {
        request = request.header("x-forwarded-for", ip);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The token as `patdesk token list --user alice --json` shows it.
fn listed(server: &TestServer, id: &str) -> Value {
    let out = ok(cli(
        server,
        &["token", "list", "--user", "alice", "--json"],
        None,
    ));
    let all: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    all.into_iter().find(|t| t["id"] == id).expect("listed")
}

/// Alice, signed in to the web app.
async fn alice(server: &TestServer) -> Caller<'_> {
    let mut alice = Caller::new(server);
    let response = alice.sign_in("alice", PASSWORD).await;
    assert!(response.status().is_success() || response.status().is_redirection());
    alice
}

#[tokio::test]
async fn allow_list_admits_only_listed_addresses_on_every_path() {
    let server = TestServer::start_env(&[("PATDESK_ADDR", "[::]:0"), FAST_FLUSH]);
    alice_owns_ops(&server);
    let port = server.base.rsplit(':').next().unwrap().to_string();
    let v4 = format!("http://127.0.0.1:{port}/api/v1/me");
    let v6 = format!("http://[::1]:{port}/api/v1/me");
    let (id, value) = token_allowed(&server, "deploy job", &["127.0.0.2/32"]);
    assert_eq!(listed(&server, &id)["allowed_ips"], json!(["127.0.0.2/32"]));

    // From 127.0.0.1: refused, naming the caller's address and not the list.
    let (status, body) = get(&client_from(1), &v4, &value, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "ip_not_allowed");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("127.0.0.1"), "{message}");
    assert!(!message.contains("127.0.0.2"), "the list leaked: {message}");
    // From 127.0.0.2 (an IPv4 client of a dual-stack listener): accepted.
    let (status, body) = get(&client_from(2), &v4, &value, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token"]["allowed_ips"], json!(["127.0.0.2/32"]));
    // IPv6 loopback against an IPv4 list: refused.
    let (status, body) = get(&client(), &v6, &value, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("::1"));

    // A token with no list works from anywhere, and a v6 range admits ::1.
    let (_, open) = token_allowed(&server, "open job", &[]);
    assert_eq!(get(&client(), &v6, &open, None).await.0, StatusCode::OK);
    let (_, v6_token) = token_allowed(&server, "v6 job", &["::1/128", "10.0.0.0/8"]);
    assert_eq!(get(&client(), &v6, &v6_token, None).await.0, StatusCode::OK);
    assert_eq!(
        get(&client_from(1), &v4, &v6_token, None).await.0,
        StatusCode::FORBIDDEN
    );

    // The refusal is not a failed authentication: many of them never lead to 429.
    for _ in 0..40 {
        let (status, _) = get(&client_from(1), &v4, &value, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    assert_eq!(
        get(&client_from(2), &v4, &value, None).await.0,
        StatusCode::OK
    );

    // The refused calls were not recorded as uses; the accepted one was, from 127.0.0.2.
    let ips = eventually("last-used address written", || async {
        let ips = listed(&server, &id)["last_used_ips"].clone();
        ips.as_array().is_some_and(|a| !a.is_empty()).then_some(ips)
    })
    .await;
    assert_eq!(ips, json!(["127.0.0.2"]));
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_is_checked_by_api_verify_and_introspection() {
    let server = TestServer::start_env(&[("PATDESK_TRUST_FORWARDED_FOR", "true")]);
    alice_owns_ops(&server);
    let (_, value) = token_allowed(&server, "behind proxy", &["198.51.100.0/24"]);
    let me = server.url("/api/v1/me");
    let proxy = client_from(1);
    let (status, body) = get(&proxy, &me, &value, Some("203.0.113.9, 198.51.100.7")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = get(&proxy, &me, &value, Some("198.51.100.7, 203.0.113.9")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("203.0.113.9")
    );

    // Forward-auth: the same rule and the same answer.
    let verify = server.url("/auth/verify?team=ops");
    assert_eq!(
        get(&proxy, &verify, &value, Some("198.51.100.7")).await.0,
        StatusCode::OK
    );
    let (status, body) = get(&proxy, &verify, &value, Some("192.0.2.1")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "ip_not_allowed");

    // Introspection: the address of the request (forwarded by the service) must be listed.
    let out = ok(cli(
        &server,
        &[
            "service", "create", "--team", "ops", "--name", "metrics", "--json",
        ],
        None,
    ));
    let credential: Value = serde_json::from_slice(&out.stdout).unwrap();
    let introspect = |forwarded: &'static str| {
        let request = proxy
            .post(server.url("/oauth/introspect"))
            .basic_auth(
                credential["id"].as_str().unwrap(),
                credential["secret"].as_str(),
            )
            .header("x-forwarded-for", forwarded)
            .form(&[("token", value.as_str())]);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    assert_eq!(introspect("198.51.100.7").await["active"], true);
    assert_eq!(introspect("192.0.2.1").await, json!({"active": false}));
}

#[tokio::test]
#[ignore = "several processes share a database only on PostgreSQL: `make test-rust-postgres` runs it"]
async fn editing_the_list_takes_effect_within_a_second_in_another_process() {
    let database = support::postgres::TempDatabase::create();
    let first = TestServer::start_in(tempfile::tempdir().unwrap(), &database.url);
    alice_owns_ops(&first);
    let second = TestServer::start_in(tempfile::tempdir().unwrap(), &database.url);
    let (id, value) = token_allowed(&first, "moving job", &["127.0.0.2"]);
    let me = second.url("/api/v1/me");
    // The second process has checked (and cached) the token.
    assert_eq!(
        get(&client_from(2), &me, &value, None).await.0,
        StatusCode::OK
    );
    assert_eq!(
        get(&client_from(3), &me, &value, None).await.0,
        StatusCode::FORBIDDEN
    );

    let mut alice = alice(&first).await;
    let response = alice
        .call(
            "set_token_allowed_ips",
            &[("id", &id), ("allowed_ips", "127.0.0.3\n10.1.2.3/8")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    // Canonical: host bits cleared, as entered otherwise.
    assert_eq!(
        listed(&first, &id)["allowed_ips"],
        json!(["127.0.0.3/32", "10.0.0.0/8"])
    );
    within_a_second("the second process refuses the old address", || async {
        get(&client_from(2), &me, &value, None).await.0 == StatusCode::FORBIDDEN
    })
    .await;
    assert_eq!(
        get(&client_from(3), &me, &value, None).await.0,
        StatusCode::OK
    );

    // Emptying the list lets every address in again.
    let response = alice
        .call(
            "set_token_allowed_ips",
            &[("id", &id), ("allowed_ips", " ")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    within_a_second("the second process accepts any address", || async {
        get(&client_from(2), &me, &value, None).await.0 == StatusCode::OK
    })
    .await;
}

#[tokio::test]
async fn bad_lists_get_field_errors_and_change_nothing() {
    let server = TestServer::start();
    alice_owns_ops(&server);
    let (id, _) = token_allowed(&server, "careful job", &["10.0.0.0/8"]);
    let mut alice = alice(&server).await;
    let many: Vec<String> = (1..=21).map(|i| format!("10.0.0.{i}")).collect();
    let many = many.join("\n");
    for (bad, says) in [
        ("10.0.0.0/33", "/0 to /32"),
        ("999.1.1.1", "not an IP address"),
        ("2001:db8::/200", "/0 to /128"),
        ("example.com", "not an IP address"),
        (many.as_str(), "at most 20"),
    ] {
        let response = alice
            .call(
                "set_token_allowed_ips",
                &[("id", &id), ("allowed_ips", bad)],
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        let body = json(response).await;
        assert_eq!(body["Field"]["field"], "allowed_ips", "{bad}");
        assert!(
            body["Field"]["message"].as_str().unwrap().contains(says),
            "{bad}: {body}"
        );
        // On creation too, and no token is made.
        let response = alice
            .call(
                "create_token",
                &[
                    ("description", "never made"),
                    ("team", "ops"),
                    ("expiration", "30"),
                    ("allowed_ips", bad),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    assert_eq!(listed(&server, &id)["allowed_ips"], json!(["10.0.0.0/8"]));
    let out = ok(cli(
        &server,
        &["token", "list", "--user", "alice", "--json"],
        None,
    ));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("never made"));

    // The CLI says which value is wrong, and makes nothing.
    for bad in ["10.0.0.0/33", "999.1.1.1"] {
        let out = create(&server, "alice", "cli bad", &["--allow-ip", bad]);
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("--allow-ip") && stderr.contains(bad),
            "{stderr}"
        );
    }
    let entries: Vec<String> = (1..=21).map(|i| format!("10.0.0.{i}")).collect();
    let mut more = Vec::new();
    for entry in &entries {
        more.extend(["--allow-ip", entry]);
    }
    let out = create(&server, "alice", "cli many", &more);
    assert!(String::from_utf8_lossy(&out.stderr).contains("at most 20"));
    let out = ok(cli(
        &server,
        &["token", "list", "--user", "alice", "--json"],
        None,
    ));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("cli "));
}

#[tokio::test]
async fn team_admins_may_narrow_a_members_list_but_not_widen_it() {
    let server = TestServer::start();
    alice_owns_ops(&server);
    for (name, role) in [("bob", "writer"), ("carol", "writer")] {
        ok(cli(
            &server,
            &["user", "add", name],
            Some(&format!("{PASSWORD}\n")),
        ));
        ok(cli(
            &server,
            &["team", "member", "add", "ops", name, "--role", role],
            None,
        ));
    }
    let out = ok(create(&server, "bob", "bob's job", &["--json"]));
    let bobs: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = bobs["id"].as_str().unwrap();
    let mut alice = alice(&server).await;
    async fn set(caller: &mut Caller<'_>, id: &str, list: &str) -> reqwest::Response {
        caller
            .call(
                "set_token_allowed_ips",
                &[("id", id), ("allowed_ips", list)],
            )
            .await
    }
    // Any address → a range: narrower, allowed.
    assert_eq!(
        set(&mut alice, id, "10.0.0.0/8").await.status(),
        StatusCode::OK
    );
    // Inside it: allowed. Outside it, or back to any address: refused.
    assert_eq!(
        set(&mut alice, id, "10.1.0.0/16").await.status(),
        StatusCode::OK
    );
    for wider in ["10.0.0.0/8", "192.168.0.0/16", ""] {
        let response = set(&mut alice, id, wider).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{wider:?}"
        );
        assert!(
            json(response).await["Field"]["message"]
                .as_str()
                .unwrap()
                .contains("narrow")
        );
    }
    // Another member of the team (not an admin) cannot touch it at all.
    let mut carol = Caller::new(&server);
    carol.sign_in("carol", PASSWORD).await;
    assert_eq!(
        set(&mut carol, id, "10.1.2.0/24").await.status(),
        StatusCode::NOT_FOUND
    );
    // Its owner may widen it again.
    let mut bob = Caller::new(&server);
    bob.sign_in("bob", PASSWORD).await;
    assert_eq!(set(&mut bob, id, "").await.status(), StatusCode::OK);
    let out = ok(cli(
        &server,
        &["token", "list", "--user", "bob", "--json"],
        None,
    ));
    let listed: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed[0]["allowed_ips"], json!([]));
}

/// `POST /api/v1/tokens/self/rotate` with `value`.
async fn rotate(server: &TestServer, value: &str, body: Value) -> (StatusCode, Value) {
    let response = client()
        .post(server.url("/api/v1/tokens/self/rotate"))
        .bearer_auth(value)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn me(server: &TestServer, value: &str) -> (StatusCode, Value) {
    get(&client(), &server.url("/api/v1/me"), value, None).await
}

#[tokio::test]
async fn rotation_keeps_the_old_value_for_its_window_then_answers_token_rotated() {
    let server = TestServer::start_env(&[SHORT_OVERLAPS, FAST_FLUSH]);
    alice_owns_ops(&server);
    let (id, old) = token_allowed(&server, "rotating job", &[]);

    let (status, rotated) = rotate(&server, &old, json!({"overlap_seconds": 4})).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    assert_eq!(rotated["id"], id.as_str());
    let new = rotated["token"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    let until: DateTime<Utc> = rotated["old_value_valid_until"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();

    // Both values work, as the same token; `me` says which one was used.
    let (status, with_old) = me(&server, &old).await;
    assert_eq!(status, StatusCode::OK, "{with_old}");
    assert_eq!(with_old["token"]["id"], id.as_str());
    assert_eq!(with_old["token"]["old_value"], true);
    let (status, with_new) = me(&server, &new).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(with_new["token"]["id"], id.as_str());
    assert_eq!(with_new["token"]["old_value"], false);
    assert!(with_new["token"]["old_value_valid_until"].is_string());

    // The old value cannot rotate again (it would end itself and demote the new one).
    let (status, body) = rotate(&server, &old, json!({"overlap_seconds": 4})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    // After the window: 401 token_rotated, never before it; the new value goes on working.
    let refused_at = eventually("the old value stops working", || async {
        let (status, body) = me(&server, &old).await;
        (status == StatusCode::UNAUTHORIZED).then(|| {
            assert_eq!(body["error"]["code"], "token_rotated", "{body}");
            Utc::now()
        })
    })
    .await;
    assert!(
        refused_at >= until,
        "refused at {refused_at}, before {until}"
    );
    assert_eq!(me(&server, &new).await.0, StatusCode::OK);
    let (_, body) = get(&client(), &server.url("/auth/verify?team=ops"), &old, None).await;
    assert_eq!(body["error"]["code"], "token_rotated");
}

#[tokio::test]
async fn rotation_limits_are_checked() {
    let server = TestServer::start();
    alice_owns_ops(&server);
    let (_, value) = token_allowed(&server, "limits", &[]);
    // The default minimum is 60 s; the maximum 7 days; the token expires in 30 days.
    for (body, says) in [
        (json!({"overlap_seconds": 5}), "60"),
        (json!({"overlap_seconds": 604_801}), "604800"),
        (json!({"overlap_seconds": -1}), "60"),
    ] {
        let (status, answer) = rotate(&server, &value, body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert!(
            answer["error"]["message"].as_str().unwrap().contains(says),
            "{answer}"
        );
    }
    for body in [
        json!({}),
        json!({"overlap_seconds": "1h"}),
        json!({"overlap_seconds": 60, "x": 1}),
    ] {
        let (status, _) = rotate(&server, &value, body.clone()).await;
        assert!(status.is_client_error(), "{body}: {status}");
    }
    // Nothing was rotated: the value still works alone.
    let (status, body) = me(&server, &value).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["token"]["old_value_valid_until"].is_null());

    // Never past the token's expiry: a 7-day token has less than 7 days left for its old value.
    let out = ok(create(
        &server,
        "alice",
        "short",
        &["--expires-in-days", "7", "--json"],
    ));
    let short: Value = serde_json::from_slice(&out.stdout).unwrap();
    let (status, answer) = rotate(
        &server,
        short["token"].as_str().unwrap(),
        json!({"overlap_seconds": 604_800}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot outlive")
    );
}

#[tokio::test]
async fn the_owner_sees_which_value_was_used_and_can_end_the_overlap_early() {
    let server = TestServer::start_env(&[SHORT_OVERLAPS, FAST_FLUSH]);
    alice_owns_ops(&server);
    let (id, old) = token_allowed(&server, "web rotation", &[]);
    let mut alice = alice(&server).await;
    let response = alice
        .call("rotate_token", &[("id", &id), ("overlap_seconds", "3600")])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["cache-control"],
        "no-store",
        "the new value must not be cached"
    );
    let issued = json(response).await;
    let new = issued["token"].as_str().unwrap().to_string();
    assert!(issued["old_valid_until"].is_string());

    let row = |alice: &Caller<'_>| {
        let request = alice
            .client
            .post(server.url("/rpc/list_tokens"))
            .header("origin", &server.base)
            .header("cookie", alice.cookie.clone().unwrap());
        let id = id.clone();
        async move {
            let rows: Vec<Value> = request.send().await.unwrap().json().await.unwrap();
            rows.into_iter().find(|r| r["id"] == id.as_str()).unwrap()
        }
    };
    // Used with the old value: the page says so, with the old value's own last use.
    assert_eq!(me(&server, &old).await.0, StatusCode::OK);
    let seen = eventually("the old value's use is written", || async {
        let r = row(&alice).await;
        r["old_value"]["last_used"].is_string().then_some(r)
    })
    .await;
    assert_eq!(seen["last_used_old_value"], true);
    assert!(
        seen["old_value"]["partial"]
            .as_str()
            .unwrap()
            .ends_with(&old[old.len() - 4..])
    );
    // Then with the new one.
    assert_eq!(me(&server, &new).await.0, StatusCode::OK);
    eventually("the new value's use is written", || async {
        (row(&alice).await["last_used_old_value"] == false).then_some(())
    })
    .await;

    // Ending the overlap kills the old value at once; the new one keeps working.
    let response = alice.call("end_token_overlap", &[("id", &id)]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let (status, body) = me(&server, &old).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "token_rotated");
    assert_eq!(me(&server, &new).await.0, StatusCode::OK);
    assert!(row(&alice).await["old_value"].is_null());
    // Ending it twice is a clear refusal, not a 500.
    let response = alice.call("end_token_overlap", &[("id", &id)]).await;
    assert!(response.status().is_client_error(), "{}", response.status());

    // Regenerate keeps its meaning: after another rotation, it kills both earlier values.
    let response = alice
        .call("rotate_token", &[("id", &id), ("overlap_seconds", "3600")])
        .await;
    let newest = json(response).await["token"].as_str().unwrap().to_string();
    assert_eq!(
        me(&server, &new).await.0,
        StatusCode::OK,
        "rotated-out value in its window"
    );
    let response = alice.call("regenerate_token", &[("id", &id)]).await;
    assert_eq!(response.status(), StatusCode::OK);
    for dead in [&new, &newest] {
        let (status, _) = me(&server, dead).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // Someone else's token cannot be rotated or ended.
    ok(cli(
        &server,
        &["user", "add", "mallory"],
        Some(&format!("{PASSWORD}\n")),
    ));
    let mut mallory = Caller::new(&server);
    mallory.sign_in("mallory", PASSWORD).await;
    let response = mallory
        .call("rotate_token", &[("id", &id), ("overlap_seconds", "3600")])
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = mallory.call("end_token_overlap", &[("id", &id)]).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_leaked_old_value_stops_at_once_and_the_new_one_goes_on() {
    let server = TestServer::start_env(&[SHORT_OVERLAPS]);
    alice_owns_ops(&server);
    let (id, old) = token_allowed(&server, "leaky job", &[]);
    let (status, rotated) = rotate(&server, &old, json!({"overlap_seconds": 3600})).await;
    assert_eq!(status, StatusCode::OK);
    let new = rotated["token"].as_str().unwrap().to_string();
    assert_eq!(me(&server, &old).await.0, StatusCode::OK);

    let response = client()
        .post(server.url("/api/v1/credentials/revoke"))
        .json(&json!({"credentials": [old], "source": "https://paste.example.test/1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let body = eventually("the reported old value is refused", || async {
        let (status, body) = me(&server, &old).await;
        (status == StatusCode::UNAUTHORIZED).then_some(body)
    })
    .await;
    assert_eq!(body["error"]["code"], "token_rotated");
    // The token itself was not revoked: its new value was not reported.
    assert_eq!(me(&server, &new).await.0, StatusCode::OK);
    assert!(listed(&server, &id)["revoked"].is_null());
    assert!(listed(&server, &id)["old_value"].is_null());
    // Its owner is told, with where it was found.
    let mut alice = alice(&server).await;
    let notices = json(alice.call("my_notices", &[("limit", "8")]).await).await;
    let text = notices.to_string();
    assert!(
        text.contains("The old value of your token") && text.contains("paste.example.test"),
        "{text}"
    );
}
