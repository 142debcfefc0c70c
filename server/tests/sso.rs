//! Single sign-on over OpenID Connect, black-box: the real `patdesk` binary and a real OpenID
//! provider (oidc-provider-mock), driven as a browser would — start, the provider's own form,
//! the callback — with its cookies kept by hand.

mod support;

use std::collections::BTreeMap;

use reqwest::{Response, StatusCode, header};
use serde_json::json;
use support::{
    Caller, PASSWORD, TestServer, cli, client, count,
    forged_idp::{ForgedIdp, Lie},
    oidc::Provider,
    ok, text,
};

const CLIENT_SECRET: &str = "client-secret-never-logged-7f3a";

/// `patdesk serve` with single sign-on through `provider`.
fn server_with(provider: &Provider) -> TestServer {
    server_for(&provider.issuer(), &[("PATDESK_OIDC_NAME", "Example SSO")])
}

/// `patdesk serve` with single sign-on through the issuer at `issuer`, on a port chosen first so
/// that the redirect URI (`PATDESK_PUBLIC_URL`) is known before it starts.
fn server_for(issuer: &str, more: &[(&str, &str)]) -> TestServer {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let public = format!("http://{addr}/");
    let mut envs = vec![
        ("PATDESK_ADDR", addr.as_str()),
        ("PATDESK_PUBLIC_URL", public.as_str()),
        ("PATDESK_OIDC_ISSUER", issuer),
        ("PATDESK_OIDC_CLIENT_ID", "patdesk-tests"),
        ("PATDESK_OIDC_CLIENT_SECRET", CLIENT_SECRET),
    ];
    envs.extend_from_slice(more);
    TestServer::start_env(&envs)
}

/// A browser's cookies for the patdesk server (the provider needs none).
#[derive(Default)]
struct Browser {
    cookies: BTreeMap<String, String>,
}

impl Browser {
    fn keep(&mut self, response: &Response) {
        for value in response.headers().get_all(header::SET_COOKIE) {
            let value = value.to_str().unwrap();
            let pair = value.split(';').next().unwrap();
            let (name, content) = pair.split_once('=').unwrap();
            if content.is_empty() || value.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), content.to_string());
            }
        }
    }

    fn header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn get(&mut self, url: &str) -> Response {
        let response = client()
            .get(url)
            .header(header::COOKIE, self.header())
            .send()
            .await
            .unwrap();
        self.keep(&response);
        response
    }

    fn session(&self) -> Option<String> {
        self.cookies
            .get("patdesk_session")
            .map(|v| format!("patdesk_session={v}"))
    }
}

fn location(response: &Response) -> String {
    response
        .headers()
        .get(header::LOCATION)
        .unwrap_or_else(|| panic!("no Location in a {} answer", response.status()))
        .to_str()
        .unwrap()
        .to_string()
}

/// From patdesk to the provider's form (answers the form's URL).
async fn to_provider(browser: &mut Browser, start: Response) -> String {
    assert_eq!(
        start.status(),
        StatusCode::SEE_OTHER,
        "start should redirect"
    );
    let authorize = location(&start);
    let form = client().get(&authorize).send().await.unwrap();
    assert_eq!(form.status(), StatusCode::OK, "the provider's form");
    assert!(
        browser.cookies.contains_key("patdesk_sso"),
        "start binds the sign-in to the browser"
    );
    authorize
}

/// Submits the provider's form as `sub`: answers the callback URL it sends the browser to.
async fn authorize_as(authorize: &str, sub: &str) -> String {
    let back = client()
        .post(authorize)
        .form(&[("sub", sub)])
        .send()
        .await
        .unwrap();
    assert!(back.status().is_redirection(), "{}", back.status());
    location(&back)
}

/// The whole sign-in as `sub`: answers the callback's response.
async fn sign_in_as(server: &TestServer, browser: &mut Browser, sub: &str) -> Response {
    let start = browser.get(&server.url("/auth/oidc/start")).await;
    let authorize = to_provider(browser, start).await;
    let callback = authorize_as(&authorize, sub).await;
    browser.get(&callback).await
}

/// The page's message as a person reads it (its HTML entities decoded).
async fn message(response: Response) -> String {
    let body = response.text().await.unwrap();
    let start = body
        .find("data-testid=\"sso-message\">")
        .expect("a message page")
        + 26;
    let html = body[start..].split("</p>").next().unwrap();
    html.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Whether `cookie` is a working session: a server function that needs one answers.
async fn signed_in(server: &TestServer, cookie: Option<String>) -> bool {
    let mut caller = Caller::new(server);
    caller.cookie = cookie;
    caller.call("my_teams", &[]).await.status() == StatusCode::OK
}

#[tokio::test]
async fn a_first_sign_in_makes_an_account_and_later_ones_find_it_by_subject_never_by_email() {
    let provider = Provider::start();
    let server = server_with(&provider);
    let db = server.connect_database().await;
    // A password account with the address the provider will claim.
    let mut alice = Caller::new(&server);
    let response = alice
        .call(
            "sign_up",
            &[
                ("username", "alice"),
                ("password", PASSWORD),
                ("password_confirmation", PASSWORD),
                ("email", "alice@example.com"),
            ],
        )
        .await;
    assert!(response.status().is_redirection() || response.status().is_success());
    provider
        .set_user(
            "sub-alice-at-idp",
            json!({"preferred_username": "Alice", "email": "alice@example.com", "email_verified": true}),
        )
        .await;

    let mut browser = Browser::default();
    let back = sign_in_as(&server, &mut browser, "sub-alice-at-idp").await;
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&back), "/");
    assert!(
        signed_in(&server, browser.session()).await,
        "the callback starts a session"
    );
    assert!(
        !browser.cookies.contains_key("patdesk_sso"),
        "the started sign-in is used up"
    );

    // Not linked to the password account of the same address: a new account of its own,
    // named after preferred_username, made unique, and without the address another has.
    let linked = "SELECT u.username AS v FROM identities i JOIN users u ON u.id = i.user_id \
                  WHERE i.subject = $1";
    let name = text(&db, linked, ["sub-alice-at-idp".into()]).await;
    assert_eq!(name.as_deref(), Some("alice-2"));
    let email = text(
        &db,
        "SELECT email AS v FROM users WHERE username = 'alice-2'",
        [],
    )
    .await;
    assert_eq!(email, None);
    let kinds = "SELECT COUNT(*) AS n FROM activity a JOIN users u ON u.id = a.user_id \
                 WHERE u.username = 'alice-2' AND a.kind IN ('sso_sign_up', 'sso_sign_in')";
    assert_eq!(count(&db, kinds, []).await, 2);

    // The next sign-in of the subject is the same account.
    let mut again = Browser::default();
    let back = sign_in_as(&server, &mut again, "sub-alice-at-idp").await;
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    assert!(signed_in(&server, again.session()).await);
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM users", []).await, 2);

    // The account single sign-on made has no password that works.
    let mut guess = Caller::new(&server);
    let refused = guess.sign_in("alice-2", "!sso").await;
    assert_ne!(refused.status(), StatusCode::OK);
    assert!(guess.cookie.is_none());

    // A verified address nobody has is kept; an unverified one is not.
    provider
        .set_user("sub-carol", json!({"preferred_username": "carol", "email": "carol@example.com", "email_verified": true}))
        .await;
    provider
        .set_user("sub-dave", json!({"preferred_username": "dave", "email": "dave@example.com", "email_verified": false}))
        .await;
    sign_in_as(&server, &mut Browser::default(), "sub-carol").await;
    sign_in_as(&server, &mut Browser::default(), "sub-dave").await;
    let carol = text(
        &db,
        "SELECT email AS v FROM users WHERE username = 'carol'",
        [],
    )
    .await;
    assert_eq!(carol.as_deref(), Some("carol@example.com"));
    let dave = text(
        &db,
        "SELECT email AS v FROM users WHERE username = 'dave'",
        [],
    )
    .await;
    assert_eq!(dave, None);

    // Neither the client secret nor a code reaches the log.
    assert!(!server.log().contains(CLIENT_SECRET));
}

#[tokio::test]
async fn a_replayed_or_forged_callback_signs_nobody_in_and_says_why() {
    let provider = Provider::start();
    let server = server_with(&provider);
    let mut browser = Browser::default();
    let start = browser.get(&server.url("/auth/oidc/start")).await;
    let authorize = to_provider(&mut browser, start).await;
    let callback = authorize_as(&authorize, "sub-replay").await;
    let started = browser.cookies.clone();

    // A forged state: refused, and the started sign-in is gone with it.
    let forged = callback.replace("state=", "state=x");
    let response = browser.get(&forged).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(browser.session().is_none());
    assert!(
        message(response)
            .await
            .contains("not started in this browser")
    );

    // The real callback with the cookie restored works once…
    browser.cookies = started.clone();
    let response = browser.get(&callback).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(signed_in(&server, browser.session()).await);

    // …and replayed, with or without the cookie it had, signs nobody in.
    let mut thief = Browser { cookies: started };
    thief.cookies.remove("patdesk_session");
    let replayed = thief.get(&callback).await;
    assert_eq!(replayed.status(), StatusCode::BAD_REQUEST);
    assert!(thief.session().is_none());
    let mut stranger = Browser::default();
    let replayed = stranger.get(&callback).await;
    assert_eq!(replayed.status(), StatusCode::BAD_REQUEST);
    assert!(stranger.session().is_none());
    let db = server.connect_database().await;
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM users", []).await, 1);
}

#[tokio::test]
async fn a_provider_that_says_no_or_is_down_ends_on_a_page_that_says_so() {
    let mut provider = Provider::start();
    let server = server_with(&provider);

    // The person declines at the provider.
    let mut browser = Browser::default();
    let start = browser.get(&server.url("/auth/oidc/start")).await;
    let authorize = to_provider(&mut browser, start).await;
    let denied = client()
        .post(&authorize)
        .form(&[("action", "deny")])
        .send()
        .await
        .unwrap();
    let response = browser.get(&location(&denied)).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(message(response).await.contains("did not sign you in"));

    // The provider goes down between the start and the callback.
    let mut browser = Browser::default();
    let start = browser.get(&server.url("/auth/oidc/start")).await;
    let authorize = to_provider(&mut browser, start).await;
    let callback = authorize_as(&authorize, "sub-late").await;
    provider.stop();
    let response = browser.get(&callback).await;
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    assert!(message(response).await.contains("cannot be reached"));
    assert!(browser.session().is_none());

    // A server started while the provider is down serves, says so once in its log, and sends
    // nobody to a provider it cannot reach.
    let late = server_with(&provider);
    assert_eq!(
        client()
            .get(late.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let response = Browser::default().get(&late.url("/auth/oidc/start")).await;
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    assert!(
        late.log()
            .contains("single sign-on: the provider cannot be reached")
    );
    let db = server.connect_database().await;
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM users", []).await, 0);
}

#[tokio::test]
async fn a_signed_in_person_links_their_account_and_then_signs_in_to_it() {
    let provider = Provider::start();
    let server = server_with(&provider);
    let db = server.connect_database().await;
    let mut bob = Caller::new(&server);
    bob.sign_up("bob").await;

    // Linking needs a session: without one, nobody is sent to the provider.
    let mut nobody = Browser::default();
    let anonymous = nobody.get(&server.url("/auth/oidc/link")).await;
    assert_eq!(anonymous.status(), StatusCode::FORBIDDEN);
    assert!(!nobody.cookies.contains_key("patdesk_sso"));
    assert!(
        message(anonymous)
            .await
            .contains("Sign in to patdesk first")
    );

    // Bob, signed in, links.
    let mut browser = browser_of(&bob);
    let callback = link_as(&server, &mut browser, "sub-bob").await;
    let linked = browser.get(&callback).await;
    assert_eq!(linked.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&linked), "/account");
    let owner = "SELECT u.username AS v FROM identities i JOIN users u ON u.id = i.user_id \
                 WHERE i.subject = 'sub-bob'";
    assert_eq!(text(&db, owner, []).await.as_deref(), Some("bob"));
    // A new way into the account: bob is told (and mailed, when he has an address).
    let notice = "SELECT COUNT(*) AS n FROM notifications n JOIN users u ON u.id = n.user_id \
                  WHERE u.username = 'bob' AND n.kind = 'sso_linked' AND n.detail = $1";
    assert_eq!(count(&db, notice, [provider.issuer().into()]).await, 1);

    // Single sign-on as that subject is now bob.
    let mut fresh = Browser::default();
    let back = sign_in_as(&server, &mut fresh, "sub-bob").await;
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    assert!(signed_in(&server, fresh.session()).await);
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM users", []).await, 1);
}

/// A browser holding `caller`'s session cookie.
fn browser_of(caller: &Caller<'_>) -> Browser {
    let mut browser = Browser::default();
    let (name, value) = caller
        .cookie
        .clone()
        .unwrap()
        .split_once('=')
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .unwrap();
    browser.cookies.insert(name, value);
    browser
}

/// Starts a link in `browser`'s session and signs in at the provider as `sub`: answers the
/// callback URL (not yet visited).
async fn link_as(server: &TestServer, browser: &mut Browser, sub: &str) -> String {
    let start = browser.get(&server.url("/auth/oidc/link")).await;
    let authorize = to_provider(browser, start).await;
    authorize_as(&authorize, sub).await
}

/// Makes every session's sign-in `minutes` old (time passing: what no interface offers).
async fn age_sign_ins(server: &TestServer, minutes: i64) {
    let db = server.connect_database().await;
    let aged = chrono::Utc::now() - chrono::Duration::minutes(minutes);
    support::execute(
        &db,
        "UPDATE sessions SET authenticated_at = $1",
        [aged.into()],
    )
    .await;
}

#[tokio::test]
async fn linking_is_a_sudo_mode_change_checked_at_the_start_and_at_the_callback() {
    let provider = Provider::start();
    let server = server_with(&provider);
    let db = server.connect_database().await;
    let mut alice = Caller::new(&server);
    alice.sign_up("alice").await;
    let identities = "SELECT COUNT(*) AS n FROM identities";

    // A session signed in five hours ago (a browser left signed in) is not sent to the provider
    // to add a way in: the page says to confirm it is you first.
    age_sign_ins(&server, 300).await;
    let mut stale = browser_of(&alice);
    let refused = stale.get(&server.url("/auth/oidc/link")).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(!stale.cookies.contains_key("patdesk_sso"));
    assert!(message(refused).await.contains("confirm it is you"));
    // The Account page's button asks the same of the server first.
    let asked = alice.call("begin_sso_link", &[]).await;
    assert_eq!(asked.status(), StatusCode::FORBIDDEN);
    assert_eq!(support::json(asked).await, "reauthentication_required");

    // Confirmed: the link starts; but if the sudo window closes while the person is at the
    // provider, the callback refuses it.
    let confirmed = alice
        .call("confirm_identity", &[("password", support::PASSWORD)])
        .await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    assert_eq!(
        alice.call("begin_sso_link", &[]).await.status(),
        StatusCode::OK
    );
    let mut browser = browser_of(&alice);
    let callback = link_as(&server, &mut browser, "sub-attacker").await;
    age_sign_ins(&server, 300).await;
    let late = browser.get(&callback).await;
    assert_eq!(late.status(), StatusCode::FORBIDDEN);
    assert_eq!(count(&db, identities, []).await, 0);

    // A link started in one session does not finish in another of the same account.
    age_sign_ins(&server, 0).await;
    let mut other = Caller::new(&server);
    let signed_in = other.sign_in("alice", support::PASSWORD).await;
    assert!(signed_in.status().is_success() || signed_in.status().is_redirection());
    let mut first = browser_of(&alice);
    let callback = link_as(&server, &mut first, "sub-attacker").await;
    let mut second = browser_of(&other);
    second
        .cookies
        .insert("patdesk_sso".into(), first.cookies["patdesk_sso"].clone());
    let swapped = second.get(&callback).await;
    assert_eq!(swapped.status(), StatusCode::BAD_REQUEST);
    assert_eq!(count(&db, identities, []).await, 0);

    // So the attacker's provider account never signs in as alice.
    let mut attacker = Browser::default();
    let back = sign_in_as(&server, &mut attacker, "sub-attacker").await;
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    let whose = "SELECT u.username AS v FROM identities i JOIN users u ON u.id = i.user_id \
                 WHERE i.subject = 'sub-attacker'";
    assert_ne!(text(&db, whose, []).await.as_deref(), Some("alice"));
}

#[tokio::test]
async fn the_account_page_lists_links_and_unlinking_needs_a_recent_sign_in() {
    let provider = Provider::start();
    let server = server_with(&provider);
    let db = server.connect_database().await;
    let mut bob = Caller::new(&server);
    bob.sign_up("bob").await;
    let mut browser = browser_of(&bob);
    let callback = link_as(&server, &mut browser, "sub-bob").await;
    assert_eq!(browser.get(&callback).await.status(), StatusCode::SEE_OTHER);

    let settings = support::json(bob.call("account_settings", &[]).await).await;
    let links = settings["sso_links"].as_array().unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(links[0]["issuer"], provider.issuer());
    let id = links[0]["id"].as_i64().unwrap().to_string();

    // From a stale session: refused, the link stays.
    age_sign_ins(&server, 300).await;
    let stale = bob.call("unlink_sso", &[("id", id.as_str())]).await;
    assert_eq!(stale.status(), StatusCode::FORBIDDEN);
    assert_eq!(support::json(stale).await, "reauthentication_required");
    assert_eq!(
        count(&db, "SELECT COUNT(*) AS n FROM identities", []).await,
        1
    );

    // Someone else's link is not found.
    let mut carol = Caller::new(&server);
    carol.sign_up("carol").await;
    let theirs = carol.call("unlink_sso", &[("id", id.as_str())]).await;
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);

    // Fresh: unlinked, and that provider account no longer signs in as bob.
    age_sign_ins(&server, 0).await;
    let unlinked = bob.call("unlink_sso", &[("id", id.as_str())]).await;
    assert_eq!(unlinked.status(), StatusCode::OK);
    let entry = "SELECT COUNT(*) AS n FROM activity WHERE kind = 'sso_unlinked'";
    assert_eq!(count(&db, entry, []).await, 1);
    let mut fresh = Browser::default();
    sign_in_as(&server, &mut fresh, "sub-bob").await;
    let whose = "SELECT u.username AS v FROM identities i JOIN users u ON u.id = i.user_id \
                 WHERE i.subject = 'sub-bob'";
    assert_ne!(text(&db, whose, []).await.as_deref(), Some("bob"));

    // An account made by single sign-on has no password: its only link stays.
    let mut dave = Browser::default();
    sign_in_as(&server, &mut dave, "sub-dave").await;
    let mut dave_caller = Caller::new(&server);
    dave_caller.cookie = dave.session();
    let settings = support::json(dave_caller.call("account_settings", &[]).await).await;
    let id = settings["sso_links"][0]["id"].as_i64().unwrap().to_string();
    let last = dave_caller.call("unlink_sso", &[("id", id.as_str())]).await;
    assert!(last.status().is_client_error(), "{}", last.status());
    let dave_links = "SELECT COUNT(*) AS n FROM identities WHERE subject = 'sub-dave'";
    assert_eq!(count(&db, dave_links, []).await, 1);
}

#[tokio::test]
async fn the_callback_checks_the_state_before_it_shows_anything_and_never_the_providers_text() {
    let provider = Provider::start();
    let server = server_with(&provider);
    let lie = "Your account is locked: call +1 555 0100 and read out your password";
    let description = url::form_urlencoded::byte_serialize(lie.as_bytes()).collect::<String>();

    // A link to the callback with an error but without this browser's state: "not started",
    // nothing of the attacker's text.
    let mut browser = Browser::default();
    let start = browser.get(&server.url("/auth/oidc/start")).await;
    to_provider(&mut browser, start).await;
    let forged = browser
        .get(&server.url(&format!(
            "/auth/oidc/callback?error=access_denied&error_description={description}&state=guessed"
        )))
        .await;
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    let said = message(forged).await;
    assert!(said.contains("not started in this browser"), "{said}");
    assert!(!said.contains("555"), "{said}");

    // With the right state, a known error code is said in the app's words; the description is
    // still not shown.
    let mut browser = Browser::default();
    let start = browser.get(&server.url("/auth/oidc/start")).await;
    let authorize = to_provider(&mut browser, start).await;
    let state = url::Url::parse(&authorize)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let declined = browser
        .get(&server.url(&format!(
            "/auth/oidc/callback?error=access_denied&error_description={description}&state={state}"
        )))
        .await;
    assert_eq!(declined.status(), StatusCode::BAD_REQUEST);
    let said = message(declined).await;
    assert!(said.contains("declined or cancelled"), "{said}");
    assert!(!said.contains("555"), "{said}");
}

/// `patdesk serve` with single sign-on through the forged provider.
fn server_with_forged(idp: &ForgedIdp) -> TestServer {
    server_for(&idp.issuer, &[])
}

/// Start → the forged provider (which sends the browser straight back) → the callback.
async fn forged_sign_in(server: &TestServer) -> (Response, Browser) {
    let mut browser = Browser::default();
    let start = browser.get(&server.url("/auth/oidc/start")).await;
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    let back = client().get(location(&start)).send().await.unwrap();
    let callback = location(&back);
    (browser.get(&callback).await, browser)
}

// A multi-threaded runtime: the forged provider must answer while the test waits for the server
// (which discovers it at start).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_token_that_fails_any_check_signs_nobody_in() {
    let idp = ForgedIdp::start("patdesk-tests").await;
    let server = server_with_forged(&idp);
    let db = server.connect_database().await;

    // The harness itself: an honest token passes.
    idp.lie(Lie::None);
    let (response, browser) = forged_sign_in(&server).await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "an honest token passes"
    );
    assert!(signed_in(&server, browser.session()).await);

    for lie in [
        Lie::WrongAudience,
        Lie::WrongNonce,
        Lie::Expired,
        Lie::Tampered,
        Lie::AlgNone,
        Lie::HmacWithPublicKey,
    ] {
        idp.lie(lie);
        let (response, browser) = forged_sign_in(&server).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{lie:?}");
        assert!(browser.session().is_none(), "{lie:?} started a session");
        assert!(
            message(response)
                .await
                .contains("did not pass patdesk's checks"),
            "{lie:?}"
        );
    }
    // Only the honest sign-in made an account; the tampered subject never appears.
    assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM users", []).await, 1);
    let richer = "SELECT COUNT(*) AS n FROM identities WHERE subject = 'someone-richer'";
    assert_eq!(count(&db, richer, []).await, 0);
    assert!(!server.log().contains(CLIENT_SECRET));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_signed_with_a_key_the_provider_rotated_in_passes_after_the_keys_are_fetched_again()
{
    let idp = ForgedIdp::start("patdesk-tests").await;
    idp.lie(Lie::RotatedKey);
    let server = server_with_forged(&idp);
    let (response, browser) = forged_sign_in(&server).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(signed_in(&server, browser.session()).await);
}

#[tokio::test]
async fn with_single_sign_on_required_only_instance_admins_may_use_their_password() {
    let provider = Provider::start();
    let server = server_with(&provider);
    // The first account is the instance admin.
    Caller::new(&server).sign_up("root").await;
    Caller::new(&server).sign_up("erin").await;

    let out = ok(cli(&server, &["policy", "set", "--require-sso"], None));
    assert!(String::from_utf8_lossy(&out.stdout).contains("single sign-on required"));
    let shown = ok(cli(&server, &["policy", "show", "--json"], None));
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(shown["require_sso"], true);

    let mut erin = Caller::new(&server);
    let refused = erin.sign_in("erin", PASSWORD).await;
    assert!(
        erin.cookie.is_none(),
        "erin got a session with her password"
    );
    let body = refused.text().await.unwrap();
    assert!(body.contains("single sign-on only"), "{body}");
    // A wrong password says nothing about the policy.
    let mut guess = Caller::new(&server);
    let wrong = guess.sign_in("erin", "not her password at all").await;
    assert!(!wrong.text().await.unwrap().contains("single sign-on"));

    let mut root = Caller::new(&server);
    root.sign_in("root", PASSWORD).await;
    assert!(
        root.cookie.is_some(),
        "the instance admin keeps the password way in"
    );
    let back = sign_in_as(&server, &mut Browser::default(), "sub-frank").await;
    assert_eq!(
        back.status(),
        StatusCode::SEE_OTHER,
        "single sign-on still works"
    );

    ok(cli(&server, &["policy", "set", "--no-require-sso"], None));
    let mut erin = Caller::new(&server);
    erin.sign_in("erin", PASSWORD).await;
    assert!(erin.cookie.is_some(), "password sign-in works again");
    // The token policy was not touched by either switch.
    let shown = ok(cli(&server, &["policy", "show", "--json"], None));
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(shown["require_sso"], false);
    assert_eq!(shown["max_lifetime_days"], serde_json::Value::Null);
}

/// A write through the team API with `token`: its status.
async fn write_with(server: &TestServer, token: &str) -> StatusCode {
    client()
        .post(server.url("/api/v1/teams/ops/questions"))
        .bearer_auth(token)
        .json(&json!({"title": "from CI", "body": "a question"}))
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn mapped_groups_add_change_and_remove_memberships_and_tokens_follow_at_once() {
    let provider = Provider::start();
    let server = server_with(&provider);
    let db = server.connect_database().await;
    support::alice_owns_ops(&server);
    ok(cli(
        &server,
        &["team", "add", "misc", "--owner", "alice"],
        None,
    ));
    ok(cli(
        &server,
        &[
            "sso",
            "map-group",
            "ops-devs",
            "--team",
            "ops",
            "--role",
            "writer",
        ],
        None,
    ));
    ok(cli(
        &server,
        &[
            "sso",
            "map-group",
            "ops-viewers",
            "--team",
            "ops",
            "--role",
            "reader",
        ],
        None,
    ));
    let listed = ok(cli(&server, &["sso", "groups", "--json"], None));
    let listed: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(
        listed[0],
        json!({"group": "ops-devs", "team": "ops", "role": "writer"})
    );

    let role = "SELECT m.role AS v FROM memberships m JOIN users u ON u.id = m.user_id \
                JOIN teams t ON t.id = m.team_id WHERE u.username = 'gina' AND t.slug = $1";
    // In a mapped group: a writer in the mapped team.
    provider
        .set_user(
            "sub-gina",
            json!({"preferred_username": "gina", "groups": ["ops-devs", "elsewhere"]}),
        )
        .await;
    sign_in_as(&server, &mut Browser::default(), "sub-gina").await;
    assert_eq!(
        text(&db, role, ["ops".into()]).await.as_deref(),
        Some("writer")
    );
    // A membership no group maps to is hers to keep.
    ok(cli(
        &server,
        &["team", "member", "add", "misc", "gina", "--role", "reader"],
        None,
    ));
    let (_, token) = support::token(&server, "gina", "ops", "deploys", true);
    assert_eq!(write_with(&server, &token).await, StatusCode::CREATED);

    // Moved to the viewers' group: a reader, and her write token stops writing at once.
    provider
        .set_user(
            "sub-gina",
            json!({"preferred_username": "gina", "groups": ["ops-viewers"]}),
        )
        .await;
    sign_in_as(&server, &mut Browser::default(), "sub-gina").await;
    assert_eq!(
        text(&db, role, ["ops".into()]).await.as_deref(),
        Some("reader")
    );
    assert_eq!(write_with(&server, &token).await, StatusCode::FORBIDDEN);

    // In no mapped group: out of the team, and the token refused; the unmapped team stays.
    provider
        .set_user(
            "sub-gina",
            json!({"preferred_username": "gina", "groups": []}),
        )
        .await;
    sign_in_as(&server, &mut Browser::default(), "sub-gina").await;
    assert_eq!(text(&db, role, ["ops".into()]).await, None);
    assert_eq!(
        text(&db, role, ["misc".into()]).await.as_deref(),
        Some("reader")
    );
    let me = client()
        .get(server.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::FORBIDDEN);

    // A token without a groups claim leaves memberships as they are.
    ok(cli(
        &server,
        &["team", "member", "add", "ops", "gina", "--role", "writer"],
        None,
    ));
    provider
        .set_user("sub-gina", json!({"preferred_username": "gina"}))
        .await;
    sign_in_as(&server, &mut Browser::default(), "sub-gina").await;
    assert_eq!(
        text(&db, role, ["ops".into()]).await.as_deref(),
        Some("writer")
    );

    // Each change is in her log, by the sync.
    let synced = "SELECT COUNT(*) AS n FROM activity a JOIN users u ON u.id = a.user_id \
                  WHERE u.username = 'gina' AND a.target LIKE '%(group sync)'";
    assert_eq!(count(&db, synced, []).await, 3);
}

/// A provider that puts `groups` in its userinfo rather than in the ID token (Okta's default):
/// patdesk reads them there, and believes a userinfo answer only about the ID token's subject.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_from_the_userinfo_endpoint_count_when_the_id_token_has_none() {
    let idp = ForgedIdp::start("patdesk-tests").await;
    let server = server_with_forged(&idp);
    support::alice_owns_ops(&server);
    ok(cli(
        &server,
        &[
            "sso",
            "map-group",
            "forged-devs",
            "--team",
            "ops",
            "--role",
            "reader",
        ],
        None,
    ));
    let db = server.connect_database().await;
    let in_ops = "SELECT COUNT(*) AS n FROM memberships m JOIN teams t ON t.id = m.team_id \
                  JOIN identities i ON i.user_id = m.user_id \
                  WHERE t.slug = 'ops' AND i.subject = 'forged-subject'";

    idp.userinfo("forged-subject", Some(&["forged-devs"]));
    let (response, _) = forged_sign_in(&server).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        count(&db, in_ops, []).await,
        1,
        "joined ops from userinfo's groups"
    );

    // An answer about someone else is not believed: memberships stay as they are.
    idp.userinfo("someone-else", Some(&[]));
    let (response, _) = forged_sign_in(&server).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(count(&db, in_ops, []).await, 1);

    idp.userinfo("forged-subject", Some(&[]));
    let (response, _) = forged_sign_in(&server).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(count(&db, in_ops, []).await, 0, "left ops with the group");
}

/// Issue 45, item 5: with sign-ups for single sign-on only, a password sign-up is refused and
/// the sign-up page points to the single sign-on button, whose first sign-in makes the account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_sign_ups_for_single_sign_on_only_the_sign_up_page_points_to_the_button() {
    let idp = ForgedIdp::start("patdesk-tests").await;
    let server = server_with_forged(&idp);
    Caller::new(&server).sign_up("root").await;
    ok(cli(&server, &["policy", "set", "--sign-ups", "sso"], None));

    let mut erin = Caller::new(&server);
    let refused = erin
        .call(
            "sign_up",
            &[
                ("username", "erin"),
                ("password", PASSWORD),
                ("password_confirmation", PASSWORD),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused.text().await.unwrap().contains("single sign-on"));
    assert!(erin.cookie.is_none(), "a password sign-up got a session");
    let page = Caller::new(&server)
        .get("/signup")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("data-testid=\"sign-ups-sso\""), "{page}");
    assert!(page.contains("href=\"/auth/oidc/start"), "{page}");
    assert!(!page.contains("name=\"password_confirmation\""));

    let (response, browser) = forged_sign_in(&server).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(signed_in(&server, browser.session()).await);
}

/// Issue 45, items 5 and 13: with sign-ups closed, a first single sign-on still makes an
/// account; a `preferred_username` that is a name the log prints for an actor ("operator",
/// "SCIM") is numbered as a taken one is, never refused and never taken.
#[tokio::test]
async fn a_reserved_preferred_username_is_numbered_and_closed_sign_ups_let_sso_in() {
    use domain::identity::sso::{SsoClaims, sign_in};
    let server = TestServer::start();
    Caller::new(&server).sign_up("root").await;
    ok(cli(
        &server,
        &["policy", "set", "--sign-ups", "closed"],
        None,
    ));
    let db = server.connect_database().await;
    for (subject, wanted, made) in [
        ("sub-op", "Operator", "operator-2"),
        ("sub-scim", "SCIM", "scim-2"),
        ("sub-sys", "system", "system-2"),
    ] {
        let claims = SsoClaims {
            issuer: "https://idp.example.test".into(),
            subject: subject.into(),
            preferred_username: Some(wanted.into()),
            ..Default::default()
        };
        let signed_in = sign_in(&db, &claims, None, None).await.unwrap();
        assert!(signed_in.created, "{wanted}");
        assert_eq!(signed_in.user.username, made);
    }
}
