//! The New token form, behind the page's "Generate new token" button. Its team and expiry
//! choices come from the server (`new_token_options`), which checks every submitted value
//! again.

use common::{ExpiryChoices, ExpiryOption};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{
    TokenPage,
    access_choice::{AccessChoice, Preset},
    server::{CreateToken, NewTokenChoices, TeamChoice, new_token_options},
};
use crate::{
    components::{
        CharacterCounter, FieldError, FormError, FormErrors, LazyPart, action_error,
        focus_after_render,
    },
    error::AppError,
};

/// The query parameter that opens the form (the button's link before the wasm has loaded).
pub(super) const OPEN_PARAM: &str = "new";

/// Whether the New token form is open. It opens from the "Generate new token" button: in place
/// once the wasm has loaded, before that through the link `?new`, which the server answers
/// with the form open.
#[derive(Clone, Copy)]
pub struct NewTokenOpening {
    open: RwSignal<bool>,
}

impl NewTokenOpening {
    pub fn from_query() -> Self {
        let open = use_query_map().with_untracked(|query| query.get(OPEN_PARAM).is_some());
        Self {
            open: RwSignal::new(open),
        }
    }

    /// The "Generate new token" button (a link), which also fetches the form's code when the
    /// pointer or the focus reaches it.
    pub fn button(self) -> impl IntoView {
        let preload = move || crate::components::preload_part!(new_token_form);
        view! {
            <a class="button" href=format!("?{OPEN_PARAM}#new-token")
                on:pointerenter=move |_| preload() on:focus=move |_| preload()
                on:click=move |ev| {
                    ev.prevent_default();
                    self.open.set(true);
                }>
                "Generate new token"
            </a>
        }
    }
}

/// The form, while it is open: a lazy part (docs/frontend.md).
#[component]
pub fn NewTokenForm(page: TokenPage, opening: NewTokenOpening) -> impl IntoView {
    view! { <LazyPart open=opening.open part=move || new_token_form(page, opening)/> }
}

/// Loads the form's code (before hydrating a page the server drew with the form open).
#[cfg(feature = "hydrate")]
pub(super) async fn load_form() {
    __preload_new_token_form().await;
}

#[lazy]
fn new_token_form(page: TokenPage, opening: NewTokenOpening) -> AnyView {
    let create = ServerAction::<CreateToken>::new();
    crate::sudo::retry_after_confirming(create);
    let options = Resource::new(|| (), |_| new_token_options());
    // A new token's value is shown once, above the list (the panel brings it into view), and
    // the form closes: shown again emptied below it, it invited a second Generate.
    Effect::new(move |_| {
        if let Some(Ok(issued)) = create.value().get() {
            page.shown.set(Some(issued));
            page.changed.update(|n| *n += 1);
            opening.open.set(false);
        }
    });
    view! {
        <section class="card" id="new-token">
            <h2>"New token"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match options.await {
                        Ok(options) => view! { <NewTokenFields create options opening/> }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
    .into_any()
}

#[component]
fn NewTokenFields(
    create: ServerAction<CreateToken>,
    options: NewTokenChoices,
    opening: NewTokenOpening,
) -> impl IntoView {
    let errors = FormErrors::new(action_error(create.value()));
    let error = errors.shown();
    let NewTokenChoices {
        teams,
        expiry,
        earliest_date,
        latest_date,
    } = options;
    // A template URL (`?new&description=…&team=…&permissions=…&expires=30`, docs/permissions.md)
    // fills the form in; nothing is made until Generate.
    let template = Template::from_query();
    let first = template
        .team
        .clone()
        .filter(|slug| teams.iter().any(|t| t.slug == *slug))
        .or_else(|| teams.first().map(|t| t.slug.clone()))
        .unwrap_or_default();
    let selected = RwSignal::new(first.clone());
    let no_teams = teams.is_empty();
    let description_length = RwSignal::new(0usize);
    // Opened from the button: the description is what to type first.
    focus_after_render("description");
    let max_custom_days = expiry.max_custom_days;
    let dates = (earliest_date.clone(), latest_date.clone());
    // The server's own checks, made before sending: every problem at once, in the same words.
    let check = move |value: &dyn Fn(&str) -> String| {
        let mut found = Vec::new();
        let description = value("description");
        if description.trim().is_empty() {
            found.push(AppError::field(
                "description",
                "Enter a description, so you know what the token is for.",
            ));
        } else if description.trim().chars().count() > DESCRIPTION_MAX {
            found.push(AppError::field(
                "description",
                format!("A description is at most {DESCRIPTION_MAX} characters long."),
            ));
        }
        if value("expiration") == "custom" {
            let date = value("expires_on");
            let (earliest, latest) = &dates;
            if date.trim().is_empty() {
                found.push(AppError::field(
                    "expires_on",
                    "Choose a date for the token to expire.",
                ));
            } else if date.as_str() < earliest.as_str() {
                found.push(AppError::field(
                    "expires_on",
                    "The expiry date must be in the future.",
                ));
            } else if date.as_str() > latest.as_str() {
                found.push(AppError::field(
                    "expires_on",
                    format!("The expiry date can be at most {max_custom_days} days ahead."),
                ));
            }
        }
        if let Some(message) = rate_limit_problem(&value("rate_limit")) {
            found.push(AppError::field("rate_limit", message));
        }
        found
    };
    let description = template.description.clone().unwrap_or_default();
    description_length.set(description.trim().chars().count());
    view! {
            {no_teams.then(|| view! {
                <p class="form-error">"You need to be in a team to create a token. " <a href="/teams">"Create or join a team"</a></p>
            })}
            <div on:submit:capture=move |ev| errors.check_submit(&ev, &check)
                on:input=move |ev| errors.field_changed(&ev)
                on:change=move |ev| errors.field_changed(&ev)>
            <ActionForm action=create attr:novalidate=true>
                <label for="description">"Description"</label>
                <input id="description" name="description" required value=description
                    placeholder="e.g. nightly backup job" aria-describedby="description-help description-count description-error"
                    on:input=move |ev| description_length.set(event_target_value(&ev).trim().chars().count())/>
                <p class="help field-help-row">
                    <span id="description-help">{format!("What is this token for? Up to {DESCRIPTION_MAX} characters.")}</span>
                    <CharacterCounter length=description_length.into() max=DESCRIPTION_MAX id="description-count"/>
                </p>
                <FieldError error field="description" id="description-error"/>
                <TeamSelect teams=teams.clone() selected=selected first error/>
                <ExpirySelect choices=expiry error earliest_date latest_date wanted=template.expires/>
                <AccessChoice teams=teams.clone() selected preset=template.permissions error>
                    <WriteAccess teams selected error/>
                </AccessChoice>
                <label for="allowed_ips">"Allowed IP addresses " <span class="muted">"(optional)"</span></label>
                <textarea id="allowed_ips" name="allowed_ips" rows="3"
                    placeholder="203.0.113.7\n10.0.0.0/8\n2001:db8::/32"
                    aria-describedby="allowed_ips-help allowed_ips-error"></textarea>
                <p class="help" id="allowed_ips-help">
                    "Calls from any other address are refused. One address or CIDR range per line, up to 20; leave empty to allow any address."
                </p>
                <FieldError error field="allowed_ips" id="allowed_ips-error"/>
                <label for="rate_limit">"Rate limit " <span class="muted">"(optional)"</span></label>
                <input id="rate_limit" name="rate_limit" inputmode="numeric" autocomplete="off"
                    placeholder="calls per minute" aria-describedby="rate_limit-help rate_limit-error"/>
                <p class="help" id="rate_limit-help">
                    "At most this many calls per minute (1 to 100,000); more are refused with 429 until the next minute. Leave empty for no limit."
                </p>
                <FieldError error field="rate_limit" id="rate_limit-error"/>
                <FormError error/>
                <div class="form-actions">
                    <button type="submit" class="button" disabled=no_teams>"Generate token"</button>
                    <a class="button secondary" href="?"
                        on:click=move |ev| {
                            ev.prevent_default();
                            opening.open.set(false);
                        }>
                        "Cancel"
                    </a>
                </div>
            </ActionForm>
            </div>
    }
}

/// The longest description (`domain::tokens::parse_description` holds the server to it too).
const DESCRIPTION_MAX: usize = 100;

/// What is wrong with a rate limit as typed, in `domain::tokens::rate_limit::parse`'s words.
fn rate_limit_problem(raw: &str) -> Option<String> {
    const MAX: u32 = 100_000;
    let raw = raw.trim().replace(['_', ','], "");
    if raw.is_empty() {
        return None;
    }
    match raw.parse::<u32>() {
        Err(_) => Some(format!(
            "A rate limit is a whole number of calls per minute from 1 to {MAX}, or empty for none."
        )),
        Ok(n) if !(1..=MAX).contains(&n) => {
            Some(format!("A rate limit is from 1 to {MAX} calls per minute."))
        }
        Ok(_) => None,
    }
}

/// What a template URL fills in (every part optional; a bad part is left out, and the server
/// checks whatever is sent).
struct Template {
    description: Option<String>,
    team: Option<String>,
    permissions: Preset,
    expires: Option<ExpiryOption>,
}

impl Template {
    fn from_query() -> Template {
        use_query_map().with_untracked(|query| Template {
            description: query.get("description"),
            team: query.get("team"),
            permissions: Preset(query.get("permissions").map(|list| {
                list.split([',', ' '])
                    .filter(|p| !p.is_empty())
                    .map(str::to_string)
                    .collect()
            })),
            expires: query
                .get("expires")
                .as_deref()
                .and_then(ExpiryOption::parse),
        })
    }
}

#[component]
fn TeamSelect(
    teams: Vec<TeamChoice>,
    selected: RwSignal<String>,
    /// The team chosen at first.
    first: String,
    error: Signal<Option<crate::error::AppError>>,
) -> impl IntoView {
    view! {
        <label for="team">"Team"</label>
        <select id="team" name="team" aria-describedby="team-error"
            on:change=move |ev| selected.set(event_target_value(&ev))>
            {teams.iter().map(|t| view! {
                <option value=t.slug.clone() selected=t.slug == first>{format!("{} ({}, {})", t.name, t.slug, t.role)}</option>
            }).collect_view()}
        </select>
        <FieldError error field="team" id="team-error"/>
    }
}

/// The expiration menu, rendered from the allowed choices, and the custom date.
#[component]
fn ExpirySelect(
    choices: ExpiryChoices,
    error: Signal<Option<crate::error::AppError>>,
    /// The custom date's bounds (`YYYY-MM-DD`): tomorrow … the policy's furthest day.
    earliest_date: String,
    latest_date: String,
    /// A template URL's choice, when it is one of the choices.
    wanted: Option<ExpiryOption>,
) -> impl IntoView {
    let default = wanted
        .filter(|w| choices.options().contains(w))
        .unwrap_or(ExpiryOption::Days(choices.default_days));
    let max_custom_days = choices.max_custom_days;
    view! {
        <label for="expiration">"Expiration"</label>
        <select id="expiration" name="expiration" aria-describedby="expiration-help expiration-error">
            {choices.options().into_iter().map(|option| view! {
                <option value=option.value() selected=option == default>{option.label()}</option>
            }).collect_view()}
        </select>
        <p class="help" id="expiration-help">"We recommend an expiry: a token that never expires is a standing risk."</p>
        // Shown by CSS (:has) when chosen, so that it also works before the wasm loads.
        <p class="help warn-text never-warning">
            "Tokens without an expiry keep working until you delete them."
        </p>
        <FieldError error field="expiration" id="expiration-error"/>
        <div class="custom-date">
            <label for="expires_on">"Custom expiry date"</label>
            <input id="expires_on" name="expires_on" type="date" min=earliest_date.clone() max=latest_date.clone()
                aria-describedby="expires_on-help expires_on-error"/>
            <p class="help" id="expires_on-help">{format!("From tomorrow up to {max_custom_days} days ahead ({earliest_date} to {latest_date}).")}</p>
            <FieldError error field="expires_on" id="expires_on-error"/>
        </div>
    }
}

/// The write checkbox: enabled only for teams where the user's role allows writing.
#[component]
fn WriteAccess(
    teams: Vec<TeamChoice>,
    selected: RwSignal<String>,
    error: Signal<Option<crate::error::AppError>>,
) -> impl IntoView {
    let chosen = move || {
        let slug = selected.get();
        teams.iter().find(|t| t.slug == slug).cloned()
    };
    let can_write = {
        let chosen = chosen.clone();
        move || chosen().is_some_and(|t| t.can_write())
    };
    let help = move || match chosen() {
        Some(t) if !t.can_write() => format!(
            "Your role in {} is {}: only writers and admins can create write tokens.",
            t.slug, t.role
        ),
        _ => {
            "Lets the token create, edit and delete questions and answers. Leave off for read-only."
                .to_string()
        }
    };
    view! {
        <div class="checkbox">
            <input id="write" name="write" type="checkbox" value="true"
                prop:disabled=move || !can_write()
                aria-describedby="write-help write-error"/>
            <label for="write">"Enable write access"</label>
        </div>
        <p class="help" id="write-help">{help}</p>
        <FieldError error field="write" id="write-error"/>
    }
}
