//! A team's Services tab (`/teams/<slug>/services`, team admins; docs/forward-auth.md): the
//! service credentials its own services use for token introspection — create one (its secret
//! shown once), see who made each, revoke. The rules are `domain::tokens::services`.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::{
    components::{FieldError, FormError, Loaded, SecretValue, action_error},
    error::AppError,
    teams::TeamTabs,
};

/// A credential as the tab lists it (never the secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceRow {
    pub id: String,
    pub name: String,
    /// `pdks_…a1b2`
    pub partial: String,
    pub created_by: String,
    pub created: String,
}

/// A new credential: its id and secret, in this one answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewService {
    pub id: String,
    pub name: String,
    pub secret: String,
}

#[cfg(feature = "ssr")]
use crate::teams::team_slug;

#[server(prefix = "/rpc", endpoint = "team_services")]
pub async fn team_services(team: String) -> Result<Vec<ServiceRow>, AppError> {
    use domain::Actor;
    let user = crate::session::require_user()?;
    let list = domain::tokens::services::list(
        &crate::session::db()?,
        Actor::User(user.id),
        &team_slug(&team)?,
    )
    .await?;
    Ok(list
        .into_iter()
        .map(|s| ServiceRow {
            partial: format!("pdks_…{}", s.hint),
            id: s.id,
            name: s.name,
            created_by: s.created_by,
            created: domain::time::date(s.created_at),
        })
        .collect())
}

#[server(prefix = "/rpc", endpoint = "create_service")]
pub async fn create_service(team: String, name: String) -> Result<NewService, AppError> {
    use crate::session::{db, origin, require_recent_sign_in};
    let user = require_recent_sign_in()?;
    let (service, secret) = domain::tokens::services::create(
        &db()?,
        origin(&user).into(),
        &team_slug(&team)?,
        &name,
        // Its slug from its name, no scopes yet (the CLI sets them: docs/permissions.md).
        domain::tokens::services::Definition::default(),
    )
    .await?;
    // The secret is in this answer: no cache may keep it.
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.insert_header(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-store"),
        );
    }
    Ok(NewService {
        id: service.id,
        name: service.name,
        secret: secret.expose().to_string(),
    })
}

#[server(prefix = "/rpc", endpoint = "delete_service")]
pub async fn delete_service(team: String, id: String) -> Result<(), AppError> {
    use crate::session::{db, origin, require_user};
    let user = require_user()?;
    domain::tokens::services::delete(&db()?, origin(&user).into(), &team_slug(&team)?, &id).await?;
    Ok(())
}

lazy_page! {
    /// The Services tab as a lazily loaded route (docs/frontend.md).
    TeamServicesRoute => TeamServicesPage
}

#[component]
pub fn TeamServicesPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let create = ServerAction::<CreateService>::new();
    crate::sudo::retry_after_confirming(create);
    let delete = ServerAction::<DeleteService>::new();
    let services = Resource::new(
        move || (slug(), create.version().get(), delete.version().get()),
        |(team, _, _)| team_services(team),
    );
    let create_error = action_error(create.value());
    let delete_error = action_error(delete.value());
    view! {
        <Title text="Services"/>
        <p class="breadcrumb"><a href="/teams">"Teams"</a> " / " {slug}</p>
        <h1>{slug}</h1>
        <TeamTabs slug=slug() current="services" is_admin=true/>
        <p class="muted">
            "Your team's own services can check patdesk tokens themselves with introspection (POST /oauth/introspect), "
            "authenticating with a service credential made here. A credential only sees this team's tokens."
        </p>
        {move || match create.value().get() {
            Some(Ok(new)) => Some(view! {
                <section class="once-only" role="region" aria-label="New service credential" data-testid="new-service-panel">
                    <h2>{format!("Service credential for “{}”", new.name)}</h2>
                    <p class="warning"><strong>"Copy it now: you will not be able to see it again."</strong></p>
                    <p>"Id: " <code>{new.id.clone()}</code></p>
                    <SecretValue value=new.secret.clone() id="new-service-secret" what="Credential" test_id="new-service-secret"/>
                    <p class="muted">{format!("curl -u \"{}:<secret>\" -d \"token=pdk_…\" <patdesk>/oauth/introspect", new.id)}</p>
                </section>
            }),
            _ => None,
        }}
        <FormError error=delete_error/>
        <Loaded resource=services render=move |loaded| match loaded {
            rows if rows.is_empty() => view! {
                <p class="empty" data-testid="no-services">"No service credentials yet."</p>
            }.into_any(),
            rows => view! {
                <div class="table-wrap">
                <table class="table services">
                    <thead><tr>
                        <th scope="col">"Service"</th><th scope="col">"Credential"</th><th scope="col">"Created by"</th>
                        <th scope="col">"Created"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr></thead>
                    <tbody>
                        {rows.into_iter().map(|s| {
                            let label = format!("Revoke {}", s.name);
                            let id = s.id.clone();
                            view! {
                                <tr data-service-id=s.id.clone()>
                                    <td data-label="Service">{s.name.clone()}</td>
                                    <td data-label="Credential"><code>{s.id.clone()}</code> " " <code class="partial">{s.partial.clone()}</code></td>
                                    <td data-label="Created by">{s.created_by.clone()}</td>
                                    <td data-label="Created">{s.created.clone()}</td>
                                    <td class="actions">
                                        <ActionForm action=delete>
                                            <input type="hidden" name="team" value=slug()/>
                                            <input type="hidden" name="id" value=id.clone()/>
                                            <button type="submit" class="button danger" aria-label=label>"Revoke"</button>
                                        </ActionForm>
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
                </div>
            }.into_any(),
        }/>
        <section class="card">
            <h2>"New service credential"</h2>
            <ActionForm action=create attr:novalidate=true>
                <input type="hidden" name="team" value=slug/>
                <label for="service-name">"Service name"</label>
                <input id="service-name" name="name" required placeholder="e.g. metrics API"
                    aria-describedby="service-name-error"/>
                <FieldError error=create_error field="name" id="service-name-error"/>
                <FormError error=create_error/>
                <button type="submit" class="button">"Create credential"</button>
            </ActionForm>
        </section>
    }
}
