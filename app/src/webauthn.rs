//! WebAuthn ceremonies from the app (docs/two-factor.md): two server functions around the
//! browser's `navigator.credentials.create()` or `.get()`, for adding a passkey, signing in with
//! one (alone or as the second step), and sudo mode. The rules are
//! `domain::identity::passkeys`; the Account page's card is `crate::passkeys`. Passkeys need the
//! wasm (the browser's WebAuthn API is a script API).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What a ceremony is for (`domain::identity::passkeys::Purpose`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PasskeyPurpose {
    Register,
    SignIn,
    SecondFactor,
    Confirm,
}

/// A started ceremony: its id and the options for the browser, as JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyStart {
    pub ceremony: String,
    pub options: String,
}

/// This server as a WebAuthn relying party, put into the context by the server; `None` when
/// its public address cannot have passkeys.
#[cfg(feature = "ssr")]
#[derive(Clone, Debug)]
pub struct RelyingPartyContext(
    pub Option<std::sync::Arc<domain::identity::passkeys::RelyingParty>>,
);

#[cfg(feature = "ssr")]
fn relying_party() -> Result<std::sync::Arc<domain::identity::passkeys::RelyingParty>, AppError> {
    use_context::<RelyingPartyContext>()
        .and_then(|c| c.0)
        .ok_or_else(|| {
            AppError::Rule(
                "Passkeys are not available at this address: open patdesk at its public address (for a local server, http://localhost:<port>)."
                    .into(),
            )
        })
}

/// Starts a ceremony: adding a passkey (sudo mode), signing in with one, the second sign-in
/// step (the sign-in's cookie), or confirming who one is.
#[server(prefix = "/rpc", endpoint = "begin_passkey")]
pub async fn begin_passkey(purpose: PasskeyPurpose) -> Result<PasskeyStart, AppError> {
    use domain::identity::passkeys;

    use crate::session::{
        challenge_cookie, db, require_recent_sign_in, require_user, reserve_passkey_ceremony,
    };
    let rp = relying_party()?;
    let db = db()?;
    // Every ceremony is a row until it is finished or expires; a sign-in's needs no account.
    reserve_passkey_ceremony()?;
    let started = match purpose {
        PasskeyPurpose::Register => {
            passkeys::start_registration(&db, &rp, &require_recent_sign_in()?).await?
        }
        PasskeyPurpose::SignIn => passkeys::start_sign_in(&db, &rp).await?,
        PasskeyPurpose::SecondFactor => {
            let cookie = challenge_cookie().ok_or_else(|| {
                AppError::Rule(domain::identity::two_factor::challenge::EXPIRED.into())
            })?;
            passkeys::start_second_factor(&db, &rp, &cookie).await?
        }
        PasskeyPurpose::Confirm => {
            passkeys::start_confirmation(&db, &rp, require_user()?.id).await?
        }
    };
    Ok(PasskeyStart {
        ceremony: started.ceremony,
        options: started.options,
    })
}

/// Finishes a ceremony with the browser's answer (`credential`, JSON). A sign-in (alone or as
/// the second step) starts the session and goes to `next`.
#[server(prefix = "/rpc", endpoint = "finish_passkey")]
pub async fn finish_passkey(
    purpose: PasskeyPurpose,
    ceremony: String,
    credential: String,
    name: Option<String>,
    next: Option<String>,
) -> Result<(), AppError> {
    use domain::identity::passkeys;

    use crate::session::{
        challenge_cookie, clear_challenge_cookie, client_ip, db, forgive_sign_in_attempt, origin,
        require_user, reserve_sign_in_attempt, safe_next, session_cookie, set_session_cookie,
    };
    let rp = relying_party()?;
    let db = db()?;
    match purpose {
        PasskeyPurpose::Register => {
            let user = require_user()?;
            let name = name.unwrap_or_default();
            passkeys::finish_registration(&db, &rp, origin(&user), &ceremony, &name, &credential)
                .await?;
        }
        PasskeyPurpose::Confirm => {
            let user = require_user()?;
            let session = session_cookie().ok_or(AppError::Unauthenticated)?;
            passkeys::finish_confirmation(
                &db,
                &rp,
                &session,
                origin(&user),
                &ceremony,
                &credential,
            )
            .await?;
        }
        PasskeyPurpose::SignIn | PasskeyPurpose::SecondFactor => {
            // Counted as a sign-in attempt, given back when it succeeds.
            reserve_sign_in_attempt().await?;
            let replaced = session_cookie();
            let signed_in = if purpose == PasskeyPurpose::SignIn {
                passkeys::finish_sign_in(
                    &db,
                    &rp,
                    &ceremony,
                    &credential,
                    replaced.as_deref(),
                    client_ip(),
                )
                .await
            } else {
                let cookie = challenge_cookie().ok_or_else(|| {
                    AppError::Rule(domain::identity::two_factor::challenge::EXPIRED.into())
                })?;
                passkeys::finish_second_factor(
                    &db,
                    &rp,
                    &cookie,
                    &ceremony,
                    &credential,
                    replaced.as_deref(),
                    client_ip(),
                )
                .await
            };
            let (_, session) = signed_in?;
            forgive_sign_in_attempt().await;
            if purpose == PasskeyPurpose::SecondFactor {
                clear_challenge_cookie()?;
            }
            set_session_cookie(&session)?;
            leptos_axum::redirect(&safe_next(next.as_deref()));
        }
    }
    Ok(())
}

/// Runs a whole ceremony from the browser: start, the browser's prompt, finish.
pub async fn ceremony(
    purpose: PasskeyPurpose,
    name: Option<String>,
    next: Option<String>,
) -> Result<(), AppError> {
    let started = begin_passkey(purpose).await?;
    let credential = browser_credential(purpose == PasskeyPurpose::Register, &started.options)
        .await
        .map_err(AppError::Rule)?;
    finish_passkey(purpose, started.ceremony, credential, name, next).await
}

/// `navigator.credentials.create()` (or `.get()`) with options as webauthn-rs writes them, and
/// the browser's answer as JSON (`PublicKeyCredential.toJSON()`).
#[allow(unused_variables)]
async fn browser_credential(create: bool, options: &str) -> Result<String, String> {
    #[cfg(feature = "hydrate")]
    {
        use js_sys::{Function, JSON, Object, Promise, Reflect};
        use leptos::wasm_bindgen::{JsCast, JsValue};
        let unsupported = || "This browser cannot use passkeys.".to_string();
        let field = |on: &JsValue, name: &str| Reflect::get(on, &JsValue::from_str(name));
        let window: JsValue = leptos::prelude::window().into();
        let class = field(&window, "PublicKeyCredential").map_err(|_| unsupported())?;
        let parse_name = if create {
            "parseCreationOptionsFromJSON"
        } else {
            "parseRequestOptionsFromJSON"
        };
        let parse: Function = field(&class, parse_name)
            .ok()
            .and_then(|f| f.dyn_into().ok())
            .ok_or_else(unsupported)?;
        let options = JSON::parse(options).map_err(|_| unsupported())?;
        let public_key = field(&options, "publicKey").map_err(|_| unsupported())?;
        // A page opened at another address than the relying party's (say 127.0.0.1 for
        // localhost) would only get the browser's generic refusal: say where passkeys work.
        let rp_id = if create {
            field(&public_key, "rp").and_then(|rp| field(&rp, "id"))
        } else {
            field(&public_key, "rpId")
        }
        .ok()
        .and_then(|id| id.as_string())
        .unwrap_or_default();
        let host = leptos::prelude::window()
            .location()
            .hostname()
            .unwrap_or_default();
        if host != rp_id && !host.ends_with(&format!(".{rp_id}")) {
            return Err(format!(
                "Passkeys for this patdesk belong to {rp_id}: open patdesk at that address to use them."
            ));
        }
        let parsed = parse
            .call1(&class, &public_key)
            .map_err(|_| unsupported())?;
        let request = Object::new();
        Reflect::set(&request, &JsValue::from_str("publicKey"), &parsed)
            .map_err(|_| unsupported())?;
        let navigator: JsValue = leptos::prelude::window().navigator().into();
        let container = field(&navigator, "credentials").map_err(|_| unsupported())?;
        let method: Function = field(&container, if create { "create" } else { "get" })
            .ok()
            .and_then(|f| f.dyn_into().ok())
            .ok_or_else(unsupported)?;
        let promise: Promise = method
            .call1(&container, &request)
            .ok()
            .and_then(|p| p.dyn_into().ok())
            .ok_or_else(unsupported)?;
        let credential = wasm_bindgen_futures::JsFuture::from(promise)
            .await
            .map_err(|_| {
                "The passkey prompt was cancelled or timed out (or this device has no passkey for patdesk).".to_string()
            })?;
        let to_json: Function = field(&credential, "toJSON")
            .ok()
            .and_then(|f| f.dyn_into().ok())
            .ok_or_else(unsupported)?;
        let json = to_json.call0(&credential).map_err(|_| unsupported())?;
        JSON::stringify(&json)
            .map(String::from)
            .map_err(|_| unsupported())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        Err("Passkeys need JavaScript.".to_string())
    }
}
