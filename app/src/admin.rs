//! `/admin`, for instance admins: the instance's token policy (maximum lifetime, whether tokens
//! must expire, the API explorer's token lifetime), two-factor sign-in, who may have an account
//! (sign-ups, SCIM's reach over instance admins), single sign-on and SCIM (`app::scim`) at
//! `/admin`, every account with suspension at
//! `/admin/users`, and every token at `/admin/tokens` (`app::team_tokens`, without a team). The
//! rules are `domain::tokens::policy` and `domain::identity::users`; the server functions refuse everyone else
//! (403).

use common::{MAX_LIFETIME_DAYS, Role};
use leptos::prelude::*;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

use crate::{
    components::{FieldError, FormError, Loaded, action_error},
    error::AppError,
};

/// The policy as the form shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyView {
    pub max_lifetime_days: Option<u32>,
    pub require_expiry: bool,
    pub explorer_lifetime_hours: u32,
}

/// What saving the policy did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicySaved {
    pub shortened: u64,
    pub summary: String,
}

/// An account as the Users tab shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRow {
    pub username: String,
    pub is_admin: bool,
    pub suspended: bool,
    pub created: String,
    pub live_tokens: u64,
    /// The signed-in admin's own account (which they cannot suspend).
    pub is_me: bool,
}

#[server(prefix = "/rpc", endpoint = "all_accounts")]
pub async fn all_accounts() -> Result<Vec<AccountRow>, AppError> {
    use domain::Actor;
    let user = crate::session::require_user()?;
    let accounts =
        domain::identity::users::list_accounts(&crate::session::db()?, Actor::User(user.id))
            .await?;
    Ok(accounts
        .into_iter()
        .map(|a| AccountRow {
            is_me: a.id == user.id,
            username: a.username,
            is_admin: a.is_admin,
            suspended: a.suspended,
            created: domain::time::date(a.created_at),
            live_tokens: a.live_tokens,
        })
        .collect())
}

/// Suspends (`suspend` = true) or reactivates an account.
#[server(prefix = "/rpc", endpoint = "set_suspended")]
pub async fn set_suspended(username: String, suspend: bool) -> Result<(), AppError> {
    use domain::identity::names::Username;

    use crate::session::{db, origin};
    let user = require_instance_admin_change()?;
    let username = Username::parse(&username)?;
    domain::identity::users::set_suspended(&db()?, origin(&user).into(), &username, suspend)
        .await?;
    Ok(())
}

/// The tabs of the admin area.
#[component]
pub(crate) fn AdminTabs(current: &'static str) -> impl IntoView {
    let tab = move |name: &'static str, label: &'static str, href: &'static str| {
        let current = (current == name).then_some("page");
        view! { <li><a href=href aria-current=current>{label}</a></li> }
    };
    view! {
        <nav class="tabs" aria-label="Admin">
            <ul>
                {tab("policy", "Token policy", "/admin")}
                {tab("users", "Users", "/admin/users")}
                {tab("tokens", "All tokens", "/admin/tokens")}
                {tab("webhooks", "Webhooks", "/admin/webhooks")}
            </ul>
        </nav>
    }
}

/// The signed-in user, if an instance admin; 403 for anyone else.
#[cfg(feature = "ssr")]
fn require_instance_admin() -> Result<domain::identity::users::User, AppError> {
    let user = crate::session::require_user()?;
    if user.is_admin {
        Ok(user)
    } else {
        Err(AppError::Forbidden(
            "Only instance admins can see or change the token policy.".into(),
        ))
    }
}

/// An instance admin making a change: refused to anyone else, and asked to confirm who they
/// are when their sign-in is older than the sudo window (`crate::sudo`).
#[cfg(feature = "ssr")]
fn require_instance_admin_change() -> Result<domain::identity::users::User, AppError> {
    require_instance_admin()?;
    crate::session::require_recent_sign_in()
}

#[server(prefix = "/rpc", endpoint = "instance_policy")]
pub async fn instance_policy() -> Result<PolicyView, AppError> {
    require_instance_admin()?;
    let policy = domain::tokens::policy::current(&crate::session::db()?).await?;
    Ok(PolicyView {
        max_lifetime_days: policy.max_lifetime_days,
        require_expiry: policy.require_expiry,
        explorer_lifetime_hours: policy.explorer_lifetime_hours,
    })
}

#[server(prefix = "/rpc", endpoint = "set_instance_policy")]
pub async fn set_instance_policy(
    max_lifetime_days: String,
    require_expiry: Option<String>,
    explorer_lifetime_hours: String,
) -> Result<PolicySaved, AppError> {
    use domain::{Error, tokens::policy::Policy};

    use crate::session::{db, origin};
    let admin = require_instance_admin_change()?;
    let max = match max_lifetime_days.trim() {
        "" | "none" => None,
        days => Some(days.parse::<u32>().map_err(|_| {
            Error::invalid(
                "max_lifetime_days",
                format!(
                    "Enter a number of days (1 to {MAX_LIFETIME_DAYS}), or leave it empty for no maximum."
                ),
            )
        })?),
    };
    let hours = explorer_lifetime_hours.trim().parse::<u32>().map_err(|_| {
        Error::invalid(
            "explorer_lifetime_hours",
            "Enter the API explorer's token lifetime in hours.",
        )
    })?;
    // An HTML checkbox sends its value only when checked.
    let require = crate::components::checkbox_on(require_expiry);
    let policy = Policy::new(max, require, hours)?;
    let applied = domain::tokens::policy::set(&db()?, origin(&admin).into(), policy).await?;
    Ok(PolicySaved {
        shortened: applied.shortened,
        summary: policy.in_words(),
    })
}

lazy_page! {
    /// The admin area as a lazily loaded route (docs/frontend.md).
    AdminRoute => AdminPage
}

#[component]
pub fn AdminPage() -> impl IntoView {
    let save = ServerAction::<SetInstancePolicy>::new();
    crate::sudo::retry_after_confirming(save);
    let policy = Resource::new(move || save.version().get(), |_| instance_policy());
    let saved = move || match save.value().get() {
        Some(Ok(saved)) => Some(match saved.shortened {
            0 => format!("Policy saved ({}). No tokens shortened.", saved.summary),
            1 => format!("Policy saved ({}). 1 token shortened.", saved.summary),
            n => format!("Policy saved ({}). {n} tokens shortened.", saved.summary),
        }),
        _ => None,
    };
    view! {
        <Title text="Admin"/>
        <h1>"Admin"</h1>
        <AdminTabs current="policy"/>
        <p class="banner ok" role="status" data-testid="policy-saved" hidden=move || saved().is_none()>{saved}</p>
        <Loaded resource=policy render=move |policy| view! { <PolicyForm policy save/> }/>
        <TwoFactorPolicyCard/>
        <AccountPolicyCard/>
        <SingleSignOnSettings/>
        <crate::scim::ScimCredentials/>
    }
}

/// Whether password accounts must set up two-factor sign-in, and in how many days.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoFactorPolicyView {
    pub required: bool,
    pub grace_days: u32,
}

#[server(prefix = "/rpc", endpoint = "two_factor_policy")]
pub async fn two_factor_policy() -> Result<TwoFactorPolicyView, AppError> {
    require_instance_admin()?;
    let policy = domain::identity::two_factor::requirement::policy(&crate::session::db()?).await?;
    Ok(TwoFactorPolicyView {
        required: policy.required,
        grace_days: policy.grace_days,
    })
}

#[server(prefix = "/rpc", endpoint = "set_two_factor_policy")]
pub async fn set_two_factor_policy(
    required: Option<String>,
    grace_days: String,
) -> Result<(), AppError> {
    use domain::identity::two_factor::requirement::{self, MAX_GRACE_DAYS, TwoFactorPolicy};

    use crate::session::{db, origin};
    let admin = require_instance_admin_change()?;
    let grace_days = grace_days.trim().parse::<u32>().map_err(|_| {
        AppError::field(
            "grace_days",
            format!("Enter a whole number of days from 0 to {MAX_GRACE_DAYS}."),
        )
    })?;
    let new = TwoFactorPolicy {
        required: crate::components::checkbox_on(required),
        grace_days,
    };
    requirement::set(&db()?, origin(&admin).into(), new).await?;
    Ok(())
}

#[component]
fn TwoFactorPolicyCard() -> impl IntoView {
    let save = ServerAction::<SetTwoFactorPolicy>::new();
    crate::sudo::retry_after_confirming(save);
    let policy = Resource::new(move || save.version().get(), |_| two_factor_policy());
    let error = action_error(save.value());
    let saved = move || matches!(save.value().get(), Some(Ok(())));
    let render = move |policy: TwoFactorPolicyView| {
        view! {
            <section class="card" data-testid="two-factor-policy">
                <h2>"Two-factor sign-in"</h2>
                <ActionForm action=save>
                    <div class="checkbox">
                        <input type="checkbox" id="require-2fa" name="required" value="on" checked=policy.required/>
                        <label for="require-2fa">"Require two-factor sign-in of password accounts"</label>
                    </div>
                    <label for="grace-days">"Days to set it up"</label>
                    <input id="grace-days" name="grace_days" type="number" min="0" max="365" required
                        value=policy.grace_days.to_string() aria-describedby="grace-days-help grace-days-error"/>
                    <p class="help" id="grace-days-help">"Counted from when you turn the requirement on (or from a new account's creation). People see the days left in the header; after that they can reach only their Account page until they set it up. Accounts that sign in with single sign-on only are exempt."</p>
                    <FieldError error field="grace_days" id="grace-days-error"/>
                    <FormError error/>
                    <p class="banner ok" role="status" hidden=move || !saved()>"Saved."</p>
                    <button type="submit" class="button">"Save"</button>
                </ActionForm>
            </section>
        }
    };
    view! { <Loaded resource=policy render/> }
}

/// Who may have an account: sign-ups, and whether SCIM reaches instance admins.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountPolicyView {
    /// `open`, `closed` or `sso`, as set.
    pub sign_ups: String,
    /// Single sign-on is required, which rules out password sign-ups whatever the setting.
    pub sso_required: bool,
    pub scim_manages_admins: bool,
}

#[server(prefix = "/rpc", endpoint = "account_policy")]
pub async fn account_policy() -> Result<AccountPolicyView, AppError> {
    use domain::identity::{scim, sign_ups, sso};
    require_instance_admin()?;
    let db = crate::session::db()?;
    Ok(AccountPolicyView {
        sign_ups: sign_ups::setting(&db).await?.as_str().to_string(),
        sso_required: sso::required(&db).await?,
        scim_manages_admins: scim::manages_admins(&db).await?,
    })
}

/// Sets who may sign up (`open`, `closed`, `sso`) and whether SCIM may change instance admins
/// (`scim_manages_admins` = "on"); each is changed (and recorded) only when it differs.
#[server(prefix = "/rpc", endpoint = "set_account_policy")]
pub async fn set_account_policy(
    sign_ups: String,
    scim_manages_admins: Option<String>,
) -> Result<(), AppError> {
    use domain::identity::{
        scim,
        sign_ups::{self, SignUps},
    };

    use crate::session::{db, origin};
    let admin = require_instance_admin_change()?;
    let wanted = SignUps::parse(&sign_ups)?;
    let allow_scim = crate::components::checkbox_on(scim_manages_admins);
    let db = db()?;
    if sign_ups::setting(&db).await? != wanted {
        domain::tokens::policy::set_sign_ups(&db, origin(&admin).into(), wanted).await?;
    }
    if scim::manages_admins(&db).await? != allow_scim {
        scim::set_manages_admins(&db, origin(&admin).into(), allow_scim).await?;
    }
    Ok(())
}

#[component]
fn AccountPolicyCard() -> impl IntoView {
    let save = ServerAction::<SetAccountPolicy>::new();
    crate::sudo::retry_after_confirming(save);
    let policy = Resource::new(move || save.version().get(), |_| account_policy());
    let error = action_error(save.value());
    let saved = move || matches!(save.value().get(), Some(Ok(())));
    let render = move |policy: AccountPolicyView| {
        let choice = |value: &'static str, label: &'static str, current: &str| {
            let id = format!("sign-ups-{value}");
            view! {
                <div class="checkbox">
                    <input type="radio" id=id.clone() name="sign_ups" value=value checked=current == value/>
                    <label for=id>{label}</label>
                </div>
            }
        };
        view! {
            <section class="card" data-testid="account-policy">
                <h2>"Who may have an account"</h2>
                <ActionForm action=save>
                    <fieldset>
                        <legend>"Sign-ups"</legend>
                        {choice("open", "Open: anyone may sign up with a password", &policy.sign_ups)}
                        {choice("closed", "Closed: admins add people (patdesk user add, SCIM, single sign-on)", &policy.sign_ups)}
                        {choice("sso", "Single sign-on only: accounts are made at a first single sign-on", &policy.sign_ups)}
                    </fieldset>
                    {policy.sso_required.then(|| view! {
                        <p class="help" data-testid="sign-ups-sso-required">"Single sign-on is required: nobody signs up with a password, whatever this says."</p>
                    })}
                    <FieldError error field="sign_ups" id="sign-ups-error"/>
                    <div class="checkbox">
                        <input type="checkbox" id="scim-manages-admins" name="scim_manages_admins" value="on" checked=policy.scim_manages_admins/>
                        <label for="scim-manages-admins">"Let SCIM change, deactivate and delete instance admins"</label>
                    </div>
                    <p class="help">"Off by default: a directory still lists instance admins, but cannot rewrite their email or externalId, deactivate or delete them."</p>
                    <FormError error/>
                    <p class="banner ok" role="status" hidden=move || !saved()>"Saved."</p>
                    <button type="submit" class="button">"Save"</button>
                </ActionForm>
            </section>
        }
    };
    view! { <Loaded resource=policy render/> }
}

/// Single sign-on as this instance is set up, and whether it is required.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoAdminView {
    pub shown: crate::auth::SsoShown,
    pub required: bool,
    /// Provider groups mapped to teams: (group, team, role).
    pub groups: Vec<(String, String, Role)>,
}

#[server(prefix = "/rpc", endpoint = "sso_settings")]
pub async fn sso_settings() -> Result<Option<SsoAdminView>, AppError> {
    use crate::session::db;
    require_instance_admin()?;
    let Some(shown) = crate::auth::single_sign_on() else {
        return Ok(None);
    };
    let db = db()?;
    let required = domain::identity::sso::required(&db).await?;
    let groups = domain::identity::group_sync::list(&db)
        .await?
        .into_iter()
        .map(|m| (m.group, m.team, m.role))
        .collect();
    Ok(Some(SsoAdminView {
        shown,
        required,
        groups,
    }))
}

/// Maps a provider group to a team and role (replacing its mapping, if any).
#[server(prefix = "/rpc", endpoint = "map_sso_group")]
pub async fn map_sso_group(group: String, team: String, role: String) -> Result<(), AppError> {
    use crate::session::{db, origin};
    let admin = require_instance_admin_change()?;
    let team = domain::identity::names::TeamSlug::parse(&team)?;
    let role = Role::parse(&role).map_err(|e| AppError::field("role", e.to_string()))?;
    domain::identity::group_sync::map(&db()?, origin(&admin).into(), &group, &team, role).await?;
    Ok(())
}

/// Removes a provider group's mapping.
#[server(prefix = "/rpc", endpoint = "unmap_sso_group")]
pub async fn unmap_sso_group(group: String) -> Result<(), AppError> {
    use crate::session::{db, origin};
    let admin = require_instance_admin_change()?;
    domain::identity::group_sync::unmap(&db()?, origin(&admin).into(), &group).await?;
    Ok(())
}

/// Requires single sign-on (`required` = "on") or stops requiring it.
#[server(prefix = "/rpc", endpoint = "set_sso_required")]
pub async fn set_sso_required(required: Option<String>) -> Result<(), AppError> {
    use crate::session::{db, origin};
    let admin = require_instance_admin_change()?;
    let required = crate::components::checkbox_on(required);
    domain::identity::sso::set_required(&db()?, origin(&admin).into(), required).await?;
    Ok(())
}

/// The identity provider patdesk signs people in with (never its client secret), and the
/// switch that makes it the only way in for everyone but instance admins.
#[component]
fn SingleSignOnSettings() -> impl IntoView {
    let save = ServerAction::<SetSsoRequired>::new();
    crate::sudo::retry_after_confirming(save);
    let map = ServerAction::<MapSsoGroup>::new();
    crate::sudo::retry_after_confirming(map);
    let unmap = ServerAction::<UnmapSsoGroup>::new();
    crate::sudo::retry_after_confirming(unmap);
    let settings = Resource::new(
        move || {
            (
                save.version().get(),
                map.version().get(),
                unmap.version().get(),
            )
        },
        |_| sso_settings(),
    );
    let error = action_error(save.value());
    let map_error = action_error(map.value());
    let render = move |settings: Option<SsoAdminView>| {
        settings.map(|s| {
            view! {
            <section class="card" data-testid="sso-settings">
                <h2>"Single sign-on"</h2>
                <dl class="facts">
                    <dt>"Provider"</dt><dd><code>{s.shown.issuer.clone()}</code>{format!(" (“{}”)", s.shown.name)}</dd>
                    <dt>"Client ID"</dt><dd><code>{s.shown.client_id.clone()}</code></dd>
                    <dt>"Redirect URI"</dt><dd><code>{s.shown.redirect_uri.clone()}</code></dd>
                </dl>
                <ActionForm action=save>
                    <div class="checkbox">
                        <input type="checkbox" id="require-sso" name="required" value="on" checked=s.required/>
                        <label for="require-sso">"Require single sign-on"</label>
                    </div>
                    <p class="help">"Password sign-in is then refused to everyone but instance admins, who keep it as the way in when the provider is down."</p>
                    <FormError error/>
                    <button type="submit" class="button">"Save"</button>
                </ActionForm>
                <h3>"Groups to teams"</h3>
                <p class="help">"At each single sign-on whose ID token carries a groups claim, the person's memberships in these teams are made to match their groups: added, role changed, or removed. Other teams are left alone."</p>
                {(!s.groups.is_empty()).then(|| view! {
                    <ul class="group-mappings" data-testid="group-mappings">
                        {s.groups.iter().cloned().map(|(group, team, role)| view! {
                            <li>
                                <code>{group.clone()}</code>" → "<code>{team}</code>{format!(" as {role}")}" "
                                <ActionForm action=unmap attr:class="inline">
                                    <input type="hidden" name="group" value=group.clone()/>
                                    <button type="submit" class="link-button" aria-label=format!("Remove the mapping of {group}")>"Remove"</button>
                                </ActionForm>
                            </li>
                        }).collect_view()}
                    </ul>
                })}
                <ActionForm action=map attr:class="inline-fields">
                    <label>"Group "<input name="group" required maxlength="200"/></label>
                    <label>"Team "<input name="team" required placeholder="slug"/></label>
                    <label>"Role "
                        <select name="role">
                            {Role::ALL.into_iter().map(|r| view! { <option value=r.as_str() selected=r == Role::Writer>{r.as_str()}</option> }).collect_view()}
                        </select>
                    </label>
                    <FormError error=map_error/>
                    <button type="submit" class="button secondary">"Map group"</button>
                </ActionForm>
            </section>
            }
        })
    };
    view! { <Loaded resource=settings render/> }
}

#[component]
fn PolicyForm(policy: PolicyView, save: ServerAction<SetInstancePolicy>) -> impl IntoView {
    let error = action_error(save.value());
    view! {
        <section class="card">
            <h2>"Token policy"</h2>
            <p class="muted">
                "Applies to every token on this instance. Tightening it shortens existing tokens that exceed the new maximum "
                "to their creation time plus the maximum (their owners see it in their activity); loosening it changes no token."
            </p>
            <ActionForm action=save>
                <label for="max-lifetime">"Maximum token lifetime (days)"</label>
                <input id="max-lifetime" name="max_lifetime_days" type="number" min="1" max=MAX_LIFETIME_DAYS.to_string() inputmode="numeric"
                    placeholder="No maximum" value=policy.max_lifetime_days.map(|d| d.to_string()).unwrap_or_default()
                    aria-describedby="max-lifetime-help max-lifetime-error"/>
                <p class="help" id="max-lifetime-help">{format!("1 to {MAX_LIFETIME_DAYS}, or empty for no maximum. A maximum also rules out tokens that never expire.")}</p>
                <FieldError error field="max_lifetime_days" id="max-lifetime-error"/>
                <div class="checkbox">
                    <input type="checkbox" id="require-expiry" name="require_expiry" value="on" checked=policy.require_expiry/>
                    <label for="require-expiry">"Tokens must expire"</label>
                </div>
                <label for="explorer-lifetime">"API explorer token lifetime (hours)"</label>
                <input id="explorer-lifetime" name="explorer_lifetime_hours" type="number" min="1" inputmode="numeric" required
                    value=policy.explorer_lifetime_hours.to_string() aria-describedby="explorer-lifetime-help explorer-lifetime-error"/>
                <p class="help" id="explorer-lifetime-help">"Default 24; at most the maximum lifetime."</p>
                <FieldError error field="explorer_lifetime_hours" id="explorer-lifetime-error"/>
                <FormError error/>
                <button type="submit" class="button">"Save policy"</button>
            </ActionForm>
        </section>
    }
}

lazy_page! {
    /// The Users tab as a lazily loaded route (docs/frontend.md).
    AdminUsersRoute => AdminUsersPage
}

#[component]
pub fn AdminUsersPage() -> impl IntoView {
    let change = ServerAction::<SetSuspended>::new();
    crate::sudo::retry_after_confirming(change);
    let accounts = Resource::new(move || change.version().get(), |_| all_accounts());
    let error = action_error(change.value());
    view! {
        <Title text="Users · Admin"/>
        <h1>"Admin"</h1>
        <AdminTabs current="users"/>
        <p class="muted">
            "Suspending an account ends its sessions and stops its tokens at once; its owner is told at sign-in. Reactivating it lets both work again."
        </p>
        <FormError error/>
        <Loaded resource=accounts render=move |rows| view! {
                        <div class="table-wrap">
                        <table class="table accounts">
                            <thead><tr>
                                <th scope="col">"User"</th><th scope="col">"Since"</th><th scope="col">"Live tokens"</th>
                                <th scope="col">"Status"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th>
                            </tr></thead>
                            <tbody>
                                {rows.into_iter().map(|a| view! { <AccountTableRow a change/> }).collect_view()}
                            </tbody>
                        </table>
                        </div>
                    }/>
    }
}

#[component]
fn AccountTableRow(a: AccountRow, change: ServerAction<SetSuspended>) -> impl IntoView {
    let (verb, suspend) = if a.suspended {
        ("Reactivate", "false")
    } else {
        ("Suspend", "true")
    };
    let label = format!("{verb} {}", a.username);
    let username = a.username.clone();
    let class = if a.suspended {
        "button secondary"
    } else {
        "button danger"
    };
    view! {
        <tr data-user=a.username.clone() class:expired-row=a.suspended>
            <td data-label="User">
                {a.username.clone()}
                {a.is_admin.then(|| view! { <span class="badge">"instance admin"</span> })}
            </td>
            <td data-label="Since">{a.created.clone()}</td>
            <td data-label="Live tokens">{a.live_tokens}</td>
            <td data-label="Status">{if a.suspended {
                view! { <span class="revoked">"suspended"</span> }.into_any()
            } else {
                view! { <span>"active"</span> }.into_any()
            }}</td>
            <td class="actions">
                {if a.is_me {
                    view! { <span class="muted">"you"</span> }.into_any()
                } else {
                    view! {
                        <ActionForm action=change>
                            <input type="hidden" name="username" value=username.clone()/>
                            <input type="hidden" name="suspend" value=suspend/>
                            <button type="submit" class=class aria-label=label.clone()>{verb}</button>
                        </ActionForm>
                    }.into_any()
                }}
            </td>
        </tr>
    }
}
