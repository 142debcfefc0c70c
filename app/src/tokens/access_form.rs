//! Changing what a token may do, on its page (docs/permissions.md): the New token form's Access
//! fieldset again, for the token's own team. Narrowing takes effect at once; widening asks the
//! person to confirm it is them (sudo mode) and, where the team approves write tokens, makes the
//! token wait for an admin again (`domain::tokens::set_access`). A lazy part, opened by "Change
//! access".

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{
    access_choice::{AccessChoice, Preset},
    server::TeamChoice,
};
use crate::{
    components::{FormError, LazyPart, action_error, focus_after_render},
    error::AppError,
};

/// What the form starts from: the token's team (its services, whether it requires fine-grained
/// tokens) and the token's access now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessNow {
    pub team: TeamChoice,
    /// `None`: whole-team.
    pub permissions: Option<Vec<String>>,
    pub write: bool,
}

#[server(prefix = "/rpc", endpoint = "token_access")]
pub async fn token_access(id: String) -> Result<AccessNow, AppError> {
    use crate::session::{db, require_user};
    let user = require_user()?;
    let token = domain::tokens::list(&db()?, user.id)
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .ok_or(AppError::NotFound("No such token.".into()))?;
    let team = super::server::ssr::team_choices_offering(|slug| slug == token.team_slug)
        .await?
        .into_iter()
        .find(|t| t.slug == token.team_slug)
        .ok_or(AppError::NotFound("No such token.".into()))?;
    Ok(AccessNow {
        team,
        permissions: token.permissions.map(|p| p.to_list()),
        write: token.write,
    })
}

/// Changes the owner's token's access: `access` is `team` (with `write`) or `permissions` (the
/// fieldset's `permissions[]`). Widening needs sudo mode: asked for only then.
#[server(prefix = "/rpc", endpoint = "set_token_access")]
pub async fn set_token_access(
    id: String,
    access: Option<String>,
    write: Option<String>,
    permissions: Option<Vec<String>>,
) -> Result<(), AppError> {
    use domain::tokens::{Access, AccessChange, permissions::from_form};

    use crate::session::{db, origin, require_recent_sign_in, require_user};
    let user = require_user()?;
    let new = match access.as_deref() {
        Some("permissions") => Access::Only(from_form(permissions)?),
        _ => Access::WholeTeam {
            write: crate::components::checkbox_on(write),
        },
    };
    let recent = require_recent_sign_in().is_ok();
    let origin = origin(&user);
    match domain::tokens::set_access(&db()?, origin.into(), user.id, &id, new, recent).await? {
        AccessChange::Done(_) => Ok(()),
        AccessChange::NeedsRecentSignIn => Err(AppError::ReauthenticationRequired),
    }
}

/// "Change access" and, once pressed, the form; `changed` is bumped after a change.
#[component]
pub fn AccessEditor(id: String, changed: RwSignal<u32>) -> impl IntoView {
    let open = RwSignal::new(false);
    let preload = move || crate::components::preload_part!(access_form);
    view! {
        <button type="button" class="link-button" data-testid="change-access"
            aria-expanded=move || open.get().to_string()
            on:pointerenter=move |_| preload() on:focus=move |_| preload()
            on:click=move |_| open.update(|o| *o = !*o)>
            "Change access"
        </button>
        <LazyPart open=open part=move || access_form(id.clone(), open, changed)/>
    }
}

#[lazy]
fn access_form(id: String, open: RwSignal<bool>, changed: RwSignal<u32>) -> AnyView {
    let save = ServerAction::<SetTokenAccess>::new();
    crate::sudo::retry_after_confirming(save);
    let error = action_error(save.value());
    Effect::new(move |_| {
        if let Some(Ok(())) = save.value().get() {
            open.set(false);
            changed.update(|n| *n += 1);
            crate::components::announce("Access changed.");
        }
    });
    let now = LocalResource::new({
        let id = id.clone();
        move || token_access(id.clone())
    });
    view! {
        <div class="access-editor" data-testid="access-editor">
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    let id = id.clone();
                    Suspend::new(async move {
                        match now.await {
                            Ok(now) => {
                                focus_after_render("access-team");
                                let selected = RwSignal::new(now.team.slug.clone());
                                let preset = Preset(now.permissions.clone());
                                view! {
                                    <ActionForm action=save>
                                        <input type="hidden" name="id" value=id/>
                                        <AccessChoice teams=vec![now.team] selected preset error>
                                            <div class="checkbox">
                                                <input id="access-write" name="write" type="checkbox" value="true"
                                                    checked=now.write && now.permissions.is_none()/>
                                                <label for="access-write">"Write access (questions and answers)"</label>
                                            </div>
                                        </AccessChoice>
                                        <p class="help">"Taking access away works at once. Giving more asks you to confirm it is you, and a write may need a team admin's approval again."</p>
                                        <FormError error/>
                                        <div class="form-actions">
                                            <button type="submit" class="button">"Save access"</button>
                                            <button type="button" class="button secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                                        </div>
                                    </ActionForm>
                                }.into_any()
                            }
                            Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </div>
    }
    .into_any()
}
