//! The endpoints every SCIM resource type has, once (RFC 7644 §3): list, get, create, replace
//! (PUT), PATCH and DELETE, generic over a [`Resource`] — `Users` and `Groups` — that says
//! which domain rules and which JSON it uses. What PATCH and bodies share is `super::attributes`.

use std::{collections::HashMap, future::Future, net::IpAddr};

use axum::{
    body::Bytes,
    extract::{Path, Query, State, rejection::BytesRejection},
    http::StatusCode,
};
use domain::identity::scim::{self as rules, Directory, ScimUser, UserChange, UserFilter, groups};
use sea_orm::DatabaseConnection;
use serde_json::Value;

use super::{
    Answer, ListRequest,
    attributes::Patchable,
    base, created_at,
    error::ScimError,
    filter, group, json_body, ok,
    user::{self, Projection},
};
use crate::{api::extract::Client, state::AppState};

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
