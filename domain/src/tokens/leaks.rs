//! Leaked tokens: anyone who finds a patdesk token (in a commit, a log, a paste) reports it with
//! `POST /api/v1/credentials/revoke`, without authenticating, and every reported value that is a
//! live token is revoked at once; its owner sees that it was reported, when, from where and what
//! the reporter said. The answer never says which values were live (`docs/leaks.md`).

use std::net::IpAddr;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set,
};

use crate::{
    activity::{self, Actor, Event, Kind},
    db::begin_write,
    entity::token,
    error::{Error, Result},
    notifications::{self, Notice, NoticeKind, TokenRef},
    teams,
    tokens::format::TokenSecret,
};

/// The `type` GitLab's secret detection gives a patdesk token it found: the analyzer's primary
/// identifier, `gitleaks_rule_id` and the shipped rule's description
/// (`contrib/secret-scanning/gitleaks.toml`), joined and in snake case.
pub const GITLAB_TOKEN_TYPE: &str = "gitleaks_rule_id_patdesk_personal_access_token";

/// The pre-shared credential GitLab's Token Revocation API calls carry
/// (`PATDESK_GITLAB_REVOCATION_TOKEN`, docs/leaks.md), kept as its digest and compared in
/// constant time.
#[derive(Clone)]
pub struct GitLabCredential {
    digest: [u8; 32],
}

impl GitLabCredential {
    /// At least 32 characters: it is the only thing between anyone and the revocation of tokens
    /// they hold the value of — which they may revoke anyway — but also a probe of the endpoint.
    pub fn new(secret: &str) -> std::result::Result<Self, &'static str> {
        if secret.trim().chars().count() < 32 {
            return Err("it must be at least 32 characters long");
        }
        Ok(GitLabCredential {
            digest: sha256(secret.trim().as_bytes()),
        })
    }

    /// Whether an `Authorization` value carries it: the credential itself (as GitLab sends it)
    /// or `Bearer <credential>`.
    pub fn matches(&self, authorization: &[u8]) -> bool {
        let presented = authorization
            .strip_prefix(b"Bearer ")
            .unwrap_or(authorization);
        constant_time_eq::constant_time_eq(&sha256(presented.trim_ascii()), &self.digest)
    }
}

impl std::fmt::Debug for GitLabCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GitLabCredential(…)")
    }
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).into()
}

/// The most values one report may carry.
pub const MAX_VALUES: usize = 1_000;
/// The longest `source` kept, in characters (a longer one is cut).
pub const MAX_SOURCE_CHARS: usize = 200;

/// A report, checked without the database: the digests of the values that are well-formed
/// tokens, and how many were not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub received: usize,
    pub malformed: usize,
    digests: Vec<String>,
    source: Option<String>,
}

impl Report {
    /// Checks shape, length and checksum of every value (no database work): malformed values
    /// are counted and dropped. More than [`MAX_VALUES`] values is refused whole.
    pub fn parse(values: &[String], source: Option<&str>) -> Result<Self> {
        if values.len() > MAX_VALUES {
            return Err(Error::invalid(
                "credentials",
                format!(
                    "A report carries at most {MAX_VALUES} values ({} sent): split it.",
                    values.len()
                ),
            ));
        }
        let mut digests: Vec<String> = values
            .iter()
            .filter_map(|value| TokenSecret::parse(value.trim()).ok())
            .map(|secret| secret.digest())
            .collect();
        let well_formed = digests.len();
        digests.sort_unstable();
        digests.dedup();
        // Anyone may send a report, and its source lands in the owner's notice and mail:
        // control and invisible formatting characters (a right-to-left override making
        // "exe.txt" read "txt.exe", say) are written out, never passed on.
        let source = source
            .map(|s| {
                let kept: String = s.trim().chars().take(MAX_SOURCE_CHARS).collect();
                crate::text::escape_invisible(&kept)
            })
            .filter(|s| !s.is_empty());
        Ok(Report {
            received: values.len(),
            malformed: values.len() - well_formed,
            digests,
            source,
        })
    }
}

/// Revokes every live token among the report's values, in one transaction, with one entry in
/// each owner's log (the reporter's address and source). A reported value that is the old value
/// of a rotation still in its overlap stops working at once instead (the overlap ends; the new
/// value, which was not reported, goes on working). Returns the ids of the tokens changed, for
/// the caller's cache; never shown to the reporter.
pub async fn revoke_reported(
    db: &DatabaseConnection,
    report: &Report,
    reporter_ip: Option<IpAddr>,
) -> Result<Vec<String>> {
    if report.digests.is_empty() {
        return Ok(Vec::new());
    }
    let txn = begin_write(db).await?;
    let now = Utc::now();
    let live = token::Entity::find()
        .filter(token::Column::SecretDigest.is_in(report.digests.clone()))
        .filter(token::Column::DeletedAt.is_null())
        .lock_exclusive()
        .all(&txn)
        .await?;
    // A token whose current value was reported too is revoked, which is all it needs.
    let rotated_out: Vec<token::Model> = token::Entity::find()
        .filter(token::Column::PreviousDigest.is_in(report.digests.clone()))
        .filter(token::Column::PreviousValidUntil.gt(now))
        .filter(token::Column::DeletedAt.is_null())
        .lock_exclusive()
        .all(&txn)
        .await?
        .into_iter()
        .filter(|old| !live.iter().any(|t| t.id == old.id))
        .collect();
    let teams =
        teams::slugs_by_id(&txn, live.iter().chain(&rotated_out).map(|t| t.team_id)).await?;
    let found_at = report
        .source
        .as_ref()
        .map(|source| format!("The report says it was found at: {source}."));
    let reported = (live.into_iter().map(|t| (t, Reported::Token)))
        .chain(rotated_out.into_iter().map(|t| (t, Reported::OldValue)));
    let mut changed = Vec::new();
    for (found, what) in reported {
        let (notice_kind, event_kind, detail) = match what {
            Reported::Token => (
                NoticeKind::TokenRevoked,
                Kind::TokenReportedLeaked,
                match &found_at {
                    Some(found_at) => format!("{REVOKED} {found_at}"),
                    None => REVOKED.to_string(),
                },
            ),
            Reported::OldValue => (
                NoticeKind::OldValueLeaked,
                Kind::OldValueReportedLeaked,
                found_at
                    .clone()
                    .unwrap_or_else(|| "The report did not say where it was found.".into()),
            ),
        };
        let team = teams.get(&found.team_id).cloned().unwrap_or_default();
        let notice =
            Notice::new(notice_kind, found.user_id, TokenRef::of(&found, team)).detail(detail);
        notifications::notify(&txn, notice, now).await?;
        let mut target = format!("token \"{}\"", found.description);
        let (owner, id) = (found.user_id, found.id.clone());
        let mut active: token::ActiveModel = found.into();
        match what {
            Reported::Token => {
                active.deleted_at = Set(Some(now));
                active.reported_leaked = Set(true);
                active.leak_source = Set(report.source.clone());
                if let Some(source) = &report.source {
                    target.push_str(&format!(", found at: {source}"));
                }
            }
            Reported::OldValue => active.previous_valid_until = Set(Some(now)),
        }
        active.update(&txn).await?;
        // Nobody signed in made this change: no actor (the Activity page names the kind).
        let event = Event::new(Some(owner), Actor::Operator, event_kind)
            .ip(reporter_ip)
            .token(id.clone())
            .target(target);
        activity::record(&txn, event).await?;
        changed.push(id);
    }
    txn.commit().await?;
    crate::tokens::rights::changed();
    Ok(changed)
}

/// What a reported value was.
#[derive(Clone, Copy)]
enum Reported {
    /// A token's current value: the token is revoked.
    Token,
    /// The old value of a rotation still in its overlap: the overlap ends now.
    OldValue,
}

/// What the owner is told of a token revoked by a report.
const REVOKED: &str = "It was reported as leaked, and revoked so that nobody can use it.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_are_checked_without_the_database() {
        let good = TokenSecret::generate().expose().to_string();
        let mut broken = good.clone();
        broken.pop();
        broken.push(if good.ends_with('A') { 'B' } else { 'A' });
        let values = vec![good.clone(), good, broken, "hello".into()];
        let report = Report::parse(&values, Some("https://example.test/commit/1\n")).unwrap();
        assert_eq!(report.received, 4);
        assert_eq!(report.malformed, 2);
        assert_eq!(report.digests.len(), 1, "the same value twice is one token");
        assert_eq!(
            report.source.as_deref(),
            Some("https://example.test/commit/1")
        );
        let disguised = Report::parse(&values, Some("ci-log\u{202E}txt.exe\u{0}")).unwrap();
        assert_eq!(
            disguised.source.as_deref(),
            Some("ci-log<U+202E>txt.exe<U+0000>")
        );
        let too_many = vec![String::new(); MAX_VALUES + 1];
        assert!(Report::parse(&too_many, None).is_err());
    }
}
