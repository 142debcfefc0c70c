//! The limits on a request (`docs/hardening.md`), in one place: the guards, the API and the
//! router enforce them, and the error messages name them.
//!
//! hyper already refuses more than 100 headers and a head of more than about 400 KB; these
//! limits are far lower, near what browsers and common proxies send and accept.

use std::time::Duration;

/// The longest path and query accepted (414 `uri_too_long`).
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// The most bytes of header names and values accepted, all headers together (431
/// `headers_too_large`).
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// API request bodies above this are refused with 413 `payload_too_large`.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The longest a request may take, body upload included (408).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
