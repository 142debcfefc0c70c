//! Validated values: a `Username`, `TeamSlug`, `TeamName` or `Password` cannot hold an
//! invalid value, so functions that take one need not check again.

use std::fmt;

use crate::error::Error;

/// 3–32 chars of `a-z 0-9 _ -`, case-insensitive (kept lower-case).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let value = raw.trim().to_ascii_lowercase();
        let len = value.chars().count();
        if value.is_empty() {
            return Err(Error::invalid("username", "Enter a username."));
        }
        if !(3..=32).contains(&len) {
            return Err(Error::invalid(
                "username",
                "A username is 3 to 32 characters long.",
            ));
        }
        if !value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        {
            return Err(Error::invalid(
                "username",
                "A username may contain only letters a–z, digits, '_' and '-'.",
            ));
        }
        Ok(Username(value))
    }

    /// A name for a new account: [`Username::parse`], and none of [`RESERVED_USERNAMES`].
    /// Only account creation asks this: an account that already has a reserved name (made
    /// before it was reserved) keeps it, and every lookup uses [`Username::parse`].
    pub fn parse_new(raw: &str) -> Result<Self, Error> {
        let name = Username::parse(raw)?;
        if name.is_reserved() {
            return Err(reserved_username());
        }
        Ok(name)
    }

    /// Whether this is a name patdesk prints for an actor that is no account.
    pub fn is_reserved(&self) -> bool {
        RESERVED_USERNAMES.contains(&self.0.as_str())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Usernames no new account may take (compared in lower case, as usernames are kept): the
/// names the activity log, token and credential lists print for an actor that is no account —
/// "operator" (the command line, `activity::OPERATOR`), "SCIM" (a directory,
/// `activity::DIRECTORY`), "leak report" (`activity::LEAK_REPORT`, as a username would spell
/// it) — and their look-alikes, so that an entry by "operator" can only mean the command line.
pub const RESERVED_USERNAMES: &[&str] = &[
    "operator",
    "scim",
    "directory",
    "system",
    "leak-report",
    "leak_report",
];

/// What creating an account with a reserved name is told.
pub(crate) fn reserved_username() -> Error {
    Error::invalid(
        "username",
        "That username is reserved: patdesk's activity log uses it for changes made by no account. Choose another.",
    )
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// 2–40 chars of `a-z 0-9 -`, kept lower-case.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TeamSlug(String);

impl TeamSlug {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let value = raw.trim().to_ascii_lowercase();
        let len = value.chars().count();
        if value.is_empty() {
            return Err(Error::invalid("slug", "Enter a slug for the team."));
        }
        if !(2..=40).contains(&len) {
            return Err(Error::invalid(
                "slug",
                "A team slug is 2 to 40 characters long.",
            ));
        }
        if !value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(Error::invalid(
                "slug",
                "A team slug may contain only letters a–z, digits and '-'.",
            ));
        }
        Ok(TeamSlug(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TeamSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A team's display name: 1–100 chars, no control or invisible formatting characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamName(String);

impl TeamName {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let value = raw.trim();
        if value.is_empty() {
            return Err(Error::invalid("name", "Enter a name for the team."));
        }
        if value.chars().count() > 100 {
            return Err(Error::invalid(
                "name",
                "A team name is at most 100 characters long.",
            ));
        }
        if value.chars().any(char::is_control) {
            return Err(Error::invalid(
                "name",
                "A team name cannot contain control characters.",
            ));
        }
        crate::text::check_visible("name", value)?;
        Ok(TeamName(value.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password as typed: at least 10 characters, at most 256 (hashing cost is bounded).
/// Never printed: `Debug` shows a placeholder.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let len = raw.chars().count();
        if len == 0 {
            return Err(Error::invalid("password", "Enter a password."));
        }
        if len < 10 {
            return Err(Error::invalid(
                "password",
                "A password is at least 10 characters long.",
            ));
        }
        if len > 256 {
            return Err(Error::invalid(
                "password",
                "A password is at most 256 characters long.",
            ));
        }
        Ok(Password(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A member's role in a team (shared with the browser, see `common`).
pub use common::Role;

/// An email address: at most 254 characters, one `@`, a local part and a domain that mail
/// servers accept (checked by lettre's parser, the one that will address the mail). Kept as
/// entered; [`Email::key`] is the lower-case form that must be unique among accounts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let value = raw.trim();
        if value.is_empty() {
            return Err(Error::invalid("email", "Enter an email address."));
        }
        crate::text::check("email", value, crate::text::Lines::One)?;
        let malformed = || Error::invalid("email", "Enter an email address like name@example.com.");
        if value.chars().count() > 254 {
            return Err(Error::invalid(
                "email",
                "An email address is at most 254 characters long.",
            ));
        }
        // lettre accepts quoted local parts and IP-literal domains; people's addresses have
        // neither, and a dot-less domain is almost always a typo.
        let (_, domain) = value.rsplit_once('@').ok_or_else(malformed)?;
        if value.contains(['"', '[', ']', ' ']) || !domain.contains('.') || domain.ends_with('.') {
            return Err(malformed());
        }
        value.parse::<lettre::Address>().map_err(|_| malformed())?;
        Ok(Email(value.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form compared for uniqueness: addresses differing only in case are the same.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<common::UnknownRole> for Error {
    fn from(unknown: common::UnknownRole) -> Self {
        Error::invalid("role", unknown.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_addresses() {
        let email = Email::parse("  Alice.Smith+ci@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "Alice.Smith+ci@Example.COM");
        assert_eq!(email.key(), "alice.smith+ci@example.com");
        for bad in [
            "",
            "alice",
            "alice@",
            "@example.com",
            "alice@localhost",
            "alice@example.",
            "a b@example.com",
            "\"alice\"@example.com",
            "alice@[127.0.0.1]",
            "alice@@example.com",
            "alice@exa mple.com",
        ] {
            let error = Email::parse(bad).unwrap_err();
            assert!(
                matches!(error, Error::Invalid { field: "email", .. }),
                "{bad:?} should be refused"
            );
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&long).is_err());
    }

    #[test]
    fn usernames() {
        assert_eq!(Username::parse(" Alice_1 ").unwrap().as_str(), "alice_1");
        for bad in ["", "ab", "a b c", "ålice", &"x".repeat(33), "bob!"] {
            assert!(Username::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Username::parse(&"x".repeat(32)).is_ok());
    }

    #[test]
    fn actor_names_are_reserved_for_new_accounts_only() {
        use crate::activity::{DIRECTORY, LEAK_REPORT, OPERATOR};
        for actor in [OPERATOR, DIRECTORY, LEAK_REPORT, "directory", "system"] {
            let spelled = actor.replace(' ', "-");
            for name in [
                spelled.clone(),
                spelled.to_uppercase(),
                format!(" {spelled} "),
            ] {
                let refused = Username::parse_new(&name).unwrap_err();
                assert!(
                    matches!(
                        refused,
                        Error::Invalid {
                            field: "username",
                            ..
                        }
                    ),
                    "{name:?}"
                );
                // An existing account of that name is still found and signs in.
                assert!(Username::parse(&name).unwrap().is_reserved(), "{name:?}");
            }
        }
        assert!(Username::parse_new("operator-2").is_ok());
        assert!(Username::parse_new("sysadmin").is_ok());
    }

    #[test]
    fn slugs_and_names() {
        assert_eq!(TeamSlug::parse("Ops-2").unwrap().as_str(), "ops-2");
        for bad in ["", "a", "no_underscore", "sp ace", &"x".repeat(41)] {
            assert!(TeamSlug::parse(bad).is_err(), "{bad:?}");
        }
        assert!(TeamName::parse("  ").is_err());
        assert!(TeamName::parse("a\u{7}b").is_err());
        assert!(TeamName::parse(&"n".repeat(101)).is_err());
    }

    #[test]
    fn passwords_are_bounded_and_never_printed() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse(&"p".repeat(257)).is_err());
        let password = Password::parse("correct horse battery").unwrap();
        assert!(!format!("{password:?}").contains("horse"));
    }
}
