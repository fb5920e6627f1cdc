//! Starting and ending login sessions for the handlers that do it (admin login, impersonation,
//! logout): a new random session id each time (the old session is ended first, so an id planted
//! before login is worthless) and a rotated CSRF cookie, as Django's `login()` does.

use axum::http::{HeaderMap, HeaderValue};

use super::{AppState, cookies};
use crate::auth::csrf;
use crate::auth::session::SessionKeys;
use crate::store::{NewSession, StoreError};

/// Ends the caller's current session, if the request carries one.
pub async fn end(state: &AppState, headers: &HeaderMap) -> Result<(), StoreError> {
    if let Some(key_hash) = cookies::read(headers, cookies::SESSION_COOKIE)
        .and_then(|id| state.auth.sessions().key_hash(id))
    {
        state.store.delete_session(&key_hash).await?;
    }
    Ok(())
}

/// Replaces the caller's session by a new one for `user_id` (impersonated by `impersonator_id`)
/// and returns the two `Set-Cookie` values: the session and a rotated CSRF secret.
pub async fn start(
    state: &AppState,
    headers: &HeaderMap,
    user_id: i64,
    impersonator_id: Option<i64>,
) -> Result<[HeaderValue; 2], StoreError> {
    end(state, headers).await?;
    let now = state.clock.now();
    let session_id = SessionKeys::new_session_id();
    let key_hash = state
        .auth
        .sessions()
        .key_hash(&session_id)
        .expect("a new session id has the expected shape");
    state
        .store
        .create_session(&NewSession {
            key_hash,
            user_id,
            created: now,
            expires: now + state.config.session_cookie_age,
            impersonator_id,
        })
        .await?;
    Ok([
        cookies::session(&session_id, &state.config),
        cookies::csrf(&csrf::new_secret(), &state.config),
    ])
}
