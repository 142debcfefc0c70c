//! Who people are: accounts (`users`), their sign-in sessions, password hashing, and the names
//! and roles they carry (`names`).

pub mod names;
pub mod password;
pub mod sessions;
pub mod users;
