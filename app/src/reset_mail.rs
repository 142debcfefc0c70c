//! Whether "Forgot password?" links are mailed here (docs/accounts.md), for the sign-in page,
//! the forgot-password page and the shell alike, in a module of its own so that those import
//! no cycle; and, on the server, what sends them and how many an address may ask for.

/// What sends reset links: put into the Leptos context by the server; `None` without mail.
#[cfg(feature = "ssr")]
#[derive(Clone)]
pub struct ResetMail(pub Option<std::sync::Arc<domain::notifications::mail::Mailer>>);

/// Reset links asked for per client address (the server's budget; each account has its own).
#[cfg(feature = "ssr")]
#[derive(Clone)]
pub struct ResetRequests(pub std::sync::Arc<domain::throttle::FailedAuth>);

/// Whether this server mails reset links, the same on the server and in the browser without a
/// request (as `auth::sso_button_name`): the server writes `<meta name="patdesk-reset">` into
/// the page's head when it does, the browser reads it back.
pub fn reset_by_mail() -> bool {
    #[cfg(feature = "ssr")]
    {
        leptos::prelude::use_context::<ResetMail>().is_some_and(|m| m.0.is_some())
    }
    #[cfg(not(feature = "ssr"))]
    {
        leptos::prelude::document()
            .query_selector("meta[name=patdesk-reset]")
            .ok()
            .flatten()
            .is_some()
    }
}
