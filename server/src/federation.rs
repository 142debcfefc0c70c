//! The identity token's cryptography for federation (docs/service-accounts.md): the issuer's
//! keys, fetched from its discovery document and JWKS and cached, and the JWT checks —
//! signature (RS256 or ES256 only: never `none` or HMAC), issuer, audience, `exp`/`nbf`/`iat`
//! with 60 s of skew, a `jti`. `jsonwebtoken` does the signature and the registered claims;
//! what the token may then become is `domain::tokens::federation`.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use domain::tokens::federation::{self as rules, Identity, Refusal, Settings};
use jsonwebtoken::{
    Algorithm, DecodingKey, Validation,
    errors::ErrorKind,
    jwk::{AlgorithmParameters, JwkSet},
};
use openidconnect::reqwest;
use sea_orm::DatabaseConnection;
use serde_json::{Map, Value};

/// Keys are fetched again after this, whatever happens.
const KEYS_KEPT: Duration = Duration::from_secs(3600);
/// How long a fetch of a discovery document or key set may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// A discovery document or key set larger than this is refused.
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;

/// Why an identity token was not verified.
#[derive(Debug)]
pub enum Unverified {
    /// It does not qualify (RFC 6749 `invalid_grant` and friends).
    Refused(Refusal),
    /// The issuer's keys could not be fetched: the job may try again.
    IssuerUnavailable(String),
    Domain(domain::Error),
}

impl From<domain::Error> for Unverified {
    fn from(e: domain::Error) -> Self {
        Unverified::Domain(e)
    }
}

fn refused(message: impl Into<String>) -> Unverified {
    Unverified::Refused(Refusal::InvalidGrant(message.into()))
}

struct CachedKeys {
    keys: Arc<JwkSet>,
    fetched: Instant,
}

/// Federation's settings and the issuers' keys this process has fetched.
pub struct Federation {
    pub settings: Settings,
    keys: Mutex<HashMap<String, CachedKeys>>,
    /// `PATDESK_FEDERATION_KEY_REFETCH_SECONDS`.
    refetch_after: Duration,
}

impl Federation {
    pub fn new(settings: Settings, refetch_after: Duration) -> Self {
        Federation {
            settings,
            keys: Mutex::new(HashMap::new()),
            refetch_after,
        }
    }

    /// Checks an identity token and answers what it says of its bearer.
    pub async fn verify(&self, db: &DatabaseConnection, jwt: &str) -> Result<Identity, Unverified> {
        let header = jsonwebtoken::decode_header(jwt).map_err(|_| {
            refused("The subject_token is not a signed JWT (RS256 or ES256; alg none is refused).")
        })?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(refused(format!(
                "The identity token is signed with {:?}: only RS256 and ES256 are accepted.",
                header.alg
            )));
        }
        let Some(kid) = header.kid.clone() else {
            return Err(refused("The identity token's header names no key (kid)."));
        };
        let issuer = unverified_issuer(jwt)
            .ok_or_else(|| refused("The identity token has no issuer (iss) claim."))?;
        let audiences = rules::audiences_for(db, &issuer).await?;
        if audiences.is_empty() {
            return Err(refused(
                "Identity tokens from this issuer are not accepted here.",
            ));
        }
        let jwk = self.key(&issuer, &kid).await?;
        if let Some(alg) = jwk.common.key_algorithm
            && format!("{alg:?}") != format!("{:?}", header.alg)
        {
            return Err(refused("The identity token's algorithm is not its key's."));
        }
        let key = match &jwk.algorithm {
            AlgorithmParameters::RSA(_) | AlgorithmParameters::EllipticCurve(_) => {
                DecodingKey::from_jwk(&jwk)
                    .map_err(|_| refused("The issuer's key for this token is unusable."))?
            }
            _ => {
                return Err(refused(
                    "The issuer's key for this token is not an RSA or EC key.",
                ));
            }
        };
        let mut validation = Validation::new(header.alg);
        validation.leeway = rules::CLOCK_SKEW_SECONDS as u64;
        validation.validate_nbf = true;
        validation.set_issuer(&[&issuer]);
        validation.set_audience(&audiences.iter().collect::<Vec<_>>());
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud"]);
        let data = jsonwebtoken::decode::<Map<String, Value>>(jwt, &key, &validation)
            .map_err(|e| refused(why_invalid(e.kind())))?;
        let claims = data.claims;
        let now = Utc::now().timestamp();
        if claims
            .get("iat")
            .and_then(Value::as_i64)
            .is_some_and(|iat| iat > now + rules::CLOCK_SKEW_SECONDS)
        {
            return Err(refused(
                "The identity token was issued in the future (iat).",
            ));
        }
        let jti = match claims.get("jti").and_then(Value::as_str) {
            Some(jti) if !jti.is_empty() && jti.len() <= 256 => jti.to_string(),
            _ => {
                return Err(refused(
                    "The identity token has no jti claim: patdesk needs it to use each token once.",
                ));
            }
        };
        let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(now);
        let audiences = match claims.get("aud") {
            Some(Value::String(one)) => vec![one.clone()],
            Some(Value::Array(many)) => many
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        };
        Ok(Identity {
            issuer,
            audiences,
            jti,
            expires_at: DateTime::<Utc>::from_timestamp(exp, 0).unwrap_or_else(Utc::now),
            claims,
        })
    }

    /// The issuer's key `kid`: from the cache; else from the issuer, fetched again when the
    /// cached set is old or (a rotation) lacks the key and was fetched long enough ago.
    async fn key(&self, issuer: &str, kid: &str) -> Result<jsonwebtoken::jwk::Jwk, Unverified> {
        let cached = {
            let keys = self.keys.lock().expect("federation keys lock");
            keys.get(issuer)
                .map(|c| (c.keys.clone(), c.fetched.elapsed()))
        };
        if let Some((keys, age)) = &cached {
            if *age < KEYS_KEPT
                && let Some(jwk) = keys.find(kid)
            {
                return Ok(jwk.clone());
            }
            if *age < self.refetch_after {
                return Err(refused(
                    "The identity token is signed with a key its issuer does not publish.",
                ));
            }
        }
        let keys = Arc::new(self.fetch_keys(issuer).await?);
        self.keys.lock().expect("federation keys lock").insert(
            issuer.to_string(),
            CachedKeys {
                keys: keys.clone(),
                fetched: Instant::now(),
            },
        );
        keys.find(kid).cloned().ok_or_else(|| {
            refused("The identity token is signed with a key its issuer does not publish.")
        })
    }

    /// The issuer's discovery document, then its JWKS.
    async fn fetch_keys(&self, issuer: &str) -> Result<JwkSet, Unverified> {
        let unavailable = |what: &str| {
            Unverified::IssuerUnavailable(format!(
                "Could not read the keys of issuer {issuer}: {what}. Try again shortly."
            ))
        };
        let discovery_url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let discovery: Value = self
            .get_json(&discovery_url)
            .await
            .map_err(|e| unavailable(&format!("its discovery document: {e}")))?;
        if discovery["issuer"].as_str() != Some(issuer) {
            return Err(unavailable("its discovery document names another issuer"));
        }
        let Some(jwks_uri) = discovery["jwks_uri"].as_str() else {
            return Err(unavailable("its discovery document has no jwks_uri"));
        };
        // The key set must be served as an issuer would be: https (or loopback http in tests).
        rules::parse_issuer(jwks_uri, &self.settings)
            .map_err(|_| unavailable("its jwks_uri is not an https:// URL"))?;
        let keys: Value = self
            .get_json(jwks_uri)
            .await
            .map_err(|e| unavailable(&format!("its key set: {e}")))?;
        serde_json::from_value(keys).map_err(|_| unavailable("its key set is not a JWKS"))
    }

    async fn get_json(&self, url: &str) -> Result<Value, String> {
        let client = self.client_for(url).await?;
        let response = client
            .get(url)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    "no answer within 10 s".to_string()
                } else {
                    "it cannot be reached".to_string()
                }
            })?;
        if !response.status().is_success() {
            return Err(format!("it answered {}", response.status().as_u16()));
        }
        let body = response
            .bytes()
            .await
            .map_err(|_| "the answer broke off".to_string())?;
        if body.len() > MAX_DOCUMENT_BYTES {
            return Err("the answer is too large".into());
        }
        serde_json::from_slice(&body).map_err(|_| "the answer is not JSON".into())
    }

    /// A client that connects to `url`'s host only at a public address (`crate::outbound`;
    /// loopback too where tests allow plain-HTTP loopback issuers).
    async fn client_for(&self, url: &str) -> Result<reqwest::Client, String> {
        let parsed = url::Url::parse(url).map_err(|_| "its URL is not valid".to_string())?;
        let inside = if self.settings.allow_http_loopback {
            crate::outbound::Inside::Loopback
        } else {
            crate::outbound::Inside::Refused
        };
        crate::outbound::client_for(&parsed, inside, FETCH_TIMEOUT).await
    }
}

/// The `iss` of a JWT, read before its signature is checked: only to choose whose keys check
/// it, and which issuers are trusted at all.
fn unverified_issuer(jwt: &str) -> Option<String> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let claims: Map<String, Value> = serde_json::from_slice(&bytes).ok()?;
    claims.get("iss")?.as_str().map(str::to_string)
}

/// What a failed JWT check says, by its kind.
fn why_invalid(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::InvalidSignature => "The identity token's signature does not verify.".into(),
        ErrorKind::ExpiredSignature => "The identity token has expired (exp).".into(),
        ErrorKind::ImmatureSignature => "The identity token is not valid yet (nbf).".into(),
        ErrorKind::InvalidAudience => {
            "The identity token's audience (aud) is not one a trust policy accepts.".into()
        }
        ErrorKind::InvalidIssuer => "The identity token's issuer (iss) is not trusted.".into(),
        ErrorKind::MissingRequiredClaim(claim) => {
            format!("The identity token has no {claim} claim.")
        }
        ErrorKind::InvalidAlgorithm => {
            "The identity token's algorithm does not match its key.".into()
        }
        _ => "The identity token is malformed.".into(),
    }
}
