//! Sign up, sign in and sign out: the server functions and their pages.
//!
//! The forms are `ActionForm`s: they work as plain HTML form posts before the wasm has loaded
//! (errors come back in the URL and are shown on the re-rendered page) and without reloads after.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::{
    components::{FieldError, FormError, FormErrors, Loaded, action_error},
    error::AppError,
};

/// The signed-in user as the pages see them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub username: String,
    pub is_admin: bool,
}

/// The header's right side: who is signed in, and its two parts as HTML drawn on the server:
/// the bell ([`NoticesBell`], always in the bar) and the user menu ([`UserMenu`], behind the
/// "Menu" button on a phone).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderView {
    pub user: Option<UserView>,
    /// The bell with the latest notices; empty for a visitor.
    pub bell: String,
    /// The user menu: the admin link, who is signed in, sign out (or the sign-in links).
    pub html: String,
}

#[server(prefix = "/rpc", endpoint = "header_state")]
pub async fn header_state() -> Result<HeaderView, AppError> {
    let menu = user_menu_state().await?;
    let user = menu.user.clone();
    let (bell, html) = menu.into_html();
    Ok(HeaderView { user, bell, html })
}

/// What the user menu shows.
#[cfg(feature = "ssr")]
struct UserMenuState {
    user: Option<UserView>,
    notices: Option<crate::notifications::Notices>,
    /// The instance requires two-factor sign-in of this account: days left to set it up
    /// (`Some(0)`: the last day, or over).
    two_factor_due: Option<i64>,
}

#[cfg(feature = "ssr")]
async fn user_menu_state() -> Result<UserMenuState, AppError> {
    let Some(user) = crate::session::current_user() else {
        return Ok(UserMenuState {
            user: None,
            notices: None,
            two_factor_due: None,
        });
    };
    let notices = crate::notifications::notices_for(
        &crate::session::db()?,
        user.id,
        crate::notifications::IN_MENU,
    )
    .await?;
    let two_factor_due = use_context::<http::request::Parts>()
        .and_then(|p| {
            p.extensions
                .get::<domain::identity::two_factor::requirement::Requirement>()
                .copied()
        })
        .and_then(|requirement| match requirement {
            domain::identity::two_factor::requirement::Requirement::Met => None,
            due => Some(due.days_left(chrono::Utc::now()).unwrap_or(0)),
        });
    Ok(UserMenuState {
        user: Some(UserView {
            username: user.username,
            is_admin: user.is_admin,
        }),
        notices: Some(notices),
        two_factor_due,
    })
}

#[cfg(feature = "ssr")]
impl UserMenuState {
    /// The menu as HTML: no view of it is compiled into the wasm (docs/frontend.md). Its forms
    /// are plain HTML forms: signing out loads the sign-in page (and drops whatever the page
    /// held in memory); the browser's [`NoticesBell`] sends "Mark all read" and follows a notice
    /// itself. The bell's HTML first, then the menu's.
    fn into_html(self) -> (String, String) {
        use leptos::tachys::view::RenderHtml;
        let UserMenuState {
            user,
            notices,
            two_factor_due,
        } = self;
        let bell = notices.map(crate::notifications::notices_menu);
        let menu = match user {
            Some(user) => view! {
                {two_factor_due.map(|days| view! {
                    <a class="two-factor-due" href="/account#two-factor" data-testid="two-factor-due">
                        {match days {
                            0 => "Set up two-factor sign-in now".to_string(),
                            1 => "Two-factor sign-in required: 1 day left".to_string(),
                            n => format!("Two-factor sign-in required: {n} days left"),
                        }}
                    </a>
                })}
                <div class="user-menu">
                    {user.is_admin.then(|| view! { <a href="/admin" class="admin-link">"Admin"</a> })}
                    <a href="/account" class="whoami" title="Your account and notifications">
                        <span class="signed-in-as">"Signed in as "</span><strong>{user.username}</strong>
                    </a>
                    <form method="post" action="/rpc/sign_out">
                        <button type="submit" class="button secondary">"Sign out"</button>
                    </form>
                </div>
            }
            .into_any(),
            None => view! {
                <div class="user-menu">
                    <a href="/signin">"Sign in"</a>
                    <a href="/signup" class="button">"Sign up"</a>
                </div>
            }
            .into_any(),
        };
        Owner::new().with(|| (bell.to_html(), menu.to_html()))
    }
}

/// What sign-up says of an email address it cannot take: the same whether another account has
/// it or not, so that the form cannot be used to find out who has an account.
pub const EMAIL_NOT_USABLE: &str = "This email address cannot be used for a new account. Sign up without it and add an address on your Account page, or use another.";

#[server(prefix = "/rpc", endpoint = "sign_up")]
pub async fn sign_up(
    username: String,
    password: String,
    password_confirmation: String,
    email: Option<String>,
) -> Result<(), AppError> {
    use domain::{
        identity::names::{Email, Password, Username},
        identity::users::Registration,
    };

    use crate::session::{client_ip, db, reserve_sign_up, set_session_cookie};

    let db = db()?;
    // Every field is checked, so that the form shows each one's problem at once.
    let mut checks = crate::error::FieldChecks::default();
    let username = checks.check(Username::parse_new(&username))?;
    let password = checks.check(Password::parse(&password))?;
    let confirmed = password
        .as_ref()
        .is_none_or(|password| password.expose() == password_confirmation);
    let email = match email.as_deref().map(str::trim) {
        None | Some("") => Some(None),
        Some(raw) => checks.check(Email::parse(raw))?.map(Some),
    };
    let (Some(username), Some(password), true, Some(email)) =
        (username, password, confirmed, email)
    else {
        let mut all = vec![checks.into_error()];
        if !confirmed {
            all.push(AppError::field(
                "password_confirmation",
                "The two passwords do not match.",
            ));
        }
        return Err(AppError::all(all).unwrap_or(AppError::Internal));
    };
    // Closed, single sign-on only, or single sign-on required: refused before the password is
    // hashed (and asked again in the transaction that makes the account).
    domain::identity::sign_ups::allow_password_sign_up(&db).await?;
    // Counted once the input is known to be good: what costs is the password's hash.
    reserve_sign_up()?;
    let registration = Registration::SignUp { ip: client_ip() };
    let user = domain::identity::users::create_with_email(
        &db,
        &username,
        &password,
        email.as_ref(),
        registration,
    )
    .await
    .map_err(|error| match error {
        // Whether an address has an account is not for anyone who asks to know.
        domain::Error::Conflict { field: "email", .. } => {
            AppError::field("email", EMAIL_NOT_USABLE)
        }
        other => other.into(),
    })?;
    let session = domain::identity::sessions::start(&db, user.id).await?;
    set_session_cookie(&session)?;
    leptos_axum::redirect("/");
    Ok(())
}

#[server(prefix = "/rpc", endpoint = "sign_in")]
pub async fn sign_in(
    username: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    use crate::session::{
        client_ip, db, forgive_sign_in_attempt, reserve_sign_in_attempt, safe_next, session_cookie,
        set_challenge_cookie, set_session_cookie,
    };
    use domain::identity::sign_in::SignInStep;

    reserve_sign_in_attempt().await?;
    let replaced = session_cookie();
    let signed_in = domain::identity::sign_in::with_password(
        &db()?,
        &username,
        &password,
        replaced.as_deref(),
        client_ip(),
    )
    .await;
    match signed_in {
        Ok(SignInStep::SignedIn(_, session)) => {
            forgive_sign_in_attempt().await;
            set_session_cookie(&session)?;
            leptos_axum::redirect(&safe_next(next.as_deref()));
            Ok(())
        }
        // The password was right; the second factor comes on a step of its own.
        Ok(SignInStep::SecondFactor(challenge)) => {
            forgive_sign_in_attempt().await;
            set_challenge_cookie(&challenge)?;
            leptos_axum::redirect(&format!(
                "/signin/two-factor?next={}",
                crate::components::query_value(&safe_next(next.as_deref()))
            ));
            Ok(())
        }
        Err(error) => {
            // Only a wrong username or password stays counted.
            if !matches!(error, domain::Error::InvalidCredentials) {
                forgive_sign_in_attempt().await;
            }
            Err(error.into())
        }
    }
}

#[server(prefix = "/rpc", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::session::{clear_session_cookie, client_ip, db, session_cookie};

    if let Some(id) = session_cookie() {
        domain::identity::sessions::sign_out(&db()?, &id, client_ip()).await?;
    }
    clear_session_cookie()?;
    leptos_axum::redirect("/signin");
    Ok(())
}

/// Counts sign-ins and sign-ups in this browser tab; the header's user menu refetches whenever
/// it changes. (The sign-in and sign-up actions belong to their pages: a `ServerAction` reads a
/// no-JS post's error from the URL only when created under `<Routes>`. Signing out is a plain
/// form post that loads the sign-in page.)
#[derive(Clone, Copy)]
pub struct AuthChanges {
    pub count: RwSignal<usize>,
}

impl Default for AuthChanges {
    fn default() -> Self {
        Self::new()
    }
}

impl AuthChanges {
    pub fn new() -> Self {
        AuthChanges {
            count: RwSignal::new(0),
        }
    }

    /// Bumps the count whenever `action` (one that runs in the browser, e.g. a passkey
    /// sign-in) succeeds.
    pub(crate) fn follow_local<I: 'static>(self, action: Action<I, Result<(), AppError>>) {
        Effect::new(move |_| {
            if let Some(Ok(())) = action.value().get() {
                self.count.update(|n| *n += 1);
            }
        });
    }

    /// Bumps the count whenever `action` succeeds.
    pub(crate) fn follow<S>(self, action: ServerAction<S>)
    where
        S: leptos::server_fn::ServerFn<Output = (), Error = AppError>
            + Clone
            + Send
            + Sync
            + 'static,
    {
        Effect::new(move |_| {
            if let Some(Ok(())) = action.value().get() {
                self.count.update(|n| *n += 1);
            }
        });
    }
}

lazy_page! {
    /// The sign-in page as a lazily loaded route: its code is a wasm chunk of its own, fetched the first time
    /// the page is shown (docs/frontend.md).
    SignInRoute => SignInPage
}

/// Single sign-on's settings, as the pages may show them (never the client secret): put into
/// the Leptos context by the server; `None` when it is not set up.
#[derive(Clone, Debug)]
pub struct SingleSignOn(pub Option<SsoShown>);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoShown {
    /// The button's name (`PATDESK_OIDC_NAME`).
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    /// What to register at the provider.
    pub redirect_uri: String,
}

/// The single sign-on settings in the context, if set up.
pub fn single_sign_on() -> Option<SsoShown> {
    use_context::<SingleSignOn>().and_then(|s| s.0)
}

/// The single sign-on button's name, the same on the server and in the browser without a
/// request (a resource would make the sign-in page wait for it): the server reads its context
/// and writes it into the page's head (`shell`: `<meta name="patdesk-sso">`), the browser reads
/// it back from there.
pub fn sso_button_name() -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        single_sign_on().map(|s| s.name)
    }
    #[cfg(not(feature = "ssr"))]
    {
        leptos::prelude::document()
            .query_selector("meta[name=patdesk-sso]")
            .ok()
            .flatten()
            .and_then(|meta| meta.get_attribute("content"))
    }
}

#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    expect_context::<AuthChanges>().follow(action);
    let errors = FormErrors::new(action_error(action.value()));
    let error = errors.shown();
    // Both fields said at once, in the app's words (the form is `novalidate`).
    let check = |value: &dyn Fn(&str) -> String| {
        let mut found = Vec::new();
        if value("username").trim().is_empty() {
            found.push(AppError::field("username", "Enter your username."));
        }
        if value("password").is_empty() {
            found.push(AppError::field("password", "Enter your password."));
        }
        found
    };
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_else(|| "/".to_string());
    // A full navigation (rel=external): the provider's pages are another site.
    let sso = move || {
        sso_button_name().map(|name| {
            let href = format!("/auth/oidc/start?next={}", crate::components::query_value(&next()));
            view! {
                <p class="sso"><a class="button secondary" href=href rel="external" data-testid="sso-sign-in">{format!("Sign in with {name}")}</a></p>
                <p class="muted or">"or with your password"</p>
            }
        })
    };
    view! {
        <Title text="Sign in"/>
        <section class="auth-card">
            <h1>"Sign in to patdesk"</h1>
            // After a reset of an account with two-factor sign-in (`passwords::reset_password`).
            {move || (query.read().get("reset").as_deref() == Some("two-factor")).then(|| view! {
                <p class="banner ok" role="status" data-testid="reset-done">
                    "Your password was changed and every session signed out. Sign in with your new password and your second factor."
                </p>
            })}
            {sso}
            <div on:submit:capture=move |ev| errors.check_submit(&ev, &check)
                on:input=move |ev| errors.field_changed(&ev)>
            <ActionForm action=action attr:novalidate=true>
                <input type="hidden" name="next" value=next/>
                <label for="username">"Username"</label>
                <input id="username" name="username" autocomplete="username" required
                    aria-describedby="username-error"/>
                <FieldError error field="username" id="username-error"/>
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="current-password"
                    required aria-describedby="password-error"/>
                <FieldError error field="password" id="password-error"/>
                <FormError error/>
                <button type="submit" class="button">"Sign in"</button>
            </ActionForm>
            </div>
            // A reset link needs mail; without it, the operator sets a new password.
            {if crate::reset_mail::reset_by_mail() {
                view! { <p class="forgot"><a href="/forgot-password" data-testid="forgot-password">"Forgot password?"</a></p> }.into_any()
            } else {
                view! { <p class="muted forgot" data-testid="forgot-ask-admin">"Forgot your password? Ask an administrator to set a new one."</p> }.into_any()
            }}
            <p class="muted or">"or"</p>
            <PasskeySignIn purpose=crate::webauthn::PasskeyPurpose::SignIn
                label="Sign in with a passkey" next=Signal::derive(next)/>
            <p class="muted">"New here? " <a href="/signup">"Create an account"</a></p>
        </section>
    }
}

lazy_page! {
    /// The sign-up page as a lazily loaded route: its code is a wasm chunk of its own, fetched the first time
    /// the page is shown (docs/frontend.md).
    SignUpRoute => SignUpPage
}

/// Who may sign up here now, as the sign-up page shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignUpMode {
    /// The form.
    Open,
    /// No form: an instance admin adds people.
    Closed,
    /// No form: the single sign-on button makes the account.
    SingleSignOn,
}

/// Who may sign up now (`domain::identity::sign_ups::in_force`): public, the sign-up page asks
/// before it shows its form. Single sign-on only without a provider set up is closed: there is
/// no button to point to.
#[server(prefix = "/rpc", endpoint = "sign_ups_in_force")]
pub async fn sign_ups_in_force() -> Result<SignUpMode, AppError> {
    use domain::identity::sign_ups::{self, SignUps};
    Ok(match sign_ups::in_force(&crate::session::db()?).await? {
        SignUps::Open => SignUpMode::Open,
        SignUps::Closed => SignUpMode::Closed,
        SignUps::SingleSignOn if single_sign_on().is_some() => SignUpMode::SingleSignOn,
        SignUps::SingleSignOn => SignUpMode::Closed,
    })
}

#[component]
pub fn SignUpPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    expect_context::<AuthChanges>().follow(action);
    let errors = FormErrors::new(action_error(action.value()));
    let mode = Resource::new(|| (), |_| sign_ups_in_force());
    let render = move |mode: SignUpMode| sign_up_offer(mode, action, errors);
    view! {
        <Title text="Sign up"/>
        <section class="auth-card">
            <h1>"Create your account"</h1>
            <Loaded resource=mode render/>
            <p class="muted">"Already have an account? " <a href="/signin">"Sign in"</a></p>
        </section>
    }
}

/// What the sign-up page offers: the form while sign-ups are open, else where accounts come from.
fn sign_up_offer(mode: SignUpMode, action: ServerAction<SignUp>, errors: FormErrors) -> AnyView {
    match mode {
        SignUpMode::Open => view! { <SignUpForm action errors/> }.into_any(),
        SignUpMode::Closed => view! {
            <p data-testid="sign-ups-closed">
                "This patdesk does not take sign-ups: an instance admin adds people. Ask yours for an account."
            </p>
        }
        .into_any(),
        SignUpMode::SingleSignOn => {
            let name = sso_button_name().unwrap_or_else(|| "single sign-on".to_string());
            view! {
                <p data-testid="sign-ups-sso">{format!("Accounts here are made by signing in with {name}: your account is created the first time you do.")}</p>
                <p class="sso"><a class="button" href="/auth/oidc/start?next=%2F" rel="external" data-testid="sso-sign-in">{format!("Sign in with {name}")}</a></p>
            }
            .into_any()
        }
    }
}

/// The sign-up form, shown while sign-ups are open.
#[component]
fn SignUpForm(action: ServerAction<SignUp>, errors: FormErrors) -> impl IntoView {
    let error = errors.shown();
    // The server's field rules (`Username`, `Password`), in their words, all at once before
    // sending; the server checks everything again (reserved names, the address).
    let check = |value: &dyn Fn(&str) -> String| {
        let mut found = Vec::new();
        let username = value("username").trim().to_ascii_lowercase();
        let username_problem = if username.is_empty() {
            Some("Enter a username.")
        } else if !(3..=32).contains(&username.chars().count()) {
            Some("A username is 3 to 32 characters long.")
        } else if !username
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        {
            Some("A username may contain only letters a–z, digits, '_' and '-'.")
        } else {
            None
        };
        if let Some(problem) = username_problem {
            found.push(AppError::field("username", problem));
        }
        let password = value("password");
        if password.is_empty() {
            found.push(AppError::field("password", "Enter a password."));
        } else if password.chars().count() < 10 {
            found.push(AppError::field(
                "password",
                "A password is at least 10 characters long.",
            ));
        }
        if !password.is_empty() && value("password_confirmation") != password {
            found.push(AppError::field(
                "password_confirmation",
                "The two passwords do not match.",
            ));
        }
        found
    };
    view! {
        <div on:submit:capture=move |ev| errors.check_submit(&ev, &check)
            on:input=move |ev| errors.field_changed(&ev)>
        <ActionForm action=action attr:novalidate=true>
            <label for="username">"Username"</label>
            <input id="username" name="username" autocomplete="username" required
                aria-describedby="username-help username-error"/>
            <p class="help" id="username-help">"3–32 characters: letters, digits, _ and -."</p>
            <FieldError error field="username" id="username-error"/>
            <label for="password">"Password"</label>
            <input id="password" name="password" type="password" autocomplete="new-password"
                required minlength="10" aria-describedby="password-help password-error"/>
            <p class="help" id="password-help">"At least 10 characters."</p>
            <FieldError error field="password" id="password-error"/>
            <label for="password_confirmation">"Confirm password"</label>
            <input id="password_confirmation" name="password_confirmation" type="password"
                autocomplete="new-password" required aria-describedby="password_confirmation-error"/>
            <FieldError error field="password_confirmation" id="password_confirmation-error"/>
            <label for="email">"Email address " <span class="muted">"(optional)"</span></label>
            <input id="email" name="email" type="email" autocomplete="email" maxlength="254"
                aria-describedby="email-help email-error"/>
            <p class="help" id="email-help">"For expiry reminders and security notices. Only you see it."</p>
            <FieldError error field="email" id="email-error"/>
            <FormError error/>
            <button type="submit" class="button">"Create account"</button>
        </ActionForm>
        </div>
    }
}

/// The header's parts drawn on the server ([`header_state`]), fetched once for the bell and
/// the user menu: again on sign-in and sign-up, after "Mark all read", and on every navigation
/// (so that the unread count keeps up; signing out loads the sign-in page).
#[derive(Clone, Copy)]
pub struct HeaderParts(Resource<Result<HeaderView, AppError>>);

impl HeaderParts {
    pub fn new() -> Self {
        let changes = expect_context::<AuthChanges>();
        let location = leptos_router::hooks::use_location();
        HeaderParts(Resource::new(
            move || (changes.count.get(), location.pathname.get()),
            |_| header_state(),
        ))
    }
}

impl Default for HeaderParts {
    fn default() -> Self {
        Self::new()
    }
}

/// The bell with the signed-in user's latest notices (nothing for a visitor). The wasm holds no
/// view of it and handles two clicks in it: "Mark all read", and following an unread notice,
/// which marks it read first.
#[component]
pub fn NoticesBell(parts: HeaderParts) -> impl IntoView {
    server_drawn(parts, "bell-area", |h| h.bell)
}

/// Who is signed in, the admin link and a sign-out button, or the sign-in links.
#[component]
pub fn UserMenu(parts: HeaderParts) -> impl IntoView {
    server_drawn(parts, "user-area", |h| h.html)
}

fn server_drawn(
    parts: HeaderParts,
    class: &'static str,
    pick: fn(HeaderView) -> String,
) -> impl IntoView {
    let header = parts.0;
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let html = header.await.map(pick).unwrap_or_default();
                view! {
                    <div class=class inner_html=html
                        on:click=move |ev| crate::notifications::follow_notice(ev, move || header.refetch())
                        on:submit=move |ev| crate::notifications::mark_all_read(ev, move || header.refetch())>
                    </div>
                }
            })}
        </Transition>
    }
}

/// "Sign in with a passkey" (the sign-in page) or "Use a passkey" (the second step), going to
/// `next` once signed in.
#[component]
pub fn PasskeySignIn(
    purpose: crate::webauthn::PasskeyPurpose,
    label: &'static str,
    next: Signal<String>,
) -> impl IntoView {
    let sign_in = Action::new_local(move |next: &String| {
        crate::webauthn::ceremony(purpose, None, Some(next.clone()))
    });
    expect_context::<AuthChanges>().follow_local(sign_in);
    let error = Signal::derive(move || sign_in.value().get().and_then(Result::err));
    view! {
        <p>
            <button type="button" class="button secondary" data-testid="passkey-sign-in"
                disabled=move || sign_in.pending().get()
                on:click=move |_| { sign_in.dispatch(next.get_untracked()); }>
                {label}
            </button>
        </p>
        <FormError error/>
    }
}
