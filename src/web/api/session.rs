//! `/v3/auth/login` and `/v3/auth/logout` (Metax's `LoginView`, `LogoutView`): the Fairdata SSO
//! login redirect, and logging out of the local session (and of the SSO, for SSO users).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::header::{ACCEPT_LANGUAGE, HOST, SET_COOKIE};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};

use crate::auth::{AuthMethod, impersonation};
use crate::config::SsoConfig;
use crate::web::error::ApiError;
use crate::web::extract::{ApiCaller, ApiSubmission, QueryParams};
use crate::web::{AppState, cookies, found, sessions};

/// Where SSO sends users back to, and the only tree `next` may point into.
const BASE_PATH: &str = "/v3/";

/// The absolute URL of `path` on this service, as the client reached it.
fn absolute(headers: &HeaderMap, path: &str) -> String {
    let host = headers
        .get(HOST)
        .and_then(|host| host.to_str().ok())
        .unwrap_or("localhost");
    let secure = headers
        .get("x-forwarded-proto")
        .is_some_and(|proto| proto.as_bytes().eq_ignore_ascii_case(b"https"));
    format!("{}://{host}{path}", if secure { "https" } else { "http" })
}

/// The SSO's language for this client: `fi` or `sv` when `Accept-Language` starts so, else `en`.
fn language(headers: &HeaderMap) -> &'static str {
    let first = headers
        .get(ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let primary = first
        .split([',', ';', '-'])
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match primary.as_str() {
        "fi" => "fi",
        "sv" => "sv",
        _ => "en",
    }
}

/// `<SSO_HOST>/<action>?service=...&redirect_url=...&language=...` (Python's `urlencode`).
fn sso_url(settings: &SsoConfig, action: &str, redirect_url: &str, language: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair(
            "service",
            settings.service_name.as_deref().unwrap_or_default(),
        )
        .append_pair("redirect_url", redirect_url)
        .append_pair("language", language)
        .finish();
    format!(
        "{}/{action}?{query}",
        settings.host.as_deref().unwrap_or_default()
    )
}

/// `GET /v3/auth/login?next=/v3/...`: 302 to the SSO's login page, which sends the user back to
/// `next` (inside `/v3/`, else `/v3/`). With SSO off, DRF's 405.
pub async fn login(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    query: QueryParams,
    _caller: ApiCaller,
) -> Result<Response, ApiError> {
    let Some(settings) = state.auth.sso_settings()? else {
        return Err(ApiError::MethodNotAllowed(method.to_string()));
    };
    let next = query
        .get("next")
        .filter(|next| next.starts_with(BASE_PATH))
        .unwrap_or(BASE_PATH);
    let url = sso_url(
        settings,
        "login",
        &absolute(&headers, next),
        language(&headers),
    );
    Ok(found(&url).into_response())
}

/// `POST /v3/auth/logout`: ends the login session (CSRF-checked when it is cookie-based); an SSO
/// user goes on to the SSO's logout, anyone else to the front page.
pub async fn logout(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    submission: ApiSubmission,
) -> Result<Response, ApiError> {
    let caller = submission.caller.0;
    if let Some(caller) = caller
        .as_ref()
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
    let location = match (
        caller.map(|caller| caller.method),
        state.auth.sso_settings()?,
    ) {
        (Some(AuthMethod::Sso), Some(settings)) => sso_url(
            settings,
            "logout",
            &absolute(&headers, BASE_PATH),
            language(&headers),
        ),
        _ => "/".to_owned(),
    };
    let mut response = found(&location).into_response();
    response
        .headers_mut()
        .append(SET_COOKIE, cookies::clear_session(&state.config));
    Ok(response)
}
