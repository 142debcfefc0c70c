//! The plain values the server and the browser both need: team roles, token kinds, the
//! expiry choices a new token may have, and what a local redirect target is (`local_redirect`).
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
mod redirect;

pub use redirect::local_redirect;
pub mod permissions;

pub use permissions::{Permission, Permissions};
