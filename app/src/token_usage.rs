//! A token's own page, `/tokens/<id>` (docs/usage.md): its calls over 30 days and 24 hours,
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
        allow_list::{AllowListEditing, LazyAllowListForm, preload_allow_list_form},
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
    Ok(UsageView {
        token: TokenView::of(&found.token, now),
        owner: found.owner.clone(),
        is_owner: found.owner_id == user.id,
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

lazy_page! {
    /// A token's page as a lazily loaded route (docs/frontend.md).
    TokenUsageRoute => TokenUsagePage
}

#[component]
pub fn TokenUsagePage() -> impl IntoView {
    let params = use_params_map();
    let set_limit = ServerAction::<SetTokenRateLimit>::new();
    crate::sudo::retry_after_confirming(set_limit);
    let editing = AllowListEditing::from_query();
    let usage = Resource::new(
        move || {
            (
                params.read().get("id").unwrap_or_default(),
                set_limit.version().get(),
                editing.saved.get(),
            )
        },
        |(id, _, _)| token_usage(id),
    );
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading the token's use…"</p> }>
            {move || Suspend::new(async move {
                match usage.await {
                    Ok(view) => view! { <UsageLoaded view set_limit editing/> }.into_any(),
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
    }
}

#[component]
fn UsageLoaded(
    view: UsageView,
    set_limit: ServerAction<SetTokenRateLimit>,
    editing: AllowListEditing,
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
        <p class="muted token-facts">
            {format!("{} · team {} · {} · owned by {}", token.partial, token.team,
                if token.write { "read/write" } else { "read" }, view.owner)}
            {view.deleted.then(|| view! { " · " <span class="badge danger">"deleted"</span> })}
        </p>
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
            <table class="table compact">
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
                                view! { <tr data-code=code><td><code>{shown}</code></td><td>{n}</td></tr> }
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
                                    <td><code>{a.ip.clone()}</code></td><td>{a.first_seen}</td>
                                    <td><span title=a.last_seen_exact>{a.last_seen}</span></td>
                                    <td>{a.calls}</td><td>{a.refused}</td>
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
