//! SCIM provisioning (docs/scim.md) against the real binary: a directory's credential, finding
//! and provisioning accounts, and deprovisioning — a token that works, `active: false`, the same
//! token refused at once, the person's sessions ended, the entry by "SCIM" and the notice — and
//! every bad request answered in the SCIM error schema; groups as teams' membership lists. The compliance checker (scim2-tester)
//! runs against the live server in `make test` (scripts/scim-test.sh); the second PostgreSQL
//! process is in `scale_out.rs`.

mod support;

use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use support::{
    Caller, PASSWORD, TestServer, alice_owns_ops, cli, count, me_status, ok,
    scim_credential as credential, text, token,
};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

struct Answer {
    status: StatusCode,
    content_type: String,
    body: Value,
}

async fn scim(
    server: &TestServer,
    method: Method,
    path: &str,
    secret: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let mut request = Client::new().request(method, server.url(&format!("/scim/v2{path}")));
    if let Some(secret) = secret {
        request = request.bearer_auth(secret);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/scim+json")
            .body(body.to_string());
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = response.json().await.unwrap_or(Value::Null);
    Answer {
        status,
        content_type,
        body,
    }
}

/// The SCIM id of the account named `user_name`, found as directories find it.
async fn id_of(server: &TestServer, secret: &str, user_name: &str) -> String {
    let found = scim(
        server,
        Method::GET,
        &format!("/Users?filter=userName%20eq%20%22{user_name}%22"),
        Some(secret),
        None,
    )
    .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.body);
    assert_eq!(found.body["totalResults"], 1, "{}", found.body);
    found.body["Resources"][0]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn set_active(active: Value) -> Value {
    json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "active", "value": active}]})
}

/// An instance admin made first, so that alice (made next) is a person the directory may
/// deprovision: instance admins are out of its reach unless an admin allows it.
fn admin_first(server: &TestServer) {
    ok(cli(
        server,
        &["user", "add", "root", "--admin"],
        Some(&format!("{PASSWORD}\n")),
    ));
}

#[tokio::test]
async fn deactivating_a_person_stops_their_tokens_and_sessions_at_once() {
    let server = TestServer::start();
    admin_first(&server);
    alice_owns_ops(&server);
    let secret = credential(&server);
    let (_, value) = token(&server, "alice", "ops", "deploy", true);
    let http = Client::new();
    assert_eq!(me_status(&http, &server, &value).await.0, StatusCode::OK);
    let mut browser = Caller::new(&server);
    browser.sign_in("alice", PASSWORD).await;
    assert!(browser.cookie.is_some(), "alice signs in");
    assert_eq!(browser.get("/account").await.status(), StatusCode::OK);

    let id = id_of(&server, &secret, "alice").await;
    // Entra ID's way of saying it: a capitalised op and a string.
    let patch = json!({"schemas": [PATCH], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
    let answer = scim(
        &server,
        Method::PATCH,
        &format!("/Users/{id}"),
        Some(&secret),
        Some(patch),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["active"], false);

    // Refused on the very next call: no cached check outlives the deactivation.
    let (status, body) = me_status(&http, &server, &value).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    // The session ended: private pages send the browser to sign in.
    let page = browser.get("/account").await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert!(
        page.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/signin")
    );
    // Password sign-in says the account is suspended.
    let mut again = Caller::new(&server);
    let refused = again.sign_in("alice", PASSWORD).await;
    let said = refused.text().await.unwrap();
    assert!(said.contains("suspended"), "{said}");

    let db = server.connect_database().await;
    let alice_id: i64 = id.parse().unwrap();
    let (entries, _) = domain::activity::list_for_user(&db, alice_id, 1, 1)
        .await
        .unwrap();
    assert_eq!(entries[0].kind, "scim_deactivated");
    assert_eq!(entries[0].actor, "SCIM", "the log names the directory");
    let notices = count(
        &db,
        "SELECT COUNT(*) AS n FROM notifications n JOIN users u ON u.id = n.user_id \
         WHERE u.username = 'alice' AND n.kind = 'account_deactivated' AND n.token_id IS NULL",
        [],
    )
    .await;
    assert_eq!(notices, 1);

    // `active: true` gives the person back their tokens.
    let answer = scim(
        &server,
        Method::PATCH,
        &format!("/Users/{id}"),
        Some(&secret),
        Some(set_active(json!(true))),
    )
    .await;
    assert_eq!(answer.body["active"], true, "{}", answer.body);
    assert_eq!(me_status(&http, &server, &value).await.0, StatusCode::OK);
    // Deactivating by PUT works the same.
    let put = json!({"schemas": [USER], "userName": "alice", "active": false});
    let answer = scim(
        &server,
        Method::PUT,
        &format!("/Users/{id}"),
        Some(&secret),
        Some(put),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        me_status(&http, &server, &value).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert!(
        !server.log().contains(&secret),
        "the SCIM credential is in the log"
    );
}

#[tokio::test]
async fn a_deleted_account_stays_suspended_and_scim_no_longer_sees_it() {
    let server = TestServer::start();
    admin_first(&server);
    alice_owns_ops(&server);
    let secret = credential(&server);
    let (_, value) = token(&server, "alice", "ops", "deploy", false);
    let id = id_of(&server, &secret, "alice").await;

    let deleted = scim(
        &server,
        Method::DELETE,
        &format!("/Users/{id}"),
        Some(&secret),
        None,
    )
    .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        me_status(&Client::new(), &server, &value).await.0,
        StatusCode::UNAUTHORIZED
    );
    let gone = scim(
        &server,
        Method::GET,
        &format!("/Users/{id}"),
        Some(&secret),
        None,
    )
    .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.body["status"], "404");
    let listed = scim(&server, Method::GET, "/Users", Some(&secret), None).await;
    // Only the instance admin is left to see.
    assert_eq!(listed.body["totalResults"], 1, "{}", listed.body);
    assert_eq!(listed.body["Resources"][0]["userName"], "root");
    // The account, its token and its history are still there for the admins.
    let out = ok(cli(
        &server,
        &["token", "list", "--user", "alice", "--json"],
        None,
    ));
    let tokens: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(tokens.as_array().unwrap().len(), 1);
    let db = server.connect_database().await;
    let suspended = count(
        &db,
        "SELECT COUNT(*) AS n FROM users WHERE username = 'alice' AND is_active = false",
        [],
    )
    .await;
    assert_eq!(suspended, 1);
}

#[tokio::test]
async fn a_directory_provisions_an_account_that_signs_in_with_sso_only() {
    let server = TestServer::start();
    alice_owns_ops(&server);
    let secret = credential(&server);
    let nameless = json!({"schemas": [USER], "userName": " "});
    let refused = scim(
        &server,
        Method::POST,
        "/Users",
        Some(&secret),
        Some(nameless),
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert_eq!(refused.body["scimType"], "invalidValue");

    // Directories name people by their email address: that is the SCIM userName, kept as
    // sent; the patdesk username is made from its local part.
    let body = json!({
        "schemas": [USER],
        "userName": "Bob.Smith@Example.com",
        "externalId": "00u-bob",
        "displayName": "Bob Smith",
        "name": {"givenName": "Bob", "familyName": "Smith"},
        "emails": [{"value": "bob@example.com", "type": "work", "primary": true}],
        "active": true,
        "password": "ignored-by-patdesk",
    });
    let created = scim(
        &server,
        Method::POST,
        "/Users",
        Some(&secret),
        Some(body.clone()),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert!(created.content_type.starts_with("application/scim+json"));
    assert_eq!(created.body["userName"], "Bob.Smith@Example.com");
    assert_eq!(created.body["externalId"], "00u-bob");
    assert_eq!(created.body["emails"][0]["value"], "bob@example.com");
    let id = created.body["id"].as_str().unwrap().to_string();
    assert!(
        created.body["meta"]["location"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/scim/v2/Users/{id}"))
    );

    // A second create of the same userName (in any case) is a uniqueness conflict, and so is
    // one named as an existing account is.
    let mut again = body.clone();
    again["userName"] = "bob.smith@example.COM".into();
    again["externalId"] = "00u-other".into();
    again["emails"] = json!([]);
    let again = scim(&server, Method::POST, "/Users", Some(&secret), Some(again)).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert_eq!(again.body["scimType"], "uniqueness");
    let alice = json!({"schemas": [USER], "userName": "Alice"});
    let clash = scim(&server, Method::POST, "/Users", Some(&secret), Some(alice)).await;
    assert_eq!(clash.status, StatusCode::CONFLICT, "{}", clash.body);

    // Found by each filter directories use.
    for filter in [
        "externalId%20eq%20%2200u-bob%22",
        "emails.value%20eq%20%22BOB@example.com%22",
        "userName%20eq%20%22bob.smith@example.com%22",
    ] {
        let found = scim(
            &server,
            Method::GET,
            &format!("/Users?filter={filter}"),
            Some(&secret),
            None,
        )
        .await;
        assert_eq!(found.body["totalResults"], 1, "{filter}: {}", found.body);
        assert_eq!(found.body["Resources"][0]["id"], id.as_str());
    }
    // No password works for a provisioned account, and it is no instance admin.
    let mut browser = Caller::new(&server);
    let refused = browser.sign_in("bob-smith", "ignored-by-patdesk").await;
    assert!(browser.cookie.is_none());
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("rong username or password")
    );
    let db = server.connect_database().await;
    let admins = count(
        &db,
        "SELECT COUNT(*) AS n FROM users WHERE username = 'bob-smith' AND is_admin = false",
        [],
    )
    .await;
    assert_eq!(admins, 1, "bob-smith exists and is no admin");
    let entry = text(
        &db,
        "SELECT a.kind AS v FROM activity a JOIN users u ON u.id = a.user_id WHERE u.username = 'bob-smith' ORDER BY a.id LIMIT 1",
        [],
    )
    .await;
    assert_eq!(entry.as_deref(), Some("scim_provisioned"));

    // Pages: startIndex is 1-based, count bounds the page, totalResults counts them all.
    let page = scim(
        &server,
        Method::GET,
        "/Users?startIndex=2&count=1",
        Some(&secret),
        None,
    )
    .await;
    assert_eq!(page.body["totalResults"], 2);
    assert_eq!(page.body["itemsPerPage"], 1);
    assert_eq!(
        page.body["Resources"][0]["userName"],
        "Bob.Smith@Example.com"
    );
    // attributes= narrows what comes back; id always does.
    let narrow = scim(
        &server,
        Method::GET,
        &format!("/Users/{id}?attributes=userName"),
        Some(&secret),
        None,
    )
    .await;
    assert_eq!(narrow.body["userName"], "Bob.Smith@Example.com");
    assert!(narrow.body.get("emails").is_none() && narrow.body["id"] == id.as_str());
}

#[tokio::test]
async fn the_directory_must_present_a_live_credential() {
    let server = TestServer::start_env(&[("PATDESK_AUTH_FAILURES_PER_MINUTE", "3")]);
    alice_owns_ops(&server);
    let secret = credential(&server);
    // Discovery needs none.
    let config = scim(&server, Method::GET, "/ServiceProviderConfig", None, None).await;
    assert_eq!(config.status, StatusCode::OK);
    assert_eq!(config.body["patch"]["supported"], true);
    let missing = scim(&server, Method::GET, "/Users", None, None).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert!(missing.content_type.starts_with("application/scim+json"));
    assert_eq!(
        missing.body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
    // A personal access token is no SCIM credential.
    let (_, token_value) = token(&server, "alice", "ops", "deploy", true);
    let wrong = scim(&server, Method::GET, "/Users", Some(&token_value), None).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);

    // A revoked credential is refused on its next call.
    let listed = ok(cli(
        &server,
        &["scim", "credential", "list", "--json"],
        None,
    ));
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let id = listed[0]["id"].as_str().unwrap().to_string();
    assert!(
        !String::from_utf8_lossy(&ok(cli(&server, &["scim", "credential", "list"], None)).stdout)
            .contains(&secret)
    );
    assert_eq!(
        scim(&server, Method::GET, "/Users", Some(&secret), None)
            .await
            .status,
        StatusCode::OK
    );
    ok(cli(&server, &["scim", "credential", "delete", &id], None));
    assert_eq!(
        scim(&server, Method::GET, "/Users", Some(&secret), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // Wrong credentials count against the address: over the budget, 429 with Retry-After.
    let mut limited = None;
    for _ in 0..5 {
        let answer = scim(&server, Method::GET, "/Users", Some("pdkscim_guess"), None).await;
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(answer);
            break;
        }
    }
    let limited = limited.expect("wrong SCIM credentials are throttled");
    assert_eq!(limited.body["status"], "429");
}

#[tokio::test]
async fn bad_requests_are_scim_errors_that_say_what_is_wrong() {
    let server = TestServer::start();
    alice_owns_ops(&server);
    let secret = credential(&server);
    let id = id_of(&server, &secret, "alice").await;
    let user = format!("/Users/{id}");
    let huge = json!({"schemas": [USER], "userName": "x".repeat(70 * 1024)});
    // (method, path, body, status, scimType)
    type Case<'a> = (Method, &'a str, Option<Value>, StatusCode, Option<&'a str>);
    let cases: Vec<Case> = vec![
        (
            Method::GET,
            "/Users?filter=title%20eq%20%22boss%22",
            None,
            StatusCode::BAD_REQUEST,
            Some("invalidFilter"),
        ),
        (
            Method::GET,
            "/Users?filter=userName%20sw%20%22a%22",
            None,
            StatusCode::BAD_REQUEST,
            Some("invalidFilter"),
        ),
        (
            Method::GET,
            "/Users?count=many",
            None,
            StatusCode::BAD_REQUEST,
            Some("invalidValue"),
        ),
        (
            Method::GET,
            "/Users/not-a-number",
            None,
            StatusCode::NOT_FOUND,
            None,
        ),
        (
            Method::GET,
            "/Users/999999",
            None,
            StatusCode::NOT_FOUND,
            None,
        ),
        (Method::GET, "/Bananas", None, StatusCode::NOT_FOUND, None),
        (
            Method::POST,
            "/Users",
            Some(json!({"schemas": [USER], "userName": "carol", "shoeSize": 9})),
            StatusCode::BAD_REQUEST,
            Some("invalidPath"),
        ),
        (
            Method::POST,
            "/Users",
            Some(json!({"userName": "carol"})),
            StatusCode::BAD_REQUEST,
            Some("invalidSyntax"),
        ),
        (
            Method::POST,
            "/Users",
            Some(
                json!({"schemas": [USER], "userName": "carol", "emails": [{"value": "not an address"}]}),
            ),
            StatusCode::BAD_REQUEST,
            Some("invalidValue"),
        ),
        (
            Method::POST,
            "/Users",
            Some(huge),
            StatusCode::PAYLOAD_TOO_LARGE,
            None,
        ),
        (
            Method::PATCH,
            &user,
            Some(json!({"schemas": [PATCH], "Operations": [{"op": "remove", "path": "active"}]})),
            StatusCode::BAD_REQUEST,
            Some("mutability"),
        ),
        (
            Method::PATCH,
            &user,
            Some(
                json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "active", "value": 3}]}),
            ),
            StatusCode::BAD_REQUEST,
            Some("invalidValue"),
        ),
        (
            Method::PATCH,
            &user,
            Some(json!({"Operations": []})),
            StatusCode::BAD_REQUEST,
            Some("invalidSyntax"),
        ),
    ];
    for (method, path, body, status, scim_type) in cases {
        let answer = scim(&server, method.clone(), path, Some(&secret), body).await;
        assert_eq!(answer.status, status, "{method} {path}: {}", answer.body);
        assert_eq!(answer.body["status"], status.as_str(), "{method} {path}");
        assert!(
            answer.content_type.starts_with("application/scim+json"),
            "{method} {path}"
        );
        assert!(
            !answer.body["detail"]
                .as_str()
                .unwrap_or_default()
                .is_empty()
        );
        if let Some(scim_type) = scim_type {
            assert_eq!(
                answer.body["scimType"], scim_type,
                "{method} {path}: {}",
                answer.body
            );
        }
    }
    // Malformed JSON, sent raw.
    let response = Client::new()
        .post(server.url("/scim/v2/Users"))
        .bearer_auth(&secret)
        .header("content-type", "application/scim+json")
        .body("{\"schemas\": [")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // Nothing was half-made: alice is still the only account, active.
    let db = server.connect_database().await;
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) AS n FROM users WHERE is_active = true",
            []
        )
        .await,
        1
    );
}

/// A provisioned account's first single sign-on is linked to it by `externalId` = `sub`, not
/// made anew (docs/sso.md); an account it did not provision is never matched that way.
#[tokio::test]
async fn single_sign_on_links_the_account_the_directory_provisioned() {
    use domain::identity::sso::{SsoClaims, sign_in};
    let server = TestServer::start();
    alice_owns_ops(&server);
    let secret = credential(&server);
    let body = json!({"schemas": [USER], "userName": "dora", "externalId": "sub-dora"});
    let created = scim(&server, Method::POST, "/Users", Some(&secret), Some(body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let db = server.connect_database().await;
    let claims = SsoClaims {
        issuer: "https://idp.example.test".into(),
        subject: "sub-dora".into(),
        preferred_username: Some("someone-else".into()),
        ..Default::default()
    };
    let signed_in = sign_in(&db, &claims, None, None).await.unwrap();
    assert!(!signed_in.created);
    assert_eq!(signed_in.user.username, "dora");
    // A subject that matches nothing provisioned makes a new account, as before.
    let stranger = SsoClaims {
        subject: "sub-stranger".into(),
        preferred_username: Some("stranger".into()),
        ..claims
    };
    assert!(sign_in(&db, &stranger, None, None).await.unwrap().created);
}

const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// A member's role in a team, as stored (`None`: not a member).
async fn role_in(server: &TestServer, username: &str, team: &str) -> Option<String> {
    let db = server.connect_database().await;
    text(
        &db,
        "SELECT m.role AS v FROM memberships m JOIN users u ON u.id = m.user_id \
         JOIN teams t ON t.id = m.team_id WHERE u.username = $1 AND t.slug = $2",
        [username.into(), team.into()],
    )
    .await
}

#[tokio::test]
async fn groups_are_teams_membership_lists_and_tokens_follow() {
    let server = TestServer::start();
    alice_owns_ops(&server);
    ok(cli(
        &server,
        &["user", "add", "bob"],
        Some(&format!("{PASSWORD}\n")),
    ));
    // A group named like a single sign-on mapping is that mapping's team, with its role.
    ok(cli(
        &server,
        &[
            "sso",
            "map-group",
            "platform-eng",
            "--team",
            "ops",
            "--role",
            "reader",
        ],
        None,
    ));
    let secret = credential(&server);
    let bob = id_of(&server, &secret, "bob").await;
    let alice = id_of(&server, &secret, "alice").await;

    let body =
        json!({"schemas": [GROUP], "displayName": "platform-eng", "members": [{"value": bob}]});
    let created = scim(&server, Method::POST, "/Groups", Some(&secret), Some(body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["members"][0]["value"], bob.as_str());
    let group = created.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        role_in(&server, "bob", "ops").await.as_deref(),
        Some("reader")
    );
    let (_, value) = token(&server, "bob", "ops", "reports", false);
    let http = Client::new();
    assert_eq!(me_status(&http, &server, &value).await.0, StatusCode::OK);

    // Found by name; a second group of that name is a conflict; an unknown member is refused.
    let found = scim(
        &server,
        Method::GET,
        "/Groups?filter=displayName%20eq%20%22Platform-Eng%22",
        Some(&secret),
        None,
    )
    .await;
    assert_eq!(found.body["totalResults"], 1, "{}", found.body);
    let twin = json!({"schemas": [GROUP], "displayName": "Platform-Eng"});
    assert_eq!(
        scim(&server, Method::POST, "/Groups", Some(&secret), Some(twin))
            .await
            .status,
        StatusCode::CONFLICT
    );
    let stranger = json!({"schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": [{"value": "424242"}]}]});
    let refused = scim(
        &server,
        Method::PATCH,
        &format!("/Groups/{group}"),
        Some(&secret),
        Some(stranger),
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert_eq!(refused.body["scimType"], "invalidValue");

    // Removed from the group: out of the team, and the token stops at once.
    let remove = json!({"schemas": [PATCH], "Operations": [{"op": "remove", "path": format!("members[value eq \"{bob}\"]")}]});
    let answer = scim(
        &server,
        Method::PATCH,
        &format!("/Groups/{group}"),
        Some(&secret),
        Some(remove),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["members"], json!([]));
    assert_eq!(role_in(&server, "bob", "ops").await, None);
    let (status, body) = me_status(&http, &server, &value).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    // Alice, the team's admin, is in no group of the directory's: her membership is not its to
    // manage, and a group deleted leaves her alone.
    assert_eq!(
        role_in(&server, "alice", "ops").await.as_deref(),
        Some("admin")
    );

    // Any other group gets a team of its own; its members are writers.
    let body = json!({"schemas": [GROUP], "displayName": "Data Science", "members": [{"value": alice}, {"value": bob}]});
    let created = scim(&server, Method::POST, "/Groups", Some(&secret), Some(body)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let data = created.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        role_in(&server, "bob", "data-science").await.as_deref(),
        Some("writer")
    );
    let deleted = scim(
        &server,
        Method::DELETE,
        &format!("/Groups/{data}"),
        Some(&secret),
        None,
    )
    .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(role_in(&server, "bob", "data-science").await, None);
    assert_eq!(role_in(&server, "alice", "data-science").await, None);
    assert_eq!(
        scim(
            &server,
            Method::GET,
            &format!("/Groups/{data}"),
            Some(&secret),
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let db = server.connect_database().await;
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) AS n FROM teams WHERE slug = 'data-science'",
            []
        )
        .await,
        1
    );
    // Bob's log names the directory for each of the four changes it made.
    let bob_id: i64 = bob.parse().unwrap();
    let (entries, _) = domain::activity::list_for_user(&db, bob_id, 1, 50)
        .await
        .unwrap();
    let by_scim: Vec<&str> = entries
        .iter()
        .filter(|e| e.kind == "member_added" || e.kind == "member_removed")
        .map(|e| e.actor.as_str())
        .collect();
    assert_eq!(by_scim, ["SCIM"; 4]);
}

/// Issue 45, item 15: a SCIM credential cannot rewrite, deactivate or delete an instance admin
/// unless an instance admin allows it (`patdesk policy set --scim-manages-admins`): a 403 in
/// the SCIM error schema, and the admin unchanged. The directory still lists and reads them,
/// and reaches everyone else as before.
#[tokio::test]
async fn instance_admins_are_out_of_the_directorys_reach_unless_an_admin_allows_it() {
    let server = TestServer::start();
    // alice, the first account, is the instance admin; bob is not.
    alice_owns_ops(&server);
    ok(cli(
        &server,
        &["user", "add", "bob"],
        Some(&format!("{PASSWORD}\n")),
    ));
    let shown = ok(cli(&server, &["policy", "show", "--json"], None));
    let shown: Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(shown["scim_manages_admins"], false, "off by default");
    let secret = credential(&server);
    let (_, value) = token(&server, "alice", "ops", "deploy", false);
    let alice = id_of(&server, &secret, "alice").await;
    let path = format!("/Users/{alice}");
    let read = scim(&server, Method::GET, &path, Some(&secret), None).await;
    assert_eq!(
        read.status,
        StatusCode::OK,
        "the directory still reads admins"
    );

    let takeover = json!({
        "schemas": [USER],
        "userName": "alice",
        "externalId": "sub-of-the-attacker",
        "emails": [{"value": "attacker@example.com", "primary": true}],
    });
    let email = json!({"schemas": [PATCH], "Operations": [
        {"op": "replace", "path": "emails", "value": [{"value": "attacker@example.com"}]}
    ]});
    let attempts = [
        (Method::PUT, Some(takeover)),
        (Method::PATCH, Some(email)),
        (Method::PATCH, Some(set_active(json!(false)))),
        (Method::DELETE, None),
    ];
    for (method, body) in attempts {
        let refused = scim(&server, method.clone(), &path, Some(&secret), body).await;
        assert_eq!(
            refused.status,
            StatusCode::FORBIDDEN,
            "{method}: {}",
            refused.body
        );
        assert!(refused.content_type.starts_with("application/scim+json"));
        assert_eq!(
            refused.body["schemas"][0],
            "urn:ietf:params:scim:api:messages:2.0:Error"
        );
        assert_eq!(refused.body["status"], "403");
        let detail = refused.body["detail"].as_str().unwrap();
        assert!(detail.contains("instance admin"), "{detail}");
    }
    // Nothing changed: her token works, her address and record are as they were.
    assert_eq!(
        me_status(&Client::new(), &server, &value).await.0,
        StatusCode::OK
    );
    let db = server.connect_database().await;
    let untouched = "SELECT COUNT(*) AS n FROM users WHERE username = 'alice' \
                     AND is_active = true AND email IS NULL";
    assert_eq!(count(&db, untouched, []).await, 1);
    let records = "SELECT COUNT(*) AS n FROM scim_accounts WHERE external_id IS NOT NULL";
    assert_eq!(count(&db, records, []).await, 0);

    // Everyone else is the directory's as before.
    let bob = id_of(&server, &secret, "bob").await;
    let answer = scim(
        &server,
        Method::PATCH,
        &format!("/Users/{bob}"),
        Some(&secret),
        Some(set_active(json!(false))),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);

    // An instance admin may hand admins to the directory.
    let out = ok(cli(
        &server,
        &["policy", "set", "--scim-manages-admins"],
        None,
    ));
    assert!(String::from_utf8_lossy(&out.stdout).contains("SCIM may change"));
    let answer = scim(
        &server,
        Method::PATCH,
        &path,
        Some(&secret),
        Some(set_active(json!(false))),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        me_status(&Client::new(), &server, &value).await.0,
        StatusCode::UNAUTHORIZED
    );
    ok(cli(
        &server,
        &["policy", "set", "--no-scim-manages-admins"],
        None,
    ));
    let shown = ok(cli(&server, &["policy", "show", "--json"], None));
    let shown: Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(shown["scim_manages_admins"], false);
}

/// Issue 45, item 13: a directory's userName whose local part is a reserved name (the log's
/// "SCIM", "operator") provisions an account all the same, under a numbered username.
#[tokio::test]
async fn a_reserved_name_from_the_directory_is_numbered_not_refused() {
    let server = TestServer::start();
    alice_owns_ops(&server);
    let secret = credential(&server);
    for (user_name, username) in [("Operator@example.com", "operator-2"), ("scim", "scim-2")] {
        let body = json!({"schemas": [USER], "userName": user_name});
        let created = scim(&server, Method::POST, "/Users", Some(&secret), Some(body)).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        assert_eq!(created.body["userName"], user_name);
        let db = server.connect_database().await;
        let made = "SELECT COUNT(*) AS n FROM users WHERE username = $1";
        assert_eq!(count(&db, made, [username.into()]).await, 1, "{user_name}");
    }
}
