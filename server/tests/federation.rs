//! Service accounts and federation (docs/service-accounts.md), through the real binary: a CI job's
//! identity token — signed by `scripts/ci-issuer.py` with PyJWT, GitHub Actions- and
//! GitLab-shaped — exchanged at `POST /oauth/token` for a short-lived token; every way such a
//! token can fail to qualify; the policies' own rules; an issuer that is down; revocation with
//! `POST /oauth/revoke`; service accounts' tokens and their deletion; and (PostgreSQL) two
//! processes that never honour one identity token twice.

mod support;

use reqwest::StatusCode;
use serde_json::{Value, json};
use support::{
    PASSWORD, TestServer, alice_owns_ops,
    ci_issuer::{Issuer, Lie, github_claims, gitlab_claims},
    cli, client, count, me_status, ok,
    postgres::TempDatabase,
    within_a_second,
};

/// The audience every policy here gets by default: the server's public URL.
const AUDIENCE: &str = "https://patdesk.test";

fn federation_env() -> [(&'static str, &'static str); 3] {
    [
        ("PATDESK_FEDERATION_ALLOW_HTTP_LOOPBACK", "true"),
        ("PATDESK_FEDERATION_KEY_REFETCH_SECONDS", "0"),
        ("PATDESK_PUBLIC_URL", AUDIENCE),
    ]
}

/// A server with [`federation_env`] (and `extra`), which its CLI reads too (from `.env`).
fn federation_server(extra: &[(&str, &str)]) -> TestServer {
    let mut env = federation_env().to_vec();
    env.extend_from_slice(extra);
    let server = TestServer::start_env(&env);
    write_dotenv(&server);
    server
}

/// [`federation_env`] in the server's `.env`, for its CLI.
fn write_dotenv(server: &TestServer) {
    let dotenv: String = federation_env()
        .iter()
        .map(|(k, v)| format!("{k}={v}\n"))
        .collect();
    std::fs::write(server.dir.path().join(".env"), dotenv).unwrap();
}

/// A server whose team ops (alice its admin) has service `deploy` (scope `run`) and service
/// account `ci-deploy` (a writer).
fn server_with_account() -> TestServer {
    let server = federation_server(&[]);
    set_up_ops(&server);
    server
}

/// Team ops (alice its admin), its service `deploy` and its service account `ci-deploy`.
fn set_up_ops(server: &TestServer) {
    alice_owns_ops(server);
    ok(cli(
        server,
        &[
            "service", "create", "--team", "ops", "--name", "Deploy", "--slug", "deploy",
            "--scope", "run",
        ],
        None,
    ));
    let out = ok(cli(
        server,
        &[
            "service-account",
            "create",
            "--team",
            "ops",
            "--name",
            "ci-deploy",
            "--role",
            "writer",
            "--description",
            "Deploys from CI",
            "--json",
        ],
        None,
    ));
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(created["name"], "ci-deploy");
    assert_eq!(created["role"], "writer");
}

/// `federation add` for ci-deploy with `extra` arguments: the output, succeeded or not.
fn add_policy(server: &TestServer, issuer: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "federation",
        "add",
        "--team",
        "ops",
        "--service-account",
        "ci-deploy",
        "--issuer",
        issuer,
        "--json",
    ];
    args.extend_from_slice(extra);
    cli(server, &args, None)
}

/// The usual policy: acme/app's main branch may write questions and run deploys, 10 minutes.
fn github_policy(server: &TestServer, issuer: &Issuer) -> Value {
    let out = ok(add_policy(
        server,
        &issuer.url(),
        &[
            "--condition",
            "repository=acme/app",
            "--condition",
            "ref=refs/heads/main",
            "--permission",
            "questions:write",
            "--permission",
            "deploy:run",
            "--lifetime-minutes",
            "10",
        ],
    ));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `POST /oauth/token` with `subject_token` (and `scope`): the status and the JSON answer.
async fn exchange(server: &TestServer, jwt: &str, scope: Option<&str>) -> (StatusCode, Value) {
    let mut form = vec![
        (
            "grant_type",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ),
        ("subject_token", jwt),
        ("subject_token_type", "urn:ietf:params:oauth:token-type:jwt"),
    ];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    exchange_form(server, &form).await
}

async fn exchange_form(server: &TestServer, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = client()
        .post(server.url("/oauth/token"))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status();
    assert_eq!(response.headers()["cache-control"], "no-store");
    (status, response.json().await.unwrap())
}

/// Asserts a 400 with `error` whose description contains `says`.
fn refused(answer: &(StatusCode, Value), error: &str, says: &str) {
    let (status, body) = answer;
    assert_eq!(*status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], error, "{body}");
    let description = body["error_description"].as_str().unwrap();
    assert!(
        description.contains(says),
        "{description:?} should say {says:?}"
    );
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[tokio::test]
async fn a_github_job_exchanges_its_identity_token_for_a_short_lived_token() {
    let issuer = Issuer::start();
    let server = server_with_account();
    let policy = github_policy(&server, &issuer);
    assert_eq!(policy["audience"], AUDIENCE, "the public URL by default");
    assert_eq!(
        policy["permissions"],
        json!(["deploy:run", "questions:write"])
    );

    let jwt = issuer
        .sign(
            github_claims(AUDIENCE, "acme/app", "refs/heads/main"),
            "rsa",
        )
        .await;
    let (status, minted) = exchange(&server, &jwt, None).await;
    assert_eq!(status, StatusCode::OK, "{minted}");
    assert_eq!(minted["token_type"], "Bearer");
    assert_eq!(
        minted["issued_token_type"],
        "urn:ietf:params:oauth:token-type:access_token"
    );
    assert_eq!(minted["expires_in"], 600);
    assert_eq!(minted["scope"], "deploy:run questions:write");
    let value = minted["access_token"].as_str().unwrap().to_string();
    assert!(value.starts_with("pdk_"), "{value}");

    // An ordinary token of the service account, fine-grained, expiring in ten minutes.
    let (status, me) = me_status(&client(), &server, &value).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(
        me["user"]["username"],
        "service account ci-deploy (team ops)"
    );
    assert_eq!(
        me["token"]["permissions"],
        json!(["deploy:run", "questions:write"])
    );
    let expires = chrono::DateTime::parse_from_rfc3339(me["token"]["expires_at"].as_str().unwrap())
        .unwrap()
        .timestamp();
    assert!((expires - now() - 600).abs() <= 5, "expires at {expires}");

    // It writes as its permissions allow, and the activity log says where it came from.
    let created = client()
        .post(server.url("/api/v1/teams/ops/questions"))
        .bearer_auth(&value)
        .json(&json!({"title": "Deployed", "body": "From CI."}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let answers = client()
        .post(server.url("/api/v1/teams/ops/questions/1/answers"))
        .bearer_auth(&value)
        .json(&json!({"body": "No answers:write."}))
        .send()
        .await
        .unwrap();
    assert_eq!(answers.status(), StatusCode::FORBIDDEN);
    let db = server.connect_database().await;
    let written = count(
        &db,
        "SELECT COUNT(*) AS n FROM activity WHERE kind = 'api_write' AND target LIKE $1",
        ["%token exchanged for repo:acme/app:ref:refs/heads/main at 127.0.0.1, run 4242%".into()],
    )
    .await;
    assert_eq!(written, 1);
    let provenance = support::text(
        &db,
        "SELECT provenance AS v FROM tokens WHERE kind = 'federated'",
        [],
    )
    .await
    .unwrap();
    let provenance: Value = serde_json::from_str(&provenance).unwrap();
    assert_eq!(provenance["repository"], "acme/app");
    assert_eq!(provenance["run_id"], "4242");
    assert_eq!(provenance["iss"], issuer.url());

    // Asking for less; asking for more is refused.
    let jwt = issuer
        .sign(
            github_claims(AUDIENCE, "acme/app", "refs/heads/main"),
            "rsa",
        )
        .await;
    let (status, narrow) = exchange(&server, &jwt, Some("questions:read")).await;
    assert_eq!(status, StatusCode::OK, "{narrow}");
    assert_eq!(narrow["scope"], "questions:read");
    let narrow_value = narrow["access_token"].as_str().unwrap();
    let write = client()
        .post(server.url("/api/v1/teams/ops/questions"))
        .bearer_auth(narrow_value)
        .json(&json!({"title": "No", "body": "Read only."}))
        .send()
        .await
        .unwrap();
    assert_eq!(write.status(), StatusCode::FORBIDDEN);
    let jwt = issuer
        .sign(
            github_claims(AUDIENCE, "acme/app", "refs/heads/main"),
            "rsa",
        )
        .await;
    refused(
        &exchange(&server, &jwt, Some("answers:write")).await,
        "invalid_scope",
        "answers:write",
    );

    // The job revokes its token when done: it stops at once. Any other value: 200 all the same.
    for revoked in [value.as_str(), "pdk_notatoken", "whatever"] {
        let response = client()
            .post(server.url("/oauth/revoke"))
            .form(&[("token", revoked)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert_eq!(
        me_status(&client(), &server, &value).await.0,
        StatusCode::UNAUTHORIZED
    );
    let missing = client()
        .post(server.url("/oauth/revoke"))
        .form(&[("token_type_hint", "access_token")])
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    // Revocation works for personal tokens too.
    let (_, personal) = support::token(&server, "alice", "ops", "laptop", false);
    client()
        .post(server.url("/oauth/revoke"))
        .form(&[("token", personal.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(
        me_status(&client(), &server, &personal).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_gitlab_job_with_an_ec_key_matches_its_own_policy() {
    let issuer = Issuer::start();
    let server = server_with_account();
    github_policy(&server, &issuer);
    ok(add_policy(
        &server,
        &issuer.url(),
        &[
            "--audience",
            "patdesk-ci",
            "--condition",
            "project_path=group/*",
            "--condition",
            "environment=production",
            "--permission",
            "questions:read",
        ],
    ));
    let jwt = issuer
        .sign(gitlab_claims("patdesk-ci", "group/project", "main"), "ec")
        .await;
    let (status, minted) = exchange(&server, &jwt, None).await;
    assert_eq!(status, StatusCode::OK, "{minted}");
    assert_eq!(minted["scope"], "questions:read");
    assert_eq!(minted["expires_in"], 15 * 60, "the default lifetime");
    // Another environment matches no policy.
    let mut staging = gitlab_claims("patdesk-ci", "group/project", "main");
    staging["environment"] = json!("staging");
    let jwt = issuer.sign(staging, "ec").await;
    refused(
        &exchange(&server, &jwt, None).await,
        "invalid_grant",
        "No trust policy matches",
    );
}

#[tokio::test]
async fn identity_tokens_that_do_not_qualify_are_refused_saying_which_check_failed() {
    let issuer = Issuer::start();
    let server = server_with_account();
    github_policy(&server, &issuer);
    let good = || github_claims(AUDIENCE, "acme/app", "refs/heads/main");
    let with = |changes: Value| {
        let mut claims = good();
        for (k, v) in changes.as_object().unwrap() {
            claims[k] = v.clone();
        }
        claims
    };

    let tampered = issuer.sign_with(good(), "rsa", Some(Lie::Tampered)).await;
    refused(
        &exchange(&server, &tampered, None).await,
        "invalid_grant",
        "signature",
    );
    let none = issuer.sign_with(good(), "rsa", Some(Lie::AlgNone)).await;
    refused(
        &exchange(&server, &none, None).await,
        "invalid_grant",
        "alg none",
    );
    let hmac = issuer
        .sign_with(good(), "rsa", Some(Lie::HmacWithPublicKey))
        .await;
    refused(
        &exchange(&server, &hmac, None).await,
        "invalid_grant",
        "HS256",
    );

    let wrong_audience = issuer
        .sign(with(json!({"aud": "https://elsewhere.test"})), "rsa")
        .await;
    refused(
        &exchange(&server, &wrong_audience, None).await,
        "invalid_grant",
        "audience",
    );
    let t = now();
    let expired = issuer
        .sign(
            with(json!({"iat": t - 900, "nbf": t - 900, "exp": t - 120})),
            "rsa",
        )
        .await;
    refused(
        &exchange(&server, &expired, None).await,
        "invalid_grant",
        "expired",
    );
    let early = issuer
        .sign(with(json!({"nbf": t + 600, "exp": t + 900})), "rsa")
        .await;
    refused(
        &exchange(&server, &early, None).await,
        "invalid_grant",
        "not valid yet",
    );
    let old = issuer
        .sign(
            with(json!({"iat": t - 7200, "nbf": t - 7200, "exp": t + 300})),
            "rsa",
        )
        .await;
    refused(
        &exchange(&server, &old, None).await,
        "invalid_grant",
        "more than an hour",
    );
    let no_jti = issuer.sign(with(json!({"jti": null})), "rsa").await;
    refused(
        &exchange(&server, &no_jti, None).await,
        "invalid_grant",
        "jti",
    );
    let stranger = issuer
        .sign(with(json!({"iss": "http://127.0.0.1:9"})), "rsa")
        .await;
    refused(
        &exchange(&server, &stranger, None).await,
        "invalid_grant",
        "not accepted",
    );

    // Each condition must match.
    let other_repository = issuer
        .sign(
            github_claims(AUDIENCE, "acme/other", "refs/heads/main"),
            "rsa",
        )
        .await;
    refused(
        &exchange(&server, &other_repository, None).await,
        "invalid_grant",
        "No trust policy matches",
    );
    let other_ref = issuer
        .sign(
            github_claims(AUDIENCE, "acme/app", "refs/heads/feature"),
            "rsa",
        )
        .await;
    refused(
        &exchange(&server, &other_ref, None).await,
        "invalid_grant",
        "No trust policy matches",
    );

    // Used once: the same token a second time is refused.
    let jwt = issuer.sign(good(), "rsa").await;
    assert_eq!(exchange(&server, &jwt, None).await.0, StatusCode::OK);
    refused(
        &exchange(&server, &jwt, None).await,
        "invalid_grant",
        "already exchanged",
    );

    // A key the issuer does not publish yet; after the rotation it does, and the same kind of
    // token passes (the key set is fetched again for the unknown key).
    let unpublished = issuer.sign(good(), "next").await;
    refused(
        &exchange(&server, &unpublished, None).await,
        "invalid_grant",
        "does not publish",
    );
    issuer.publish_next_key().await;
    let rotated = issuer.sign(good(), "next").await;
    let (status, body) = exchange(&server, &rotated, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Malformed requests.
    let jwt = issuer.sign(good(), "rsa").await;
    let (status, body) = exchange_form(
        &server,
        &[
            ("grant_type", "client_credentials"),
            ("subject_token", &jwt),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unsupported_grant_type"))
    );
    let missing = exchange_form(
        &server,
        &[
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:token-exchange",
            ),
            ("subject_token", &jwt),
        ],
    )
    .await;
    refused(&missing, "invalid_request", "subject_token_type is missing");
    let saml = exchange_form(
        &server,
        &[
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:token-exchange",
            ),
            ("subject_token", &jwt),
            (
                "subject_token_type",
                "urn:ietf:params:oauth:token-type:saml2",
            ),
        ],
    )
    .await;
    refused(&saml, "invalid_request", "subject_token_type must be");
    let garbage = exchange(&server, "not-a-jwt", None).await;
    refused(&garbage, "invalid_grant", "not a signed JWT");
    // Nothing above was minted but the two good ones.
    let db = server.connect_database().await;
    let minted = count(
        &db,
        "SELECT COUNT(*) AS n FROM tokens WHERE kind = 'federated'",
        [],
    )
    .await;
    assert_eq!(minted, 2);
}

#[tokio::test]
async fn refused_exchanges_count_against_the_address() {
    let issuer = Issuer::start();
    let server = federation_server(&[("PATDESK_AUTH_FAILURES_PER_MINUTE", "3")]);
    alice_owns_ops(&server);
    for _ in 0..3 {
        let answer = exchange(&server, "not-a-jwt", None).await;
        assert_eq!(answer.0, StatusCode::BAD_REQUEST, "{}", answer.1);
    }
    let jwt = issuer
        .sign(
            github_claims(AUDIENCE, "acme/app", "refs/heads/main"),
            "rsa",
        )
        .await;
    let (status, body) = exchange(&server, &jwt, None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
}

#[tokio::test]
async fn a_policy_names_what_may_use_it_and_grants_only_what_the_account_may_do() {
    let issuer = Issuer::start();
    let server = server_with_account();
    let url = issuer.url();
    let fails = |extra: &[&str], says: &str| {
        let out = add_policy(&server, &url, extra);
        assert!(!out.status.success(), "{extra:?} was accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{stderr} should say {says:?}");
    };
    // Nothing identifying: any repository at the issuer could use the account.
    fails(
        &[
            "--condition",
            "ref=refs/heads/main",
            "--permission",
            "questions:read",
        ],
        "Name what may exchange tokens",
    );
    fails(
        &[
            "--condition",
            "repository=*",
            "--permission",
            "questions:read",
        ],
        "Name what may exchange tokens",
    );
    fails(
        &[
            "--condition",
            "sub=repo:*",
            "--permission",
            "questions:read",
        ],
        "Name what may exchange tokens",
    );
    fails(
        &[
            "--condition",
            "repository",
            "--permission",
            "questions:read",
        ],
        "claim=value",
    );
    fails(
        &[
            "--condition",
            "repository=acme/app",
            "--permission",
            "questions:read",
            "--lifetime-minutes",
            "90",
        ],
        "5 to 60 minutes",
    );
    fails(
        &[
            "--condition",
            "repository=acme/app",
            "--permission",
            "deploy:nuke",
        ],
        "deploy:nuke",
    );
    let out = cli(
        &server,
        &[
            "federation",
            "add",
            "--team",
            "ops",
            "--service-account",
            "ci-deploy",
            "--issuer",
            "http://example.com",
            "--condition",
            "repository=acme/app",
            "--permission",
            "questions:read",
        ],
        None,
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("https://"),
        "plain http off loopback"
    );
    // A reader account cannot be granted a write.
    ok(cli(
        &server,
        &[
            "service-account",
            "create",
            "--team",
            "ops",
            "--name",
            "metrics",
        ],
        None,
    ));
    let out = cli(
        &server,
        &[
            "federation",
            "add",
            "--team",
            "ops",
            "--service-account",
            "metrics",
            "--issuer",
            &url,
            "--condition",
            "repository=acme/app",
            "--permission",
            "questions:write",
        ],
        None,
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("is a reader"));
    // Listed and removed.
    let policy = github_policy(&server, &issuer);
    let out = ok(cli(
        &server,
        &["federation", "list", "--team", "ops", "--json"],
        None,
    ));
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(
        listed[0]["conditions"],
        json!({"ref": "refs/heads/main", "repository": "acme/app"})
    );
    let id = policy["id"].to_string();
    ok(cli(
        &server,
        &["federation", "remove", "--team", "ops", &id],
        None,
    ));
    let jwt = issuer
        .sign(
            github_claims(AUDIENCE, "acme/app", "refs/heads/main"),
            "rsa",
        )
        .await;
    refused(
        &exchange(&server, &jwt, None).await,
        "invalid_grant",
        "not accepted",
    );
}

#[tokio::test]
async fn an_issuer_that_cannot_be_reached_or_is_not_public_is_a_clear_503() {
    let mut issuer = Issuer::start();
    let server = server_with_account();
    github_policy(&server, &issuer);
    let jwt = issuer
        .sign(
            github_claims(AUDIENCE, "acme/app", "refs/heads/main"),
            "rsa",
        )
        .await;
    issuer.stop();
    let (status, body) = exchange(&server, &jwt, None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"], "temporarily_unavailable");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("Could not read the keys"),
        "{body}"
    );
    // Issuers on private and link-local addresses are never fetched from (the address rule is
    // checked before any connection: this test opens none outside loopback).
    let issuer_for_signing = Issuer::start();
    for (inside, why) in [
        ("https://10.1.2.3", "a private address"),
        ("https://169.254.169.254", "a link-local address"),
    ] {
        ok(add_policy(
            &server,
            inside,
            &[
                "--condition",
                "repository=acme/app",
                "--permission",
                "questions:read",
            ],
        ));
        let mut claims = github_claims(AUDIENCE, "acme/app", "refs/heads/main");
        claims["iss"] = json!(inside);
        let jwt = issuer_for_signing.sign(claims, "rsa").await;
        let (status, body) = exchange(&server, &jwt, None).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert!(
            body["error_description"].as_str().unwrap().contains(why),
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_service_account_owns_tokens_no_person_can_sign_in_as() {
    let server = server_with_account();
    // Write approval is required, but the admin who makes the token approves it.
    let db = server.connect_database().await;
    support::execute(
        &db,
        "UPDATE teams SET require_write_approval = $1",
        [true.into()],
    )
    .await;
    let out = ok(cli(
        &server,
        &[
            "token",
            "create",
            "--service-account",
            "ci-deploy",
            "--team",
            "ops",
            "--description",
            "nightly",
            "--write",
            "--json",
        ],
        None,
    ));
    let created: Value = serde_json::from_slice(&out.stdout).unwrap();
    let value = created["token"].as_str().unwrap().to_string();
    let (status, me) = me_status(&client(), &server, &value).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert!(me["token"]["write"].as_bool().unwrap());

    let out = ok(cli(
        &server,
        &["service-account", "list", "--team", "ops", "--json"],
        None,
    ));
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed[0]["live_tokens"], 1);

    // The team stops long-lived tokens for service accounts: none can be made; the one made
    // before keeps working.
    ok(cli(
        &server,
        &["team", "set", "ops", "--no-service-account-tokens"],
        None,
    ));
    let refused = cli(
        &server,
        &[
            "token",
            "create",
            "--service-account",
            "ci-deploy",
            "--team",
            "ops",
            "--description",
            "another",
        ],
        None,
    );
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("only short-lived tokens"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert_eq!(
        me_status(&client(), &server, &value).await.0,
        StatusCode::OK
    );
    ok(cli(
        &server,
        &["team", "set", "ops", "--service-account-tokens"],
        None,
    ));

    // Its name is no username anyone can sign in with, and it has no password.
    let mut caller = support::Caller::new(&server);
    caller
        .sign_in("service account ci-deploy (team ops)", PASSWORD)
        .await;
    assert!(caller.cookie.is_none());
    // The name is taken in its team, a role above writer is refused.
    let again = cli(
        &server,
        &[
            "service-account",
            "create",
            "--team",
            "ops",
            "--name",
            "ci-deploy",
        ],
        None,
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("already has a service account"));
    let admin = cli(
        &server,
        &[
            "service-account",
            "create",
            "--team",
            "ops",
            "--name",
            "boss",
            "--role",
            "admin",
        ],
        None,
    );
    assert!(String::from_utf8_lossy(&admin.stderr).contains("reader or a writer"));

    // Deleted: its tokens stop at once; the name is free again.
    ok(cli(
        &server,
        &["service-account", "delete", "--team", "ops", "ci-deploy"],
        None,
    ));
    // (The CLI is another process: the server's cached check of the token lasts half a second.)
    within_a_second("the deleted account's token to stop", || async {
        me_status(&client(), &server, &value).await.0 == StatusCode::UNAUTHORIZED
    })
    .await;
    ok(cli(
        &server,
        &[
            "service-account",
            "create",
            "--team",
            "ops",
            "--name",
            "ci-deploy",
        ],
        None,
    ));
}

#[tokio::test]
#[ignore = "needs PostgreSQL: `make test-rust-postgres` runs it"]
async fn two_processes_never_honour_one_identity_token_twice() {
    let issuer = Issuer::start();
    let database = TempDatabase::create();
    let env = federation_env();
    let a = TestServer::start_with(tempfile::tempdir().unwrap(), &database.url, &env);
    let b = TestServer::start_with(tempfile::tempdir().unwrap(), &database.url, &env);
    write_dotenv(&a);
    set_up_ops(&a);
    github_policy(&a, &issuer);
    for _ in 0..5 {
        let jwt = issuer
            .sign(
                github_claims(AUDIENCE, "acme/app", "refs/heads/main"),
                "rsa",
            )
            .await;
        let (on_a, on_b) = tokio::join!(exchange(&a, &jwt, None), exchange(&b, &jwt, None));
        let granted = [&on_a, &on_b]
            .iter()
            .filter(|(s, _)| *s == StatusCode::OK)
            .count();
        assert_eq!(granted, 1, "{on_a:?} {on_b:?}");
        let loser = if on_a.0 == StatusCode::OK { on_b } else { on_a };
        refused(&loser, "invalid_grant", "already exchanged");
    }
}

#[tokio::test]
async fn expired_federated_tokens_and_used_jtis_are_purged() {
    let issuer = Issuer::start();
    let server = federation_server(&[("PATDESK_SESSION_SWEEP_SECONDS", "1")]);
    set_up_ops(&server);
    github_policy(&server, &issuer);
    let jwt = issuer
        .sign(
            github_claims(AUDIENCE, "acme/app", "refs/heads/main"),
            "rsa",
        )
        .await;
    let (status, minted) = exchange(&server, &jwt, None).await;
    assert_eq!(status, StatusCode::OK, "{minted}");
    let value = minted["access_token"].as_str().unwrap().to_string();
    let (_, me) = me_status(&client(), &server, &value).await;
    let id = me["token"]["id"].as_str().unwrap().to_string();
    // Time passes: the token expired two days ago, the identity token's exp is behind us.
    let db = server.connect_database().await;
    let long_ago = chrono::Utc::now() - chrono::Duration::days(2);
    support::set_token_expiry(&db, &id, Some(long_ago)).await;
    support::execute(
        &db,
        "UPDATE federation_jtis SET expires_at = $1",
        [long_ago.into()],
    )
    .await;
    // A personal token that expired as long ago stays (its owner's Inactive list shows it).
    let (personal, _) = support::token(&server, "alice", "ops", "old laptop", false);
    support::set_token_expiry(&db, &personal, Some(long_ago)).await;
    support::eventually(
        "the expired federated token and its jti to be purged",
        || async {
            let tokens = count(
                &db,
                "SELECT COUNT(*) AS n FROM tokens WHERE kind = 'federated'",
                [],
            )
            .await;
            let jtis = count(&db, "SELECT COUNT(*) AS n FROM federation_jtis", []).await;
            (tokens == 0 && jtis == 0).then_some(())
        },
    )
    .await;
    let kept = count(
        &db,
        "SELECT COUNT(*) AS n FROM tokens WHERE id = $1",
        [personal.as_str().into()],
    )
    .await;
    assert_eq!(kept, 1);
}

/// Readers and writers of the team get 403, admins of another team 404 (as for every team they
/// are not in), for every server function of the Service accounts tab; nothing changes.
#[tokio::test]
async fn only_the_teams_admins_manage_its_service_accounts() {
    let issuer = Issuer::start();
    let server = server_with_account();
    let policy = github_policy(&server, &issuer);
    let policy_id = policy["id"].to_string();
    let password = format!("{PASSWORD}\n");
    ok(cli(&server, &["user", "add", "bob"], Some(&password)));
    ok(cli(
        &server,
        &["team", "member", "add", "ops", "bob", "--role", "writer"],
        None,
    ));
    ok(cli(&server, &["user", "add", "carol"], Some(&password)));
    ok(cli(
        &server,
        &["team", "add", "labs", "--owner", "carol"],
        None,
    ));
    let url = issuer.url();
    let calls: [(&str, Vec<(&str, &str)>); 6] = [
        ("team_service_accounts", vec![("team", "ops")]),
        (
            "create_service_account",
            vec![
                ("team", "ops"),
                ("name", "sneaky"),
                ("description", ""),
                ("role", "writer"),
            ],
        ),
        (
            "add_trust_policy",
            vec![
                ("team", "ops"),
                ("account", "ci-deploy"),
                ("issuer", &url),
                ("audience", ""),
                ("conditions", "repository=evil/app"),
                ("permissions", "questions:write"),
                ("lifetime_minutes", "15"),
            ],
        ),
        (
            "create_service_account_token",
            vec![
                ("team", "ops"),
                ("account", "ci-deploy"),
                ("description", "mine now"),
                ("permissions", ""),
                ("expiration", "30"),
            ],
        ),
        (
            "delete_service_account",
            vec![("team", "ops"), ("account", "ci-deploy")],
        ),
        (
            "remove_trust_policy",
            vec![("team", "ops"), ("id", &policy_id)],
        ),
    ];
    for (who, expected) in [
        ("bob", StatusCode::FORBIDDEN),
        ("carol", StatusCode::NOT_FOUND),
    ] {
        let mut caller = support::Caller::new(&server);
        caller.sign_in(who, PASSWORD).await;
        assert!(caller.cookie.is_some(), "{who} signed in");
        for (function, form) in &calls {
            let response = caller.call(function, form).await;
            assert_eq!(response.status(), expected, "{who}: {function}");
        }
    }
    let db = server.connect_database().await;
    let accounts = count(&db, "SELECT COUNT(*) AS n FROM service_accounts", []).await;
    let policies = count(&db, "SELECT COUNT(*) AS n FROM federation_policies", []).await;
    let tokens = count(&db, "SELECT COUNT(*) AS n FROM tokens", []).await;
    assert_eq!((accounts, policies, tokens), (1, 1, 0));
}
