//! The endpoints every SCIM resource type has, once (RFC 7644 §3): list, get, create, replace
//! (PUT), PATCH and DELETE, generic over a [`Resource`] — `Users` and `Groups` — that says
//! which domain rules and which JSON it uses; and what PATCH and bodies share: [`AttributePath`],
//! [`patch_operations`] and [`Patchable`], the one reading of a PATCH request's operations.

use std::{collections::HashMap, future::Future, net::IpAddr};

use axum::{
    body::Bytes,
    extract::{Path, Query, State, rejection::BytesRejection},
    http::StatusCode,
};
use domain::identity::scim::{self as rules, Directory, ScimUser, UserChange, UserFilter, groups};
use sea_orm::DatabaseConnection;
use serde_json::{Map, Value};

use super::{
    Answer, ListRequest, base, created_at,
    error::ScimError,
    filter, group, json_body, ok,
    user::{self, Projection},
};
use crate::{api::extract::Client, state::AppState};

/// The values a PATCH writes (RFC 7644 §3.5.2), as a resource type's draft takes them.
pub(super) trait Patchable {
    /// `add` (`adding`) or `replace` at `path`.
    fn set(&mut self, path: &AttributePath, value: &Value, adding: bool) -> Result<(), ScimError>;

    /// `remove` at `path` (some take a value: the members to remove).
    fn remove(&mut self, path: &AttributePath, value: Option<&Value>) -> Result<(), ScimError>;

    /// Sets each attribute of a JSON object (a body, or an operation's value without a path).
    fn set_all(&mut self, object: &Map<String, Value>, adding: bool) -> Result<(), ScimError> {
        for (key, value) in object {
            match key.to_ascii_lowercase().as_str() {
                "schemas" | "id" | "meta" => {}
                _ => self.set(&AttributePath::parse(key)?, value, adding)?,
            }
        }
        Ok(())
    }

    /// Applies a PATCH request's operations in order.
    fn patch(&mut self, body: &Value) -> Result<(), ScimError> {
        for (op, path, value) in patch_operations(body)? {
            let adding = op == "add";
            match (op.as_str(), path, value) {
                ("add" | "replace", Some(path), Some(value)) => self.set(&path, value, adding)?,
                ("add" | "replace", None, Some(Value::Object(values))) => {
                    self.set_all(values, adding)?
                }
                ("add" | "replace", _, _) => {
                    return Err(ScimError::bad(
                        "invalidValue",
                        format!(
                            "A {op} operation needs a value (an object of attributes when it has no path)."
                        ),
                    ));
                }
                ("remove", Some(path), value) => self.remove(&path, value)?,
                ("remove", None, _) => {
                    return Err(ScimError::bad(
                        "noTarget",
                        "A remove operation needs a path.",
                    ));
                }
                _ => {
                    return Err(ScimError::bad(
                        "invalidSyntax",
                        format!("Unknown PATCH operation {op:?}: use add, replace or remove."),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The body as a JSON object whose `schemas` include `schema`.
pub(super) fn names_schema<'a>(
    body: &'a Value,
    schema: &str,
) -> Result<&'a Map<String, Value>, ScimError> {
    let object = body
        .as_object()
        .ok_or_else(|| ScimError::bad("invalidSyntax", "The body is not a JSON object."))?;
    let named = object
        .get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| {
            s.iter()
                .any(|v| v.as_str().is_some_and(|s| s.eq_ignore_ascii_case(schema)))
        });
    if !named {
        return Err(ScimError::bad(
            "invalidSyntax",
            format!("The body's schemas must include {schema}."),
        ));
    }
    Ok(object)
}

/// One PATCH operation: its op in lower case, its path, its value.
pub(super) type Operation<'a> = (String, Option<AttributePath>, Option<&'a Value>);

/// A PATCH body's operations (RFC 7644 §3.5.2).
pub(super) fn patch_operations(body: &Value) -> Result<Vec<Operation<'_>>, ScimError> {
    const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
    names_schema(body, PATCH_SCHEMA)?;
    let operations = body
        .get("Operations")
        .or_else(|| body.get("operations"))
        .and_then(Value::as_array)
        .filter(|ops| !ops.is_empty())
        .ok_or_else(|| {
            ScimError::bad(
                "invalidSyntax",
                "A PATCH body has a non-empty Operations array.",
            )
        })?;
    operations
        .iter()
        .map(|operation| {
            let op = operation
                .get("op")
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase)
                .unwrap_or_default();
            let path = match operation.get("path") {
                None | Some(Value::Null) => None,
                Some(Value::String(path)) => Some(AttributePath::parse(path)?),
                Some(_) => {
                    return Err(ScimError::bad(
                        "invalidPath",
                        "An operation's path is a string.",
                    ));
                }
            };
            Ok((op, path, operation.get("value")))
        })
        .collect()
}

/// An attribute path: `userName`, `emails.value`, `emails[type eq "work"].value`,
/// `members[value eq "12"]`, with or without its schema's URN in front.
pub(super) struct AttributePath {
    /// In lower case.
    pub attribute: String,
    /// After a `.`, in lower case.
    pub sub: Option<String>,
    /// Between `[` and `]`, as written (a User's address filter is read past: one is kept).
    pub filter: Option<String>,
}

impl AttributePath {
    pub fn parse(raw: &str) -> Result<AttributePath, ScimError> {
        let trimmed = raw.trim();
        let lower = trimmed.to_ascii_lowercase();
        if lower.starts_with(EXTENSION_PREFIX) {
            // An extension's attributes (the enterprise User's, …) are not kept.
            return Ok(AttributePath {
                attribute: "name".into(),
                sub: None,
                filter: None,
            });
        }
        let skip = [USER_URN_PREFIX, GROUP_URN_PREFIX]
            .iter()
            .find(|prefix| lower.starts_with(*prefix))
            .map_or(0, |prefix| prefix.len());
        let path = &trimmed[skip..];
        let (attribute, filter, rest) = match path.split_once('[') {
            Some((attribute, rest)) => {
                let (filter, after) = rest.split_once(']').ok_or_else(|| {
                    ScimError::bad(
                        "invalidPath",
                        format!("The path {raw:?} has an unclosed filter."),
                    )
                })?;
                let after = after.strip_prefix('.').unwrap_or(after);
                (attribute, Some(filter.to_string()), after)
            }
            None => match path.split_once('.') {
                Some((attribute, sub)) => (attribute, None, sub),
                None => (path, None, ""),
            },
        };
        if attribute.is_empty() {
            return Err(ScimError::bad(
                "invalidPath",
                format!("The path {raw:?} names no attribute."),
            ));
        }
        Ok(AttributePath {
            attribute: attribute.to_ascii_lowercase(),
            sub: (!rest.is_empty()).then(|| rest.to_ascii_lowercase()),
            filter,
        })
    }
}

/// Attribute names may carry their schema's URN in front (lower case here).
pub(super) const USER_URN_PREFIX: &str = "urn:ietf:params:scim:schemas:core:2.0:user:";
const GROUP_URN_PREFIX: &str = "urn:ietf:params:scim:schemas:core:2.0:group:";
const EXTENSION_PREFIX: &str = "urn:ietf:params:scim:schemas:extension:";

type Outcome<T> = domain::Result<T>;

/// One resource type: its rules (`domain::identity::scim`) and its JSON.
pub(super) trait Resource: Send + Sync + 'static {
    type Item: Send + Sync;
    type Filter: Send + Sync;
    type Change: Send;
    type Draft: Patchable + Send;
    /// For "No such …".
    const WHAT: &'static str;

    fn filter(raw: &str) -> Result<Self::Filter, ScimError>;
    fn render(item: &Self::Item, base: &str) -> Value;
    fn draft_of(item: &Self::Item) -> Self::Draft;
    fn draft_from_body(body: &Value) -> Result<Self::Draft, ScimError>;
    fn change(draft: Self::Draft) -> Result<Self::Change, ScimError>;

    fn list(
        db: &DatabaseConnection,
        directory: &Directory,
        filter: Option<&Self::Filter>,
        skip: u64,
        count: u64,
    ) -> impl Future<Output = Outcome<(u64, Vec<Self::Item>)>> + Send;
    fn get(
        db: &DatabaseConnection,
        directory: &Directory,
        id: i64,
    ) -> impl Future<Output = Outcome<Self::Item>> + Send;
    fn create(
        db: &DatabaseConnection,
        directory: &Directory,
        change: Self::Change,
        ip: Option<IpAddr>,
    ) -> impl Future<Output = Outcome<Self::Item>> + Send;
    /// `change` gets the resource as it is, in the transaction that changes it.
    fn replace(
        db: &DatabaseConnection,
        directory: &Directory,
        id: i64,
        change: impl FnOnce(&Self::Item) -> Result<Self::Change, ScimError> + Send,
        ip: Option<IpAddr>,
    ) -> impl Future<Output = Result<Self::Item, ScimError>> + Send;
    fn delete(
        db: &DatabaseConnection,
        directory: &Directory,
        id: i64,
        ip: Option<IpAddr>,
    ) -> impl Future<Output = Outcome<()>> + Send;
}

/// Accounts.
pub(super) struct Users;

impl Resource for Users {
    type Item = ScimUser;
    type Filter = UserFilter;
    type Change = UserChange;
    type Draft = user::Draft;
    const WHAT: &'static str = "user";

    fn filter(raw: &str) -> Result<UserFilter, ScimError> {
        filter::parse(raw)
    }
    fn render(item: &ScimUser, base: &str) -> Value {
        user::render(item, base)
    }
    fn draft_of(item: &ScimUser) -> user::Draft {
        user::Draft::of(item)
    }
    fn draft_from_body(body: &Value) -> Result<user::Draft, ScimError> {
        user::Draft::from_body(body)
    }
    fn change(draft: user::Draft) -> Result<UserChange, ScimError> {
        draft.into_change()
    }
    fn list(
        db: &DatabaseConnection,
        directory: &Directory,
        filter: Option<&UserFilter>,
        skip: u64,
        count: u64,
    ) -> impl Future<Output = Outcome<(u64, Vec<ScimUser>)>> + Send {
        rules::list(db, directory, filter, skip, count)
    }
    fn get(
        db: &DatabaseConnection,
        directory: &Directory,
        id: i64,
    ) -> impl Future<Output = Outcome<ScimUser>> + Send {
        rules::get(db, directory, id)
    }
    fn create(
        db: &DatabaseConnection,
        directory: &Directory,
        change: UserChange,
        ip: Option<IpAddr>,
    ) -> impl Future<Output = Outcome<ScimUser>> + Send {
        rules::create(db, directory, change, ip)
    }
    fn replace(
        db: &DatabaseConnection,
        directory: &Directory,
        id: i64,
        change: impl FnOnce(&ScimUser) -> Result<UserChange, ScimError> + Send,
        ip: Option<IpAddr>,
    ) -> impl Future<Output = Result<ScimUser, ScimError>> + Send {
        rules::replace(db, directory, id, change, ip)
    }
    fn delete(
        db: &DatabaseConnection,
        directory: &Directory,
        id: i64,
        ip: Option<IpAddr>,
    ) -> impl Future<Output = Outcome<()>> + Send {
        rules::delete(db, directory, id, ip)
    }
}

/// Teams' membership lists.
pub(super) struct Groups;

impl Resource for Groups {
    type Item = groups::ScimGroup;
    type Filter = groups::GroupFilter;
    type Change = groups::GroupChange;
    type Draft = group::GroupDraft;
    const WHAT: &'static str = "group";

    fn filter(raw: &str) -> Result<groups::GroupFilter, ScimError> {
        filter::parse_group(raw)
    }
    fn render(item: &groups::ScimGroup, base: &str) -> Value {
        group::render(item, base)
    }
    fn draft_of(item: &groups::ScimGroup) -> group::GroupDraft {
        group::GroupDraft::of(item)
    }
    fn draft_from_body(body: &Value) -> Result<group::GroupDraft, ScimError> {
        group::GroupDraft::from_body(body)
    }
    fn change(draft: group::GroupDraft) -> Result<groups::GroupChange, ScimError> {
        draft.into_change()
    }
    fn list(
        db: &DatabaseConnection,
        directory: &Directory,
        filter: Option<&groups::GroupFilter>,
        skip: u64,
        count: u64,
    ) -> impl Future<Output = Outcome<(u64, Vec<groups::ScimGroup>)>> + Send {
        groups::list(db, directory, filter, skip, count)
    }
    fn get(
        db: &DatabaseConnection,
        directory: &Directory,
        id: i64,
    ) -> impl Future<Output = Outcome<groups::ScimGroup>> + Send {
        groups::get(db, directory, id)
    }
    fn create(
        db: &DatabaseConnection,
        directory: &Directory,
        change: groups::GroupChange,
        ip: Option<IpAddr>,
    ) -> impl Future<Output = Outcome<groups::ScimGroup>> + Send {
        groups::create(db, directory, change, ip)
    }
    fn replace(
        db: &DatabaseConnection,
        directory: &Directory,
        id: i64,
        change: impl FnOnce(&groups::ScimGroup) -> Result<groups::GroupChange, ScimError> + Send,
        ip: Option<IpAddr>,
    ) -> impl Future<Output = Result<groups::ScimGroup, ScimError>> + Send {
        groups::replace(db, directory, id, change, ip)
    }
    fn delete(
        db: &DatabaseConnection,
        directory: &Directory,
        id: i64,
        ip: Option<IpAddr>,
    ) -> impl Future<Output = Outcome<()>> + Send {
        groups::delete(db, directory, id, ip)
    }
}

/// `/<Type>/{id}`: ids are numbers; anything else names nothing.
fn id_of<R: Resource>(raw: &str) -> Result<i64, ScimError> {
    raw.parse()
        .map_err(|_| ScimError::not_found(format!("No such {}.", R::WHAT)))
}

/// A page of resources, as `request` asks.
pub(super) async fn list_with<R: Resource>(
    state: &AppState,
    directory: &Directory,
    request: ListRequest,
) -> Answer {
    let filter = request.filter.as_deref().map(R::filter).transpose()?;
    let (start, skip, count) = request.page();
    let (total, items) = R::list(&state.db, directory, filter.as_ref(), skip, count).await?;
    let base = base(state);
    let resources = items.iter().map(|item| R::render(item, &base)).collect();
    request.answer(start, total, resources)
}

pub(super) async fn list<R: Resource>(
    State(state): State<AppState>,
    axum::Extension(directory): axum::Extension<Directory>,
    Query(query): Query<HashMap<String, String>>,
) -> Answer {
    list_with::<R>(&state, &directory, ListRequest::from_query(&query)?).await
}

pub(super) async fn get_one<R: Resource>(
    State(state): State<AppState>,
    axum::Extension(directory): axum::Extension<Directory>,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Answer {
    let found = R::get(&state.db, &directory, id_of::<R>(&id)?).await?;
    let request = ListRequest::from_query(&query)?;
    let projection = Projection::new(request.attributes.as_deref(), request.excluded.as_deref());
    ok(&projection.apply(R::render(&found, &base(&state))))
}

pub(super) async fn create<R: Resource>(
    State(state): State<AppState>,
    axum::Extension(directory): axum::Extension<Directory>,
    Client(ip): Client,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let change = R::change(R::draft_from_body(&json_body(body)?)?)?;
    let created = R::create(&state.db, &directory, change, ip).await?;
    Ok(created_at(R::render(&created, &base(&state))))
}

pub(super) async fn replace<R: Resource>(
    State(state): State<AppState>,
    axum::Extension(directory): axum::Extension<Directory>,
    Client(ip): Client,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let id = id_of::<R>(&id)?;
    let change = R::change(R::draft_from_body(&json_body(body)?)?)?;
    let replaced = R::replace(&state.db, &directory, id, move |_| Ok(change), ip).await?;
    ok(&R::render(&replaced, &base(&state)))
}

/// PATCH: the operations applied to the resource as it is in the transaction that saves it.
pub(super) async fn patch<R: Resource>(
    State(state): State<AppState>,
    axum::Extension(directory): axum::Extension<Directory>,
    Client(ip): Client,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let id = id_of::<R>(&id)?;
    let body = json_body(body)?;
    let patch = move |current: &R::Item| {
        let mut draft = R::draft_of(current);
        draft.patch(&body)?;
        R::change(draft)
    };
    let patched = R::replace(&state.db, &directory, id, patch, ip).await?;
    ok(&R::render(&patched, &base(&state)))
}

pub(super) async fn delete<R: Resource>(
    State(state): State<AppState>,
    axum::Extension(directory): axum::Extension<Directory>,
    Client(ip): Client,
    Path(id): Path<String>,
) -> Result<StatusCode, ScimError> {
    R::delete(&state.db, &directory, id_of::<R>(&id)?, ip).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A PATCH request's body with these operations (for the drafts' unit tests).
#[cfg(test)]
pub(super) fn patch_request(operations: Value) -> Value {
    serde_json::json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": operations,
    })
}
