//! Who people are: accounts (`users`), their sign-in sessions, password hashing, single sign-on
//! links (`sso`), what an organisation's directory provisions (`scim`), who may sign up
//! (`sign_ups`), and the names and roles
//! they carry (`names`), two-factor sign-in (`two_factor`), passkeys (`passkeys`), sudo mode (`sudo`),
//! and account care: a new password (`password_change`) and "Forgot password?" links
//! (`password_reset`); and the accounts that are not people: a team's `service_accounts`.

pub mod group_sync;
pub mod names;
pub mod passkeys;
pub mod password;
pub mod password_change;
pub mod password_reset;
mod reset_links;
pub mod scim;
pub mod service_accounts;
pub mod sessions;
pub mod sign_in;
pub mod sign_ups;
pub mod sso;
pub mod sudo;
pub mod two_factor;
pub mod users;
