//! patdesk's web app: the HTML shell, the router and every page.
//!
//! Compiled twice: with `ssr` into the server (rendering HTML, running server functions) and with
//! `hydrate` into the browser's wasm (taking over the server's HTML). The two features never meet.

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::{
    Lazy, SsrMode,
    components::{A, Route, Router, Routes},
    path,
};

/// A page as a lazily loaded route: its code is a wasm chunk of its own, fetched the first time
/// the page is shown (docs/frontend.md). `lazy_page!(TokensRoute => TokensPage)` makes the route
/// type that `Lazy::<TokensRoute>` mounts, drawing the component `TokensPage`.
macro_rules! lazy_page {
    ($(#[$doc:meta])* $route:ident => $page:ident) => {
        $(#[$doc])*
        pub struct $route;

        #[leptos_router::lazy_route]
        impl leptos_router::LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> leptos::prelude::AnyView {
                leptos::prelude::IntoAny::into_any(leptos::prelude::view! { <$page/> })
            }
        }
    };
}

pub mod account;
pub mod account_sessions;
pub mod activity;
pub mod admin;
pub mod auth;
mod components;
pub mod error;
pub mod explorer;
pub mod notifications;
mod pages;
pub mod passkeys;
pub mod passwords;
#[cfg(feature = "ssr")]
pub mod request;
pub mod reset_mail;
pub mod scim;
#[cfg(feature = "ssr")]
pub mod server_fns;
pub mod service_accounts;
pub mod services;
#[cfg(feature = "ssr")]
pub mod session;
pub mod sudo;
pub mod team_tokens;
pub mod teams;
pub mod token_usage;
pub mod tokens;
pub mod two_factor;
pub mod webauthn;
pub mod webhooks;

/// Pages that need a signed-in user. The server sends signed-out visitors of these (and of
/// anything below `/teams/` and `/admin/`) to `/signin?next=…`.
pub const PRIVATE_PATHS: [&str; 7] = [
    "/",
    "/teams",
    "/activity",
    "/explorer",
    "/admin",
    "/account",
    "/notifications",
];

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                {auth::sso_button_name().map(|name| view! { <meta name="patdesk-sso" content=name/> })}
                {reset_mail::reset_by_mail().then(|| view! { <meta name="patdesk-reset" content="mail"/> })}
                <HashedStylesheet options=options.clone() id="leptos"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The page's Content-Security-Policy: scripts only from this origin or inline with this
/// response's nonce (leptos_axum makes one per request and puts it on the hydration scripts),
/// wasm allowed to compile, everything else from this origin only, and no framing.
#[cfg(feature = "ssr")]
pub fn content_security_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

#[cfg(feature = "ssr")]
fn set_content_security_policy() {
    use leptos::nonce::use_nonce;
    use leptos_axum::ResponseOptions;
    if let (Some(nonce), Some(response)) = (use_nonce(), use_context::<ResponseOptions>())
        && let Ok(value) = http::HeaderValue::from_str(&content_security_policy(&nonce))
    {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Title formatter=|page: String| if page.is_empty() { "patdesk".to_string() } else { format!("{page} · patdesk") }/>
        <Router>
            <Layout/>
        </Router>
    }
}

/// Everything inside the router: header, and the page for the current route.
///
/// Every page is a [`Lazy`] route: the main wasm holds the shell, the router and the header,
/// and each page's code is a chunk of its own, loaded when the page is first shown (before
/// hydration for the page the server rendered; docs/frontend.md).
///
/// Pages render in `SsrMode::Async`: the server waits for their data and sends complete HTML,
/// so that every page works before (or without) the wasm; their queries are small.
#[component]
fn Layout() -> impl IntoView {
    provide_context(auth::AuthChanges::new());
    provide_context(sudo::Sudo::new());
    view! {
        <Header/>
        <sudo::ConfirmIdentityDialog/>
        <main id="main" class="page">
            // The polite live region `components::announce` speaks through ("Token deleted").
            <div id="announcer" class="visually-hidden" aria-live="polite" aria-atomic="true"></div>
            <Routes fallback=pages::NotFound>
                <Route path=path!("/") view={Lazy::<tokens::TokensRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/signin") view={Lazy::<auth::SignInRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/signin/two-factor") view={Lazy::<two_factor::SecondFactorRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/signup") view={Lazy::<auth::SignUpRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/forgot-password") view={Lazy::<passwords::ForgotPasswordRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/reset-password") view={Lazy::<passwords::ResetPasswordRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/tokens/:id") view={Lazy::<token_usage::TokenUsageRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/teams") view={Lazy::<teams::TeamsRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/teams/:slug") view={Lazy::<teams::TeamRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/teams/:slug/tokens") view={Lazy::<team_tokens::TeamTokensRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/teams/:slug/services") view={Lazy::<services::TeamServicesRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/teams/:slug/service-accounts") view={Lazy::<service_accounts::TeamServiceAccountsRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/teams/:slug/webhooks") view={Lazy::<webhooks::WebhooksRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/activity") view={Lazy::<activity::ActivityRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/account") view={Lazy::<account::AccountRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/notifications") view={Lazy::<notifications::NotificationsRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/explorer") view={Lazy::<explorer::ExplorerRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/admin") view={Lazy::<admin::AdminRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/admin/users") view={Lazy::<admin::AdminUsersRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/admin/tokens") view={Lazy::<team_tokens::TeamTokensRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/admin/webhooks") view={Lazy::<webhooks::WebhooksRoute>::new()} ssr=SsrMode::Async/>
            </Routes>
        </main>
    }
}

/// The top bar: product name, the main navigation, the bell and the user menu, in one row.
///
/// The navigation and the user menu sit in a `<details>`: on a wide screen the stylesheet shows
/// its content in the bar and hides its "Menu" button; under 640 px the button opens them as a
/// sheet below the bar. A `<details>` opens without the wasm, and the browser says whether it
/// is expanded. The bell stays in the bar at every width.
#[component]
fn Header() -> impl IntoView {
    let parts = auth::HeaderParts::new();
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="topbar" on:click=one_sheet_open>
            <A href="/" attr:class="brand">
                <span class="brand-mark" aria-hidden="true">"pdk_"</span>
                "patdesk"
            </A>
            <auth::NoticesBell parts/>
            <details class="site-menu">
                <summary class="button secondary" data-testid="site-menu-button">"Menu"</summary>
                <div class="site-menu-sheet">
                    <nav aria-label="Main">
                        <ul class="nav">
                            <li><A href="/">"Tokens"</A></li>
                            <li><A href="/teams">"Teams"</A></li>
                            <li><A href="/activity">"Activity"</A></li>
                            <li><A href="/explorer">"API explorer"</A></li>
                        </ul>
                    </nav>
                    <auth::UserMenu parts/>
                </div>
            </details>
        </header>
    }
}

/// A click in the header: a link followed from the phone's menu closes the menu (the page
/// changes in place, or not at all for the page already shown), and opening the bell's menu or
/// the main menu closes the other, so that one sheet at a time covers the page. Without the
/// wasm a link loads a new page, which starts with both closed.
#[allow(unused_variables)]
fn one_sheet_open(ev: leptos::ev::MouseEvent) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        let Some(target) = ev
            .target()
            .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
        else {
            return;
        };
        let within = |selector: &str| target.closest(selector).ok().flatten().is_some();
        let close = |selector: &str| {
            if let Ok(Some(open)) = document().query_selector(selector) {
                let _ = open.remove_attribute("open");
            }
        };
        if within(".site-menu-sheet a") || within(".notices-menu > summary") {
            close(".site-menu[open]");
        } else if within(".site-menu > summary") {
            close(".notices-menu[open]");
        }
    }
}
