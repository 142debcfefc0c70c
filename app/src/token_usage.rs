//! A token's own page, `/tokens/<id>` (docs/tokens.md, docs/usage.md): the token itself — every
//! fact of it, its status (who ended it, when and why), for its owner the description form
//! (`set_token_description`) and the actions (the token list's own confirmation and once-only
//! value, `tokens::dialog` and `tokens::once_only`) — then its calls over 30 days and 24 hours,
//! accepted and refused, drawn as SVG on the server (so the chart is there before the wasm),
//! with the same numbers in a table for screen readers; the addresses it came from; the
//! refusals by code; its rate limit; and, for its owner, an allow-list made from the addresses
//! seen, to review and save. Only the token's owner and its team's admins may see it; anyone
//! else gets a 404 (`domain::tokens::usage::history::of_token`).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::{
    components::{FieldError, FormError, action_error},
    error::AppError,
    tokens::{
        TokenPage,
        access_form::AccessEditor,
        allow_list::{AllowListEditing, LazyAllowListForm, preload_allow_list_form},
        dialog::{Confirm, ConfirmDialog, preload_confirm_dialog},
        once_only::OnceOnlyPanel,
        server::OVERLAP_CHOICES,
        view::TokenView,
    },
};

/// One bar of a chart: a day or an hour.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bar {
    /// What the table says (`2026-12-03`, `14:00`).
    pub label: String,
    /// What the axis says under the first and last bar (`Dec 3`, `14:00`).
    pub short: String,
    pub accepted: i64,
    pub refused: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressRow {
    pub ip: String,
    pub first_seen: String,
    pub last_seen: String,
    pub last_seen_exact: String,
    pub calls: i64,
    pub refused: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageView {
    pub token: TokenView,
    pub owner: String,
    /// The viewer owns the token (and may widen its allow-list and raise its limit).
    pub is_owner: bool,
    pub deleted: bool,
    pub days: Vec<Bar>,
    pub hours: Vec<Bar>,
    pub addresses: Vec<AddressRow>,
    /// Refusals in the 30 days, by error code, most first.
    pub refusals: Vec<(String, i64)>,
    /// Calls in the 30 days by surface (`api`, `verify`, `introspect`).
    pub surfaces: Vec<(String, i64)>,
    pub accepted: i64,
    pub refused: i64,
    /// The allow-list the addresses suggest.
    pub suggested: Vec<String>,
    /// The team's cap on rate limits, if any.
    pub team_cap: Option<u32>,
    /// What the page says of the token above its use.
    pub details: TokenDetails,
}

/// The token itself, as its page's Details card shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenDetails {
    /// `active`, `expired`, `deleted` or `revoked` (by an admin, or reported as leaked).
    pub status: String,
    /// Who ended it, when and why, once it has ended.
    pub ended: Option<String>,
    /// Seconds until it expires (`None`: never): bounds a rotation's overlap.
    pub remaining_seconds: Option<i64>,
    /// Its owner may change it: regenerate, rotate, delete, edit the description (live only).
    pub owner_may_change: bool,
    /// Its owner may regenerate it: live, or expired and not deleted.
    pub owner_may_regenerate: bool,
}

/// The days the page shows.
pub const PAGE_DAYS: u32 = 30;

#[server(prefix = "/rpc", endpoint = "token_usage")]
pub async fn token_usage(id: String) -> Result<UsageView, AppError> {
    use domain::tokens::usage::history::{self, Reader};

    use crate::session::{db, require_user};
    let user = require_user()?;
    let db = db()?;
    let now = chrono::Utc::now();
    let found = history::of_token(&db, Reader::User(user.id), &id, PAGE_DAYS, now).await?;
    let bar = |label: String, short: String, calls: &history::Calls| Bar {
        label,
        short,
        accepted: calls.accepted,
        refused: calls.refused_total(),
    };
    let mut refusals: Vec<(String, i64)> = found.totals.refused.clone().into_iter().collect();
    // Nothing to suggest when the token is already limited to exactly these addresses.
    let suggested = history::suggested_allow_list(&found.addresses);
    let already =
        domain::tokens::allow_list::AllowList::parse(suggested.iter().map(String::as_str))
            .is_ok_and(|list| list.entries() == found.token.allowed_ips);
    let suggested = if already { Vec::new() } else { suggested };
    refusals.sort_by_key(|(code, n)| (std::cmp::Reverse(*n), code.clone()));
    let ended = domain::tokens::ended::ending_of(&db, &found.token.id, now).await?;
    let is_owner = found.owner_id == user.id;
    let details = {
        use domain::tokens::ended::Ending;
        let status = match ended.as_ref().map(|e| &e.how) {
            None => "active",
            Some(Ending::Expired) => "expired",
            Some(
                Ending::Revoked { .. } | Ending::Denied { .. } | Ending::ReportedLeaked { .. },
            ) => "revoked",
            Some(_) => "deleted",
        };
        TokenDetails {
            status: status.to_string(),
            ended: ended.as_ref().map(crate::tokens::server::ssr::ended_words),
            remaining_seconds: found
                .token
                .expires_at
                .map(|at| (at - now).num_seconds().max(0)),
            owner_may_change: is_owner && ended.is_none(),
            owner_may_regenerate: is_owner && !found.deleted,
        }
    };
    Ok(UsageView {
        details,
        token: TokenView::of(&found.token, now),
        owner: found.owner.clone(),
        is_owner,
        deleted: found.deleted,
        days: found
            .days
            .iter()
            .map(|d| {
                bar(
                    d.date.format("%Y-%m-%d").to_string(),
                    d.date.format("%b %-d").to_string(),
                    &d.calls,
                )
            })
            .collect(),
        hours: found
            .hours
            .iter()
            .map(|h| {
                let label = h.start.format("%Y-%m-%d %H:00").to_string();
                bar(label, h.start.format("%H:00").to_string(), &h.calls)
            })
            .collect(),
        addresses: found
            .addresses
            .iter()
            .map(|a| AddressRow {
                ip: a.ip.clone(),
                first_seen: domain::time::date(a.first_seen),
                last_seen: domain::time::relative(a.last_seen, now),
                last_seen_exact: domain::time::minute(a.last_seen),
                calls: a.calls,
                refused: a.refused,
            })
            .collect(),
        refusals,
        surfaces: found.by_surface.clone().into_iter().collect(),
        accepted: found.totals.accepted,
        refused: found.totals.refused_total(),
        suggested,
        team_cap: found.team_cap,
    })
}

/// Sets (or with an empty field removes) a token's rate limit: its owner within the team's cap,
/// a team admin only lower (`domain::tokens::set_rate_limit`).
#[server(prefix = "/rpc", endpoint = "set_token_rate_limit")]
pub async fn set_token_rate_limit(id: String, rate_limit: String) -> Result<(), AppError> {
    use crate::session::{db, origin, require_recent_sign_in};
    let user = require_recent_sign_in()?;
    let limit = domain::tokens::rate_limit::parse("rate_limit", &rate_limit)?;
    domain::tokens::set_rate_limit(&db()?, origin(&user).into(), &id, limit).await?;
    Ok(())
}

/// Renames the user's own token (`domain::tokens::set_description`: the rules of a new token's
/// description; anyone else's token, a team admin's included, is "not found").
#[server(prefix = "/rpc", endpoint = "set_token_description")]
pub async fn set_token_description(id: String, description: String) -> Result<(), AppError> {
    use crate::session::{db, origin, require_user};
    let user = require_user()?;
    domain::tokens::set_description(&db()?, origin(&user), &id, &description).await?;
    Ok(())
}

lazy_page! {
    /// A token's page as a lazily loaded route (docs/frontend.md).
    TokenUsageRoute => TokenUsagePage
}

#[component]
pub fn TokenUsagePage() -> impl IntoView {
    let params = use_params_map();
    let set_limit = ServerAction::<SetTokenRateLimit>::new();
    crate::sudo::retry_after_confirming(set_limit);
    let rename = ServerAction::<SetTokenDescription>::new();
    let editing = AllowListEditing::from_query();
    // The token list's state, so that the list's confirmation and once-only value serve here.
    let page = TokenPage {
        changed: RwSignal::new(0),
        shown: RwSignal::new(None),
        confirm: RwSignal::new(None),
    };
    // Read again after a rename that worked (a refused one keeps what was typed).
    let renamed = RwSignal::new(0u32);
    Effect::new(move |_| {
        if matches!(rename.value().get(), Some(Ok(()))) {
            renamed.update(|n| *n += 1);
        }
    });
    let usage = Resource::new(
        move || {
            (
                params.read().get("id").unwrap_or_default(),
                set_limit.version().get(),
                editing.saved.get(),
                renamed.get(),
                page.changed.get(),
            )
        },
        |(id, ..)| token_usage(id),
    );
    view! {
        <OnceOnlyPanel shown=page.shown/>
        <Transition fallback=|| view! { <p class="muted">"Loading the token's use…"</p> }>
            {move || Suspend::new(async move {
                match usage.await {
                    Ok(view) => view! {
                        <UsageLoaded view set_limit editing rename confirm=page.confirm changed=renamed/>
                    }.into_any(),
                    Err(error) => {
                        // Someone else's token is no page at all: 404, as for a token that
                        // never was.
                        #[cfg(feature = "ssr")]
                        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                            response.set_status(error.status());
                        }
                        view! {
                            <Title text="Token"/>
                            <h1>"Token"</h1>
                            <p class="form-error" role="alert">{error.to_string()}</p>
                            <p><a href="/">"Back to your tokens"</a></p>
                        }.into_any()
                    }
                }
            })}
        </Transition>
        <ConfirmDialog page/>
    }
}

#[component]
fn UsageLoaded(
    view: UsageView,
    set_limit: ServerAction<SetTokenRateLimit>,
    editing: AllowListEditing,
    rename: ServerAction<SetTokenDescription>,
    confirm: RwSignal<Option<Confirm>>,
    /// Bumped after a change the page reads again for (its access).
    changed: RwSignal<u32>,
) -> impl IntoView {
    let token = view.token.clone();
    let back = if view.is_owner {
        ("/".to_string(), "Access tokens".to_string())
    } else {
        (
            format!("/teams/{}/tokens", token.team),
            format!("{} tokens", token.team),
        )
    };
    let days_label = format!(
        "Calls per day, last {PAGE_DAYS} days: {} accepted, {} refused.",
        view.accepted, view.refused
    );
    let hours_total: (i64, i64) = view
        .hours
        .iter()
        .fold((0, 0), |(a, r), bar| (a + bar.accepted, r + bar.refused));
    let hours_label = format!(
        "Calls per hour, last 24 hours: {} accepted, {} refused.",
        hours_total.0, hours_total.1
    );
    let surfaces = view
        .surfaces
        .iter()
        .map(|(surface, n)| format!("{n} {}", surface_name(surface)))
        .collect::<Vec<_>>()
        .join(", ");
    view! {
        <Title text=format!("{} · Token", token.description)/>
        <p class="breadcrumb"><a href=back.0>{back.1}</a> " / " <code>{token.id.clone()}</code></p>
        <h1>{token.description.clone()}</h1>
        <Details view=view.clone() rename confirm changed/>
        <section class="card usage" aria-labelledby="usage-days-title">
            <h2 id="usage-days-title">{format!("Last {PAGE_DAYS} days")}</h2>
            <p class="usage-totals" data-testid="usage-totals">
                <span class="legend accepted">{format!("{} accepted", view.accepted)}</span>
                " · "
                <span class="legend refused">{format!("{} refused", view.refused)}</span>
                {(!surfaces.is_empty()).then(|| view! { " · " {surfaces.clone()} })}
            </p>
            <BarChart bars=view.days.clone() label=days_label test_id="chart-days"/>
            <BarTable bars=view.days.clone() caption="Calls per day" unit="Day"/>
        </section>
        <section class="card usage" aria-labelledby="usage-hours-title">
            <h2 id="usage-hours-title">"Last 24 hours"</h2>
            <BarChart bars=view.hours.clone() label=hours_label test_id="chart-hours"/>
            <BarTable bars=view.hours.clone() caption="Calls per hour (UTC)" unit="Hour"/>
        </section>
        <Refusals refusals=view.refusals.clone()/>
        <Addresses view=view.clone() editing/>
        <RateLimitCard token=token.clone() team_cap=view.team_cap is_owner=view.is_owner
            deleted=view.deleted set_limit/>
    }
}

/// The token itself: every fact of it, its status (and who ended it), the description form
/// and the actions for its owner. A team admin reading it gets the facts only.
#[component]
fn Details(
    view: UsageView,
    rename: ServerAction<SetTokenDescription>,
    confirm: RwSignal<Option<Confirm>>,
    changed: RwSignal<u32>,
) -> impl IntoView {
    let UsageView {
        token,
        details,
        owner,
        team_cap,
        ..
    } = view;
    let error = action_error(rename.value());
    let (id, description) = (token.id.clone(), token.description.clone());
    let status_class = match details.status.as_str() {
        "active" => "badge",
        "expired" => "badge warn",
        _ => "badge danger",
    };
    let description_cell = if details.owner_may_change {
        let (id, description) = (id.clone(), description.clone());
        view! {
            <ActionForm action=rename attr:class="inline-form description-form">
                <input type="hidden" name="id" value=id.clone()/>
                <label for="token-description" class="visually-hidden">"Description"</label>
                <input id="token-description" name="description" value=description.clone()
                    maxlength="100" autocomplete="off"
                    aria-describedby="token-description-error"/>
                <button type="submit" class="button secondary">"Save"</button>
                <FieldError error field="description" id="token-description-error"/>
                <FormError error/>
            </ActionForm>
        }
        .into_any()
    } else {
        view! { <span>{description.clone()}</span> }.into_any()
    };
    let expires = match (token.expires_exact.clone(), token.expired) {
        (None, _) => "Never".to_string(),
        (Some(at), true) => format!("{at} (expired)"),
        (Some(at), false) => at,
    };
    let last_used = match (token.last_used.clone(), token.last_used_exact.clone()) {
        (Some(when), Some(exact)) => {
            let from = token
                .last_ip
                .clone()
                .map(|ip| format!(" from {ip}"))
                .unwrap_or_default();
            format!("{when} ({exact}){from}")
        }
        _ => "Never".to_string(),
    };
    let allowed = if token.allowed_ips.is_empty() {
        "Any address".to_string()
    } else {
        token.allowed_ips.join(", ")
    };
    let rate_limit = match (token.rate_limit, team_cap) {
        (Some(own), _) => format!("{own} calls per minute"),
        (None, Some(cap)) => format!("None of its own (the team's cap: {cap} per minute)"),
        (None, None) => "None".to_string(),
    };
    let kind = if token.kind == common::TokenKind::Explorer {
        "API explorer token (made by the explorer, lives a day)"
    } else {
        "Personal access token"
    };
    let actions = details.owner_may_regenerate.then(|| {
        let ask = move |what: Confirm| move |_| confirm.set(Some(what.clone()));
        let shortest = OVERLAP_CHOICES[0].0;
        let can_rotate = details.owner_may_change
            && details.remaining_seconds.is_none_or(|left| left >= shortest);
        let live = details.owner_may_change;
        let (rotate, regenerate, delete) = (
            Confirm::Rotate {
                id: id.clone(),
                description: description.clone(),
                remaining_seconds: details.remaining_seconds,
            },
            Confirm::Regenerate {
                id: id.clone(),
                description: description.clone(),
            },
            Confirm::Delete {
                id: id.clone(),
                description: description.clone(),
            },
        );
        view! {
            <div class="token-actions" on:pointerover=move |_| preload_confirm_dialog()
                on:focusin=move |_| preload_confirm_dialog()>
                {live.then(|| view! {
                    <button type="button" class="button secondary" disabled=!can_rotate
                        on:click=ask(rotate)>"Rotate"</button>
                })}
                <button type="button" class="button secondary" on:click=ask(regenerate)>"Regenerate"</button>
                {live.then(|| view! {
                    <button type="button" class="button danger" on:click=ask(delete)>"Delete"</button>
                })}
            </div>
        }
    });
    let fact = |term: &'static str, value: String| {
        view! { <div><dt>{term}</dt><dd>{value}</dd></div> }
    };
    view! {
        <section class="card token-details" aria-labelledby="details-title" data-testid="token-details">
            <h2 id="details-title">"Details"</h2>
            <dl class="facts">
                <div><dt>"Description"</dt><dd>{description_cell}</dd></div>
                <div>
                    <dt>"Status"</dt>
                    <dd data-testid="token-status">
                        <span class=status_class>{details.status.clone()}</span>
                        {details.ended.clone().map(|ended| view! {
                            " " <span data-testid="ended-note">{ended}</span>
                        })}
                    </dd>
                </div>
                {fact("Team", token.team.clone())}
                <div>
                    <dt>"Scope"</dt>
                    <dd data-testid="token-scope">
                        {match &token.permissions {
                            Some(summary) => format!("Only {summary}"),
                            None => format!("Whole team, {}", token.scope_in_words()),
                        }}
                        {details.owner_may_change.then(|| view! {
                            " " <AccessEditor id=id.clone() changed/>
                        })}
                    </dd>
                </div>
                {fact("Kind", kind.to_string())}
                {fact("Token", token.partial.clone())}
                {fact("Owner", owner)}
                {fact("Created", token.created_exact.clone())}
                {fact("Expires", expires)}
                {fact("Last used", last_used)}
                {fact("Allowed from", allowed)}
                {fact("Rate limit", rate_limit)}
            </dl>
            {actions}
        </section>
    }
}

/// How calls through a surface are said on the page ("9 through the API").
fn surface_name(surface: &str) -> &str {
    match surface {
        "api" => "through the API",
        "verify" => "through a proxy (/auth/verify)",
        "introspect" => "by introspection",
        other => other,
    }
}

/// Stacked bars, accepted below and refused above, scaled to the busiest bar. Drawn as SVG on
/// the server; hidden from screen readers, which read [`BarTable`] instead.
#[component]
fn BarChart(bars: Vec<Bar>, label: String, test_id: &'static str) -> impl IntoView {
    const WIDTH: f64 = 720.0;
    const HEIGHT: f64 = 160.0;
    const GAP: f64 = 2.0;
    let most = bars
        .iter()
        .map(|b| b.accepted + b.refused)
        .max()
        .unwrap_or(0);
    let scale = if most > 0 { HEIGHT / most as f64 } else { 0.0 };
    let step = WIDTH / bars.len().max(1) as f64;
    let first = bars.first().map(|b| b.short.clone()).unwrap_or_default();
    let last = bars.last().map(|b| b.short.clone()).unwrap_or_default();
    let drawn = bars
        .iter()
        .enumerate()
        .map(|(i, bar)| {
            let x = i as f64 * step + GAP / 2.0;
            let width = (step - GAP).max(1.0);
            let accepted = bar.accepted as f64 * scale;
            let refused = bar.refused as f64 * scale;
            let title = format!(
                "{}: {} accepted, {} refused",
                bar.label, bar.accepted, bar.refused
            );
            view! {
                <g>
                    <title>{title}</title>
                    <rect class="bar-accepted" x=format!("{x:.1}") y=format!("{:.1}", HEIGHT - accepted)
                        width=format!("{width:.1}") height=format!("{accepted:.1}")/>
                    <rect class="bar-refused" x=format!("{x:.1}") y=format!("{:.1}", HEIGHT - accepted - refused)
                        width=format!("{width:.1}") height=format!("{refused:.1}")/>
                </g>
            }
        })
        .collect_view();
    view! {
        <figure class="chart" data-testid=test_id>
            <svg viewBox=format!("0 0 {WIDTH} {}", HEIGHT + 18.0) role="img" aria-label=label.clone()
                preserveAspectRatio="none">
                <line class="axis" x1="0" y1=HEIGHT x2=WIDTH y2=HEIGHT/>
                {drawn}
            </svg>
            <figcaption class="chart-axis muted">
                <span>{first}</span>
                <span>{format!("highest bar: {most} calls")}</span>
                <span>{last}</span>
            </figcaption>
        </figure>
    }
}

/// The chart's numbers as a table (for screen readers; shown on request).
#[component]
fn BarTable(bars: Vec<Bar>, caption: &'static str, unit: &'static str) -> impl IntoView {
    view! {
        <details class="chart-table">
            <summary>"Show the numbers"</summary>
            <table class="table compact figures">
                <caption class="visually-hidden">{caption}</caption>
                <thead><tr><th scope="col">{unit}</th><th scope="col">"Accepted"</th><th scope="col">"Refused"</th></tr></thead>
                <tbody>
                    {bars.into_iter().map(|b| view! {
                        <tr><th scope="row">{b.label}</th><td>{b.accepted}</td><td>{b.refused}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
        </details>
    }
}

#[component]
fn Refusals(refusals: Vec<(String, i64)>) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="refusals-title">
            <h2 id="refusals-title">"Refusals"</h2>
            {if refusals.is_empty() {
                view! { <p class="muted">{format!("No call with this token was refused in the last {PAGE_DAYS} days.")}</p> }.into_any()
            } else {
                view! {
                    <table class="table compact" data-testid="refusals">
                        <thead><tr><th scope="col">"Error code"</th><th scope="col">"Calls"</th></tr></thead>
                        <tbody>
                            {refusals.into_iter().map(|(code, n)| {
                                let shown = code.clone();
                                view! { <tr data-code=code><td data-label="Error code"><code>{shown}</code></td><td data-label="Calls">{n}</td></tr> }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}

/// The addresses seen, and for the owner, the allow-list they suggest.
#[component]
fn Addresses(view: UsageView, editing: AllowListEditing) -> impl IntoView {
    let id = view.token.id.clone();
    let suggest = view.is_owner && !view.deleted && !view.suggested.is_empty();
    let open = {
        let id = id.clone();
        move || editing.is_open(&id)
    };
    let form = view! {
        <LazyAllowListForm open=Signal::derive(open.clone()) id=id.clone()
            allowed=view.suggested.clone() editing
            help="Filled with the addresses this token was accepted from (several in one /24 or /64 become that range). Review it, then save."/>
    };
    let current = if view.token.allowed_ips.is_empty() {
        "It may be used from any address.".to_string()
    } else {
        format!(
            "It may be used only from {}.",
            view.token.allowed_ips.join(", ")
        )
    };
    view! {
        <section class="card" aria-labelledby="addresses-title">
            <h2 id="addresses-title">"Addresses"</h2>
            <p class="muted">{current}</p>
            {if view.addresses.is_empty() {
                view! { <p class="muted">{format!("Not used in the last {PAGE_DAYS} days.")}</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                    <table class="table compact" data-testid="addresses">
                        <thead><tr>
                            <th scope="col">"Address"</th><th scope="col">"First seen"</th>
                            <th scope="col">"Last seen"</th><th scope="col">"Calls"</th><th scope="col">"Refused"</th>
                        </tr></thead>
                        <tbody>
                            {view.addresses.into_iter().map(|a| view! {
                                <tr data-ip=a.ip.clone()>
                                    <td data-label="Address"><code>{a.ip.clone()}</code></td><td data-label="First seen">{a.first_seen}</td>
                                    <td data-label="Last seen"><span title=a.last_seen_exact>{a.last_seen}</span></td>
                                    <td data-label="Calls">{a.calls}</td><td data-label="Refused">{a.refused}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    </div>
                }.into_any()
            }}
            {suggest.then(|| view! {
                <a class="button secondary" href=editing.edit_href(&id) hidden=open.clone()
                    on:pointerenter=move |_| preload_allow_list_form()
                    on:focus=move |_| preload_allow_list_form()
                    on:click=move |ev| {
                        ev.prevent_default();
                        editing.open(id.clone());
                    }>
                    "Limit this token to these addresses"
                </a>
            })}
            {form}
        </section>
    }
}

#[component]
fn RateLimitCard(
    token: TokenView,
    team_cap: Option<u32>,
    is_owner: bool,
    deleted: bool,
    set_limit: ServerAction<SetTokenRateLimit>,
) -> impl IntoView {
    let error = action_error(set_limit.value());
    let in_force = match (token.rate_limit, team_cap) {
        (Some(own), Some(cap)) if cap < own => {
            format!("{cap} calls per minute (the team's cap; its own limit is {own}).")
        }
        (Some(own), _) => format!("{own} calls per minute."),
        (None, Some(cap)) => format!("{cap} calls per minute (the team's cap)."),
        (None, None) => "No limit.".to_string(),
    };
    let help = if is_owner {
        match team_cap {
            Some(cap) => format!(
                "1 to {cap} calls per minute (the team's cap); leave empty for no limit of its own."
            ),
            None => "1 to 100,000 calls per minute; leave empty for no limit.".to_string(),
        }
    } else {
        "As a team admin you can lower a member's limit, not raise or remove it.".to_string()
    };
    view! {
        <section class="card" aria-labelledby="rate-limit-title">
            <h2 id="rate-limit-title">"Rate limit"</h2>
            <p data-testid="rate-limit">{in_force}</p>
            <p class="muted">"Calls over the limit are answered 429 rate_limited with Retry-After; every answer to a limited token carries RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset."</p>
            {(!deleted).then(|| view! {
                <ActionForm action=set_limit attr:class="inline-form">
                    <input type="hidden" name="id" value=token.id.clone()/>
                    <label for="rate-limit-input">"Calls per minute"</label>
                    <input id="rate-limit-input" name="rate_limit" inputmode="numeric" autocomplete="off"
                        value=token.rate_limit.map(|n| n.to_string()).unwrap_or_default()
                        aria-describedby="rate-limit-help rate-limit-error"/>
                    <p class="help" id="rate-limit-help">{help}</p>
                    <FieldError error field="rate_limit" id="rate-limit-error"/>
                    <FormError error/>
                    <button type="submit" class="button">"Save limit"</button>
                </ActionForm>
            })}
        </section>
    }
}
