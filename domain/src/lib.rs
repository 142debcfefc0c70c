//! patdesk's core: the database and the rules for users, teams, sessions and tokens.
//!
//! Nothing here knows about HTTP or the UI: the web app's server functions (`app`), the REST API
//! and the CLI (`server`) all call these plain async functions over a [`sea_orm::DatabaseConnection`].

pub mod access;
pub mod activity;
pub mod allow_list;
pub mod content;
pub mod db;
pub mod entity;
pub mod error;
pub mod leaks;
pub mod mail;
pub mod names;
pub mod notifications;
pub mod password;
pub mod policy;
pub mod question_pages;
pub mod secret;
pub mod services;
pub mod sessions;
pub mod team_tokens;
pub mod teams;
pub mod text;
pub mod throttle;
pub mod time;
pub mod token_format;
pub mod tokens;
pub mod usage;
pub mod users;

pub use activity::Actor;
pub use error::{Error, Result};

/// The client's address as the server determined it (see the server's `guard::client_ip`):
/// put into each request's extensions once, read by everything that records an IP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub std::net::IpAddr);
