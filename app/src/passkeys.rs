//! The Account page's passkeys card (docs/two-factor.md): add, list, remove. The ceremonies
//! are `crate::webauthn`; the rules `domain::identity::passkeys`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    components::{FieldError, FormError},
    error::AppError,
    webauthn::{PasskeyPurpose, ceremony},
};

/// A passkey on the Account page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyView {
    pub id: i64,
    pub name: String,
    pub created: String,
    pub last_used: Option<String>,
}

#[server(prefix = "/rpc", endpoint = "my_passkeys")]
pub async fn my_passkeys() -> Result<Vec<PasskeyView>, AppError> {
    use crate::session::{db, require_user};
    let user = require_user()?;
    Ok(domain::identity::passkeys::list(&db()?, user.id)
        .await?
        .into_iter()
        .map(|p| PasskeyView {
            id: p.id,
            name: p.name,
            created: domain::time::date(p.created_at),
            last_used: p.last_used_at.map(domain::time::minute),
        })
        .collect())
}

#[server(prefix = "/rpc", endpoint = "remove_passkey")]
pub async fn remove_passkey(id: i64) -> Result<(), AppError> {
    use crate::session::{db, origin, require_recent_sign_in};
    let user = require_recent_sign_in()?;
    domain::identity::passkeys::remove(&db()?, origin(&user), id).await?;
    Ok(())
}

/// The Account page's passkeys card.
#[component]
pub fn PasskeysCard() -> impl IntoView {
    let add = Action::new_local(|name: &String| {
        ceremony(PasskeyPurpose::Register, Some(name.clone()), None)
    });
    let remove = ServerAction::<RemovePasskey>::new();
    crate::sudo::retry_after_confirming(remove);
    crate::sudo::retry_action_after_confirming(add);
    let passkeys = Resource::new(
        move || (add.version().get(), remove.version().get()),
        |_| my_passkeys(),
    );
    let name = RwSignal::new(String::new());
    let add_error = Signal::derive(move || add.value().get().and_then(Result::err));
    let remove_error = crate::components::action_error(remove.value());
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        add.dispatch(name.get_untracked());
    };
    Effect::new(move |_| {
        if let Some(Ok(())) = add.value().get() {
            name.set(String::new());
        }
    });
    view! {
        <section class="card" data-testid="passkeys-card">
            <h2>"Passkeys and security keys"</h2>
            <p class="muted">"Sign in with your fingerprint, face or screen lock, or a security key: as the second step after your password, or on its own with “Sign in with a passkey”."</p>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match passkeys.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted" data-testid="no-passkeys">"No passkeys yet."</p> }.into_any(),
                        Ok(list) => view! {
                            <div class="table-wrap"><table class="table passkeys">
                                <thead><tr><th scope="col">"Name"</th><th scope="col">"Added"</th><th scope="col">"Last used"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|p| view! {
                                        <tr data-testid="passkey-row">
                                            <td data-label="Name">{p.name.clone()}</td>
                                            <td data-label="Added">{p.created}</td>
                                            <td data-label="Last used">{p.last_used.unwrap_or_else(|| "Never".to_string())}</td>
                                            <td class="actions">
                                                <ActionForm action=remove attr:class="inline">
                                                    <input type="hidden" name="id" value=p.id.to_string()/>
                                                    <button type="submit" class="link-button danger" aria-label=format!("Remove the passkey {}", p.name)>"Remove"</button>
                                                </ActionForm>
                                            </td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table></div>
                        }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            <FormError error=remove_error/>
            <form on:submit=on_submit class="inline-fields">
                <label for="passkey-name">"Name"</label>
                <input id="passkey-name" name="name" required maxlength="60" placeholder="work laptop"
                    prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))
                    aria-describedby="passkey-name-error"/>
                <button type="submit" class="button secondary" data-testid="add-passkey" disabled=move || add.pending().get()>"Add a passkey"</button>
            </form>
            <FieldError error=add_error field="name" id="passkey-name-error"/>
            <FormError error=add_error/>
        </section>
    }
}
