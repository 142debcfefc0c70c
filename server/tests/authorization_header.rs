//! Property tests of the `Authorization` parser: arbitrary bytes never panic it, and only
//! well-formed tokens (prefix, length, alphabet, checksum) get past it to the database lookup.

use axum::http::{HeaderMap, HeaderValue, header};
use base64::{Engine, engine::general_purpose::STANDARD};
use domain::token_format::TokenSecret;
use proptest::prelude::*;
use server::api::auth::parse_authorization;

fn headers(value: HeaderValue) -> HeaderMap {
    let mut map = HeaderMap::new();
    map.insert(header::AUTHORIZATION, value);
    map
}

fn parse_text(text: &str) -> Option<String> {
    let value = HeaderValue::from_str(text).ok()?;
    parse_authorization(&headers(value))
        .ok()
        .map(|c| c.secret.expose().to_string())
}

const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

proptest! {
    #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

    /// Any header bytes at all: an answer, never a panic; and an accepted value is a valid token.
    #[test]
    fn arbitrary_bytes_never_panic_and_only_valid_tokens_pass(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(value) = HeaderValue::from_bytes(&bytes)
            && let Ok(credentials) = parse_authorization(&headers(value))
        {
            prop_assert!(TokenSecret::parse(credentials.secret.expose()).is_ok());
        }
    }

    /// Text shaped like the real thing: a scheme and a token-ish value.
    #[test]
    fn near_misses_are_refused_unless_they_are_valid(
        scheme in prop_oneof![Just("Bearer"), Just("bearer"), Just("Basic"), Just("Token"), Just("")],
        body in "pdk_[0-9A-Za-z]{0,45}",
    ) {
        let accepted = parse_text(&format!("{scheme} {body}"));
        if let Some(secret) = accepted {
            prop_assert!(scheme.eq_ignore_ascii_case("bearer"));
            prop_assert_eq!(secret.as_str(), body.as_str());
            prop_assert!(TokenSecret::parse(&body).is_ok());
        }
    }

    /// Every single-character change to a valid token is caught by the checksum or the
    /// alphabet, so a typo never costs a database lookup.
    #[test]
    fn any_one_character_typo_is_refused(position in 4usize..42, replacement in 0usize..ALPHABET.len()) {
        let token = TokenSecret::generate().expose().to_string();
        let mut bytes = token.clone().into_bytes();
        prop_assume!(bytes[position] != ALPHABET[replacement]);
        bytes[position] = ALPHABET[replacement];
        let typo = String::from_utf8(bytes).unwrap();
        prop_assert_eq!(parse_text(&format!("Bearer {typo}")), None);
        prop_assert_eq!(parse_text(&format!("Bearer {token}")), Some(token));
    }

    /// A valid token is accepted however it is sent: Bearer in any case, or Basic with any user.
    #[test]
    fn valid_tokens_are_accepted_in_every_documented_form(
        user in "[^:\u{0}-\u{1f}]{0,20}",
        upper in any::<bool>(),
    ) {
        let token = TokenSecret::generate().expose().to_string();
        let scheme = if upper { "BEARER" } else { "Bearer" };
        prop_assert_eq!(parse_text(&format!("{scheme} {token}")), Some(token.clone()));
        let basic = STANDARD.encode(format!("{user}:{token}"));
        prop_assert_eq!(parse_text(&format!("Basic {basic}")), Some(token));
    }
}
