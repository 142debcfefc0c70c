//! Standard Webhooks 1.0 signing: `webhook-signature` is `v1,` and the base64 HMAC-SHA256, keyed
//! with the secret's bytes, of `<webhook-id>.<webhook-timestamp>.<body>`; one such signature per
//! secret in force, separated by spaces (a rotation's overlap sends two).

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::secret::random_bytes;

/// The prefix Standard Webhooks' libraries expect of a secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// An endpoint's signing secret, `whsec_` + base64 of 32 random bytes: shown once, to be
/// given to the receiver's verifier. No `Debug` of its content.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    pub fn generate() -> Self {
        WebhookSecret(format!(
            "{SECRET_PREFIX}{}",
            STANDARD.encode(random_bytes::<32>())
        ))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(***)")
    }
}

/// The key bytes of a secret's text.
pub(crate) fn key_bytes(secret: &str) -> Option<Vec<u8>> {
    STANDARD.decode(secret.strip_prefix(SECRET_PREFIX)?).ok()
}

/// The `webhook-signature` header's value for one attempt.
pub fn sign(keys: &[Vec<u8>], message_id: &str, timestamp: i64, body: &[u8]) -> String {
    keys.iter()
        .map(|key| {
            let mut mac =
                Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
            mac.update(message_id.as_bytes());
            mac.update(b".");
            mac.update(timestamp.to_string().as_bytes());
            mac.update(b".");
            mac.update(body);
            format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification's reference libraries.
    #[test]
    fn signs_like_the_reference_libraries() {
        let key = key_bytes("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            sign(&[key], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_rotation_signs_with_both_secrets() {
        let (new, old) = (WebhookSecret::generate(), WebhookSecret::generate());
        let keys = [
            key_bytes(new.expose()).unwrap(),
            key_bytes(old.expose()).unwrap(),
        ];
        let header = sign(&keys, "msg_1", 1, b"{}");
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], sign(&keys[..1], "msg_1", 1, b"{}"));
        assert_eq!(parts[1], sign(&keys[1..], "msg_1", 1, b"{}"));
        assert!(!format!("{new:?}").contains(&new.expose()[6..]));
    }
}
