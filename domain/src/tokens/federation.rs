//! Federation (docs/service-accounts.md): a CI job proves who it is with the identity token its
//! platform signs (GitHub Actions, GitLab CI `id_tokens`) and exchanges it for a short-lived
//! token of a service account (RFC 8693), as the package registries' "trusted publishing" does.
//!
//! A service account's *trust policies* say which tokens qualify: the issuer, the audience,
//! conditions on claims (exact values or `*` globs; at least one on a claim that identifies a
//! repository or project, so that "any repository on github.com" cannot be trusted by
//! mistake), the permissions granted (fine-grained, within the account's role) and the lifetime
//! (5–60 minutes). The signature, issuer, audience and clock are checked by the server against
//! the issuer's published keys (`server::federation`); this module gets the verified claims,
//! refuses a `jti` seen before (on every process sharing the database: the table's primary key
//! decides), finds the first policy that matches and mints the token, recording where it came
//! from.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, SqlErr, TransactionTrait,
};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::{
    Origin,
    activity::{self, Actor, Event, Kind},
    db::begin_write,
    entity::{
        federation_jti, federation_policy, service_account, team, token, token_address,
        token_usage_hour,
    },
    error::{Error, Result},
    identity::names::TeamSlug,
    identity::service_accounts,
    teams,
    tokens::{self, Expiry, NewToken, TokenInfo, TokenKind, allow_list::AllowList, permissions},
};
use common::permissions::Permissions;

/// RFC 8693's grant type.
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// The subject token types taken: a JWT, or an OpenID Connect ID token (which is one).
pub const SUBJECT_TOKEN_TYPES: [&str; 2] = [
    "urn:ietf:params:oauth:token-type:jwt",
    "urn:ietf:params:oauth:token-type:id_token",
];
/// What the answer's `issued_token_type` says.
pub const ISSUED_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// A minted token's lifetime: at least, at most, and when the policy does not say.
pub const MIN_LIFETIME_MINUTES: u32 = 5;
pub const MAX_LIFETIME_MINUTES: u32 = 60;
pub const DEFAULT_LIFETIME_MINUTES: u32 = 15;
/// How far the issuer's clock may be from ours (`exp`, `nbf`, `iat`).
pub const CLOCK_SKEW_SECONDS: i64 = 60;
/// An identity token older than this (by its `iat`) is refused, whatever its `exp` says.
pub const MAX_IDENTITY_TOKEN_AGE_SECONDS: i64 = 3600;
/// How long an expired federated token stays listed (and on its page) before it is purged.
pub const EXPIRED_KEPT_HOURS: i64 = 24;

/// Claims that name a repository, project or namespace (GitHub Actions and GitLab CI): a
/// policy needs a condition on one of them that does not match everything.
pub const IDENTIFYING_CLAIMS: [&str; 12] = [
    "sub",
    "repository",
    "repository_id",
    "repository_owner",
    "repository_owner_id",
    "workflow_ref",
    "job_workflow_ref",
    "project_path",
    "project_id",
    "namespace_path",
    "namespace_id",
    "ci_config_ref_uri",
];

/// Claims kept as a federated token's provenance when the identity token has them (beside
/// those the policy's conditions name): who, what and which run.
const PROVENANCE_CLAIMS: [&str; 13] = [
    "sub",
    "repository",
    "project_path",
    "ref",
    "environment",
    "workflow_ref",
    "job_workflow_ref",
    "run_id",
    "run_attempt",
    "pipeline_id",
    "job_id",
    "actor",
    "user_login",
];

/// What the server was configured with: the audience a policy gets when it names none (the
/// public URL), and whether issuers on loopback may use plain HTTP (tests only).
#[derive(Clone, Debug)]
pub struct Settings {
    pub default_audience: String,
    pub allow_http_loopback: bool,
}

/// An issuer URL: `https://`, no query or fragment; `http://` only on a loopback address and
/// only when [`Settings::allow_http_loopback`] says so. Kept as written (trailing `/` and all):
/// a token's `iss` must equal it exactly.
pub fn parse_issuer(raw: &str, settings: &Settings) -> Result<String> {
    let value = raw.trim();
    let bad = |why: &str| Error::invalid("issuer", why.to_string());
    let url = url::Url::parse(value).map_err(|_| {
        bad("Enter the issuer's URL, such as https://token.actions.githubusercontent.com.")
    })?;
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(bad("An issuer URL has no query, fragment or user name."));
    }
    match url.scheme() {
        "https" => {}
        "http" if settings.allow_http_loopback && is_loopback(&url) => {}
        _ => return Err(bad("An issuer must be an https:// URL.")),
    }
    Ok(value.to_string())
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// A condition on one claim: its value equals `pattern`, where each `*` matches any run of
/// characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    pub claim: String,
    pub pattern: String,
}

impl Condition {
    /// `claim=pattern`, as the CLI and the form write it.
    pub fn parse(raw: &str) -> Result<Condition> {
        let bad = |why: String| Error::invalid("conditions", why);
        let Some((claim, pattern)) = raw.split_once('=') else {
            return Err(bad(format!(
                "Write each condition as claim=value, such as repository=acme/app: {raw:?} has no '='."
            )));
        };
        let claim = claim.trim();
        let pattern = pattern.trim();
        if claim.is_empty()
            || claim.len() > 64
            || !claim
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
        {
            return Err(bad(format!("{claim:?} is not a claim name.")));
        }
        if ["iss", "aud", "exp", "nbf", "iat", "jti"].contains(&claim) {
            return Err(bad(format!(
                "{claim} is checked for every token already: set conditions on the other claims."
            )));
        }
        if pattern.is_empty() || pattern.len() > 300 || pattern.chars().any(char::is_control) {
            return Err(bad(format!(
                "The value for {claim} must be 1 to 300 characters, without control characters."
            )));
        }
        Ok(Condition {
            claim: claim.to_string(),
            pattern: pattern.to_string(),
        })
    }

    /// Whether it pins down a repository, project or namespace: a claim of
    /// [`IDENTIFYING_CLAIMS`] with an exact value, or with a `/` or `:` after something else
    /// before its first `*` (`acme/*`, `repo:acme/app:*`, but not `*`, `repo:*` or `acme*`).
    pub fn identifies(&self) -> bool {
        if !IDENTIFYING_CLAIMS.contains(&self.claim.as_str()) {
            return false;
        }
        let Some(star) = self.pattern.find('*') else {
            return true;
        };
        let literal = &self.pattern[..star];
        let named = literal
            .trim_start_matches("repo:")
            .trim_start_matches("project_path:");
        named.find(['/', ':']).is_some_and(|at| at > 0)
    }

    /// Whether `value` matches.
    pub fn matches(&self, value: &str) -> bool {
        glob_match(&self.pattern, value)
    }
}

/// `*` matches any run of characters (none included); everything else matches itself.
fn glob_match(pattern: &str, value: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, rest) = parts.split_first().expect("split yields at least one part");
    let Some(mut remaining) = value.strip_prefix(first) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return remaining.is_empty();
    };
    for part in middle {
        match remaining.find(part) {
            Some(at) => remaining = &remaining[at + part.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last)
}

/// A claim's value as a condition compares it: strings as they are, numbers and booleans as
/// written in JSON; anything else has no value to compare.
fn claim_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A trust policy as the team's admins see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustPolicy {
    pub id: i64,
    /// The service account's id and name.
    pub service_account_id: i64,
    pub service_account: String,
    pub issuer: String,
    pub audience: String,
    pub conditions: Vec<Condition>,
    pub permissions: Vec<String>,
    pub lifetime_minutes: u32,
    pub created_at: DateTime<Utc>,
}

/// A new trust policy, as the caller sent it.
#[derive(Clone, Debug, Default)]
pub struct NewPolicy<'a> {
    pub issuer: &'a str,
    /// `None` or blank: [`Settings::default_audience`].
    pub audience: Option<&'a str>,
    /// `claim=pattern` each.
    pub conditions: &'a [String],
    pub permissions: &'a [String],
    /// `None`: [`DEFAULT_LIFETIME_MINUTES`].
    pub lifetime_minutes: Option<u32>,
}

fn conditions_json(conditions: &[Condition]) -> String {
    let map: BTreeMap<&str, &str> = conditions
        .iter()
        .map(|c| (c.claim.as_str(), c.pattern.as_str()))
        .collect();
    serde_json::to_string(&map).expect("a map of strings serialises")
}

fn stored_conditions(text: &str) -> Result<Vec<Condition>> {
    let map: BTreeMap<String, String> = serde_json::from_str(text)
        .map_err(|e| Error::Internal(format!("federation_policies.conditions: {e}")))?;
    Ok(map
        .into_iter()
        .map(|(claim, pattern)| Condition { claim, pattern })
        .collect())
}

fn policy_of(row: federation_policy::Model, account: &str) -> Result<TrustPolicy> {
    Ok(TrustPolicy {
        id: row.id,
        service_account_id: row.service_account_id,
        service_account: account.to_string(),
        conditions: stored_conditions(&row.conditions)?,
        permissions: permissions::split_scopes(&row.permissions),
        lifetime_minutes: u32::try_from(row.lifetime_minutes).unwrap_or(DEFAULT_LIFETIME_MINUTES),
        issuer: row.issuer,
        audience: row.audience,
        created_at: row.created_at,
    })
}

/// Adds a trust policy to one of the team's service accounts (its admins and the operator).
pub async fn add_policy(
    db: &DatabaseConnection,
    by: Origin,
    team: &TeamSlug,
    account_ref: &str,
    new: NewPolicy<'_>,
    settings: &Settings,
) -> Result<TrustPolicy> {
    let issuer = parse_issuer(new.issuer, settings)?;
    let audience = match new.audience.map(str::trim) {
        Some(audience) if !audience.is_empty() => audience.to_string(),
        _ => settings.default_audience.clone(),
    };
    if audience.len() > 500 || audience.chars().any(char::is_control) {
        return Err(Error::invalid(
            "audience",
            "An audience is at most 500 characters, without control characters.",
        ));
    }
    let mut conditions = Vec::new();
    for raw in new.conditions.iter().filter(|c| !c.trim().is_empty()) {
        let condition = Condition::parse(raw)?;
        if conditions
            .iter()
            .any(|c: &Condition| c.claim == condition.claim)
        {
            return Err(Error::invalid(
                "conditions",
                format!("Give {} one condition only.", condition.claim),
            ));
        }
        conditions.push(condition);
    }
    if !conditions.iter().any(Condition::identifies) {
        return Err(Error::invalid(
            "conditions",
            format!(
                "Name what may exchange tokens: add a condition on one of {} with an exact value or an owner before any '*' (such as repository=acme/app or sub=repo:acme/app:ref:refs/heads/main). Without one, any repository at this issuer could use the account.",
                IDENTIFYING_CLAIMS.join(", ")
            ),
        ));
    }
    let granted = permissions::from_form(Some(new.permissions.to_vec()))?;
    let lifetime = new.lifetime_minutes.unwrap_or(DEFAULT_LIFETIME_MINUTES);
    if !(MIN_LIFETIME_MINUTES..=MAX_LIFETIME_MINUTES).contains(&lifetime) {
        return Err(Error::invalid(
            "lifetime",
            format!(
                "A minted token lives {MIN_LIFETIME_MINUTES} to {MAX_LIFETIME_MINUTES} minutes."
            ),
        ));
    }
    let txn = begin_write(db).await?;
    let (team, account) = service_accounts::find_administered(
        &txn,
        by.who,
        team,
        account_ref,
        "manage the team's service accounts",
    )
    .await?;
    permissions::check_new(&txn, &team, Some(&granted)).await?;
    let role = teams::role(&txn, team.id, account.user_id)
        .await?
        .ok_or(Error::NotFound("service account"))?;
    if granted.any_write() && !role.can_write() {
        return Err(Error::invalid(
            "permissions",
            format!(
                "Service account {} is a {role}: it cannot be granted a write permission.",
                account.name
            ),
        ));
    }
    let row = federation_policy::ActiveModel {
        service_account_id: Set(account.user_id),
        issuer: Set(issuer),
        audience: Set(audience),
        conditions: Set(conditions_json(&conditions)),
        permissions: Set(granted.joined()),
        lifetime_minutes: Set(lifetime as i32),
        created_by: Set(by.who.user_id()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let label = service_accounts::label(&account.name, &team.slug);
    let event = Event::by(
        by,
        Some(by.who.log_owner(account.user_id)),
        Kind::TrustPolicyAdded,
    )
    .target(format!(
        "policy {} of {label}: tokens from {}",
        row.id, row.issuer
    ));
    activity::record(&txn, event).await?;
    txn.commit().await?;
    policy_of(row, &account.name)
}

/// Every trust policy of the team's service accounts, by account name then age (its admins and
/// the operator).
pub async fn policies(
    db: &DatabaseConnection,
    actor: Actor,
    team: &TeamSlug,
) -> Result<Vec<TrustPolicy>> {
    let (_, accounts) = service_accounts::administered_names(db, actor, team).await?;
    let rows = federation_policy::Entity::find()
        .filter(federation_policy::Column::ServiceAccountId.is_in(accounts.keys().copied()))
        .order_by_asc(federation_policy::Column::Id)
        .all(db)
        .await?;
    let mut found = rows
        .into_iter()
        .map(|row| {
            let name = accounts[&row.service_account_id].clone();
            policy_of(row, &name)
        })
        .collect::<Result<Vec<_>>>()?;
    found.sort_by(|a, b| {
        a.service_account
            .cmp(&b.service_account)
            .then(a.id.cmp(&b.id))
    });
    Ok(found)
}

/// Removes a trust policy (its team's admins and the operator): tokens it minted live out their
/// minutes; no new ones are minted by it.
pub async fn remove_policy(
    db: &DatabaseConnection,
    by: Origin,
    team: &TeamSlug,
    id: i64,
) -> Result<()> {
    let txn = begin_write(db).await?;
    let team = teams::admin_team(&txn, by.who, team, "manage the team's service accounts").await?;
    let row = federation_policy::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(Error::NotFound("trust policy"))?;
    let account = service_account::Entity::find_by_id(row.service_account_id)
        .filter(service_account::Column::TeamId.eq(team.id))
        .one(&txn)
        .await?
        .ok_or(Error::NotFound("trust policy"))?;
    federation_policy::Entity::delete_by_id(id)
        .exec(&txn)
        .await?;
    let label = service_accounts::label(&account.name, &team.slug);
    let event = Event::by(
        by,
        Some(by.who.log_owner(account.user_id)),
        Kind::TrustPolicyRemoved,
    )
    .target(format!(
        "policy {id} of {label}: tokens from {}",
        row.issuer
    ));
    activity::record(&txn, event).await?;
    txn.commit().await?;
    Ok(())
}

/// The audiences the policies trusting `issuer` accept; empty when no policy trusts it. The
/// server asks this before fetching any key: an issuer nobody trusts costs no request.
pub async fn audiences_for(db: &impl ConnectionTrait, issuer: &str) -> Result<BTreeSet<String>> {
    Ok(federation_policy::Entity::find()
        .filter(federation_policy::Column::Issuer.eq(issuer))
        .all(db)
        .await?
        .into_iter()
        .map(|p| p.audience)
        .collect())
}

/// An identity token whose signature, issuer, audience and times the server checked.
#[derive(Clone, Debug)]
pub struct Identity {
    pub issuer: String,
    /// Its `aud`, one or several.
    pub audiences: Vec<String>,
    pub jti: String,
    pub expires_at: DateTime<Utc>,
    /// Every claim, as signed.
    pub claims: Map<String, Value>,
}

/// Why an exchange was refused, as RFC 6749 §5.2 and RFC 8693 name it; the description says
/// which check failed, never which policies exist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The request is malformed (a parameter missing or unknown).
    InvalidRequest(String),
    /// The identity token does not qualify.
    InvalidGrant(String),
    /// `scope` asks for more than a policy grants.
    InvalidScope(String),
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::InvalidRequest(_) => "invalid_request",
            Refusal::InvalidGrant(_) => "invalid_grant",
            Refusal::InvalidScope(_) => "invalid_scope",
        }
    }

    pub fn description(&self) -> &str {
        match self {
            Refusal::InvalidRequest(m) | Refusal::InvalidGrant(m) | Refusal::InvalidScope(m) => m,
        }
    }
}

/// A minted token: the value (shown once, to the job), what it is, and what it may do.
#[derive(Debug)]
pub struct Exchanged {
    pub issued: tokens::Issued,
    pub expires_in_seconds: i64,
    pub scope: String,
}

/// The first policy (oldest first) whose issuer, audience and every condition match, with its
/// conditions.
fn first_match<'a>(
    policies: &'a [federation_policy::Model],
    identity: &Identity,
) -> Result<Option<(&'a federation_policy::Model, Vec<Condition>)>> {
    for policy in policies {
        if policy.issuer != identity.issuer || !identity.audiences.contains(&policy.audience) {
            continue;
        }
        let conditions = stored_conditions(&policy.conditions)?;
        let all_match = conditions.iter().all(|c| {
            identity
                .claims
                .get(&c.claim)
                .and_then(claim_text)
                .is_some_and(|value| c.matches(&value))
        });
        if all_match {
            return Ok(Some((policy, conditions)));
        }
    }
    Ok(None)
}

/// What the minted token records of where it came from: the issuer, and the claims of
/// [`PROVENANCE_CLAIMS`] and of the policy's conditions that the token has.
fn provenance(identity: &Identity, conditions: &[Condition]) -> Map<String, Value> {
    let mut kept = Map::new();
    kept.insert("iss".into(), Value::String(identity.issuer.clone()));
    let named = PROVENANCE_CLAIMS
        .iter()
        .copied()
        .chain(conditions.iter().map(|c| c.claim.as_str()));
    for claim in named {
        if let Some(text) = identity.claims.get(claim).and_then(claim_text) {
            kept.insert(claim.to_string(), Value::String(cut(&text, 200)));
        }
    }
    kept
}

fn cut(text: &str, chars: usize) -> String {
    text.chars().take(chars).collect()
}

/// A provenance in one line, for lists and the activity log: "repo:acme/app:ref:refs/heads/main
/// at token.actions.githubusercontent.com, run 42".
pub fn provenance_summary(stored: &str) -> String {
    let Ok(map) = serde_json::from_str::<BTreeMap<String, String>>(stored) else {
        return String::new();
    };
    let host = map
        .get("iss")
        .and_then(|iss| url::Url::parse(iss).ok())
        .and_then(|url| url.host_str().map(str::to_string))
        .unwrap_or_default();
    let mut line = format!("{} at {host}", map.get("sub").map_or("?", String::as_str));
    for (claim, words) in [
        ("run_id", "run"),
        ("pipeline_id", "pipeline"),
        ("job_id", "job"),
    ] {
        if let Some(value) = map.get(claim) {
            line.push_str(&format!(", {words} {value}"));
        }
    }
    line
}

/// The digest a `jti` is remembered by: its issuer's and its own.
fn jti_digest(issuer: &str, jti: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(issuer.as_bytes());
    hasher.update([0]);
    hasher.update(jti.as_bytes());
    format!("{:x}", hasher.finalize())
}

/// Exchanges a verified identity token for a token of the service account whose policy it
/// matches, with `scope` (space-separated permissions) when the job asks for less. The `jti`
/// is remembered first, in its own transaction, so that a second exchange of the same token is
/// refused on every process even when this one then fails.
pub async fn exchange(
    db: &DatabaseConnection,
    identity: &Identity,
    scope: Option<&str>,
) -> Result<std::result::Result<Exchanged, Refusal>> {
    let now = Utc::now();
    let issued_at = identity.claims.get("iat").and_then(Value::as_i64);
    let Some(issued_at) = issued_at else {
        return Ok(Err(Refusal::InvalidGrant(
            "The identity token has no iat (issued-at) claim.".into(),
        )));
    };
    if issued_at < now.timestamp() - MAX_IDENTITY_TOKEN_AGE_SECONDS - CLOCK_SKEW_SECONDS {
        return Ok(Err(Refusal::InvalidGrant(
            "The identity token was issued more than an hour ago: ask your CI for a fresh one."
                .into(),
        )));
    }
    let policies = federation_policy::Entity::find()
        .filter(federation_policy::Column::Issuer.eq(&identity.issuer))
        .order_by_asc(federation_policy::Column::Id)
        .all(db)
        .await?;
    let Some((policy, conditions)) = first_match(&policies, identity)? else {
        return Ok(Err(Refusal::InvalidGrant(
            "No trust policy matches this identity token's claims (check the repository, ref and other conditions the service account's policies name).".into(),
        )));
    };
    let granted = Permissions::parse_list(&policy.permissions)
        .map_err(|e| Error::Internal(format!("federation_policies.permissions: {e}")))?;
    let permissions = match scope.map(str::trim).filter(|s| !s.is_empty()) {
        None => granted,
        Some(asked) => match Permissions::parse_list(asked) {
            Err(e) => return Ok(Err(Refusal::InvalidScope(e.0))),
            Ok(asked) => {
                let beyond: Vec<String> = asked
                    .iter()
                    .filter(|p| !granted.allows(p))
                    .map(ToString::to_string)
                    .collect();
                if !beyond.is_empty() {
                    return Ok(Err(Refusal::InvalidScope(format!(
                        "The scope asks for more than the trust policy grants: {}.",
                        beyond.join(", ")
                    ))));
                }
                asked
            }
        },
    };
    // Remembered first and on its own: committed, it refuses the same token everywhere.
    let digest = jti_digest(&identity.issuer, &identity.jti);
    let remembered = federation_jti::ActiveModel {
        digest: Set(digest.clone()),
        expires_at: Set(identity.expires_at),
    }
    .insert(db)
    .await;
    match remembered {
        Ok(_) => {}
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return Ok(Err(Refusal::InvalidGrant(
                "This identity token was already exchanged: each may be used once (its jti)."
                    .into(),
            )));
        }
        Err(e) => return Err(e.into()),
    }
    let account = service_account::Entity::find_by_id(policy.service_account_id)
        .one(db)
        .await?
        .ok_or(Error::NotFound("service account"))?;
    let team = team::Entity::find_by_id(account.team_id)
        .one(db)
        .await?
        .ok_or(Error::NotFound("team"))?;
    let lifetime = Duration::minutes(i64::from(policy.lifetime_minutes));
    let kept = provenance(identity, &conditions);
    let subject = kept.get("sub").and_then(Value::as_str).unwrap_or("?");
    let description = format!("{} ({})", cut(subject, 80), &digest[..8]);
    let request = NewToken {
        description: &description,
        team: &team.slug,
        write: false,
        permissions: Some(permissions.clone()),
        expiry: Expiry::For(lifetime),
        kind: TokenKind::Federated,
        allowed: AllowList::any(),
        rate_limit: None,
    };
    let provenance_json = Value::Object(kept).to_string();
    let minted = tokens::create_federated(db, account.user_id, request, provenance_json.clone());
    let issued = match minted.await {
        Ok(issued) => issued,
        // The policy's permissions no longer fit (a service's scope removed, the account demoted
        // to reader): say so, as the policy's fault, not the job's.
        Err(Error::Invalid { message, .. }) => {
            return Ok(Err(Refusal::InvalidGrant(format!(
                "The matching trust policy can no longer be honoured: {message}"
            ))));
        }
        Err(e) => return Err(e),
    };
    let event = Event::new(Some(account.user_id), Actor::Operator, Kind::TokenExchanged)
        .token(issued.info.id.clone())
        .target(format!(
            "token \"{}\" for {} (policy {})",
            issued.info.description,
            provenance_summary(&provenance_json),
            policy.id
        ));
    activity::record(db, event).await?;
    Ok(Ok(Exchanged {
        expires_in_seconds: lifetime.num_seconds(),
        scope: permissions.joined(),
        issued,
    }))
}

/// Deletes remembered `jti`s past their `exp`, and federated tokens expired for more than
/// [`EXPIRED_KEPT_HOURS`] with their usage (a busy CI makes many; their activity entries stay).
/// The housekeeping runs it.
pub async fn purge(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64> {
    let txn = db.begin().await?;
    federation_jti::Entity::delete_many()
        .filter(federation_jti::Column::ExpiresAt.lt(now))
        .exec(&txn)
        .await?;
    let ids: Vec<String> = token::Entity::find()
        .select_only()
        .column(token::Column::Id)
        .filter(token::Column::Kind.eq(TokenKind::Federated.as_str()))
        .filter(token::Column::ExpiresAt.lt(now - Duration::hours(EXPIRED_KEPT_HOURS)))
        .limit(1000)
        .into_tuple()
        .all(&txn)
        .await?;
    if ids.is_empty() {
        txn.commit().await?;
        return Ok(0);
    }
    token_usage_hour::Entity::delete_many()
        .filter(token_usage_hour::Column::TokenId.is_in(ids.clone()))
        .exec(&txn)
        .await?;
    token_address::Entity::delete_many()
        .filter(token_address::Column::TokenId.is_in(ids.clone()))
        .exec(&txn)
        .await?;
    let purged = token::Entity::delete_many()
        .filter(token::Column::Id.is_in(ids))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(purged.rows_affected)
}

/// The provenance of a federated token, for its page.
pub fn provenance_of(info: &TokenInfo) -> Option<BTreeMap<String, String>> {
    info.provenance
        .as_deref()
        .and_then(|text| serde_json::from_str(text).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn condition(claim: &str, pattern: &str) -> Condition {
        Condition {
            claim: claim.into(),
            pattern: pattern.into(),
        }
    }

    #[test]
    fn globs_match_runs_of_any_characters() {
        assert!(glob_match("acme/*", "acme/app"));
        assert!(glob_match(
            "repo:acme/app:ref:refs/heads/*",
            "repo:acme/app:ref:refs/heads/main"
        ));
        assert!(glob_match("*-prod", "eu-prod"));
        assert!(glob_match("a*b*c", "abbbc"));
        assert!(glob_match("exact", "exact"));
        assert!(!glob_match("exact", "exact2"));
        assert!(!glob_match("acme/*", "acmex/app"));
        assert!(!glob_match("a*b*c", "acb"));
        assert!(!glob_match("ab*ba", "aba"));
        assert!(glob_match("*", ""));
    }

    #[test]
    fn only_conditions_that_name_an_owner_identify() {
        assert!(condition("repository", "acme/app").identifies());
        assert!(condition("repository", "acme/*").identifies());
        assert!(condition("sub", "repo:acme/app:ref:refs/heads/main").identifies());
        assert!(condition("sub", "repo:acme/*").identifies());
        assert!(condition("repository_owner_id", "123456").identifies());
        assert!(condition("project_path", "group/project").identifies());
        assert!(!condition("repository", "*").identifies());
        assert!(!condition("sub", "repo:*").identifies());
        assert!(!condition("repository", "acme*").identifies());
        assert!(!condition("repository", "*/app").identifies());
        assert!(!condition("ref", "refs/heads/main").identifies());
        assert!(!condition("environment", "production").identifies());
    }

    #[test]
    fn conditions_parse_claim_equals_pattern() {
        assert_eq!(
            Condition::parse(" repository = acme/app ").unwrap(),
            condition("repository", "acme/app")
        );
        assert!(Condition::parse("repository").is_err());
        assert!(Condition::parse("=x").is_err());
        assert!(Condition::parse("aud=x").is_err());
        assert!(Condition::parse("ref=").is_err());
        assert!(Condition::parse("re f=x").is_err());
    }

    #[test]
    fn issuers_are_https_or_loopback_http_when_allowed() {
        let strict = Settings {
            default_audience: "x".into(),
            allow_http_loopback: false,
        };
        let tests = Settings {
            allow_http_loopback: true,
            ..strict.clone()
        };
        assert!(parse_issuer("https://token.actions.githubusercontent.com", &strict).is_ok());
        assert!(parse_issuer("http://127.0.0.1:8080", &strict).is_err());
        assert!(parse_issuer("http://127.0.0.1:8080", &tests).is_ok());
        assert!(parse_issuer("http://[::1]:8080", &tests).is_ok());
        assert!(parse_issuer("http://10.0.0.1", &tests).is_err());
        assert!(parse_issuer("http://example.com", &tests).is_err());
        assert!(parse_issuer("https://x.example/?a=b", &strict).is_err());
        assert!(parse_issuer("ftp://x.example", &strict).is_err());
    }

    #[test]
    fn provenance_reads_as_one_line() {
        let stored = r#"{"iss":"https://token.actions.githubusercontent.com","sub":"repo:acme/app:ref:refs/heads/main","run_id":"42"}"#;
        assert_eq!(
            provenance_summary(stored),
            "repo:acme/app:ref:refs/heads/main at token.actions.githubusercontent.com, run 42"
        );
    }
}
