//! What characters text people type may hold (docs/threat-model.md).
//!
//! - No control characters: NUL (which PostgreSQL refuses in `text`, so it must be refused
//!   before it reaches the database, the same way on SQLite) and the other C0 and C1 controls;
//!   tab and line breaks only in text of several lines (a question's body).
//! - In names and descriptions that other people see (team names, token descriptions; usernames
//!   are ASCII already), no invisible formatting characters either: the bidirectional overrides
//!   and isolates (U+202A–U+202E, U+2066–U+2069) that make text read differently from what it
//!   is, and the zero-width characters that make two names look the same.
//! - Text from outside that is shown to someone else (a leak report's `source`) is kept, but with
//!   those characters written out ([`escape_invisible`]).

use crate::error::{Error, Result};

/// Whether a text may run over several lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lines {
    One,
    Many,
}

/// Whether `c` is a control character that text of `lines` may not hold.
fn is_refused_control(c: char, lines: Lines) -> bool {
    c.is_control() && !(lines == Lines::Many && matches!(c, '\t' | '\n' | '\r'))
}

/// Characters that change how text around them is shown, or show as nothing: bidirectional
/// embeddings, overrides, isolates and marks, zero-width spaces and joiners, the word joiner
/// and invisible operators, the byte-order mark, the soft hyphen.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// "U+0000" for a character, as messages name it.
fn code_point(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

/// Refuses control characters (tab and line breaks allowed in `Lines::Many`), naming `field`.
pub fn check(field: &'static str, value: &str, lines: Lines) -> Result<()> {
    match refused_control(field, value, lines) {
        None => Ok(()),
        Some(message) => Err(Error::invalid(field, message)),
    }
}

/// What is wrong with `value` in `field` when it holds a control character `lines` does not
/// allow (the first one), or `None`: [`check`]'s rule for fields whose names are not known in
/// advance (the API's bodies and queries, server functions' form fields).
pub fn refused_control(field: &str, value: &str, lines: Lines) -> Option<String> {
    let c = value.chars().find(|&c| is_refused_control(c, lines))?;
    let allowed = match lines {
        Lines::One => "it is one line of text",
        Lines::Many => "only tabs and line breaks are allowed",
    };
    Some(format!(
        "{field} contains the control character {} ({allowed}).",
        code_point(c)
    ))
}

/// [`check`] for one line, and refuses invisible formatting characters too: for names and
/// descriptions others read.
pub fn check_visible(field: &'static str, value: &str) -> Result<()> {
    check(field, value, Lines::One)?;
    match value.chars().find(|&c| is_invisible(c)) {
        None => Ok(()),
        Some(c) => Err(Error::invalid(
            field,
            format!(
                "{field} contains the invisible formatting character {}, which can make text read differently from what it is: remove it.",
                code_point(c)
            ),
        )),
    }
}

/// `text` for HTML: `&`, `<`, `>`, `"` and `'` as entities (mail bodies, server-made pages).
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `value` with every control and invisible formatting character written out as `<U+202E>`, for
/// text from outside that is shown to someone else.
pub fn escape_invisible(value: &str) -> String {
    let mut shown = String::with_capacity(value.len());
    for c in value.chars() {
        if c.is_control() || is_invisible(c) {
            shown.push('<');
            shown.push_str(&code_point(c));
            shown.push('>');
        } else {
            shown.push(c);
        }
    }
    shown
}

/// The `n`th candidate (from 1) for a free name of at most `max` characters made from `base`
/// (ASCII): `base` itself, then `base-2`, `base-3`, …, `base` cut to leave room for the suffix.
pub(crate) fn numbered(base: &str, n: u32, max: usize) -> String {
    if n == 1 {
        return base.to_string();
    }
    let suffix = format!("-{n}");
    format!("{}{suffix}", &base[..base.len().min(max - suffix.len())])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused_with_the_field_named() {
        let error = check("title", "a\u{0}b", Lines::One).unwrap_err();
        assert!(
            matches!(&error, Error::Invalid { field: "title", message } if message.contains("U+0000")),
            "{error:?}"
        );
        assert!(check("body", "line\nline\tx\r\n", Lines::Many).is_ok());
        assert!(check("title", "line\nline", Lines::One).is_err());
        assert!(check("body", "bell\u{7}", Lines::Many).is_err());
        assert!(check("body", "c1\u{85}", Lines::Many).is_err());
        assert!(check("body", "ünïcode ✓ 日本", Lines::Many).is_ok());
    }

    #[test]
    fn invisible_characters_are_refused_in_names_and_escaped_when_shown() {
        for c in ['\u{202E}', '\u{2066}', '\u{200B}', '\u{FEFF}', '\u{200D}'] {
            let name = format!("deploy{c}er");
            assert!(check_visible("description", &name).is_err(), "{c:?}");
        }
        assert!(check_visible("description", "déploiement ✓").is_ok());
        assert_eq!(
            escape_invisible("ci\u{202E}txt.exe\u{0}"),
            "ci<U+202E>txt.exe<U+0000>"
        );
        assert_eq!(escape_invisible("plain text"), "plain text");
    }
}
