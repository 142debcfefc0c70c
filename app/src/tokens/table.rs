//! The token table, with the banner for tokens about to expire, each token's IP allow-list
//! (edited in place) and its old value while a rotation's overlap lasts.

use common::EXPIRING_SOON_DAYS;
use leptos::prelude::*;

use super::{
    allow_list::{AllowListEditing, AllowListEditor},
    dialog::Confirm,
    server::{OVERLAP_CHOICES, OldValueNote, TokenRow},
    view::{ColumnHead, SHARED_COLUMNS, TokenTableFrame, TokenTableRow},
};

#[component]
pub fn TokenTable(
    rows: Vec<TokenRow>,
    confirm: RwSignal<Option<Confirm>>,
    editing: AllowListEditing,
) -> impl IntoView {
    if rows.is_empty() {
        return view! {
            <p class="empty" data-testid="no-tokens">"You have no tokens yet."</p>
        }
        .into_any();
    }
    let soon = rows.iter().filter(|r| r.token.expiring_soon).count();
    let columns: Vec<ColumnHead> = ["Description", "Team"]
        .into_iter()
        .chain(SHARED_COLUMNS)
        .map(ColumnHead::from)
        .collect();
    // The dialog behind the rows' buttons is fetched once the pointer or the focus is on the
    // table, so that the first click does not wait for it.
    let preloaded = StoredValue::new(false);
    let preload = move || {
        if !preloaded.get_value() {
            preloaded.set_value(true);
            super::dialog::preload_confirm_dialog();
        }
    };
    view! {
        <ExpiryBanner soon/>
        <div on:pointerover=move |_| preload() on:focusin=move |_| preload()>
            <TokenTableFrame class="tokens" columns>
                {rows.into_iter().map(|row| view! { <OwnTokenRow row confirm editing/> }).collect_view()}
            </TokenTableFrame>
        </div>
    }
    .into_any()
}

/// "2 tokens expire within 7 days…", when any do.
#[component]
fn ExpiryBanner(soon: usize) -> impl IntoView {
    let text = match soon {
        0 => return None,
        1 => format!(
            "1 token expires within {EXPIRING_SOON_DAYS} days. Regenerate it to keep your scripts working."
        ),
        n => format!(
            "{n} tokens expire within {EXPIRING_SOON_DAYS} days. Regenerate them to keep your scripts working."
        ),
    };
    Some(view! { <p class="banner warn" role="status" data-testid="expiry-banner">{text}</p> })
}

#[component]
fn OwnTokenRow(
    row: TokenRow,
    confirm: RwSignal<Option<Confirm>>,
    editing: AllowListEditing,
) -> impl IntoView {
    let TokenRow {
        token,
        last_used_old_value,
        old_value,
        remaining_seconds,
        ..
    } = row;
    let (id, description) = (token.id.clone(), token.description.clone());
    // The shortest overlap on offer must fit in what is left of the token's life.
    let shortest = OVERLAP_CHOICES[0].0;
    let can_rotate = !token.expired && remaining_seconds.is_none_or(|left| left >= shortest);
    let team = token.team.clone();
    let has_old_value = old_value.is_some();
    let detail = {
        let (id, description, allowed) =
            (id.clone(), description.clone(), token.allowed_ips.clone());
        move || {
            let old_value = old_value.clone().map(|old| {
                view! { <OldValueLine id=id.clone() description=description.clone() old confirm/> }
            });
            view! {
                <AllowListEditor id=id.clone() description=description.clone()
                    allowed=allowed.clone() editing
                    help="One address or CIDR range per line, up to 20. Empty: any address."/>
                {old_value}
            }
        }
    };
    // While an old value still works, which of the two was used last.
    let which_value = move || match (has_old_value, last_used_old_value) {
        (false, _) => None,
        (true, true) => Some(
            view! { <span class="badge warn" data-testid="last-used-value">"old value"</span> }
                .into_any(),
        ),
        (true, false) => Some(
            view! { <span class="badge" data-testid="last-used-value">"new value"</span> }
                .into_any(),
        ),
    };
    let actions = move || {
        let ask = |what: fn(String, String) -> Confirm| {
            let (id, description) = (id.clone(), description.clone());
            move |_| confirm.set(Some(what(id.clone(), description.clone())))
        };
        let (id_rot, desc_rot) = (id.clone(), description.clone());
        view! {
            <button type="button" class="button secondary"
                aria-label=format!("Rotate {description}")
                disabled=!can_rotate
                title=if can_rotate {
                    "A new value, with the current one still working for a while"
                } else {
                    "This token expires within the hour: regenerate it instead"
                }
                on:click=move |_| confirm.set(Some(Confirm::Rotate {
                    id: id_rot.clone(),
                    description: desc_rot.clone(),
                    remaining_seconds,
                }))>
                "Rotate"
            </button>
            <button type="button" class="button secondary"
                aria-label=format!("Regenerate {description}")
                on:click=ask(|id, description| Confirm::Regenerate { id, description })>
                "Regenerate"
            </button>
            <button type="button" class="button danger"
                aria-label=format!("Delete {description}")
                on:click=ask(|id, description| Confirm::Delete { id, description })>
                "Delete"
            </button>
        }
    };
    view! {
        <TokenTableRow token detail last_used_note=which_value actions
            after=move || view! { <td data-label="Team"><code>{team.clone()}</code></td> }/>
    }
    .into_any()
}

/// The old value of a rotation under way: until when it works, its last use, and ending it now.
#[component]
fn OldValueLine(
    id: String,
    description: String,
    old: OldValueNote,
    confirm: RwSignal<Option<Confirm>>,
) -> impl IntoView {
    let used = match (old.last_used, old.last_used_exact) {
        (Some(when), exact) => view! { "last used " <span title=exact>{when}</span> }.into_any(),
        (None, _) => view! { "not used since the rotation" }.into_any(),
    };
    let old_partial = old.partial.clone();
    view! {
        <p class="old-value" data-testid="old-value">
            "Old value " <code>{old.partial.clone()}</code> " valid until " {old.valid_until.clone()}
            " · " {used} " "
            <button type="button" class="link-button"
                on:click=move |_| confirm.set(Some(Confirm::EndOverlap {
                    id: id.clone(),
                    description: description.clone(),
                    old_partial: old_partial.clone(),
                }))>
                "Stop it now"
            </button>
        </p>
    }
}
