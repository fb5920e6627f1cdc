//! `/v3/admin/login/`: Django admin's login form. Success starts a new session (the old one, if
//! any, is ended: session fixation), rotates the CSRF cookie and records `last_login`.

use askama::Template;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::header::{RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::is_admin_user;
use crate::auth::AuthError;
use crate::web::extract::{CsrfCookie, CsrfForm, QueryParams, SessionUser};
use crate::web::html::{Chrome, HtmlError, Page};
use crate::web::{AppState, found, safe_next, sessions};

/// Where a login goes without a usable `next`.
const ADMIN_INDEX: &str = "/v3/admin/";

#[derive(Template)]
#[template(path = "admin/login.html")]
struct LoginPage {
    chrome: Chrome,
    next: String,
    username: String,
    error: Option<String>,
}

/// The posted login form.
#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    next: Option<String>,
}

/// Django admin's text for a refused login.
const WRONG_CREDENTIALS: &str = "Please enter the correct username and password for a staff account. Note that both fields may be case-sensitive.";

/// The login form, with an error when there is one.
fn render(
    csrf: &CsrfCookie,
    state: &AppState,
    next: &str,
    username: String,
    error: Option<String>,
) -> Response {
    let page = LoginPage {
        chrome: Chrome::for_session(None, csrf.masked()).configured(&state.config),
        next: next.to_owned(),
        username,
        error,
    };
    Page(StatusCode::OK, page).into_response()
}

/// `GET /v3/admin/login/`: the form (a logged-in staff user goes straight on).
pub async fn show_login(
    State(state): State<AppState>,
    query: QueryParams,
    SessionUser(user): SessionUser,
    csrf: CsrfCookie,
) -> Response {
    let next = safe_next(query.get("next"), ADMIN_INDEX);
    if user
        .as_ref()
        .is_some_and(|caller| is_admin_user(&caller.user))
    {
        return found(next).into_response();
    }
    render(&csrf, &state, next, String::new(), None)
}

/// `POST /v3/admin/login/`. Failed attempts are braked per client and per username.
pub async fn submit_login(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    csrf: CsrfCookie,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<Response, HtmlError> {
    let next = safe_next(form.next.as_deref(), ADMIN_INDEX);
    let client = client.ip().to_string();
    let user = match state
        .auth
        .check_password_braked(&client, &form.username, &form.password)
        .await
    {
        Ok(user) => user.filter(is_admin_user),
        Err(AuthError::Throttled(wait)) => {
            let message = format!("Too many failed login attempts. Try again in {wait} seconds.");
            let mut response = render(&csrf, &state, next, form.username, Some(message));
            *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(wait));
            return Ok(response);
        }
        Err(AuthError::Store(error)) => return Err(error.into()),
        Err(_) => None,
    };
    let Some(user) = user else {
        return Ok(render(
            &csrf,
            &state,
            next,
            form.username,
            Some(WRONG_CREDENTIALS.to_owned()),
        ));
    };
    let cookies = sessions::start(&state, &headers, user.id, None).await?;
    state.store.record_login(user.id, state.clock.now()).await?;
    tracing::info!(user = %user.username, "admin login");
    let mut response = found(next).into_response();
    for cookie in cookies {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    Ok(response)
}
