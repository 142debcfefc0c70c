//! When a token's coming expiry is worth a warning: the one rule of the token page's banner and
//! "expires soon" marks and of the expiry reminders. A module of its own so that the
//! notifications can read it without importing the token rules (which send notices).

use chrono::{DateTime, Duration, Utc};
use common::TokenKind;

/// A token that lives this many days or fewer (from its creation or latest regeneration to its
/// expiry) is short-lived by design: its expiry is no surprise.
pub const SHORT_LIFETIME_DAYS: i64 = 7;

/// Whether a token's coming expiry is worth a warning: it would stop a script. The one rule of
/// the token page's banner and "expires soon" marks and of the expiry reminders
/// (`notifications::sweep_expiry`): not the API explorer's own token, and not a token whose
/// whole lifetime is [`SHORT_LIFETIME_DAYS`] days or less. The lifetime counts from the latest
/// regeneration, which gives the token its lifetime again from then: a 7-day token regenerated
/// every week stays short-lived.
pub fn expiry_warns(
    kind: TokenKind,
    issued_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
) -> bool {
    kind != TokenKind::Explorer
        && expires_at.is_some_and(|at| at - issued_at > Duration::days(SHORT_LIFETIME_DAYS))
}
