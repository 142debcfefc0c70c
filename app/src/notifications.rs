//! Notices in the app (docs/notifications.md): the bell in the header with the unread count
//! and the latest notices, and `/notifications` with all of them. Each links to its token's
//! row on the Access tokens page. The notices themselves are made by `domain::notifications`.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::{components::Loaded, error::AppError};

/// How many notices the header's menu lists.
pub const IN_MENU: u64 = 8;
/// How many the Notifications page lists.
pub const ON_PAGE: u64 = 100;

/// A notice as the app shows it; times are prepared on the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeView {
    pub id: i64,
    pub kind: String,
    pub headline: String,
    pub explanation: String,
    pub token_id: Option<String>,
    pub token_partial: Option<String>,
    pub when: String,
    pub when_exact: String,
    pub read: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notices {
    pub items: Vec<NoticeView>,
    pub unread: u64,
}

/// The signed-in user's latest `limit` notices; nothing (not an error) for a visitor who is
/// not signed in, whose header asks all the same.
#[server(prefix = "/rpc", endpoint = "my_notices")]
pub async fn my_notices(limit: u64) -> Result<Option<Notices>, AppError> {
    use crate::session::{current_user, db};
    let Some(user) = current_user() else {
        return Ok(None);
    };
    Ok(Some(notices_for(&db()?, user.id, limit).await?))
}

/// The user's latest `limit` notices, as the app shows them.
#[cfg(feature = "ssr")]
pub(crate) async fn notices_for(
    db: &sea_orm::DatabaseConnection,
    user_id: i64,
    limit: u64,
) -> Result<Notices, AppError> {
    let (items, unread) =
        domain::notifications::list_for_user(db, user_id, limit.clamp(1, ON_PAGE)).await?;
    let now = chrono::Utc::now();
    Ok(Notices {
        items: items
            .into_iter()
            .map(|n| NoticeView {
                when: domain::time::relative(n.created_at, now),
                when_exact: domain::time::second(n.created_at),
                id: n.id,
                kind: n.kind,
                headline: n.headline,
                explanation: n.explanation,
                token_id: n.token_id,
                token_partial: n.token_partial,
                read: n.read,
            })
            .collect(),
        unread,
    })
}

/// Marks one notice read (`id`), or all of the user's (no `id`).
#[server(prefix = "/rpc", endpoint = "mark_notices_read")]
pub async fn mark_notices_read(id: Option<i64>) -> Result<u64, AppError> {
    use crate::session::{db, require_user};
    let user = require_user()?;
    Ok(domain::notifications::mark_read(&db()?, user.id, id).await?)
}

/// The link to what a notice is about: its token's page (which shows an expired, deleted or
/// revoked token too, unlike the Access tokens list), or, for a notice about the account
/// itself, the Account page (as the mails link).
fn notice_href(token_id: &Option<String>) -> String {
    match token_id {
        Some(id) => format!("/tokens/{id}"),
        None => "/account".into(),
    }
}

/// The bell in the header: the unread count, and a menu with the latest notices (a
/// `<details>`, so that it opens without the wasm too). Drawn on the server only, into the
/// header's bell (`auth::NoticesBell`); an unread notice's link carries its id
/// (`data-notice`), for [`follow_notice`].
#[cfg(feature = "ssr")]
pub(crate) fn notices_menu(found: Notices) -> impl IntoView {
    let unread = found.unread;
    let label = match unread {
        0 => "Notifications".to_string(),
        1 => "Notifications, 1 unread".to_string(),
        n => format!("Notifications, {n} unread"),
    };
    view! {
        <details class="notices-menu" data-testid="notices-menu">
            <summary aria-label=label.clone() title=label>
                <svg class="bell" aria-hidden="true" viewBox="0 0 24 24" width="20" height="20"><path d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1Z" fill="currentColor"/></svg>
                {(unread > 0).then(|| view! {
                    <span class="count" data-testid="unread-count" aria-hidden="true">
                        {if unread > 99 { "99+".to_string() } else { unread.to_string() }}
                    </span>
                })}
            </summary>
            <div class="notices-panel">
                <div class="notices-head">
                    <strong>"Notifications"</strong>
                    {(unread > 0).then(|| view! {
                        <form method="post" action="/rpc/mark_notices_read" data-mark-all="">
                            <button type="submit" class="link-button">"Mark all read"</button>
                        </form>
                    })}
                </div>
                {if found.items.is_empty() {
                    view! { <p class="muted empty-notices">"Nothing yet."</p> }.into_any()
                } else {
                    view! {
                        <ul class="notices">
                            {found.items.into_iter().map(|n| view! {
                                <li class="notice-item" class:unread=!n.read data-kind=n.kind.clone()>
                                    <a href=notice_href(&n.token_id) rel="external"
                                        data-notice=(!n.read).then(|| n.id.to_string())>
                                        <span class="headline">{n.headline.clone()}</span>
                                    </a>
                                    <span class="when muted" title=n.when_exact.clone()>{n.when.clone()}</span>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
                <a class="all-notices" href="/notifications">"See all notifications"</a>
            </div>
        </details>
    }
}

/// A click in the user menu: following an unread notice's link marks the notice read first,
/// then `refresh`es the menu and goes there (without the wasm, the link just goes there).
#[allow(unused_variables)]
pub(crate) fn follow_notice(ev: leptos::ev::MouseEvent, refresh: impl Fn() + 'static) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        let Some(link) = ev
            .target()
            .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
            .and_then(|e| e.closest("a[data-notice]").ok().flatten())
        else {
            return;
        };
        let (Some(id), Some(go)) = (
            link.get_attribute("data-notice")
                .and_then(|id| id.parse::<i64>().ok()),
            link.get_attribute("href"),
        ) else {
            return;
        };
        ev.prevent_default();
        leptos::task::spawn_local(async move {
            // Read or not, the user asked to go to the token. (Going to `/#tok_…` from `/` only
            // scrolls: the count is fetched again here, not by a navigation.)
            let _ = mark_notices_read(Some(id)).await;
            refresh();
            let _ = window().location().set_href(&go);
        });
    }
}

/// A form sent in the user menu: "Mark all read" is sent in the background and the menu
/// fetched again (without the wasm, it is a form post that reloads the page). Signing out goes
/// on as the plain form post it is.
#[allow(unused_variables)]
pub(crate) fn mark_all_read(ev: leptos::ev::SubmitEvent, refresh: impl Fn() + 'static) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        let marks_all = ev
            .target()
            .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
            .is_some_and(|form| form.has_attribute("data-mark-all"));
        if !marks_all {
            return;
        }
        ev.prevent_default();
        leptos::task::spawn_local(async move {
            let _ = mark_notices_read(None).await;
            refresh();
        });
    }
}

lazy_page! {
    /// The Notifications page as a lazily loaded route (docs/frontend.md).
    NotificationsRoute => NotificationsPage
}

#[component]
pub fn NotificationsPage() -> impl IntoView {
    let mark = ServerAction::<MarkNoticesRead>::new();
    let notices = Resource::new(move || mark.version().get(), |_| my_notices(ON_PAGE));
    view! {
        <Title text="Notifications"/>
        <h1>"Notifications"</h1>
        <p class="muted">
            "Expiry reminders, tokens used from new addresses, new and revoked tokens, newest first. "
            <a href="/account">"Choose which are also mailed to you"</a> "."
        </p>
        <Loaded resource=notices render=move |loaded| match loaded {
            None => view! { <p class="empty">"Sign in to see your notifications."</p> }.into_any(),
            Some(found) if found.items.is_empty() => view! {
                <p class="empty">"No notifications yet."</p>
            }.into_any(),
            Some(found) => view! {
                {(found.unread > 0).then(|| view! {
                    <ActionForm action=mark>
                        <button type="submit" class="button secondary">"Mark all read"</button>
                    </ActionForm>
                })}
                <ul class="notice-list">
                    {found.items.into_iter().map(|n| {
                        let id = n.id;
                        view! {
                            <li class="card notice-item" class:unread=!n.read data-kind=n.kind.clone()>
                                <p class="headline">
                                    <a href=notice_href(&n.token_id) rel="external">{n.headline.clone()}</a>
                                    {n.token_partial.clone().map(|p| view! { " " <code class="partial">{p}</code> })}
                                </p>
                                <p>{n.explanation.clone()}</p>
                                <div class="muted notice-foot">
                                    <span title=n.when_exact.clone()>{n.when.clone()}</span>
                                    {(!n.read).then(|| view! {
                                        <ActionForm action=mark attr:class="inline">
                                            <input type="hidden" name="id" value=id.to_string()/>
                                            <button type="submit" class="link-button">"Mark read"</button>
                                        </ActionForm>
                                    })}
                                </div>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }.into_any(),
        }/>
    }
}
