//! A token as every table of tokens shows it: the one projection of `domain::tokens::TokenInfo`
//! for the owner's page and the team admins' Tokens tab (each row type adds what only it shows).
//! Times are prepared on the server (relative and exact), so the table renders the same before
//! and after the wasm loads.

use common::TokenKind;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenView {
    pub id: String,
    pub description: String,
    /// The team's slug.
    pub team: String,
    pub write: bool,
    pub kind: TokenKind,
    /// `pdk_…a1b2`
    pub partial: String,
    pub created: String,
    pub created_exact: String,
    /// `None`: never expires.
    pub expires: Option<String>,
    pub expires_exact: Option<String>,
    pub expiring_soon: bool,
    /// `None`: never used.
    pub last_used: Option<String>,
    pub last_used_exact: Option<String>,
    pub last_ip: Option<String>,
    /// Waits for a team admin's approval before the API accepts it.
    pub pending_approval: bool,
    /// Canonical CIDRs it may be used from; empty: any address.
    pub allowed_ips: Vec<String>,
}

#[cfg(feature = "ssr")]
impl TokenView {
    pub fn of(t: &domain::tokens::TokenInfo, now: chrono::DateTime<chrono::Utc>) -> Self {
        use domain::time;
        TokenView {
            id: t.id.clone(),
            description: t.description.clone(),
            team: t.team_slug.clone(),
            write: t.write,
            kind: t.kind,
            partial: domain::tokens::format::partial(&t.hint),
            created: time::date(t.created_at),
            created_exact: time::minute(t.created_at),
            expires: t.expires_at.map(time::date),
            expires_exact: t.expires_at.map(time::minute),
            expiring_soon: t.is_expiring_soon(now),
            last_used: t.last_used_at.map(|at| time::relative(at, now)),
            last_used_exact: t.last_used_at.map(time::minute),
            last_ip: t.last_used_ips.first().cloned(),
            pending_approval: t.pending_approval,
            allowed_ips: t.allowed_ips.clone(),
        }
    }
}
