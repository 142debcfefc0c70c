//! A token as every table of tokens shows it: the one projection of `domain::tokens::TokenInfo`
//! for the owner's page and the team admins' Tokens tab (each row type adds what only it shows).
//! Times are prepared on the server (relative and exact), so the table renders the same before
//! and after the wasm loads.

use common::TokenKind;
use leptos::prelude::*;
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

/// The frame both token tables share: the scrolling wrapper, the header (`columns`, then the
/// actions column) and the rows.
#[component]
pub fn TokenTableFrame(
    /// The table's own class beside `table` (`tokens`, `team-tokens`).
    class: &'static str,
    columns: Vec<&'static str>,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
        <table class=format!("table {class}")>
            <thead>
                <tr>
                    {columns.into_iter().map(|c| view! { <th scope="col">{c}</th> }).collect_view()}
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>{children()}</tbody>
        </table>
        </div>
    }
}

/// The cells that say the same of a token in every table.
impl TokenView {
    pub fn scope_cell(&self) -> impl IntoView + use<> {
        view! { <td>{if self.write { "read/write" } else { "read" }}</td> }
    }

    pub fn partial_cell(&self) -> impl IntoView + use<> {
        view! { <td><code class="partial">{self.partial.clone()}</code></td> }
    }

    pub fn created_cell(&self) -> impl IntoView + use<> {
        view! { <td><span title=self.created_exact.clone()>{self.created.clone()}</span></td> }
    }

    pub fn last_ip_cell(&self) -> impl IntoView + use<> {
        view! { <td>{self.last_ip.clone().unwrap_or_else(|| "—".into())}</td> }
    }

    /// "API explorer" for the explorer's own token.
    pub fn explorer_badge(&self) -> impl IntoView + use<> {
        (self.kind == TokenKind::Explorer)
            .then(|| view! { <span class="badge">"API explorer"</span> })
    }
}
