//! Single sign-on over OpenID Connect (`docs/sso.md`): `GET /auth/oidc/start` sends the browser
//! to the provider with the authorization code flow — PKCE (S256), `state` and `nonce`, bound
//! to this browser by a short-lived cookie — and `GET /auth/oidc/callback` checks what comes
//! back: the state against the cookie, the code exchanged (with the PKCE verifier) for an ID
//! token whose signature (the provider's JWKS, fetched again when an unknown key appears),
//! issuer, audience, expiry and nonce `openidconnect` verifies. Which account the verified
//! person is, is `domain::identity::sso`'s. Every failure ends on a page that says what
//! happened; none is a 500, and none leaves an account half made.

use std::time::Duration;

use axum::{
    extract::{Query, State},
    http::{Extensions, HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use domain::identity::sso::{self, SsoClaims};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope, TokenResponse,
    core::{CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreProviderMetadata},
    reqwest,
};
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;

use sea_orm::DatabaseConnection;

use crate::api::extract::Client;
use app::session::Authenticated;
use axum::Extension;
use domain::identity::{sudo::SudoWindow, users::User};

/// The provider, when single sign-on is set up.
type Configured = Option<std::sync::Arc<Sso>>;

/// How long a started sign-in may take at the provider.
const LOGIN_WINDOW: Duration = Duration::from_secs(600);

/// `PATDESK_OIDC_*`: the provider and how patdesk is registered with it. (`ClientSecret`'s
/// `Debug` prints `[redacted]`.)
#[derive(Clone, Debug)]
pub struct SsoSettings {
    pub issuer: IssuerUrl,
    pub client_id: ClientId,
    pub client_secret: ClientSecret,
    /// The button's words: "Sign in with <name>".
    pub name: String,
    pub scopes: Vec<String>,
    /// `<PATDESK_PUBLIC_URL>/auth/oidc/callback`.
    pub redirect: RedirectUrl,
}

/// The provider as this process knows it: its settings and, once fetched, its metadata and keys.
pub struct Sso {
    settings: SsoSettings,
    http: reqwest::Client,
    provider: RwLock<Option<CoreProviderMetadata>>,
}

/// What went wrong, in words for the person who tried to sign in.
#[derive(Debug)]
enum Failure {
    /// 400: the callback does not belong to a sign-in this browser started (or it was used).
    NotStarted,
    /// 400: the provider answered with this error code (the person declined, …).
    Provider(String),
    /// 502/503: the provider could not be reached or answered nonsense.
    Unreachable,
    /// 400: the ID token failed a check.
    Rejected,
    /// The account's rules refused (suspended, already linked, …).
    Refused(StatusCode, String),
    /// 403: linking asked from a session whose sign-in is older than the sudo window.
    NotRecent,
}

impl Sso {
    pub fn new(settings: SsoSettings) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            // Following redirects would let a provider point patdesk's requests anywhere.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(Sso {
            settings,
            http,
            provider: RwLock::new(None),
        })
    }

    /// What the pages may show of the settings: never the client secret.
    pub fn shown(&self) -> app::auth::SsoShown {
        app::auth::SsoShown {
            name: self.settings.name.clone(),
            issuer: self.settings.issuer.as_str().to_string(),
            client_id: self.settings.client_id.as_str().to_string(),
            redirect_uri: self.settings.redirect.as_str().to_string(),
        }
    }

    pub fn settings(&self) -> &SsoSettings {
        &self.settings
    }

    /// Fetches the provider's discovery document and keys. At start a failure is one log line
    /// and the app serves on; the next sign-in tries again.
    pub async fn discover(&self) -> Result<CoreProviderMetadata, String> {
        match CoreProviderMetadata::discover_async(self.settings.issuer.clone(), &self.http).await {
            Ok(metadata) => {
                *self.provider.write().await = Some(metadata.clone());
                Ok(metadata)
            }
            Err(error) => Err(format!("{error}")),
        }
    }

    /// The OpenID client for these settings and the provider's `metadata`.
    fn client(&self, metadata: CoreProviderMetadata) -> SsoClient {
        CoreClient::from_provider_metadata(
            metadata,
            self.settings.client_id.clone(),
            Some(self.settings.client_secret.clone()),
        )
        .set_redirect_uri(self.settings.redirect.clone())
    }

    async fn metadata(&self) -> Result<CoreProviderMetadata, Failure> {
        if let Some(known) = self.provider.read().await.clone() {
            return Ok(known);
        }
        self.discover().await.map_err(|error| {
            tracing::warn!(issuer = self.settings.issuer.as_str(), %error, "single sign-on: the provider cannot be reached");
            Failure::Unreachable
        })
    }
}

/// What the browser keeps of a sign-in it started (the `state` to compare, the `nonce` the ID
/// token must carry, the PKCE verifier, where to go after, and whether it links an account).
#[derive(Serialize, Deserialize)]
struct Started {
    state: String,
    nonce: String,
    verifier: String,
    next: String,
    link: bool,
    /// For a link: the SHA-256 of the session that started it. The callback links only that
    /// session's account, so a link started in one session cannot finish in another.
    #[serde(default)]
    session: Option<String>,
}

#[derive(Deserialize)]
pub struct StartQuery {
    next: Option<String>,
}

/// `GET /auth/oidc/start`: to the provider.
pub async fn start(
    State(sso): State<Configured>,
    extensions: Extensions,
    Query(query): Query<StartQuery>,
) -> Response {
    begin(sso.as_deref(), &extensions, query.next.as_deref(), None).await
}

/// `GET /auth/oidc/link`: to the provider, to link the account of this session (the Account
/// page's Link, after its server function has checked sudo mode). A GET, as the sign-in's
/// start: the page's `form-action 'self'` policy would stop a form's redirect to the provider.
/// Linking adds a way into the account, so it is a sudo-mode change, checked here and again at
/// the callback: a stale session — a browser left signed in — cannot add the attacker's
/// provider account as a way in that skips the password and the second factor.
pub async fn link(
    State(sso): State<Configured>,
    State(window): State<SudoWindow>,
    signed_in: Option<Extension<User>>,
    authenticated: Option<Extension<Authenticated>>,
    extensions: Extensions,
    headers: HeaderMap,
) -> Response {
    if let Err(failure) = may_link(signed_in.as_deref(), authenticated.as_deref(), window) {
        return failure_page(failure);
    }
    let session = app::session::session_cookie_of(&extensions, &headers)
        .map(|cookie| domain::secret::digest_hex(&cookie));
    begin(sso.as_deref(), &extensions, Some("/account"), session).await
}

/// Whether this request's session may link an account: signed in, and within the sudo window.
fn may_link(
    user: Option<&User>,
    authenticated: Option<&Authenticated>,
    window: SudoWindow,
) -> Result<i64, Failure> {
    let user = user.ok_or_else(|| {
        Failure::Refused(
            StatusCode::FORBIDDEN,
            "Sign in to patdesk first, then link single sign-on from your Account page.".into(),
        )
    })?;
    match authenticated {
        Some(at) if window.allows(at.0) => Ok(user.id),
        _ => Err(Failure::NotRecent),
    }
}

/// Starts a sign-in at the provider; `link_session` is the digest of the session a link is for.
async fn begin(
    sso: Option<&Sso>,
    extensions: &Extensions,
    next: Option<&str>,
    link_session: Option<String>,
) -> Response {
    let Some(sso) = sso else {
        return page(
            StatusCode::NOT_FOUND,
            "Single sign-on is not set up on this patdesk.",
        );
    };
    let metadata = match sso.metadata().await {
        Ok(metadata) => metadata,
        Err(failure) => return failure_page(failure),
    };
    let client = sso.client(metadata);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client.authorize_url(
        CoreAuthenticationFlow::AuthorizationCode,
        CsrfToken::new_random,
        Nonce::new_random,
    );
    for scope in &sso.settings.scopes {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    let (url, csrf, nonce) = request.set_pkce_challenge(challenge).url();
    let started = Started {
        state: csrf.secret().clone(),
        nonce: nonce.secret().clone(),
        verifier: verifier.secret().clone(),
        next: app::session::safe_next(next),
        link: link_session.is_some(),
        session: link_session,
    };
    let secure = app::request::over_https(extensions);
    let mut response = Redirect::to(url.as_str()).into_response();
    append_cookie(&mut response, &started_cookie(&started, secure));
    response
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    // `error_description` is not read: it is never shown (see `provider_refusal`).
}

/// The session a callback arrives with, as the session guard resolved it.
struct CallbackSession {
    cookie: Option<String>,
    user: Option<User>,
    authenticated: Option<Authenticated>,
    window: SudoWindow,
}

/// `GET /auth/oidc/callback`: back from the provider.
#[allow(clippy::too_many_arguments)]
pub async fn callback(
    State(sso): State<Configured>,
    State(db): State<DatabaseConnection>,
    State(window): State<SudoWindow>,
    signed_in: Option<Extension<User>>,
    authenticated: Option<Extension<Authenticated>>,
    Client(ip): Client,
    extensions: Extensions,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let secure = app::request::over_https(&extensions);
    // The started sign-in is used once, whatever happens now.
    let started = read_started(&headers, secure);
    let session = CallbackSession {
        cookie: app::session::session_cookie_of(&extensions, &headers),
        user: signed_in.map(|Extension(user)| user),
        authenticated: authenticated.map(|Extension(at)| at),
        window,
    };
    let mut response = match finish(sso.as_deref(), &db, session, ip, secure, started, query).await
    {
        Ok(response) => response,
        Err(failure) => failure_page(failure),
    };
    append_cookie(&mut response, &clear_started_cookie(secure));
    response
}

async fn finish(
    sso: Option<&Sso>,
    db: &DatabaseConnection,
    session: CallbackSession,
    ip: Option<std::net::IpAddr>,
    secure: bool,
    started: Option<Started>,
    query: CallbackQuery,
) -> Result<Response, Failure> {
    let sso = sso.ok_or(Failure::NotStarted)?;
    let started = started.ok_or(Failure::NotStarted)?;
    // The state first: a state that is not this browser's means nothing in the query came from
    // a sign-in it started. Some providers leave the state out of an error answer (RFC 6749
    // asks for it); such an error is said in patdesk's words only — the provider's
    // `error_description` is anyone's text and never shown — and it signs nobody in.
    match (&query.state, &query.error) {
        (Some(returned), _) if constant_time_eq(returned.as_bytes(), started.state.as_bytes()) => {}
        (None, Some(_)) => {}
        _ => return Err(Failure::NotStarted),
    }
    if let Some(error) = query.error {
        return Err(Failure::Provider(error));
    }
    let code = query.code.ok_or(Failure::NotStarted)?;
    if started.link {
        // Checked again now: the sudo window may have closed at the provider, and the session
        // must be the one that started the link.
        let user_id = may_link(
            session.user.as_ref(),
            session.authenticated.as_ref(),
            session.window,
        )?;
        let same_session = match (&session.cookie, &started.session) {
            (Some(cookie), Some(digest)) => constant_time_eq(
                domain::secret::digest_hex(cookie).as_bytes(),
                digest.as_bytes(),
            ),
            _ => false,
        };
        if !same_session {
            return Err(Failure::NotStarted);
        }
        let claims = verified_claims(sso, &started, code).await?;
        sso::link(db, domain::Origin::new(user_id, ip), &claims)
            .await
            .map_err(refused)?;
        return Ok(Redirect::to(&app::session::safe_next(Some(&started.next))).into_response());
    }
    let claims = verified_claims(sso, &started, code).await?;
    let signed_in = sso::sign_in(db, &claims, session.cookie.as_deref(), ip)
        .await
        .map_err(refused)?;
    // Checked again: the cookie is the browser's, and anything may have written it.
    let mut response = Redirect::to(&app::session::safe_next(Some(&started.next))).into_response();
    append_cookie(
        &mut response,
        &domain::identity::sessions::set_cookie(&signed_in.session, secure),
    );
    Ok(response)
}

/// Exchanges the code and verifies the ID token; fetches the provider's keys again once when the
/// token names a key patdesk has not seen (the provider rotated its keys).
async fn verified_claims(sso: &Sso, started: &Started, code: String) -> Result<SsoClaims, Failure> {
    let metadata = sso.metadata().await?;
    let client = sso.client(metadata);
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|_| Failure::Unreachable)?
        .set_pkce_verifier(PkceCodeVerifier::new(started.verifier.clone()))
        .request_async(&sso.http)
        .await
        .map_err(|error| {
            // The error names the endpoint and what it said; never the code or a token.
            tracing::warn!(error = %error, "single sign-on: the code exchange failed");
            match error {
                openidconnect::RequestTokenError::ServerResponse(_) => Failure::Rejected,
                _ => Failure::Unreachable,
            }
        })?;
    let id_token = tokens.id_token().ok_or(Failure::Rejected)?;
    let nonce = Nonce::new(started.nonce.clone());
    let verified = match id_token.claims(&client.id_token_verifier(), &nonce) {
        Ok(claims) => claims.clone(),
        Err(openidconnect::ClaimsVerificationError::SignatureVerification(
            openidconnect::SignatureVerificationError::NoMatchingKey,
        )) => {
            let metadata = sso.discover().await.map_err(|_| Failure::Unreachable)?;
            let client = sso.client(metadata);
            id_token
                .claims(&client.id_token_verifier(), &nonce)
                .map_err(|error| rejected(&error))?
                .clone()
        }
        Err(error) => return Err(rejected(&error)),
    };
    let groups = match groups_claim(id_token) {
        Some(groups) => Some(groups),
        None => userinfo_groups(sso, &client, tokens.access_token(), verified.subject()).await,
    };
    Ok(SsoClaims {
        issuer: verified.issuer().as_str().to_string(),
        subject: verified.subject().as_str().to_string(),
        preferred_username: verified
            .preferred_username()
            .map(|u| u.as_str().to_string()),
        email: verified.email().map(|e| e.as_str().to_string()),
        email_verified: verified.email_verified().unwrap_or(false),
        groups,
    })
}

/// The client [`Sso::client`] makes: authorization endpoint set, token and userinfo endpoints
/// as the provider's metadata has them.
type SsoClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The `groups` a userinfo answer may carry (the only claim patdesk reads beyond the standard
/// ones).
#[derive(Clone, Debug, Deserialize, Serialize)]
struct GroupsClaim {
    #[serde(default)]
    groups: Option<Vec<String>>,
}

impl openidconnect::AdditionalClaims for GroupsClaim {}

/// The `groups` of the provider's userinfo, for providers that put them there rather than in
/// the ID token (Okta's default, for one). `openidconnect` checks that the answer is about the
/// subject the ID token named. A provider without a userinfo endpoint, or one that fails,
/// leaves memberships as they are (logged): the sign-in itself has passed every check.
async fn userinfo_groups(
    sso: &Sso,
    client: &SsoClient,
    access_token: &openidconnect::AccessToken,
    subject: &openidconnect::SubjectIdentifier,
) -> Option<Vec<String>> {
    let request = client
        .user_info(access_token.clone(), Some(subject.clone()))
        .ok()?;
    match request
        .request_async::<GroupsClaim, _, openidconnect::core::CoreGenderClaim>(&sso.http)
        .await
    {
        Ok(claims) => claims.additional_claims().groups.clone(),
        Err(error) => {
            tracing::warn!(%error, "single sign-on: the userinfo request failed; memberships left as they are");
            None
        }
    }
}

/// The `groups` claim of an ID token already verified above (`openidconnect`'s typed claims
/// keep only the standard ones): `None` when the token has none, so memberships stay as they are.
fn groups_claim(id_token: &CoreIdToken) -> Option<Vec<String>> {
    let jwt = id_token.to_string();
    let payload = URL_SAFE_NO_PAD.decode(jwt.split('.').nth(1)?).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&payload).ok()?;
    let groups = claims.get("groups")?.as_array()?;
    Some(
        groups
            .iter()
            .filter_map(|g| g.as_str().map(str::to_string))
            .collect(),
    )
}

fn rejected(error: &openidconnect::ClaimsVerificationError) -> Failure {
    tracing::warn!(%error, "single sign-on: an ID token was refused");
    Failure::Rejected
}

fn refused(error: domain::Error) -> Failure {
    match error {
        domain::Error::Forbidden(message) => Failure::Refused(StatusCode::FORBIDDEN, message),
        domain::Error::Conflict { message, .. } => Failure::Refused(StatusCode::CONFLICT, message),
        other => {
            tracing::error!(error = %other, "single sign-on: the sign-in could not be stored");
            Failure::Refused(
                StatusCode::SERVICE_UNAVAILABLE,
                "patdesk could not complete the sign-in just now. Try again.".into(),
            )
        }
    }
}

fn failure_page(failure: Failure) -> Response {
    match failure {
        Failure::NotStarted => page(
            StatusCode::BAD_REQUEST,
            "This sign-in was not started in this browser, took longer than 10 minutes, or was used already. Start again from the sign-in page.",
        ),
        Failure::Provider(code) => page(StatusCode::BAD_REQUEST, provider_refusal(&code)),
        Failure::Unreachable => page(
            StatusCode::BAD_GATEWAY,
            "The identity provider cannot be reached just now. Try again later, or sign in with your password.",
        ),
        Failure::Rejected => page(
            StatusCode::BAD_REQUEST,
            "The identity provider's answer did not pass patdesk's checks, so you are not signed in. Start again from the sign-in page.",
        ),
        Failure::Refused(status, message) => page(status, &message),
        Failure::NotRecent => page_back_to(
            "/account",
            "Back to your Account page",
            StatusCode::FORBIDDEN,
            "Linking single sign-on adds a way into your account, and you signed in a while ago. Go back to your Account page and choose Link again: patdesk asks you to confirm it is you first.",
        ),
    }
}

/// The app's own words for the provider's error code (RFC 6749 §4.1.2.1, OpenID Connect Core
/// §3.1.2.6); the provider's `error_description` is never shown, since a link can carry any text.
fn provider_refusal(code: &str) -> &'static str {
    match code {
        "access_denied" => {
            "The identity provider did not sign you in: the sign-in was declined or cancelled there."
        }
        "login_required"
        | "interaction_required"
        | "consent_required"
        | "account_selection_required" => {
            "The identity provider did not sign you in: it needs you to sign in or agree there first. Start again from the sign-in page."
        }
        "temporarily_unavailable" | "server_error" => {
            "The identity provider did not sign you in: it had a problem of its own. Try again in a moment."
        }
        _ => {
            "The identity provider did not sign you in: it reported an error. Start again from the sign-in page, or ask your administrators."
        }
    }
}

/// A small page that says what happened, with the way back to the sign-in page.
fn page(status: StatusCode, message: &str) -> Response {
    page_back_to("/signin", "Back to sign-in", status, message)
}

/// A small page that says what happened, with the way back (`href`, a fixed local path).
fn page_back_to(href: &str, back: &str, status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Single sign-on · patdesk</title></head>\
         <body><main><h1>Single sign-on</h1><p data-testid=\"sso-message\">{}</p><p><a href=\"{href}\">{back}</a></p></main></body></html>",
        domain::text::escape_html(message)
    );
    (status, Html(body)).into_response()
}

fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-patdesk_sso"
    } else {
        "patdesk_sso"
    }
}

fn started_cookie(started: &Started, secure: bool) -> String {
    let value = URL_SAFE_NO_PAD.encode(serde_json::to_vec(started).unwrap_or_default());
    format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        cookie_name(secure),
        LOGIN_WINDOW.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

fn clear_started_cookie(secure: bool) -> String {
    format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
        cookie_name(secure),
        if secure { "; Secure" } else { "" }
    )
}

fn read_started(headers: &HeaderMap, secure: bool) -> Option<Started> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|h| domain::identity::sessions::cookie_named(h, cookie_name(secure)))
        .and_then(|value| URL_SAFE_NO_PAD.decode(value).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
}

fn append_cookie(response: &mut Response, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
