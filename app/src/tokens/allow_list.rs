//! A token's IP allow-list, shown as one line with an Edit link that opens a form to change it.
//! Used on the owner's token page and on a team admin's Tokens tab; the server decides who may
//! set what (`domain::tokens::set_allowed_ips`).
//!
//! At most one row's form is open at a time ([`AllowListEditing`]), so that a page of many
//! tokens renders one form, not one per row. The Edit link is a real
//! link (`?edit_ips=<id>`), which the server answers with that row's form open, so editing works
//! before the wasm has loaded too; once it has, the link opens the form in place.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::server::SetTokenAllowedIps;
use crate::components::{FieldError, FormError, LazyPart, action_error, preload_part};

/// The query parameter naming the row whose form is open.
pub(super) const EDIT_PARAM: &str = "edit_ips";

/// Which row's allow-list form is open on a page, and a counter the page's token list watches.
#[derive(Clone, Copy)]
pub struct AllowListEditing {
    open: RwSignal<Option<String>>,
    /// Bumped when a list is saved, so that the page lists the tokens again.
    pub saved: RwSignal<u32>,
    /// The page's query without the edit parameter (filters, page number), `?` when empty:
    /// where Cancel leads, and what each row's Edit link adds to.
    rest_of_query: Memo<String>,
}

impl AllowListEditing {
    /// Opens the row the URL names, if any (the Edit link's target before the wasm loads).
    pub fn from_query() -> Self {
        let query = use_query_map();
        let open = query.with_untracked(|query| query.get(EDIT_PARAM));
        let rest_of_query = Memo::new(move |_| {
            let mut rest = query.get();
            rest.remove(EDIT_PARAM);
            match rest.to_query_string() {
                // An empty `href` would keep the current query; `?` alone clears it.
                empty if empty.is_empty() => "?".to_string(),
                rest => rest,
            }
        });
        Self {
            open: RwSignal::new(open),
            saved: RwSignal::new(0),
            rest_of_query,
        }
    }

    pub(crate) fn is_open(self, id: &str) -> bool {
        self.open.with(|open| open.as_deref() == Some(id))
    }

    /// The link that opens `id`'s form. Token ids are URL-safe (`tok_` and letters and digits).
    pub(crate) fn edit_href(self, id: &str) -> String {
        self.rest_of_query.with_untracked(|rest| {
            let joiner = if rest.len() > 1 { "&" } else { "" };
            format!("{rest}{joiner}{EDIT_PARAM}={id}")
        })
    }

    /// Opens `id`'s form in place.
    pub(crate) fn open(self, id: String) {
        self.open.set(Some(id));
    }

    fn cancel_href(self) -> String {
        self.rest_of_query.get_untracked()
    }
}

/// Where the token may be used from, with an Edit link, and the form when it is open.
#[component]
pub fn AllowListEditor(
    id: String,
    /// The token's description, to name it in the link's accessible label.
    description: String,
    allowed: Vec<String>,
    editing: AllowListEditing,
    /// What may be entered (the owner's page and a team admin's tab say different things).
    help: &'static str,
) -> impl IntoView {
    let summary = if allowed.is_empty() {
        "Any IP address".to_string()
    } else {
        format!("Only from {}", allowed.join(", "))
    };
    let limited = !allowed.is_empty();
    let open = {
        let id = id.clone();
        move || editing.is_open(&id)
    };
    let form_open = Signal::derive(open.clone());
    view! {
        <div class="allow-list">
            <span class:limited=limited data-testid="allowed-ips">{summary}</span>
            <a class="edit-link" href=editing.edit_href(&id) hidden=open
                aria-label=format!("Edit the allowed IP addresses of {description}")
                on:pointerenter=move |_| preload_allow_list_form()
                on:focus=move |_| preload_allow_list_form()
                on:click={
                    let id = id.clone();
                    move |ev| {
                        ev.prevent_default();
                        editing.open.set(Some(id.clone()));
                    }
                }>
                "Edit"
            </a>
            <LazyAllowListForm open=form_open id allowed editing help/>
        </div>
    }
}

/// The form while `open`: a lazy part (docs/frontend.md), fetched when an Edit link is first
/// hovered or focused ([`preload_allow_list_form`]).
#[component]
pub(crate) fn LazyAllowListForm(
    #[prop(into)] open: Signal<bool>,
    id: String,
    allowed: Vec<String>,
    editing: AllowListEditing,
    help: &'static str,
) -> impl IntoView {
    let part = move || allow_list_form(id.clone(), allowed.clone(), editing, help);
    view! { <LazyPart open part/> }
}

/// Starts fetching the form's code (what opens it calls this on hover and focus).
pub(crate) fn preload_allow_list_form() {
    preload_part!(allow_list_form);
}

/// Loads the form's code (before hydrating a page the server drew with the form open).
#[cfg(feature = "hydrate")]
pub(super) async fn load_form() {
    __preload_allow_list_form().await;
}

#[lazy]
fn allow_list_form(
    id: String,
    allowed: Vec<String>,
    editing: AllowListEditing,
    help: &'static str,
) -> AnyView {
    view! { <AllowListForm id allowed editing help/> }.into_any()
}

/// The open form: the list, one entry per line, with Save and Cancel.
#[component]
fn AllowListForm(
    id: String,
    allowed: Vec<String>,
    editing: AllowListEditing,
    help: &'static str,
) -> impl IntoView {
    let save = ServerAction::<SetTokenAllowedIps>::new();
    crate::sudo::retry_after_confirming(save);
    let error = action_error(save.value());
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            editing.open.set(None);
            editing.saved.update(|n| *n += 1);
        }
    });
    crate::components::focus_after_render("allowed-ips-edit");
    view! {
        <ActionForm action=save attr:novalidate=true>
            <input type="hidden" name="id" value=id/>
            <label for="allowed-ips-edit">"Allowed IP addresses"</label>
            <textarea id="allowed-ips-edit" name="allowed_ips" rows="3"
                aria-describedby="allowed-ips-edit-error"
                placeholder="203.0.113.7\n10.0.0.0/8\n2001:db8::/32">{allowed.join("\n")}</textarea>
            <p class="help">{help}</p>
            <FieldError error field="allowed_ips" id="allowed-ips-edit-error"/>
            <FormError error/>
            <div class="form-actions">
                <button type="submit" class="button">"Save"</button>
                <a class="button secondary" href=editing.cancel_href()
                    on:click=move |ev| {
                        ev.prevent_default();
                        editing.open.set(None);
                    }>
                    "Cancel"
                </a>
            </div>
        </ActionForm>
    }
}
