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
pub mod sso;
pub mod sso_sync;
pub mod throttle;

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::{Config, SsoConfig};
use crate::store::{Store, StoreError, User};
use header::CredentialsProblem;
use session::SessionKeys;
use throttle::Throttle;

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
    /// The Fairdata SSO session cookie.
    Sso,
}

impl AuthMethod {
    /// Whether the browser sends these credentials by itself (so CSRF applies).
    pub fn is_cookie(self) -> bool {
        matches!(self, AuthMethod::Session | AuthMethod::Sso)
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
    /// A new Fairdata SSO login (details were synced): the CSRF secret is rotated.
    pub new_login: bool,
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
    /// `ENABLE_SSO_AUTH` without the settings it needs.
    #[error("SSO configuration error.")]
    SsoConfiguration,
    /// A session cookie whose JWT is invalid (PyJWT's text).
    #[error("{0}")]
    SsoToken(String),
    /// An SSO session without `fairdata_user.id` or `authenticated_user.id`.
    #[error("Missing user identifier.")]
    SsoMissingUser,
    /// An SSO session without an organization.
    #[error("Missing organization identifier.")]
    SsoMissingOrganization,
    /// A locked Fairdata account.
    #[error("User account has been deactivated.")]
    UserLocked,
    /// Too many failed password checks; retry after this many seconds.
    #[error("Request was throttled. Expected available in {0} seconds.")]
    Throttled(u64),
    /// A cookie-authenticated unsafe request without a valid CSRF token (Django's reason).
    #[error("CSRF Failed: {0}")]
    Csrf(String),
    /// The store failed while checking.
    #[error("store unavailable")]
    Store(#[from] StoreError),
}

impl AuthError {
    /// DRF's texts for a `Bearer` or `Token` header without exactly one credential.
    fn token_header(problem: CredentialsProblem) -> Self {
        match problem {
            CredentialsProblem::Missing => AuthError::TokenHeaderMissing,
            CredentialsProblem::ContainsSpaces => AuthError::TokenHeaderSpaces,
        }
    }

    /// Metax's `code` for this failure (its exception handler adds it to the body).
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::SsoConfiguration => "invalid_sso_configuration",
            AuthError::SsoMissingUser => "missing_fairdata_user_id",
            AuthError::SsoMissingOrganization => "missing_organization_id",
            AuthError::UserLocked => "fairdata_user_locked",
            _ => "authentication_failed",
        }
    }
}

/// What a request offers as credentials, gathered by the web layer. No `Debug`: it holds them.
#[derive(Clone, Copy)]
pub struct Credentials<'a> {
    /// The raw `Authorization` header.
    pub authorization: Option<&'a [u8]>,
    /// The `sessionid` cookie (already dropped for cross-origin requests).
    pub session_id: Option<&'a str>,
    /// The Fairdata SSO session cookie.
    pub sso_cookie: Option<&'a str>,
    /// The client's address, for the brute-force brake on Basic credentials.
    pub client: Option<std::net::IpAddr>,
    /// Django's CSRF verdict for this request (`Ok` for safe methods); it counts only when a
    /// cookie authenticates the request, and is enforced before anything is written.
    pub csrf: Result<(), &'a str>,
}

impl Credentials<'_> {
    /// DRF's `enforce_csrf`, for a request that a cookie authenticates.
    fn enforce_csrf(&self) -> Result<(), AuthError> {
        self.csrf
            .map_err(|reason| AuthError::Csrf(reason.to_owned()))
    }
}

/// Checks credentials against the store. Cheap to clone.
#[derive(Clone)]
pub struct Authenticator {
    store: Arc<dyn Store>,
    clock: Clock,
    sessions: SessionKeys,
    drf_tokens: bool,
    sso: SsoConfig,
    sso_sync: Option<sso_sync::SsoSync>,
    throttle: Arc<Throttle>,
}

impl Authenticator {
    /// An authenticator over `store` with the schemes `config` turns on.
    pub fn new(store: Arc<dyn Store>, clock: Clock, config: &Config) -> Self {
        Authenticator {
            store,
            clock,
            sessions: SessionKeys::new(config.secret_key.expose()),
            drf_tokens: config.enable_drf_token_auth,
            sso: config.sso.clone(),
            sso_sync: sso_sync::SsoSync::new(&config.sso),
            throttle: Arc::default(),
        }
    }

    /// The session-id hasher.
    pub fn sessions(&self) -> &SessionKeys {
        &self.sessions
    }

    /// DRF's chain as Metax configures it: SSO cookie, Basic, session, Bearer, then DRF's
    /// `Token` when enabled. `Ok(None)` is anonymous.
    pub async fn authenticate(
        &self,
        credentials: &Credentials<'_>,
    ) -> Result<Option<Authenticated>, AuthError> {
        let Some(mut caller) = self.chain(credentials).await? else {
            return Ok(None);
        };
        // Metax re-checks Fairdata users of Basic, session and knox against the SSO.
        if let (Some(sync), AuthMethod::Basic | AuthMethod::Session | AuthMethod::Bearer) =
            (&self.sso_sync, caller.method)
        {
            caller.user = sync
                .refresh(&*self.store, caller.user, self.clock.now())
                .await?;
            if !caller.user.is_active {
                return Err(AuthError::UserLocked);
            }
        }
        Ok(Some(caller))
    }

    async fn chain(
        &self,
        credentials: &Credentials<'_>,
    ) -> Result<Option<Authenticated>, AuthError> {
        let direct = |user, method| Authenticated {
            user,
            method,
            impersonator: None,
            new_login: false,
        };
        if let Some(caller) = self.sso_session(credentials).await? {
            return Ok(Some(caller));
        }
        let header = credentials.authorization.unwrap_or_default();
        if let Some(basic) = header::credentials_for(header, "basic") {
            return Ok(Some(direct(
                self.basic(basic, credentials.client).await?,
                AuthMethod::Basic,
            )));
        }
        if let Some(SessionCaller { user, impersonator }) = self
            .session(credentials.session_id, credentials.client)
            .await?
        {
            credentials.enforce_csrf()?;
            return Ok(Some(Authenticated {
                user,
                method: AuthMethod::Session,
                impersonator,
                new_login: false,
            }));
        }
        if let Some(bearer) = header::credentials_for(header, "bearer") {
            return Ok(Some(self.bearer(bearer).await?));
        }
        if self.drf_tokens
            && let Some(token) = header::credentials_for(header, "token")
        {
            return Ok(Some(direct(
                self.drf_token(token).await?,
                AuthMethod::DrfToken,
            )));
        }
        Ok(None)
    }

    /// Whether SSO is on and configured; on but incomplete is an error for every request.
    pub fn sso_settings(&self) -> Result<Option<&SsoConfig>, AuthError> {
        match (self.sso.enabled, self.sso.is_complete()) {
            (false, _) => Ok(None),
            (true, false) => Err(AuthError::SsoConfiguration),
            (true, true) => Ok(Some(&self.sso)),
        }
    }

    /// Metax's `SSOAuthentication`: a valid session cookie authenticates its user, created on
    /// first sight; a newer SSO login syncs their details (`new_login`). All checks, CSRF
    /// included, come before the write.
    async fn sso_session(
        &self,
        credentials: &Credentials<'_>,
    ) -> Result<Option<Authenticated>, AuthError> {
        let Some(settings) = self.sso_settings()? else {
            return Ok(None);
        };
        let (Some(cookie), Some(key)) = (credentials.sso_cookie, settings.secret_key.as_ref())
        else {
            return Ok(None);
        };
        let now = self.clock.now();
        let Some(session) = sso::parse(cookie, key.expose(), now)? else {
            return Ok(None);
        };
        credentials.enforce_csrf()?;
        let (user, new_login) = self
            .store
            .sync_sso_user(&session.username, &session.profile, session.initiated, now)
            .await?;
        if !user.is_active {
            return Err(AuthError::UserLocked);
        }
        if new_login {
            // A sync saves the user: DRF's "token on save" applies to SSO users too.
            drf_token::on_user_saved(&*self.store, self.drf_tokens, user.id, now).await?;
        }
        Ok(Some(Authenticated {
            user,
            method: AuthMethod::Sso,
            impersonator: None,
            new_login,
        }))
    }

    /// DRF's `TokenAuthentication`.
    async fn drf_token(
        &self,
        credentials: Result<&[u8], CredentialsProblem>,
    ) -> Result<User, AuthError> {
        let key = credentials.map_err(AuthError::token_header)?;
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
        client: Option<std::net::IpAddr>,
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
                    impersonation::audit(
                        &*self.store,
                        self.clock.now(),
                        "ended",
                        &impersonator,
                        &session.user,
                        client,
                    )
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
        client: Option<std::net::IpAddr>,
    ) -> Result<User, AuthError> {
        let credentials = credentials.map_err(|problem| match problem {
            CredentialsProblem::Missing => AuthError::BasicHeaderMissing,
            CredentialsProblem::ContainsSpaces => AuthError::BasicHeaderSpaces,
        })?;
        let (username, password) =
            basic::decode(credentials).ok_or(AuthError::BasicHeaderEncoding)?;
        let client = client
            .map(|address| address.to_string())
            .unwrap_or_default();
        self.check_password_braked(&client, &username, &password)
            .await?
            .ok_or(AuthError::InvalidCredentials)
    }

    /// `check_password` behind the brute-force brake: refused with `Throttled` while `client`
    /// or `username` is braked; a wrong password counts as a failure.
    pub async fn check_password_braked(
        &self,
        client: &str,
        username: &str,
        password: &str,
    ) -> Result<Option<User>, AuthError> {
        self.throttle
            .check(client, username)
            .map_err(AuthError::Throttled)?;
        let user = self.check_password(username, password).await?;
        if user.is_none() {
            tokio::time::sleep(self.throttle.failed(client, username)).await;
        }
        Ok(user)
    }

    /// knox's `TokenAuthentication`. A token made while impersonating also needs its
    /// impersonator to still be an active superuser; it carries the impersonator on, so tokens
    /// it creates are marked too.
    async fn bearer(
        &self,
        credentials: Result<&[u8], CredentialsProblem>,
    ) -> Result<Authenticated, AuthError> {
        let token = credentials.map_err(AuthError::token_header)?;
        let token_key = bearer::token_key(token).ok_or(AuthError::InvalidToken)?;
        let matches = self
            .store
            .bearer_token_matches(token_key, self.clock.now())
            .await?;
        let found = bearer::owner_of(token, matches).ok_or(AuthError::InvalidToken)?;
        let impersonator = match found.impersonator_id {
            None => None,
            Some(id) => {
                let impersonator = self.store.user_by_id(id).await?;
                if !impersonation::may_keep_impersonating(&impersonator) {
                    return Err(AuthError::InvalidToken);
                }
                Some(impersonator)
            }
        };
        if !found.user.is_active {
            return Err(AuthError::UserInactive);
        }
        Ok(Authenticated {
            user: found.user,
            method: AuthMethod::Bearer,
            impersonator,
            new_login: false,
        })
    }
}
