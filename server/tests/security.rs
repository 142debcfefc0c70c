//! The security review's findings (docs/threat-model.md), each tried as an attacker would,
//! against the real binary: forwarded addresses, the first account, control and invisible
//! characters, errors written into URLs, password-hashing load, introspection's body limit,
//! the `__Host-` cookie (and whose `X-Forwarded-Proto` decides it), redirects that could leave
//! the site, and secrets in logs (the database password, query values). (The forward-auth method confusion
//! is tried through the real nginx in `forward_auth.rs`.)

mod support;

use base64::{Engine, engine::general_purpose::URL_SAFE};
use reqwest::{Client, StatusCode, header};
use serde_json::{Value, json};
use support::{
    Caller, PASSWORD, TestServer, alice_owns_ops, cli, client, client_from, json, ok, token,
};

/// Alice's write token for ops, allowed from `allow` only: (id, value).
fn token_allowed_from(server: &TestServer, allow: &str) -> String {
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
            "office only",
            "--write",
            "--allow-ip",
            allow,
            "--json",
        ],
        None,
    ));
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    created["token"].as_str().unwrap().to_string()
}

async fn me_forwarded(server: &TestServer, from: &Client, token: &str, xff: &str) -> StatusCode {
    from.get(server.url("/api/v1/me"))
        .bearer_auth(token)
        .header("x-forwarded-for", xff)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn the_last_forwarded_entry_decides_and_a_client_entry_before_it_never_does() {
    let server = TestServer::start_env(&[("PATDESK_TRUST_FORWARDED_FOR", "true")]);
    alice_owns_ops(&server);
    let office = token_allowed_from(&server, "10.0.0.0/8");
    let http = client();
    // The proxy (loopback, trusted by default) appended the real client with a port; the
    // client's own 10.1.2.3 before it counts for nothing.
    for xff in [
        "10.1.2.3, 203.0.113.5:4711",
        "10.1.2.3, [2001:db8::5]:4711",
        "10.1.2.3, unknown",
        "10.1.2.3, ",
    ] {
        assert_eq!(
            me_forwarded(&server, &http, &office, xff).await,
            StatusCode::FORBIDDEN,
            "{xff}"
        );
    }
    // The last entry in the office, with or without a port: allowed.
    for xff in ["203.0.113.5, 10.1.2.3:4711", "10.9.8.7"] {
        assert_eq!(
            me_forwarded(&server, &http, &office, xff).await,
            StatusCode::OK,
            "{xff}"
        );
    }
}

#[tokio::test]
async fn a_client_that_is_not_a_trusted_proxy_cannot_rotate_its_address_past_the_throttle() {
    let limit = 5;
    let server = TestServer::start_env(&[
        ("PATDESK_TRUST_FORWARDED_FOR", "true"),
        ("PATDESK_TRUSTED_PROXIES", "127.0.0.1"),
        ("PATDESK_AUTH_FAILURES_PER_MINUTE", "5"),
    ]);
    alice_owns_ops(&server);
    let office = token_allowed_from(&server, "10.0.0.0/8");
    // 127.0.0.2 is not the trusted proxy: its header is ignored, whatever it says.
    let direct = client_from(2);
    assert_eq!(
        me_forwarded(&server, &direct, &office, "10.1.2.3").await,
        StatusCode::FORBIDDEN
    );
    let mut statuses = Vec::new();
    for guess in 0..(limit + 3) {
        let unknown = domain::tokens::format::TokenSecret::generate();
        let xff = format!("198.51.100.{guess}");
        statuses.push(me_forwarded(&server, &direct, unknown.expose(), &xff).await);
    }
    assert_eq!(
        statuses.last(),
        Some(&StatusCode::TOO_MANY_REQUESTS),
        "a fresh X-Forwarded-For per guess dodged the throttle: {statuses:?}"
    );
    // The trusted proxy's header is still believed.
    assert_eq!(
        me_forwarded(&server, &client(), &office, "10.1.2.3").await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn sixteen_simultaneous_first_sign_ups_make_one_instance_admin() {
    // All sixteen hash at once, so that their inserts meet (the race is in what follows).
    let server = TestServer::start_env(&[("PATDESK_PASSWORD_HASHES_AT_ONCE", "16")]);
    let sign_ups = (0..16).map(|i| {
        let server = &server;
        async move {
            let mut caller = Caller::new(server);
            let name = format!("founder{i}");
            let response = caller
                .call(
                    "sign_up",
                    &[
                        ("username", name.as_str()),
                        ("password", PASSWORD),
                        ("password_confirmation", PASSWORD),
                    ],
                )
                .await;
            response.status()
        }
    });
    let statuses = futures_join_all(sign_ups).await;
    assert!(
        statuses
            .iter()
            .all(|s| s.is_success() || s.is_redirection()),
        "{statuses:?}"
    );
    let db = server.connect_database().await;
    let accounts = support::count(&db, "SELECT COUNT(*) AS n FROM users", []).await;
    let admins = "SELECT COUNT(*) AS n FROM users WHERE is_admin = $1";
    let admins = support::count(&db, admins, [true.into()]).await;
    assert_eq!((accounts, admins), (16, 1));
}

/// The same race without the hashing in front of it, so that the sixteen transactions meet:
/// sixteen accounts created at once on an empty database, one of them the admin.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_accounts_created_at_once_on_an_empty_database_make_one_admin() {
    let dir = tempfile::tempdir().unwrap();
    let database = support::test_database(dir.path());
    let url: domain::db::DatabaseUrl = database.url.parse().unwrap();
    domain::db::migrate(&url).await.unwrap();
    let db = domain::db::connect(&url).await.unwrap();
    let hash = domain::identity::password::hash(
        &domain::identity::names::Password::parse(PASSWORD).unwrap(),
    )
    .await
    .unwrap();
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(16));
    let creations: Vec<_> = (0..16)
        .map(|i| {
            let (db, hash, start) = (db.clone(), hash.clone(), start.clone());
            tokio::spawn(async move {
                let name = domain::identity::names::Username::parse(&format!("racer{i}")).unwrap();
                start.wait().await;
                let registration = domain::identity::users::Registration::SignUp { ip: None };
                domain::identity::users::create_with_hash(&db, &name, hash, None, registration)
                    .await
            })
        })
        .collect();
    let mut admins = 0;
    for creation in creations {
        let user = creation.await.unwrap().unwrap();
        admins += usize::from(user.is_admin);
    }
    assert_eq!(admins, 1);
}

/// Runs the futures concurrently and gives their outputs in order.
async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let handles: Vec<_> = futures.collect();
    let mut outputs = Vec::with_capacity(handles.len());
    let mut pinned: Vec<_> = handles.into_iter().map(Box::pin).collect();
    // Poll all of them together (a tiny join_all, so as not to add a dependency).
    let mut done: Vec<Option<F::Output>> = (0..pinned.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, future) in pinned.iter_mut().enumerate() {
            if done[i].is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(out) => done[i] = Some(out),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.extend(done.into_iter().map(Option::unwrap));
    outputs
}

#[tokio::test]
async fn control_characters_are_refused_with_422_naming_the_field_on_every_backend() {
    let server = TestServer::start();
    alice_owns_ops(&server);
    let (_, write) = token(&server, "alice", "ops", "writer", true);
    let http = Client::new();
    let questions = server.url("/api/v1/teams/ops/questions");
    for (body, field) in [
        (json!({"title": "a\u{0}b", "body": "fine"}), "title"),
        (json!({"title": "fine", "body": "nul \u{0} inside"}), "body"),
        (json!({"title": "bell\u{7}", "body": "fine"}), "title"),
        (json!({"title": "two\nlines", "body": "fine"}), "title"),
    ] {
        let response = http
            .post(&questions)
            .bearer_auth(&write)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
        let refused: Value = response.json().await.unwrap();
        let message = refused["error"]["message"].as_str().unwrap();
        assert!(message.contains(field), "{body}: {message}");
    }
    // Tabs and line breaks in a body of several lines are text like any other.
    let created = http
        .post(&questions)
        .bearer_auth(&write)
        .json(&json!({"title": "Deploy steps", "body": "1.\tbuild\r\n2.\tship\n"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    // Nothing half-written: the one question is the good one.
    let listed: Value = http
        .get(&questions)
        .bearer_auth(&write)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["total"], 1, "{listed}");
    // A query parameter too.
    let (_, admin) = token(&server, "alice", "ops", "admin view", true);
    let response = http
        .get(server.url("/api/v1/teams/ops/tokens?owner=al%00ice"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("owner"));
    // And a server function's field, even one the function only filters by.
    let mut alice = Caller::new(&server);
    alice.sign_in("alice", PASSWORD).await;
    let refused = alice
        .call(
            "team_tokens",
            &[
                ("team", "ops"),
                ("in_team", ""),
                ("owner", "al\u{0}ice"),
                ("access", ""),
                ("unused", "false"),
                ("expiring", "false"),
                ("pending", "false"),
                ("page", "1"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(refused).await["Field"]["field"], "owner");
}

#[tokio::test]
async fn invisible_formatting_characters_are_refused_in_names_and_escaped_from_reporters() {
    let server = TestServer::start();
    alice_owns_ops(&server);
    let mut alice = Caller::new(&server);
    alice.sign_in("alice", PASSWORD).await;
    for (function, fields, field) in [
        (
            "create_token",
            vec![
                ("description", "ci\u{202E}exe.txt"),
                ("team", "ops"),
                ("expiration", "30"),
            ],
            "description",
        ),
        (
            "create_token",
            vec![
                ("description", "deploy\u{200B}"),
                ("team", "ops"),
                ("expiration", "30"),
            ],
            "description",
        ),
        (
            "create_team",
            vec![("slug", "web"), ("name", "We\u{2066}b")],
            "name",
        ),
        (
            "create_team",
            vec![("slug", "web"), ("name", "Web\u{0}")],
            "name",
        ),
    ] {
        let response = alice.call(function, &fields).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{fields:?}"
        );
        assert_eq!(json(response).await["Field"]["field"], field, "{fields:?}");
    }
    let mut mallory = Caller::new(&server);
    let refused = mallory
        .call(
            "sign_up",
            &[
                ("username", "adm\u{202E}in"),
                ("password", PASSWORD),
                ("password_confirmation", PASSWORD),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // A leak report's source is anyone's text: it reaches the owner written out.
    let (_, leaked) = token(&server, "alice", "ops", "leaky", false);
    let reported = Client::new()
        .post(server.url("/api/v1/credentials/revoke"))
        .json(&json!({"credentials": [leaked], "source": "build-log\u{202E}txt.exe"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reported.status(), StatusCode::ACCEPTED);
    // Revoked after the answer: polled, with a generous deadline.
    let started = std::time::Instant::now();
    let text = loop {
        let listed = json(alice.call("my_notices", &[("limit", "8")]).await).await;
        if listed.to_string().contains("build-log") {
            break listed.to_string();
        }
        assert!(
            started.elapsed() < support::GENEROUS,
            "no notice of the leak: {listed}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(text.contains("build-log<U+202E>txt.exe"), "{text}");
    assert!(!text.contains('\u{202E}'), "{text}");
}

/// A no-JavaScript form post, as a browser sends it: the form's page as Referer, HTML accepted.
async fn plain_form_post(
    server: &TestServer,
    function: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    client()
        .post(server.url(&format!("/rpc/{function}")))
        .header(header::ACCEPT, "text/html")
        .header(header::ORIGIN, &server.base)
        .header(header::REFERER, server.url("/signin"))
        .form(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_sign_in_page_shows_only_errors_made_for_this_browser() {
    let server = TestServer::start();
    alice_owns_ops(&server);
    let http = client();

    // The real round trip: a wrong password, back on the form with the app's message.
    let posted = plain_form_post(
        &server,
        "sign_in",
        &[("username", "alice"), ("password", "not the password")],
    )
    .await;
    assert!(posted.status().is_redirection(), "{}", posted.status());
    let back = posted.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    assert!(back.contains("__err="), "{back}");
    let cookie = posted.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("patdesk_form="), "{cookie}");
    let page = http
        .get(&back)
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("Wrong username or password.")
    );

    // The same URL in another browser (sent a link to it): the page without the error.
    let elsewhere = http.get(&back).send().await.unwrap();
    assert_eq!(elsewhere.status(), StatusCode::SEE_OTHER);
    assert_eq!(elsewhere.headers()[header::LOCATION], "/signin");

    // A sentence of the attacker's own, in the error's format, bound or not: never shown.
    let lure = "Wrong password. Reset it at https://evil.example/reset";
    let forged_field = json!({"Field": {"field": "password", "message": lure}});
    let forged_bound = json!({"bound_to": "0".repeat(64), "error": forged_field});
    for forged in [forged_field, forged_bound] {
        let err = URL_SAFE.encode(forged.to_string());
        let url = server.url(&format!(
            "/signin?next=%2Fteams&__path=%2Frpc%2Fsign_in&__err={err}"
        ));
        let refused = http
            .get(&url)
            .header(header::COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::SEE_OTHER, "{forged}");
        let location = refused.headers()[header::LOCATION].to_str().unwrap();
        assert_eq!(location, "/signin?next=%2Fteams");
        let page = http
            .get(server.url(location))
            .header(header::COOKIE, &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!page.contains("evil.example"));
    }
}

#[tokio::test]
async fn simultaneous_failed_sign_ins_are_counted_before_their_passwords_are_hashed() {
    let server = TestServer::start_env(&[("PATDESK_AUTH_FAILURES_PER_MINUTE", "10")]);
    alice_owns_ops(&server);
    let attempts = (0..16).map(|_| {
        let server = &server;
        async move {
            let mut caller = Caller::new(server);
            caller.sign_in("alice", "wrong password!!").await.status()
        }
    });
    let statuses = futures_join_all(attempts).await;
    let wrong = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNPROCESSABLE_ENTITY)
        .count();
    let throttled = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((wrong, throttled), (10, 6), "{statuses:?}");
}

#[tokio::test]
async fn a_burst_of_sign_ins_beyond_the_hashing_limit_gets_503_with_retry_after() {
    let server = TestServer::start_env(&[
        ("PATDESK_PASSWORD_HASHES_AT_ONCE", "1"),
        ("PATDESK_PASSWORD_HASH_QUEUE", "0"),
    ]);
    alice_owns_ops(&server);
    // From 16 addresses, so that no per-address throttle is what answers.
    let attempts = (0..16u8).map(|i| {
        let server = &server;
        async move {
            let response = client_from(20 + i)
                .post(server.url("/rpc/sign_in"))
                .header(header::ORIGIN, &server.base)
                .form(&[("username", "alice"), ("password", "wrong password!!")])
                .send()
                .await
                .unwrap();
            let retry_after = response.headers().get(header::RETRY_AFTER).cloned();
            (response.status(), retry_after)
        }
    });
    let answers = futures_join_all(attempts).await;
    assert!(
        answers
            .iter()
            .all(|(s, _)| *s == StatusCode::UNPROCESSABLE_ENTITY
                || *s == StatusCode::SERVICE_UNAVAILABLE),
        "{answers:?}"
    );
    let busy: Vec<_> = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert!(!busy.is_empty(), "no sign-in was refused: {answers:?}");
    assert!(busy.iter().all(|(_, retry)| retry.is_some()), "{busy:?}");
    // The server recovers at once: one sign-in on its own is checked.
    let mut alice = Caller::new(&server);
    let signed_in = alice.sign_in("alice", PASSWORD).await;
    assert!(alice.cookie.is_some(), "{}", signed_in.status());
}

#[tokio::test]
async fn sign_ups_are_throttled_per_address() {
    let server = TestServer::start_env(&[("PATDESK_SIGN_UPS_PER_MINUTE", "3")]);
    for i in 0..3 {
        Caller::new(&server).sign_up(&format!("user{i}")).await;
    }
    let refused = Caller::new(&server)
        .call(
            "sign_up",
            &[
                ("username", "user3"),
                ("password", PASSWORD),
                ("password_confirmation", PASSWORD),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key(header::RETRY_AFTER));
    // Another address signs up.
    let other = client_from(3)
        .post(server.url("/rpc/sign_up"))
        .header(header::ORIGIN, &server.base)
        .form(&[
            ("username", "user4"),
            ("password", PASSWORD),
            ("password_confirmation", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert!(
        other.status().is_success() || other.status().is_redirection(),
        "{}",
        other.status()
    );
}

#[tokio::test]
async fn introspection_bodies_over_64_kib_get_413() {
    let server = TestServer::start();
    alice_owns_ops(&server);
    let out = ok(cli(
        &server,
        &[
            "service", "create", "--team", "ops", "--name", "metrics", "--json",
        ],
        None,
    ));
    let service: Value = serde_json::from_slice(&out.stdout).unwrap();
    let (id, secret) = (
        service["id"].as_str().unwrap(),
        service["secret"].as_str().unwrap(),
    );
    let body = format!("token={}", "a".repeat(70 * 1024));
    let response = Client::new()
        .post(server.url("/oauth/introspect"))
        .basic_auth(id, Some(secret))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let refused: Value = response.json().await.unwrap();
    assert_eq!(refused["error"]["code"], "payload_too_large");
}

#[tokio::test]
async fn over_https_the_session_cookie_has_the_host_prefix_and_only_it_counts() {
    // The test's client is on loopback, a trusted proxy by default once trust is on.
    let server = TestServer::start_env(&[("PATDESK_TRUST_FORWARDED_FOR", "true")]);
    alice_owns_ops(&server);
    let http = client();
    let signed_in = http
        .post(server.url("/rpc/sign_in"))
        .header(header::ORIGIN, &server.base)
        .header("x-forwarded-proto", "https")
        .form(&[("username", "alice"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let set_cookie = signed_in
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.contains("patdesk_session="))
        .expect("a session cookie");
    assert!(
        set_cookie.starts_with("__Host-patdesk_session=")
            && set_cookie.contains("; Secure")
            && set_cookie.contains("Path=/")
            && !set_cookie.contains("Domain"),
        "{set_cookie}"
    );
    let value = set_cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1;
    let settings = |cookie: String| {
        http.post(server.url("/rpc/account_settings"))
            .header(header::ORIGIN, &server.base)
            .header("x-forwarded-proto", "https")
            .header(header::COOKIE, cookie)
            .send()
    };
    let ok_status = settings(format!("__Host-patdesk_session={value}"))
        .await
        .unwrap();
    assert_eq!(ok_status.status(), StatusCode::OK);
    assert_eq!(json(ok_status).await["username"], "alice");
    // The same value without the prefix (as a sibling subdomain could set it): no session.
    let plain = settings(format!("patdesk_session={value}")).await.unwrap();
    assert_eq!(plain.status(), StatusCode::UNAUTHORIZED);
}

#[test]
fn a_password_in_database_url_never_reaches_the_log() {
    let dir = tempfile::tempdir().unwrap();
    for url in [
        "postgres://patdesk:hunter2userpart@127.0.0.1:1/patdesk",
        "postgres://patdesk@127.0.0.1:1/patdesk?sslmode=disable&password=hunter2querypart",
    ] {
        let out = support::run(
            dir.path(),
            &["serve"],
            &[("DATABASE_URL", url), ("PATDESK_ADDR", "127.0.0.1:0")],
        );
        assert!(!out.status.success(), "nothing listens on port 1");
        let log = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            log.contains("127.0.0.1:1"),
            "the log names the database: {log}"
        );
        assert!(!log.contains("hunter2"), "{log}");
    }
}

/// NUL (and the other control characters) through every input that reaches a query — raw where
/// the transport carries it (`%00` in a path, a query, a form), escaped where a decoder makes it
/// (`\u0000` in JSON bodies and SCIM filters) — is a 4xx, never a 500: PostgreSQL refuses NUL in
/// `text` with an error (`make test-rust-postgres` runs this on PostgreSQL too). Headers cannot
/// carry it (hyper refuses control characters in them), nor can CLI arguments (C strings).
#[tokio::test]
async fn nul_through_every_surface_is_refused_with_a_4xx_never_a_500() {
    let server = TestServer::start();
    alice_owns_ops(&server);
    let (_, reader) = token(&server, "alice", "ops", "reader", false);
    let http = Client::new();
    let refused = |what: &str, status: StatusCode| {
        assert!(
            status.is_client_error(),
            "{what}: {status}, where a 4xx was due"
        );
    };

    // SCIM: the filter (escaped, and raw inside the quotes), bodies and PATCH values.
    let scim_secret = support::scim_credential(&server);
    let scim = |method: reqwest::Method, path: &str| {
        http.request(method, server.url(&format!("/scim/v2{path}")))
            .bearer_auth(&scim_secret)
            .header(header::CONTENT_TYPE, "application/scim+json")
    };
    for (resource, filter) in [
        ("/Users", r#"userName eq "a\u0000b""#),
        ("/Users", "userName eq \"a\u{0}b\""),
        ("/Users", r#"externalId eq "x\u0000""#),
        ("/Users", r#"emails.value eq "a\u0000@example.com""#),
        ("/Groups", r#"displayName eq "ops\u0000""#),
    ] {
        let response = scim(reqwest::Method::GET, resource)
            .query(&[("filter", filter)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{filter}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["scimType"], "invalidFilter", "{filter}: {error}");
    }
    let user = |name: &str, external: &str, email: &str, given: &str| {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": name,
            "externalId": external,
            "emails": [{"value": email, "primary": true}],
            "name": {"givenName": given},
            "active": true,
        })
    };
    for body in [
        user("bo\u{0}b", "00u1", "bob@example.com", "Bob"),
        user("bob", "00u\u{0}1", "bob@example.com", "Bob"),
        user("bob", "00u1", "bob\u{0}@example.com", "Bob"),
        user("bob", "00u1", "bob@example.com", "Bo\u{0}b"),
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "ops\u{0}"}),
    ] {
        let path = if body.get("displayName").is_some() {
            "/Groups"
        } else {
            "/Users"
        };
        let status = scim(reqwest::Method::POST, path)
            .body(body.to_string())
            .send()
            .await
            .unwrap()
            .status();
        refused(&format!("SCIM POST {body}"), status);
    }
    let created: Value = scim(reqwest::Method::POST, "/Users")
        .body(user("bob", "00u1", "bob@example.com", "Bob").to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    for operation in [
        json!({"op": "replace", "path": "userName", "value": "bo\u{0}b"}),
        json!({"op": "replace", "value": {"externalId": "\u{0}"}}),
        json!({"op": "add", "path": "emails", "value": [{"value": "b\u{0}@example.com"}]}),
    ] {
        let patch = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [operation],
        });
        let status = scim(reqwest::Method::PATCH, &format!("/Users/{id}"))
            .body(patch.to_string())
            .send()
            .await
            .unwrap()
            .status();
        refused(&format!("SCIM PATCH {patch}"), status);
    }
    let status = scim(reqwest::Method::GET, "/Users/1%00")
        .send()
        .await
        .unwrap()
        .status();
    refused("SCIM path", status);

    // The API: a name in the path (the body and the query are in the test above), a leak
    // report's body, and forward-auth's team.
    for path in [
        "/api/v1/teams/o%00ps/questions",
        "/api/v1/teams/ops/questions/1%00",
        "/auth/verify?team=o%00ps",
    ] {
        let status = http
            .get(server.url(path))
            .bearer_auth(&reader)
            .send()
            .await
            .unwrap()
            .status();
        refused(path, status);
    }
    let status = http
        .post(server.url("/api/v1/credentials/revoke"))
        .json(&json!({"credentials": ["pdk_\u{0}"], "source": "log\u{0}"}))
        .send()
        .await
        .unwrap()
        .status();
    refused("leak report", status);

    // Pages: names and filters in the path and the query reach server functions as they render.
    let mut alice = Caller::new(&server);
    alice.sign_in("alice", PASSWORD).await;
    for path in [
        "/teams/o%00ps",
        "/teams/ops/tokens?owner=al%00ice",
        "/tokens/tok_%00",
    ] {
        let status = alice.get(path).await.status();
        refused(path, status);
    }
    // A server function's form sent as another content type is still a form to it.
    let mut request = alice
        .client
        .post(server.url("/rpc/team_tokens"))
        .header(header::ORIGIN, server.base.as_str())
        .header(header::CONTENT_TYPE, "text/plain")
        .body("team=ops&in_team=&owner=al%00ice&access=&unused=false&expiring=false&pending=false&page=1");
    if let Some(cookie) = &alice.cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json(response).await["Field"]["field"], "owner");
}

/// A server function's error in the URL of a path that starts with two slashes: the redirect
/// that takes the error off stays on this site (it was `Location: //evil.example/x`, which a
/// browser reads as another site).
#[tokio::test]
async fn a_form_error_on_a_path_that_starts_with_two_slashes_is_taken_off_on_this_site() {
    let server = TestServer::start();
    let http = client();
    for asked in ["//evil.example/x?__err=a", "//evil.example/x?__err=a&tab=1"] {
        let answer = http.get(server.url(asked)).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{asked}");
        assert_eq!(answer.headers()[header::LOCATION], "/", "{asked}");
    }
}

/// Where a sign-in sends the browser: `next` only when it is a path on this site however it is
/// spelled (dot-segments, percent-encoding, backslashes), normalised; otherwise the home page.
#[tokio::test]
async fn sign_in_next_stays_on_this_site_however_it_is_spelled() {
    let server = TestServer::start();
    alice_owns_ops(&server);
    for (next, expected) in [
        ("/.//evil.example/x", "/"),
        ("/x/../..//evil.example", "/"),
        ("/%2e%2e//evil.example", "/"),
        ("/%2F%2Fevil.example", "/"),
        ("/%5Cevil.example", "/"),
        ("/\\evil.example", "/"),
        ("//evil.example", "/"),
        ("https:evil.example", "/"),
        ("/teams/../activity?page=2", "/activity?page=2"),
    ] {
        let mut alice = Caller::new(&server);
        let response = alice
            .call(
                "sign_in",
                &[
                    ("username", "alice"),
                    ("password", PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        let location = response
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_string());
        assert_eq!(location.as_deref(), Some(expected), "{next}");
    }
}

/// `patdesk serve` with single sign-on through `issuer` (the redirect URI needs the port first).
fn server_with_sso(issuer: &str) -> TestServer {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let public = format!("http://{addr}/");
    TestServer::start_env(&[
        ("PATDESK_ADDR", addr.as_str()),
        ("PATDESK_PUBLIC_URL", public.as_str()),
        ("PATDESK_OIDC_ISSUER", issuer),
        ("PATDESK_OIDC_CLIENT_ID", "patdesk-tests"),
        (
            "PATDESK_OIDC_CLIENT_SECRET",
            "client-secret-of-the-redirect-tests",
        ),
    ])
}

/// Start (with `next`) → the provider, which sends the browser straight back → the callback,
/// with the started sign-in's cookie changed by `plant` first: the callback's `Location`.
async fn sso_lands_on(server: &TestServer, next: &str, plant: impl Fn(&mut Value)) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let http = client();
    let start = http
        .get(server.url(&format!("/auth/oidc/start?next={next}")))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    let started = start
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .find_map(|v| {
            v.to_str()
                .unwrap()
                .split(';')
                .next()?
                .strip_prefix("patdesk_sso=")
        })
        .expect("the started sign-in's cookie")
        .to_string();
    let mut content: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&started).unwrap()).unwrap();
    plant(&mut content);
    let planted = URL_SAFE_NO_PAD.encode(content.to_string());
    let back = http
        .get(start.headers()[header::LOCATION].to_str().unwrap())
        .send()
        .await
        .unwrap();
    let callback = back.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    let done = http
        .get(&callback)
        .header(header::COOKIE, format!("patdesk_sso={planted}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        done.status(),
        StatusCode::SEE_OTHER,
        "the sign-in went through"
    );
    done.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string()
}

// A multi-threaded runtime: the forged provider answers while the test waits for the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_sign_on_ends_on_this_site_whatever_next_says() {
    let idp = support::forged_idp::ForgedIdp::start("patdesk-tests").await;
    let server = server_with_sso(&idp.issuer);
    // The reported URL: `/.//host/…` passed the old check, and the browser left after SSO.
    assert_eq!(
        sso_lands_on(&server, "/.//evil.example/x", |_| {}).await,
        "/"
    );
    assert_eq!(
        sso_lands_on(&server, "/teams/./ops", |_| {}).await,
        "/teams/ops"
    );
    // The started sign-in's cookie is the browser's: a `next` written into it is checked again.
    let planted = sso_lands_on(&server, "/", |started| {
        started["next"] = json!("//evil.example/x");
    })
    .await;
    assert_eq!(planted, "/");
}

/// The request log has every path, but no query value: an authorization code and `state`
/// (docs/sso.md), like anything else a query carries, are written as `[redacted]`.
#[tokio::test]
async fn query_values_such_as_an_authorization_code_never_reach_the_log() {
    let server = TestServer::start();
    client()
        .get(server.url("/auth/oidc/callback?code=SECRETCODE4711&state=STATE4711S2"))
        .send()
        .await
        .unwrap();
    let log = support::eventually("the callback in the request log", || {
        let log = server.log();
        async move { log.contains("/auth/oidc/callback").then_some(log) }
    })
    .await;
    assert!(log.contains("code=[redacted]&state=[redacted]"), "{log}");
    assert!(!log.contains("SECRETCODE4711"), "{log}");
    assert!(!log.contains("STATE4711S2"), "{log}");
}

/// A sign-in's session cookie (`Set-Cookie`), sent from `http` with these `X-Forwarded-Proto`
/// header lines.
async fn session_cookie_through(http: &Client, server: &TestServer, proto: &[&str]) -> String {
    let mut request = http
        .post(server.url("/rpc/sign_in"))
        .header(header::ORIGIN, &server.base)
        .form(&[("username", "alice"), ("password", PASSWORD)]);
    for value in proto {
        request = request.header("x-forwarded-proto", *value);
    }
    let response = request.send().await.unwrap();
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|v| v.contains("patdesk_session="))
        .expect("a session cookie")
}

/// `X-Forwarded-Proto` is believed only from a trusted proxy (the rule `X-Forwarded-For` has),
/// and only its last value, the one the connecting proxy wrote: any other client could
/// otherwise choose which of the two session cookies counts.
#[tokio::test]
async fn x_forwarded_proto_counts_only_from_a_trusted_proxy_and_only_its_last_value() {
    let server = TestServer::start_env(&[
        ("PATDESK_TRUST_FORWARDED_FOR", "true"),
        ("PATDESK_TRUSTED_PROXIES", "127.0.0.2"),
    ]);
    alice_owns_ops(&server);
    let proxy = client_from(2);
    let direct = client_from(3);
    let plain = |cookie: &str| cookie.starts_with("patdesk_session=") && !cookie.contains("Secure");
    let host =
        |cookie: &str| cookie.starts_with("__Host-patdesk_session=") && cookie.contains("; Secure");

    // A client that is not the proxy says `https`: plain HTTP still, both ways.
    let claimed = session_cookie_through(&direct, &server, &["https"]).await;
    assert!(plain(&claimed), "{claimed}");
    let value = claimed
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_string();
    let settings = |cookie: String| {
        direct
            .post(server.url("/rpc/account_settings"))
            .header(header::ORIGIN, &server.base)
            .header("x-forwarded-proto", "https")
            .header(header::COOKIE, cookie)
            .send()
    };
    let prefixed = settings(format!("__Host-patdesk_session={value}"))
        .await
        .unwrap();
    assert_eq!(prefixed.status(), StatusCode::UNAUTHORIZED);
    let unprefixed = settings(format!("patdesk_session={value}")).await.unwrap();
    assert_eq!(unprefixed.status(), StatusCode::OK);

    // The trusted proxy: its own hop is the last value, in one header line or in two.
    for proto in [&["https"][..], &["http, https"], &["http", "https"]] {
        let cookie = session_cookie_through(&proxy, &server, proto).await;
        assert!(host(&cookie), "{proto:?}: {cookie}");
    }
    // A client's `https` before the proxy's `http`: plain HTTP.
    for proto in [&["https, http"][..], &["https", "http"]] {
        let cookie = session_cookie_through(&proxy, &server, proto).await;
        assert!(plain(&cookie), "{proto:?}: {cookie}");
    }
}
