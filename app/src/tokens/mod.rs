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
//! - [`dialog`]: the confirmation for regenerate, rotate, ending an overlap and delete.
//! - [`once_only`]: the new value, shown once, with Copy.

pub(crate) mod allow_list;
mod dialog;
mod form;
mod once_only;
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
    once_only::OnceOnlyPanel,
    server::{IssuedToken, list_tokens},
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

#[component]
pub fn TokensPage() -> impl IntoView {
    let page = TokenPage {
        changed: RwSignal::new(0),
        shown: RwSignal::new(None),
        confirm: RwSignal::new(None),
    };
    let editing = AllowListEditing::from_query();
    let new_token = NewTokenOpening::from_query();
    let tokens = Resource::new(
        move || (page.changed.get(), editing.saved.get()),
        |_| list_tokens(),
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
        <Loaded resource=tokens loading="Loading tokens…"
            render=move |rows| view! { <TokenTable rows confirm editing/> }/>
        <ConfirmDialog page/>
        <NewTokenForm page opening=new_token/>
    }
}
