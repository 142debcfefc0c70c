//! `/account`: the signed-in user's email address and which notices patdesk mails them
//! (docs/notifications.md). Shown to the user only; the rules are `domain::identity::users`.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::{
    components::{FieldError, FormError, Loaded, action_error},
    error::AppError,
};

/// The account settings as the form shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    pub username: String,
    pub email: Option<String>,
    pub mail_expiry: bool,
    pub mail_new_ip: bool,
    pub mail_new_token: bool,
    /// Whether this server sends mail at all (`PATDESK_SMTP_URL`).
    pub mail_configured: bool,
    /// The identity provider's name when single sign-on is set up (`PATDESK_OIDC_NAME`).
    pub sso_name: Option<String>,
    /// Whether this account is linked to a subject at the identity provider.
    pub sso_linked: bool,
}

#[server(prefix = "/rpc", endpoint = "account_settings")]
pub async fn account_settings() -> Result<AccountView, AppError> {
    use crate::session::{db, require_user};
    let user = require_user()?;
    let settings = domain::identity::users::settings(&db()?, user.id).await?;
    Ok(AccountView {
        username: settings.username,
        email: settings.email,
        mail_expiry: settings.mail.expiry,
        mail_new_ip: settings.mail.new_ip,
        mail_new_token: settings.mail.new_token,
        mail_configured: use_context::<MailConfigured>().is_some_and(|m| m.0),
        sso_name: crate::auth::single_sign_on().map(|s| s.name),
        sso_linked: domain::identity::sso::is_linked(&db()?, user.id).await?,
    })
}

/// Whether the server sends mail: put into the Leptos context by the server.
#[derive(Clone, Copy, Debug)]
pub struct MailConfigured(pub bool);

/// Saves the address (empty removes it) and the mail preferences; an HTML checkbox sends its
/// value only when checked.
#[server(prefix = "/rpc", endpoint = "save_account")]
pub async fn save_account(
    email: String,
    mail_expiry: Option<String>,
    mail_new_ip: Option<String>,
    mail_new_token: Option<String>,
) -> Result<(), AppError> {
    use domain::{identity::names::Email, identity::users::MailPreferences};

    use crate::session::{db, origin, require_user};
    let user = require_user()?;
    let email = match email.trim() {
        "" => None,
        raw => Some(Email::parse(raw)?),
    };
    let db = db()?;
    // A new address is where security notices go: a sensitive change (sudo mode).
    let current = domain::identity::users::settings(&db, user.id).await?.email;
    let key = |address: Option<&str>| address.map(str::to_lowercase);
    if key(current.as_deref()) != key(email.as_ref().map(Email::as_str)) {
        crate::session::require_recent_sign_in()?;
    }
    let checked = |v: Option<String>| v.is_some_and(|v| !v.is_empty() && v != "false");
    let mail = MailPreferences {
        expiry: checked(mail_expiry),
        new_ip: checked(mail_new_ip),
        new_token: checked(mail_new_token),
    };
    domain::identity::users::update_settings(&db, origin(&user), email.as_ref(), mail).await?;
    Ok(())
}

lazy_page! {
    /// The account page as a lazily loaded route (docs/frontend.md).
    AccountRoute => AccountPage
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let save = ServerAction::<SaveAccount>::new();
    crate::sudo::retry_after_confirming(save);
    let account = Resource::new(move || save.version().get(), |_| account_settings());
    let saved = move || matches!(save.value().get(), Some(Ok(())));
    view! {
        <Title text="Account"/>
        <h1>"Account"</h1>
        <p class="banner ok" role="status" data-testid="account-saved" hidden=move || !saved()>"Saved."</p>
        <Loaded resource=account render=move |account| view! {
            <SingleSignOnCard account=account.clone()/>
            <crate::two_factor::TwoFactorCard/>
            <crate::passkeys::PasskeysCard/>
            <AccountForm account save/>
        }/>
    }
}

/// Linking the account to the identity provider, when single sign-on is set up: a link
/// (`/auth/oidc/link`, a full-page navigation to the provider and back).
#[component]
fn SingleSignOnCard(account: AccountView) -> impl IntoView {
    let name = account.sso_name?;
    Some(view! {
        <section class="card" data-testid="sso-card">
            <h2>"Single sign-on"</h2>
            {if account.sso_linked {
                view! { <p>"Your account is linked to " {name} ": you can sign in with it."</p> }.into_any()
            } else {
                view! {
                    <p class="muted">"Link your account to " {name.clone()} " to sign in with it from now on."</p>
                    // rel=external: a full navigation (the router would keep it in the app).
                    <p><a class="button secondary" href="/auth/oidc/link" rel="external">{format!("Link {name}")}</a></p>
                }.into_any()
            }}
        </section>
    })
}

#[component]
fn AccountForm(account: AccountView, save: ServerAction<SaveAccount>) -> impl IntoView {
    let error = action_error(save.value());
    let check = |id: &'static str, checked: bool, label: &'static str| {
        view! {
            <div class="checkbox">
                <input type="checkbox" id=id name=id value="on" checked=checked/>
                <label for=id>{label}</label>
            </div>
        }
    };
    view! {
        <section class="card">
            <h2>"Notifications"</h2>
            <p class="muted">
                "Signed in as " <strong>{account.username.clone()}</strong> ". "
                "Notices always appear under the bell in the header; with an email address they are also mailed to you. "
                "Only you see your address."
            </p>
            {(!account.mail_configured).then(|| view! {
                <p class="banner warn" role="status">"This patdesk server has no mail server configured: notices are shown in the app only."</p>
            })}
            <ActionForm action=save>
                <label for="email">"Email address"</label>
                <input id="email" name="email" type="email" autocomplete="email" maxlength="254"
                    value=account.email.clone().unwrap_or_default() placeholder="name@example.com"
                    aria-describedby="email-help email-error"/>
                <p class="help" id="email-help">"Optional. Leave it empty to get notices in the app only."</p>
                <FieldError error field="email" id="email-error"/>
                <fieldset>
                    <legend>"Email me when"</legend>
                    {check("mail_expiry", account.mail_expiry, "a token expires within 7 days, within a day, and when it has expired")}
                    {check("mail_new_ip", account.mail_new_ip, "a token is used from a new IP address (at most one mail per token an hour)")}
                    {check("mail_new_token", account.mail_new_token, "a new token is created on my account")}
                    <p class="help">"A token revoked by an admin, by a leak report or by the instance policy is always mailed."</p>
                </fieldset>
                <FormError error/>
                <button type="submit" class="button">"Save"</button>
            </ActionForm>
        </section>
    }
}
