//! Fine-grained permissions (docs/permissions.md), through the real binary: every endpoint
//! against every built-in permission, as the OpenAPI document declares them; a demoted owner;
//! services' scopes in `/auth/verify` and introspection, and the team setting that keeps
//! whole-team tokens out of services; the policies that require fine-grained tokens; tokens made
//! before the migration. (nginx's `scope=`: `forward_auth.rs`.)

mod support;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use support::{
    PASSWORD, TestServer, age_sessions, alice_owns_ops, cli, client, fine_grained_token, json, ok,
    test_database, token, within_a_second,
};

/// The built-in permissions, one at a time.
const BUILTIN: [&str; 7] = [
    "questions:read",
    "questions:write",
    "answers:read",
    "answers:write",
    "tokens:self",
    "team_tokens:read",
    "team_tokens:write",
];

/// Whether `held` covers `needed`: the same, or the write of what needs a read.
fn covers(held: &str, needed: &str) -> bool {
    held == needed
        || needed
            .strip_suffix(":read")
            .is_some_and(|resource| held == format!("{resource}:write"))
}

async fn call(
    server: &TestServer,
    method: &Method,
    path: &str,
    token: &str,
) -> (StatusCode, Value, Option<String>) {
    let mut request = client()
        .request(method.clone(), server.url(path))
        .bearer_auth(token);
    if path.ends_with("/questions") && *method == Method::POST {
        request = request.json(&json!({"title": "From a script", "body": "Asked with a token."}));
    } else if path.contains("/answers") && (*method == Method::POST || *method == Method::PATCH) {
        request = request.json(&json!({"body": "An answer."}));
    } else if *method == Method::PATCH {
        request = request.json(&json!({"title": "Edited"}));
    } else if path.ends_with("/rotate") {
        request = request.json(&json!({"overlap_seconds": 3600}));
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let accepted = response
        .headers()
        .get("patdesk-accepted-permissions")
        .map(|v| v.to_str().unwrap().to_string());
    (
        status,
        response.json().await.unwrap_or(Value::Null),
        accepted,
    )
}

/// Every operation of the document that declares permissions, with the permissions it
/// declares: (method, path template, needed).
fn declared(document: &Value) -> Vec<(Method, String, Vec<String>)> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let Some(security) = operation["security"].as_array() else {
                continue;
            };
            let needed: Vec<String> = security
                .iter()
                .filter_map(|requirement| requirement["bearer"].as_array())
                .flatten()
                .map(|p| p.as_str().unwrap().to_string())
                .collect();
            if !needed.is_empty() {
                // Basic needs what Bearer needs.
                assert!(
                    security.iter().any(|r| r["basic"]
                        .as_array()
                        .is_some_and(|b| b.len() == needed.len())),
                    "{method} {path}: basic's requirement"
                );
                found.push((method.to_uppercase().parse().unwrap(), path.clone(), needed));
            }
        }
    }
    found
}

#[tokio::test]
async fn every_endpoint_takes_exactly_the_permission_it_declares() {
    let server = TestServer::start();
    alice_owns_ops(&server);
    let (_, whole) = token(&server, "alice", "ops", "whole team", true);
    let document: Value = json(
        client()
            .get(server.url("/api/openapi.json"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let operations = declared(&document);
    // Every token-authenticated operation but /me declares what it needs.
    let api_operations: usize = document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(path, _)| path.starts_with("/api/v1/") && *path != "/api/v1/me")
        .filter(|(path, _)| *path != "/api/v1/credentials/revoke")
        .map(|(_, item)| item.as_object().unwrap().len())
        .sum();
    assert_eq!(
        operations.len(),
        api_operations,
        "an operation declares no permission"
    );
    assert!(operations.len() >= 16);

    // One token per permission, made again only after a call that ends it (deleting,
    // regenerating, rotating, revoking itself): the CLI is the slow part on PostgreSQL.
    let mut tokens: std::collections::HashMap<&str, (String, String)> = Default::default();
    let mut made = 0;
    for (method, template, needed) in &operations {
        assert_eq!(needed.len(), 1, "{method} {template}: one permission each");
        let needed = &needed[0];
        for held in BUILTIN {
            // A question (and an answer) of its own, so that nothing another call deleted is
            // missing: a refusal for want of a row is not what this is about.
            let question: Value = json(
                client()
                    .post(server.url("/api/v1/teams/ops/questions"))
                    .bearer_auth(&whole)
                    .json(&json!({"title": "Q", "body": "B"}))
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            let answer: Value = json(
                client()
                    .post(server.url(&format!(
                        "/api/v1/teams/ops/questions/{}/answers",
                        question["id"]
                    )))
                    .bearer_auth(&whole)
                    .json(&json!({"body": "A"}))
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            let (id, value) = tokens
                .entry(held)
                .or_insert_with(|| {
                    made += 1;
                    fine_grained_token(
                        &server,
                        "alice",
                        "ops",
                        &format!("only {held} {made}"),
                        &[held],
                    )
                })
                .clone();
            let ends_it = *method == Method::DELETE && template.contains("/tokens/")
                || template.ends_with("/regenerate")
                || template.ends_with("/rotate");
            let path = template
                .replace("{team}", "ops")
                .replace("{answer_id}", &answer["id"].to_string())
                .replace(
                    "{id}",
                    &if template.contains("/tokens/{id}") {
                        id.clone()
                    } else {
                        question["id"].to_string()
                    },
                );
            let (status, body, accepted) = call(&server, method, &path, &value).await;
            if ends_it && status.is_success() {
                tokens.remove(held);
            }
            let refused = status == StatusCode::FORBIDDEN
                && body["error"]["code"] == "insufficient_permission";
            if covers(held, needed) {
                assert!(
                    !refused && status.is_success(),
                    "{method} {template} with only {held}: {status} {body}"
                );
            } else {
                assert!(
                    refused,
                    "{method} {template} with only {held}: {status} {body}"
                );
                assert_eq!(
                    accepted.as_deref(),
                    Some(needed.as_str()),
                    "{method} {template}"
                );
                assert!(
                    body["error"]["message"].as_str().unwrap().contains(needed),
                    "the refusal names what is missing: {body}"
                );
            }
        }
    }

    // /me is any token's, and says what it holds; a whole-team token holds null.
    let (_, some) = fine_grained_token(
        &server,
        "alice",
        "ops",
        "two of them",
        &["questions:write", "answers:read", "questions:read"],
    );
    let me: Value = json(
        client()
            .get(server.url("/api/v1/me"))
            .bearer_auth(&some)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        me["token"]["permissions"],
        json!(["answers:read", "questions:write"])
    );
    assert_eq!(
        me["token"]["write"], true,
        "a write permission makes a write token"
    );
    let me: Value = json(
        client()
            .get(server.url("/api/v1/me"))
            .bearer_auth(&whole)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(me["token"]["permissions"], Value::Null);
    // And the CLI's list says it too.
    let listed: Vec<Value> = serde_json::from_slice(
        &ok(cli(
            &server,
            &["token", "list", "--user", "alice", "--json"],
            None,
        ))
        .stdout,
    )
    .unwrap();
    let row = listed
        .iter()
        .find(|t| t["description"] == "two of them")
        .unwrap();
    assert_eq!(
        row["permissions"],
        json!(["answers:read", "questions:write"])
    );
}

#[tokio::test]
async fn a_permission_never_exceeds_the_owners_role_today() {
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
    let (_, bobs) = fine_grained_token(
        &server,
        "bob",
        "ops",
        "writes questions",
        &["questions:write"],
    );
    let post = || async {
        client()
            .post(server.url("/api/v1/teams/ops/questions"))
            .bearer_auth(&bobs)
            .json(&json!({"title": "T", "body": "B"}))
            .send()
            .await
            .unwrap()
    };
    assert_eq!(post().await.status(), StatusCode::CREATED);
    ok(cli(
        &server,
        &["team", "member", "remove", "ops", "bob"],
        None,
    ));
    ok(cli(
        &server,
        &["team", "member", "add", "ops", "bob", "--role", "reader"],
        None,
    ));
    within_a_second("bob's write refused for his role", || async {
        let response = post().await;
        response.status() == StatusCode::FORBIDDEN
            && json(response).await["error"]["code"] == "insufficient_role"
    })
    .await;
    // A reader cannot be given a write permission in the first place.
    let refused = cli(
        &server,
        &[
            "token",
            "create",
            "--user",
            "bob",
            "--team",
            "ops",
            "--description",
            "again",
            "--permission",
            "answers:write",
        ],
        None,
    );
    assert!(!refused.status.success());
}

/// A service of team ops: (id, secret).
fn service(server: &TestServer, slug: &str, scopes: &[&str]) -> (String, String) {
    let mut args = vec![
        "service",
        "create",
        "--team",
        "ops",
        "--name",
        "Deploy API",
        "--slug",
        slug,
        "--json",
    ];
    for scope in scopes {
        args.extend(["--scope", scope]);
    }
    let created: Value = serde_json::from_slice(&ok(cli(server, &args, None)).stdout).unwrap();
    assert_eq!(created["slug"], slug);
    (
        created["id"].as_str().unwrap().into(),
        created["secret"].as_str().unwrap().into(),
    )
}

async fn verify(
    server: &TestServer,
    query: &str,
    token: &str,
) -> (StatusCode, Value, Option<String>) {
    let response = client()
        .get(server.url(&format!("/auth/verify?{query}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let accepted = response
        .headers()
        .get("patdesk-accepted-permissions")
        .map(|v| v.to_str().unwrap().to_string());
    (
        status,
        response.json().await.unwrap_or(Value::Null),
        accepted,
    )
}

async fn introspect(server: &TestServer, (id, secret): (&str, &str), token: &str) -> Value {
    json(
        client()
            .post(server.url("/oauth/introspect"))
            .basic_auth(id, Some(secret))
            .form(&[("token", token)])
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn services_scopes_open_services_to_the_tokens_that_hold_them() {
    let server = TestServer::start();
    alice_owns_ops(&server);
    let (deploy_id, deploy_secret) = service(&server, "deploy", &["run", "read"]);
    let (_, runner) = fine_grained_token(&server, "alice", "ops", "runs deploys", &["deploy:run"]);
    let (_, reader) = fine_grained_token(
        &server,
        "alice",
        "ops",
        "reads questions",
        &["questions:read"],
    );
    let (_, whole) = token(&server, "alice", "ops", "whole team", false);

    let (status, _, _) = verify(&server, "team=ops&scope=deploy:run", &runner).await;
    assert_eq!(status, StatusCode::OK);
    // Every scope named is needed.
    let (status, body, accepted) = verify(
        &server,
        "team=ops&scope=deploy:run&scope=deploy:read",
        &runner,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "insufficient_permission");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("deploy:read")
    );
    assert_eq!(accepted.as_deref(), Some("deploy:run, deploy:read"));
    let (status, _, _) = verify(&server, "team=ops&scope=deploy:run", &reader).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Without scope=, a team's token passes as before, fine-grained or not.
    assert_eq!(verify(&server, "team=ops", &reader).await.0, StatusCode::OK);
    // A whole-team token opens the team's services while the team lets it (the default)…
    assert_eq!(
        verify(&server, "team=ops&scope=deploy:run", &whole).await.0,
        StatusCode::OK
    );
    // … and a proxy's typo is the proxy's 400, not a refusal of the token.
    let (status, body, _) = verify(&server, "team=ops&scope=Deploy", &whole).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // Introspection: RFC 7662's scope, the team's access first.
    let credential = (deploy_id.as_str(), deploy_secret.as_str());
    let answer = introspect(&server, credential, &runner).await;
    assert_eq!(answer["active"], true);
    assert_eq!(answer["scope"], "team:ops:read deploy:run");
    let answer = introspect(&server, credential, &whole).await;
    assert_eq!(answer["scope"], "team:ops:read deploy:read deploy:run");

    // The team keeps whole-team tokens out of its services: at once, in every process.
    ok(cli(
        &server,
        &["team", "set", "ops", "--no-whole-team-services"],
        None,
    ));
    within_a_second("the whole-team token refused by scope=", || async {
        let (status, body, _) = verify(&server, "team=ops&scope=deploy:run", &whole).await;
        status == StatusCode::FORBIDDEN && body["error"]["code"] == "insufficient_permission"
    })
    .await;
    assert_eq!(verify(&server, "team=ops", &whole).await.0, StatusCode::OK);
    assert_eq!(
        verify(&server, "team=ops&scope=deploy:run", &runner)
            .await
            .0,
        StatusCode::OK
    );
    let answer = introspect(&server, credential, &whole).await;
    assert_eq!(
        answer["scope"], "team:ops:read",
        "no service scope for it now"
    );
    // Whole-team tokens still do everything else.
    let me = client()
        .get(server.url("/api/v1/teams/ops/questions"))
        .bearer_auth(&whole)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);

    // A token may hold only its own team's services' scopes, and only ones they define.
    ok(cli(
        &server,
        &["team", "add", "dev", "--owner", "alice"],
        None,
    ));
    for (team, permission) in [
        ("dev", "deploy:run"),
        ("ops", "deploy:admin"),
        ("ops", "billing:read"),
    ] {
        let out = cli(
            &server,
            &[
                "token",
                "create",
                "--user",
                "alice",
                "--team",
                team,
                "--description",
                &format!("{team} {permission}"),
                "--permission",
                permission,
            ],
            None,
        );
        assert!(!out.status.success(), "{team} {permission}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("has no service scope"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Scopes change: the one taken away can no longer be given.
    ok(cli(
        &server,
        &[
            "service", "scopes", "--team", "ops", "deploy", "--scope", "run",
        ],
        None,
    ));
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
            "reads deploys",
            "--permission",
            "deploy:read",
        ],
        None,
    );
    assert!(!out.status.success());
    // A slug is the team's once, and never a built-in resource's name.
    let taken = cli(
        &server,
        &[
            "service", "create", "--team", "ops", "--name", "Other", "--slug", "deploy",
        ],
        None,
    );
    assert!(!taken.status.success());
    let builtin = cli(
        &server,
        &[
            "service",
            "create",
            "--team",
            "ops",
            "--name",
            "Questions",
            "--slug",
            "questions",
        ],
        None,
    );
    assert!(!builtin.status.success());
}

#[tokio::test]
async fn the_instance_or_the_team_may_require_fine_grained_tokens() {
    let server = TestServer::start();
    alice_owns_ops(&server);
    let whole_team = |description: &str| {
        cli(
            &server,
            &[
                "token",
                "create",
                "--user",
                "alice",
                "--team",
                "ops",
                "--description",
                description,
            ],
            None,
        )
    };
    let (_, before) = token(&server, "alice", "ops", "made before", false);
    ok(cli(
        &server,
        &["team", "set", "ops", "--require-fine-grained"],
        None,
    ));
    let refused = whole_team("whole team");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("requires fine-grained tokens"));
    fine_grained_token(&server, "alice", "ops", "fine", &["questions:read"]);
    ok(cli(
        &server,
        &["team", "set", "ops", "--no-require-fine-grained"],
        None,
    ));
    ok(whole_team("whole team again"));
    ok(cli(
        &server,
        &["policy", "set", "--require-fine-grained"],
        None,
    ));
    let shown: Value =
        serde_json::from_slice(&ok(cli(&server, &["policy", "show", "--json"], None)).stdout)
            .unwrap();
    assert_eq!(shown["require_fine_grained"], true);
    assert!(!whole_team("and again").status.success());
    // Tokens made before keep working.
    let (status, _) = support::me_status(&client(), &server, &before).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn tokens_made_before_the_migration_keep_working_as_before() {
    // A database as the previous release left it: made by this binary, then the migration's
    // columns dropped and its record removed, so that the next start runs it on old rows.
    let data = tempfile::tempdir().unwrap();
    let database = test_database(data.path());
    let first = TestServer::start_in(tempfile::tempdir().unwrap(), &database.url);
    alice_owns_ops(&first);
    let (_, writer) = token(&first, "alice", "ops", "old writer", true);
    let (_, reader) = token(&first, "alice", "ops", "old reader", false);
    let (deploy_id, deploy_secret) = service(&first, "deploy", &["run"]);
    let db = first.connect_database().await;
    for statement in [
        "ALTER TABLE tokens DROP COLUMN permissions",
        "ALTER TABLE service_credentials DROP COLUMN slug",
        "ALTER TABLE service_credentials DROP COLUMN scopes",
        "ALTER TABLE teams DROP COLUMN whole_team_services",
        "ALTER TABLE teams DROP COLUMN require_fine_grained",
        "ALTER TABLE instance_policy DROP COLUMN require_fine_grained",
        "DELETE FROM seaql_migrations WHERE version = 'm20261207_000101_permissions'",
    ] {
        sea_orm::ConnectionTrait::execute_unprepared(&db, statement)
            .await
            .unwrap_or_else(|e| panic!("{statement}: {e}"));
    }
    drop(db);
    let _kept = first.terminate_keep_data();
    let server = TestServer::start_in(tempfile::tempdir().unwrap(), &database.url);

    let me: Value = json(
        client()
            .get(server.url("/api/v1/me"))
            .bearer_auth(&writer)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(me["token"]["permissions"], Value::Null, "whole-team");
    assert_eq!(me["token"]["can_write"], true);
    let posted = client()
        .post(server.url("/api/v1/teams/ops/questions"))
        .bearer_auth(&writer)
        .json(&json!({"title": "After the upgrade", "body": "Still works."}))
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), StatusCode::CREATED);
    let refused = client()
        .post(server.url("/api/v1/teams/ops/questions"))
        .bearer_auth(&reader)
        .json(&json!({"title": "T", "body": "B"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(json(refused).await["error"]["code"], "read_only_token");
    // The old credential still introspects; it defines no scopes, and whole-team tokens pass
    // `scope=` checks as before (the team's setting is on).
    let answer = introspect(&server, (&deploy_id, &deploy_secret), &reader).await;
    assert_eq!(answer["active"], true);
    assert_eq!(answer["scope"], "team:ops:read");
    assert_eq!(
        verify(&server, "team=ops&scope=anything:at-all", &reader)
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn narrowing_works_at_once_and_widening_asks_for_sudo_and_approval() {
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
    let mut alice = support::Caller::new(&server);
    alice.sign_in("alice", PASSWORD).await;
    let response = alice
        .call("set_write_approval", &[("team", "ops"), ("required", "on")])
        .await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{}",
        response.text().await.unwrap()
    );
    let mut bob = support::Caller::new(&server);
    bob.sign_in("bob", PASSWORD).await;
    let (id, value) = fine_grained_token(
        &server,
        "bob",
        "ops",
        "reads and answers",
        &["questions:read", "answers:read"],
    );
    let answers = |token: &str| {
        let token = token.to_string();
        let url = server.url("/api/v1/teams/ops/questions/1/answers");
        async move {
            client()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(
        answers(&value).await,
        StatusCode::NOT_FOUND,
        "no question 1, but allowed"
    );

    // Narrowing, even from an old session: at once.
    age_sessions(&server, "bob").await;
    let narrowed = bob
        .call(
            "set_token_access",
            &[
                ("id", id.as_str()),
                ("access", "permissions"),
                ("permissions[]", "questions:read"),
            ],
        )
        .await;
    assert_eq!(
        narrowed.status(),
        StatusCode::OK,
        "{}",
        narrowed.text().await.unwrap()
    );
    let (status, body, _) = call(
        &server,
        &Method::GET,
        "/api/v1/teams/ops/questions/1/answers",
        &value,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "insufficient_permission");

    // Widening from an old session: confirm it is you first, nothing changed.
    let widen = [
        ("id", id.as_str()),
        ("access", "permissions"),
        ("permissions[]", "questions:write"),
    ];
    let refused = bob.call("set_token_access", &widen).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(json(refused).await, "reauthentication_required");
    let me: Value = json(
        client()
            .get(server.url("/api/v1/me"))
            .bearer_auth(&value)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(me["token"]["permissions"], json!(["questions:read"]));

    // After signing in again: done, and the write waits for an admin of the team again.
    bob.sign_in("bob", PASSWORD).await;
    let widened = bob.call("set_token_access", &widen).await;
    assert_eq!(
        widened.status(),
        StatusCode::OK,
        "{}",
        widened.text().await.unwrap()
    );
    let (status, body, _) = call(&server, &Method::GET, "/api/v1/me", &value).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "token_pending_approval");

    // Someone else's token is no one's to change.
    let (alices, _) = fine_grained_token(&server, "alice", "ops", "alice's", &["questions:read"]);
    let other = bob
        .call(
            "set_token_access",
            &[("id", alices.as_str()), ("access", "team")],
        )
        .await;
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    // Bad input is a field error.
    let bad = alice
        .call(
            "set_token_access",
            &[
                ("id", alices.as_str()),
                ("access", "permissions"),
                ("permissions[]", "questions:admin"),
            ],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.text()
            .await
            .unwrap()
            .contains("questions takes read or write")
    );
}
