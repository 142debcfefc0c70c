//! What a local redirect target is: the one decision every redirect patdesk makes from a value
//! it was given (`next=` after signing in, the page a form error is taken off, the path a
//! signed-out visitor comes back to) goes through [`local_redirect`].
//!
//! A browser resolves a `Location` as a URL reference against this page, forgivingly: it turns
//! `\` into `/`, drops tabs and line breaks, resolves `.` and `..` (also spelled `%2e`), and
//! reads `//host/…` as another site. Code that decodes the path again (a router, a proxy) may
//! also read `%2F` as `/` and `%5C` as `\`. So the target is judged by what any of them could
//! make of it, not by how it starts.

/// `target` as a path on this site, normalised (dot-segments resolved as RFC 3986's
/// remove_dot_segments does, `\` turned into `/`, spaces and non-ASCII percent-encoded), with
/// its query and fragment as given; `None` when it could name another site or cannot be sent:
/// anything that is not one leading `/` followed by a path (`https:x`, `//x`, `/\x`, `/.//x`,
/// `/%2F%2Fx`, `/%5Cx`, `/x/../..//y`), or holds a control character (raw or percent-encoded in
/// the path).
pub fn local_redirect(target: &str) -> Option<String> {
    // Browsers drop tabs and line breaks anywhere in a URL (`/\t/x` is `//x`), and a control
    // character cannot go into a header at all.
    if target.chars().any(char::is_control) {
        return None;
    }
    let (path, rest) = target.split_at(target.find(['?', '#']).unwrap_or(target.len()));
    let path = path.replace('\\', "/");
    if !path.starts_with('/') {
        return None;
    }
    let normalised = remove_dot_segments(&path);
    // What the path says once decoded: `/%2F%2Fx`, `/%5Cx` and `/a%2F..%2F..%2F%2Fx` are
    // another site to anything that decodes before it resolves.
    let decoded = String::from_utf8_lossy(&percent_decode(&normalised)).replace('\\', "/");
    if decoded.chars().any(char::is_control)
        || normalised.starts_with("//")
        || remove_dot_segments(&decoded).starts_with("//")
    {
        return None;
    }
    Some(format!("{}{rest}", encode_unsafe(&normalised)))
}

/// RFC 3986, 5.2.4, for a path that starts with `/`; `%2e` counts as `.`, as browsers read it.
fn remove_dot_segments(path: &str) -> String {
    let segments: Vec<&str> = path[1..].split('/').collect();
    let mut kept: Vec<&str> = Vec::with_capacity(segments.len());
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match dots(segment) {
            1 => {}
            2 => {
                kept.pop();
            }
            _ => {
                kept.push(segment);
                continue;
            }
        }
        // `/a/.` and `/a/b/..` end in a slash: `/a/`.
        if last {
            kept.push("");
        }
    }
    format!("/{}", kept.join("/"))
}

/// 1 for a `.` segment, 2 for `..`, either spelled with `%2e`; 0 for any other.
fn dots(segment: &str) -> usize {
    let lower = segment.to_ascii_lowercase().replace("%2e", ".");
    match lower.as_str() {
        "." => 1,
        ".." => 2,
        _ => 0,
    }
}

fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(high), Some(low)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            // Two hex digits: at most 0xff.
            out.push((high * 16 + low) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// Spaces and non-ASCII percent-encoded, so that the path goes into a `Location` header as the
/// same bytes every client reads.
fn encode_unsafe(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte == b' ' || !byte.is_ascii() {
            out.push_str(&format!("%{byte:02X}"));
        } else {
            out.push(char::from(byte));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::local_redirect;

    #[test]
    fn hostile_targets_are_refused() {
        for hostile in [
            "",
            "x",
            "evil.example",
            "//evil.example/x",
            "///evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "\\/evil.example",
            "/.//evil.example/x",
            "/./\\evil.example",
            "/%2e//evil.example",
            "/%2E%2E//evil.example",
            "/x/../..//evil.example",
            "/x/%2e%2e/%2e%2e//evil.example",
            "/%2F%2Fevil.example",
            "/%2f/evil.example",
            "/%5Cevil.example",
            "/%5c%5cevil.example",
            "/a%2F..%2F..%2F%2Fevil.example",
            "\t/evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/x\r\nSet-Cookie: a=b",
            "/x?\u{7f}",
            "/%00",
            "/%0a/evil.example",
            "https:evil.example",
            "https://evil.example/x",
            "http:/evil.example",
            "javascript:alert(1)",
            " /x",
            "?next=/x",
            "#x",
        ] {
            assert_eq!(local_redirect(hostile), None, "{hostile:?}");
        }
    }

    #[test]
    fn local_paths_are_kept_normalised() {
        for (given, kept) in [
            ("/", "/"),
            ("/teams", "/teams"),
            ("/teams/ops?tab=tokens#tok_1", "/teams/ops?tab=tokens#tok_1"),
            ("/account#two-factor", "/account#two-factor"),
            ("/a/./b/../c", "/a/c"),
            ("/..", "/"),
            ("/x/..", "/"),
            ("/a/b/..", "/a/"),
            ("/%2e%2e/teams", "/teams"),
            ("/a\\b", "/a/b"),
            // The query is not a path: `//` in it goes nowhere.
            ("/signin?next=//evil.example", "/signin?next=//evil.example"),
            ("/signin?next=%2F%2Fx", "/signin?next=%2F%2Fx"),
            ("/ünï code", "/%C3%BCn%C3%AF%20code"),
            // Decoded once, this is `/%2F%2Fx`: a segment, not a host.
            ("/%252F%252Fx", "/%252F%252Fx"),
        ] {
            assert_eq!(local_redirect(given).as_deref(), Some(kept), "{given:?}");
        }
    }
}
