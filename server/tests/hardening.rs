//! Abuse, against the real binary: failed authentication is throttled per client IP (API
//! tokens and sign-in), with 429 `rate_limited` and `Retry-After`, while other clients carry on.
//!
//! Distinct client IPs come from clients bound to 127.0.0.2, 127.0.0.3, … (`client_from`).

mod support;

use domain::tokens::format::TokenSecret;
use reqwest::{Client, RequestBuilder, Response, StatusCode, header};
use serde_json::Value;
use support::{PASSWORD, TestServer, alice_owns_ops, client_from, test_database, token};

const LIMIT: usize = 5;

fn server() -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let database = test_database(dir.path());
    let limit = LIMIT.to_string();
    let mut server = TestServer::start_with(
        dir,
        &database.url,
        &[("PATDESK_AUTH_FAILURES_PER_MINUTE", limit.as_str())],
    );
    server.keep(database);
    alice_owns_ops(&server);
    server
}

async fn send(request: RequestBuilder) -> (StatusCode, Option<String>, Value) {
    let response: Response = request.send().await.unwrap();
    let status = response.status();
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .map(|v| v.to_str().unwrap().to_string());
    let body = response.json().await.unwrap_or(Value::Null);
    (status, retry_after, body)
}

fn unknown_token() -> String {
    TokenSecret::generate().expose().to_string()
}

#[tokio::test]
async fn token_guessing_from_one_ip_gets_429_while_other_ips_keep_working() {
    let server = server();
    let (_, valid) = token(&server, "alice", "ops", "ci", false);
    let me = server.url("/api/v1/me");
    let attacker = client_from(2);
    let colleague = client_from(3);

    for attempt in 0..LIMIT {
        let (status, _, body) = send(attacker.get(&me).bearer_auth(unknown_token())).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
        assert_eq!(body["error"]["code"], "invalid_token");
    }
    // Over the limit: refused before any lookup, even with a real token, and told when to retry.
    for guess in [unknown_token(), "pdk_malformed".to_string(), valid.clone()] {
        let (status, retry_after, body) = send(attacker.get(&me).bearer_auth(&guess)).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(body["error"]["code"], "rate_limited");
        let seconds: u64 = retry_after.expect("Retry-After").parse().unwrap();
        assert!((1..=60).contains(&seconds), "Retry-After: {seconds}");
    }

    // Another address with the valid token is not affected, call after call.
    for _ in 0..20 {
        let (status, _, body) = send(colleague.get(&me).bearer_auth(&valid)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["user"]["username"], "alice");
    }
}

#[tokio::test]
async fn calls_without_a_token_and_refusals_by_role_are_not_counted() {
    let server = server();
    let (_, read_only) = token(&server, "alice", "ops", "reader", false);
    let me = server.url("/api/v1/me");
    let questions = server.url("/api/v1/teams/ops/questions");
    let client = client_from(4);
    for _ in 0..LIMIT * 3 {
        let (status, _, body) = send(client.get(&me)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error"]["code"], "missing_token");
        let (status, _, body) = send(
            client
                .post(&questions)
                .bearer_auth(&read_only)
                .json(&serde_json::json!({"title": "t", "body": "b"})),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(body["error"]["code"], "read_only_token");
    }
    let (status, _, _) = send(client.get(&me).bearer_auth(&read_only)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn password_guessing_from_one_ip_gets_429_while_others_sign_in() {
    let server = server();
    let sign_in = server.url("/rpc/sign_in");
    let attempt = |client: &Client, password: &str| {
        client
            .post(&sign_in)
            .header(header::ORIGIN, server.url(""))
            .form(&[("username", "alice"), ("password", password)])
    };
    let attacker = client_from(5);
    for n in 0..LIMIT {
        let (status, _, _) = send(attempt(&attacker, &format!("guess number {n}"))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "attempt {n}");
    }
    let (status, retry_after, _) = send(attempt(&attacker, PASSWORD)).await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    assert!(retry_after.is_some());

    let alice = client_from(6);
    let response = attempt(&alice, PASSWORD).send().await.unwrap();
    assert!(
        response.status().is_success() || response.status().is_redirection(),
        "{}",
        response.status()
    );
    assert!(
        response.headers().get(header::SET_COOKIE).is_some(),
        "signed in from another address"
    );
}

fn header_of(response: &Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("{} lacks {name}", response.url()))
        .to_str()
        .unwrap()
        .to_string()
}

fn assert_common_headers(response: &Response) {
    assert_eq!(header_of(response, "x-content-type-options"), "nosniff");
    assert_eq!(header_of(response, "x-frame-options"), "DENY");
    assert_eq!(header_of(response, "referrer-policy"), "same-origin");
    assert!(header_of(response, "content-security-policy").contains("frame-ancestors 'none'"));
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let server = server();
    let http = client_from(7);
    let (_, valid) = token(&server, "alice", "ops", "ci", false);

    // Pages: a policy whose nonce is new on every response and is on every inline script.
    let mut nonces = Vec::new();
    let mut stylesheet = None;
    for _ in 0..2 {
        let response = http.get(server.url("/signin")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_common_headers(&response);
        let policy = header_of(&response, "content-security-policy");
        assert!(policy.contains("default-src 'self'"), "{policy}");
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        let nonce = policy
            .split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .expect("a nonce in the policy")
            .to_string();
        let html = response.text().await.unwrap();
        let scripts: Vec<&str> = html
            .split("<script")
            .skip(1)
            .map(|rest| rest.split('>').next().unwrap())
            .collect();
        assert!(!scripts.is_empty());
        for tag in scripts {
            assert!(
                tag.contains(&format!("nonce=\"{nonce}\"")) || tag.contains("src="),
                "a script without the nonce: <script{tag}>"
            );
        }
        nonces.push(nonce);
        stylesheet = html
            .split("rel=\"stylesheet\" href=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .map(str::to_string);
    }
    assert_ne!(nonces[0], nonces[1], "a nonce is used once");
    let stylesheet = stylesheet.expect("the page links its stylesheet");

    // Everything else: a policy that allows nothing.
    let requests = [
        http.get(server.url("/api/v1/me")).bearer_auth(&valid),
        http.get(server.url("/api/v1/me")),
        http.get(server.url("/api/openapi.json")),
        http.get(server.url("/api/v1/nowhere")).bearer_auth(&valid),
        http.get(server.url("/healthz")),
        http.get(server.url(&stylesheet)),
    ];
    for request in requests {
        let response = request.send().await.unwrap();
        assert_common_headers(&response);
        assert_eq!(
            header_of(&response, "content-security-policy"),
            "default-src 'none'; frame-ancestors 'none'",
            "{}",
            response.url()
        );
    }
}

#[tokio::test]
async fn oversized_request_lines_and_headers_are_refused_with_their_status() {
    let server = server();
    let (_, value) = token(&server, "alice", "ops", "ci", false);
    let http = Client::new();

    // Headers as large as real browsers and proxies send are fine.
    let (status, _, _) = send(
        http.get(server.url("/api/v1/me"))
            .bearer_auth(&value)
            .header(header::COOKIE, format!("tracking={}", "c".repeat(8_000))),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let (status, _, body) = send(
        http.get(server.url("/api/v1/me"))
            .bearer_auth(&value)
            .header("x-padding", "p".repeat(20_000)),
    )
    .await;
    assert_eq!(status, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    assert_eq!(body["error"]["code"], "headers_too_large");

    let long_query = format!("/api/v1/me?q={}", "q".repeat(10_000));
    let (status, _, body) = send(http.get(server.url(&long_query)).bearer_auth(&value)).await;
    assert_eq!(status, StatusCode::URI_TOO_LONG);
    assert_eq!(body["error"]["code"], "uri_too_long");

    // Pages too, not only the API.
    let (status, _, _) =
        send(http.get(server.url(&format!("/signin?next={}", "n".repeat(10_000))))).await;
    assert_eq!(status, StatusCode::URI_TOO_LONG);
}

/// The server functions a page's resources call while it renders run in tasks Leptos spawns,
/// outside the request's future: the 30 s timeout layer answered 408 and left them running
/// (the review's token page burned 90 s of CPU). Leptos's executor here stops each of them at
/// the request's limit; with plain tokio (before) a task that never ends ran for ever.
#[tokio::test]
async fn tasks_leptos_spawns_for_a_page_stop_at_the_request_timeout() {
    use any_spawner::CustomExecutor;

    /// Says when the task holding it is dropped.
    struct OnDrop(Option<tokio::sync::oneshot::Sender<()>>);
    impl Drop for OnDrop {
        fn drop(&mut self) {
            if let Some(dropped) = self.0.take() {
                let _ = dropped.send(());
            }
        }
    }

    let tasks = server::web::RequestBoundTasks {
        limit: std::time::Duration::from_millis(50),
    };
    let (dropped, stopped) = tokio::sync::oneshot::channel();
    let held = OnDrop(Some(dropped));
    tasks.spawn(Box::pin(async move {
        let _held = held;
        std::future::pending::<()>().await;
    }));
    tokio::time::timeout(support::GENEROUS, stopped)
        .await
        .expect("the task should be stopped at its limit")
        .expect("the task should be dropped, not leaked");
}
