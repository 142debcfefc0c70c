//! The New token form's Access fieldset (docs/permissions.md): "Whole team" (the write
//! checkbox, as before) or "Only these permissions" — a compact table, a menu per built-in
//! resource and a checkbox per scope of the chosen team's services. Every control is named
//! `permissions[]`, so the form sends the list as it stands; the server reads it again
//! (`create_token`). Which part shows is CSS's (`:has`), so it works before the wasm has loaded.
//! Part of the New token form's lazy chunk.

use leptos::prelude::*;

use super::server::TeamChoice;
use crate::components::FieldError;

/// What a template URL asks for (`?new&permissions=questions:read,deploy:run`): the
/// permissions to start from, or `None` for the usual defaults.
#[derive(Clone, Debug, Default)]
pub struct Preset(pub Option<Vec<String>>);

impl Preset {
    fn has(&self, permission: &str) -> bool {
        self.0
            .as_ref()
            .is_some_and(|list| list.iter().any(|p| p == permission))
    }
}

/// The built-in resources with levels, as menus: (resource, label, its read and write).
const MENUS: [(&str, &str); 3] = [
    ("questions", "Questions"),
    ("answers", "Answers"),
    ("team_tokens", "The team's tokens (admins' review)"),
];

#[component]
pub fn AccessChoice(
    teams: Vec<TeamChoice>,
    selected: RwSignal<String>,
    preset: Preset,
    error: Signal<Option<crate::error::AppError>>,
    /// The whole-team option's own controls (the write checkbox).
    children: Children,
) -> impl IntoView {
    let teams = StoredValue::new(teams);
    let chosen = move || {
        let slug = selected.get();
        teams.with_value(|teams| teams.iter().find(|t| t.slug == slug).cloned())
    };
    let fine_only = move || chosen().is_some_and(|t| t.fine_grained_only);
    // A template URL's permissions choose "Only these permissions"; so does a team that
    // requires it (chosen again whenever such a team is).
    let start_fine = preset.0.is_some() || untrack(fine_only);
    let only = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if fine_only()
            && let Some(input) = only.get()
        {
            input.set_checked(true);
        }
    });
    let menu = {
        let preset = preset.clone();
        move |(resource, label): (&'static str, &'static str)| {
            let (read, write) = (format!("{resource}:read"), format!("{resource}:write"));
            // Read-only questions unless a template URL says otherwise.
            let default = match &preset.0 {
                Some(_) if preset.has(&write) => "write",
                Some(_) if preset.has(&read) => "read",
                Some(_) => "none",
                None if resource == "questions" => "read",
                None => "none",
            };
            let id = format!("permission-{resource}");
            view! {
                <tr>
                    <th scope="row"><label for=id.clone()>{label}</label></th>
                    <td>
                        <select id=id name="permissions[]">
                            <option value="" selected=default == "none">"No access"</option>
                            <option value=read selected=default == "read">"Read"</option>
                            <option value=write selected=default == "write">"Read and write"</option>
                        </select>
                    </td>
                </tr>
            }
        }
    };
    let self_checked = preset.has("tokens:self");
    let services = move || {
        let preset = preset.clone();
        chosen()
            .map(|team| team.services)
            .unwrap_or_default()
            .into_iter()
            .map(move |service| {
                let preset = preset.clone();
                view! {
                    <tr data-testid="service-scopes">
                        <th scope="row">{service.name.clone()} " " <code>{service.slug.clone()}</code></th>
                        <td class="scope-boxes">
                            {service.scopes.iter().map(|scope| {
                                let permission = format!("{}:{scope}", service.slug);
                                let id = format!("permission-{}-{scope}", service.slug);
                                view! {
                                    <span class="checkbox">
                                        <input type="checkbox" id=id.clone() name="permissions[]"
                                            value=permission.clone() checked=preset.has(&permission)/>
                                        <label for=id>{scope.clone()}</label>
                                    </span>
                                }
                            }).collect_view()}
                        </td>
                    </tr>
                }
            })
            .collect_view()
    };
    view! {
        <fieldset class="access-choice" aria-describedby="permissions-error">
            <legend>"Access"</legend>
            <div class="checkbox">
                <input type="radio" id="access-team" name="access" value="team"
                    checked=!start_fine disabled=fine_only aria-describedby="access-team-help"/>
                <label for="access-team">"Whole team"</label>
            </div>
            <p class="help" id="access-team-help">
                {move || if fine_only() {
                    "This team requires fine-grained tokens: choose only what the token needs.".to_string()
                } else {
                    "Whatever your role in the team allows, including the team's services.".to_string()
                }}
            </p>
            <div class="whole-team-part">{children()}</div>
            <div class="checkbox">
                <input type="radio" id="access-permissions" name="access" value="permissions"
                    checked=start_fine node_ref=only/>
                <label for="access-permissions">"Only these permissions"</label>
            </div>
            <div class="permission-table">
                <table class="compact">
                    <caption class="visually-hidden">"Permissions of the new token"</caption>
                    <thead><tr><th scope="col">"Resource"</th><th scope="col">"Access"</th></tr></thead>
                    <tbody>
                        {MENUS.into_iter().map(menu).collect_view()}
                        <tr>
                            <th scope="row">"This token itself"</th>
                            <td>
                                <span class="checkbox">
                                    <input type="checkbox" id="permission-tokens" name="permissions[]"
                                        value="tokens:self" checked=self_checked/>
                                    <label for="permission-tokens">"Regenerate, rotate, delete it, read its usage"</label>
                                </span>
                            </td>
                        </tr>
                        {services}
                    </tbody>
                </table>
                <p class="help">"A permission never goes beyond your role in the team: a reader's token cannot write."</p>
            </div>
            <FieldError error field="permissions" id="permissions-error"/>
        </fieldset>
    }
}
