//! `GET /password-reset?code=…`, the link a "Forgot password?" mail carries
//! (docs/accounts.md): it puts the code into a short-lived `HttpOnly` cookie and redirects to
//! the reset page, `/reset-password`, so that the secret is out of the address bar, the
//! browser's history and any later `Referer` before the page draws anything. The answer is
//! never cached and sends no referrer (`headers::security_headers` keeps this path's policy).
//! The request log shows the query's name only (`telemetry::request_span`).

use axum::{
    extract::{Query, Request},
    http::{HeaderValue, header},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct ResetLink {
    code: Option<String>,
}

pub async fn follow_link(Query(link): Query<ResetLink>, request: Request) -> Response {
    let secure = app::request::over_https(request.extensions());
    let mut response = Redirect::to("/reset-password").into_response();
    // A malformed code sets nothing: the page then says the link is not usable.
    if let Some(cookie) = link
        .code
        .as_deref()
        .and_then(|code| domain::identity::password_reset::set_cookie(code.trim(), secure))
        && let Ok(value) = HeaderValue::from_str(&cookie)
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}
