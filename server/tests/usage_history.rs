//! Usage history (docs/usage.md): every check of a token — accepted, or refused by code, through
//! the API, `/auth/verify` and introspection — counted exactly, across a graceful restart and
//! across processes; read back by its owner and its team's admins only, on its page and through
//! the API; hours older than 90 days purged.

mod support;

use std::collections::BTreeMap;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use support::{
    Caller, FAST_FLUSH, PASSWORD, TestServer, alice_owns_ops, cli, client_from, eventually,
    execute, ok, token,
};

/// The calls a burst makes, by outcome, as the usage API should report them.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Expected {
    accepted: i64,
    refused: BTreeMap<String, i64>,
}

impl Expected {
    fn add(&mut self, other: &Expected) {
        self.accepted += other.accepted;
        for (code, n) in &other.refused {
            *self.refused.entry(code.clone()).or_default() += n;
        }
    }

    fn total(&self) -> i64 {
        self.accepted + self.refused.values().sum::<i64>()
    }
}

/// A service credential of ops, for introspection: `svc_…:pdks_…`.
fn service_credential(server: &TestServer) -> (String, String) {
    let out = ok(cli(
        server,
        &[
            "service", "create", "--team", "ops", "--name", "metrics", "--json",
        ],
        None,
    ));
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    (
        created["id"].as_str().unwrap().into(),
        created["secret"].as_str().unwrap().into(),
    )
}

/// A burst of mixed calls with the read-only token `value` on `server`: accepted reads, writes
/// refused as read-only, calls to another team, proxy checks and introspections (some refused),
/// from two addresses. What they should count as.
async fn burst(server: &TestServer, value: &str, service: &(String, String)) -> Expected {
    let mut expected = Expected::default();
    let mut refused = |code: &str| *expected.refused.entry(code.to_string()).or_default() += 1;
    let (one, two) = (client_from(1), client_from(2));
    // At the same moment: counted under the buffer's lock, not one after the other.
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..12 {
        let http = if i % 3 == 0 { two.clone() } else { one.clone() };
        let (url, value) = (server.url("/api/v1/me"), value.to_string());
        calls.spawn(async move {
            http.get(url)
                .bearer_auth(value)
                .send()
                .await
                .unwrap()
                .status()
        });
    }
    for status in calls.join_all().await {
        assert_eq!(status, StatusCode::OK);
    }
    let mut accepted = 12;
    for _ in 0..4 {
        let status = one
            .post(server.url("/api/v1/teams/ops/questions"))
            .bearer_auth(value)
            .json(&json!({"title": "t", "body": "b"}))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, StatusCode::FORBIDDEN);
        refused("read_only_token");
    }
    for _ in 0..3 {
        let status = two
            .get(server.url("/api/v1/teams/elsewhere/questions"))
            .bearer_auth(value)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, StatusCode::FORBIDDEN);
        refused("wrong_team");
    }
    for (team, ok) in [("ops", true), ("ops", true), ("web", false)] {
        let status = one
            .get(server.url(&format!("/auth/verify?team={team}")))
            .bearer_auth(value)
            .send()
            .await
            .unwrap()
            .status();
        if ok {
            assert_eq!(status, StatusCode::OK);
            accepted += 1;
        } else {
            assert_eq!(status, StatusCode::FORBIDDEN);
            refused("wrong_team");
        }
    }
    for _ in 0..2 {
        let answer: Value = one
            .post(server.url("/oauth/introspect"))
            .basic_auth(&service.0, Some(&service.1))
            .form(&[("token", value)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(answer["active"], true);
        accepted += 1;
    }
    expected.accepted = accepted;
    expected
}

/// Token `id`'s usage as the usage API reports it, read by `admin` (a team admin's token, whose
/// own calls are counted for itself, not for `id`).
async fn usage_of(server: &TestServer, admin: &str, id: &str) -> Value {
    let response = Client::new()
        .get(server.url(&format!("/api/v1/teams/ops/tokens/{id}/usage?days=2")))
        .bearer_auth(admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// What the usage API reports, summed over its days.
fn reported(usage: &Value) -> Expected {
    let mut total = Expected::default();
    for day in usage["days"].as_array().unwrap() {
        let refused: BTreeMap<String, i64> =
            serde_json::from_value(day["refused"].clone()).unwrap();
        total.add(&Expected {
            accepted: day["accepted"].as_i64().unwrap(),
            refused,
        });
    }
    total
}

/// Waits until `expected.total()` calls are reported, then they must be exactly `expected`.
async fn counted_exactly(server: &TestServer, admin: &str, id: &str, expected: &Expected) {
    let usage = eventually("the burst to be written", || async {
        let usage = usage_of(server, admin, id).await;
        (reported(&usage).total() >= expected.total()).then_some(usage)
    })
    .await;
    assert_eq!(&reported(&usage), expected, "{usage:#}");
}

fn setup(server: &TestServer) -> (String, String, String, (String, String)) {
    alice_owns_ops(server);
    ok(cli(
        server,
        &["team", "add", "elsewhere", "--owner", "alice"],
        None,
    ));
    let (id, value) = token(server, "alice", "ops", "counted", false);
    let (_, admin) = token(server, "alice", "ops", "reader of usage", false);
    (id, value, admin, service_credential(server))
}

#[tokio::test]
async fn a_burst_of_mixed_calls_is_counted_exactly_across_a_restart() {
    let first = TestServer::start_env(&[FAST_FLUSH]);
    let url = first.database_url();
    let (id, value, admin, service) = setup(&first);
    let mut expected = burst(&first, &value, &service).await;
    // The last calls are written at the graceful stop, not lost with the process.
    let kept = first.terminate_keep_data();
    let second = TestServer::start_with(tempfile::tempdir().unwrap(), &url, &[FAST_FLUSH]);
    expected.add(&burst(&second, &value, &service).await);
    counted_exactly(&second, &admin, &id, &expected).await;

    // The addresses: first and last seen, and how many calls (refused ones too).
    let usage = usage_of(&second, &admin, &id).await;
    let addresses: BTreeMap<String, Value> = usage["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["ip"].as_str().unwrap().to_string(), a.clone()))
        .collect();
    assert_eq!(
        addresses.keys().collect::<Vec<_>>(),
        ["127.0.0.1", "127.0.0.2"]
    );
    let calls: i64 = addresses
        .values()
        .map(|a| a["calls"].as_i64().unwrap())
        .sum();
    assert_eq!(calls, expected.total());
    // 127.0.0.2 made 4 of the 12 reads and the 3 calls to another team, twice.
    assert_eq!(addresses["127.0.0.2"]["calls"], 14);
    assert_eq!(addresses["127.0.0.2"]["refused"], 6);
    let seen = &addresses["127.0.0.1"];
    assert!(seen["first_seen"].as_str() <= seen["last_seen"].as_str());
    drop(kept);
}

#[tokio::test]
async fn the_usage_api_answers_owners_and_team_admins_only() {
    let server = TestServer::start_env(&[FAST_FLUSH]);
    alice_owns_ops(&server);
    ok(cli(
        &server,
        &["user", "add", "bob"],
        Some(&format!("{PASSWORD}\n")),
    ));
    ok(cli(
        &server,
        &["team", "add", "web", "--owner", "bob"],
        None,
    ));
    ok(cli(
        &server,
        &["team", "member", "add", "ops", "bob", "--role", "writer"],
        None,
    ));
    let (alice_id, alice_value) = token(&server, "alice", "ops", "alice's", false);
    let (_, bob_ops) = token(&server, "bob", "ops", "bob's", false);
    let (bob_web_id, bob_web) = token(&server, "bob", "web", "bob's web", false);
    let http = Client::new();
    let get = |path: String, value: String| {
        let http = http.clone();
        let url = server.url(&path);
        async move {
            let response = http.get(url).bearer_auth(value).send().await.unwrap();
            let status = response.status();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };

    // The token's own usage: every day of the period, oldest first.
    let (status, usage) = get(
        "/api/v1/tokens/self/usage?days=7".into(),
        alice_value.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{usage}");
    let days = usage["days"].as_array().unwrap();
    assert_eq!(days.len(), 7);
    let today = chrono::Utc::now().date_naive().to_string();
    assert_eq!(days[6]["date"], today.as_str());
    assert!(days[0]["date"].as_str() < days[6]["date"].as_str());
    let (status, usage) = get("/api/v1/tokens/self/usage".into(), alice_value.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        usage["days"].as_array().unwrap().len(),
        30,
        "default 30 days"
    );
    for bad in ["0", "91", "x"] {
        let (status, body) = get(
            format!("/api/v1/tokens/self/usage?days={bad}"),
            alice_value.clone(),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "days={bad}: {body}"
        );
    }

    // A writer of ops is not its admin: no other member's usage.
    let (status, body) = get(
        format!("/api/v1/teams/ops/tokens/{alice_id}/usage"),
        bob_ops.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "insufficient_role");
    // An admin of web asking through web about a token of ops: no such token in web.
    let (status, _) = get(
        format!("/api/v1/teams/web/tokens/{alice_id}/usage"),
        bob_web.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // alice, admin of ops, about a token of web through ops: refused by the team in the path.
    let (status, _) = get(
        format!("/api/v1/teams/ops/tokens/{bob_web_id}/usage"),
        alice_value.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get(
        "/api/v1/teams/ops/tokens/tok_doesnotexist0000/usage".into(),
        alice_value.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The OpenAPI document describes both.
    let document: Value = http
        .get(server.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/api/v1/tokens/self/usage",
        "/api/v1/teams/{team}/tokens/{id}/usage",
    ] {
        let answer = &document["paths"][path]["get"]["responses"]["200"];
        assert_eq!(
            answer["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/UsageOut",
            "{path}"
        );
    }
    let schema = &document["components"]["schemas"];
    assert!(schema["UsageOut"]["properties"]["days"].is_object());
    assert!(schema["UsageDay"]["properties"]["refused"].is_object());
    for field in ["ip", "first_seen", "last_seen", "calls"] {
        assert!(
            schema["UsageAddress"]["properties"][field].is_object(),
            "{field}"
        );
    }
}

#[tokio::test]
async fn a_token_page_is_its_owners_and_its_team_admins_and_404_for_anyone_else() {
    let server = TestServer::start_env(&[FAST_FLUSH]);
    alice_owns_ops(&server);
    for name in ["bob", "carol"] {
        ok(cli(
            &server,
            &["user", "add", name],
            Some(&format!("{PASSWORD}\n")),
        ));
    }
    // bob is a writer of ops (not its admin); carol is in no team of alice's.
    ok(cli(
        &server,
        &["team", "member", "add", "ops", "bob", "--role", "writer"],
        None,
    ));
    let (bob_id, bob_value) = token(&server, "bob", "ops", "bob's script", false);
    let (alice_id, _) = token(&server, "alice", "ops", "alice's", false);
    let status = Client::new()
        .get(server.url("/api/v1/me"))
        .bearer_auth(&bob_value)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::OK);

    let page_of = |id: String, who: &'static str| {
        let server = &server;
        async move {
            let mut caller = Caller::new(server);
            caller.sign_in(who, PASSWORD).await;
            let response = caller.get(&format!("/tokens/{id}")).await;
            let status = response.status();
            (status, response.text().await.unwrap())
        }
    };
    // The owner, once the call is written: the chart is in the server's HTML (before any wasm).
    let html = eventually("bob's call on his token page", || async {
        let (status, html) = page_of(bob_id.clone(), "bob").await;
        assert_eq!(status, StatusCode::OK);
        html.contains("1 accepted").then_some(html)
    })
    .await;
    assert!(html.contains("data-testid=\"chart-days\""));
    assert!(html.contains("<svg"));
    assert!(html.contains("class=\"bar-accepted\""));
    // The one busy day is the busiest bar: drawn the chart's full height (160 units) from its top.
    assert!(
        html.contains("y=\"0.0\"") && html.contains("height=\"160.0\""),
        "the busiest bar fills the chart"
    );
    assert!(html.contains("127.0.0.1"), "the address seen");
    // The team's admin.
    let (status, html) = page_of(bob_id.clone(), "alice").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("bob's script"));
    // A member who is not an admin, someone outside the team: no such page.
    for (id, who) in [(alice_id.clone(), "bob"), (bob_id.clone(), "carol")] {
        let (status, html) = page_of(id.clone(), who).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{who} on {id}");
        let other = if who == "bob" {
            "alice's"
        } else {
            "bob's script"
        };
        assert!(!html.contains(other), "{html}");
    }
}

#[tokio::test]
async fn hours_older_than_90_days_are_purged() {
    let server = TestServer::start_env(&[FAST_FLUSH, ("PATDESK_SESSION_SWEEP_SECONDS", "1")]);
    alice_owns_ops(&server);
    let (id, value) = token(&server, "alice", "ops", "old", false);
    let status = Client::new()
        .get(server.url("/api/v1/me"))
        .bearer_auth(&value)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::OK);
    let db = server.connect_database().await;
    let rows = "SELECT COUNT(*) AS n FROM token_usage_hours WHERE token_id = $1";
    eventually("the call to be written", || async {
        (support::count(&db, rows, [id.clone().into()]).await == 1).then_some(())
    })
    .await;
    // Time passing, which no interface offers: rows of 91 and 89 days ago.
    let old = chrono::Utc::now() - chrono::Duration::days(91);
    let recent = chrono::Utc::now() - chrono::Duration::days(89);
    for (hour, outcome) in [(old, "accepted"), (recent, "accepted")] {
        let insert = "INSERT INTO token_usage_hours (token_id, hour, surface, outcome, calls) \
                      VALUES ($1, $2, 'api', $3, 5)";
        execute(
            &db,
            insert,
            [id.clone().into(), hour.into(), outcome.into()],
        )
        .await;
    }
    let insert = "INSERT INTO token_addresses (token_id, ip, first_seen, last_seen, calls, refused) \
                  VALUES ($1, '192.0.2.77', $2, $2, 3, 0)";
    execute(&db, insert, [id.clone().into(), old.into()]).await;
    eventually("the sweep to purge the old hour", || async {
        (support::count(&db, rows, [id.clone().into()]).await == 2).then_some(())
    })
    .await;
    let addresses = "SELECT COUNT(*) AS n FROM token_addresses WHERE token_id = $1";
    assert_eq!(support::count(&db, addresses, [id.clone().into()]).await, 1);
    let kept = "SELECT COUNT(*) AS n FROM token_usage_hours WHERE token_id = $1 AND hour > $2";
    assert_eq!(
        support::count(
            &db,
            kept,
            [
                id.clone().into(),
                (chrono::Utc::now() - chrono::Duration::days(90)).into()
            ]
        )
        .await,
        2,
        "the 89-day-old hour and today's are kept"
    );
}

/// Two processes on one PostgreSQL database counting one token's calls at the same moment:
/// every call is counted once.
#[tokio::test]
#[ignore = "needs PostgreSQL: `make test-rust-postgres` runs it"]
async fn two_processes_count_one_token_exactly() {
    let database = support::postgres::TempDatabase::create();
    let a = TestServer::start_with(tempfile::tempdir().unwrap(), &database.url, &[FAST_FLUSH]);
    let b = TestServer::start_with(tempfile::tempdir().unwrap(), &database.url, &[FAST_FLUSH]);
    let (id, value, admin, service) = setup(&a);
    let (on_a, on_b) = tokio::join!(burst(&a, &value, &service), burst(&b, &value, &service));
    let mut expected = on_a;
    expected.add(&on_b);
    counted_exactly(&a, &admin, &id, &expected).await;
    counted_exactly(&b, &admin, &id, &expected).await;
}

/// Addresses are bounded (docs/usage.md): through a trusted proxy that names a new client on
/// every call, a token keeps at most `PATDESK_USAGE_ADDRESSES_PER_TOKEN` of them — the busiest
/// kept — and the IPv6 addresses of one /64 are one. Before the cap, every address was a row
/// (425,008 in 30 s in the review), and IPv6 ones each their own.
#[tokio::test]
async fn a_flood_of_addresses_keeps_the_cap_and_ipv6_counts_per_64() {
    let server = TestServer::start_env(&[
        FAST_FLUSH,
        ("PATDESK_TRUST_FORWARDED_FOR", "true"),
        ("PATDESK_USAGE_ADDRESSES_PER_TOKEN", "20"),
    ]);
    alice_owns_ops(&server);
    let (id, value) = token(&server, "alice", "ops", "flooded", false);
    let http = Client::new();
    let call_from = |from: String| {
        let request = http
            .get(server.url("/api/v1/me"))
            .bearer_auth(&value)
            .header("X-Forwarded-For", from);
        async move {
            assert_eq!(request.send().await.unwrap().status(), StatusCode::OK);
        }
    };
    // Five addresses of one /64, three calls each: the busiest "address".
    for i in 1..=5 {
        for _ in 0..3 {
            call_from(format!("2001:db8:1:2::{i:x}")).await;
        }
    }
    // Then a new address on every call.
    for i in 0..60 {
        call_from(format!("198.51.100.{i}")).await;
    }
    let db = server.connect_database().await;
    let written = "SELECT CAST(COALESCE(SUM(calls), 0) AS BIGINT) AS n FROM token_usage_hours \
                   WHERE token_id = $1";
    eventually("the 75 calls to be written", || async {
        (support::count(&db, written, [id.clone().into()]).await == 75).then_some(())
    })
    .await;
    // The addresses are evicted in the transaction that writes the counts.
    let addresses = "SELECT COUNT(*) AS n FROM token_addresses WHERE token_id = $1";
    assert_eq!(
        support::count(&db, addresses, [id.clone().into()]).await,
        20
    );
    let per_64 = "SELECT calls AS n FROM token_addresses WHERE token_id = $1 AND ip = $2";
    assert_eq!(
        support::count(&db, per_64, [id.clone().into(), "2001:db8:1:2::/64".into()]).await,
        15,
        "one /64, every call of its five addresses, kept as the busiest"
    );
    let latest = "SELECT COUNT(*) AS n FROM token_addresses WHERE token_id = $1 AND ip = $2";
    assert_eq!(
        support::count(&db, latest, [id.clone().into(), "198.51.100.59".into()]).await,
        1,
        "the most recent address is kept"
    );
    // What the page and the API read: the 20, the /64 among them, suggested as itself.
    let usage: Value = Client::new()
        .get(server.url("/api/v1/tokens/self/usage?days=1"))
        .bearer_auth(&value)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let shown = usage["addresses"].as_array().unwrap();
    assert_eq!(shown.len(), 20, "{usage:#}");
    assert!(
        shown.iter().any(|a| a["ip"] == "2001:db8:1:2::/64"),
        "{usage:#}"
    );
}

/// Whatever is stored (rows written before the cap), a history reads at most 1,000 addresses,
/// the most recently seen: the token's page took 90 s over 425,008 of them.
#[tokio::test]
async fn a_history_reads_at_most_a_thousand_addresses() {
    let server = TestServer::start_env(&[FAST_FLUSH]);
    alice_owns_ops(&server);
    let (id, _) = token(&server, "alice", "ops", "quiet", false);
    let (_, reader) = token(&server, "alice", "ops", "reader of usage", false);
    let db = server.connect_database().await;
    // 1,200 addresses, the latest seen most recently; the token itself makes no call, so no
    // flush touches its rows.
    let insert = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200) \
                  INSERT INTO token_addresses (token_id, ip, first_seen, last_seen, calls, refused) \
                  SELECT $1, '10.9.' || (i / 256) || '.' || (i % 256), $2, $2, i, 0 FROM n";
    let now = chrono::Utc::now();
    execute(&db, insert, [id.clone().into(), now.into()]).await;
    let addresses = "SELECT COUNT(*) AS n FROM token_addresses WHERE token_id = $1";
    assert_eq!(
        support::count(&db, addresses, [id.clone().into()]).await,
        1200
    );
    let usage = usage_of(&server, &reader, &id).await;
    assert_eq!(usage["addresses"].as_array().unwrap().len(), 1000);
}
