//! The Account page's Sessions card (docs/accounts.md): where the account is signed in — when
//! each session started, when it was last seen, from which address and browser, and which is
//! this one — each with Sign out, and "Sign out everywhere else". Ending a session takes
//! access away, so it needs no sudo mode; it only ever touches the caller's own sessions
//! (`domain::identity::sessions::end_other`). Each is named by its random public id, never by
//! anything the cookie's id can be found from.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    components::{FormError, Loaded, action_error},
    error::AppError,
};

/// One session, as the card lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    /// The handle Sign out sends.
    pub id: String,
    pub created: String,
    pub last_seen: String,
    pub address: Option<String>,
    pub browser: Option<String>,
    pub current: bool,
}

#[server(prefix = "/rpc", endpoint = "my_sessions")]
pub async fn my_sessions() -> Result<Vec<SessionView>, AppError> {
    use crate::session::{db, require_user, session_cookie};
    let user = require_user()?;
    let now = chrono::Utc::now();
    let sessions =
        domain::identity::sessions::list_for_user(&db()?, user.id, session_cookie().as_deref())
            .await?;
    Ok(sessions
        .into_iter()
        .map(|s| SessionView {
            id: s.public_id,
            created: domain::time::minute(s.created_at),
            last_seen: domain::time::relative(s.last_seen_at, now),
            address: s.ip,
            browser: s.browser,
            current: s.current,
        })
        .collect())
}

/// Signs out one other session of the caller's (`id`: its public id).
#[server(prefix = "/rpc", endpoint = "end_session")]
pub async fn end_session(id: String) -> Result<(), AppError> {
    use crate::session::{db, origin, require_user, session_cookie};
    let user = require_user()?;
    domain::identity::sessions::end_other(
        &db()?,
        origin(&user),
        id.trim(),
        session_cookie().as_deref(),
    )
    .await?;
    Ok(())
}

/// Signs out every session of the caller's but this one.
#[server(prefix = "/rpc", endpoint = "end_other_sessions")]
pub async fn end_other_sessions() -> Result<u64, AppError> {
    use crate::session::{db, origin, require_user, session_cookie};
    let user = require_user()?;
    Ok(domain::identity::sessions::end_all_others(
        &db()?,
        origin(&user),
        session_cookie().as_deref(),
    )
    .await?)
}

/// Bumped by what ends sessions from elsewhere on the Account page (a password change), so
/// that the list is fetched again. Provided by the Account page.
#[derive(Clone, Copy)]
pub struct SessionsChanged(pub RwSignal<u32>);

#[component]
pub fn SessionsCard() -> impl IntoView {
    let end_one = ServerAction::<EndSession>::new();
    let end_others = ServerAction::<EndOtherSessions>::new();
    let elsewhere = use_context::<SessionsChanged>();
    let sessions = Resource::new(
        move || {
            (
                end_one.version().get(),
                end_others.version().get(),
                elsewhere.map(|SessionsChanged(n)| n.get()),
            )
        },
        |_| my_sessions(),
    );
    let error = Signal::derive(move || {
        action_error(end_one.value())
            .get()
            .or_else(|| action_error(end_others.value()).get())
    });
    let ended = move || match end_others.value().get() {
        Some(Ok(0)) => Some("No other session was signed in.".to_string()),
        Some(Ok(1)) => Some("1 other session was signed out.".to_string()),
        Some(Ok(n)) => Some(format!("{n} other sessions were signed out.")),
        _ => None,
    };
    view! {
        <section class="card account-sessions" data-testid="sessions-card" aria-labelledby="sessions-heading">
            <h2 id="sessions-heading">"Sessions"</h2>
            <p class="muted">"Where your account is signed in. Sign out any you do not recognise, and change your password."</p>
            <p class="banner ok" role="status" data-testid="sessions-ended" hidden=move || ended().is_none()>{ended}</p>
            <Loaded resource=sessions render=move |list| session_list(list, end_one, end_others)/>
            <FormError error/>
        </section>
    }
}

/// The sessions, each with Sign out but this one, and "Sign out everywhere else" when there
/// are others.
fn session_list(
    list: Vec<SessionView>,
    end_one: ServerAction<EndSession>,
    end_others: ServerAction<EndOtherSessions>,
) -> impl IntoView {
    let others = list.iter().filter(|s| !s.current).count();
    view! {
        <ul class="plain-list session-list">
            {list.into_iter().map(|s| view! { <SessionRow session=s end_one/> }).collect_view()}
        </ul>
        {(others > 0).then(|| view! {
            <ActionForm action=end_others attr:class="inline">
                <button type="submit" class="button secondary" data-testid="sign-out-others">"Sign out everywhere else"</button>
            </ActionForm>
        })}
    }
}

#[component]
fn SessionRow(session: SessionView, end_one: ServerAction<EndSession>) -> impl IntoView {
    let browser = session
        .browser
        .clone()
        .unwrap_or_else(|| "Unknown browser".to_string());
    let label = format!(
        "Sign out the session of {browser}, last seen {}",
        session.last_seen
    );
    view! {
        <li class="session-row" data-testid="session-row" data-current=session.current.to_string()>
            <div class="session-what">
                <strong>{browser}</strong>
                {session.current.then(|| view! { " " <span class="badge" data-testid="this-session">"This session"</span> })}
                <div class="muted">
                    {format!("Signed in {} · last seen {}", session.created, session.last_seen)}
                    {session.address.map(|a| format!(" · from {a}"))}
                </div>
            </div>
            {(!session.current).then(|| view! {
                <ActionForm action=end_one attr:class="inline">
                    <input type="hidden" name="id" value=session.id/>
                    <button type="submit" class="button secondary" data-testid="session-sign-out"
                        aria-label=label>"Sign out"</button>
                </ActionForm>
            })}
        </li>
    }
}
