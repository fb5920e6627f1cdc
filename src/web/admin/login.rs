//! `/v3/admin/login/`: Django admin's login form. Success starts a new session (the old one, if
//! any, is ended: session fixation), rotates the CSRF cookie and records `last_login`.

use askama::Template;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::is_admin_user;
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
    error: Option<&'static str>,
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

fn render(
    csrf: &CsrfCookie,
    state: &AppState,
    next: &str,
    username: String,
    error: Option<&'static str>,
) -> Response {
    let page = LoginPage {
        chrome: Chrome::for_session(None, csrf.masked()),
        next: next.to_owned(),
        username,
        error,
    };
    let mut response = Page(StatusCode::OK, page).into_response();
    if let Some(cookie) = csrf.set_cookie(&state.config) {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    response
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

/// `POST /v3/admin/login/`.
pub async fn submit_login(
    State(state): State<AppState>,
    headers: HeaderMap,
    csrf: CsrfCookie,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<Response, HtmlError> {
    let next = safe_next(form.next.as_deref(), ADMIN_INDEX);
    let user = state
        .auth
        .check_password(&form.username, &form.password)
        .await?
        .filter(is_admin_user);
    let Some(user) = user else {
        return Ok(render(
            &csrf,
            &state,
            next,
            form.username,
            Some(
                "Please enter the correct username and password for a staff account. Note that both fields may be case-sensitive.",
            ),
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
