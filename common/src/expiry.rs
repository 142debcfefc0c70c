//! How long a token may live: the choices the token form offers and the CLI accepts.

use serde::{Deserialize, Serialize};

/// Tokens expiring within this many days are flagged, and the token page says so in a banner.
pub const EXPIRING_SOON_DAYS: i64 = 7;

/// The longest a token may live, in days: how far ahead a custom date may be, and the largest
/// maximum lifetime an instance policy may set. The one definition the form, the CLI and the
/// domain read.
pub const MAX_LIFETIME_DAYS: u32 = 366;

/// How long the API explorer's own token lives.
pub const EXPLORER_LIFETIME_HOURS: i64 = 24;

/// The lifetimes a new token may be given. The token form renders its options from this, the
/// CLI checks `--expires-in-days` against it, and the domain refuses anything else. The
/// instance's token policy narrows [`ExpiryChoices::standard`] with [`ExpiryChoices::within`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiryChoices {
    /// Lifetimes offered as presets, in days, shortest first.
    pub preset_days: Vec<u32>,
    /// The preset chosen when nothing else is.
    pub default_days: u32,
    /// How far ahead a custom date may be, in days.
    pub max_custom_days: u32,
    /// Whether a token may never expire.
    pub allow_never: bool,
    /// The instance policy's maximum lifetime, when it sets one (named in refusals).
    #[serde(default)]
    pub policy_max_days: Option<u32>,
    /// Whether the instance policy requires every token to expire (named in refusals).
    #[serde(default)]
    pub policy_requires_expiry: bool,
}

/// One choice of the form's expiration menu.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpiryOption {
    Days(u32),
    /// A date picked by the user, within [`ExpiryChoices::max_custom_days`].
    Custom,
    Never,
}

impl ExpiryOption {
    /// The form value: `30`, `custom`, `never`.
    pub fn value(self) -> String {
        match self {
            ExpiryOption::Days(days) => days.to_string(),
            ExpiryOption::Custom => "custom".to_string(),
            ExpiryOption::Never => "never".to_string(),
        }
    }

    pub fn label(self) -> String {
        match self {
            ExpiryOption::Days(days) => format!("{days} days"),
            ExpiryOption::Custom => "Custom date…".to_string(),
            ExpiryOption::Never => "No expiration".to_string(),
        }
    }

    /// A form value back into a choice (`none` is accepted for `never`); `None` for anything
    /// that is not a number, `custom` or `never`.
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim() {
            "never" | "none" => Some(ExpiryOption::Never),
            "custom" => Some(ExpiryOption::Custom),
            days => days.parse().ok().map(ExpiryOption::Days),
        }
    }
}

impl ExpiryChoices {
    /// 7, 30, 60 or 90 days (30 by default), a date up to [`MAX_LIFETIME_DAYS`] ahead, or never.
    pub fn standard() -> Self {
        ExpiryChoices {
            preset_days: vec![7, 30, 60, 90],
            default_days: 30,
            max_custom_days: MAX_LIFETIME_DAYS,
            allow_never: true,
            policy_max_days: None,
            policy_requires_expiry: false,
        }
    }

    /// These choices under an instance policy: presets and custom dates up to `max_days` (the
    /// maximum itself as the only preset when every standard one is longer), and no "never"
    /// when there is a maximum or expiry is required.
    pub fn within(mut self, max_days: Option<u32>, require_expiry: bool) -> Self {
        if let Some(max) = max_days {
            self.preset_days.retain(|&days| days <= max);
            if self.preset_days.is_empty() {
                self.preset_days.push(max);
            }
            if !self.preset_days.contains(&self.default_days) {
                self.default_days = *self.preset_days.last().unwrap_or(&max);
            }
            self.max_custom_days = self.max_custom_days.min(max);
            self.allow_never = false;
        }
        if require_expiry {
            self.allow_never = false;
        }
        self.policy_max_days = max_days;
        self.policy_requires_expiry = require_expiry;
        self
    }

    /// The form's options, in menu order.
    pub fn options(&self) -> Vec<ExpiryOption> {
        let mut options: Vec<ExpiryOption> = self
            .preset_days
            .iter()
            .map(|&days| ExpiryOption::Days(days))
            .collect();
        options.push(ExpiryOption::Custom);
        if self.allow_never {
            options.push(ExpiryOption::Never);
        }
        options
    }

    pub fn allows_preset(&self, days: u32) -> bool {
        self.preset_days.contains(&days)
    }

    /// The presets in words: "7, 30, 60 or 90".
    pub fn presets_in_words(&self) -> String {
        let days: Vec<String> = self.preset_days.iter().map(u32::to_string).collect();
        match days.split_last() {
            None => String::new(),
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        }
    }

    /// What the form and the CLI say when a choice is not allowed (naming the instance policy
    /// when it is what narrowed the choices).
    pub fn refusal(&self) -> String {
        let policy = match (self.policy_max_days, self.policy_requires_expiry) {
            (Some(days), _) => {
                format!("This instance's token policy allows tokens of at most {days} days. ")
            }
            (None, true) => "This instance's token policy requires every token to expire. ".into(),
            (None, false) => String::new(),
        };
        format!(
            "{policy}Choose {} days, a custom date{}.",
            self.presets_in_words(),
            if self.allow_never {
                ", or no expiry"
            } else {
                ""
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_choices_in_menu_order_and_words() {
        let choices = ExpiryChoices::standard();
        let values: Vec<String> = choices
            .options()
            .into_iter()
            .map(ExpiryOption::value)
            .collect();
        assert_eq!(values, ["7", "30", "60", "90", "custom", "never"]);
        assert_eq!(choices.presets_in_words(), "7, 30, 60 or 90");
        assert_eq!(
            choices.refusal(),
            "Choose 7, 30, 60 or 90 days, a custom date, or no expiry."
        );
        assert!(choices.allows_preset(choices.default_days));
    }

    #[test]
    fn narrowed_choices_offer_less() {
        let choices = ExpiryChoices {
            preset_days: vec![7],
            default_days: 7,
            max_custom_days: 30,
            allow_never: false,
            policy_max_days: None,
            policy_requires_expiry: false,
        };
        let values: Vec<String> = choices
            .options()
            .into_iter()
            .map(ExpiryOption::value)
            .collect();
        assert_eq!(values, ["7", "custom"]);
        assert_eq!(choices.refusal(), "Choose 7 days, a custom date.");
    }

    #[test]
    fn an_instance_policy_narrows_the_standard_choices_and_is_named() {
        let thirty = ExpiryChoices::standard().within(Some(30), false);
        let values: Vec<String> = thirty
            .options()
            .into_iter()
            .map(ExpiryOption::value)
            .collect();
        assert_eq!(values, ["7", "30", "custom"]);
        assert_eq!(thirty.max_custom_days, 30);
        assert_eq!(thirty.default_days, 30);
        assert!(!thirty.allows_preset(60));
        assert_eq!(
            thirty.refusal(),
            "This instance's token policy allows tokens of at most 30 days. Choose 7 or 30 days, a custom date."
        );
        // Shorter than every preset: the maximum is the one preset.
        let three = ExpiryChoices::standard().within(Some(3), false);
        assert_eq!(three.preset_days, [3]);
        assert_eq!(three.default_days, 3);
        // Expiry required, no maximum: everything but "never".
        let must = ExpiryChoices::standard().within(None, true);
        assert_eq!(must.preset_days, [7, 30, 60, 90]);
        assert!(!must.allow_never);
        assert!(
            must.refusal()
                .starts_with("This instance's token policy requires every token to expire.")
        );
        // No policy: the standard choices.
        assert_eq!(
            ExpiryChoices::standard().within(None, false),
            ExpiryChoices::standard()
        );
    }

    #[test]
    fn form_values_parse_back() {
        for option in ExpiryChoices::standard().options() {
            assert_eq!(ExpiryOption::parse(&option.value()), Some(option));
        }
        assert_eq!(ExpiryOption::parse("none"), Some(ExpiryOption::Never));
        assert_eq!(ExpiryOption::parse("soon"), None);
    }
}
