//! The errors the domain's operations return. Each says what went wrong in words a user can act
//! on; each edge (server functions, the API, the CLI) turns them into its own answer once, in one
//! match (see `docs/errors.md`).

use sea_orm::DbErr;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input, naming the field it is about.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// The value is well-formed but taken (a username, a team slug, a token description).
    #[error("{field}: {message}")]
    Conflict {
        field: &'static str,
        message: String,
    },
    /// Sign-in failed. Deliberately the same for an unknown user and a wrong password.
    #[error("wrong username or password")]
    InvalidCredentials,
    /// The caller is not signed in (or the session ended).
    #[error("not signed in")]
    Unauthenticated,
    /// Signed in, but not allowed to do this.
    #[error("{0}")]
    Forbidden(String),
    /// Nothing of that name exists, or the caller may not know that it does.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A rule that protects the data's consistency (e.g. a team keeps at least one admin).
    #[error("{0}")]
    Rule(String),
    /// Too many passwords are being checked right now (`password::HashLimit`): try again in a
    /// moment.
    #[error("busy checking passwords")]
    Busy,
    /// Too many wrong attempts (an account's second-factor codes, `two_factor::budget`):
    /// refused, right or wrong, until the wait is over.
    #[error("too many wrong attempts: try again in {} s", .0.seconds())]
    TooManyAttempts(RetryAfter),
    /// Something broke below us. The message is for logs only, never for users.
    #[error("database error: {0}")]
    Database(#[from] DbErr),
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Error::Invalid {
            field,
            message: message.into(),
        }
    }

    pub fn conflict(field: &'static str, message: impl Into<String>) -> Self {
        Error::Conflict {
            field,
            message: message.into(),
        }
    }

    /// Whether the database could not be reached (down, cut off, pool exhausted), as opposed
    /// to a failing statement: the edges answer 503 and the caller may simply retry.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Error::Database(e) if database_unavailable(e))
    }
}

/// See [`Error::is_unavailable`].
pub fn database_unavailable(error: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx::Error as Sqlx};
    match error {
        DbErr::ConnectionAcquire(_) => true,
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => matches!(
            **e,
            Sqlx::Io(_)
                | Sqlx::Tls(_)
                | Sqlx::Protocol(_)
                | Sqlx::PoolTimedOut
                | Sqlx::PoolClosed
                | Sqlx::WorkerCrashed
        ),
        DbErr::Conn(_) => true,
        _ => false,
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// How long the caller must wait before trying again (`throttle`, and the second-factor budget's
/// [`Error::TooManyAttempts`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryAfter(pub std::time::Duration);

impl RetryAfter {
    /// Whole seconds, rounded up, at least 1: the `Retry-After` header's value.
    pub fn seconds(self) -> u64 {
        let whole = self.0.as_secs() + u64::from(self.0.subsec_nanos() > 0);
        whole.max(1)
    }
}
