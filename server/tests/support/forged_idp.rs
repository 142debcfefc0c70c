//! A provider that lies, for the ID token checks: discovery, an authorization endpoint that
//! sends the browser straight back, and a token endpoint whose ID token is made wrong in one
//! chosen way (wrong audience, wrong nonce, expired, tampered, `alg: none`, HMAC keyed with the
//! public key, a key the JWKS did not have at discovery). Its RSA key is made by `openssl` for
//! each run; nothing is stored.

use std::{
    net::SocketAddr,
    process::Command,
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    extract::{Query, State},
    response::{IntoResponse, Redirect},
    routing::{get, post},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{Duration, Utc};
use openidconnect::{
    Audience, EmptyAdditionalClaims, IssuerUrl, JsonWebKeyId, Nonce, PrivateSigningKey,
    StandardClaims, SubjectIdentifier,
    core::{
        CoreHmacKey, CoreIdToken, CoreIdTokenClaims, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
        CoreRsaPrivateSigningKey,
    },
};
use serde::Deserialize;
use serde_json::json;

/// How the next ID token is wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lie {
    /// Nothing: a token that passes every check (the harness works).
    None,
    WrongAudience,
    WrongNonce,
    Expired,
    /// Signed, then its payload changed (another `sub`).
    Tampered,
    AlgNone,
    /// HS256, keyed with the RSA public key's modulus.
    HmacWithPublicKey,
    /// Signed with a key the JWKS gets only after discovery (a rotation): must pass.
    RotatedKey,
}

struct Inner {
    lie: Lie,
    nonce: Option<String>,
    rotated: bool,
    /// What the userinfo endpoint says: its `sub`, and `groups` when set.
    userinfo: (String, Option<Vec<String>>),
}

#[derive(Clone)]
struct Shared {
    issuer: String,
    client_id: String,
    key: Arc<CoreRsaPrivateSigningKey>,
    next_key: Arc<CoreRsaPrivateSigningKey>,
    inner: Arc<Mutex<Inner>>,
}

pub struct ForgedIdp {
    pub issuer: String,
    shared: Shared,
}

fn rsa_key(kid: &str) -> CoreRsaPrivateSigningKey {
    let out = Command::new("openssl")
        .args(["genrsa", "-traditional", "2048"])
        .output()
        .expect("openssl makes the test provider's key");
    assert!(out.status.success(), "openssl genrsa failed");
    let pem = String::from_utf8(out.stdout).unwrap();
    CoreRsaPrivateSigningKey::from_pem(&pem, Some(JsonWebKeyId::new(kid.into()))).unwrap()
}

impl ForgedIdp {
    /// Serves on a free loopback port for as long as the test's runtime runs.
    pub async fn start(client_id: &str) -> ForgedIdp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let issuer = format!("http://{addr}");
        let shared = Shared {
            issuer: issuer.clone(),
            client_id: client_id.to_string(),
            key: Arc::new(rsa_key("first")),
            next_key: Arc::new(rsa_key("second")),
            inner: Arc::new(Mutex::new(Inner {
                lie: Lie::None,
                nonce: None,
                rotated: false,
                userinfo: ("forged-subject".to_string(), None),
            })),
        };
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/userinfo", get(userinfo))
            .with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        ForgedIdp { issuer, shared }
    }

    /// What the userinfo endpoint answers from now on (the ID token never has groups).
    pub fn userinfo(&self, sub: &str, groups: Option<&[&str]>) {
        self.shared.inner.lock().unwrap().userinfo = (
            sub.to_string(),
            groups.map(|g| g.iter().map(|s| s.to_string()).collect()),
        );
    }

    /// How the next ID token is wrong.
    pub fn lie(&self, lie: Lie) {
        let mut inner = self.shared.inner.lock().unwrap();
        inner.lie = lie;
        // The rotated key appears in the JWKS only after patdesk has read it once.
        inner.rotated = false;
    }
}

async fn discovery(State(shared): State<Shared>) -> impl IntoResponse {
    let issuer = &shared.issuer;
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    }))
}

async fn jwks(State(shared): State<Shared>) -> impl IntoResponse {
    let mut inner = shared.inner.lock().unwrap();
    let mut keys = vec![shared.key.as_verification_key()];
    if inner.lie == Lie::RotatedKey {
        if inner.rotated {
            keys.push(shared.next_key.as_verification_key());
        }
        // Read once without the new key (at discovery); every later read has it.
        inner.rotated = true;
    }
    Json(CoreJsonWebKeySet::new(keys))
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    redirect_uri: String,
    state: String,
    nonce: Option<String>,
}

async fn authorize(
    State(shared): State<Shared>,
    Query(query): Query<AuthorizeQuery>,
) -> impl IntoResponse {
    shared.inner.lock().unwrap().nonce = query.nonce;
    Redirect::to(&format!(
        "{}?code=forged-code&state={}",
        query.redirect_uri, query.state
    ))
}

async fn userinfo(State(shared): State<Shared>) -> impl IntoResponse {
    let (sub, groups) = shared.inner.lock().unwrap().userinfo.clone();
    match groups {
        Some(groups) => Json(json!({"sub": sub, "groups": groups})),
        None => Json(json!({"sub": sub})),
    }
}

async fn token(State(shared): State<Shared>) -> impl IntoResponse {
    let (lie, nonce) = {
        let inner = shared.inner.lock().unwrap();
        (inner.lie, inner.nonce.clone().unwrap_or_default())
    };
    let now = Utc::now();
    let audience = if lie == Lie::WrongAudience {
        "someone-else".to_string()
    } else {
        shared.client_id.clone()
    };
    let (expires, issued) = if lie == Lie::Expired {
        (now - Duration::hours(1), now - Duration::hours(2))
    } else {
        (now + Duration::minutes(5), now)
    };
    let nonce = if lie == Lie::WrongNonce {
        "not-the-nonce".to_string()
    } else {
        nonce
    };
    let claims = CoreIdTokenClaims::new(
        IssuerUrl::new(shared.issuer.clone()).unwrap(),
        vec![Audience::new(audience)],
        expires,
        issued,
        StandardClaims::new(SubjectIdentifier::new("forged-subject".into())),
        EmptyAdditionalClaims {},
    )
    .set_nonce(Some(Nonce::new(nonce)));
    let rs256 = CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256;
    let id_token = match lie {
        Lie::AlgNone => {
            let signed = CoreIdToken::new(claims, shared.key.as_ref(), rs256, None, None).unwrap();
            let payload = signed.to_string().split('.').nth(1).unwrap().to_string();
            format!(
                "{}.{payload}.",
                URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#)
            )
        }
        Lie::HmacWithPublicKey => {
            let jwk = serde_json::to_value(shared.key.as_verification_key()).unwrap();
            let modulus = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
            let hmac = CoreHmacKey::new(modulus);
            let hs256 = CoreJwsSigningAlgorithm::HmacSha256;
            CoreIdToken::new(claims, &hmac, hs256, None, None)
                .unwrap()
                .to_string()
        }
        Lie::RotatedKey => CoreIdToken::new(claims, shared.next_key.as_ref(), rs256, None, None)
            .unwrap()
            .to_string(),
        Lie::Tampered => {
            let signed = CoreIdToken::new(claims, shared.key.as_ref(), rs256, None, None)
                .unwrap()
                .to_string();
            let parts: Vec<&str> = signed.split('.').collect();
            let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
            let changed = payload.replace("forged-subject", "someone-richer");
            format!(
                "{}.{}.{}",
                parts[0],
                URL_SAFE_NO_PAD.encode(changed),
                parts[2]
            )
        }
        _ => CoreIdToken::new(claims, shared.key.as_ref(), rs256, None, None)
            .unwrap()
            .to_string(),
    };
    Json(json!({
        "access_token": "forged-access-token",
        "token_type": "Bearer",
        "expires_in": 300,
        "id_token": id_token,
    }))
}
