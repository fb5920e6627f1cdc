//! The one implementation of `Store`, written once for every SQL backend: `SqlStore<DB>` runs
//! the same statements on SQLite and PostgreSQL (`$1` placeholders, which both accept), so the
//! two behave alike. What differs between them (migrations, how to serialise token creation,
//! reading a statement's row count) is the `Backend` trait, implemented in `sqlite.rs` and
//! `postgres.rs`. Times are Unix microseconds and lists JSON text on both.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::migrate::{Migrate, MigrateError, Migrator};
use sqlx::{ColumnIndex, Decode, Encode, Executor, FromRow, IntoArguments, Pool, Type};

use super::{
    BearerToken, BearerTokenMatch, DrfToken, ImpersonationEvent, NewBearerToken, NewSession,
    NewUser, Session, SsoProfile, Store, StoreError, User, UserChanges, UserStatus,
};

/// Columns of `users` that `UserRow` reads; a macro so that queries are `concat!`-ed at compile
/// time instead of formatted on every request.
macro_rules! user_columns {
    () => {
        "users.id, users.username, users.password, users.email, users.first_name, users.last_name, \
         users.is_staff, users.is_superuser, users.is_active, users.date_joined, users.last_login, \
         users.fairdata_username, users.organization, users.admin_organizations, users.csc_projects, \
         users.synced"
    };
}

/// What one SQL backend does its own way.
pub trait Backend: sqlx::Database {
    /// The backend's migrations (same versions and names on every backend).
    fn migrator() -> &'static Migrator;

    /// Applies the pending migrations, without the time limits of ordinary statements: a
    /// migration may wait for another instance's, or rewrite a big table.
    fn migrate(pool: &Pool<Self>) -> impl Future<Output = Result<(), MigrateError>> + Send;

    /// A statement, run first in the token-creating transaction with the user's id as `$1`,
    /// that makes parallel creates for one user wait for each other, so that counting and
    /// inserting cannot interleave. `None` where the database runs writers one at a time.
    const LOCK_USER: Option<&'static str>;

    /// How many rows a statement changed.
    fn rows_affected(result: &Self::QueryResult) -> u64;

    /// The longest one store call (every statement of it, and the waits for a connection) may
    /// take before it gives up as `Unreachable`: a database that stops answering without
    /// closing the connection must not hold a request, or a pool connection, for long.
    const CALL_TIMEOUT: Duration;
}

/// Runs one store call within `DB::CALL_TIMEOUT`. Dropping the call there drops its
/// connection too; sqlx closes it once its check on return fails, which for a silent server
/// is when the socket dies (a pool slot stays taken until then, and the pool wait bounds the
/// requests that find no free slot).
async fn bounded<DB: Backend, T>(
    call: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    tokio::time::timeout(DB::CALL_TIMEOUT, call)
        .await
        .unwrap_or_else(|_| {
            Err(StoreError::Unreachable(format!(
                "no answer within {:?}",
                DB::CALL_TIMEOUT
            )))
        })
}

/// A connection pool to one database of backend `DB`.
pub struct SqlStore<DB: sqlx::Database> {
    pool: Pool<DB>,
}

impl<DB: sqlx::Database> SqlStore<DB> {
    /// Wraps an open pool.
    pub fn new(pool: Pool<DB>) -> Self {
        SqlStore { pool }
    }
}

fn micros(time: DateTime<Utc>) -> i64 {
    time.timestamp_micros()
}

fn from_micros(value: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(value).unwrap_or_default()
}

fn json_list(value: &str) -> Vec<String> {
    serde_json::from_str(value).unwrap_or_default()
}

fn json_text(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".to_owned())
}

/// Maps a unique-constraint violation to `Conflict`, everything else as `From` does.
fn on_unique(error: sqlx::Error, constraint: &'static str) -> StoreError {
    match &error {
        sqlx::Error::Database(database) if database.is_unique_violation() => {
            StoreError::Conflict { constraint }
        }
        _ => error.into(),
    }
}

/// Django's text for a NUL character in a form field. PostgreSQL text cannot hold one, so
/// neither backend stores it: writes refuse it, and lookups for it find nothing.
const NUL_REFUSED: &str = "Null characters are not allowed.";

/// Longest values, in characters, of the text columns: Django's and Metax's `max_length`s,
/// held on both backends (PostgreSQL also cannot index values over about 2.7 kB).
mod max_length {
    pub const USERNAME: usize = 150;
    pub const EMAIL: usize = 254;
    pub const NAME: usize = 150;
    pub const FAIRDATA_USERNAME: usize = 64;
    pub const ORGANIZATION: usize = 512;
    pub const CSC_PROJECT: usize = 256;
    pub const GROUP: usize = 150;
}

/// Whether a lookup value holds a NUL character (and so matches no stored row).
fn has_nul(value: &str) -> bool {
    value.contains('\0')
}

/// `Invalid` if any value to be written holds a NUL character or is longer than its column's
/// maximum (each value comes with that maximum), with Django's texts.
fn storable<'a>(values: impl IntoIterator<Item = (&'a str, usize)>) -> Result<(), StoreError> {
    for (value, max) in values {
        if has_nul(value) {
            return Err(StoreError::Invalid(NUL_REFUSED.to_owned()));
        }
        let length = value.chars().count();
        if length > max {
            return Err(StoreError::Invalid(format!(
                "Ensure this value has at most {max} characters (it has {length})."
            )));
        }
    }
    Ok(())
}

/// Each item of a list column, with the items' maximum length.
fn items(list: &[String], max: usize) -> impl Iterator<Item = (&str, usize)> {
    list.iter().map(move |item| (item.as_str(), max))
}

/// The lookup digest of a DRF key.
fn drf_digest(key: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(key.as_bytes()))
}

/// `search` as a LIKE pattern matching it anywhere, with LIKE's wildcards taken literally. The
/// queries compare it with `LOWER(column) LIKE LOWER(pattern)`, case-insensitive on both
/// backends.
fn contains_pattern(search: &str) -> String {
    let escaped = search
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

#[derive(FromRow)]
struct UserRow {
    id: i64,
    username: String,
    password: Option<String>,
    email: String,
    first_name: String,
    last_name: String,
    is_staff: bool,
    is_superuser: bool,
    is_active: bool,
    date_joined: i64,
    last_login: Option<i64>,
    fairdata_username: Option<String>,
    organization: Option<String>,
    admin_organizations: String,
    csc_projects: String,
    synced: Option<i64>,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        User {
            id: row.id,
            username: row.username,
            password: row.password,
            email: row.email,
            first_name: row.first_name,
            last_name: row.last_name,
            is_staff: row.is_staff,
            is_superuser: row.is_superuser,
            is_active: row.is_active,
            date_joined: from_micros(row.date_joined),
            last_login: row.last_login.map(from_micros),
            fairdata_username: row.fairdata_username,
            organization: row.organization,
            admin_organizations: json_list(&row.admin_organizations),
            csc_projects: json_list(&row.csc_projects),
            synced: row.synced.map(from_micros),
        }
    }
}

#[derive(FromRow)]
struct TokenRow {
    token_key: String,
    created: i64,
    expiry: i64,
    impersonator: Option<String>,
}

impl From<TokenRow> for BearerToken {
    fn from(row: TokenRow) -> Self {
        BearerToken {
            token_key: row.token_key,
            created: from_micros(row.created),
            expiry: from_micros(row.expiry),
            impersonator: row.impersonator,
        }
    }
}

#[derive(FromRow)]
struct MatchRow {
    digest: String,
    impersonator_id: Option<i64>,
    #[sqlx(flatten)]
    user: UserRow,
}

#[derive(FromRow)]
struct SessionRow {
    impersonator_id: Option<i64>,
    #[sqlx(flatten)]
    user: UserRow,
}

#[derive(FromRow)]
struct EventRow {
    at: i64,
    action: String,
    impersonator: String,
    target: String,
    client_address: String,
}

impl From<EventRow> for ImpersonationEvent {
    fn from(row: EventRow) -> Self {
        ImpersonationEvent {
            at: from_micros(row.at),
            action: row.action,
            impersonator: row.impersonator,
            target: row.target,
            client_address: row.client_address,
        }
    }
}

#[derive(FromRow)]
struct DrfTokenRow {
    key: String,
    user_id: i64,
    username: String,
    created: i64,
}

impl From<DrfTokenRow> for DrfToken {
    fn from(row: DrfTokenRow) -> Self {
        DrfToken {
            key: row.key,
            user_id: row.user_id,
            username: row.username,
            created: from_micros(row.created),
        }
    }
}

#[async_trait]
impl<DB> Store for SqlStore<DB>
where
    DB: Backend,
    DB::Connection: Migrate,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> bool: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<String>: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
    for<'r> UserRow: FromRow<'r, DB::Row>,
    for<'r> TokenRow: FromRow<'r, DB::Row>,
    for<'r> MatchRow: FromRow<'r, DB::Row>,
    for<'r> SessionRow: FromRow<'r, DB::Row>,
    for<'r> EventRow: FromRow<'r, DB::Row>,
    for<'r> DrfTokenRow: FromRow<'r, DB::Row>,
{
    async fn migrate(&self) -> Result<(), StoreError> {
        DB::migrate(&self.pool).await.map_err(|error| match error {
            MigrateError::Execute(error) => error.into(),
            other => StoreError::Unavailable(format!("migration failed: {other}")),
        })
    }

    async fn check_migrated(&self) -> Result<(), StoreError> {
        bounded::<DB, _>(async move {
            let applied: Vec<i64> =
                match sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                    .fetch_all(&self.pool)
                    .await
                {
                    Ok(versions) => versions,
                    // No migrations table yet (PostgreSQL's undefined_table; SQLite has no
                    // code of its own for it). Other failures, such as a missing privilege,
                    // are told as they are.
                    Err(sqlx::Error::Database(database))
                        if database.code().as_deref() == Some("42P01")
                            || database.message().starts_with("no such table") =>
                    {
                        Vec::new()
                    }
                    Err(error) => return Err(error.into()),
                };
            let pending = DB::migrator()
                .iter()
                .filter(|migration| !applied.contains(&migration.version))
                .count();
            if pending > 0 {
                return Err(StoreError::Unavailable(format!(
                    "the database schema is not up to date ({pending} migration(s) pending): \
                     run `metax-auth migrate` first"
                )));
            }
            Ok(())
        })
        .await
    }

    async fn create_user(&self, user: &NewUser, now: DateTime<Utc>) -> Result<User, StoreError> {
        bounded::<DB, _>(async move {
            storable([
                (user.username.as_str(), max_length::USERNAME),
                (&user.email, max_length::EMAIL),
            ])?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO users (username, password, email, is_staff, is_superuser, date_joined) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(&user.username)
            .bind(&user.password)
            .bind(&user.email)
            .bind(user.is_staff)
            .bind(user.is_superuser)
            .bind(micros(now))
            .fetch_one(&self.pool)
            .await
            .map_err(|error| on_unique(error, "username"))?;
            self.user_by_id(id).await
        })
        .await
    }

    async fn user_by_id(&self, id: i64) -> Result<User, StoreError> {
        bounded::<DB, _>(async move {
            sqlx::query_as::<_, UserRow>(concat!(
                "SELECT ",
                user_columns!(),
                " FROM users WHERE id = $1"
            ))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(User::from)
            .ok_or(StoreError::NotFound)
        })
        .await
    }

    async fn user_by_username(&self, username: &str) -> Result<User, StoreError> {
        bounded::<DB, _>(async move {
            if has_nul(username) {
                return Err(StoreError::NotFound);
            }
            sqlx::query_as::<_, UserRow>(concat!(
                "SELECT ",
                user_columns!(),
                " FROM users WHERE username = $1"
            ))
            .bind(username)
            .fetch_optional(&self.pool)
            .await?
            .map(User::from)
            .ok_or(StoreError::NotFound)
        })
        .await
    }

    async fn set_password(&self, user_id: i64, password: Option<&str>) -> Result<(), StoreError> {
        bounded::<DB, _>(async move {
            let mut transaction = self.pool.begin().await?;
            let result = sqlx::query("UPDATE users SET password = $1 WHERE id = $2")
                .bind(password)
                .bind(user_id)
                .execute(&mut *transaction)
                .await?;
            if DB::rows_affected(&result) == 0 {
                return Err(StoreError::NotFound);
            }
            sqlx::query("DELETE FROM sessions WHERE user_id = $1 OR impersonator_id = $1")
                .bind(user_id)
                .execute(&mut *transaction)
                .await?;
            transaction.commit().await?;
            Ok(())
        })
        .await
    }

    async fn record_login(&self, user_id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        bounded::<DB, _>(async move {
            sqlx::query("UPDATE users SET last_login = $1 WHERE id = $2")
                .bind(micros(now))
                .bind(user_id)
                .execute(&self.pool)
                .await?;
            Ok(())
        })
        .await
    }

    async fn user_groups(&self, user_id: i64) -> Result<Vec<String>, StoreError> {
        bounded::<DB, _>(async move {
            Ok(sqlx::query_scalar(
                "SELECT groups.name FROM groups JOIN user_groups ON user_groups.group_id = groups.id \
                 WHERE user_groups.user_id = $1 ORDER BY groups.name",
            )
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?)
        })
        .await
    }

    async fn count_superusers(&self) -> Result<i64, StoreError> {
        bounded::<DB, _>(async move {
            Ok(
                sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE is_superuser AND is_active")
                    .fetch_one(&self.pool)
                    .await?,
            )
        })
        .await
    }

    async fn list_users(
        &self,
        search: &str,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<User>, i64), StoreError> {
        bounded::<DB, _>(async move {
            if has_nul(search) {
                return Ok((Vec::new(), 0));
            }
            let pattern = contains_pattern(search);
            let total: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM users \
                 WHERE LOWER(username) LIKE LOWER($1) ESCAPE '\\' OR LOWER(email) LIKE LOWER($1) ESCAPE '\\'",
            )
            .bind(&pattern)
            .fetch_one(&self.pool)
            .await?;
            let users = sqlx::query_as::<_, UserRow>(concat!(
                "SELECT ",
                user_columns!(),
                " FROM users \
                 WHERE LOWER(username) LIKE LOWER($1) ESCAPE '\\' OR LOWER(email) LIKE LOWER($1) ESCAPE '\\' \
                 ORDER BY username LIMIT $2 OFFSET $3"
            ))
            .bind(&pattern)
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
            Ok((users.into_iter().map(User::from).collect(), total))
        })
        .await
    }

    async fn update_user(&self, user_id: i64, changes: &UserChanges) -> Result<(), StoreError> {
        bounded::<DB, _>(async move {
            storable(
                [
                    (changes.email.as_str(), max_length::EMAIL),
                    (&changes.first_name, max_length::NAME),
                    (&changes.last_name, max_length::NAME),
                ]
                .into_iter()
                .chain(items(
                    changes.fairdata_username.as_slice(),
                    max_length::FAIRDATA_USERNAME,
                ))
                .chain(items(
                    changes.organization.as_slice(),
                    max_length::ORGANIZATION,
                ))
                .chain(items(
                    &changes.admin_organizations,
                    max_length::ORGANIZATION,
                ))
                .chain(items(&changes.csc_projects, max_length::CSC_PROJECT))
                .chain(items(&changes.groups, max_length::GROUP)),
            )?;
            // Sorted, so that two saves adding the same new groups take their locks in one order.
            let mut groups: Vec<&str> = changes.groups.iter().map(String::as_str).collect();
            groups.sort_unstable();
            groups.dedup();
            let mut transaction = self.pool.begin().await?;
            let updated = sqlx::query(
                "UPDATE users SET email = $1, first_name = $2, last_name = $3, is_active = $4, \
                 is_staff = $5, is_superuser = $6, fairdata_username = $7, organization = $8, \
                 admin_organizations = $9, csc_projects = $10 WHERE id = $11",
            )
            .bind(&changes.email)
            .bind(&changes.first_name)
            .bind(&changes.last_name)
            .bind(changes.is_active)
            .bind(changes.is_staff)
            .bind(changes.is_superuser)
            .bind(&changes.fairdata_username)
            .bind(&changes.organization)
            .bind(json_text(&changes.admin_organizations))
            .bind(json_text(&changes.csc_projects))
            .bind(user_id)
            .execute(&mut *transaction)
            .await?;
            if DB::rows_affected(&updated) == 0 {
                return Err(StoreError::NotFound);
            }
            sqlx::query("DELETE FROM user_groups WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *transaction)
                .await?;
            for group in groups {
                sqlx::query("INSERT INTO groups (name) VALUES ($1) ON CONFLICT (name) DO NOTHING")
                    .bind(group)
                    .execute(&mut *transaction)
                    .await?;
                sqlx::query(
                    "INSERT INTO user_groups (user_id, group_id) SELECT $1, id FROM groups WHERE name = $2 \
                     ON CONFLICT DO NOTHING",
                )
                .bind(user_id)
                .bind(group)
                .execute(&mut *transaction)
                .await?;
            }
            transaction.commit().await?;
            Ok(())
        })
        .await
    }

    async fn delete_user(&self, user_id: i64) -> Result<(), StoreError> {
        bounded::<DB, _>(async move {
            let deleted = sqlx::query("DELETE FROM users WHERE id = $1")
                .bind(user_id)
                .execute(&self.pool)
                .await?;
            if DB::rows_affected(&deleted) == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }

    async fn create_bearer_token(
        &self,
        token: &NewBearerToken,
        limit: u32,
    ) -> Result<BearerToken, StoreError> {
        bounded::<DB, _>(async move {
            let now = micros(token.created);
            let mut transaction = self.pool.begin().await?;
            if let Some(lock) = DB::LOCK_USER {
                sqlx::query(lock)
                    .bind(token.user_id)
                    .execute(&mut *transaction)
                    .await?;
            }
            // On SQLite this first write also takes the database's write lock, so the count and the
            // insert below cannot interleave with another create (knox counts, then inserts, and can
            // overshoot).
            sqlx::query("DELETE FROM bearer_tokens WHERE user_id = $1 AND expiry <= $2")
                .bind(token.user_id)
                .bind(now)
                .execute(&mut *transaction)
                .await?;
            let inserted = sqlx::query(
                "INSERT INTO bearer_tokens (digest, token_key, user_id, created, expiry, impersonator_id) \
                 SELECT $1, $2, $3, $4, $5, $6 \
                 WHERE (SELECT COUNT(*) FROM bearer_tokens WHERE user_id = $3 AND expiry > $4) < $7",
            )
            .bind(&token.digest)
            .bind(&token.token_key)
            .bind(token.user_id)
            .bind(now)
            .bind(micros(token.expiry))
            .bind(token.impersonator_id)
            .bind(i64::from(limit))
            .execute(&mut *transaction)
            .await
            .map_err(|error| on_unique(error, "digest"))?;
            if DB::rows_affected(&inserted) == 0 {
                return Err(StoreError::LimitReached);
            }
            let impersonator = match token.impersonator_id {
                Some(id) => Some(
                    sqlx::query_scalar("SELECT username FROM users WHERE id = $1")
                        .bind(id)
                        .fetch_one(&mut *transaction)
                        .await?,
                ),
                None => None,
            };
            transaction.commit().await?;
            Ok(BearerToken {
                token_key: token.token_key.clone(),
                created: token.created,
                expiry: token.expiry,
                impersonator,
            })
        })
        .await
    }

    async fn bearer_token_matches(
        &self,
        token_key: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<BearerTokenMatch>, StoreError> {
        bounded::<DB, _>(async move {
            if has_nul(token_key) {
                return Ok(Vec::new());
            }
            let rows = sqlx::query_as::<_, MatchRow>(concat!(
                "SELECT bearer_tokens.digest, bearer_tokens.impersonator_id, ",
                user_columns!(),
                " FROM bearer_tokens \
                 JOIN users ON users.id = bearer_tokens.user_id \
                 WHERE bearer_tokens.token_key = $1 AND bearer_tokens.expiry > $2"
            ))
            .bind(token_key)
            .bind(micros(now))
            .fetch_all(&self.pool)
            .await?;
            Ok(rows
                .into_iter()
                .map(|row| BearerTokenMatch {
                    digest: row.digest,
                    impersonator_id: row.impersonator_id,
                    user: row.user.into(),
                })
                .collect())
        })
        .await
    }

    async fn list_bearer_tokens(
        &self,
        user_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Vec<BearerToken>, StoreError> {
        bounded::<DB, _>(async move {
            let rows = sqlx::query_as::<_, TokenRow>(
                "SELECT bearer_tokens.token_key, bearer_tokens.created, bearer_tokens.expiry, \
                 users.username AS impersonator \
                 FROM bearer_tokens LEFT JOIN users ON users.id = bearer_tokens.impersonator_id \
                 WHERE bearer_tokens.user_id = $1 AND bearer_tokens.expiry > $2 \
                 ORDER BY bearer_tokens.created, bearer_tokens.token_key",
            )
            .bind(user_id)
            .bind(micros(now))
            .fetch_all(&self.pool)
            .await?;
            Ok(rows.into_iter().map(BearerToken::from).collect())
        })
        .await
    }

    async fn delete_bearer_token(&self, user_id: i64, token_key: &str) -> Result<u64, StoreError> {
        bounded::<DB, _>(async move {
            if has_nul(token_key) {
                return Ok(0);
            }
            let result =
                sqlx::query("DELETE FROM bearer_tokens WHERE user_id = $1 AND token_key = $2")
                    .bind(user_id)
                    .bind(token_key)
                    .execute(&self.pool)
                    .await?;
            Ok(DB::rows_affected(&result))
        })
        .await
    }

    async fn delete_expired(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        bounded::<DB, _>(async move {
            let now = micros(now);
            let tokens = sqlx::query("DELETE FROM bearer_tokens WHERE expiry <= $1")
                .bind(now)
                .execute(&self.pool)
                .await?;
            let sessions = sqlx::query("DELETE FROM sessions WHERE expires <= $1")
                .bind(now)
                .execute(&self.pool)
                .await?;
            Ok(DB::rows_affected(&tokens) + DB::rows_affected(&sessions))
        })
        .await
    }

    async fn create_session(&self, session: &NewSession) -> Result<(), StoreError> {
        bounded::<DB, _>(async move {
            sqlx::query(
                "INSERT INTO sessions (key_hash, user_id, created, expires, impersonator_id) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&session.key_hash)
            .bind(session.user_id)
            .bind(micros(session.created))
            .bind(micros(session.expires))
            .bind(session.impersonator_id)
            .execute(&self.pool)
            .await
            .map_err(|error| on_unique(error, "session"))?;
            Ok(())
        })
        .await
    }

    async fn session(
        &self,
        key_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Session>, StoreError> {
        bounded::<DB, _>(async move {
            let row = sqlx::query_as::<_, SessionRow>(concat!(
                "SELECT sessions.impersonator_id, ",
                user_columns!(),
                " FROM sessions JOIN users ON users.id = sessions.user_id \
                 WHERE sessions.key_hash = $1 AND sessions.expires > $2"
            ))
            .bind(key_hash)
            .bind(micros(now))
            .fetch_optional(&self.pool)
            .await?;
            Ok(row.map(|row| Session {
                impersonator_id: row.impersonator_id,
                user: row.user.into(),
            }))
        })
        .await
    }

    async fn delete_session(&self, key_hash: &str) -> Result<(), StoreError> {
        bounded::<DB, _>(async move {
            sqlx::query("DELETE FROM sessions WHERE key_hash = $1")
                .bind(key_hash)
                .execute(&self.pool)
                .await?;
            Ok(())
        })
        .await
    }

    async fn record_impersonation(&self, event: &ImpersonationEvent) -> Result<(), StoreError> {
        bounded::<DB, _>(async move {
            sqlx::query(
                "INSERT INTO impersonation_events (at, action, impersonator, target, client_address) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(micros(event.at))
            .bind(&event.action)
            .bind(&event.impersonator)
            .bind(&event.target)
            .bind(&event.client_address)
            .execute(&self.pool)
            .await?;
            Ok(())
        })
        .await
    }

    async fn impersonation_events(
        &self,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<ImpersonationEvent>, i64), StoreError> {
        bounded::<DB, _>(async move {
            let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM impersonation_events")
                .fetch_one(&self.pool)
                .await?;
            let rows = sqlx::query_as::<_, EventRow>(
                "SELECT at, action, impersonator, target, client_address FROM impersonation_events \
                 ORDER BY id DESC LIMIT $1 OFFSET $2",
            )
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
            Ok((
                rows.into_iter().map(ImpersonationEvent::from).collect(),
                total,
            ))
        })
        .await
    }

    async fn ensure_drf_token(
        &self,
        user_id: i64,
        new_key: &str,
        now: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        bounded::<DB, _>(async move {
            sqlx::query(
                "INSERT INTO drf_tokens (user_id, key, digest, created) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (user_id) DO NOTHING",
            )
            .bind(user_id)
            .bind(new_key)
            .bind(drf_digest(new_key))
            .bind(micros(now))
            .execute(&self.pool)
            .await
            .map_err(|error| on_unique(error, "key"))?;
            Ok(
                sqlx::query_scalar("SELECT key FROM drf_tokens WHERE user_id = $1")
                    .bind(user_id)
                    .fetch_one(&self.pool)
                    .await?,
            )
        })
        .await
    }

    async fn reset_drf_token(
        &self,
        user_id: i64,
        new_key: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        bounded::<DB, _>(async move {
            sqlx::query(
                "INSERT INTO drf_tokens (user_id, key, digest, created) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (user_id) DO UPDATE \
                 SET key = excluded.key, digest = excluded.digest, created = excluded.created",
            )
            .bind(user_id)
            .bind(new_key)
            .bind(drf_digest(new_key))
            .bind(micros(now))
            .execute(&self.pool)
            .await
            .map_err(|error| on_unique(error, "key"))?;
            Ok(())
        })
        .await
    }

    async fn drf_token_user(&self, key: &str) -> Result<Option<User>, StoreError> {
        bounded::<DB, _>(async move {
            Ok(sqlx::query_as::<_, UserRow>(concat!(
                "SELECT ",
                user_columns!(),
                " FROM drf_tokens JOIN users ON users.id = drf_tokens.user_id \
                 WHERE drf_tokens.digest = $1"
            ))
            .bind(drf_digest(key))
            .fetch_optional(&self.pool)
            .await?
            .map(User::from))
        })
        .await
    }

    async fn list_drf_tokens(
        &self,
        search: &str,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<DrfToken>, i64), StoreError> {
        bounded::<DB, _>(async move {
            if has_nul(search) {
                return Ok((Vec::new(), 0));
            }
            let pattern = contains_pattern(search);
            let total: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM drf_tokens JOIN users ON users.id = drf_tokens.user_id \
                 WHERE LOWER(users.username) LIKE LOWER($1) ESCAPE '\\' \
                 OR LOWER(drf_tokens.key) LIKE LOWER($1) ESCAPE '\\'",
            )
            .bind(&pattern)
            .fetch_one(&self.pool)
            .await?;
            let rows = sqlx::query_as::<_, DrfTokenRow>(
                "SELECT drf_tokens.key, drf_tokens.user_id, drf_tokens.created, users.username \
                 FROM drf_tokens JOIN users ON users.id = drf_tokens.user_id \
                 WHERE LOWER(users.username) LIKE LOWER($1) ESCAPE '\\' \
                 OR LOWER(drf_tokens.key) LIKE LOWER($1) ESCAPE '\\' \
                 ORDER BY users.username LIMIT $2 OFFSET $3",
            )
            .bind(&pattern)
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
            Ok((rows.into_iter().map(DrfToken::from).collect(), total))
        })
        .await
    }

    async fn delete_drf_token(&self, user_id: i64) -> Result<(), StoreError> {
        bounded::<DB, _>(async move {
            sqlx::query("DELETE FROM drf_tokens WHERE user_id = $1")
                .bind(user_id)
                .execute(&self.pool)
                .await?;
            Ok(())
        })
        .await
    }

    async fn sync_sso_user(
        &self,
        username: &str,
        profile: &SsoProfile,
        initiated: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(User, bool), StoreError> {
        bounded::<DB, _>(async move {
            storable(
                [
                    (username, max_length::USERNAME),
                    (&profile.first_name, max_length::NAME),
                    (&profile.last_name, max_length::NAME),
                    (&profile.email, max_length::EMAIL),
                    (&profile.organization, max_length::ORGANIZATION),
                    (&profile.fairdata_username, max_length::FAIRDATA_USERNAME),
                ]
                .into_iter()
                .chain(items(&profile.csc_projects, max_length::CSC_PROJECT))
                .chain(items(
                    &profile.admin_organizations,
                    max_length::ORGANIZATION,
                )),
            )?;
            let mut transaction = self.pool.begin().await?;
            sqlx::query(
                "INSERT INTO users (username, password, date_joined) VALUES ($1, NULL, $2) \
                 ON CONFLICT (username) DO NOTHING",
            )
            .bind(username)
            .bind(micros(now))
            .execute(&mut *transaction)
            .await?;
            let updated = sqlx::query(
                "UPDATE users SET first_name = $1, last_name = $2, email = $3, organization = $4, \
                 fairdata_username = $5, csc_projects = $6, admin_organizations = $7, is_active = TRUE, \
                 synced = $8 WHERE username = $9 AND (synced IS NULL OR synced < $8)",
            )
            .bind(&profile.first_name)
            .bind(&profile.last_name)
            .bind(&profile.email)
            .bind(&profile.organization)
            .bind(&profile.fairdata_username)
            .bind(json_text(&profile.csc_projects))
            .bind(json_text(&profile.admin_organizations))
            .bind(micros(initiated))
            .bind(username)
            .execute(&mut *transaction)
            .await?;
            let updated = DB::rows_affected(&updated) > 0;
            if updated {
                sqlx::query(
                    "INSERT INTO groups (name) VALUES ('fairdata_users') ON CONFLICT (name) DO NOTHING",
                )
                .execute(&mut *transaction)
                .await?;
                sqlx::query(
                    "INSERT INTO user_groups (user_id, group_id) \
                     SELECT users.id, groups.id FROM users, groups \
                     WHERE users.username = $1 AND groups.name = 'fairdata_users' \
                     ON CONFLICT DO NOTHING",
                )
                .bind(username)
                .execute(&mut *transaction)
                .await?;
            }
            let user = sqlx::query_as::<_, UserRow>(concat!(
                "SELECT ",
                user_columns!(),
                " FROM users WHERE username = $1"
            ))
            .bind(username)
            .fetch_one(&mut *transaction)
            .await?;
            transaction.commit().await?;
            Ok((user.into(), updated))
        })
        .await
    }

    async fn record_user_status(
        &self,
        user_id: i64,
        status: &UserStatus,
        now: DateTime<Utc>,
    ) -> Result<User, StoreError> {
        bounded::<DB, _>(async move {
            storable(
                [(status.email.as_str(), max_length::EMAIL)]
                    .into_iter()
                    .chain(items(&status.projects, max_length::CSC_PROJECT))
                    .chain(items(&status.admin_organizations, max_length::ORGANIZATION)),
            )?;
            sqlx::query(
                "UPDATE users SET email = $1, is_active = $2, csc_projects = $3, \
                 admin_organizations = $4, synced = $5 WHERE id = $6",
            )
            .bind(&status.email)
            .bind(!status.locked)
            .bind(json_text(&status.projects))
            .bind(json_text(&status.admin_organizations))
            .bind(micros(now))
            .bind(user_id)
            .execute(&self.pool)
            .await?;
            self.user_by_id(user_id).await
        })
        .await
    }
}
