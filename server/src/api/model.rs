//! The API's request and response bodies, with the schemas the OpenAPI document gives them.

use domain::content::{Answer, Page, Question};
use domain::tokens::{TokenInfo, access::TokenCaller, governance::TeamToken};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Every error: `{"error":{"code","message"}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable code: `missing_token`, `malformed_token`, `invalid_token`, `token_revoked`,
    /// `token_expired`, `token_rotated`, `token_regenerated`, `token_pending_approval`,
    /// `ip_not_allowed`, `wrong_team`,
    /// `read_only_token`, `not_a_member`,
    /// `insufficient_role`, `not_found`, `payload_too_large`, `validation_failed`, `rate_limited`, `internal_error`.
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
    /// Whether the token was granted write access (as created).
    pub write: bool,
    /// Whether a write with this token would pass now: granted write access, and the owner's
    /// current role in the team still allows writing (a demoted writer's token: `write` true,
    /// `can_write` false).
    pub can_write: bool,
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub last_used_at: Option<String>,
    /// Where the token may be used from (canonical CIDRs); empty: any address.
    #[schema(example = json!(["10.0.0.0/8", "2001:db8::/32"]))]
    pub allowed_ips: Vec<String>,
    /// This call used the old value of a rotated token, which stops working at
    /// `old_value_valid_until`: switch to the new value.
    pub old_value: bool,
    /// Until when the value a rotation replaced still works (absent: no rotation under way).
    #[schema(format = DateTime)]
    pub old_value_valid_until: Option<String>,
    /// The calls per minute this token is held to now: its own limit within its team's cap
    /// (absent: no limit). Every answer to a limited token carries `RateLimit-*` headers.
    #[schema(minimum = 1, maximum = 100000)]
    pub rate_limit_per_minute: Option<u32>,
    /// A fine-grained token's permissions, sorted; `null` for a whole-team token
    /// (docs/permissions.md).
    #[schema(example = json!(["deploy:run", "questions:read"]))]
    pub permissions: Option<Vec<String>>,
}

/// The caller and the token in use.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub user: MeUser,
    pub token: MeToken,
}

impl Me {
    /// What the access check found: no query beyond it.
    pub fn of(caller: &TokenCaller) -> Self {
        let t = caller.token();
        Me {
            user: MeUser {
                id: caller.user_id(),
                username: caller.username().to_string(),
            },
            token: MeToken {
                id: t.id.clone(),
                description: t.description.clone(),
                team: caller.team_slug().to_string(),
                write: t.write,
                can_write: caller.can_write(),
                expires_at: t.expires_at.map(|at| at.to_rfc3339()),
                created_at: t.created_at.to_rfc3339(),
                last_used_at: t.last_used_at.map(|at| at.to_rfc3339()),
                allowed_ips: caller.allowed().entries(),
                old_value: caller.old_value(),
                old_value_valid_until: t
                    .previous_valid_until
                    .filter(|until| *until > chrono::Utc::now())
                    .map(|at| at.to_rfc3339()),
                rate_limit_per_minute: t.rate_limit,
                permissions: t.permissions.as_ref().map(|p| p.to_list()),
            },
        }
    }
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

/// How long the current value keeps working after a rotation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateRequest {
    /// Seconds the old value keeps working: at least the server's minimum (60 unless
    /// configured lower), at most 604800 (7 days), and never past the token's expiry.
    #[schema(minimum = 1, maximum = 604800, example = 3600)]
    pub overlap_seconds: i64,
}

/// The rotated token's new value (shown once), and until when the old one still works.
#[derive(Debug, Serialize, ToSchema)]
pub struct Rotated {
    pub id: String,
    /// The new token value. The old one keeps working until `old_value_valid_until`.
    #[schema(example = "pdk_…")]
    pub token: String,
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    #[schema(format = DateTime)]
    pub old_value_valid_until: String,
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

/// One page of a list: its items, the page's number and size, and how many items the whole
/// list has. Questions come newest first, answers oldest first, tokens newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListPage<T> {
    pub items: Vec<T>,
    pub page: u64,
    pub per_page: u64,
    pub total: u64,
}

impl<T> ListPage<T> {
    /// The page `found`, each item rendered by `render`.
    pub fn of<D>(found: &Page<D>, render: impl FnMut(&D) -> T) -> Self {
        ListPage {
            items: found.items.iter().map(render).collect(),
            page: found.page,
            per_page: found.per_page,
            total: found.total,
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

/// A report of leaked token values (`POST /api/v1/credentials/revoke`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeakReport {
    /// The values found, at most 1,000 (`pdk_` + 38 letters and digits). Values that are not
    /// well-formed patdesk tokens are ignored and counted as malformed.
    #[schema(max_items = 1000, example = json!(["pdk_…"]))]
    pub credentials: Vec<String>,
    /// Where they were found: a URL or a few words (at most 200 characters are kept).
    #[schema(example = "https://git.example.com/acme/app/commit/1a2b3c")]
    pub source: Option<String>,
}

/// What a report was taken as. Never which values were live tokens.
#[derive(Debug, Serialize, ToSchema)]
pub struct LeakReportAccepted {
    /// How many values the report carried.
    pub received: usize,
    /// How many of them were not well-formed patdesk tokens (and were ignored).
    pub malformed: usize,
}

/// A token as the team API and the CLI's JSON show it (`TokenInfo` rendered once). Never the
/// value: `token` is the partial value the owner also sees.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenOut {
    #[schema(example = "tok_0123456789abcdef")]
    pub id: String,
    pub description: String,
    /// The team's slug.
    pub team: String,
    /// `personal` or `explorer` (the API explorer's own token).
    #[schema(example = "personal")]
    pub kind: String,
    #[schema(example = "pdk_…a1b2")]
    pub token: String,
    pub write: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    #[schema(format = DateTime)]
    pub last_used_at: Option<String>,
    /// Most recent first; at most five.
    pub last_used_ips: Vec<String>,
    /// A write token waiting for an admin's approval (the API refuses it until then).
    pub pending_approval: bool,
    /// Where it may be used from (canonical CIDRs); empty: any address.
    #[schema(example = json!(["10.0.0.0/8", "2001:db8::/32"]))]
    pub allowed_ips: Vec<String>,
    /// Its own limit of calls per minute (absent: none; the team's cap may hold it lower).
    #[schema(minimum = 1, maximum = 100000)]
    pub rate_limit_per_minute: Option<u32>,
    /// A fine-grained token's permissions, sorted; `null` for a whole-team token.
    pub permissions: Option<Vec<String>>,
}

impl From<&TokenInfo> for TokenOut {
    fn from(info: &TokenInfo) -> Self {
        TokenOut {
            id: info.id.clone(),
            description: info.description.clone(),
            team: info.team_slug.clone(),
            kind: info.kind.as_str().to_string(),
            token: domain::tokens::format::partial(&info.hint),
            write: info.write,
            created_at: info.created_at.to_rfc3339(),
            expires_at: info.expires_at.map(|at| at.to_rfc3339()),
            last_used_at: info.last_used_at.map(|at| at.to_rfc3339()),
            last_used_ips: info.last_used_ips.clone(),
            pending_approval: info.pending_approval,
            rate_limit_per_minute: info.rate_limit,
            allowed_ips: info.allowed_ips.clone(),
            permissions: info.permissions.as_ref().map(|p| p.to_list()),
        }
    }
}

/// One of the team's live tokens, as the team's admins see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamTokenOut {
    #[serde(flatten)]
    pub token: TokenOut,
    /// The owner's username.
    pub owner: String,
    /// Not used for 30 days (counting from creation for a token never used).
    pub unused: bool,
    /// Expires within 7 days.
    pub expiring_soon: bool,
    /// Calls in the last 7 days, accepted and refused.
    pub calls_7d: i64,
    /// How many of `calls_7d` were refused.
    pub refused_7d: i64,
}

impl TeamTokenOut {
    pub fn new(t: &TeamToken, now: chrono::DateTime<chrono::Utc>) -> Self {
        TeamTokenOut {
            token: TokenOut::from(&t.info),
            owner: t.owner.clone(),
            unused: t.is_unused(now),
            expiring_soon: t.info.is_expiring_soon(now),
            calls_7d: t.recent.total(),
            refused_7d: t.recent.refused_total(),
        }
    }
}

/// `?days=` of the usage endpoints.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsageQuery {
    /// How many days back, 1–90 (default 30), ending today (UTC).
    #[param(minimum = 1, maximum = 90)]
    pub days: Option<u32>,
}

/// A token's calls per day and the addresses they came from (docs/usage.md).
#[derive(Debug, Serialize, ToSchema)]
pub struct UsageOut {
    /// Every day of the period, oldest first (days without calls included).
    pub days: Vec<UsageDay>,
    /// Most recently seen first.
    pub addresses: Vec<UsageAddress>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsageDay {
    #[schema(example = "2026-12-03", format = Date)]
    pub date: String,
    pub accepted: i64,
    /// Refused calls by error code (`ip_not_allowed`, `read_only_token`, `rate_limited`, …).
    #[schema(example = json!({"read_only_token": 2, "rate_limited": 14}))]
    pub refused: std::collections::BTreeMap<String, i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsageAddress {
    #[schema(example = "203.0.113.7")]
    pub ip: String,
    #[schema(format = DateTime)]
    pub first_seen: String,
    #[schema(format = DateTime)]
    pub last_seen: String,
    /// Calls from this address, accepted and refused.
    pub calls: i64,
    /// How many of them were refused.
    pub refused: i64,
}

impl From<domain::tokens::usage::history::History> for UsageOut {
    fn from(history: domain::tokens::usage::history::History) -> Self {
        UsageOut {
            days: history
                .days
                .into_iter()
                .map(|day| UsageDay {
                    date: day.date.format("%Y-%m-%d").to_string(),
                    accepted: day.calls.accepted,
                    refused: day.calls.refused,
                })
                .collect(),
            addresses: history
                .addresses
                .into_iter()
                .map(|a| UsageAddress {
                    ip: a.ip,
                    first_seen: a.first_seen.to_rfc3339(),
                    last_seen: a.last_seen.to_rfc3339(),
                    calls: a.calls,
                    refused: a.refused,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TeamTokenQuery {
    /// Page number, from 1.
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u64>,
    /// Items per page, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u64>,
    /// Only this member's tokens (a username).
    pub owner: Option<String>,
    /// `read` (read-only tokens) or `write` (read/write tokens).
    #[param(pattern = "^(read|write)$")]
    pub access: Option<String>,
    /// Only tokens not used for 30 days.
    pub unused: Option<bool>,
    /// Only tokens expiring within 7 days.
    pub expiring: Option<bool>,
    /// Only write tokens waiting for an admin's approval.
    pub pending: Option<bool>,
    /// `newest` (default) or `calls`: most calls in the last 7 days first.
    #[param(pattern = "^(newest|calls)$")]
    pub sort: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RevokeQuery {
    /// Why (at most 200 characters): the token's owner sees it on their token page.
    #[param(max_length = 200)]
    pub reason: Option<String>,
}

/// `/api/v1/teams/{team}/…`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TeamPath {
    /// The team's slug (must be the token's team).
    #[param(example = "ops")]
    pub team: String,
}

/// `/api/v1/teams/{team}/questions/{id}…`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct QuestionPath {
    /// The team's slug (must be the token's team).
    #[param(example = "ops")]
    pub team: String,
    /// Question id.
    #[param(example = 1)]
    pub id: i64,
}

/// `/api/v1/teams/{team}/questions/{id}/answers/{answer_id}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AnswerPath {
    /// The team's slug (must be the token's team).
    #[param(example = "ops")]
    pub team: String,
    /// Question id.
    #[param(example = 1)]
    pub id: i64,
    /// Answer id.
    #[param(example = 1)]
    pub answer_id: i64,
}

/// `/api/v1/teams/{team}/tokens/{id}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TeamTokenPath {
    /// The team's slug (must be the token's team).
    #[param(example = "ops")]
    pub team: String,
    /// Token id.
    #[param(example = "tok_0123456789abcdef")]
    pub id: String,
}
