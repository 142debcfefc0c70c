//! The `/api/v1` endpoints. Each runs after `auth::authenticate`, which has already checked
//! the token, the team in the path and write access; here they only do their work, scoped to
//! the token's team. Each `#[utoipa::path]` annotation is the endpoint's one definition: `api::router`
//! mounts the handlers with `routes!`, which also puts them into the OpenAPI document.

use std::sync::Arc;

use axum::{
    Extension, Json,
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use domain::{
    content,
    content::pages::QuestionPages,
    tokens::access::{Denied, TokenCaller, WriteGrant},
};
use sea_orm::DatabaseConnection;

use super::{
    extract::{Body, Client, Ids, Params},
    model::{
        AnswerBody, AnswerOut, AnswerPath, ErrorBody, LeakReport, LeakReportAccepted, ListPage, Me,
        NewQuestion, PageQuery, QuestionChanges, QuestionOut, QuestionPath, Regenerated,
        RevokeQuery, RotateRequest, Rotated, TeamPath, TeamTokenOut, TeamTokenPath, TeamTokenQuery,
        UsageOut, UsageQuery,
    },
    openapi::answers::{
        BadPage, BodyRefused, NoSuchAnswer, NoSuchQuestion, NotAMember, ReadRefused, WriteRefused,
    },
};
use crate::{error::ApiError, state::AppState};

type ApiResult<T> = Result<T, ApiError>;

/// The permission to write that the middleware obtained for this call: every write of team
/// content is checked with `write` (`auth::authenticate`), so a read-only token never has one.
fn grant(caller: &TokenCaller) -> ApiResult<&WriteGrant> {
    caller
        .write_grant()
        .ok_or_else(|| ApiError::from(Denied::ReadOnlyToken))
}

/// The caller and the token in use.
#[utoipa::path(
    get, path = "/api/v1/me", tag = "tokens",
    responses(
        (status = 200, description = "The caller and the token", body = Me,
            headers(("Patdesk-Token-Expiration" = String, description = "RFC 3339, or `never`"))),
        NotAMember,
    )
)]
pub async fn me(Extension(caller): Extension<TokenCaller>) -> Json<Me> {
    Json(Me::of(&caller))
}

/// A new secret for the calling token (same id and settings, same lifetime from now). The old
/// secret stops working at once; for 30 days it gets 401 `token_regenerated`. Allowed to
/// read-only tokens.
#[utoipa::path(
    post, path = "/api/v1/tokens/self/regenerate", tag = "tokens",
    security(("bearer" = ["tokens:self"])),
    responses(
        (status = 200, description = "The new value, shown once", body = Regenerated),
        NotAMember,
    )
)]
pub async fn regenerate_self(
    State(db): State<DatabaseConnection>,
    Client(ip): Client,
    Extension(caller): Extension<TokenCaller>,
) -> ApiResult<Response> {
    let issued = domain::tokens::regenerate(
        &db,
        domain::Origin::new(caller.user_id(), ip),
        &caller.token().id,
    )
    .await?;
    Ok(never_stored(Json(Regenerated {
        id: issued.info.id.clone(),
        token: issued.secret.expose().to_string(),
        expires_at: issued.info.expires_at.map(|at| at.to_rfc3339()),
    })))
}

/// An answer carrying a token's value: no browser or proxy may keep it.
fn never_stored(body: impl IntoResponse) -> Response {
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A new value for the calling token, like regenerate, while the value used for this call keeps
/// working for `overlap_seconds` (so that the jobs using it can be moved over without a gap);
/// after that it gets 401 `token_rotated`. A value an earlier rotation left working stops at
/// once. Must be called with the token's current value. Allowed to read-only tokens.
#[utoipa::path(
    post, path = "/api/v1/tokens/self/rotate", tag = "tokens",
    security(("bearer" = ["tokens:self"])),
    request_body = RotateRequest,
    responses(
        (status = 200, description = "The new value, shown once", body = Rotated),
        NotAMember,
        (status = 409, description = "Called with the old value of a rotation under way", body = ErrorBody),
        (status = 422, description = "`overlap_seconds` out of range, or past the token's expiry", body = ErrorBody),
    )
)]
pub async fn rotate_self(
    State(db): State<DatabaseConnection>,
    State(min_overlap): State<domain::tokens::MinOverlap>,
    Client(ip): Client,
    Extension(caller): Extension<TokenCaller>,
    Body(request): Body<RotateRequest>,
) -> ApiResult<Response> {
    if caller.old_value() {
        // Only one old value is kept: rotating from it would end it at once, and the value the
        // current holders use would become the old one.
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "This is the old value of a rotated token: rotate with the token's current value.",
        ));
    }
    let rotated = domain::tokens::rotate(
        &db,
        domain::Origin::new(caller.user_id(), ip),
        &caller.token().id,
        request.overlap_seconds,
        min_overlap,
    )
    .await?;
    let issued = rotated.issued;
    Ok(never_stored(Json(Rotated {
        id: issued.info.id.clone(),
        token: issued.secret.expose().to_string(),
        expires_at: issued.info.expires_at.map(|at| at.to_rfc3339()),
        old_value_valid_until: rotated.old_valid_until.to_rfc3339(),
    })))
}

/// The calling token deletes itself; calls with it fail from now on. Allowed to read-only tokens.
#[utoipa::path(
    delete, path = "/api/v1/tokens/self", tag = "tokens",
    security(("bearer" = ["tokens:self"])),
    responses(
        (status = 204, description = "Deleted"),
        NotAMember,
    )
)]
pub async fn delete_self(
    State(db): State<DatabaseConnection>,
    Client(ip): Client,
    Extension(caller): Extension<TokenCaller>,
) -> ApiResult<StatusCode> {
    domain::tokens::delete(
        &db,
        domain::Origin::new(caller.user_id(), ip),
        &caller.token().id,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The team's questions, newest first.
#[utoipa::path(
    get, path = "/api/v1/teams/{team}/questions", tag = "questions",
    security(("bearer" = ["questions:read"])),
    params(TeamPath, PageQuery),
    responses(
        (status = 200, description = "A page of questions", body = ListPage<QuestionOut>),
        ReadRefused,
        BadPage,
    )
)]
pub async fn list_questions(
    State(db): State<DatabaseConnection>,
    State(pages): State<Arc<QuestionPages>>,
    Extension(caller): Extension<TokenCaller>,
    Params(params): Params<PageQuery>,
) -> ApiResult<Json<ListPage<QuestionOut>>> {
    let (page, per_page) = content::page_params(params.page, params.per_page)?;
    let found =
        content::list_questions(&db, &pages, caller.token().team_id, page, per_page).await?;
    Ok(Json(ListPage::of(found.as_ref(), |q| QuestionOut::from(q))))
}

/// Asks a question (needs a write token and the writer or admin role).
#[utoipa::path(
    post, path = "/api/v1/teams/{team}/questions", tag = "questions",
    security(("bearer" = ["questions:write"])),
    params(TeamPath),
    request_body = NewQuestion,
    responses(
        (status = 201, description = "Created", body = QuestionOut),
        WriteRefused,
        BodyRefused,
    )
)]
pub async fn create_question(
    State(db): State<DatabaseConnection>,
    State(pages): State<Arc<QuestionPages>>,
    Extension(caller): Extension<TokenCaller>,
    Body(new): Body<NewQuestion>,
) -> ApiResult<(StatusCode, Json<QuestionOut>)> {
    let question =
        content::create_question(&db, &pages, grant(&caller)?, &new.title, &new.body).await?;
    Ok((StatusCode::CREATED, Json(QuestionOut::from(&question))))
}

/// One question.
#[utoipa::path(
    get, path = "/api/v1/teams/{team}/questions/{id}", tag = "questions",
    security(("bearer" = ["questions:read"])),
    params(QuestionPath),
    responses(
        (status = 200, description = "The question", body = QuestionOut),
        ReadRefused,
        NoSuchQuestion,
    )
)]
pub async fn get_question(
    State(db): State<DatabaseConnection>,
    Extension(caller): Extension<TokenCaller>,
    Ids(path): Ids<QuestionPath>,
) -> ApiResult<Json<QuestionOut>> {
    let id = path.id;
    let question = content::get_question(&db, caller.token().team_id, id).await?;
    Ok(Json(QuestionOut::from(&question)))
}

/// Edits a question's title and/or body.
#[utoipa::path(
    patch, path = "/api/v1/teams/{team}/questions/{id}", tag = "questions",
    security(("bearer" = ["questions:write"])),
    params(QuestionPath),
    request_body = QuestionChanges,
    responses(
        (status = 200, description = "The edited question", body = QuestionOut),
        WriteRefused,
        NoSuchQuestion,
        BodyRefused,
    )
)]
pub async fn update_question(
    State(db): State<DatabaseConnection>,
    State(pages): State<Arc<QuestionPages>>,
    Extension(caller): Extension<TokenCaller>,
    Ids(path): Ids<QuestionPath>,
    Body(changes): Body<QuestionChanges>,
) -> ApiResult<Json<QuestionOut>> {
    let id = path.id;
    let question = content::update_question(
        &db,
        &pages,
        id,
        grant(&caller)?,
        changes.title.as_deref(),
        changes.body.as_deref(),
    )
    .await?;
    Ok(Json(QuestionOut::from(&question)))
}

/// Deletes a question and its answers.
#[utoipa::path(
    delete, path = "/api/v1/teams/{team}/questions/{id}", tag = "questions",
    security(("bearer" = ["questions:write"])),
    params(QuestionPath),
    responses(
        (status = 204, description = "Deleted"),
        WriteRefused,
        NoSuchQuestion,
    )
)]
pub async fn delete_question(
    State(db): State<DatabaseConnection>,
    State(pages): State<Arc<QuestionPages>>,
    Extension(caller): Extension<TokenCaller>,
    Ids(path): Ids<QuestionPath>,
) -> ApiResult<StatusCode> {
    let id = path.id;
    content::delete_question(&db, &pages, id, grant(&caller)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A question's answers, oldest first.
#[utoipa::path(
    get, path = "/api/v1/teams/{team}/questions/{id}/answers", tag = "answers",
    security(("bearer" = ["answers:read"])),
    params(QuestionPath, PageQuery),
    responses(
        (status = 200, description = "A page of answers", body = ListPage<AnswerOut>),
        ReadRefused,
        NoSuchQuestion,
        BadPage,
    )
)]
pub async fn list_answers(
    State(db): State<DatabaseConnection>,
    Extension(caller): Extension<TokenCaller>,
    Ids(path): Ids<QuestionPath>,
    Params(params): Params<PageQuery>,
) -> ApiResult<Json<ListPage<AnswerOut>>> {
    let id = path.id;
    let (page, per_page) = content::page_params(params.page, params.per_page)?;
    let found = content::list_answers(&db, caller.token().team_id, id, page, per_page).await?;
    Ok(Json(ListPage::of(&found, |a| AnswerOut::from(a))))
}

/// Answers a question.
#[utoipa::path(
    post, path = "/api/v1/teams/{team}/questions/{id}/answers", tag = "answers",
    security(("bearer" = ["answers:write"])),
    params(QuestionPath),
    request_body = AnswerBody,
    responses(
        (status = 201, description = "Created", body = AnswerOut),
        WriteRefused,
        NoSuchQuestion,
        BodyRefused,
    )
)]
pub async fn create_answer(
    State(db): State<DatabaseConnection>,
    Extension(caller): Extension<TokenCaller>,
    Ids(path): Ids<QuestionPath>,
    Body(new): Body<AnswerBody>,
) -> ApiResult<(StatusCode, Json<AnswerOut>)> {
    let id = path.id;
    let answer = content::create_answer(&db, id, grant(&caller)?, &new.body).await?;
    Ok((StatusCode::CREATED, Json(AnswerOut::from(&answer))))
}

/// Edits an answer.
#[utoipa::path(
    patch, path = "/api/v1/teams/{team}/questions/{id}/answers/{answer_id}", tag = "answers",
    security(("bearer" = ["answers:write"])),
    params(AnswerPath),
    request_body = AnswerBody,
    responses(
        (status = 200, description = "The edited answer", body = AnswerOut),
        WriteRefused,
        NoSuchAnswer,
        BodyRefused,
    )
)]
pub async fn update_answer(
    State(db): State<DatabaseConnection>,
    Extension(caller): Extension<TokenCaller>,
    Ids(path): Ids<AnswerPath>,
    Body(changes): Body<AnswerBody>,
) -> ApiResult<Json<AnswerOut>> {
    let (question_id, answer_id) = (path.id, path.answer_id);
    let answer =
        content::update_answer(&db, question_id, answer_id, grant(&caller)?, &changes.body).await?;
    Ok(Json(AnswerOut::from(&answer)))
}

/// Deletes an answer.
#[utoipa::path(
    delete, path = "/api/v1/teams/{team}/questions/{id}/answers/{answer_id}", tag = "answers",
    security(("bearer" = ["answers:write"])),
    params(AnswerPath),
    responses(
        (status = 204, description = "Deleted"),
        WriteRefused,
        NoSuchAnswer,
    )
)]
pub async fn delete_answer(
    State(db): State<DatabaseConnection>,
    Extension(caller): Extension<TokenCaller>,
    Ids(path): Ids<AnswerPath>,
) -> ApiResult<StatusCode> {
    let (question_id, answer_id) = (path.id, path.answer_id);
    content::delete_answer(&db, question_id, answer_id, grant(&caller)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The team's live tokens, whoever owns them: for the team's admins (a read token is enough).
/// Never returns a token's value.
#[utoipa::path(
    get, path = "/api/v1/teams/{team}/tokens", tag = "team tokens",
    security(("bearer" = ["team_tokens:read"])),
    params(TeamPath, TeamTokenQuery),
    responses(
        (status = 200, description = "A page of the team's tokens", body = ListPage<TeamTokenOut>),
        (status = 403, description = "`wrong_team`, `not_a_member`, or `insufficient_role` (not a team admin)", body = ErrorBody),
        (status = 422, description = "Bad `page`, `per_page`, `access` or `sort`", body = ErrorBody),
    )
)]
pub async fn list_team_tokens(
    State(db): State<DatabaseConnection>,
    Extension(caller): Extension<TokenCaller>,
    Params(query): Params<TeamTokenQuery>,
) -> ApiResult<Json<ListPage<TeamTokenOut>>> {
    use domain::tokens::governance::{Access, Filter, Scope, Sort};
    let (page, per_page) = content::page_params(query.page, query.per_page)?;
    let filter = Filter {
        owner: query.owner,
        access: Access::parse(query.access.as_deref().unwrap_or_default())?,
        unused_days: query
            .unused
            .unwrap_or(false)
            .then_some(domain::tokens::governance::UNUSED_DAYS),
        expiring: query.expiring.unwrap_or(false),
        pending: query.pending.unwrap_or(false),
        sort: Sort::parse(query.sort.as_deref().unwrap_or_default())?,
    };
    let team = caller_team(&caller)?;
    let found = domain::tokens::governance::list(
        &db,
        caller_actor(&caller),
        Scope::Team(&team),
        &filter,
        page,
        per_page,
    )
    .await?;
    let now = chrono::Utc::now();
    Ok(Json(ListPage::of(&found, |t| TeamTokenOut::new(t, now))))
}

/// The calling token's calls per day (accepted, and refused by error code, through the API,
/// `/auth/verify` and introspection) and the addresses it was used from (docs/usage.md).
/// Counts are written in batches every few seconds: the latest calls may not be in them yet.
#[utoipa::path(
    get, path = "/api/v1/tokens/self/usage", tag = "tokens",
    security(("bearer" = ["tokens:self"])),
    params(UsageQuery),
    responses(
        (status = 200, description = "The token's usage", body = UsageOut),
        (status = 422, description = "`days` is not 1–90", body = ErrorBody),
    )
)]
pub async fn self_usage(
    State(db): State<DatabaseConnection>,
    Extension(caller): Extension<TokenCaller>,
    Params(query): Params<UsageQuery>,
) -> ApiResult<Json<UsageOut>> {
    use domain::tokens::usage::history::{self, Reader};
    let days = history::check_days(query.days)?;
    let now = chrono::Utc::now();
    let found = history::of_token(&db, Reader::TokenItself, &caller.token().id, days, now).await?;
    Ok(Json(found.into()))
}

/// One of the team's tokens' usage, whoever owns it: for the team's admins (a read token is
/// enough).
#[utoipa::path(
    get, path = "/api/v1/teams/{team}/tokens/{id}/usage", tag = "team tokens",
    security(("bearer" = ["team_tokens:read"])),
    params(TeamTokenPath, UsageQuery),
    responses(
        (status = 200, description = "The token's usage", body = UsageOut),
        (status = 403, description = "`wrong_team`, `not_a_member`, or `insufficient_role` (not a team admin)", body = ErrorBody),
        (status = 404, description = "No such token in this team", body = ErrorBody),
        (status = 422, description = "`days` is not 1–90", body = ErrorBody),
    )
)]
pub async fn team_token_usage(
    State(db): State<DatabaseConnection>,
    Extension(caller): Extension<TokenCaller>,
    Ids(path): Ids<TeamTokenPath>,
    Params(query): Params<UsageQuery>,
) -> ApiResult<Json<UsageOut>> {
    use domain::tokens::usage::history::{self, Reader};
    if !caller.is_team_admin() {
        let message = format!(
            "Only admins of team {} can see its tokens' usage.",
            caller.team_slug()
        );
        return Err(domain::Error::Forbidden(message).into());
    }
    let days = history::check_days(query.days)?;
    let now = chrono::Utc::now();
    let reader = Reader::User(caller.user_id());
    let found = history::of_token(&db, reader, &path.id, days, now).await?;
    // An admin of this team reads this team's tokens, not those of another team they admin.
    if found.token.team_slug != caller.team_slug() {
        return Err(domain::Error::NotFound("token").into());
    }
    Ok(Json(found.into()))
}

/// Revokes one of the team's tokens, whoever owns it (team admins, with a write token). It
/// stops working at once; its owner sees who revoked it, when, and the reason.
#[utoipa::path(
    delete, path = "/api/v1/teams/{team}/tokens/{id}", tag = "team tokens",
    security(("bearer" = ["team_tokens:write"])),
    params(TeamTokenPath, RevokeQuery),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "`wrong_team`, `read_only_token`, `not_a_member`, or `insufficient_role` (not a team admin)", body = ErrorBody),
        (status = 404, description = "No such live token in this team", body = ErrorBody),
        (status = 422, description = "The reason is too long or has control characters", body = ErrorBody),
    )
)]
pub async fn revoke_team_token(
    State(db): State<DatabaseConnection>,
    Client(ip): Client,
    Extension(caller): Extension<TokenCaller>,
    Ids(path): Ids<TeamTokenPath>,
    Params(query): Params<RevokeQuery>,
) -> ApiResult<StatusCode> {
    use domain::tokens::governance::Scope;
    let id = path.id;
    let team = caller_team(&caller)?;
    domain::tokens::governance::revoke(
        &db,
        domain::Origin::new(caller_actor(&caller), ip),
        Scope::Team(&team),
        &id,
        query.reason.as_deref(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Anyone who finds patdesk tokens where they should not be (a commit, a log, a paste) reports
/// them here, without a token: every value that is a live token is revoked, and its owner is
/// told where it was found. The answer is 202 whatever was sent, and the same whether or not a
/// value was live: the revocations happen after it.
#[utoipa::path(
    post, path = "/api/v1/credentials/revoke", tag = "leaked tokens",
    request_body = LeakReport,
    security(()),
    responses(
        (status = 202, description = "Received; live tokens among the values are revoked", body = LeakReportAccepted),
        (status = 413, description = "Body over 64 KiB", body = ErrorBody),
        (status = 422, description = "Not a report, or more than 1,000 values", body = ErrorBody),
    )
)]
pub async fn report_leaked(
    State(state): State<AppState>,
    Client(ip): Client,
    Body(report): Body<LeakReport>,
) -> ApiResult<(StatusCode, Json<LeakReportAccepted>)> {
    use domain::tokens::leaks::{Report, revoke_reported};
    if let Some(client) = ip {
        state
            .leak_reports
            .check(client)
            .map_err(ApiError::too_many_reports)?;
        state.leak_reports.fail(client);
    }
    let parsed = Report::parse(&report.credentials, report.source.as_deref())?;
    let accepted = LeakReportAccepted {
        received: parsed.received,
        malformed: parsed.malformed,
    };
    // After the answer: its timing says nothing of whether a value was live.
    let (db, reporter) = (state.db.clone(), ip);
    tokio::spawn(async move {
        match revoke_reported(&db, &parsed, reporter).await {
            Ok(revoked) if !revoked.is_empty() => {
                tracing::info!(
                    count = revoked.len(),
                    "tokens reported as leaked were revoked"
                );
            }
            Ok(_) => {}
            Err(error) => tracing::error!(%error, "revoking reported tokens failed"),
        }
    });
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}

fn caller_actor(caller: &TokenCaller) -> domain::Actor {
    domain::Actor::User(caller.user_id())
}

/// The token's team (which the middleware has checked is the path's).
fn caller_team(caller: &TokenCaller) -> ApiResult<domain::identity::names::TeamSlug> {
    Ok(domain::identity::names::TeamSlug::parse(
        caller.team_slug(),
    )?)
}
