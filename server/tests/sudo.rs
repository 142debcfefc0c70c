//! Sudo mode against the registry of server functions (`app::server_fns`): every server
//! function the server registers is classified there and every entry is one the server
//! registers; every function classed `Sudo` refuses a stale session; and the gaps found in
//! issue 45 — the explorer's token, raising a role, turning off write approval, approving a
//! pending token — are closed from a stale session and open again once the person confirms.

mod support;

use std::collections::BTreeSet;

use app::server_fns::{Class, SERVER_FUNCTIONS};
use reqwest::StatusCode;
use support::{Caller, PASSWORD, TestServer, age_sessions, alice_owns_ops, cli, count, json, ok};

#[test]
fn every_registered_server_function_is_classified_and_every_entry_is_registered() {
    let registered: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_string())
        .collect();
    assert!(
        registered.len() > 10,
        "the server's server functions are not linked into this test: {registered:?}"
    );
    let classified: BTreeSet<String> = SERVER_FUNCTIONS
        .iter()
        .map(|(endpoint, _)| format!("/rpc/{endpoint}"))
        .collect();
    assert_eq!(
        classified.len(),
        SERVER_FUNCTIONS.len(),
        "an endpoint is listed twice in app::server_fns::SERVER_FUNCTIONS"
    );
    let unclassified: Vec<_> = registered.difference(&classified).collect();
    assert!(
        unclassified.is_empty(),
        "server functions missing from app::server_fns::SERVER_FUNCTIONS (add each with its \
         class: Sudo if it grants access or weakens a control): {unclassified:?}"
    );
    let gone: Vec<_> = classified.difference(&registered).collect();
    assert!(
        gone.is_empty(),
        "app::server_fns::SERVER_FUNCTIONS lists endpoints no server function has: {gone:?}"
    );
}

#[tokio::test]
async fn every_sudo_function_refuses_a_stale_session() {
    let server = TestServer::start();
    alice_owns_ops(&server);
    let mut alice = Caller::new(&server);
    alice.sign_in("alice", PASSWORD).await;
    assert!(alice.cookie.is_some(), "alice is signed in");
    age_sessions(&server, "alice").await;

    let sudo = SERVER_FUNCTIONS
        .iter()
        .filter(|(_, class)| *class == Class::Sudo);
    for (endpoint, _) in sudo {
        // Asked with no input at all: refused for the stale sign-in before anything else.
        let response = alice.call(endpoint, &[]).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{endpoint}");
        assert_eq!(
            json(response).await,
            "reauthentication_required",
            "{endpoint}"
        );
    }
    // Reading is not sensitive, and the same session is still signed in.
    assert_eq!(
        alice.call("list_tokens", &[]).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        alice.call("team_detail", &[("slug", "ops")]).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_stale_session_cannot_mint_an_explorer_token_raise_a_role_or_weaken_approval() {
    let server = TestServer::start();
    alice_owns_ops(&server);
    let db = server.connect_database().await;
    let mut alice = Caller::new(&server);
    alice.sign_in("alice", PASSWORD).await;
    assert!(alice.cookie.is_some(), "alice is signed in");
    let mut bob = Caller::new(&server);
    bob.sign_up("bob").await;
    ok(cli(
        &server,
        &["team", "member", "add", "ops", "bob", "--role", "writer"],
        None,
    ));
    let mut carol = Caller::new(&server);
    carol.sign_up("carol").await;

    // Freshly signed in, alice requires approval of write tokens; bob's write token waits.
    let on = alice
        .call("set_write_approval", &[("team", "ops"), ("required", "on")])
        .await;
    assert_eq!(on.status(), StatusCode::OK);
    let form = [
        ("description", "deploy"),
        ("team", "ops"),
        ("expiration", "30"),
        ("write", "on"),
    ];
    let issued = json(bob.call("create_token", &form).await).await;
    assert_eq!(issued["pending_approval"], true, "{issued}");
    let pending = issued["id"].as_str().unwrap().to_string();

    // Hours later, from the same session: each of these is refused and changes nothing.
    age_sessions(&server, "alice").await;
    let attempts: [(&str, Vec<(&str, &str)>); 5] = [
        ("open_explorer", vec![("team", "ops")]),
        (
            "set_role",
            vec![("team", "ops"), ("username", "bob"), ("role", "admin")],
        ),
        (
            "add_member",
            vec![("team", "ops"), ("username", "carol"), ("role", "admin")],
        ),
        (
            "approve_team_token",
            vec![("team", "ops"), ("id", pending.as_str())],
        ),
        ("set_write_approval", vec![("team", "ops")]),
    ];
    for (function, form) in &attempts {
        let response = alice.call(function, form).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{function}");
        assert_eq!(
            json(response).await,
            "reauthentication_required",
            "{function}"
        );
    }
    let explorer_tokens = count(
        &db,
        "SELECT COUNT(*) AS n FROM tokens WHERE kind = 'explorer'",
        [],
    )
    .await;
    assert_eq!(explorer_tokens, 0, "no explorer token was minted");
    let admins = count(
        &db,
        "SELECT COUNT(*) AS n FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE u.username IN ('bob', 'carol') AND m.role = 'admin'",
        [],
    )
    .await;
    assert_eq!(admins, 0, "nobody was made an admin");
    let detail = json(alice.call("team_detail", &[("slug", "ops")]).await).await;
    assert_eq!(detail["require_write_approval"], true, "{detail}");
    let still_pending = count(
        &db,
        "SELECT COUNT(*) AS n FROM tokens WHERE pending_approval = $1",
        [true.into()],
    )
    .await;
    assert_eq!(still_pending, 1, "bob's token still waits");

    // Once alice confirms it is her, the same calls go through.
    let confirmed = alice
        .call("confirm_identity", &[("password", PASSWORD)])
        .await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    for (function, form) in &attempts {
        let response = alice.call(function, form).await;
        assert_eq!(response.status(), StatusCode::OK, "{function}");
    }
    let detail = json(alice.call("team_detail", &[("slug", "ops")]).await).await;
    assert_eq!(detail["require_write_approval"], false, "{detail}");
    let bobs_role = detail["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["username"] == "bob")
        .map(|m| m["role"].clone());
    assert_eq!(bobs_role, Some("admin".into()), "{detail}");
}
