//! Per-token rate limits (docs/usage.md): the limit set at creation (CLI and web form), the
//! 429 and the `RateLimit-*` headers on the API and `/auth/verify`, never a failed
//! authentication; the team's cap; who may change a limit; and one budget shared by several
//! processes on PostgreSQL.

mod support;

use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use support::{
    Caller, FAST_FLUSH, PASSWORD, TestServer, alice_owns_ops, cli, eventually, json, ok,
};

/// Creates a token with `--rate-limit`; (id, value).
fn limited_token(server: &TestServer, description: &str, limit: u32) -> (String, String) {
    let limit = limit.to_string();
    let out = ok(cli(
        server,
        &[
            "token",
            "create",
            "--user",
            "alice",
            "--team",
            "ops",
            "--description",
            description,
            "--rate-limit",
            &limit,
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

/// Waits, if need be, for a minute with at least `seconds` left in it: a budget is per clock
/// minute, and a test counting calls must not straddle two.
async fn with_seconds_left_in_the_minute(seconds: u32) {
    use chrono::Timelike;
    eventually("a minute with time left in it", || async {
        (chrono::Utc::now().second() <= 60 - seconds).then_some(())
    })
    .await;
}

fn header(response: &Response, name: &str) -> Option<u64> {
    response.headers().get(name)?.to_str().ok()?.parse().ok()
}

async fn set_limit(caller: &mut Caller<'_>, id: &str, limit: &str) -> StatusCode {
    caller
        .call("set_token_rate_limit", &[("id", id), ("rate_limit", limit)])
        .await
        .status()
}

async fn me(http: &Client, server: &TestServer, value: &str) -> Response {
    http.get(server.url("/api/v1/me"))
        .bearer_auth(value)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_limited_token_is_refused_with_429_and_says_its_budget() {
    let server = TestServer::start_env(&[FAST_FLUSH]);
    alice_owns_ops(&server);
    let (id, value) = limited_token(&server, "five a minute", 5);
    let (_, unlimited) = support::token(&server, "alice", "ops", "unlimited", false);
    let http = Client::new();
    with_seconds_left_in_the_minute(20).await;
    for left in (0..5).rev() {
        let response = me(&http, &server, &value).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header(&response, "ratelimit-limit"), Some(5));
        assert_eq!(header(&response, "ratelimit-remaining"), Some(left));
        let reset = header(&response, "ratelimit-reset").unwrap();
        assert!((1..=60).contains(&reset), "{reset}");
        // The draft's fields, as a Structured Fields parser written by others reads them.
        if left == 4 || left == 0 {
            let field = |name: &str| {
                let value = response.headers()[name].to_str().unwrap().to_string();
                support::structured_field_list(&value)
            };
            assert_eq!(
                field("ratelimit-policy"),
                json!([["token", {"q": 5, "w": 60}]])
            );
            assert_eq!(
                field("ratelimit"),
                json!([["token", {"r": left, "t": reset}]])
            );
        }
        if left == 4 {
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["token"]["rate_limit_per_minute"], 5);
        }
    }
    // Over the limit, many times: 429 with when to come back, and the same headers.
    for _ in 0..30 {
        let response = me(&http, &server, &value).await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        let retry_after = header(&response, "retry-after").unwrap();
        assert!((1..=60).contains(&retry_after));
        assert_eq!(header(&response, "ratelimit-limit"), Some(5));
        assert_eq!(header(&response, "ratelimit-remaining"), Some(0));
        assert!(
            response.headers()["ratelimit"]
                .to_str()
                .unwrap()
                .starts_with("\"token\";r=0;t="),
            "{:?}",
            response.headers()["ratelimit"]
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "rate_limited");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("5 times per minute")
        );
    }
    // Not a failed authentication: the address is not blocked, another token works, and an
    // unlimited token carries no RateLimit headers.
    let response = me(&http, &server, &unlimited).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get("ratelimit-limit").is_none());
    assert!(response.headers().get("ratelimit-policy").is_none());

    // A proxy gets the same answer and headers from /auth/verify.
    let response = http
        .get(server.url("/auth/verify?team=ops"))
        .bearer_auth(&value)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&response, "ratelimit-limit"), Some(5));
    assert!(header(&response, "retry-after").is_some());

    // The refusals are in the token's history, by their code.
    let usage = eventually("the refusals to be written", || async {
        let usage: Value = http
            .get(server.url(&format!("/api/v1/teams/ops/tokens/{id}/usage?days=1")))
            .bearer_auth(&unlimited)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (usage["days"][0]["refused"]["rate_limited"] == 31).then_some(usage)
    })
    .await;
    assert_eq!(usage["days"][0]["accepted"], 5, "{usage}");

    // A verify that passes carries them too (a fresh token: the first is spent this minute).
    let (_, fresh) = limited_token(&server, "for the proxy", 3);
    let response = http
        .get(server.url("/auth/verify?team=ops"))
        .bearer_auth(&fresh)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "ratelimit-limit"), Some(3));
    assert_eq!(header(&response, "ratelimit-remaining"), Some(2));
}

#[tokio::test]
async fn limits_are_bounded_capped_by_the_team_and_only_narrowed_by_admins() {
    let server = TestServer::start();
    alice_owns_ops(&server);
    ok(cli(
        &server,
        &["user", "add", "bob"],
        Some(&format!("{PASSWORD}\n")),
    ));
    ok(cli(
        &server,
        &["team", "member", "add", "ops", "bob", "--role", "writer"],
        None,
    ));
    for bad in ["0", "100001"] {
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
                "bad",
                "--rate-limit",
                bad,
            ],
            None,
        );
        assert!(!out.status.success(), "--rate-limit {bad}");
    }
    let mut alice = Caller::new(&server);
    alice.sign_in("alice", PASSWORD).await;
    let mut bob = Caller::new(&server);
    bob.sign_in("bob", PASSWORD).await;

    // The web form: bad values are a form error on the field.
    let form = |limit: &'static str, description: &'static str| {
        [
            ("description", description),
            ("team", "ops"),
            ("expiration", "30"),
            ("rate_limit", limit),
        ]
    };
    let response = bob.call("create_token", &form("lots", "bad")).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(json(response).await.to_string().contains("rate_limit"));
    let created = json(bob.call("create_token", &form("1,000", "bob's job")).await).await;
    let bob_token = created["id"].as_str().unwrap().to_string();
    let bob_value = created["token"].as_str().unwrap().to_string();

    // The team's cap: alice (admin) sets 100; new tokens may not ask for more; existing ones
    // are held to it.
    let response = alice
        .call(
            "set_max_rate_limit",
            &[("team", "ops"), ("max_rate_limit", "100")],
        )
        .await;
    assert!(response.status().is_success(), "{}", response.status());
    let response = bob.call("create_token", &form("500", "too fast")).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(json(response).await.to_string().contains("at most 100"));
    let http = Client::new();
    let held = eventually("the cap to reach the token", || async {
        let body: Value = me(&http, &server, &bob_value).await.json().await.unwrap();
        (body["token"]["rate_limit_per_minute"] == 100).then_some(body)
    })
    .await;
    assert_eq!(held["token"]["rate_limit_per_minute"], 100);
    // A token without a limit of its own gets the cap.
    let created = json(
        bob.call("create_token", &form("", "no limit of its own"))
            .await,
    )
    .await;
    let uncapped = created["token"].as_str().unwrap().to_string();
    let response = me(&http, &server, &uncapped).await;
    assert_eq!(header(&response, "ratelimit-limit"), Some(100));

    // alice, admin of ops, may lower bob's limit, not raise or remove it.
    assert!(set_limit(&mut alice, &bob_token, "50").await.is_success());
    for raise in ["60", ""] {
        assert_eq!(
            set_limit(&mut alice, &bob_token, raise).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{raise:?}"
        );
    }
    // Its owner may raise it again (within the cap).
    assert!(set_limit(&mut bob, &bob_token, "80").await.is_success());
    assert_eq!(
        set_limit(&mut bob, &bob_token, "101").await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // A member who is neither owner nor admin: no such token.
    let alice_token = json(alice.call("create_token", &form("", "alice's")).await).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        set_limit(&mut bob, &alice_token, "1").await,
        StatusCode::NOT_FOUND
    );
    let body: Value = eventually("the owner's limit to take effect", || async {
        let body: Value = me(&http, &server, &bob_value).await.json().await.unwrap();
        (body["token"]["rate_limit_per_minute"] == 80).then_some(body)
    })
    .await;
    assert_eq!(body["token"]["rate_limit_per_minute"], 80);
}

/// Three processes on one PostgreSQL database, one token limited to 120 calls a minute, 300
/// calls spread over them: about 120 accepted (never more; a few fewer at most), the rest 429.
#[tokio::test]
#[ignore = "needs PostgreSQL: `make test-rust-postgres` runs it"]
async fn three_processes_share_one_budget() {
    let database = support::postgres::TempDatabase::create();
    let servers: Vec<TestServer> = (0..3)
        .map(|_| TestServer::start_with(tempfile::tempdir().unwrap(), &database.url, &[]))
        .collect();
    alice_owns_ops(&servers[0]);
    let (_, value) = limited_token(&servers[0], "shared budget", 120);
    with_seconds_left_in_the_minute(30).await;
    let mut calls = tokio::task::JoinSet::new();
    let mut statuses = Vec::new();
    let http = Client::new();
    for i in 0..300 {
        let url = servers[i % 3].url("/api/v1/me");
        let (http, value) = (http.clone(), value.clone());
        calls.spawn(async move {
            http.get(url)
                .bearer_auth(value)
                .send()
                .await
                .unwrap()
                .status()
        });
        // Spread over the three processes, at most ten calls in flight.
        while calls.len() >= 10 {
            statuses.push(calls.join_next().await.unwrap().unwrap());
        }
    }
    statuses.extend(calls.join_all().await);
    assert_eq!(statuses.len(), 300);
    let accepted = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(accepted + limited, 300, "only 200s and 429s");
    eprintln!("{accepted} of 300 calls accepted under a limit of 120");
    // Never more than the limit; fewer only by what a process leased and did not spend.
    assert!((108..=120).contains(&accepted), "{accepted} accepted");
}
