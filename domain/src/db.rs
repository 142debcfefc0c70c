//! Choosing, opening and migrating the database.
//!
//! SQLite is the embedded default (a file under `./data/`, WAL mode, foreign keys on);
//! a `postgres://` URL selects PostgreSQL.

use std::{
    collections::HashMap,
    fmt,
    fs::{File, OpenOptions, TryLockError},
    path::{Path, PathBuf},
    str::FromStr,
    time::Duration,
};

use migrations::{Migrator, MigratorTrait};
use sea_orm::{
    ColumnTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection,
    DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QuerySelect, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
};

/// The file used when `DATABASE_URL` is not set.
pub const DEFAULT_SQLITE_PATH: &str = "data/patdesk.db";

/// A validated `DATABASE_URL`. Its `Display` hides any password.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite { path: PathBuf },
    Postgres { url: url::Url },
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DatabaseUrlError {
    #[error("DATABASE_URL is empty")]
    Empty,
    #[error(
        "DATABASE_URL {0:?} is not supported: use sqlite://<path> (or sqlite:<path>) or postgres://user:password@host/database"
    )]
    UnsupportedScheme(String),
    #[error("DATABASE_URL is not a valid PostgreSQL URL: {0}")]
    BadPostgresUrl(String),
    #[error("DATABASE_URL names no SQLite file")]
    NoSqlitePath,
    #[error("DATABASE_URL names no PostgreSQL database")]
    NoPostgresDatabase,
}

impl Default for DatabaseUrl {
    fn default() -> Self {
        DatabaseUrl::Sqlite {
            path: PathBuf::from(DEFAULT_SQLITE_PATH),
        }
    }
}

impl FromStr for DatabaseUrl {
    type Err = DatabaseUrlError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(DatabaseUrlError::Empty);
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            let url = url::Url::parse(raw)
                .map_err(|e| DatabaseUrlError::BadPostgresUrl(e.to_string()))?;
            if url.host_str().unwrap_or_default().is_empty() && !raw.contains("host=") {
                return Err(DatabaseUrlError::BadPostgresUrl("no host".into()));
            }
            if url.path().trim_start_matches('/').is_empty() {
                return Err(DatabaseUrlError::NoPostgresDatabase);
            }
            return Ok(DatabaseUrl::Postgres { url });
        }
        if let Some(rest) = raw.strip_prefix("sqlite:") {
            // sqlite://relative/path, sqlite:///absolute/path and sqlite:path are all accepted;
            // any `?query` is ignored: patdesk sets the connection options itself.
            let rest = rest.strip_prefix("//").unwrap_or(rest);
            let path = rest.split('?').next().unwrap_or_default();
            if path.is_empty() || path == ":memory:" {
                return Err(DatabaseUrlError::NoSqlitePath);
            }
            return Ok(DatabaseUrl::Sqlite {
                path: PathBuf::from(path),
            });
        }
        let scheme = raw.split(':').next().unwrap_or(raw);
        Err(DatabaseUrlError::UnsupportedScheme(format!("{scheme}:…")))
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite { path } => write!(f, "sqlite://{}", path.display()),
            DatabaseUrl::Postgres { url } => {
                // The password may be in the user part or in the query (`?password=`, which
                // libpq and sqlx both read): neither is ever shown.
                let mut shown = url.clone();
                if shown.password().is_some() {
                    let _ = shown.set_password(Some("***"));
                }
                if url.query().is_some() {
                    let pairs: Vec<(String, String)> = url
                        .query_pairs()
                        .map(|(key, value)| {
                            let hidden = key.eq_ignore_ascii_case("password")
                                || key.eq_ignore_ascii_case("passfile");
                            let value = if hidden {
                                "***".into()
                            } else {
                                value.into_owned()
                            };
                            (key.into_owned(), value)
                        })
                        .collect();
                    shown.query_pairs_mut().clear().extend_pairs(pairs);
                }
                write!(f, "{shown}")
            }
        }
    }
}

impl DatabaseUrl {
    /// `text` (an error from the driver, say) with any password of this URL replaced by `***`.
    pub fn hide_secrets(&self, text: &str) -> String {
        let DatabaseUrl::Postgres { url } = self else {
            return text.to_string();
        };
        let mut secrets: Vec<String> = url
            .query_pairs()
            .filter(|(key, _)| key.eq_ignore_ascii_case("password"))
            .map(|(_, value)| value.into_owned())
            .collect();
        if let Some(password) = url.password() {
            secrets.push(password.to_string());
            if let Ok(decoded) = urlencoding_decode(password) {
                secrets.push(decoded);
            }
        }
        let mut text = text.to_string();
        for secret in secrets.iter().filter(|s| !s.is_empty()) {
            text = text.replace(secret.as_str(), "***");
        }
        text
    }
}

/// A percent-encoded URL part, decoded.
fn urlencoding_decode(part: &str) -> Result<String, std::string::FromUtf8Error> {
    let bytes: Vec<u8> = url::form_urlencoded::parse(format!("x={part}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned().into_bytes())
        .unwrap_or_default();
    String::from_utf8(bytes)
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("cannot create the directory {dir} for the SQLite database: {source}")]
    CreateDir { dir: String, source: std::io::Error },
    #[error("cannot open the database {url}: {reason}")]
    Open { url: String, reason: String },
    #[error("cannot apply migrations to {url}: {reason}")]
    Migrate { url: String, reason: String },
}

/// Held by the one `patdesk serve` process of a SQLite database for as long as it runs: an
/// exclusive lock on `<database>.serve-lock` beside the file, which the operating system
/// releases when the process ends, however it ends. SQLite is served by one process (several
/// share a PostgreSQL database); holding this lets that process count what only its own
/// writes change (`content::pages`). Other commands (the CLI) do not take it.
#[derive(Debug)]
pub struct ServeLock {
    _file: File,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeLockError {
    #[error(
        "another patdesk server is serving {database} (it holds {lock}): a SQLite database is served by one process; use PostgreSQL to run several"
    )]
    Held { database: String, lock: String },
    #[error(transparent)]
    CreateDir(#[from] ConnectError),
    #[error("cannot open the lock file {lock}: {source}")]
    Open {
        lock: String,
        source: std::io::Error,
    },
}

impl ServeLock {
    /// Takes the lock of the SQLite file `database`, or says who holds it. Creates the
    /// file's directory when missing, as `connect` would.
    pub fn take(database: &Path) -> Result<Self, ServeLockError> {
        let mut name = database.as_os_str().to_owned();
        name.push(".serve-lock");
        let lock = PathBuf::from(name);
        let open_error = |source| ServeLockError::Open {
            lock: lock.display().to_string(),
            source,
        };
        create_dir_of(database)?;
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock)
            .map_err(open_error)?;
        match file.try_lock() {
            Ok(()) => Ok(ServeLock { _file: file }),
            Err(TryLockError::WouldBlock) => Err(ServeLockError::Held {
                database: database.display().to_string(),
                lock: lock.display().to_string(),
            }),
            Err(TryLockError::Error(source)) => Err(open_error(source)),
        }
    }
}

/// Creates the directory of the SQLite file `path` when missing.
fn create_dir_of(path: &Path) -> Result<(), ConnectError> {
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => std::fs::create_dir_all(dir).map_err(|source| ConnectError::CreateDir {
            dir: dir.display().to_string(),
            source,
        }),
        None => Ok(()),
    }
}

/// How many pooled connections to keep: enough to keep both cores busy while some wait on I/O.
fn pool_size(url: &DatabaseUrl) -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get()) as u32;
    match url {
        // SQLite has one writer at a time; readers proceed in parallel under WAL.
        DatabaseUrl::Sqlite { .. } => (cores * 2).clamp(2, 8),
        DatabaseUrl::Postgres { .. } => (cores * 4).clamp(4, 32),
    }
}

/// How long a PostgreSQL connection may sit unused in the pool before it is pinged on its way
/// out.
const POSTGRES_PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// PostgreSQL connections kept open while idle.
const POSTGRES_MIN_CONNECTIONS: u32 = 4;

/// Opens a connection pool. Creates the SQLite file (and its directory) when missing.
pub async fn connect(url: &DatabaseUrl) -> Result<DatabaseConnection, ConnectError> {
    open(url, pool_size(url)).await
}

/// A pool of at most `connections` with patdesk's settings.
async fn open(url: &DatabaseUrl, connections: u32) -> Result<DatabaseConnection, ConnectError> {
    let shown = url.to_string();
    let mut options = match url {
        DatabaseUrl::Sqlite { path } => {
            create_dir_of(path)?;
            let mut options = ConnectOptions::new(format!("sqlite://{}", path.display()));
            options.map_sqlx_sqlite_opts(|o| {
                o.create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(5))
            });
            options.min_connections(1);
            // No ping before each use: on SQLite it is a round trip to the connection's
            // worker thread, for a connection that cannot be dropped by a server.
            options.test_before_acquire(false);
            options
        }
        DatabaseUrl::Postgres { url } => {
            let mut options = ConnectOptions::new(url.as_str());
            // sqlx pings a connection before handing it out: a second round trip for a
            // one-query request. Only a
            // connection that has sat unused may have been dropped by the server (a restart,
            // a proxy's idle timeout), so only those are pinged; sqlx also pings each one on
            // its way back to the pool and closes it if that fails.
            options.test_before_acquire_if_idle_for(POSTGRES_PING_AFTER_IDLE);
            // sqlx pings a released connection in the background, so a request's next query
            // often finds none idle; with one kept open the pool opened a second while requests
            // waited (p99 of cached checks 4 -> 45 ms in the first seconds after a start; with
            // two kept open, still in two runs of six).
            options.min_connections(POSTGRES_MIN_CONNECTIONS.min(connections));
            options
        }
    };
    options
        .max_connections(connections)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        // Statements are logged by our own spans; sqlx's logger would print their parameters.
        .sqlx_logging(false);
    Database::connect(options)
        .await
        .map_err(|e| ConnectError::Open {
            url: shown,
            reason: url.hide_secrets(&one_line(&e)),
        })
}

/// Starts a transaction that writes. On SQLite it takes the write lock at once (`BEGIN
/// IMMEDIATE`), so writers queue under the busy timeout: a deferred transaction that reads and
/// then writes fails with "database is locked" as soon as another connection has written in
/// between. PostgreSQL ignores the mode.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// Applies every pending migration. Safe to call on every start, and from several processes at
/// once on PostgreSQL: they queue on an advisory lock, so one migrates and the others then find
/// nothing left to do (sea-orm's migrator takes no lock of its own).
///
/// They run on a connection of their own, closed afterwards, never on the pool: a pool
/// connection that had read a table before a migration changed it could keep answering with
/// the old set of columns (seen on SQLite as "Missing value for column" right after a column
/// was added). On PostgreSQL the same connection holds the session-level lock.
pub async fn migrate(url: &DatabaseUrl) -> Result<(), ConnectError> {
    let own = open(url, 1).await?;
    let outcome = match url {
        DatabaseUrl::Sqlite { .. } => Migrator::up(&own, None).await,
        DatabaseUrl::Postgres { .. } => migrate_locked(&own).await,
    };
    let _ = own.close().await;
    outcome.map_err(|e| ConnectError::Migrate {
        url: url.to_string(),
        reason: url.hide_secrets(&one_line(&e)),
    })
}

/// The migrations under the PostgreSQL advisory lock, on the connection `own`.
async fn migrate_locked(own: &DatabaseConnection) -> Result<(), DbErr> {
    own.execute_unprepared(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
        .await?;
    let outcome = Migrator::up(own, None).await;
    // Closing the session releases the lock in any case; unlocking first is just tidy.
    let _ = own
        .execute_unprepared(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
        .await;
    outcome
}

/// The advisory lock key migrations hold on PostgreSQL ("pdk" in ASCII).
const MIGRATION_LOCK: i64 = 0x70_64_6b;

/// Whether the database answers a trivial query.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.execute_unprepared("SELECT 1").await.map(|_| ())
}

/// The first line of an error, for messages meant to be one line.
fn one_line(e: &DbErr) -> String {
    let text = e.to_string();
    text.lines().next().unwrap_or_default().to_string()
}

/// A value read back from a column that only the domain writes (a role, a token's kind): one
/// that `parse` does not know is a fault, logged and answered as an internal error, never
/// quietly read as some other value.
pub(crate) fn stored<T>(
    column: &'static str,
    text: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> crate::Result<T> {
    parse(text).ok_or_else(|| {
        tracing::error!(column, value = text, "an unknown value is stored");
        crate::Error::Internal(format!("unknown value {text:?} stored in {column}"))
    })
}

/// [`stored`] for a value that is only shown (a notice's or an activity entry's kind): an
/// unknown one is logged, and the caller shows the stored text as it is rather than failing
/// the whole list for one row.
pub(crate) fn known<T>(
    column: &'static str,
    text: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Option<T> {
    stored(column, text, parse).ok()
}

/// One text column of the rows with these ids, by id, in one query (a page's usernames or team
/// slugs).
pub(crate) async fn text_by_id<E: EntityTrait>(
    db: &impl ConnectionTrait,
    id: E::Column,
    text: E::Column,
    ids: impl Iterator<Item = i64>,
) -> crate::Result<HashMap<i64, String>> {
    let mut ids: Vec<i64> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(E::find()
        .select_only()
        .column(id)
        .column(text)
        .filter(id.is_in(ids))
        .into_tuple::<(i64, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sqlite_forms() {
        for (raw, path) in [
            ("sqlite://data/x.db", "data/x.db"),
            ("sqlite:///tmp/x.db", "/tmp/x.db"),
            ("sqlite:x.db?mode=rwc", "x.db"),
        ] {
            assert_eq!(
                raw.parse::<DatabaseUrl>().unwrap(),
                DatabaseUrl::Sqlite { path: path.into() },
                "{raw}"
            );
        }
    }

    #[test]
    fn rejects_unknown_schemes_and_empty_urls() {
        assert_eq!(
            "mysql://u:p@h/db".parse::<DatabaseUrl>().unwrap_err(),
            DatabaseUrlError::UnsupportedScheme("mysql:…".into())
        );
        assert_eq!(
            "".parse::<DatabaseUrl>().unwrap_err(),
            DatabaseUrlError::Empty
        );
        assert_eq!(
            "sqlite://".parse::<DatabaseUrl>().unwrap_err(),
            DatabaseUrlError::NoSqlitePath
        );
        assert_eq!(
            "postgres://u@h".parse::<DatabaseUrl>().unwrap_err(),
            DatabaseUrlError::NoPostgresDatabase
        );
    }

    #[test]
    fn display_hides_the_postgres_password() {
        let url: DatabaseUrl = "postgres://me:s3cret@127.0.0.1:5432/pd".parse().unwrap();
        let shown = url.to_string();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("me:***@127.0.0.1"), "{shown}");
        assert!(!format!("{url:?}").contains("s3cret"));
        let in_query: DatabaseUrl = "postgres://me@127.0.0.1/pd?sslmode=disable&password=s3cret"
            .parse()
            .unwrap();
        let shown = in_query.to_string();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("sslmode=disable"), "{shown}");
        assert_eq!(
            in_query.hide_secrets("failed for postgres://me:s3cret@x and s%33cret"),
            "failed for postgres://me:***@x and s%33cret"
        );
    }
}
