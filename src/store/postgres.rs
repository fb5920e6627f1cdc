//! The PostgreSQL backend, for several instances sharing one database. A bounded pool whose
//! connections are checked before use, so that a restarted database costs no failed requests
//! once it is back, a pool wait that gives up after `ACQUIRE_TIMEOUT` while it is away, server-side
//! statement and idle-transaction timeouts, and store calls bounded by `CALL_TIMEOUT` for a
//! server that stops answering.

use std::time::Duration;

use sqlx::Postgres;
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgQueryResult};

use super::StoreError;
use super::sql::{Backend, SqlStore};

static MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

/// Connections one instance keeps at most (PostgreSQL's default limit is 100 in all).
const MAX_CONNECTIONS: u32 = 10;

/// How long a request waits for a connection (including connecting) before it is answered 503.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// The server cancels a statement after this (waiting for a lock, say), which frees the
/// connection at once; shorter than `CALL_TIMEOUT`, so this is what a slow statement meets.
const STATEMENT_TIMEOUT: &str = "4s";

/// The server ends a session left in a transaction this long (its client gone silent), which
/// frees that transaction's locks.
const IDLE_IN_TRANSACTION_TIMEOUT: &str = "10s";

impl Backend for Postgres {
    fn migrator() -> &'static Migrator {
        &MIGRATOR
    }

    async fn migrate(pool: &PgPool) -> Result<(), MigrateError> {
        // A connection of its own, closed afterwards, so that lifting the statement timeout
        // stays with it.
        let mut connection = pool.acquire().await?.detach();
        sqlx::query("SET statement_timeout = 0")
            .execute(&mut connection)
            .await?;
        MIGRATOR.run_direct(&mut connection).await
    }

    // Readers never block and several writers run at once: parallel token creates for one user
    // queue on the user's row instead.
    const LOCK_USER: Option<&'static str> = Some("SELECT id FROM users WHERE id = $1 FOR UPDATE");

    fn rows_affected(result: &PgQueryResult) -> u64 {
        result.rows_affected()
    }

    // Every statement here is an indexed lookup or a small write: 5 s means the server is gone.
    const CALL_TIMEOUT: Duration = Duration::from_secs(5);
}

/// Connects to the database named by a `postgres://` URL.
pub async fn open(url: &str) -> Result<SqlStore<Postgres>, StoreError> {
    let options: PgConnectOptions = url.parse().map_err(|error| {
        StoreError::Unavailable(format!(
            "DATABASE_URL is not a usable PostgreSQL URL: {error}"
        ))
    })?;
    let pool = PgPoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(options.application_name("metax-auth").options([
            ("statement_timeout", STATEMENT_TIMEOUT),
            (
                "idle_in_transaction_session_timeout",
                IDLE_IN_TRANSACTION_TIMEOUT,
            ),
        ]))
        .await?;
    Ok(SqlStore::new(pool))
}
