//! Leaked tokens reported by anyone (docs/leaks.md), tried from outside: the answer is the same
//! whatever was live, only live tokens stop, the owner is told, and the endpoint is throttled.

mod support;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use support::{
    Caller, PASSWORD, TestServer, alice_owns_ops, cli, eventually, json, me_status, ok, token,
};

async fn report(http: &Client, server: &TestServer, values: &[&str]) -> (StatusCode, String) {
    let response = http
        .post(server.url("/api/v1/credentials/revoke"))
        .json(&json!({"credentials": values, "source": "https://git.example.test/acme/app/commit/1a2b3c"}))
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

/// A value with the right shape whose checksum does not match.
fn broken(value: &str) -> String {
    let mut broken = value.to_string();
    let last = broken.pop().unwrap();
    broken.push(if last == 'A' { 'B' } else { 'A' });
    broken
}

#[tokio::test]
async fn a_report_revokes_live_tokens_only_and_answers_the_same_whatever_was_live() {
    let server = TestServer::start();
    alice_owns_ops(&server);
    let http = Client::new();
    let unknown = domain::tokens::format::TokenSecret::generate()
        .expose()
        .to_string();
    let (deleted_id, deleted) = token(&server, "alice", "ops", "old", false);
    ok(cli(&server, &["token", "delete", &deleted_id], None));
    let (keep_id, keep) = token(&server, "alice", "ops", "untouched", false);

    // Every combination of {live, deleted, unknown, malformed}: the same status and body
    // for the same number of values, live or not.
    let mut bodies = std::collections::HashMap::new();
    let (mut live_values, mut live_ids) = (Vec::new(), Vec::new());
    for mask in 0u8..16 {
        let mut values: Vec<String> = Vec::new();
        if mask & 1 != 0 {
            let (id, value) = token(&server, "alice", "ops", &format!("leaky {mask}"), true);
            live_ids.push(id);
            live_values.push(value.clone());
            values.push(value);
        }
        if mask & 2 != 0 {
            values.push(deleted.clone());
        }
        if mask & 4 != 0 {
            values.push(unknown.clone());
        }
        if mask & 8 != 0 {
            values.push(broken(&keep));
        }
        let refs: Vec<&str> = values.iter().map(String::as_str).collect();
        let (status, body) = report(&http, &server, &refs).await;
        assert_eq!(status, StatusCode::ACCEPTED, "mask {mask}: {body}");
        let malformed = u64::from(mask & 8 != 0);
        let parsed: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            parsed,
            json!({"received": values.len(), "malformed": malformed})
        );
        // Same values received and malformed → the very same body, live or not.
        let key = (values.len(), malformed);
        if let Some(previous) = bodies.insert(key, body.clone()) {
            assert_eq!(previous, body, "mask {mask}");
        }
    }

    // Every live token reported stops; the one never reported, and the look-alike of it, do not.
    for value in &live_values {
        eventually("the reported token to stop", || async {
            let (status, body) = me_status(&http, &server, value).await;
            (status == StatusCode::UNAUTHORIZED).then_some(body)
        })
        .await;
    }
    let (status, body) = me_status(&http, &server, &live_values[0]).await;
    assert_eq!(body["error"]["code"], "token_revoked");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("reported as leaked"),
        "{body}"
    );
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(me_status(&http, &server, &keep).await.0, StatusCode::OK);

    // The owner sees it on the Inactive tab (no regenerate) and in the activity, with the source
    // and the reporter's address.
    let mut alice = Caller::new(&server);
    alice.sign_in("alice", PASSWORD).await;
    let rows = json(alice.call("inactive_tokens", &[]).await).await;
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == live_ids[0].as_str())
        .unwrap();
    assert_eq!(row["revoked"]["leaked"], true, "{row}");
    assert_eq!(
        row["revoked"]["reason"],
        "https://git.example.test/acme/app/commit/1a2b3c"
    );
    let response = alice
        .call("regenerate_token", &[("id", &live_ids[0])])
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // The token not reported stays on the Active tab.
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .all(|r| r["id"] != keep_id.as_str())
    );
    let active = json(alice.call("list_tokens", &[]).await).await;
    assert!(
        active
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == keep_id.as_str()),
        "{active}"
    );
    let activity = json(alice.call("my_activity", &[("page", "1")]).await).await;
    let entry = activity["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "token_reported_leaked")
        .expect("an entry for the report");
    assert_eq!(entry["ip"], "127.0.0.1");
    assert_eq!(entry["actor"], "leak report");
    assert!(
        entry["target"]
            .as_str()
            .unwrap()
            .contains("git.example.test")
    );
}

#[tokio::test]
async fn reports_are_bounded_and_throttled() {
    let server = TestServer::start_env(&[("PATDESK_LEAK_REPORTS_PER_MINUTE", "3")]);
    let http = Client::new();
    let many: Vec<String> = (0..1001).map(|_| "pdk_x".to_string()).collect();
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    let (status, body) = report(&http, &server, &refs).await;
    assert!(
        status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::PAYLOAD_TOO_LARGE,
        "{status}"
    );
    assert!(body.contains("1000") || body.contains("1,000"), "{body}");
    for bad in [
        json!({}),
        json!({"credentials": "pdk_"}),
        json!({"credentials": [], "extra": 1}),
    ] {
        let response = http
            .post(server.url("/api/v1/credentials/revoke"))
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    // Reports that are JSON count (the oversized one above made one): two more use up the
    // budget of 3, and the next is refused.
    for _ in 0..2 {
        let (status, _) = report(&http, &server, &[]).await;
        assert_eq!(status, StatusCode::ACCEPTED);
    }
    let response = http
        .post(server.url("/api/v1/credentials/revoke"))
        .json(&json!({"credentials": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    // Reports do not eat the failed-authentication budget: a good token still works.
    alice_owns_ops(&server);
    let (_, value) = token(&server, "alice", "ops", "fine", false);
    assert_eq!(me_status(&http, &server, &value).await.0, StatusCode::OK);
}

#[test]
fn the_cli_checks_values_offline() {
    let dir = tempfile::tempdir().unwrap();
    let good = domain::tokens::format::TokenSecret::generate()
        .expose()
        .to_string();
    let out = support::run(dir.path(), &["token", "check", &good], &[]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("valid:"));
    for bad in [
        broken(&good),
        "pdk_short".to_string(),
        "ghp_abc".to_string(),
    ] {
        let out = support::run(dir.path(), &["token", "check", &bad], &[]);
        assert!(!out.status.success(), "{bad}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("invalid:"),
            "{bad}"
        );
    }
}

/// GitLab's Token Revocation API, with the request shapes GitLab's documentation gives and the
/// `Authorization` GitLab sends (the pre-shared credential itself): the types, a report that
/// revokes (owner told where it was found), a foreign type refused whole, the credential
/// required; without the setting the endpoints do not exist.
#[tokio::test]
async fn gitlab_secret_detection_revokes_tokens_through_its_revocation_api() {
    const CREDENTIAL: &str = "gitlab-revocation-credential-0123456789";
    let server = TestServer::start_env(&[("PATDESK_GITLAB_REVOCATION_TOKEN", CREDENTIAL)]);
    alice_owns_ops(&server);
    let (_, leaked) = token(&server, "alice", "ops", "pushed by mistake", false);
    let (_, kept) = token(&server, "alice", "ops", "stays", false);
    let http = Client::new();
    let types_url = server.url("/api/gitlab/v1/revocable_token_types");
    let revoke_url = server.url("/api/gitlab/v1/revoke_tokens");

    for authorization in [None, Some("wrong-credential"), Some("Bearer nope")] {
        let mut request = http.get(&types_url);
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        assert_eq!(
            request.send().await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
    }
    for authorization in [CREDENTIAL.to_string(), format!("Bearer {CREDENTIAL}")] {
        let response = http
            .get(&types_url)
            .header("authorization", authorization)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body,
            json!({"types": ["gitleaks_rule_id_patdesk_personal_access_token"]})
        );
    }

    // A type that is not patdesk's: 400, and nothing is revoked (GitLab does not retry).
    let mixed = json!([
        {"type": "gitleaks_rule_id_patdesk_personal_access_token", "token": leaked,
         "location": "https://gitlab.example.test/acme/app/blob/abc/config.yml"},
        {"type": "gitleaks_rule_id_gitlab_personal_access_token", "token": "glpat-xxxxxxxxxxxxxxxxxxxx",
         "location": "https://gitlab.example.test/acme/app/blob/abc/config.yml"},
    ]);
    let response = http
        .post(&revoke_url)
        .header("authorization", CREDENTIAL)
        .json(&mixed)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(me_status(&http, &server, &leaked).await.0, StatusCode::OK);
    let unauthenticated = http.post(&revoke_url).json(&mixed).send().await.unwrap();
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);

    // GitLab's documented request: accepted with 204, the token revoked right after.
    let findings = json!([
        {"type": "gitleaks_rule_id_patdesk_personal_access_token", "token": leaked,
         "location": "https://gitlab.example.test/acme/app/blob/abc/config.yml"},
        {"type": "gitleaks_rule_id_patdesk_personal_access_token", "token": "pdk_not_a_real_one",
         "location": "https://gitlab.example.test/acme/app/blob/abc/other.yml"},
    ]);
    let response = http
        .post(&revoke_url)
        .header("authorization", CREDENTIAL)
        .json(&findings)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let body = eventually("the token GitLab found to be revoked", || async {
        let (status, body) = me_status(&http, &server, &leaked).await;
        (status == StatusCode::UNAUTHORIZED).then_some(body)
    })
    .await;
    assert_eq!(body["error"]["code"], "token_revoked");
    assert_eq!(me_status(&http, &server, &kept).await.0, StatusCode::OK);
    // Its owner is told where it was found.
    let db = server.connect_database().await;
    let source = support::text(
        &db,
        "SELECT leak_source AS v FROM tokens WHERE description = $1",
        ["pushed by mistake".into()],
    )
    .await;
    assert_eq!(
        source.as_deref(),
        Some("GitLab secret detection: https://gitlab.example.test/acme/app/blob/abc/config.yml")
    );

    // Without the setting, there is nothing there.
    let plain = TestServer::start();
    let response = http
        .get(plain.url("/api/gitlab/v1/revocable_token_types"))
        .header("authorization", CREDENTIAL)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}
