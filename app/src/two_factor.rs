//! Two-factor sign-in in the app (docs/two-factor.md): the Account page's card (set up an
//! authenticator app, recovery codes, turn it off) and the sign-in page's second step. The
//! rules are `domain::identity::two_factor`.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::{
    components::{FieldError, FormError, action_error},
    error::AppError,
};

/// The server functions a person may still call when the instance requires two-factor sign-in
/// and their grace period is over: what the Account page's card and the header need, signing
/// in and out, and confirming who they are (the server's session guard refuses the rest).
pub const ALLOWED_BEFORE_ENROLMENT: &[&str] = &[
    "header_state",
    "account_settings",
    "two_factor_status",
    "begin_totp_enrolment",
    "confirm_totp_enrolment",
    "confirm_identity",
    "identity_check",
    "my_passkeys",
    "begin_passkey",
    "finish_passkey",
    "sign_in",
    "sign_in_second_factor",
    "sign_out",
    // The Account page's Password and Sessions cards: taking access away stays open.
    "change_password",
    "my_sessions",
    "end_session",
    "end_other_sessions",
];

/// An authenticator app waiting for its first code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolmentView {
    /// The secret in base32 (for apps that cannot scan).
    pub secret: String,
    /// The QR code, an SVG drawn on the server.
    pub qr_svg: String,
}

/// The card's state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoFactorView {
    pub enabled: bool,
    pub recovery_codes_left: u64,
    /// The authenticator app waiting for its first code, with its secret: in sudo mode only.
    pub pending: Option<EnrolmentView>,
    /// An authenticator app waits for its first code (also outside sudo mode, where its
    /// secret is not shown: the card offers to start again, which asks who it is first).
    pub enrolment_waiting: bool,
    /// The account signs in with single sign-on only: its provider does its two-factor.
    pub password_less: bool,
    /// The instance requires two-factor sign-in: days left to set it up (`Some(0)`: last day).
    pub days_left: Option<i64>,
    /// …and the grace period is over.
    pub overdue: bool,
}

#[server(prefix = "/rpc", endpoint = "two_factor_status")]
pub async fn two_factor_status() -> Result<TwoFactorView, AppError> {
    use domain::identity::two_factor::{self, requirement::Requirement};

    use crate::session::{db, require_recent_sign_in, require_user, sealing_key};
    let user = require_user()?;
    let db = db()?;
    let waiting = two_factor::totp::pending(&db, &sealing_key()?, user.id, &user.username).await?;
    let enrolment_waiting = waiting.is_some();
    // The secret is a second factor in the making: only for a session that proved who it is
    // lately, as setting one up needs.
    let pending = waiting
        .filter(|_| require_recent_sign_in().is_ok())
        .map(|e| EnrolmentView {
            secret: e.secret,
            qr_svg: e.qr_svg,
        });
    let requirement = two_factor::requirement::of(&db, user.id).await?;
    Ok(TwoFactorView {
        enabled: two_factor::enrolled(&db, user.id).await?,
        recovery_codes_left: two_factor::recovery::left(&db, user.id).await?,
        pending,
        enrolment_waiting,
        password_less: domain::identity::sso::password_less(&db, user.id).await?,
        days_left: requirement.days_left(chrono::Utc::now()),
        overdue: requirement == Requirement::Overdue,
    })
}

#[server(prefix = "/rpc", endpoint = "begin_totp_enrolment")]
pub async fn begin_totp_enrolment() -> Result<(), AppError> {
    use crate::session::{db, require_recent_sign_in, sealing_key};
    let user = require_recent_sign_in()?;
    domain::identity::two_factor::totp::begin(&db()?, &sealing_key()?, user.id, &user.username)
        .await?;
    Ok(())
}

/// Confirms the waiting authenticator app with a current code; answers the recovery codes
/// (shown once).
#[server(prefix = "/rpc", endpoint = "confirm_totp_enrolment")]
pub async fn confirm_totp_enrolment(code: String) -> Result<Vec<String>, AppError> {
    use crate::session::{db, origin, require_recent_sign_in, sealing_key};
    let user = require_recent_sign_in()?;
    Ok(
        domain::identity::two_factor::totp::confirm(&db()?, &sealing_key()?, origin(&user), &code)
            .await?,
    )
}

#[server(prefix = "/rpc", endpoint = "disable_two_factor")]
pub async fn disable_two_factor(code: String) -> Result<(), AppError> {
    use crate::session::{db, origin, require_recent_sign_in, sealing_key};
    let user = require_recent_sign_in()?;
    domain::identity::two_factor::totp::disable(&db()?, &sealing_key()?, origin(&user), &code)
        .await?;
    Ok(())
}

#[server(prefix = "/rpc", endpoint = "regenerate_recovery_codes")]
pub async fn regenerate_recovery_codes() -> Result<Vec<String>, AppError> {
    use crate::session::{db, origin, require_recent_sign_in};
    let user = require_recent_sign_in()?;
    Ok(
        domain::identity::two_factor::totp::regenerate_recovery_codes(&db()?, origin(&user))
            .await?,
    )
}

/// The second sign-in step: a code from the authenticator app or a recovery code, for the
/// sign-in whose password was right (its own cookie). Wrong codes count against the address's
/// failed sign-ins, as wrong passwords do.
#[server(prefix = "/rpc", endpoint = "sign_in_second_factor")]
pub async fn sign_in_second_factor(code: String, next: Option<String>) -> Result<(), AppError> {
    use crate::session::{
        challenge_cookie, clear_challenge_cookie, client_ip, db, forgive_sign_in_attempt,
        reserve_sign_in_attempt, safe_next, sealing_key, session_cookie, set_session_cookie,
    };
    use domain::identity::two_factor::challenge;

    reserve_sign_in_attempt().await?;
    let Some(cookie) = challenge_cookie() else {
        forgive_sign_in_attempt().await;
        return Err(AppError::Rule(challenge::EXPIRED.into()));
    };
    let replaced = session_cookie();
    let finished = challenge::complete(
        &db()?,
        &sealing_key()?,
        &cookie,
        &code,
        replaced.as_deref(),
        client_ip(),
    )
    .await;
    match finished {
        Ok((_, session)) => {
            forgive_sign_in_attempt().await;
            clear_challenge_cookie()?;
            set_session_cookie(&session)?;
            leptos_axum::redirect(&safe_next(next.as_deref()));
            Ok(())
        }
        // A wrong code stays counted.
        Err(wrong @ domain::Error::Invalid { .. }) => Err(wrong.into()),
        Err(other) => {
            forgive_sign_in_attempt().await;
            Err(other.into())
        }
    }
}

lazy_page! {
    /// The second sign-in step as a lazily loaded route (docs/frontend.md).
    SecondFactorRoute => SecondFactorPage
}

#[component]
pub fn SecondFactorPage() -> impl IntoView {
    let action = ServerAction::<SignInSecondFactor>::new();
    expect_context::<crate::auth::AuthChanges>().follow(action);
    let error = action_error(action.value());
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_else(|| "/".to_string());
    view! {
        <Title text="Two-factor sign-in"/>
        <section class="auth-card">
            <h1>"Two-factor sign-in"</h1>
            <p class="muted">"Enter the code your authenticator app shows for patdesk, or use your passkey. Lost your phone? Enter one of your recovery codes."</p>
            <ActionForm action=action>
                <input type="hidden" name="next" value=next/>
                <label for="code">"Code"</label>
                <input id="code" name="code" autocomplete="one-time-code" required autofocus
                    maxlength="20" spellcheck="false" aria-describedby="code-error"
                    data-testid="second-factor-code"/>
                <FieldError error field="code" id="code-error"/>
                <FormError error/>
                <button type="submit" class="button">"Verify"</button>
            </ActionForm>
            <p class="muted or">"or"</p>
            <crate::auth::PasskeySignIn purpose=crate::webauthn::PasskeyPurpose::SecondFactor
                label="Use a passkey" next=Signal::derive(next)/>
            <p class="muted"><a href="/signin">"Start again"</a></p>
        </section>
    }
}

/// The Account page's two-factor card.
#[component]
pub fn TwoFactorCard() -> impl IntoView {
    let begin = ServerAction::<BeginTotpEnrolment>::new();
    let confirm = ServerAction::<ConfirmTotpEnrolment>::new();
    let disable = ServerAction::<DisableTwoFactor>::new();
    let regenerate = ServerAction::<RegenerateRecoveryCodes>::new();
    crate::sudo::retry_after_confirming(begin);
    crate::sudo::retry_after_confirming(confirm);
    crate::sudo::retry_after_confirming(disable);
    crate::sudo::retry_after_confirming(regenerate);
    let status = Resource::new(
        move || {
            (
                begin.version().get(),
                confirm.version().get(),
                disable.version().get(),
                regenerate.version().get(),
            )
        },
        |_| two_factor_status(),
    );
    // The codes of the latest confirmation or regeneration, shown once (until the page is left).
    let fresh_codes = RwSignal::new(None::<Vec<String>>);
    Effect::new(move |_| {
        if let Some(Ok(codes)) = confirm.value().get() {
            fresh_codes.set(Some(codes));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(codes)) = regenerate.value().get() {
            fresh_codes.set(Some(codes));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = disable.value().get() {
            fresh_codes.set(None);
        }
    });
    let fresh_codes = fresh_codes.read_only();
    view! {
        <section class="card" id="two-factor" data-testid="two-factor-card">
            <h2>"Two-factor sign-in"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match status.await {
                        Ok(view) => view! { <TwoFactorState view begin confirm disable regenerate fresh_codes/> }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn TwoFactorState(
    view: TwoFactorView,
    begin: ServerAction<BeginTotpEnrolment>,
    confirm: ServerAction<ConfirmTotpEnrolment>,
    disable: ServerAction<DisableTwoFactor>,
    regenerate: ServerAction<RegenerateRecoveryCodes>,
    fresh_codes: ReadSignal<Option<Vec<String>>>,
) -> impl IntoView {
    let required = match (view.overdue, view.days_left) {
        (true, _) => Some(view! {
            <p class="banner warn" role="alert" data-testid="two-factor-overdue">"This patdesk requires two-factor sign-in. Set it up now: until then only this page is open to you."</p>
        }.into_any()),
        (false, Some(days)) => Some(view! {
            <p class="banner warn" role="status">{format!("This patdesk requires two-factor sign-in: {} to set it up.", days_in_words(days))}</p>
        }.into_any()),
        _ => None,
    };
    let body = if view.enabled {
        let disable_error = action_error(disable.value());
        let regenerate_error = action_error(regenerate.value());
        view! {
            <p data-testid="two-factor-on"><span class="badge ok">"On"</span>" An authenticator app is asked for after your password. "
                {format!("{} of your recovery codes are left.", view.recovery_codes_left)}</p>
            {move || fresh_codes.get().map(|codes| view! { <RecoveryCodes codes/> })}
            <div class="form-row">
                <ActionForm action=regenerate>
                    <button type="submit" class="button secondary" data-testid="regenerate-recovery-codes">"New recovery codes"</button>
                </ActionForm>
            </div>
            <FormError error=regenerate_error/>
            <details class="turn-off">
                <summary>"Turn off two-factor sign-in"</summary>
                <ActionForm action=disable>
                    <label for="disable-code">"A current code from your app (or a recovery code)"</label>
                    <input id="disable-code" name="code" autocomplete="one-time-code" required maxlength="20"
                        aria-describedby="disable-code-error"/>
                    <FieldError error=disable_error field="code" id="disable-code-error"/>
                    <FormError error=disable_error/>
                    <button type="submit" class="button danger-solid">"Turn off"</button>
                </ActionForm>
            </details>
        }.into_any()
    } else if let Some(pending) = view.pending {
        let confirm_error = action_error(confirm.value());
        view! {
            <p>"Scan this QR code with your authenticator app (1Password, Google Authenticator, Authy, …)."</p>
            <div class="qr" data-testid="totp-qr" inner_html=pending.qr_svg role="img" aria-label="QR code for your authenticator app"></div>
            <p class="muted">"Cannot scan it? Enter this key in the app instead:"</p>
            <p><code class="totp-secret" data-testid="totp-secret">{pending.secret}</code></p>
            <ActionForm action=confirm>
                <label for="confirm-code">"Then enter the 6-digit code the app shows"</label>
                <input id="confirm-code" name="code" autocomplete="one-time-code" inputmode="numeric"
                    pattern="[0-9 ]*" required maxlength="7" aria-describedby="confirm-code-error"
                    data-testid="totp-confirm-code"/>
                <FieldError error=confirm_error field="code" id="confirm-code-error"/>
                <FormError error=confirm_error/>
                <button type="submit" class="button">"Turn on"</button>
            </ActionForm>
        }.into_any()
    } else if view.enrolment_waiting {
        // Its secret is shown in sudo mode only: starting again asks who it is first.
        let begin_error = action_error(begin.value());
        view! {
            <p class="muted" data-testid="totp-waiting">"Setting up an authenticator app was started but not finished. Start again to see a new QR code: you will be asked to confirm it is you."</p>
            <ActionForm action=begin>
                <FormError error=begin_error/>
                <button type="submit" class="button" data-testid="totp-begin">"Start again"</button>
            </ActionForm>
        }.into_any()
    } else if view.password_less {
        view! {
            <p class="muted">"You sign in with single sign-on: your identity provider asks for your second factor."</p>
        }.into_any()
    } else {
        let begin_error = action_error(begin.value());
        view! {
            <p class="muted">"Off. With two-factor sign-in, a stolen password alone cannot sign in to patdesk or make tokens: you also enter a code from an app on your phone."</p>
            <ActionForm action=begin>
                <FormError error=begin_error/>
                <button type="submit" class="button" data-testid="totp-begin">"Set up an authenticator app"</button>
            </ActionForm>
        }.into_any()
    };
    view! { {required} {body} }
}

fn days_in_words(days: i64) -> String {
    match days {
        0 => "today is the last day".to_string(),
        1 => "1 day left".to_string(),
        n => format!("{n} days left"),
    }
}

/// Recovery codes, shown once: a list, Copy and Download.
#[component]
fn RecoveryCodes(codes: Vec<String>) -> impl IntoView {
    let text = codes.join("\n");
    let href = format!(
        "data:text/plain;charset=utf-8,{}",
        crate::components::query_value(&format!(
            "patdesk recovery codes: each works once, in place of an authenticator app code.\n\n{text}\n"
        ))
    );
    view! {
        <div class="banner ok recovery-codes" role="status" data-testid="recovery-codes">
            <p><strong>"Your recovery codes."</strong>" Keep them somewhere safe, apart from your phone: each signs you in once if you lose it. They are shown only now."</p>
            <ol class="recovery-code-list" id="recovery-code-list">
                {codes.into_iter().map(|code| view! { <li><code>{code}</code></li> }).collect_view()}
            </ol>
            <div class="form-row">
                <crate::components::CopyButton value=text select="recovery-code-list" what="Recovery codes"/>
                <a class="button secondary" href=href download="patdesk-recovery-codes.txt" rel="external">"Download"</a>
            </div>
        </div>
    }
}
