//! The API explorer (`docs/explorer.md`): Swagger UI over `/api/openapi.json`, pre-authorized with a
//! token of kind `explorer` that choosing a team mints (and that replaces the previous one).
//! Minting it is a sudo-mode action, like creating any token (`crate::server_fns`).
//!
//! Swagger UI is vendored into the site at build time (`public/vendor/swagger-ui`, see
//! scripts/ensure-tools.sh) and started by `public/explorer.js`; the wasm loads that script on
//! demand and hands it the token. The value goes nowhere else: not into the page's markup, not
//! into a signal, and the response carrying it is `Cache-Control: no-store`.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::{error::AppError, tokens::TeamChoice};

/// What the page needs before a team is chosen: the teams, and how long the token that choosing
/// one makes will live (the instance policy's, `common::EXPLORER_LIFETIME_HOURS` by default).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplorerChoices {
    pub teams: Vec<TeamChoice>,
    pub lifetime_hours: u32,
}

#[server(prefix = "/rpc", endpoint = "explorer_setup")]
pub async fn explorer_setup() -> Result<ExplorerChoices, AppError> {
    use crate::session::db;
    let teams = crate::tokens::server::ssr::team_choices().await?;
    let policy = domain::tokens::policy::current(&db()?).await?;
    Ok(ExplorerChoices {
        teams,
        lifetime_hours: policy.explorer_lifetime_hours,
    })
}

/// The explorer's new token. Only `token` is secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplorerToken {
    pub id: String,
    pub team: String,
    pub write: bool,
    pub expires: String,
    pub token: String,
}

/// What the page says about the explorer's authorization, without the secret.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))] // only the browser moves past Idle
#[derive(Clone, Debug, PartialEq, Eq)]
enum Status {
    Idle,
    Opening(String),
    /// The token needs sudo mode: the confirm-it-is-you dialog is open for this team.
    Confirming(String),
    Ready {
        id: String,
        team: String,
        write: bool,
        expires: String,
    },
    Failed(String),
}

/// Mints the explorer's token for `team`: a credential, so sudo mode, like any other token.
#[server(prefix = "/rpc", endpoint = "open_explorer")]
pub async fn open_explorer(team: String) -> Result<ExplorerToken, AppError> {
    use crate::session::{db, origin, require_recent_sign_in};
    let user = require_recent_sign_in()?;
    let issued = domain::tokens::open_explorer(&db()?, origin(&user), &team).await?;
    let (team, write) = (issued.info.team_slug.clone(), issued.info.write);
    // Marks the response `no-store`.
    let carried = crate::tokens::server::ssr::issued(issued);
    Ok(ExplorerToken {
        id: carried.id,
        team,
        write,
        expires: carried.expires.unwrap_or_default(),
        token: carried.token,
    })
}

/// Where the browser remembers the last team chosen (per browser, like GitHub's UI choices).
#[cfg(feature = "hydrate")]
const REMEMBERED_TEAM: &str = "patdesk.explorer.team";

lazy_page! {
    /// The API explorer as a lazily loaded route: its code is a wasm chunk of its own, fetched the first time
    /// the page is shown (docs/frontend.md).
    ExplorerRoute => ExplorerPage
}

#[component]
pub fn ExplorerPage() -> impl IntoView {
    let teams = Resource::new(|| (), |_| explorer_setup());
    let chosen = RwSignal::new(String::new());
    let status = RwSignal::new(Status::Idle);
    let container = NodeRef::<leptos::html::Div>::new();
    let sudo = use_context::<crate::sudo::Sudo>();

    // Once the teams are known: the only one, or the browser's remembered choice (if still
    // one of them).
    Effect::new(move |_| {
        if let Some(Ok(setup)) = teams.get()
            && chosen.get_untracked().is_empty()
        {
            let list = &setup.teams;
            let pick = match list.as_slice() {
                [only] => Some(only.slug.clone()),
                _ => remembered_team().filter(|team| list.iter().any(|t| &t.slug == team)),
            };
            if let Some(team) = pick {
                chosen.set(team);
            }
        }
    });
    // Every choice mints the explorer's token for that team and (re)starts Swagger UI with it.
    Effect::new(move |_| {
        let team = chosen.get();
        if !team.is_empty() {
            remember_team(&team);
            start_explorer(team, status, container, sudo);
        }
    });

    let error = Signal::derive(move || match status.get() {
        Status::Failed(message) => Some(message),
        _ => None,
    });
    view! {
        <Title text="API explorer"/>
        <h1>"API explorer"</h1>
        <p class="muted">
            "Try every endpoint of the team API from here. Choosing a team gives the explorer a token of \
             its own for that team: short-lived (the instance's policy sets how long; the status below \
             says until when), read-only unless your role allows writing, and listed on your token page, \
             where you can delete it. Choosing again replaces it."
        </p>
        <div class="explorer-bar">
            <TeamPicker teams chosen/>
            <p class="explorer-status" role="status" data-testid="explorer-status">
                {move || status.get().describe()}
            </p>
        </div>
        {move || error.get().map(|message| view! { <p class="form-error" role="alert">{message}</p> })}
        <noscript><p class="notice">"The API explorer runs in the browser: enable JavaScript to use it."</p></noscript>
        <div id="swagger-ui" class="explorer" node_ref=container></div>
    }
}

/// The team menu, once the user's teams are known (or a word on joining one).
#[component]
fn TeamPicker(
    teams: Resource<Result<ExplorerChoices, AppError>>,
    chosen: RwSignal<String>,
) -> impl IntoView {
    view! {
            <Transition fallback=|| view! { <p class="muted">"Loading your teams…"</p> }>
                {move || Suspend::new(async move {
                    let Ok(ExplorerChoices { teams: list, lifetime_hours }) = teams.await else {
                        return ().into_any();
                    };
                    // Said before anything is made: choosing a team creates a token.
                    let hint = format!(
                        "Choosing a team creates a {lifetime_hours}-hour token for it, listed on your token page."
                    );
                    if list.is_empty() {
                        return view! {
                            <p class="notice">
                                "You are not a member of any team yet. "
                                <a href="/teams">"Create a team"</a>
                                " or ask a team admin to add you."
                            </p>
                        }.into_any();
                    }
                    view! {
                        <div class="explorer-team">
                            <label for="explorer-team">"Team"</label>
                            <select
                                id="explorer-team"
                                name="team"
                                prop:value=move || chosen.get()
                                on:change=move |ev| chosen.set(event_target_value(&ev))
                            >
                                <option value="" disabled=true selected=move || chosen.get().is_empty()>
                                    "Choose a team"
                                </option>
                                {list.into_iter().map(|t| {
                                    let label = format!("{} ({}) — {}", t.name, t.slug, t.role);
                                    view! { <option value=t.slug>{label}</option> }
                                }).collect_view()}
                            </select>
                            <p class="help" data-testid="explorer-hint">{hint}</p>
                        </div>
                    }.into_any()
                })}
            </Transition>
    }
}

impl Status {
    /// What the status line says.
    fn describe(self) -> String {
        match self {
            Status::Idle => "Choose a team to authorize the explorer.".to_string(),
            Status::Opening(team) => format!("Creating the explorer's token for {team}…"),
            Status::Confirming(team) => {
                format!("Confirm it is you to create the explorer's token for {team}.")
            }
            Status::Ready {
                id,
                team,
                write,
                expires,
            } => format!(
                "Authorized with token {id} for {team} ({}), valid until {expires}.",
                if write { "read and write" } else { "read-only" },
            ),
            Status::Failed(_) => "The explorer is not authorized.".to_string(),
        }
    }
}

#[cfg(feature = "hydrate")]
fn remembered_team() -> Option<String> {
    let storage = window().local_storage().ok()??;
    storage.get_item(REMEMBERED_TEAM).ok()?
}

#[cfg(not(feature = "hydrate"))]
fn remembered_team() -> Option<String> {
    None
}

#[allow(unused_variables)]
fn remember_team(team: &str) {
    #[cfg(feature = "hydrate")]
    if let Ok(Some(storage)) = window().local_storage() {
        let _ = storage.set_item(REMEMBERED_TEAM, team);
    }
}

/// Mints the token, then hands it to Swagger UI. A later choice supersedes an earlier one that
/// is still under way: only the latest is shown. The same team chosen again while its token is
/// being made is not asked for twice: the two mints would race on the server, and the one that
/// committed last would delete the token the page shows (a 401 on the first Try it out).
/// Minting needs sudo mode: from a stale sign-in the confirm-it-is-you dialog opens, and once
/// confirmed the same team is tried again.
#[allow(unused_variables)]
fn start_explorer(
    team: String,
    status: RwSignal<Status>,
    container: NodeRef<leptos::html::Div>,
    sudo: Option<crate::sudo::Sudo>,
) {
    #[cfg(feature = "hydrate")]
    {
        use std::sync::atomic::{AtomicU64, Ordering};
        if matches!(status.get_untracked(), Status::Opening(ref opening) if *opening == team) {
            return;
        }
        static LATEST: AtomicU64 = AtomicU64::new(0);
        let attempt = LATEST.fetch_add(1, Ordering::SeqCst) + 1;
        let current = move || LATEST.load(Ordering::SeqCst) == attempt;
        status.set(Status::Opening(team.clone()));
        leptos::task::spawn_local(async move {
            let outcome = match open_explorer(team.clone()).await {
                Err(AppError::ReauthenticationRequired) if current() => {
                    status.set(Status::Confirming(team.clone()));
                    if let Some(sudo) = sudo {
                        sudo.confirm_then(Callback::new(move |()| {
                            start_explorer(team.clone(), status, container, Some(sudo));
                        }));
                    }
                    return;
                }
                Err(e) => Err(e.to_string()),
                Ok(token) if current() => match container.get_untracked() {
                    Some(node) => swagger::show(&node, &token.token).await.map(|()| token),
                    None => return,
                },
                Ok(_) => return,
            };
            if !current() {
                return;
            }
            status.set(match outcome {
                Ok(token) => Status::Ready {
                    id: token.id,
                    team: token.team,
                    write: token.write,
                    expires: token.expires,
                },
                Err(message) => Status::Failed(message),
            });
        });
    }
}

/// The bridge to `public/explorer.js`, which starts Swagger UI.
#[cfg(feature = "hydrate")]
mod swagger {
    use leptos::wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{HtmlDivElement, HtmlScriptElement, js_sys};

    const SCRIPT: &str = "/explorer.js";

    pub async fn show(node: &HtmlDivElement, token: &str) -> Result<(), String> {
        run(node, token)
            .await
            .map_err(|e| format!("The explorer could not start: {}", describe(&e)))
    }

    async fn run(node: &HtmlDivElement, token: &str) -> Result<(), JsValue> {
        let window = leptos::prelude::window();
        let name = JsValue::from_str("patdeskExplorer");
        if js_sys::Reflect::get(&window, &name)?.is_undefined() {
            load_script(SCRIPT).await?;
        }
        let explorer = js_sys::Reflect::get(&window, &name)?;
        let open: js_sys::Function =
            js_sys::Reflect::get(&explorer, &JsValue::from_str("open"))?.dyn_into()?;
        let started: js_sys::Promise = open
            .call2(&explorer, node, &JsValue::from_str(token))?
            .dyn_into()?;
        JsFuture::from(started).await?;
        Ok(())
    }

    async fn load_script(src: &str) -> Result<(), JsValue> {
        let document = leptos::prelude::document();
        let script: HtmlScriptElement = document.create_element("script")?.dyn_into()?;
        script.set_src(src);
        let loaded = js_sys::Promise::new(&mut |resolve, reject| {
            script.set_onload(Some(&resolve));
            script.set_onerror(Some(&reject));
        });
        document
            .head()
            .ok_or_else(|| JsValue::from_str("no <head>"))?
            .append_child(&script)?;
        JsFuture::from(loaded).await?;
        Ok(())
    }

    fn describe(error: &JsValue) -> String {
        error
            .dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .unwrap_or_else(|| "a script failed to load".to_string())
    }
}
