//! The new token's value, shown once with a Copy button.

use leptos::prelude::*;

use super::server::IssuedToken;
use crate::components::SecretValue;

/// The new value, once: distinct colour, Copy button, and the warning.
#[component]
pub fn OnceOnlyPanel(issued: IssuedToken) -> impl IntoView {
    view! {
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
    }
}
