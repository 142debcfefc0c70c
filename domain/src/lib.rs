//! patdesk's core: the database and the rules for users, teams, sessions and tokens.
//!
//! Nothing here knows about HTTP or the UI: the web app's server functions (`app`), the REST API
//! and the CLI (`server`) all call these plain async functions over a [`sea_orm::DatabaseConnection`].

pub mod activity;
pub mod content;
pub mod db;
mod entity;
pub mod error;
pub mod identity;
pub mod notifications;
pub mod outbound;
pub mod secret;
pub mod teams;
pub mod text;
pub mod throttle;
pub mod time;
pub mod tokens;
pub mod webhooks;

pub use activity::{Actor, Origin};
pub use error::{Error, Result};

/// The client's address as the server determined it (see the server's `guard::client_ip`):
/// put into each request's extensions once, read by everything that records an IP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub std::net::IpAddr);
