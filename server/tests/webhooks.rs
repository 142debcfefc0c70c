//! Webhooks (docs/webhooks.md), through the real binary: every delivery is verified by
//! `scripts/webhook-receiver.py` with PyPI `standardwebhooks` (the Standard Webhooks
//! specification's own library) on a loopback port. Each event comes once from its action;
//! a receiver down for a while gets the same ids in order; a crash mid-delivery is made good
//! after the restart with the same id; an endpoint failing too long is turned off and its
//! admins told; secret rotation; private destinations refused at creation and at send time;
//! and (PostgreSQL) two processes that never deliver one event twice.

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{
    Caller, FAST_FLUSH, TestServer, alice_owns_ops, cli, client, count, eventually, execute, ok,
    postgres::TempDatabase, scim_credential, set_token_expiry, test_database, token,
    webhook_receiver::Receiver,
};

/// What every server here runs with: endpoints on loopback allowed, quick retries.
const ENV: [(&str, &str); 3] = [
    ("PATDESK_WEBHOOK_ALLOW_PRIVATE", "true"),
    ("PATDESK_WEBHOOK_RETRY_SECONDS", "1"),
    ("PATDESK_WEBHOOK_LEASE_SECONDS", "15"),
];

/// A server with [`ENV`] and `extra`; its CLI reads [`ENV`] from `.env`.
fn webhook_server(extra: &[(&str, &str)]) -> TestServer {
    let mut env = ENV.to_vec();
    env.extend_from_slice(extra);
    let server = TestServer::start_env(&env);
    write_dotenv(&server, &ENV);
    server
}

fn write_dotenv(server: &TestServer, env: &[(&str, &str)]) {
    let dotenv: String = env.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    std::fs::write(server.dir.path().join(".env"), dotenv).unwrap();
}

/// Adds an endpoint with the CLI (`scope`: `--team T` or `--instance`): (id, secret).
fn create_hook(
    server: &TestServer,
    scope: &[&str],
    url: &str,
    events: &[&str],
) -> (String, String) {
    let mut args = vec!["webhook", "create", "--url", url, "--json"];
    args.extend_from_slice(scope);
    for event in events {
        args.extend(["--event", event]);
    }
    let created: Value = serde_json::from_slice(&ok(cli(server, &args, None)).stdout).unwrap();
    (
        created["id"].as_str().unwrap().to_string(),
        created["secret"].as_str().unwrap().to_string(),
    )
}

/// Team ops's endpoint `name` of `receiver`, taking `token.created`: (id, secret).
fn ops_token_hook(server: &TestServer, receiver: &Receiver, name: &str) -> (String, String) {
    create_hook(
        server,
        &["--team", "ops"],
        &receiver.url(name),
        &["token.created"],
    )
}

fn list_hooks(server: &TestServer, scope: &[&str]) -> Value {
    let mut args = vec!["webhook", "list", "--json"];
    args.extend_from_slice(scope);
    serde_json::from_slice(&ok(cli(server, &args, None)).stdout).unwrap()
}

/// Waits until endpoint `name` has received exactly `expected` (types, in order).
async fn received_exactly(receiver: &Receiver, name: &str, expected: &[&str]) -> Vec<Value> {
    eventually(&format!("{name} receives {expected:?}"), || async {
        let seen = receiver.seen(name).await;
        let types = seen.types();
        assert!(
            types.len() <= expected.len() && types.iter().zip(expected).all(|(a, b)| a == b),
            "{name} received {types:?}, expected {expected:?}"
        );
        (types.len() == expected.len()).then_some(seen.deliveries)
    })
    .await
}

fn new_token(description: &str, write: bool) -> Vec<(&str, &str)> {
    let mut form = vec![
        ("description", description),
        ("team", "ops"),
        ("expiration", "30"),
    ];
    if write {
        form.push(("write", "on"));
    }
    form
}

/// Every event of the list, each once from the action that makes it, to an instance endpoint;
/// a team's endpoint hears only its team's; the audit stream carries every entry; no payload
/// holds a token's value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_action_sends_its_event_once_signed_and_verified() {
    let server = webhook_server(&[("PATDESK_NOTIFY_INTERVAL_SECONDS", "1"), FAST_FLUSH]);
    let receiver = Receiver::start();
    let mut alice = Caller::new(&server);
    alice.sign_up("alice").await;
    let mut bob = Caller::new(&server);
    bob.sign_up("bob").await;
    ok(cli(
        &server,
        &["team", "add", "ops", "--owner", "alice"],
        None,
    ));
    ok(cli(
        &server,
        &["team", "add", "dev", "--owner", "alice"],
        None,
    ));

    let every: Vec<&str> = [
        "token.created",
        "token.regenerated",
        "token.rotated",
        "token.deleted",
        "token.revoked",
        "token.expiring",
        "token.expired",
        "token.leak_reported",
        "token.new_address",
        "token.approval_requested",
        "token.approved",
        "token.denied",
        "member.added",
        "member.removed",
        "member.role_changed",
        "user.suspended",
        "user.deprovisioned",
    ]
    .to_vec();
    let (_, all_secret) = create_hook(&server, &["--instance"], &receiver.url("all"), &every);
    let (_, team_secret) = create_hook(
        &server,
        &["--team", "ops"],
        &receiver.url("ops"),
        &["token.created", "member.added"],
    );
    let (_, audit_secret) = create_hook(
        &server,
        &["--instance"],
        &receiver.url("audit"),
        &["audit.entry"],
    );
    receiver.trust("all", &all_secret).await;
    receiver.trust("ops", &team_secret).await;
    receiver.trust("audit", &audit_secret).await;
    // A team's webhook takes no account or audit events.
    let refused = cli(
        &server,
        &[
            "webhook",
            "create",
            "--team",
            "ops",
            "--url",
            &receiver.url("x"),
            "--event",
            "audit.entry",
        ],
        None,
    );
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("instance webhooks"));

    let mut expected: Vec<&str> = Vec::new();
    let mut values = Vec::new();
    let http = client();

    // member.added, member.role_changed
    ok(cli(
        &server,
        &["team", "member", "add", "ops", "bob", "--role", "reader"],
        None,
    ));
    expected.push("member.added");
    received_exactly(&receiver, "all", &expected).await;
    let response = alice
        .call(
            "set_role",
            &[("team", "ops"), ("username", "bob"), ("role", "writer")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    expected.push("member.role_changed");
    let got = received_exactly(&receiver, "all", &expected).await;
    assert_eq!(
        got[1]["payload"]["data"]["member"],
        json!({"username": "bob", "role": "writer"})
    );
    assert_eq!(got[1]["payload"]["data"]["team"], "ops");
    assert_eq!(got[1]["payload"]["data"]["actor"], "alice");

    // token.created; then regenerated, rotated, used from a (new) address, deleted, with its
    // own value (the API's self-management).
    let (id, value) = token(&server, "alice", "ops", "deploy", true);
    values.push(value.clone());
    expected.push("token.created");
    let got = received_exactly(&receiver, "all", &expected).await;
    let created = &got[2]["payload"];
    assert_eq!(created["data"]["token"]["id"], id.as_str());
    assert_eq!(created["data"]["token"]["description"], "deploy");
    assert_eq!(created["data"]["token"]["team"], "ops");
    assert_eq!(created["data"]["token"]["owner"], "alice");
    assert_eq!(created["data"]["token"]["access"], "write");
    assert_eq!(created["data"]["actor"], "operator");
    assert!(created["timestamp"].as_str().unwrap().ends_with('Z'));
    let regenerated: Value = http
        .post(server.url("/api/v1/tokens/self/regenerate"))
        .bearer_auth(&value)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let value = regenerated["token"].as_str().unwrap().to_string();
    values.push(value.clone());
    // Its use (the regeneration) is its first from this address.
    expected.extend(["token.regenerated", "token.new_address"]);
    let got = received_exactly(&receiver, "all", &expected).await;
    assert_eq!(got[4]["payload"]["data"]["address"], "127.0.0.1");
    let rotated: Value = http
        .post(server.url("/api/v1/tokens/self/rotate"))
        .bearer_auth(&value)
        .json(&json!({"overlap_seconds": 3600}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let value = rotated["token"]
        .as_str()
        .unwrap_or_else(|| panic!("{rotated}"))
        .to_string();
    values.push(value.clone());
    expected.push("token.rotated");
    received_exactly(&receiver, "all", &expected).await;
    let response = http
        .delete(server.url("/api/v1/tokens/self"))
        .bearer_auth(&value)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    expected.push("token.deleted");
    received_exactly(&receiver, "all", &expected).await;

    // token.revoked by an admin, with the reason.
    let (bob_id, bob_value) = token(&server, "bob", "ops", "bob's", false);
    values.push(bob_value);
    let (_, admin_value) = token(&server, "alice", "ops", "admin", true);
    values.push(admin_value.clone());
    let response = http
        .delete(server.url(&format!(
            "/api/v1/teams/ops/tokens/{bob_id}?reason=too+broad"
        )))
        .bearer_auth(&admin_value)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    // The admin token's use is its first from this address, noted before the revocation.
    expected.extend(["token.created", "token.created"]);
    let got = eventually("the revocation", || async {
        let seen = receiver.seen("all").await;
        (seen.deliveries.len() == expected.len() + 2).then_some(seen.deliveries)
    })
    .await;
    let mut tail: Vec<&str> = got[expected.len()..]
        .iter()
        .map(|d| d["type"].as_str().unwrap())
        .collect();
    tail.sort_unstable();
    assert_eq!(tail, ["token.new_address", "token.revoked"]);
    let revoked = got.iter().find(|d| d["type"] == "token.revoked").unwrap();
    assert_eq!(revoked["payload"]["data"]["reason"], "too broad");
    assert_eq!(revoked["payload"]["data"]["token"]["owner"], "bob");
    let arrived: Vec<&str> = got.iter().map(|d| d["type"].as_str().unwrap()).collect();
    expected = arrived;

    // token.leak_reported
    let (_, leaked) = token(&server, "alice", "ops", "leaked", false);
    values.push(leaked.clone());
    let response = http
        .post(server.url("/api/v1/credentials/revoke"))
        .json(&json!({"credentials": [leaked], "source": "a paste"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    expected.extend(["token.created", "token.leak_reported"]);
    received_exactly(&receiver, "all", &expected).await;

    // token.approval_requested (with its token.created), approved, denied.
    let response = alice
        .call("set_write_approval", &[("team", "ops"), ("required", "on")])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let waiting = support::json(bob.call("create_token", &new_token("needs ok", true)).await).await;
    values.push(waiting["token"].as_str().unwrap().to_string());
    expected.extend(["token.created", "token.approval_requested"]);
    received_exactly(&receiver, "all", &expected).await;
    let waiting_id = waiting["id"].as_str().unwrap();
    let response = alice
        .call("approve_team_token", &[("team", "ops"), ("id", waiting_id)])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    expected.push("token.approved");
    received_exactly(&receiver, "all", &expected).await;
    let other = support::json(bob.call("create_token", &new_token("risky", true)).await).await;
    values.push(other["token"].as_str().unwrap().to_string());
    let response = alice
        .call(
            "deny_team_token",
            &[
                ("team", "ops"),
                ("id", other["id"].as_str().unwrap()),
                ("reason", "no"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    expected.extend(["token.created", "token.approval_requested", "token.denied"]);
    received_exactly(&receiver, "all", &expected).await;

    // token.expiring (7 days before) and token.expired, found by the expiry sweep.
    let db = server.connect_database().await;
    let (soon, soon_value) = token(&server, "alice", "ops", "soon", false);
    let (gone, gone_value) = token(&server, "alice", "ops", "gone", false);
    values.extend([soon_value, gone_value]);
    expected.extend(["token.created", "token.created"]);
    received_exactly(&receiver, "all", &expected).await;
    let made = chrono::Utc::now() - chrono::Duration::days(60);
    execute(&db, "UPDATE tokens SET created_at = $1", [made.into()]).await;
    set_token_expiry(
        &db,
        &soon,
        Some(chrono::Utc::now() + chrono::Duration::days(3)),
    )
    .await;
    set_token_expiry(
        &db,
        &gone,
        Some(chrono::Utc::now() - chrono::Duration::hours(1)),
    )
    .await;
    let got = eventually("the expiry sweep's events", || async {
        let seen = receiver.seen("all").await;
        (seen.deliveries.len() == expected.len() + 2).then_some(seen.deliveries)
    })
    .await;
    let mut swept: Vec<(String, String)> = got[expected.len()..]
        .iter()
        .map(|d| {
            (
                d["type"].as_str().unwrap().to_string(),
                d["payload"]["data"]["token"]["id"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    swept.sort_unstable();
    assert_eq!(
        swept,
        [
            ("token.expired".to_string(), gone.clone()),
            ("token.expiring".to_string(), soon.clone())
        ]
    );
    let arrived: Vec<&str> = got.iter().map(|d| d["type"].as_str().unwrap()).collect();
    expected = arrived;

    // member.removed, user.suspended, user.deprovisioned (SCIM).
    ok(cli(
        &server,
        &["team", "member", "remove", "ops", "bob"],
        None,
    ));
    expected.push("member.removed");
    received_exactly(&receiver, "all", &expected).await;
    ok(cli(&server, &["user", "suspend", "bob"], None));
    expected.push("user.suspended");
    let got = received_exactly(&receiver, "all", &expected).await;
    assert_eq!(
        got.last().unwrap()["payload"]["data"]["user"]["username"],
        "bob"
    );
    let scim = scim_credential(&server);
    let made: Value = http
        .post(server.url("/scim/v2/Users"))
        .bearer_auth(&scim)
        .header("content-type", "application/scim+json")
        .body(
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "erin"})
                .to_string(),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let response = http
        .delete(server.url(&format!("/scim/v2/Users/{}", made["id"].as_str().unwrap())))
        .bearer_auth(&scim)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    expected.push("user.deprovisioned");
    received_exactly(&receiver, "all", &expected).await;

    // A token of another team reaches the instance endpoint, not ops's.
    let (_, dev_value) = token(&server, "alice", "dev", "dev job", false);
    values.push(dev_value);
    expected.push("token.created");
    let all = received_exactly(&receiver, "all", &expected).await;
    let mut every_seen: Vec<&str> = all.iter().map(|d| d["type"].as_str().unwrap()).collect();
    every_seen.sort_unstable();
    every_seen.dedup();
    let mut every_sorted = every.clone();
    every_sorted.sort_unstable();
    assert_eq!(every_seen, every_sorted, "every event type was sent");

    let team_types = receiver.seen("ops").await.types();
    let ops_tokens = all
        .iter()
        .filter(|d| d["type"] == "token.created" && d["payload"]["data"]["token"]["team"] == "ops")
        .count();
    assert_eq!(
        team_types.iter().filter(|t| *t == "token.created").count(),
        ops_tokens
    );
    assert_eq!(
        team_types.iter().filter(|t| *t == "member.added").count(),
        1
    );
    assert_eq!(team_types.len(), ops_tokens + 1, "{team_types:?}");

    // The audit stream: every entry, by its kind (sign-ups, the API's writes, the webhooks'
    // own creation are entries too).
    let audit = eventually("the audit stream catches up", || async {
        let seen = receiver.seen("audit").await;
        let kinds: Vec<String> = seen
            .deliveries
            .iter()
            .map(|d| {
                d["payload"]["data"]["kind"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect();
        kinds.contains(&"scim_deleted".to_string()).then_some(seen)
    })
    .await;
    let kinds: Vec<&str> = audit
        .deliveries
        .iter()
        .map(|d| d["payload"]["data"]["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "member_added",
        "token_created",
        "token_regenerated",
        "token_revoked_by_admin",
        "user_suspended",
    ] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    assert!(audit.deliveries.iter().all(|d| d["type"] == "audit.entry"));
    assert_eq!(audit.refused, 0);

    // No payload holds a token's value.
    for delivery in all.iter().chain(&audit.deliveries) {
        let text = delivery["payload"].to_string();
        for value in &values {
            assert!(!text.contains(value.as_str()), "a value in {text}");
        }
        assert!(!text.contains("pdk_"), "{text}");
    }
    // Each delivery has its own id.
    let mut ids = receiver.seen("all").await.ids();
    ids.extend(
        audit
            .deliveries
            .iter()
            .map(|d| d["id"].as_str().unwrap().to_string()),
    );
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n);
}

/// A receiver that is down gets the events later, with the ids they were first sent with, in
/// the order they happened; the card's state shows the failures meanwhile.
#[tokio::test]
async fn a_receiver_down_for_a_while_gets_the_same_ids_in_order() {
    let server = webhook_server(&[]);
    alice_owns_ops(&server);
    let receiver = Receiver::start();
    let (hook, secret) = ops_token_hook(&server, &receiver, "flaky");
    receiver
        .control("flaky", json!({"secrets": [secret], "down": true}))
        .await;
    for name in ["one", "two", "three"] {
        token(&server, "alice", "ops", name, false);
    }
    eventually("retries", || async {
        (receiver.seen("flaky").await.attempts >= 3).then_some(())
    })
    .await;
    let listed = list_hooks(&server, &["--team", "ops"]);
    assert_eq!(listed[0]["id"], hook.as_str());
    assert!(!listed[0]["failing_since"].is_null(), "{listed}");
    let oldest = listed[0]["deliveries"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(oldest["state"], "pending");
    assert_eq!(oldest["last_status"], 503);
    assert!(oldest["attempts"].as_i64().unwrap() >= 1);
    assert!(receiver.seen("flaky").await.deliveries.is_empty());

    receiver.control("flaky", json!({"down": false})).await;
    let got = received_exactly(&receiver, "flaky", &["token.created"; 3]).await;
    let descriptions: Vec<&str> = got
        .iter()
        .map(|d| {
            d["payload"]["data"]["token"]["description"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(descriptions, ["one", "two", "three"]);
    let db = server.connect_database().await;
    for delivery in &got {
        let id = delivery["id"].as_str().unwrap();
        let stored = count(
            &db,
            "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE message_id = $1 AND state = 'delivered'",
            [id.into()],
        )
        .await;
        assert_eq!(stored, 1, "{id} is the id it was queued with");
    }
    let listed = list_hooks(&server, &["--team", "ops"]);
    assert!(listed[0]["failing_since"].is_null(), "{listed}");
}

/// `kill -9` while a delivery is under way: after the restart it is sent again with the same
/// `webhook-id` (at least once, never under another id).
#[tokio::test]
async fn a_crash_mid_delivery_is_made_good_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    let database = test_database(dir.path());
    let server = TestServer::start_with(dir, &database.url, &ENV);
    write_dotenv(&server, &ENV);
    alice_owns_ops(&server);
    let receiver = Receiver::start();
    let (_, secret) = ops_token_hook(&server, &receiver, "slow");
    receiver
        .control("slow", json!({"secrets": [secret], "hold_seconds": 5}))
        .await;
    token(&server, "alice", "ops", "crash", false);
    eventually("the attempt starts", || async {
        (receiver.seen("slow").await.attempts >= 1).then_some(())
    })
    .await;
    let dir = server.kill_hard_keep_dir();
    receiver.control("slow", json!({"hold_seconds": 0})).await;
    let server = TestServer::start_with(dir, &database.url, &ENV);
    let db = server.connect_database().await;
    let queued = support::text(&db, "SELECT message_id AS v FROM webhook_deliveries", [])
        .await
        .unwrap();
    eventually("delivered after the restart", || async {
        let delivered = count(
            &db,
            "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE state = 'delivered'",
            [],
        )
        .await;
        (delivered == 1).then_some(())
    })
    .await;
    let seen = receiver.seen("slow").await;
    assert!(!seen.ids().is_empty());
    assert!(
        seen.ids().iter().all(|id| *id == queued),
        "{:?} vs {queued}",
        seen.ids()
    );
}

/// An endpoint that fails for the give-up time is turned off, its waiting deliveries set
/// aside and its admins told; Redeliver sends one again and turns it back on.
#[tokio::test]
async fn an_endpoint_failing_too_long_is_turned_off_and_its_admins_told() {
    let server = webhook_server(&[("PATDESK_WEBHOOK_GIVE_UP_SECONDS", "3")]);
    alice_owns_ops(&server);
    let receiver = Receiver::start();
    let (hook, secret) = ops_token_hook(&server, &receiver, "dead");
    receiver
        .control("dead", json!({"secrets": [secret], "down": true}))
        .await;
    token(&server, "alice", "ops", "nobody hears", false);
    let listed = eventually("turned off", || async {
        let listed = list_hooks(&server, &["--team", "ops"]);
        (!listed[0]["disabled_at"].is_null()).then_some(listed)
    })
    .await;
    assert!(
        listed[0]["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("503"),
        "{listed}"
    );
    assert_eq!(listed[0]["deliveries"][0]["state"], "failed");
    let db = server.connect_database().await;
    let told = count(
        &db,
        "SELECT COUNT(*) AS n FROM notifications n JOIN users u ON u.id = n.user_id \
         WHERE u.username = 'alice' AND n.kind = 'webhook_disabled'",
        [],
    )
    .await;
    assert_eq!(told, 1);
    // Off: a new event is not queued for it.
    token(&server, "alice", "ops", "while off", false);
    let attempts = receiver.seen("dead").await.attempts;

    receiver.control("dead", json!({"down": false})).await;
    let message = listed[0]["deliveries"][0]["message_id"].as_str().unwrap();
    ok(cli(
        &server,
        &["webhook", "redeliver", "--team", "ops", &hook, message],
        None,
    ));
    let got = received_exactly(&receiver, "dead", &["token.created"]).await;
    assert_eq!(got[0]["id"], message);
    assert_eq!(
        got[0]["payload"]["data"]["token"]["description"],
        "nobody hears"
    );
    assert!(receiver.seen("dead").await.attempts > attempts);
    let listed = list_hooks(&server, &["--team", "ops"]);
    assert!(listed[0]["disabled_at"].is_null(), "{listed}");
}

/// A rotated secret: both sign for a day, so a receiver with either verifies; after the
/// overlap only the new one does.
#[tokio::test]
async fn a_rotated_secret_signs_beside_the_old_one_for_a_day() {
    let server = webhook_server(&[]);
    alice_owns_ops(&server);
    let receiver = Receiver::start();
    let (hook, old) = ops_token_hook(&server, &receiver, "rot");
    receiver.trust("rot", &old).await;
    token(&server, "alice", "ops", "before", false);
    let got = received_exactly(&receiver, "rot", &["token.created"]).await;
    assert_eq!(got[0]["signature"].as_str().unwrap().split(' ').count(), 1);

    let rotated: Value = serde_json::from_slice(
        &ok(cli(
            &server,
            &["webhook", "rotate-secret", "--team", "ops", &hook, "--json"],
            None,
        ))
        .stdout,
    )
    .unwrap();
    let new = rotated["secret"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    // The receiver still on the old secret verifies; one on the new verifies too.
    token(&server, "alice", "ops", "old still", false);
    let got = received_exactly(&receiver, "rot", &["token.created"; 2]).await;
    assert_eq!(got[1]["signature"].as_str().unwrap().split(' ').count(), 2);
    receiver.trust("rot", &new).await;
    token(&server, "alice", "ops", "new now", false);
    received_exactly(&receiver, "rot", &["token.created"; 3]).await;

    // The overlap over (time passing): the old secret alone verifies nothing.
    let db = server.connect_database().await;
    let past = chrono::Utc::now() - chrono::Duration::minutes(1);
    execute(
        &db,
        "UPDATE webhooks SET previous_secret_until = $1",
        [past.into()],
    )
    .await;
    receiver.trust("rot", &old).await;
    token(&server, "alice", "ops", "old no more", false);
    eventually("refused by the old secret", || async {
        (receiver.seen("rot").await.refused >= 1).then_some(())
    })
    .await;
    assert_eq!(receiver.seen("rot").await.deliveries.len(), 3);
}

/// Destinations inside — loopback, private, link-local (cloud metadata) — are refused when
/// the endpoint is made, and at send time for an endpoint that resolves there. No connection
/// is ever opened to them: the address rule is what is checked.
#[tokio::test]
async fn private_destinations_are_refused_at_creation_and_at_send_time() {
    // This server and its CLI do not allow private destinations.
    let server = TestServer::start();
    alice_owns_ops(&server);
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "https://10.0.0.5/hook",
        "https://192.168.1.10/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[fe80::1]/",
    ] {
        let out = cli(
            &server,
            &[
                "webhook",
                "create",
                "--team",
                "ops",
                "--url",
                url,
                "--event",
                "token.created",
            ],
            None,
        );
        assert!(!out.status.success(), "{url}");
        let error = String::from_utf8_lossy(&out.stderr);
        assert!(error.contains("public addresses"), "{url}: {error}");
    }
    let out = cli(
        &server,
        &[
            "webhook",
            "create",
            "--team",
            "ops",
            "--url",
            "ftp://example.com/",
            "--event",
            "token.created",
        ],
        None,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("https://"));
    assert_eq!(
        count(
            &server.connect_database().await,
            "SELECT COUNT(*) AS n FROM webhooks",
            []
        )
        .await,
        0
    );

    // Made by a CLI that allows them (the test flag), sent by a server that does not: the
    // sender refuses the address it resolved, and the receiver hears nothing.
    let receiver = Receiver::start();
    write_dotenv(&server, &[("PATDESK_WEBHOOK_ALLOW_PRIVATE", "true")]);
    ops_token_hook(&server, &receiver, "inside");
    token(&server, "alice", "ops", "goes nowhere", false);
    let listed = eventually("the attempt is refused", || async {
        let listed = list_hooks(&server, &["--team", "ops"]);
        (!listed[0]["deliveries"][0]["last_error"].is_null()).then_some(listed)
    })
    .await;
    let error = listed[0]["deliveries"][0]["last_error"].as_str().unwrap();
    assert!(error.contains("loopback address"), "{error}");
    assert_eq!(receiver.seen("inside").await.attempts, 0);
}

/// Two processes sharing a PostgreSQL database send each event once, between them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: PATDESK_TEST_POSTGRES_URL"]
async fn two_postgres_processes_deliver_each_event_once() {
    let database = TempDatabase::create();
    // Processes sharing a database share the key that seals the webhooks' secrets.
    let mut env = ENV.to_vec();
    env.push((
        "PATDESK_SECRET_KEY",
        "a-shared-secret-key-of-at-least-32-characters",
    ));
    let a = TestServer::start_with(tempfile::tempdir().unwrap(), &database.url, &env);
    let b = TestServer::start_with(tempfile::tempdir().unwrap(), &database.url, &env);
    write_dotenv(&a, &env);
    alice_owns_ops(&a);
    let receiver = Receiver::start();
    let (_, secret) = ops_token_hook(&a, &receiver, "both");
    receiver.trust("both", &secret).await;
    token(&a, "alice", "ops", "admin", true);
    for n in 0..30 {
        token(&a, "alice", "ops", &format!("job {n}"), false);
    }
    let got = received_exactly(&receiver, "both", &["token.created"; 31]).await;
    let mut ids: Vec<&str> = got.iter().map(|d| d["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 31);
    let descriptions: Vec<&str> = got
        .iter()
        .map(|d| {
            d["payload"]["data"]["token"]["description"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(descriptions[0], "admin");
    assert_eq!(descriptions[30], "job 29");
    for log in [a.log(), b.log()] {
        assert!(!log.contains("webhook secret unreadable"), "{log}");
    }
}

/// The webhooks' server functions check who calls: a team's readers and writers are refused,
/// people outside the team do not find it, only instance admins reach the instance's; a
/// team admin's webhook made in the app signs deliveries the receiver verifies.
#[tokio::test]
async fn only_admins_manage_webhooks_in_the_app() {
    let server = webhook_server(&[]);
    let receiver = Receiver::start();
    let mut people = Vec::new();
    for name in ["alice", "bob", "carol", "dave"] {
        let mut caller = Caller::new(&server);
        caller.sign_up(name).await;
        people.push(caller);
    }
    ok(cli(
        &server,
        &["team", "add", "ops", "--owner", "alice"],
        None,
    ));
    ok(cli(
        &server,
        &["team", "add", "dev", "--owner", "dave"],
        None,
    ));
    for (name, role) in [("bob", "writer"), ("carol", "reader")] {
        ok(cli(
            &server,
            &["team", "member", "add", "ops", name, "--role", role],
            None,
        ));
    }
    let url = receiver.url("app");
    let form = [
        ("team", "ops"),
        ("url", url.as_str()),
        ("events[]", "token.created"),
    ];
    for (who, status) in [
        (1, StatusCode::FORBIDDEN),
        (2, StatusCode::FORBIDDEN),
        (3, StatusCode::NOT_FOUND),
    ] {
        let response = people[who].call("create_webhook", &form).await;
        assert_eq!(response.status(), status, "#{who} creates");
        let response = people[who].call("list_webhooks", &[("team", "ops")]).await;
        assert_eq!(response.status(), status, "#{who} lists");
    }
    // The instance's: instance admins only (alice signed up first).
    for who in [1, 3] {
        let response = people[who].call("list_webhooks", &[("team", "")]).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "#{who}");
    }
    assert_eq!(
        count(
            &server.connect_database().await,
            "SELECT COUNT(*) AS n FROM webhooks",
            []
        )
        .await,
        0
    );

    // Bad input: a clear error naming the field.
    let bad = people[0]
        .call(
            "create_webhook",
            &[("team", "ops"), ("url", "https://hooks.example.com/x")],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.text()
            .await
            .unwrap()
            .contains("Choose at least one event")
    );

    let created = support::json(people[0].call("create_webhook", &form).await).await;
    let (id, secret) = (
        created["id"].as_str().unwrap(),
        created["secret"].as_str().unwrap(),
    );
    assert!(secret.starts_with("whsec_"));
    receiver.trust("app", secret).await;
    let listed = support::json(people[0].call("list_webhooks", &[("team", "ops")]).await).await;
    assert_eq!(listed["hooks"][0]["id"], id);
    assert!(
        !listed.to_string().contains(secret),
        "the list never shows the secret"
    );
    assert!(
        listed["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| !e["name"].as_str().unwrap().starts_with("user.")),
        "a team's form offers team events only"
    );
    // Another team's admin neither removes nor redelivers it.
    let response = people[3]
        .call("delete_webhook", &[("team", "ops"), ("id", id)])
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = people[3]
        .call("delete_webhook", &[("team", "dev"), ("id", id)])
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    token(&server, "alice", "ops", "seen by the app's webhook", false);
    received_exactly(&receiver, "app", &["token.created"]).await;
    // The log and the audit stream name the endpoint by its site: a path may hold a credential.
    let logged = support::text(
        &server.connect_database().await,
        "SELECT target AS v FROM activity WHERE kind = 'webhook_created'",
        [],
    )
    .await
    .unwrap();
    assert!(
        logged.starts_with("http://127.0.0.1:") && !logged.contains("/hook/app"),
        "{logged}"
    );

    // At most 20 endpoints a team.
    for n in 1..20 {
        let url = receiver.url(&format!("more-{n}"));
        let form = [
            ("team", "ops"),
            ("url", url.as_str()),
            ("events[]", "token.created"),
        ];
        assert_eq!(
            people[0].call("create_webhook", &form).await.status(),
            StatusCode::OK
        );
    }
    let one_more = people[0].call("create_webhook", &form).await;
    assert_eq!(one_more.status(), StatusCode::CONFLICT);
    assert!(
        one_more
            .text()
            .await
            .unwrap()
            .contains("the most it may have")
    );
    ok(cli(&server, &["webhook", "list", "--team", "ops"], None));
    let response = people[0]
        .call("delete_webhook", &[("team", "ops"), ("id", id)])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        count(
            &server.connect_database().await,
            "SELECT COUNT(*) AS n FROM webhooks",
            []
        )
        .await,
        19
    );
}
