//! The token format (docs/tokens.md):
//!
//! `pdk_` + 32 random base62 chars (OS CSPRNG) + 6 base62 chars of the CRC32 of the preceding
//! text = 42 chars. The prefix makes leaked tokens findable by secret scanners; the checksum
//! lets the server reject a mistyped or random string without touching the database; the
//! underscore keeps a double-click selecting the whole token.
//!
//! A [`TokenSecret`] cannot be printed by accident: it has no `Display`, and its `Debug` shows
//! only the public hint.

use std::fmt;

use crate::secret::{digest_hex, random_bytes};

pub const PREFIX: &str = "pdk_";
pub const RANDOM_LEN: usize = 32;
pub const CHECKSUM_LEN: usize = 6;
pub const TOKEN_LEN: usize = PREFIX.len() + RANDOM_LEN + CHECKSUM_LEN;
/// Public token ids: `tok_` + 16 base62 chars.
pub const ID_PREFIX: &str = "tok_";
pub const ID_LEN: usize = ID_PREFIX.len() + 16;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `len` uniformly random base62 characters (rejection sampling: no modulo bias).
pub(crate) fn random_base62(len: usize) -> String {
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for byte in random_bytes::<64>() {
            // 248 = 4 × 62: bytes at or above it would favour the first characters.
            if byte < 248 && out.len() < len {
                out.push(BASE62[(byte % 62) as usize] as char);
            }
        }
    }
    out
}

/// `value` in base62, left-padded with '0' to `width`.
fn base62_fixed(mut value: u64, width: usize) -> String {
    let mut digits = vec![b'0'; width];
    for slot in digits.iter_mut().rev() {
        *slot = BASE62[(value % 62) as usize];
        value /= 62;
    }
    String::from_utf8(digits).expect("base62 is ASCII")
}

fn checksum(body: &str) -> String {
    base62_fixed(u64::from(crc32fast::hash(body.as_bytes())), CHECKSUM_LEN)
}

/// A token value. Only ever shown to its owner once, in the response that created it.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSecret(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("a token starts with pdk_")]
    Prefix,
    #[error("a token is 42 characters long")]
    Length,
    #[error("a token contains only letters and digits after pdk_")]
    Charset,
    #[error("the token's checksum does not match: it was mistyped or truncated")]
    Checksum,
}

impl TokenSecret {
    pub fn generate() -> Self {
        let body = format!("{PREFIX}{}", random_base62(RANDOM_LEN));
        let sum = checksum(&body);
        TokenSecret(body + &sum)
    }

    /// Checks prefix, length, alphabet and checksum: no database needed.
    pub fn parse(candidate: &str) -> Result<Self, FormatError> {
        if !candidate.starts_with(PREFIX) {
            return Err(FormatError::Prefix);
        }
        if candidate.len() != TOKEN_LEN {
            return Err(FormatError::Length);
        }
        let rest = &candidate[PREFIX.len()..];
        if !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(FormatError::Charset);
        }
        let (body, sum) = candidate.split_at(TOKEN_LEN - CHECKSUM_LEN);
        if checksum(body) != sum {
            return Err(FormatError::Checksum);
        }
        Ok(TokenSecret(candidate.to_string()))
    }

    /// The value itself: for the one response that shows it, and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// SHA-256 (hex): what the database stores and looks up.
    pub fn digest(&self) -> String {
        digest_hex(&self.0)
    }

    /// The last 4 characters, for the partial view `pdk_…a1b2`.
    pub fn hint(&self) -> String {
        self.0[TOKEN_LEN - 4..].to_string()
    }
}

impl fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenSecret(pdk_…{})", self.hint())
    }
}

/// A credential other than a token: a prefix of its own (so that scanners, and people, tell it
/// from a token), 32 random and 6 checksum characters; shown once, stored as its digest, and
/// never printed (`Debug` shows the hint only).
macro_rules! prefixed_secret {
    ($(#[$doc:meta])* $name:ident, $prefix:ident, $len:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            pub fn generate() -> Self {
                let body = format!("{}{}", $prefix, random_base62(RANDOM_LEN));
                let sum = checksum(&body);
                $name(body + &sum)
            }

            /// Prefix, length, alphabet and checksum; `None` when any is wrong.
            pub fn parse(candidate: &str) -> Option<Self> {
                let rest = candidate.strip_prefix($prefix)?;
                if candidate.len() != $len || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return None;
                }
                let (body, sum) = candidate.split_at($len - CHECKSUM_LEN);
                (checksum(body) == sum).then(|| $name(candidate.to_string()))
            }

            pub fn expose(&self) -> &str {
                &self.0
            }

            pub fn digest(&self) -> String {
                digest_hex(&self.0)
            }

            pub fn hint(&self) -> String {
                self.0[$len - 4..].to_string()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({}…{})", stringify!($name), $prefix, self.hint())
            }
        }
    };
}

/// Service credentials (docs/forward-auth.md): `pdks_` + 32 random + 6 checksum characters.
pub const SERVICE_PREFIX: &str = "pdks_";
pub const SERVICE_LEN: usize = SERVICE_PREFIX.len() + RANDOM_LEN + CHECKSUM_LEN;
/// Public service credential ids: `svc_` + 16 base62 chars.
pub const SERVICE_ID_PREFIX: &str = "svc_";

prefixed_secret!(
    /// A service credential's secret.
    ServiceSecret,
    SERVICE_PREFIX,
    SERVICE_LEN
);

/// SCIM credentials (docs/scim.md): `pdkscim_` + 32 random + 6 checksum characters.
pub const SCIM_PREFIX: &str = "pdkscim_";
pub const SCIM_LEN: usize = SCIM_PREFIX.len() + RANDOM_LEN + CHECKSUM_LEN;
/// Public SCIM credential ids: `scim_` + 16 base62 chars.
pub const SCIM_ID_PREFIX: &str = "scim_";

prefixed_secret!(
    /// A SCIM credential's secret: what a directory provisions accounts with.
    ScimSecret,
    SCIM_PREFIX,
    SCIM_LEN
);

/// A new public SCIM credential id.
pub fn new_scim_id() -> String {
    format!("{SCIM_ID_PREFIX}{}", random_base62(16))
}

/// A new public service credential id.
pub fn new_service_id() -> String {
    format!("{SERVICE_ID_PREFIX}{}", random_base62(16))
}

/// A new public token id.
pub fn new_token_id() -> String {
    format!("{ID_PREFIX}{}", random_base62(ID_LEN - ID_PREFIX.len()))
}

/// Whether `value` has the shape of a token id.
pub fn is_token_id(value: &str) -> bool {
    value.len() == ID_LEN
        && value.starts_with(ID_PREFIX)
        && value[ID_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric())
}

/// The partial view shown in lists.
pub fn partial(hint: &str) -> String {
    format!("{PREFIX}…{hint}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_secrets_are_not_tokens_and_check_their_checksum() {
        let secret = ServiceSecret::generate();
        let value = secret.expose();
        assert!(value.starts_with("pdks_") && value.len() == SERVICE_LEN);
        assert_eq!(ServiceSecret::parse(value), Some(secret.clone()));
        assert!(TokenSecret::parse(value).is_err());
        assert!(ServiceSecret::parse(TokenSecret::generate().expose()).is_none());
        let mut typo = value.to_string();
        let last = typo.pop().unwrap();
        typo.push(if last == 'a' { 'b' } else { 'a' });
        assert!(ServiceSecret::parse(&typo).is_none());
        assert!(!format!("{secret:?}").contains(&value[5..20]));
        assert!(new_service_id().starts_with("svc_"));
        let scim = ScimSecret::generate();
        assert!(scim.expose().starts_with("pdkscim_") && scim.expose().len() == SCIM_LEN);
        assert_eq!(ScimSecret::parse(scim.expose()), Some(scim.clone()));
        assert!(
            ScimSecret::parse(value).is_none() && ServiceSecret::parse(scim.expose()).is_none()
        );
        assert!(!format!("{scim:?}").contains(&scim.expose()[8..30]));
    }

    #[test]
    fn generated_tokens_have_the_documented_shape() {
        let token = TokenSecret::generate();
        let value = token.expose();
        assert_eq!(value.len(), 42);
        assert!(value.starts_with("pdk_"));
        assert!(value[4..].bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(TokenSecret::parse(value).unwrap(), token);
        assert_ne!(TokenSecret::generate(), token);
        assert_eq!(token.hint(), &value[38..]);
    }

    #[test]
    fn any_single_character_change_is_caught_by_the_checksum() {
        let token = TokenSecret::generate();
        let value = token.expose().as_bytes().to_vec();
        for position in 4..42 {
            for &replacement in BASE62 {
                if replacement == value[position] {
                    continue;
                }
                let mut changed = value.clone();
                changed[position] = replacement;
                let changed = String::from_utf8(changed).unwrap();
                assert_eq!(
                    TokenSecret::parse(&changed),
                    Err(FormatError::Checksum),
                    "{position}"
                );
            }
        }
    }

    #[test]
    fn malformed_values_are_named() {
        let value = TokenSecret::generate().expose().to_string();
        assert_eq!(TokenSecret::parse(&value[1..]), Err(FormatError::Prefix));
        assert_eq!(TokenSecret::parse(&value[..41]), Err(FormatError::Length));
        assert_eq!(
            TokenSecret::parse(&format!("{}-{}", &value[..20], &value[21..])),
            Err(FormatError::Charset)
        );
        assert_eq!(TokenSecret::parse("pdk_ü"), Err(FormatError::Length));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let token = TokenSecret::generate();
        let shown = format!("{token:?}");
        assert!(!shown.contains(&token.expose()[4..38]), "{shown}");
    }

    #[test]
    fn ids() {
        let id = new_token_id();
        assert!(is_token_id(&id), "{id}");
        assert!(!is_token_id("tok_short"));
        assert!(!is_token_id("pdk_0123456789abcdef"));
    }
}
