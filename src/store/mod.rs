//! The storage boundary: the `Store` trait in domain words, its error type, and the choice of
//! backend from `DATABASE_URL`. Django's models, managers and migrations live behind it; no SQL
//! exists outside this folder.

mod models;
mod postgres;
mod sql;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

pub use models::{
    BearerToken, BearerTokenMatch, DrfToken, ImpersonationEvent, NewBearerToken, NewSession,
    NewUser, Session, SsoProfile, User, UserChanges, UserStatus,
};

use crate::config::DatabaseUrl;

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such row.
    #[error("not found")]
    NotFound,
    /// A unique constraint refused the write (e.g. `username` already taken).
    #[error("conflict on {constraint}")]
    Conflict {
        /// What collided, in domain words (`username`).
        constraint: &'static str,
    },
    /// A value the database cannot hold (text with a NUL character, or too long); the message
    /// is for the person who sent it (Django's forms say the same).
    #[error("{0}")]
    Invalid(String),
    /// The per-user token limit is reached.
    #[error("token limit reached")]
    LimitReached,
    /// The database cannot be used as it is (missing file or schema, unsupported backend); the message says what to do.
    #[error("{0}")]
    Unavailable(String),
    /// The database cannot be reached right now (refused or lost connection, no free connection
    /// or no answer in time, database shutting down); worth retrying. Holds the cause, for logs.
    #[error("the database is unreachable: {0}")]
    Unreachable(String),
    /// The database gave up on a statement because of other work (a deadlock, a lock or
    /// statement timeout); worth retrying. Holds the cause, for logs.
    #[error("the database is busy: {0}")]
    Busy(String),
    /// Anything else (corrupt data, a bug).
    #[error(transparent)]
    Other(sqlx::Error),
}

impl StoreError {
    /// For a failure worth retrying shortly (answered 503 with `Retry-After`), what the client
    /// reads; `None` for every other failure.
    pub fn temporary_message(&self) -> Option<&'static str> {
        match self {
            StoreError::Unreachable(_) => Some(
                "The service is temporarily unavailable: its database cannot be reached. \
                 Try again shortly.",
            ),
            StoreError::Busy(_) => Some(
                "The service is temporarily unavailable: its database is busy. Try again shortly.",
            ),
            _ => None,
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        if let sqlx::Error::Database(database) = &error {
            // The row a write refers to is gone (a user deleted meanwhile).
            if database.is_foreign_key_violation() {
                return StoreError::NotFound;
            }
            // PostgreSQL: serialization failure, deadlock, lock timeout, statement timeout.
            // SQLite: the file stayed locked past the busy timeout.
            if database.code().is_some_and(|code| {
                matches!(
                    code.as_ref(),
                    "40001" | "40P01" | "55P03" | "57014" | "5" | "6" | "261" | "262" | "517"
                )
            }) {
                return StoreError::Busy(error.to_string());
            }
        }
        let unreachable = match &error {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(database) => database.code().is_some_and(|code| {
                // PostgreSQL: connection exceptions, shutdown or start-up, too many clients.
                code.starts_with("08") || code.starts_with("57P") || code == "53300"
            }),
            _ => false,
        };
        if unreachable {
            StoreError::Unreachable(error.to_string())
        } else {
            StoreError::Other(error)
        }
    }
}

/// Everything the service stores. One implementation per backend.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Applies all pending migrations.
    async fn migrate(&self) -> Result<(), StoreError>;
    /// Fails with `Unavailable` unless every migration has been applied.
    async fn check_migrated(&self) -> Result<(), StoreError>;

    /// Inserts a user; `Conflict { constraint: "username" }` when the name is taken.
    async fn create_user(&self, user: &NewUser, now: DateTime<Utc>) -> Result<User, StoreError>;
    /// The user with this primary key.
    async fn user_by_id(&self, id: i64) -> Result<User, StoreError>;
    /// The user with exactly this username.
    async fn user_by_username(&self, username: &str) -> Result<User, StoreError>;
    /// Replaces the password hash (`None`: unusable password) and ends the user's login sessions
    /// (Django ties sessions to the password, so a reset locks out whoever stole one).
    async fn set_password(&self, user_id: i64, password: Option<&str>) -> Result<(), StoreError>;
    /// Sets `last_login`.
    async fn record_login(&self, user_id: i64, now: DateTime<Utc>) -> Result<(), StoreError>;
    /// Names of the user's groups, sorted.
    async fn user_groups(&self, user_id: i64) -> Result<Vec<String>, StoreError>;
    /// How many active superusers exist.
    async fn count_superusers(&self) -> Result<i64, StoreError>;
    /// A page of users ordered by username whose username or email contains `search`
    /// (case-insensitive), and how many match in all.
    async fn list_users(
        &self,
        search: &str,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<User>, i64), StoreError>;
    /// Applies an admin's edit, groups included, in one transaction.
    async fn update_user(&self, user_id: i64, changes: &UserChanges) -> Result<(), StoreError>;
    /// Deletes a user with their tokens and sessions.
    async fn delete_user(&self, user_id: i64) -> Result<(), StoreError>;

    /// Inserts a token unless the user already holds `limit` live ones (`LimitReached`);
    /// atomic, so parallel creates never exceed the limit. Expired tokens of the user go first.
    async fn create_bearer_token(
        &self,
        token: &NewBearerToken,
        limit: u32,
    ) -> Result<BearerToken, StoreError>;
    /// Live tokens with this key, with their owners. Read-only: this is the request path.
    async fn bearer_token_matches(
        &self,
        token_key: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<BearerTokenMatch>, StoreError>;
    /// The user's live tokens, oldest first.
    async fn list_bearer_tokens(
        &self,
        user_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Vec<BearerToken>, StoreError>;
    /// Deletes the user's tokens with this key; returns how many.
    async fn delete_bearer_token(&self, user_id: i64, token_key: &str) -> Result<u64, StoreError>;
    /// Deletes every expired token and session; returns how many rows went.
    async fn delete_expired(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;

    /// Stores a new login session.
    async fn create_session(&self, session: &NewSession) -> Result<(), StoreError>;
    /// A live session with its user. Read-only: this is the request path.
    async fn session(
        &self,
        key_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Session>, StoreError>;
    /// Ends a session.
    async fn delete_session(&self, key_hash: &str) -> Result<(), StoreError>;

    /// The user's DRF token, created with `new_key` if they have none (DRF's `get_or_create`).
    async fn ensure_drf_token(
        &self,
        user_id: i64,
        new_key: &str,
        now: DateTime<Utc>,
    ) -> Result<String, StoreError>;
    /// Replaces the user's DRF token by `new_key` (DRF's `drf_create_token --reset`).
    async fn reset_drf_token(
        &self,
        user_id: i64,
        new_key: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The owner of the DRF token with this key, looked up by the key's SHA-256 digest (no
    /// timing signal about partial matches). Read-only: the request path.
    async fn drf_token_user(&self, key: &str) -> Result<Option<User>, StoreError>;
    /// A page of DRF tokens ordered by username, filtered by username or key, and the total.
    async fn list_drf_tokens(
        &self,
        search: &str,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<DrfToken>, i64), StoreError>;
    /// Deletes the user's DRF token.
    async fn delete_drf_token(&self, user_id: i64) -> Result<(), StoreError>;

    /// The SSO user called `username`, created (active, no usable password) if new, with the
    /// session's details written when `initiated` is newer than the last sync. Returns the user
    /// and whether details were written (a new login). One transaction.
    async fn sync_sso_user(
        &self,
        username: &str,
        profile: &SsoProfile,
        initiated: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(User, bool), StoreError>;

    /// Writes what the SSO's `user_status` says of the user and marks them synced at `now`.
    async fn record_user_status(
        &self,
        user_id: i64,
        status: &UserStatus,
        now: DateTime<Utc>,
    ) -> Result<User, StoreError>;

    /// Appends to the impersonation audit log.
    async fn record_impersonation(&self, event: &ImpersonationEvent) -> Result<(), StoreError>;
    /// A page of the audit log, newest first, and its total length.
    async fn impersonation_events(
        &self,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<ImpersonationEvent>, i64), StoreError>;
}

/// Opens the store named by the URL. `create` makes a missing SQLite file (for `migrate`);
/// otherwise a missing file is `Unavailable`. A PostgreSQL database must exist already.
pub async fn open(url: &DatabaseUrl, create: bool) -> Result<Arc<dyn Store>, StoreError> {
    match url {
        DatabaseUrl::Sqlite(path) => Ok(Arc::new(sqlite::open(path, create).await?)),
        DatabaseUrl::Postgres(url) => Ok(Arc::new(postgres::open(url).await?)),
    }
}
