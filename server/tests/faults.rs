//! Faults, against the real binary. On PostgreSQL, the database goes away mid-run (through a
//! TCP proxy this test controls, not by stopping the shared database server): the server answers
//! 503 meanwhile, recovers by itself when the database is back, and loses nothing. And SIGTERM
//! under load: in-flight requests finish and last-used data is written.

mod support;

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use support::{
    TestServer, alice_owns_ops, cli, eventually, ok,
    postgres::{TcpProxy, TempDatabase, server_addr},
    test_database, token,
};

async fn status_and_body(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
#[ignore = "needs PostgreSQL: `make test-rust-postgres` runs it"]
async fn the_database_going_away_gives_503_then_recovery_with_nothing_lost() {
    let database = TempDatabase::create();
    let proxy = TcpProxy::start(server_addr(&database.url));
    let dir = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_with(
        dir,
        &database.url_via(proxy.addr),
        &[("PATDESK_USAGE_FLUSH_MS", "200")],
    );
    alice_owns_ops(&server);
    let (token_id, value) = token(&server, "alice", "ops", "ci", true);
    let http = Client::new();
    let me = server.url("/api/v1/me");
    let questions = server.url("/api/v1/teams/ops/questions");

    let (status, _body) = status_and_body(
        http.post(&questions)
            .bearer_auth(&value)
            .json(&json!({"title": "Written before the outage", "body": "It must survive."})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{_body}");
    proxy.cut();
    // Noted in memory during the outage; the flush will fail until the database is back.
    let (status, body) = status_and_body(http.get(server.url("/readyz"))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["error"]["code"], "service_unavailable");
    // A token checked in the last 500 ms is still known without the database (and its use
    // noted); after that the check needs the database.
    let body = eventually("the token check to need the database", || async {
        let (status, body) = status_and_body(http.get(&me).bearer_auth(&value)).await;
        assert!(
            status == StatusCode::OK || status == StatusCode::SERVICE_UNAVAILABLE,
            "{status}: {body}"
        );
        (status == StatusCode::SERVICE_UNAVAILABLE).then_some(body)
    })
    .await;
    assert_eq!(body["error"]["code"], "service_unavailable");
    let (status, body) = status_and_body(http.post(&questions).bearer_auth(&value).json(
        &json!({"title": "Written during the outage", "body": "Refused, not half-written."}),
    ))
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    // A usage flush fails against the missing database, and the server lives on.
    eventually("a usage flush to fail", || async {
        server
            .log()
            .contains("could not write usage data")
            .then_some(())
    })
    .await;
    assert!(server.is_running(), "the server survives the outage");

    proxy.restore();
    eventually("recovery after the database came back", || async {
        let (status, _) = status_and_body(http.get(server.url("/readyz"))).await;
        (status == StatusCode::OK).then_some(())
    })
    .await;
    let (status, body) = status_and_body(http.get(&me).bearer_auth(&value)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, page) = status_and_body(http.get(&questions).bearer_auth(&value)).await;
    let titles: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Written before the outage"]);

    // The use noted before the outage reaches the database once it is back.
    eventually("the noted use to be written", || async {
        let out = ok(cli(
            &server,
            &["token", "list", "--user", "alice", "--json"],
            None,
        ));
        let list: Value = serde_json::from_slice(&out.stdout).unwrap();
        list.as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == token_id.as_str() && !t["last_used_at"].is_null())
            .then_some(())
    })
    .await;
    let log = server.log();
    assert!(log.contains("database unreachable"), "{log}");
    assert!(!log.contains("panicked"), "{log}");
}

/// SIGTERM while clients are hammering the server: every response that starts is complete
/// (requests in flight finish), later requests are refused without being processed, and the
/// uses noted in memory reach the database before the process exits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_finishes_in_flight_requests_and_flushes() {
    let dir = tempfile::tempdir().unwrap();
    let database = test_database(dir.path());
    let server = TestServer::start_in(dir, &database.url);
    alice_owns_ops(&server);
    let (_, value) = token(&server, "alice", "ops", "load", false);
    let me = server.url("/api/v1/me");
    let url = server.database_url();

    // No keep-alive: each request is its own connection. Once the server stops accepting, a
    // request fails to connect, or is reset in the kernel's backlog without being processed.
    let http = Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let answered_so_far = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for _ in 0..16 {
        let (http, me, value) = (http.clone(), me.clone(), value.clone());
        let answered_so_far = answered_so_far.clone();
        clients.push(tokio::spawn(async move {
            let (mut answered, mut refused) = (0usize, 0usize);
            while refused == 0 {
                match http.get(&me).bearer_auth(&value).send().await {
                    Ok(response) => {
                        assert_eq!(response.status(), StatusCode::OK);
                        let body: Value = response.json().await.expect("a response cut off");
                        assert_eq!(body["user"]["username"], "alice");
                        answered += 1;
                        answered_so_far.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        assert!(e.is_connect() || e.is_request(), "{e}");
                        refused += 1;
                    }
                }
            }
            answered
        }));
    }
    // The load is on once every client has been answered a few times over.
    eventually("the load to be running", || async {
        (answered_so_far.load(Ordering::Relaxed) >= 64).then_some(())
    })
    .await;
    let kept = tokio::task::spawn_blocking(move || server.terminate_keep_data())
        .await
        .unwrap();
    let mut answered = 0;
    for client in clients {
        answered += client.await.unwrap();
    }
    assert!(answered > 16, "load: only {answered} requests answered");

    let out = ok(support::cli_at(
        tempfile::tempdir().unwrap().path(),
        &url,
        &["token", "list", "--user", "alice", "--json"],
        None,
    ));
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        listed[0]["last_used_at"].is_string(),
        "not flushed: {listed}"
    );
    drop(kept);
}
