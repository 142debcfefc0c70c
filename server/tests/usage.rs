//! Last-used tracking (docs/api.md): written in batches, not per request; flushed at a
//! graceful shutdown; a hard kill loses at most the unflushed seconds and nothing else.

mod support;

use reqwest::Client;
use serde_json::{Value, json};
use support::{FAST_FLUSH, TestServer, alice_owns_ops, cli, eventually, ok, token};

/// alice, her team ops, and a read/write token "ci": (id, value).
fn setup(server: &TestServer) -> (String, String) {
    alice_owns_ops(server);
    token(server, "alice", "ops", "ci", true)
}

fn listed(server: &TestServer) -> Value {
    let out = ok(cli(
        server,
        &["token", "list", "--user", "alice", "--json"],
        None,
    ));
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    list[0].clone()
}

async fn use_token(server: &TestServer, token: &str, forwarded: Option<&str>) {
    let mut request = Client::new()
        .get(server.url("/api/v1/me"))
        .bearer_auth(token);
    if let Some(ip) = forwarded {
        request = request.header("x-forwarded-for", ip);
    }
    assert_eq!(request.send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn uses_are_written_in_batches_and_at_shutdown() {
    // The longest flush interval there is: the first write comes 10 s after start, so nothing
    // the calls below note can have been written by the time they are checked.
    let server = TestServer::start_env(&[("PATDESK_USAGE_FLUSH_MS", "10000")]);
    let (_, token) = setup(&server);
    assert_eq!(listed(&server)["last_used_at"], Value::Null);
    for _ in 0..20 {
        use_token(&server, &token, None).await;
    }
    // Not written per request…
    assert_eq!(
        listed(&server)["last_used_at"],
        Value::Null,
        "written at once, not in a batch"
    );
    // …but at the next flush.
    let row = eventually("the batch to be written", || async {
        let row = listed(&server);
        row["last_used_at"].is_string().then_some(row)
    })
    .await;
    assert_eq!(row["last_used_ips"], json!(["127.0.0.1"]));

    // X-Forwarded-For is ignored unless the operator trusts a proxy.
    use_token(&server, &token, Some("203.0.113.9")).await;
    let url = server.database_url();
    let _kept = server.terminate_keep_data();
    assert_eq!(list_via(&url)["last_used_ips"], json!(["127.0.0.1"]));
}

#[tokio::test]
async fn a_hard_kill_loses_only_the_unflushed_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let database = support::test_database(dir.path());
    let url = database.url.clone();
    let server = TestServer::start_with(tempfile::tempdir().unwrap(), &url, &[FAST_FLUSH]);
    let (_, token) = setup(&server);

    use_token(&server, &token, None).await;
    let flushed = eventually("the use to be written", || async {
        list_via(&url)["last_used_at"].as_str().map(str::to_string)
    })
    .await;
    // A write made just before the crash is kept (it is a normal transaction)…
    let created = Client::new()
        .post(server.url("/api/v1/teams/ops/questions"))
        .bearer_auth(&token)
        .json(&json!({"title": "kept", "body": "through a crash"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    server.kill_hard();
    // …while the last-used note of that request may be lost, but the earlier one is there.
    let after = list_via(&url);
    assert!(after["last_used_at"].as_str().unwrap() >= flushed.as_str());

    let restarted = TestServer::start_in(tempfile::tempdir().unwrap(), &url);
    let list: Value = Client::new()
        .get(restarted.url("/api/v1/teams/ops/questions"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"][0]["title"], "kept");
}

#[tokio::test]
async fn sigterm_flushes_pending_uses() {
    // No periodic write within the test's time: only the shutdown can write the use.
    let server = TestServer::start_env(&[("PATDESK_USAGE_FLUSH_MS", "10000")]);
    let (_, token) = setup(&server);
    use_token(&server, &token, None).await;
    let dir_url = server.database_url();
    let kept = server.terminate_keep_data();
    let row = list_via(&dir_url);
    assert!(
        row["last_used_at"].as_str().is_some(),
        "SIGTERM should flush: {row}"
    );
    drop(kept);
}

/// The CLI against the database at `url`, run from a directory of its own.
fn patdesk_cli(url: &str, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    support::cli_at(dir.path(), url, args, stdin)
}

fn list_via(url: &str) -> Value {
    let out = patdesk_cli(url, &["token", "list", "--user", "alice", "--json"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    list[0].clone()
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_forwarded_address_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let database = support::test_database(dir.path());
    let url = database.url.clone();
    let server = TestServer::start_with(
        tempfile::tempdir().unwrap(),
        &url,
        &[("PATDESK_TRUST_FORWARDED_FOR", "true")],
    );
    let (_, token) = setup(&server);
    // The proxy appends the address it saw; earlier entries are whatever the client claimed.
    use_token(&server, &token, Some("198.51.100.7, 203.0.113.9")).await;
    assert!(server.terminate().success());
    assert_eq!(list_via(&url)["last_used_ips"], json!(["203.0.113.9"]));
}
