//! Rows the store reads and writes, in Django's own field names (`is_staff`, `last_login`, ...)
//! so that both teams read the same words. `New*` types are inserts, the others are rows.

use std::fmt;

use chrono::{DateTime, Utc};

/// A Metax user (Django's `AbstractUser` plus Metax's Fairdata fields).
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    /// Primary key (`user_pk` in forms).
    pub id: i64,
    /// Unique login name.
    pub username: String,
    /// Argon2id PHC string; `None` is Django's unusable password (SSO-only users).
    pub password: Option<String>,
    /// Email address, may be empty.
    pub email: String,
    /// Given name, may be empty.
    pub first_name: String,
    /// Family name, may be empty.
    pub last_name: String,
    /// May enter the admin panel.
    pub is_staff: bool,
    /// Has every permission.
    pub is_superuser: bool,
    /// Inactive users cannot authenticate.
    pub is_active: bool,
    /// When the user was created.
    pub date_joined: DateTime<Utc>,
    /// Last admin login or token creation.
    pub last_login: Option<DateTime<Utc>>,
    /// Fairdata user id, for users that came through SSO.
    pub fairdata_username: Option<String>,
    /// Home organization.
    pub organization: Option<String>,
    /// Organizations the user administers.
    pub admin_organizations: Vec<String>,
    /// CSC projects the user belongs to.
    pub csc_projects: Vec<String>,
    /// When the details were last synced from Fairdata SSO.
    pub synced: Option<DateTime<Utc>>,
}

impl fmt::Debug for User {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The password hash stays out of logs.
        formatter
            .debug_struct("User")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("is_staff", &self.is_staff)
            .field("is_superuser", &self.is_superuser)
            .field("is_active", &self.is_active)
            .finish_non_exhaustive()
    }
}

/// A user to insert.
#[derive(Clone, Debug, Default)]
pub struct NewUser {
    /// Unique login name (validated by the caller).
    pub username: String,
    /// Argon2id PHC string, or `None` for an unusable password.
    pub password: Option<String>,
    /// Email address, may be empty.
    pub email: String,
    /// May enter the admin panel.
    pub is_staff: bool,
    /// Has every permission.
    pub is_superuser: bool,
}

/// What an admin may change on a user (the admin panel's user form).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserChanges {
    /// Email address, may be empty.
    pub email: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Inactive users cannot authenticate.
    pub is_active: bool,
    /// May enter the admin panel.
    pub is_staff: bool,
    /// Has every permission.
    pub is_superuser: bool,
    /// Fairdata user id.
    pub fairdata_username: Option<String>,
    /// Home organization.
    pub organization: Option<String>,
    /// Organizations the user administers.
    pub admin_organizations: Vec<String>,
    /// CSC projects.
    pub csc_projects: Vec<String>,
    /// Group names (groups are created as needed).
    pub groups: Vec<String>,
}

/// A bearer token as listed to its owner: never the token, never its digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BearerToken {
    /// The token's first 15 characters (knox `token_key`), shown as `prefix`.
    pub token_key: String,
    /// Creation time.
    pub created: DateTime<Utc>,
    /// Expiry time.
    pub expiry: DateTime<Utc>,
    /// Username of the admin who created it while impersonating the owner.
    pub impersonator: Option<String>,
}

/// A bearer token to insert: only its key and digest, never the token itself.
#[derive(Clone)]
pub struct NewBearerToken {
    /// SHA-512 hex digest of the whole token.
    pub digest: String,
    /// The token's first 15 characters.
    pub token_key: String,
    /// Owner.
    pub user_id: i64,
    /// Creation time.
    pub created: DateTime<Utc>,
    /// Expiry time.
    pub expiry: DateTime<Utc>,
    /// The admin impersonating the owner when it was created.
    pub impersonator_id: Option<i64>,
}

impl fmt::Debug for NewBearerToken {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("NewBearerToken")
            .field("token_key", &self.token_key)
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

/// A live token whose key matched a presented token, with its owner; the caller compares digests.
#[derive(Clone, Debug)]
pub struct BearerTokenMatch {
    /// SHA-512 hex digest stored for this token.
    pub digest: String,
    /// The admin who made it while impersonating the owner.
    pub impersonator_id: Option<i64>,
    /// The token's owner.
    pub user: User,
}

/// A login session to insert; the session id itself is never stored, only its keyed hash.
#[derive(Clone, Debug)]
pub struct NewSession {
    /// Keyed hash of the session id in the `sessionid` cookie.
    pub key_hash: String,
    /// Logged-in user.
    pub user_id: i64,
    /// Creation time.
    pub created: DateTime<Utc>,
    /// After this the session is gone.
    pub expires: DateTime<Utc>,
    /// The superuser who is impersonating `user_id` in this session.
    pub impersonator_id: Option<i64>,
}

/// A live session.
#[derive(Clone, Debug)]
pub struct Session {
    /// The user the session acts as.
    pub user: User,
    /// The real user behind it while impersonating.
    pub impersonator_id: Option<i64>,
}

/// One start or end of an impersonation, for the audit log. Usernames, not ids, so the record
/// outlives the users.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImpersonationEvent {
    /// When.
    pub at: DateTime<Utc>,
    /// `acquire`, `release`, or `ended` (the impersonator lost the right).
    pub action: String,
    /// Who impersonated.
    pub impersonator: String,
    /// Whom.
    pub target: String,
    /// The client's address as the server saw it.
    pub client_address: String,
}

/// A DRF token as the admin's "Tokens" table shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DrfToken {
    /// The 40-hex key (DRF shows it; it is the credential).
    pub key: String,
    /// Owner's id.
    pub user_id: i64,
    /// Owner's username.
    pub username: String,
    /// Creation time.
    pub created: DateTime<Utc>,
}

/// User details from a Fairdata SSO session (or `user_status`), written in one update.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SsoProfile {
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Email address.
    pub email: String,
    /// Home organization id.
    pub organization: String,
    /// Fairdata user id.
    pub fairdata_username: String,
    /// CSC projects (IDA).
    pub csc_projects: Vec<String>,
    /// Organizations administered (Qvain).
    pub admin_organizations: Vec<String>,
}

/// A Fairdata user's state from the SSO's `user_status`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
pub struct UserStatus {
    /// Email address.
    #[serde(default)]
    pub email: String,
    /// Whether the Fairdata account is locked.
    pub locked: bool,
    /// CSC projects.
    pub projects: Vec<String>,
    /// Organizations administered.
    #[serde(default)]
    pub admin_organizations: Vec<String>,
}
