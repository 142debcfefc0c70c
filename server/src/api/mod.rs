//! The token-authenticated REST API under `/api/v1` (`docs/api.md`).
//!
//! - [`auth`]: reads `Authorization`, runs every check of the auth rules (via `domain::tokens::access`)
//!   in one middleware, and adds `Patdesk-Token-Expiration` to successful answers.
//! - [`handlers`]: the endpoints, each defined once by its `#[utoipa::path]` annotation.
//! - [`forward_auth`]: the same token checks for other services: `/auth/verify` for reverse
//!   proxies and `/oauth/introspect` (RFC 7662) for services that check tokens themselves.
//! - [`oauth`], `/oauth/token` (RFC 8693: a CI job's identity token for a short-lived token)
//!   and `/oauth/revoke` (RFC 7009).
//! - [`gitlab_revocation`]: GitLab's Token Revocation API, for its secret detection.
//! - [`extract`]: request extractors that answer malformed requests with an `ApiError`.
//! - [`model`]: request and response bodies.
//! - [`openapi`]: the OpenAPI 3.1 document's own parts (`/api/openapi.json`).
//!
//! Refusals and failures become responses in `crate::error::ApiError`. Session cookies play no
//! part here: only tokens authenticate the API.

pub mod auth;
pub mod extract;
pub mod forward_auth;
pub mod gitlab_revocation;
pub mod handlers;
pub mod model;
pub mod oauth;
pub mod openapi;

use std::collections::HashMap;

use axum::{Router, extract::DefaultBodyLimit, http::Method, middleware, routing::get};
use domain::tokens::permissions::Permission;
use utoipa::OpenApi as _;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{error::ApiError, limits::MAX_BODY_BYTES, state::AppState};

/// Every endpoint, mounted and described in one list.
fn endpoints() -> OpenApiRouter<AppState> {
    use handlers as h;
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(h::me))
        .routes(routes!(h::delete_self))
        .routes(routes!(h::regenerate_self))
        .routes(routes!(h::rotate_self))
        .routes(routes!(h::self_usage))
        .routes(routes!(h::list_questions, h::create_question))
        .routes(routes!(
            h::get_question,
            h::update_question,
            h::delete_question
        ))
        .routes(routes!(h::list_answers, h::create_answer))
        .routes(routes!(h::update_answer, h::delete_answer))
        .routes(routes!(h::list_team_tokens))
        .routes(routes!(h::revoke_team_token))
        .routes(routes!(h::team_token_usage))
}

/// The endpoints that take no token (in the document all the same).
fn public_endpoints() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(handlers::report_leaked))
        .routes(routes!(forward_auth::introspect))
        .routes(routes!(oauth::token))
        .routes(routes!(oauth::revoke))
}

pub fn router(state: AppState) -> Router<AppState> {
    let (endpoints, _) = endpoints().split_for_parts();
    let (public, _) = public_endpoints().split_for_parts();
    // Read every endpoint's permissions now: a bad one stops the server at start, not a call.
    let _ = needed_permissions(&Method::GET, "/api/v1/me");
    endpoints
        .route_layer(middleware::from_fn_with_state(state, auth::authenticate))
        .merge(public)
        .route("/api/openapi.json", get(openapi_json))
        // For reverse proxies: not in the document (no body, answers in headers).
        .route("/auth/verify", get(forward_auth::verify))
        // GitLab's Token Revocation API, in GitLab's shapes (docs/leaks.md): not in the document.
        .route(
            "/api/gitlab/v1/revocable_token_types",
            get(gitlab_revocation::revocable_token_types),
        )
        .route(
            "/api/gitlab/v1/revoke_tokens",
            axum::routing::post(gitlab_revocation::revoke_tokens),
        )
        // Unknown API paths get a JSON 404, not the web app's page.
        .route("/api/v1/{*rest}", axum::routing::any(not_found))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

async fn not_found() -> ApiError {
    ApiError::not_found("No such API endpoint. The API is described at /api/openapi.json.")
}

/// The OpenAPI 3.1 document, generated from the handlers once per process.
pub fn openapi() -> &'static serde_json::Value {
    static DOCUMENT: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let (_, document) = endpoints().merge(public_endpoints()).split_for_parts();
        openapi::finish(document)
    })
}

/// The permissions an endpoint needs (docs/permissions.md), by method and route template.
/// Each handler's `#[utoipa::path]` declares them once, as its operation's security requirement
/// (`security(("bearer" = ["questions:read"]))`, which Swagger UI shows); this reads them back
/// from the document, so the route table stays the one place that says what each endpoint
/// needs. An operation without its own requirement (`/api/v1/me`) needs none beyond a token.
pub fn needed_permissions(method: &Method, template: &str) -> &'static [Permission] {
    static TABLE: std::sync::OnceLock<HashMap<(String, String), Vec<Permission>>> =
        std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| permissions_in(openapi()));
    table
        .get(&(method.as_str().to_ascii_lowercase(), template.to_string()))
        .map_or(&[], Vec::as_slice)
}

/// (method, path) → the `bearer` requirement's scopes of each operation of `document`.
fn permissions_in(document: &serde_json::Value) -> HashMap<(String, String), Vec<Permission>> {
    let mut table = HashMap::new();
    let Some(paths) = document["paths"].as_object() else {
        return table;
    };
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for (method, operation) in item {
            let scopes = operation["security"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|requirement| requirement["bearer"].as_array())
                .flatten()
                .filter_map(serde_json::Value::as_str);
            let needs: Vec<Permission> = scopes
                .map(|scope| {
                    // A typo in an annotation must not open the endpoint: it stops the server
                    // (and `api_permissions` tests every one).
                    scope.parse().unwrap_or_else(|e| {
                        panic!("{method} {path}: bad permission in its annotation: {e}")
                    })
                })
                .collect();
            if !needs.is_empty() {
                table.insert((method.clone(), path.clone()), needs);
            }
        }
    }
    table
}

async fn openapi_json() -> axum::Json<&'static serde_json::Value> {
    axum::Json(openapi())
}
