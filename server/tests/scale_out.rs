//! Scale-out on PostgreSQL (docs/api.md, "Several processes"): two `patdesk serve` processes, two ports, one
//! database. What one process does, the other honours at once; last-used data written by both
//! ends as the latest of the two; both may migrate at the same moment.

mod support;

use reqwest::{Client, StatusCode};
use serde_json::Value;
use support::{
    Caller, FAST_FLUSH, PASSWORD, TestServer, alice_owns_ops, cli, client_from, eventually, json,
    me_status, ok, postgres::TempDatabase, token, within_a_second,
};

/// Both processes start — and apply the migrations to the empty database — at the same moment.
fn start_two(url: &str) -> (TestServer, TestServer) {
    let mut servers = start_together(url, 2, &[FAST_FLUSH]);
    let b = servers.pop().unwrap();
    (servers.pop().unwrap(), b)
}

/// `count` processes on one database, started at the same moment.
fn start_together(url: &str, count: usize, envs: &[(&str, &str)]) -> Vec<TestServer> {
    std::thread::scope(|scope| {
        let started: Vec<_> = (0..count)
            .map(|_| {
                scope.spawn(|| TestServer::start_with(tempfile::tempdir().unwrap(), url, envs))
            })
            .collect();
        started.into_iter().map(|s| s.join().unwrap()).collect()
    })
}

/// Polls `server` until `token` gets `expected`, which must happen within a second.
async fn seen_within_a_second(server: &TestServer, token: &str, expected: StatusCode) {
    let http = Client::new();
    within_a_second(&format!("{expected} on {}", server.base), || async {
        me_status(&http, server, token).await.0 == expected
    })
    .await;
}

/// The token's row as the CLI lists it.
fn stored(server: &TestServer) -> Value {
    let out = ok(cli(
        server,
        &["token", "list", "--user", "alice", "--json"],
        None,
    ));
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    listed[0].clone()
}

#[tokio::test]
#[ignore = "needs PostgreSQL: `make test-rust-postgres` runs it"]
async fn two_processes_on_one_database_act_as_one() {
    let database = TempDatabase::create();
    let (a, b) = start_two(&database.url);
    alice_owns_ops(&a);
    let mut on_a = Caller::new(&a);
    let mut on_b = Caller::new(&b);
    for caller in [&mut on_a, &mut on_b] {
        let response = caller.sign_in("alice", PASSWORD).await;
        assert!(caller.cookie.is_some(), "sign-in: {}", response.status());
    }

    // Created through A, used on B.
    let form = [
        ("description", "deploy"),
        ("team", "ops"),
        ("expiration", "30"),
    ];
    let issued = json(on_a.call("create_token", &form).await).await;
    let id = issued["id"].as_str().unwrap().to_string();
    let value = issued["token"].as_str().unwrap().to_string();
    let (status, body) = me_status(&Client::new(), &b, &value).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Regenerated on B: the old value is refused by A within the second, the new one works.
    let regenerated = json(on_b.call("regenerate_token", &[("id", &id)]).await).await;
    let new_value = regenerated["token"].as_str().unwrap().to_string();
    seen_within_a_second(&a, &value, StatusCode::UNAUTHORIZED).await;
    assert_eq!(
        me_status(&Client::new(), &a, &new_value).await.0,
        StatusCode::OK
    );

    // Last used on A from one address, then on B from another: each process writes what it
    // noted (in whichever order) and the stored data is the later use, with both addresses.
    let (status, _) = me_status(&client_from(2), &a, &new_value).await;
    assert_eq!(status, StatusCode::OK);
    eventually("A to write its use", || async {
        let row = stored(&a);
        let ips = row["last_used_ips"].as_array().cloned().unwrap_or_default();
        ips.iter().any(|ip| ip == "127.0.0.2").then_some(())
    })
    .await;
    let before_b = chrono::Utc::now();
    let (status, _) = me_status(&client_from(3), &b, &new_value).await;
    assert_eq!(status, StatusCode::OK);
    let row = eventually("B to write its use", || async {
        let row = stored(&a);
        (row["last_used_ips"][0] == "127.0.0.3").then_some(row)
    })
    .await;
    let listed = json(on_a.call("list_tokens", &[]).await).await;
    assert_eq!(listed[0]["last_ip"], "127.0.0.3", "{listed}");
    let listed = Value::Array(vec![row]);
    // The latest use wins the time and the first address; the others are kept too. (Only the
    // list of addresses is stored, not a time per address, so the order of the older ones is
    // the order in which the processes flushed.)
    let last_used =
        chrono::DateTime::parse_from_rfc3339(listed[0]["last_used_at"].as_str().unwrap()).unwrap();
    assert!(last_used >= before_b, "{listed}");
    let ips = listed[0]["last_used_ips"].as_array().unwrap();
    assert_eq!(ips[0], "127.0.0.3", "{listed}");
    for ip in ["127.0.0.1", "127.0.0.2"] {
        assert!(ips.iter().any(|v| v == ip), "{ip} missing: {listed}");
    }

    // Deleted on A: refused by B within the second.
    let response = on_a.call("delete_token", &[("id", &id)]).await;
    assert!(response.status().is_success(), "{}", response.status());
    seen_within_a_second(&b, &new_value, StatusCode::UNAUTHORIZED).await;
    let (_, body) = me_status(&Client::new(), &b, &new_value).await;
    assert_eq!(body["error"]["code"], "token_revoked");
}

#[tokio::test]
#[ignore = "needs PostgreSQL: `make test-rust-postgres` runs it"]
async fn several_processes_migrating_at_once_all_start() {
    for _ in 0..3 {
        let database = TempDatabase::create();
        let (a, b) = start_two(&database.url);
        for server in [&a, &b] {
            let status = Client::new()
                .get(server.url("/readyz"))
                .send()
                .await
                .unwrap()
                .status();
            assert_eq!(status, StatusCode::OK);
        }
    }
}

/// One budget of failed authentications per address across the processes: 40 well-formed
/// tokens that match nothing, from one address, spread over three processes, get 401 until the
/// configured 30 are used up (each process may let one more through before it hears of it),
/// then 429 everywhere. Another address is not affected.
#[tokio::test]
#[ignore = "needs PostgreSQL: `make test-rust-postgres` runs it"]
async fn three_processes_share_one_failed_authentication_budget() {
    let database = TempDatabase::create();
    let servers = start_together(
        &database.url,
        3,
        &[("PATDESK_AUTH_FAILURES_PER_MINUTE", "30")],
    );
    let guesser = client_from(7);
    let mut answers = Vec::new();
    for attempt in 0..40 {
        let server = &servers[attempt % servers.len()];
        let guess = domain::tokens::format::TokenSecret::generate();
        let (status, _) = me_status(&guesser, server, guess.expose()).await;
        assert!(
            status == StatusCode::UNAUTHORIZED || status == StatusCode::TOO_MANY_REQUESTS,
            "attempt {attempt}: {status}"
        );
        answers.push(status);
    }
    let let_through = answers
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    assert!(
        (30..=32).contains(&let_through),
        "{let_through} guesses were answered 401: {answers:?}"
    );
    assert!(
        answers[answers.len() - 3..]
            .iter()
            .all(|s| *s == StatusCode::TOO_MANY_REQUESTS),
        "every process refuses at the end: {answers:?}"
    );
    let other = domain::tokens::format::TokenSecret::generate();
    let (status, _) = me_status(&client_from(8), &servers[0], other.expose()).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "another address is not refused"
    );
}

/// Wrong passwords and wrong service credentials are counted in the same shared budget
/// (docs/threat-model.md): 12 attempts from one address spread over three processes with a
/// limit of 6 are refused after about 6, not after 18 (6 per process).
#[tokio::test]
#[ignore = "needs PostgreSQL: `make test-rust-postgres` runs it"]
async fn sign_ins_and_service_credentials_share_the_budget_across_processes() {
    let database = TempDatabase::create();
    let servers = start_together(
        &database.url,
        3,
        &[("PATDESK_AUTH_FAILURES_PER_MINUTE", "6")],
    );
    alice_owns_ops(&servers[0]);
    let guesser = client_from(9);
    let mut answers = Vec::new();
    for attempt in 0..12 {
        let server = &servers[attempt % servers.len()];
        let response = guesser
            .post(server.url("/rpc/sign_in"))
            .header(reqwest::header::ORIGIN, &server.base)
            .form(&[("username", "alice"), ("password", "not her password")])
            .send()
            .await
            .unwrap();
        answers.push(response.status());
    }
    let wrong = answers
        .iter()
        .filter(|s| **s == StatusCode::UNPROCESSABLE_ENTITY)
        .count();
    assert!(
        (6..=8).contains(&wrong),
        "{wrong} sign-ins were checked: {answers:?}"
    );
    assert!(
        answers[answers.len() - 3..]
            .iter()
            .all(|s| *s == StatusCode::TOO_MANY_REQUESTS),
        "every process refuses at the end: {answers:?}"
    );

    // Service credentials, from another address.
    let prober = client_from(10);
    let mut answers = Vec::new();
    for attempt in 0..12 {
        let server = &servers[attempt % servers.len()];
        let unknown = domain::tokens::format::ServiceSecret::generate();
        let response = prober
            .post(server.url("/oauth/introspect"))
            .bearer_auth(unknown.expose())
            .form(&[("token", "pdk_x")])
            .send()
            .await
            .unwrap();
        answers.push(response.status());
    }
    let refused = answers
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    assert!(
        (6..=8).contains(&refused),
        "{refused} answered 401: {answers:?}"
    );
    assert_eq!(answers.last(), Some(&StatusCode::TOO_MANY_REQUESTS));
}

/// The titles on the first page of ops's questions as `server` lists them.
async fn ops_titles(server: &TestServer, token: &str) -> Vec<String> {
    let response = Client::new()
        .get(server.url("/api/v1/teams/ops/questions"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let listed = json(response).await;
    listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["title"].as_str().unwrap().to_string())
        .collect()
}

/// A page of questions one process keeps (domain::content::pages) is not served once another
/// process has changed the team's questions: the very next read shows the change.
#[tokio::test]
#[ignore = "needs PostgreSQL: `make test-rust-postgres` runs it"]
async fn a_question_written_on_one_process_is_in_the_next_list_on_the_other() {
    let database = TempDatabase::create();
    let (a, b) = start_two(&database.url);
    alice_owns_ops(&a);
    let (_, value) = token(&a, "alice", "ops", "content", true);
    let http = Client::new();
    let send = |request: reqwest::RequestBuilder| async {
        let response = request.bearer_auth(&value).send().await.unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        json(response).await
    };
    assert!(ops_titles(&a, &value).await.is_empty());

    let created = send(
        http.post(b.url("/api/v1/teams/ops/questions"))
            .json(&serde_json::json!({"title": "from B", "body": "?"})),
    )
    .await;
    assert_eq!(ops_titles(&a, &value).await, ["from B"]);
    assert_eq!(ops_titles(&a, &value).await, ["from B"]);

    let id = created["id"].as_i64().unwrap();
    let path = format!("/api/v1/teams/ops/questions/{id}");
    send(
        http.patch(b.url(&path))
            .json(&serde_json::json!({"title": "edited on B"})),
    )
    .await;
    assert_eq!(ops_titles(&a, &value).await, ["edited on B"]);

    let response = http
        .delete(b.url(&path))
        .bearer_auth(&value)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(ops_titles(&a, &value).await.is_empty());
}

/// A team admin's revocation on one process stops the token on the other within a second
/// (docs/governance.md), even while the token is in use there.
#[tokio::test]
#[ignore = "needs PostgreSQL: `make test-rust-postgres` runs it"]
async fn an_admins_revocation_reaches_every_process() {
    let database = TempDatabase::create();
    let (a, b) = start_two(&database.url);
    alice_owns_ops(&a);
    ok(cli(
        &a,
        &["user", "add", "bob"],
        Some(&format!("{PASSWORD}\n")),
    ));
    ok(cli(
        &a,
        &["team", "member", "add", "ops", "bob", "--role", "writer"],
        None,
    ));
    let (bob_id, bob_value) = support::token(&a, "bob", "ops", "deploy", true);
    let (_, admin_value) = support::token(&a, "alice", "ops", "revoker", true);
    // In use on B (so B has a cached check for it).
    assert_eq!(
        me_status(&Client::new(), &b, &bob_value).await.0,
        StatusCode::OK
    );

    let response = Client::new()
        .delete(a.url(&format!("/api/v1/teams/ops/tokens/{bob_id}?reason=leaked")))
        .bearer_auth(&admin_value)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    seen_within_a_second(&b, &bob_value, StatusCode::UNAUTHORIZED).await;
    let (_, body) = me_status(&Client::new(), &b, &bob_value).await;
    assert_eq!(body["error"]["code"], "token_revoked");
}

/// Tightening the instance policy on one process holds on the other at once: B refuses a
/// lifetime the policy no longer allows, and B's answers carry a shortened token's new expiry
/// within a second.
#[tokio::test]
#[ignore = "needs PostgreSQL: `make test-rust-postgres` runs it"]
async fn a_tighter_policy_holds_in_every_process() {
    let database = TempDatabase::create();
    let (a, b) = start_two(&database.url);
    alice_owns_ops(&a);
    let mut on_a = Caller::new(&a);
    let mut on_b = Caller::new(&b);
    for caller in [&mut on_a, &mut on_b] {
        caller.sign_in("alice", PASSWORD).await;
    }
    let form = |expiration| {
        [
            ("description", "long lived"),
            ("team", "ops"),
            ("expiration", expiration),
        ]
    };
    let issued = json(on_b.call("create_token", &form("90")).await).await;
    let value = issued["token"].as_str().unwrap().to_string();
    let (status, me) = me_status(&Client::new(), &b, &value).await;
    assert_eq!(status, StatusCode::OK);
    let before = me["token"]["expires_at"].clone();

    let saved = json(
        on_a.call(
            "set_instance_policy",
            &[
                ("max_lifetime_days", "30"),
                ("explorer_lifetime_hours", "24"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(saved["shortened"], 1, "{saved}");
    let response = on_b.call("create_token", &form("60")).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let http = Client::new();
    within_a_second("B answers with the shortened expiry", || async {
        let (_, me) = me_status(&http, &b, &value).await;
        me["token"]["expires_at"] != before
    })
    .await;
}

/// A leak reported to one process stops the token on the other within a second.
#[tokio::test]
#[ignore = "needs PostgreSQL: `make test-rust-postgres` runs it"]
async fn a_leak_report_reaches_every_process() {
    let database = TempDatabase::create();
    let (a, b) = start_two(&database.url);
    alice_owns_ops(&a);
    let (_, value) = support::token(&a, "alice", "ops", "leaky", false);
    assert_eq!(
        me_status(&Client::new(), &b, &value).await.0,
        StatusCode::OK
    );
    let response = Client::new()
        .post(a.url("/api/v1/credentials/revoke"))
        .json(&serde_json::json!({"credentials": [value], "source": "a paste"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    seen_within_a_second(&b, &value, StatusCode::UNAUTHORIZED).await;
}

/// Deprovisioning through SCIM on one process (docs/scim.md): the person's token is refused
/// there on the next call, and on the other process within a second.
#[tokio::test]
#[ignore = "needs PostgreSQL: `make test-rust-postgres` runs it"]
async fn a_directory_deactivation_reaches_every_process() {
    let database = TempDatabase::create();
    let (a, b) = start_two(&database.url);
    alice_owns_ops(&a);
    ok(cli(
        &a,
        &["user", "add", "bob"],
        Some(&format!("{PASSWORD}\n")),
    ));
    ok(cli(
        &a,
        &["team", "member", "add", "ops", "bob", "--role", "writer"],
        None,
    ));
    let (_, bob_value) = support::token(&a, "bob", "ops", "deploy", true);
    let secret = support::scim_credential(&a);
    // In use on both (so both have a cached check for it).
    for server in [&a, &b] {
        assert_eq!(
            me_status(&Client::new(), server, &bob_value).await.0,
            StatusCode::OK
        );
    }
    let found: Value = Client::new()
        .get(a.url("/scim/v2/Users?filter=userName%20eq%20%22bob%22"))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = found["Resources"][0]["id"].as_str().unwrap().to_string();
    let response = Client::new()
        .patch(a.url(&format!("/scim/v2/Users/{id}")))
        .bearer_auth(&secret)
        .header("content-type", "application/scim+json")
        .body(
            serde_json::json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "value": {"active": false}}],
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        me_status(&Client::new(), &a, &bob_value).await.0,
        StatusCode::UNAUTHORIZED
    );
    seen_within_a_second(&b, &bob_value, StatusCode::UNAUTHORIZED).await;
}
