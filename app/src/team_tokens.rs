//! A team's Tokens tab (team admins only): every live token scoped to the team, whoever owns it,
//! with filters, revocation with an optional reason, and narrowing a member's IP allow-list. The same page at `/admin/tokens` is the
//! instance admins' inventory of every team's tokens. The rules are `domain::tokens::governance`; the
//! server functions refuse everyone else (403) whoever calls them.

// `team_tokens` takes one argument per field of the filter form, so that scripts can call it
// with flat form fields; the `#[server]` macro copies them into the browser's function too,
// where an attribute on the function does not reach.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::Form,
    hooks::{use_params_map, use_query_map},
};
use serde::{Deserialize, Serialize};

use crate::{
    components::{
        FieldError, FormError, LazyPart, Modal, action_error, announce, preload_part, query_value,
    },
    error::AppError,
    teams::TeamTabs,
    tokens::{
        allow_list::{AllowListEditing, AllowListEditor},
        view::{ColumnHead, SHARED_COLUMNS, TokenTableFrame, TokenTableRow, TokenView},
    },
};

/// Rows per page of the tab.
pub const PER_PAGE: u64 = 50;

/// One of the team's tokens as its admins see it. Times are prepared on the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamTokenRow {
    /// Flattened: the rows keep the flat JSON shape the server functions have always answered.
    #[serde(flatten)]
    pub token: TokenView,
    pub owner: String,
    /// Not used for `domain::tokens::governance::UNUSED_DAYS` days.
    pub unused: bool,
    /// Calls in the last `domain::tokens::governance::USAGE_DAYS` days: accepted, refused.
    pub calls_7d: i64,
    pub refused_7d: i64,
}

/// The filters, as the tab's URL carries them (`?owner=…&access=read|write&unused=on&expiring=on`,
/// and `team=…` in the instance inventory).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenFilters {
    pub team: String,
    pub owner: String,
    pub access: String,
    pub unused: bool,
    pub expiring: bool,
    pub pending: bool,
    /// `calls` (most calls in 7 days first) or empty (newest first).
    pub sort: String,
}

impl TokenFilters {
    fn from_query(query: &leptos_router::params::ParamsMap) -> Self {
        let on = |key| crate::components::checkbox_on(query.get(key));
        TokenFilters {
            team: query.get("team").unwrap_or_default(),
            owner: query.get("owner").unwrap_or_default(),
            access: query.get("access").unwrap_or_default(),
            unused: on("unused"),
            expiring: on("expiring"),
            pending: on("pending"),
            sort: query.get("sort").unwrap_or_default(),
        }
    }

    /// The same filters in the other order (the calls column's header link).
    fn other_order(&self) -> Self {
        let sort = if self.sort == "calls" { "" } else { "calls" };
        TokenFilters {
            sort: sort.to_string(),
            ..self.clone()
        }
    }

    /// The link to page `page` of `base` with these filters.
    fn href(&self, base: &str, page: u64) -> String {
        let mut query = vec![format!("page={page}")];
        if !self.team.is_empty() {
            query.push(format!("team={}", query_value(&self.team)));
        }
        if !self.owner.is_empty() {
            query.push(format!("owner={}", query_value(&self.owner)));
        }
        if !self.access.is_empty() {
            query.push(format!("access={}", query_value(&self.access)));
        }
        if self.unused {
            query.push("unused=on".into());
        }
        if self.expiring {
            query.push("expiring=on".into());
        }
        if self.pending {
            query.push("pending=on".into());
        }
        if !self.sort.is_empty() {
            query.push(format!("sort={}", query_value(&self.sort)));
        }
        format!("{base}?{}", query.join("&"))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamTokensView {
    /// The team's slug; empty in the instance inventory.
    pub slug: String,
    pub name: String,
    /// The team's members, for the owner filter (empty in the inventory: a text field there).
    pub members: Vec<String>,
    /// Every team, for the inventory's team filter (empty on a team's tab).
    pub teams: Vec<String>,
    pub rows: Vec<TeamTokenRow>,
    pub page: u64,
    pub total: u64,
}

impl TeamTokensView {
    fn has_more(&self) -> bool {
        self.page * PER_PAGE < self.total
    }
}

#[server(prefix = "/rpc", endpoint = "team_tokens")]
pub async fn team_tokens(
    team: String,
    in_team: String,
    owner: String,
    access: String,
    unused: bool,
    expiring: bool,
    pending: bool,
    page: u64,
    #[server(default)] sort: String,
) -> Result<TeamTokensView, AppError> {
    use domain::{Actor, content::page_params, tokens::governance as rules};

    use crate::session::{db, require_user};
    let user = require_user()?;
    let (page, per_page) = page_params(Some(page.max(1)), Some(PER_PAGE))?;
    let filter = rules::Filter {
        owner: Some(owner).filter(|o| !o.is_empty()),
        access: rules::Access::parse(&access)?,
        unused_days: unused.then_some(rules::UNUSED_DAYS),
        expiring,
        pending,
        sort: rules::Sort::parse(&sort)?,
    };
    let db = db()?;
    let actor = Actor::User(user.id);
    // The admin check comes first, in `list`: nobody else learns the members or the teams.
    let (found, slug, name, members, teams) = if team.is_empty() {
        let in_team = match in_team.trim() {
            "" => None,
            slug => Some(team_slug(slug)?),
        };
        let scope = rules::Scope::Instance {
            team: in_team.as_ref(),
        };
        let found = rules::list(&db, actor, scope, &filter, page, per_page).await?;
        let teams = domain::teams::all_slugs(&db).await?;
        (
            found,
            String::new(),
            "All tokens".to_string(),
            Vec::new(),
            teams,
        )
    } else {
        let slug = team_slug(&team)?;
        let found = rules::list(
            &db,
            actor,
            rules::Scope::Team(&slug),
            &filter,
            page,
            per_page,
        )
        .await?;
        let detail = domain::teams::detail(&db, actor, &slug).await?;
        let members = detail.members.into_iter().map(|m| m.username).collect();
        (found, detail.slug, detail.name, members, Vec::new())
    };
    let now = chrono::Utc::now();
    Ok(TeamTokensView {
        slug,
        name,
        members,
        teams,
        rows: found
            .items
            .into_iter()
            .map(|t| TeamTokenRow {
                unused: t.is_unused(now),
                token: TokenView::of(&t.info, now),
                owner: t.owner,
                calls_7d: t.recent.total(),
                refused_7d: t.recent.refused_total(),
            })
            .collect(),
        page: found.page,
        total: found.total,
    })
}

/// Whose token an admin decided on (what the tab then says).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecidedToken {
    pub description: String,
    pub owner: String,
}

#[cfg(feature = "ssr")]
impl From<domain::tokens::governance::TeamToken> for DecidedToken {
    fn from(t: domain::tokens::governance::TeamToken) -> Self {
        DecidedToken {
            description: t.info.description,
            owner: t.owner,
        }
    }
}

#[cfg(feature = "ssr")]
use crate::teams::team_slug;

#[server(prefix = "/rpc", endpoint = "revoke_team_token")]
pub async fn revoke_team_token(
    team: String,
    id: String,
    reason: Option<String>,
) -> Result<DecidedToken, AppError> {
    use crate::session::{db, origin, require_user};
    let user = require_user()?;
    let slug = match team.as_str() {
        "" => None,
        team => Some(team_slug(team)?),
    };
    let scope = match &slug {
        Some(slug) => domain::tokens::governance::Scope::Team(slug),
        // The instance inventory: instance admins revoke any token.
        None => domain::tokens::governance::Scope::Instance { team: None },
    };
    let revoked = domain::tokens::governance::revoke(
        &db()?,
        origin(&user).into(),
        scope,
        &id,
        reason.as_deref(),
    )
    .await?;
    Ok(revoked.into())
}

/// Approves a pending write token (team admins, in sudo mode: it gives the token its access).
#[server(prefix = "/rpc", endpoint = "approve_team_token")]
pub async fn approve_team_token(team: String, id: String) -> Result<DecidedToken, AppError> {
    use crate::session::{db, origin, require_recent_sign_in};
    let user = require_recent_sign_in()?;
    let slug = team_slug(&team)?;
    let approved =
        domain::tokens::governance::approve(&db()?, origin(&user).into(), &slug, &id).await?;
    Ok(approved.into())
}

#[server(prefix = "/rpc", endpoint = "deny_team_token")]
pub async fn deny_team_token(
    team: String,
    id: String,
    reason: Option<String>,
) -> Result<DecidedToken, AppError> {
    use crate::session::{db, origin, require_user};
    let user = require_user()?;
    let slug = team_slug(&team)?;
    let denied = domain::tokens::governance::deny(
        &db()?,
        origin(&user).into(),
        &slug,
        &id,
        reason.as_deref(),
    )
    .await?;
    Ok(denied.into())
}

lazy_page! {
    /// The tab (and `/admin/tokens`, the same page without a team) as a lazily loaded route: its
    /// code is a wasm chunk of its own (docs/frontend.md).
    TeamTokensRoute => TeamTokensPage
}

/// The token the revoke dialog asks about.
#[derive(Clone, Debug, PartialEq, Eq)]
struct RevokeAsk {
    id: String,
    description: String,
    owner: String,
    /// Denying a waiting token rather than revoking a live one.
    deny: bool,
}

/// The tab's actions and state, shared by its parts. Revoking and denying happen in a dialog
/// that is a lazy part (docs/frontend.md) owning its actions: it reports through `changed`
/// and `last`.
#[derive(Clone, Copy)]
struct Decisions {
    approve: ServerAction<ApproveTeamToken>,
    ask: RwSignal<Option<RevokeAsk>>,
    /// Bumped by every revocation or denial.
    changed: RwSignal<u32>,
    /// What the latest decision did.
    last: RwSignal<Option<String>>,
    /// Which row's allow-list form is open; bumped when one is saved.
    ips: AllowListEditing,
}

/// "Revoked “deploy” of alice.", said once a decision is made.
fn decided(verb: &str, token: &DecidedToken) -> String {
    format!("{verb} “{}” of {}.", token.description, token.owner)
}

#[component]
pub fn TeamTokensPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let decisions = Decisions {
        approve: ServerAction::new(),
        ask: RwSignal::new(None),
        changed: RwSignal::new(0),
        last: RwSignal::new(None),
        ips: AllowListEditing::from_query(),
    };
    let Decisions {
        approve,
        changed,
        last,
        ips,
        ..
    } = decisions;
    let source = move || {
        let query = query.read();
        let page = query
            .get("page")
            .and_then(|p| p.parse::<u64>().ok())
            .unwrap_or(1);
        (
            params.read().get("slug").unwrap_or_default(),
            TokenFilters::from_query(&query),
            page,
            (approve.version().get(), changed.get(), ips.saved.get()),
        )
    };
    let tokens = Resource::new(source, |(team, f, page, _)| {
        team_tokens(
            team, f.team, f.owner, f.access, f.unused, f.expiring, f.pending, page, f.sort,
        )
    });
    Effect::new(move |_| {
        if let Some(Ok(r)) = approve.value().get() {
            last.set(Some(decided("Approved", &r)));
        }
    });
    let approve_error = action_error(approve.value());
    // Before hydration (a plain form post), the outcome arrives with the page itself.
    let done = move || {
        last.get().or_else(|| {
            approve
                .value()
                .get()
                .and_then(Result::ok)
                .map(|r| decided("Approved", &r))
        })
    };
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match tokens.await {
                    Ok(view) => view! { <LoadedTab view decisions filters=TokenFilters::from_query(&query.read_untracked())/> }.into_any(),
                    Err(e) => view! {
                        <Title text="Team tokens"/>
                        <h1>"Team tokens"</h1>
                        <p class="form-error" role="alert">{e.to_string()}</p>
                        <p><a href="/teams">"Back to your teams"</a></p>
                    }.into_any(),
                }
            })}
        </Transition>
        <p class="banner ok" role="status" hidden=move || done().is_none()>{done}</p>
        <FormError error=approve_error/>
        <LazyPart open=Signal::derive(move || decisions.ask.with(Option::is_some))
            part=move || revoke_dialog(decisions)/>
    }
}

#[component]
fn LoadedTab(view: TeamTokensView, decisions: Decisions, filters: TokenFilters) -> impl IntoView {
    let slug = view.slug.clone();
    // The instance inventory (`/admin/tokens`) has no team of its own.
    let instance = slug.is_empty();
    let base = if instance {
        "/admin/tokens".to_string()
    } else {
        format!("/teams/{slug}/tokens")
    };
    let has_more = view.has_more();
    let page = view.page;
    let (prev, next) = (
        filters.href(&base, page.saturating_sub(1)),
        filters.href(&base, page + 1),
    );
    let summary = match view.total {
        1 => "1 live token".to_string(),
        n => format!("{n} live tokens"),
    };
    let columns: Vec<ColumnHead> = instance
        .then_some("Team")
        .into_iter()
        .chain(["Owner", "Description"])
        .map(ColumnHead::from)
        .chain([calls_head(&base, &filters)])
        .chain(SHARED_COLUMNS.map(ColumnHead::from))
        .collect();
    view! {
        {if instance {
            view! {
                <Title text="All tokens · Admin"/>
                <h1>"Admin"</h1>
                <crate::admin::AdminTabs current="tokens"/>
                <p class="muted">
                    "Every live token of every team, whoever owns it. Revoking one stops it at once; its owner sees who revoked it and why."
                </p>
            }.into_any()
        } else {
            view! {
                <Title text=format!("Tokens · {}", view.name)/>
                <p class="breadcrumb"><a href="/teams">"Teams"</a> " / " <code>{slug.clone()}</code></p>
                <h1>{view.name.clone()}</h1>
                <TeamTabs slug=slug.clone() current="tokens" is_admin=true/>
                <p class="muted">
                    "Every live token that can reach this team's data, whoever owns it. Revoking one stops it at once; its owner sees who revoked it and why."
                </p>
            }.into_any()
        }}
        <Filters base=base.clone() members=view.members.clone() teams=view.teams.clone() filters/>
        <p class="muted" data-testid="token-count">{summary}</p>
        {if view.rows.is_empty() {
            view! { <p class="empty">"No tokens match."</p> }.into_any()
        } else {
            view! {
                <TokenTableFrame class="team-tokens" columns>
                    {view.rows.into_iter().map(|row| view! { <TeamTokenTableRow row decisions instance/> }).collect_view()}
                </TokenTableFrame>
            }.into_any()
        }}
        <nav class="pager" aria-label="Token pages">
            {(page > 1).then(|| view! { <a href=prev>"← Newer"</a> })}
            <span class="muted">{format!("Page {page}")}</span>
            {has_more.then(|| view! { <a href=next>"Older →"</a> })}
        </nav>
    }
}

/// The "Calls, 7 days" header: a link that orders the list by it (or back to newest first).
fn calls_head(base: &str, filters: &TokenFilters) -> ColumnHead {
    ColumnHead::Sort {
        label: "Calls, 7 days",
        href: filters.other_order().href(base, 1),
        sorted: filters.sort == "calls",
    }
}

/// The filter bar: a GET form, so that a filtered list has its own URL (and works before the
/// wasm has loaded).
#[component]
fn Filters(
    base: String,
    members: Vec<String>,
    teams: Vec<String>,
    filters: TokenFilters,
) -> impl IntoView {
    let access = filters.access.clone();
    let owner = filters.owner.clone();
    // A team's members fit a menu; every user of the instance may not: a text field there.
    let owner_field = if members.is_empty() {
        view! { <input name="owner" value=owner placeholder="Anyone" autocomplete="off"/> }
            .into_any()
    } else {
        view! {
            <select name="owner">
                <option value="" selected=owner.is_empty()>"Anyone"</option>
                {members.into_iter().map(|m| {
                    let selected = m == owner;
                    view! { <option value=m.clone() selected=selected>{m.clone()}</option> }
                }).collect_view()}
            </select>
        }
        .into_any()
    };
    let team = filters.team.clone();
    let team_field = (!teams.is_empty()).then(|| {
        view! {
            <label>"Team "
                <select name="team">
                    <option value="" selected=team.is_empty()>"Any"</option>
                    {teams.into_iter().map(|t| {
                        let selected = t == team;
                        view! { <option value=t.clone() selected=selected>{t.clone()}</option> }
                    }).collect_view()}
                </select>
            </label>
        }
    });
    view! {
        <Form method="GET" action=base attr:class="filters">
            {team_field}
            <label>"Owner " {owner_field}</label>
            <label>"Scope "
                <select name="access">
                    <option value="" selected=access.is_empty()>"Any"</option>
                    <option value="read" selected=access == "read">"read"</option>
                    <option value="write" selected=access == "write">"read/write"</option>
                </select>
            </label>
            <label class="check"><input type="checkbox" name="unused" checked=filters.unused/>" Unused for 30 days"</label>
            <label class="check"><input type="checkbox" name="expiring" checked=filters.expiring/>" Expiring within 7 days"</label>
            <label class="check"><input type="checkbox" name="pending" checked=filters.pending/>" Waiting for approval"</label>
            <button type="submit" class="button secondary">"Filter"</button>
        </Form>
    }
}

#[component]
fn TeamTokenTableRow(row: TeamTokenRow, decisions: Decisions, instance: bool) -> impl IntoView {
    let TeamTokenRow {
        token,
        owner,
        unused,
        calls_7d,
        refused_7d,
    } = row;
    let ask = decisions.ask;
    let this = RevokeAsk {
        id: token.id.clone(),
        description: token.description.clone(),
        owner: owner.clone(),
        // Approving and denying belong to the team's admins, on the team's tab.
        deny: token.pending_approval && !instance,
    };
    let verb = if this.deny { "Deny" } else { "Revoke" };
    let label = format!("{verb} {} of {}", token.description, owner);
    let approve_label = format!("Approve {} of {}", token.description, owner);
    let params = use_params_map();
    let team = params.read_untracked().get("slug").unwrap_or_default();
    let approvable = token.pending_approval && !instance;
    let id = token.id.clone();
    let lead = {
        let (team, owner) = (token.team.clone(), owner.clone());
        move || {
            view! {
                {instance.then(|| view! { <td data-label="Team"><code>{team.clone()}</code></td> })}
                <td data-label="Owner">{owner.clone()}</td>
            }
        }
    };
    let badges = move || {
        view! {
            {unused.then(
                || view! { <span class="badge warn" title="Not used for 30 days">"unused"</span> },
            )}
            {(refused_7d * 2 > calls_7d).then(|| view! {
                <span class="badge danger" data-testid="mostly-refused"
                    title="Refused more often than accepted in the last 7 days">"mostly refused"</span>
            })}
        }
    };
    let after = move || {
        view! {
            <td class="number" data-label="Calls, 7 days" data-testid="calls-7d">
                {calls_7d}
                {(refused_7d > 0).then(|| view! { <span class="muted">{format!(" ({refused_7d} refused)")}</span> })}
            </td>
        }
    };
    let detail = {
        let (id, description, allowed) = (
            token.id.clone(),
            token.description.clone(),
            token.allowed_ips.clone(),
        );
        move || {
            // A team admin may narrow a member's allow-list (on the team's own tab).
            if instance {
                (!allowed.is_empty()).then(|| view! {
                    <p class="allow-list" data-testid="allowed-ips">{format!("Only from {}", allowed.join(", "))}</p>
                }).into_any()
            } else {
                view! {
                    <AllowListEditor id=id.clone() description=description.clone()
                        allowed=allowed.clone() editing=decisions.ips
                        help="You can narrow a member's list (every entry inside the current one); only its owner can widen it."/>
                }.into_any()
            }
        }
    };
    let actions = move || {
        let (this, team, id, approve_label) = (
            this.clone(),
            team.clone(),
            id.clone(),
            approve_label.clone(),
        );
        view! {
            {approvable.then(|| view! {
                <ActionForm action=decisions.approve>
                    <input type="hidden" name="team" value=team/>
                    <input type="hidden" name="id" value=id/>
                    <button type="submit" class="button" aria-label=approve_label>"Approve"</button>
                </ActionForm>
            })}
            <button type="button" class="button danger" aria-label=label.clone()
                on:pointerenter=move |_| preload_part!(revoke_dialog)
                on:focus=move |_| preload_part!(revoke_dialog)
                on:click=move |_| ask.set(Some(this.clone()))>{verb}</button>
        }
    };
    view! { <TokenTableRow token owner lead badges detail after actions/> }
}

/// The confirmation of a revocation (or a denial): names the token and its owner, and takes an
/// optional reason. A lazy part, fetched when a Revoke or Deny button is first hovered or
/// focused.
#[lazy]
fn revoke_dialog(decisions: Decisions) -> AnyView {
    let Decisions {
        ask, changed, last, ..
    } = decisions;
    let revoke = ServerAction::<RevokeTeamToken>::new();
    let deny = ServerAction::<DenyTeamToken>::new();
    Effect::new(move |_| {
        let outcome = match (revoke.value().get(), deny.value().get()) {
            (Some(Ok(r)), _) => Some(decided("Revoked", &r)),
            (_, Some(Ok(r))) => Some(decided("Denied", &r)),
            _ => None,
        };
        if let Some(said) = outcome {
            announce(if matches!(revoke.value().get_untracked(), Some(Ok(_))) {
                "Token revoked"
            } else {
                "Token denied"
            });
            last.set(Some(said));
            changed.update(|n| *n += 1);
            ask.set(None);
        }
    });
    let params = use_params_map();
    let error = Signal::derive(move || {
        action_error(revoke.value())
            .get()
            .or_else(|| action_error(deny.value()).get())
    });
    view! {
        {move || ask.get().map(|a| {
            let team = params.read_untracked().get("slug").unwrap_or_default();
            view! {
                // Revoking cannot be undone: the focus starts on Cancel.
                <Modal on_close=move |_| ask.set(None) labelled_by="revoke-title" described_by="revoke-text"
                    first_focus="revoke-cancel">
                        <h2 id="revoke-title">{format!("{} “{}” of {}?", if a.deny { "Deny" } else { "Revoke" }, a.description, a.owner)}</h2>
                        <p id="revoke-text">{if a.deny {
                            format!("The token is deleted without ever having worked. {} will see that you denied it, and your reason.", a.owner)
                        } else {
                            format!("Any script using this token stops working at once. {} will see that you revoked it, and your reason.", a.owner)
                        }}</p>
                        {
                            let (team, id) = (team.clone(), a.id.clone());
                            let fields = move || view! {
                                <input type="hidden" name="team" value=team.clone()/>
                                <input type="hidden" name="id" value=id.clone()/>
                                <label for="revoke-reason">"Reason (optional)"</label>
                                <input id="revoke-reason" name="reason" maxlength="200" autocomplete="off"
                                    aria-describedby="revoke-reason-error"/>
                                <FieldError error field="reason" id="revoke-reason-error"/>
                                <FormError error/>
                            };
                            let cancel = move || view! {
                                <button type="button" id="revoke-cancel" class="button secondary" on:click=move |_| ask.set(None)>"Cancel"</button>
                            };
                            if a.deny {
                                view! {
                                    <ActionForm action=deny>
                                        {fields()}
                                        <div class="dialog-actions">
                                            <button type="submit" class="button danger-solid">"Deny token"</button>
                                            {cancel()}
                                        </div>
                                    </ActionForm>
                                }.into_any()
                            } else {
                                view! {
                                    <ActionForm action=revoke>
                                        {fields()}
                                        <div class="dialog-actions">
                                            <button type="submit" class="button danger-solid">"Revoke token"</button>
                                            {cancel()}
                                        </div>
                                    </ActionForm>
                                }.into_any()
                            }
                        }
                </Modal>
            }
        })}
    }
    .into_any()
}
