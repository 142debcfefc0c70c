//! The new token's value, shown once with a Copy button.

use leptos::prelude::*;

use super::server::IssuedToken;

/// The new value, once: distinct colour, Copy button, and the warning.
#[component]
pub fn OnceOnlyPanel(issued: IssuedToken) -> impl IntoView {
    let copied = RwSignal::new(false);
    let value = issued.token.clone();
    let on_copy = move |_| copy_to_clipboard(value.clone(), copied);
    view! {
        <section class="once-only" role="region" aria-label="New token value" data-testid="new-token-panel">
            <h2>{format!("Your new token “{}”", issued.description)}</h2>
            <p class="warning"><strong>"Copy it now: you will not be able to see it again."</strong>
                " It is not stored anywhere; if you lose it, regenerate the token."</p>
            <div class="token-value-row">
                <code id="new-token-value" class="token-value">{issued.token.clone()}</code>
                <button type="button" class="button" on:click=on_copy>
                    {move || if copied.get() { "Copied" } else { "Copy" }}
                </button>
                <span class="visually-hidden" role="status">{move || if copied.get() { "Token copied to the clipboard" } else { "" }}</span>
            </div>
            {issued.pending_approval.then(|| view! {
                <p class="banner warn" data-testid="pending-note">
                    "This team requires approval of write tokens: the token works once a team admin approves it."
                </p>
            })}
            {issued.old_valid_until.clone().map(|until| view! {
                <p class="banner warn" data-testid="old-value-note">
                    {format!("The old value keeps working until {until}: move your scripts to this one before then.")}
                </p>
            })}
            <p class="muted">{match issued.expires.clone() {
                Some(at) => format!("Expires {at}."),
                None => "This token never expires.".to_string(),
            }}</p>
        </section>
    }
}

/// Copies with the clipboard API; where that is refused, selects the value so that Ctrl-C works.
#[allow(unused_variables)]
fn copy_to_clipboard(value: String, copied: RwSignal<bool>) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen_futures::JsFuture;
        let select_fallback = || {
            let document = leptos::prelude::document();
            if let (Some(node), Ok(Some(selection))) = (
                document.get_element_by_id("new-token-value"),
                leptos::prelude::window().get_selection(),
            ) {
                let _ = selection.select_all_children(&node);
            }
        };
        let clipboard = leptos::prelude::window().navigator().clipboard();
        let promise = clipboard.write_text(&value);
        leptos::task::spawn_local(async move {
            match JsFuture::from(promise).await {
                Ok(_) => copied.set(true),
                Err(_) => select_fallback(),
            }
        });
    }
}
