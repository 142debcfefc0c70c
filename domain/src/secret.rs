//! Randomness and digests for secrets (session ids and token values).

use sha2::{Digest, Sha256};

/// `n` bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The OS generator failing is not something a web request can recover from.
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    bytes
}

/// SHA-256 of `value`, lower-case hex: what the database stores in place of a secret.
pub fn digest_hex(value: &str) -> String {
    format!("{:x}", Sha256::digest(value.as_bytes()))
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The server's key for secrets it must read back (authenticator-app secrets: a code is
/// checked against the secret itself, so a digest will not do). Made from
/// `PATDESK_SECRET_KEY`, or from a key the server generates into its data folder on first
/// start (docs/two-factor.md). Never printed by `Debug`.
#[derive(Clone)]
pub struct SealingKey([u8; 32]);

/// How short a `PATDESK_SECRET_KEY` may be: 32 characters, the length of 128 random bits in
/// base64 with room to spare.
pub const MIN_KEY_LENGTH: usize = 32;

/// What is wrong with a key given as text.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the secret key must be at least {MIN_KEY_LENGTH} characters long (it has {0})")]
pub struct KeyTooShort(pub usize);

/// A sealed value could not be opened: another key sealed it, or it was changed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a sealed secret could not be opened with this server's secret key")]
pub struct SealBroken;

const SEAL_VERSION: &str = "v1:";

impl SealingKey {
    /// The key made from text (SHA-256 of it: the text is random already, a slow hash would
    /// add nothing), refused when shorter than [`MIN_KEY_LENGTH`].
    pub fn from_text(text: &str) -> Result<Self, KeyTooShort> {
        let text = text.trim();
        if text.chars().count() < MIN_KEY_LENGTH {
            return Err(KeyTooShort(text.chars().count()));
        }
        Ok(SealingKey(Sha256::digest(text.as_bytes()).into()))
    }

    /// A new random key's text, as the server writes it into the data folder.
    pub fn generate_text() -> String {
        hex(&random_bytes::<32>())
    }

    /// `plain` sealed (XChaCha20-Poly1305, a random nonce) and bound to `context` (the row it
    /// belongs to: a sealed value copied to another row does not open there).
    pub fn seal(&self, plain: &[u8], context: &[u8]) -> String {
        use base64::Engine;
        use chacha20poly1305::{
            KeyInit, XChaCha20Poly1305, XNonce,
            aead::{Aead, Payload},
        };
        let nonce = random_bytes::<24>();
        let sealed = XChaCha20Poly1305::new((&self.0).into())
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plain,
                    aad: context,
                },
            )
            .expect("sealing into memory does not fail");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!(
            "{SEAL_VERSION}{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes)
        )
    }

    /// What [`SealingKey::seal`] sealed with the same key and context.
    pub fn open(&self, sealed: &str, context: &[u8]) -> Result<Vec<u8>, SealBroken> {
        use base64::Engine;
        use chacha20poly1305::{
            KeyInit, XChaCha20Poly1305, XNonce,
            aead::{Aead, Payload},
        };
        let bytes = sealed
            .strip_prefix(SEAL_VERSION)
            .and_then(|b| {
                base64::engine::general_purpose::STANDARD_NO_PAD
                    .decode(b)
                    .ok()
            })
            .filter(|b| b.len() > 24)
            .ok_or(SealBroken)?;
        let (nonce, sealed) = bytes.split_at(24);
        let nonce: [u8; 24] = nonce.try_into().map_err(|_| SealBroken)?;
        XChaCha20Poly1305::new((&self.0).into())
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: context,
                },
            )
            .map_err(|_| SealBroken)
    }
}

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_context() {
        let key = SealingKey::from_text(&SealingKey::generate_text()).unwrap();
        let sealed = key.seal(b"JBSWY3DPEHPK3PXP", b"user 1");
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(key.open(&sealed, b"user 1").unwrap(), b"JBSWY3DPEHPK3PXP");
        assert_eq!(key.open(&sealed, b"user 2"), Err(SealBroken));
        let other = SealingKey::from_text(&"x".repeat(40)).unwrap();
        assert_eq!(other.open(&sealed, b"user 1"), Err(SealBroken));
        assert_eq!(key.open("v1:AAAA", b"user 1"), Err(SealBroken));
        // Two seals of one value differ (a fresh nonce each time).
        assert_ne!(sealed, key.seal(b"JBSWY3DPEHPK3PXP", b"user 1"));
        assert_eq!(
            SealingKey::from_text("too short").err(),
            Some(KeyTooShort(9))
        );
        assert!(!format!("{key:?}").contains(&hex(&key.0)));
    }
}
