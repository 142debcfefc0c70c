//! A team's Services tab (`/teams/<slug>/services`, team admins; docs/forward-auth.md,
//! docs/permissions.md): the service credentials its own services use for token introspection —
//! create one (its secret shown once) with the slug and scopes fine-grained tokens name it by,
//! change its scopes, see who made each, revoke — and the team's two permission settings. The
//! rules are `domain::tokens::services` and `domain::teams`.

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
    /// The name permissions use for it (`deploy` in `deploy:run`), if it has one.
    pub slug: Option<String>,
    pub scopes: Vec<String>,
}

/// The tab's data: the credentials, and the team's permission settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServicesView {
    pub services: Vec<ServiceRow>,
    /// Whole-team tokens open the team's services.
    pub whole_team_services: bool,
    /// New tokens of the team must be fine-grained.
    pub require_fine_grained: bool,
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
pub async fn team_services(team: String) -> Result<ServicesView, AppError> {
    use domain::Actor;
    let user = crate::session::require_user()?;
    let db = crate::session::db()?;
    let slug = team_slug(&team)?;
    let list = domain::tokens::services::list(&db, Actor::User(user.id), &slug).await?;
    let (whole_team_services, require_fine_grained) =
        domain::teams::permission_settings(&db, Actor::User(user.id), &slug).await?;
    let services = list
        .into_iter()
        .map(|s| ServiceRow {
            slug: s.slug,
            scopes: s.scopes,
            partial: format!("pdks_…{}", s.hint),
            id: s.id,
            name: s.name,
            created_by: s.created_by,
            created: domain::time::date(s.created_at),
        })
        .collect();
    Ok(ServicesView {
        services,
        whole_team_services,
        require_fine_grained,
    })
}

#[server(prefix = "/rpc", endpoint = "create_service")]
pub async fn create_service(
    team: String,
    name: String,
    slug: Option<String>,
    scopes: Option<String>,
) -> Result<NewService, AppError> {
    use crate::session::{db, origin, require_recent_sign_in};
    let user = require_recent_sign_in()?;
    let scopes: Vec<String> = scopes.into_iter().collect();
    let (service, secret) = domain::tokens::services::create(
        &db()?,
        origin(&user).into(),
        &team_slug(&team)?,
        &name,
        // Without a slug, one is made from the name (docs/permissions.md).
        domain::tokens::services::Definition {
            slug: slug.as_deref(),
            scopes: &scopes,
        },
    )
    .await?;
    crate::request::no_store();
    Ok(NewService {
        id: service.id,
        name: service.name,
        secret: secret.expose().to_string(),
    })
}

/// Sets the scopes a service defines (space- or comma-separated; sudo mode).
#[server(prefix = "/rpc", endpoint = "set_service_scopes")]
pub async fn set_service_scopes(team: String, id: String, scopes: String) -> Result<(), AppError> {
    use crate::session::{db, origin, require_recent_sign_in};
    let user = require_recent_sign_in()?;
    domain::tokens::services::set_scopes(
        &db()?,
        origin(&user).into(),
        &team_slug(&team)?,
        &id,
        &[scopes],
    )
    .await?;
    Ok(())
}

/// The team's permission settings (sudo mode: letting whole-team tokens in weakens a control).
#[server(prefix = "/rpc", endpoint = "set_team_permission_settings")]
pub async fn set_team_permission_settings(
    team: String,
    whole_team_services: Option<String>,
    require_fine_grained: Option<String>,
) -> Result<(), AppError> {
    use crate::{
        components::checkbox_on,
        session::{db, origin, require_recent_sign_in},
    };
    let user = require_recent_sign_in()?;
    let (db, slug, by) = (db()?, team_slug(&team)?, origin(&user));
    domain::teams::set_whole_team_services(&db, by.into(), &slug, checkbox_on(whole_team_services))
        .await?;
    domain::teams::set_require_fine_grained(
        &db,
        by.into(),
        &slug,
        checkbox_on(require_fine_grained),
    )
    .await?;
    Ok(())
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
    let scopes = ServerAction::<SetServiceScopes>::new();
    crate::sudo::retry_after_confirming(scopes);
    let settings = ServerAction::<SetTeamPermissionSettings>::new();
    crate::sudo::retry_after_confirming(settings);
    let services = Resource::new(
        move || {
            (
                slug(),
                create.version().get(),
                delete.version().get(),
                scopes.version().get(),
                settings.version().get(),
            )
        },
        |(team, ..)| team_services(team),
    );
    let scopes_error = action_error(scopes.value());
    let settings_error = action_error(settings.value());
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
        <FormError error=scopes_error/>
        <Loaded resource=services render=move |loaded: ServicesView| match loaded.services {
            rows if rows.is_empty() => view! {
                <p class="empty" data-testid="no-services">"No service credentials yet."</p>
            }.into_any(),
            rows => view! {
                <div class="table-wrap">
                <table class="table services">
                    <thead><tr>
                        <th scope="col">"Service"</th><th scope="col">"Scopes"</th><th scope="col">"Credential"</th><th scope="col">"Created by"</th>
                        <th scope="col">"Created"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr></thead>
                    <tbody>
                        {rows.into_iter().map(|s| {
                            let label = format!("Revoke {}", s.name);
                            let id = s.id.clone();
                            let scope_cell = match s.slug.clone() {
                                Some(service) => {
                                    let field = format!("scopes-{id}");
                                    let (service_id, label, now) = (
                                        id.clone(),
                                        format!("Scopes of {}", s.name),
                                        s.scopes.join(" "),
                                    );
                                    view! {
                                        <ActionForm action=scopes attr:class="inline-form scopes-form">
                                            <input type="hidden" name="team" value=slug()/>
                                            <input type="hidden" name="id" value=service_id/>
                                            <label for=field.clone()><code>{format!("{service}:")}</code></label>
                                            <input id=field name="scopes" value=now
                                                placeholder="run read" autocomplete="off"
                                                aria-label=label/>
                                            <button type="submit" class="button secondary">"Save"</button>
                                        </ActionForm>
                                    }
                                    .into_any()
                                }
                                None => view! { <span class="muted">"none (made before scopes)"</span> }.into_any(),
                            };
                            view! {
                                <tr data-service-id=s.id.clone()>
                                    <td data-label="Service">{s.name.clone()}</td>
                                    <td data-label="Scopes">
                                        {scope_cell}
                                    </td>
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
                <label for="service-slug">"Slug " <span class="muted">"(optional)"</span></label>
                <input id="service-slug" name="slug" placeholder="e.g. deploy" autocomplete="off"
                    aria-describedby="service-slug-help service-slug-error"/>
                <p class="help" id="service-slug-help">"The name permissions use for it, as in deploy:run. Made from the service name when empty."</p>
                <FieldError error=create_error field="slug" id="service-slug-error"/>
                <label for="service-scopes">"Scopes " <span class="muted">"(optional)"</span></label>
                <input id="service-scopes" name="scopes" placeholder="e.g. run read" autocomplete="off"
                    aria-describedby="service-scopes-help service-scopes-error"/>
                <p class="help" id="service-scopes-help">"What a fine-grained token may be allowed to do with this service, separated by spaces."</p>
                <FieldError error=create_error field="scopes" id="service-scopes-error"/>
                <FormError error=create_error/>
                <button type="submit" class="button">"Create credential"</button>
            </ActionForm>
        </section>
        <Loaded resource=services render=move |loaded: ServicesView| view! {
            <section class="card" data-testid="permission-settings">
                <h2>"Token permissions"</h2>
                <ActionForm action=settings>
                    <input type="hidden" name="team" value=slug()/>
                    <div class="checkbox">
                        <input type="checkbox" id="whole-team-services" name="whole_team_services" value="on"
                            checked=loaded.whole_team_services/>
                        <label for="whole-team-services">"Whole-team tokens open this team's services"</label>
                    </div>
                    <p class="help">"Off: a service's scope check passes only for a token that holds the scope."</p>
                    <div class="checkbox">
                        <input type="checkbox" id="require-fine-grained" name="require_fine_grained" value="on"
                            checked=loaded.require_fine_grained/>
                        <label for="require-fine-grained">"New tokens must be fine-grained"</label>
                    </div>
                    <p class="help">"Tokens made before keep working."</p>
                    <FormError error=settings_error/>
                    <button type="submit" class="button secondary">"Save settings"</button>
                </ActionForm>
            </section>
        }/>
    }
}
