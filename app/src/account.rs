//! `/account`: the signed-in user's password (`passwords::PasswordCard`), sessions
//! (`account_sessions`), single sign-on, second factors, email address and which notices
//! patdesk mails them (docs/accounts.md, docs/notifications.md). Shown to the user only; the
//! rules are `domain::identity::users` and its neighbours.

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
    /// The account's links to the identity provider.
    pub sso_links: Vec<SsoLinkView>,
    /// Whether the account has a password (not single sign-on only): the Password card.
    pub has_password: bool,
}

/// One link to the identity provider, as the Single sign-on card lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoLinkView {
    pub id: i64,
    pub issuer: String,
    pub linked: String,
    pub last_sign_in: Option<String>,
}

#[server(prefix = "/rpc", endpoint = "account_settings")]
pub async fn account_settings() -> Result<AccountView, AppError> {
    use crate::session::{db, require_user};
    let user = require_user()?;
    let settings = domain::identity::users::settings(&db()?, user.id).await?;
    let has_password = !domain::identity::sso::password_less(&db()?, user.id).await?;
    Ok(AccountView {
        username: settings.username,
        email: settings.email,
        mail_expiry: settings.mail.expiry,
        mail_new_ip: settings.mail.new_ip,
        mail_new_token: settings.mail.new_token,
        mail_configured: use_context::<MailConfigured>().is_some_and(|m| m.0),
        sso_name: crate::auth::single_sign_on().map(|s| s.name),
        sso_links: domain::identity::sso::identities(&db()?, user.id)
            .await?
            .into_iter()
            .map(|link| SsoLinkView {
                id: link.id,
                issuer: link.issuer,
                linked: domain::time::date(link.linked_at),
                last_sign_in: link.last_sign_in_at.map(domain::time::minute),
            })
            .collect(),
        has_password,
    })
}

/// Linking single sign-on adds a way into the account (docs/sso.md): the Link button asks this
/// first, so that a stale session is asked to confirm it is you before the browser leaves for
/// the provider; `/auth/oidc/link` and its callback check sudo mode again themselves.
#[server(prefix = "/rpc", endpoint = "begin_sso_link")]
pub async fn begin_sso_link() -> Result<(), AppError> {
    crate::session::require_recent_sign_in()?;
    Ok(())
}

/// Removes a link to the identity provider (sudo mode): it stops signing the person in.
#[server(prefix = "/rpc", endpoint = "unlink_sso")]
pub async fn unlink_sso(id: i64) -> Result<(), AppError> {
    use crate::session::{db, origin, require_recent_sign_in};
    let user = require_recent_sign_in()?;
    domain::identity::sso::unlink(&db()?, origin(&user), id).await?;
    Ok(())
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

    use crate::session::{db, origin, require_recent_sign_in};
    // Sudo mode (`crate::server_fns`): the address is where security notices go, and the
    // switches below can turn those notices off.
    let user = require_recent_sign_in()?;
    let email = match email.trim() {
        "" => None,
        raw => Some(Email::parse(raw)?),
    };
    let db = db()?;
    let checked = crate::components::checkbox_on;
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
    provide_context(crate::account_sessions::SessionsChanged(RwSignal::new(0)));
    view! {
        <Title text="Account"/>
        <h1>"Account"</h1>
        <p class="banner ok" role="status" data-testid="account-saved" hidden=move || !saved()>"Saved."</p>
        // The cards with data of their own stand outside the account's `Loaded`: inside it, what
        // they read while drawn made every card draw again when it changed, and the Notifications
        // form lost what was being typed into it (the flaky notifications.spec).
        <Loaded resource=account render=move |account| view! {
            <crate::passwords::PasswordCard has_password=account.has_password sso_name=account.sso_name.clone()/>
        }/>
        <crate::account_sessions::SessionsCard/>
        <Loaded resource=account render=move |account| view! { <SingleSignOnCard account/> }/>
        <crate::two_factor::TwoFactorCard/>
        <crate::passkeys::PasskeysCard/>
        <Loaded resource=account render=move |account| view! { <AccountForm account save/> }/>
    }
}

/// Linking the account to the identity provider, when single sign-on is set up: the links
/// there are, each with Unlink, and Link when there is none — `begin_sso_link` (sudo mode),
/// then a full-page navigation to `/auth/oidc/link`, the provider and back.
#[component]
fn SingleSignOnCard(account: AccountView) -> impl IntoView {
    let name = account.sso_name?;
    let link = ServerAction::<BeginSsoLink>::new();
    crate::sudo::retry_after_confirming(link);
    let unlink = ServerAction::<UnlinkSso>::new();
    crate::sudo::retry_after_confirming(unlink);
    Effect::new(move |_| {
        if let Some(Ok(())) = link.value().get() {
            go_to_provider();
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = unlink.value().get() {
            // The card is drawn from the account's settings: load them again.
            go_to_account_page();
        }
    });
    let error = action_error(unlink.value());
    let link_error = action_error(link.value());
    let links = account.sso_links;
    Some(view! {
        <section class="card" data-testid="sso-card">
            <h2>"Single sign-on"</h2>
            {if links.is_empty() {
                view! {
                    <p class="muted">"Link your account to " {name.clone()} " to sign in with it from now on."</p>
                    // The server function checks sudo mode (asking to confirm it is you when
                    // the sign-in is old); then the page goes to the provider.
                    <ActionForm action=link attr:class="inline">
                        <button type="submit" class="button secondary" data-testid="sso-link">{format!("Link {name}")}</button>
                    </ActionForm>
                    <FormError error=link_error/>
                }.into_any()
            } else {
                view! {
                    <p>"Your account is linked to " {name.clone()} ": you can sign in with it."</p>
                    <ul class="plain-list">
                        {links.into_iter().map(|l| view! {
                            <li data-testid="sso-link-row">
                                <span>{l.issuer.clone()}</span>
                                <span class="muted">{format!(" · linked {}", l.linked)}</span>
                                <span class="muted">{format!(" · last sign-in {}", l.last_sign_in.unwrap_or_else(|| "never".to_string()))}</span>
                                " "
                                <ActionForm action=unlink attr:class="inline">
                                    <input type="hidden" name="id" value=l.id.to_string()/>
                                    <button type="submit" class="link-button danger" data-testid="sso-unlink"
                                        aria-label=format!("Unlink {}", l.issuer)>"Unlink"</button>
                                </ActionForm>
                            </li>
                        }).collect_view()}
                    </ul>
                    <FormError error/>
                }.into_any()
            }}
        </section>
    })
}

/// To the provider, to link (a full navigation: `/auth/oidc/link` answers with a redirect).
fn go_to_provider() {
    #[cfg(feature = "hydrate")]
    {
        let _ = window().location().set_href("/auth/oidc/link");
    }
}

fn go_to_account_page() {
    #[cfg(feature = "hydrate")]
    {
        let _ = window().location().set_href("/account");
    }
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
