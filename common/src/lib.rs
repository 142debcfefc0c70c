//! The plain values the server and the browser both need: team roles, token kinds and the
//! expiry choices a new token may have.
//!
//! No I/O and no dependencies beyond serde, so that the wasm can use the same types (and the
//! same words for them) as the server. `domain` re-exports these and owns the rules around them;
//! see `docs/tokens.md` for the lifetimes.

mod expiry;
mod kinds;

pub use expiry::{
    EXPIRING_SOON_DAYS, EXPLORER_LIFETIME_HOURS, ExpiryChoices, ExpiryOption, MAX_LIFETIME_DAYS,
};
pub use kinds::{Role, TokenKind, UnknownRole};
mod description;

pub use description::description_key;
