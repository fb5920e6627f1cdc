//! `/v3/auth/login` and `/v3/auth/logout` (Metax's `LoginView`, `LogoutView`).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};

use crate::auth::{AuthMethod, impersonation};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};

use crate::web::error::ApiError;
use crate::web::extract::ApiSubmission;
use crate::web::{AppState, cookies, found, sessions};

/// `GET /v3/auth/login`: the Fairdata SSO login redirect. SSO is not enabled, so DRF's 405.
pub async fn login(method: Method) -> ApiError {
    ApiError::MethodNotAllowed(method.to_string())
}

/// `POST /v3/auth/logout`: ends the login session (CSRF-checked when it is cookie-based) and
/// goes to the front page.
pub async fn logout(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    submission: ApiSubmission,
) -> Result<Response, ApiError> {
    if let Some(caller) = submission
        .caller
        .0
        .filter(|caller| caller.method == AuthMethod::Session)
        && let Some(impersonator) = &caller.impersonator
    {
        impersonation::audit(
            &*state.store,
            state.clock.now(),
            "logout",
            impersonator,
            &caller.user,
            Some(client.ip()),
        )
        .await?;
    }
    sessions::end(&state, &headers).await?;
    let mut response = found("/").into_response();
    response
        .headers_mut()
        .append(SET_COOKIE, cookies::clear_session(&state.config));
    Ok(response)
}
