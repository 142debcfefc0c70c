//! A token's IP allow-list, shown as one line that opens a form to change it (a `<details>`, so
//! that it works before the wasm has loaded too). Used on the owner's token page and on a team
//! admin's Tokens tab; the server decides who may set what (`domain::tokens::set_allowed_ips`).

use leptos::prelude::*;

use super::server::SetTokenAllowedIps;
use crate::components::{FieldError, FormError, action_error};

/// Where the token may be used from, and the form to change it.
#[component]
pub fn AllowListEditor(
    id: String,
    allowed: Vec<String>,
    /// Bumped when the list is saved, so that the page lists the tokens again.
    row_saved: RwSignal<u32>,
    /// What may be entered (the owner's page and a team admin's tab say different things).
    help: &'static str,
) -> impl IntoView {
    let save = ServerAction::<SetTokenAllowedIps>::new();
    let error = action_error(save.value());
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            row_saved.update(|n| *n += 1);
        }
    });
    let summary = if allowed.is_empty() {
        "Any IP address".to_string()
    } else {
        format!("Only from {}", allowed.join(", "))
    };
    let field_id = format!("allowed-ips-{id}");
    view! {
        <details class="allow-list" open=move || error.get().is_some()>
            <summary>
                <span class:limited=!allowed.is_empty() data-testid="allowed-ips">{summary}</span>
                <span class="edit-link">"Edit"</span>
            </summary>
            <ActionForm action=save>
                <input type="hidden" name="id" value=id.clone()/>
                <label for=field_id.clone()>"Allowed IP addresses"</label>
                <textarea id=field_id.clone() name="allowed_ips" rows="3"
                    placeholder="203.0.113.7\n10.0.0.0/8\n2001:db8::/32">{allowed.join("\n")}</textarea>
                <p class="help">{help}</p>
                <FieldError error field="allowed_ips" id="allowed-ips-error"/>
                <FormError error/>
                <button type="submit" class="button">"Save"</button>
            </ActionForm>
        </details>
    }
}
