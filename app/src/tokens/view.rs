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
    pub expired: bool,
    pub expiring_soon: bool,
    /// `None`: never used.
    pub last_used: Option<String>,
    pub last_used_exact: Option<String>,
    pub last_ip: Option<String>,
    /// Waits for a team admin's approval before the API accepts it.
    pub pending_approval: bool,
    /// Canonical CIDRs it may be used from; empty: any address.
    pub allowed_ips: Vec<String>,
    /// Its own limit of calls per minute (the team's cap may hold it lower).
    pub rate_limit: Option<u32>,
    /// A fine-grained token's permissions in short ("questions: write, deploy: run"); `None`:
    /// a whole-team token (docs/permissions.md).
    pub permissions: Option<String>,
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
            expired: t.is_expired(now),
            // Only an expiry that would stop a script (`domain::tokens::expiry_warns`).
            expiring_soon: t.warns_of_expiry(now),
            last_used: t.last_used_at.map(|at| time::relative(at, now)),
            last_used_exact: t.last_used_at.map(time::minute),
            last_ip: t.last_used_ips.first().cloned(),
            pending_approval: t.pending_approval,
            allowed_ips: t.allowed_ips.clone(),
            rate_limit: t.rate_limit,
            permissions: t.permissions.as_ref().map(|p| p.summary()),
        }
    }
}

/// A column's header: its name, or a link that orders the table by it.
#[derive(Clone, Debug)]
pub enum ColumnHead {
    Text(&'static str),
    Sort {
        label: &'static str,
        href: String,
        /// The table is ordered by this column now (most first).
        sorted: bool,
    },
}

impl From<&'static str> for ColumnHead {
    fn from(label: &'static str) -> Self {
        ColumnHead::Text(label)
    }
}

impl ColumnHead {
    fn view(self) -> impl IntoView {
        match self {
            ColumnHead::Text(label) => view! { <th scope="col">{label}</th> }.into_any(),
            ColumnHead::Sort {
                label,
                href,
                sorted,
            } => view! {
                <th scope="col" aria-sort=sorted.then_some("descending")>
                    <a href=href class="sort-link">{label}{sorted.then_some(" ↓")}</a>
                </th>
            }
            .into_any(),
        }
    }
}

/// The frame both token tables share: the scrolling wrapper, the header (`columns`, then the
/// actions column) and the rows.
#[component]
pub fn TokenTableFrame(
    /// The table's own class beside `table` (`tokens`, `team-tokens`).
    class: &'static str,
    #[prop(into)] columns: Vec<ColumnHead>,
    children: Children,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
        <table class=format!("table {class}")>
            <thead>
                <tr>
                    {columns.into_iter().map(ColumnHead::view).collect_view()}
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>{children()}</tbody>
        </table>
        </div>
    }
}

/// A token's row in either table: `lead` cells, the description with the badges every table
/// shows (and the table's own `badges`) above its `detail`, `after` cells, then the cells every
/// table shows (scope, partial value, created, expires, last used, last IP) and the `actions`.
#[component]
pub fn TokenTableRow(
    token: TokenView,
    /// Cells before the description (the team's tab: team, owner).
    #[prop(optional, into)]
    lead: ViewFn,
    /// Badges of this table's own after the shared ones.
    #[prop(optional, into)]
    badges: ViewFn,
    /// Below the description: the allow-list, a rotation's old value.
    #[prop(optional, into)]
    detail: ViewFn,
    /// Cells between the description and the shared ones (the owner's page: the team).
    #[prop(optional, into)]
    after: ViewFn,
    /// Said after the last use's time (the owner's page: which value was used).
    #[prop(optional, into)]
    last_used_note: ViewFn,
    /// The `data-owner` attribute (the team's tab).
    #[prop(optional)]
    owner: Option<String>,
    /// The actions cell's content.
    #[prop(into)]
    actions: ViewFn,
) -> impl IntoView {
    let expiring = token.shows_expiring();
    let last_used = match token.last_used.clone() {
        Some(when) => view! {
            <span title=token.last_used_exact.clone()>{when}</span> {last_used_note.run()}
        }
        .into_any(),
        None => view! { <span class="muted">"Never"</span> }.into_any(),
    };
    view! {
        <tr id=token.id.clone() data-token-id=token.id.clone() data-owner=owner
            class:expired-row=token.expired class:expiring-row=expiring>
            {lead.run()}
            <td data-label="Description">
                <a class="desc" href=format!("/tokens/{}", token.id)
                    title="How this token is used">{token.description.clone()}</a>
                {token.explorer_badge()}
                {token.rate_limit.map(|n| view! {
                    <span class="badge" data-testid="rate-limit-badge"
                        title="Calls over this many per minute are refused (429)">{format!("≤ {n}/min")}</span>
                })}
                {token.pending_approval.then(|| view! {
                    <span class="badge warn" data-testid="pending-badge"
                        title="The API refuses this token until a team admin approves it">"waiting for approval"</span>
                })}
                {badges.run()}
                {detail.run()}
            </td>
            {after.run()}
            {token.scope_cell()}
            {token.partial_cell()}
            {token.created_cell()}
            {token.expires_cell()}
            <td data-label="Last used">{last_used}</td>
            {token.last_ip_cell()}
            <td class="actions">{actions.run()}</td>
        </tr>
    }
}

/// The columns of the cells every table shows, in [`TokenTableRow`]'s order.
pub const SHARED_COLUMNS: [&str; 6] = [
    "Scope",
    "Token",
    "Created",
    "Expires",
    "Last used",
    "Last IP",
];

/// The cells that say the same of a token in every table.
impl TokenView {
    /// Whether to mark it as expiring soon. Explorer tokens live a day by design: like the
    /// reminders, the mark leaves them out.
    pub fn shows_expiring(&self) -> bool {
        self.expiring_soon && !self.expired && self.kind != TokenKind::Explorer
    }

    pub fn expires_cell(&self) -> impl IntoView + use<> {
        let exact = self.expires_exact.clone();
        let cell = match (self.expires.clone(), self.expired) {
            (None, _) => {
                view! { <span class="never" title="This token never expires">"never"</span> }
                    .into_any()
            }
            (Some(date), true) => {
                view! { <span class="expired" title=exact>{format!("expired {date}")}</span> }
                    .into_any()
            }
            (Some(date), false) if self.shows_expiring() => view! {
                <span class="soon" title=exact>{date}</span>
                <span class="badge warn" data-testid="expiring-badge">"expires soon"</span>
            }
            .into_any(),
            (Some(date), false) => view! { <span title=exact>{date}</span> }.into_any(),
        };
        view! { <td data-label="Expires">{cell}</td> }
    }

    pub fn scope_cell(&self) -> impl IntoView + use<> {
        view! { <td data-label="Scope" data-testid="scope-cell">{self.scope_in_words()}</td> }
    }

    /// What the token may do, in short: its permissions, or the whole team's read or write.
    pub fn scope_in_words(&self) -> String {
        match &self.permissions {
            Some(summary) => summary.clone(),
            None if self.write => "read/write".to_string(),
            None => "read".to_string(),
        }
    }

    pub fn partial_cell(&self) -> impl IntoView + use<> {
        view! { <td data-label="Token"><code class="partial">{self.partial.clone()}</code></td> }
    }

    pub fn created_cell(&self) -> impl IntoView + use<> {
        view! { <td data-label="Created"><span title=self.created_exact.clone()>{self.created.clone()}</span></td> }
    }

    pub fn last_ip_cell(&self) -> impl IntoView + use<> {
        view! { <td data-label="Last IP">{self.last_ip.clone().unwrap_or_else(|| "—".into())}</td> }
    }

    /// "API explorer" for the explorer's own token.
    pub fn explorer_badge(&self) -> impl IntoView + use<> {
        (self.kind == TokenKind::Explorer)
            .then(|| view! { <span class="badge">"API explorer"</span> })
    }
}
