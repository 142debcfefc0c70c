//! When two token descriptions count as the same.

use unicode_normalization::UnicodeNormalization;

/// The form of a description that uniqueness is decided on: trimmed, Unicode case-folded and
/// in NFC, so that "Déploiement", "DÉPLOIEMENT" and "De\u{301}ploiement" (a combining accent)
/// are one description, and "Straße" is "STRASSE". Stored beside each token's description
/// behind a unique index (see `docs/tokens.md`); this is the only place it is computed.
pub fn description_key(description: &str) -> String {
    let decomposed: String = description.trim().nfd().collect();
    caseless::default_case_fold_str(&decomposed).nfc().collect()
}

#[cfg(test)]
mod tests {
    use super::description_key;

    #[test]
    fn case_accents_and_blanks_do_not_make_a_new_description() {
        let key = description_key("Déploiement");
        assert_eq!(description_key("  DÉPLOIEMENT "), key);
        assert_eq!(description_key("De\u{301}ploiement"), key);
        assert_eq!(description_key("Straße"), description_key("STRASSE"));
        assert_eq!(description_key("ΣΊΣΥΦΟΣ"), description_key("σίσυφος"));
        assert_ne!(description_key("Deploiement"), key);
    }
}
