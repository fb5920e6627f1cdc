//! The SQLite backend: the embedded default. One file, WAL journal so that the CLI commands can
//! write while the server runs.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::Sqlite;
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteQueryResult,
    SqliteSynchronous,
};

use super::StoreError;
use super::sql::{Backend, SqlStore};

static MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");

impl Backend for Sqlite {
    fn migrator() -> &'static Migrator {
        &MIGRATOR
    }

    async fn migrate(pool: &SqlitePool) -> Result<(), MigrateError> {
        MIGRATOR.run(pool).await
    }

    // SQLite runs one writer at a time; the token transaction starts with a write.
    const LOCK_USER: Option<&'static str> = None;

    fn rows_affected(result: &SqliteQueryResult) -> u64 {
        result.rows_affected()
    }

    // Longer than `BUSY_TIMEOUT`, so that a writer waiting for the file's lock gets SQLite's
    // own busy error first.
    const CALL_TIMEOUT: Duration = Duration::from_secs(15);
}

/// How long a writer waits for another's lock on the file (a CLI command while the server runs).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens (and with `create`, makes) the database file.
pub async fn open(path: &Path, create: bool) -> Result<SqlStore<Sqlite>, StoreError> {
    if !create && !path.exists() {
        return Err(StoreError::Unavailable(format!(
            "the database file {} does not exist yet: run `metax-auth migrate` first",
            path.display()
        )));
    }
    let options = SqliteConnectOptions::from_str("sqlite://")?
        .filename(path)
        .create_if_missing(create)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT);
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .acquire_timeout(BUSY_TIMEOUT)
        .connect_with(options)
        .await?;
    Ok(SqlStore::new(pool))
}
