//! Small pieces shared by the forms.

use leptos::prelude::*;

use crate::error::AppError;

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
