//! The confirmation dialog for regenerating or deleting a token, naming it.

use leptos::prelude::*;

use super::server::{DeleteToken, RegenerateToken};

/// What the confirmation dialog is asking about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Confirm {
    Regenerate { id: String, description: String },
    Delete { id: String, description: String },
}

/// The confirmation for regenerate and delete, naming the token.
#[component]
pub fn ConfirmDialog(
    confirm: RwSignal<Option<Confirm>>,
    regenerate: ServerAction<RegenerateToken>,
    delete: ServerAction<DeleteToken>,
) -> impl IntoView {
    let cancel = move |_| confirm.set(None);
    // Keyboard users land on the confirm button (autofocus only works at page load).
    Effect::new(move |_| {
        if confirm.get().is_some() {
            focus_after_render("confirm-action");
        }
    });
    view! {
        {move || confirm.get().map(|c| {
            let (title, text, id, is_delete) = match c {
                Confirm::Regenerate { id, description } => (
                    format!("Regenerate “{description}”?"),
                    "A new value replaces the current one, which stops working at once. Scripts using it will need the new value.",
                    id, false,
                ),
                Confirm::Delete { id, description } => (
                    format!("Delete “{description}”?"),
                    "Any script or integration using this token will lose access at once. This cannot be undone.",
                    id, true,
                ),
            };
            view! {
                <div class="dialog-backdrop" on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    if ev.key() == "Escape" { confirm.set(None) }
                }>
                    <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="confirm-title" aria-describedby="confirm-text">
                        <h2 id="confirm-title">{title}</h2>
                        <p id="confirm-text">{text}</p>
                        <div class="dialog-actions">
                            {if is_delete {
                                view! {
                                    <ActionForm action=delete>
                                        <input type="hidden" name="id" value=id.clone()/>
                                        <button type="submit" id="confirm-action" class="button danger-solid">"Delete token"</button>
                                    </ActionForm>
                                }.into_any()
                            } else {
                                view! {
                                    <ActionForm action=regenerate>
                                        <input type="hidden" name="id" value=id.clone()/>
                                        <button type="submit" id="confirm-action" class="button">"Regenerate token"</button>
                                    </ActionForm>
                                }.into_any()
                            }}
                            <button type="button" class="button secondary" on:click=cancel>"Cancel"</button>
                        </div>
                    </div>
                </div>
            }
        })}
    }
}

/// Moves the keyboard focus to the element with `id` once the browser has rendered it.
#[allow(unused_variables)]
fn focus_after_render(id: &'static str) {
    #[cfg(feature = "hydrate")]
    leptos::prelude::request_animation_frame(move || {
        use leptos::wasm_bindgen::JsCast;
        if let Some(element) = leptos::prelude::document()
            .get_element_by_id(id)
            .and_then(|e| e.dyn_into::<leptos::web_sys::HtmlElement>().ok())
        {
            let _ = element.focus();
        }
    });
}
