//! Settings, read from the environment (a `.env` file in the working directory is read first).

use std::{net::SocketAddr, path::PathBuf};

use domain::db::{DatabaseUrl, DatabaseUrlError};

/// Where the server listens when `PATDESK_ADDR` is not set.
pub const DEFAULT_ADDR: &str = "127.0.0.1:3000";

#[derive(Debug, Clone)]
pub struct Config {
    /// `DATABASE_URL`; an SQLite file under `./data/` when unset.
    pub database_url: DatabaseUrl,
    /// `PATDESK_ADDR`; port 0 picks a free port (the chosen address is logged).
    pub addr: SocketAddr,
    /// `LEPTOS_SITE_ROOT`: the directory holding `pkg/` (wasm, js, css) built by cargo-leptos.
    pub site_root: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    DatabaseUrl(#[from] DatabaseUrlError),
    #[error("PATDESK_ADDR {0:?} is not an address like 127.0.0.1:3000")]
    Addr(String),
    #[error("{0} is not valid UTF-8")]
    NotUnicode(&'static str),
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        let database_url = match var("DATABASE_URL")? {
            Some(raw) => raw.parse()?,
            None => DatabaseUrl::default(),
        };
        let addr_text = var("PATDESK_ADDR")?.unwrap_or_else(|| DEFAULT_ADDR.to_string());
        let addr = addr_text
            .trim()
            .parse()
            .map_err(|_| ConfigError::Addr(addr_text.clone()))?;
        let site_root = var("LEPTOS_SITE_ROOT")?.unwrap_or_else(|| "target/site".to_string());
        Ok(Config {
            database_url,
            addr,
            site_root: PathBuf::from(site_root),
        })
    }

    /// Only the database part, for commands that need nothing else.
    pub fn database_url_from_env() -> Result<DatabaseUrl, ConfigError> {
        Ok(match var("DATABASE_URL")? {
            Some(raw) => raw.parse()?,
            None => DatabaseUrl::default(),
        })
    }
}

/// An environment variable; unset and empty are the same.
fn var(name: &'static str) -> Result<Option<String>, ConfigError> {
    match std::env::var(name) {
        Ok(value) if value.trim().is_empty() => Ok(None),
        Ok(value) => Ok(Some(value)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(ConfigError::NotUnicode(name)),
    }
}
