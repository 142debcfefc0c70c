//! Property tests of the `Authorization` parser. Each property generates inputs aimed at one
//! branch of the parser and states the outcome for every input: a valid token passes as it was
//! sent, whatever scheme spelling or Basic user name carries it; a token with any one character
//! changed, removed or added never gets past the parser to the database; and arbitrary header
//! bytes are refused as malformed, never a panic.

use axum::http::{HeaderMap, HeaderValue, header};
use base64::{Engine, engine::general_purpose::STANDARD};
use domain::tokens::{
    access::{Credentials, Denied, Presented},
    format::TokenSecret,
};
use proptest::prelude::*;

const ALPHABET: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// What `domain::tokens::access::check` reads of a request's `Authorization` headers.
fn parse_authorization(map: &HeaderMap) -> Result<Credentials, Denied> {
    let values: Vec<&[u8]> = map
        .get_all(header::AUTHORIZATION)
        .iter()
        .map(HeaderValue::as_bytes)
        .collect();
    Presented::Authorization(&values).credentials()
}

fn parse(text: &str) -> Result<Credentials, Denied> {
    let mut map = HeaderMap::new();
    map.insert(header::AUTHORIZATION, HeaderValue::from_str(text).unwrap());
    parse_authorization(&map)
}

fn is_malformed(outcome: &Result<Credentials, Denied>) -> bool {
    matches!(outcome, Err(Denied::MalformedToken(_)))
}

/// One edit of a token's text.
#[derive(Clone, Debug)]
enum Edit {
    /// The character at this position becomes another (from the alphabet, or not).
    Replace(usize, char),
    Remove(usize),
    Insert(usize, char),
}

fn edit() -> impl Strategy<Value = Edit> {
    // Letters and digits (what a typo usually is), and a few characters outside the alphabet.
    let character = prop_oneof![
        4 => proptest::sample::select(ALPHABET.chars().collect::<Vec<_>>()),
        1 => proptest::sample::select(vec!['_', '-', '.', '+', '/', '=', 'é']),
    ];
    prop_oneof![
        (0usize..42, character.clone()).prop_map(|(at, c)| Edit::Replace(at, c)),
        (0usize..42).prop_map(Edit::Remove),
        (0usize..=42, character).prop_map(|(at, c)| Edit::Insert(at, c)),
    ]
}

/// The token with the edit applied, or `None` when the edit changes nothing (a character
/// replaced by itself).
fn apply(token: &str, edit: &Edit) -> Option<String> {
    let mut chars: Vec<char> = token.chars().collect();
    match *edit {
        Edit::Replace(at, c) if chars[at] == c => return None,
        Edit::Replace(at, c) => chars[at] = c,
        Edit::Remove(at) => {
            chars.remove(at);
        }
        Edit::Insert(at, c) => chars.insert(at, c),
    }
    Some(chars.into_iter().collect())
}

/// How a client may spell a scheme: any case, and extra blanks around the value.
fn spelled(scheme: &'static str) -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(any::<bool>(), scheme.len()),
        1usize..4,
    )
        .prop_map(move |(upper, spaces)| {
            let word: String = scheme
                .chars()
                .zip(upper)
                .map(|(c, up)| if up { c.to_ascii_uppercase() } else { c })
                .collect();
            format!("{word}{}", " ".repeat(spaces))
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    /// A valid token passes with Bearer however the scheme is spelled, exactly as sent.
    #[test]
    fn bearer_with_a_valid_token_is_accepted(scheme in spelled("bearer")) {
        let token = TokenSecret::generate().expose().to_string();
        let parsed = parse(&format!("{scheme}{token} ")).unwrap();
        prop_assert_eq!(parsed.secret().expose(), token.as_str());
        prop_assert_eq!(parsed.basic_user(), None);
    }

    /// Any one character changed, removed or added: refused as malformed (prefix, length,
    /// alphabet or checksum), so a typo never costs a database lookup.
    #[test]
    fn bearer_with_a_mistyped_token_is_malformed(edit in edit()) {
        let token = TokenSecret::generate().expose().to_string();
        let Some(typo) = apply(&token, &edit) else {
            let unchanged = parse(&format!("Bearer {token}"));
            prop_assert!(unchanged.is_ok(), "{:?}", unchanged);
            return Ok(());
        };
        let outcome = parse(&format!("Bearer {typo}"));
        prop_assert!(is_malformed(&outcome), "{typo}: {outcome:?}");
    }

    /// Basic with any user name (the token id, a username, or anything without a colon) and a
    /// valid token as the password: accepted, and the user name handed on as sent.
    #[test]
    fn basic_with_a_valid_token_keeps_the_user_name(
        scheme in spelled("basic"),
        user in "[^:\u{0}-\u{1f}]{0,40}",
    ) {
        let token = TokenSecret::generate().expose().to_string();
        let encoded = STANDARD.encode(format!("{user}:{token}"));
        let parsed = parse(&format!("{scheme}{encoded}")).unwrap();
        prop_assert_eq!(parsed.secret().expose(), token.as_str());
        prop_assert_eq!(parsed.basic_user(), Some(user.as_str()));
    }

    /// Basic with a mistyped token as the password: malformed, whatever the user name.
    #[test]
    fn basic_with_a_mistyped_token_is_malformed(
        user in "[^:\u{0}-\u{1f}]{0,40}",
        edit in edit(),
    ) {
        let token = TokenSecret::generate().expose().to_string();
        let Some(typo) = apply(&token, &edit) else { return Ok(()) };
        let outcome = parse(&format!("Basic {}", STANDARD.encode(format!("{user}:{typo}"))));
        prop_assert!(is_malformed(&outcome), "{typo}: {outcome:?}");
    }

    /// Basic credentials that are not base64, or have no colon: malformed.
    #[test]
    fn basic_without_user_and_password_is_malformed(text in "[A-Za-z0-9 ]{0,60}") {
        prop_assume!(!text.contains(':'));
        let token = TokenSecret::generate().expose().to_string();
        let no_colon = parse(&format!("Basic {}", STANDARD.encode(format!("{text}{token}"))));
        prop_assert!(is_malformed(&no_colon), "{no_colon:?}");
        let not_base64 = parse(&format!("Basic {text}!"));
        prop_assert!(is_malformed(&not_base64), "{not_base64:?}");
    }

    /// Any other scheme, with a valid token or not: malformed, with a message naming the two
    /// that work.
    #[test]
    fn other_schemes_are_malformed(scheme in "[A-Za-z]{1,12}") {
        prop_assume!(!scheme.eq_ignore_ascii_case("bearer") && !scheme.eq_ignore_ascii_case("basic"));
        let token = TokenSecret::generate().expose().to_string();
        match parse(&format!("{scheme} {token}")) {
            Err(Denied::MalformedToken(message)) => {
                prop_assert!(message.contains("Bearer") && message.contains("Basic"), "{message}");
            }
            other => prop_assert!(false, "{scheme}: {other:?}"),
        }
    }

    /// Arbitrary header bytes: refused as malformed, never a panic (a valid token among random
    /// bytes is beyond any real chance).
    #[test]
    fn arbitrary_bytes_are_malformed(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(value) = HeaderValue::from_bytes(&bytes) {
            let mut map = HeaderMap::new();
            map.insert(header::AUTHORIZATION, value);
            let outcome = parse_authorization(&map);
            prop_assert!(is_malformed(&outcome), "{bytes:?}: {outcome:?}");
        }
    }
}

#[test]
fn no_header_is_a_missing_token_and_two_headers_are_malformed() {
    assert_eq!(
        parse_authorization(&HeaderMap::new()).unwrap_err(),
        Denied::MissingToken
    );
    let token = TokenSecret::generate().expose().to_string();
    let mut map = HeaderMap::new();
    let value = HeaderValue::from_str(&format!("Bearer {token}")).unwrap();
    map.append(header::AUTHORIZATION, value.clone());
    map.append(header::AUTHORIZATION, value);
    assert!(matches!(
        parse_authorization(&map),
        Err(Denied::MalformedToken(_))
    ));
}
