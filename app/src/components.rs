//! Small pieces shared by the pages and forms.

use leptos::prelude::*;
use serde::{Serialize, de::DeserializeOwned};

use crate::error::AppError;

/// `value` as a query string's value: letters, digits, `-`, `_` and `.` pass; every other byte
/// is `%XX` (a filter's username, the sign-in page's `next`).
pub fn query_value(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Whether a checkbox (or a query flag) was on: an HTML checkbox sends its value only when
/// checked, and a flag may be spelled `false`.
pub fn checkbox_on(value: Option<String>) -> bool {
    value.is_some_and(|v| !v.is_empty() && v != "false")
}

/// The latest result of an action, as a signal of its error (if it failed).
pub fn action_error<T, S>(value: S) -> Signal<Option<AppError>>
where
    T: Clone + Send + Sync + 'static,
    S: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    Signal::derive(move || value.get().and_then(|r| r.err()))
}

/// The message under a form field, tied to the input by `id` (for `aria-describedby`).
#[component]
pub fn FieldError(
    error: Signal<Option<AppError>>,
    field: &'static str,
    id: &'static str,
) -> impl IntoView {
    let message = move || error.get().and_then(|e| e.for_field(field));
    view! {
        <p class="field-error" id=id role="alert" hidden=move || message().is_none()>
            {message}
        </p>
    }
}

/// A message above a form for errors that are not about one field.
#[component]
pub fn FormError(error: Signal<Option<AppError>>) -> impl IntoView {
    let message = move || error.get().and_then(|e| e.general());
    view! {
        <p class="form-error" role="alert" hidden=move || message().is_none()>
            {message}
        </p>
    }
}

/// A resource's value, drawn by `render` once loaded: "Loading…" until then, and the error as an
/// alert if loading failed. Every page that loads its data this way says it the same way.
#[component]
pub fn Loaded<T, F, V>(
    resource: Resource<Result<T, AppError>>,
    render: F,
    /// What is said while it loads.
    #[prop(default = "Loading…")]
    loading: &'static str,
) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    F: Fn(T) -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    view! {
        <Transition fallback=move || view! { <p class="muted">{loading}</p> }>
            {move || {
                let render = render.clone();
                Suspend::new(async move {
                    match resource.await {
                        Ok(value) => render(value).into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}

/// A secret shown once — a token, a service or SCIM credential — with a Copy button: the
/// clipboard API, or where that is refused, the value selected so that Ctrl-C works. `id` is the
/// value's element (the fallback selects it); `what` says what was copied, for screen readers.
#[component]
pub fn SecretValue(
    value: String,
    id: &'static str,
    what: &'static str,
    #[prop(optional)] test_id: Option<&'static str>,
    /// The Copy button's id (the token page moves the focus to it).
    #[prop(optional)]
    button_id: Option<&'static str>,
) -> impl IntoView {
    view! {
        <div class="token-value-row">
            <code id=id class="token-value" data-testid=test_id>{value.clone()}</code>
            <CopyButton value select=id what button_id/>
        </div>
    }
}

/// A Copy button for `value`: the clipboard API, or where that is refused, the element
/// `select` selected so that Ctrl-C works; `what` is said to screen readers once copied.
#[component]
pub fn CopyButton(
    value: String,
    select: &'static str,
    what: &'static str,
    #[prop(default = None)] button_id: Option<&'static str>,
) -> impl IntoView {
    let copied = RwSignal::new(false);
    let on_copy = move |_| copy_to_clipboard(value.clone(), select, copied);
    view! {
        <button type="button" class="button" id=button_id on:click=on_copy>
            {move || if copied.get() { "Copied" } else { "Copy" }}
        </button>
        <span class="visually-hidden" role="status">
            {move || if copied.get() { format!("{what} copied to the clipboard") } else { String::new() }}
        </span>
    }
}

#[allow(unused_variables)]
fn copy_to_clipboard(value: String, id: &'static str, copied: RwSignal<bool>) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen_futures::JsFuture;
        let select_fallback = move || {
            let document = leptos::prelude::document();
            if let (Some(node), Ok(Some(selection))) = (
                document.get_element_by_id(id),
                leptos::prelude::window().get_selection(),
            ) {
                let _ = selection.select_all_children(&node);
            }
        };
        let clipboard = leptos::prelude::window().navigator().clipboard();
        let promise = clipboard.write_text(&value);
        leptos::task::spawn_local(async move {
            match JsFuture::from(promise).await {
                Ok(_) => copied.set(true),
                Err(_) => select_fallback(),
            }
        });
    }
}

/// Moves the keyboard focus to the element with `id` once the browser has rendered it: on the
/// next frame, or a few frames later when it is not drawn yet (a dialog's content waiting for
/// its data, a dialog not open yet).
#[allow(unused_variables)]
pub(crate) fn focus_after_render(id: &'static str) {
    #[cfg(feature = "hydrate")]
    focus_within_frames(id, 10);
}

#[cfg(feature = "hydrate")]
fn focus_within_frames(id: &'static str, frames_left: u8) {
    leptos::prelude::request_animation_frame(move || {
        use leptos::wasm_bindgen::JsCast;
        let element = leptos::prelude::document()
            .get_element_by_id(id)
            .and_then(|e| e.dyn_into::<leptos::web_sys::HtmlElement>().ok());
        match element {
            // Drawn: it has a box (an element inside a closed dialog has none).
            Some(element) if element.offset_parent().is_some() => {
                let _ = element.focus();
            }
            _ if frames_left > 0 => focus_within_frames(id, frames_left - 1),
            _ => {}
        }
    });
}

/// Says `text` to screen readers through the page's polite live region (`#announcer`, drawn
/// by the layout and never touched by Leptos again): "Token deleted", "New token created…".
#[allow(unused_variables)]
pub fn announce(text: &'static str) {
    #[cfg(feature = "hydrate")]
    if let Some(region) = leptos::prelude::document().get_element_by_id("announcer") {
        // Emptied first, then filled on the next frame: the same words twice are said twice.
        region.set_text_content(None);
        leptos::prelude::request_animation_frame(move || region.set_text_content(Some(text)));
    }
}

/// A modal dialog: a `<dialog>` opened with `showModal()` once drawn, so that the browser puts
/// it on top and makes the rest of the page inert. What the browser leaves to us is here, once,
/// for every dialog: Tab and Shift+Tab cycle inside it (the browser would let the focus leave
/// for its own toolbar), Escape calls `on_close` (the caller clears the signal that draws it,
/// so that signal and screen agree), `first_focus` (an element's id) has the focus when it
/// opens — Cancel for a destructive action, so that Enter twice does not destroy anything —
/// and the focus goes back to what had it before (the opening button) once it is gone. Dialogs
/// are drawn in the browser only (lazy parts); on the server it would be drawn closed.
#[component]
pub fn Modal(
    /// Called when the person dismisses it (Escape, or the browser closing it).
    #[prop(into)]
    on_close: Callback<()>,
    /// The id of its title.
    labelled_by: &'static str,
    /// The id of the text that says what it asks.
    #[prop(optional)]
    described_by: Option<&'static str>,
    /// The id of the element that has the focus first.
    first_focus: &'static str,
    #[prop(optional)] test_id: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    #[cfg(not(feature = "hydrate"))]
    let _ = first_focus;
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        // What had the focus when the dialog was asked for: the button that opened it.
        let opener = leptos::prelude::document()
            .active_element()
            .and_then(|e| e.dyn_into::<leptos::web_sys::HtmlElement>().ok());
        let opener = StoredValue::new_local(opener);
        dialog.on_load(move |dialog| open_when_in_page(dialog, first_focus, 10));
        on_cleanup(move || {
            let Some(Some(opener)) = opener.try_get_value() else {
                return;
            };
            // On the next frame, once the dialog is out of the page (while it is open the rest
            // is inert and cannot take the focus), and only if nothing else took it meanwhile
            // (the new value's Copy button, after a regenerate).
            leptos::prelude::request_animation_frame(move || {
                let document = leptos::prelude::document();
                let lost = document
                    .active_element()
                    .is_none_or(|active| document.body().is_some_and(|body| active == *body));
                if lost && opener.is_connected() {
                    let _ = opener.focus();
                }
            });
        });
    }
    // The browser may close it by itself too (its own Escape handling): the `close` event can
    // then come after the dialog is gone and what `on_close` touches is disposed (a dialog's
    // actions); only a dialog still in the page reports it.
    let alive = StoredValue::new(());
    let on_browser_close = move |_| {
        if alive.try_get_value().is_some() {
            let _ = on_close.try_run(());
        }
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "Escape" => {
            // Not the browser's own close: the signal that draws the dialog decides.
            ev.prevent_default();
            on_close.run(());
        }
        "Tab" => keep_focus_inside(&ev, dialog),
        _ => {}
    };
    view! {
        <dialog class="dialog" node_ref=dialog aria-labelledby=labelled_by
            aria-describedby=described_by data-testid=test_id
            on:keydown=on_keydown on:close=on_browser_close>
            {children()}
        </dialog>
    }
}

/// `showModal()` once the dialog is in the page: a dialog drawn inside a `Suspense` can be
/// made before it is put in (and `showModal()` refuses a dialog that is not), so it waits for
/// the next frame, a few times at most.
#[cfg(feature = "hydrate")]
fn open_when_in_page(
    dialog: leptos::web_sys::HtmlDialogElement,
    first_focus: &'static str,
    frames_left: u8,
) {
    if dialog.is_connected() {
        if !dialog.open() {
            let _ = dialog.show_modal();
        }
        focus_after_render(first_focus);
    } else if frames_left > 0 {
        leptos::prelude::request_animation_frame(move || {
            open_when_in_page(dialog, first_focus, frames_left - 1)
        });
    }
}

/// Tab from the dialog's last control goes to its first, Shift+Tab from the first to the last.
#[allow(unused_variables)]
fn keep_focus_inside(ev: &leptos::ev::KeyboardEvent, dialog: NodeRef<leptos::html::Dialog>) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        use leptos::web_sys::HtmlElement;
        let Some(dialog) = dialog.get_untracked() else {
            return;
        };
        let Ok(list) = dialog.query_selector_all(
            "a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), \
             select:not([disabled]), textarea:not([disabled])",
        ) else {
            return;
        };
        // Only what is drawn: a hidden element has no offset parent.
        let focusable: Vec<HtmlElement> = (0..list.length())
            .filter_map(|i| list.item(i))
            .filter_map(|n| n.dyn_into::<HtmlElement>().ok())
            .filter(|e| e.offset_parent().is_some())
            .collect();
        let (Some(first), Some(last)) = (focusable.first(), focusable.last()) else {
            return;
        };
        let active = leptos::prelude::document().active_element();
        let is = |e: &HtmlElement| active.as_ref().is_some_and(|a| a == e.unchecked_ref());
        let inside = active.as_ref().is_some_and(|a| dialog.contains(Some(a)));
        if ev.shift_key() && (is(first) || !inside) {
            ev.prevent_default();
            let _ = last.focus();
        } else if !ev.shift_key() && (is(last) || !inside) {
            ev.prevent_default();
            let _ = first.focus();
        }
    }
}

/// What a form shows under its fields (`FieldError`, `FormError` take [`FormErrors::shown`]):
/// the browser's own check of the last submit when it found anything (every field's message at
/// once, before a request is made), else the server's answer — either without the message of a
/// field changed since, so that a stale error goes as soon as its field changes. Forms using it
/// are `novalidate`: the messages are the app's, not the browser's bubbles.
#[derive(Clone, Copy)]
pub struct FormErrors {
    client: RwSignal<Option<AppError>>,
    server: Signal<Option<AppError>>,
    edited: RwSignal<Vec<String>>,
}

impl FormErrors {
    pub fn new(server: Signal<Option<AppError>>) -> Self {
        let edited = RwSignal::new(Vec::new());
        // A new answer from the server: each of its messages shows until its field changes.
        Effect::new(move |_| {
            server.track();
            edited.set(Vec::new());
        });
        Self {
            client: RwSignal::new(None),
            server,
            edited,
        }
    }

    /// The error to show.
    pub fn shown(self) -> Signal<Option<AppError>> {
        Signal::derive(move || {
            let error = self.client.get().or_else(|| self.server.get())?;
            self.edited.with(|edited| error.without_fields(edited))
        })
    }

    /// For the form's `on:input` and `on:change`: the field that changed loses its message.
    pub fn field_changed(self, ev: &leptos::ev::Event) {
        #[cfg(feature = "hydrate")]
        if let Some(name) = ev
            .target()
            .and_then(|t| {
                leptos::wasm_bindgen::JsCast::dyn_into::<leptos::web_sys::Element>(t).ok()
            })
            .and_then(|e| e.get_attribute("name"))
            && !self.edited.with_untracked(|e| e.contains(&name))
        {
            self.edited.update(|e| e.push(name));
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    }

    /// For `on:submit:capture` on what holds the form (before the `ActionForm` sends it):
    /// `check` gets each field's value by name and answers every problem it finds; with any,
    /// the form is not sent and they are shown.
    pub fn check_submit(
        self,
        ev: &leptos::ev::SubmitEvent,
        check: &impl Fn(&dyn Fn(&str) -> String) -> Vec<AppError>,
    ) {
        #[cfg(feature = "hydrate")]
        {
            use leptos::wasm_bindgen::JsCast;
            let Some(form) = ev
                .target()
                .and_then(|t| t.dyn_into::<leptos::web_sys::HtmlFormElement>().ok())
            else {
                return;
            };
            let Ok(data) = leptos::web_sys::FormData::new_with_form(&form) else {
                return;
            };
            let value = |name: &str| data.get(name).as_string().unwrap_or_default();
            let found = AppError::all(check(&value));
            if found.is_some() {
                ev.prevent_default();
            }
            self.client.set(found);
            self.edited.set(Vec::new());
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, check);
    }
}

/// A text field's counter, "42/100", which says when the text is too long ("105/100") rather
/// than the field cutting it silently (no `maxlength`).
#[component]
pub fn CharacterCounter(
    /// The text's length in characters.
    length: Signal<usize>,
    max: usize,
    id: &'static str,
) -> impl IntoView {
    let class = move || {
        if length.get() > max {
            "char-counter over"
        } else {
            "char-counter"
        }
    };
    view! {
        <span id=id class=class>
            {move || match length.get() {
                n if n > max => format!("{n}/{max}: {} too many", n - max),
                n => format!("{n}/{max}"),
            }}
        </span>
    }
}

/// A part of a page that is not drawn at first paint — a dialog, a form behind a button, a
/// panel shown after an action — drawn while `open`. `part` calls a `#[lazy]` function: its
/// code is a wasm chunk of its own, fetched the first time the part opens (docs/frontend.md);
/// on the server it is an ordinary async function. A part that a URL opens (drawn open in the
/// server's HTML) must have its code loaded before hydration: list it in
/// `tokens::load_parts_opened_by_url`. Whatever `part`'s function reads directly (outside its
/// view's closures) it must read untracked, or the part would be drawn again.
#[component]
pub fn LazyPart<F, Fut>(#[prop(into)] open: Signal<bool>, part: F) -> impl IntoView
where
    F: Fn() -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = AnyView> + Send + 'static,
{
    move || {
        open.get().then(|| {
            let part = part.clone();
            view! {
                <Suspense fallback=|| ()>
                    {move || {
                        let part = part.clone();
                        Suspend::new(async move { part().await })
                    }}
                </Suspense>
            }
        })
    }
}

/// Starts fetching a `#[lazy]` part's code when the pointer or the keyboard reaches what opens
/// it, so that the first click does not wait for it (the fetch happens once however often it
/// is asked for). Nothing on the server.
macro_rules! preload_part {
    ($part:ident) => {{
        #[cfg(feature = "hydrate")]
        {
            leptos::lazy_preload!($part);
        }
    }};
}
pub(crate) use preload_part;
