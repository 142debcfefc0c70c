//! The new token's value, shown once with a Copy button: a lazy part (docs/frontend.md), drawn
//! after a create, regenerate or rotate. Each new value is brought into view with the focus
//! on Copy and announced, wherever on the page it was asked for (the form at the bottom of a
//! long list, a row's dialog, the token's own page).

use leptos::prelude::*;

use super::server::IssuedToken;
use crate::components::{LazyPart, SecretValue};

/// The latest new value, once there is one.
#[component]
pub fn OnceOnlyPanel(shown: RwSignal<Option<IssuedToken>>) -> impl IntoView {
    let open = Signal::derive(move || shown.with(Option::is_some));
    view! { <LazyPart open part=move || once_only_panel(shown)/> }
}

/// The Copy button's id: the focus moves there when a new value is shown.
const COPY_BUTTON: &str = "new-token-copy";

/// The new value: distinct colour, Copy button, and the warning.
#[lazy]
pub(super) fn once_only_panel(shown: RwSignal<Option<IssuedToken>>) -> AnyView {
    // Each new value (a new `IssuedToken`, even with the same description): into view, the
    // focus on Copy, and said, once the browser has drawn it.
    Effect::new(move |_| {
        if shown.with(Option::is_some) {
            bring_into_view();
        }
    });
    (move || {
        shown.get().map(|issued| view! {
            <section class="once-only" id="new-token-panel" role="region" aria-label="New token value" data-testid="new-token-panel">
                <h2>{format!("Your new token “{}”", issued.description)}</h2>
                <p class="warning"><strong>"Copy it now: you will not be able to see it again."</strong>
                    " It is not stored anywhere; if you lose it, regenerate the token."</p>
                <SecretValue value=issued.token.clone() id="new-token-value" what="Token" button_id=COPY_BUTTON/>
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
        })
    })
    .into_any()
}

/// Scrolls the panel into view, moves the focus to its Copy button and announces the value,
/// after the browser has drawn it (a dialog closing at the same time gives the focus back to
/// its button first; this comes after).
fn bring_into_view() {
    #[cfg(feature = "hydrate")]
    leptos::prelude::request_animation_frame(|| {
        use leptos::wasm_bindgen::JsCast;
        let document = leptos::prelude::document();
        if let Some(panel) = document.get_element_by_id("new-token-panel") {
            panel.scroll_into_view_with_bool(true);
        }
        if let Some(copy) = document
            .get_element_by_id(COPY_BUTTON)
            .and_then(|e| e.dyn_into::<leptos::web_sys::HtmlElement>().ok())
        {
            let _ = copy.focus();
        }
        crate::components::announce(
            "New token created. Copy its value now: it won't be shown again.",
        );
    });
}
