//! Passkeys and security keys (WebAuthn; docs/two-factor.md): registered on the Account page,
//! used as the second factor after the password, on their own to sign in ("Sign in with a
//! passkey"), and to confirm who one is in sudo mode. `webauthn-rs` does each ceremony; what
//! it keeps between a ceremony's two steps is stored in `webauthn_ceremonies` (any process
//! behind a load balancer can finish what another started), for five minutes and one use —
//! taken in a committed step of its own before the answer is checked, so that an answer that
//! fails uses it up too — bound to the account (or, for a second factor, to the sign-in) that
//! started it.
//!
//! Every passkey is registered as discoverable (resident) with user verification required, so
//! that one can sign in with it alone: the device checked a PIN or a biometric. Its user
//! handle is a random id per account, kept with each of its passkeys; a passkey is found by
//! its credential id, which is unique.

use std::{fmt, net::IpAddr};

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use webauthn_rs::prelude::{
    CreationChallengeResponse, DiscoverableAuthentication, DiscoverableKey, Passkey,
    PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse, Url, Uuid, Webauthn, WebauthnBuilder,
};

use crate::{
    activity::{self, Event, Kind, Origin},
    db::begin_write,
    entity::{passkey, sign_in_challenge, webauthn_ceremony},
    error::{Error, Result},
    identity::{
        sessions::{self, SessionId},
        users::{self, User},
    },
    secret::{digest_hex, hex, random_bytes},
};

/// How long a ceremony may take between its two steps.
pub const CEREMONY_LIFETIME: Duration = Duration::minutes(5);
/// The longest name a passkey may have.
pub const MAX_NAME: usize = 60;

/// This server as a WebAuthn relying party: its id (a domain) and the origins its pages are
/// served from.
pub struct RelyingParty {
    webauthn: Webauthn,
    /// The origin passkeys work on, as people should open the app.
    pub origin: Url,
}

impl fmt::Debug for RelyingParty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RelyingParty")
            .field("origin", &self.origin.as_str())
            .finish()
    }
}

impl RelyingParty {
    /// The relying party for pages served at `public_url`. Browsers refuse an IP address as a
    /// relying party id: a loopback address (the default `http://127.0.0.1:3000`) becomes
    /// `localhost` on the same port; another address has no passkeys (`None`).
    pub fn for_public_url(public_url: &Url) -> Option<Self> {
        let mut origin = public_url.clone();
        origin.set_path("");
        origin.set_query(None);
        origin.set_fragment(None);
        let loopback = match origin.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(_)) => false,
            None => return None,
        };
        if loopback {
            origin.set_host(Some("localhost")).ok()?;
        }
        let rp_id = origin.domain()?.to_string();
        let webauthn = WebauthnBuilder::new(&rp_id, &origin)
            .ok()?
            .rp_name("patdesk")
            .build()
            .ok()?;
        Some(RelyingParty { webauthn, origin })
    }
}

/// What a ceremony is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Adding a passkey to the signed-in account.
    Register,
    /// Signing in with a passkey alone.
    SignIn,
    /// The second step of a password sign-in.
    SecondFactor,
    /// Sudo mode: the signed-in person confirms who they are.
    Confirm,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Register => "register",
            Purpose::SignIn => "sign_in",
            Purpose::SecondFactor => "second_factor",
            Purpose::Confirm => "confirm",
        }
    }
}

/// A started ceremony: its id (for the browser to send back) and the options for
/// `navigator.credentials.create()` or `.get()` as JSON.
#[derive(Debug)]
pub struct Started {
    pub ceremony: String,
    pub options: String,
}

/// A passkey as its owner sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasskeyInfo {
    pub id: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// What is said when a ceremony's answer does not check out.
pub const REFUSED: &str =
    "That passkey could not be checked. Try again, or use another way to sign in.";
const EXPIRED: &str = "This passkey request has expired. Try again.";

fn refused() -> Error {
    Error::Rule(REFUSED.into())
}

fn internal(what: &str, e: impl fmt::Display) -> Error {
    Error::Internal(format!("{what}: {e}"))
}

/// The account's passkeys, oldest first.
pub async fn list(db: &impl ConnectionTrait, user_id: i64) -> Result<Vec<PasskeyInfo>> {
    Ok(passkey::Entity::find()
        .filter(passkey::Column::UserId.eq(user_id))
        .order_by_asc(passkey::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|p| PasskeyInfo {
            id: p.id,
            name: p.name,
            created_at: p.created_at,
            last_used_at: p.last_used_at,
        })
        .collect())
}

/// Whether the account has any passkey.
pub async fn any(db: &impl ConnectionTrait, user_id: i64) -> Result<bool> {
    Ok(passkey::Entity::find()
        .filter(passkey::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .is_some())
}

async fn rows(db: &impl ConnectionTrait, user_id: i64) -> Result<Vec<passkey::Model>> {
    Ok(passkey::Entity::find()
        .filter(passkey::Column::UserId.eq(user_id))
        .all(db)
        .await?)
}

fn parsed(row: &passkey::Model) -> Result<Passkey> {
    serde_json::from_str(&row.credential).map_err(|e| internal("a stored passkey", e))
}

/// Stores a ceremony's state (in the caller's connection) and returns its id.
async fn keep(
    db: &impl ConnectionTrait,
    purpose: Purpose,
    user_id: Option<i64>,
    bound_to: Option<String>,
    state: String,
) -> Result<String> {
    purge_expired(db).await?;
    let id = hex(&random_bytes::<32>());
    webauthn_ceremony::ActiveModel {
        id_digest: Set(digest_hex(&id)),
        purpose: Set(purpose.as_str().to_string()),
        user_id: Set(user_id),
        bound_to: Set(bound_to),
        state: Set(state),
        expires_at: Set(Utc::now() + CEREMONY_LIFETIME),
    }
    .insert(db)
    .await?;
    Ok(id)
}

/// Deletes the ceremonies nobody finished (also run with the server's housekeeping: starting a
/// ceremony sweeps them too, but rows a burst of starts left behind should not wait for the
/// next one).
pub async fn purge_expired(db: &impl ConnectionTrait) -> Result<u64> {
    Ok(webauthn_ceremony::Entity::delete_many()
        .filter(webauthn_ceremony::Column::ExpiresAt.lte(Utc::now()))
        .exec(db)
        .await?
        .rows_affected)
}

/// Takes a ceremony's state out of storage: once only (a conditional delete decides between
/// two processes), unexpired, for this purpose. It runs on the connection itself, before the
/// finish's transaction, so that the ceremony is used up when the answer then fails its
/// checks too (in the transaction, it would be put back by the rollback).
async fn take(
    db: &DatabaseConnection,
    ceremony: &str,
    purpose: Purpose,
) -> Result<webauthn_ceremony::Model> {
    let digest = digest_hex(ceremony);
    let found = webauthn_ceremony::Entity::find_by_id(digest.clone())
        .one(db)
        .await?
        .filter(|c| c.purpose == purpose.as_str())
        .ok_or_else(|| Error::Rule(EXPIRED.into()))?;
    let taken = webauthn_ceremony::Entity::delete_by_id(digest)
        .exec(db)
        .await?
        .rows_affected;
    if taken != 1 || found.expires_at <= Utc::now() {
        return Err(Error::Rule(EXPIRED.into()));
    }
    Ok(found)
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| internal("passkey state", e))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| internal("passkey state", e))
}

/// The browser's answer, which anyone can send: a bad one is the caller's mistake.
fn answer<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|_| Error::invalid("credential", REFUSED))
}

/// Starts adding a passkey to `user`'s account.
pub async fn start_registration(
    db: &DatabaseConnection,
    rp: &RelyingParty,
    user: &User,
) -> Result<Started> {
    let existing = rows(db, user.id).await?;
    let handle = match existing.first() {
        Some(row) => Uuid::parse_str(&row.user_handle).map_err(|e| internal("user handle", e))?,
        None => Uuid::from_bytes(random_bytes::<16>()),
    };
    let exclude = existing
        .iter()
        .map(|row| parsed(row).map(|p| p.cred_id().clone()))
        .collect::<Result<Vec<_>>>()?;
    let (options, state): (CreationChallengeResponse, PasskeyRegistration) = rp
        .webauthn
        .start_passkey_registration(handle, &user.username, &user.username, Some(exclude))
        .map_err(|e| internal("passkey registration", e))?;
    // Discoverable, so that it can sign in on its own (webauthn-rs's passkey flow leaves that
    // to the authenticator, and does not check it when the answer comes).
    let mut options = serde_json::to_value(&options).map_err(|e| internal("passkey options", e))?;
    options["publicKey"]["authenticatorSelection"]["residentKey"] = "required".into();
    options["publicKey"]["authenticatorSelection"]["requireResidentKey"] = true.into();
    let kept = serde_json::json!({ "handle": handle.to_string(), "state": state });
    let ceremony = keep(db, Purpose::Register, Some(user.id), None, to_json(&kept)?).await?;
    Ok(Started {
        ceremony,
        options: to_json(&options)?,
    })
}

/// Finishes adding a passkey called `name` with the browser's answer.
pub async fn finish_registration(
    db: &DatabaseConnection,
    rp: &RelyingParty,
    by: Origin<i64>,
    ceremony: &str,
    name: &str,
    credential: &str,
) -> Result<PasskeyInfo> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(Error::invalid(
            "name",
            format!("Name the passkey (up to {MAX_NAME} characters), e.g. “work laptop”."),
        ));
    }
    crate::text::check("name", name, crate::text::Lines::One)?;
    let credential: RegisterPublicKeyCredential = answer(credential)?;
    let kept = take(db, ceremony, Purpose::Register).await?;
    if kept.user_id != Some(by.who) {
        return Err(Error::Rule(EXPIRED.into()));
    }
    let kept: serde_json::Value = from_json(&kept.state)?;
    let state: PasskeyRegistration =
        serde_json::from_value(kept["state"].clone()).map_err(|e| internal("passkey state", e))?;
    let handle = kept["handle"].as_str().unwrap_or_default().to_string();
    let passkey = rp
        .webauthn
        .finish_passkey_registration(&credential, &state)
        .map_err(|_| refused())?;
    let credential_id = hex(passkey.cred_id().as_ref());
    let txn = begin_write(db).await?;
    if passkey::Entity::find()
        .filter(passkey::Column::CredentialId.eq(credential_id.clone()))
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(Error::conflict(
            "credential",
            "This passkey is registered already.",
        ));
    }
    let now = Utc::now();
    let row = passkey::ActiveModel {
        user_id: Set(by.who),
        name: Set(name.to_string()),
        credential_id: Set(credential_id),
        user_handle: Set(handle),
        credential: Set(to_json(&passkey)?),
        created_at: Set(now),
        last_used_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    activity::record(
        &txn,
        Event::own_by(by, Kind::PasskeyAdded).target(format!("passkey “{name}”")),
    )
    .await?;
    txn.commit().await?;
    Ok(PasskeyInfo {
        id: row.id,
        name: row.name,
        created_at: row.created_at,
        last_used_at: None,
    })
}

/// Removes one of the signed-in person's passkeys.
pub async fn remove(db: &DatabaseConnection, by: Origin<i64>, id: i64) -> Result<()> {
    let txn = begin_write(db).await?;
    let found = passkey::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .filter(|p| p.user_id == by.who)
        .ok_or(Error::NotFound("passkey"))?;
    passkey::Entity::delete_by_id(id).exec(&txn).await?;
    activity::record(
        &txn,
        Event::own_by(by, Kind::PasskeyRemoved).target(format!("passkey “{}”", found.name)),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Removes every passkey of the account (`two_factor::reset`). Returns whether it had any.
pub(crate) async fn remove_all(db: &impl ConnectionTrait, user_id: i64) -> Result<bool> {
    Ok(passkey::Entity::delete_many()
        .filter(passkey::Column::UserId.eq(user_id))
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

/// Starts a ceremony that checks one of `user_id`'s own passkeys (second factor, sudo mode).
async fn start_for_account(
    db: &DatabaseConnection,
    rp: &RelyingParty,
    purpose: Purpose,
    user_id: i64,
    bound_to: Option<String>,
) -> Result<Started> {
    let passkeys = rows(db, user_id)
        .await?
        .iter()
        .map(parsed)
        .collect::<Result<Vec<_>>>()?;
    if passkeys.is_empty() {
        return Err(Error::Rule("You have no passkey on this account.".into()));
    }
    let (options, state): (RequestChallengeResponse, PasskeyAuthentication) = rp
        .webauthn
        .start_passkey_authentication(&passkeys)
        .map_err(|e| internal("passkey authentication", e))?;
    let ceremony = keep(db, purpose, Some(user_id), bound_to, to_json(&state)?).await?;
    Ok(Started {
        ceremony,
        options: to_json(&options)?,
    })
}

/// Checks an answer to a ceremony for one account's passkeys; the passkey used is brought up
/// to date (its counter, its last use). Returns its name.
async fn finish_for_account(
    txn: &impl ConnectionTrait,
    rp: &RelyingParty,
    kept: &webauthn_ceremony::Model,
    credential: &PublicKeyCredential,
) -> Result<String> {
    let state: PasskeyAuthentication = from_json(&kept.state)?;
    let result = rp
        .webauthn
        .finish_passkey_authentication(credential, &state)
        .map_err(|_| refused())?;
    let credential_id = hex(result.cred_id().as_ref());
    let row = passkey::Entity::find()
        .filter(passkey::Column::CredentialId.eq(credential_id))
        .one(txn)
        .await?
        .filter(|p| Some(p.user_id) == kept.user_id)
        .ok_or_else(refused)?;
    used(txn, row, &result).await
}

async fn used(
    txn: &impl ConnectionTrait,
    row: passkey::Model,
    result: &webauthn_rs::prelude::AuthenticationResult,
) -> Result<String> {
    let mut passkey = parsed(&row)?;
    passkey.update_credential(result);
    let name = row.name.clone();
    let mut row: passkey::ActiveModel = row.into();
    row.credential = Set(to_json(&passkey)?);
    row.last_used_at = Set(Some(Utc::now()));
    row.update(txn).await?;
    Ok(name)
}

/// Starts the second step of a password sign-in with a passkey: for the account of the
/// challenge in the cookie, bound to it.
pub async fn start_second_factor(
    db: &DatabaseConnection,
    rp: &RelyingParty,
    challenge_cookie: &str,
) -> Result<Started> {
    let digest = digest_hex(challenge_cookie);
    let challenge = sign_in_challenge::Entity::find_by_id(digest.clone())
        .one(db)
        .await?
        .filter(|c| c.expires_at > Utc::now())
        .ok_or_else(|| Error::Rule(super::two_factor::challenge::EXPIRED.into()))?;
    start_for_account(
        db,
        rp,
        Purpose::SecondFactor,
        challenge.user_id,
        Some(digest),
    )
    .await
}

/// Finishes the second step with a passkey: the challenge ends and a session starts.
pub async fn finish_second_factor(
    db: &DatabaseConnection,
    rp: &RelyingParty,
    challenge_cookie: &str,
    ceremony: &str,
    credential: &str,
    replaced: Option<&str>,
    ip: Option<IpAddr>,
) -> Result<(User, SessionId)> {
    let credential: PublicKeyCredential = answer(credential)?;
    let digest = digest_hex(challenge_cookie);
    let kept = take(db, ceremony, Purpose::SecondFactor).await?;
    if kept.bound_to.as_deref() != Some(digest.as_str()) {
        return Err(Error::Rule(EXPIRED.into()));
    }
    let txn = begin_write(db).await?;
    let challenge = sign_in_challenge::Entity::find_by_id(digest.clone())
        .one(&txn)
        .await?
        .filter(|c| c.expires_at > Utc::now() && Some(c.user_id) == kept.user_id)
        .ok_or_else(|| Error::Rule(super::two_factor::challenge::EXPIRED.into()))?;
    let name = finish_for_account(&txn, rp, &kept, &credential).await?;
    sign_in_challenge::Entity::delete_by_id(digest)
        .exec(&txn)
        .await?;
    let signed_in = start_session(&txn, challenge.user_id, &name, replaced, ip).await?;
    txn.commit().await?;
    Ok(signed_in)
}

async fn start_session(
    txn: &impl ConnectionTrait,
    user_id: i64,
    passkey_name: &str,
    replaced: Option<&str>,
    ip: Option<IpAddr>,
) -> Result<(User, SessionId)> {
    let user = users::get(txn, user_id)
        .await?
        .ok_or_else(|| Error::Forbidden(users::SUSPENDED.into()))?;
    let how = Some(format!("with the passkey “{passkey_name}”"));
    let session = sessions::replace_on_sign_in(txn, user_id, how, replaced, ip).await?;
    Ok((user, session))
}

/// Starts a sign-in with a passkey alone (the browser offers the passkeys it has for this
/// site).
pub async fn start_sign_in(db: &DatabaseConnection, rp: &RelyingParty) -> Result<Started> {
    let (mut options, state): (RequestChallengeResponse, DiscoverableAuthentication) = rp
        .webauthn
        .start_discoverable_authentication()
        .map_err(|e| internal("passkey sign-in", e))?;
    // A button's sign-in, not the autofill of a username field.
    options.mediation = None;
    let ceremony = keep(db, Purpose::SignIn, None, None, to_json(&state)?).await?;
    Ok(Started {
        ceremony,
        options: to_json(&options)?,
    })
}

/// Finishes a sign-in with a passkey alone: the account the passkey belongs to gets a session.
/// Refused, as a password would be, when single sign-on is required of everyone but instance
/// admins.
pub async fn finish_sign_in(
    db: &DatabaseConnection,
    rp: &RelyingParty,
    ceremony: &str,
    credential: &str,
    replaced: Option<&str>,
    ip: Option<IpAddr>,
) -> Result<(User, SessionId)> {
    let credential: PublicKeyCredential = answer(credential)?;
    let kept = take(db, ceremony, Purpose::SignIn).await?;
    let txn = begin_write(db).await?;
    let state: DiscoverableAuthentication = from_json(&kept.state)?;
    let (handle, credential_id) = rp
        .webauthn
        .identify_discoverable_authentication(&credential)
        .map_err(|_| refused())?;
    let row = passkey::Entity::find()
        .filter(passkey::Column::CredentialId.eq(hex(credential_id)))
        .one(&txn)
        .await?
        .filter(|p| p.user_handle == handle.to_string())
        .ok_or_else(refused)?;
    let key = DiscoverableKey::from(&parsed(&row)?);
    let result = rp
        .webauthn
        .finish_discoverable_authentication(&credential, state, &[key])
        .map_err(|_| refused())?;
    let user_id = row.user_id;
    let account = users::get(&txn, user_id)
        .await?
        .ok_or_else(|| Error::Forbidden(users::SUSPENDED.into()))?;
    if !account.is_admin && super::sso::required(&txn).await? {
        return Err(Error::Forbidden(super::sso::REQUIRED.into()));
    }
    let name = used(&txn, row, &result).await?;
    let signed_in = start_session(&txn, user_id, &name, replaced, ip).await?;
    txn.commit().await?;
    Ok(signed_in)
}

/// Starts sudo mode's check with one of the signed-in person's passkeys.
pub async fn start_confirmation(
    db: &DatabaseConnection,
    rp: &RelyingParty,
    user_id: i64,
) -> Result<Started> {
    start_for_account(db, rp, Purpose::Confirm, user_id, None).await
}

/// Finishes sudo mode's check: the session `session_cookie` counts as freshly signed in.
pub async fn finish_confirmation(
    db: &DatabaseConnection,
    rp: &RelyingParty,
    session_cookie: &str,
    by: Origin<i64>,
    ceremony: &str,
    credential: &str,
) -> Result<()> {
    let credential: PublicKeyCredential = answer(credential)?;
    let kept = take(db, ceremony, Purpose::Confirm).await?;
    if kept.user_id != Some(by.who) {
        return Err(Error::Rule(EXPIRED.into()));
    }
    let txn = begin_write(db).await?;
    finish_for_account(&txn, rp, &kept, &credential).await?;
    sessions::mark_authenticated(&txn, session_cookie).await?;
    activity::record(&txn, Event::own_by(by, Kind::IdentityConfirmed)).await?;
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loopback_address_is_served_as_localhost() {
        let rp =
            RelyingParty::for_public_url(&Url::parse("http://127.0.0.1:3000/").unwrap()).unwrap();
        assert_eq!(rp.origin.as_str(), "http://localhost:3000/");
        let rp = RelyingParty::for_public_url(&Url::parse("https://patdesk.example.com/").unwrap())
            .unwrap();
        assert_eq!(rp.origin.as_str(), "https://patdesk.example.com/");
        assert!(RelyingParty::for_public_url(&Url::parse("http://10.1.2.3/").unwrap()).is_none());
    }
}
