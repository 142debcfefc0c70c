//! The token-authenticated REST API under `/api/v1` (PRODUCT.md §3, §4).
//!
//! - [`auth`]: reads `Authorization`, runs every check of §3 (via `domain::access`) in one
//!   middleware, and adds `Patdesk-Token-Expiration` to successful answers.
//! - [`error`]: `ApiError`, the one place where refusals and failures become HTTP responses.
//! - [`handlers`]: the endpoints.
//! - [`model`]: request and response bodies, and the OpenAPI 3.1 document (`/api/openapi.json`).
//!
//! Session cookies play no part here: only tokens authenticate the API.

pub mod auth;
pub mod error;
pub mod handlers;
pub mod model;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    middleware,
    routing::{delete, get, post},
};

use crate::web::AppState;

/// Request bodies above this are refused with 413 `payload_too_large`.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

pub fn router(state: AppState) -> Router<AppState> {
    use handlers as h;
    Router::new()
        .route("/api/v1/me", get(h::me))
        .route("/api/v1/tokens/self", delete(h::delete_self))
        .route("/api/v1/tokens/self/regenerate", post(h::regenerate_self))
        .route(
            "/api/v1/teams/{team}/questions",
            get(h::list_questions).post(h::create_question),
        )
        .route(
            "/api/v1/teams/{team}/questions/{id}",
            get(h::get_question)
                .patch(h::update_question)
                .delete(h::delete_question),
        )
        .route(
            "/api/v1/teams/{team}/questions/{id}/answers",
            get(h::list_answers).post(h::create_answer),
        )
        .route(
            "/api/v1/teams/{team}/questions/{id}/answers/{answer_id}",
            axum::routing::patch(h::update_answer).delete(h::delete_answer),
        )
        .route_layer(middleware::from_fn_with_state(state, auth::authenticate))
        .route("/api/openapi.json", get(openapi_json))
        // Unknown API paths get a JSON 404, not the web app's page.
        .route("/api/v1/{*rest}", axum::routing::any(not_found))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

async fn not_found() -> error::ApiError {
    error::ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        "not_found",
        "No such API endpoint. The API is described at /api/openapi.json.",
    )
}

/// The OpenAPI 3.1 document, generated from the handlers.
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi;
    model::ApiDoc::openapi()
}

async fn openapi_json() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(openapi())
}
