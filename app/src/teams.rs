//! Teams: my teams, creating one, and a team's page where its admins manage members.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::{
    components::{FieldError, FormError, action_error},
    error::AppError,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamView {
    pub slug: String,
    pub name: String,
    /// My role in it: `reader`, `writer` or `admin`.
    pub role: String,
    pub member_count: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    pub username: String,
    pub role: String,
    pub joined: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamDetailView {
    pub slug: String,
    pub name: String,
    pub my_role: String,
    pub members: Vec<MemberView>,
}

pub const ROLES: [&str; 3] = ["reader", "writer", "admin"];

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
            role: t.role.to_string(),
            member_count: t.member_count,
        })
        .collect())
}

#[server(prefix = "/rpc", endpoint = "create_team")]
pub async fn create_team(slug: String, name: String) -> Result<(), AppError> {
    use domain::{
        activity::{self, Event, Kind},
        names::{TeamName, TeamSlug},
    };

    use crate::session::{client_ip, db, require_user};
    let user = require_user()?;
    let db = db()?;
    let slug = TeamSlug::parse(&slug)?;
    // An empty display name defaults to the slug.
    let name = if name.trim().is_empty() {
        TeamName::parse(slug.as_str())?
    } else {
        TeamName::parse(&name)?
    };
    let team = domain::teams::create(&db, user.id, &slug, &name).await?;
    activity::record(
        &db,
        Event::new(Some(user.id), Kind::TeamCreated)
            .ip(client_ip())
            .target(format!("team {}", team.slug)),
    )
    .await?;
    leptos_axum::redirect(&format!("/teams/{}", team.slug));
    Ok(())
}

#[server(prefix = "/rpc", endpoint = "team_detail")]
pub async fn team_detail(slug: String) -> Result<TeamDetailView, AppError> {
    use domain::{names::TeamSlug, teams::Actor};

    use crate::session::{db, require_user};
    let user = require_user()?;
    let slug = TeamSlug::parse(&slug).map_err(|_| AppError::NotFound("No such team.".into()))?;
    let team = domain::teams::detail(&db()?, Actor::User(user.id), &slug).await?;
    Ok(TeamDetailView {
        slug: team.slug,
        name: team.name,
        my_role: team.my_role.map(|r| r.to_string()).unwrap_or_default(),
        members: team
            .members
            .into_iter()
            .map(|m| MemberView {
                username: m.username,
                role: m.role.to_string(),
                joined: m.joined_at.format("%Y-%m-%d").to_string(),
            })
            .collect(),
    })
}

#[cfg(feature = "ssr")]
mod ssr {
    use domain::{
        activity::{self, Event, Kind},
        names::{TeamSlug, Username},
    };

    use crate::{
        error::AppError,
        session::{client_ip, db, require_user},
    };

    /// Parses the team and member for a membership change, and records it once done.
    pub async fn membership_change<F, Fut>(
        team: &str,
        username: &str,
        kind: Kind,
        detail: &str,
        change: F,
    ) -> Result<(), AppError>
    where
        F: FnOnce(sea_orm::DatabaseConnection, i64, TeamSlug, Username) -> Fut,
        Fut: Future<Output = domain::Result<()>>,
    {
        let user = require_user()?;
        let db = db()?;
        let slug = TeamSlug::parse(team).map_err(|_| AppError::NotFound("No such team.".into()))?;
        let username = Username::parse(username)?;
        change(db.clone(), user.id, slug.clone(), username.clone()).await?;
        crate::session::forget_cached_tokens();
        activity::record(
            &db,
            Event::new(Some(user.id), kind)
                .ip(client_ip())
                .target(format!("{username} in team {slug}{detail}")),
        )
        .await?;
        Ok(())
    }
}

#[server(prefix = "/rpc", endpoint = "add_member")]
pub async fn add_member(team: String, username: String, role: String) -> Result<(), AppError> {
    use domain::{activity::Kind, names::Role, teams::Actor};
    let role = Role::parse(&role)?;
    ssr::membership_change(
        &team,
        &username,
        Kind::MemberAdded,
        &format!(" as {role}"),
        |db, actor, slug, name| async move {
            domain::teams::add_member(&db, Actor::User(actor), &slug, &name, role).await
        },
    )
    .await
}

#[server(prefix = "/rpc", endpoint = "set_role")]
pub async fn set_role(team: String, username: String, role: String) -> Result<(), AppError> {
    use domain::{activity::Kind, names::Role, teams::Actor};
    let role = Role::parse(&role)?;
    ssr::membership_change(
        &team,
        &username,
        Kind::MemberRoleChanged,
        &format!(" to {role}"),
        |db, actor, slug, name| async move {
            domain::teams::set_role(&db, Actor::User(actor), &slug, &name, role).await
        },
    )
    .await
}

#[server(prefix = "/rpc", endpoint = "remove_member")]
pub async fn remove_member(team: String, username: String) -> Result<(), AppError> {
    use domain::{activity::Kind, teams::Actor};
    ssr::membership_change(
        &team,
        &username,
        Kind::MemberRemoved,
        "",
        |db, actor, slug, name| async move {
            domain::teams::remove_member(&db, Actor::User(actor), &slug, &name).await
        },
    )
    .await
}

#[component]
pub fn TeamsPage() -> impl IntoView {
    let create = ServerAction::<CreateTeam>::new();
    let error = action_error(create.value());
    let teams = Resource::new(move || create.version().get(), |_| my_teams());
    view! {
        <Title text="Teams"/>
        <h1>"Teams"</h1>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match teams.await {
                    Ok(list) if list.is_empty() => view! {
                        <p class="muted">"You are not in any team yet. Create one below, or ask a team admin to add you."</p>
                    }.into_any(),
                    Ok(list) => view! {
                        <table class="table">
                            <thead><tr><th scope="col">"Team"</th><th scope="col">"Slug"</th><th scope="col">"Your role"</th><th scope="col">"Members"</th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|t| view! {
                                    <tr>
                                        <td><a href=format!("/teams/{}", t.slug)>{t.name}</a></td>
                                        <td><code>{t.slug.clone()}</code></td>
                                        <td><span class=format!("role role-{}", t.role)>{t.role.clone()}</span></td>
                                        <td>{t.member_count}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        <section class="card">
            <h2>"Create a team"</h2>
            <ActionForm action=create>
                <label for="slug">"Slug"</label>
                <input id="slug" name="slug" required minlength="2" maxlength="40" pattern="[a-zA-Z0-9\\-]+"
                    aria-describedby="slug-help slug-error"/>
                <p class="help" id="slug-help">"2–40 characters: letters a–z, digits and -. Used in API paths."</p>
                <FieldError error field="slug" id="slug-error"/>
                <label for="name">"Display name"</label>
                <input id="name" name="name" maxlength="100" aria-describedby="name-error"/>
                <FieldError error field="name" id="name-error"/>
                <FormError error/>
                <button type="submit" class="button">"Create team"</button>
            </ActionForm>
        </section>
    }
}

#[component]
pub fn TeamPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let add = ServerAction::<AddMember>::new();
    let change = ServerAction::<SetRole>::new();
    let remove = ServerAction::<RemoveMember>::new();
    let add_error = action_error(add.value());
    let change_error = Signal::derive(move || {
        action_error(change.value())
            .get()
            .or_else(|| action_error(remove.value()).get())
    });
    let team = Resource::new(
        move || {
            (
                slug(),
                add.version().get(),
                change.version().get(),
                remove.version().get(),
            )
        },
        |(slug, ..)| team_detail(slug),
    );
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match team.await {
                    Ok(team) => {
                        let is_admin = team.my_role == "admin";
                        let slug = team.slug.clone();
                        view! {
                            <Title text=team.name.clone()/>
                            <p class="breadcrumb"><a href="/teams">"Teams"</a> " / " <code>{team.slug.clone()}</code></p>
                            <h1>{team.name.clone()}</h1>
                            <p class="muted">"Your role: " <span class=format!("role role-{}", team.my_role)>{team.my_role.clone()}</span></p>
                            <FormError error=change_error/>
                            <FieldError error=change_error field="username" id="member-error"/>
                            <table class="table members">
                                <thead><tr><th scope="col">"Member"</th><th scope="col">"Role"</th><th scope="col">"Joined"</th>
                                    {is_admin.then(|| view! { <th scope="col">"Actions"</th> })}</tr></thead>
                                <tbody>
                                    {team.members.into_iter().map(|m| {
                                        let slug = slug.clone();
                                        view! {
                                            <tr data-member=m.username.clone()>
                                                <td>{m.username.clone()}</td>
                                                <td><span class=format!("role role-{}", m.role)>{m.role.clone()}</span></td>
                                                <td>{m.joined.clone()}</td>
                                                {is_admin.then(|| view! {
                                                    <MemberActions team=slug.clone() username=m.username.clone() role=m.role.clone() change remove/>
                                                })}
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                            {is_admin.then(|| view! {
                                <section class="card">
                                    <h2>"Add a member"</h2>
                                    <ActionForm action=add>
                                        <input type="hidden" name="team" value=slug.clone()/>
                                        <label for="new-username">"Username"</label>
                                        <input id="new-username" name="username" required aria-describedby="new-username-error"/>
                                        <FieldError error=add_error field="username" id="new-username-error"/>
                                        <label for="new-role">"Role"</label>
                                        <select id="new-role" name="role">
                                            {ROLES.iter().map(|r| view! { <option value=*r>{*r}</option> }).collect_view()}
                                        </select>
                                        <FieldError error=add_error field="role" id="new-role-error"/>
                                        <FormError error=add_error/>
                                        <button type="submit" class="button">"Add member"</button>
                                    </ActionForm>
                                </section>
                            })}
                        }.into_any()
                    }
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

/// A team admin's controls for one member: change role, remove.
#[component]
fn MemberActions(
    team: String,
    username: String,
    role: String,
    change: ServerAction<SetRole>,
    remove: ServerAction<RemoveMember>,
) -> impl IntoView {
    let select_id = format!("role-{username}");
    let (team2, username2) = (team.clone(), username.clone());
    view! {
        <td class="actions">
            <ActionForm action=change>
                <input type="hidden" name="team" value=team/>
                <input type="hidden" name="username" value=username.clone()/>
                <label class="visually-hidden" for=select_id.clone()>{format!("Role of {username}")}</label>
                <select id=select_id name="role">
                    {ROLES.iter().map(|r| view! { <option value=*r selected=role == *r>{*r}</option> }).collect_view()}
                </select>
                <button type="submit" class="button secondary">"Change role"</button>
            </ActionForm>
            <ActionForm action=remove>
                <input type="hidden" name="team" value=team2/>
                <input type="hidden" name="username" value=username2.clone()/>
                <button type="submit" class="button danger" aria-label=format!("Remove {username2}")>"Remove"</button>
            </ActionForm>
        </td>
    }
}
