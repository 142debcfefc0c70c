//! A token's page and the token lists as their owner sees them (docs/tokens.md), tried from
//! outside against the real binary: renaming a token (its owner only, the description's rules),
//! the Active and Inactive lists (each way a token ends, who ended it, the 30 days), the old
//! value of a regenerated token (401 `token_regenerated` for 30 days, through the API,
//! `/auth/verify` and introspection) and the expiry warning's rule. Runs on SQLite, and on
//! PostgreSQL with `PATDESK_TEST_BACKEND=postgres`.

mod support;

use chrono::{Duration, Utc};
use domain::tokens::format::TokenSecret;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use support::{
    Caller, TestServer, cli, client, client_from, count, eventually, execute, json, me_status, ok,
    set_token_expiry, test_database, token,
};

/// ops: alice (admin), bob (writer). dev: dave (admin).
async fn people(server: &TestServer) -> Vec<Caller<'_>> {
    let mut callers = Vec::new();
    for name in ["alice", "bob", "dave"] {
        let mut caller = Caller::new(server);
        caller.sign_up(name).await;
        callers.push(caller);
    }
    for (team, owner) in [("ops", "alice"), ("dev", "dave")] {
        ok(cli(server, &["team", "add", team, "--owner", owner], None));
    }
    ok(cli(
        server,
        &["team", "member", "add", "ops", "bob", "--role", "writer"],
        None,
    ));
    callers
}

/// Moves a token's creation and expiry (time passing), keeping them a real lifetime apart.
async fn set_lifetime(
    db: &sea_orm::DatabaseConnection,
    id: &str,
    created: chrono::DateTime<Utc>,
    expires: chrono::DateTime<Utc>,
) {
    let moved = execute(
        db,
        "UPDATE tokens SET created_at = $1, expires_at = $2 WHERE id = $3",
        [created.into(), expires.into(), id.into()],
    )
    .await;
    assert_eq!(moved, 1);
}

fn row<'a>(rows: &'a Value, id: &str) -> Option<&'a Value> {
    rows.as_array().unwrap().iter().find(|r| r["id"] == id)
}

/// `POST /api/v1/tokens/self/regenerate` with `value`: the new value.
async fn regenerate_self(server: &TestServer, value: &str) -> String {
    let response = client()
        .post(server.url("/api/v1/tokens/self/regenerate"))
        .bearer_auth(value)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["token"].as_str().unwrap().to_string()
}

/// `POST /api/v1/tokens/self/rotate` with `value`, the old value kept for an hour: the new one.
async fn rotate_self(server: &TestServer, value: &str) -> String {
    let response = client()
        .post(server.url("/api/v1/tokens/self/rotate"))
        .bearer_auth(value)
        .json(&json!({"overlap_seconds": 3600}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    body["token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn the_owner_renames_a_token_under_the_descriptions_rules_and_nobody_else_can() {
    let server = TestServer::start();
    let mut people = people(&server).await;
    let (bobs, _) = token(&server, "bob", "ops", "deploy", true);
    let (other, _) = token(&server, "bob", "ops", "metrics", false);

    // Bob renames his token: the list says so, and so does his activity.
    let bob = &mut people[1];
    let response = bob
        .call(
            "set_token_description",
            &[("id", &bobs), ("description", "  ci deploy  ")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let listed = json(bob.call("list_tokens", &[]).await).await;
    assert_eq!(row(&listed, &bobs).unwrap()["description"], "ci deploy");
    let activity = json(bob.call("my_activity", &[("page", "1")]).await).await;
    let entry = &activity["rows"][0];
    assert_eq!(entry["kind"], "token_description_changed", "{activity}");
    assert!(
        entry["target"].as_str().unwrap().contains("ci deploy"),
        "{entry}"
    );
    // A change of case alone is allowed (the token's own name); another token's is not.
    let response = bob
        .call(
            "set_token_description",
            &[("id", &bobs), ("description", "CI deploy")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);

    // Bad input: a message for the description field, never a 500, and nothing changed.
    let long = "x".repeat(101);
    for (bad, says) in [
        ("   ", "Enter a description"),
        (long.as_str(), "at most 100 characters"),
        ("METRICS", "already have a token with this description"),
    ] {
        let response = bob
            .call(
                "set_token_description",
                &[("id", &bobs), ("description", bad)],
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad:?}"
        );
        let text = response.text().await.unwrap();
        assert!(text.contains("description"), "{bad:?}: {text}");
        assert!(text.contains(says), "{bad:?}: {text}");
    }
    // NUL is refused at the boundary, naming the field.
    let response = bob
        .call(
            "set_token_description",
            &[("id", &bobs), ("description", "nul\0here")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let listed = json(bob.call("list_tokens", &[]).await).await;
    assert_eq!(row(&listed, &bobs).unwrap()["description"], "CI deploy");
    assert_eq!(row(&listed, &other).unwrap()["description"], "metrics");

    // Alice (an admin of ops) may read the token's page, but not rename it; dave, of another
    // team, may do neither; a token id that does not exist is the same "not found".
    let alice = &mut people[0];
    assert_eq!(
        alice.call("token_usage", &[("id", &bobs)]).await.status(),
        StatusCode::OK
    );
    for id in [bobs.as_str(), "tok_0000000000000000", "not a token id"] {
        let response = alice
            .call(
                "set_token_description",
                &[("id", id), ("description", "mine now")],
            )
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{id}");
    }
    let dave = &mut people[2];
    for function in ["token_usage", "set_token_description"] {
        let response = dave
            .call(function, &[("id", &bobs), ("description", "mine now")])
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{function}");
    }
    let bob = &mut people[1];
    let listed = json(bob.call("list_tokens", &[]).await).await;
    assert_eq!(row(&listed, &bobs).unwrap()["description"], "CI deploy");

    // A deleted token cannot be renamed.
    ok(cli(&server, &["token", "delete", &other], None));
    let response = bob
        .call(
            "set_token_description",
            &[("id", &other), ("description", "revived")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    // Signed out: no.
    let response = Caller::new(&server)
        .call(
            "set_token_description",
            &[("id", &bobs), ("description", "anon")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_token_page_shows_the_token_its_status_and_who_ended_it() {
    let server = TestServer::start();
    let mut people = people(&server).await;
    let (live, _) = token(&server, "bob", "ops", "deploy", true);
    let (revoked, _) = token(&server, "bob", "ops", "old deploy", true);
    let alice = &mut people[0];
    let response = alice
        .call(
            "revoke_team_token",
            &[
                ("team", "ops"),
                ("id", &revoked),
                ("reason", "left in a gist"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);

    let bob = &mut people[1];
    let page = json(bob.call("token_usage", &[("id", &live)]).await).await;
    assert_eq!(page["details"]["status"], "active", "{page}");
    assert_eq!(page["details"]["owner_may_change"], true);
    assert_eq!(page["details"]["ended"], Value::Null);
    assert_eq!(page["token"]["description"], "deploy");
    assert_eq!(page["token"]["team"], "ops");
    assert_eq!(page["token"]["write"], true);
    assert_eq!(page["token"]["kind"], "personal", "{page}");

    let page = json(bob.call("token_usage", &[("id", &revoked)]).await).await;
    assert_eq!(page["details"]["status"], "revoked", "{page}");
    assert_eq!(page["details"]["owner_may_change"], false);
    assert_eq!(page["details"]["owner_may_regenerate"], false);
    let ended = page["details"]["ended"].as_str().unwrap();
    assert!(
        ended.starts_with("Revoked by alice on ") && ended.ends_with("“left in a gist”"),
        "{ended}"
    );

    // A team admin reads a member's token, but may change nothing of it.
    let alice = &mut people[0];
    let page = json(alice.call("token_usage", &[("id", &live)]).await).await;
    assert_eq!(page["details"]["owner_may_change"], false);
    assert_eq!(page["details"]["owner_may_regenerate"], false);
}

#[tokio::test]
async fn ended_tokens_move_to_the_inactive_list_for_30_days_with_who_ended_them() {
    let server = TestServer::start();
    let mut people = people(&server).await;
    let db = server.connect_database().await;
    let (live, _) = token(&server, "bob", "ops", "live", true);
    let (mine, _) = token(&server, "bob", "ops", "deleted by bob", false);
    let (expired, _) = token(&server, "bob", "ops", "expired", false);
    let (by_admin, _) = token(&server, "bob", "ops", "revoked by alice", false);
    let (by_operator, _) = token(&server, "bob", "ops", "deleted by the operator", false);
    let (leaked, leaked_value) = token(&server, "bob", "ops", "leaked", false);
    let (long_gone, _) = token(&server, "bob", "ops", "deleted 31 days ago", false);
    let (long_expired, _) = token(&server, "bob", "ops", "expired 31 days ago", false);
    let (alices, _) = token(&server, "alice", "ops", "alice's deleted", false);

    let bob = &mut people[1];
    for id in [&mine, &long_gone] {
        let response = bob.call("delete_token", &[("id", id)]).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    // A 30-day token that ended two hours ago.
    let ended = Utc::now() - Duration::hours(2);
    set_lifetime(&db, &expired, ended - Duration::days(30), ended).await;
    set_token_expiry(&db, &long_expired, Some(Utc::now() - Duration::days(31))).await;
    let back = Utc::now() - Duration::days(31);
    let moved = execute(
        &db,
        "UPDATE tokens SET deleted_at = $1 WHERE id = $2",
        [back.into(), long_gone.as_str().into()],
    )
    .await;
    assert_eq!(moved, 1);
    ok(cli(&server, &["token", "delete", &by_operator], None));
    ok(cli(&server, &["token", "delete", &alices], None));
    let alice = &mut people[0];
    let response = alice
        .call(
            "revoke_team_token",
            &[("team", "ops"), ("id", &by_admin), ("reason", "too broad")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let reported = client()
        .post(server.url("/api/v1/credentials/revoke"))
        .json(&json!({"credentials": [leaked_value], "source": "https://paste.example.test/1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reported.status(), StatusCode::ACCEPTED);
    // A report is handled after its answer.
    eventually("the reported token revoked", || async {
        let (status, _) = me_status(&client(), &server, &leaked_value).await;
        (status == StatusCode::UNAUTHORIZED).then_some(())
    })
    .await;

    // Active: the live token only (the expired one is not there any more).
    let bob = &mut people[1];
    let active = json(bob.call("list_tokens", &[]).await).await;
    let active_ids: Vec<&str> = active
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(active_ids, [live.as_str()], "{active}");

    // Inactive: each way of ending, in the owner's words; nothing older than 30 days, nothing
    // of anyone else's.
    let inactive = json(bob.call("inactive_tokens", &[]).await).await;
    let expect = [
        (&mine, "deleted", "Deleted by you on "),
        (&expired, "expired", "Expired on "),
        (&by_admin, "revoked", "Revoked by alice on "),
        (
            &by_operator,
            "deleted_by_operator",
            "Deleted by the operator on ",
        ),
        (
            &leaked,
            "reported_leaked",
            "Revoked: reported as leaked on ",
        ),
    ];
    assert_eq!(
        inactive.as_array().unwrap().len(),
        expect.len(),
        "{inactive}"
    );
    for (id, ending, words) in expect {
        let found = row(&inactive, id).unwrap_or_else(|| panic!("{id} not listed: {inactive}"));
        assert_eq!(found["ending"], ending, "{found}");
        let said = found["ended"].as_str().unwrap();
        assert!(said.starts_with(words), "{said}");
        assert_eq!(found["can_regenerate"], ending == "expired", "{found}");
    }
    let said = row(&inactive, &by_admin).unwrap()["ended"]
        .as_str()
        .unwrap();
    assert!(said.ends_with(": “too broad”"), "{said}");
    let said = row(&inactive, &leaked).unwrap()["ended"].as_str().unwrap();
    assert!(
        said.ends_with("Found at: https://paste.example.test/1"),
        "{said}"
    );
    for gone in [&long_gone, &long_expired, &alices] {
        assert!(row(&inactive, gone).is_none(), "{gone}: {inactive}");
    }
    // Most recently ended first: the leak report came last.
    assert_eq!(inactive[0]["id"], leaked.as_str());
    // Nothing of a value in either list.
    let text = bob.call("inactive_tokens", &[]).await.text().await.unwrap();
    assert!(!text.contains(&leaked_value[4..]), "{text}");

    // Regenerating the expired token brings it back to the Active list.
    let response = bob.call("regenerate_token", &[("id", &expired)]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let active = json(bob.call("list_tokens", &[]).await).await;
    assert!(row(&active, &expired).is_some(), "{active}");
    let inactive = json(bob.call("inactive_tokens", &[]).await).await;
    assert!(row(&inactive, &expired).is_none(), "{inactive}");

    // Alice sees her own deleted token, and none of bob's.
    let alice = &mut people[0];
    let inactive = json(alice.call("inactive_tokens", &[]).await).await;
    assert_eq!(inactive.as_array().unwrap().len(), 1, "{inactive}");
    assert_eq!(inactive[0]["id"], alices.as_str());
    assert!(
        inactive[0]["ended"]
            .as_str()
            .unwrap()
            .starts_with("Deleted by the operator on ")
    );
}

#[tokio::test]
async fn a_regenerated_tokens_old_value_says_so_for_30_days() {
    let server = TestServer::start_env(&[("PATDESK_SESSION_SWEEP_SECONDS", "1")]);
    people(&server).await;
    let db = server.connect_database().await;
    let http = Client::new();
    let (id, first) = token(&server, "bob", "ops", "deploy", true);
    let second = regenerate_self(&server, &first).await;

    // The old value: 401 token_regenerated, with the date, and a challenge.
    let response = http
        .get(server.url("/api/v1/me"))
        .bearer_auth(&first)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().contains_key("www-authenticate"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "token_regenerated", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    let today = Utc::now().format("%Y-%m-%d").to_string();
    assert!(
        message.starts_with(&format!("This token was regenerated on {today} "))
            && message.ends_with(" UTC: use the new value."),
        "{message}"
    );
    // The new value works; a value never issued is still just invalid.
    assert_eq!(me_status(&http, &server, &second).await.0, StatusCode::OK);
    let never = TokenSecret::generate().expose().to_string();
    let (status, body) = me_status(&http, &server, &never).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "invalid_token");

    // /auth/verify says the same; introspection only that it is not active.
    let response = http
        .get(server.url("/auth/verify?team=ops"))
        .bearer_auth(&first)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "token_regenerated", "{body}");
    let out = ok(cli(
        &server,
        &[
            "service", "create", "--team", "ops", "--name", "metrics", "--json",
        ],
        None,
    ));
    let credential: Value = serde_json::from_slice(&out.stdout).unwrap();
    let introspected: Value = http
        .post(server.url("/oauth/introspect"))
        .basic_auth(
            credential["id"].as_str().unwrap(),
            credential["secret"].as_str(),
        )
        .form(&[("token", first.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(introspected, json!({"active": false}));

    // A rotation keeps the value it replaces working (then `token_rotated`); a second rotation
    // forgets that one, and a regeneration both: they answer token_regenerated, not
    // invalid_token.
    let third = rotate_self(&server, &second).await;
    assert_eq!(me_status(&http, &server, &second).await.0, StatusCode::OK);
    let fourth = rotate_self(&server, &third).await;
    let (status, body) = me_status(&http, &server, &second).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "token_regenerated", "{body}");
    let fifth = regenerate_self(&server, &fourth).await;
    for old in [&third, &fourth] {
        let (status, body) = me_status(&http, &server, old).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error"]["code"], "token_regenerated", "{body}");
    }
    assert_eq!(me_status(&http, &server, &fifth).await.0, StatusCode::OK);
    // Only digests are kept, never a value.
    let kept = count(
        &db,
        "SELECT COUNT(*) AS n FROM retired_token_values WHERE token_id = $1",
        [id.as_str().into()],
    )
    .await;
    assert_eq!(kept, 4);
    for value in [&first, &second, &third, &fourth] {
        let stored = count(
            &db,
            "SELECT COUNT(*) AS n FROM retired_token_values WHERE digest = $1",
            [value.as_str().into()],
        )
        .await;
        assert_eq!(stored, 0);
    }

    // 30 days on: the first value is invalid_token again, and the housekeeping forgets it.
    let back = Utc::now() - Duration::days(31);
    let moved = execute(
        &db,
        "UPDATE retired_token_values SET retired_at = $1 WHERE token_id = $2",
        [back.into(), id.as_str().into()],
    )
    .await;
    assert_eq!(moved, 4);
    let (_, body) = me_status(&http, &server, &first).await;
    assert_eq!(body["error"]["code"], "invalid_token", "{body}");
    eventually(
        "the housekeeping forgets values retired 30 days ago",
        || async {
            let left = count(&db, "SELECT COUNT(*) AS n FROM retired_token_values", []).await;
            (left == 0).then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn the_old_value_of_a_token_deleted_since_says_it_was_deleted_not_regenerated() {
    let server = TestServer::start();
    people(&server).await;
    let http = Client::new();
    let (_, first) = token(&server, "bob", "ops", "deploy", true);
    let second = regenerate_self(&server, &first).await;
    let response = client()
        .delete(server.url("/api/v1/tokens/self"))
        .bearer_auth(&second)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    // "Use the new value" would send its owner after a value that is gone too.
    for value in [&first, &second] {
        let (status, body) = me_status(&http, &server, value).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error"]["code"], "token_revoked", "{body}");
    }
}

#[tokio::test]
async fn a_regenerated_tokens_old_value_counts_against_the_address_like_a_bad_token() {
    let dir = tempfile::tempdir().unwrap();
    let database = test_database(dir.path());
    let mut server = TestServer::start_with(
        dir,
        &database.url,
        &[("PATDESK_AUTH_FAILURES_PER_MINUTE", "3")],
    );
    server.keep(database);
    people(&server).await;
    let (_, old) = token(&server, "bob", "ops", "deploy", false);
    let new = regenerate_self(&server, &old).await;
    let script = client_from(7);
    let me = server.url("/api/v1/me");
    for attempt in 0..3 {
        let response = script.get(&me).bearer_auth(&old).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{attempt}");
    }
    // A script looping over an old value is throttled like one guessing: the address is over
    // its budget, even with the good value.
    let response = script.get(&me).bearer_auth(&new).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let other = client_from(8);
    let response = other.get(&me).bearer_auth(&new).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_expiry_warning_leaves_out_short_lived_and_explorer_tokens() {
    // Reminders looked for every second.
    let server = TestServer::start_env(&[("PATDESK_NOTIFY_INTERVAL_SECONDS", "1")]);
    let mut people = people(&server).await;
    let db = server.connect_database().await;
    let week = ok(cli(
        &server,
        &[
            "token",
            "create",
            "--user",
            "bob",
            "--team",
            "ops",
            "--description",
            "a week",
            "--expires-in-days",
            "7",
            "--json",
        ],
        None,
    ));
    let week: Value = serde_json::from_slice(&week.stdout).unwrap();
    let week = week["id"].as_str().unwrap().to_string();
    // A 30-day token with 6 days left will stop a script: it warns.
    let (month, _) = token(&server, "bob", "ops", "a month", false);
    let ends = Utc::now() + Duration::days(6);
    set_lifetime(&db, &month, ends - Duration::days(30), ends).await;
    let bob = &mut people[1];
    let response = bob.call("open_explorer", &[("team", "ops")]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let listed = json(bob.call("list_tokens", &[]).await).await;
    let explorer = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "explorer")
        .unwrap_or_else(|| panic!("no explorer token: {listed}"));
    assert_eq!(explorer["expiring_soon"], false, "{explorer}");
    assert_eq!(row(&listed, &week).unwrap()["expiring_soon"], false);
    assert_eq!(row(&listed, &month).unwrap()["expiring_soon"], true);
    let reminders = eventually("the month token's reminder", || async {
        let n = count(
            &db,
            "SELECT COUNT(*) AS n FROM notifications WHERE kind = 'expires_in_7_days' AND token_id = $1",
            [month.as_str().into()],
        )
        .await;
        (n == 1).then_some(n)
    })
    .await;
    assert_eq!(reminders, 1);
    // The sweep that found the month's token passed over the week's and the explorer's.
    let others = count(
        &db,
        "SELECT COUNT(*) AS n FROM notifications WHERE kind = 'expires_in_7_days' AND token_id <> $1",
        [month.as_str().into()],
    )
    .await;
    assert_eq!(others, 0);
}
