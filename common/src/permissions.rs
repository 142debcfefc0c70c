//! Fine-grained permissions (docs/permissions.md): what a token limited to "only these
//! permissions" may do, each `resource:level`. The team API's own resources are built in
//! ([`Builtin`]); a team's services define scopes of their own (`deploy:run`). Parsed once here,
//! from the words people and scripts write; compared as values everywhere else.

use std::{collections::BTreeSet, fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// A resource of the team API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Builtin {
    /// A team's questions.
    Questions,
    /// Answers to them.
    Answers,
    /// The token managing itself: regenerate, rotate, delete, its usage (level `self` only).
    Tokens,
    /// The team's tokens as its admins review them.
    TeamTokens,
}

impl Builtin {
    pub const ALL: [Builtin; 4] = [
        Builtin::Questions,
        Builtin::Answers,
        Builtin::Tokens,
        Builtin::TeamTokens,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Builtin::Questions => "questions",
            Builtin::Answers => "answers",
            Builtin::Tokens => "tokens",
            Builtin::TeamTokens => "team_tokens",
        }
    }

    fn named(name: &str) -> Option<Builtin> {
        Builtin::ALL.into_iter().find(|b| b.name() == name)
    }

    /// The levels it has, lowest first.
    pub fn levels(self) -> &'static [Level] {
        match self {
            Builtin::Tokens => &[Level::OwnToken],
            _ => &[Level::Read, Level::Write],
        }
    }

    /// What it lets a token do, in words (the New token form's table).
    pub fn in_words(self) -> &'static str {
        match self {
            Builtin::Questions => "Questions",
            Builtin::Answers => "Answers",
            Builtin::Tokens => "This token itself (regenerate, rotate, delete, usage)",
            Builtin::TeamTokens => "The team's tokens (team admins' review)",
        }
    }
}

/// How far a permission on a built-in resource goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Level {
    Read,
    /// Implies [`Level::Read`].
    Write,
    /// `tokens:self`: the token managing itself.
    OwnToken,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Read => "read",
            Level::Write => "write",
            Level::OwnToken => "self",
        }
    }
}

/// One permission: on a built-in resource, or a scope a team's service defines.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Permission {
    Builtin(Builtin, Level),
    /// `<service slug>:<scope>`, e.g. `deploy:run`.
    Service {
        service: String,
        scope: String,
    },
}

impl Permission {
    pub const fn builtin(resource: Builtin, level: Level) -> Permission {
        Permission::Builtin(resource, level)
    }

    /// Whether holding `self` lets a token do what `needed` names: the same permission, or
    /// `write` where `read` is needed.
    pub fn covers(&self, needed: &Permission) -> bool {
        match (self, needed) {
            (Permission::Builtin(held, Level::Write), Permission::Builtin(want, Level::Read)) => {
                held == want
            }
            _ => self == needed,
        }
    }

    /// A write: of team content, of the team's tokens (approval and the owner's role apply).
    pub fn is_write(&self) -> bool {
        matches!(self, Permission::Builtin(_, Level::Write))
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Permission::Builtin(resource, level) => {
                write!(f, "{}:{}", resource.name(), level.name())
            }
            Permission::Service { service, scope } => write!(f, "{service}:{scope}"),
        }
    }
}

/// Why a permission could not be read: the message says what a good one looks like.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadPermission(pub String);

impl fmt::Display for BadPermission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadPermission {}

/// A service's slug or one of its scopes: 1–32 of `a-z`, `0-9`, `-` and `_`, starting with a
/// letter (so that it reads as a word in `deploy:run` and in a URL's query).
pub fn is_name(text: &str) -> bool {
    (1..=32).contains(&text.len())
        && text.starts_with(|c: char| c.is_ascii_lowercase())
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

impl FromStr for Permission {
    type Err = BadPermission;

    fn from_str(raw: &str) -> Result<Permission, BadPermission> {
        let text = raw.trim();
        let Some((resource, level)) = text.split_once(':') else {
            return Err(BadPermission(format!(
                "{text:?} is not a permission: write resource:level, like questions:read or deploy:run."
            )));
        };
        if let Some(builtin) = Builtin::named(resource) {
            return builtin
                .levels()
                .iter()
                .find(|l| l.name() == level)
                .map(|l| Permission::Builtin(builtin, *l))
                .ok_or_else(|| {
                    let levels: Vec<&str> = builtin.levels().iter().map(|l| l.name()).collect();
                    BadPermission(format!(
                        "{resource} takes {}, not {level:?}.",
                        levels.join(" or ")
                    ))
                });
        }
        if !is_name(resource) || !is_name(level) {
            return Err(BadPermission(format!(
                "{text:?} is not a permission: a service's scope is its slug and the scope's \
                 name, each of a-z, 0-9, - and _ (like deploy:run)."
            )));
        }
        Ok(Permission::Service {
            service: resource.to_string(),
            scope: level.to_string(),
        })
    }
}

/// What a fine-grained token holds: a set of permissions, kept in their written order
/// (alphabetical), never empty.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Permissions(BTreeSet<PermissionKey>);

/// A permission ordered by how it is written, so that lists come out sorted.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
struct PermissionKey(String, Permission);

impl PartialOrd for PermissionKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PermissionKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp(&other.0)
    }
}

impl Permissions {
    /// Reads a list separated by spaces or commas (`questions:read deploy:run`, as stored and as
    /// RFC 7662's `scope`; `questions:read,deploy:run`, as a template URL writes it). Every bad
    /// entry is named; repeated ones count once. An empty list is refused: a fine-grained token
    /// that may do nothing is a mistake.
    pub fn parse_list(text: &str) -> Result<Permissions, BadPermission> {
        let mut set = Permissions::default();
        let mut bad = Vec::new();
        for word in text.split([' ', ',', '\n', '\t']).filter(|w| !w.is_empty()) {
            match word.parse::<Permission>() {
                Ok(permission) => set.insert(permission),
                Err(BadPermission(message)) => bad.push(message),
            }
        }
        if !bad.is_empty() {
            return Err(BadPermission(bad.join(" ")));
        }
        if set.is_empty() {
            return Err(BadPermission(
                "Choose at least one permission (or make a whole-team token).".into(),
            ));
        }
        Ok(set)
    }

    pub fn insert(&mut self, permission: Permission) {
        // A write covers the read: keep only the write.
        if let Permission::Builtin(resource, Level::Read) = permission
            && self.contains(&Permission::Builtin(resource, Level::Write))
        {
            return;
        }
        if let Permission::Builtin(resource, Level::Write) = permission {
            self.0.retain(|PermissionKey(_, held)| {
                *held != Permission::Builtin(resource, Level::Read)
            });
        }
        self.0
            .insert(PermissionKey(permission.to_string(), permission));
    }

    fn contains(&self, permission: &Permission) -> bool {
        self.0
            .iter()
            .any(|PermissionKey(_, held)| held == permission)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether these permissions let a token do what `needed` names.
    pub fn allows(&self, needed: &Permission) -> bool {
        self.0
            .iter()
            .any(|PermissionKey(_, held)| held.covers(needed))
    }

    /// What of `needed` is missing, in order.
    pub fn missing<'a>(&self, needed: &'a [Permission]) -> Vec<&'a Permission> {
        needed.iter().filter(|p| !self.allows(p)).collect()
    }

    /// Whether any of them writes (a write token, for approval and the owner's role).
    pub fn any_write(&self) -> bool {
        self.0.iter().any(|PermissionKey(_, held)| held.is_write())
    }

    pub fn iter(&self) -> impl Iterator<Item = &Permission> {
        self.0.iter().map(|PermissionKey(_, held)| held)
    }

    /// The sorted list as written: `questions:write deploy:run` (stored so, answered so).
    pub fn to_list(&self) -> Vec<String> {
        self.0
            .iter()
            .map(|PermissionKey(text, _)| text.clone())
            .collect()
    }

    /// Space-separated, as the database keeps it and RFC 7662 answers it.
    pub fn joined(&self) -> String {
        self.to_list().join(" ")
    }

    /// A short summary for lists: "questions: write, deploy: run".
    pub fn summary(&self) -> String {
        self.0
            .iter()
            .map(|PermissionKey(text, _)| text.replacen(':', ": ", 1))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl FromIterator<Permission> for Permissions {
    fn from_iter<I: IntoIterator<Item = Permission>>(items: I) -> Self {
        let mut set = Permissions::default();
        for item in items {
            set.insert(item);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Permission {
        text.parse().unwrap()
    }

    #[test]
    fn reads_and_writes_back_every_builtin_and_service_scopes() {
        for text in [
            "questions:read",
            "questions:write",
            "answers:read",
            "answers:write",
            "tokens:self",
            "team_tokens:read",
            "team_tokens:write",
            "deploy:run",
            "metrics-api:read_all",
        ] {
            assert_eq!(p(text).to_string(), text);
        }
    }

    #[test]
    fn refuses_what_is_not_a_permission_and_says_why() {
        for (text, says) in [
            ("questions", "resource:level"),
            ("questions:admin", "questions takes read or write"),
            ("tokens:read", "tokens takes self"),
            ("Deploy:run", "a-z"),
            ("deploy:", "a-z"),
            (":run", "a-z"),
            ("deploy:run now", "a-z"),
            ("9lives:run", "a-z"),
        ] {
            let error = text.parse::<Permission>().unwrap_err();
            assert!(error.0.contains(says), "{text}: {error}");
        }
    }

    #[test]
    fn write_covers_read_of_the_same_resource_only() {
        let held = Permissions::parse_list("questions:write deploy:run").unwrap();
        assert!(held.allows(&p("questions:read")));
        assert!(held.allows(&p("questions:write")));
        assert!(!held.allows(&p("answers:read")));
        assert!(held.allows(&p("deploy:run")));
        assert!(
            !held.allows(&p("deploy:read")),
            "service scopes imply nothing"
        );
        assert!(!held.allows(&p("tokens:self")));
        assert_eq!(
            held.missing(&[p("questions:read"), p("answers:write")]),
            vec![&p("answers:write")]
        );
    }

    #[test]
    fn lists_are_sorted_deduplicated_and_keep_only_the_write() {
        let set = Permissions::parse_list("questions:read,deploy:run  questions:write deploy:run")
            .unwrap();
        assert_eq!(set.to_list(), ["deploy:run", "questions:write"]);
        assert_eq!(set.joined(), "deploy:run questions:write");
        assert_eq!(set.summary(), "deploy: run, questions: write");
        assert!(set.any_write());
        assert!(
            !Permissions::parse_list("questions:read")
                .unwrap()
                .any_write()
        );
    }

    #[test]
    fn a_list_names_every_bad_entry_and_is_never_empty() {
        let error = Permissions::parse_list("questions:nope, tokens:read").unwrap_err();
        assert!(error.0.contains("questions takes") && error.0.contains("tokens takes"));
        assert!(Permissions::parse_list(" , ").is_err());
    }
}
