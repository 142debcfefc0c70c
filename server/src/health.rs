//! Health checks for load balancers and orchestrators.
//!
//! `/healthz`: the process is up and serving. `/readyz`: it can also reach its database (503
//! `service_unavailable` when it cannot).

use axum::{Json, extract::State, response::IntoResponse};
use sea_orm::DatabaseConnection;
use serde_json::json;

use crate::error::ApiError;

pub async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

pub async fn readyz(State(db): State<DatabaseConnection>) -> Result<impl IntoResponse, ApiError> {
    match domain::db::ping(&db).await {
        Ok(()) => Ok(Json(json!({ "status": "ready", "database": "ok" }))),
        Err(error) => {
            tracing::warn!(%error, "readiness check: database unreachable");
            Err(ApiError::unavailable())
        }
    }
}
