//! The SCIM card on `/admin` (instance admins; docs/scim.md): the credentials an
//! organisation's directory provisions and deprovisions accounts with — create one (its secret
//! shown once, with the base URL to give the directory), see who made each and when it was last
//! used, revoke. The rules are `domain::identity::scim`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    components::{FieldError, FormError, Loaded, SecretValue, action_error},
    error::AppError,
};

/// A credential as the card lists it (never the secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScimCredentialRow {
    pub id: String,
    pub name: String,
    /// `pdkscim_…a1b2`
    pub partial: String,
    pub created_by: String,
    pub created: String,
    pub last_used: String,
}

/// A new credential: its secret, in this one answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewScimCredential {
    pub id: String,
    pub name: String,
    pub secret: String,
}

#[server(prefix = "/rpc", endpoint = "scim_credentials")]
pub async fn scim_credentials() -> Result<Vec<ScimCredentialRow>, AppError> {
    use crate::session::{db, require_user};
    let user = require_user()?;
    let list =
        domain::identity::scim::list_credentials(&db()?, domain::Actor::User(user.id)).await?;
    Ok(list
        .into_iter()
        .map(|c| ScimCredentialRow {
            partial: format!("pdkscim_…{}", c.hint),
            last_used: c
                .last_used_at
                .map_or_else(|| "never".to_string(), domain::time::date),
            id: c.id,
            name: c.name,
            created_by: c.created_by,
            created: domain::time::date(c.created_at),
        })
        .collect())
}

#[server(prefix = "/rpc", endpoint = "create_scim_credential")]
pub async fn create_scim_credential(name: String) -> Result<NewScimCredential, AppError> {
    use crate::session::{db, origin, require_recent_sign_in};
    let user = require_recent_sign_in()?;
    let (credential, secret) =
        domain::identity::scim::create_credential(&db()?, origin(&user).into(), &name).await?;
    crate::request::no_store();
    Ok(NewScimCredential {
        id: credential.id,
        name: credential.name,
        secret: secret.expose().to_string(),
    })
}

#[server(prefix = "/rpc", endpoint = "delete_scim_credential")]
pub async fn delete_scim_credential(id: String) -> Result<(), AppError> {
    use crate::session::{db, origin, require_recent_sign_in};
    let user = require_recent_sign_in()?;
    domain::identity::scim::delete_credential(&db()?, origin(&user).into(), &id).await?;
    Ok(())
}

/// This site's origin, for the base URL shown with a new credential (which only a hydrated page
/// shows: the panel follows the action's answer).
fn site_origin() -> String {
    #[cfg(feature = "hydrate")]
    {
        window().location().origin().unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        String::new()
    }
}

#[component]
pub fn ScimCredentials() -> impl IntoView {
    let create = ServerAction::<CreateScimCredential>::new();
    let delete = ServerAction::<DeleteScimCredential>::new();
    crate::sudo::retry_after_confirming(create);
    crate::sudo::retry_after_confirming(delete);
    let credentials = Resource::new(
        move || (create.version().get(), delete.version().get()),
        |_| scim_credentials(),
    );
    let create_error = action_error(create.value());
    let delete_error = action_error(delete.value());
    view! {
        <section class="card" data-testid="scim-settings">
            <h2>"SCIM provisioning"</h2>
            <p class="help">
                "Your directory (Okta, Entra ID, …) creates accounts and, when someone leaves, deactivates them: "
                "their sessions end and every token of theirs stops at once. Give it the base URL "
                <code>"/scim/v2"</code> " on this site and a credential made here."
            </p>
            {move || match create.value().get() {
                Some(Ok(new)) => Some(view! {
                    <div class="once-only" role="region" aria-label="New SCIM credential" data-testid="new-scim-panel">
                        <h3>{format!("SCIM credential for “{}”", new.name)}</h3>
                        <p class="warning"><strong>"Copy it now: you will not be able to see it again."</strong></p>
                        <SecretValue value=new.secret.clone() id="new-scim-secret" what="Credential" test_id="new-scim-secret"/>
                        <p class="muted">"Base URL: " <code>{format!("{}/scim/v2", site_origin())}</code></p>
                    </div>
                }),
                _ => None,
            }}
            <FormError error=delete_error/>
            <Loaded resource=credentials render=move |rows| match rows {
                rows if rows.is_empty() => view! {
                    <p class="empty" data-testid="no-scim-credentials">"No SCIM credentials yet."</p>
                }.into_any(),
                rows => view! {
                    <div class="table-wrap">
                    <table class="table scim-credentials">
                        <thead><tr>
                            <th scope="col">"Directory"</th><th scope="col">"Credential"</th><th scope="col">"Created"</th>
                            <th scope="col">"Last used"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th>
                        </tr></thead>
                        <tbody>
                            {rows.into_iter().map(|c| {
                                let label = format!("Revoke the SCIM credential {}", c.name);
                                let id = c.id.clone();
                                view! {
                                    <tr data-scim-id=c.id.clone()>
                                        <td data-label="Directory">{c.name.clone()}</td>
                                        <td data-label="Credential"><code class="partial">{c.partial.clone()}</code></td>
                                        <td data-label="Created">{format!("{} by {}", c.created, c.created_by)}</td>
                                        <td data-label="Last used">{c.last_used.clone()}</td>
                                        <td class="actions">
                                            <ActionForm action=delete>
                                                <input type="hidden" name="id" value=id.clone()/>
                                                <button type="submit" class="button danger" aria-label=label>"Revoke"</button>
                                            </ActionForm>
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                    </div>
                }.into_any(),
            }/>
            <ActionForm action=create attr:class="inline-fields">
                <label for="scim-name">"Directory"</label>
                <input id="scim-name" name="name" required maxlength="100" placeholder="e.g. Okta"
                    aria-describedby="scim-name-error"/>
                <FieldError error=create_error field="name" id="scim-name-error"/>
                <FormError error=create_error/>
                <button type="submit" class="button secondary">"Create SCIM credential"</button>
            </ActionForm>
        </section>
    }
}
