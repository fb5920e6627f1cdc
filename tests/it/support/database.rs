//! Fresh databases for tests, one per test: a SQLite file in a temporary folder, or a new
//! PostgreSQL database on the server named by `METAX_AUTH_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432`), dropped when the test is done. Which backend a test
//! binary uses is its `crate::BACKEND`.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::Connection;
use tempfile::TempDir;

/// The SQL backends the suite runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(dead_code, reason = "each test binary uses one of them")]
pub enum Backend {
    /// A SQLite file.
    Sqlite,
    /// A database on a PostgreSQL server.
    Postgres,
}

/// The PostgreSQL server tests create their databases on.
pub fn postgres_server() -> String {
    std::env::var("METAX_AUTH_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

/// A database nobody else uses, and a folder to run the binary in.
pub struct Database {
    dir: TempDir,
    url: String,
    postgres_name: Option<String>,
}

impl Database {
    /// A new, empty database of this binary's backend.
    pub fn fresh() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        match crate::BACKEND {
            Backend::Sqlite => {
                let url = format!(
                    "sqlite://{}",
                    dir.path().join("metax-auth.sqlite3").display()
                );
                Database {
                    dir,
                    url,
                    postgres_name: None,
                }
            }
            Backend::Postgres => {
                let name = unique_name();
                admin(&format!("CREATE DATABASE \"{name}\""));
                Database {
                    dir,
                    url: format!("{}/{name}", postgres_server()),
                    postgres_name: Some(name),
                }
            }
        }
    }

    /// `DATABASE_URL` for it.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A folder of this test's own (the SQLite file lives there).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Runs SQL statements on it directly, outside the service (e.g. to make an old schema).
    pub fn execute(&self, sql: &str) {
        let (url, sql) = (self.url.clone(), sql.to_owned());
        on_own_runtime(move || async move {
            sqlx::any::install_default_drivers();
            let mut connection = sqlx::AnyConnection::connect(&url).await?;
            sqlx::raw_sql(&sql).execute(&mut connection).await?;
            connection.close().await
        })
        .expect("SQL runs");
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Some(name) = &self.postgres_name {
            admin(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
        }
    }
}

/// `metax_auth_test_<pid>_<time>_<n>`: unique across runs and tests.
fn unique_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let started = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|time| time.as_micros())
        .unwrap_or_default();
    format!(
        "metax_auth_test_{}_{started}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs a statement on the server's `postgres` database. An unreachable server fails the test
/// when `CI` is set; elsewhere it ends this test binary successfully with a note, so that a
/// machine without PostgreSQL can still run the SQLite suite.
fn admin(statement: &str) {
    let url = format!("{}/postgres", postgres_server());
    let statement = statement.to_owned();
    let connected = on_own_runtime(move || async move {
        let mut connection = sqlx::PgConnection::connect(&url).await?;
        sqlx::raw_sql(&statement).execute(&mut connection).await?;
        connection.close().await
    });
    match connected {
        Ok(()) => {}
        Err(sqlx::Error::Io(error)) if std::env::var_os("CI").is_none() => {
            eprintln!(
                "SKIPPED: the PostgreSQL suite needs a server at {} ({error}); \
                 set METAX_AUTH_TEST_POSTGRES to another one. With CI set this is a failure.",
                postgres_server()
            );
            std::process::exit(0);
        }
        Err(error) => panic!("PostgreSQL at {}: {error}", postgres_server()),
    }
}

/// Runs the future `make` makes to completion on a runtime of its own, on a thread of its own,
/// so that sync tests, async tests and `Drop` can all use it.
fn on_own_runtime<T, F>(make: impl FnOnce() -> F + Send + 'static) -> T
where
    T: Send + 'static,
    F: std::future::Future<Output = T>,
{
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(make())
    })
    .join()
    .expect("database helper thread")
}
