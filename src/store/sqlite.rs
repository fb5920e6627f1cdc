//! The SQLite backend: the embedded default. One file, WAL journal so that the CLI commands can
//! write while the server runs, times stored as Unix microseconds.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{FromRow, Row};

use super::{
    BearerToken, BearerTokenMatch, DrfToken, ImpersonationEvent, NewBearerToken, NewSession,
    NewUser, Session, SsoProfile, Store, StoreError, User, UserChanges, UserStatus,
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

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

/// A SQLite database file.
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (and with `create`, makes) the database file.
    pub async fn open(path: &Path, create: bool) -> Result<Self, StoreError> {
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
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(SqliteStore { pool })
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

/// Maps a unique-constraint violation to `Conflict`, everything else to `Other`.
fn on_unique(error: sqlx::Error, constraint: &'static str) -> StoreError {
    match &error {
        sqlx::Error::Database(database) if database.is_unique_violation() => {
            StoreError::Conflict { constraint }
        }
        _ => StoreError::Other(error),
    }
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

fn token_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<BearerToken, sqlx::Error> {
    Ok(BearerToken {
        token_key: row.try_get("token_key")?,
        created: from_micros(row.try_get("created")?),
        expiry: from_micros(row.try_get("expiry")?),
        impersonator: row.try_get("impersonator")?,
    })
}

fn event_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<ImpersonationEvent, sqlx::Error> {
    Ok(ImpersonationEvent {
        at: from_micros(row.try_get("at")?),
        action: row.try_get("action")?,
        impersonator: row.try_get("impersonator")?,
        target: row.try_get("target")?,
        client_address: row.try_get("client_address")?,
    })
}

/// The lookup digest of a DRF key.
fn drf_digest(key: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(key.as_bytes()))
}

/// `search` as a LIKE pattern matching it anywhere, with LIKE's wildcards taken literally.
fn contains_pattern(search: &str) -> String {
    let escaped = search
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

fn json_text(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".to_owned())
}

#[async_trait]
impl Store for SqliteStore {
    async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await.map_err(|error| match error {
            sqlx::migrate::MigrateError::Execute(error) => StoreError::Other(error),
            other => StoreError::Unavailable(format!("migration failed: {other}")),
        })
    }

    async fn check_migrated(&self) -> Result<(), StoreError> {
        let applied: Vec<i64> =
            match sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&self.pool)
                .await
            {
                Ok(versions) => versions,
                Err(sqlx::Error::Database(_)) => Vec::new(),
                Err(error) => return Err(error.into()),
            };
        let pending = MIGRATOR
            .iter()
            .filter(|migration| !applied.contains(&migration.version))
            .count();
        if pending > 0 {
            return Err(StoreError::Unavailable(format!(
                "the database schema is not up to date ({pending} migration(s) pending): run `metax-auth migrate` first"
            )));
        }
        Ok(())
    }

    async fn create_user(&self, user: &NewUser, now: DateTime<Utc>) -> Result<User, StoreError> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (username, password, email, is_staff, is_superuser, date_joined) \
             VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
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
    }

    async fn user_by_id(&self, id: i64) -> Result<User, StoreError> {
        sqlx::query_as::<_, UserRow>(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE id = ?"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .map(User::from)
        .ok_or(StoreError::NotFound)
    }

    async fn user_by_username(&self, username: &str) -> Result<User, StoreError> {
        sqlx::query_as::<_, UserRow>(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE username = ?"
        ))
        .bind(username)
        .fetch_optional(&self.pool)
        .await?
        .map(User::from)
        .ok_or(StoreError::NotFound)
    }

    async fn set_password(&self, user_id: i64, password: Option<&str>) -> Result<(), StoreError> {
        let mut transaction = self.pool.begin().await?;
        let result = sqlx::query("UPDATE users SET password = ? WHERE id = ?")
            .bind(password)
            .bind(user_id)
            .execute(&mut *transaction)
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = ?1 OR impersonator_id = ?1")
            .bind(user_id)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(())
    }

    async fn record_login(&self, user_id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query("UPDATE users SET last_login = ? WHERE id = ?")
            .bind(micros(now))
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn user_groups(&self, user_id: i64) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT groups.name FROM groups JOIN user_groups ON user_groups.group_id = groups.id \
             WHERE user_groups.user_id = ? ORDER BY groups.name",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn count_superusers(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE is_superuser AND is_active")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn list_users(
        &self,
        search: &str,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<User>, i64), StoreError> {
        let pattern = contains_pattern(search);
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM users WHERE username LIKE ?1 ESCAPE '\\' OR email LIKE ?1 ESCAPE '\\'",
        )
        .bind(&pattern)
        .fetch_one(&self.pool)
        .await?;
        let users = sqlx::query_as::<_, UserRow>(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE username LIKE ?1 ESCAPE '\\' OR email LIKE ?1 ESCAPE '\\' \
             ORDER BY username LIMIT ?2 OFFSET ?3"
        ))
        .bind(&pattern)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        Ok((users.into_iter().map(User::from).collect(), total))
    }

    async fn update_user(&self, user_id: i64, changes: &UserChanges) -> Result<(), StoreError> {
        let mut transaction = self.pool.begin().await?;
        let updated = sqlx::query(
            "UPDATE users SET email = ?, first_name = ?, last_name = ?, is_active = ?, is_staff = ?, \
             is_superuser = ?, fairdata_username = ?, organization = ?, admin_organizations = ?, csc_projects = ? \
             WHERE id = ?",
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
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM user_groups WHERE user_id = ?")
            .bind(user_id)
            .execute(&mut *transaction)
            .await?;
        for group in &changes.groups {
            sqlx::query("INSERT INTO groups (name) VALUES (?) ON CONFLICT (name) DO NOTHING")
                .bind(group)
                .execute(&mut *transaction)
                .await?;
            sqlx::query("INSERT OR IGNORE INTO user_groups (user_id, group_id) SELECT ?, id FROM groups WHERE name = ?")
                .bind(user_id)
                .bind(group)
                .execute(&mut *transaction)
                .await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    async fn delete_user(&self, user_id: i64) -> Result<(), StoreError> {
        let deleted = sqlx::query("DELETE FROM users WHERE id = ?")
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn create_bearer_token(
        &self,
        token: &NewBearerToken,
        limit: u32,
    ) -> Result<BearerToken, StoreError> {
        let now = micros(token.created);
        sqlx::query("DELETE FROM bearer_tokens WHERE user_id = ? AND expiry <= ?")
            .bind(token.user_id)
            .bind(now)
            .execute(&self.pool)
            .await?;
        // One statement: SQLite runs writes one at a time, so the count and the insert cannot
        // interleave with another create (knox counts, then inserts, and can overshoot).
        let inserted = sqlx::query(
            "INSERT INTO bearer_tokens (digest, token_key, user_id, created, expiry, impersonator_id) \
             SELECT ?, ?, ?, ?, ?, ? \
             WHERE (SELECT COUNT(*) FROM bearer_tokens WHERE user_id = ? AND expiry > ?) < ?",
        )
        .bind(&token.digest)
        .bind(&token.token_key)
        .bind(token.user_id)
        .bind(now)
        .bind(micros(token.expiry))
        .bind(token.impersonator_id)
        .bind(token.user_id)
        .bind(now)
        .bind(i64::from(limit))
        .execute(&self.pool)
        .await
        .map_err(|error| on_unique(error, "digest"))?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::LimitReached);
        }
        let impersonator = match token.impersonator_id {
            Some(id) => Some(self.user_by_id(id).await?.username),
            None => None,
        };
        Ok(BearerToken {
            token_key: token.token_key.clone(),
            created: token.created,
            expiry: token.expiry,
            impersonator,
        })
    }

    async fn bearer_token_matches(
        &self,
        token_key: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<BearerTokenMatch>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT bearer_tokens.digest, bearer_tokens.impersonator_id, ",
            user_columns!(),
            " FROM bearer_tokens \
             JOIN users ON users.id = bearer_tokens.user_id \
             WHERE bearer_tokens.token_key = ? AND bearer_tokens.expiry > ?"
        ))
        .bind(token_key)
        .bind(micros(now))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(BearerTokenMatch {
                    digest: row.try_get("digest")?,
                    impersonator_id: row.try_get("impersonator_id")?,
                    user: UserRow::from_row(row)?.into(),
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    async fn list_bearer_tokens(
        &self,
        user_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Vec<BearerToken>, StoreError> {
        let rows = sqlx::query(
            "SELECT bearer_tokens.token_key, bearer_tokens.created, bearer_tokens.expiry, users.username AS impersonator \
             FROM bearer_tokens LEFT JOIN users ON users.id = bearer_tokens.impersonator_id \
             WHERE bearer_tokens.user_id = ? AND bearer_tokens.expiry > ? \
             ORDER BY bearer_tokens.created, bearer_tokens.token_key",
        )
        .bind(user_id)
        .bind(micros(now))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(token_from_row)
            .collect::<Result<_, _>>()
            .map_err(StoreError::from)
    }

    async fn delete_bearer_token(&self, user_id: i64, token_key: &str) -> Result<u64, StoreError> {
        let result = sqlx::query("DELETE FROM bearer_tokens WHERE user_id = ? AND token_key = ?")
            .bind(user_id)
            .bind(token_key)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected())
    }

    async fn delete_expired(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let now = micros(now);
        let tokens = sqlx::query("DELETE FROM bearer_tokens WHERE expiry <= ?")
            .bind(now)
            .execute(&self.pool)
            .await?;
        let sessions = sqlx::query("DELETE FROM sessions WHERE expires <= ?")
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(tokens.rows_affected() + sessions.rows_affected())
    }

    async fn create_session(&self, session: &NewSession) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO sessions (key_hash, user_id, created, expires, impersonator_id) VALUES (?, ?, ?, ?, ?)")
            .bind(&session.key_hash)
            .bind(session.user_id)
            .bind(micros(session.created))
            .bind(micros(session.expires))
            .bind(session.impersonator_id)
            .execute(&self.pool)
            .await
            .map_err(|error| on_unique(error, "session"))?;
        Ok(())
    }

    async fn session(
        &self,
        key_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Session>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT sessions.impersonator_id, ",
            user_columns!(),
            " FROM sessions JOIN users ON users.id = sessions.user_id \
             WHERE sessions.key_hash = ? AND sessions.expires > ?"
        ))
        .bind(key_hash)
        .bind(micros(now))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(Session {
                impersonator_id: row.try_get("impersonator_id")?,
                user: UserRow::from_row(&row)?.into(),
            })
        })
        .transpose()
        .map_err(StoreError::Other)
    }

    async fn delete_session(&self, key_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE key_hash = ?")
            .bind(key_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn record_impersonation(&self, event: &ImpersonationEvent) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO impersonation_events (at, action, impersonator, target, client_address) VALUES (?, ?, ?, ?, ?)")
            .bind(micros(event.at))
            .bind(&event.action)
            .bind(&event.impersonator)
            .bind(&event.target)
            .bind(&event.client_address)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn impersonation_events(
        &self,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<ImpersonationEvent>, i64), StoreError> {
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM impersonation_events")
            .fetch_one(&self.pool)
            .await?;
        let rows = sqlx::query("SELECT at, action, impersonator, target, client_address FROM impersonation_events ORDER BY id DESC LIMIT ? OFFSET ?")
            .bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await?;
        let events = rows.iter().map(event_from_row).collect::<Result<_, _>>()?;
        Ok((events, total))
    }

    async fn ensure_drf_token(
        &self,
        user_id: i64,
        new_key: &str,
        now: DateTime<Utc>,
    ) -> Result<String, StoreError> {
        sqlx::query("INSERT INTO drf_tokens (user_id, key, digest, created) VALUES (?, ?, ?, ?) ON CONFLICT (user_id) DO NOTHING")
            .bind(user_id)
            .bind(new_key)
            .bind(drf_digest(new_key))
            .bind(micros(now))
            .execute(&self.pool)
            .await
            .map_err(|error| on_unique(error, "key"))?;
        Ok(
            sqlx::query_scalar("SELECT key FROM drf_tokens WHERE user_id = ?")
                .bind(user_id)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn reset_drf_token(
        &self,
        user_id: i64,
        new_key: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO drf_tokens (user_id, key, digest, created) VALUES (?, ?, ?, ?) \
             ON CONFLICT (user_id) DO UPDATE SET key = excluded.key, digest = excluded.digest, created = excluded.created",
        )
        .bind(user_id)
        .bind(new_key)
        .bind(drf_digest(new_key))
        .bind(micros(now))
        .execute(&self.pool)
        .await
        .map_err(|error| on_unique(error, "key"))?;
        Ok(())
    }

    async fn drf_token_user(&self, key: &str) -> Result<Option<User>, StoreError> {
        Ok(sqlx::query_as::<_, UserRow>(concat!(
            "SELECT ",
            user_columns!(),
            " FROM drf_tokens JOIN users ON users.id = drf_tokens.user_id WHERE drf_tokens.digest = ?"
        ))
        .bind(drf_digest(key))
        .fetch_optional(&self.pool)
        .await?
        .map(User::from))
    }

    async fn list_drf_tokens(
        &self,
        search: &str,
        offset: i64,
        limit: i64,
    ) -> Result<(Vec<DrfToken>, i64), StoreError> {
        let pattern = contains_pattern(search);
        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM drf_tokens JOIN users ON users.id = drf_tokens.user_id \
             WHERE users.username LIKE ?1 ESCAPE '\\' OR drf_tokens.key LIKE ?1 ESCAPE '\\'",
        )
        .bind(&pattern)
        .fetch_one(&self.pool)
        .await?;
        let rows = sqlx::query(
            "SELECT drf_tokens.key, drf_tokens.user_id, drf_tokens.created, users.username \
             FROM drf_tokens JOIN users ON users.id = drf_tokens.user_id \
             WHERE users.username LIKE ?1 ESCAPE '\\' OR drf_tokens.key LIKE ?1 ESCAPE '\\' \
             ORDER BY users.username LIMIT ?2 OFFSET ?3",
        )
        .bind(&pattern)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        let tokens = rows
            .iter()
            .map(|row| {
                Ok(DrfToken {
                    key: row.try_get("key")?,
                    user_id: row.try_get("user_id")?,
                    username: row.try_get("username")?,
                    created: from_micros(row.try_get("created")?),
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
        Ok((tokens, total))
    }

    async fn delete_drf_token(&self, user_id: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM drf_tokens WHERE user_id = ?")
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn sync_sso_user(
        &self,
        username: &str,
        profile: &SsoProfile,
        initiated: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(User, bool), StoreError> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query("INSERT INTO users (username, password, date_joined) VALUES (?, NULL, ?) ON CONFLICT (username) DO NOTHING")
            .bind(username)
            .bind(micros(now))
            .execute(&mut *transaction)
            .await?;
        let updated = sqlx::query(
            "UPDATE users SET first_name = ?, last_name = ?, email = ?, organization = ?, fairdata_username = ?, \
             csc_projects = ?, admin_organizations = ?, is_active = 1, synced = ? \
             WHERE username = ? AND (synced IS NULL OR synced < ?)",
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
        .bind(micros(initiated))
        .execute(&mut *transaction)
        .await?
        .rows_affected()
            > 0;
        if updated {
            sqlx::query(
                "INSERT INTO groups (name) VALUES ('fairdata_users') ON CONFLICT (name) DO NOTHING",
            )
            .execute(&mut *transaction)
            .await?;
            sqlx::query(
                "INSERT OR IGNORE INTO user_groups (user_id, group_id) \
                 SELECT users.id, groups.id FROM users, groups WHERE users.username = ? AND groups.name = 'fairdata_users'",
            )
            .bind(username)
            .execute(&mut *transaction)
            .await?;
        }
        let user = sqlx::query_as::<_, UserRow>(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE username = ?"
        ))
        .bind(username)
        .fetch_one(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok((user.into(), updated))
    }

    async fn record_user_status(
        &self,
        user_id: i64,
        status: &UserStatus,
        now: DateTime<Utc>,
    ) -> Result<User, StoreError> {
        sqlx::query("UPDATE users SET email = ?, is_active = ?, csc_projects = ?, admin_organizations = ?, synced = ? WHERE id = ?")
            .bind(&status.email)
            .bind(!status.locked)
            .bind(json_text(&status.projects))
            .bind(json_text(&status.admin_organizations))
            .bind(micros(now))
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        self.user_by_id(user_id).await
    }
}
