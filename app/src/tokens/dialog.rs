//! The confirmation dialog for regenerating, rotating or deleting a token and for ending a
//! rotation's overlap, naming the token, with the server actions it sends.

use leptos::prelude::*;

use super::{
    TokenPage,
    server::{DeleteToken, EndTokenOverlap, OVERLAP_CHOICES, RegenerateToken, RotateToken},
};
use crate::components::{FieldError, FormError, LazyPart, Modal, action_error, announce};

/// What the confirmation dialog is asking about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Confirm {
    Regenerate {
        id: String,
        description: String,
    },
    Rotate {
        id: String,
        description: String,
        /// Seconds until the token expires (`None`: never): longer overlaps are not offered.
        remaining_seconds: Option<i64>,
    },
    EndOverlap {
        id: String,
        description: String,
        /// The old value, `pdk_…a1b2`.
        old_partial: String,
    },
    Delete {
        id: String,
        description: String,
    },
}

/// The confirmation, naming the token: a lazy part (docs/frontend.md), fetched when a row's
/// button is first hovered or focused.
#[component]
pub fn ConfirmDialog(page: TokenPage) -> impl IntoView {
    let open = Signal::derive(move || page.confirm.with(Option::is_some));
    view! { <LazyPart open part=move || confirm_dialog(page)/> }
}

/// Starts fetching the dialog's code (a row's buttons call it on hover and focus).
pub fn preload_confirm_dialog() {
    crate::components::preload_part!(confirm_dialog);
}

#[lazy]
fn confirm_dialog(page: TokenPage) -> AnyView {
    let confirm = page.confirm;
    let regenerate = ServerAction::<RegenerateToken>::new();
    let rotate = ServerAction::<RotateToken>::new();
    let end_overlap = ServerAction::<EndTokenOverlap>::new();
    let delete = ServerAction::<DeleteToken>::new();
    crate::sudo::retry_after_confirming(regenerate);
    crate::sudo::retry_after_confirming(rotate);
    // A new value is shown once (the panel brings it into view); any success closes the dialog
    // and lists the tokens again, and an ending is announced.
    Effect::new(move |_| {
        let issued = regenerate
            .value()
            .get()
            .and_then(Result::ok)
            .or_else(|| rotate.value().get().and_then(Result::ok));
        let deleted = matches!(delete.value().get(), Some(Ok(())));
        let stopped = matches!(end_overlap.value().get(), Some(Ok(())));
        if issued.is_some() || deleted || stopped {
            if issued.is_some() {
                page.shown.set(issued);
            }
            if deleted {
                announce("Token deleted");
            } else if stopped {
                announce("Old value stopped");
            }
            page.changed.update(|n| *n += 1);
            confirm.set(None);
        }
    });
    let error = Signal::derive(move || {
        action_error(regenerate.value())
            .get()
            .or_else(|| action_error(delete.value()).get())
            .or_else(|| action_error(end_overlap.value()).get())
    });
    let close = move |_| confirm.set(None);
    view! {
        {move || confirm.get().map(|c| {
            // A destructive action starts on Cancel (Enter twice must not delete); the others on
            // their own button.
            let destructive = matches!(c, Confirm::Delete { .. } | Confirm::EndOverlap { .. });
            let first_focus = if destructive { "confirm-cancel" } else { "confirm-action" };
            let (title, text, form) = match c {
                Confirm::Regenerate { id, description } => (
                    format!("Regenerate “{description}”?"),
                    "A new value replaces the current one, which stops working at once. Scripts using it will need the new value. To switch them over without a gap, rotate instead.".to_string(),
                    view! {
                        <ActionForm action=regenerate>
                            <input type="hidden" name="id" value=id/>
                            <button type="submit" id="confirm-action" class="button">"Regenerate token"</button>
                        </ActionForm>
                    }.into_any(),
                ),
                Confirm::Rotate { id, description, remaining_seconds } => (
                    format!("Rotate “{description}”?"),
                    "You get a new value, and the current one keeps working for the time you choose, so that you can move your scripts over. After that only the new value works.".to_string(),
                    view! { <RotateForm id remaining_seconds action=rotate/> }.into_any(),
                ),
                Confirm::EndOverlap { id, description, old_partial } => (
                    format!("Stop the old value of “{description}” now?"),
                    format!("The old value {old_partial} stops working at once. Scripts that still use it will fail; the new value keeps working."),
                    view! {
                        <ActionForm action=end_overlap>
                            <input type="hidden" name="id" value=id/>
                            <button type="submit" id="confirm-action" class="button danger-solid">"Stop old value"</button>
                        </ActionForm>
                    }.into_any(),
                ),
                Confirm::Delete { id, description } => (
                    format!("Delete “{description}”?"),
                    "Any script or integration using this token will lose access at once. This cannot be undone.".to_string(),
                    view! {
                        <ActionForm action=delete>
                            <input type="hidden" name="id" value=id/>
                            <button type="submit" id="confirm-action" class="button danger-solid">"Delete token"</button>
                        </ActionForm>
                    }.into_any(),
                ),
            };
            view! {
                <Modal on_close=close labelled_by="confirm-title" described_by="confirm-text" first_focus>
                    <h2 id="confirm-title">{title}</h2>
                    <p id="confirm-text">{text}</p>
                    <FormError error/>
                    <div class="dialog-actions">
                        {form}
                        <button type="button" id="confirm-cancel" class="button secondary" on:click=move |_| confirm.set(None)>"Cancel"</button>
                    </div>
                </Modal>
            }
        })}
    }
    .into_any()
}

/// The overlap choice and the Rotate button. Overlaps past the token's expiry are not offered
/// (the server refuses them too).
#[component]
fn RotateForm(
    id: String,
    remaining_seconds: Option<i64>,
    action: ServerAction<RotateToken>,
) -> impl IntoView {
    let error = action_error(action.value());
    let fits = move |seconds: i64| remaining_seconds.is_none_or(|left| seconds <= left);
    view! {
        <ActionForm action attr:class="rotate-form">
            <input type="hidden" name="id" value=id/>
            <label for="overlap_seconds">"Keep the old value working for"</label>
            <select id="overlap_seconds" name="overlap_seconds" aria-describedby="overlap-error">
                {OVERLAP_CHOICES.iter().map(|(seconds, words)| {
                    let fits = fits(*seconds);
                    view! {
                        <option value=seconds.to_string() disabled=!fits>
                            {if fits { words.to_string() } else { format!("{words} (longer than the token has left)") }}
                        </option>
                    }
                }).collect_view()}
            </select>
            <FieldError error field="overlap" id="overlap-error"/>
            <FormError error/>
            <button type="submit" id="confirm-action" class="button">"Rotate token"</button>
        </ActionForm>
    }
}
