//! The server's sealing key (`domain::secret::SealingKey`): `PATDESK_SECRET_KEY` when set;
//! otherwise the key in the data folder's `secret-key` file (next to the SQLite database, or
//! `./data/` on PostgreSQL), generated there on first start, readable by its owner only.
//! Processes sharing one PostgreSQL database must share the key: give them all the same
//! `PATDESK_SECRET_KEY` (docs/two-factor.md).

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use anyhow::Context as _;
use domain::{db::DatabaseUrl, secret::SealingKey};

/// The key file's name in the data folder.
pub const FILE_NAME: &str = "secret-key";

/// Where the key file is for this database.
pub fn file_for(database: &DatabaseUrl) -> PathBuf {
    let folder = match database {
        DatabaseUrl::Sqlite { path } => path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
        DatabaseUrl::Postgres { .. } => PathBuf::from("data"),
    };
    folder.join(FILE_NAME)
}

/// The key: the configured one, or the one in the data folder (made if there is none).
pub fn load(configured: Option<SealingKey>, database: &DatabaseUrl) -> anyhow::Result<SealingKey> {
    if let Some(key) = configured {
        return Ok(key);
    }
    let file = file_for(database);
    if matches!(database, DatabaseUrl::Postgres { .. }) {
        tracing::warn!(
            file = %file.display(),
            "PATDESK_SECRET_KEY is not set: using the key in {}; every process sharing this PostgreSQL database needs the same key",
            file.display()
        );
    }
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => generate(&file)?,
        Err(error) => {
            return Err(error).with_context(|| format!("cannot read {}", file.display()));
        }
    };
    SealingKey::from_text(&text).with_context(|| {
        format!(
            "{} does not hold a usable key: remove it to have a new one made (authenticator apps set up with the old key must then be set up again)",
            file.display()
        )
    })
}

/// Writes a new key to `file`, unless another process got there first (then its key).
fn generate(file: &Path) -> anyhow::Result<String> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(folder) = file.parent() {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("cannot create {}", folder.display()))?;
    }
    let text = SealingKey::generate_text();
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(file)
    {
        Ok(mut written) => {
            written
                .write_all(format!("{text}\n").as_bytes())
                .and_then(|()| written.sync_all())
                .with_context(|| format!("cannot write {}", file.display()))?;
            tracing::info!(file = %file.display(), "generated the secret key into {}", file.display());
            Ok(text)
        }
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))
        }
        Err(error) => Err(error).with_context(|| format!("cannot create {}", file.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_made_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let database = DatabaseUrl::Sqlite {
            path: dir.path().join("patdesk.db"),
        };
        let first = load(None, &database).unwrap();
        let file = file_for(&database);
        let text = std::fs::read_to_string(&file).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let again = load(None, &database).unwrap();
        let sealed = first.seal(b"secret", b"ctx");
        assert_eq!(again.open(&sealed, b"ctx").unwrap(), b"secret");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
        std::fs::write(&file, "short").unwrap();
        assert!(load(None, &database).is_err());
    }
}
