//! Faults, against the real binary on PostgreSQL: the database goes away mid-run (through a TCP
//! proxy this test controls, not by stopping the shared database server). The server answers
//! 503 meanwhile, recovers by itself when the database is back, and loses nothing.

mod support;

use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use support::{
    TestServer, alice_owns_ops, cli, ok,
    postgres::{TcpProxy, TempDatabase, server_addr},
    token,
};

async fn status_and_body(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_database_going_away_gives_503_then_recovery_with_nothing_lost() {
    let Some(database) = TempDatabase::create() else {
        return;
    };
    let proxy = TcpProxy::start(server_addr(&database.url));
    let dir = tempfile::tempdir().unwrap();
    let mut server = TestServer::start_in(dir, &database.url_via(proxy.addr));
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
    // Noted in memory; the flush (every 5 s) will first be attempted during the outage.
    let (status, _) = status_and_body(http.get(&me).bearer_auth(&value)).await;
    assert_eq!(status, StatusCode::OK);

    proxy.cut();
    let (status, body) = status_and_body(http.get(server.url("/readyz"))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["database"], "unreachable");
    let (status, body) = status_and_body(http.get(&me).bearer_auth(&value)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "service_unavailable");
    let (status, body) = status_and_body(http.post(&questions).bearer_auth(&value).json(
        &json!({"title": "Written during the outage", "body": "Refused, not half-written."}),
    ))
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    // Let a usage flush fail against the missing database.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert!(server.is_running(), "the server survives the outage");

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, _) = status_and_body(http.get(server.url("/readyz"))).await;
        if status == StatusCode::OK {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no recovery after the database came back"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
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
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let out = ok(cli(
            &server,
            &["token", "list", "--user", "alice", "--json"],
            None,
        ));
        let list: Value = serde_json::from_slice(&out.stdout).unwrap();
        let row = list
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == token_id.as_str())
            .unwrap()
            .clone();
        if !row["last_used_at"].is_null() {
            break;
        }
        assert!(Instant::now() < deadline, "last-used data was lost: {row}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let log = server.log();
    assert!(log.contains("database unreachable"), "{log}");
    assert!(!log.contains("panicked"), "{log}");
}
