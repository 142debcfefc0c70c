//! The token page's Inactive tab (`/?tab=inactive`): the user's tokens that expired, were
//! deleted or were revoked in the last 30 days, with who ended each, when and why. Read-only:
//! each links to its own page, and an expired token (not deleted) can be regenerated, which is
//! what its "has expired" notice asks for (docs/tokens.md).

use leptos::prelude::*;

use super::{
    dialog::Confirm,
    server::InactiveRow,
    view::{ColumnHead, TokenTableFrame},
};

/// The query value of the Inactive tab (`?tab=inactive`).
pub const INACTIVE_TAB: &str = "inactive";

/// The Active and Inactive tabs: links, so that the server draws either one without the wasm.
#[component]
pub fn TokenTabs(inactive: bool) -> impl IntoView {
    let current = |on: bool| on.then_some("page");
    view! {
        <nav class="tabs" aria-label="Token lists">
            <ul>
                <li><a href="/" aria-current=current(!inactive)>"Active"</a></li>
                <li><a href=format!("/?tab={INACTIVE_TAB}") aria-current=current(inactive)
                    data-testid="inactive-tab">"Inactive"</a></li>
            </ul>
        </nav>
    }
}

#[component]
pub fn InactiveTable(rows: Vec<InactiveRow>, confirm: RwSignal<Option<Confirm>>) -> impl IntoView {
    if rows.is_empty() {
        return view! {
            <p class="empty" data-testid="no-inactive-tokens">
                "No token of yours ended in the last 30 days."
            </p>
        }
        .into_any();
    }
    let columns: Vec<ColumnHead> = ["Description", "Team", "Scope", "Token", "Created", "Ended"]
        .into_iter()
        .map(ColumnHead::from)
        .collect();
    // Regenerating an expired token opens the page's confirmation: fetch its code early.
    let preload = move || super::dialog::preload_confirm_dialog();
    view! {
        <p class="muted">
            "Tokens that expired, were deleted or were revoked in the last 30 days. They no longer "
            "work; nothing of their value is kept."
        </p>
        <div on:pointerover=move |_| preload() on:focusin=move |_| preload()>
            <TokenTableFrame class="tokens inactive-tokens" columns>
                {rows.into_iter().map(|row| view! { <InactiveTokenRow row confirm/> }).collect_view()}
            </TokenTableFrame>
        </div>
    }
    .into_any()
}

#[component]
fn InactiveTokenRow(row: InactiveRow, confirm: RwSignal<Option<Confirm>>) -> impl IntoView {
    let token = row.token;
    let (id, description) = (token.id.clone(), token.description.clone());
    let regenerate = row.can_regenerate.then(|| {
        let (id, description) = (id.clone(), description.clone());
        view! {
            <button type="button" class="button secondary"
                aria-label=format!("Regenerate {description}")
                on:click=move |_| confirm.set(Some(Confirm::Regenerate {
                    id: id.clone(),
                    description: description.clone(),
                }))>
                "Regenerate"
            </button>
        }
    });
    view! {
        <tr id=id.clone() data-token-id=id.clone() data-ending=row.ending class="inactive-row">
            <td data-label="Description">
                <a class="desc" href=format!("/tokens/{id}")
                    title="This token's details and use">{description.clone()}</a>
                {token.explorer_badge()}
            </td>
            <td data-label="Team"><code>{token.team.clone()}</code></td>
            {token.scope_cell()}
            {token.partial_cell()}
            {token.created_cell()}
            <td data-label="Ended"><span class="ended" data-testid="ended-note">{row.ended}</span></td>
            <td class="actions">{regenerate}</td>
        </tr>
    }
}
