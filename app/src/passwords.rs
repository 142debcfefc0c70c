//! Passwords in the web app (docs/accounts.md): the Account page's Password card (change it:
//! sudo mode, the current one first, every other session ends), and "Forgot password?" — the
//! page that asks for a link by mail (`/forgot-password`) and the page the link leads to
//! (`/reset-password`, after `GET /password-reset?code=…` has put the link's secret into a
//! cookie). The rules are `domain::identity::{password_change, password_reset}`.

use leptos::prelude::*;
use leptos_meta::Title;

#[cfg(feature = "ssr")]
use crate::reset_mail::{ResetMail, ResetRequests};
use crate::{
    components::{FieldError, FormError, FormErrors, Loaded, action_error},
    error::AppError,
    reset_mail::reset_by_mail,
};

/// The checks of a new password and its confirmation, the same as sign-up's, every problem at
/// once (`field` and `confirmation` name the form's fields).
fn new_password_problems(
    password: &str,
    confirmation: &str,
    field: &str,
    confirmation_field: &str,
) -> Vec<AppError> {
    let mut found = Vec::new();
    let length = password.chars().count();
    if length == 0 {
        found.push(AppError::field(field, "Enter a password."));
    } else if length < 10 {
        found.push(AppError::field(
            field,
            "A password is at least 10 characters long.",
        ));
    } else if length > 256 {
        found.push(AppError::field(
            field,
            "A password is at most 256 characters long.",
        ));
    }
    if confirmation.is_empty() {
        found.push(AppError::field(
            confirmation_field,
            "Type the new password again.",
        ));
    } else if password != confirmation {
        found.push(AppError::field(
            confirmation_field,
            "The two passwords do not match.",
        ));
    }
    found
}

/// [`new_password_problems`] on the server, as the domain's `Password`.
#[cfg(feature = "ssr")]
fn checked_new_password(
    password: &str,
    confirmation: &str,
    field: &str,
    confirmation_field: &str,
    mut found: Vec<AppError>,
) -> Result<domain::identity::names::Password, AppError> {
    found.extend(new_password_problems(
        password,
        confirmation,
        field,
        confirmation_field,
    ));
    if let Some(errors) = AppError::all(found) {
        return Err(errors);
    }
    domain::identity::names::Password::parse(password).map_err(|e| match AppError::from(e) {
        AppError::Field { message, .. } => AppError::field(field, message),
        other => other,
    })
}

/// Changes the signed-in person's password (sudo mode): the current one, then the new one
/// twice. Every other session of the account ends; this one stays. A wrong current password
/// counts against the address's sign-in budget, as at sign-in.
#[server(prefix = "/rpc", endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
    new_password_confirmation: String,
) -> Result<(), AppError> {
    use crate::session::{
        db, forgive_sign_in_attempt, origin, require_recent_sign_in, reserve_sign_in_attempt,
        session_cookie,
    };
    let user = require_recent_sign_in()?;
    let mut found = Vec::new();
    if current_password.is_empty() {
        found.push(AppError::field(
            "current_password",
            "Enter your current password.",
        ));
    }
    let new = checked_new_password(
        &new_password,
        &new_password_confirmation,
        "new_password",
        "new_password_confirmation",
        found,
    )?;
    let kept = session_cookie().ok_or(AppError::Unauthenticated)?;
    reserve_sign_in_attempt().await?;
    let changed = domain::identity::password_change::change(
        &db()?,
        origin(&user),
        &current_password,
        &new,
        &kept,
    )
    .await;
    // Only a wrong current password stays counted.
    if !matches!(
        changed,
        Err(domain::Error::Invalid {
            field: "current_password",
            ..
        })
    ) {
        forgive_sign_in_attempt().await;
    }
    changed?;
    Ok(())
}

/// The Account page's Password card: the form, or for an account without a password (single
/// sign-on only) where it signs in instead.
#[component]
pub fn PasswordCard(has_password: bool, sso_name: Option<String>) -> impl IntoView {
    if !has_password {
        let provider = sso_name.unwrap_or_else(|| "single sign-on".to_string());
        return view! {
            <section class="card" data-testid="password-card">
                <h2>"Password"</h2>
                <p data-testid="password-sso-only">
                    {format!("You sign in with {provider}: this account has no password to change. Your password, if any, is kept by {provider}.")}
                </p>
            </section>
        }
        .into_any();
    }
    let change = ServerAction::<ChangePassword>::new();
    crate::sudo::retry_after_confirming(change);
    let errors = FormErrors::new(action_error(change.value()));
    let error = errors.shown();
    let changed = move || matches!(change.value().get(), Some(Ok(())));
    let form = NodeRef::<leptos::html::Form>::new();
    // Once changed, the fields are emptied: nothing of a password stays on the page; the
    // other sessions it ended leave the Sessions list.
    let sessions_changed = use_context::<crate::account_sessions::SessionsChanged>();
    Effect::new(move |_| {
        if changed()
            && let Some(form) = form.get_untracked()
        {
            form.reset();
            if let Some(crate::account_sessions::SessionsChanged(n)) = sessions_changed {
                n.update(|n| *n += 1);
            }
        }
    });
    let check = |value: &dyn Fn(&str) -> String| {
        let mut found = Vec::new();
        if value("current_password").is_empty() {
            found.push(AppError::field(
                "current_password",
                "Enter your current password.",
            ));
        }
        found.extend(new_password_problems(
            &value("new_password"),
            &value("new_password_confirmation"),
            "new_password",
            "new_password_confirmation",
        ));
        found
    };
    view! {
        <section class="card" data-testid="password-card" aria-labelledby="password-heading">
            <h2 id="password-heading">"Password"</h2>
            <p class="banner ok" role="status" data-testid="password-changed" hidden=move || !changed()>
                "Password changed. Every other session of your account was signed out; this one stays signed in."
            </p>
            <div on:submit:capture=move |ev| errors.check_submit(&ev, &check)
                on:input=move |ev| errors.field_changed(&ev)
                on:change=move |ev| errors.field_changed(&ev)>
            <ActionForm action=change node_ref=form attr:novalidate=true>
                <label for="current_password">"Current password"</label>
                <input id="current_password" name="current_password" type="password"
                    autocomplete="current-password" required aria-describedby="current_password-error"/>
                <FieldError error field="current_password" id="current_password-error"/>
                <label for="new_password">"New password"</label>
                <input id="new_password" name="new_password" type="password" autocomplete="new-password"
                    required minlength="10" aria-describedby="new_password-help new_password-error"/>
                <p class="help" id="new_password-help">"At least 10 characters. Changing it signs out every other session of your account."</p>
                <FieldError error field="new_password" id="new_password-error"/>
                <label for="new_password_confirmation">"Confirm new password"</label>
                <input id="new_password_confirmation" name="new_password_confirmation" type="password"
                    autocomplete="new-password" required aria-describedby="new_password_confirmation-error"/>
                <FieldError error field="new_password_confirmation" id="new_password_confirmation-error"/>
                <FormError error/>
                <button type="submit" class="button" disabled=move || change.pending().get()>"Change password"</button>
            </ActionForm>
            </div>
        </section>
    }
    .into_any()
}

/// What the forgot-password page says without mail.
const ASK_AN_ADMINISTRATOR: &str = "This patdesk does not send mail, so it cannot send you a reset link: ask an administrator to set a new password for you.";

/// Asks for a reset link for `who` (a username or an email address). The answer is the same,
/// and as quick, whatever `who` is: the lookup and the mail happen after it
/// (`password_reset::request_in_background`). Throttled per client address here and per
/// account in the database.
#[server(prefix = "/rpc", endpoint = "request_password_reset")]
pub async fn request_password_reset(who: String) -> Result<(), AppError> {
    use crate::session::{client_ip, db};
    let who = who.trim();
    if who.is_empty() {
        return Err(AppError::field(
            "who",
            "Enter your username or your email address.",
        ));
    }
    if who.chars().count() > 254 {
        return Err(AppError::field(
            "who",
            "That is longer than any username or email address.",
        ));
    }
    let Some(ResetMail(Some(mailer))) = use_context::<ResetMail>() else {
        return Err(AppError::Rule(ASK_AN_ADMINISTRATOR.into()));
    };
    if let (Some(ResetRequests(throttle)), Some(ip)) = (use_context::<ResetRequests>(), client_ip())
    {
        throttle.reserve(ip).map_err(|wait| AppError::RateLimited {
            retry_after: wait.seconds(),
        })?;
    }
    domain::identity::password_reset::request_in_background(
        db()?,
        mailer,
        who.to_string(),
        client_ip(),
    );
    Ok(())
}

/// The reset link's secret, from the cookie `GET /password-reset` set.
#[cfg(feature = "ssr")]
fn reset_cookie() -> Option<String> {
    let parts = use_context::<http::request::Parts>()?;
    let name = domain::identity::password_reset::cookie_name(crate::request::over_https(
        &parts.extensions,
    ));
    parts
        .headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|h| domain::identity::sessions::cookie_named(h, &name).map(str::to_string))
}

/// The account the browser's reset link is for (its username), or the error that says the
/// link is not usable (expired, used, unknown).
#[server(prefix = "/rpc", endpoint = "reset_link_state")]
pub async fn reset_link_state() -> Result<String, AppError> {
    let unusable = || AppError::Rule(domain::identity::password_reset::LINK_NOT_USABLE.to_string());
    let secret = reset_cookie().ok_or_else(unusable)?;
    domain::identity::password_reset::peek(&crate::session::db()?, &secret)
        .await?
        .ok_or_else(unusable)
}

/// Sets a new password with the browser's reset link (once): every session of the account
/// ends; then the person is signed in, or — with two-factor sign-in on — sent to sign in with
/// the new password and their second factor (a reset never skips it).
#[server(prefix = "/rpc", endpoint = "reset_password")]
pub async fn reset_password(
    password: String,
    password_confirmation: String,
) -> Result<(), AppError> {
    use crate::session::{client_ip, db, set_session_cookie};
    use domain::identity::password_reset;
    let new = checked_new_password(
        &password,
        &password_confirmation,
        "password",
        "password_confirmation",
        Vec::new(),
    )?;
    let secret = reset_cookie()
        .ok_or_else(|| AppError::Rule(password_reset::LINK_NOT_USABLE.to_string()))?;
    let db = db()?;
    let user = password_reset::consume(&db, &secret, &new, client_ip()).await?;
    if let (Some(response), Ok(cleared)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(&password_reset::clear_cookie(
            use_context::<http::request::Parts>()
                .is_some_and(|p| crate::request::over_https(&p.extensions)),
        )),
    ) {
        response.append_header(http::header::SET_COOKIE, cleared);
    }
    if domain::identity::two_factor::enrolled(&db, user.id).await? {
        leptos_axum::redirect("/signin?reset=two-factor");
        return Ok(());
    }
    let session = domain::identity::sessions::start(&db, user.id).await?;
    set_session_cookie(&session)?;
    leptos_axum::redirect("/");
    Ok(())
}

lazy_page! {
    /// The forgot-password page as a lazily loaded route (docs/frontend.md).
    ForgotPasswordRoute => ForgotPasswordPage
}

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let request = ServerAction::<RequestPasswordReset>::new();
    let error = action_error(request.value());
    let sent = move || matches!(request.value().get(), Some(Ok(())));
    view! {
        <Title text="Forgot password"/>
        <section class="auth-card" data-testid="forgot-password">
            <h1>"Forgot your password?"</h1>
            {if reset_by_mail() {
                view! {
                    <p class="muted">"Enter your username or email address: if the account has an email address, we mail it a link to choose a new password."</p>
                    <p class="banner ok" role="status" data-testid="reset-requested" hidden=move || !sent()>
                        "If that account exists and has an email address, a link to choose a new password is on its way. It works once, for 30 minutes. Nothing after a few minutes? Check your spam folder, or ask an administrator."
                    </p>
                    <ActionForm action=request attr:novalidate=true>
                        <label for="who">"Username or email address"</label>
                        <input id="who" name="who" autocomplete="username" required maxlength="254"
                            aria-describedby="who-error"/>
                        <FieldError error field="who" id="who-error"/>
                        <FormError error/>
                        <button type="submit" class="button" disabled=move || request.pending().get()>"Send reset link"</button>
                    </ActionForm>
                }.into_any()
            } else {
                view! { <p data-testid="reset-ask-admin">{ASK_AN_ADMINISTRATOR}</p> }.into_any()
            }}
            <p class="muted"><a href="/signin">"Back to sign in"</a></p>
        </section>
    }
}

lazy_page! {
    /// The page a reset link leads to, as a lazily loaded route (docs/frontend.md).
    ResetPasswordRoute => ResetPasswordPage
}

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let reset = ServerAction::<ResetPassword>::new();
    let link = Resource::new(|| (), |_| reset_link_state());
    view! {
        <Title text="Choose a new password"/>
        <section class="auth-card" data-testid="reset-password">
            <h1>"Choose a new password"</h1>
            <Loaded resource=link render=move |username| view! { <ResetForm reset username/> }/>
            <p class="muted"><a href="/forgot-password">"Ask for a new link"</a>" · "<a href="/signin">"Sign in"</a></p>
        </section>
    }
}

#[component]
fn ResetForm(reset: ServerAction<ResetPassword>, username: String) -> impl IntoView {
    let errors = FormErrors::new(action_error(reset.value()));
    let error = errors.shown();
    let check = |value: &dyn Fn(&str) -> String| {
        new_password_problems(
            &value("password"),
            &value("password_confirmation"),
            "password",
            "password_confirmation",
        )
    };
    view! {
        <p>"For the account " <strong data-testid="reset-username">{username.clone()}</strong>
            ". Every session of the account is signed out when you save it."</p>
        <div on:submit:capture=move |ev| errors.check_submit(&ev, &check)
            on:input=move |ev| errors.field_changed(&ev)
            on:change=move |ev| errors.field_changed(&ev)>
        <ActionForm action=reset attr:novalidate=true>
            // For password managers: which account the new password is for.
            <input type="text" autocomplete="username" aria-label="Username" value=username hidden readonly/>
            <label for="password">"New password"</label>
            <input id="password" name="password" type="password" autocomplete="new-password"
                required minlength="10" aria-describedby="password-help password-error"/>
            <p class="help" id="password-help">"At least 10 characters."</p>
            <FieldError error field="password" id="password-error"/>
            <label for="password_confirmation">"Confirm new password"</label>
            <input id="password_confirmation" name="password_confirmation" type="password"
                autocomplete="new-password" required aria-describedby="password_confirmation-error"/>
            <FieldError error field="password_confirmation" id="password_confirmation-error"/>
            <FormError error/>
            <button type="submit" class="button" disabled=move || reset.pending().get()>"Set new password"</button>
        </ActionForm>
        </div>
    }
}
