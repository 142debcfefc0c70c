//! The OpenAPI 3.1 document's own parts: its title, the security schemes and the answers every
//! operation can give. The operations come from the handlers, as `api::router` mounts them.

use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

/// Answers every operation can give besides its own: 401 for a missing or bad token (every
/// operation but the public leak report needs one), 429 when the caller's address has failed to authenticate too often,
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
                 `malformed_token`, `invalid_token`, `token_revoked`, `token_expired`), a \
                 rotated token's old value after its overlap (`token_rotated`), or for 30 days \
                 a regenerated token's old value (`token_regenerated`: \"This token was \
                 regenerated on <date>: use the new value.\")",
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
                // An operation open to anyone (`security(())`) cannot answer 401.
                let open = serde_json::to_value(&operation.security)
                    .is_ok_and(|security| security == serde_json::json!([{}]));
                let responses = &mut operation.responses.responses;
                if !open {
                    // Introspection describes its own 401 (a service credential, not a token).
                    responses
                        .entry("401".into())
                        .or_insert_with(|| RefOr::T(bad_token.clone()));
                }
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
        components.add_security_scheme(
            "service_basic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "A team's service credential (introspection only): user name svc_…, password pdks_….",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "service_bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A team's service credential: Authorization: Bearer pdks_…",
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
    modifiers(&SecuritySchemes),
    security(("bearer" = []), ("basic" = []))
)]
pub struct ApiDoc;

/// The finished document, once every operation is in it.
pub fn finish(mut openapi: utoipa::openapi::OpenApi) -> serde_json::Value {
    CommonResponses.modify(&mut openapi);
    AtLeastOneProperty.modify(&mut openapi);
    let mut document = serde_json::to_value(&openapi).unwrap_or_default();
    add_created_links(&mut document);
    basic_needs_what_bearer_needs(&mut document);
    document
}

/// An operation declares the permissions it needs once, on `bearer`; Basic (the token as the
/// password) needs the same, so the document says so for both.
fn basic_needs_what_bearer_needs(document: &mut serde_json::Value) {
    let Some(paths) = document["paths"].as_object_mut() else {
        return;
    };
    for operation in paths
        .values_mut()
        .filter_map(serde_json::Value::as_object_mut)
        .flat_map(|item| item.values_mut())
    {
        let Some(security) = operation.get_mut("security") else {
            continue;
        };
        let scopes = match security.as_array().map(Vec::as_slice) {
            Some([only]) => only.get("bearer").cloned(),
            _ => None,
        };
        if let Some(scopes) = scopes {
            *security = serde_json::json!([{ "bearer": scopes }, { "basic": scopes }]);
        }
    }
}

/// Bodies that must name at least one property. (utoipa 5.5 writes its `min_properties`
/// attribute as `maxProperties`, which would refuse a body changing both fields.)
struct AtLeastOneProperty;

impl AtLeastOneProperty {
    const SCHEMAS: [&str; 1] = ["QuestionChanges"];
}

impl Modify for AtLeastOneProperty {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{RefOr, schema::Schema};
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        for name in Self::SCHEMAS {
            if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(name) {
                object.min_properties = Some(1);
                object.max_properties = None;
            }
        }
    }
}

/// A link's parameters: (parameter of the target operation, runtime expression).
type Parameters = &'static [(&'static str, &'static str)];
/// A link: (its name, the operation it leads to, its parameters).
type LinkTo = (&'static str, &'static str, Parameters);

/// Each create operation and where its 201 leads: a client (and the API fuzzer's stateful
/// phase) can follow a question or answer it made into the operations that take its id.
const CREATED_LINKS: &[(&str, &[LinkTo])] = &[
    (
        "create_question",
        &[
            ("GetQuestion", "get_question", QUESTION),
            ("UpdateQuestion", "update_question", QUESTION),
            ("DeleteQuestion", "delete_question", QUESTION),
            ("ListAnswers", "list_answers", QUESTION),
            ("CreateAnswer", "create_answer", QUESTION),
        ],
    ),
    (
        "create_answer",
        &[
            ("UpdateAnswer", "update_answer", ANSWER),
            ("DeleteAnswer", "delete_answer", ANSWER),
        ],
    ),
];

/// The team comes from the request's path, the question's id from the response.
const QUESTION: Parameters = &[("team", "$request.path.team"), ("id", "$response.body#/id")];
const ANSWER: Parameters = &[
    ("team", "$request.path.team"),
    ("id", "$response.body#/question_id"),
    ("answer_id", "$response.body#/id"),
];

/// Adds [`CREATED_LINKS`] to the 201 responses. Written as JSON: utoipa 5.5's `Link` serializes
/// its `operationId` as `operation_id`, which no OpenAPI tool understands.
fn add_created_links(document: &mut serde_json::Value) {
    use serde_json::{Map, Value, json};
    let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for item in paths.values_mut() {
        let Some(post) = item.get_mut("post") else {
            continue;
        };
        let creator = post
            .get("operationId")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some((_, links)) = CREATED_LINKS.iter().find(|(name, _)| *name == creator) else {
            continue;
        };
        let Some(created) = post
            .pointer_mut("/responses/201")
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        let links: Map<String, Value> = links
            .iter()
            .map(|(name, target, parameters)| {
                let parameters: Map<String, Value> = parameters
                    .iter()
                    .map(|(p, e)| (p.to_string(), json!(e)))
                    .collect();
                let link = json!({ "operationId": target, "parameters": parameters });
                (name.to_string(), link)
            })
            .collect();
        created.insert("links".into(), Value::Object(links));
    }
}

/// The answers that several operations share, each described once (`responses(...)` in a
/// handler's `#[utoipa::path]` names them).
pub mod answers {
    use utoipa::IntoResponses;

    use crate::api::model::ErrorBody;

    /// A read of team content refused for the token's team or membership.
    #[derive(IntoResponses)]
    #[response(status = 403, description = "`wrong_team` or `not_a_member`")]
    pub struct ReadRefused(pub ErrorBody);

    /// A write of team content refused for the team, the token or the owner's role.
    #[derive(IntoResponses)]
    #[response(
        status = 403,
        description = "`wrong_team`, `read_only_token`, `not_a_member` or `insufficient_role`"
    )]
    pub struct WriteRefused(pub ErrorBody);

    /// The calling token's own endpoints: open to any valid token whose owner is still a member.
    #[derive(IntoResponses)]
    #[response(
        status = 403,
        description = "The owner is no longer a member of the token's team"
    )]
    pub struct NotAMember(pub ErrorBody);

    #[derive(IntoResponses)]
    #[response(status = 404, description = "No such question in this team")]
    pub struct NoSuchQuestion(pub ErrorBody);

    #[derive(IntoResponses)]
    #[response(status = 404, description = "No such answer in this team")]
    pub struct NoSuchAnswer(pub ErrorBody);

    /// A JSON body that is too large or does not hold what the operation needs.
    #[derive(IntoResponses)]
    pub enum BodyRefused {
        #[response(status = 413, description = "Body over 64 KiB")]
        TooLarge(ErrorBody),
        #[response(
            status = 422,
            description = "A field is missing or invalid; the message names it"
        )]
        Invalid(ErrorBody),
    }

    #[derive(IntoResponses)]
    #[response(status = 422, description = "Bad `page` or `per_page`")]
    pub struct BadPage(pub ErrorBody);
}
