//! The new token's value, shown once with a Copy button: a lazy part (docs/frontend.md), drawn
//! after a create, regenerate or rotate.

use leptos::prelude::*;

use super::server::IssuedToken;
use crate::components::{LazyPart, SecretValue};

/// The latest new value, once there is one.
#[component]
pub fn OnceOnlyPanel(shown: RwSignal<Option<IssuedToken>>) -> impl IntoView {
    let open = Signal::derive(move || shown.with(Option::is_some));
    view! { <LazyPart open part=move || once_only_panel(shown)/> }
}

/// The new value: distinct colour, Copy button, and the warning.
#[lazy]
pub(super) fn once_only_panel(shown: RwSignal<Option<IssuedToken>>) -> AnyView {
    (move || {
        shown.get().map(|issued| view! {
            <section class="once-only" role="region" aria-label="New token value" data-testid="new-token-panel">
                <h2>{format!("Your new token “{}”", issued.description)}</h2>
                <p class="warning"><strong>"Copy it now: you will not be able to see it again."</strong>
                    " It is not stored anywhere; if you lose it, regenerate the token."</p>
                <SecretValue value=issued.token.clone() id="new-token-value" what="Token"/>
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
