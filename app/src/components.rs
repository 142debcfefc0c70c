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
) -> impl IntoView {
    view! {
        <div class="token-value-row">
            <code id=id class="token-value" data-testid=test_id>{value.clone()}</code>
            <CopyButton value select=id what/>
        </div>
    }
}

/// A Copy button for `value`: the clipboard API, or where that is refused, the element
/// `select` selected so that Ctrl-C works; `what` is said to screen readers once copied.
#[component]
pub fn CopyButton(value: String, select: &'static str, what: &'static str) -> impl IntoView {
    let copied = RwSignal::new(false);
    let on_copy = move |_| copy_to_clipboard(value.clone(), select, copied);
    view! {
        <button type="button" class="button" on:click=on_copy>
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

/// Moves the keyboard focus to the element with `id` once the browser has rendered it.
#[allow(unused_variables)]
pub(crate) fn focus_after_render(id: &'static str) {
    #[cfg(feature = "hydrate")]
    leptos::prelude::request_animation_frame(move || {
        use leptos::wasm_bindgen::JsCast;
        if let Some(element) = leptos::prelude::document()
            .get_element_by_id(id)
            .and_then(|e| e.dyn_into::<leptos::web_sys::HtmlElement>().ok())
        {
            let _ = element.focus();
        }
    });
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
