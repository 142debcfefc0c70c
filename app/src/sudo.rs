//! Sudo mode in the app (docs/two-factor.md): a sensitive server function called from a session
//! whose sign-in is older than the sudo window answers `ReauthenticationRequired`
//! (`session::require_recent_sign_in`); the page then opens the confirm-it-is-you dialog, and
//! once the person has confirmed, sends the same call again, so that nothing they typed is
//! lost. A sensitive action takes part with one line: [`retry_after_confirming`].

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    components::{FieldError, FormError, Modal, action_error},
    error::AppError,
};

/// The call waiting for the person to confirm who they are, if any (one per page).
#[derive(Clone, Copy)]
pub struct Sudo {
    waiting: RwSignal<Option<Callback<()>>>,
}

impl Default for Sudo {
    fn default() -> Self {
        Self::new()
    }
}

impl Sudo {
    pub fn new() -> Self {
        Sudo {
            waiting: RwSignal::new(None),
        }
    }

    /// Asks the person to confirm who they are, then runs `retry`: for a sensitive call that
    /// is not an action (the API explorer mints its token from a task of its own).
    pub fn confirm_then(self, retry: Callback<()>) {
        self.waiting.set(Some(retry));
    }
}

/// When `action` is refused for a stale sign-in, asks the person to confirm who they are and
/// then dispatches the same input again.
pub fn retry_after_confirming<S>(action: ServerAction<S>)
where
    S: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Send + Sync + 'static,
{
    retry_action_after_confirming(*action);
}

/// [`retry_after_confirming`] for any action answering with an `AppError`, also one that runs
/// in the browser (a passkey ceremony).
pub fn retry_action_after_confirming<I, O>(action: Action<I, Result<O, AppError>>)
where
    I: Clone + Send + Sync + 'static,
    O: Send + Sync + 'static,
{
    let Some(sudo) = use_context::<Sudo>() else {
        return;
    };
    // The action forgets its input once it has answered: keep the last one.
    let last = StoredValue::new(None::<I>);
    Effect::new(move |_| {
        if let Some(input) = action.input().get() {
            last.set_value(Some(input));
        }
    });
    Effect::new(move |_| {
        let refused = action
            .value()
            .with(|v| matches!(v, Some(Err(AppError::ReauthenticationRequired))));
        if refused {
            sudo.waiting.set(Some(Callback::new(move |()| {
                if let Some(input) = last.get_value() {
                    action.dispatch(input);
                }
            })));
        }
    });
}

/// What the dialog asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityCheckView {
    /// A second-factor code, after the password.
    pub code: bool,
    /// A passkey instead.
    pub passkey: bool,
    /// The account has no password: single sign-on again, through this provider.
    pub single_sign_on: Option<String>,
}

#[server(prefix = "/rpc", endpoint = "identity_check")]
pub async fn identity_check() -> Result<IdentityCheckView, AppError> {
    use crate::session::{db, require_user};
    let user = require_user()?;
    let db = db()?;
    let password_less = domain::identity::sso::password_less(&db, user.id).await?;
    Ok(IdentityCheckView {
        code: domain::identity::two_factor::totp::confirmed(&db, user.id).await?,
        passkey: domain::identity::passkeys::any(&db, user.id).await?,
        single_sign_on: password_less.then(|| {
            crate::auth::single_sign_on().map_or_else(|| "single sign-on".to_string(), |s| s.name)
        }),
    })
}

/// The person confirms who they are: their password, and a second-factor code when they have
/// two-factor sign-in on. Sudo mode counts from now. Wrong passwords and codes count against
/// the address's failed sign-ins.
#[server(prefix = "/rpc", endpoint = "confirm_identity")]
pub async fn confirm_identity(password: String, code: Option<String>) -> Result<(), AppError> {
    use crate::session::{
        client_ip, db, forgive_sign_in_attempt, require_user, reserve_sign_in_attempt, sealing_key,
        session_cookie,
    };
    let user = require_user()?;
    let session = session_cookie().ok_or(AppError::Unauthenticated)?;
    reserve_sign_in_attempt().await?;
    let confirmed = domain::identity::sudo::confirm(
        &db()?,
        &sealing_key()?,
        &session,
        &user,
        &password,
        code.as_deref(),
        client_ip(),
    )
    .await;
    match confirmed {
        Ok(()) => {
            forgive_sign_in_attempt().await;
            Ok(())
        }
        Err(wrong @ domain::Error::Invalid { .. }) => Err(wrong.into()),
        Err(other) => {
            forgive_sign_in_attempt().await;
            Err(other.into())
        }
    }
}

/// The confirm-it-is-you dialog, drawn while a call waits for it. Its code is a wasm chunk of
/// its own, loaded the first time a call needs it (`#[lazy]`, docs/frontend.md): no page pays
/// for it at first paint.
#[component]
pub fn ConfirmIdentityDialog() -> impl IntoView {
    let sudo = expect_context::<Sudo>();
    let open = Memo::new(move |_| sudo.waiting.with(Option::is_some));
    move || {
        open.get().then(|| {
            view! {
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move { confirm_identity_dialog(sudo).await })}
                </Suspense>
            }
        })
    }
}

#[lazy]
fn confirm_identity_dialog(sudo: Sudo) -> AnyView {
    let confirm = ServerAction::<ConfirmIdentity>::new();
    let error = action_error(confirm.value());
    Effect::new(move |_| {
        if let Some(Ok(())) = confirm.value().get()
            && let Some(retry) = sudo.waiting.get_untracked()
        {
            sudo.waiting.set(None);
            retry.run(());
        }
    });
    let with_passkey = Action::new_local(|(): &()| {
        crate::webauthn::ceremony(crate::webauthn::PasskeyPurpose::Confirm, None, None)
    });
    let passkey_error = Signal::derive(move || with_passkey.value().get().and_then(Result::err));
    Effect::new(move |_| {
        if let Some(Ok(())) = with_passkey.value().get()
            && let Some(retry) = sudo.waiting.get_untracked()
        {
            sudo.waiting.set(None);
            retry.run(());
        }
    });
    // Closing only ends the wait: the dialog goes, and its actions with it (it is drawn anew,
    // with new ones, for the next call that waits). Clearing them here too woke what reads
    // them after they were disposed: a panic that left the page unable to ask again.
    let close = move || sudo.waiting.set(None);
    let check = LocalResource::new(identity_check);
    view! {
        // The same modal as every other dialog (`components::Modal`); its first control has the
        // focus once the identity check says what to ask for.
            <Modal on_close=move |_| close() labelled_by="sudo-title" first_focus="confirm-password"
                test_id="sudo-dialog">
                <h2 id="sudo-title">"Confirm it is you"</h2>
                <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        let check = check.await.unwrap_or(IdentityCheckView { code: false, passkey: false, single_sign_on: None });
                        match check.single_sign_on {
                            Some(provider) => {
                                let here = crate::components::query_value(&current_path());
                                crate::components::focus_after_render("sudo-sso");
                                view! {
                                    <p>{format!("This is a sensitive change. Sign in again with {provider} to continue; you will come back to this page.")}</p>
                                    <div class="dialog-actions">
                                        <a class="button" id="sudo-sso" rel="external" href=format!("/auth/oidc/start?next={here}")>{format!("Sign in with {provider}")}</a>
                                        <button type="button" class="button secondary" on:click=move |_| close()>"Cancel"</button>
                                    </div>
                                }.into_any()
                            }
                            None => {
                                crate::components::focus_after_render("confirm-password");
                                view! {
                                <p>"This is a sensitive change and you signed in a while ago. Enter your password to continue."</p>
                                {check.passkey.then(|| view! {
                                    <p>
                                        <button type="button" class="button secondary" data-testid="sudo-passkey"
                                            on:click=move |_| { with_passkey.dispatch(()); }>"Use a passkey"</button>
                                    </p>
                                    <FormError error=passkey_error/>
                                    <p class="muted">"or your password:"</p>
                                })}
                                <ActionForm action=confirm attr:novalidate=true>
                                    <label for="confirm-password">"Password"</label>
                                    <input id="confirm-password" name="password" type="password" autocomplete="current-password"
                                        required aria-describedby="confirm-password-error"/>
                                    <FieldError error field="password" id="confirm-password-error"/>
                                    {check.code.then(|| view! {
                                        <label for="confirm-code">"Code from your authenticator app (or a recovery code)"</label>
                                        <input id="confirm-code" name="code" autocomplete="one-time-code" required maxlength="20"
                                            aria-describedby="confirm-code-error"/>
                                        <FieldError error field="code" id="confirm-code-error"/>
                                    })}
                                    <FormError error/>
                                    <div class="dialog-actions">
                                        <button type="submit" class="button" data-testid="sudo-confirm">"Confirm"</button>
                                        <button type="button" class="button secondary" on:click=move |_| close()>"Cancel"</button>
                                    </div>
                                </ActionForm>
                            }.into_any()
                            }
                        }
                    })}
                </Suspense>
            </Modal>
    }.into_any()
}

/// The page's path and query, to come back to after signing in again.
fn current_path() -> String {
    #[cfg(feature = "hydrate")]
    {
        let location = leptos::prelude::window().location();
        format!(
            "{}{}",
            location.pathname().unwrap_or_default(),
            location.search().unwrap_or_default()
        )
    }
    #[cfg(not(feature = "hydrate"))]
    {
        "/".to_string()
    }
}
