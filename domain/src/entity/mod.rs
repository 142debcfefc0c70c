//! sea-orm entities: one module per table.

pub mod activity;
pub mod answer;
pub mod identity;
pub mod membership;
pub mod notification;
pub mod passkey;
pub mod policy;
pub mod question;
pub mod recovery_code;
pub mod scim_account;
pub mod scim_credential;
pub mod scim_group;
pub mod scim_group_member;
pub mod second_factor_failure;
pub mod service;
pub mod session;
pub mod sign_in_challenge;
pub mod sso_group;
pub mod team;
pub mod token;
pub mod token_address;
pub mod token_rate_window;
pub mod token_usage_hour;
pub mod totp_secret;
pub mod user;
pub mod webauthn_ceremony;
