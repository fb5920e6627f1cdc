//! Who is calling: DRF's authentication classes in Metax's order (Basic, then the login session,
//! then `Bearer` tokens), each scheme in its own module, and the errors they raise with DRF's
//! texts. Authentication only reads: it never writes to the store.

pub mod basic;
pub mod bearer;
pub mod csrf;
pub mod drf_token;
pub mod header;
pub mod impersonation;
pub mod password;
pub mod session;
pub mod throttle;

use std::sync::Arc;

use crate::clock::Clock;
use crate::store::{ImpersonationEvent, Store, StoreError, User};
use header::CredentialsProblem;
use session::SessionKeys;

/// How a request was authenticated; cookie-based methods need a CSRF token on unsafe requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    /// The `sessionid` cookie of an admin-panel login.
    Session,
    /// `Authorization: Basic`.
    Basic,
    /// `Authorization: Bearer`.
    Bearer,
    /// `Authorization: Token` (DRF tokens, when enabled).
    DrfToken,
}

impl AuthMethod {
    /// Whether the browser sends these credentials by itself (so CSRF applies).
    pub fn is_cookie(self) -> bool {
        matches!(self, AuthMethod::Session)
    }
}

/// An authenticated caller.
#[derive(Clone, Debug)]
pub struct Authenticated {
    /// The user (the impersonated one while impersonating).
    pub user: User,
    /// How they proved it.
    pub method: AuthMethod,
    /// The superuser behind a session that impersonates `user`.
    pub impersonator: Option<User>,
}

/// The user of a live login session, and who impersonates them in it.
#[derive(Clone, Debug)]
pub struct SessionCaller {
    /// The user the session acts as.
    pub user: User,
    /// The real, logged-in superuser while impersonating.
    pub impersonator: Option<User>,
}

/// Why credentials were refused. The text is DRF's/knox's; it never says which part of a token
/// was wrong.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Unknown, deleted, expired or malformed bearer token.
    #[error("Invalid token.")]
    InvalidToken,
    /// `Bearer` without a token.
    #[error("Invalid token header. No credentials provided.")]
    TokenHeaderMissing,
    /// `Bearer a b`.
    #[error("Invalid token header. Token string should not contain spaces.")]
    TokenHeaderSpaces,
    /// `Basic` without credentials.
    #[error("Invalid basic header. No credentials provided.")]
    BasicHeaderMissing,
    /// `Basic a b`.
    #[error("Invalid basic header. Credentials string should not contain spaces.")]
    BasicHeaderSpaces,
    /// Basic credentials that are not base64 of `user:password`.
    #[error("Invalid basic header. Credentials not correctly base64 encoded.")]
    BasicHeaderEncoding,
    /// Wrong username or password, or an inactive user.
    #[error("Invalid username/password.")]
    InvalidCredentials,
    /// A `Token` key that is not UTF-8.
    #[error("Invalid token header. Token string should not contain invalid characters.")]
    TokenHeaderCharacters,
    /// A valid token of an inactive user.
    #[error("User inactive or deleted.")]
    UserInactive,
    /// The store failed while checking.
    #[error("store unavailable")]
    Store(#[from] StoreError),
}

/// Checks credentials against the store. Cheap to clone.
#[derive(Clone)]
pub struct Authenticator {
    store: Arc<dyn Store>,
    clock: Clock,
    sessions: SessionKeys,
    drf_tokens: bool,
}

impl Authenticator {
    /// An authenticator over `store`, with session ids hashed by `sessions`; `drf_tokens`
    /// adds DRF's `Token` scheme at the end of the chain (`ENABLE_DRF_TOKEN_AUTH`).
    pub fn new(
        store: Arc<dyn Store>,
        clock: Clock,
        sessions: SessionKeys,
        drf_tokens: bool,
    ) -> Self {
        Authenticator {
            store,
            clock,
            sessions,
            drf_tokens,
        }
    }

    /// The session-id hasher.
    pub fn sessions(&self) -> &SessionKeys {
        &self.sessions
    }

    /// DRF's chain as Metax configures it: Basic, Session, Bearer. `Ok(None)` is anonymous.
    pub async fn authenticate(
        &self,
        authorization: Option<&[u8]>,
        session_id: Option<&str>,
    ) -> Result<Option<Authenticated>, AuthError> {
        let header = authorization.unwrap_or_default();
        if let Some(credentials) = header::credentials_for(header, "basic") {
            let user = self.basic(credentials).await?;
            return Ok(Some(Authenticated {
                user,
                method: AuthMethod::Basic,
                impersonator: None,
            }));
        }
        if let Some(SessionCaller { user, impersonator }) = self.session(session_id).await? {
            return Ok(Some(Authenticated {
                user,
                method: AuthMethod::Session,
                impersonator,
            }));
        }
        if let Some(credentials) = header::credentials_for(header, "bearer") {
            let user = self.bearer(credentials).await?;
            return Ok(Some(Authenticated {
                user,
                method: AuthMethod::Bearer,
                impersonator: None,
            }));
        }
        if self.drf_tokens
            && let Some(credentials) = header::credentials_for(header, "token")
        {
            let user = self.drf_token(credentials).await?;
            return Ok(Some(Authenticated {
                user,
                method: AuthMethod::DrfToken,
                impersonator: None,
            }));
        }
        Ok(None)
    }

    /// DRF's `TokenAuthentication`.
    async fn drf_token(
        &self,
        credentials: Result<&[u8], CredentialsProblem>,
    ) -> Result<User, AuthError> {
        let key = credentials.map_err(|problem| match problem {
            CredentialsProblem::Missing => AuthError::TokenHeaderMissing,
            CredentialsProblem::ContainsSpaces => AuthError::TokenHeaderSpaces,
        })?;
        let key = std::str::from_utf8(key).map_err(|_| AuthError::TokenHeaderCharacters)?;
        if !drf_token::is_plausible(key.as_bytes()) {
            return Err(AuthError::InvalidToken);
        }
        let user = self
            .store
            .drf_token_user(key)
            .await?
            .ok_or(AuthError::InvalidToken)?;
        if !user.is_active {
            return Err(AuthError::UserInactive);
        }
        Ok(user)
    }

    /// The active user of a live session cookie, if any (Django's session middleware). While
    /// impersonating, the impersonator must still be an active superuser: if not, the
    /// impersonation ends here (the session is deleted and the end audited) and the request is
    /// anonymous. That is the only write this path can make.
    pub async fn session(
        &self,
        session_id: Option<&str>,
    ) -> Result<Option<SessionCaller>, StoreError> {
        let Some(key_hash) = session_id.and_then(|id| self.sessions.key_hash(id)) else {
            return Ok(None);
        };
        let Some(session) = self.store.session(&key_hash, self.clock.now()).await? else {
            return Ok(None);
        };
        let impersonator = match session.impersonator_id {
            None => None,
            Some(id) => {
                // The foreign key deletes the session with its impersonator, so the user exists.
                let impersonator = self.store.user_by_id(id).await?;
                if !impersonation::may_keep_impersonating(&impersonator) {
                    self.store.delete_session(&key_hash).await?;
                    self.store
                        .record_impersonation(&ImpersonationEvent {
                            at: self.clock.now(),
                            action: "ended".to_owned(),
                            impersonator: impersonator.username.clone(),
                            target: session.user.username.clone(),
                            client_address: String::new(),
                        })
                        .await?;
                    tracing::warn!(
                        impersonator = %impersonator.username,
                        target_user = %session.user.username,
                        "impersonation ended: the impersonator is no longer an active superuser"
                    );
                    return Ok(None);
                }
                Some(impersonator)
            }
        };
        Ok(session.user.is_active.then_some(SessionCaller {
            user: session.user,
            impersonator,
        }))
    }

    /// The active user with this username and password (Django's `authenticate`).
    pub async fn check_password(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<User>, StoreError> {
        let user = match self.store.user_by_username(username).await {
            Ok(user) => Some(user),
            Err(StoreError::NotFound) => None,
            Err(error) => return Err(error),
        };
        let stored = user.as_ref().and_then(|user| user.password.clone());
        // Runs even for an unknown user, so that timing does not reveal which usernames exist.
        let matches = password::verify_async(password.to_owned(), stored).await;
        Ok(user.filter(|user| matches && user.is_active))
    }

    async fn basic(
        &self,
        credentials: Result<&[u8], CredentialsProblem>,
    ) -> Result<User, AuthError> {
        let credentials = credentials.map_err(|problem| match problem {
            CredentialsProblem::Missing => AuthError::BasicHeaderMissing,
            CredentialsProblem::ContainsSpaces => AuthError::BasicHeaderSpaces,
        })?;
        let (username, password) =
            basic::decode(credentials).ok_or(AuthError::BasicHeaderEncoding)?;
        self.check_password(&username, &password)
            .await?
            .ok_or(AuthError::InvalidCredentials)
    }

    async fn bearer(
        &self,
        credentials: Result<&[u8], CredentialsProblem>,
    ) -> Result<User, AuthError> {
        let token = credentials.map_err(|problem| match problem {
            CredentialsProblem::Missing => AuthError::TokenHeaderMissing,
            CredentialsProblem::ContainsSpaces => AuthError::TokenHeaderSpaces,
        })?;
        let token_key = bearer::token_key(token).ok_or(AuthError::InvalidToken)?;
        let matches = self
            .store
            .bearer_token_matches(token_key, self.clock.now())
            .await?;
        let user = bearer::owner_of(token, matches).ok_or(AuthError::InvalidToken)?;
        if !user.is_active {
            return Err(AuthError::UserInactive);
        }
        Ok(user)
    }
}
