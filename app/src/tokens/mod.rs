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
    dialog::{Confirm, ConfirmDialog, TokenActions},
    form::NewTokenForm,
    once_only::OnceOnlyPanel,
    server::{
        CreateToken, DeleteToken, EndTokenOverlap, IssuedToken, RegenerateToken, RotateToken,
        list_tokens, new_token_options,
    },
    table::TokenTable,
};
use crate::components::{FormError, Loaded, action_error};

lazy_page! {
    /// The token page as a lazily loaded route: its code is a wasm chunk of its own, fetched the first time
    /// the page is shown (docs/frontend.md).
    TokensRoute => TokensPage
}

#[component]
pub fn TokensPage() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let actions = TokenActions {
        regenerate: ServerAction::<RegenerateToken>::new(),
        rotate: ServerAction::<RotateToken>::new(),
        end_overlap: ServerAction::<EndTokenOverlap>::new(),
        delete: ServerAction::<DeleteToken>::new(),
    };
    crate::sudo::retry_after_confirming(create);
    crate::sudo::retry_after_confirming(actions.regenerate);
    crate::sudo::retry_after_confirming(actions.rotate);
    let TokenActions {
        regenerate,
        rotate,
        end_overlap,
        delete,
    } = actions;
    let editing = AllowListEditing::from_query();
    let tokens = Resource::new(
        move || {
            (
                create.version().get(),
                regenerate.version().get(),
                rotate.version().get(),
                end_overlap.version().get(),
                delete.version().get(),
                editing.saved.get(),
            )
        },
        |_| list_tokens(),
    );
    let options = Resource::new(|| (), |_| new_token_options());
    let confirm = RwSignal::new(None::<Confirm>);
    // The value shown once: the latest successful create or regenerate.
    let shown = RwSignal::new(None::<IssuedToken>);
    Effect::new(move |_| {
        if let Some(Ok(issued)) = create.value().get() {
            shown.set(Some(issued));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(issued)) = regenerate.value().get() {
            shown.set(Some(issued));
            confirm.set(None);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(issued)) = rotate.value().get() {
            shown.set(Some(issued));
            confirm.set(None);
        }
    });
    Effect::new(move |_| {
        if matches!(delete.value().get(), Some(Ok(())))
            || matches!(end_overlap.value().get(), Some(Ok(())))
        {
            confirm.set(None);
        }
    });
    // Before hydration (a plain form post), the value arrives with the page itself.
    let issued_now = move || {
        shown.get().or_else(|| {
            [create.value(), regenerate.value(), rotate.value()]
                .into_iter()
                .find_map(|value| value.get().and_then(Result::ok))
        })
    };
    let row_error = Signal::derive(move || {
        action_error(regenerate.value())
            .get()
            .or_else(|| action_error(delete.value()).get())
            .or_else(|| action_error(end_overlap.value()).get())
    });

    view! {
        <Title text="Access tokens"/>
        <crate::pages::Welcome/>
        <div class="page-head">
            <h1>"Access tokens"</h1>
            <a class="button" href="#new-token">"Generate new token"</a>
        </div>
        <p class="muted">
            "Tokens let scripts and integrations call your team's API as you. Each is scoped to one team, "
            "read-only unless you enable write access, and shown only once."
        </p>
        {move || issued_now().map(|issued| view! { <OnceOnlyPanel issued/> })}
        <FormError error=row_error/>
        <Loaded resource=tokens loading="Loading tokens…"
            render=move |rows| view! { <TokenTable rows confirm editing/> }/>
        <ConfirmDialog confirm actions/>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match options.await {
                    Ok(options) => view! { <NewTokenForm create options/> }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}
