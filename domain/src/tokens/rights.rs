//! Whether rights may have been taken away since a token check was made: a counter that every
//! domain change which can take rights away raises after its commit, and that
//! [`super::access::CallerCache`] compares its entries with. A leaf of its own, so that the
//! modules making such changes (`teams`, `identity::users`, …) need not import the access checks
//! that read them.

use std::sync::atomic::{AtomicU64, Ordering};

static VERSION: AtomicU64 = AtomicU64::new(0);

/// Says that rights may have been taken away: a token deleted, regenerated, rotated, revoked or
/// given an allow-list, a new explorer token, a member removed or demoted, an account
/// suspended, the policy tightened, a leak report. Every cached check in the process made
/// before this is not reused. The domain function that makes the change calls this after its
/// commit; callers never need to (`domain/tests/rights.rs` fails if one forgets).
pub(crate) fn changed() {
    VERSION.fetch_add(1, Ordering::SeqCst);
}

/// The current version: a check made under it is reusable while it stays the same.
pub(crate) fn version() -> u64 {
    VERSION.load(Ordering::SeqCst)
}
