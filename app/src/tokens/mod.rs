//! The access-token page (the home page): list, create, show once with copy, regenerate, rotate
//! (with an overlap the owner can end early), edit the IP allow-list, delete.
//!
//! The secret value only ever travels in the response to `create_token`, `regenerate_token` or
//! `rotate_token`
//! (marked `Cache-Control: no-store`) and lives in the page's memory until it is left or
//! reloaded; nothing can fetch it again.
//!
//! - [`server`]: the server functions and the values they answer with.
//! - [`table`]: the token table and the expiry banner.
//! - [`form`]: the New token form.
//! - [`allow_list`]: a token's IP allow-list and its editor (also on a team admin's tab).
//! - [`dialog`]: the confirmation for regenerate, rotate, ending an overlap and delete (the
//!   token's own page, `app::token_usage`, uses it too).
//! - [`once_only`]: the new value, shown once, with Copy.
//! - [`inactive`]: the Active and Inactive tabs (`?tab=inactive`) and the table of tokens that
//!   ended in the last 30 days.

mod access_choice;
pub(crate) mod access_form;
pub(crate) mod allow_list;
pub(crate) mod dialog;
mod form;
mod inactive;
pub(crate) mod once_only;
pub mod server;
mod table;
pub mod view;

use leptos::prelude::*;
use leptos_meta::Title;

pub use self::server::{TeamChoice, token_teams};
use self::{
    allow_list::AllowListEditing,
    dialog::{Confirm, ConfirmDialog},
    form::{NewTokenForm, NewTokenOpening},
    inactive::{INACTIVE_TAB, InactiveTable, TokenTabs},
    once_only::OnceOnlyPanel,
    server::{InactiveRow, IssuedToken, TokenRow, inactive_tokens, list_tokens},
    table::TokenTable,
};
use crate::components::Loaded;

lazy_page! {
    /// The token page as a lazily loaded route: its code is a wasm chunk of its own, fetched the first time
    /// the page is shown (docs/frontend.md).
    TokensRoute => TokensPage
}

/// The page's state that its parts share. The forms and dialogs behind the buttons are lazy
/// parts (docs/frontend.md) that own their server actions: they report a change through
/// `changed` (the list is fetched again) and a new value through `shown`.
#[derive(Clone, Copy)]
pub(crate) struct TokenPage {
    /// Bumped by every successful change to the user's tokens.
    pub changed: RwSignal<u32>,
    /// The value shown once: the latest successful create, regenerate or rotate.
    pub shown: RwSignal<Option<IssuedToken>>,
    /// What the confirmation dialog asks about, while it is open.
    pub confirm: RwSignal<Option<Confirm>>,
}

/// Loads the code of the lazy parts the URL opens (`?edit_ips=`, `?new`), which the server drew
/// open: hydration needs a part's code at once (a part still loading would not match the
/// server's HTML), so `frontend::hydrate` awaits this first.
#[cfg(feature = "hydrate")]
pub async fn load_parts_opened_by_url() {
    let search = leptos::prelude::window()
        .location()
        .search()
        .unwrap_or_default();
    let has = |param: &str| {
        search
            .trim_start_matches('?')
            .split('&')
            .any(|pair| pair.split('=').next() == Some(param))
    };
    if has(allow_list::EDIT_PARAM) {
        allow_list::load_form().await;
    }
    if has(form::OPEN_PARAM) {
        form::load_form().await;
    }
}

/// What the page lists: the live tokens, or those of the Inactive tab.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
enum Listed {
    Active(Vec<TokenRow>),
    Inactive(Vec<InactiveRow>),
}

#[component]
pub fn TokensPage() -> impl IntoView {
    let page = TokenPage {
        changed: RwSignal::new(0),
        shown: RwSignal::new(None),
        confirm: RwSignal::new(None),
    };
    let editing = AllowListEditing::from_query();
    let new_token = NewTokenOpening::from_query();
    let query = leptos_router::hooks::use_query_map();
    let inactive = Memo::new(move |_| query.read().get("tab").as_deref() == Some(INACTIVE_TAB));
    let tokens = Resource::new(
        move || (page.changed.get(), editing.saved.get(), inactive.get()),
        |(_, _, inactive)| async move {
            if inactive {
                inactive_tokens().await.map(Listed::Inactive)
            } else {
                list_tokens().await.map(Listed::Active)
            }
        },
    );
    let confirm = page.confirm;

    view! {
        <Title text="Access tokens"/>
        <crate::pages::Welcome/>
        <div class="page-head">
            <h1>"Access tokens"</h1>
            {new_token.button()}
        </div>
        <p class="muted">
            "Tokens let scripts and integrations call your team's API as you. Each is scoped to one team, "
            "read-only unless you enable write access, and shown only once."
        </p>
        <OnceOnlyPanel shown=page.shown/>
        {move || view! { <TokenTabs inactive=inactive.get()/> }}
        <Loaded resource=tokens loading="Loading tokens…"
            render=move |listed| match listed {
                Listed::Active(rows) => view! { <TokenTable rows confirm editing/> }.into_any(),
                Listed::Inactive(rows) => view! { <InactiveTable rows confirm/> }.into_any(),
            }/>
        <ConfirmDialog page/>
        <NewTokenForm page opening=new_token/>
    }
}
