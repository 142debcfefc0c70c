//! Who people are: accounts (`users`), their sign-in sessions, password hashing, single sign-on
//! links (`sso`), and the names and roles they carry (`names`).

pub mod group_sync;
pub mod names;
pub mod password;
pub mod sessions;
pub mod sso;
pub mod users;
