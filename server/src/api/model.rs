//! The API's request and response bodies, and the OpenAPI 3.1 document generated from them and
//! from the handlers' `#[utoipa::path]` annotations (served at `/api/openapi.json`).

use domain::content::{Answer, Page, Question};
use serde::{Deserialize, Serialize};
use utoipa::{
    Modify, OpenApi, ToSchema,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

/// Every error: `{"error":{"code","message"}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable code: `missing_token`, `malformed_token`, `invalid_token`, `token_revoked`,
    /// `token_expired`, `wrong_team`, `read_only_token`, `not_a_member`, `insufficient_role`,
    /// `not_found`, `payload_too_large`, `validation_failed`, `rate_limited`, `internal_error`.
    #[schema(example = "read_only_token")]
    pub code: String,
    /// A sentence for people.
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeUser {
    pub id: i64,
    pub username: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeToken {
    #[schema(example = "tok_0123456789abcdef")]
    pub id: String,
    pub description: String,
    /// The team's slug.
    pub team: String,
    pub write: bool,
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub last_used_at: Option<String>,
}

/// The caller and the token in use.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub user: MeUser,
    pub token: MeToken,
}

/// A new secret for the calling token: shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct Regenerated {
    pub id: String,
    /// The new token value. The old one stopped working.
    #[schema(example = "pdk_…")]
    pub token: String,
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionOut {
    pub id: i64,
    pub title: String,
    pub body: String,
    /// The author's username.
    pub author: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<&Question> for QuestionOut {
    fn from(q: &Question) -> Self {
        QuestionOut {
            id: q.id,
            title: q.title.clone(),
            body: q.body.clone(),
            author: q.author.clone(),
            created_at: q.created_at.to_rfc3339(),
            updated_at: q.updated_at.to_rfc3339(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AnswerOut {
    pub id: i64,
    pub question_id: i64,
    pub body: String,
    pub author: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

impl From<&Answer> for AnswerOut {
    fn from(a: &Answer) -> Self {
        AnswerOut {
            id: a.id,
            question_id: a.question_id,
            body: a.body.clone(),
            author: a.author.clone(),
            created_at: a.created_at.to_rfc3339(),
            updated_at: a.updated_at.to_rfc3339(),
        }
    }
}

/// One page of questions, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionPage {
    pub items: Vec<QuestionOut>,
    pub page: u64,
    pub per_page: u64,
    pub total: u64,
}

impl From<&Page<Question>> for QuestionPage {
    fn from(p: &Page<Question>) -> Self {
        QuestionPage {
            items: p.items.iter().map(QuestionOut::from).collect(),
            page: p.page,
            per_page: p.per_page,
            total: p.total,
        }
    }
}

/// One page of answers, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnswerPage {
    pub items: Vec<AnswerOut>,
    pub page: u64,
    pub per_page: u64,
    pub total: u64,
}

impl From<&Page<Answer>> for AnswerPage {
    fn from(p: &Page<Answer>) -> Self {
        AnswerPage {
            items: p.items.iter().map(AnswerOut::from).collect(),
            page: p.page,
            per_page: p.per_page,
            total: p.total,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewQuestion {
    /// 1–200 characters, not all blank.
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub title: String,
    /// 1–20000 characters, not all blank.
    #[schema(min_length = 1, max_length = 20000, pattern = r"\S")]
    pub body: String,
}

/// At least one of `title` and `body`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct QuestionChanges {
    #[schema(min_length = 1, max_length = 200, pattern = r"\S", nullable = false)]
    pub title: Option<String>,
    #[schema(min_length = 1, max_length = 20000, pattern = r"\S", nullable = false)]
    pub body: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    #[schema(min_length = 1, max_length = 20000, pattern = r"\S")]
    pub body: String,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u64>,
    /// Items per page, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u64>,
}

/// Answers every operation can give besides its own: 401 for a missing or bad token (every
/// operation needs one), 429 when the caller's address has failed to authenticate too often,
/// 503 while the database is unreachable, 414 and 431 for an oversized request line or headers
/// (`limits`). Added here once rather than listed on each handler.
struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{
            ContentBuilder, Ref, RefOr, ResponseBuilder,
            header::HeaderBuilder,
            schema::{ObjectBuilder, Type},
        };
        let error_body = || {
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build()
        };
        let bad_token = ResponseBuilder::new()
            .description(
                "Missing, malformed, unknown, deleted or expired token (`missing_token`, \
                 `malformed_token`, `invalid_token`, `token_revoked`, `token_expired`)",
            )
            .header(
                "WWW-Authenticate",
                HeaderBuilder::new()
                    .schema(ObjectBuilder::new().schema_type(Type::String))
                    .build(),
            )
            .content("application/json", error_body())
            .build();
        let rate_limited = ResponseBuilder::new()
            .description("Too many failed authentications from this address (`rate_limited`)")
            .header(
                "Retry-After",
                HeaderBuilder::new()
                    .schema(ObjectBuilder::new().schema_type(Type::Integer))
                    .description(Some("Seconds until attempts are accepted again"))
                    .build(),
            )
            .content("application/json", error_body())
            .build();
        let unavailable = ResponseBuilder::new()
            .description(
                "The database cannot be reached (`service_unavailable`); try again shortly",
            )
            .content("application/json", error_body())
            .build();
        let uri_too_long = ResponseBuilder::new()
            .description("The path and query are over 8 KiB (`uri_too_long`)")
            .content("application/json", error_body())
            .build();
        let headers_too_large = ResponseBuilder::new()
            .description("The request's headers are over 16 KiB (`headers_too_large`)")
            .content("application/json", error_body())
            .build();
        for item in openapi.paths.paths.values_mut() {
            for operation in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                let responses = &mut operation.responses.responses;
                responses.insert("401".into(), RefOr::T(bad_token.clone()));
                responses.insert("429".into(), RefOr::T(rate_limited.clone()));
                responses.insert("503".into(), RefOr::T(unavailable.clone()));
                responses.insert("414".into(), RefOr::T(uri_too_long.clone()));
                responses.insert("431".into(), RefOr::T(headers_too_large.clone()));
            }
        }
    }
}

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("Authorization: Bearer pdk_…"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "User name: the token's id or its owner's username; password: the token.",
                    ))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "patdesk team API",
        description = "Team questions and answers, authenticated by personal access tokens.",
        version = "1"
    ),
    paths(
        super::handlers::me,
        super::handlers::regenerate_self,
        super::handlers::delete_self,
        super::handlers::list_questions,
        super::handlers::create_question,
        super::handlers::get_question,
        super::handlers::update_question,
        super::handlers::delete_question,
        super::handlers::list_answers,
        super::handlers::create_answer,
        super::handlers::update_answer,
        super::handlers::delete_answer,
    ),
    modifiers(&SecuritySchemes, &CommonResponses),
    security(("bearer" = []), ("basic" = []))
)]
pub struct ApiDoc;
