//! SCIM 2.0 under `/scim/v2` (RFC 7643, RFC 7644; docs/scim.md): an organisation's directory
//! provisions patdesk accounts and, above all, deprovisions them — `active: false` or DELETE
//! suspends the person at once (`domain::identity::scim`, which holds the rules).
//!
//! - the discovery documents (`discovery`), without a credential;
//! - `/Users` (list with `filter`, `startIndex`, `count`, `attributes`, `excludedAttributes`;
//!   create; `.search`) and `/Users/{id}` (get, PUT, PATCH, DELETE), `/Groups` and
//!   `/Groups/{id}` (the same but `.search`: teams' membership lists), with a SCIM credential
//!   (`Authorization: Bearer pdkscim_…`) checked by `authenticate`, which counts wrong ones
//!   against the address like the API's failed authentications;
//! - every error in the SCIM error schema (`error::ScimError`), unknown paths included.
//!
//! Bodies are limited as the API's are (64 KiB; 413). The guards let `/scim/` through without
//! a session or an `Origin` header: directories send neither.

mod attributes;
mod discovery;
mod error;
mod filter;
mod group;
mod resource;
mod user;

use std::collections::HashMap;

use axum::{
    Router,
    body::Bytes,
    extract::{DefaultBodyLimit, Path, Request, State, rejection::BytesRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{any, get, post},
};
use domain::identity::scim::{self as rules, Directory};
use serde_json::Value;

use self::{
    error::ScimError,
    resource::{Groups, Users, create, delete, get_one, list, patch, replace},
    user::Projection,
};
use crate::{
    api::{auth::count_failed_attempt, extract::Client},
    error::ApiError,
    limits::MAX_BODY_BYTES,
    state::AppState,
};

pub fn router(state: AppState) -> Router<AppState> {
    let users = Router::new()
        .route("/scim/v2/Users", get(list::<Users>).post(create::<Users>))
        .route("/scim/v2/Users/.search", post(search_users))
        .route(
            "/scim/v2/Users/{id}",
            get(get_one::<Users>)
                .put(replace::<Users>)
                .patch(patch::<Users>)
                .delete(delete::<Users>),
        )
        .route(
            "/scim/v2/Groups",
            get(list::<Groups>).post(create::<Groups>),
        )
        .route(
            "/scim/v2/Groups/{id}",
            get(get_one::<Groups>)
                .put(replace::<Groups>)
                .patch(patch::<Groups>)
                .delete(delete::<Groups>),
        )
        .route_layer(middleware::from_fn_with_state(state, authenticate));
    Router::new()
        .route(
            "/scim/v2/ServiceProviderConfig",
            get(service_provider_config),
        )
        .route("/scim/v2/ResourceTypes", get(resource_types))
        .route("/scim/v2/ResourceTypes/{id}", get(resource_type))
        .route("/scim/v2/Schemas", get(schemas))
        .route("/scim/v2/Schemas/{id}", get(schema))
        .route("/scim/v2/.search", post(search_everything))
        .merge(users)
        .route("/scim/v2/{*rest}", any(not_found))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// A SCIM answer: `application/scim+json`.
pub(crate) fn scim_json(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/scim+json"),
    );
    response
}

pub(super) type Answer = Result<Response, ScimError>;

pub(super) fn ok(body: &Value) -> Answer {
    Ok(scim_json(StatusCode::OK, body))
}

/// The value of `Authorization: Bearer …` (one header, the scheme in any case).
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let value = values.next()?.to_str().ok()?;
    if values.next().is_some() {
        return None;
    }
    let (scheme, credential) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| credential.trim())
}

/// Lets through a call with a live SCIM credential (the [`Directory`] goes into the request);
/// a wrong one is counted against the address, and an address over its budget is refused first.
async fn authenticate(
    State(state): State<AppState>,
    Client(ip): Client,
    mut request: Request,
    next: Next,
) -> Response {
    if let Some(ip) = ip
        && let Err(wait) = state.failed_auth.check(ip)
    {
        return ScimError::from(ApiError::rate_limited(wait)).into_response();
    }
    let presented = bearer(request.headers()).map(str::to_owned);
    let directory = match &presented {
        Some(value) => rules::authenticate(&state.db, value).await,
        None => Ok(None),
    };
    match directory {
        Ok(Some(directory)) => {
            request.extensions_mut().insert(directory);
            next.run(request).await
        }
        Ok(None) => {
            if let (Some(ip), Some(_)) = (ip, presented) {
                count_failed_attempt(&state, ip, true).await;
            }
            ScimError::unauthorized().into_response()
        }
        Err(error) => ScimError::from(error).into_response(),
    }
}

/// Where `/scim/v2` is, for `meta.location`.
pub(super) fn base(state: &AppState) -> String {
    state.public_url.as_str().trim_end_matches('/').to_string()
}

/// A JSON body, or the SCIM error saying why not (413 over the limit; 400 `invalidValue` for a
/// string, anywhere in it, holding a control character other than tab and line breaks, which an
/// escaped `\u0000` would otherwise carry to PostgreSQL).
pub(super) fn json_body(body: Result<Bytes, BytesRejection>) -> Result<Value, ScimError> {
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ScimError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                None,
                format!("The request body is larger than {MAX_BODY_BYTES} bytes."),
            )
        } else {
            ScimError::bad("invalidSyntax", rejection.body_text())
        }
    })?;
    let value = serde_json::from_slice(&bytes)
        .map_err(|e| ScimError::bad("invalidSyntax", format!("The body is not JSON: {e}.")))?;
    match crate::api::extract::refused_in_json(&value, "body") {
        Some(message) => Err(ScimError::bad("invalidValue", message)),
        None => Ok(value),
    }
}

/// 201 with the resource, and `Location` naming it.
pub(super) fn created_at(rendered: Value) -> Response {
    let mut response = scim_json(StatusCode::CREATED, &rendered);
    if let Some(location) = rendered["meta"]["location"]
        .as_str()
        .and_then(|l| HeaderValue::from_str(l).ok())
    {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

async fn service_provider_config() -> Answer {
    ok(&discovery::service_provider_config())
}

async fn resource_types() -> Answer {
    ok(&discovery::list(discovery::resource_types()))
}

async fn resource_type(Path(id): Path<String>) -> Answer {
    discovery::resource_types()
        .into_iter()
        .find(|t| t["id"] == id.as_str())
        .map_or_else(
            || Err(ScimError::not_found(format!("No resource type {id:?}."))),
            |t| ok(&t),
        )
}

async fn schemas() -> Answer {
    ok(&discovery::list(discovery::schemas()))
}

async fn schema(Path(id): Path<String>) -> Answer {
    discovery::schemas()
        .into_iter()
        .find(|s| {
            s["id"]
                .as_str()
                .is_some_and(|s| s.eq_ignore_ascii_case(&id))
        })
        .map_or_else(
            || Err(ScimError::not_found(format!("No schema {id:?}."))),
            |s| ok(&s),
        )
}

async fn not_found() -> ScimError {
    ScimError::not_found(
        "No such SCIM endpoint: patdesk serves /Users, /Groups and the discovery endpoints under /scim/v2.",
    )
}

/// `POST /.search` across resource types: patdesk has one (`/Users/.search`).
async fn search_everything() -> ScimError {
    ScimError::new(
        StatusCode::NOT_IMPLEMENTED,
        None,
        "Search Users at /scim/v2/Users/.search.",
    )
}

/// What a list is asked for, from the query string or a `.search` body.
pub(super) struct ListRequest {
    pub(super) filter: Option<String>,
    pub(super) start_index: Option<i64>,
    pub(super) count: Option<i64>,
    pub(super) attributes: Option<String>,
    pub(super) excluded: Option<String>,
}

fn number(name: &str, raw: Option<&String>) -> Result<Option<i64>, ScimError> {
    raw.map(|v| {
        v.trim()
            .parse()
            .map_err(|_| ScimError::bad("invalidValue", format!("{name} is a whole number.")))
    })
    .transpose()
}

/// `POST /Users/.search` (RFC 7644 §3.4.3): a list with its parameters in a SearchRequest.
async fn search_users(
    State(state): State<AppState>,
    axum::Extension(directory): axum::Extension<Directory>,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let body = json_body(body)?;
    let text = |name: &str| -> Result<Option<String>, ScimError> {
        match body.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Array(items)) => Ok(Some(
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(","),
            )),
            Some(_) => Err(ScimError::bad(
                "invalidValue",
                format!("{name} is a string."),
            )),
        }
    };
    let integer = |name: &str| -> Result<Option<i64>, ScimError> {
        match body.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or_else(|| {
                ScimError::bad("invalidValue", format!("{name} is a whole number."))
            }),
        }
    };
    let request = ListRequest {
        filter: text("filter")?,
        start_index: integer("startIndex")?,
        count: integer("count")?,
        attributes: text("attributes")?,
        excluded: text("excludedAttributes")?,
    };
    resource::list_with::<Users>(&state, &directory, request).await
}

impl ListRequest {
    /// A list's parameters from the query string (names in any case).
    pub(super) fn from_query(query: &HashMap<String, String>) -> Result<ListRequest, ScimError> {
        let find = |name: &str| {
            query
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        };
        Ok(ListRequest {
            filter: find("filter").cloned(),
            start_index: number("startIndex", find("startIndex"))?,
            count: number("count", find("count"))?,
            attributes: find("attributes").cloned(),
            excluded: find("excludedAttributes").cloned(),
        })
    }

    /// RFC 7644 §3.4.2.4: where the page starts (from 1; below 1 is 1), how many it skips, and
    /// how many it holds at most (a negative count is 0; at most `MAX_RESULTS`).
    pub(super) fn page(&self) -> (i64, u64, u64) {
        let start = self.start_index.unwrap_or(1).max(1);
        let max = discovery::MAX_RESULTS as i64;
        let count = self.count.unwrap_or(max).clamp(0, max);
        (start, (start - 1) as u64, count as u64)
    }

    /// A ListResponse of `resources`, narrowed as asked.
    pub(super) fn answer(&self, start: i64, total: u64, resources: Vec<Value>) -> Answer {
        let projection = Projection::new(self.attributes.as_deref(), self.excluded.as_deref());
        let resources: Vec<Value> = resources.into_iter().map(|r| projection.apply(r)).collect();
        ok(&serde_json::json!({
            "schemas": [discovery::LIST_SCHEMA],
            "totalResults": total,
            "startIndex": start,
            "itemsPerPage": resources.len(),
            "Resources": resources,
        }))
    }
}
