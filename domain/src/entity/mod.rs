//! sea-orm entities: one module per table of the initial migration.

pub mod activity;
pub mod membership;
pub mod session;
pub mod team;
pub mod token;
pub mod user;
