//! Team roles and token kinds.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A member's role in a team, from least to most allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Reader,
    Writer,
    Admin,
}

/// A role name that is not one of ours.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownRole(pub String);

impl fmt::Display for UnknownRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Unknown role {:?}: choose reader, writer or admin.",
            self.0
        )
    }
}

impl Role {
    /// Every role, least allowed first (the order of the role menus).
    pub const ALL: [Role; 3] = [Role::Reader, Role::Writer, Role::Admin];

    /// `reader`, `writer` or `admin`, in any case, with surrounding blanks.
    pub fn parse(raw: &str) -> Result<Self, UnknownRole> {
        let wanted = raw.trim();
        Role::ALL
            .into_iter()
            .find(|role| role.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| UnknownRole(raw.to_string()))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reader => "reader",
            Role::Writer => "writer",
            Role::Admin => "admin",
        }
    }

    /// Writers and admins may create, edit and delete team content (and hold write tokens).
    pub fn can_write(self) -> bool {
        self >= Role::Writer
    }

    /// Admins manage the team's members.
    pub fn is_admin(self) -> bool {
        self == Role::Admin
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a token is for: made by its owner, minted by the API explorer for itself, or minted for
/// a service account in exchange for a CI job's identity token (docs/service-accounts.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    Personal,
    Explorer,
    Federated,
}

impl TokenKind {
    pub const ALL: [TokenKind; 3] = [
        TokenKind::Personal,
        TokenKind::Explorer,
        TokenKind::Federated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Personal => "personal",
            TokenKind::Explorer => "explorer",
            TokenKind::Federated => "federated",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        TokenKind::ALL.into_iter().find(|kind| kind.as_str() == raw)
    }
}

impl fmt::Display for TokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_in_any_case_and_order_by_power() {
        assert_eq!(Role::parse(" Writer "), Ok(Role::Writer));
        assert_eq!(Role::parse("owner"), Err(UnknownRole("owner".into())));
        assert!(Role::Admin.can_write() && Role::Writer.can_write() && !Role::Reader.can_write());
        assert!(Role::Admin.is_admin() && !Role::Writer.is_admin());
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
    }

    #[test]
    fn token_kinds_round_trip() {
        for kind in TokenKind::ALL {
            assert_eq!(TokenKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(TokenKind::parse("Personal"), None);
    }
}
