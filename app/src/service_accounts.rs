//! A team's Service accounts tab (`/teams/<slug>/service-accounts`, team admins;
//! docs/service-accounts.md): the accounts that own tokens without being people, the trust
//! policies that let CI jobs exchange their identity tokens for minutes-long tokens of them, and
//! their live tokens — a federated one with where it came from (repository, ref, run). Making
//! an account, a trust policy or a long-lived token grants access: each needs sudo mode. The
//! rules are `domain::identity::service_accounts` and `domain::tokens::federation`.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::{
    components::{FieldError, FormError, Loaded, SecretValue, action_error},
    error::AppError,
    teams::TeamTabs,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRow {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub role: String,
    pub live_tokens: u64,
    pub created_by: String,
    pub created: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRow {
    pub id: i64,
    pub account: String,
    pub issuer: String,
    pub audience: String,
    /// `claim=pattern` each.
    pub conditions: Vec<String>,
    pub permissions: String,
    pub lifetime_minutes: u32,
}

/// A live token of a service account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountToken {
    pub id: String,
    pub account: String,
    pub description: String,
    pub federated: bool,
    pub access: String,
    pub expires: String,
    /// A federated token's provenance: (claim, value), issuer first.
    pub provenance: Vec<(String, String)>,
}

/// An entry of a service account's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountActivity {
    pub account: String,
    pub what: String,
    pub actor: String,
    pub target: Option<String>,
    pub at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceAccountsView {
    /// The latest entries of the accounts' logs: what their tokens did and where they came from.
    pub activity: Vec<AccountActivity>,
    pub accounts: Vec<AccountRow>,
    pub policies: Vec<PolicyRow>,
    pub tokens: Vec<AccountToken>,
    /// What a policy's audience is when left empty (the public URL).
    pub default_audience: String,
    /// The lifetimes a long-lived token may have, in days, and the default.
    pub expiry_days: Vec<u32>,
    pub default_days: u32,
    /// The team lets its admins make long-lived tokens for service accounts.
    pub long_lived_allowed: bool,
}

/// A long-lived token just made: its value, in this one answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAccountToken {
    pub account: String,
    pub description: String,
    pub secret: String,
}

#[cfg(feature = "ssr")]
use crate::teams::team_slug;

#[server(prefix = "/rpc", endpoint = "team_service_accounts")]
pub async fn team_service_accounts(team: String) -> Result<ServiceAccountsView, AppError> {
    use domain::{
        Actor,
        identity::service_accounts,
        tokens::{self, federation},
    };
    let user = crate::session::require_user()?;
    let db = crate::session::db()?;
    let slug = team_slug(&team)?;
    let actor = Actor::User(user.id);
    let accounts = service_accounts::list(&db, actor, &slug)
        .await?
        .into_iter()
        .map(|a| AccountRow {
            id: a.id,
            role: a.role.to_string(),
            live_tokens: a.live_tokens,
            created: domain::time::date(a.created_at),
            name: a.name,
            description: a.description,
            created_by: a.created_by,
        })
        .collect();
    let policies = federation::policies(&db, actor, &slug)
        .await?
        .into_iter()
        .map(|p| PolicyRow {
            id: p.id,
            conditions: p
                .conditions
                .iter()
                .map(|c| format!("{}={}", c.claim, c.pattern))
                .collect(),
            permissions: p.permissions.join(" "),
            lifetime_minutes: p.lifetime_minutes,
            account: p.service_account,
            issuer: p.issuer,
            audience: p.audience,
        })
        .collect();
    let tokens = service_accounts::tokens(&db, actor, &slug)
        .await?
        .into_iter()
        .map(|(account, t)| {
            let mut provenance: Vec<(String, String)> = federation::provenance_of(&t)
                .unwrap_or_default()
                .into_iter()
                .collect();
            // The issuer first, then the claims by name.
            provenance.sort_by_key(|(claim, _)| (claim != "iss", claim.clone()));
            AccountToken {
                federated: t.kind == tokens::TokenKind::Federated,
                access: match &t.permissions {
                    Some(p) => p.summary(),
                    None if t.write => "whole team: read and write".into(),
                    None => "whole team: read".into(),
                },
                expires: t
                    .expires_at
                    .map_or_else(|| "never".into(), domain::time::minute),
                id: t.id,
                account,
                description: t.description,
                provenance,
            }
        })
        .collect();
    let choices = tokens::expiry_choices(&db).await?;
    let settings = use_context::<federation::Settings>().ok_or(AppError::Internal)?;
    let long_lived_allowed = service_accounts::long_lived_tokens_allowed(&db, actor, &slug).await?;
    let activity = service_accounts::activity(&db, actor, &slug, 20)
        .await?
        .into_iter()
        .map(|(account, entry)| AccountActivity {
            account,
            what: entry.what.to_string(),
            actor: entry.actor,
            target: entry.target,
            at: domain::time::minute(entry.at),
        })
        .collect();
    Ok(ServiceAccountsView {
        activity,
        long_lived_allowed,
        accounts,
        policies,
        tokens,
        default_audience: settings.default_audience,
        expiry_days: choices.preset_days,
        default_days: choices.default_days,
    })
}

/// Makes a service account (sudo mode: a new principal with access to the team).
#[server(prefix = "/rpc", endpoint = "create_service_account")]
pub async fn create_service_account(
    team: String,
    name: String,
    description: String,
    role: String,
) -> Result<(), AppError> {
    use crate::session::{db, origin, require_recent_sign_in};
    let user = require_recent_sign_in()?;
    let role = domain::identity::names::Role::parse(&role).map_err(|e| AppError::Field {
        field: "role".into(),
        message: e.to_string(),
    })?;
    domain::identity::service_accounts::create(
        &db()?,
        origin(&user).into(),
        &team_slug(&team)?,
        &name,
        &description,
        role,
    )
    .await?;
    Ok(())
}

/// Deletes a service account: its tokens stop (taking access away needs no sudo mode).
#[server(prefix = "/rpc", endpoint = "delete_service_account")]
pub async fn delete_service_account(team: String, account: String) -> Result<(), AppError> {
    use crate::session::{db, origin, require_user};
    let user = require_user()?;
    domain::identity::service_accounts::delete(
        &db()?,
        origin(&user).into(),
        &team_slug(&team)?,
        &account,
    )
    .await?;
    Ok(())
}

/// Adds a trust policy (sudo mode: it lets CI jobs act as the account). `conditions` holds one
/// `claim=value` per line; `permissions` is space-separated.
#[server(prefix = "/rpc", endpoint = "add_trust_policy")]
pub async fn add_trust_policy(
    team: String,
    account: String,
    issuer: String,
    audience: String,
    conditions: String,
    permissions: String,
    lifetime_minutes: String,
) -> Result<(), AppError> {
    use crate::session::{db, origin, require_recent_sign_in};
    use domain::tokens::federation;
    let user = require_recent_sign_in()?;
    let lifetime = match lifetime_minutes.trim() {
        "" => None,
        raw => Some(raw.parse::<u32>().map_err(|_| AppError::Field {
            field: "lifetime".into(),
            message: "Enter the lifetime in whole minutes, 5 to 60.".into(),
        })?),
    };
    let conditions: Vec<String> = conditions.lines().map(str::to_string).collect();
    let permissions: Vec<String> = permissions.split_whitespace().map(str::to_string).collect();
    let settings = use_context::<federation::Settings>().ok_or(AppError::Internal)?;
    federation::add_policy(
        &db()?,
        origin(&user).into(),
        &team_slug(&team)?,
        &account,
        federation::NewPolicy {
            issuer: &issuer,
            audience: Some(&audience),
            conditions: &conditions,
            permissions: &permissions,
            lifetime_minutes: lifetime,
        },
        &settings,
    )
    .await?;
    Ok(())
}

/// Whether admins may make long-lived tokens for the team's service accounts (sudo mode:
/// allowing them weakens a control).
#[server(prefix = "/rpc", endpoint = "set_service_account_tokens")]
pub async fn set_service_account_tokens(
    team: String,
    allowed: Option<String>,
) -> Result<(), AppError> {
    use crate::session::{db, origin, require_recent_sign_in};
    let user = require_recent_sign_in()?;
    let allowed = crate::components::checkbox_on(allowed);
    domain::teams::set_service_account_tokens(
        &db()?,
        origin(&user).into(),
        &team_slug(&team)?,
        allowed,
    )
    .await?;
    Ok(())
}

#[server(prefix = "/rpc", endpoint = "remove_trust_policy")]
pub async fn remove_trust_policy(team: String, id: i64) -> Result<(), AppError> {
    use crate::session::{db, origin, require_user};
    let user = require_user()?;
    domain::tokens::federation::remove_policy(&db()?, origin(&user).into(), &team_slug(&team)?, id)
        .await?;
    Ok(())
}

/// A long-lived token for a service account (sudo mode); its value is in this answer only.
/// `permissions` (space-separated) makes it fine-grained; empty, it is whole-team read-only.
#[server(prefix = "/rpc", endpoint = "create_service_account_token")]
pub async fn create_service_account_token(
    team: String,
    account: String,
    description: String,
    permissions: String,
    expiration: u32,
) -> Result<NewAccountToken, AppError> {
    use crate::session::{db, origin, require_recent_sign_in};
    use domain::tokens::{self, Expiry, NewToken, TokenKind, allow_list::AllowList};
    let user = require_recent_sign_in()?;
    let db = db()?;
    let choices = tokens::expiry_choices(&db).await?;
    let permissions = match permissions.trim() {
        "" => None,
        listed => Some(
            tokens::permissions::Permissions::parse_list(listed)
                .map_err(tokens::permissions::invalid)?,
        ),
    };
    let request = NewToken {
        description: &description,
        team: &team,
        write: false,
        permissions,
        expiry: Expiry::days(expiration, &choices)?,
        kind: TokenKind::Personal,
        allowed: AllowList::any(),
        rate_limit: None,
    };
    let issued = domain::identity::service_accounts::create_token(
        &db,
        origin(&user).into(),
        &account,
        request,
    )
    .await?;
    crate::request::no_store();
    Ok(NewAccountToken {
        account,
        description: issued.info.description,
        secret: issued.secret.expose().to_string(),
    })
}

lazy_page! {
    /// The Service accounts tab as a lazily loaded route (docs/frontend.md).
    TeamServiceAccountsRoute => TeamServiceAccountsPage
}

#[component]
pub fn TeamServiceAccountsPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let create = ServerAction::<CreateServiceAccount>::new();
    crate::sudo::retry_after_confirming(create);
    let delete = ServerAction::<DeleteServiceAccount>::new();
    let add_policy = ServerAction::<AddTrustPolicy>::new();
    crate::sudo::retry_after_confirming(add_policy);
    let remove_policy = ServerAction::<RemoveTrustPolicy>::new();
    let make_token = ServerAction::<CreateServiceAccountToken>::new();
    crate::sudo::retry_after_confirming(make_token);
    let long_lived = ServerAction::<SetServiceAccountTokens>::new();
    crate::sudo::retry_after_confirming(long_lived);
    let view_data = Resource::new(
        move || {
            (
                slug(),
                create.version().get(),
                delete.version().get(),
                add_policy.version().get(),
                remove_policy.version().get(),
                make_token.version().get(),
                long_lived.version().get(),
            )
        },
        |(team, ..)| team_service_accounts(team),
    );
    let create_error = action_error(create.value());
    let delete_error = action_error(delete.value());
    let policy_error = action_error(add_policy.value());
    let remove_error = action_error(remove_policy.value());
    let token_error = action_error(make_token.value());
    let long_lived_error = action_error(long_lived.value());
    view! {
        <Title text="Service accounts"/>
        <p class="breadcrumb"><a href="/teams">"Teams"</a> " / " {slug}</p>
        <h1>{slug}</h1>
        <TeamTabs slug=slug() current="service-accounts" is_admin=true/>
        <p class="muted">
            "Service accounts own tokens that are not a person's: they keep working when people leave. "
            "A trust policy lets a CI job (GitHub Actions, GitLab CI) exchange its identity token for a token that lives minutes, "
            "with no secret stored in CI."
        </p>
        <FormError error=delete_error/>
        <FormError error=remove_error/>
        <Loaded resource=view_data render=move |loaded: ServiceAccountsView| {
            let accounts = loaded.accounts.clone();
            view! {
                {if accounts.is_empty() {
                    view! { <p class="empty" data-testid="no-service-accounts">"No service accounts yet."</p> }.into_any()
                } else {
                    view! {
                        <div class="table-wrap">
                        <table class="table service-accounts">
                            <thead><tr>
                                <th scope="col">"Account"</th><th scope="col">"Role"</th><th scope="col">"Live tokens"</th>
                                <th scope="col">"Created by"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th>
                            </tr></thead>
                            <tbody>
                                {accounts.into_iter().map(|a| {
                                    let label = format!("Delete service account {}", a.name);
                                    view! {
                                        <tr data-account=a.name.clone()>
                                            <td data-label="Account"><strong>{a.name.clone()}</strong>
                                                {(!a.description.is_empty()).then(|| view! { <br/><span class="muted">{a.description.clone()}</span> })}
                                            </td>
                                            <td data-label="Role">{a.role.clone()}</td>
                                            <td data-label="Live tokens">{a.live_tokens}</td>
                                            <td data-label="Created by">{format!("{}, {}", a.created_by, a.created)}</td>
                                            <td class="actions">
                                                <ActionForm action=delete>
                                                    <input type="hidden" name="team" value=slug()/>
                                                    <input type="hidden" name="account" value=a.id.to_string()/>
                                                    <button type="submit" class="button danger" aria-label=label>"Delete"</button>
                                                </ActionForm>
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        </div>
                    }.into_any()
                }}
                <PolicyList policies=loaded.policies.clone() slug=slug() remove=remove_policy/>
                <AccountTokens tokens=loaded.tokens.clone()/>
                <AccountLog entries=loaded.activity.clone()/>
            }
        }/>
        {move || match make_token.value().get() {
            Some(Ok(new)) => Some(view! {
                <section class="once-only" role="region" aria-label="New service account token" data-testid="new-account-token-panel">
                    <h2>{format!("Token “{}” for {}", new.description, new.account)}</h2>
                    <p class="warning"><strong>"Copy it now: you will not be able to see it again."</strong></p>
                    <SecretValue value=new.secret.clone() id="new-account-token" what="Token" test_id="new-account-token"/>
                </section>
            }),
            _ => None,
        }}
        <section class="card">
            <h2>"New service account"</h2>
            <ActionForm action=create attr:novalidate=true>
                <input type="hidden" name="team" value=slug/>
                <label for="account-name">"Name"</label>
                <input id="account-name" name="name" required placeholder="e.g. ci-deploy" autocomplete="off"
                    aria-describedby="account-name-error"/>
                <FieldError error=create_error field="name" id="account-name-error"/>
                <label for="account-description">"Description " <span class="muted">"(optional)"</span></label>
                <input id="account-description" name="description" autocomplete="off" aria-describedby="account-description-error"/>
                <FieldError error=create_error field="description" id="account-description-error"/>
                <label for="account-role">"Role"</label>
                <select id="account-role" name="role" aria-describedby="account-role-help">
                    <option value="reader" selected>"reader"</option>
                    <option value="writer">"writer"</option>
                </select>
                <p class="help" id="account-role-help">"Its tokens can never do more than its role allows."</p>
                <FormError error=create_error/>
                <button type="submit" class="button">"Create service account"</button>
            </ActionForm>
        </section>
        <Loaded resource=view_data render=move |loaded: ServiceAccountsView| {
            (!loaded.accounts.is_empty()).then(|| {
                let names: Vec<String> = loaded.accounts.iter().map(|a| a.name.clone()).collect();
                let policy_names = names.clone();
                view! {
                    <section class="card" data-testid="new-trust-policy">
                        <h2>"New trust policy"</h2>
                        <ActionForm action=add_policy attr:novalidate=true>
                            <input type="hidden" name="team" value=slug()/>
                            <AccountChoice id="policy-account" names=policy_names/>
                            <label for="policy-issuer">"Issuer"</label>
                            <input id="policy-issuer" name="issuer" required autocomplete="off"
                                placeholder="https://token.actions.githubusercontent.com"
                                aria-describedby="policy-issuer-help policy-issuer-error"/>
                            <p class="help" id="policy-issuer-help">"GitHub Actions: https://token.actions.githubusercontent.com · GitLab: https://gitlab.com (or your GitLab's URL)."</p>
                            <FieldError error=policy_error field="issuer" id="policy-issuer-error"/>
                            <label for="policy-audience">"Audience " <span class="muted">"(optional)"</span></label>
                            <input id="policy-audience" name="audience" autocomplete="off" placeholder=loaded.default_audience.clone()
                                aria-describedby="policy-audience-help policy-audience-error"/>
                            <p class="help" id="policy-audience-help">{format!("The aud the job asks its CI for. Empty: {}", loaded.default_audience)}</p>
                            <FieldError error=policy_error field="audience" id="policy-audience-error"/>
                            <label for="policy-conditions">"Conditions"</label>
                            <textarea id="policy-conditions" name="conditions" rows="3" required
                                placeholder="repository=acme/app\nref=refs/heads/main"
                                aria-describedby="policy-conditions-help policy-conditions-error"></textarea>
                            <p class="help" id="policy-conditions-help">"One claim=value per line; * matches any characters. One must name a repository, project or namespace."</p>
                            <FieldError error=policy_error field="conditions" id="policy-conditions-error"/>
                            <label for="policy-permissions">"Permissions"</label>
                            <input id="policy-permissions" name="permissions" required autocomplete="off"
                                placeholder="questions:read deploy:run"
                                aria-describedby="policy-permissions-help policy-permissions-error"/>
                            <p class="help" id="policy-permissions-help">"What the minted token may do, separated by spaces."</p>
                            <FieldError error=policy_error field="permissions" id="policy-permissions-error"/>
                            <label for="policy-lifetime">"Lifetime in minutes"</label>
                            <input id="policy-lifetime" name="lifetime_minutes" type="number" min="5" max="60" value="15"
                                aria-describedby="policy-lifetime-error"/>
                            <FieldError error=policy_error field="lifetime" id="policy-lifetime-error"/>
                            <FormError error=policy_error/>
                            <button type="submit" class="button">"Add trust policy"</button>
                        </ActionForm>
                    </section>
                    {loaded.long_lived_allowed.then(|| view! {
                        <section class="card" data-testid="new-account-token-form">
                            <h2>"Long-lived token"</h2>
                            <p class="muted">"Prefer a trust policy: nothing to store, nothing to leak. Where a job cannot prove who it is, make a token here."</p>
                            <ActionForm action=make_token attr:novalidate=true>
                                <input type="hidden" name="team" value=slug()/>
                                <AccountChoice id="token-account" names=names/>
                                <label for="account-token-description">"Description"</label>
                                <input id="account-token-description" name="description" required autocomplete="off"
                                    aria-describedby="account-token-description-error"/>
                                <FieldError error=token_error field="description" id="account-token-description-error"/>
                                <label for="account-token-permissions">"Permissions " <span class="muted">"(optional)"</span></label>
                                <input id="account-token-permissions" name="permissions" autocomplete="off" placeholder="questions:read"
                                    aria-describedby="account-token-permissions-help account-token-permissions-error"/>
                                <p class="help" id="account-token-permissions-help">"Empty: the whole team, read-only."</p>
                                <FieldError error=token_error field="permissions" id="account-token-permissions-error"/>
                                <label for="account-token-expiration">"Expires in"</label>
                                <select id="account-token-expiration" name="expiration">
                                    {loaded.expiry_days.iter().map(|days| {
                                        let selected = *days == loaded.default_days;
                                        view! { <option value=days.to_string() selected=selected>{format!("{days} days")}</option> }
                                    }).collect_view()}
                                </select>
                                <FormError error=token_error/>
                                <button type="submit" class="button secondary">"Create token"</button>
                            </ActionForm>
                    </section>
                    })}
                    <section class="card" data-testid="long-lived-setting">
                        <h2>"Long-lived tokens"</h2>
                        <ActionForm action=long_lived>
                            <input type="hidden" name="team" value=slug()/>
                            <div class="checkbox">
                                <input type="checkbox" id="long-lived-allowed" name="allowed" value="on"
                                    checked=loaded.long_lived_allowed/>
                                <label for="long-lived-allowed">"Admins may make long-lived tokens for service accounts"</label>
                            </div>
                            <p class="help">"Off: service accounts get only the short-lived tokens a trust policy mints. Tokens made before keep working."</p>
                            <FormError error=long_lived_error/>
                            <button type="submit" class="button secondary">"Save setting"</button>
                        </ActionForm>
                    </section>
                }
            })
        }/>
    }
}

/// The account a form is about.
#[component]
fn AccountChoice(id: &'static str, names: Vec<String>) -> impl IntoView {
    view! {
        <label for=id>"Service account"</label>
        <select id=id name="account">
            {names.into_iter().map(|name| view! { <option value=name.clone()>{name.clone()}</option> }).collect_view()}
        </select>
    }
}

#[component]
fn PolicyList(
    policies: Vec<PolicyRow>,
    slug: String,
    remove: ServerAction<RemoveTrustPolicy>,
) -> impl IntoView {
    view! {
        <h2>"Trust policies"</h2>
        {if policies.is_empty() {
            view! { <p class="empty" data-testid="no-trust-policies">"No trust policies: no CI job can act as these accounts."</p> }.into_any()
        } else {
            view! {
                <div class="table-wrap">
                <table class="table trust-policies">
                    <thead><tr>
                        <th scope="col">"Account"</th><th scope="col">"Tokens from"</th><th scope="col">"When"</th>
                        <th scope="col">"Grants"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr></thead>
                    <tbody>
                        {policies.into_iter().map(|p| {
                            let label = format!("Remove trust policy {} of {}", p.id, p.account);
                            let team = slug.clone();
                            view! {
                                <tr data-policy-id=p.id.to_string()>
                                    <td data-label="Account">{p.account.clone()}</td>
                                    <td data-label="Tokens from"><code>{p.issuer.clone()}</code><br/>
                                        <span class="muted">{format!("aud {}", p.audience)}</span></td>
                                    <td data-label="When">{p.conditions.iter().map(|c| view! { <code class="condition">{c.clone()}</code>" " }).collect_view()}</td>
                                    <td data-label="Grants">{format!("{} for {} min", p.permissions, p.lifetime_minutes)}</td>
                                    <td class="actions">
                                        <ActionForm action=remove>
                                            <input type="hidden" name="team" value=team/>
                                            <input type="hidden" name="id" value=p.id.to_string()/>
                                            <button type="submit" class="button danger" aria-label=label>"Remove"</button>
                                        </ActionForm>
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
                </div>
            }.into_any()
        }}
    }
}

/// The accounts' live tokens; a federated one with its provenance. Revoking is the Tokens
/// tab's (governance), as for every token of the team.
#[component]
fn AccountTokens(tokens: Vec<AccountToken>) -> impl IntoView {
    view! {
        <h2>"Their tokens"</h2>
        {if tokens.is_empty() {
            view! { <p class="empty" data-testid="no-account-tokens">"No live tokens."</p> }.into_any()
        } else {
            view! {
                <ul class="account-tokens" data-testid="account-tokens">
                    {tokens.into_iter().map(|t| view! {
                        <li data-token-id=t.id.clone()>
                            <strong>{t.description.clone()}</strong>
                            {format!(" — {} · {} · expires {}", t.account, t.access, t.expires)}
                            {t.federated.then(|| view! { " " <span class="badge">"federated"</span> })}
                            {(!t.provenance.is_empty()).then(|| view! {
                                <dl class="provenance" aria-label="Where it came from">
                                    {t.provenance.iter().map(|(claim, value)| view! {
                                        <div><dt>{claim.clone()}</dt><dd><code>{value.clone()}</code></dd></div>
                                    }).collect_view()}
                                </dl>
                            })}
                        </li>
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
    }
}

/// The latest entries of the accounts' logs (nobody signs in as them to read it).
#[component]
fn AccountLog(entries: Vec<AccountActivity>) -> impl IntoView {
    view! {
        <h2>"Recent activity"</h2>
        {if entries.is_empty() {
            view! { <p class="empty">"Nothing yet."</p> }.into_any()
        } else {
            view! {
                <ul class="account-tokens" data-testid="account-activity">
                    {entries.into_iter().map(|e| view! {
                        <li>
                            <strong>{e.what.clone()}</strong>
                            {format!(" — {} · by {} · {}", e.account, e.actor, e.at)}
                            {e.target.clone().map(|target| view! { <br/><span class="muted">{target}</span> })}
                        </li>
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
    }
}
