//! patdesk in front of other services (docs/forward-auth.md): a real nginx (Debian's), run with
//! the README's configuration, asks `/auth/verify` about each request to an upstream that echoes
//! the headers it got; and introspection (RFC 7662) with a team's service credential.

mod support;

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
};

use chrono::{Duration, Utc};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use support::{
    FAST_FLUSH, TestServer, alice_owns_ops, cli, client_from, eventually, fine_grained_token, ok,
    token, within_a_second,
};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The README's nginx block, as a reader would paste it.
fn readme_nginx_block() -> String {
    let readme = std::fs::read_to_string(support::workspace_root().join("README.md")).unwrap();
    let start = readme
        .find("<!-- nginx-forward-auth -->")
        .expect("the README's nginx block");
    let block = &readme[start..];
    let body = block.split("```nginx\n").nth(1).unwrap();
    body.split("\n```").next().unwrap().to_string()
}

/// An upstream that answers every request with what it received: method, path, headers.
async fn echo_upstream() -> u16 {
    use axum::{Json, extract::Request, routing::any};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = axum::Router::new().fallback(any(|request: Request| async move {
        let headers: serde_json::Map<String, Value> = request
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap_or_default())))
            .collect();
        Json(json!({"method": request.method().as_str(), "path": request.uri().path(), "headers": headers}))
    }));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    port
}

/// nginx with the README's block, its ports and team replaced by the test's.
struct Nginx {
    port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Nginx {
    fn start(patdesk_port: u16, upstream_port: u16) -> Nginx {
        Nginx::start_verifying(patdesk_port, upstream_port, "team=ops")
    }

    /// The README's block with its `/auth/verify` query replaced by `query`.
    fn start_verifying(patdesk_port: u16, upstream_port: u16, query: &str) -> Nginx {
        let program = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .expect("nginx is missing: run `make test-tools` (scripts/ensure-tools.sh --test)");
        let port = free_port();
        let server = readme_nginx_block()
            .replace("127.0.0.1:8000", &format!("127.0.0.1:{port}"))
            .replace("127.0.0.1:8080", &format!("127.0.0.1:{upstream_port}"))
            .replace("127.0.0.1:3000", &format!("127.0.0.1:{patdesk_port}"))
            .replace("/auth/verify?team=ops", &format!("/auth/verify?{query}"));
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        let config = format!(
            "worker_processes 1;\nuser root;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
             events {{ worker_connections 64; }}\n\
             http {{\n access_log off;\n client_body_temp_path {d}/body;\n proxy_temp_path {d}/proxy;\n\
             fastcgi_temp_path {d}/fastcgi;\n uwsgi_temp_path {d}/uwsgi;\n scgi_temp_path {d}/scgi;\n{server}\n}}\n"
        );
        std::fs::write(dir.path().join("nginx.conf"), config).unwrap();
        let child = Command::new(program)
            .args(["-p", &d.to_string(), "-c"])
            .arg(dir.path().join("nginx.conf"))
            .args(["-g", "daemon off;"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nginx");
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            let log = std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default();
            assert!(
                started.elapsed() < std::time::Duration::from_secs(30),
                "nginx did not start:\n{log}"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Nginx {
            port,
            child,
            _dir: dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn port_of(server: &TestServer) -> u16 {
    server.base.rsplit(':').next().unwrap().parse().unwrap()
}

/// The token's stored row, as `token list --json` shows it.
fn listed(server: &TestServer, user: &str, id: &str) -> Value {
    let out = ok(cli(
        server,
        &["token", "list", "--user", user, "--json"],
        None,
    ));
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    rows.into_iter().find(|r| r["id"] == id).unwrap()
}

#[tokio::test]
async fn nginx_with_the_readme_configuration_lets_only_the_right_tokens_through() {
    let server = TestServer::start_env(&[FAST_FLUSH, ("PATDESK_TRUST_FORWARDED_FOR", "true")]);
    alice_owns_ops(&server);
    ok(cli(
        &server,
        &["team", "add", "dev", "--owner", "alice"],
        None,
    ));
    let upstream = echo_upstream().await;
    let nginx = Nginx::start(port_of(&server), upstream);
    // The client is 127.0.0.2: nginx passes it on, and patdesk (trusting the proxy) records it.
    let http = client_from(2);
    let (read_id, read) = token(&server, "alice", "ops", "dashboards", false);
    let (_, write) = token(&server, "alice", "ops", "deployer", true);
    let (_, other_team) = token(&server, "alice", "dev", "dev only", true);

    let no_token = http.get(nginx.url("/metrics")).send().await.unwrap();
    assert_eq!(no_token.status(), StatusCode::UNAUTHORIZED);

    let passed = http
        .get(nginx.url("/metrics"))
        .bearer_auth(&read)
        .send()
        .await
        .unwrap();
    assert_eq!(passed.status(), StatusCode::OK);
    let seen: Value = passed.json().await.unwrap();
    assert_eq!(seen["path"], "/metrics");
    assert_eq!(seen["headers"]["patdesk-user"], "alice");
    assert_eq!(seen["headers"]["patdesk-team"], "ops");
    assert_eq!(seen["headers"]["patdesk-token-id"], read_id.as_str());
    assert_eq!(seen["headers"]["patdesk-access"], "read");
    assert!(seen["headers"].get("authorization").is_none(), "{seen}");

    // Writing methods need a write token.
    let post = |token: &str| {
        http.post(nginx.url("/metrics/reset"))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(post(&read).await.unwrap().status(), StatusCode::FORBIDDEN);
    // A method header of the client's own cannot turn the POST into a read.
    for header in ["X-Forwarded-Method", "X-Original-Method"] {
        let disguised = http
            .post(nginx.url("/metrics/reset"))
            .bearer_auth(&read)
            .header(header, "GET")
            .send()
            .await
            .unwrap();
        assert_eq!(disguised.status(), StatusCode::FORBIDDEN, "{header}: GET");
    }
    let written = post(&write).await.unwrap();
    assert_eq!(written.status(), StatusCode::OK);
    let seen: Value = written.json().await.unwrap();
    assert_eq!(seen["method"], "POST");
    assert_eq!(seen["headers"]["patdesk-access"], "write");
    // Another team's token, even a write one: 403.
    let other = http
        .get(nginx.url("/metrics"))
        .bearer_auth(&other_team)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::FORBIDDEN);

    // Last used, from the client's address (the forwarded one).
    let again = http
        .get(nginx.url("/other"))
        .bearer_auth(&read)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    eventually("the use through nginx recorded", || async {
        let row = listed(&server, "alice", &read_id);
        (row["last_used_at"].is_string() && row["last_used_ips"].to_string().contains("127.0.0.2"))
            .then_some(())
    })
    .await;
    // The first use through this service is in the owner's activity, once (not every call).
    let db = server.connect_database().await;
    let via_proxy = "SELECT COUNT(*) AS n FROM activity WHERE token_id = $1 AND kind = $2";
    let kind = "token_used_via_proxy";
    let via_proxy = support::count(&db, via_proxy, [read_id.as_str().into(), kind.into()]).await;
    assert_eq!(via_proxy, 1);
    let target = "SELECT target AS v FROM activity WHERE token_id = $1 AND kind = $2";
    let target = support::text(&db, target, [read_id.as_str().into(), kind.into()]).await;
    assert_eq!(target.as_deref(), Some("127.0.0.1"));

    // Deleted with the CLI (another process): refused within a second.
    ok(cli(&server, &["token", "delete", &read_id], None));
    within_a_second("a deleted token refused through nginx", || async {
        http.get(nginx.url("/metrics"))
            .bearer_auth(&read)
            .send()
            .await
            .unwrap()
            .status()
            == StatusCode::UNAUTHORIZED
    })
    .await;
    // Reported as leaked: refused.
    let reported = Client::new()
        .post(server.url("/api/v1/credentials/revoke"))
        .json(&json!({"credentials": [write]}))
        .send()
        .await
        .unwrap();
    assert_eq!(reported.status(), StatusCode::ACCEPTED);
    eventually("a leaked token refused through nginx", || async {
        let status = http
            .get(nginx.url("/metrics"))
            .bearer_auth(&write)
            .send()
            .await
            .unwrap()
            .status();
        (status == StatusCode::UNAUTHORIZED).then_some(())
    })
    .await;
}

/// A service's scope checked by nginx (docs/permissions.md): only tokens holding it pass, and
/// whole-team tokens while the team lets them.
#[tokio::test]
async fn nginx_asking_for_a_scope_lets_through_only_tokens_that_hold_it() {
    let server = TestServer::start();
    alice_owns_ops(&server);
    ok(cli(
        &server,
        &[
            "service", "create", "--team", "ops", "--name", "Deploy", "--slug", "deploy",
            "--scope", "run", "--scope", "read",
        ],
        None,
    ));
    let upstream = echo_upstream().await;
    let nginx = Nginx::start_verifying(port_of(&server), upstream, "team=ops&scope=deploy:run");
    let (_, runner) = fine_grained_token(&server, "alice", "ops", "runs deploys", &["deploy:run"]);
    let (_, reader) =
        fine_grained_token(&server, "alice", "ops", "reads deploys", &["deploy:read"]);
    let (_, whole) = token(&server, "alice", "ops", "whole team", false);
    let get = |token: String| {
        let url = nginx.url("/deploys");
        async move {
            Client::new()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(get(runner.clone()).await, StatusCode::OK);
    assert_eq!(get(reader.clone()).await, StatusCode::FORBIDDEN);
    // The scope is what the call may do: running a deploy is a POST, and a token that holds
    // only `deploy:run` (no write of team content) may make it.
    let run = Client::new()
        .post(nginx.url("/deploys/run"))
        .bearer_auth(&runner)
        .send()
        .await
        .unwrap();
    assert_eq!(run.status(), StatusCode::OK);
    assert_eq!(
        get(whole.clone()).await,
        StatusCode::OK,
        "the team lets whole-team tokens in"
    );
    ok(cli(
        &server,
        &["team", "set", "ops", "--no-whole-team-services"],
        None,
    ));
    within_a_second("the whole-team token kept out", || {
        let whole = whole.clone();
        let get = &get;
        async move { get(whole).await == StatusCode::FORBIDDEN }
    })
    .await;
    assert_eq!(get(runner).await, StatusCode::OK);
}

#[tokio::test]
async fn verify_answers_with_the_api_codes_and_the_caller_in_headers() {
    let server = TestServer::start();
    alice_owns_ops(&server);
    let (id, read) = token(&server, "alice", "ops", "reader", false);
    let http = Client::new();
    let verify = |query: &str, token: Option<&str>, method: Option<&str>| {
        let mut request = http.get(server.url(&format!("/auth/verify{query}")));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(method) = method {
            request = request.header("X-Forwarded-Method", method);
        }
        request.send()
    };
    let ok_answer = verify("?team=ops", Some(&read), Some("GET")).await.unwrap();
    assert_eq!(ok_answer.status(), StatusCode::OK);
    let headers = ok_answer.headers();
    assert_eq!(headers["patdesk-user"], "alice");
    assert_eq!(headers["patdesk-team"], "ops");
    assert_eq!(headers["patdesk-token-id"], id.as_str());
    assert_eq!(headers["patdesk-access"], "read");
    assert!(headers.contains_key("patdesk-token-expiration"));
    assert!(ok_answer.text().await.unwrap().is_empty());

    let missing = verify("?team=ops", None, None).await.unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert!(missing.headers().contains_key("www-authenticate"));
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["error"]["code"], "missing_token");
    for (query, method, code) in [
        ("?team=ops", Some("DELETE"), "read_only_token"),
        ("?team=ops&access=write", Some("GET"), "read_only_token"),
        ("?team=dev", Some("GET"), "wrong_team"),
    ] {
        let refused = verify(query, Some(&read), method).await.unwrap();
        assert_eq!(
            refused.status(),
            StatusCode::FORBIDDEN,
            "{query} {method:?}"
        );
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["error"]["code"], code);
    }
    let malformed = verify("?team=ops", Some("pdk_nope"), None).await.unwrap();
    assert_eq!(malformed.status(), StatusCode::UNAUTHORIZED);
    // A proxy configured without a team: 400, saying what to add.
    let unconfigured = verify("", Some(&read), None).await.unwrap();
    assert_eq!(unconfigured.status(), StatusCode::BAD_REQUEST);
    assert!(unconfigured.text().await.unwrap().contains("team="));
}

/// Introspection: a service credential, made with the CLI.
fn service(server: &TestServer, team: &str, name: &str) -> (String, String) {
    let out = ok(cli(
        server,
        &[
            "service", "create", "--team", team, "--name", name, "--json",
        ],
        None,
    ));
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    (
        created["id"].as_str().unwrap().into(),
        created["secret"].as_str().unwrap().into(),
    )
}

async fn introspect(
    server: &TestServer,
    credential: Option<(&str, &str)>,
    token: &str,
) -> (StatusCode, Value) {
    let mut request = Client::new()
        .post(server.url("/oauth/introspect"))
        .form(&[("token", token)]);
    if let Some((id, secret)) = credential {
        request = request.basic_auth(id, Some(secret));
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn introspection_answers_per_rfc_7662_for_every_state() {
    let server = TestServer::start();
    alice_owns_ops(&server);
    ok(cli(
        &server,
        &["team", "add", "dev", "--owner", "alice"],
        None,
    ));
    let (svc, secret) = service(&server, "ops", "metrics API");
    assert!(secret.starts_with("pdks_"));
    let cred = Some((svc.as_str(), secret.as_str()));
    let (live_id, live) = token(&server, "alice", "ops", "live", true);
    let (expired_id, expired) = token(&server, "alice", "ops", "expired", false);
    let (deleted_id, deleted) = token(&server, "alice", "ops", "deleted", false);
    let (_, other_team) = token(&server, "alice", "dev", "other team", false);
    ok(cli(&server, &["token", "delete", &deleted_id], None));
    let db = server.connect_database().await;
    let a_minute_ago = Utc::now() - Duration::minutes(1);
    support::set_token_expiry(&db, &expired_id, Some(a_minute_ago)).await;

    let (status, body) = introspect(&server, cred, &live).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["active"], true);
    assert_eq!(body["sub"], "alice");
    assert_eq!(body["username"], "alice");
    assert_eq!(body["client_id"], live_id.as_str());
    assert_eq!(body["scope"], "team:ops:write");
    assert_eq!(body["token_type"], "Bearer");
    let (exp, iat) = (body["exp"].as_i64().unwrap(), body["iat"].as_i64().unwrap());
    let now = Utc::now().timestamp();
    assert!(
        iat <= now && iat > now - 300 && exp > now + 86_400,
        "{body}"
    );

    // Inactive, and nothing else said, for every other state.
    for (what, value) in [
        ("expired", expired.as_str()),
        ("deleted", deleted.as_str()),
        ("another team's", other_team.as_str()),
        ("malformed", "pdk_nope"),
        (
            "unknown",
            domain::tokens::format::TokenSecret::generate().expose(),
        ),
    ] {
        let (status, body) = introspect(&server, cred, value).await;
        assert_eq!(status, StatusCode::OK, "{what}");
        assert_eq!(body, json!({"active": false}), "{what}");
    }

    // Without a valid service credential: 401, whatever the token.
    for bad in [
        None,
        Some((svc.as_str(), "pdks_wrong")),
        Some(("svc_other", secret.as_str())),
    ] {
        let (status, body) = introspect(&server, bad, &live).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{bad:?}");
        assert_eq!(body["error"]["code"], "invalid_client");
    }
    let token_as_credential = Client::new()
        .post(server.url("/oauth/introspect"))
        .bearer_auth(&live)
        .form(&[("token", live.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(token_as_credential.status(), StatusCode::UNAUTHORIZED);
    let bearer = Client::new()
        .post(server.url("/oauth/introspect"))
        .bearer_auth(&secret)
        .form(&[("token", live.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), StatusCode::OK);
    // No token field: 400.
    let empty = Client::new()
        .post(server.url("/oauth/introspect"))
        .basic_auth(&svc, Some(&secret))
        .form(&[("nothing", "here")])
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), StatusCode::BAD_REQUEST);

    // Listed without its secret; revoked: refused at once.
    let out = ok(cli(
        &server,
        &["service", "list", "--team", "ops", "--json"],
        None,
    ));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&svc) && !text.contains(&secret[5..]),
        "{text}"
    );
    ok(cli(
        &server,
        &["service", "delete", "--team", "ops", &svc],
        None,
    ));
    let (status, _) = introspect(&server, cred, &live).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // In the OpenAPI document.
    let document: Value = Client::new()
        .get(server.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(document["paths"]["/oauth/introspect"]["post"].is_object());
}

#[tokio::test]
async fn service_credentials_need_an_existing_team_and_a_name() {
    let server = TestServer::start();
    alice_owns_ops(&server);
    let out = cli(
        &server,
        &["service", "create", "--team", "nope", "--name", "x"],
        None,
    );
    assert!(!out.status.success());
    let out = cli(
        &server,
        &["service", "create", "--team", "ops", "--name", " "],
        None,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Name the service"));
}
