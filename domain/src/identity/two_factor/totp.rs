//! Authenticator apps (TOTP, RFC 6238: SHA-1, 6 digits, 30-second steps, what every app
//! reads). The secret is 160 random bits, sealed with the server's key and bound to its
//! account; enrolment starts unconfirmed and counts only once a current code confirms it: until
//! then its codes are no second factor anywhere ([`accept`] answers for a confirmed app only),
//! and its secret is shown only in sudo mode.
//! Codes are accepted within one step either side of now, and each step once: the step of an
//! accepted code is stored, and a code of that step or an earlier one is refused, also when
//! two processes check the same code at once (a conditional update decides).

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, Set, sea_query::Expr,
};
use totp_rs::{Algorithm, TOTP};

use super::recovery;
use crate::{
    activity::{self, Event, Kind, Origin},
    db::begin_write,
    entity::totp_secret,
    error::{Error, Result},
    secret::{SealingKey, random_bytes},
};

const STEP_SECONDS: u64 = 30;
/// Steps either side of now whose codes are accepted (clocks drift; people type slowly).
const SKEW_STEPS: i64 = 1;
/// The name apps show for the account.
const ISSUER: &str = "patdesk";

/// An enrolment waiting for its first code, as the Account page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enrolment {
    /// The secret in base32, for typing into an app that cannot scan.
    pub secret: String,
    /// The `otpauth://` URI the QR code holds.
    pub uri: String,
    /// The QR code as an SVG drawing (drawn here, so the page shows it before any script).
    pub qr_svg: String,
}

fn context(user_id: i64) -> Vec<u8> {
    format!("totp_secrets.user_id={user_id}").into_bytes()
}

fn generator(secret: Vec<u8>, username: &str) -> Result<TOTP> {
    TOTP::new(
        Algorithm::SHA1,
        6,
        0,
        STEP_SECONDS,
        secret,
        Some(ISSUER.to_string()),
        username.replace(':', "_"),
    )
    .map_err(|e| Error::Internal(format!("authenticator secret: {e}")))
}

fn opened(key: &SealingKey, row: &totp_secret::Model) -> Result<Vec<u8>> {
    key.open(&row.sealed_secret, &context(row.user_id))
        .map_err(|e| Error::Internal(e.to_string()))
}

async fn row(db: &impl ConnectionTrait, user_id: i64) -> Result<Option<totp_secret::Model>> {
    Ok(totp_secret::Entity::find_by_id(user_id).one(db).await?)
}

/// Whether the account has a confirmed authenticator app.
pub async fn confirmed(db: &impl ConnectionTrait, user_id: i64) -> Result<bool> {
    Ok(row(db, user_id)
        .await?
        .is_some_and(|r| r.confirmed_at.is_some()))
}

/// New recovery codes for an account with an authenticator app; the old ones stop working.
/// (Here rather than in `recovery`: the codes come with the app, and `recovery` knows nothing
/// of it.)
pub async fn regenerate_recovery_codes(
    db: &DatabaseConnection,
    by: Origin<i64>,
) -> Result<Vec<String>> {
    let txn = begin_write(db).await?;
    if !confirmed(&txn, by.who).await? {
        return Err(Error::Rule(
            "Recovery codes come with two-factor sign-in: set up an authenticator app first."
                .into(),
        ));
    }
    let codes = recovery::replace(&txn, by.who).await?;
    activity::record(&txn, Event::own_by(by, Kind::RecoveryCodesRegenerated)).await?;
    txn.commit().await?;
    Ok(codes)
}

fn enrolment(totp: &TOTP) -> Result<Enrolment> {
    let uri = totp.get_url();
    let qr = qrcode::QrCode::new(uri.as_bytes())
        .map_err(|e| Error::Internal(format!("QR code: {e}")))?;
    let svg = qr
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    // Inline in the page: no XML declaration.
    let qr_svg = match svg.find("<svg") {
        Some(start) => svg[start..].to_string(),
        None => svg,
    };
    Ok(Enrolment {
        secret: totp.get_secret_base32(),
        uri,
        qr_svg,
    })
}

/// Starts (or starts again) enrolling an authenticator app: a new secret, not counting until
/// [`confirm`]. Refused when one is confirmed already (turn it off first).
pub async fn begin(
    db: &DatabaseConnection,
    key: &SealingKey,
    user_id: i64,
    username: &str,
) -> Result<Enrolment> {
    let secret = random_bytes::<20>().to_vec();
    let shown = enrolment(&generator(secret.clone(), username)?)?;
    let txn = begin_write(db).await?;
    let fresh = totp_secret::ActiveModel {
        user_id: Set(user_id),
        sealed_secret: Set(key.seal(&secret, &context(user_id))),
        created_at: Set(Utc::now()),
        confirmed_at: Set(None),
        last_step: Set(None),
    };
    match row(&txn, user_id).await? {
        Some(existing) if existing.confirmed_at.is_some() => {
            return Err(Error::Rule(
                "An authenticator app is set up already: turn it off first to set up another."
                    .into(),
            ));
        }
        Some(_) => fresh.update(&txn).await?,
        None => fresh.insert(&txn).await?,
    };
    txn.commit().await?;
    Ok(shown)
}

/// The enrolment waiting for its first code, if any (the Account page shows it again after a
/// reload, and without scripts).
pub async fn pending(
    db: &impl ConnectionTrait,
    key: &SealingKey,
    user_id: i64,
    username: &str,
) -> Result<Option<Enrolment>> {
    match row(db, user_id).await? {
        Some(r) if r.confirmed_at.is_none() => {
            Ok(Some(enrolment(&generator(opened(key, &r)?, username)?)?))
        }
        _ => Ok(None),
    }
}

/// Confirms the waiting enrolment with a current code: the app counts from now on, and the
/// account gets ten new recovery codes (returned: shown once).
pub async fn confirm(
    db: &DatabaseConnection,
    key: &SealingKey,
    by: Origin<i64>,
    code: &str,
) -> Result<Vec<String>> {
    let user_id = by.who;
    let txn = begin_write(db).await?;
    let Some(found) = row(&txn, user_id)
        .await?
        .filter(|r| r.confirmed_at.is_none())
    else {
        return Err(Error::Rule(
            "There is no authenticator app waiting to be confirmed: start setting one up.".into(),
        ));
    };
    if !accept_step(&txn, key, &found, code.trim()).await? {
        return Err(Error::invalid(
            "code",
            "That code is not right. Enter the 6-digit code your app shows now.",
        ));
    }
    let mut confirmed: totp_secret::ActiveModel = found.into();
    confirmed.confirmed_at = Set(Some(Utc::now()));
    confirmed.update(&txn).await?;
    let codes = recovery::replace(&txn, user_id).await?;
    activity::record(&txn, Event::own_by(by, Kind::TwoFactorEnabled)).await?;
    txn.commit().await?;
    Ok(codes)
}

/// Turns the authenticator app off (and the recovery codes with it), with a current code (or a
/// recovery code), counted against the account's budget of wrong codes (`budget`).
pub async fn disable(
    db: &DatabaseConnection,
    key: &SealingKey,
    by: Origin<i64>,
    code: &str,
) -> Result<()> {
    let user_id = by.who;
    let not_on = || Error::Rule("Two-factor sign-in is not on.".into());
    if !confirmed(db, user_id).await? {
        return Err(not_on());
    }
    // The code counts against the account's budget of wrong codes, as at sign-in.
    super::budget::spend(db, user_id, async {
        let txn = begin_write(db).await?;
        if !confirmed(&txn, user_id).await? {
            return Err(not_on());
        }
        super::check_code(&txn, key, user_id, code).await?;
        remove(&txn, user_id).await?;
        recovery::remove_all(&txn, user_id).await?;
        activity::record(&txn, Event::own_by(by, Kind::TwoFactorDisabled)).await?;
        txn.commit().await?;
        Ok(())
    })
    .await
}

/// Removes the account's authenticator app, confirmed or not. Returns whether it had one.
pub(super) async fn remove(db: &impl ConnectionTrait, user_id: i64) -> Result<bool> {
    Ok(totp_secret::Entity::delete_by_id(user_id)
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

/// Whether `code` is a code of the account's *confirmed* authenticator app, of a step within
/// the skew of now that was not used before; if so, that step is recorded as used. An
/// enrolment still waiting for its first code answers no code: its secret was shown on a page
/// and may have been abandoned there.
pub(super) async fn accept(
    db: &impl ConnectionTrait,
    key: &SealingKey,
    user_id: i64,
    code: &str,
) -> Result<bool> {
    match row(db, user_id).await? {
        Some(found) if found.confirmed_at.is_some() => accept_step(db, key, &found, code).await,
        _ => Ok(false),
    }
}

/// [`accept`] for the app `found`, confirmed or not ([`confirm`] checks the first code of a
/// waiting one with it).
async fn accept_step(
    db: &impl ConnectionTrait,
    key: &SealingKey,
    found: &totp_secret::Model,
    code: &str,
) -> Result<bool> {
    let user_id = found.user_id;
    let totp = generator(opened(key, found)?, "")?;
    let now_step = Utc::now().timestamp() / STEP_SECONDS as i64;
    let matched = (now_step - SKEW_STEPS..=now_step + SKEW_STEPS)
        .filter(|step| found.last_step.is_none_or(|last| *step > last))
        .find(|step| {
            let expected = totp.generate(*step as u64 * STEP_SECONDS);
            constant_time_eq::constant_time_eq(expected.as_bytes(), code.as_bytes())
        });
    let Some(step) = matched else {
        // The code of the step used last (right after enrolment, the code that confirmed the
        // app): refused all the same, but said so, or people retype it and think it wrong.
        let just_used = found.last_step.is_some_and(|last| {
            (now_step - SKEW_STEPS..=now_step + SKEW_STEPS).contains(&last)
                && constant_time_eq::constant_time_eq(
                    totp.generate(last as u64 * STEP_SECONDS).as_bytes(),
                    code.as_bytes(),
                )
        });
        if just_used {
            return Err(Error::invalid("code", super::CODE_JUST_USED));
        }
        return Ok(false);
    };
    // Only if no other request took this step (or a later one) meanwhile, and the app is
    // still in the state it was checked in (not confirmed, removed or set up again since).
    let confirmed = match found.confirmed_at {
        Some(_) => totp_secret::Column::ConfirmedAt.is_not_null(),
        None => totp_secret::Column::ConfirmedAt.is_null(),
    };
    let taken = totp_secret::Entity::update_many()
        .col_expr(totp_secret::Column::LastStep, Expr::value(step))
        .filter(totp_secret::Column::UserId.eq(user_id))
        .filter(totp_secret::Column::SealedSecret.eq(found.sealed_secret.clone()))
        .filter(confirmed)
        .filter(
            Condition::any()
                .add(totp_secret::Column::LastStep.is_null())
                .add(totp_secret::Column::LastStep.lt(step)),
        )
        .exec(db)
        .await?;
    Ok(taken.rows_affected == 1)
}

/// The code an app shows for `secret` (base32) at `unix_seconds`: for tests, which play the
/// authenticator app.
pub fn code_at(secret_base32: &str, unix_seconds: u64) -> Option<String> {
    let secret = totp_rs::Secret::Encoded(secret_base32.to_string())
        .to_bytes()
        .ok()?;
    Some(generator(secret, "").ok()?.generate(unix_seconds))
}
