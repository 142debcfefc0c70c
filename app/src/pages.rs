//! Small pages and page parts that belong to no feature: the welcome notice and the 404.

use leptos::prelude::*;
use leptos_meta::Title;

/// A dismissible note on what patdesk is for. Only the wasm handles "Dismiss".
#[component]
pub fn Welcome() -> impl IntoView {
    let (open, set_open) = signal(true);
    view! {
        <Show when=move || open.get()>
            <section class="notice" role="status" aria-label="Welcome">
                <p>
                    "patdesk issues personal access tokens for your team's API: one team, one expiry, "
                    "read or read/write, shown once."
                </p>
                <button type="button" class="button secondary" on:click=move |_| set_open.set(false)>
                    "Dismiss"
                </button>
            </section>
        </Show>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found"/>
        <h1>"Page not found"</h1>
        <p><a href="/">"Back to your tokens"</a></p>
    }
}
