//! Webhooks (docs/webhooks.md): a team's Webhooks tab (`/teams/<slug>/webhooks`, team admins)
//! and the instance's (`/admin/webhooks`, instance admins), one page for both: each endpoint
//! with its state and latest deliveries (status, attempts, next try) and Redeliver; adding one
//! (its secret shown once), rotating its secret, removing it. The rules are `domain::webhooks`.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::{
    components::{FieldError, FormError, Loaded, SecretValue, action_error},
    error::AppError,
    teams::TeamTabs,
};

/// An event an endpoint of this scope can take.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventChoice {
    /// `token.created`
    pub name: String,
    /// "a token is created"
    pub words: String,
}

/// One delivery as the page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRow {
    pub message_id: String,
    pub event_type: String,
    /// "Delivered", "Waiting", "Failed".
    pub state: String,
    pub attempts: i32,
    /// The last answer: "200", "503", or the error in words.
    pub last_result: String,
    pub created: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookRow {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    /// "On", "Failing since …, next try …", "Off: …".
    pub state: String,
    pub healthy: bool,
    /// Until when the previous secret signs too, during a rotation.
    pub rotation_until: Option<String>,
    pub deliveries: Vec<DeliveryRow>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhooksView {
    /// The team's slug; empty for the instance's webhooks.
    pub team: String,
    pub hooks: Vec<WebhookRow>,
    pub events: Vec<EventChoice>,
}

/// A new secret, in this one answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSecret {
    pub id: String,
    pub url: String,
    pub secret: String,
}

#[cfg(feature = "ssr")]
fn scope_of(team: &str) -> Result<domain::webhooks::Scope, AppError> {
    Ok(if team.is_empty() {
        domain::webhooks::Scope::Instance
    } else {
        domain::webhooks::Scope::Team(crate::teams::team_slug(team)?)
    })
}

#[cfg(feature = "ssr")]
fn row(w: domain::webhooks::Webhook) -> WebhookRow {
    use domain::time::minute;
    let state = match (&w.disabled_at, &w.failing_since, &w.next_attempt_at) {
        (Some(at), ..) => format!(
            "Off since {}: {}",
            minute(*at),
            w.disabled_reason.clone().unwrap_or_default()
        ),
        (None, Some(since), Some(next)) => {
            format!(
                "Failing since {}; next try {}",
                minute(*since),
                minute(*next)
            )
        }
        (None, Some(since), None) => format!("Failing since {}", minute(*since)),
        (None, None, _) => "On".to_string(),
    };
    WebhookRow {
        healthy: w.disabled_at.is_none() && w.failing_since.is_none(),
        rotation_until: w.previous_secret_until.map(minute),
        deliveries: w
            .deliveries
            .into_iter()
            .map(|d| DeliveryRow {
                state: match d.state.as_str() {
                    "delivered" => "Delivered",
                    "failed" => "Failed",
                    _ => "Waiting",
                }
                .to_string(),
                last_result: match (d.last_status, d.last_error) {
                    (Some(status), _) => status.to_string(),
                    (None, Some(error)) => error,
                    (None, None) => "not tried yet".to_string(),
                },
                created: minute(d.created_at),
                message_id: d.message_id,
                event_type: d.event_type,
                attempts: d.attempts,
            })
            .collect(),
        state,
        id: w.id,
        url: w.url,
        events: w.events,
    }
}

/// The scope's webhooks (`team` empty: the instance's).
#[server(prefix = "/rpc", endpoint = "list_webhooks")]
pub async fn list_webhooks(team: String) -> Result<WebhooksView, AppError> {
    use crate::session::{db, origin, require_user};
    let user = require_user()?;
    let scope = scope_of(&team)?;
    let hooks = domain::webhooks::list(&db()?, origin(&user).into(), &scope).await?;
    let events = domain::webhooks::EventType::ALL
        .iter()
        .filter(|e| team.is_empty() || e.for_teams())
        .map(|e| EventChoice {
            name: e.as_str().to_string(),
            words: e.words().to_string(),
        })
        .collect();
    Ok(WebhooksView {
        team,
        hooks: hooks.into_iter().map(row).collect(),
        events,
    })
}

/// Adds an endpoint (sudo mode: it sends the scope's events out of patdesk).
#[server(prefix = "/rpc", endpoint = "create_webhook")]
pub async fn create_webhook(
    team: String,
    url: String,
    events: Option<Vec<String>>,
) -> Result<NewSecret, AppError> {
    use crate::session::{db, origin, require_recent_sign_in, sealing_key};
    let user = require_recent_sign_in()?;
    let allow_private = use_context::<domain::webhooks::PrivateDestinations>()
        .unwrap_or_default()
        .0;
    let (hook, secret) = domain::webhooks::create(
        &db()?,
        &sealing_key()?,
        origin(&user).into(),
        &scope_of(&team)?,
        &url,
        &events.unwrap_or_default(),
        allow_private,
    )
    .await?;
    crate::request::no_store();
    Ok(NewSecret {
        id: hook.id,
        url: hook.url,
        secret: secret.expose().to_string(),
    })
}

/// A new signing secret (sudo mode); the old one signs too for 24 hours.
#[server(prefix = "/rpc", endpoint = "rotate_webhook_secret")]
pub async fn rotate_webhook_secret(team: String, id: String) -> Result<NewSecret, AppError> {
    use crate::session::{db, origin, require_recent_sign_in, sealing_key};
    let user = require_recent_sign_in()?;
    let db = db()?;
    let scope = scope_of(&team)?;
    let secret =
        domain::webhooks::rotate_secret(&db, &sealing_key()?, origin(&user).into(), &scope, &id)
            .await?;
    crate::request::no_store();
    Ok(NewSecret {
        url: String::new(),
        id,
        secret: secret.expose().to_string(),
    })
}

#[server(prefix = "/rpc", endpoint = "delete_webhook")]
pub async fn delete_webhook(team: String, id: String) -> Result<(), AppError> {
    use crate::session::{db, origin, require_user};
    let user = require_user()?;
    domain::webhooks::delete(&db()?, origin(&user).into(), &scope_of(&team)?, &id).await?;
    Ok(())
}

#[server(prefix = "/rpc", endpoint = "redeliver_webhook")]
pub async fn redeliver_webhook(team: String, id: String, message: String) -> Result<(), AppError> {
    use crate::session::{db, origin, require_user};
    let user = require_user()?;
    domain::webhooks::redeliver(
        &db()?,
        origin(&user).into(),
        &scope_of(&team)?,
        &id,
        &message,
    )
    .await?;
    Ok(())
}

lazy_page! {
    /// The Webhooks tab (and `/admin/webhooks`, the same page without a team) as a lazily
    /// loaded route (docs/frontend.md).
    WebhooksRoute => WebhooksPage
}

#[component]
pub fn WebhooksPage() -> impl IntoView {
    let params = use_params_map();
    // `/admin/webhooks` has no slug: the instance's webhooks.
    let team = move || params.read().get("slug").unwrap_or_default();
    let create = ServerAction::<CreateWebhook>::new();
    crate::sudo::retry_after_confirming(create);
    let rotate = ServerAction::<RotateWebhookSecret>::new();
    crate::sudo::retry_after_confirming(rotate);
    let delete = ServerAction::<DeleteWebhook>::new();
    let redeliver = ServerAction::<RedeliverWebhook>::new();
    let hooks = Resource::new(
        move || {
            (
                team(),
                create.version().get(),
                rotate.version().get(),
                delete.version().get(),
                redeliver.version().get(),
            )
        },
        |(team, ..)| list_webhooks(team),
    );
    let create_error = action_error(create.value());
    let change_error = action_error(rotate.value());
    let delete_error = action_error(delete.value());
    let redeliver_error = action_error(redeliver.value());
    let heading = move || {
        let team = team();
        if team.is_empty() {
            view! {
                <Title text="Webhooks · Admin"/>
                <h1>"Admin"</h1>
                <crate::admin::AdminTabs current="webhooks"/>
                <p class="muted">
                    "Every team's token and member events, the accounts' events, and the audit stream (every activity entry), posted to your systems and signed as Standard Webhooks says."
                </p>
            }
            .into_any()
        } else {
            view! {
                <Title text="Webhooks"/>
                <p class="breadcrumb"><a href="/teams">"Teams"</a> " / " {team.clone()}</p>
                <h1>{team.clone()}</h1>
                <TeamTabs slug=team current="webhooks" is_admin=true/>
                <p class="muted">
                    "This team's token and member events, posted to your systems and signed as Standard Webhooks says."
                </p>
            }
            .into_any()
        }
    };
    let shown_secret = move || {
        let (title, new) = match (create.value().get(), rotate.value().get()) {
            (Some(Ok(new)), _) if create.version().get() >= rotate.version().get() => {
                ("Signing secret for the new webhook", new)
            }
            (_, Some(Ok(new))) => (
                "New signing secret (the old one signs too for 24 hours)",
                new,
            ),
            _ => return None,
        };
        Some(view! {
            <section class="once-only" role="region" aria-label="Signing secret" data-testid="webhook-secret-panel">
                <h2>{title}</h2>
                <p class="warning"><strong>"Copy it now: you will not be able to see it again."</strong></p>
                <p>"Webhook " <code>{new.id.clone()}</code> " " {new.url.clone()}</p>
                <SecretValue value=new.secret.clone() id="webhook-secret" what="Signing secret" test_id="webhook-secret"/>
                <p class="muted">"Give it to your receiver's Standard Webhooks verifier (for example Webhook(secret).verify(body, headers))."</p>
            </section>
        })
    };
    view! {
        {heading}
        {shown_secret}
        <FormError error=change_error/>
        <FormError error=delete_error/>
        <FormError error=redeliver_error/>
        <Loaded resource=hooks render=move |loaded: WebhooksView| view! {
            <WebhookList loaded=loaded.clone() rotate delete redeliver/>
            <NewWebhookForm loaded create create_error/>
        }/>
    }
}

#[component]
fn WebhookList(
    loaded: WebhooksView,
    rotate: ServerAction<RotateWebhookSecret>,
    delete: ServerAction<DeleteWebhook>,
    redeliver: ServerAction<RedeliverWebhook>,
) -> impl IntoView {
    if loaded.hooks.is_empty() {
        return view! { <p class="empty" data-testid="no-webhooks">"No webhooks yet."</p> }
            .into_any();
    }
    let team = loaded.team;
    loaded
        .hooks
        .into_iter()
        .map(|hook| {
            let deliveries = if hook.deliveries.is_empty() {
                view! { <p class="empty">"No deliveries yet."</p> }.into_any()
            } else {
                view! {
                    <DeliveryTable team=team.clone() id=hook.id.clone() url=hook.url.clone()
                        deliveries=hook.deliveries.clone() redeliver/>
                }
                .into_any()
            };
            let (team_rotate, team_remove) = (team.clone(), team.clone());
            let (id_rotate, id_remove, url) = (hook.id.clone(), hook.id.clone(), hook.url.clone());
            let rotate_label = format!("Rotate the secret of {url}");
            let remove_label = format!("Remove {url}");
            view! {
                <section class="card webhook" data-webhook-id=hook.id.clone()>
                    <h2 class="webhook-url"><code>{url}</code></h2>
                    <p>
                        <span class=if hook.healthy { "badge ok" } else { "badge warn" } data-testid="webhook-state">{hook.state.clone()}</span>
                        " " <code>{hook.id.clone()}</code>
                    </p>
                    <p class="muted">"Events: " {hook.events.join(", ")}</p>
                    {hook.rotation_until.clone().map(|until| view! {
                        <p class="muted">{format!("The previous secret signs too until {until}.")}</p>
                    })}
                    <div class="actions">
                        <ActionForm action=rotate attr:class="inline-form">
                            <input type="hidden" name="team" value=team_rotate/>
                            <input type="hidden" name="id" value=id_rotate/>
                            <button type="submit" class="button secondary" aria-label=rotate_label>"Rotate secret"</button>
                        </ActionForm>
                        <ActionForm action=delete attr:class="inline-form">
                            <input type="hidden" name="team" value=team_remove/>
                            <input type="hidden" name="id" value=id_remove/>
                            <button type="submit" class="button danger" aria-label=remove_label>"Remove"</button>
                        </ActionForm>
                    </div>
                    {deliveries}
                </section>
            }
        })
        .collect_view()
        .into_any()
}

/// An endpoint's latest deliveries, each with Redeliver.
#[component]
fn DeliveryTable(
    team: String,
    id: String,
    url: String,
    deliveries: Vec<DeliveryRow>,
    redeliver: ServerAction<RedeliverWebhook>,
) -> impl IntoView {
    let rows = deliveries
        .into_iter()
        .map(|d| {
            let label = format!("Redeliver {} ({})", d.event_type, d.message_id);
            let (team, id, message) = (team.clone(), id.clone(), d.message_id.clone());
            view! {
                <tr data-message-id=d.message_id>
                    <td data-label="Event"><code>{d.event_type}</code></td>
                    <td data-label="State">{d.state}</td>
                    <td data-label="Attempts">{d.attempts}</td>
                    <td data-label="Last answer">{d.last_result}</td>
                    <td data-label="Happened">{d.created}</td>
                    <td class="actions">
                        <ActionForm action=redeliver>
                            <input type="hidden" name="team" value=team/>
                            <input type="hidden" name="id" value=id/>
                            <input type="hidden" name="message" value=message/>
                            <button type="submit" class="button secondary" aria-label=label>"Redeliver"</button>
                        </ActionForm>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
        <table class="table deliveries">
            <caption class="visually-hidden">{format!("Latest deliveries to {url}")}</caption>
            <thead><tr>
                <th scope="col">"Event"</th><th scope="col">"State"</th><th scope="col">"Attempts"</th>
                <th scope="col">"Last answer"</th><th scope="col">"Happened"</th>
                <th scope="col"><span class="visually-hidden">"Actions"</span></th>
            </tr></thead>
            <tbody>{rows}</tbody>
        </table>
        </div>
    }
}

#[component]
fn NewWebhookForm(
    loaded: WebhooksView,
    create: ServerAction<CreateWebhook>,
    create_error: Signal<Option<AppError>>,
) -> impl IntoView {
    view! {
        <section class="card">
            <h2>"New webhook"</h2>
            <ActionForm action=create attr:novalidate=true>
                <input type="hidden" name="team" value=loaded.team.clone()/>
                <label for="webhook-url">"Payload URL"</label>
                <input id="webhook-url" name="url" type="url" required placeholder="https://hooks.example.com/patdesk"
                    autocomplete="off" aria-describedby="webhook-url-help webhook-url-error"/>
                <p class="help" id="webhook-url-help">"patdesk posts each event there as JSON, signed with the secret shown once after you add it. Only public addresses."</p>
                <FieldError error=create_error field="url" id="webhook-url-error"/>
                <fieldset aria-describedby="webhook-events-error">
                    <legend>"Events"</legend>
                    {loaded.events.into_iter().map(|e| {
                        let field = format!("event-{}", e.name.replace('.', "-"));
                        view! {
                            <div class="checkbox">
                                <input type="checkbox" id=field.clone() name="events[]" value=e.name.clone()/>
                                <label for=field><code>{e.name.clone()}</code> " " <span class="muted">{e.words.clone()}</span></label>
                            </div>
                        }
                    }).collect_view()}
                </fieldset>
                <FieldError error=create_error field="events" id="webhook-events-error"/>
                <FormError error=create_error/>
                <button type="submit" class="button">"Add webhook"</button>
            </ActionForm>
        </section>
    }
}
