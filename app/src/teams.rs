//! Teams: my teams, creating one, and a team's page where its admins manage members.

use common::Role;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::{
    components::{FieldError, FormError, FormErrors, Loaded, action_error},
    error::AppError,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamView {
    pub slug: String,
    pub name: String,
    /// My role in it.
    pub role: Role,
    pub member_count: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    pub username: String,
    pub role: Role,
    pub joined: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamDetailView {
    pub slug: String,
    pub name: String,
    pub my_role: Role,
    pub members: Vec<MemberView>,
    /// New write tokens of members who are not admins wait for an admin's approval.
    pub require_write_approval: bool,
    /// No token of the team is used more often than this per minute.
    pub max_rate_limit: Option<u32>,
}

#[server(prefix = "/rpc", endpoint = "my_teams")]
pub async fn my_teams() -> Result<Vec<TeamView>, AppError> {
    use crate::session::{db, require_user};
    let user = require_user()?;
    let teams = domain::teams::list_for_user(&db()?, user.id).await?;
    Ok(teams
        .into_iter()
        .map(|t| TeamView {
            slug: t.slug,
            name: t.name,
            role: t.role,
            member_count: t.member_count,
        })
        .collect())
}

#[server(prefix = "/rpc", endpoint = "create_team")]
pub async fn create_team(slug: String, name: String) -> Result<(), AppError> {
    use domain::identity::names::{TeamName, TeamSlug};

    use crate::session::{db, origin, require_user};
    let user = require_user()?;
    // Both fields are checked, so that the form shows each one's problem at once.
    let mut checks = crate::error::FieldChecks::default();
    let parsed_slug = checks.check(TeamSlug::parse(&slug))?;
    let named = (!name.trim().is_empty())
        .then(|| checks.check(TeamName::parse(&name)))
        .transpose()?;
    let Some(slug) = parsed_slug else {
        return Err(checks.into_error());
    };
    // An empty display name defaults to the slug.
    let name = match named {
        None => TeamName::parse(slug.as_str())?,
        Some(Some(name)) => name,
        Some(None) => return Err(checks.into_error()),
    };
    let team = domain::teams::create(&db()?, origin(&user).into(), user.id, &slug, &name).await?;
    // Every redirect goes through the one check of a local target (a slug is one already).
    leptos_axum::redirect(&crate::session::safe_next(Some(&format!(
        "/teams/{}",
        team.slug
    ))));
    Ok(())
}

#[server(prefix = "/rpc", endpoint = "team_detail")]
pub async fn team_detail(slug: String) -> Result<TeamDetailView, AppError> {
    use domain::Actor;

    use crate::session::{db, require_user};
    let user = require_user()?;
    let slug = team_slug(&slug)?;
    let team = domain::teams::detail(&db()?, Actor::User(user.id), &slug).await?;
    Ok(TeamDetailView {
        slug: team.slug,
        name: team.name,
        // A user (not the operator) always has a role in a team they can see.
        my_role: team.my_role.ok_or(domain::Error::NotFound("team"))?,
        require_write_approval: team.require_write_approval,
        max_rate_limit: team.max_rate_limit,
        members: team
            .members
            .into_iter()
            .map(|m| MemberView {
                username: m.username,
                role: m.role,
                joined: domain::time::date(m.joined_at),
            })
            .collect(),
    })
}

/// A membership change by the signed-in user: the team and member parsed, the change made (and
/// recorded) by the domain, which also makes it count at once for the member's tokens. Adding a
/// member or changing a role grants access, so it needs sudo mode (`crate::server_fns`);
/// removing one only takes access away.
#[cfg(feature = "ssr")]
async fn change_membership(
    team: &str,
    username: &str,
    change: domain::teams::MemberChange,
) -> Result<(), AppError> {
    use domain::{identity::names::Username, teams::MemberChange};

    use crate::session::{db, origin, require_recent_sign_in, require_user};
    let user = match change {
        MemberChange::Remove => require_user()?,
        MemberChange::Add(_) | MemberChange::SetRole(_) => require_recent_sign_in()?,
    };
    let slug = team_slug(team)?;
    let username = Username::parse(username)?;
    domain::teams::change_member(&db()?, origin(&user).into(), &slug, &username, change).await?;
    Ok(())
}

#[server(prefix = "/rpc", endpoint = "add_member")]
pub async fn add_member(team: String, username: String, role: String) -> Result<(), AppError> {
    use domain::teams::MemberChange;
    let role = Role::parse(&role).map_err(domain::Error::from)?;
    change_membership(&team, &username, MemberChange::Add(role)).await
}

#[server(prefix = "/rpc", endpoint = "set_role")]
pub async fn set_role(team: String, username: String, role: String) -> Result<(), AppError> {
    use domain::teams::MemberChange;
    let role = Role::parse(&role).map_err(domain::Error::from)?;
    change_membership(&team, &username, MemberChange::SetRole(role)).await
}

#[server(prefix = "/rpc", endpoint = "remove_member")]
pub async fn remove_member(team: String, username: String) -> Result<(), AppError> {
    use domain::teams::MemberChange;
    change_membership(&team, &username, MemberChange::Remove).await
}

/// The tabs of a team's pages: Members for everyone, Tokens for the team's admins.
#[component]
pub(crate) fn TeamTabs(slug: String, current: &'static str, is_admin: bool) -> impl IntoView {
    let tab = move |name: &'static str, label: &'static str, href: String| {
        let current = (current == name).then_some("page");
        view! { <li><a href=href aria-current=current>{label}</a></li> }
    };
    view! {
        <nav class="tabs" aria-label="Team">
            <ul>
                {tab("members", "Members", format!("/teams/{slug}"))}
                {is_admin.then(|| tab("tokens", "Tokens", format!("/teams/{slug}/tokens")))}
                {is_admin.then(|| tab("services", "Services", format!("/teams/{slug}/services")))}
                {is_admin.then(|| tab("service-accounts", "Service accounts", format!("/teams/{slug}/service-accounts")))}
                {is_admin.then(|| tab("webhooks", "Webhooks", format!("/teams/{slug}/webhooks")))}
            </ul>
        </nav>
    }
}

/// The team a server function names; a slug that cannot be one is a team that does not exist.
#[cfg(feature = "ssr")]
pub(crate) fn team_slug(team: &str) -> Result<domain::identity::names::TeamSlug, AppError> {
    domain::identity::names::TeamSlug::parse(team)
        .map_err(|_| AppError::NotFound("No such team.".into()))
}

/// Turns the team's approval of write tokens on or off (team admins, in sudo mode: turning it
/// off weakens a control; docs/governance.md).
#[server(prefix = "/rpc", endpoint = "set_write_approval")]
pub async fn set_write_approval(team: String, required: Option<String>) -> Result<(), AppError> {
    use crate::session::{db, origin, require_recent_sign_in};
    let user = require_recent_sign_in()?;
    let slug = team_slug(&team)?;
    // An HTML checkbox sends its value only when checked.
    let required = crate::components::checkbox_on(required);
    domain::teams::set_write_approval(&db()?, origin(&user).into(), &slug, required).await?;
    Ok(())
}

/// Sets or (empty) removes the team's cap on its tokens' rate limits (team admins;
/// docs/usage.md).
#[server(prefix = "/rpc", endpoint = "set_max_rate_limit")]
pub async fn set_max_rate_limit(team: String, max_rate_limit: String) -> Result<(), AppError> {
    use crate::session::{db, origin, require_recent_sign_in};
    let user = require_recent_sign_in()?;
    let slug = team_slug(&team)?;
    let max = domain::tokens::rate_limit::parse("max_rate_limit", &max_rate_limit)?;
    domain::teams::set_max_rate_limit(&db()?, origin(&user).into(), &slug, max).await?;
    Ok(())
}

/// `<option>`s for every role, with `selected` chosen.
fn role_options(selected: Role) -> impl IntoView {
    Role::ALL
        .into_iter()
        .map(|role| {
            view! { <option value=role.as_str() selected=role == selected>{role.as_str()}</option> }
        })
        .collect_view()
}

/// A role as a coloured label.
#[component]
fn RoleBadge(role: Role) -> impl IntoView {
    view! { <span class=format!("role role-{role}")>{role.as_str()}</span> }
}

lazy_page! {
    /// The list of my teams as a lazily loaded route: its code is a wasm chunk of its own, fetched the first time
    /// the page is shown (docs/frontend.md).
    TeamsRoute => TeamsPage
}

#[component]
pub fn TeamsPage() -> impl IntoView {
    let create = ServerAction::<CreateTeam>::new();
    let teams = Resource::new(move || create.version().get(), |_| my_teams());
    view! {
        <Title text="Teams"/>
        <h1>"Teams"</h1>
        <Loaded resource=teams render=move |loaded| match loaded {
            list if list.is_empty() => view! {
                <p class="muted">"You are not in any team yet. Create one below, or ask a team admin to add you."</p>
            }.into_any(),
            list => view! { <TeamsTable teams=list/> }.into_any(),
        }/>
        <CreateTeamForm create/>
    }
}

#[component]
fn TeamsTable(teams: Vec<TeamView>) -> impl IntoView {
    view! {
        <div class="table-wrap">
        <table class="table">
            <thead><tr><th scope="col">"Team"</th><th scope="col">"Slug"</th><th scope="col">"Your role"</th><th scope="col">"Members"</th></tr></thead>
            <tbody>
                {teams.into_iter().map(|t| view! {
                    <tr>
                        <td data-label="Team"><a href=format!("/teams/{}", t.slug)>{t.name}</a></td>
                        <td data-label="Slug"><code>{t.slug.clone()}</code></td>
                        <td data-label="Your role"><RoleBadge role=t.role/></td>
                        <td data-label="Members">{t.member_count}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        </div>
    }
}

#[component]
fn CreateTeamForm(create: ServerAction<CreateTeam>) -> impl IntoView {
    let errors = FormErrors::new(action_error(create.value()));
    let error = errors.shown();
    // A slug is kept lowercase (`TeamSlug::parse`): said while it is typed, not done silently.
    let typed_slug = RwSignal::new(String::new());
    let lowercased = move || {
        let typed = typed_slug.get();
        let saved = typed.trim().to_ascii_lowercase();
        (saved != typed.trim()).then(|| format!("Slugs are lowercase: saved as ‘{saved}’."))
    };
    // `TeamSlug::parse` and `TeamName::parse`'s rules, in their words, before sending.
    let check = |value: &dyn Fn(&str) -> String| {
        let mut found = Vec::new();
        let slug = value("slug").trim().to_ascii_lowercase();
        let problem = if slug.is_empty() {
            Some("Enter a slug for the team.")
        } else if !(2..=40).contains(&slug.chars().count()) {
            Some("A team slug is 2 to 40 characters long.")
        } else if !slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            Some("A team slug may contain only letters a–z, digits and '-'.")
        } else {
            None
        };
        if let Some(problem) = problem {
            found.push(AppError::field("slug", problem));
        }
        if value("name").trim().chars().count() > 100 {
            found.push(AppError::field(
                "name",
                "A team name is at most 100 characters long.",
            ));
        }
        found
    };
    view! {
        <section class="card" on:submit:capture=move |ev| errors.check_submit(&ev, &check)
            on:input=move |ev| errors.field_changed(&ev) on:change=move |ev| errors.field_changed(&ev)>
            <h2>"Create a team"</h2>
            <ActionForm action=create attr:novalidate=true>
                <label for="slug">"Slug"</label>
                <input id="slug" name="slug" required autocapitalize="none" autocomplete="off" spellcheck="false"
                    aria-describedby="slug-help slug-note slug-error"
                    on:input=move |ev| typed_slug.set(event_target_value(&ev))/>
                <p class="help" id="slug-help">
                    "2 to 40 characters: lowercase letters a–z, digits 0–9 and hyphens (-), no spaces. "
                    "It names the team in API paths (/api/v1/teams/<slug>/…) and cannot be changed later."
                </p>
                <p class="help" id="slug-note" data-testid="slug-lowercase-note" hidden=move || lowercased().is_none()>
                    {lowercased}
                </p>
                <FieldError error field="slug" id="slug-error"/>
                <label for="name">"Display name " <span class="muted">"(optional)"</span></label>
                <input id="name" name="name" aria-describedby="name-help name-error"/>
                <p class="help" id="name-help">"Up to 100 characters; the slug when left empty."</p>
                <FieldError error field="name" id="name-error"/>
                <FormError error/>
                <button type="submit" class="button">"Create team"</button>
            </ActionForm>
        </section>
    }
}

/// The member actions of a team page, shared by its parts.
#[derive(Clone, Copy)]
struct MemberActions {
    add: ServerAction<AddMember>,
    change: ServerAction<SetRole>,
    remove: ServerAction<RemoveMember>,
    policy: ServerAction<SetWriteApproval>,
    cap: ServerAction<SetMaxRateLimit>,
}

lazy_page! {
    /// A team's page as a lazily loaded route: its code is a wasm chunk of its own, fetched the first time
    /// the page is shown (docs/frontend.md).
    TeamRoute => TeamPage
}

#[component]
pub fn TeamPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let actions = MemberActions {
        add: ServerAction::new(),
        change: ServerAction::new(),
        remove: ServerAction::new(),
        policy: ServerAction::new(),
        cap: ServerAction::new(),
    };
    crate::sudo::retry_after_confirming(actions.add);
    crate::sudo::retry_after_confirming(actions.change);
    crate::sudo::retry_after_confirming(actions.policy);
    crate::sudo::retry_after_confirming(actions.cap);
    let team = Resource::new(
        move || {
            (
                slug(),
                actions.add.version().get(),
                actions.change.version().get(),
                actions.remove.version().get(),
                actions.policy.version().get(),
                actions.cap.version().get(),
            )
        },
        |(slug, ..)| team_detail(slug),
    );
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match team.await {
                    Ok(team) => view! { <LoadedTeam team actions/> }.into_any(),
                    Err(e) => view! {
                        <Title text="Team"/>
                        <h1>"Team"</h1>
                        <p class="form-error" role="alert">{e.to_string()}</p>
                        <p><a href="/teams">"Back to your teams"</a></p>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

/// A team's page once loaded: its members, and for admins the controls to manage them.
#[component]
fn LoadedTeam(team: TeamDetailView, actions: MemberActions) -> impl IntoView {
    let is_admin = team.my_role.is_admin();
    let change_error = Signal::derive(move || {
        action_error(actions.change.value())
            .get()
            .or_else(|| action_error(actions.remove.value()).get())
    });
    let slug = team.slug.clone();
    view! {
        <Title text=team.name.clone()/>
        <p class="breadcrumb"><a href="/teams">"Teams"</a> " / " <code>{team.slug.clone()}</code></p>
        <h1>{team.name.clone()}</h1>
        <TeamTabs slug=slug.clone() current="members" is_admin/>
        <p class="muted">"Your role: " <RoleBadge role=team.my_role/></p>
        <FormError error=change_error/>
        <FieldError error=change_error field="username" id="member-error"/>
        <div class="table-wrap">
        <table class="table members">
            <thead><tr><th scope="col">"Member"</th><th scope="col">"Role"</th><th scope="col">"Joined"</th>
                {is_admin.then(|| view! { <th scope="col">"Actions"</th> })}</tr></thead>
            <tbody>
                {team.members.into_iter().map(|m| {
                    let team = slug.clone();
                    view! {
                        <tr data-member=m.username.clone()>
                            <td data-label="Member">{m.username.clone()}</td>
                            <td data-label="Role"><RoleBadge role=m.role/></td>
                            <td data-label="Joined">{m.joined.clone()}</td>
                            {is_admin.then(|| view! {
                                <MemberControls team username=m.username.clone() role=m.role actions/>
                            })}
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        </div>
        {is_admin.then(|| view! { <AddMemberForm team=slug.clone() add=actions.add/> })}
        {if is_admin {
            view! {
                <TokenPolicyForm team=slug.clone() required=team.require_write_approval policy=actions.policy
                    max_rate_limit=team.max_rate_limit cap=actions.cap/>
            }.into_any()
        } else if team.require_write_approval {
            view! { <p class="muted" data-testid="approval-note">"New write tokens for this team wait for an admin's approval."</p> }.into_any()
        } else {
            ().into_any()
        }}
    }
}

/// The team's token policy: whether members' write tokens need an admin's approval.
#[component]
fn TokenPolicyForm(
    team: String,
    required: bool,
    policy: ServerAction<SetWriteApproval>,
    max_rate_limit: Option<u32>,
    cap: ServerAction<SetMaxRateLimit>,
) -> impl IntoView {
    let error = action_error(policy.value());
    let cap_error = action_error(cap.value());
    let cap_team = team.clone();
    view! {
        <section class="card">
            <h2>"Token policy"</h2>
            <ActionForm action=policy>
                <input type="hidden" name="team" value=team/>
                <div class="checkbox">
                    <input type="checkbox" id="require-approval" name="required" value="on" checked=required
                        aria-describedby="require-approval-help"/>
                    <label for="require-approval">"Require approval for write tokens"</label>
                </div>
                <p class="help" id="require-approval-help">
                    "A writer's new write token is refused by the API (403 token_pending_approval) until an admin approves it on the Tokens tab. "
                    "Admins' own tokens need no approval; API explorer tokens of writers are read-only."
                </p>
                <FormError error/>
                <button type="submit" class="button">"Save policy"</button>
            </ActionForm>
            <ActionForm action=cap>
                <input type="hidden" name="team" value=cap_team/>
                <label for="max-rate-limit">"Maximum rate limit per token"</label>
                <input id="max-rate-limit" name="max_rate_limit" inputmode="numeric" autocomplete="off"
                    placeholder="calls per minute" value=max_rate_limit.map(|n| n.to_string()).unwrap_or_default()
                    aria-describedby="max-rate-limit-help max-rate-limit-error"/>
                <p class="help" id="max-rate-limit-help">
                    "No token of this team is used more often than this per minute, whatever its own limit; new tokens cannot ask for more. Leave empty for no cap."
                </p>
                <FieldError error=cap_error field="max_rate_limit" id="max-rate-limit-error"/>
                <FormError error=cap_error/>
                <button type="submit" class="button">"Save cap"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn AddMemberForm(team: String, add: ServerAction<AddMember>) -> impl IntoView {
    let errors = FormErrors::new(action_error(add.value()));
    let error = errors.shown();
    let check = |value: &dyn Fn(&str) -> String| {
        if value("username").trim().is_empty() {
            vec![AppError::field("username", "Enter a username.")]
        } else {
            Vec::new()
        }
    };
    view! {
        <section class="card" on:submit:capture=move |ev| errors.check_submit(&ev, &check)
            on:input=move |ev| errors.field_changed(&ev)>
            <h2>"Add a member"</h2>
            <ActionForm action=add attr:novalidate=true>
                <input type="hidden" name="team" value=team/>
                <label for="new-username">"Username"</label>
                <input id="new-username" name="username" required aria-describedby="new-username-error"/>
                <FieldError error field="username" id="new-username-error"/>
                <label for="new-role">"Role"</label>
                <select id="new-role" name="role">{role_options(Role::Reader)}</select>
                <FieldError error field="role" id="new-role-error"/>
                <FormError error/>
                <button type="submit" class="button">"Add member"</button>
            </ActionForm>
        </section>
    }
}

/// A team admin's controls for one member: change role, remove.
#[component]
fn MemberControls(
    team: String,
    username: String,
    role: Role,
    actions: MemberActions,
) -> impl IntoView {
    let select_id = format!("role-{username}");
    let (team_again, username_again) = (team.clone(), username.clone());
    view! {
        <td class="actions">
            <ActionForm action=actions.change>
                <input type="hidden" name="team" value=team.clone()/>
                <input type="hidden" name="username" value=username.clone()/>
                <label class="visually-hidden" for=select_id.clone()>{format!("Role of {username}")}</label>
                <select id=select_id name="role">{role_options(role)}</select>
                <button type="submit" class="button secondary">"Change role"</button>
            </ActionForm>
            <ActionForm action=actions.remove>
                <input type="hidden" name="team" value=team_again/>
                <input type="hidden" name="username" value=username_again.clone()/>
                <button type="submit" class="button danger" aria-label=format!("Remove {username_again}")>"Remove"</button>
            </ActionForm>
        </td>
    }
}
