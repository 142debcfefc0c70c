//! The REST API from outside, curl-style, against the real binary: every rule of docs/api.md.

mod support;

use base64::{Engine, engine::general_purpose::STANDARD};
use reqwest::{Client, Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};
use support::{PASSWORD, TestServer, cli, ok, token, within_a_second};

struct Api<'a> {
    server: &'a TestServer,
    http: Client,
}

impl<'a> Api<'a> {
    fn new(server: &'a TestServer) -> Self {
        Api {
            server,
            http: Client::new(),
        }
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, self.server.url(path))
    }

    fn bearer(&self, method: Method, path: &str, token: &str) -> RequestBuilder {
        self.request(method, path).bearer_auth(token)
    }

    /// The JSON body of a GET with a Bearer token.
    async fn get_json(&self, path: &str, token: &str) -> Value {
        let response = self.bearer(Method::GET, path, token).send().await.unwrap();
        response.json().await.unwrap()
    }
}

/// alice: admin of ops; bob: writer in ops; carol: admin of web.
fn world(server: &TestServer) {
    for user in ["alice", "bob", "carol"] {
        ok(cli(
            server,
            &["user", "add", user],
            Some(&format!("{PASSWORD}\n")),
        ));
    }
    ok(cli(
        server,
        &["team", "add", "ops", "--owner", "alice"],
        None,
    ));
    ok(cli(
        server,
        &["team", "add", "web", "--owner", "carol"],
        None,
    ));
    ok(cli(
        server,
        &["team", "member", "add", "ops", "bob", "--role", "writer"],
        None,
    ));
}

async fn error_code(response: reqwest::Response) -> (StatusCode, String, String) {
    let status = response.status();
    let www = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.len() > 10),
        "{body}"
    );
    (
        status,
        body["error"]["code"].as_str().unwrap().to_string(),
        www,
    )
}

#[tokio::test]
async fn bearer_and_both_basic_forms_authenticate() {
    let server = TestServer::start();
    world(&server);
    let api = Api::new(&server);
    let (id, value) = token(&server, "alice", "ops", "ci", false);

    let response = api
        .bearer(Method::GET, "/api/v1/me", &value)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let expiration = response.headers()["patdesk-token-expiration"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(expiration.starts_with("20"), "{expiration}");
    let me: Value = response.json().await.unwrap();
    assert_eq!(me["user"]["username"], "alice");
    assert_eq!(me["token"]["id"], id.as_str());
    assert_eq!(me["token"]["team"], "ops");
    assert_eq!(me["token"]["write"], false);
    assert!(
        !me.to_string().contains(&value),
        "the API never returns a secret it did not just create"
    );

    for user in [id.as_str(), "alice", "ALICE"] {
        let response = api
            .request(Method::GET, "/api/v1/me")
            .basic_auth(user, Some(&value))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "basic as {user}");
    }
    // Another user's name with alice's token is refused.
    let response = api
        .request(Method::GET, "/api/v1/me")
        .basic_auth("bob", Some(&value))
        .send()
        .await
        .unwrap();
    let (status, code, www) = error_code(response).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_token")
    );
    assert_eq!(www, "Bearer realm=\"patdesk\"");

    // A session cookie does not authenticate the API.
    let response = api
        .request(Method::GET, "/api/v1/me")
        .header("cookie", "patdesk_session=abc")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response).await.1, "missing_token");
}

#[tokio::test]
async fn every_bad_token_gets_its_own_401() {
    let server = TestServer::start();
    world(&server);
    let api = Api::new(&server);
    let (_, value) = token(&server, "alice", "ops", "ci", false);
    let (deleted_id, deleted) = token(&server, "alice", "ops", "gone", false);
    ok(cli(&server, &["token", "delete", &deleted_id], None));
    let (expired_id, expired) = token(&server, "alice", "ops", "old", false);
    let an_hour_ago = chrono::Utc::now() - chrono::Duration::hours(1);
    support::set_token_expiry(
        &server.connect_database().await,
        &expired_id,
        Some(an_hour_ago),
    )
    .await;
    let mut bad_checksum = value.clone().into_bytes();
    bad_checksum[10] = if bad_checksum[10] == b'a' { b'b' } else { b'a' };
    let bad_checksum = String::from_utf8(bad_checksum).unwrap();
    // Well-formed, right checksum, but never issued.
    let unknown = domain::tokens::format::TokenSecret::generate()
        .expose()
        .to_string();

    let cases: Vec<(Option<String>, &str)> = vec![
        (None, "missing_token"),
        (Some("Bearer".into()), "malformed_token"),
        (Some("Bearer not-a-token".into()), "malformed_token"),
        (Some(format!("Token {value}")), "malformed_token"),
        (Some("Basic %%%".into()), "malformed_token"),
        (
            Some(format!("Basic {}", STANDARD.encode(value.as_bytes()))),
            "malformed_token",
        ),
        (Some(format!("Bearer {bad_checksum}")), "malformed_token"),
        (Some(format!("Bearer {unknown}")), "invalid_token"),
        (Some(format!("Bearer {deleted}")), "token_revoked"),
        (Some(format!("Bearer {expired}")), "token_expired"),
    ];
    for (header, expected) in cases {
        let mut request = api.request(Method::GET, "/api/v1/me");
        if let Some(header) = &header {
            request = request.header("authorization", header);
        }
        let (status, code, www) = error_code(request.send().await.unwrap()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{header:?}");
        assert_eq!(code, expected, "{header:?}");
        assert_eq!(www, "Bearer realm=\"patdesk\"");
    }
    let response = api
        .bearer(Method::GET, "/api/v1/me", &expired)
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Regenerate"),
        "{body}"
    );
}

#[tokio::test]
async fn tokens_reach_only_their_team_and_write_only_when_allowed() {
    let server = TestServer::start();
    world(&server);
    let api = Api::new(&server);
    let (_, alice_read) = token(&server, "alice", "ops", "read", false);
    let (_, bob_write) = token(&server, "bob", "ops", "write", true);
    let (_, carol_web) = token(&server, "carol", "web", "web", true);

    // Writers write, and the write is theirs.
    let created = api
        .bearer(Method::POST, "/api/v1/teams/ops/questions", &bob_write)
        .json(&json!({"title": "How do I rotate keys?", "body": "Asking for a friend."}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let question: Value = created.json().await.unwrap();
    assert_eq!(question["author"], "bob");
    let qid = question["id"].as_i64().unwrap();
    let (_, me) = support::me_status(&api.http, &server, &bob_write).await;
    assert_eq!(
        (&me["token"]["write"], &me["token"]["can_write"]),
        (&json!(true), &json!(true))
    );
    let (_, me) = support::me_status(&api.http, &server, &alice_read).await;
    assert_eq!(
        (&me["token"]["write"], &me["token"]["can_write"]),
        (&json!(false), &json!(false))
    );

    // Read with a read-only token; page through.
    let listed = api
        .bearer(
            Method::GET,
            "/api/v1/teams/ops/questions?per_page=1",
            &alice_read,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 200);
    let listed: Value = listed.json().await.unwrap();
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["items"][0]["id"], qid);

    // Another team's path: wrong_team, for reads and writes alike.
    let cases = [
        (
            Method::GET,
            "/api/v1/teams/web/questions".to_string(),
            &alice_read,
            "wrong_team",
        ),
        (
            Method::GET,
            format!("/api/v1/teams/ops/questions/{qid}"),
            &carol_web,
            "wrong_team",
        ),
        (
            Method::POST,
            "/api/v1/teams/web/questions".to_string(),
            &bob_write,
            "wrong_team",
        ),
        (
            Method::POST,
            "/api/v1/teams/ops/questions".to_string(),
            &alice_read,
            "read_only_token",
        ),
        (
            Method::PATCH,
            format!("/api/v1/teams/ops/questions/{qid}"),
            &alice_read,
            "read_only_token",
        ),
        (
            Method::DELETE,
            format!("/api/v1/teams/ops/questions/{qid}"),
            &alice_read,
            "read_only_token",
        ),
    ];
    for (method, path, token, expected) in cases {
        let response = api
            .bearer(method.clone(), &path, token)
            .json(&json!({"title": "x", "body": "y"}))
            .send()
            .await
            .unwrap();
        let (status, code, _) = error_code(response).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(code, expected, "{method} {path}");
    }

    // Demoted to reader (by another process): the write token stops writing within the second,
    // but still reads.
    {
        use domain::identity::names::{Role, TeamSlug, Username};
        use domain::teams::{self};
        let url = server.database_url();
        let db = sea_orm::Database::connect(url).await.unwrap();
        teams::set_role(
            &db,
            domain::Origin::OPERATOR,
            &TeamSlug::parse("ops").unwrap(),
            &Username::parse("bob").unwrap(),
            Role::Reader,
        )
        .await
        .unwrap();
    }
    within_a_second("the demotion", || async {
        let response = api
            .bearer(Method::POST, "/api/v1/teams/ops/questions", &bob_write)
            .json(&json!({"title": "x", "body": "y"}))
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap();
        body["error"]["code"] == "insufficient_role"
    })
    .await;
    let response = api
        .bearer(Method::GET, "/api/v1/teams/ops/questions", &bob_write)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // `/me` says both: what was granted, and what the token can do now.
    let (status, me) = support::me_status(&api.http, &server, &bob_write).await;
    assert_eq!(status, 200);
    assert_eq!(me["token"]["write"], true, "{me}");
    assert_eq!(me["token"]["can_write"], false, "{me}");

    // Removed from the team (with the CLI): not_a_member within the second.
    ok(cli(
        &server,
        &["team", "member", "remove", "ops", "bob"],
        None,
    ));
    within_a_second("the removal", || async {
        let response = api
            .bearer(Method::GET, "/api/v1/teams/ops/questions", &bob_write)
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap();
        body["error"]["code"] == "not_a_member"
    })
    .await;
}

#[tokio::test]
async fn regenerate_and_delete_self_take_effect_at_once() {
    let server = TestServer::start();
    world(&server);
    let api = Api::new(&server);
    let (id, value) = token(&server, "alice", "ops", "rotating", false);

    let response = api
        .bearer(Method::POST, "/api/v1/tokens/self/regenerate", &value)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let regenerated: Value = response.json().await.unwrap();
    assert_eq!(regenerated["id"], id.as_str());
    let new_value = regenerated["token"].as_str().unwrap().to_string();
    assert_ne!(new_value, value);

    let old = api
        .bearer(Method::GET, "/api/v1/me", &value)
        .send()
        .await
        .unwrap();
    // The old value is told what happened (docs/tokens.md), not "copied whole?".
    assert_eq!(error_code(old).await.1, "token_regenerated");
    assert_eq!(
        api.bearer(Method::GET, "/api/v1/me", &new_value)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let response = api
        .bearer(Method::DELETE, "/api/v1/tokens/self", &new_value)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let after = api
        .bearer(Method::GET, "/api/v1/me", &new_value)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(after).await.1, "token_revoked");
}

#[tokio::test]
async fn content_endpoints_validate_and_scope() {
    let server = TestServer::start();
    world(&server);
    let api = Api::new(&server);
    let (alice_id, alice) = token(&server, "alice", "ops", "w", true);
    let (_, carol) = token(&server, "carol", "web", "w", true);
    let post =
        |path: &str, token: &str, body: Value| api.bearer(Method::POST, path, token).json(&body);

    let q: Value = post(
        "/api/v1/teams/ops/questions",
        &alice,
        json!({"title": "T", "body": "B"}),
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let qid = q["id"].as_i64().unwrap();

    for (body, expected) in [
        (
            json!({"title": "", "body": "B"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"title": "x".repeat(201), "body": "B"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"body": "no title"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"title": "T", "body": "B", "extra": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"title": "T", "body": "b".repeat(70_000)}),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ] {
        let response = post("/api/v1/teams/ops/questions", &alice, body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected);
    }
    let response = api
        .bearer(Method::POST, "/api/v1/teams/ops/questions", &alice)
        .body("not json")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    let (status, code, _) = error_code(response).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
    );
    for bad in [
        "?per_page=0",
        "?per_page=101",
        "?page=0",
        "?page=x",
        "?page=1000001",
        "?page=9223372036854775808",
    ] {
        let response = api
            .bearer(
                Method::GET,
                &format!("/api/v1/teams/ops/questions{bad}"),
                &alice,
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }

    // Answers: create, edit, list, delete.
    let a: Value = post(
        &format!("/api/v1/teams/ops/questions/{qid}/answers"),
        &alice,
        json!({"body": "Use the CLI."}),
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let aid = a["id"].as_i64().unwrap();
    let edited = api
        .bearer(
            Method::PATCH,
            &format!("/api/v1/teams/ops/questions/{qid}/answers/{aid}"),
            &alice,
        )
        .json(&json!({"body": "Use patdesk token create."}))
        .send()
        .await
        .unwrap();
    assert_eq!(edited.status(), 200);
    let list: Value = api
        .bearer(
            Method::GET,
            &format!("/api/v1/teams/ops/questions/{qid}/answers"),
            &alice,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"][0]["body"], "Use patdesk token create.");

    // Another team's ids are not found through its own path, and bad ids are 404s.
    let response = api
        .bearer(
            Method::GET,
            &format!("/api/v1/teams/web/questions/{qid}"),
            &carol,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = api
        .bearer(Method::GET, "/api/v1/teams/ops/questions/abc", &alice)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = api
        .bearer(Method::GET, "/api/v1/nothing-here", &alice)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response).await.1, "not_found");

    let response = api
        .bearer(
            Method::PATCH,
            &format!("/api/v1/teams/ops/questions/{qid}"),
            &alice,
        )
        .json(&json!({"title": "Renamed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.json::<Value>().await.unwrap()["title"], "Renamed");
    let response = api
        .bearer(
            Method::DELETE,
            &format!("/api/v1/teams/ops/questions/{qid}/answers/{aid}"),
            &alice,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = api
        .bearer(
            Method::DELETE,
            &format!("/api/v1/teams/ops/questions/{qid}"),
            &alice,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let response = api
        .bearer(
            Method::GET,
            &format!("/api/v1/teams/ops/questions/{qid}"),
            &alice,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(!server.log().contains(&alice));

    // Every write went to the activity log, with the token's owner as actor and the token's id.
    use sea_orm::{ConnectionTrait, Database, Statement};
    let url = server.database_url();
    let db = Database::connect(url).await.unwrap();
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT u.username || ' ' || coalesce(a.token_id, '-') || ' ' || coalesce(a.target, '') AS line \
             FROM activity a JOIN users u ON u.id = a.user_id WHERE a.kind = 'api_write' ORDER BY a.id",
        ))
        .await
        .unwrap();
    let lines: Vec<String> = rows
        .iter()
        .map(|r| r.try_get::<String>("", "line").unwrap())
        .collect();
    let expected = [
        format!("alice {alice_id} created question {qid}"),
        format!("alice {alice_id} answered question {qid} (answer {aid})"),
        format!("alice {alice_id} edited answer {aid}"),
        format!("alice {alice_id} edited question {qid}"),
        format!("alice {alice_id} deleted answer {aid}"),
        format!("alice {alice_id} deleted question {qid}"),
    ];
    assert_eq!(lines, expected);
}

#[tokio::test]
async fn the_openapi_document_describes_every_endpoint() {
    let server = TestServer::start();
    let served: Value = Client::new()
        .get(server.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = support::run(dir.path(), &["openapi"], &[]);
    assert!(out.status.success());
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(served, printed, "the CLI prints what the server serves");
    assert!(served["openapi"].as_str().unwrap().starts_with("3.1"));
    let schemes = &served["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["basic"]["scheme"], "basic");
    let paths = served["paths"].as_object().unwrap();
    for (path, methods) in [
        ("/api/v1/me", vec!["get"]),
        ("/api/v1/tokens/self", vec!["delete"]),
        ("/api/v1/tokens/self/regenerate", vec!["post"]),
        ("/api/v1/teams/{team}/questions", vec!["get", "post"]),
        (
            "/api/v1/teams/{team}/questions/{id}",
            vec!["get", "patch", "delete"],
        ),
        (
            "/api/v1/teams/{team}/questions/{id}/answers",
            vec!["get", "post"],
        ),
        (
            "/api/v1/teams/{team}/questions/{id}/answers/{answer_id}",
            vec!["patch", "delete"],
        ),
    ] {
        for method in methods {
            let operation = &paths[path][method];
            assert!(operation.is_object(), "{method} {path} missing");
            assert!(
                operation["responses"]["401"].is_object(),
                "{method} {path} lacks its 401"
            );
        }
    }
}

/// Makes every insert into the activity log fail, as a full disk or a broken constraint would.
async fn refuse_activity_entries(server: &TestServer) {
    let db = server.connect_database().await;
    let statements: &[&str] = if server.is_postgres() {
        &[
            "CREATE FUNCTION refuse_activity() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'activity refused by the test'; END $$",
            "CREATE TRIGGER refuse_activity BEFORE INSERT ON activity \
             FOR EACH ROW EXECUTE FUNCTION refuse_activity()",
        ]
    } else {
        &["CREATE TRIGGER refuse_activity BEFORE INSERT ON activity \
           BEGIN SELECT RAISE(ABORT, 'activity refused by the test'); END"]
    };
    for statement in statements {
        sea_orm::ConnectionTrait::execute_unprepared(&db, statement)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_write_whose_activity_entry_fails_changes_nothing() {
    let server = TestServer::start();
    world(&server);
    let api = Api::new(&server);
    let (_, alice) = token(&server, "alice", "ops", "ci", true);
    let questions = "/api/v1/teams/ops/questions";
    let created = api
        .bearer(Method::POST, questions, &alice)
        .json(&json!({"title": "Before the fault", "body": "kept"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let question = format!("{questions}/{id}");
    let answered = api
        .bearer(Method::POST, &format!("{question}/answers"), &alice)
        .json(&json!({"body": "an answer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answered.status(), StatusCode::CREATED);

    refuse_activity_entries(&server).await;
    let failed = [
        api.bearer(Method::POST, questions, &alice)
            .json(&json!({"title": "During the fault", "body": "lost"})),
        api.bearer(Method::PATCH, &question, &alice)
            .json(&json!({"title": "Edited during the fault"})),
        api.bearer(Method::POST, &format!("{question}/answers"), &alice)
            .json(&json!({"body": "a second answer"})),
        api.bearer(Method::DELETE, &question, &alice),
        api.bearer(Method::POST, "/api/v1/tokens/self/regenerate", &alice),
        api.bearer(Method::DELETE, "/api/v1/tokens/self", &alice),
    ];
    for request in failed {
        let response = request.send().await.unwrap();
        let (status, code, _) = error_code(response).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::INTERNAL_SERVER_ERROR, "internal_error")
        );
    }

    // Nothing of it happened: the question, its one answer and the token are as they were.
    let listed = api.get_json(questions, &alice).await;
    assert_eq!(listed["total"], 1, "{listed}");
    assert_eq!(listed["items"][0]["title"], "Before the fault");
    let answers = api.get_json(&format!("{question}/answers"), &alice).await;
    assert_eq!(answers["total"], 1, "{answers}");
}

#[tokio::test]
async fn question_pages_are_newest_first_with_authors_and_the_team_total() {
    let server = TestServer::start();
    world(&server);
    let api = Api::new(&server);
    let (_, alice) = token(&server, "alice", "ops", "alice ci", true);
    let (_, bob) = token(&server, "bob", "ops", "bob ci", true);
    let (_, carol) = token(&server, "carol", "web", "carol ci", true);
    for (n, writer) in [&alice, &bob, &alice, &bob, &alice].into_iter().enumerate() {
        let created = api
            .bearer(Method::POST, "/api/v1/teams/ops/questions", writer)
            .json(&json!({"title": format!("Question {n}"), "body": "?"}))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), StatusCode::CREATED);
    }
    // Another team's question counts for that team only.
    let created = api
        .bearer(Method::POST, "/api/v1/teams/web/questions", &carol)
        .json(&json!({"title": "Web's own", "body": "?"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);

    let mut seen = Vec::new();
    for page in 1..=4 {
        let listed = api
            .get_json(
                &format!("/api/v1/teams/ops/questions?per_page=2&page={page}"),
                &bob,
            )
            .await;
        assert_eq!(listed["total"], 5, "page {page}: {listed}");
        assert_eq!(listed["page"], page);
        assert_eq!(listed["per_page"], 2);
        for item in listed["items"].as_array().unwrap() {
            seen.push((
                item["title"].as_str().unwrap().to_string(),
                item["author"].as_str().unwrap().to_string(),
            ));
        }
    }
    let expected: Vec<(String, String)> = [
        ("Question 4", "alice"),
        ("Question 3", "bob"),
        ("Question 2", "alice"),
        ("Question 1", "bob"),
        ("Question 0", "alice"),
    ]
    .into_iter()
    .map(|(t, a)| (t.to_string(), a.to_string()))
    .collect();
    assert_eq!(seen, expected);

    // A deleted question leaves the total; a delete that finds nothing (another team's
    // question through this team's path) changes nothing.
    let newest = api
        .get_json("/api/v1/teams/ops/questions?per_page=1", &alice)
        .await["items"][0]["id"]
        .as_i64()
        .unwrap();
    let webs = api.get_json("/api/v1/teams/web/questions", &carol).await["items"][0]["id"]
        .as_i64()
        .unwrap();
    for (id, status) in [
        (newest, StatusCode::NO_CONTENT),
        (newest, StatusCode::NOT_FOUND),
        (webs, StatusCode::NOT_FOUND),
    ] {
        let deleted = api
            .bearer(
                Method::DELETE,
                &format!("/api/v1/teams/ops/questions/{id}"),
                &alice,
            )
            .send()
            .await
            .unwrap();
        assert_eq!(deleted.status(), status, "question {id}");
    }
    let listed = api.get_json("/api/v1/teams/ops/questions", &bob).await;
    assert_eq!(listed["total"], 4, "{listed}");
    assert_eq!(listed["items"].as_array().unwrap().len(), 4);
    let beyond = api
        .get_json("/api/v1/teams/ops/questions?page=9", &bob)
        .await;
    assert_eq!(
        (beyond["total"].clone(), beyond["items"].clone()),
        (json!(4), json!([]))
    );
    let web = api.get_json("/api/v1/teams/web/questions", &carol).await;
    assert_eq!(web["total"], 1, "{web}");
}

/// The titles on the first page of ops's questions, and the team's total.
async fn ops_titles(api: &Api<'_>, token: &str, page: u64) -> (Vec<String>, u64) {
    let listed = api
        .get_json(&format!("/api/v1/teams/ops/questions?page={page}"), token)
        .await;
    let titles = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["title"].as_str().unwrap().to_string())
        .collect();
    (titles, listed["total"].as_u64().unwrap())
}

#[tokio::test]
async fn a_page_of_questions_read_before_a_write_is_never_served_after_it() {
    // Pages are kept with the team's content version (domain::content::pages); every read
    // right after a create, an edit or a delete must show it, with no wait.
    let server = TestServer::start();
    world(&server);
    let api = Api::new(&server);
    let (_, alice) = token(&server, "alice", "ops", "alice ci", true);
    let (_, bob) = token(&server, "bob", "ops", "bob ci", false);
    let write = |method: Method, path: String, body: Value| {
        let request = api.bearer(method, &path, &alice).json(&body);
        async move {
            let response = request.send().await.unwrap();
            assert!(
                response.status().is_success(),
                "{path}: {}",
                response.status()
            );
            response.bytes().await.unwrap()
        }
    };
    let created = write(
        Method::POST,
        "/api/v1/teams/ops/questions".into(),
        json!({"title": "first", "body": "?"}),
    )
    .await;
    let first = serde_json::from_slice::<Value>(&created).unwrap()["id"]
        .as_i64()
        .unwrap();
    for _ in 0..2 {
        assert_eq!(ops_titles(&api, &bob, 1).await, (vec!["first".into()], 1));
        assert_eq!(ops_titles(&api, &bob, 2).await, (vec![], 1));
    }

    write(
        Method::PATCH,
        format!("/api/v1/teams/ops/questions/{first}"),
        json!({"title": "first, edited"}),
    )
    .await;
    assert_eq!(
        ops_titles(&api, &bob, 1).await,
        (vec!["first, edited".into()], 1)
    );

    let created = write(
        Method::POST,
        "/api/v1/teams/ops/questions".into(),
        json!({"title": "second", "body": "?"}),
    )
    .await;
    let second = serde_json::from_slice::<Value>(&created).unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        ops_titles(&api, &bob, 1).await,
        (vec!["second".into(), "first, edited".into()], 2)
    );
    // A page past the end carries the total too.
    assert_eq!(ops_titles(&api, &bob, 2).await, (vec![], 2));

    write(
        Method::DELETE,
        format!("/api/v1/teams/ops/questions/{second}"),
        json!({}),
    )
    .await;
    assert_eq!(
        ops_titles(&api, &bob, 1).await,
        (vec!["first, edited".into()], 1)
    );
    assert_eq!(ops_titles(&api, &bob, 2).await, (vec![], 1));

    // A write that is refused changes nothing, and the page stays as it was.
    let refused = api
        .bearer(
            Method::PATCH,
            &format!("/api/v1/teams/ops/questions/{first}"),
            &bob,
        )
        .json(&json!({"title": "read-only"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        ops_titles(&api, &bob, 1).await,
        (vec!["first, edited".into()], 1)
    );
}
