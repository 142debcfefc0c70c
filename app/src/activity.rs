//! The Activity page: the signed-in user's recent activity, newest first, paginated.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::{components::Loaded, error::AppError};

pub const PER_PAGE: u64 = 25;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityRow {
    pub id: i64,
    pub kind: String,
    pub what: String,
    pub actor: String,
    pub token_id: Option<String>,
    pub ip: Option<String>,
    pub target: Option<String>,
    pub when: String,
    pub when_exact: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityPage {
    pub rows: Vec<ActivityRow>,
    pub page: u64,
    pub has_older: bool,
}

#[server(prefix = "/rpc", endpoint = "my_activity")]
pub async fn my_activity(page: u64) -> Result<ActivityPage, AppError> {
    use crate::session::{db, require_user};
    let user = require_user()?;
    let page = page.clamp(1, 100_000);
    let (entries, has_older) =
        domain::activity::list_for_user(&db()?, user.id, page, PER_PAGE).await?;
    let now = chrono::Utc::now();
    Ok(ActivityPage {
        rows: entries
            .into_iter()
            .map(|e| ActivityRow {
                id: e.id,
                what: e.what.to_string(),
                kind: e.kind,
                actor: e.actor,
                token_id: e.token_id,
                ip: e.ip,
                target: e.target,
                when: domain::time::relative(e.at, now),
                when_exact: domain::time::second(e.at),
            })
            .collect(),
        page,
        has_older,
    })
}

lazy_page! {
    /// The activity page as a lazily loaded route: its code is a wasm chunk of its own, fetched the first time
    /// the page is shown (docs/frontend.md).
    ActivityRoute => ActivityPage
}

#[component]
pub fn ActivityPage() -> impl IntoView {
    let query = use_query_map();
    let page = move || {
        query
            .read()
            .get("page")
            .and_then(|p| p.parse::<u64>().ok())
            .filter(|p| *p >= 1)
            .unwrap_or(1)
    };
    let activity = Resource::new(page, my_activity);
    view! {
        <Title text="Activity"/>
        <h1>"Activity"</h1>
        <p class="muted">"Your sign-ins, token changes and API writes, newest first."</p>
        <Loaded resource=activity render=move |loaded| match loaded {
            found if found.rows.is_empty() => view! {
                <p class="empty">"Nothing here yet."</p>
            }.into_any(),
            found => {
                let page = found.page;
                view! {
                    <div class="table-wrap">
                    <table class="table activity">
                        <thead><tr>
                            <th scope="col">"When"</th><th scope="col">"What"</th><th scope="col">"Actor"</th>
                            <th scope="col">"Token"</th><th scope="col">"IP"</th><th scope="col">"Target"</th>
                        </tr></thead>
                        <tbody>
                            {found.rows.into_iter().map(|r| view! {
                                <tr data-kind=r.kind.clone()>
                                    <td data-label="When"><span title=r.when_exact.clone()>{r.when.clone()}</span></td>
                                    <td data-label="What">{r.what.clone()}</td>
                                    <td data-label="Actor">{r.actor.clone()}</td>
                                    <td data-label="Token">{r.token_id.clone().map(|t| view! { <code>{t}</code> })}</td>
                                    <td data-label="IP">{r.ip.clone()}</td>
                                    <td data-label="Target">{r.target.clone()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    </div>
                    <nav class="pager" aria-label="Activity pages">
                        {(page > 1).then(|| view! { <a href=format!("/activity?page={}", page - 1)>"← Newer"</a> })}
                        <span class="muted">{format!("Page {page}")}</span>
                        {found.has_older.then(|| view! { <a href=format!("/activity?page={}", page + 1)>"Older →"</a> })}
                    </nav>
                }.into_any()
            }
        }/>
    }
}
