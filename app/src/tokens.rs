//! The access-token page (the home page): list, create, show once with copy, regenerate, delete.
//!
//! The secret value only ever travels in the response to `create_token` or `regenerate_token`
//! (marked `Cache-Control: no-store`) and lives in the page's memory until it is left or
//! reloaded; nothing can fetch it again.

use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::{
    components::{FieldError, FormError, action_error},
    error::AppError,
};

/// A token row as the table shows it. Times are prepared on the server (relative and exact).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRow {
    pub id: String,
    pub description: String,
    pub team: String,
    pub write: bool,
    pub explorer: bool,
    /// `pdk_…a1b2`
    pub partial: String,
    pub created: String,
    pub created_exact: String,
    /// `None`: never expires.
    pub expires: Option<String>,
    pub expires_exact: Option<String>,
    pub expired: bool,
    pub expiring_soon: bool,
    /// `None`: never used.
    pub last_used: Option<String>,
    pub last_used_exact: Option<String>,
    pub last_ip: Option<String>,
}

/// A team the user may scope a token to, and whether their role allows write access.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamChoice {
    pub slug: String,
    pub name: String,
    pub role: String,
    pub can_write: bool,
}

/// The once-only answer carrying a token's value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedToken {
    pub id: String,
    pub description: String,
    pub token: String,
    pub expires: Option<String>,
}

/// "just now", "5 minutes ago", "3 days ago"…
#[cfg(feature = "ssr")]
pub fn relative_time(
    at: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    use chrono::Duration;
    let ago = now - at;
    let plural = |n: i64, unit: &str| format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" });
    if ago < Duration::minutes(1) {
        "just now".into()
    } else if ago < Duration::hours(1) {
        plural(ago.num_minutes(), "minute")
    } else if ago < Duration::days(1) {
        plural(ago.num_hours(), "hour")
    } else if ago < Duration::days(60) {
        plural(ago.num_days(), "day")
    } else {
        at.format("%Y-%m-%d").to_string()
    }
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use chrono::{DateTime, Duration, Utc};
    use domain::tokens::{Issued, TokenInfo};
    use http::{HeaderValue, header};
    use leptos::prelude::use_context;
    use leptos_axum::ResponseOptions;

    use super::{IssuedToken, TokenRow, relative_time as relative};

    pub fn exact(at: DateTime<Utc>) -> String {
        at.format("%Y-%m-%d %H:%M UTC").to_string()
    }

    pub fn row(t: TokenInfo, now: DateTime<Utc>) -> TokenRow {
        let expired = t.is_expired(now);
        TokenRow {
            partial: domain::token_format::partial(&t.hint),
            created: t.created_at.format("%Y-%m-%d").to_string(),
            created_exact: exact(t.created_at),
            expires: t.expires_at.map(|at| at.format("%Y-%m-%d").to_string()),
            expires_exact: t.expires_at.map(exact),
            expiring_soon: !expired && t.expires_at.is_some_and(|at| at - now <= Duration::days(7)),
            expired,
            last_used: t.last_used_at.map(|at| relative(at, now)),
            last_used_exact: t.last_used_at.map(exact),
            last_ip: t.last_used_ips.first().cloned(),
            explorer: t.kind == "explorer",
            id: t.id,
            description: t.description,
            team: t.team_slug,
            write: t.write,
        }
    }

    /// The response carrying a secret must never be stored by a browser or proxy cache.
    pub fn issued(issued: Issued) -> IssuedToken {
        if let Some(response) = use_context::<ResponseOptions>() {
            response.insert_header(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        IssuedToken {
            id: issued.info.id,
            description: issued.info.description,
            expires: issued.info.expires_at.map(exact),
            token: issued.secret.expose().to_string(),
        }
    }
}

#[server(prefix = "/rpc", endpoint = "list_tokens")]
pub async fn list_tokens() -> Result<Vec<TokenRow>, AppError> {
    use crate::session::{db, require_user};
    let user = require_user()?;
    let now = chrono::Utc::now();
    let tokens = domain::tokens::list(&db()?, user.id).await?;
    Ok(tokens.into_iter().map(|t| ssr::row(t, now)).collect())
}

#[server(prefix = "/rpc", endpoint = "token_teams")]
pub async fn token_teams() -> Result<Vec<TeamChoice>, AppError> {
    use crate::session::{db, require_user};
    let user = require_user()?;
    let teams = domain::teams::list_for_user(&db()?, user.id).await?;
    Ok(teams
        .into_iter()
        .map(|t| TeamChoice {
            can_write: t.role.can_write(),
            role: t.role.to_string(),
            slug: t.slug,
            name: t.name,
        })
        .collect())
}

#[server(prefix = "/rpc", endpoint = "create_token")]
pub async fn create_token(
    description: String,
    team: String,
    expiration: String,
    expires_on: Option<String>,
    write: Option<String>,
) -> Result<IssuedToken, AppError> {
    use domain::tokens::{Expiry, NewToken, TokenKind};

    use crate::session::{client_ip, db, require_user};
    let user = require_user()?;
    let expiry = Expiry::parse(
        &expiration,
        expires_on.as_deref(),
        chrono::Utc::now().date_naive(),
    )?;
    let request = NewToken {
        description: &description,
        team: &team,
        // An HTML checkbox sends its value only when checked.
        write: write.is_some_and(|v| !v.is_empty() && v != "false"),
        expiry,
        kind: TokenKind::Personal,
    };
    let issued = domain::tokens::create(&db()?, user.id, request, client_ip()).await?;
    Ok(ssr::issued(issued))
}

#[server(prefix = "/rpc", endpoint = "regenerate_token")]
pub async fn regenerate_token(id: String) -> Result<IssuedToken, AppError> {
    use crate::session::{client_ip, db, require_user};
    let user = require_user()?;
    let issued = domain::tokens::regenerate(&db()?, user.id, &id, client_ip()).await?;
    crate::session::forget_cached_token(&id);
    Ok(ssr::issued(issued))
}

#[server(prefix = "/rpc", endpoint = "delete_token")]
pub async fn delete_token(id: String) -> Result<(), AppError> {
    use crate::session::{client_ip, db, require_user};
    let user = require_user()?;
    domain::tokens::delete(&db()?, user.id, &id, client_ip()).await?;
    crate::session::forget_cached_token(&id);
    Ok(())
}

/// What the confirmation dialog is asking about.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Confirm {
    Regenerate { id: String, description: String },
    Delete { id: String, description: String },
}

#[component]
pub fn TokensPage() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let regenerate = ServerAction::<RegenerateToken>::new();
    let delete = ServerAction::<DeleteToken>::new();
    let tokens = Resource::new(
        move || {
            (
                create.version().get(),
                regenerate.version().get(),
                delete.version().get(),
            )
        },
        |_| list_tokens(),
    );
    let teams = Resource::new(|| (), |_| token_teams());
    let confirm = RwSignal::new(None::<Confirm>);
    // The value shown once: the latest successful create or regenerate.
    let shown = RwSignal::new(None::<IssuedToken>);
    Effect::new(move |_| {
        if let Some(Ok(issued)) = create.value().get() {
            shown.set(Some(issued));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(issued)) = regenerate.value().get() {
            shown.set(Some(issued));
            confirm.set(None);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            confirm.set(None);
        }
    });
    // Before hydration (a plain form post), the value arrives with the page itself.
    let issued_now = move || {
        shown
            .get()
            .or_else(|| match (create.value().get(), regenerate.value().get()) {
                (Some(Ok(issued)), _) | (_, Some(Ok(issued))) => Some(issued),
                _ => None,
            })
    };
    let row_error = Signal::derive(move || {
        action_error(regenerate.value())
            .get()
            .or_else(|| action_error(delete.value()).get())
    });

    view! {
        <Title text="Access tokens"/>
        <crate::pages::Welcome/>
        <div class="page-head">
            <h1>"Access tokens"</h1>
            <a class="button" href="#new-token">"Generate new token"</a>
        </div>
        <p class="muted">
            "Tokens let scripts and integrations call your team's API as you. Each is scoped to one team, "
            "read-only unless you enable write access, and shown only once."
        </p>
        {move || issued_now().map(|issued| view! { <OnceOnlyPanel issued/> })}
        <FormError error=row_error/>
        <Transition fallback=|| view! { <p class="muted">"Loading tokens…"</p> }>
            {move || Suspend::new(async move {
                match tokens.await {
                    Ok(rows) => view! { <TokenTable rows confirm/> }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        <ConfirmDialog confirm regenerate delete/>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let teams = teams.await.unwrap_or_default();
                view! { <NewTokenForm create teams/> }
            })}
        </Transition>
    }
}

#[component]
fn TokenTable(rows: Vec<TokenRow>, confirm: RwSignal<Option<Confirm>>) -> impl IntoView {
    let soon = rows.iter().filter(|r| r.expiring_soon).count();
    let banner = (soon > 0).then(|| {
        let text = if soon == 1 {
            "1 token expires within 7 days. Regenerate it to keep your scripts working.".to_string()
        } else {
            format!(
                "{soon} tokens expire within 7 days. Regenerate them to keep your scripts working."
            )
        };
        view! { <p class="banner warn" role="status" data-testid="expiry-banner">{text}</p> }
    });
    if rows.is_empty() {
        return view! {
            <p class="empty" data-testid="no-tokens">"You have no tokens yet. Generate one below."</p>
        }
        .into_any();
    }
    view! {
        {banner}
        <div class="table-wrap">
        <table class="table tokens">
            <thead>
                <tr>
                    <th scope="col">"Description"</th>
                    <th scope="col">"Team"</th>
                    <th scope="col">"Scope"</th>
                    <th scope="col">"Token"</th>
                    <th scope="col">"Created"</th>
                    <th scope="col">"Expires"</th>
                    <th scope="col">"Last used"</th>
                    <th scope="col">"Last IP"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>
                {rows.into_iter().map(|row| {
                    let (id_r, desc_r) = (row.id.clone(), row.description.clone());
                    let (id_d, desc_d) = (row.id.clone(), row.description.clone());
                    let expires = match (&row.expires, row.expired) {
                        (None, _) => view! { <span class="never" title="This token never expires">"never"</span> }.into_any(),
                        (Some(date), true) => view! { <span class="expired" title=row.expires_exact.clone()>{format!("expired {date}")}</span> }.into_any(),
                        (Some(date), false) => view! {
                            <span class:soon=row.expiring_soon title=row.expires_exact.clone()>{date.clone()}</span>
                        }.into_any(),
                    };
                    view! {
                        <tr data-token-id=row.id.clone() class:expired-row=row.expired>
                            <td>
                                <span class="desc">{row.description.clone()}</span>
                                {row.explorer.then(|| view! { <span class="badge">"API explorer"</span> })}
                            </td>
                            <td><code>{row.team.clone()}</code></td>
                            <td>{if row.write { "read/write" } else { "read" }}</td>
                            <td><code class="partial">{row.partial.clone()}</code></td>
                            <td><span title=row.created_exact.clone()>{row.created.clone()}</span></td>
                            <td>{expires}</td>
                            <td>{match row.last_used.clone() {
                                Some(when) => view! { <span title=row.last_used_exact.clone()>{when}</span> }.into_any(),
                                None => view! { <span class="muted">"Never"</span> }.into_any(),
                            }}</td>
                            <td>{row.last_ip.clone().unwrap_or_else(|| "—".into())}</td>
                            <td class="actions">
                                <button type="button" class="button secondary"
                                    aria-label=format!("Regenerate {}", row.description)
                                    on:click=move |_| confirm.set(Some(Confirm::Regenerate { id: id_r.clone(), description: desc_r.clone() }))>
                                    "Regenerate"
                                </button>
                                <button type="button" class="button danger"
                                    aria-label=format!("Delete {}", row.description)
                                    on:click=move |_| confirm.set(Some(Confirm::Delete { id: id_d.clone(), description: desc_d.clone() }))>
                                    "Delete"
                                </button>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        </div>
    }
    .into_any()
}

/// The confirmation for regenerate and delete, naming the token.
#[component]
fn ConfirmDialog(
    confirm: RwSignal<Option<Confirm>>,
    regenerate: ServerAction<RegenerateToken>,
    delete: ServerAction<DeleteToken>,
) -> impl IntoView {
    let cancel = move |_| confirm.set(None);
    // Keyboard users land on the confirm button (autofocus only works at page load).
    Effect::new(move |_| {
        if confirm.get().is_some() {
            focus_after_render("confirm-action");
        }
    });
    view! {
        {move || confirm.get().map(|c| {
            let (title, text, id, is_delete) = match c {
                Confirm::Regenerate { id, description } => (
                    format!("Regenerate “{description}”?"),
                    "A new value replaces the current one, which stops working at once. Scripts using it will need the new value.",
                    id, false,
                ),
                Confirm::Delete { id, description } => (
                    format!("Delete “{description}”?"),
                    "Any script or integration using this token will lose access at once. This cannot be undone.",
                    id, true,
                ),
            };
            view! {
                <div class="dialog-backdrop" on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    if ev.key() == "Escape" { confirm.set(None) }
                }>
                    <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="confirm-title" aria-describedby="confirm-text">
                        <h2 id="confirm-title">{title}</h2>
                        <p id="confirm-text">{text}</p>
                        <div class="dialog-actions">
                            {if is_delete {
                                view! {
                                    <ActionForm action=delete>
                                        <input type="hidden" name="id" value=id.clone()/>
                                        <button type="submit" id="confirm-action" class="button danger-solid">"Delete token"</button>
                                    </ActionForm>
                                }.into_any()
                            } else {
                                view! {
                                    <ActionForm action=regenerate>
                                        <input type="hidden" name="id" value=id.clone()/>
                                        <button type="submit" id="confirm-action" class="button">"Regenerate token"</button>
                                    </ActionForm>
                                }.into_any()
                            }}
                            <button type="button" class="button secondary" on:click=cancel>"Cancel"</button>
                        </div>
                    </div>
                </div>
            }
        })}
    }
}

/// Moves the keyboard focus to the element with `id` once the browser has rendered it.
#[allow(unused_variables)]
fn focus_after_render(id: &'static str) {
    #[cfg(feature = "hydrate")]
    leptos::prelude::request_animation_frame(move || {
        use leptos::wasm_bindgen::JsCast;
        if let Some(element) = leptos::prelude::document()
            .get_element_by_id(id)
            .and_then(|e| e.dyn_into::<leptos::web_sys::HtmlElement>().ok())
        {
            let _ = element.focus();
        }
    });
}

/// The new value, once: distinct colour, Copy button, and the warning.
#[component]
fn OnceOnlyPanel(issued: IssuedToken) -> impl IntoView {
    let copied = RwSignal::new(false);
    let value = issued.token.clone();
    let on_copy = move |_| copy_to_clipboard(value.clone(), copied);
    view! {
        <section class="once-only" role="region" aria-label="New token value" data-testid="new-token-panel">
            <h2>{format!("Your new token “{}”", issued.description)}</h2>
            <p class="warning"><strong>"Copy it now: you will not be able to see it again."</strong>
                " It is not stored anywhere; if you lose it, regenerate the token."</p>
            <div class="token-value-row">
                <code id="new-token-value" class="token-value">{issued.token.clone()}</code>
                <button type="button" class="button" on:click=on_copy>
                    {move || if copied.get() { "Copied" } else { "Copy" }}
                </button>
                <span class="visually-hidden" role="status">{move || if copied.get() { "Token copied to the clipboard" } else { "" }}</span>
            </div>
            <p class="muted">{match issued.expires.clone() {
                Some(at) => format!("Expires {at}."),
                None => "This token never expires.".to_string(),
            }}</p>
        </section>
    }
}

/// Copies with the clipboard API; where that is refused, selects the value so that Ctrl-C works.
#[allow(unused_variables)]
fn copy_to_clipboard(value: String, copied: RwSignal<bool>) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen_futures::JsFuture;
        let select_fallback = || {
            let document = leptos::prelude::document();
            if let (Some(node), Ok(Some(selection))) = (
                document.get_element_by_id("new-token-value"),
                leptos::prelude::window().get_selection(),
            ) {
                let _ = selection.select_all_children(&node);
            }
        };
        let clipboard = leptos::prelude::window().navigator().clipboard();
        let promise = clipboard.write_text(&value);
        leptos::task::spawn_local(async move {
            match JsFuture::from(promise).await {
                Ok(_) => copied.set(true),
                Err(_) => select_fallback(),
            }
        });
    }
}

#[component]
fn NewTokenForm(create: ServerAction<CreateToken>, teams: Vec<TeamChoice>) -> impl IntoView {
    let error = action_error(create.value());
    let form = NodeRef::<leptos::html::Form>::new();
    let first = teams.first().map(|t| t.slug.clone()).unwrap_or_default();
    let selected = RwSignal::new(first.clone());
    // A successful create clears the form (and the team choice) for the next token.
    Effect::new(move |_| {
        if let (Some(Ok(_)), Some(form)) = (create.value().get(), form.get()) {
            form.reset();
            selected.set(first.clone());
        }
    });
    let teams_for_write = teams.clone();
    let can_write = move || {
        let slug = selected.get();
        teams_for_write
            .iter()
            .any(|t| t.slug == slug && t.can_write)
    };
    let teams_for_reason = teams.clone();
    let write_reason = move || {
        let slug = selected.get();
        teams_for_reason
            .iter()
            .find(|t| t.slug == slug && !t.can_write)
            .map(|t| {
                format!(
                    "Your role in {} is {}: only writers and admins can create write tokens.",
                    t.slug, t.role
                )
            })
    };
    let no_teams = teams.is_empty();
    view! {
        <section class="card" id="new-token">
            <h2>"New token"</h2>
            {no_teams.then(|| view! {
                <p class="form-error">"You need to be in a team to create a token. " <a href="/teams">"Create or join a team"</a></p>
            })}
            <ActionForm action=create node_ref=form>
                <label for="description">"Description"</label>
                <input id="description" name="description" required maxlength="100"
                    placeholder="e.g. nightly backup job" aria-describedby="description-help description-error"/>
                <p class="help" id="description-help">"What is this token for? Up to 100 characters."</p>
                <FieldError error field="description" id="description-error"/>

                <label for="team">"Team"</label>
                <select id="team" name="team" aria-describedby="team-error"
                    on:change=move |ev| selected.set(event_target_value(&ev))>
                    {teams.iter().map(|t| view! {
                        <option value=t.slug.clone()>{format!("{} ({}, {})", t.name, t.slug, t.role)}</option>
                    }).collect_view()}
                </select>
                <FieldError error field="team" id="team-error"/>

                <label for="expiration">"Expiration"</label>
                <select id="expiration" name="expiration" aria-describedby="expiration-help expiration-error">
                    <option value="7">"7 days"</option>
                    <option value="30" selected>"30 days"</option>
                    <option value="60">"60 days"</option>
                    <option value="90">"90 days"</option>
                    <option value="custom">"Custom date…"</option>
                    <option value="never">"No expiration"</option>
                </select>
                <p class="help" id="expiration-help">"We recommend an expiry: a token that never expires is a standing risk."</p>
                // Shown by CSS (:has) when chosen, so that it also works before the wasm loads.
                <p class="help warn-text never-warning">
                    "Tokens without an expiry keep working until you delete them."
                </p>
                <FieldError error field="expiration" id="expiration-error"/>
                <div class="custom-date">
                    <label for="expires_on">"Custom expiry date"</label>
                    <input id="expires_on" name="expires_on" type="date" aria-describedby="expires_on-error"/>
                    <FieldError error field="expires_on" id="expires_on-error"/>
                </div>

                <div class="checkbox">
                    <input id="write" name="write" type="checkbox" value="true"
                        prop:disabled=move || !can_write()
                        aria-describedby="write-help write-error"/>
                    <label for="write">"Enable write access"</label>
                </div>
                <p class="help" id="write-help">{move || write_reason().unwrap_or_else(||
                    "Lets the token create, edit and delete questions and answers. Leave off for read-only.".to_string())}</p>
                <FieldError error field="write" id="write-error"/>
                <FormError error/>
                <button type="submit" class="button" disabled=no_teams>"Generate token"</button>
            </ActionForm>
        </section>
    }
}
