//! Randomness and digests for secrets (session ids and token values).

use sha2::{Digest, Sha256};

/// `n` bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The OS generator failing is not something a web request can recover from.
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    bytes
}

/// SHA-256 of `value`, lower-case hex: what the database stores in place of a secret.
pub fn digest_hex(value: &str) -> String {
    format!("{:x}", Sha256::digest(value.as_bytes()))
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
