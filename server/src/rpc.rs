//! Server functions (`/rpc/*`) answer errors with HTTP 500 whatever went wrong. This layer reads
//! the [`AppError`] in such a response and gives it the status that says what happened
//! (422 for bad input, 401, 403, 404, 409), so that only our own faults are 500s.

use app::error::AppError;
use axum::{
    body::Body,
    extract::Request,
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::Response,
};
use leptos::server_fn::error::ServerFnErrorErr;

/// Error bodies are small; anything larger is passed on untouched.
const MAX_ERROR_BODY: usize = 64 * 1024;

pub fn status_for(error: &AppError) -> StatusCode {
    match error {
        AppError::Field { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
        AppError::Forbidden(_) => StatusCode::FORBIDDEN,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::Rule(_) => StatusCode::CONFLICT,
        AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        AppError::ServerFn(
            ServerFnErrorErr::Args(_)
            | ServerFnErrorErr::Deserialization(_)
            | ServerFnErrorErr::MissingArg(_),
        ) => StatusCode::BAD_REQUEST,
        AppError::ServerFn(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

pub async fn error_status(request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with("/rpc/") {
        return next.run(request).await;
    }
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        return Response::from_parts(parts, Body::empty());
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = status_for(&error);
        if let AppError::RateLimited { retry_after } = error {
            parts
                .headers
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}
